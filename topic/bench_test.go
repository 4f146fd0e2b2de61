package topic

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// benchSet is generated topics and papers, built once per size.
type benchSet struct {
	router *Router
	papers []*paper.Paper
}

var (
	benchMu   sync.Mutex
	benchSets = map[string]*benchSet{}
)

// benchSpecs generates n topics of one kind: "mixed" (keywords, queries,
// or both, see corpus.spec), "selective" (see corpus.selectiveSpec), or
// "realistic" (see realgen_test.go; c must be the realistic corpus).
func benchSpecs(c *corpus, kind string, n int) []Spec {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	specs := make([]Spec, n)
	for i := range specs {
		switch kind {
		case "realistic":
			specs[i] = c.realisticSpec(rng, i)
		case "selective":
			specs[i] = c.selectiveSpec(rng, i)
		default:
			specs[i] = c.spec(rng, i)
		}
	}
	return specs
}

// benchPapers generates n papers of windows of c, or cycles through the
// real papers of a realistic corpus.
func benchPapers(c *corpus, n int) []*paper.Paper {
	rng := rand.New(rand.NewPCG(7, 7))
	ps := make([]*paper.Paper, n)
	for i := range ps {
		if c.docs != nil {
			ps[i] = c.realPaper(rng, i)
		} else {
			ps[i] = c.paper(rng, i)
		}
	}
	return ps
}

// kindCorpus is the corpus a kind of topics is drawn from.
func kindCorpus(tb testing.TB, kind string) *corpus {
	if kind == "realistic" {
		return testRealCorpus(tb)
	}
	return testCorpus(tb)
}

func loadBench(b *testing.B, kind string, topics int) *benchSet {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	name := fmt.Sprint(kind, topics)
	if s, ok := benchSets[name]; ok {
		return s
	}
	c := kindCorpus(b, kind)
	r, err := Compile(benchSpecs(c, kind, topics))
	if err != nil {
		b.Fatal(err)
	}
	n := 1000
	if c.docs != nil {
		n = len(c.docs) // each real paper once
	}
	s := &benchSet{router: r, papers: benchPapers(c, n)}
	benchSets[name] = s
	return s
}

// BenchmarkRoute routes papers through 100, 10,000 and 100,000 generated
// topics, with the index and without. The headline is "realistic": the
// real papers, and topics of distinctive words (see realgen_test.go).
// "mixed" (papers of windows of real text, topics of words drawn uniformly,
// about 5% of papers a topic) and "selective" (two content words ANDed) are
// kept to compare with earlier figures.
//
// One op routes every paper of the set once (the 117 real papers, or 1,000
// generated ones), so that both modes are measured on the same papers
// however few ops the slow plain mode gets; the per-paper figures are the
// metrics ns/paper, cpu-ns/paper, B/paper, allocs/paper and hits/paper.
func BenchmarkRoute(b *testing.B) {
	for _, kind := range []string{"realistic", "mixed", "selective"} {
		for _, n := range []int{100, 10_000, 100_000} {
			for _, mode := range []string{"indexed", "plain"} {
				b.Run(fmt.Sprintf("%s/topics=%d/%s", kind, n, mode), func(b *testing.B) {
					benchRoute(b, loadBench(b, kind, n), mode)
				})
			}
		}
	}
}

func benchRoute(b *testing.B, s *benchSet, mode string) {
	route := s.router.Route
	if mode == "plain" {
		route = s.router.RoutePlain
	}
	hits, ops := 0, 0
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start, cpu := time.Now(), cpuTime()
	for b.Loop() {
		for _, p := range s.papers {
			hits += len(route(p))
		}
		ops++
	}
	wall, cpu := time.Since(start), cpuTime()-cpu
	runtime.ReadMemStats(&after)
	n := float64(ops * len(s.papers))
	b.ReportMetric(float64(wall.Nanoseconds())/n, "ns/paper")
	b.ReportMetric(float64(cpu)/n, "cpu-ns/paper")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/paper")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/paper")
	b.ReportMetric(float64(hits)/n, "hits/paper")
}

// BenchmarkCompile compiles 100,000 generated topics and reports the heap
// the Router keeps.
func BenchmarkCompile(b *testing.B) {
	specs := benchSpecs(testCorpus(b), "mixed", 100_000)
	b.ReportAllocs()
	var heap uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := Compile(specs)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(r)
	}
	b.ReportMetric(float64(heap)/(1<<20), "MB-retained")
}

func TestBenchStats(t *testing.T) {
	if testing.Short() {
		t.Skip("statistics only")
	}
	for _, kind := range []string{"realistic", "mixed", "selective"} {
		benchStats(t, kindCorpus(t, kind), kind)
	}
}

func benchStats(t *testing.T, c *corpus, kind string) {
	specs := benchSpecs(c, kind, 10_000)
	r, err := Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	fb := 0
	for _, w := range r.idx.fallback {
		fb += bits.OnesCount64(w)
	}
	ps := benchPapers(c, 50)
	cand, hits := 0, 0
	for _, p := range ps {
		s := r.pool.Get().(*scratch)
		r.idx.candidates(NewDoc(p), s)
		for _, w := range s.set {
			cand += bits.OnesCount64(w)
		}
		s.done()
		r.pool.Put(s)
		hits += len(r.Route(p))
	}
	t.Logf("%s, 10000 topics: %d fallback; per paper %d candidates, %d hits", kind, fb, cand/len(ps), hits/len(ps))
	for _, s := range specs[:4] {
		t.Logf("%q %q %q", s.Keywords, s.Exclude, s.Query)
	}
}

// BenchmarkNewDoc tokenises one generated paper per op.
func BenchmarkNewDoc(b *testing.B) {
	ps := benchPapers(testCorpus(b), 1000)
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		NewDoc(ps[i%len(ps)])
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkNewDocReal tokenises one real paper per op.
func BenchmarkNewDocReal(b *testing.B) {
	c := testRealCorpus(b)
	ps := benchPapers(c, len(c.docs))
	b.ReportAllocs()
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		NewDoc(ps[i%len(ps)])
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
