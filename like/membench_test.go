package like

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// BenchmarkBuildMemory builds the corpus of benchHistory(100,000) from papers
// already in memory, so that the like part of BenchmarkBuild is measured
// apart from the store's decoding of records. The papers are held beside
// the build, so the memory limit is raised by the heap they take; peak-MB
// is the heap the build took above them.
func BenchmarkBuildMemory(b *testing.B) {
	const n = 100_000
	var papers []paper.Paper
	size := 0
	benchHistory(b, n, func(batch []paper.Paper) {
		for _, p := range batch {
			size += len(p.ID) + len(p.Title) + len(p.Abstract)
			papers = append(papers, paper.Paper{ID: p.ID, Title: p.Title, Abstract: p.Abstract})
		}
	})
	// The build gets the headroom it has in BenchmarkBuild, where the
	// papers are in the store's memory map, not on the heap.
	runtime.GC()
	live := []metrics.Sample{{Name: heapLive}}
	metrics.Read(live)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit + int64(live[0].Value.Uint64())))
	measureBuild(b, func() (*Corpus, error) { return Fit(papers, Options{}) })
	b.ReportMetric(float64(size)/1e6, "papers-MB")
}
