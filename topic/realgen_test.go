package topic

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// The realistic generator.
//
// The corpus of gen_test.go makes papers of windows of 30 abstracts and
// topics of words drawn uniformly from the same 30 abstracts, so every
// topic word is in a few percent of the papers and a topic of ordinary
// words takes one paper in twenty: 10,000 such topics give 500 hits a
// paper, which nobody configures. People write topics with distinctive
// terms ("diffusion", "retrieval-augmented", "author:hinton"), not with
// "model" or "propose".
//
// The realistic corpus is the real papers of the module's captures (hfCapture
// and arxivCapture: a Daily Papers answer and an arXiv listing; titles,
// abstracts where the listing has them, authors, categories), routed as
// they are. Topics (realisticSpec) have 1 to 6 terms: keywords, a query, or
// both; words, phrases, prefixes, fields (title, abstract, author,
// category, source), NOT, numbers and the odd regex. Their words leave out
// stop words and the words of more than one paper in twenty, and are drawn
// by inverse document frequency, so rarer words more often. A query is
// shaped as people write one: a core of such terms, ANDed or ORed, that
// says what the topic is about, narrowed by filters ANDed to it (NOT a
// term, a category or source, upvotes:>=5), rather than the mixed
// generator's "stars:>8" or "-static OR ..." on their own, which take
// nearly every paper.

// stopWords are English words no topic is made of, besides the frequent
// ones the corpus finds itself.
// The real captures, in the module's testdata.
const (
	hfCapture    = "../testdata/hf-api-daily-papers-2026-06-12.json"
	arxivCapture = "../testdata/arxiv-list-cs-new-2018-07-20-legacy.html"
)

var stopWords = strings.Fields(`about above after again against also among because been before being
below between both could does doing down during each from further have having here into itself just
more most much only other over same should some such than that their them then there these they this
those through under until very were what when where which while whose will with within without would
your using used based show shows propose proposed present approach method methods paper results new`)

var loadRealCorpus = sync.OnceValues(func() (*corpus, error) {
	docs, err := realPapers()
	if err != nil {
		return nil, err
	}
	c := &corpus{common: map[string]bool{}, docs: docs}
	df := map[string]int{}
	var order []string
	for _, p := range docs {
		seen := map[string]bool{}
		for _, w := range splitWords(normalize(p.Title + " " + p.Abstract)) {
			c.stream = append(c.stream, w)
			if !seen[w] {
				seen[w] = true
				if df[w] == 0 {
					order = append(order, w)
				}
				df[w]++
			}
		}
		c.authors = append(c.authors, p.Authors...)
		c.keywords = append(c.keywords, p.AIKeywords...)
	}
	for _, w := range stopWords {
		c.common[w] = true
	}
	n := float64(len(docs))
	for _, w := range order {
		if float64(df[w]) > n/20 {
			c.common[w] = true
		}
	}
	sum := 0.0
	for _, w := range order {
		if len(w) >= 4 && !c.common[w] {
			c.vocab = append(c.vocab, w)
			sum += math.Log(n / float64(df[w]))
			c.cum = append(c.cum, sum)
		}
	}
	return c, nil
})

func testRealCorpus(tb testing.TB) *corpus {
	tb.Helper()
	c, err := loadRealCorpus()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// realPapers reads the real papers of testdata.
func realPapers() ([]*paper.Paper, error) {
	b, err := os.ReadFile(hfCapture)
	if err != nil {
		return nil, err
	}
	var items []struct {
		Paper struct {
			ID, Title, Summary string
			Authors            []struct{ Name string }
			AIKeywords         []string `json:"ai_keywords"`
			Upvotes            int
		}
	}
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("parse %s: %w", hfCapture, err)
	}
	var docs []*paper.Paper
	for _, it := range items {
		p := &paper.Paper{ID: it.Paper.ID, Title: it.Paper.Title, Abstract: it.Paper.Summary,
			AIKeywords: it.Paper.AIKeywords, Upvotes: it.Paper.Upvotes, Sources: []string{"hf-daily"}}
		for _, a := range it.Paper.Authors {
			p.Authors = append(p.Authors, a.Name)
		}
		docs = append(docs, p)
	}
	b, err = os.ReadFile(arxivCapture)
	if err != nil {
		return nil, err
	}
	return append(docs, parseListing(string(b))...), nil
}

