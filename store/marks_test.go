package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func saveMarksT(t *testing.T, s *Store, target string, u MarkUpdate) {
	t.Helper()
	if err := s.SaveMarks(target, u); err != nil {
		t.Fatalf("SaveMarks(%s): %v", target, err)
	}
}

func marksT(t *testing.T, s *Store, target string, ids ...string) TargetMarks {
	t.Helper()
	m, err := s.Marks(target, ids...)
	if err != nil {
		t.Fatalf("Marks(%s): %v", target, err)
	}
	return m
}

// TestMarksRoundTrip: what SaveMarks writes, Marks reads back, in UTC, in
// this process and after a reopen; done marks only of the IDs asked for;
// another target's marks apart.
func TestMarksRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	paris := time.FixedZone("CEST", 2*3600)
	at := time.Date(2026, 6, 13, 10, 0, 0, 123, paris)
	saveMarksT(t, s, "lab-slack", MarkUpdate{
		Since:   map[string]time.Time{"agents": at, "diffusion": at.Add(time.Hour)},
		Digest:  at.Add(2 * time.Hour),
		Pending: map[string]Pending{"2606.00001": {Topic: "agents", At: at, Backlog: true}, "2606.00002": {Topic: "diffusion", At: at}},
		Done:    map[string]Mark{"2606.00003": {At: at}, "2606.00004": {At: at, Failed: "HTTP 400: invalid_blocks"}},
	})
	saveMarksT(t, s, "hook", MarkUpdate{Done: map[string]Mark{"2606.00001": {At: at}}})
	check := func(s *Store) {
		t.Helper()
		m := marksT(t, s, "lab-slack", "2606.00003", "2606.00004", "2606.00009", "")
		want := TargetMarks{
			Since:   map[string]time.Time{"agents": at.UTC(), "diffusion": at.Add(time.Hour).UTC()},
			Digest:  at.Add(2 * time.Hour).UTC(),
			Pending: map[string]Pending{"2606.00001": {Topic: "agents", At: at.UTC(), Backlog: true}, "2606.00002": {Topic: "diffusion", At: at.UTC()}},
			Done:    map[string]Mark{"2606.00003": {At: at.UTC()}, "2606.00004": {At: at.UTC(), Failed: "HTTP 400: invalid_blocks"}},
		}
		if got := fmt.Sprint(m); got != fmt.Sprint(want) {
			t.Errorf("Marks:\ngot  %v\nwant %v", got, want)
		}
		if m.Digest.Location() != time.UTC {
			t.Errorf("Digest in %v, want UTC", m.Digest.Location())
		}
		if got := marksT(t, s, "lab-slack"); len(got.Done) != 0 || len(got.Pending) != 2 {
			t.Errorf("Marks without ids: %d done, %d pending; want 0 and 2", len(got.Done), len(got.Pending))
		}
		if got := marksT(t, s, "hook", "2606.00001", "2606.00003"); len(got.Done) != 1 || len(got.Pending) != 0 || len(got.Since) != 0 {
			t.Errorf("hook's marks: %v; want one done mark", got)
		}
		if got := marksT(t, s, "nobody", "2606.00001"); len(got.Done)+len(got.Pending)+len(got.Since) != 0 || !got.Digest.IsZero() {
			t.Errorf("marks of an unknown target: %v; want none", got)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openT(t, path))
}

