package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// waitOpen calls OpenWith(path, o) while the file is held, lets go of it
// with release about 100ms later, and checks that OpenWith returned only
// after release: it waited for the lock rather than failing or racing it.
func waitOpen(t *testing.T, path string, o Options, release func()) (*Store, error) {
	t.Helper()
	type result struct {
		s        *Store
		err      error
		released bool
	}
	var released atomic.Bool
	done := make(chan result, 1)
	go func() {
		s, err := OpenWith(path, o)
		done <- result{s, err, released.Load()}
	}()
	// The holder keeps the file a while; the check below does not depend
	// on how long.
	time.Sleep(100 * time.Millisecond)
	released.Store(true)
	release()
	r := <-done
	if !r.released {
		if r.s != nil {
			r.s.Close()
		}
		t.Fatalf("OpenWith(%+v) returned (%v) while the file was held", o, r.err)
	}
	return r.s, r.err
}

// closeT closes s, failing the test on error.
func closeT(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	w := openT(t, path)
	mergeT(t, w, realistic(t, 0, 20), t0)
	mergeT(t, w, realistic(t, 20, 5), t0)
	if err := w.SaveState(map[string][]byte{"k": []byte("v")}, nil); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	want := all(t, w)
	closeT(t, w)
	sum := fileSum(t, path)

	s, err := OpenWith(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only OpenWith: %v", err)
	}
	if s.Len() != 25 || s.Gen() != 2 {
		t.Errorf("Len, Gen = %d, %d; want 25, 2", s.Len(), s.Gen())
	}
	if got := all(t, s); len(got) != len(want) || got[24].ID != want[24].ID {
		t.Errorf("ForEach read %d papers, want %d", len(got), len(want))
	}
	if got, err := s.Get(realisticID(3)); err != nil || got[realisticID(3)] == nil {
		t.Errorf("Get = %v, %v", got, err)
	}
	if got, err := s.State(); err != nil || string(got["k"]) != "v" {
		t.Errorf("State = %q, %v", got, err)
	}
	if err := s.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	writers := []struct {
		name, prefix string
		call         func() error
	}{
		{"Merge", "merge: ", func() error { _, err := s.Merge(realistic(t, 30, 1), t0); return err }},
		{"an empty Merge", "merge: ", func() error { _, err := s.Merge(nil, t0); return err }},
		{"Prune", "prune: ", func() error { _, err := s.Prune(t0.AddDate(1, 0, 0)); return err }},
		{"SaveState", "save state: ", func() error { return s.SaveState(map[string][]byte{"k": nil}, nil) }},
	}
	for _, w := range writers {
		err := w.call()
		want := w.prefix + "store " + path + ": store is open read-only"
		if !errors.Is(err, ErrReadOnly) || err.Error() != want {
			t.Errorf("%s on a read-only store = %v, want ErrReadOnly: %q", w.name, err, want)
		}
	}
	if s.Len() != 25 || s.Gen() != 2 {
		t.Errorf("after refused writes Len, Gen = %d, %d; want 25, 2", s.Len(), s.Gen())
	}
	closeT(t, s)
	if fileSum(t, path) != sum {
		t.Errorf("a read-only Store changed the file")
	}
}

// TestOpenReadOnlyRefuses: a read-only open never creates a missing file,
// never migrates a format 1 file, and refuses damaged and foreign files as
// a writer does (TestOpenRefusesDamagedAndForeignFiles runs both).
func TestOpenReadOnlyRefuses(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "history.db")
		s, err := OpenWith(path, Options{ReadOnly: true})
		if !errors.Is(err, fs.ErrNotExist) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("read-only OpenWith of a missing file = %v, want fs.ErrNotExist", err)
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Errorf("directory after a read-only OpenWith = %v, %v; want empty", entries, err)
		}
	})
	t.Run("format 1", func(t *testing.T) {
		path := copyFixture(t)
		sum := fileSum(t, path)
		s, err := OpenWith(path, Options{ReadOnly: true})
		if !errors.Is(err, ErrOlder) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("read-only OpenWith of a format 1 file = %v, want ErrOlder", err)
		}
		want := "open store " + path + ": written by an older paperfeed: run paperfeed once to migrate it"
		if err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
		if fileSum(t, path) != sum {
			t.Errorf("the format 1 file changed")
		}
		// Unlocked, and still migrated by a writer.
		checkMigrated(t, openT(t, path), goldenPapers(t))
	})
}