var (
	reID       = regexp.MustCompile(`href="/abs/([^"]+)" title="Abstract"`)
	reTitle    = regexp.MustCompile(`(?s)<span class="descriptor">Title:</span>(.*?)</div>`)
	reAuthors  = regexp.MustCompile(`(?s)<div class="list-authors">(.*?)</div>`)
	reLink     = regexp.MustCompile(`<a [^>]*>([^<]*)</a>`)
	reSubjects = regexp.MustCompile(`(?s)<div class="list-subjects">(.*?)</div>`)
	reCategory = regexp.MustCompile(`\(([a-z-]+\.[A-Za-z-]+)\)`)
	reAbstract = regexp.MustCompile(`(?s)<p class="mathjax">(.*?)</p>`)
)

// parseListing reads the papers of an arXiv listing page, one per <dt>.
func parseListing(page string) []*paper.Paper {
	clean := func(s string) string { return strings.Join(strings.Fields(html.UnescapeString(s)), " ") }
	var docs []*paper.Paper
	for _, item := range strings.Split(page, "<dt>")[1:] {
		id, title := reID.FindStringSubmatch(item), reTitle.FindStringSubmatch(item)
		if id == nil || title == nil {
			continue
		}
		p := &paper.Paper{ID: id[1], Title: clean(title[1]), Sources: []string{"arxiv-cs"}}
		if m := reAuthors.FindStringSubmatch(item); m != nil {
			for _, a := range reLink.FindAllStringSubmatch(m[1], -1) {
				p.Authors = append(p.Authors, clean(a[1]))
			}
		}
		if m := reSubjects.FindStringSubmatch(item); m != nil {
			for _, c := range reCategory.FindAllStringSubmatch(m[1], -1) {
				p.Categories = append(p.Categories, c[1])
			}
		}
		if m := reAbstract.FindStringSubmatch(item); m != nil {
			p.Abstract = clean(m[1])
		}
		docs = append(docs, p)
	}
	return docs
}

// stem is a prefix term as people write one: a distinctive word less its
// ending ("denois*").
func (c *corpus) stem(rng *rand.Rand) string {
	for {
		if w := c.word(rng); len(w) >= 7 {
			return w[:max(6, len(w)-1-rng.IntN(3))] + "*"
		}
	}
}

// coreKeyword is a distinctive word, phrase or prefix.
func (c *corpus) coreKeyword(rng *rand.Rand) string {
	switch rng.IntN(6) {
	case 0:
		return c.phrase(rng, 2+rng.IntN(2))
	case 1:
		return c.stem(rng)
	default:
		return c.word(rng)
	}
}

// coreTerm is a query term that says what a topic is about.
func (c *corpus) coreTerm(rng *rand.Rand) string {
	switch n := rng.IntN(100); {
	case n < 70:
		k := c.coreKeyword(rng)
		if strings.Contains(k, " ") {
			k = `"` + k + `"`
		}
		return k
	case n < 85:
		return pick(rng, []string{"title:", "abstract:"}) + c.word(rng)
	case n < 99:
		a := strings.Fields(pick(rng, c.authors))
		return "author:" + a[len(a)-1]
	default:
		return "/" + c.word(rng) + `\w*/`
	}
}

