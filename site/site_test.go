package site

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

var day = time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)

var discard = slog.New(slog.DiscardHandler)

// testSpecs are topics that papers enter and leave: by word, by upvotes,
// with a small limit, and one that takes everything.
var testSpecs = []topic.Spec{
	{Slug: "all", Title: "All", Limit: 30},
	{Slug: "diffusion", Title: "Diffusion", Keywords: []string{"diffusion"}, Limit: 5},
	{Slug: "popular", Title: "Popular", MinUpvotes: 20, Limit: 4},
	{Slug: "agents", Keywords: []string{"agent*"}, Exclude: []string{"diffusion"}, Limit: 3},
}

func config(t testing.TB, specs []topic.Spec) Config {
	t.Helper()
	r, err := topic.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	return Config{Site: feed.Site{BaseURL: "https://feeds.example.org", Title: "paperfeed"}, Specs: specs, Router: r}
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(dir, "paperfeed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var words = []string{"diffusion", "agent", "agents", "vision", "robot", "language", "model"}

// randomPaper is paper n with a random title, day and upvotes.
func randomPaper(rng *rand.Rand, n int) paper.Paper {
	title := words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))]
	return paper.Paper{
		ID:       fmt.Sprintf("2606.%05d", n),
		Title:    title,
		Abstract: "An abstract about " + title + ".",
		Day:      day.AddDate(0, 0, -rng.IntN(10)),
		Upvotes:  1 + rng.IntN(40),
		Sources:  []string{"hf"},
	}
}