// TestLockInProcess: two bbolt handles of one file conflict through flock
// in one process as in two. Readers share the file; a writer and a reader
// exclude each other, the one that waits getting it once the other closes;
// a Wait that runs out is ErrLocked.
func TestLockInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	realStore(t, path, 5)
	ro := Options{ReadOnly: true}

	t.Run("readers share", func(t *testing.T) {
		a, err := OpenWith(path, ro)
		if err != nil {
			t.Fatalf("first reader: %v", err)
		}
		b, err := OpenWith(path, ro)
		if err != nil {
			t.Fatalf("second reader: %v", err)
		}
		if len(allIDs(t, a)) != 5 || len(allIDs(t, b)) != 5 {
			t.Errorf("readers do not both read the history")
		}
		if s, err := Open(path); !errors.Is(err, ErrLocked) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open for writing beside readers = %v, want ErrLocked", err)
		}
		closeT(t, a)
		closeT(t, b)
	})
	t.Run("reader waits for a writer", func(t *testing.T) {
		w, err := Open(path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		start := time.Now()
		if s, err := OpenWith(path, ro); !errors.Is(err, ErrLocked) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("reader with no Wait beside a writer = %v, want ErrLocked", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("reader with no Wait took %v to fail, want at once", took)
		}
		mergeT(t, w, realistic(t, 5, 1), t0)
		s, err := waitOpen(t, path, Options{ReadOnly: true, Wait: time.Minute}, func() { closeT(t, w) })
		if err != nil {
			t.Fatalf("reader with Wait: %v", err)
		}
		if s.Len() != 6 {
			t.Errorf("Len = %d, want the writer's 6", s.Len())
		}
		closeT(t, s)
	})
	t.Run("writer waits for a reader", func(t *testing.T) {
		r, err := OpenWith(path, ro)
		if err != nil {
			t.Fatalf("reader: %v", err)
		}
		s, err := waitOpen(t, path, Options{Wait: time.Minute}, func() { closeT(t, r) })
		if err != nil {
			t.Fatalf("writer with Wait: %v", err)
		}
		mergeT(t, s, realistic(t, 6, 1), t0)
		closeT(t, s)
	})
	t.Run("wait runs out", func(t *testing.T) {
		for _, o := range []Options{{Wait: 300 * time.Millisecond}, {ReadOnly: true, Wait: 300 * time.Millisecond}} {
			w := openT(t, path)
			start := time.Now()
			s, err := OpenWith(path, o)
			took := time.Since(start)
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
				if s != nil {
					s.Close()
				}
				t.Errorf("OpenWith(%+v) beside a writer = %v, want ErrLocked naming the file", o, err)
			}
			// bbolt retries every 50ms and gives up when the next try
			// would be late.
			if took < o.Wait-100*time.Millisecond {
				t.Errorf("OpenWith(%+v) gave up after %v", o, took)
			}
			closeT(t, w)
		}
	})
}

// TestCreate covers how a new store comes into place: a creation that fails
// leaves nothing behind; one that finds the store created meanwhile by
// another process opens that store and keeps it; where the file system has
// no hard links the store is renamed into place.
func TestCreate(t *testing.T) {
	t.Cleanup(func() { testHookCreate, linkFile = nil, os.Link })
	onlyStore := func(t *testing.T, dir string) {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("read dir: %v", err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, []string{"history.db"}) {
			t.Errorf("directory holds %q, want the store alone", names)
		}
	}

	t.Run("failure leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "history.db")
		injected := errors.New("injected failure")
		testHookCreate = func(string) error { return injected }
		s, err := Open(path)
		testHookCreate = nil
		if !errors.Is(err, injected) || !strings.Contains(err.Error(), path) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("Open with a failing creation = %v, want the injected error naming the file", err)
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Errorf("directory after a failed creation = %v, %v; want empty", entries, err)
		}
		openT(t, path) // and the next Open creates it
		onlyStore(t, dir)
	})
	t.Run("another process created it first", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "history.db")
		testHookCreate = func(string) error {
			testHookCreate = nil
			realStore(t, path, 3) // the other process, a step ahead
			return nil
		}
		s := openT(t, path)
		testHookCreate = nil
		if s.Len() != 3 {
			t.Errorf("Len = %d, want the other process's 3 papers", s.Len())
		}
		onlyStore(t, dir)
	})
	t.Run("no hard links", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "history.db")
		linkFile = func(oldname, newname string) error {
			return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
		}
		s, err := Open(path)
		linkFile = os.Link
		if err != nil {
			t.Fatalf("Open without hard links: %v", err)
		}
		mergeT(t, s, []paper.Paper{{ID: "a"}}, t0)
		closeT(t, s)
		if got := openT(t, path).Len(); got != 1 {
			t.Errorf("Len after reopen = %d, want 1", got)
		}
		onlyStore(t, dir)
	})
	t.Run("no hard links and no rename", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "history.db")
		linkFile = func(oldname, newname string) error {
			// The new store goes under our feet: the rename fails too.
			if err := os.Remove(oldname); err != nil {
				return err
			}
			return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
		}
		s, err := Open(path)
		linkFile = os.Link
		if err == nil || !strings.Contains(err.Error(), "link") || !strings.Contains(err.Error(), "rename") {
			if s != nil {
				s.Close()
			}
			t.Fatalf("Open = %v, want the link and rename errors", err)
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Errorf("directory after a failed creation = %v, %v; want empty", entries, err)
		}
	})
}
