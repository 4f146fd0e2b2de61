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

// loadFS loads fsys into h as Reload loads the root's file system, with no
// root (the tests that use it only look at the routes).
func loadFS(h *Handler, fsys fs.FS) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.load(nil, fsys)
}

// TestReloadFaults: a Reload that fails anywhere leaves the set the last one
// made, whole; a file removed or replaced while the scan runs is no error.
// Each case first loads the site cleanly, then gives every file a new mtime
// (so every one is read again), adds feeds/new.atom, puts its fault in and
// loads again.
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
	clean := []string{"/", "/index.html", "/feeds/a.atom", "/feeds/b.atom", "/feeds/sub/c.rs"}
	tests := []struct {
		name    string
		fs      faultFS
		wantErr string // "": no error, and the new set is in place
		// For a Reload that succeeds: served in the new set, with or
		// without gzip; the gzipped ones; and those not served.
		served  []string
		gzipped []string
		missing []string
	}{
		{
			name:    "clean",
			served:  append([]string{"/feeds/new.atom"}, clean...),
			gzipped: []string{"/feeds/a.atom"},
			missing: []string{"/feeds/.tmp-b", "/.cache/x.atom", "/feeds", "/feeds/sub", "/feeds/a.atom.gz", "/feeds/c.atom", "/feeds/c.atom.gz"},
		},
		{name: "open_error", fs: faultFS{openErr: map[string]error{"feeds/a.atom": boom}}, wantErr: "serve: open feeds/a.atom: boom"},
		{name: "new_file_open_error", fs: faultFS{openErr: map[string]error{"feeds/new.atom": boom}}, wantErr: "serve: open feeds/new.atom: boom"},
		{name: "stat_error", fs: faultFS{statErr: map[string]error{"feeds/a.atom": boom}}, wantErr: "serve: stat feeds/a.atom: boom"},
		{name: "read_error", fs: faultFS{readErr: map[string]error{"feeds/a.atom": boom}}, wantErr: "serve: read feeds/a.atom: boom"},
		{
			name:    "changed_while_read",
			fs:      faultFS{size: map[string]int64{"index.html": 1}},
			wantErr: "serve: read index.html: changed while read (12 bytes read, size 1)",
		},
		{name: "gz_open_error", fs: faultFS{openErr: map[string]error{"feeds/a.atom.gz": boom}}, wantErr: "serve: open feeds/a.atom.gz: boom"},
		{name: "gz_stat_error", fs: faultFS{statErr: map[string]error{"feeds/a.atom.gz": boom}}, wantErr: "serve: stat feeds/a.atom.gz: boom"},
		{name: "gz_read_error", fs: faultFS{readErr: map[string]error{"feeds/a.atom.gz": boom}}, wantErr: "serve: read feeds/a.atom.gz: boom"},
		{name: "gz_changed_while_read", fs: faultFS{size: map[string]int64{"feeds/a.atom.gz": 1}}, wantErr: "serve: read feeds/a.atom.gz: changed while read"},
		{name: "subdir_unreadable", fs: faultFS{dirErr: map[string]error{"feeds": boom}}, wantErr: "serve: scan feeds: boom"},
		{name: "nested_subdir_unreadable", fs: faultFS{dirErr: map[string]error{"feeds/sub": boom}}, wantErr: "serve: scan feeds/sub: boom"},
		{name: "root_unreadable", fs: faultFS{dirErr: map[string]error{".": boom}}, wantErr: "serve: scan site: boom"},
		{
			name:    "vanished_before_open",
			fs:      faultFS{openErr: map[string]error{"feeds/a.atom": fs.ErrNotExist}},
			served:  []string{"/feeds/b.atom", "/feeds/new.atom"},
			missing: []string{"/feeds/a.atom"},
		},
		{
			name:    "replaced_by_non_regular",
			fs:      faultFS{mode: map[string]fs.FileMode{"feeds/a.atom": fs.ModeNamedPipe}},
			served:  []string{"/feeds/b.atom", "/feeds/new.atom"},
			missing: []string{"/feeds/a.atom"},
		},
		{
			name:   "gz_vanished_before_open",
			fs:     faultFS{openErr: map[string]error{"feeds/a.atom.gz": fs.ErrNotExist}},
			served: []string{"/feeds/a.atom"},
		},
		{
			name:    "subdir_vanished",
			fs:      faultFS{dirErr: map[string]error{"feeds/sub": fs.ErrNotExist}},
			served:  []string{"/feeds/a.atom", "/feeds/new.atom"},
			gzipped: []string{"/feeds/a.atom"},
			missing: []string{"/feeds/sub/c.rs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultFS{MapFS: files()}
			h := New("site", Options{})
			if err := loadFS(h, fsys); err != nil {
				t.Fatalf("first load: %v", err)
			}
			before := h.cur.Load()
			for name, f := range fsys.MapFS {
				f.ModTime = mtime.Add(time.Hour)
				fsys.MapFS[name] = f
			}
			fsys.MapFS["feeds/new.atom"] = &fstest.MapFile{Data: []byte("<feed>new</feed>"), ModTime: mtime}
			tt.fs.MapFS = fsys.MapFS
			err := loadFS(h, tt.fs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("load: got %v, want %q", err, tt.wantErr)
				}
				if h.cur.Load() != before {
					t.Fatal("a failed load changed the set")
				}
				for _, p := range clean {
					if routes(h)[p] == nil {
						t.Errorf("%s: not served after a failed load, want the last set whole", p)
					}
				}
				if got, want := h.Len(), 4; got != want {
					t.Errorf("Len: got %d, want %d", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: got %v, want no error", err)
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

// TestFirstReloadFails: a Reload that fails before any succeeded leaves
// nothing served, and Len says so.
func TestFirstReloadFails(t *testing.T) {
	mtime := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	fsys := faultFS{
		MapFS: fstest.MapFS{
			"index.html": {Data: []byte("<p>index</p>"), ModTime: mtime},
			"a.atom":     {Data: []byte("<feed/>"), ModTime: mtime},
		},
		readErr: map[string]error{"index.html": errors.New("boom")},
	}
	h := New("site", Options{})
	if err := loadFS(h, fsys); err == nil {
		t.Fatal("load: got no error, want the read error")
	}
	if n, set := h.Len(), routes(h); n != 0 || len(set) != 0 {
		t.Errorf("after a failed first load: Len %d, routes %v, want nothing", n, set)
	}
	fsys.readErr = nil
	if err := loadFS(h, fsys); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Len(), 2; got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
}

// TestReloadRecheck covers a file whose directory entry looked changed but
// whose open file still has the metadata's size and mtime: it is kept.
func TestReloadRecheck(t *testing.T) {
	mtime := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	fsys := faultFS{MapFS: fstest.MapFS{"a.atom": {Data: []byte("<feed/>"), ModTime: mtime}}}
	h := New("site", Options{})
	if err := loadFS(h, fsys); err != nil {
		t.Fatal(err)
	}
	before := routes(h)["/a.atom"].plain
	// The walk's Info sees MapFS's true size; the open file claims the old one.
	fsys.MapFS["a.atom"] = &fstest.MapFile{Data: []byte("<feed>new</feed>"), ModTime: mtime}
	fsys.size = map[string]int64{"a.atom": int64(len("<feed/>"))}
	if err := loadFS(h, fsys); err != nil {
		t.Fatal(err)
	}
	if after := routes(h)["/a.atom"].plain; after != before {
		t.Errorf("metadata rebuilt: got %p, want the kept %p", after, before)
	}
}
