package site

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
)

// digestDay is one item of a daily digest: its day and the papers it
// lists, as arXiv abstract URLs, in order.
type digestDay struct {
	Day    string
	Papers []string
}

// expectedDigests is what every topic's daily digest must list: the papers
// its feeds show (the whole history routed and sorted, cut to the limit)
// grouped by UTC day, newest first, without the oldest day when the topic
// takes more papers than its limit.
func expectedDigests(t *testing.T, s *store.Store, cfg Config) [][]digestDay {
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
	shown := make([][]*paper.Paper, len(cfg.Specs))
	taken := make([]int, len(cfg.Specs))
	for _, p := range all {
		for _, h := range cfg.Router.Route(p) {
			taken[h.Topic]++
			if len(shown[h.Topic]) < cfg.Specs[h.Topic].Limit {
				shown[h.Topic] = append(shown[h.Topic], p)
			}
		}
	}
	want := make([][]digestDay, len(cfg.Specs))
	for i, ps := range shown {
		var days []digestDay
		for _, p := range ps {
			d := feed.Date(p).Format(time.DateOnly)
			if len(days) == 0 || days[len(days)-1].Day != d {
				days = append(days, digestDay{Day: d})
			}
			days[len(days)-1].Papers = append(days[len(days)-1].Papers, "https://arxiv.org/abs/"+p.ID)
		}
		if taken[i] > cfg.Specs[i].Limit && len(days) > 0 {
			days = days[:len(days)-1]
		}
		want[i] = days
	}
	return want
}

// digestLinks matches the paper links of a digest item's HTML.
var digestLinks = regexp.MustCompile(`<a href="([^"]+)">`)