// seed merges papers 0 to n-1, made at random, into s.
func seed(t *testing.T, s *store.Store, rng *rand.Rand, n int) store.MergeResult {
	t.Helper()
	batch := make([]paper.Paper, n)
	for i := range batch {
		batch[i] = randomPaper(rng, i)
	}
	res, err := s.Merge(batch, day)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// expected is what every topic must show: the whole history routed and
// sorted, cut to the limit.
func expected(t *testing.T, s *store.Store, cfg Config) [][]string {
	t.Helper()
	var all []*paper.Paper
	if err := s.ForEach(func(p *paper.Paper) error {
		c := *p
		all = append(all, &c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(all, Compare)
	want := make([][]string, len(cfg.Specs))
	for _, p := range all {
		for _, h := range cfg.Router.Route(p) {
			if len(want[h.Topic]) < cfg.Specs[h.Topic].Limit {
				want[h.Topic] = append(want[h.Topic], "https://arxiv.org/abs/"+p.ID)
			}
		}
	}
	return want
}

type atomDoc struct {
	Entries []struct {
		ID string `xml:"id"`
	} `xml:"entry"`
}

// feedIDs reads the entry ids of a topic's Atom feed, and checks that its
// gzip copy holds the same bytes.
func feedIDs(t *testing.T, dir, slug string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "feeds", slug+".atom"))
	if err != nil {
		t.Fatal(err)
	}
	gz, err := os.ReadFile(filepath.Join(dir, "feeds", slug+".atom.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, data) {
		t.Errorf("%s.atom.gz does not hold %s.atom (err %v)", slug, slug, err)
	}
	var doc atomDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s.atom: %v", slug, err)
	}
	var ids []string
	for _, e := range doc.Entries {
		ids = append(ids, e.ID)
	}
	return ids
}

// feedTerms is, for each entry of a topic's Atom feed, its id and its
// categories: "<id>: <term>, <term>".
func feedTerms(t *testing.T, dir, slug string) []string {
	t.Helper()
	var doc struct {
		Entries []struct {
			ID         string `xml:"id"`
			Categories []struct {
				Term string `xml:"term,attr"`
			} `xml:"category"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(readFile(t, dir, "feeds/"+slug+".atom"), &doc); err != nil {
		t.Fatalf("%s.atom: %v", slug, err)
	}
	var out []string
	for _, e := range doc.Entries {
		var terms []string
		for _, c := range e.Categories {
			terms = append(terms, c.Term)
		}
		out = append(out, e.ID+": "+strings.Join(terms, ", "))
	}
	return out
}

// expectedTerms is feedTerms as routing s from scratch gives it, for papers
// without arXiv categories or AI keywords (the test papers): the matched
// terms alone.
func expectedTerms(t *testing.T, s *store.Store, cfg Config, ids [][]string) [][]string {
	t.Helper()
	want := make([][]string, len(ids))
	for i, list := range ids {
		for _, id := range list {
			arxiv := strings.TrimPrefix(id, "https://arxiv.org/abs/")
			papers, err := s.Get(arxiv)
			if err != nil || papers[arxiv] == nil {
				t.Fatalf("paper %s: %v", arxiv, err)
			}
			ok, terms := cfg.Router.Take(i, papers[arxiv])
			if !ok {
				t.Fatalf("topic %s does not take %s", cfg.Specs[i].Slug, arxiv)
			}
			want[i] = append(want[i], id+": "+strings.Join(terms, ", "))
		}
	}
	return want
}

// checkFeeds holds every topic's Atom feed to routing the whole history
// from scratch: the papers, in order, and the terms each was taken by.
func checkFeeds(t *testing.T, round int, dir string, s *store.Store, cfg Config) {
	t.Helper()
	want := expected(t, s, cfg)
	for i, spec := range cfg.Specs {
		if got := feedIDs(t, dir, spec.Slug); !slices.Equal(got, want[i]) {
			t.Fatalf("round %d: topic %s shows\n%v\nwant\n%v", round, spec.Slug, got, want[i])
		}
	}
	terms := expectedTerms(t, s, cfg, want)
	for i, spec := range cfg.Specs {
		if got := feedTerms(t, dir, spec.Slug); !slices.Equal(got, terms[i]) {
			t.Fatalf("round %d: topic %s has the terms\n%q\nwant\n%q", round, spec.Slug, got, terms[i])
		}
	}
}

// TestTermsFollowThePaper: the terms a topic shows for a paper (its Atom
// categories) are those it takes the paper by now: after the paper
// changed, after a restart, and from a state saved without terms.
func TestTermsFollowThePaper(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	specs := []topic.Spec{{Slug: "vl", Keywords: []string{"vision", "language"}, Limit: 5}}
	cfg := config(t, specs)
	b := New(out, cfg, discard)
	p := paper.Paper{ID: "2606.00001", Title: "vision model", Day: day}
	step := func(b *Builder, p paper.Paper, want ...string) {
		t.Helper()
		res, err := s.Merge([]paper.Paper{p}, day)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
			t.Fatal(err)
		}
		if got := feedTerms(t, out, "vl"); !slices.Equal(got, want) {
			t.Errorf("after %s: the feed shows %q, want %q", p.Title, got, want)
		}
	}
	step(b, p, "https://arxiv.org/abs/2606.00001: vision")
	p.Title = "language model"
	step(b, p, "https://arxiv.org/abs/2606.00001: language")

	// A restart: the saved members carry their terms.
	s = reopen(t, dir, s)
	b = New(out, cfg, discard)
	step(b, paper.Paper{ID: "2606.00002", Title: "vision and language", Day: day.Add(-time.Hour)},
		"https://arxiv.org/abs/2606.00001: language", "https://arxiv.org/abs/2606.00002: vision, language")

	// A state saved without terms (by an earlier release): they are
	// routed again.
	state, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	var ts topicState
	if err := json.Unmarshal(state[statePrefix+"vl"], &ts); err != nil {
		t.Fatal(err)
	}
	for i := range ts.Members {
		if len(ts.Members[i].Terms) == 0 {
			t.Errorf("member %s saved without its terms", ts.Members[i].ID)
		}
		ts.Members[i].Terms = nil
	}
	ts.Rendered = 0 // written again
	data, err := json.Marshal(&ts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveState(map[string][]byte{statePrefix + "vl": data}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "feeds", "vl.atom")); err != nil {
		t.Fatal(err)
	}
	b = New(out, cfg, discard)
	res, err := b.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if res.Scanned != 0 {
		t.Errorf("a state without terms routed %d topics over the history, want 0", res.Scanned)
	}
	if got, want := feedTerms(t, out, "vl"), []string{"https://arxiv.org/abs/2606.00001: language", "https://arxiv.org/abs/2606.00002: vision, language"}; !slices.Equal(got, want) {
		t.Errorf("from a state without terms: the feed shows %q, want %q", got, want)
	}
	if state, err = s.State(); err != nil {
		t.Fatal(err)
	}
	ts = topicState{}
	if err := json.Unmarshal(state[statePrefix+"vl"], &ts); err != nil {
		t.Fatal(err)
	}
	for _, m := range ts.Members {
		if len(m.Terms) == 0 {
			t.Errorf("member %s still saved without its terms", m.ID)
		}
	}
}

// TestIncrementalMatchesFullRouting changes, adds and prunes papers at
// random, builds after each step with the changed papers only, and holds
// every feed to routing the whole history from scratch; a new Builder on the
// same store (a restart) must agree too, without routing the history again.
func TestIncrementalMatchesFullRouting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	b := New(out, cfg, discard)
	if err := b.Load(s); err != nil {
		t.Fatal(err)
	}
	next := 0
	var ids []string
	now := day
	for round := range 60 {
		var batch []paper.Paper
		for range rng.IntN(8) { // new papers
			p := randomPaper(rng, next)
			next++
			ids = append(ids, p.ID)
			batch = append(batch, p)
		}
		for range rng.IntN(6) { // known papers change: upvotes, words
			if len(ids) == 0 {
				break
			}
			p := randomPaper(rng, 0)
			p.ID = ids[rng.IntN(len(ids))]
			p.Day = time.Time{} // a paper's day never changes
			batch = append(batch, p)
		}
		now = now.Add(time.Hour)
		res, err := s.Merge(batch, now)
		if err != nil {
			t.Fatal(err)
		}
		var pruned []string
		if round%15 == 14 { // drop the oldest days
			pruned, err = s.Prune(day.AddDate(0, 0, -7+round/15))
			if err != nil {
				t.Fatal(err)
			}
			ids = slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(pruned, id) })
		}
		if _, err := b.Build(s, res.Changed, pruned, Status{Refreshed: now}, now); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkFeeds(t, round, out, s, cfg)
	}

	restarted := New(out, cfg, discard)
	if err := restarted.Load(s); err != nil {
		t.Fatal(err)
	}
	res, err := restarted.Build(s, nil, nil, Status{Refreshed: now}, now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Scanned != 0 || res.Written != 0 {
		t.Errorf("a restart routed %d topics and wrote %d files, want 0 and 0", res.Scanned, res.Written)
	}
	checkFeeds(t, -1, out, s, cfg)
}

// TestUnchangedBuildWritesNothing: a build with no change rewrites no file
// and saves no state.
func TestUnchangedBuildWritesNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	res := seed(t, s, rand.New(rand.NewPCG(5, 6)), 40)
	b := New(out, config(t, testSpecs), discard)
	st := Status{Refreshed: day}
	if _, err := b.Build(s, res.Changed, nil, st, day); err != nil {
		t.Fatal(err)
	}
	before, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Build(s, nil, nil, st, day.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Written != 0 || got.Scanned != 0 {
		t.Errorf("unchanged build: %+v, want nothing written or routed", got)
	}
	after, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range before {
		if !bytes.Equal(after[k], v) {
			t.Errorf("state %s changed", k)
		}
	}

	// A new process whose first build changes nothing leaves the history's
	// file byte for byte as it was.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "paperfeed.db")
	was, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	restarted := New(out, config(t, testSpecs), discard)
	if err := restarted.Load(s); err != nil {
		t.Fatal(err)
	}
	if got, err = restarted.Build(s, nil, nil, st, day.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got.Written != 0 || got.Scanned != 0 {
		t.Errorf("unchanged build after a restart: %+v, want nothing written or routed", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	now, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(was, now) {
		t.Error("an unchanged build after a restart wrote the history's file")
	}
}

// TestStaleStateRoutesAgain: a state saved before a merge it did not see
// (a crash between the two) is not trusted.
func TestStaleStateRoutesAgain(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	b := New(out, cfg, discard)
	rng := rand.New(rand.NewPCG(7, 8))
	res, err := s.Merge([]paper.Paper{randomPaper(rng, 1)}, day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	// A merge whose build never ran.
	if _, err := s.Merge([]paper.Paper{{ID: "2606.99999", Title: "diffusion agents", Day: day, Upvotes: 50}}, day); err != nil {
		t.Fatal(err)
	}
	b2 := New(out, cfg, discard)
	if err := b2.Load(s); err != nil {
		t.Fatal(err)
	}
	got, err := b2.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got.Scanned != len(testSpecs) {
		t.Errorf("routed %d topics, want all %d", got.Scanned, len(testSpecs))
	}
	checkFeeds(t, 0, out, s, cfg)
}

// TestKeepLeavesFeedsAlone: a topic left out of the config but in Keep (a
// like-topic that has not learnt) keeps its feeds on disk as they were,
// neither rewritten nor removed; once it leaves Keep too, they go.
func TestKeepLeavesFeedsAlone(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	b := New(out, config(t, testSpecs), discard)
	if _, err := b.Build(s, seed(t, s, rand.New(rand.NewPCG(41, 42)), 30).Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	last := testSpecs[len(testSpecs)-1].Slug
	before := map[string][]byte{}
	for _, name := range files(last) {
		before[name] = readFile(t, out, name)
	}
	cfg := config(t, testSpecs[:len(testSpecs)-1])
	cfg.Keep = []string{last}
	b.SetConfig(cfg)
	res, err := s.Merge([]paper.Paper{newest}, day)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Build(s, res.Changed, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got.Removed != 0 {
		t.Errorf("removed %d files, want none", got.Removed)
	}
	for name, data := range before {
		if !bytes.Equal(readFile(t, out, name), data) {
			t.Errorf("%s changed while kept", name)
		}
	}
	cfg.Keep = nil
	b.SetConfig(cfg)
	if got, err = b.Build(s, nil, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	if got.Removed != len(before) {
		t.Errorf("removed %d files once no longer kept, want its %d", got.Removed, len(before))
	}
}

// TestSetConfig: an edited topic is routed again, the others keep their
// members; a removed topic takes its files and state with it.
func TestSetConfig(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	res := seed(t, s, rand.New(rand.NewPCG(9, 10)), 50)
	b := New(out, config(t, testSpecs), discard)
	if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	specs := slices.Clone(testSpecs[:3])
	specs[1].Keywords = []string{"vision"}
	cfg := config(t, specs)
	b.SetConfig(cfg)
	got, err := b.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got.Scanned != 1 {
		t.Errorf("routed %d topics, want the edited one", got.Scanned)
	}
	if got.Removed != 12 {
		t.Errorf("removed %d files, want the 3 feeds, the 3 daily digests and their 6 gzip copies of agents", got.Removed)
	}
	for _, ext := range formats {
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(feed.Path("agents", ext)))); !os.IsNotExist(err) {
			t.Errorf("feeds/agents.%s: %v, want removed", ext, err)
		}
	}
	checkFeeds(t, 0, out, s, cfg)
	state, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := state[statePrefix+"agents"]; ok {
		t.Error("the removed topic's state is still saved")
	}
	for _, name := range []string{"feeds.opml", "index.html"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte("agents.atom")) || bytes.Contains(data, []byte("agents.daily")) {
			t.Errorf("%s still links the removed topic", name)
		}
	}
}

// TestFileRemovedByHandIsWrittenAgain: the signature alone does not decide;
// a feed missing on disk is written.
func TestFileRemovedByHandIsWrittenAgain(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	b := New(out, config(t, testSpecs), discard)
	if _, err := b.Build(s, nil, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "feeds", "all.rss.gz")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(s, nil, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "feeds", "all.rss.gz")); err != nil {
		t.Error(err)
	}
}

// TestEmptyTopicDate: an empty feed is dated when it was first found empty,
// and keeps that date (and its bytes) across builds.
func TestEmptyTopicDate(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	b := New(out, config(t, testSpecs), discard)
	if _, err := b.Build(s, nil, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(out, "feeds", "all.atom"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(first, []byte("<updated>2026-06-12T00:00:00Z</updated>")) {
		t.Errorf("empty feed not dated by the first build:\n%s", first)
	}
	if _, err := b.Build(s, nil, nil, Status{}, day.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(filepath.Join(out, "feeds", "all.atom"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Error("an empty feed changed between builds")
	}
}

// TestBuildErrors: a file that cannot be written names itself, and a member
// that vanished from the history is noticed and the history routed again.
func TestBuildErrors(t *testing.T) {
	t.Run("write", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "public")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "feeds"), []byte("not a directory"), 0o644); err != nil {
			t.Fatal(err)
		}
		s := openStore(t, dir)
		b := New(out, config(t, testSpecs), discard)
		_, err := b.Build(s, nil, nil, Status{}, day)
		if err == nil || !strings.Contains(err.Error(), "write feeds/all.atom") {
			t.Errorf("got %v, want an error naming feeds/all.atom", err)
		}
	})
	t.Run("member gone", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "public")
		s := openStore(t, dir)
		res, err := s.Merge([]paper.Paper{{ID: "2606.00001", Title: "diffusion", Day: day}}, day)
		if err != nil {
			t.Fatal(err)
		}
		b := New(out, config(t, testSpecs), discard)
		if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
			t.Fatal(err)
		}
		// Pruned without telling the builder: the next build notices
		// and routes the history again.
		if _, err := s.Prune(day.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := b.Build(s, nil, nil, Status{}, day)
		if err != nil {
			t.Fatal(err)
		}
		if got.Scanned != len(testSpecs) {
			t.Errorf("routed %d topics, want all %d", got.Scanned, len(testSpecs))
		}
		if ids := feedIDs(t, out, "all"); len(ids) != 0 {
			t.Errorf("all shows %v, want nothing", ids)
		}
	})
}

// TestCompareKeys: newest first, then most upvotes, then by ID.
func TestCompareKeys(t *testing.T) {
	tests := []struct {
		name string
		a, b Key
		want int
	}{
		{"newer first", Key{Date: day.Add(time.Nanosecond), ID: "b"}, Key{Date: day, ID: "a"}, -1},
		{"more upvotes first", Key{Date: day, Upvotes: 3, ID: "b"}, Key{Date: day, Upvotes: 2, ID: "a"}, -1},
		{"then id", Key{Date: day, ID: "a"}, Key{Date: day, ID: "b"}, -1},
		{"no date last", Key{ID: "a"}, Key{Date: day, ID: "b"}, 1},
		{"equal", Key{Date: day, ID: "a"}, Key{Date: day, ID: "a"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CompareKeys(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareKeys = %d, want %d", got, tt.want)
			}
			if got := CompareKeys(tt.b, tt.a); got != -tt.want {
				t.Errorf("reversed: %d, want %d", got, -tt.want)
			}
		})
	}
}

// TestUnreadableStateRoutesAgain: a topic state that does not decode is
// not trusted: the topic is routed over the history, and its feed is right.
func TestUnreadableStateRoutesAgain(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	res, err := s.Merge([]paper.Paper{{ID: "2606.00001", Title: "diffusion", Day: day}}, day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(out, cfg, discard).Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveState(map[string][]byte{statePrefix + "diffusion": []byte("{not json")}, nil); err != nil {
		t.Fatal(err)
	}
	b := New(out, cfg, discard)
	got, err := b.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got.Scanned != 1 {
		t.Errorf("routed %d topics, want the one whose state was unreadable", got.Scanned)
	}
	checkFeeds(t, 0, out, s, cfg)
}

// TestClosedStore: a history that cannot be read fails the build with the
// reason, and writes no file.
func TestClosedStore(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := New(out, config(t, testSpecs), discard).Build(s, nil, nil, Status{}, day)
	if err == nil || !strings.Contains(err.Error(), "site state") {
		t.Errorf("got %v, want an error reading the site state", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output directory: %v, want nothing written", err)
	}
}

// Shown lists each topic's feed in feed order, as the written feed has it.
func TestShownIsWhatTheFeedsShow(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	b := New(filepath.Join(dir, "public"), cfg, slog.New(slog.DiscardHandler))
	if b.Shown() != nil {
		t.Error("Shown before any Build is not nil")
	}
	res := seed(t, s, rand.New(rand.NewPCG(1, 2)), 80)
	if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	shown := b.Shown()
	if len(shown) != len(testSpecs) {
		t.Fatalf("Shown has %d topics, want %d", len(shown), len(testSpecs))
	}
	for _, spec := range testSpecs {
		var got []string
		for _, id := range shown[spec.Slug] {
			got = append(got, "https://arxiv.org/abs/"+id)
		}
		if want := feedIDs(t, filepath.Join(dir, "public"), spec.Slug); !slices.Equal(got, want) {
			t.Errorf("%s: Shown %v, feed %v", spec.Slug, got, want)
		}
	}
}
