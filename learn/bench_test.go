//go:build unix

package learn

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/internal/synth"
	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchHistory makes n papers of their own (synth.DistinctPapers) and a
// store file holding the first stored of them, closed with the benchmark.
func benchHistory(b *testing.B, n, stored int) ([]paper.Paper, *store.Store) {
	b.Helper()
	fixture, err := os.ReadFile(filepath.Join("..", "testdata", "hf-api-daily-papers-2026-06-12.json"))
	if err != nil {
		b.Fatal(err)
	}
	papers, err := synth.DistinctPapers(fixture, n)
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.Open(filepath.Join(b.TempDir(), "paperfeed.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for i := 0; i < stored; i += 10_000 {
		if _, err := s.Merge(papers[i:min(stored, i+10_000)], synth.Day); err != nil {
			b.Fatal(err)
		}
	}
	return papers, s
}

// BenchmarkLearn100k is one learning pass over a history of 100,000
// papers in a store file: the read (store.ForEach into Add), then Train of
// an SVM topic (three like papers, one unlike) and a centroid topic, both
// without rules, so every paper is scored. It reports the CPU time of each
// part, from getrusage, and of a walk of the history that only decodes it
// (decode-cpu-s/op, part of the read's, and the same for any full pass
// over the history), outside the timed op. The papers have abstracts of their own
// (synth.DistinctPapers): with synth.Papers' thirty texts, each liked paper
// has 3,333 exact copies among the negatives, the SVM cannot tell them
// apart and runs 652 passes, 99 s of CPU.
func BenchmarkLearn100k(b *testing.B) {
	papers, s := benchHistory(b, 100_000, 100_000)
	specs := []topic.Spec{{Slug: "svm"}, {Slug: "centroid"}}
	r, err := topic.Compile(specs)
	if err != nil {
		b.Fatal(err)
	}
	topics := []Topic{
		{Slug: "svm", Index: 0, Top: 10, Seeds: like.Seeds{Like: []string{papers[1].ID, papers[2].ID, papers[3].ID}, Unlike: []string{papers[4].ID}}},
		{Slug: "centroid", Index: 1, Top: 10, Seeds: like.Seeds{Like: []string{papers[5].ID}}},
	}
	b.ReportAllocs()
	b.ResetTimer()
	var read, train, decode time.Duration
	var stats like.Stats
	for b.Loop() {
		b.StopTimer()
		d0 := cpuTime(b)
		walked := 0
		if err := s.ForEach(func(*paper.Paper) error { walked++; return nil }); err != nil {
			b.Fatal(err)
		}
		if walked != len(papers) {
			b.Fatalf("walked %d papers of %d", walked, len(papers))
		}
		decode += cpuTime(b) - d0
		b.StartTimer()
		c0 := cpuTime(b)
		l, err := New(r, topics, like.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.ForEach(l.Add); err != nil {
			b.Fatal(err)
		}
		c1 := cpuTime(b)
		res, err := l.Train()
		if err != nil {
			b.Fatal(err)
		}
		if len(res[0].Picks) == 0 {
			b.Fatal("no picks")
		}
		read += c1 - c0
		train += cpuTime(b) - c1
		stats = res[0].Stats
	}
	b.ReportMetric(float64(stats.Iterations), "svm-passes")
	b.ReportMetric(read.Seconds()/float64(b.N), "read-cpu-s/op")
	b.ReportMetric(decode.Seconds()/float64(b.N), "decode-cpu-s/op")
	b.ReportMetric(train.Seconds()/float64(b.N), "train-cpu-s/op")
}

// BenchmarkLearn100kCached is BenchmarkLearn100k's pass for a history
// whose papers an earlier pass kept in its Cache but for the 20 it adds:
// the read takes the others' tokens from the Cache (ReadCache of the
// encoded Cache, in the timed op) and writes the Cache anew (WriteCache,
// to io.Discard), then Train of the SVM topic alone. It reports the CPU of
// the read and of the training.
func BenchmarkLearn100kCached(b *testing.B) {
	papers, s := benchHistory(b, 100_020, 100_000)
	r, err := topic.Compile([]topic.Spec{{Slug: "svm"}})
	if err != nil {
		b.Fatal(err)
	}
	topics := []Topic{{Slug: "svm", Index: 0, Top: 10, Seeds: like.Seeds{Like: []string{papers[1].ID, papers[2].ID, papers[3].ID}, Unlike: []string{papers[4].ID}}}}
	pass := func(c *Cache, w io.Writer) (int, time.Duration, time.Duration) {
		c0 := cpuTime(b)
		l, err := NewCached(r, topics, like.Options{}, c)
		if err != nil {
			b.Fatal(err)
		}
		hits := 0
		err = s.ForEachRecord(func(id string, sum uint32, decode func() (*paper.Paper, error)) error {
			hit, err := l.AddRecord(id, sum, decode)
			if hit {
				hits++
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.WriteCache(w); err != nil {
			b.Fatal(err)
		}
		c1 := cpuTime(b)
		res, err := l.Train()
		if err != nil || len(res[0].Picks) == 0 {
			b.Fatalf("Train: %v, %d picks", err, len(res[0].Picks))
		}
		return hits, c1 - c0, cpuTime(b) - c1
	}
	var kept bytes.Buffer
	pass(nil, &kept)
	if _, err := s.Merge(papers[100_000:], synth.Day); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var read, train time.Duration
	for b.Loop() {
		c0 := cpuTime(b)
		c, err := ReadCache(kept.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		read += cpuTime(b) - c0
		hits, rd, tr := pass(c, io.Discard)
		if hits != 100_000 {
			b.Fatalf("%d papers from the cache, want 100,000", hits)
		}
		read += rd
		train += tr
	}
	b.ReportMetric(float64(kept.Len())/1e6, "cache-MB")
	b.ReportMetric(read.Seconds()/float64(b.N), "read-cpu-s/op")
	b.ReportMetric(train.Seconds()/float64(b.N), "train-cpu-s/op")
}
