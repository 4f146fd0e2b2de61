package feed

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// noTemp fails if any temporary file is left under dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", d.Name())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	name := "feeds/ai.atom"
	path := filepath.Join(dir, "feeds", "ai.atom")

	changed, err := WriteFile(dir, name, []byte("one"))
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v, want true, nil", changed, err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "one" {
		t.Fatalf("file holds %q (%v), want %q", got, err, "one")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}

	// Same bytes: nothing is touched. An old mtime shows it without sleeping.
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	changed, err = WriteFile(dir, name, []byte("one"))
	if err != nil || changed {
		t.Fatalf("same bytes: changed=%v err=%v, want false, nil", changed, err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(old) {
		t.Errorf("same bytes rewrote the file: same inode %v, mtime %v, want true, %v", os.SameFile(before, after), after.ModTime(), old)
	}

	// New bytes of the same length: replaced by rename (a new inode).
	changed, err = WriteFile(dir, name, []byte("two"))
	if err != nil || !changed {
		t.Fatalf("new bytes: changed=%v err=%v, want true, nil", changed, err)
	}
	replaced, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, replaced) {
		t.Errorf("new bytes were written in place, want a rename")
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "two" {
		t.Errorf("file holds %q (%v), want %q", got, err, "two")
	}

	// Empty data is a change from "two" and then not.
	for i, want := range []bool{true, false} {
		changed, err := WriteFile(dir, name, nil)
		if err != nil || changed != want {
			t.Errorf("empty write %d: changed=%v err=%v, want %v", i, changed, err, want)
		}
	}
	noTemp(t, dir)
}

func TestWriteFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // prepares dir
		file  string
		want  error // nil: any error
	}{
		{"name leaves dir", nil, "../x.atom", errNotLocal},
		{"absolute name", nil, "/x.atom", errNotLocal},
		{"empty name", nil, "", errNotLocal},
		{"parent is a file", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "feeds"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "feeds/ai.atom", nil},
		{"target is a non-empty directory", func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "ai.atom", "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, "ai.atom", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			changed, err := WriteFile(dir, tt.file, []byte("data"))
			if err == nil || changed {
				t.Fatalf("changed=%v err=%v, want false and an error", changed, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			noTemp(t, dir)
		})
	}
}

func TestWriteFileTempIsHiddenInSameDir(t *testing.T) {
	// A rename over a non-empty directory fails, and its *os.LinkError names
	// the temporary file WriteFile used.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "feeds", "x.rss", "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := WriteFile(dir, "feeds/x.rss", []byte("data"))
	var le *os.LinkError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a failed rename (*os.LinkError)", err)
	}
	if got, want := filepath.Dir(le.Old), filepath.Join(dir, "feeds"); got != want {
		t.Errorf("temporary file in %s, want the target's directory %s", got, want)
	}
	if base := filepath.Base(le.Old); !strings.HasPrefix(base, ".x.rss.tmp-") {
		t.Errorf("temporary file %q is not hidden as .x.rss.tmp-*", base)
	}
	if _, err := os.Stat(le.Old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file still there after the failed write: %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "feeds"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "x.rss" {
		t.Errorf("feeds/ holds %d entries after a failed write, want only x.rss", len(entries))
	}
}

func BenchmarkWriteFileUnchanged(b *testing.B) {
	dir := b.TempDir()
	data := bytes.Repeat([]byte("paperfeed "), 20000)
	if _, err := WriteFile(dir, "f.atom", data); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if changed, err := WriteFile(dir, "f.atom", data); err != nil || changed {
			b.Fatal(changed, err)
		}
	}
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // name -> removed
		"index.html":                    false,
		".index.html.tmp-123":           true,
		"feeds/all.atom":                false,
		"feeds/.all.atom.tmp-98765":     true,
		"feeds/.hidden":                 false,
		"feeds/all.atom.tmp-1":          false, // not hidden: not ours
		"feeds/.all.atom.tmp-abc":       false, // not CreateTemp's digits
		"feeds/deeper/.x.json.tmp-4242": true,
	}
	for name := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := RemoveTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("removed %d files, want 3", n)
	}
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed=%v, want %v", name, gone, removed)
		}
	}
	// A real temp name as WriteFile makes it matches.
	tmp, err := os.CreateTemp(dir, ".feeds.opml.tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	if n, err := RemoveTemps(dir); err != nil || n != 1 {
		t.Errorf("CreateTemp's name: removed %d (%v), want 1", n, err)
	}
	// A path through a file is an error, not "nothing to clean".
	if _, err := RemoveTemps(filepath.Join(dir, "index.html", "x")); err == nil {
		t.Error("a path through a file: got no error")
	}
	// A missing directory has nothing to clean.
	if n, err := RemoveTemps(filepath.Join(dir, "none")); err != nil || n != 0 {
		t.Errorf("missing dir: got %d, %v; want 0, nil", n, err)
	}
}

