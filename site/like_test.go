package site

import (
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/topic"
)

// A like-topic shows exactly its picks still in the history, in feed order,
// with the picks' terms as categories; its feeds change with the picks, and
// keyword topics beside it are routed as ever.
func TestLikeTopicShowsItsPicks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	rng := rand.New(rand.NewPCG(13, 13))
	seed(t, s, rng, 60)
	specs := append(slices.Clone(testSpecs), topic.Spec{Slug: "mine", Title: "Mine", Limit: 3})
	cfg := config(t, specs)
	cfg.Picks = map[string][]Pick{"mine": {
		{ID: "2606.00007", Terms: []string{"robot", "vision"}},
		{ID: "2606.00003", Terms: []string{"agents"}},
		{ID: "2601.99999", Terms: []string{"gone"}}, // not in the history
		{ID: "2606.00042"},
		{ID: "2606.00011", Terms: []string{"model"}},
	}}
	b := New(out, cfg, slog.New(slog.DiscardHandler))
	if _, err := b.Build(s, nil, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}
	// The picks in feed order, cut to the limit.
	papers, err := s.Get("2606.00007", "2606.00003", "2606.00042", "2606.00011")
	if err != nil {
		t.Fatal(err)
	}
	terms := map[string]string{"2606.00007": "robot, vision", "2606.00003": "agents", "2606.00042": "", "2606.00011": "model"}
	var order []string
	for id := range papers {
		order = append(order, id)
	}
	slices.SortFunc(order, func(a, b string) int { return Compare(papers[a], papers[b]) })
	var want []string
	for _, id := range order[:3] {
		want = append(want, "https://arxiv.org/abs/"+id+": "+terms[id])
	}
	if got := feedTerms(t, out, "mine"); !slices.Equal(got, want) {
		t.Fatalf("mine shows\n%q\nwant\n%q", got, want)
	}
	if got := b.Shown()["mine"]; len(got) != 3 {
		t.Errorf("Shown: %v, want 3 papers", got)
	}
	// The keyword topics are untouched by the like-topic beside them.
	cfgPlain := config(t, testSpecs)
	for i, spec := range testSpecs {
		if got, want := feedIDs(t, out, spec.Slug), expected(t, s, cfgPlain)[i]; !slices.Equal(got, want) {
			t.Errorf("topic %s shows %v, want %v", spec.Slug, got, want)
		}
	}

	// Unchanged picks: nothing is written again.
	res, err := b.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 0 || res.Scanned != 0 {
		t.Errorf("an unchanged build wrote %d files and routed %d topics, want none", res.Written, res.Scanned)
	}

	// New picks: the like-topic's feeds change, no topic is routed again.
	cfg.Picks = map[string][]Pick{"mine": {{ID: "2606.00020", Terms: []string{"language"}}}}
	b.SetConfig(cfg)
	if err := b.Load(s); err != nil {
		t.Fatal(err)
	}
	res, err = b.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := feedTerms(t, out, "mine"), []string{"https://arxiv.org/abs/2606.00020: language"}; !slices.Equal(got, want) {
		t.Errorf("after new picks mine shows %q, want %q", got, want)
	}
	if res.Scanned != 0 {
		t.Errorf("new picks routed %d topics, want none", res.Scanned)
	}
	mineAtom := atomURL(t, cfg, "mine")
	if !slices.Contains(res.Changed, mineAtom) {
		t.Errorf("changed feeds %v lack %s", res.Changed, mineAtom)
	}

	// A restart reads the saved state: the same picks write nothing.
	s = reopen(t, dir, s)
	b = New(out, cfg, slog.New(slog.DiscardHandler))
	if err := b.Load(s); err != nil {
		t.Fatal(err)
	}
	res, err = b.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 0 || res.Scanned != 0 {
		t.Errorf("after a restart an unchanged build wrote %d files and routed %d topics, want none", res.Written, res.Scanned)
	}
}

// atomURL is the URL of a topic's Atom feed.
func atomURL(t *testing.T, cfg Config, slug string) string {
	t.Helper()
	for _, u := range allURLs(t, cfg) {
		if filepath.Base(u) == slug+".atom" {
			return u
		}
	}
	t.Fatalf("no %s.atom among the feeds", slug)
	return ""
}

