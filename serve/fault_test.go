package serve

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// faultFS is a real in-memory file system (fstest.MapFS) with faults put in
// by name, for the error paths a real directory cannot be made to take
// (tests run as any user, and root reads everything).
type faultFS struct {
	fstest.MapFS
	dirErr  map[string]error // ReadDir fails
	openErr map[string]error // Open fails
	statErr map[string]error // Stat of the open file fails
	readErr map[string]error // Read of the open file fails
	size    map[string]int64 // Stat of the open file reports this size
	mode    map[string]fs.FileMode
}

func (f faultFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.dirErr[name]; err != nil {
		return nil, err
	}
	return f.MapFS.ReadDir(name)
}

func (f faultFS) Open(name string) (fs.File, error) {
	if err := f.openErr[name]; err != nil {
		return nil, err
	}
	file, err := f.MapFS.Open(name)
	if err != nil {
		return nil, err
	}
	return faultFile{File: file, fs: f, name: name}, nil
}

type faultFile struct {
	fs.File
	fs   faultFS
	name string
}

func (f faultFile) Stat() (fs.FileInfo, error) {
	if err := f.fs.statErr[f.name]; err != nil {
		return nil, err
	}
	fi, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return faultInfo{FileInfo: fi, f: f}, nil
}

func (f faultFile) Read(b []byte) (int, error) {
	if err := f.fs.readErr[f.name]; err != nil {
		return 0, err
	}
	return f.File.Read(b)
}

type faultInfo struct {
	fs.FileInfo
	f faultFile
}

func (i faultInfo) Size() int64 {
	if n, ok := i.f.fs.size[i.f.name]; ok {
		return n
	}
	return i.FileInfo.Size()
}

func (i faultInfo) Mode() fs.FileMode {
	if m, ok := i.f.fs.mode[i.f.name]; ok {
		return m
	}
	return i.FileInfo.Mode()
}

// scanInto runs one Reload's scan of fsys on h and stores the result, as
// Reload does with the root's file system.
func scanInto(h *Handler, fsys fs.FS) error {
	next, err := h.scan(fsys)
	if next != nil {
		h.cur.Store(next)
	}
	return err
}

func TestReloadFaults(t *testing.T) {
	boom := errors.New("boom")
	mtime := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	files := func() fstest.MapFS {
		return fstest.MapFS{
			"index.html":      {Data: []byte("<p>index</p>"), ModTime: mtime},
			"feeds/a.atom":    {Data: []byte("<feed>a</feed>"), ModTime: mtime},
			"feeds/a.atom.gz": {Data: gzipOf(t, []byte("<feed>a</feed>")), ModTime: mtime},
			"feeds/b.atom":    {Data: []byte("<feed>b</feed>"), ModTime: mtime},
			"feeds/b.atom.gz": {Data: gzipOf(t, []byte("<feed>old b</feed>")), ModTime: mtime},
			"feeds/c.atom.gz": {Data: gzipOf(t, []byte("<feed>c</feed>")), ModTime: mtime},
			"feeds/.tmp-b":    {Data: []byte("partial"), ModTime: mtime},
			".cache/x.atom":   {Data: []byte("hidden"), ModTime: mtime},
			"feeds/sub/c.rs":  {Data: []byte("c"), ModTime: mtime},
		}
	}
	tests := []struct {
		name    string
		fs      faultFS
		wantErr string   // "" for none
		served  []string // with or without gzip
		gzipped []string // served with a verified .gz
		missing []string
	}{
		{
			name:    "clean",
			fs:      faultFS{},
			served:  []string{"/", "/index.html", "/feeds/a.atom", "/feeds/b.atom", "/feeds/sub/c.rs"},
			gzipped: []string{"/feeds/a.atom"},
			missing: []string{"/feeds/.tmp-b", "/.cache/x.atom", "/feeds", "/feeds/sub", "/feeds/a.atom.gz", "/feeds/c.atom", "/feeds/c.atom.gz"},
		},
		{
			name:    "open_error",
			fs:      faultFS{openErr: map[string]error{"feeds/a.atom": boom}},
			wantErr: "serve: open feeds/a.atom: boom",
			served:  []string{"/feeds/b.atom"},
			missing: []string{"/feeds/a.atom"},
		},
		{
			name:    "vanished_before_open",
			fs:      faultFS{openErr: map[string]error{"feeds/a.atom": fs.ErrNotExist}},
			served:  []string{"/feeds/b.atom"},
			missing: []string{"/feeds/a.atom"},
		},
		{
			name:    "stat_error",
			fs:      faultFS{statErr: map[string]error{"feeds/a.atom": boom}},
			wantErr: "serve: stat feeds/a.atom: boom",
			served:  []string{"/feeds/b.atom"},
			missing: []string{"/feeds/a.atom"},
		},
		{
			name:    "read_error",
			fs:      faultFS{readErr: map[string]error{"feeds/a.atom": boom}},
			wantErr: "serve: read feeds/a.atom: boom",
			served:  []string{"/feeds/b.atom"},
			missing: []string{"/feeds/a.atom"},
		},
		{
			name:    "replaced_by_non_regular",
			fs:      faultFS{mode: map[string]fs.FileMode{"feeds/a.atom": fs.ModeNamedPipe}},
			served:  []string{"/feeds/b.atom"},
			missing: []string{"/feeds/a.atom"},
		},
		{
			name:    "changed_while_read",
			fs:      faultFS{size: map[string]int64{"index.html": 1}},
			wantErr: "serve: read index.html: changed while read (12 bytes read, size 1)",
			gzipped: []string{"/feeds/a.atom"},
			missing: []string{"/", "/index.html"},
		},
		{
			name:    "gz_open_error",
			fs:      faultFS{openErr: map[string]error{"feeds/a.atom.gz": boom}},
			wantErr: "serve: open feeds/a.atom.gz: boom",
			served:  []string{"/feeds/a.atom"},
		},
		{
			name:   "gz_vanished_before_open",
			fs:     faultFS{openErr: map[string]error{"feeds/a.atom.gz": fs.ErrNotExist}},
			served: []string{"/feeds/a.atom"},
		},
		{
			name:    "gz_stat_error",
			fs:      faultFS{statErr: map[string]error{"feeds/a.atom.gz": boom}},
			wantErr: "serve: stat feeds/a.atom.gz: boom",
			served:  []string{"/feeds/a.atom"},
		},
		{
			name:    "gz_read_error",
			fs:      faultFS{readErr: map[string]error{"feeds/a.atom.gz": boom}},
			wantErr: "serve: read feeds/a.atom.gz: boom",
			served:  []string{"/feeds/a.atom"},
		},
		{
			name:    "gz_changed_while_read",
			fs:      faultFS{size: map[string]int64{"feeds/a.atom.gz": 1}},
			wantErr: "serve: read feeds/a.atom.gz: changed while read",
			served:  []string{"/feeds/a.atom"},
		},
		{
			name:    "subdir_unreadable",
			fs:      faultFS{dirErr: map[string]error{"feeds": boom}},
			wantErr: "serve: scan feeds: boom",
			served:  []string{"/", "/index.html"},
			missing: []string{"/feeds/a.atom"},
		},
		{
			name:    "root_unreadable",
			fs:      faultFS{dirErr: map[string]error{".": boom}},
			wantErr: "serve: scan site: boom",
			missing: []string{"/", "/index.html"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fs.MapFS = files()
			h := New("site", Options{})
			err := scanInto(h, tt.fs)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("scan: got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("scan: got %v, want %q", err, tt.wantErr)
			}
			set := routes(h)
			for _, p := range tt.served {
				if set[p] == nil {
					t.Errorf("%s: not served, want served", p)
				}
			}
			for p, r := range set {
				if got, want := r.gz != nil, slices.Contains(tt.gzipped, p); got != want {
					t.Errorf("%s: gzip %v, want %v", p, got, want)
				}
			}
			for _, p := range tt.missing {
				if set[p] != nil {
					t.Errorf("%s: served, want not", p)
				}
			}
		})
	}
}