// TestSaveMarksRules: a Since is recorded once unless forgotten; a done
// paper keeps its first mark, leaves the queue and is never queued again; a
// queued paper keeps its entry; Drop unqueues without a mark.
func TestSaveMarksRules(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	t1 := time.Date(2026, 6, 13, 8, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	const tg = "t"
	saveMarksT(t, s, tg, MarkUpdate{
		Since:   map[string]time.Time{"a": t1, "b": t1},
		Pending: map[string]Pending{"p1": {Topic: "a", At: t1}, "p2": {Topic: "a", At: t1}, "p3": {Topic: "b", At: t1}},
	})
	saveMarksT(t, s, tg, MarkUpdate{
		Forget:  []string{"b", "never-taken"},
		Since:   map[string]time.Time{"a": t2, "b": t2, "c": t2},
		Done:    map[string]Mark{"p1": {At: t2}},
		Drop:    []string{"p3", "not-queued"},
		Pending: map[string]Pending{"p1": {Topic: "a", At: t2}, "p2": {Topic: "c", At: t2}, "p4": {Topic: "c", At: t2}},
	})
	saveMarksT(t, s, tg, MarkUpdate{Done: map[string]Mark{"p1": {At: t2.Add(time.Hour), Failed: "later"}}})
	m := marksT(t, s, tg, "p1", "p2", "p3")
	if got, want := fmt.Sprint(m.Since), fmt.Sprint(map[string]time.Time{"a": t1, "b": t2, "c": t2}); got != want {
		t.Errorf("Since: got %s, want %s (a kept, b forgotten and recorded anew, c new)", got, want)
	}
	if got, want := fmt.Sprint(m.Pending), fmt.Sprint(map[string]Pending{"p2": {Topic: "a", At: t1}, "p4": {Topic: "c", At: t2}}); got != want {
		t.Errorf("Pending: got %s, want %s (p1 done, p2 kept as first queued, p3 dropped, p4 new)", got, want)
	}
	if got, want := fmt.Sprint(m.Done), fmt.Sprint(map[string]Mark{"p1": {At: t2}}); got != want {
		t.Errorf("Done: got %s, want %s (the first mark kept)", got, want)
	}
	if !m.Digest.IsZero() {
		t.Errorf("Digest = %v, want zero: never set", m.Digest)
	}
}

// TestSaveMarksLeavesHistoryAlone: marks are not the history: Len, Gen and
// the papers stay as they were, Verify passes and the site state is apart.
func TestSaveMarksLeavesHistoryAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s := openT(t, path)
	mergeT(t, s, realistic(t, 0, 5), t0)
	if err := s.SaveState(map[string][]byte{"gen": []byte("x")}, nil); err != nil {
		t.Fatal(err)
	}
	gen, n := s.Gen(), s.Len()
	saveMarksT(t, s, "t", MarkUpdate{Done: map[string]Mark{realisticID(0): {At: t0}}, Pending: map[string]Pending{realisticID(1): {At: t0}}})
	if s.Gen() != gen || s.Len() != n {
		t.Errorf("after SaveMarks Gen, Len = %d, %d; want %d, %d", s.Gen(), s.Len(), gen, n)
	}
	if err := s.Verify(); err != nil {
		t.Errorf("Verify with marks: %v", err)
	}
	st, err := s.State()
	if err != nil || len(st) != 1 {
		t.Errorf("State = %v, %v; want the one entry saved", st, err)
	}
	if got := allIDs(t, s); len(got) != 5 {
		t.Errorf("papers after SaveMarks: %d, want 5", len(got))
	}
}

