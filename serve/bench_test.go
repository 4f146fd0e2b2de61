package serve

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
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

// ReadFrom is there because net/http's ResponseWriter has it (it sends a
// file with sendfile): without it io.Copy would allocate a 32 KB buffer per
// response, which no real response does.
func (w *discardWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(io.Discard, r)
	w.n += int(n)
	return n, err
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

// writeFeed writes a feed and its .gz copy, as the site writer does.
func writeFeed(t testing.TB, name, feed string) {
	writeFile(t, name, feed, fileTime)
	writeFile(t, name+".gz", string(gzipOf(t, []byte(feed))), fileTime)
}

func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	feed := sampleFeed(100_000, 1)
	writeFeed(b, filepath.Join(dir, "feed.atom"), feed)
	h := New(dir, Options{MaxAge: time.Hour})
	if err := h.Reload(); err != nil {
		b.Fatal(err)
	}
	r := routes(h)["/feed.atom"]
	gzipHdr := http.Header{"Accept-Encoding": {"gzip, deflate, br"}}
	cases := []struct {
		name   string
		hdr    http.Header
		status int
		n      int
	}{
		{"plain", http.Header{}, 200, len(feed)},
		{"gzip", gzipHdr, 200, int(r.gz.size)},
		{"304", http.Header{"If-None-Match": r.plain.etag}, 304, 0},
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
		writeFeed(b, filepath.Join(dir, "feeds", fmt.Sprintf("topic-%03d.atom", i)), sampleFeed(20_000, uint64(i)))
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

// BenchmarkServeConn serves the 100 KB feed over a real loopback connection
// with the service's server, one request at a time on a kept-alive conn, so
// the plain file goes out with sendfile. The allocations are the whole
// process's, client included.
func BenchmarkServeConn(b *testing.B) {
	dir := b.TempDir()
	writeFeed(b, filepath.Join(dir, "feed.atom"), sampleFeed(100_000, 1))
	h := New(dir, Options{MaxAge: time.Hour})
	if err := h.Reload(); err != nil {
		b.Fatal(err)
	}
	srv := serveHandler(b, h)
	addr := srv.Listener.Addr().String()
	for _, c := range []struct{ name, hdr string }{
		{"plain", ""},
		{"gzip", "Accept-Encoding: gzip\r\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			req := []byte("GET /feed.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n" + c.hdr + "\r\n")
			// The first response gives the length of every one: Date has a
			// fixed width.
			var raw countingReader
			raw.r = conn
			if _, err := conn.Write(req); err != nil {
				b.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(&raw), nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != 200 {
				b.Fatalf("status %d, %v", resp.StatusCode, err)
			}
			buf := make([]byte, raw.n)
			b.SetBytes(int64(raw.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(conn, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countingReader counts what is read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
