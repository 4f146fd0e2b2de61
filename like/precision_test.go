package like

import (
	"cmp"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/arxiv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// evalListings are the captured arXiv listings the precision is measured
// on, in the module's testdata (shared with the packages that scrape them).
var evalListings = []string{
	"arxiv-list-cs.LG-new-2025-12-05.html",
	"arxiv-list-cs-new-2018-07-20-legacy.html",
}

// evalPapers are the papers of evalListings, read by the arXiv parser, each
// once.
func evalPapers(tb testing.TB) []paper.Paper {
	tb.Helper()
	var out []paper.Paper
	seen := map[string]bool{}
	for _, name := range evalListings {
		data, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			tb.Fatal(err)
		}
		l, err := arxiv.Parse(data, nil)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		for _, p := range l.Papers {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// method is a way to rank papers from seeds, by its options.
type method struct {
	name string
	o    Options
}

// methods are the SVM (from one like paper on), the centroid, and the SVM
// with arxiv-sanity-lite's cut-offs (min_df 5, max_df 0.1). The default
// Options are the centroid for k = 1 and the SVM beyond (see MinSVM).
var methods = []method{
	{"svm", Options{MinSVM: 1}},
	{"centroid", Options{MinSVM: math.MaxInt}},
	{"svm-asl", Options{MinSVM: 1, MinDF: 5, MaxDF: 0.1}},
}

// precision is the mean precision at 10 and 20 of one method over seed
// sets, and the standard error of the mean at 10.
type precision struct {
	p10, p20, se10 float64
}

// seedSets are the seed sets of k papers of category cat: with k = 1 each
// paper of pool once, otherwise 30 sets drawn from a PCG seeded by the
// category and k.
func seedSets(pool []string, cat string, k int) [][]string {
	if k == 1 {
		var out [][]string
		for _, id := range pool {
			out = append(out, []string{id})
		}
		return out
	}
	h := fnv.New64a()
	h.Write([]byte(cat))
	rng := rand.New(rand.NewPCG(h.Sum64(), uint64(k)))
	out := make([][]string, 30)
	for i := range out {
		perm := rng.Perm(len(pool))
		for _, j := range perm[:k] {
			out[i] = append(out[i], pool[j])
		}
	}
	return out
}

// measure ranks every paper of c but the seeds by a model of each seed set
// and returns the precision at 10 and 20 for category cat.
// With negate, the ranking is upside down: a broken model.
func measure(tb testing.TB, c *Corpus, cats map[string][]string, cat string, sets [][]string, negate bool) precision {
	tb.Helper()
	type scored struct {
		id string
		s  float64
	}
	var p10s, p20s []float64
	for _, seeds := range sets {
		var ranked []scored
		m, err := c.Train(Seeds{Like: seeds})
		switch {
		case err == nil:
			for i := range c.Len() {
				if !slices.Contains(seeds, c.ID(i)) {
					s := m.Score(c.At(i))
					if negate {
						s = -s
					}
					ranked = append(ranked, scored{c.ID(i), s})
				}
			}
		case strings.Contains(err.Error(), ErrNoWords.Error()):
			// Seeds without a word of this vocabulary rank nothing: the
			// papers stay in ID order, as a feed would show them.
			for i := range c.Len() {
				if !slices.Contains(seeds, c.ID(i)) {
					ranked = append(ranked, scored{c.ID(i), 0})
				}
			}
		default:
			tb.Fatal(err)
		}
		slices.SortFunc(ranked, func(a, b scored) int {
			if x := cmp.Compare(b.s, a.s); x != 0 {
				return x
			}
			return cmp.Compare(a.id, b.id)
		})
		hits := 0
		for i, r := range ranked[:20] {
			if slices.Contains(cats[r.id], cat) {
				hits++
			}
			if i == 9 {
				p10s = append(p10s, float64(hits)/10)
			}
		}
		p20s = append(p20s, float64(hits)/20)
	}
	mean := func(xs []float64) float64 {
		var s float64
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	p := precision{p10: mean(p10s), p20: mean(p20s)}
	var ss float64
	for _, x := range p10s {
		ss += (x - p.p10) * (x - p.p10)
	}
	if len(p10s) > 1 {
		p.se10 = math.Sqrt(ss/float64(len(p10s)-1)) / math.Sqrt(float64(len(p10s)))
	}
	return p
}

// TestPrecision seeds topics with k = 1, 3 and 5 papers of one arXiv
// category and measures the share of each model's 10 and 20 best-ranked
// papers (the seeds left out) that carry that category, for every
// category that at least 10 papers of the captured listings carry. It
// prints the table with -v, compares it with testdata/precision.golden
// (rewrite it with -update) and asserts that the SVM and the centroid both
// beat the base rate, the precision of a random ranking, by a clear margin
// on average. The corpus is small (see the golden file's header): the
// figures say that the models work, not how well they would on a real
// history.
func TestPrecision(t *testing.T) {
	papers := evalPapers(t)
	cats := map[string][]string{}
	count := map[string]int{}
	abstracts := 0
	for _, p := range papers {
		cats[p.ID] = p.Categories
		for _, c := range p.Categories {
			count[c]++
		}
		if p.Abstract != "" {
			abstracts++
		}
	}
	var seedCats []string
	for c, n := range count {
		if n >= 10 {
			seedCats = append(seedCats, c)
		}
	}
	slices.SortFunc(seedCats, func(a, b string) int {
		if x := cmp.Compare(count[b], count[a]); x != 0 {
			return x
		}
		return cmp.Compare(a, b)
	})
	corpora := make([]*Corpus, len(methods))
	for i, m := range methods {
		c, err := Fit(papers, m.o)
		if err != nil {
			t.Fatal(err)
		}
		corpora[i] = c
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# %d papers (%d with an abstract, the rest titles only) from %s;\n", len(papers), abstracts, strings.Join(evalListings, ", "))
	fmt.Fprintf(&b, "# %d categories, %d carried by at least 10 papers. Seeds: papers of the category with a word of the\n", len(count), len(seedCats))
	fmt.Fprintf(&b, "# vocabulary; k=1 every such paper in turn, k=3 and 5 thirty random sets. base: the category's share\n")
	fmt.Fprintf(&b, "# of the other papers (a random ranking's precision); ideal: the best precision possible; ±: standard error.\n")
	fmt.Fprintf(&b, "%-8s %4s %2s %4s %5s %11s", "category", "has", "k", "sets", "base", "ideal@10/20")
	for _, m := range methods {
		fmt.Fprintf(&b, " %21s", m.name+" @10 ± /@20")
	}
	b.WriteString("\n")
	var sumBase, broken float64
	sums := make([]float64, len(methods))
	rows := 0
	for _, cat := range seedCats {
		var pool []string
		for _, p := range papers {
			if v, _ := corpora[0].Vector(p.ID); slices.Contains(p.Categories, cat) && v.Len() > 0 {
				pool = append(pool, p.ID)
			}
		}
		slices.Sort(pool)
		for _, k := range []int{1, 3, 5} {
			sets := seedSets(pool, cat, k)
			rel := count[cat] - k
			base := float64(rel) / float64(len(papers)-k)
			fmt.Fprintf(&b, "%-8s %4d %2d %4d %5.3f %5.2f/%5.2f", cat, count[cat], k, len(sets), base,
				float64(min(rel, 10))/10, float64(min(rel, 20))/20)
			for i := range methods {
				p := measure(t, corpora[i], cats, cat, sets, false)
				fmt.Fprintf(&b, "   %5.3f ±%5.3f /%5.3f", p.p10, p.se10, p.p20)
				sums[i] += p.p10
			}
			broken += measure(t, corpora[0], cats, cat, sets, true).p10
			b.WriteString("\n")
			sumBase += base
			rows++
		}
	}
	fmt.Fprintf(&b, "%-8s %4s %2s %4s %5.3f %11s", "mean", "", "", "", sumBase/float64(rows), "")
	for i := range methods {
		fmt.Fprintf(&b, "   %5.3f %14s", sums[i]/float64(rows), "")
	}
	b.WriteString("\n")
	table := b.String()
	t.Logf("precision at 10 and 20:\n%s", table)
	golden(t, "precision.golden", table)

	if len(seedCats) < 3 {
		t.Fatalf("only %d categories to seed", len(seedCats))
	}
	// The margin: a random ranking's mean p@10 over these sets is the base
	// rate within about 0.01.
	const margin = 0.05
	floor := sumBase/float64(rows) + margin
	for i, m := range methods[:2] {
		if got := sums[i] / float64(rows); got < floor {
			t.Errorf("%s: mean p@10 %.3f, want at least the base rate + %.2f = %.3f", m.name, got, margin, floor)
		}
	}
	// The floor fails a broken model: the SVM's ranking upside down.
	if got := broken / float64(rows); got >= floor {
		t.Errorf("the SVM upside down has mean p@10 %.3f, above the floor %.3f: the floor tells nothing", got, floor)
	}
}

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update after a deliberate change):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
