package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paperfeed/paperfeed/paper"
)

// The format 1 fixture was written by the previous release's Open and
// Merge; the golden file holds its papers as that release's Papers returned
// them.
const (
	v1Fixture = "testdata/store-v1.db"
	v1Golden  = "testdata/store-v1.golden.json"
)

// legacyStore writes a format 1 file holding papers, each first and last
// seen at now, as the previous release's Merge would have.
func legacyStore(tb testing.TB, path string, papers []paper.Paper, now time.Time) {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatalf("bolt.Open: %v", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyFormat, []byte(legacyMarker)); err != nil {
			return err
		}
		b, err := tx.CreateBucket(bucketPapers)
		if err != nil {
			return err
		}
		b.FillPercent = fillPercent
		var e legacyEncoder
		for i := range papers {
			p := papers[i]
			p.FirstSeen, p.LastSeen = now.UTC(), now.UTC()
			v, err := e.encode(&p)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(p.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("write format 1 file: %v", err)
	}
	if err := db.Close(); err != nil {
		tb.Fatalf("close: %v", err)
	}
}

// copyFixture copies the format 1 fixture into a temporary directory.
func copyFixture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	writeFile(t, path, readFile(t, v1Fixture))
	return path
}

// v1Hub are the fixture's arXiv papers that carry a field only Hugging Face
// gives: the migration marks them Hub (format 1 had no such field). The
// fixture's other papers with upvotes are not keyed by arXiv ids.
var v1Hub = []string{"2606.00003", "2606.00020", "2606.00467"}

// goldenPapers returns the fixture's papers as a migration gives them: as
// the previous release returned them, with Hub set on v1Hub.
func goldenPapers(t *testing.T) []paper.Paper {
	t.Helper()
	var want []paper.Paper
	if err := json.Unmarshal(readFile(t, v1Golden), &want); err != nil {
		t.Fatalf("decode %s: %v", v1Golden, err)
	}
	if len(want) < 10 {
		t.Fatalf("%s holds %d papers, too few to test a migration", v1Golden, len(want))
	}
	found := 0
	for i := range want {
		if slices.Contains(v1Hub, want[i].ID) {
			want[i].Hub = true
			found++
		}
	}
	if found != len(v1Hub) {
		t.Fatalf("%s holds %d of the papers %q", v1Golden, found, v1Hub)
	}
	return want
}

// marker reads the format marker of a closed store file.
func marker(t *testing.T, path string) string {
	t.Helper()
	var m string
	rawView(t, path, func(tx *bolt.Tx) error {
		m = string(tx.Bucket(bucketMeta).Get(keyFormat))
		return nil
	})
	return m
}

// checkMigrated checks that the open store s holds exactly the fixture's
// papers, with a consistent index and counters.
func checkMigrated(t *testing.T, s *Store, want []paper.Paper) {
	t.Helper()
	if got := all(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("migrated papers differ from %s:\n got %+v\nwant %+v", v1Golden, got, want)
	}
	if s.Len() != len(want) || s.Gen() != 0 {
		t.Errorf("migrated store: Len %d, Gen %d; want %d, 0", s.Len(), s.Gen(), len(want))
	}
	if err := s.Verify(); err != nil {
		t.Errorf("Verify after migration: %v", err)
	}
	ids := make([]string, len(want))
	for i := range want {
		ids[i] = want[i].ID
	}
	got, err := s.Get(ids...)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	for i := range want {
		if p := got[want[i].ID]; p == nil || !reflect.DeepEqual(*p, want[i]) {
			t.Errorf("Get(%q) = %+v, want %+v", want[i].ID, p, want[i])
		}
	}
}

