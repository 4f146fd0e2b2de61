package topic

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// benchSet is generated topics and papers, built once per size.
type benchSet struct {
	router *Router
	papers []*paper.Paper
}

var (
	benchMu   sync.Mutex
	benchSets = map[int]*benchSet{}
)

// benchSpecs generates n topics of one kind: "mixed" (keywords, queries,
// or both, see corpus.spec) or "realistic" (see realgen_test.go; c must be
// the realistic corpus).
func benchSpecs(c *corpus, kind string, n int) []Spec {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	specs := make([]Spec, n)
	for i := range specs {
		if kind == "realistic" {
			specs[i] = c.realisticSpec(rng, i)
		} else {
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

// loadBench compiles n realistic topics and takes each real paper once.
func loadBench(b *testing.B, topics int) *benchSet {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if s, ok := benchSets[topics]; ok {
		return s
	}
	c := testRealCorpus(b)
	r, err := Compile(benchSpecs(c, "realistic", topics))
	if err != nil {
		b.Fatal(err)
	}
	s := &benchSet{router: r, papers: benchPapers(c, len(c.docs))}
	benchSets[topics] = s
	return s
}

// BenchmarkRoute routes one paper per op through 100 and 1,000 realistic
// topics (the real papers in turn, and topics of distinctive words, see
// realgen_test.go), so ns/op, B/op and allocs/op are per paper, tokenising
// included. cpu-ns/op is beside wall time because the machines are shared.
func BenchmarkRoute(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("topics=%d", n), func(b *testing.B) {
			s := loadBench(b, n)
			b.ReportAllocs()
			hits := 0
			start := cpuTime()
			for i := 0; b.Loop(); i++ {
				hits += len(s.router.Route(s.papers[i%len(s.papers)]))
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
		})
	}
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

// BenchmarkNewDoc tokenises one generated paper per op: the part of Route
// that does not depend on the topics.
func BenchmarkNewDoc(b *testing.B) {
	ps := benchPapers(testCorpus(b), 1000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		newDoc(ps[i%len(ps)])
	}
}

// BenchmarkNewDocReal tokenises one real paper per op.
func BenchmarkNewDocReal(b *testing.B) {
	c := testRealCorpus(b)
	ps := benchPapers(c, len(c.docs))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		newDoc(ps[i%len(ps)])
	}
}
