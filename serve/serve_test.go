package serve

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fileTime is the mtime every file of a test site gets, so Last-Modified in
// the golden files never depends on when the repository was checked out.
var fileTime = time.Date(2026, 4, 27, 4, 0, 1, 0, time.UTC)

const secret = "outside-secret"

// site copies testdata/site (feeds and index.html with their .gz copies, as
// the site writer leaves them) into a temp dir, stamps every file with
// fileTime, and adds what must never be served: a writer's hidden temp file, a
// hidden directory, a symlink to a file outside the site, a symlink to the
// directory above it, and that outside file. It returns the site directory.
func site(t testing.TB) string {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "site")
	if err := os.CopyFS(dir, os.DirFS("testdata/site")); err != nil {
		t.Fatalf("copy site: %v", err)
	}
	writeFile(t, filepath.Join(base, "secret.txt"), secret, fileTime)
	writeFile(t, filepath.Join(dir, "feeds", ".cs-lg.atom.tmp-123"), "partial "+secret, fileTime)
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, ".git", "config"), secret, fileTime)
	writeFile(t, filepath.Join(dir, ".hidden.json"), secret, fileTime)
	if err := os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		return os.Chtimes(p, fileTime, fileTime)
	})
	if err != nil {
		t.Fatalf("stamp site: %v", err)
	}
	return dir
}

// writeFile writes body to name through a hidden temp file and a rename, as
// the site writer does, and sets its mtime.
func writeFile(t testing.TB, name, body string, mtime time.Time) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp-1")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gzipOf compresses b as the site writer does.
func gzipOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return out
}

// etagOf is the contract's ETag of the bytes sent: the quoted hex of the
// first 16 bytes of their SHA-256 (of the .gz file's bytes for the gzip
// variant).
func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// start serves dir with a reloaded Handler on a loopback server configured
// as the service's (NewServer). setup, if any, runs before the Reload.
func start(t testing.TB, dir string, opt Options, setup ...func(*Handler)) (*Handler, *httptest.Server) {
	t.Helper()
	h := New(dir, opt)
	for _, f := range setup {
		f(h)
	}
	if err := h.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	return h, serveHandler(t, h)
}

