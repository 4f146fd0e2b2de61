package like

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// benchHistory makes n papers of synth.Papers with their abstracts
// varied, so that the vocabulary grows with the history as a real one
// does: synth repeats the fixture's 30 abstracts, so on its own every word
// and bigram would be in a thirtieth of the papers and there would be no
// long tail. Each abstract here is as long as synth's, made of runs of two
// to four words taken from anywhere in the fixture's abstracts (which keeps
// frequent collocations frequent) and, one word in eight, a word drawn from
// a Zipf distribution over a million made-up ones (names, acronyms, rare
// terms). fn gets the papers in order, 10,000 at a time, so that the whole
// history is never in memory at once.
func benchHistory(tb testing.TB, n int, fn func([]paper.Paper)) {
	tb.Helper()
	fixture, err := os.ReadFile(filepath.Join("..", "testdata", "hf-api-daily-papers-2026-06-12.json"))
	if err != nil {
		tb.Fatal(err)
	}
	papers, err := synth.Papers(fixture, n)
	if err != nil {
		tb.Fatal(err)
	}
	var words []string
	for i := range min(n, 30) {
		words = append(words, strings.Fields(papers[i].Abstract)...)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, 1_000_000)
	var b strings.Builder
	for start := 0; start < n; start += 10_000 {
		batch := papers[start:min(n, start+10_000)]
		for i := range batch {
			b.Reset()
			for left := len(strings.Fields(batch[i].Abstract)); left > 0; {
				if rng.IntN(8) == 0 {
					b.WriteString("q" + strconv.FormatUint(zipf.Uint64(), 36) + " ")
					left--
					continue
				}
				at := rng.IntN(len(words))
				for _, w := range words[at:min(len(words), at+2+rng.IntN(3))] {
					b.WriteString(w + " ")
					left--
				}
			}
			batch[i].Abstract = b.String()
		}
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
// live or not collected yet.
const heapObjects = "/memory/classes/heap/objects:bytes"

// peakHeap runs f and returns the most bytes of heap objects, above what
// there was before f, sampled every millisecond meanwhile (with the
// garbage not collected yet, as the process holds it), and how many of
// them are still live after f and a collection.
func peakHeap(f func()) (peak, live uint64) {
	// Twice: what sync.Pools held is freed by the second collection.
	runtime.GC()
	runtime.GC()
	sample := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: heapObjects}}
		var most uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			most = max(most, s[0].Value.Uint64())
			select {
			case <-stop:
				done <- most
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	most := <-done
	runtime.GC()
	metrics.Read(sample)
	after := sample[0].Value.Uint64()
	return most - min(most, base), after - min(after, base)
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
			b.ReportAllocs()
			b.ResetTimer()
			start := cpuTime()
			var c *Corpus
			var peak, live uint64
			for b.Loop() {
				var err error
				peak, live = peakHeap(func() { c, err = buildFrom(s, Options{}) })
				if err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
			b.ReportMetric(float64(peak)/1e6, "peak-MB")
			b.ReportMetric(float64(live)/1e6, "live-MB")
			b.ReportMetric(float64(c.Vocab().Len()), "features")
			nnz := 0
			for i := range c.Len() {
				nnz += c.At(i).Len()
			}
			b.ReportMetric(float64(nnz)/float64(c.Len()), "nnz/paper")
		})
	}
}

// BenchmarkTrain trains one like-topic's SVM over a history of 100,000
// papers.
func BenchmarkTrain(b *testing.B) {
	c := benchCorpus(b, 100_000)
	for _, likes := range []int{1, 5, 50} {
		b.Run(fmt.Sprintf("likes=%d", likes), func(b *testing.B) {
			seeds := Seeds{}
			for i := range likes {
				seeds.Like = append(seeds.Like, c.ID(i*1999%c.Len()))
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := cpuTime()
			var m *Model
			for b.Loop() {
				var err error
				if m, err = c.Train(seeds); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
			b.ReportMetric(float64(m.Stats().Iterations), "passes")
		})
	}
}