func TestSame(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 5*sameChunk/16+3) // several chunks and a partial one
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(big)
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name string
		path string
		data []byte
		want bool
	}{
		{"equal", path, big, true},
		{"first byte differs", path, flip(0), false},
		{"differs in a later chunk", path, flip(3*sameChunk + 5), false},
		{"last byte differs", path, flip(len(big) - 1), false},
		{"shorter", path, big[:len(big)-1], false},
		{"longer", path, append(bytes.Clone(big), 'x'), false},
		{"empty file, empty data", empty, nil, true},
		{"empty file, data", empty, []byte("x"), false},
		{"missing", filepath.Join(dir, "missing"), nil, false},
		{"directory", dir, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := same(tt.path, tt.data); got != tt.want {
				t.Errorf("same(%s, %d bytes) = %v, want %v", filepath.Base(tt.path), len(tt.data), got, tt.want)
			}
		})
	}
}

// TestWriterStagesUntilSync: a Writer's files wait for Sync, hidden and
// whole beside their names, and Sync puts them all in place; an unchanged
// file stages nothing.
func TestWriterStagesUntilSync(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(dir)
	names := []string{"feeds/a.atom", "feeds/a.rss", "index.html", "feeds/b.atom"}
	for _, name := range names {
		if changed, err := w.WriteFile(name, []byte(name)); err != nil || !changed {
			t.Fatalf("%s: changed=%v err=%v, want true, nil", name, changed, err)
		}
	}
	// Before Sync: the old version in place, the new one staged.
	if got, err := os.ReadFile(filepath.Join(dir, "index.html")); err != nil || string(got) != "old" {
		t.Errorf("index.html before Sync: %q, %v; want the old version", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "feeds", "a.atom")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("feeds/a.atom before Sync: %v, want no file", err)
	}
	if len(w.staged) != len(names) {
		t.Errorf("%d files staged, want %d", len(w.staged), len(names))
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil || string(got) != name {
			t.Errorf("%s after Sync: %q, %v; want %q", name, got, err, name)
		}
	}
	if len(w.pending) != 0 || len(w.staged) != 0 {
		t.Errorf("after Sync: %q to sync, %d staged; want none", w.pending, len(w.staged))
	}
	if changed, err := w.WriteFile("feeds/a.atom", []byte("feeds/a.atom")); err != nil || changed {
		t.Fatalf("same bytes: changed=%v err=%v, want false, nil", changed, err)
	}
	if len(w.staged) != 0 {
		t.Errorf("an unchanged file was staged: %v", w.staged)
	}
	noTemp(t, dir)
}

// TestWriterSyncFails: a directory that cannot be synced is named in the
// error and synced again by the next Sync, which then succeeds.
func TestWriterSyncFails(t *testing.T) {
	dir := t.TempDir()
	w := NewWriter(dir)
	if _, err := w.WriteFile("index.html", []byte("x")); err != nil {
		t.Fatal(err)
	}
	// A directory renamed into and gone before its sync cannot be opened
	// to be synced: the renames happen inside Sync, so the test stands in
	// for one with a directory already pending.
	feeds := filepath.Join(dir, "feeds")
	w.pending = append(w.pending, feeds)
	err := w.Sync()
	if err == nil || !strings.Contains(err.Error(), "sync directory feeds: ") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want an error naming the feeds directory", err)
	}
	if !slices.Equal(w.pending, []string{feeds}) {
		t.Errorf("to sync after the failure: %q, want only the feeds directory", w.pending)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "index.html")); err != nil || string(got) != "x" {
		t.Errorf("index.html: %q, %v; want it in place", got, err)
	}
	if err := os.Mkdir(feeds, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil || len(w.pending) != 0 {
		t.Errorf("second Sync: %v, %q left; want nil, none", err, w.pending)
	}
}