func serveHandler(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config = NewServer(h, nil)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// routes is the handler's current set.
func routes(h *Handler) map[string]*route {
	return h.cur.Load().routes
}

// fromDisk makes h hold no .gz, so every one is sent from disk, as those
// beyond maxHeld are.
func fromDisk(h *Handler) { h.holdTotal = 0 }

// holdModes are the two ways a verified .gz is sent: held in memory (the
// default for small ones) and from disk. Both must answer alike.
var holdModes = []struct {
	name  string
	setup func(*Handler)
	held  bool
}{
	{"held", func(*Handler) {}, true},
	{"disk", fromDisk, false},
}

// client does not ask for gzip on its own, so each case controls
// Accept-Encoding and sees the bytes as sent.
func client(t testing.TB) *http.Client {
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func do(t testing.TB, c *http.Client, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

// head renders status and headers (but Date) one per line, sorted.
func head(resp *http.Response) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d\n", resp.Proto, resp.StatusCode)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		if k != "Date" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestFixtures checks what TestServe relies on: each .gz of testdata/site
// holds its file, compressed.
func TestFixtures(t *testing.T) {
	for _, name := range []string{"index.html", "feeds/cs-lg.atom", "feeds/cs-lg.rss"} {
		plain, gz := readFile(t, "testdata/site", name), readFile(t, "testdata/site", name+".gz")
		if !bytes.Equal(gunzip(t, gz), plain) || len(gz) >= len(plain) {
			t.Errorf("%s.gz is not a smaller gzip of %s", name, name)
		}
	}
}

func TestServe(t *testing.T) {
	dir := site(t)

	const atomPath, atomFile = "/feeds/cs-lg.atom", "feeds/cs-lg.atom"
	plainTag := etagOf(readFile(t, dir, atomFile))
	gzTag := etagOf(readFile(t, dir, atomFile+".gz"))
	lastMod := fileTime.Format(http.TimeFormat)
	gz := map[string]string{"Accept-Encoding": "gzip"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	tests := []serveCase{
		{name: "root", path: "/", status: 200, file: "index.html"},
		{name: "index_html", path: "/index.html", status: 200, file: "index.html"},
		{name: "root_gzip", path: "/", hdr: gz, status: 200, file: "index.html", gzip: true},
		{name: "atom", path: atomPath, status: 200, file: atomFile},
		{name: "rss", path: "/feeds/cs-lg.rss", status: 200, file: "feeds/cs-lg.rss"},
		{name: "json", path: "/feeds/cs-lg.json", status: 200, file: "feeds/cs-lg.json"},
		{name: "opml", path: "/feeds.opml", status: 200, file: "feeds.opml"},
		{name: "gzip", path: atomPath, hdr: gz, status: 200, file: atomFile, gzip: true},
		{name: "gzip_rss", path: "/feeds/cs-lg.rss", hdr: with("Accept-Encoding", "gzip, deflate, br"), status: 200, file: "feeds/cs-lg.rss", gzip: true},
		{name: "gzip_q", path: atomPath, hdr: with("Accept-Encoding", "br;q=1.0, gzip;q=0.5"), status: 200, file: atomFile, gzip: true},
		{name: "gzip_star", path: atomPath, hdr: with("Accept-Encoding", "*"), status: 200, file: atomFile, gzip: true},
		{name: "gzip_x_upper", path: atomPath, hdr: with("Accept-Encoding", "X-GZIP"), status: 200, file: atomFile, gzip: true},
		{name: "gzip_q0", path: atomPath, hdr: with("Accept-Encoding", "gzip;q=0"), status: 200, file: atomFile},
		{name: "gzip_q0_star", path: atomPath, hdr: with("Accept-Encoding", "gzip;q=0, *"), status: 200, file: atomFile},
		{name: "star_q0", path: atomPath, hdr: with("Accept-Encoding", "*;q=0.000"), status: 200, file: atomFile},
		{name: "identity", path: atomPath, hdr: with("Accept-Encoding", "identity"), status: 200, file: atomFile},
		{name: "gzip_no_copy", path: "/feeds/cs-lg.json", hdr: gz, status: 200, file: "feeds/cs-lg.json"},
		{name: "gzip_no_copy_css", path: "/tiny.css", hdr: gz, status: 200, file: "tiny.css"},
		{name: "inm_plain", path: atomPath, hdr: with("If-None-Match", plainTag), status: 304, file: atomFile},
		{name: "inm_gzip", path: atomPath, hdr: with("If-None-Match", gzTag, "Accept-Encoding", "gzip"), status: 304, file: atomFile, gzip: true},
		{name: "inm_gzip_tag_plain_request", path: atomPath, hdr: with("If-None-Match", gzTag), status: 200, file: atomFile},
		{name: "inm_plain_tag_gzip_request", path: atomPath, hdr: with("If-None-Match", plainTag, "Accept-Encoding", "gzip"), status: 200, file: atomFile, gzip: true},
		{name: "inm_weak", path: atomPath, hdr: with("If-None-Match", "W/"+plainTag), status: 304, file: atomFile},
		{name: "inm_list", path: atomPath, hdr: with("If-None-Match", `"nope", W/"other",`+gzTag+" , "+plainTag), status: 304, file: atomFile},
		{name: "inm_star", path: atomPath, hdr: with("If-None-Match", "*"), status: 304, file: atomFile},
		{name: "inm_mismatch_beats_ims", path: atomPath, hdr: with("If-None-Match", `"nope"`, "If-Modified-Since", lastMod), status: 200, file: atomFile},
		{name: "ims_equal", path: atomPath, hdr: with("If-Modified-Since", lastMod), status: 304, file: atomFile},
		{name: "ims_gzip", path: atomPath, hdr: with("If-Modified-Since", lastMod, "Accept-Encoding", "gzip"), status: 304, file: atomFile, gzip: true},
		{name: "ims_later", path: atomPath, hdr: with("If-Modified-Since", fileTime.Add(time.Hour).Format(http.TimeFormat)), status: 304, file: atomFile},
		{name: "ims_earlier", path: atomPath, hdr: with("If-Modified-Since", fileTime.Add(-time.Second).Format(http.TimeFormat)), status: 200, file: atomFile},
		{name: "ims_invalid", path: atomPath, hdr: with("If-Modified-Since", "yesterday"), status: 200, file: atomFile},
		{name: "range", path: atomPath, hdr: with("Range", "bytes=0-99"), status: 206, file: atomFile, to: 100},
		{name: "range_suffix", path: atomPath, hdr: with("Range", "bytes=-10"), status: 206, file: atomFile, from: -10},
		{name: "range_gzip", path: atomPath, hdr: with("Range", "bytes=10-19", "Accept-Encoding", "gzip"), status: 206, file: atomFile, gzip: true, from: 10, to: 20},
		{name: "range_unsatisfiable", path: atomPath, hdr: with("Range", "bytes=100000-"), status: 416},
		{name: "if_range_current", path: atomPath, hdr: with("Range", "bytes=0-99", "If-Range", plainTag), status: 206, file: atomFile, to: 100},
		{name: "if_range_other", path: atomPath, hdr: with("Range", "bytes=0-99", "If-Range", gzTag), status: 200, file: atomFile},
		{name: "head", method: "HEAD", path: atomPath, status: 200, file: atomFile},
		{name: "head_gzip", method: "HEAD", path: atomPath, hdr: gz, status: 200, file: atomFile, gzip: true},
		{name: "head_unknown", method: "HEAD", path: "/nope.atom", status: 404},
		{name: "unknown", path: "/feeds/nope.atom", status: 404},
		{name: "gz_own_name", path: atomPath + ".gz", status: 404},
		{name: "gz_own_name_gzip", path: atomPath + ".gz", hdr: gz, status: 404},
		{name: "gz_own_name_index", path: "/index.html.gz", status: 404},
		{name: "dir_slash", path: "/feeds/", status: 404},
		{name: "dir", path: "/feeds", status: 404},
		{name: "hidden_temp", path: "/feeds/.cs-lg.atom.tmp-123", status: 404},
		{name: "hidden_file", path: "/.hidden.json", status: 404},
		{name: "hidden_dir", path: "/.git/config", status: 404},
		{name: "symlink_file", path: "/link.txt", status: 404},
		{name: "symlink_dir", path: "/up/secret.txt", status: 404},
		{name: "post", method: "POST", path: atomPath, status: 405},
		{name: "put", method: "PUT", path: "/", status: 405},
		{name: "options", method: "OPTIONS", path: "/", status: 405},
	}
	for _, mode := range holdModes {
		t.Run(mode.name, func(t *testing.T) {
			h, srv := start(t, dir, Options{MaxAge: 15 * time.Minute}, mode.setup)
			if held := routes(h)[atomPath].gzBody != nil; held != mode.held {
				t.Fatalf("%s.gz held: %v, want %v", atomFile, held, mode.held)
			}
			serveCases(t, srv.URL, client(t), dir, tests)
		})
	}
}

// serveCase is one request of TestServe and what must come back.
type serveCase struct {
	name   string
	method string
	path   string
	hdr    map[string]string
	status int
	file   string // site file the response is about; "" for none
	gzip   bool   // sent as file's .gz copy
	// The body is bytes [from, to) of what is sent; to 0 for all of
	// it, from < 0 for the last -from bytes.
	from, to int
}

// serveCases runs TestServe's cases against the site in dir served at url.
// Every mode shares one golden file per case: held or not, the headers are
// the same.
func serveCases(t *testing.T, url string, c *http.Client, dir string, tests []serveCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := cmpOr(tt.method, "GET")
			resp, body := do(t, c, method, url+tt.path, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			golden(t, tt.name+".head", head(resp))
			if bytes.Contains(body, []byte(secret)) {
				t.Fatalf("body leaks content from outside the site or a hidden file: %q", body)
			}
			switch {
			case tt.file != "":
				plain := readFile(t, dir, tt.file)
				sent := plain
				if tt.gzip {
					sent = readFile(t, dir, tt.file+".gz")
				}
				if got, want := resp.Header.Get("Etag"), etagOf(sent); got != want {
					t.Errorf("ETag: got %s, want %s", got, want)
				}
				if tt.status == 304 {
					if len(body) != 0 {
						t.Errorf("body: got %d bytes, want none", len(body))
					}
					return
				}
				if got, want := resp.Header.Get("Content-Encoding"), map[bool]string{true: "gzip"}[tt.gzip]; got != want {
					t.Errorf("Content-Encoding: got %q, want %q", got, want)
				}
				if method == "HEAD" {
					if got, want := resp.Header.Get("Content-Length"), fmt.Sprint(len(sent)); got != want || len(body) != 0 {
						t.Errorf("HEAD: got Content-Length %s and %d bytes, want %s and none", got, len(body), want)
					}
					return
				}
				want := sent
				switch {
				case tt.from < 0:
					want = sent[len(sent)+tt.from:]
				case tt.to > 0:
					want = sent[tt.from:tt.to]
				case tt.gzip:
					if !bytes.Equal(gunzip(t, body), plain) {
						t.Errorf("gzip body does not decompress to %s", tt.file)
					}
				}
				if !bytes.Equal(body, want) {
					t.Errorf("body: got %d bytes, want %d bytes of %s (gzip %v)", len(body), len(want), tt.file, tt.gzip)
				}
			case tt.status == 404 && method == "GET":
				if got, want := string(body), "404 page not found\n"; got != want {
					t.Errorf("body: got %q, want %q", got, want)
				}
			case tt.status == 405:
				if got, want := resp.Header.Get("Allow"), "GET, HEAD"; got != want {
					t.Errorf("Allow: got %q, want %q", got, want)
				}
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestRawPaths sends request lines exactly as written, since http.Client
// cleans paths before they leave.
func TestRawPaths(t *testing.T) {
	dir := site(t)
	_, srv := start(t, dir, Options{})
	addr := srv.Listener.Addr().String()

	tests := []struct {
		name   string
		target string
		status int
		file   string
	}{
		{name: "dotdot", target: "/../etc/passwd", status: 404},
		{name: "dotdot_secret", target: "/../secret.txt", status: 404},
		{name: "encoded_dotdot", target: "/%2e%2e/x", status: 404},
		{name: "encoded_dotdot_secret", target: "/%2e%2e/secret.txt", status: 404},
		{name: "encoded_slash", target: "/..%2fsecret.txt", status: 404},
		{name: "nested_dotdot", target: "/feeds/../../x", status: 404},
		{name: "nested_dotdot_secret", target: "/feeds/../../secret.txt", status: 404},
		{name: "double_slash", target: "//etc/passwd", status: 404},
		{name: "absolute_form", target: "http://" + addr + "/feeds/../../secret.txt", status: 404},
		{name: "backslash", target: `/..\secret.txt`, status: 404},
		{name: "hidden_encoded", target: "/feeds/%2ecs-lg.atom.tmp-123", status: 404},
		{name: "gz_encoded", target: "/feeds/cs-lg.atom%2egz", status: 404},
		{name: "gz_dotdot", target: "/feeds/../feeds/cs-lg.atom.gz", status: 404},
		{name: "asterisk", target: "*", status: 404},
		{name: "inside_after_clean", target: "/feeds/../index.html", status: 200, file: "index.html"},
		{name: "encoded_name", target: "/feeds%2Fcs-lg.atom", status: 200, file: "feeds/cs-lg.atom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", tt.target, addr); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("read response: %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d (body %q)", resp.StatusCode, tt.status, body)
			}
			if bytes.Contains(body, []byte(secret)) {
				t.Fatalf("body leaks %q", body)
			}
			if tt.file != "" {
				if want := readFile(t, dir, tt.file); !bytes.Equal(body, want) {
					t.Errorf("body: got %d bytes, want %s", len(body), tt.file)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	dir := site(t)
	tests := []struct {
		name   string
		maxAge time.Duration
		want   string
	}{
		{name: "minutes", maxAge: 15 * time.Minute, want: "public, max-age=900"},
		{name: "fraction_truncated", maxAge: 1500 * time.Millisecond, want: "public, max-age=1"},
		{name: "zero", maxAge: 0, want: "public, max-age=0"},
		{name: "negative", maxAge: -time.Hour, want: "public, max-age=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := start(t, dir, Options{MaxAge: tt.maxAge})
			resp, _ := do(t, client(t), "GET", srv.URL+"/", nil)
			if got := resp.Header.Get("Cache-Control"); got != tt.want {
				t.Errorf("Cache-Control: got %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("logger", func(t *testing.T) {
		var buf bytes.Buffer
		h := New(dir, Options{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err := h.Reload(); err != nil {
			t.Fatal(err)
		}
		if err := h.Reload(); err != nil {
			t.Fatal(err)
		}
		// 6 files: index.html, feeds.opml, tiny.css and three feeds; three
		// have a .gz, all held.
		held := 0
		for _, name := range []string{"index.html.gz", "feeds/cs-lg.atom.gz", "feeds/cs-lg.rss.gz"} {
			held += len(readFile(t, dir, name))
		}
		for _, want := range []string{
			fmt.Sprintf("files=6 read=6 kept=0 gzip=3 gzip_ignored=0 gzip_held=3 held_bytes=%d", held),
			fmt.Sprintf("files=6 read=0 kept=6 gzip=3 gzip_ignored=0 gzip_held=3 held_bytes=%d", held),
		} {
			if got := buf.String(); !strings.Contains(got, want) {
				t.Errorf("log: got %q, want it to contain %q", got, want)
			}
		}
	})
	t.Run("nothing_before_reload", func(t *testing.T) {
		srv := httptest.NewServer(New(dir, Options{}))
		defer srv.Close()
		resp, _ := do(t, client(t), "GET", srv.URL+"/", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status: got %d, want 404", resp.StatusCode)
		}
	})
}

// TestNewServerTimeouts: the service's server bounds every phase of a
// connection, so a slow or silent client cannot hold it forever.
func TestNewServerTimeouts(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), nil)
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("%s = %v, want a bound of seconds to minutes", name, d)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"feeds/a.atom", "application/atom+xml; charset=utf-8"},
		{"feeds/a.ATOM", "application/atom+xml; charset=utf-8"},
		{"feeds/a.rss", "application/rss+xml; charset=utf-8"},
		{"feeds/a.json", "application/feed+json; charset=utf-8"},
		{"feeds.opml", "text/x-opml; charset=utf-8"},
		{"index.html", "text/html; charset=utf-8"},
		{"style.css", "text/css; charset=utf-8"},
		{"a.unknownext", "application/octet-stream"},
		{"noext", "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ContentType(tt.name); got != tt.want {
				t.Errorf("ContentType(%q): got %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestReload(t *testing.T) {
	dir := site(t)
	h, srv := start(t, dir, Options{})
	c := client(t)
	const atomPath = "/feeds/cs-lg.atom"

	_, oldAtom := do(t, c, "GET", srv.URL+atomPath, nil)
	oldTag := etagOf(oldAtom)
	oldRSS := routes(h)["/feeds/cs-lg.rss"]

	// The atom feed changes and its .gz is left behind: stale.
	newAtom := strings.Replace(string(oldAtom), "A paper about learning", "A paper about LEARNING", 1)
	writeFile(t, filepath.Join(dir, "feeds", "cs-lg.atom"), newAtom, fileTime.Add(time.Hour))
	if err := os.Remove(filepath.Join(dir, "feeds", "cs-lg.json")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "feeds", "cs-cl.atom"), "<feed/>", fileTime)
	writeFile(t, filepath.Join(dir, "feeds", "cs-cl.atom.gz"), string(gzipOf(t, []byte("<feed/>"))), fileTime)
	// Same bytes, new mtime: re-read, but the ETag must not change.
	opml := readFile(t, dir, "feeds.opml")
	writeFile(t, filepath.Join(dir, "feeds.opml"), string(opml), fileTime.Add(time.Hour))
	if err := h.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}

	gz := map[string]string{"Accept-Encoding": "gzip"}
	tests := []struct {
		name     string
		path     string
		hdr      map[string]string
		status   int
		body     string // decompressed when encoding is gzip
		etag     string
		encoding string
	}{
		{name: "changed", path: atomPath, status: 200, body: newAtom, etag: etagOf([]byte(newAtom))},
		{name: "changed_stale_gz_not_sent", path: atomPath, hdr: gz, status: 200, body: newAtom, etag: etagOf([]byte(newAtom))},
		{name: "old_etag_no_longer_matches", path: atomPath, hdr: map[string]string{"If-None-Match": oldTag}, status: 200, body: newAtom},
		{name: "old_date_no_longer_current", path: atomPath, hdr: map[string]string{"If-Modified-Since": fileTime.Format(http.TimeFormat)}, status: 200, body: newAtom},
		{name: "removed", path: "/feeds/cs-lg.json", status: 404, body: "404 page not found\n"},
		{name: "added", path: "/feeds/cs-cl.atom", status: 200, body: "<feed/>", etag: etagOf([]byte("<feed/>"))},
		{name: "added_gzip", path: "/feeds/cs-cl.atom", hdr: gz, status: 200, body: "<feed/>", encoding: "gzip"},
		{name: "touched_same_etag", path: "/feeds.opml", status: 200, body: string(opml), etag: etagOf(opml)},
		{name: "unchanged", path: "/feeds/cs-lg.rss", status: 200, body: string(readFile(t, dir, "feeds/cs-lg.rss"))},
		{name: "unchanged_gzip", path: "/feeds/cs-lg.rss", hdr: gz, status: 200, body: string(readFile(t, dir, "feeds/cs-lg.rss")), encoding: "gzip",
			etag: etagOf(readFile(t, dir, "feeds/cs-lg.rss.gz"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, c, "GET", srv.URL+tt.path, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Fatalf("Content-Encoding: got %q, want %q", got, tt.encoding)
			}
			if tt.encoding == "gzip" {
				body = gunzip(t, body)
			}
			if string(body) != tt.body {
				t.Errorf("body: got %q, want %q", body, tt.body)
			}
			if tt.etag != "" {
				if got := resp.Header.Get("Etag"); got != tt.etag {
					t.Errorf("ETag: got %s, want %s", got, tt.etag)
				}
			}
		})
	}
	t.Run("unchanged_metadata_reused", func(t *testing.T) {
		got := routes(h)["/feeds/cs-lg.rss"]
		if got.plain != oldRSS.plain || got.gz != oldRSS.gz {
			t.Errorf("metadata of an unchanged file and its .gz was rebuilt")
		}
	})
	t.Run("same_root_kept", func(t *testing.T) {
		before := h.cur.Load().root
		if err := h.Reload(); err != nil {
			t.Fatal(err)
		}
		if h.cur.Load().root != before {
			t.Error("Reload of the same directory opened a new root")
		}
	})
}

// TestGzipCopy: a .gz is sent only when it decompresses to exactly its
// file's bytes; anything else is ignored and the file is sent as it is.
func TestGzipCopy(t *testing.T) {
	feed := []byte("<feed>" + strings.Repeat("<entry>learning</entry>", 50) + "</feed>")
	good := gzipOf(t, feed)
	tests := []struct {
		name string
		gz   []byte
		sent bool
	}{
		{name: "valid", gz: good, sent: true},
		{name: "two_members", gz: append(gzipOf(t, feed[:100]), gzipOf(t, feed[100:])...), sent: true},
		{name: "stale", gz: gzipOf(t, bytes.Replace(feed, []byte("learning"), []byte("LEARNING"), 1))},
		{name: "shorter", gz: gzipOf(t, feed[:len(feed)-1])},
		{name: "longer", gz: gzipOf(t, append(slices.Clone(feed), '\n'))},
		{name: "much_longer", gz: gzipOf(t, bytes.Repeat(feed, 1000))},
		{name: "truncated", gz: good[:len(good)-10]},
		{name: "half_written", gz: good[:len(good)/2]},
		{name: "bad_crc", gz: append(slices.Clone(good[:len(good)-8]), 0, 0, 0, 0, good[len(good)-4], good[len(good)-3], good[len(good)-2], good[len(good)-1])},
		{name: "trailing_garbage", gz: append(slices.Clone(good), "garbage"...)},
		{name: "not_gzip", gz: feed},
		{name: "empty", gz: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "a.atom"), string(feed), fileTime)
			writeFile(t, filepath.Join(dir, "a.atom.gz"), string(tt.gz), fileTime)
			var logBuf bytes.Buffer
			_, srv := start(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
			resp, body := do(t, client(t), "GET", srv.URL+"/a.atom", map[string]string{"Accept-Encoding": "gzip"})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			want, wantTag, wantEnc := feed, etagOf(feed), ""
			if tt.sent {
				want, wantTag, wantEnc = tt.gz, etagOf(tt.gz), "gzip"
			}
			if got := resp.Header.Get("Content-Encoding"); got != wantEnc {
				t.Errorf("Content-Encoding: got %q, want %q", got, wantEnc)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("body: got %d bytes, want %d", len(body), len(want))
			}
			if got := resp.Header.Get("Etag"); got != wantTag {
				t.Errorf("ETag: got %s, want %s", got, wantTag)
			}
			if warned := strings.Contains(logBuf.String(), "gzip copy ignored"); warned == tt.sent {
				t.Errorf("warning logged: %v, want %v (log %q)", warned, !tt.sent, logBuf.String())
			}
		})
	}

	t.Run("orphan", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "gone.atom.gz"), string(good), fileTime)
		_, srv := start(t, dir, Options{})
		for _, p := range []string{"/gone.atom", "/gone.atom.gz"} {
			if resp, _ := do(t, client(t), "GET", srv.URL+p, map[string]string{"Accept-Encoding": "gzip"}); resp.StatusCode != 404 {
				t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
			}
		}
	})

	// The verdict on an unchanged .gz is kept only while its file is
	// unchanged too: a file that changes back to what the .gz holds gets it
	// again, and a .gz rewritten for a changed file is sent.
	t.Run("verdict_follows_the_file", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "a.atom")
		writeFile(t, name, string(feed), fileTime)
		writeFile(t, name+".gz", string(good), fileTime)
		h, srv := start(t, dir, Options{})
		other := []byte("<feed>short</feed>")
		steps := []struct {
			name    string
			write   func()
			gzipped bool
		}{
			{"valid", func() {}, true},
			{"file_changed", func() { writeFile(t, name, string(other), fileTime.Add(time.Minute)) }, false},
			{"file_changed_back", func() { writeFile(t, name, string(feed), fileTime.Add(2*time.Minute)) }, true},
			{"file_changed_again", func() { writeFile(t, name, string(other), fileTime.Add(3*time.Minute)) }, false},
			{"gz_rewritten", func() { writeFile(t, name+".gz", string(gzipOf(t, other)), fileTime.Add(3*time.Minute)) }, true},
		}
		for _, st := range steps {
			st.write()
			if err := h.Reload(); err != nil {
				t.Fatalf("%s: Reload: %v", st.name, err)
			}
			resp, _ := do(t, client(t), "GET", srv.URL+"/a.atom", map[string]string{"Accept-Encoding": "gzip"})
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != st.gzipped {
				t.Errorf("%s: gzip sent %v, want %v", st.name, got, st.gzipped)
			}
		}
	})
}

// TestReplacedAfterReload: a file replaced on disk since the last Reload is
// sent as it is now, never under the ETag of the version Reload hashed, and
// a .gz sent from disk that was replaced since is not sent (a held one is:
// TestHeldGzip).
func TestReplacedAfterReload(t *testing.T) {
	const atomPath = "/feeds/cs-lg.atom"
	gz := map[string]string{"Accept-Encoding": "gzip"}
	newer := fileTime.Add(time.Hour)

	t.Run("file", func(t *testing.T) {
		dir := site(t)
		_, srv := start(t, dir, Options{})
		oldTag := etagOf(readFile(t, dir, "feeds/cs-lg.atom"))
		const next = "<feed>the next version</feed>"
		writeFile(t, filepath.Join(dir, "feeds", "cs-lg.atom"), next, newer)
		for _, hdr := range []map[string]string{nil, {"If-None-Match": oldTag}, {"If-Modified-Since": fileTime.Format(http.TimeFormat)}} {
			resp, body := do(t, client(t), "GET", srv.URL+atomPath, hdr)
			if resp.StatusCode != 200 || string(body) != next {
				t.Errorf("%v: got %d %q, want 200 with the file on disk", hdr, resp.StatusCode, body)
			}
			if tag := resp.Header.Get("Etag"); tag != "" {
				t.Errorf("%v: ETag %s sent with bytes Reload did not hash", hdr, tag)
			}
			if got, want := resp.Header.Get("Last-Modified"), newer.Format(http.TimeFormat); got != want {
				t.Errorf("%v: Last-Modified %q, want the open file's %q", hdr, got, want)
			}
		}
		resp, _ := do(t, client(t), "GET", srv.URL+atomPath, map[string]string{"If-Modified-Since": newer.Format(http.TimeFormat)})
		if resp.StatusCode != 304 {
			t.Errorf("If-Modified-Since of the open file: status %d, want 304", resp.StatusCode)
		}
	})
	t.Run("gz_corrupted", func(t *testing.T) {
		dir := site(t)
		_, srv := start(t, dir, Options{}, fromDisk)
		plain := readFile(t, dir, "feeds/cs-lg.atom")
		writeFile(t, filepath.Join(dir, "feeds", "cs-lg.atom.gz"), "not gzip at all", newer)
		resp, body := do(t, client(t), "GET", srv.URL+atomPath, gz)
		if resp.StatusCode != 200 || !bytes.Equal(body, plain) || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("got %d %q (Content-Encoding %q), want 200 with the plain file", resp.StatusCode, body, resp.Header.Get("Content-Encoding"))
		}
		if got, want := resp.Header.Get("Etag"), etagOf(plain); got != want {
			t.Errorf("ETag: got %s, want the unchanged plain file's %s", got, want)
		}
	})
	t.Run("both_replaced", func(t *testing.T) {
		dir := site(t)
		_, srv := start(t, dir, Options{}, fromDisk)
		const next = "<feed>the next version</feed>"
		writeFile(t, filepath.Join(dir, "feeds", "cs-lg.atom"), next, newer)
		writeFile(t, filepath.Join(dir, "feeds", "cs-lg.atom.gz"), string(gzipOf(t, []byte(next))), newer)
		resp, body := do(t, client(t), "GET", srv.URL+atomPath, gz)
		if resp.StatusCode != 200 || string(body) != next || resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Etag") != "" {
			t.Errorf("got %d %q (Content-Encoding %q, ETag %q), want 200 with the plain file and no ETag",
				resp.StatusCode, body, resp.Header.Get("Content-Encoding"), resp.Header.Get("Etag"))
		}
	})
	t.Run("gz_removed", func(t *testing.T) {
		dir := site(t)
		_, srv := start(t, dir, Options{}, fromDisk)
		if err := os.Remove(filepath.Join(dir, "feeds", "cs-lg.atom.gz")); err != nil {
			t.Fatal(err)
		}
		resp, body := do(t, client(t), "GET", srv.URL+atomPath, gz)
		if plain := readFile(t, dir, "feeds/cs-lg.atom"); resp.StatusCode != 200 || !bytes.Equal(body, plain) {
			t.Errorf("got %d with %d bytes, want 200 with the plain file", resp.StatusCode, len(body))
		}
	})
	for _, tt := range []struct {
		name    string
		replace func(t *testing.T, name string)
	}{
		{"removed", func(t *testing.T, name string) {
			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
		}},
		{"by_directory", func(t *testing.T, name string) {
			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(name, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"by_symlink_outside", func(t *testing.T, name string) {
			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(filepath.Dir(name), "..", "..", "secret.txt"), name); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := site(t)
			_, srv := start(t, dir, Options{})
			tt.replace(t, filepath.Join(dir, "feeds", "cs-lg.json"))
			resp, body := do(t, client(t), "GET", srv.URL+"/feeds/cs-lg.json", nil)
			if resp.StatusCode/100 == 2 || bytes.Contains(body, []byte(secret)) {
				t.Errorf("got %d %q, want an error status and nothing of the file", resp.StatusCode, body)
			}
		})
	}
}

// TestReloadKeepsNoBody reloads a directory with a large file and its .gz,
// too large to be held: the heap must not grow by anything like their size,
// and the bytes sent are what is on disk.
func TestReloadKeepsNoBody(t *testing.T) {
	dir := t.TempDir()
	const size = 32 << 20
	line := []byte("<entry><title>learning model data</title><summary>a paper about learning</summary></entry>\n")
	body := bytes.Repeat(line, size/len(line))
	var gzBuf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gzBuf, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "big.atom"), string(body), fileTime)
	writeFile(t, filepath.Join(dir, "big.atom.gz"), gzBuf.String(), fileTime)
	wantTag := etagOf(body)
	body, gzBuf = nil, bytes.Buffer{}

	h := New(dir, Options{})
	before := heapInUse()
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	if grew := int64(heapInUse()) - int64(before); grew > 4<<20 {
		t.Errorf("heap grew by %d bytes over Reload of a %d-byte file: bodies are held", grew, size)
	}
	r := routes(h)["/big.atom"]
	if r == nil || r.gz == nil {
		t.Fatalf("route %+v, want the file and its verified .gz", r)
	}
	if r.gz.size <= maxHeldFile || r.gzBody != nil {
		t.Fatalf(".gz of %d bytes held: %v; want one over maxHeldFile, not held", r.gz.size, r.gzBody != nil)
	}
	srv := serveHandler(t, h)
	resp, err := client(t).Get(srv.URL + "/big.atom")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, resp.Body); err != nil {
		t.Fatal(err)
	}
	if got := `"` + hex.EncodeToString(sum.Sum(nil)[:16]) + `"`; got != wantTag || resp.Header.Get("Etag") != wantTag {
		t.Errorf("sent bytes hash to %s with ETag %s, want %s", got, resp.Header.Get("Etag"), wantTag)
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestReloadErrors(t *testing.T) {
	t.Run("missing_dir", func(t *testing.T) {
		err := New(filepath.Join(t.TempDir(), "nope"), Options{}).Reload()
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Reload: got %v, want an error wrapping fs.ErrNotExist", err)
		}
	})
	t.Run("dir_is_a_file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		writeFile(t, f, "x", fileTime)
		if err := New(f, Options{}).Reload(); err == nil {
			t.Error("Reload: got nil error, want one")
		}
	})
	t.Run("dir_gone_keeps_old_set", func(t *testing.T) {
		dir := site(t)
		h, srv := start(t, dir, Options{})
		if err := os.Rename(dir, dir+"-moved"); err != nil {
			t.Fatal(err)
		}
		if err := h.Reload(); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Reload: got %v, want an error wrapping fs.ErrNotExist", err)
		}
		// The open root follows the directory it opened.
		resp, body := do(t, client(t), "GET", srv.URL+"/feeds/cs-lg.atom", nil)
		if want := readFile(t, dir+"-moved", "feeds/cs-lg.atom"); resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Errorf("got %d with %d bytes, want 200 with the old %d bytes", resp.StatusCode, len(body), len(want))
		}
	})
	t.Run("dir_replaced", func(t *testing.T) {
		dir := site(t)
		h, srv := start(t, dir, Options{})
		if err := os.Rename(dir, dir+"-old"); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "index.html"), "<p>new site</p>", fileTime)
		if err := h.Reload(); err != nil {
			t.Fatal(err)
		}
		if resp, body := do(t, client(t), "GET", srv.URL+"/", nil); resp.StatusCode != 200 || string(body) != "<p>new site</p>" {
			t.Errorf("/: got %d %q, want the new directory's index", resp.StatusCode, body)
		}
		if resp, _ := do(t, client(t), "GET", srv.URL+"/feeds/cs-lg.atom", nil); resp.StatusCode != 404 {
			t.Errorf("old directory's feed: status %d, want 404", resp.StatusCode)
		}
	})
}

