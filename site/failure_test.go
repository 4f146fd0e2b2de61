package site

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
)

// checkWhole fails unless every file of the site under out is whole: each
// feed and the OPML parse, each gzip copy holds its feed (when that is a
// file), index.html ends where it should, and no temporary file is left.
func checkWhole(t *testing.T, out string) {
	t.Helper()
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		name, _ := filepath.Rel(out, path)
		if strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", name)
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch filepath.Ext(name) {
		case ".atom", ".rss", ".opml":
			dec := xml.NewDecoder(bytes.NewReader(data))
			for {
				_, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Errorf("%s is not whole: %v", name, err)
					break
				}
			}
		case ".json":
			if !json.Valid(data) {
				t.Errorf("%s is not whole JSON", name)
			}
		case ".gz":
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return nil
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				t.Errorf("%s is not whole: %v", name, err)
				return nil
			}
			feed := strings.TrimSuffix(path, ".gz")
			if fi, err := os.Stat(feed); err != nil || !fi.Mode().IsRegular() {
				return nil // a test put a directory there
			}
			if !bytes.Equal(plain, readFile(t, out, strings.TrimSuffix(filepath.ToSlash(name), ".gz"))) {
				t.Errorf("%s does not hold its feed", name)
			}
		case ".html":
			if !bytes.HasSuffix(data, []byte("</html>\n")) {
				t.Errorf("%s is not whole", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readFile is the content of out/name.
func readFile(t *testing.T, out, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// newest is a paper every topic but agents takes, newer than the seeded
// ones, so that it changes their feeds and the index.
var newest = paper.Paper{ID: "2606.99001", Title: "Popular diffusion robots", Day: day.AddDate(0, 0, 2), Upvotes: 60}

// TestFeedPathIsADirectory: a feed that cannot be written because a
// directory stands in its place fails the build with its name; what was
// written stays whole, the index and OPML are not written (they would show
// papers that feed does not), and once the directory is gone the next
// Build, with nothing changed, writes the feed. Root cannot rename over a
// directory either, so this runs as root too.
func TestFeedPathIsADirectory(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	res := seed(t, s, rand.New(rand.NewPCG(31, 32)), 40)
	b := New(out, cfg, discard)
	if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	index, opml := readFile(t, out, "index.html"), readFile(t, out, "feeds.opml")
	blocked := filepath.Join(out, "feeds", "diffusion.rss")
	if err := os.Remove(blocked); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := s.Merge([]paper.Paper{newest}, day)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Build(s, res.Changed, nil, Status{}, day)
	if err == nil || !strings.Contains(err.Error(), "write feeds/diffusion.rss") {
		t.Fatalf("got %v, want an error naming feeds/diffusion.rss", err)
	}
	checkWhole(t, out)
	if !bytes.Equal(readFile(t, out, "index.html"), index) || !bytes.Equal(readFile(t, out, "feeds.opml"), opml) {
		t.Error("index.html or feeds.opml was written although a feed failed")
	}
	if !bytes.Contains(readFile(t, out, "feeds/all.atom"), []byte(newest.ID)) {
		t.Error("the feeds before the failed one were not written")
	}
	if err := os.RemoveAll(blocked); err != nil {
		t.Fatal(err)
	}
	got, err := b.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got.Written == 0 || !bytes.Contains(readFile(t, out, "feeds/diffusion.rss"), []byte(newest.ID)) {
		t.Errorf("the next build wrote %d files and diffusion.rss lacks the new paper", got.Written)
	}
	if !bytes.Contains(readFile(t, out, "index.html"), []byte(newest.Title)) {
		t.Error("the next build did not write the index")
	}
	checkFeeds(t, 0, out, s, cfg)
	checkWhole(t, out)
}

// TestFeedReplacedByADirectoryIsNoticed: a feed file that became a
// directory, with nothing else changed, is not taken for a written feed:
// the build fails with its name instead of leaving the site without it.
func TestFeedReplacedByADirectoryIsNoticed(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	b := New(out, config(t, testSpecs), discard)
	if _, err := b.Build(s, seed(t, s, rand.New(rand.NewPCG(33, 34)), 20).Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(out, "feeds", "popular.json.gz")
	if err := os.Remove(gz); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(gz, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(s, nil, nil, Status{}, day); err == nil || !strings.Contains(err.Error(), "write feeds/popular.json.gz") {
		t.Errorf("got %v, want an error naming feeds/popular.json.gz", err)
	}
}

// TestNewTopicWithUnwritableFeedIsNotLinked: a topic added to the config
// whose feeds cannot be written does not appear in index.html or
// feeds.opml, which would link to a feed that is not there.
func TestNewTopicWithUnwritableFeedIsNotLinked(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	b := New(out, config(t, testSpecs), discard)
	if _, err := b.Build(s, seed(t, s, rand.New(rand.NewPCG(35, 36)), 20).Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(out, "feeds", "robots.atom", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	specs := append(testSpecs[:len(testSpecs):len(testSpecs)], testSpecs[0])
	specs[len(specs)-1].Slug, specs[len(specs)-1].Keywords = "robots", []string{"robot"}
	b.SetConfig(config(t, specs))
	if _, err := b.Build(s, nil, nil, Status{}, day); err == nil || !strings.Contains(err.Error(), "write feeds/robots.atom") {
		t.Fatalf("got %v, want an error naming feeds/robots.atom", err)
	}
	for _, name := range []string{"index.html", "feeds.opml"} {
		if bytes.Contains(readFile(t, out, name), []byte("robots")) {
			t.Errorf("%s links the topic whose feeds failed", name)
		}
	}
	checkWhole(t, out)
}

// chmodEffective reports whether making dir read-only stops this process
// from creating a file in it (root ignores the mode).
func chmodEffective(t *testing.T, dir string) bool {
	t.Helper()
	probe := filepath.Join(dir, ".probe")
	err := os.WriteFile(probe, nil, 0o644)
	if err == nil {
		if err := os.Remove(probe); err != nil {
			t.Fatal(err)
		}
		return false
	}
	return true
}

// TestReadOnlyDirectory: the feeds directory, or the site's own, becomes
// read-only between two builds. The build fails naming the first file it
// could not write; every file stays whole and the index is not rewritten;
// the state saved is that of what was written, so once the directory is
// writable again the next Build, in this process or after a restart, with
// nothing changed, writes what failed without routing the history again.
func TestReadOnlyDirectory(t *testing.T) {
	tests := []struct {
		name     string
		readOnly string // relative to the site
		want     string // the file the error names
	}{
		{"feeds directory", "feeds", "write feeds/all.atom"},
		{"site directory", ".", "write index.html"}, // feeds.opml is unchanged, not written
	}
	for _, tt := range tests {
		for _, restart := range []bool{false, true} {
			name := tt.name
			if restart {
				name += ", restarted"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				out := filepath.Join(dir, "public")
				s := openStore(t, dir)
				cfg := config(t, testSpecs)
				b := New(out, cfg, discard)
				if _, err := b.Build(s, seed(t, s, rand.New(rand.NewPCG(37, 38)), 40).Changed, nil, Status{}, day); err != nil {
					t.Fatal(err)
				}
				index := readFile(t, out, "index.html")
				ro := filepath.Join(out, tt.readOnly)
				if err := os.Chmod(ro, 0o555); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(ro, 0o755) })
				if !chmodEffective(t, ro) {
					t.Skip("a read-only directory is writable here (running as root)")
				}
				res, err := s.Merge([]paper.Paper{newest}, day)
				if err != nil {
					t.Fatal(err)
				}
				_, err = b.Build(s, res.Changed, nil, Status{}, day)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want an error with %q", err, tt.want)
				}
				checkWhole(t, out)
				if !bytes.Equal(readFile(t, out, "index.html"), index) {
					t.Error("index.html was rewritten")
				}
				if err := os.Chmod(ro, 0o755); err != nil {
					t.Fatal(err)
				}
				if restart {
					s = reopen(t, dir, s)
					b = New(out, cfg, discard)
					if err := b.Load(s); err != nil {
						t.Fatal(err)
					}
				}
				got, err := b.Build(s, nil, nil, Status{}, day)
				if err != nil {
					t.Fatal(err)
				}
				if got.Scanned != 0 || got.Written == 0 {
					t.Errorf("the next build routed %d topics and wrote %d files, want 0 and the ones that failed", got.Scanned, got.Written)
				}
				if !bytes.Contains(readFile(t, out, "index.html"), []byte(newest.Title)) {
					t.Error("the next build did not write the index")
				}
				checkFeeds(t, 0, out, s, cfg)
				checkWhole(t, out)
			})
		}
	}
}

// savedRendered is, by slug, what the state saved in s says each topic's
// files were last written from.
func savedRendered(t *testing.T, s *store.Store) map[string]uint64 {
	t.Helper()
	state, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for k, v := range state {
		if slug, ok := strings.CutPrefix(k, statePrefix); ok {
			var ts topicState
			if err := json.Unmarshal(v, &ts); err != nil {
				t.Fatal(err)
			}
			out[slug] = ts.Rendered
		}
	}
	return out
}

// TestUnsyncedFilesAreNotRecorded: the directories are synced once per
// Build, not once per file, and until they are, nothing says the files
// were written. A Build whose sync fails reports the error, leaves the
// index as it was and saves no topic as written; the next Build syncs
// before it saves the state and succeeds, and writes the index.
func TestUnsyncedFilesAreNotRecorded(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	b := New(out, cfg, discard)
	if _, err := b.Build(s, seed(t, s, rand.New(rand.NewPCG(39, 40)), 40).Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	index, before := readFile(t, out, "index.html"), savedRendered(t, s)

	errDisk := errors.New("the disk went away")
	syncs := 0
	// As the Writer's Sync when the files' bytes cannot be made durable:
	// none is put in place.
	b.sync = func() error { syncs++; return errors.Join(errDisk, b.files.Discard()) }
	res, err := s.Merge([]paper.Paper{newest}, day)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Build(s, res.Changed, nil, Status{}, day)
	if !errors.Is(err, errDisk) {
		t.Fatalf("got %v, want the sync's error", err)
	}
	if syncs != 1 || len(got.Changed) == 0 {
		t.Errorf("%d syncs and %d feeds changed, want 1 sync after the feeds were written", syncs, len(got.Changed))
	}
	if !bytes.Equal(readFile(t, out, "index.html"), index) {
		t.Error("index.html was written although the feeds it links were not synced")
	}
	if after := savedRendered(t, s); !maps.Equal(after, before) {
		t.Errorf("the state saved says %v were written, want %v as before the unsynced build", after, before)
	}
	checkWhole(t, out)

	var atSync []map[string]uint64 // the saved state at each sync
	b.sync = func() error {
		atSync = append(atSync, savedRendered(t, s))
		return b.files.Sync()
	}
	if _, err := b.Build(s, nil, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	if len(atSync) == 0 || !maps.Equal(atSync[0], before) {
		t.Errorf("state saved before the first sync: %v, want %v (syncs: %d)", atSync, before, len(atSync))
	}
	after := savedRendered(t, s)
	for i, spec := range cfg.Specs {
		if want := b.topics[i].Rendered; after[spec.Slug] != want {
			t.Errorf("topic %s: saved as rendered from %x, want %x", spec.Slug, after[spec.Slug], want)
		}
	}
	if maps.Equal(after, before) {
		t.Error("no topic was saved as written after the synced build")
	}
	if !bytes.Contains(readFile(t, out, "index.html"), []byte(newest.Title)) {
		t.Error("the synced build did not write the index")
	}
	checkFeeds(t, 0, out, s, cfg)
	checkWhole(t, out)
}
