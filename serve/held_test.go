package serve

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHeldGzip: a held .gz is sent as the Reload that verified it read it,
// under its own ETag, until the next Reload, whatever happens to it or its
// file on disk meanwhile; that Reload brings in the new bytes, or sends the
// file uncompressed when the .gz no longer holds it.
func TestHeldGzip(t *testing.T) {
	const atomPath, atomFile = "/feeds/cs-lg.atom", "feeds/cs-lg.atom"
	const next = "<feed>the next version</feed>"
	newer := fileTime.Add(time.Hour)
	gz := map[string]string{"Accept-Encoding": "gzip"}
	tests := []struct {
		name   string
		change func(t *testing.T, name string) // name: the atom feed's path
		// Before the next Reload, the answer to a request without gzip.
		plainStatus int
		plainBody   string // "" for the file as the site has it
		// After it: the status and the body, decompressed when gzip is
		// sent.
		afterStatus int
		afterGzip   bool
		afterBody   string // "" for the file as the site has it
	}{
		{
			name: "both_replaced",
			change: func(t *testing.T, name string) {
				writeFile(t, name, next, newer)
				writeFile(t, name+".gz", string(gzipOf(t, []byte(next))), newer)
			},
			plainStatus: 200, plainBody: next,
			afterStatus: 200, afterGzip: true, afterBody: next,
		},
		{
			name: "gz_corrupted",
			change: func(t *testing.T, name string) {
				writeFile(t, name+".gz", "not gzip at all", newer)
			},
			plainStatus: 200,
			afterStatus: 200,
		},
		{
			name: "gz_removed",
			change: func(t *testing.T, name string) {
				if err := os.Remove(name + ".gz"); err != nil {
					t.Fatal(err)
				}
			},
			plainStatus: 200,
			afterStatus: 200,
		},
		{
			name: "file_replaced",
			change: func(t *testing.T, name string) {
				writeFile(t, name, next, newer)
			},
			plainStatus: 200, plainBody: next,
			afterStatus: 200, afterBody: next,
		},
		{
			// A held .gz needs no open: it is sent while its file cannot
			// be opened (503 without gzip), and gone with it after Reload.
			name: "file_unavailable",
			change: func(t *testing.T, name string) {
				for _, n := range []string{name, name + ".gz"} {
					if err := os.Remove(n); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Mkdir(name, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			plainStatus: 503, plainBody: "503 service unavailable\n",
			afterStatus: 404, afterBody: "404 page not found\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := site(t)
			h, srv := start(t, dir, Options{})
			c := client(t)
			plain, held := readFile(t, dir, atomFile), readFile(t, dir, atomFile+".gz")
			if r := routes(h)[atomPath]; !bytes.Equal(r.gzBody, held) {
				t.Fatalf("held %d bytes, want the %d of %s.gz", len(r.gzBody), len(held), atomFile)
			}
			tt.change(t, filepath.Join(dir, filepath.FromSlash(atomFile)))

			resp, body := do(t, c, "GET", srv.URL+atomPath, gz)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(body, held) {
				t.Errorf("before Reload: got %d (Content-Encoding %q) with %d bytes, want 200 with the held %d",
					resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body), len(held))
			}
			if got, want := resp.Header.Get("Etag"), etagOf(held); got != want {
				t.Errorf("before Reload: ETag %s, want the held bytes' %s", got, want)
			}
			if resp, _ := do(t, c, "GET", srv.URL+atomPath, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etagOf(held)}); resp.StatusCode != 304 {
				t.Errorf("before Reload: If-None-Match of the held bytes: %d, want 304", resp.StatusCode)
			}
			resp, body = do(t, c, "GET", srv.URL+atomPath, nil)
			if want := cmpOr(tt.plainBody, string(plain)); resp.StatusCode != tt.plainStatus || string(body) != want {
				t.Errorf("before Reload, without gzip: got %d %q, want %d %q", resp.StatusCode, body, tt.plainStatus, want)
			}

			if err := h.Reload(); err != nil {
				t.Fatal(err)
			}
			resp, body = do(t, c, "GET", srv.URL+atomPath, gz)
			if resp.StatusCode != tt.afterStatus {
				t.Fatalf("after Reload: status %d, want %d", resp.StatusCode, tt.afterStatus)
			}
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.afterGzip {
				t.Fatalf("after Reload: gzip sent %v, want %v", got, tt.afterGzip)
			}
			sent := body
			if tt.afterGzip {
				body = gunzip(t, body)
				if r := routes(h)[atomPath]; !bytes.Equal(r.gzBody, readFile(t, dir, atomFile+".gz")) {
					t.Errorf("after Reload: held %d bytes, want the .gz now on disk", len(r.gzBody))
				}
			}
			if want := cmpOr(tt.afterBody, string(plain)); string(body) != want {
				t.Errorf("after Reload: body %q, want %q", body, want)
			}
			if tt.afterStatus == 200 {
				if got, want := resp.Header.Get("Etag"), etagOf(sent); got != want {
					t.Errorf("after Reload: ETag %s, want the bytes sent's %s", got, want)
				}
			}
		})
	}
}