// TestMarksOnOlderFiles: a file written before marks existed (a format 1
// file, migrated; a format 2 one without the bucket) reads as having no
// marks, takes marks, and opens and verifies afterwards, also read-only.
func TestMarksOnOlderFiles(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "store-v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open the format 1 file: %v", err)
	}
	if m := marksT(t, s, "t", "x"); len(m.Since)+len(m.Pending)+len(m.Done) != 0 {
		t.Errorf("marks of a migrated file: %v, want none", m)
	}
	ids := allIDs(t, s)
	saveMarksT(t, s, "t", MarkUpdate{Done: map[string]Mark{ids[0]: {At: t0}}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{}, {ReadOnly: true}} {
		s, err := OpenWith(path, o)
		if err != nil {
			t.Fatalf("OpenWith(%+v) after marks: %v", o, err)
		}
		if err := s.Verify(); err != nil {
			t.Errorf("Verify(%+v): %v", o, err)
		}
		if m := marksT(t, s, "t", ids[0]); len(m.Done) != 1 {
			t.Errorf("read-only %v: done marks %v, want %s's", o.ReadOnly, m.Done, ids[0])
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSaveMarksReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	realStore(t, path, 1)
	s, err := OpenWith(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.SaveMarks("t", MarkUpdate{Done: map[string]Mark{"x": {At: t0}}})
	if !errors.Is(err, ErrReadOnly) {
		t.Errorf("SaveMarks on a read-only store = %v, want ErrReadOnly", err)
	}
}

// TestSaveMarksBadKeys: a name or ID that cannot be a key fails the whole
// update, which writes nothing.
func TestSaveMarksBadKeys(t *testing.T) {
	long := strings.Repeat("x", bolt.MaxKeySize+1)
	tests := []struct {
		name   string
		target string
		u      MarkUpdate
		want   string
	}{
		{"empty target", "", MarkUpdate{Done: map[string]Mark{"a": {At: t0}}}, "target name cannot be stored"},
		{"empty id", "t", MarkUpdate{Done: map[string]Mark{"a": {At: t0}, "": {At: t0}}}, `paper id "" cannot be stored`},
		{"long id", "t", MarkUpdate{Pending: map[string]Pending{long: {At: t0}}}, `paper id "` + long[:40] + `..." cannot be stored`},
		{"empty topic", "t", MarkUpdate{Since: map[string]time.Time{"": t0}, Done: map[string]Mark{"a": {At: t0}}}, `topic "" cannot be stored`},
		{"empty dropped id", "t", MarkUpdate{Drop: []string{""}}, `paper id "" cannot be stored`},
		{"forgotten long topic", "t", MarkUpdate{Forget: []string{long}}, "cannot be stored"},
		{"year 10000", "t", MarkUpdate{Done: map[string]Mark{"a": {At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}, "paper a: encode mark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openT(t, filepath.Join(t.TempDir(), "history.db"))
			before := txID(t, s)
			err := s.SaveMarks(tt.target, tt.u)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SaveMarks = %v, want an error with %q", err, tt.want)
			}
			if txID(t, s) != before {
				t.Errorf("a refused update wrote a transaction")
			}
		})
	}
	t.Run("empty update", func(t *testing.T) {
		s := openT(t, filepath.Join(t.TempDir(), "history.db"))
		before := txID(t, s)
		saveMarksT(t, s, "t", MarkUpdate{})
		if txID(t, s) != before {
			t.Errorf("an empty update wrote a transaction")
		}
	})
}

// TestMarksDamaged: a mark that does not decode, or a part that is not a
// bucket, is a *DamagedError naming the target; other targets still read.
func TestMarksDamaged(t *testing.T) {
	tests := []struct {
		name string
		put  func(tx *bolt.Tx) error
		want string
	}{
		{"bad done mark", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMarks).Bucket([]byte("t")).Bucket(marksDone).Put([]byte("a"), []byte("{not json"))
		}, `marks of "t": done paper a:`},
		{"bad queued mark", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMarks).Bucket([]byte("t")).Bucket(marksQueue).Put([]byte("b"), []byte("7"))
		}, `marks of "t": queued paper b:`},
		{"bucket in since", func(tx *bolt.Tx) error {
			_, err := tx.Bucket(bucketMarks).Bucket([]byte("t")).Bucket(marksSince).CreateBucket([]byte("y"))
			return err
		}, `marks of "t": since y is a bucket, not a mark`},
		{"target is a value", func(tx *bolt.Tx) error {
			root := tx.Bucket(bucketMarks)
			if err := root.DeleteBucket([]byte("t")); err != nil {
				return err
			}
			return root.Put([]byte("t"), []byte("{}"))
		}, `marks of "t" are a value, not a bucket`},
		{"queue is a value", func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketMarks).Bucket([]byte("t"))
			if err := b.DeleteBucket(marksQueue); err != nil {
				return err
			}
			return b.Put(marksQueue, []byte("{}"))
		}, `marks of "t": "queue" is a value, not a bucket`},
		{"bad digest", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMarks).Bucket([]byte("t")).Put(keyDigest, []byte(`{"at":"yesterday"}`))
		}, `marks of "t": digest:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openT(t, filepath.Join(t.TempDir(), "history.db"))
			for _, tg := range []string{"t", "other"} {
				saveMarksT(t, s, tg, MarkUpdate{Since: map[string]time.Time{"x": t0}, Pending: map[string]Pending{"b": {At: t0}},
					Done: map[string]Mark{"a": {At: t0}}, Digest: t0})
			}
			if err := s.db.Update(tt.put); err != nil {
				t.Fatal(err)
			}
			_, err := s.Marks("t", "a")
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marks = %v, want a damaged error with %q", err, tt.want)
			}
			if m := marksT(t, s, "other", "a"); len(m.Done) != 1 {
				t.Errorf("another target's marks: %v", m)
			}
		})
	}
}

// TestSaveMarksConcurrent: marks written beside merges, under -race, all
// land, and the history is whole.
func TestSaveMarksConcurrent(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "history.db"))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 10 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- s.SaveMarks("t", MarkUpdate{Done: map[string]Mark{realisticID(i): {At: t0}}})
		}()
		go func() {
			defer wg.Done()
			_, err := s.Merge(realistic(t, i, 1), t0)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	for i := range 10 {
		all = append(all, realisticID(i))
	}
	if m := marksT(t, s, "t", all...); len(m.Done) != 10 {
		t.Errorf("%d done marks, want 10", len(m.Done))
	}
	if s.Len() != 10 {
		t.Errorf("Len = %d, want 10", s.Len())
	}
	if err := s.Verify(); err != nil {
		t.Error(err)
	}
}

// The marks helper process is this test binary run again with marksHelperEnv
// set to a store's path: from paper marksStartEnv on, it marks one paper a
// transaction and queues the next, forever, printing how many papers are
// marked after each SaveMarks returns.
const (
	marksHelperEnv = "PAPERFEED_MARKS_HELPER"
	marksStartEnv  = "PAPERFEED_MARKS_START"
)

func TestMarksHelperProcess(t *testing.T) {
	path := os.Getenv(marksHelperEnv)
	if path == "" {
		t.Skip("helper process for TestMarksCrash")
	}
	start, err := strconv.Atoi(os.Getenv(marksStartEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	for i := start; ; i++ {
		id := realisticID(i)
		if err := s.SaveMarks("t", MarkUpdate{Done: map[string]Mark{id: {At: t0}}, Drop: []string{id},
			Pending: map[string]Pending{realisticID(i + 1): {At: t0}}}); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		fmt.Println(i + 1)
	}
}

// TestMarksCrash kills a process writing marks with SIGKILL, several times:
// every mark whose SaveMarks returned is there after each kill, the store
// verifies, and the queue holds exactly the paper after the last mark.
func TestMarksCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs child processes")
	}
	path := filepath.Join(t.TempDir(), "history.db")
	realStore(t, path, 1)
	marked := 0
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMarksHelperProcess$")
		cmd.Env = append(os.Environ(), marksHelperEnv+"="+path, marksStartEnv+"="+strconv.Itoa(marked))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		// Kill once it has marked a few papers, while it writes more.
		last := ""
		for range 3 + round*3 {
			if !lines.Scan() {
				t.Fatalf("round %d: helper ended early: %v", round, cmd.Wait())
			}
			last = lines.Text()
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for lines.Scan() {
			last = lines.Text()
		}
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: helper ended with %v, want killed", round, err)
		}
		n, err := strconv.Atoi(last)
		if err != nil {
			t.Fatalf("helper printed %q", last)
		}
		s, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		if err := s.Verify(); err != nil {
			t.Fatalf("round %d: Verify: %v", round, err)
		}
		var ids []string
		for i := range n + 1 {
			ids = append(ids, realisticID(i))
		}
		m := marksT(t, s, "t", ids...)
		// One more SaveMarks may have committed unprinted.
		if len(m.Done) < n || len(m.Done) > n+1 {
			t.Errorf("round %d: %d done marks, want %d or %d", round, len(m.Done), n, n+1)
		}
		if len(m.Pending) != 1 {
			t.Errorf("round %d: %d queued, want 1: %v", round, len(m.Pending), m.Pending)
		}
		for id := range m.Pending {
			if id != realisticID(len(m.Done)) {
				t.Errorf("round %d: queued %s, want %s, the one after the last mark", round, id, realisticID(len(m.Done)))
			}
		}
		marked = len(m.Done)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d papers marked across 5 kills", marked)
}
