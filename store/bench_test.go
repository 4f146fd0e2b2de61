package store

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const benchPapers = 100_000

var (
	bigOnce sync.Once
	bigDir  string
	bigErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDir != "" {
		if err := os.RemoveAll(bigDir); err != nil {
			code = 1
		}
	}
	os.Exit(code)
}

// bigStore returns the path of a closed store of benchPapers realistic
// papers, built once per test binary in daily-sized batches' worth of
// transactions (5,000 papers each, to keep the build short).
func bigStore(b *testing.B) string {
	b.Helper()
	bigOnce.Do(func() {
		papers := realistic(b, 0, benchPapers)
		bigDir, bigErr = os.MkdirTemp("", "store-bench-")
		if bigErr != nil {
			return
		}
		var s *Store
		s, bigErr = Open(filepath.Join(bigDir, "history.db"))
		if bigErr != nil {
			return
		}
		for i := 0; i < len(papers) && bigErr == nil; i += 5000 {
			_, bigErr = s.Merge(papers[i:i+5000], t0.Add(time.Duration(i)*time.Minute))
		}
		if err := s.Close(); bigErr == nil {
			bigErr = err
		}
	})
	if bigErr != nil {
		b.Fatalf("build %d-paper store: %v", benchPapers, bigErr)
	}
	return filepath.Join(bigDir, "history.db")
}

// copyStore copies the big store into a fresh directory, for benchmarks that
// write.
func copyStore(b *testing.B) string {
	b.Helper()
	src, err := os.Open(bigStore(b))
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	defer src.Close()
	path := filepath.Join(b.TempDir(), "history.db")
	dst, err := os.Create(path)
	if err != nil {
		b.Fatalf("create: %v", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatalf("copy: %v", err)
	}
	if err := dst.Close(); err != nil {
		b.Fatalf("close: %v", err)
	}
	return path
}

func BenchmarkOpen100k(b *testing.B) {
	path := bigStore(b)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatalf("stat: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(path)
		if err != nil {
			b.Fatalf("Open: %v", err)
		}
		if s.Len() != benchPapers {
			b.Fatalf("Len = %d, want %d", s.Len(), benchPapers)
		}
		if err := s.Close(); err != nil {
			b.Fatalf("Close: %v", err)
		}
	}
	b.ReportMetric(float64(info.Size())/benchPapers, "file-bytes/paper")
}

// BenchmarkMerge50Into100k merges a day's worth of papers: 25 known ones
// with new counters and 25 new ones.
func BenchmarkMerge50Into100k(b *testing.B) {
	s, err := Open(copyStore(b))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	now := t0.Add(365 * 24 * time.Hour)
	next := benchPapers
	b.ReportAllocs()
	for b.Loop() {
		batch := realistic(b, next-25, 50)
		for i := range batch[:25] {
			batch[i].Upvotes += 1000
		}
		res, err := s.Merge(batch, now)
		if err != nil {
			b.Fatalf("Merge: %v", err)
		}
		if res.Added != 25 {
			b.Fatalf("Added = %d, want 25", res.Added)
		}
		next += 25
		now = now.Add(time.Minute)
	}
}

func BenchmarkPapers(b *testing.B) {
	s, err := Open(bigStore(b))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if len(s.Papers()) != benchPapers {
			b.Fatal("wrong length")
		}
	}
}

// BenchmarkFileSize1000 reports the file size per paper of a store filled
// with 1,000 papers the way paperfeed fills it: 20 daily runs of 50 new
// papers each, every run also seeing the previous day's 50 again.
func BenchmarkFileSize1000(b *testing.B) {
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "history.db")
		b.StartTimer()
		s, err := Open(path)
		if err != nil {
			b.Fatalf("Open: %v", err)
		}
		for run := range 20 {
			from := max(0, (run-1)*50)
			batch := realistic(b, from, (run+1)*50-from)
			if _, err := s.Merge(batch, t0.Add(time.Duration(run)*24*time.Hour)); err != nil {
				b.Fatalf("Merge: %v", err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatalf("Close: %v", err)
		}
		info, err := os.Stat(path)
		if err != nil {
			b.Fatalf("stat: %v", err)
		}
		size = info.Size()
	}
	b.ReportMetric(float64(size)/1000, "file-bytes/paper")
}

// BenchmarkRecord measures one realistic paper's encode and decode, and its
// stored size against the uncompressed body.
func BenchmarkRecord(b *testing.B) {
	p := realistic(b, 7, 1)[0]
	p.FirstSeen, p.LastSeen = t0, t0
	var e encoder
	v, err := e.encode(&p)
	if err != nil {
		b.Fatalf("encode: %v", err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.encode(&p); err != nil {
				b.Fatalf("encode: %v", err)
			}
		}
		b.ReportMetric(float64(len(v)), "stored-bytes")
		b.ReportMetric(float64(len(appendBody(nil, &p))), "raw-bytes")
	})
	b.Run("decode", func(b *testing.B) {
		var d decoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.decode(p.ID, v); err != nil {
				b.Fatalf("decode: %v", err)
			}
		}
	})
}