// readDigest reads a topic's Atom daily digest back: its items' days and
// papers, after checking that its gzip copy holds it.
func readDigest(t *testing.T, out, slug string) []digestDay {
	t.Helper()
	name := feed.Path(slug, feed.DailyPrefix+"atom")
	data := readFile(t, out, name)
	if gz := gunzip(t, readFile(t, out, name+gzExt)); string(gz) != string(data) {
		t.Errorf("%s.gz does not hold %s", name, name)
	}
	var doc struct {
		Entries []struct {
			ID      string `xml:"id"`
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var days []digestDay
	for _, e := range doc.Entries {
		_, d, _ := strings.Cut(e.ID, "#")
		dd := digestDay{Day: d}
		for _, m := range digestLinks.FindAllStringSubmatch(e.Content, -1) {
			dd.Papers = append(dd.Papers, m[1])
		}
		days = append(days, dd)
	}
	return days
}

// checkDigests holds every topic's daily digest to expectedDigests.
func checkDigests(t *testing.T, round int, out string, s *store.Store, cfg Config) {
	t.Helper()
	want := expectedDigests(t, s, cfg)
	for i, spec := range cfg.Specs {
		if got := readDigest(t, out, spec.Slug); !slices.EqualFunc(got, want[i], func(a, b digestDay) bool {
			return a.Day == b.Day && slices.Equal(a.Papers, b.Papers)
		}) {
			t.Fatalf("round %d: digest of %s lists\n%v\nwant\n%v", round, spec.Slug, got, want[i])
		}
	}
}

// TestDigestsMatchFullRouting changes, adds and prunes papers at random
// and holds every topic's daily digest, after each incremental Build, to
// the days of routing the whole history from scratch.
func TestDigestsMatchFullRouting(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	b := New(out, cfg, discard)
	next, now := 0, day
	var ids []string
	for round := range 40 {
		var batch []paper.Paper
		for range rng.IntN(6) {
			p := randomPaper(rng, next)
			next++
			ids = append(ids, p.ID)
			batch = append(batch, p)
		}
		for range rng.IntN(4) { // known papers change words and upvotes
			if len(ids) == 0 {
				break
			}
			p := randomPaper(rng, 0)
			p.ID, p.Day = ids[rng.IntN(len(ids))], time.Time{}
			batch = append(batch, p)
		}
		now = now.Add(time.Hour)
		res, err := s.Merge(batch, now)
		if err != nil {
			t.Fatal(err)
		}
		var pruned []string
		if round%10 == 9 {
			if pruned, err = s.Prune(day.AddDate(0, 0, -8+round/10)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.Build(s, res.Changed, pruned, Status{}, now); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkDigests(t, round, out, s, cfg)
	}
}

// feedFiles is the content of every feed file under out/feeds by its
// public URL, gzip copies left out.
func feedFiles(t *testing.T, out string, site feed.Site) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(out, "feeds"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), gzExt) {
			continue
		}
		files[strings.TrimRight(site.BaseURL, "/")+"/feeds/"+e.Name()] = string(readFile(t, out, "feeds/"+e.Name()))
	}
	return files
}

// allURLs is the public URL of every feed of the topics, in the order a
// Build writes them.
func allURLs(t *testing.T, cfg Config) []string {
	t.Helper()
	var urls []string
	for _, spec := range cfg.Specs {
		for _, ext := range formats {
			u, err := feed.URL(cfg.Site, spec.Slug, ext)
			if err != nil {
				t.Fatal(err)
			}
			urls = append(urls, u)
		}
	}
	return urls
}

// TestChangedIsWhatChanged: Result.Changed lists, once each, exactly the
// feeds, topic and daily, whose bytes the Build changed on disk: all of
// them at first, none when nothing changed, the affected topics' when a
// paper arrives, all again when the hub is set; never a gzip copy, the
// index or the OPML.
func TestChangedIsWhatChanged(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	cfg := config(t, testSpecs)
	b := New(out, cfg, discard)
	res := seed(t, s, rand.New(rand.NewPCG(23, 24)), 40)

	build := func(name string, changed []*paper.Paper, c Config) []string {
		t.Helper()
		before := map[string]string{}
		if _, err := os.Stat(filepath.Join(out, "feeds")); err == nil {
			before = feedFiles(t, out, c.Site)
		}
		got, err := b.Build(s, changed, nil, Status{}, day)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after := feedFiles(t, out, c.Site)
		var want []string
		for u, data := range after {
			if before[u] != data {
				want = append(want, u)
			}
		}
		slices.Sort(want)
		sorted := slices.Sorted(slices.Values(got.Changed))
		if !slices.Equal(sorted, want) {
			t.Errorf("%s: Changed %v\nwant the feeds whose bytes changed: %v", name, got.Changed, want)
		}
		if len(slices.Compact(slices.Clone(sorted))) != len(sorted) {
			t.Errorf("%s: Changed lists a feed twice: %v", name, got.Changed)
		}
		for _, u := range got.Changed {
			if strings.HasSuffix(u, gzExt) || strings.HasSuffix(u, feed.IndexName) || strings.HasSuffix(u, feed.OPMLName) {
				t.Errorf("%s: Changed lists %s, which is not a feed", name, u)
			}
		}
		return got.Changed
	}

	if got, want := build("first build", res.Changed, cfg), allURLs(t, cfg); !slices.Equal(got, want) {
		t.Errorf("first build: Changed %v, want every feed in order %v", got, want)
	}
	if got := build("nothing changed", nil, cfg); len(got) != 0 {
		t.Errorf("an unchanged build lists %v", got)
	}
	merged, err := s.Merge([]paper.Paper{newest}, day)
	if err != nil {
		t.Fatal(err)
	}
	got := build("a paper every topic but agents takes", merged.Changed, cfg)
	for _, u := range got {
		if strings.Contains(u, "/feeds/agents.") {
			t.Errorf("a paper agents does not take changed %s", u)
		}
	}
	if len(got) == 0 {
		t.Error("a new paper changed no feed")
	}

	hubbed := cfg
	hubbed.Site.Hub = "https://hub.example.org/"
	b.SetConfig(hubbed)
	if got, want := build("hub set", nil, hubbed), allURLs(t, hubbed); !slices.Equal(got, want) {
		t.Errorf("setting the hub: Changed %v, want every feed %v", got, want)
	}
	for u, data := range feedFiles(t, out, hubbed.Site) {
		if !strings.Contains(data, "https://hub.example.org/") {
			t.Errorf("%s does not name the hub", u)
		}
	}
	if got := build("nothing changed with a hub", nil, hubbed); len(got) != 0 {
		t.Errorf("an unchanged build lists %v", got)
	}
}

// TestDigestOfATopicAtItsLimit: a topic whose papers fill its limit leaves
// the oldest day of its feed out of the digest, since the limit may cut
// it, and shows it again once the topic's papers fit.
func TestDigestOfATopicAtItsLimit(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	specs := testSpecs[:1:1]
	specs[0].Limit = 3
	cfg := config(t, specs)
	b := New(out, cfg, discard)
	ps := []paper.Paper{
		{ID: "2606.00003", Title: "c", Day: day},
		{ID: "2606.00002", Title: "b", Day: day.AddDate(0, 0, -1)},
		{ID: "2606.00001", Title: "a", Day: day.AddDate(0, 0, -2)},
	}
	res, err := s.Merge(ps, day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	days := func() []string {
		var ds []string
		for _, d := range readDigest(t, out, "all") {
			ds = append(ds, d.Day)
		}
		return ds
	}
	if got, want := days(), []string{"2026-06-12", "2026-06-11", "2026-06-10"}; !slices.Equal(got, want) {
		t.Errorf("three papers within the limit: days %v, want %v", got, want)
	}
	// A fourth paper: the feed is full and more papers exist.
	res, err = s.Merge([]paper.Paper{{ID: "2606.00004", Title: "d", Day: day}}, day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Build(s, res.Changed, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	if got, want := days(), []string{"2026-06-12"}; !slices.Equal(got, want) {
		t.Errorf("four papers, limit three: days %v, want %v (the oldest shown day, 2026-06-11, may be cut)", got, want)
	}
	// A restart agrees, and writes nothing.
	restarted := New(out, cfg, discard)
	got, err := restarted.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got.Written != 0 || len(got.Changed) != 0 {
		t.Errorf("a restart wrote %d files, changed %v", got.Written, got.Changed)
	}
}

// gunzip is data decompressed.
func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}
