package serve

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// discardWriter is the least a ResponseWriter can be, reused across
// iterations so the benchmark measures the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header  { return w.h }
func (w *discardWriter) WriteHeader(code int) { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

// sampleFeed is a deterministic Atom feed of about size bytes whose text
// compresses like real abstracts do (words drawn from a vocabulary), not like
// a repeated string.
func sampleFeed(size int, seed uint64) string {
	words := strings.Fields(`learning model models neural network data training language large
		diffusion reinforcement agent benchmark evaluation transformer attention vision robot policy
		reasoning graph retrieval generation method results propose show improve state art tasks`)
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<feed xmlns="http://www.w3.org/2005/Atom">` + "\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "<entry><id>tag:paperfeed,2026:paper/2606.%05d</id><title>", rng.IntN(100000))
		for range 8 {
			b.WriteString(words[rng.IntN(len(words))] + " ")
		}
		b.WriteString("</title><summary>")
		for range 150 {
			b.WriteString(words[rng.IntN(len(words))] + " ")
		}
		b.WriteString("</summary></entry>\n")
	}
	b.WriteString("</feed>\n")
	return b.String()
}

func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	feed := sampleFeed(100_000, 1)
	writeFile(b, filepath.Join(dir, "feed.atom"), feed, fileTime)
	h := New(dir, Options{MaxAge: time.Hour})
	if err := h.Reload(); err != nil {
		b.Fatal(err)
	}
	e := (*h.set.Load())["/feed.atom"]
	cases := []struct {
		name   string
		hdr    http.Header
		status int
		n      int
	}{
		{"plain", http.Header{}, 200, len(feed)},
		{"gzip", http.Header{"Accept-Encoding": {"gzip, deflate, br"}}, 200, len(e.gz.body)},
		{"304", http.Header{"If-None-Match": {e.plain.etag}}, 304, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req, err := http.NewRequest("GET", "/feed.atom", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header = c.hdr
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.SetBytes(int64(c.n))
			for b.Loop() {
				clear(w.h)
				w.n = 0
				h.ServeHTTP(w, req)
			}
			if w.status != c.status || w.n != c.n {
				b.Fatalf("got status %d with %d bytes, want %d with %d", w.status, w.n, c.status, c.n)
			}
		})
	}
}

func BenchmarkReload(b *testing.B) {
	dir := b.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "feeds"), 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		writeFile(b, filepath.Join(dir, "feeds", fmt.Sprintf("topic-%03d.atom", i)), sampleFeed(20_000, uint64(i)), fileTime)
	}
	b.Run("unchanged", func(b *testing.B) {
		h := New(dir, Options{})
		if err := h.Reload(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Reload(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := New(dir, Options{}).Reload(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