// TestWriterSyncDataFails: when the files' bytes cannot be made durable,
// Sync renames none of them: each keeps its old version, the temporary
// files go, and the next write and Sync work.
func TestWriterSyncDataFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(dir)
	for _, name := range []string{"index.html", "feeds/a.atom"} {
		if _, err := w.WriteFile(name, []byte("new")); err != nil {
			t.Fatal(err)
		}
	}
	// The feeds directory gone, with its temporary file, before Sync.
	if err := os.RemoveAll(filepath.Join(dir, "feeds")); err != nil {
		t.Fatal(err)
	}
	err := w.Sync()
	if err == nil || !strings.Contains(err.Error(), "feeds") {
		t.Fatalf("got %v, want an error naming the feeds directory", err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "index.html")); err != nil || string(got) != "old" {
		t.Errorf("index.html: %q, %v; want the old version kept", got, err)
	}
	noTemp(t, dir)
	if len(w.staged) != 0 {
		t.Errorf("%d files still staged", len(w.staged))
	}
	if changed, err := w.WriteFile("index.html", []byte("new")); err != nil || !changed {
		t.Fatalf("write again: changed=%v err=%v", changed, err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "index.html")); err != nil || string(got) != "new" {
		t.Errorf("index.html after the second Sync: %q, %v; want the new version", got, err)
	}
}

// TestWriterRenameFails: a file that cannot be renamed into place is named
// in Sync's error and its temporary file removed; the others are put in
// place.
func TestWriterRenameFails(t *testing.T) {
	dir := t.TempDir()
	w := NewWriter(dir)
	for _, name := range []string{"a.atom", "b.atom"} {
		if _, err := w.WriteFile(name, []byte(name)); err != nil {
			t.Fatal(err)
		}
	}
	// a.atom becomes a directory with something in it after its write.
	if err := os.MkdirAll(filepath.Join(dir, "a.atom", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := w.Sync()
	if err == nil || !strings.Contains(err.Error(), "write a.atom: ") {
		t.Fatalf("got %v, want an error naming a.atom", err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "b.atom")); err != nil || string(got) != "b.atom" {
		t.Errorf("b.atom: %q, %v; want it in place", got, err)
	}
	noTemp(t, dir)
}

// TestWriterWritesANameTwice: a name written again before Sync keeps only
// its last version; written back to the bytes on disk, it stages nothing.
func TestWriterWritesANameTwice(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.atom")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(dir)
	for _, data := range []string{"one", "two"} {
		if changed, err := w.WriteFile("a.atom", []byte(data)); err != nil || !changed {
			t.Fatalf("%s: changed=%v err=%v", data, changed, err)
		}
	}
	if len(w.staged) != 1 {
		t.Errorf("%d versions staged, want 1", len(w.staged))
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "two" {
		t.Errorf("a.atom: %q, %v; want the last version", got, err)
	}
	if _, err := w.WriteFile("a.atom", []byte("three")); err != nil {
		t.Fatal(err)
	}
	if changed, err := w.WriteFile("a.atom", []byte("two")); err != nil || changed {
		t.Errorf("back to the bytes on disk: changed=%v err=%v, want false, nil", changed, err)
	}
	if len(w.staged) != 0 {
		t.Errorf("%d versions staged, want none", len(w.staged))
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "two" {
		t.Errorf("a.atom: %q, %v; want the version on disk", got, err)
	}
	noTemp(t, dir)
}

// TestFsyncFiles: the fsync of each file, the way for systems without
// syncfs, syncs every staged file and names one that is gone.
func TestFsyncFiles(t *testing.T) {
	dir := t.TempDir()
	w := NewWriter(dir)
	for _, name := range []string{"a.atom", "feeds/b.atom"} {
		if _, err := w.WriteFile(name, []byte(name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := fsyncFiles(w.staged); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(w.staged[1].tmp); err != nil {
		t.Fatal(err)
	}
	err := fsyncFiles(w.staged)
	if err == nil || !strings.Contains(err.Error(), "write feeds/b.atom: ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want an error naming feeds/b.atom", err)
	}
}

// TestWriterDiscard: Discard drops the files written since the last Sync:
// each keeps its version, no temporary file is left, and the next Sync has
// nothing to put in place.
func TestWriterDiscard(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := NewWriter(dir)
	for _, name := range []string{"index.html", "feeds.opml"} {
		if _, err := w.WriteFile(name, []byte("new")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Discard(); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "index.html")); err != nil || string(got) != "old" {
		t.Errorf("index.html: %q, %v; want the old version", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "feeds.opml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("feeds.opml: %v, want no file", err)
	}
	noTemp(t, dir)
}

// TestWriterDiscardFails: a temporary file that cannot be removed is named
// in Discard's error.
func TestWriterDiscardFails(t *testing.T) {
	dir := t.TempDir()
	w := NewWriter(dir)
	if _, err := w.WriteFile("a.atom", []byte("new")); err != nil {
		t.Fatal(err)
	}
	// Its temporary file replaced by a directory with something in it.
	tmp := w.staged[0].tmp
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(tmp, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := w.Discard(); err == nil || !strings.Contains(err.Error(), "write a.atom: ") {
		t.Errorf("got %v, want an error naming a.atom", err)
	}
}
