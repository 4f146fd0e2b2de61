package store

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paperfeed/paperfeed/paper"
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
// transactions (5,000 papers each, to keep the build short), all on t0's
// day.
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
			_, bigErr = s.Merge(papers[i:i+5000], t0.Add(time.Duration(i/5000)*time.Minute))
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
	var used int64
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(path)
		if err != nil {
			b.Fatalf("Open: %v", err)
		}
		if s.Len() != benchPapers {
			b.Fatalf("Len = %d, want %d", s.Len(), benchPapers)
		}
		used = usedBytes(b, s)
		if err := s.Close(); err != nil {
			b.Fatalf("Close: %v", err)
		}
	}
	b.ReportMetric(float64(info.Size())/benchPapers, "file-bytes/paper")
	b.ReportMetric(float64(used)/benchPapers, "used-bytes/paper")
}

// usedBytes is the size of the pages s's file uses (bbolt's high-water
// mark); the file itself grows in steps of up to 16 MB beyond it.
func usedBytes(b *testing.B, s *Store) int64 {
	b.Helper()
	var size int64
	if err := s.db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	}); err != nil {
		b.Fatalf("view: %v", err)
	}
	return size
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

// BenchmarkForEach100k decodes the whole history, as a full routing pass
// does.
func BenchmarkForEach100k(b *testing.B) {
	s, err := Open(bigStore(b))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := s.ForEach(func(*paper.Paper) error {
			n++
			return nil
		}); err != nil {
			b.Fatalf("ForEach: %v", err)
		}
		if n != benchPapers {
			b.Fatalf("ForEach saw %d papers, want %d", n, benchPapers)
		}
	}
}

// BenchmarkGet100 reads the papers of a feed: 100 IDs spread over the
// history.
func BenchmarkGet100(b *testing.B) {
	s, err := Open(bigStore(b))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	var ids []string
	for i := range 100 {
		ids = append(ids, realisticID(i*(benchPapers/100)+7))
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.Get(ids...)
		if err != nil {
			b.Fatalf("Get: %v", err)
		}
		if len(got) != 100 {
			b.Fatalf("Get returned %d papers, want 100", len(got))
		}
	}
}

// BenchmarkRemerge100k merges the whole history again on the day it was
// merged: a re-scrape that brings nothing new. It reports how much the file
// grew, which must be nothing.
func BenchmarkRemerge100k(b *testing.B) {
	path := copyStore(b)
	s, err := Open(path)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	papers := realistic(b, 0, benchPapers)
	before := fileSize(b, path)
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.Merge(papers, t0.Add(3*time.Hour))
		if err != nil {
			b.Fatalf("Merge: %v", err)
		}
		if len(res.Changed) != 0 {
			b.Fatalf("Merge changed %d papers, want none", len(res.Changed))
		}
	}
	b.ReportMetric(float64(fileSize(b, path)-before), "file-growth-bytes")
}

// BenchmarkFileSize1000 reports the file size per paper of a store filled
// with 1,000 papers the way paperfeed fills it: 20 daily runs of 50 new
// papers each, every run also seeing the previous day's 50 again.
func BenchmarkFileSize1000(b *testing.B) {
	b.ReportAllocs()
	var size, used int64
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
		used = usedBytes(b, s)
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
	b.ReportMetric(float64(used)/1000, "used-bytes/paper")
}

// BenchmarkRecord measures one realistic paper's encode and decode, and its
// stored size against the uncompressed body; and the decoding of its format
// 1 record, which migration pays once per paper.
func BenchmarkRecord(b *testing.B) {
	p := realistic(b, 7, 1)[0]
	p.FirstSeen, p.LastSeen = t0, seenDay(t0)
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
		var u unpacker
		body, err := u.body(v)
		if err != nil {
			b.Fatalf("body: %v", err)
		}
		b.ReportMetric(float64(len(v)), "stored-bytes")
		b.ReportMetric(float64(len(body)), "raw-bytes")
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
	b.Run("decode-v1", func(b *testing.B) {
		v1, err := (&legacyEncoder{}).encode(&p)
		if err != nil {
			b.Fatalf("encode: %v", err)
		}
		var d legacyDecoder
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.decode(p.ID, v1); err != nil {
				b.Fatalf("decode: %v", err)
			}
		}
	})
}

// BenchmarkMigrate100k opens a format 1 file of benchPapers papers, which
// migrates it: paid once, by the first run of the new release.
func BenchmarkMigrate100k(b *testing.B) {
	src := filepath.Join(b.TempDir(), "v1.db")
	legacyStore(b, src, realistic(b, 0, benchPapers), t0)
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatalf("read: %v", err)
	}
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "history.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatalf("write: %v", err)
		}
		b.StartTimer()
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
		size = fileSize(b, path)
	}
	b.ReportMetric(float64(len(data))/benchPapers, "v1-file-bytes/paper")
	b.ReportMetric(float64(size)/benchPapers, "file-bytes/paper")
}
