package learn

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/topic"
)

// reuseSpecs are a topic without rules and one that takes papers with at
// least 5 upvotes.
var reuseSpecs = []topic.Spec{{Slug: "a"}, {Slug: "b", MinUpvotes: 5}}

func reuseTopics() []Topic {
	return []Topic{
		{Slug: "a", Index: 0, Seeds: like.Seeds{Like: []string{"2606.00001"}}, Top: 2},
		{Slug: "b", Index: 1, Rules: true, Seeds: like.Seeds{Like: []string{"2606.00003"}}, Top: 2},
	}
}

// learner is a Learner for topics over papers, added in their order.
func learner(t *testing.T, specs []topic.Spec, topics []Topic, papers []paper.Paper) *Learner {
	t.Helper()
	r, err := topic.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(r, topics, like.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range papers {
		if err := l.Add(&papers[i]); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// upvoted is history with papers 3, 4 and 6 at 10 upvotes, so topic b
// takes them.
func upvoted() []paper.Paper {
	h := history()
	h[2].Upvotes, h[3].Upvotes, h[5].Upvotes = 10, 10, 10
	return h
}

func TestInputs(t *testing.T) {
	base := learner(t, reuseSpecs, reuseTopics(), upvoted()).Inputs()
	if len(base) != 2 || base[0] == base[1] || len(base[0]) != 64 {
		t.Fatalf("Inputs = %q, want two different SHA-256 digests", base)
	}
	r, err := topic.Compile(reuseSpecs)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDigest(r, reuseTopics(), like.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := upvoted()
	for i := range h {
		if err := d.Add(&h[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.Inputs(); !slices.Equal(got, base) {
		t.Errorf("Digest's Inputs %q, want the Learner's, %q", got, base)
	}
	if err := d.Add(&paper.Paper{Title: "No ID"}); err == nil {
		t.Error("Digest.Add took a paper without an ID")
	}
	if _, err := NewDigest(r, []Topic{{Slug: "a", Index: 2, Top: 1}}, like.Options{}); err == nil {
		t.Error("NewDigest took a topic out of the router")
	}
	if _, err := NewDigest(r, nil, like.Options{MinDF: -1}); err == nil {
		t.Error("NewDigest took MinDF -1")
	}
	reversed := upvoted()
	slices.Reverse(reversed)
	if got := learner(t, reuseSpecs, reuseTopics(), reversed).Inputs(); !slices.Equal(got, base) {
		t.Errorf("in reverse order: %q, want %q", got, base)
	}
	moved := slices.Clone(reuseTopics())
	moved[0].Index, moved[1].Index = 1, 0
	if got := learner(t, []topic.Spec{reuseSpecs[1], reuseSpecs[0]}, moved, upvoted()).Inputs(); !slices.Equal(got, base) {
		t.Errorf("topics elsewhere in the router: %q, want %q", got, base)
	}
	for _, tt := range []struct {
		name   string
		change func(h []paper.Paper, ts []Topic)
		same   []bool // whether topic a's and b's Inputs stay
	}{
		{"upvotes the rules do not see", func(h []paper.Paper, _ []Topic) { h[0].Upvotes = 3 }, []bool{true, true}},
		{"upvotes that change what b takes", func(h []paper.Paper, _ []Topic) { h[0].Upvotes = 7 }, []bool{true, false}},
		{"an abstract", func(h []paper.Paper, _ []Topic) { h[7].Abstract += " More." }, []bool{false, false}},
		{"a title", func(h []paper.Paper, _ []Topic) { h[7].Title += "!" }, []bool{false, false}},
		{"a listing day", func(h []paper.Paper, _ []Topic) { h[7].Day = day1 }, []bool{false, false}},
		{"a's top", func(_ []paper.Paper, ts []Topic) { ts[0].Top = 3 }, []bool{false, true}},
		{"b's seeds", func(_ []paper.Paper, ts []Topic) { ts[1].Seeds.Unlike = []string{"2606.00007"} }, []bool{true, false}},
		{"b's rules take no paper more", func(h []paper.Paper, _ []Topic) { h[2].Upvotes = 50 }, []bool{true, true}},
		{"a's floor", func(_ []paper.Paper, ts []Topic) { ts[0].MinScore = ptr(0) }, []bool{false, true}},
		{"a's keep", func(_ []paper.Paper, ts []Topic) { ts[0].Keep = 4 }, []bool{false, true}},
	} {
		h, ts := upvoted(), reuseTopics()
		tt.change(h, ts)
		got := learner(t, reuseSpecs, ts, h).Inputs()
		for k := range got {
			if (got[k] == base[k]) != tt.same[k] {
				t.Errorf("%s: topic %s's Inputs stay %v, want %v", tt.name, ts[k].Slug, got[k] == base[k], tt.same[k])
			}
		}
	}
	extra := append(upvoted(), paper.Paper{ID: "2606.00009", Day: day2, Title: "Another paper"})
	if got := learner(t, reuseSpecs, reuseTopics(), extra).Inputs(); got[0] == base[0] || got[1] == base[1] {
		t.Errorf("a paper more left Inputs %q as they were", got)
	}
}

// TestUnchanged: Unchanged says a paper's change keeps every topic's
// Inputs exactly when a Learner given the changed history computes the
// Inputs it had, and SameText that it keeps those of a topic without
// rules.
func TestUnchanged(t *testing.T) {
	r, err := topic.Compile(reuseSpecs)
	if err != nil {
		t.Fatal(err)
	}
	base := learner(t, reuseSpecs, reuseTopics(), upvoted()).Inputs()
	outcomes := map[bool]int{}
	for _, tt := range []struct {
		name   string
		change func(p *paper.Paper)
	}{
		{"upvotes the rules do not see", func(p *paper.Paper) { p.Upvotes = 3 }},
		{"upvotes that change what b takes", func(p *paper.Paper) { p.Upvotes = 7 }},
		{"upvotes b takes at both", func(p *paper.Paper) { p.Upvotes = 50 }},
		{"authors, comments and categories", func(p *paper.Paper) {
			p.Authors, p.Comments, p.Categories = []string{"Someone Else"}, 4, []string{"cs.CL"}
		}},
		{"an abstract", func(p *paper.Paper) { p.Abstract += " More." }},
		{"a title", func(p *paper.Paper) { p.Title += "!" }},
		{"a listing day", func(p *paper.Paper) { p.Day = day2 }},
		{"a listing day from when it was first seen", func(p *paper.Paper) { p.Day, p.FirstSeen = time.Time{}, day2 }},
	} {
		for _, i := range []int{0, 2} { // one b does not take, one it takes
			before, h := upvoted(), upvoted()
			tt.change(&h[i])
			got := Unchanged(r, reuseTopics(), &before[i], &h[i])
			inputs := learner(t, reuseSpecs, reuseTopics(), h).Inputs()
			if want := slices.Equal(inputs, base); got != want {
				t.Errorf("%s, paper %d: Unchanged = %v, but the Inputs stay: %v", tt.name, i, got, want)
			}
			// Topic a has no rules: its Inputs read the papers' text alone.
			if same, want := SameText(&before[i], &h[i]), inputs[0] == base[0]; same != want {
				t.Errorf("%s, paper %d: SameText = %v, but a topic without rules keeps its Inputs: %v", tt.name, i, same, want)
			}
			outcomes[got]++
		}
	}
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Errorf("the cases gave only one outcome: %v", outcomes)
	}
	if a, b := history()[0], history()[1]; Unchanged(r, reuseTopics(), &a, &b) {
		t.Error("Unchanged took two different papers for one")
	}
}

func TestKnown(t *testing.T) {
	fresh, err := learner(t, reuseSpecs, reuseTopics(), upvoted()).Train()
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh[0].Picks) == 0 || len(fresh[1].Picks) == 0 {
		t.Fatalf("fresh results %+v: want picks for both topics", fresh)
	}
	kept := Result{Slug: "a", Candidates: 99, Picks: []Pick{{ID: "kept"}}}

	l := learner(t, reuseSpecs, reuseTopics(), upvoted())
	l.Known(0, kept)
	got, err := l.Train()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got[0], kept) {
		t.Errorf("known topic: %+v, want what Known gave, %+v", got[0], kept)
	}
	if !reflect.DeepEqual(got[1], fresh[1]) {
		t.Errorf("the other topic: %+v, want it trained as without Known, %+v", got[1], fresh[1])
	}

	// With every topic known, Train builds nothing: not even an empty
	// history, which lacks every seed, fails it.
	l = learner(t, reuseSpecs, reuseTopics(), nil)
	l.Known(0, kept)
	l.Known(1, fresh[1])
	got, err = l.Train()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []Result{kept, fresh[1]}) {
		t.Errorf("all known: %+v", got)
	}

	// A topic not known still fails for its missing seeds.
	l = learner(t, reuseSpecs, reuseTopics(), nil)
	l.Known(0, kept)
	var me *MissingError
	if _, err := l.Train(); !errors.As(err, &me) || !slices.Equal(me.IDs(), []string{"2606.00003"}) {
		t.Errorf("one topic known over an empty history: %v, want a *MissingError naming b's seeds", err)
	}
}

// pinnedResults are the digests of TestModelVersion's results by
// ModelVersion.
var pinnedResults = map[int]string{
	1: "2a3384f0a5ddbc3834f6ea75dc9d4c15349da9c4201ed2e8e7471471479bff8b",
}

// TestModelVersion fails when the results of a fixed history change while
// ModelVersion stays: Results kept under the old version would be reused
// as if nothing had changed. Bump ModelVersion and pin the new digest.
func TestModelVersion(t *testing.T) {
	res, err := learner(t, reuseSpecs, reuseTopics(), upvoted()).Train()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(data)
	got := hex.EncodeToString(d[:])
	if want, ok := pinnedResults[ModelVersion]; !ok || got != want {
		t.Errorf("the results of the fixed history have digest %s, but ModelVersion %d pins %q: the model's results changed, so bump ModelVersion and pin the new digest for it", got, ModelVersion, want)
	}
}