func TestMigrateFormat1(t *testing.T) {
	want := goldenPapers(t)
	path := copyFixture(t)
	if m := marker(t, path); m != legacyMarker {
		t.Fatalf("fixture marker = %q, want %q", m, legacyMarker)
	}
	s := openT(t, path)
	checkMigrated(t, s, want)
	migratedAt := txID(t, s)
	state, err := s.State()
	if err != nil || len(state) != 0 {
		t.Errorf("State of a migrated store = %v, %v; want empty", state, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if m := marker(t, path); m != formatMarker {
		t.Errorf("marker after migration = %q, want %q", m, formatMarker)
	}

	// Opening again finds format 2: no second migration, nothing written.
	sum := fileSum(t, path)
	again := openT(t, path)
	if got := txID(t, again); got != migratedAt {
		t.Errorf("second Open committed: transaction %d, want %d", got, migratedAt)
	}
	checkMigrated(t, again, want)

	// The index migration built serves Prune: drop the papers listed and
	// last seen before June 11 (most of the fixture was last seen June 10;
	// a paper of 1999 seen June 13 stays).
	cutoff := time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC)
	var wantDropped []string
	keptBySeen := 0
	for i := range want {
		switch {
		case !listingDay(&want[i]).Before(cutoff):
		case want[i].LastSeen.Before(cutoff):
			wantDropped = append(wantDropped, want[i].ID)
		default:
			keptBySeen++
		}
	}
	if keptBySeen == 0 {
		t.Fatalf("no paper of the fixture dated before %v was seen since: the case proves nothing", cutoff)
	}
	if err := again.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if fileSum(t, path) != sum {
		t.Errorf("opening a migrated store changed the file")
	}
	s = openT(t, path)
	dropped, err := s.Prune(cutoff)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if len(wantDropped) == 0 || !slices.Equal(dropped, wantDropped) {
		t.Errorf("Prune(%v) dropped %q, want %q", cutoff, dropped, wantDropped)
	}
	if err := s.Verify(); err != nil {
		t.Errorf("Verify after Prune: %v", err)
	}
}

// TestMigrateRealistic migrates a format 1 file of real-sized papers,
// compressed records among them.
func TestMigrateRealistic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	papers := realistic(t, 0, 300)
	legacyStore(t, path, papers, t0)
	s := openT(t, path)
	got := all(t, s)
	if len(got) != len(papers) {
		t.Fatalf("migrated %d papers, want %d", len(got), len(papers))
	}
	for i := range papers {
		want := papers[i]
		want.FirstSeen, want.LastSeen = t0, t0
		want.Hub = true // arXiv ids with Hugging Face's fields
		if !reflect.DeepEqual(got[i], want) {
			t.Fatalf("paper %d after migration:\n got %+v\nwant %+v", i, got[i], want)
		}
	}
	if err := s.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	// A migrated paper seen again the same day is no change to write.
	before := txID(t, s)
	if res := mergeT(t, s, papers[:10], t0.Add(time.Hour)); res.Added+res.Updated != 0 || txID(t, s) != before {
		t.Errorf("same-day Merge after migration: %+v, transaction %d -> %d; want nothing written", res, before, txID(t, s))
	}
}

// TestMigrateInterrupted fails a migration just before it commits: the file
// is left as it was, still format 1, and the next Open migrates it.
func TestMigrateInterrupted(t *testing.T) {
	path := copyFixture(t)
	sum := fileSum(t, path)
	injected := errors.New("injected failure before commit")
	testHookMigrate = func() error { return injected }
	s, err := Open(path)
	testHookMigrate = nil
	if !errors.Is(err, injected) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open with a failing migration = %v, want the injected error", err)
	}
	if fileSum(t, path) != sum || marker(t, path) != legacyMarker {
		t.Fatalf("an interrupted migration changed the file")
	}
	checkMigrated(t, openT(t, path), goldenPapers(t))
}

// TestMigrateKilled kills a process in the middle of its migration (inside
// the write transaction, before the commit): the file is left as it was and
// the next Open migrates it.
func TestMigrateKilled(t *testing.T) {
	path := copyFixture(t)
	sum := fileSum(t, path)
	cmd := helperCmd(t, "migrate-stall", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "migrating\n" {
		t.Fatalf("helper said %q, %v; want \"migrating\"", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill helper: %v", err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("helper ended with %v, want killed", err)
	}
	if fileSum(t, path) != sum {
		t.Fatalf("a migration killed before its commit changed the file")
	}
	checkMigrated(t, openT(t, path), goldenPapers(t))
}

// TestMigrateRefusesDamagedFormat1 flips a byte of a record in the fixture:
// the file is refused as damaged, untouched and unlocked, as the previous
// release refused it.
func TestMigrateRefusesDamagedFormat1(t *testing.T) {
	path := copyFixture(t)
	var value []byte
	rawView(t, path, func(tx *bolt.Tx) error {
		value = bytes.Clone(tx.Bucket(bucketPapers).Get([]byte("2606.00467")))
		return nil
	})
	data := readFile(t, path)
	at := bytes.Index(data, value)
	if value == nil || at < 0 {
		t.Fatalf("record of 2606.00467 not found in the fixture")
	}
	data[at+len(value)/2] ^= 0x01
	writeFile(t, path, data)
	sum := fileSum(t, path)
	s, err := Open(path)
	var d *DamagedError
	if !errors.As(err, &d) || !strings.Contains(err.Error(), `paper "2606.00467": record checksum`) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a damaged format 1 file = %v, want a *DamagedError naming the paper", err)
	}
	if fileSum(t, path) != sum {
		t.Errorf("Open changed the damaged file")
	}
	// Unlocked: a second refusal, not ErrLocked.
	if _, err := Open(path); !errors.As(err, &d) {
		t.Errorf("second Open = %v, want the same *DamagedError", err)
	}
}

// TestOpenAllocatesNothingPerPaper checks that Open reads no record: it
// allocates about as much for a large history as for a small one.
func TestOpenAllocatesNothingPerPaper(t *testing.T) {
	measure := func(n int) uint64 {
		path := filepath.Join(t.TempDir(), "history.db")
		realStore(t, path, n)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, err := Open(path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		runtime.ReadMemStats(&after)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := measure(10), measure(3000)
	t.Logf("Open allocates %d bytes at 10 papers, %d at 3000", small, large)
	if large > small+16<<10 {
		t.Errorf("Open of 3000 papers allocates %d bytes, of 10 papers %d: it grows with the history", large, small)
	}
}