// TestHeldGzipRanges: ranges of a held .gz, one or several, are its bytes.
func TestHeldGzipRanges(t *testing.T) {
	dir := site(t)
	h, srv := start(t, dir, Options{})
	held := readFile(t, dir, "feeds/cs-lg.rss.gz")
	if r := routes(h)["/feeds/cs-lg.rss"]; r.gzBody == nil {
		t.Fatal("feeds/cs-lg.rss.gz not held")
	}
	n := len(held)
	tests := []struct {
		name  string
		rng   string
		parts [][2]int // [from, to) of held
	}{
		{name: "middle", rng: "bytes=10-19", parts: [][2]int{{10, 20}}},
		{name: "to_end", rng: fmt.Sprintf("bytes=%d-", n-100), parts: [][2]int{{n - 100, n}}},
		{name: "suffix", rng: "bytes=-7", parts: [][2]int{{n - 7, n}}},
		{name: "whole", rng: "bytes=0-", parts: [][2]int{{0, n}}},
		{name: "two", rng: "bytes=0-9,100-149", parts: [][2]int{{0, 10}, {100, 150}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, client(t), "GET", srv.URL+"/feeds/cs-lg.rss", map[string]string{"Accept-Encoding": "gzip", "Range": tt.rng})
			if resp.StatusCode != 206 || resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("got %d (Content-Encoding %q), want 206 of the gzip copy", resp.StatusCode, resp.Header.Get("Content-Encoding"))
			}
			var got [][]byte
			if len(tt.parts) == 1 {
				got = append(got, body)
			} else {
				_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
				if err != nil {
					t.Fatal(err)
				}
				mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
				for {
					p, err := mr.NextPart()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					b, err := io.ReadAll(p)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, b)
				}
			}
			if len(got) != len(tt.parts) {
				t.Fatalf("got %d parts, want %d", len(got), len(tt.parts))
			}
			for i, p := range tt.parts {
				if !bytes.Equal(got[i], held[p[0]:p[1]]) {
					t.Errorf("part %d: got %d bytes, want bytes [%d, %d) of the .gz", i, len(got[i]), p[0], p[1])
				}
			}
		})
	}
}

