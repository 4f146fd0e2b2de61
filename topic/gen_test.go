package topic

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// corpus is real text from the module's testdata/hf-api-daily-papers-2026-06-12.json that generated papers and
// topics are made of.
type corpus struct {
	stream   []string // every word of every title and abstract, in order
	vocab    []string // distinct content words: 4 or more bytes, not among the 150 most frequent
	common   map[string]bool
	authors  []string
	keywords []string // AI keywords

	// The realistic corpus only (see loadRealCorpus): the real papers, and
	// cumulative weights of vocab, to draw distinctive words more often.
	docs []*paper.Paper
	cum  []float64
}

var categories = []string{"cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO", "stat.ML", "eess.AS", "q-bio.NC"}
var sources = []string{"hf-daily", "arxiv-cs", "arxiv-stat"}

var loadCorpus = sync.OnceValues(func() (*corpus, error) {
	b, err := os.ReadFile(hfCapture)
	if err != nil {
		return nil, err
	}
	var items []struct {
		Paper struct {
			Title, Summary string
			Authors        []struct{ Name string }
			AIKeywords     []string `json:"ai_keywords"`
		}
	}
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("parse corpus: %w", err)
	}
	c := &corpus{common: map[string]bool{}}
	freq := map[string]int{}
	var order []string
	for _, it := range items {
		for _, w := range splitWords(normalize(it.Paper.Title + " " + it.Paper.Summary)) {
			c.stream = append(c.stream, w)
			if freq[w] == 0 {
				order = append(order, w)
			}
			freq[w]++
		}
		for _, a := range it.Paper.Authors {
			c.authors = append(c.authors, a.Name)
		}
		c.keywords = append(c.keywords, it.Paper.AIKeywords...)
	}
	// Nobody follows "the" or "model": leave the most frequent words out of
	// generated terms, as a person writing a topic would.
	byFreq := slices.Clone(order)
	slices.SortStableFunc(byFreq, func(a, b string) int { return freq[b] - freq[a] })
	for _, w := range byFreq[:min(150, len(byFreq))] {
		c.common[w] = true
	}
	for _, w := range order {
		if len(w) >= 4 && !c.common[w] {
			c.vocab = append(c.vocab, w)
		}
	}
	return c, nil
})

func testCorpus(tb testing.TB) *corpus {
	tb.Helper()
	c, err := loadCorpus()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// word draws a content word: uniformly, or by weight when c has weights.
func (c *corpus) word(rng *rand.Rand) string {
	if c.cum == nil {
		return pick(rng, c.vocab)
	}
	i, _ := slices.BinarySearch(c.cum, rng.Float64()*c.cum[len(c.cum)-1])
	return c.vocab[min(i, len(c.vocab)-1)]
}

// window is n consecutive words of the corpus.
func (c *corpus) window(rng *rand.Rand, n int) string {
	i := rng.IntN(len(c.stream) - n)
	return strings.Join(c.stream[i:i+n], " ")
}

// phrase is n consecutive words of the corpus that neither start nor end
// with a frequent word.
func (c *corpus) phrase(rng *rand.Rand, n int) string {
	for {
		i := rng.IntN(len(c.stream) - n)
		if !c.common[c.stream[i]] && !c.common[c.stream[i+n-1]] {
			return strings.Join(c.stream[i:i+n], " ")
		}
	}
}

// paper makes a realistic paper out of windows of real text.
func (c *corpus) paper(rng *rand.Rand, i int) *paper.Paper {
	p := &paper.Paper{
		ID:          fmt.Sprintf("26%02d.%05d", 1+rng.IntN(12), i),
		Title:       c.window(rng, 6+rng.IntN(8)),
		Upvotes:     rng.IntN(40),
		Comments:    rng.IntN(6),
		GitHubStars: rng.IntN(300),
	}
	var abs []string
	for range 3 + rng.IntN(4) {
		abs = append(abs, c.window(rng, 20+rng.IntN(30))+".")
	}
	p.Abstract = strings.Join(abs, " ")
	for range 1 + rng.IntN(5) {
		p.Authors = append(p.Authors, pick(rng, c.authors))
	}
	for range 1 + rng.IntN(2) {
		p.Categories = append(p.Categories, pick(rng, categories))
	}
	if len(c.keywords) > 0 {
		for range rng.IntN(4) {
			p.AIKeywords = append(p.AIKeywords, pick(rng, c.keywords))
		}
	}
	p.Sources = []string{pick(rng, sources)}
	return p
}

// keyword is a realistic keyword: a word, a phrase, or a prefix.
func (c *corpus) keyword(rng *rand.Rand) string {
	switch rng.IntN(6) {
	case 0:
		return c.phrase(rng, 2+rng.IntN(2))
	case 1:
		w := c.word(rng)
		return w[:min(len(w), 5+rng.IntN(3))] + "*"
	default:
		return c.word(rng)
	}
}

// term is one query term of any kind; rare kinds stay rare, as in real
// configurations.
func (c *corpus) term(rng *rand.Rand) string {
	switch n := rng.IntN(200); {
	case n < 100:
		return c.keyword(rng)
	case n < 125:
		return `"` + c.phrase(rng, 2+rng.IntN(2)) + `"`
	case n < 140:
		return pick(rng, []string{"title:", "abstract:"}) + c.word(rng)
	case n < 150:
		a := strings.Fields(pick(rng, c.authors))
		return "author:" + a[len(a)-1]
	case n < 160:
		return "category:" + pick(rng, categories)
	case n < 163:
		return "source:" + pick(rng, sources)
	case n < 166:
		return fmt.Sprintf("id:26%02d.*", 1+rng.IntN(12))
	case n < 180:
		return fmt.Sprintf("%s:%s%d", pick(rng, []string{"upvotes", "comments", "stars"}), pick(rng, []string{">", ">="}), rng.IntN(30))
	case n < 181:
		return "/" + c.word(rng) + `\w*/`
	default:
		return "(" + c.keyword(rng) + " OR " + c.keyword(rng) + ")"
	}
}

// query joins 1 to max terms with AND, OR, juxtaposition and NOT.
func (c *corpus) query(rng *rand.Rand, max int) string {
	var b strings.Builder
	for i := range 1 + rng.IntN(max) {
		if i > 0 {
			b.WriteString(pick(rng, []string{" ", " ", " AND ", " AND ", " OR ", " -", " NOT "}))
		}
		b.WriteString(c.term(rng))
	}
	q := b.String()
	if rng.IntN(50) == 0 {
		q = "-" + q
	}
	if rng.IntN(6) == 0 {
		q = "(" + q + ") " + c.term(rng)
	}
	return q
}

// spec makes a topic of 1 to 6 terms: keywords, a query, or both.
func (c *corpus) spec(rng *rand.Rand, i int) Spec {
	s := Spec{Slug: fmt.Sprintf("t%d", i)}
	switch rng.IntN(3) {
	case 0:
		for range 1 + rng.IntN(4) {
			s.Keywords = append(s.Keywords, c.keyword(rng))
		}
	case 1:
		s.Query = c.query(rng, 6)
	default:
		s.Keywords = []string{c.keyword(rng)}
		s.Query = c.query(rng, 4)
	}
	if rng.IntN(5) == 0 {
		s.Exclude = []string{c.keyword(rng)}
	}
	if rng.IntN(5) == 0 {
		s.MinUpvotes = rng.IntN(20)
	}
	return s
}