// TestReloadFailedReadKeepsOld: a changed file that cannot be read keeps
// what the last Reload learned, and its .gz with it.
func TestReloadFailedReadKeepsOld(t *testing.T) {
	mtime := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	fsys := faultFS{MapFS: fstest.MapFS{
		"a.atom":    {Data: []byte("<feed/>"), ModTime: mtime},
		"a.atom.gz": {Data: gzipOf(t, []byte("<feed/>")), ModTime: mtime},
	}}
	h := New("site", Options{})
	if err := scanInto(h, fsys); err != nil {
		t.Fatal(err)
	}
	before := routes(h)["/a.atom"]
	fsys.MapFS["a.atom"] = &fstest.MapFile{Data: []byte("<feed>new</feed>"), ModTime: mtime.Add(time.Hour)}
	fsys.readErr = map[string]error{"a.atom": errors.New("boom")}
	if err := scanInto(h, fsys); err == nil || !strings.Contains(err.Error(), "serve: read a.atom: boom") {
		t.Fatalf("scan: got %v, want the read error", err)
	}
	after := routes(h)["/a.atom"]
	if after == nil || after.plain != before.plain || after.gz != before.gz {
		t.Errorf("got %+v, want the old metadata %+v kept", after, before)
	}
}

// TestReloadRecheck covers a file whose directory entry looked changed but
// whose open file still has the metadata's size and mtime: it is kept.
func TestReloadRecheck(t *testing.T) {
	mtime := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	fsys := faultFS{MapFS: fstest.MapFS{"a.atom": {Data: []byte("<feed/>"), ModTime: mtime}}}
	h := New("site", Options{})
	if err := scanInto(h, fsys); err != nil {
		t.Fatal(err)
	}
	before := routes(h)["/a.atom"].plain
	// The walk's Info sees MapFS's true size; the open file claims the old one.
	fsys.MapFS["a.atom"] = &fstest.MapFile{Data: []byte("<feed>new</feed>"), ModTime: mtime}
	fsys.size = map[string]int64{"a.atom": int64(len("<feed/>"))}
	if err := scanInto(h, fsys); err != nil {
		t.Fatal(err)
	}
	if after := routes(h)["/a.atom"].plain; after != before {
		t.Errorf("metadata rebuilt: got %p, want the kept %p", after, before)
	}
}
