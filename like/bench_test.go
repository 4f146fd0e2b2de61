package like

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/internal/synth"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
)

// benchDir holds the benchmarks' history files.
var benchDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "like-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	benchDir = dir
	code := m.Run()
	for _, s := range benchStores {
		if err := s.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// benchHistory makes n papers of synth.DistinctPapers, so that the
// vocabulary grows with the history as a real one does: synth.Papers repeats
// the fixture's 30 abstracts, so on its own every word and bigram would be
// in a thirtieth of the papers and there would be no long tail. Each
// abstract is as long as synth's, made of runs of two to four words taken
// from anywhere in the fixture's abstracts (which keeps frequent
// collocations frequent) and, one word in eight, a word drawn from a Zipf
// distribution over a million made-up ones (names, acronyms, rare terms).
// fn gets the papers in order, 10,000 at a time, and each batch is let go
// after it.
func benchHistory(tb testing.TB, n int, fn func([]paper.Paper)) {
	tb.Helper()
	fixture, err := os.ReadFile(filepath.Join("..", "testdata", "hf-api-daily-papers-2026-06-12.json"))
	if err != nil {
		tb.Fatal(err)
	}
	papers, err := synth.DistinctPapers(fixture, n)
	if err != nil {
		tb.Fatal(err)
	}
	for start := 0; start < n; start += 10_000 {
		batch := papers[start:min(n, start+10_000)]
		fn(batch)
		for i := range batch {
			batch[i] = paper.Paper{}
		}
	}
}

var (
	benchMu     sync.Mutex
	benchStores = map[int]*store.Store{}
	benchCorps  = map[int]*Corpus{}
)

// benchStore is a real history file of benchHistory(n) papers, written
// once per size into a directory removed when the benchmarks end (see
// TestMain).
func benchStore(tb testing.TB, n int) *store.Store {
	tb.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if s, ok := benchStores[n]; ok {
		return s
	}
	s, err := store.Open(filepath.Join(benchDir, fmt.Sprintf("history-%d.db", n)))
	if err != nil {
		tb.Fatal(err)
	}
	benchHistory(tb, n, func(batch []paper.Paper) {
		if _, err := s.Merge(batch, synth.Day); err != nil {
			tb.Fatal(err)
		}
	})
	benchStores[n] = s
	return s
}

// buildFrom builds a Corpus from the papers of s, read one at a time as
// the program reads them.
func buildFrom(s *store.Store, o Options) (*Corpus, error) {
	b, err := NewBuilder(o)
	if err != nil {
		return nil, err
	}
	if err := s.ForEach(b.Add); err != nil {
		return nil, err
	}
	return b.Build()
}

// benchCorpus is the corpus of benchStore(n), built once per size.
func benchCorpus(tb testing.TB, n int) *Corpus {
	tb.Helper()
	s := benchStore(tb, n)
	benchMu.Lock()
	defer benchMu.Unlock()
	if c, ok := benchCorps[n]; ok {
		return c
	}
	c, err := buildFrom(s, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	benchCorps[n] = c
	return c
}

// reportCPU reports the CPU time per op beside wall time, because the
// machines the benchmarks run on are shared.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// heapObjects is the runtime metric of the bytes the heap's objects take,
// live or not collected yet; heapLive that of the bytes the last
// collection found live.
const (
	heapObjects = "/memory/classes/heap/objects:bytes"
	heapLive    = "/gc/heap/live:bytes"
)

// heap is what peakHeap measured, in bytes above what there was before.
type heap struct {
	peak     uint64 // most heap objects, live or garbage: what the process holds
	peakLive uint64 // most found live by a collection
	live     uint64 // live after f and a collection
}

// peakHeap runs f and samples the heap every millisecond meanwhile.
func peakHeap(f func()) heap {
	// Twice: what sync.Pools held is freed by the second collection.
	runtime.GC()
	runtime.GC()
	sample := []metrics.Sample{{Name: heapObjects}, {Name: heapLive}}
	metrics.Read(sample)
	base := sample[1].Value.Uint64()
	stop, done := make(chan struct{}), make(chan heap)
	go func() {
		s := []metrics.Sample{{Name: heapObjects}, {Name: heapLive}}
		var h heap
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			h.peak = max(h.peak, s[0].Value.Uint64())
			h.peakLive = max(h.peakLive, s[1].Value.Uint64())
			select {
			case <-stop:
				done <- h
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	h := <-done
	runtime.GC()
	metrics.Read(sample)
	h.live = sample[1].Value.Uint64()
	sub := func(x uint64) uint64 { return x - min(x, base) }
	h.peak, h.peakLive, h.live = sub(h.peak), sub(h.peakLive), sub(h.live)
	return h
}

// reportHeap reports h in MB.
func reportHeap(b *testing.B, h heap) {
	b.ReportMetric(float64(h.peak)/1e6, "peak-MB")
	b.ReportMetric(float64(h.peakLive)/1e6, "peak-live-MB")
	b.ReportMetric(float64(h.live)/1e6, "live-MB")
}

// memoryLimit is the program's default GOMEMLIMIT, which the benchmarks
// run under: the garbage collector works harder near it, as it does in
// production.
const memoryLimit = 192 << 20

// BenchmarkBuild fits the vocabulary on a history of n papers and
// vectorises it, reading the papers from a real history file one at a
// time: once per history change, shared by every like-topic. peak-MB is
// the most heap it took, live-MB what the Corpus keeps.
func BenchmarkBuild(b *testing.B) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("papers=%d", n), func(b *testing.B) {
			s := benchStore(b, n)
			c := measureBuild(b, func() (*Corpus, error) { return buildFrom(s, Options{}) })
			nnz := 0
			for i := range c.Len() {
				nnz += c.At(i).Len()
			}
			b.ReportMetric(float64(nnz)/float64(c.Len()), "nnz/paper")
		})
	}
}

// measureBuild runs build once per op and reports its CPU time, its heap
// (see reportHeap) and the features of the corpus, which it returns.
func measureBuild(b *testing.B, build func() (*Corpus, error)) *Corpus {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	var c *Corpus
	var h heap
	for b.Loop() {
		var err error
		c = nil // not live while the next is built
		h = peakHeap(func() { c, err = build() })
		if err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
	reportHeap(b, h)
	b.ReportMetric(float64(c.Vocab().Len()), "features")
	return c
}

// BenchmarkTrain trains one like-topic over a history of 100,000 papers:
// the centroid from one like paper, the SVM from more; peak-MB is the most
// heap it took beyond the Corpus.
func BenchmarkTrain(b *testing.B) {
	c := benchCorpus(b, 100_000)
	for _, likes := range []int{1, 2, 5, 50} {
		b.Run(fmt.Sprintf("likes=%d", likes), func(b *testing.B) {
			seeds := Seeds{}
			for i := range likes {
				seeds.Like = append(seeds.Like, c.ID(i*1999%c.Len()))
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := cpuTime()
			var m *Model
			var h heap
			for b.Loop() {
				var err error
				h = peakHeap(func() { m, err = c.Train(seeds) })
				if err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
			reportHeap(b, h)
			b.ReportMetric(float64(m.Stats().Iterations), "passes")
		})
	}
}

// BenchmarkScore scores one paper of a 100,000-paper history per op with
// one model: the dot product of its vector and the model's weights.
func BenchmarkScore(b *testing.B) {
	c := benchCorpus(b, 100_000)
	m, err := c.Train(Seeds{Like: []string{c.ID(0), c.ID(5000)}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	var sum float64
	for b.Loop() {
		sum += m.Score(c.At(i % c.Len()))
		i++
	}
	if math.IsNaN(sum) {
		b.Fatal("NaN score")
	}
}

// BenchmarkVectorScore makes the vector of a new paper (title and abstract
// tokenised, as for a paper not in the history yet) and scores it with one
// model, per op. A paper's vector is made once for all the topics.
func BenchmarkVectorScore(b *testing.B) {
	c := benchCorpus(b, 100_000)
	m, err := c.Train(Seeds{Like: []string{c.ID(0), c.ID(5000)}})
	if err != nil {
		b.Fatal(err)
	}
	var papers []paper.Paper
	benchHistory(b, 1000, func(batch []paper.Paper) { papers = append(papers, batch...) })
	b.ReportAllocs()
	start := cpuTime()
	i := 0
	var sum float64
	for b.Loop() {
		sum += m.Score(c.Vocab().Vector(&papers[i%len(papers)]))
		i++
	}
	reportCPU(b, start)
	if math.IsNaN(sum) {
		b.Fatal("NaN score")
	}
}

// BenchmarkExplain gives the 5 terms for and against one paper per op.
func BenchmarkExplain(b *testing.B) {
	c := benchCorpus(b, 100_000)
	m, err := c.Train(Seeds{Like: []string{c.ID(0), c.ID(5000)}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Explain(c.At(i%c.Len()), 5)
		i++
	}
	// What the terms of 10,000 papers keep, as a like-topic keeps them
	// for every paper its feeds show.
	kept := make([][2][]Contribution, 10_000)
	runtime.GC()
	before := heapLiveBytes()
	for i := range kept {
		kept[i][0], kept[i][1] = m.Explain(c.At(i%c.Len()), 5)
	}
	runtime.GC()
	b.ReportMetric(float64(heapLiveBytes()-before)/float64(len(kept)), "kept-B/paper")
	runtime.KeepAlive(kept)
}

// heapLiveBytes is the heap that the last GC found live.
func heapLiveBytes() int64 {
	s := []metrics.Sample{{Name: heapLive}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// BenchmarkModels100 trains 100 like-topics of two like papers each over a
// history of 10,000 papers (whose vocabulary has the full 20,000 features,
// and a model's size depends on nothing else) and reports the memory the
// 100 models keep.
func BenchmarkModels100(b *testing.B) {
	c := benchCorpus(b, 10_000)
	if c.Vocab().Len() != DefaultMaxFeatures {
		b.Fatalf("%d features", c.Vocab().Len())
	}
	b.ReportAllocs()
	var models []*Model
	var h heap
	for b.Loop() {
		models = models[:0]
		h = peakHeap(func() {
			for i := range 100 {
				m, err := c.Train(Seeds{Like: []string{c.ID(i), c.ID(i + 100)}})
				if err != nil {
					b.Fatal(err)
				}
				models = append(models, m)
			}
		})
	}
	b.ReportMetric(float64(h.live)/1e6, "MB/100-models")
	runtime.KeepAlive(models)
}