// TestHeldGzipCaps: a .gz is held only when it is at most holdFile bytes and
// fits in what the set still may hold under holdTotal, taken in name order;
// the others are sent from disk, the same bytes under the same ETag.
func TestHeldGzipCaps(t *testing.T) {
	dir := t.TempDir()
	// b's .gz is the largest, a's the smallest.
	for name, size := range map[string]int{"a.atom": 3_000, "b.atom": 30_000, "c.atom": 8_000} {
		writeFeed(t, filepath.Join(dir, name), sampleFeed(size, uint64(size)))
	}
	size := func(name string) int64 { return int64(len(readFile(t, dir, name+".gz"))) }
	a, b, c := size("a.atom"), size("b.atom"), size("c.atom")
	if !(a < c && c < b) {
		t.Fatalf(".gz sizes a %d, b %d, c %d: want a < c < b", a, b, c)
	}
	tests := []struct {
		name        string
		file, total int64 // holdFile, holdTotal
		held        []string
	}{
		{name: "all", file: maxHeldFile, total: maxHeld, held: []string{"a", "b", "c"}},
		{name: "exact", file: b, total: a + b + c, held: []string{"a", "b", "c"}},
		{name: "none", file: maxHeldFile, total: 0},
		{name: "total_takes_first", file: maxHeldFile, total: a + b, held: []string{"a", "b"}},
		{name: "total_one_short", file: maxHeldFile, total: a + b - 1, held: []string{"a", "c"}},
		{name: "total_skips_larger", file: maxHeldFile, total: a + c, held: []string{"a", "c"}},
		{name: "file_cap", file: c, total: maxHeld, held: []string{"a", "c"}},
		{name: "file_cap_one_short", file: c - 1, total: maxHeld, held: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, srv := start(t, dir, Options{}, func(h *Handler) { h.holdFile, h.holdTotal = tt.file, tt.total })
			checkHeld(t, h, dir, tt.held)
			for _, name := range []string{"a", "b", "c"} {
				want := readFile(t, dir, name+".atom.gz")
				resp, body := do(t, client(t), "GET", srv.URL+"/"+name+".atom", map[string]string{"Accept-Encoding": "gzip"})
				if resp.StatusCode != 200 || !bytes.Equal(body, want) || resp.Header.Get("Etag") != etagOf(want) {
					t.Errorf("%s: got %d with %d bytes (ETag %s), want 200 with the %d of its .gz (ETag %s)",
						name, resp.StatusCode, len(body), resp.Header.Get("Etag"), len(want), etagOf(want))
				}
			}
		})
	}

	// Across Reloads the set holds what a first Reload of the same files
	// would: a new .gz that comes first in name order takes the room of a
	// held one, and gives it back when it goes.
	t.Run("across_reloads", func(t *testing.T) {
		dir := t.TempDir()
		for name, size := range map[string]int{"b.atom": 30_000, "c.atom": 8_000} {
			writeFeed(t, filepath.Join(dir, name), sampleFeed(size, uint64(size)))
		}
		b, c := int64(len(readFile(t, dir, "b.atom.gz"))), int64(len(readFile(t, dir, "c.atom.gz")))
		h := New(dir, Options{})
		h.holdTotal = b + c
		steps := []struct {
			name   string
			change func()
			held   []string
		}{
			{"first", func() {}, []string{"b", "c"}},
			{"unchanged", func() {}, []string{"b", "c"}},
			{"a_added", func() { writeFeed(t, filepath.Join(dir, "a.atom"), sampleFeed(3_000, 3_000)) }, []string{"a", "b"}},
			{"a_removed", func() {
				for _, n := range []string{"a.atom", "a.atom.gz"} {
					if err := os.Remove(filepath.Join(dir, n)); err != nil {
						t.Fatal(err)
					}
				}
			}, []string{"b", "c"}},
		}
		var before *route
		for _, st := range steps {
			st.change()
			if err := h.Reload(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			t.Run(st.name, func(t *testing.T) { checkHeld(t, h, dir, st.held) })
			if st.name == "unchanged" && &routes(h)["/b.atom"].gzBody[0] != &before.gzBody[0] {
				t.Error("unchanged: b.atom.gz read again, want the held bytes kept")
			}
			before = routes(h)["/b.atom"]
		}
	})
}

// checkHeld checks that h holds exactly the .gz of the feeds named (as
// "a" for a.atom.gz), each as it is on disk, and counts them within
// holdTotal.
func checkHeld(t *testing.T, h *Handler, dir string, names []string) {
	t.Helper()
	s := h.cur.Load()
	var got []string
	var sum int64
	for p, r := range s.routes {
		if r.gzBody == nil {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "/"), ".atom")
		got = append(got, name)
		sum += int64(len(r.gzBody))
		if want := readFile(t, dir, name+".atom.gz"); !bytes.Equal(r.gzBody, want) {
			t.Errorf("%s: held %d bytes, want the %d of its .gz", name, len(r.gzBody), len(want))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Errorf("held %q, want %q", got, names)
	}
	if s.held != sum || sum > h.holdTotal {
		t.Errorf("held %d bytes counted as %d, want the count exact and at most %d", sum, s.held, h.holdTotal)
	}
}

// TestHeldGzipAllocs sends a held .gz over a real connection many times:
// the process must not allocate anything like the body per response (net/http's
// copy into the connection allocates a buffer the size of the body, up to
// 32 KB, for a body that is not a file, unless heldWriter hands it over).
func TestHeldGzipAllocs(t *testing.T) {
	dir := t.TempDir()
	feed := sampleFeed(400_000, 7)
	writeFeed(t, filepath.Join(dir, "feed.atom"), feed)
	h, srv := start(t, dir, Options{})
	r := routes(h)["/feed.atom"]
	if r.gzBody == nil || len(r.gzBody) < 40_000 {
		t.Fatalf("held .gz of %d bytes, want one of 40 KB or more", len(r.gzBody))
	}
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET /feed.atom HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n\r\n")
	// Every response has the length of the first: Date has a fixed width.
	raw := &countingReader{r: conn}
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, r.gzBody) {
		t.Fatalf("first response: %d bytes, %v; want the held %d", len(body), err, len(r.gzBody))
	}
	buf := make([]byte, raw.n)
	const rounds = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range rounds {
		if _, err := conn.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if !bytes.HasSuffix(buf, r.gzBody) {
		t.Fatal("last response does not end with the held body")
	}
	// About 3 KB per request goes to the request and its header; a copy
	// buffer would add 32 KB.
	if per := (after.TotalAlloc - before.TotalAlloc) / rounds; per > 16<<10 {
		t.Errorf("allocated %d bytes per response of a %d-byte held body, want under 16 KB", per, len(r.gzBody))
	}
}