// A like-topic without picks (it has not learnt yet, or learnt nothing)
// shows no paper: it is never routed as a topic without rules would be.
func TestLikeTopicWithoutPicksIsEmpty(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	seed(t, s, rand.New(rand.NewPCG(1, 2)), 20)
	specs := []topic.Spec{{Slug: "all", Limit: 30}, {Slug: "mine", Limit: 30}}
	cfg := config(t, specs)
	cfg.Picks = map[string][]Pick{"mine": {}}
	b := New(out, cfg, slog.New(slog.DiscardHandler))
	res, err := b.Build(s, nil, nil, Status{}, day)
	if err != nil {
		t.Fatal(err)
	}
	if got := feedIDs(t, out, "mine"); len(got) != 0 {
		t.Errorf("mine shows %d papers, want none", len(got))
	}
	if got := feedIDs(t, out, "all"); len(got) != 20 {
		t.Errorf("all shows %d papers, want 20", len(got))
	}
	if res.Scanned != 1 {
		t.Errorf("%d topics routed, want 1 (all)", res.Scanned)
	}
}

// TestLikeTopicJoiningAfterTheMerge is a new process whose like-topics
// learn between its merge and its build (the app's first refresh): the
// Builder is loaded with the config without them, the merge changes the
// history, and the config with them is set before Build. The like-topic
// takes the state the history holds for it, so its unchanged feeds are not
// rendered again, and no topic is routed over the whole history; a pick
// whose paper changed renders it again. The feeds are those of a fresh
// Builder.
func TestLikeTopicJoiningAfterTheMerge(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s := openStore(t, dir)
	rng := rand.New(rand.NewPCG(21, 22))
	seed(t, s, rng, 60)
	specs := append(slices.Clone(testSpecs), topic.Spec{Slug: "mine", Title: "Mine", Limit: 3})
	withLike := config(t, specs)
	withLike.Picks = map[string][]Pick{"mine": {
		{ID: "2606.00007", Terms: []string{"robot"}},
		{ID: "2606.00003", Terms: []string{"agents"}},
		{ID: "2606.00011", Terms: []string{"model"}},
	}}
	unlearnt := config(t, testSpecs)
	if _, err := New(out, withLike, discard).Build(s, nil, nil, Status{}, day); err != nil {
		t.Fatal(err)
	}

	// processRun is one such process: it merges papers, then builds.
	processRun := func(name string, papers []paper.Paper) Result {
		t.Helper()
		b := New(out, unlearnt, discard)
		if err := b.Load(s); err != nil {
			t.Fatal(err)
		}
		res, err := s.Merge(papers, day)
		if err != nil {
			t.Fatal(err)
		}
		b.SetConfig(withLike)
		got, err := b.Build(s, res.Changed, nil, Status{}, day)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Scanned != 0 {
			t.Errorf("%s: routed %d topics over the whole history, want none", name, got.Scanned)
		}
		checkFeeds(t, 0, out, s, unlearnt)
		fresh := filepath.Join(t.TempDir(), "public")
		if _, err := New(fresh, withLike, discard).Build(s, nil, nil, Status{}, day); err != nil {
			t.Fatal(err)
		}
		if got, want := feedTerms(t, out, "mine"), feedTerms(t, fresh, "mine"); !slices.Equal(got, want) {
			t.Errorf("%s: mine shows %q, a fresh build %q", name, got, want)
		}
		return got
	}

	// Nothing new: nothing is rendered.
	if got := processRun("nothing new", nil); got.Rendered != 0 {
		t.Errorf("nothing new: %d topics rendered, want none", got.Rendered)
	}

	// New papers for the keyword topics, none of them a pick.
	p1, p2 := randomPaper(rng, 100), randomPaper(rng, 101)
	p1.Title, p2.Title = "diffusion agents", "agent vision"
	mineAtom := atomURL(t, withLike, "mine")
	if got := processRun("new papers", []paper.Paper{p1, p2}); got.Rendered == 0 || got.Rendered > len(testSpecs) || slices.Contains(got.Changed, mineAtom) {
		t.Errorf("new papers: %d topics rendered, changed %v; want some keyword topics and not mine", got.Rendered, got.Changed)
	}

	// A pick's new title: mine is rendered again.
	papers, err := s.Get("2606.00003")
	if err != nil {
		t.Fatal(err)
	}
	pick := *papers["2606.00003"]
	pick.Title = "A title of its own"
	if got := processRun("a pick's new title", []paper.Paper{pick}); !slices.Contains(got.Changed, mineAtom) {
		t.Errorf("a pick's new title: changed %v, want mine's feed among them", got.Changed)
	}
}
