package topic

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

func hitsEqual(a, b []Hit) bool {
	return slices.EqualFunc(a, b, func(x, y Hit) bool { return x.Topic == y.Topic && slices.Equal(x.Terms, y.Terms) })
}

// TestRouteMatchesPlain checks the indexed router against the plain
// evaluator on random topics and papers.
func TestRouteMatchesPlain(t *testing.T) {
	c := testCorpus(t)
	rng := rand.New(rand.NewPCG(1, 2))
	specs := make([]Spec, 1500)
	for i := range specs {
		specs[i] = c.spec(rng, i)
	}
	r, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for i := range 200 {
		p := c.paper(rng, i)
		got, want := r.Route(p), r.RoutePlain(p)
		if !hitsEqual(got, want) {
			t.Fatalf("paper %d %+v:\nRoute      %v\nRoutePlain %v", i, p, got, want)
		}
		hits += len(got)
	}
	// A property that holds because nothing matches proves nothing.
	if hits < 2000 {
		t.Errorf("only %d hits over 200 papers: the generated cases are too weak", hits)
	}
	t.Logf("%d hits", hits)
}

// TestRouteMatchesPlainSmallAlphabet uses a tiny vocabulary so phrases,
// prefixes and NOTs collide often.
func TestRouteMatchesPlainSmallAlphabet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := []string{"a", "ab", "abc", "b", "ba", "c", "Ab", "ÄB", "x\u0308"}
	text := func(n int) string {
		s := ""
		for range n {
			s += pick(rng, words) + pick(rng, []string{" ", "-", ". "})
		}
		return s
	}
	term := func() string {
		switch rng.IntN(8) {
		case 0:
			return `"` + text(2) + `"`
		case 1:
			return pick(rng, words) + "*"
		case 2:
			return pick(rng, []string{"title:", "abstract:", "author:", "category:", "source:"}) + pick(rng, words)
		case 3:
			return pick(rng, []string{"id:1*", "id:12", "upvotes:>2", "/ab/"})
		default:
			return pick(rng, words)
		}
	}
	var specs []Spec
	for i := range 400 {
		var q string
		for j := range 1 + rng.IntN(4) {
			if j > 0 {
				q += pick(rng, []string{" ", " OR ", " -", " AND (", " OR ("})
			}
			q += term()
		}
		for range 3 {
			q += ")"
		}
		q = "(((" + q
		s := Spec{Slug: "s", Query: q}
		if i%3 == 0 {
			s.Keywords = []string{pick(rng, words), text(2)}
		}
		if i%5 == 0 {
			s.Exclude = []string{pick(rng, words)}
		}
		specs = append(specs, s)
	}
	// Parentheses were balanced only where the generated query opened
	// them; drop the specs that do not compile.
	var ok []Spec
	for _, s := range specs {
		if _, err := Compile([]Spec{s}); err == nil {
			ok = append(ok, s)
		}
	}
	if len(ok) < 100 {
		t.Fatalf("only %d of %d generated specs compile", len(ok), len(specs))
	}
	r, err := Compile(ok)
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for i := range 500 {
		p := &paper.Paper{ID: pick(rng, []string{"12", "123", "21"}), Title: text(3), Abstract: text(8),
			Authors: []string{text(2), text(1)}, Categories: []string{text(1)}, Sources: []string{text(1)}, Upvotes: rng.IntN(5)}
		got, want := r.Route(p), r.RoutePlain(p)
		if !hitsEqual(got, want) {
			t.Fatalf("paper %d %+v:\nRoute      %v\nRoutePlain %v", i, p, got, want)
		}
		hits += len(got)
	}
	if hits == 0 {
		t.Error("no hits: the generated cases are too weak")
	}
	t.Logf("%d specs, %d hits", len(ok), hits)
}

// TestHugePaper covers papers too large for the packed word index, which
// route by scanning their fields.
func TestHugePaper(t *testing.T) {
	authors := make([]string, maxValues+1)
	for i := range authors {
		authors[i] = "A. Person"
	}
	authors[len(authors)-1] = "Geoffrey Hinton"
	long := strings.Repeat("filler ", maxWords) + "score-matching denoiser"
	r, err := Compile([]Spec{
		{Slug: "author", Query: `author:"geoffrey hinton"`},
		{Slug: "phrase", Keywords: []string{"score matching"}},
		{Slug: "prefix", Keywords: []string{"denois*"}},
		{Slug: "miss", Keywords: []string{"video"}},
		{Slug: "broken phrase", Keywords: []string{"filler score denoiser"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    *paper.Paper
	}{
		{"many authors", &paper.Paper{Authors: authors, Abstract: "score matching denoisers"}},
		{"long abstract", &paper.Paper{Authors: []string{"Geoffrey Hinton"}, Abstract: long}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if NewDoc(tt.p).indexed() {
				t.Fatal("the paper was indexed; the test needs one too large for the index")
			}
			got, want := r.Route(tt.p), r.RoutePlain(tt.p)
			if !hitsEqual(got, want) {
				t.Fatalf("Route = %v, RoutePlain = %v", got, want)
			}
			var topics []int
			for _, h := range got {
				topics = append(topics, h.Topic)
			}
			if !slices.Equal(topics, []int{0, 1, 2}) {
				t.Errorf("topics = %v, want [0 1 2]", topics)
			}
		})
	}
}

// TestRouteConcurrent routes from several goroutines at once through one
// Router (run with -race to check the shared scratch pool).
func TestRouteConcurrent(t *testing.T) {
	c := testCorpus(t)
	rng := rand.New(rand.NewPCG(5, 6))
	specs := make([]Spec, 200)
	for i := range specs {
		specs[i] = c.spec(rng, i)
	}
	r, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	papers := make([]*paper.Paper, 40)
	want := make([][]Hit, len(papers))
	for i := range papers {
		papers[i] = c.paper(rng, i)
		want[i] = r.RoutePlain(papers[i])
	}
	errs := make(chan string, 4)
	for g := range 4 {
		go func() {
			for i := range papers {
				j := (i + g*10) % len(papers)
				if got := r.Route(papers[j]); !hitsEqual(got, want[j]) {
					errs <- fmt.Sprintf("goroutine %d paper %d: Route = %v, want %v", g, j, got, want[j])
					return
				}
			}
			errs <- ""
		}()
	}
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
