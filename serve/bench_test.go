package serve

import (
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
	gzipHdr := http.Header{"Accept-Encoding": {"gzip, deflate, br"}}
	cases := []struct {
		name   string
		hdr    http.Header
		held   bool // the request came on a Coalesce conn
		status int
		n      int
	}{
		{"plain", http.Header{}, false, 200, len(feed)},
		{"gzip", gzipHdr, false, 200, len(e.gz.body)},
		{"304", http.Header{"If-None-Match": {e.plain.etag}}, false, 304, 0},
		{"gzip-held", gzipHdr, true, 200, len(e.gz.body)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			req, err := http.NewRequest("GET", "/feed.atom", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header = c.hdr
			w := &discardWriter{h: http.Header{}}
			var rw http.ResponseWriter = w
			var sink *discardConn
			if c.held {
				sink = &discardConn{}
				hc := &conn{Conn: sink}
				req = req.WithContext(ConnContext(req.Context(), hc))
				rw = connWriter{w, hc}
			}
			b.ReportAllocs()
			b.SetBytes(int64(c.n))
			for b.Loop() {
				clear(w.h)
				w.n = 0
				h.ServeHTTP(rw, req)
			}
			if w.status != c.status || w.n != c.n {
				b.Fatalf("got status %d with %d bytes, want %d with %d", w.status, w.n, c.status, c.n)
			}
			if sink != nil && sink.writes != b.N {
				b.Fatalf("got %d writes on the conn for %d responses", sink.writes, b.N)
			}
		})
	}
}

// connWriter writes the body to its conn as net/http does, and counts it in
// its discardWriter.
type connWriter struct {
	*discardWriter
	c *conn
}

func (w connWriter) Write(b []byte) (int, error) {
	w.discardWriter.Write(b) //nolint:errcheck // never fails
	return w.c.Write(b)
}

func (w connWriter) Flush() {}

// discardConn is a net.Conn that counts and drops what is written to it; its
// other methods are not called.
type discardConn struct {
	net.Conn
	writes int
}

func (c *discardConn) Write(b []byte) (int, error) {
	c.writes++
	return len(b), nil
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

// BenchmarkServeConn serves the 100 KB feed over a real loopback connection,
// one request at a time on a kept-alive conn, over a bare listener and a
// Coalesce one. writes/op counts the server's write calls per response; the
// allocations are the whole process's, client included.
func BenchmarkServeConn(b *testing.B) {
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "feed.atom"), sampleFeed(100_000, 1), fileTime)
	h := New(dir, Options{MaxAge: time.Hour})
	if err := h.Reload(); err != nil {
		b.Fatal(err)
	}
	for _, lst := range []struct {
		name     string
		coalesce bool
	}{{"bare", false}, {"coalesced", true}} {
		_, addr, cl := countedServer(b, h, lst.coalesce)
		for _, c := range []struct{ name, hdr string }{
			{"plain", ""},
			{"gzip", "Accept-Encoding: gzip\r\n"},
		} {
			b.Run(c.name+"/"+lst.name, func(b *testing.B) {
				rc := dialRaw(b, addr)
				// The first response gives the length of every one: Date
				// has a fixed width.
				resp, _, raw := rc.do(b, "GET", "/feed.atom", c.hdr)
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				req := []byte("GET /feed.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n" + c.hdr + "\r\n")
				buf := make([]byte, len(raw))
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				writes := cl.writes.Load()
				for b.Loop() {
					if _, err := rc.conn.Write(req); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(rc.conn, buf); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cl.writes.Load()-writes)/float64(b.N), "writes/op")
			})
		}
	}
}
