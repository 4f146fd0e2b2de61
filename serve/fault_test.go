package serve

import (
	"errors"
	"io/fs"
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

func TestReloadFaults(t *testing.T) {
	boom := errors.New("boom")
	mtime := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	files := func() fstest.MapFS {
		return fstest.MapFS{
			"index.html":     {Data: []byte("<p>index</p>"), ModTime: mtime},
			"feeds/a.atom":   {Data: []byte("<feed>a</feed>"), ModTime: mtime},
			"feeds/b.atom":   {Data: []byte("<feed>b</feed>"), ModTime: mtime},
			"feeds/.tmp-b":   {Data: []byte("partial"), ModTime: mtime},
			".cache/x.atom":  {Data: []byte("hidden"), ModTime: mtime},
			"feeds/sub/c.rs": {Data: []byte("c"), ModTime: mtime},
		}
	}
	tests := []struct {
		name    string
		fs      faultFS
		maxSize int64
		wantErr string // "" for none
		served  []string
		missing []string
	}{
		{
			name:    "clean",
			fs:      faultFS{},
			served:  []string{"/", "/index.html", "/feeds/a.atom", "/feeds/b.atom", "/feeds/sub/c.rs"},
			missing: []string{"/feeds/.tmp-b", "/.cache/x.atom", "/feeds", "/feeds/sub"},
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
			name:    "grew_while_read",
			fs:      faultFS{size: map[string]int64{"index.html": 1}},
			maxSize: 5,
			wantErr: "serve: index.html: grew over limit 5 while read",
			missing: []string{"/", "/index.html"},
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
			h := New("site", Options{MaxFileSize: tt.maxSize})
			err := h.reload(tt.fs)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("reload: got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("reload: got %v, want %q", err, tt.wantErr)
			}
			set := *h.set.Load()
			for _, p := range tt.served {
				if set[p] == nil {
					t.Errorf("%s: not served, want served", p)
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

// TestReloadRecheck covers a file whose directory entry looked changed but
// whose open file still has the entry's size and mtime: the entry is kept.
func TestReloadRecheck(t *testing.T) {
	mtime := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	fsys := faultFS{MapFS: fstest.MapFS{"a.atom": {Data: []byte("<feed/>"), ModTime: mtime}}}
	h := New("site", Options{})
	if err := h.reload(fsys); err != nil {
		t.Fatal(err)
	}
	before := (*h.set.Load())["/a.atom"]
	// The walk's Info sees MapFS's true size; the open file claims the old one.
	fsys.MapFS["a.atom"] = &fstest.MapFile{Data: []byte("<feed>new</feed>"), ModTime: mtime}
	fsys.size = map[string]int64{"a.atom": int64(len("<feed/>"))}
	if err := h.reload(fsys); err != nil {
		t.Fatal(err)
	}
	if after := (*h.set.Load())["/a.atom"]; after != before {
		t.Errorf("entry rebuilt: got %p, want the kept %p", after, before)
	}
}
