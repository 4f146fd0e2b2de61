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

// checkTake fails unless Route's hits for p are what Take says of each
// topic, and returns them.
func checkTake(t *testing.T, r *Router, p *paper.Paper) []Hit {
	t.Helper()
	hits := r.Route(p)
	var want []Hit
	for i := range r.Len() {
		if ok, terms := r.Take(i, p); ok {
			want = append(want, Hit{Topic: i, Terms: terms})
		} else if terms != nil {
			t.Fatalf("Take(%d) = false with terms %q", i, terms)
		}
	}
	if !hitsEqual(hits, want) {
		t.Fatalf("paper %+v:\nRoute        %v\nTake by topic %v", p, hits, want)
	}
	return hits
}

// TestRouteIsTake checks on generated topics and papers, mixed and
// realistic, that Route gives every topic Take gives, with the same terms.
func TestRouteIsTake(t *testing.T) {
	tests := []struct {
		name    string
		topics  int
		papers  func(c *corpus, rng *rand.Rand) []*paper.Paper
		minHits int
	}{
		{"mixed", 300, func(c *corpus, rng *rand.Rand) []*paper.Paper {
			ps := make([]*paper.Paper, 100)
			for i := range ps {
				ps[i] = c.paper(rng, i)
			}
			return ps
		}, 1000},
		{"realistic", 600, func(c *corpus, rng *rand.Rand) []*paper.Paper {
			ps := make([]*paper.Paper, len(c.docs))
			for i := range ps {
				ps[i] = c.realPaper(rng, i)
			}
			return ps
		}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := kindCorpus(t, tt.name)
			r, err := Compile(benchSpecs(c, tt.name, tt.topics))
			if err != nil {
				t.Fatal(err)
			}
			if r.Len() != tt.topics {
				t.Fatalf("Len = %d, want %d", r.Len(), tt.topics)
			}
			hits := 0
			for _, p := range tt.papers(c, rand.New(rand.NewPCG(1, 2))) {
				hits += len(checkTake(t, r, p))
			}
			// A property that holds because nothing matches proves nothing.
			if hits < tt.minHits {
				t.Errorf("only %d hits: the generated cases are too weak", hits)
			}
			t.Logf("%d hits", hits)
		})
	}
}

// kindCorpus is the corpus a kind of topics is drawn from.
func kindCorpus(tb testing.TB, kind string) *corpus {
	if kind == "realistic" {
		return testRealCorpus(tb)
	}
	return testCorpus(tb)
}

// TestKeywordTakesItself checks that a topic takes a paper whose title is
// exactly one of its keywords, with that keyword among its terms.
func TestKeywordTakesItself(t *testing.T) {
	for _, kind := range []string{"mixed", "realistic"} {
		c := kindCorpus(t, kind)
		n := 0
		for _, s := range benchSpecs(c, kind, 500) {
			if len(s.Keywords) == 0 {
				continue
			}
			r, err := Compile([]Spec{{Slug: s.Slug, Keywords: s.Keywords}})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range s.Keywords {
				p := &paper.Paper{Title: k}
				ok, terms := r.Take(0, p)
				if !ok || !slices.Contains(terms, k) {
					t.Fatalf("keywords %q, title %q: Take = %v %q, want true with %q", s.Keywords, p.Title, ok, terms, k)
				}
				checkTake(t, r, p)
				n++
			}
		}
		if n < 200 {
			t.Errorf("%s: only %d keywords tried", kind, n)
		}
	}
}

// TestCanonicalRoutesSame routes topics of a tiny vocabulary (so that
// phrases, prefixes and NOTs collide often) and the same topics with each
// query replaced by its String: they must take the same papers.
func TestCanonicalRoutesSame(t *testing.T) {
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
	var specs, canon []Spec
	for i := 0; len(specs) < 300; i++ {
		var q string
		for j := range 1 + rng.IntN(4) {
			if j > 0 {
				q += pick(rng, []string{" ", " OR ", " -", " AND (", " OR ("})
			}
			q += term()
		}
		// Parentheses balance only where the generated query opened
		// them; keep the queries that parse.
		parsed, err := ParseQuery("(((" + q + ")))")
		if err != nil {
			continue
		}
		s := Spec{Slug: fmt.Sprint("s", i), Query: "(((" + q + ")))"}
		if i%3 == 0 {
			s.Keywords = []string{pick(rng, words), text(2)}
		}
		if i%5 == 0 {
			s.Exclude = []string{pick(rng, words)}
		}
		specs = append(specs, s)
		s.Query = parsed.String()
		canon = append(canon, s)
	}
	r, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := Compile(canon)
	if err != nil {
		t.Fatal(err)
	}
	topics := func(hits []Hit) []int {
		var out []int
		for _, h := range hits {
			out = append(out, h.Topic)
		}
		return out
	}
	hits := 0
	for range 150 {
		p := &paper.Paper{ID: pick(rng, []string{"12", "123", "21"}), Title: text(3), Abstract: text(8),
			Authors: []string{text(2), text(1)}, Categories: []string{text(1)}, Sources: []string{text(1)}, Upvotes: rng.IntN(5)}
		got, want := topics(checkTake(t, rc, p)), topics(checkTake(t, r, p))
		if !slices.Equal(got, want) {
			t.Fatalf("paper %+v: canonical queries take %v, as written %v", p, got, want)
		}
		hits += len(got)
	}
	if hits < 5000 {
		t.Errorf("only %d hits: the generated cases are too weak", hits)
	}
	t.Logf("%d specs, %d hits", len(specs), hits)
}

// TestHugePaper routes papers with thousands of authors and an abstract of
// tens of thousands of words.
func TestHugePaper(t *testing.T) {
	authors := make([]string, 5000)
	for i := range authors {
		authors[i] = "A. Person"
	}
	authors[len(authors)-1] = "Geoffrey Hinton"
	long := strings.Repeat("filler ", 70_000) + "score-matching denoiser"
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
			var topics []int
			for _, h := range checkTake(t, r, tt.p) {
				topics = append(topics, h.Topic)
			}
			if !slices.Equal(topics, []int{0, 1, 2}) {
				t.Errorf("topics = %v, want [0 1 2]", topics)
			}
		})
	}
}

// TestRouteConcurrent routes from several goroutines at once through one
// Router (run with -race).
func TestRouteConcurrent(t *testing.T) {
	c := testCorpus(t)
	rng := rand.New(rand.NewPCG(5, 6))
	r, err := Compile(benchSpecs(c, "mixed", 200))
	if err != nil {
		t.Fatal(err)
	}
	papers := make([]*paper.Paper, 40)
	want := make([][]Hit, len(papers))
	for i := range papers {
		papers[i] = c.paper(rng, i)
		want[i] = r.Route(papers[i])
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