// TestConcurrentReload rewrites a feed and its .gz and reloads while clients
// read both variants, with the .gz held and from disk; under -race it checks
// the swap, and every answer must be one whole version, with no ETag or that
// very version's.
func TestConcurrentReload(t *testing.T) {
	for _, mode := range holdModes {
		t.Run(mode.name, func(t *testing.T) { concurrentReload(t, mode.setup) })
	}
}

func concurrentReload(t *testing.T, setup func(*Handler)) {
	dir := site(t)
	h, srv := start(t, dir, Options{}, setup)
	name := filepath.Join(dir, "feeds", "cs-lg.atom")
	version := func(i int) string {
		return fmt.Sprintf("<feed>version %d %s</feed>", i, strings.Repeat("entry ", i))
	}
	versions := map[string]bool{string(readFile(t, dir, "feeds/cs-lg.atom")): true}
	const rounds = 40
	for i := range rounds {
		versions[version(i)] = true
	}

	errs := make(chan error, 100)
	done := make(chan struct{})
	read := func(accept string) error {
		c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		defer c.CloseIdleConnections()
		for i := 0; ; i++ {
			select {
			case <-done:
				return nil
			default:
			}
			req, err := http.NewRequest("GET", srv.URL+"/feeds/cs-lg.atom", nil)
			if err != nil {
				return err
			}
			req.Header.Set("Accept-Encoding", accept)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			sent, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != 200 {
				return fmt.Errorf("request %d: status %d", i, resp.StatusCode)
			}
			body := sent
			if resp.Header.Get("Content-Encoding") == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(sent))
				if err != nil {
					return fmt.Errorf("request %d: %w", i, err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					return fmt.Errorf("request %d: %w", i, err)
				}
			}
			if !versions[string(body)] {
				return fmt.Errorf("request %d: body %q is no version written", i, body)
			}
			if tag := resp.Header.Get("Etag"); tag != "" && tag != etagOf(sent) {
				return fmt.Errorf("request %d: ETag %s does not belong to the bytes sent", i, tag)
			}
		}
	}
	var wg sync.WaitGroup
	for _, accept := range []string{"identity", "gzip", "gzip"} {
		wg.Go(func() {
			if err := read(accept); err != nil {
				errs <- err
			}
		})
	}
	for i := range rounds {
		mtime := fileTime.Add(time.Duration(i+1) * time.Second)
		writeFile(t, name, version(i), mtime)
		writeFile(t, name+".gz", string(gzipOf(t, []byte(version(i)))), mtime)
		if err := h.Reload(); err != nil {
			t.Errorf("Reload %d: %v", i, err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestIfNoneMatch: ServeContent's weak comparison of If-None-Match lists
// against the ETag, as the handler's own etagMatch did before it.
func TestIfNoneMatch(t *testing.T) {
	dir := site(t)
	h := New(dir, Options{})
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	tag := etagOf(readFile(t, dir, "feeds/cs-lg.atom"))
	tests := []struct {
		name string
		list string
		want int
	}{
		{"exact", tag, 304},
		{"weak", "W/" + tag, 304},
		{"star", `*`, 304},
		{"list_last", `"x", "y",W/` + tag, 304},
		{"list_spaces_tabs", " \t\"x\" ,\t " + tag + " ", 304},
		{"empty", ``, 200},
		{"other", `"abd"`, 200},
		{"unquoted", strings.Trim(tag, `"`), 200},
		{"prefix_only", tag[:len(tag)-2] + `"`, 200},
		{"unterminated", tag[:len(tag)-1], 200},
		{"lowercase_weak_is_malformed", "w/" + tag, 200},
		{"malformed_stops_list", "x, " + tag, 200},
		{"only_commas", `, ,,`, 200},
		{"weak_prefix_alone", `W/`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/feeds/cs-lg.atom", nil)
			r.Header.Set("If-None-Match", tt.list)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("If-None-Match %q: status %d, want %d", tt.list, w.Code, tt.want)
			}
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  bool
	}{
		{"absent", nil, false},
		{"empty", []string{""}, false},
		{"gzip", []string{"gzip"}, true},
		{"x_gzip", []string{"x-gzip"}, true},
		{"upper", []string{"GZIP"}, true},
		{"in_list", []string{"deflate, gzip, br"}, true},
		{"second_line", []string{"br", "gzip"}, true},
		{"q_half", []string{"gzip;q=0.5"}, true},
		{"q_one_spaces", []string{"gzip ; Q = 1.000"}, true},
		{"q_zero", []string{"gzip;q=0"}, false},
		{"q_zero_decimals", []string{"gzip;q=0.000"}, false},
		{"q_malformed", []string{"gzip;q=high"}, false},
		{"q_over_one", []string{"gzip;q=2"}, false},
		{"q_negative", []string{"gzip;q=-1"}, false},
		{"q_nan", []string{"gzip;q=NaN"}, false},
		{"other_param", []string{"gzip;level=1"}, true},
		{"star", []string{"*"}, true},
		{"star_q0", []string{"*;q=0"}, false},
		{"explicit_beats_star", []string{"gzip;q=0, *"}, false},
		{"star_then_gzip_refused", []string{"*, gzip;q=0"}, false},
		{"identity_only", []string{"identity"}, false},
		{"gzipx_is_not_gzip", []string{"gzipx"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := acceptsGzip(tt.lines); got != tt.want {
				t.Errorf("acceptsGzip(%q): got %v, want %v", tt.lines, got, tt.want)
			}
		})
	}
}

// TestServeUnavailable: a file of the current set that cannot be opened as
// a file now (here: a directory in its place since Reload) answers 503 with
// Retry-After, not 404 and not 500, and the body names nothing; one removed
// since Reload is 404. The .gz is sent from disk here: a held one needs no
// open (TestHeldGzip).
func TestServeUnavailable(t *testing.T) {
	dir := site(t)
	_, srv := start(t, dir, Options{}, fromDisk)
	name := filepath.Join(dir, "feeds", "cs-lg.atom")
	for _, n := range []string{name, name + ".gz", filepath.Join(dir, "feeds", "cs-lg.json")} {
		if err := os.Remove(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(name, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		hdr    map[string]string
		status int
		body   string
	}{
		{name: "unavailable", path: "/feeds/cs-lg.atom", status: 503, body: "503 service unavailable\n"},
		{name: "unavailable_gzip", path: "/feeds/cs-lg.atom", hdr: map[string]string{"Accept-Encoding": "gzip"}, status: 503, body: "503 service unavailable\n"},
		{name: "removed_since_reload", path: "/feeds/cs-lg.json", status: 404, body: "404 page not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, client(t), "GET", srv.URL+tt.path, tt.hdr)
			if resp.StatusCode != tt.status || string(body) != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			golden(t, tt.name+".head", head(resp))
		})
	}
}

// TestLen: the files the current set serves, for a caller that shows a
// page of its own until the first site is written.
func TestLen(t *testing.T) {
	dir := t.TempDir()
	h := New(dir, Options{})
	steps := []struct {
		name   string
		change func()
		reload bool
		want   int
	}{
		{name: "before_reload", change: func() {}, want: 0},
		{name: "empty_dir", change: func() {}, reload: true, want: 0},
		{name: "hidden_and_gz_only", change: func() {
			writeFile(t, filepath.Join(dir, ".index.html.tmp"), "partial", fileTime)
			writeFile(t, filepath.Join(dir, "index.html.gz"), string(gzipOf(t, []byte("<p>x</p>"))), fileTime)
		}, reload: true, want: 0},
		{name: "first_site", change: func() {
			if err := os.Remove(filepath.Join(dir, "index.html.gz")); err != nil {
				t.Fatal(err)
			}
			if err := os.CopyFS(dir, os.DirFS("testdata/site")); err != nil {
				t.Fatal(err)
			}
		}, reload: true, want: 6},
		{name: "written_not_reloaded", change: func() {
			writeFile(t, filepath.Join(dir, "feeds", "cs-cl.atom"), "<feed/>", fileTime)
		}, want: 6},
		{name: "reloaded", change: func() {}, reload: true, want: 7},
		{name: "removed", change: func() {
			if err := os.Remove(filepath.Join(dir, "feeds", "cs-cl.atom")); err != nil {
				t.Fatal(err)
			}
		}, reload: true, want: 6},
	}
	for _, st := range steps {
		st.change()
		if st.reload {
			if err := h.Reload(); err != nil {
				t.Fatalf("%s: Reload: %v", st.name, err)
			}
		}
		if got := h.Len(); got != st.want {
			t.Errorf("%s: Len %d, want %d", st.name, got, st.want)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := h.Reload(); err == nil || h.Len() != 6 {
		t.Errorf("Reload of a removed directory: %v, Len %d; want an error and 6 kept", err, h.Len())
	}
}

// TestHas: the URL paths the current set serves, as of the last Reload;
// a .gz copy is served under its file's path, not its own.
func TestHas(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/site")); err != nil {
		t.Fatal(err)
	}
	h := New(dir, Options{})
	if h.Has("/feeds/cs-lg.atom") {
		t.Error("Has a file before the first Reload")
	}
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/feeds/cs-lg.atom", true},
		{"feeds/cs-lg.rss", true},
		{"/feeds/../feeds/cs-lg.json", true},
		{"/", true},
		{"/feeds/cs-lg.atom.gz", false},
		{"/feeds/cs-cl.atom", false},
		{"", true}, // the site's root: its index
	} {
		if got := h.Has(tt.path); got != tt.want {
			t.Errorf("Has(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if err := os.Remove(filepath.Join(dir, "feeds", "cs-lg.json")); err != nil {
		t.Fatal(err)
	}
	if !h.Has("/feeds/cs-lg.json") {
		t.Error("Has forgot a removed file before the next Reload")
	}
	if err := h.Reload(); err != nil {
		t.Fatal(err)
	}
	if h.Has("/feeds/cs-lg.json") {
		t.Error("a file removed is still had after Reload")
	}
}