// filter is a term ANDed to the core of a query to narrow it.
func (c *corpus) filter(rng *rand.Rand) string {
	switch rng.IntN(10) {
	case 0, 1, 2, 3:
		return pick(rng, []string{" -", " NOT "}) + c.coreTerm(rng)
	case 4, 5:
		return " category:" + pick(rng, categories)
	case 6:
		return " source:" + pick(rng, sources)
	case 7:
		return fmt.Sprintf(" upvotes:>=%d", 1+rng.IntN(20))
	case 8:
		return fmt.Sprintf(" stars:>=%d", 10*(1+rng.IntN(20)))
	default:
		return " AND " + c.coreTerm(rng)
	}
}

// realisticQuery is a core of 1 to 3 terms, ORed or ANDed, and filters, up
// to max terms in all.
func (c *corpus) realisticQuery(rng *rand.Rand, max int) string {
	core := 1 + rng.IntN(min(3, max))
	q := c.coreTerm(rng)
	or := rng.IntN(2) == 0
	for range core - 1 {
		if or {
			q += " OR " + c.coreTerm(rng)
		} else {
			q += pick(rng, []string{" ", " AND "}) + c.coreTerm(rng)
		}
	}
	filters := rng.IntN(max - core + 1)
	if filters > 0 && or && core > 1 {
		q = "(" + q + ")"
	}
	for range filters {
		q += c.filter(rng)
	}
	return q
}

// realisticSpec makes a topic of 1 to 6 terms: keywords, a query, or both.
func (c *corpus) realisticSpec(rng *rand.Rand, i int) Spec {
	s := Spec{Slug: fmt.Sprintf("r%d", i)}
	switch rng.IntN(3) {
	case 0:
		for range 1 + rng.IntN(4) {
			s.Keywords = append(s.Keywords, c.coreKeyword(rng))
		}
	case 1:
		s.Query = c.realisticQuery(rng, 6)
	default:
		s.Keywords = []string{c.coreKeyword(rng)}
		s.Query = c.realisticQuery(rng, 5)
	}
	if rng.IntN(5) == 0 {
		s.Exclude = []string{c.coreKeyword(rng)}
	}
	if rng.IntN(5) == 0 {
		s.MinUpvotes = rng.IntN(20)
	}
	return s
}

// realPaper is the real paper i (cycling), with made-up counts, since the
// listing has none.
func (c *corpus) realPaper(rng *rand.Rand, i int) *paper.Paper {
	p := *c.docs[i%len(c.docs)]
	if p.Upvotes == 0 {
		p.Upvotes = rng.IntN(40)
	}
	p.Comments = rng.IntN(6)
	p.GitHubStars = rng.IntN(300)
	return &p
}

func TestRealCorpus(t *testing.T) {
	c := testRealCorpus(t)
	abstracts, authors, cats := 0, 0, 0
	for _, p := range c.docs {
		if p.Abstract != "" {
			abstracts++
		}
		authors += len(p.Authors)
		cats += len(p.Categories)
	}
	// 30 Hugging Face papers, and the 87 entries of the listing, 22 of
	// them with their abstract (cross-lists and replacements have none).
	if got, want := len(c.docs), 30+87; got != want {
		t.Errorf("papers = %d, want %d", got, want)
	}
	if got, want := abstracts, 30+22; got != want {
		t.Errorf("papers with abstract = %d, want %d", got, want)
	}
	if authors < len(c.docs) || cats < 87 {
		t.Errorf("%d authors, %d categories over %d papers: the listing did not parse", authors, cats, len(c.docs))
	}
	p := c.docs[30]
	if p.ID != "1807.07067" || !strings.HasPrefix(p.Title, "A Fixed-Parameter Linear-Time Algorithm") ||
		!strings.HasPrefix(p.Abstract, "We present an alternative") || len(p.Authors) != 1 || p.Authors[0] != "Assaf Kfoury" ||
		len(p.Categories) == 0 || p.Categories[0] != "cs.DS" {
		t.Errorf("first listing paper = %+v", p)
	}
	for _, w := range []string{"model", "learning", "data", "with", "network"} {
		if !c.common[w] {
			t.Errorf("%q may be drawn for a topic; want it left out", w)
		}
	}
}
