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

// site copies testdata/site into a temp dir, stamps every file with fileTime,
// and adds what must never be served: a writer's hidden temp file, a hidden
// directory, a symlink to a file outside the site, a symlink to the directory
// above it, and that outside file. It returns the site directory.
func site(t testing.TB) string {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "site")
	if err := os.CopyFS(dir, os.DirFS("testdata/site")); err != nil {
		t.Fatalf("copy site: %v", err)
	}
	writeFile(t, filepath.Join(base, "secret.txt"), secret, fileTime)
	writeFile(t, filepath.Join(dir, "feeds", ".cs-lg.atom.tmp123"), "partial "+secret, fileTime)
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

// writeFile writes body to name through a temp file and a rename, as the
// feed writer does, and sets its mtime.
func writeFile(t testing.TB, name, body string, mtime time.Time) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(name), ".tmp-"+filepath.Base(name))
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

// etagOf is the contract's ETag: the quoted hex of the first 16 bytes of the
// SHA-256 of the plain bytes, with "-gz" inside the quotes for the gzip
// variant.
func etagOf(b []byte, gz bool) string {
	sum := sha256.Sum256(b)
	tag := hex.EncodeToString(sum[:16])
	if gz {
		return `"` + tag + `-gz"`
	}
	return `"` + tag + `"`
}

// start serves dir with a reloaded Handler on a real loopback server.
func start(t testing.TB, dir string, opt Options) (*Handler, *httptest.Server) {
	t.Helper()
	h := New(dir, opt)
	if err := h.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
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

func gunzip(t *testing.T, b []byte) []byte {
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

func TestServe(t *testing.T) {
	dir := site(t)
	_, srv := start(t, dir, Options{MaxAge: 15 * time.Minute})
	c := client(t)

	atom := readFile(t, dir, "feeds/cs-lg.atom")
	plainTag, gzTag := etagOf(atom, false), etagOf(atom, true)
	lastMod := fileTime.Format(http.TimeFormat)
	const atomPath = "/feeds/cs-lg.atom"

	tests := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		status int
		file   string // site file whose bytes are the body; "" for none
		gzip   bool   // body is the gzip of file
	}{
		{name: "root", path: "/", status: 200, file: "index.html"},
		{name: "index_html", path: "/index.html", status: 200, file: "index.html"},
		{name: "atom", path: atomPath, status: 200, file: "feeds/cs-lg.atom"},
		{name: "rss", path: "/feeds/cs-lg.rss", status: 200, file: "feeds/cs-lg.rss"},
		{name: "json", path: "/feeds/cs-lg.json", status: 200, file: "feeds/cs-lg.json"},
		{name: "opml", path: "/feeds.opml", status: 200, file: "feeds.opml"},
		{name: "gzip", path: atomPath, hdr: map[string]string{"Accept-Encoding": "gzip"}, status: 200, file: "feeds/cs-lg.atom", gzip: true},
		{name: "gzip_rss", path: "/feeds/cs-lg.rss", hdr: map[string]string{"Accept-Encoding": "gzip, deflate, br"}, status: 200, file: "feeds/cs-lg.rss", gzip: true},
		{name: "gzip_q", path: atomPath, hdr: map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.5"}, status: 200, file: "feeds/cs-lg.atom", gzip: true},
		{name: "gzip_star", path: atomPath, hdr: map[string]string{"Accept-Encoding": "*"}, status: 200, file: "feeds/cs-lg.atom", gzip: true},
		{name: "gzip_x_upper", path: atomPath, hdr: map[string]string{"Accept-Encoding": "X-GZIP"}, status: 200, file: "feeds/cs-lg.atom", gzip: true},
		{name: "gzip_q0", path: atomPath, hdr: map[string]string{"Accept-Encoding": "gzip;q=0"}, status: 200, file: "feeds/cs-lg.atom"},
		{name: "gzip_q0_star", path: atomPath, hdr: map[string]string{"Accept-Encoding": "gzip;q=0, *"}, status: 200, file: "feeds/cs-lg.atom"},
		{name: "star_q0", path: atomPath, hdr: map[string]string{"Accept-Encoding": "*;q=0.000"}, status: 200, file: "feeds/cs-lg.atom"},
		{name: "identity", path: atomPath, hdr: map[string]string{"Accept-Encoding": "identity"}, status: 200, file: "feeds/cs-lg.atom"},
		{name: "gzip_not_smaller", path: "/tiny.css", hdr: map[string]string{"Accept-Encoding": "gzip"}, status: 200, file: "tiny.css"},
		{name: "inm_plain", path: atomPath, hdr: map[string]string{"If-None-Match": plainTag}, status: 304},
		{name: "inm_gzip", path: atomPath, hdr: map[string]string{"If-None-Match": gzTag, "Accept-Encoding": "gzip"}, status: 304},
		{name: "inm_gzip_tag_plain_request", path: atomPath, hdr: map[string]string{"If-None-Match": gzTag}, status: 200, file: "feeds/cs-lg.atom"},
		{name: "inm_plain_tag_gzip_request", path: atomPath, hdr: map[string]string{"If-None-Match": plainTag, "Accept-Encoding": "gzip"}, status: 200, file: "feeds/cs-lg.atom", gzip: true},
		{name: "inm_weak", path: atomPath, hdr: map[string]string{"If-None-Match": "W/" + plainTag}, status: 304},
		{name: "inm_list", path: atomPath, hdr: map[string]string{"If-None-Match": `"nope", W/"other",` + gzTag + " , " + plainTag}, status: 304},
		{name: "inm_star", path: atomPath, hdr: map[string]string{"If-None-Match": "*"}, status: 304},
		{name: "inm_mismatch_beats_ims", path: atomPath, hdr: map[string]string{"If-None-Match": `"nope"`, "If-Modified-Since": lastMod}, status: 200, file: "feeds/cs-lg.atom"},
		{name: "ims_equal", path: atomPath, hdr: map[string]string{"If-Modified-Since": lastMod}, status: 304},
		{name: "ims_later", path: atomPath, hdr: map[string]string{"If-Modified-Since": fileTime.Add(time.Hour).Format(http.TimeFormat)}, status: 304},
		{name: "ims_earlier", path: atomPath, hdr: map[string]string{"If-Modified-Since": fileTime.Add(-time.Second).Format(http.TimeFormat)}, status: 200, file: "feeds/cs-lg.atom"},
		{name: "ims_invalid", path: atomPath, hdr: map[string]string{"If-Modified-Since": "yesterday"}, status: 200, file: "feeds/cs-lg.atom"},
		{name: "head", method: "HEAD", path: atomPath, status: 200},
		{name: "head_gzip", method: "HEAD", path: atomPath, hdr: map[string]string{"Accept-Encoding": "gzip"}, status: 200},
		{name: "head_unknown", method: "HEAD", path: "/nope.atom", status: 404},
		{name: "unknown", path: "/feeds/nope.atom", status: 404},
		{name: "dir_slash", path: "/feeds/", status: 404},
		{name: "dir", path: "/feeds", status: 404},
		{name: "hidden_temp", path: "/feeds/.cs-lg.atom.tmp123", status: 404},
		{name: "hidden_file", path: "/.hidden.json", status: 404},
		{name: "hidden_dir", path: "/.git/config", status: 404},
		{name: "symlink_file", path: "/link.txt", status: 404},
		{name: "symlink_dir", path: "/up/secret.txt", status: 404},
		{name: "post", method: "POST", path: atomPath, status: 405},
		{name: "put", method: "PUT", path: "/", status: 405},
		{name: "options", method: "OPTIONS", path: "/", status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			resp, body := do(t, c, method, srv.URL+tt.path, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			golden(t, tt.name+".head", head(resp))
			if bytes.Contains(body, []byte(secret)) {
				t.Fatalf("body leaks content from outside the site or a hidden file: %q", body)
			}
			switch {
			case tt.file != "":
				want := readFile(t, dir, tt.file)
				if tt.gzip {
					if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
						t.Fatalf("Content-Encoding: got %q, want gzip", got)
					}
					if len(body) >= len(want) {
						t.Errorf("gzip body is %d bytes, not smaller than plain %d", len(body), len(want))
					}
					body = gunzip(t, body)
				}
				if !bytes.Equal(body, want) {
					t.Errorf("body: got %d bytes, want %s (%d bytes)", len(body), tt.file, len(want))
				}
				if got, want := resp.Header.Get("Etag"), etagOf(want, tt.gzip); got != want {
					t.Errorf("ETag: got %s, want %s", got, want)
				}
			case tt.status == 404 && method == "GET":
				if got, want := string(body), "404 page not found\n"; got != want {
					t.Errorf("body: got %q, want %q", got, want)
				}
			case tt.status == 405:
				if got, want := resp.Header.Get("Allow"), "GET, HEAD"; got != want {
					t.Errorf("Allow: got %q, want %q", got, want)
				}
			default:
				if len(body) != 0 {
					t.Errorf("body: got %d bytes, want none", len(body))
				}
			}
		})
	}
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
		{name: "hidden_encoded", target: "/feeds/%2ecs-lg.atom.tmp123", status: 404},
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
		// 7 files: index.html, feeds.opml, tiny.css, three feeds, and "/".
		if got, want := buf.String(), "files=7 loaded=6 kept=0"; !strings.Contains(got, want) {
			t.Errorf("log: got %q, want it to contain %q", got, want)
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
			if got := contentType(tt.name); got != tt.want {
				t.Errorf("contentType(%q): got %q, want %q", tt.name, got, tt.want)
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
	oldTag := etagOf(oldAtom, false)
	oldRSS := (*h.set.Load())["/feeds/cs-lg.rss"]

	newAtom := strings.Replace(string(oldAtom), "A paper about learning", "A paper about LEARNING", 1)
	writeFile(t, filepath.Join(dir, "feeds", "cs-lg.atom"), newAtom, fileTime.Add(time.Hour))
	if err := os.Remove(filepath.Join(dir, "feeds", "cs-lg.json")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "feeds", "cs-cl.atom"), "<feed/>", fileTime)
	// Same bytes, new mtime: re-read, but the ETag must not change.
	opml := readFile(t, dir, "feeds.opml")
	writeFile(t, filepath.Join(dir, "feeds.opml"), string(opml), fileTime.Add(time.Hour))
	if err := h.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}

	tests := []struct {
		name   string
		path   string
		hdr    map[string]string
		status int
		body   string
		etag   string
	}{
		{name: "changed", path: atomPath, status: 200, body: newAtom, etag: etagOf([]byte(newAtom), false)},
		{name: "old_etag_no_longer_matches", path: atomPath, hdr: map[string]string{"If-None-Match": oldTag}, status: 200, body: newAtom},
		{name: "old_date_no_longer_current", path: atomPath, hdr: map[string]string{"If-Modified-Since": fileTime.Format(http.TimeFormat)}, status: 200, body: newAtom},
		{name: "removed", path: "/feeds/cs-lg.json", status: 404, body: "404 page not found\n"},
		{name: "added", path: "/feeds/cs-cl.atom", status: 200, body: "<feed/>", etag: etagOf([]byte("<feed/>"), false)},
		{name: "touched_same_etag", path: "/feeds.opml", status: 200, body: string(opml), etag: etagOf(opml, false)},
		{name: "unchanged", path: "/feeds/cs-lg.rss", status: 200, body: string(readFile(t, dir, "feeds/cs-lg.rss"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, c, "GET", srv.URL+tt.path, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.status)
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
	t.Run("unchanged_entry_reused", func(t *testing.T) {
		if got := (*h.set.Load())["/feeds/cs-lg.rss"]; got != oldRSS {
			t.Errorf("entry for an unchanged file was rebuilt: got %p, want %p", got, oldRSS)
		}
	})
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
		resp, body := do(t, client(t), "GET", srv.URL+"/feeds/cs-lg.atom", nil)
		if want := readFile(t, dir+"-moved", "feeds/cs-lg.atom"); resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Errorf("got %d with %d bytes, want 200 with the old %d bytes", resp.StatusCode, len(body), len(want))
		}
	})
	t.Run("file_over_limit_skipped", func(t *testing.T) {
		dir := site(t)
		h := New(dir, Options{MaxFileSize: 1000}) // the rss fixture is 6455 bytes
		err := h.Reload()
		if err == nil || !strings.Contains(err.Error(), "feeds/cs-lg.rss: size 6455 over limit 1000") {
			t.Fatalf("Reload: got %v, want the rss file over the limit", err)
		}
		set := *h.set.Load()
		if _, ok := set["/feeds/cs-lg.rss"]; ok {
			t.Error("file over the limit is served")
		}
		if _, ok := set["/feeds/cs-lg.atom"]; !ok {
			t.Error("other files are not served after one failed")
		}
	})
	t.Run("failed_file_keeps_old_entry", func(t *testing.T) {
		dir := site(t)
		h, srv := start(t, dir, Options{MaxFileSize: 7000})
		old := readFile(t, dir, "feeds/cs-lg.atom")
		writeFile(t, filepath.Join(dir, "feeds", "cs-lg.atom"), strings.Repeat("x", 8000), fileTime.Add(time.Hour))
		if err := h.Reload(); err == nil || !strings.Contains(err.Error(), "feeds/cs-lg.atom: size 8000 over limit 7000") {
			t.Fatalf("Reload: got %v, want the atom file over the limit", err)
		}
		resp, body := do(t, client(t), "GET", srv.URL+"/feeds/cs-lg.atom", nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, old) {
			t.Errorf("got %d with %d bytes, want 200 with the old %d bytes", resp.StatusCode, len(body), len(old))
		}
	})
}

// TestConcurrentReload rewrites and reloads a feed while clients read it;
// under -race it checks the swap, and every answer must be one whole version
// with that version's ETag.
func TestConcurrentReload(t *testing.T) {
	dir := site(t)
	h, srv := start(t, dir, Options{})
	name := filepath.Join(dir, "feeds", "cs-lg.atom")
	versions := map[string]bool{string(readFile(t, dir, "feeds/cs-lg.atom")): true}
	const rounds = 40
	for i := range rounds {
		versions[fmt.Sprintf("<feed>version %d %s</feed>", i, strings.Repeat("entry ", i))] = true
	}

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	done := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			defer c.CloseIdleConnections()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				resp, err := c.Get(srv.URL + "/feeds/cs-lg.atom")
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
					errs <- err
					return
				case resp.StatusCode != 200:
					errs <- fmt.Errorf("request %d: status %d", i, resp.StatusCode)
					return
				case !versions[string(body)]:
					errs <- fmt.Errorf("request %d: body %q is no version written", i, body)
					return
				case resp.Header.Get("Etag") != etagOf(body, false):
					errs <- fmt.Errorf("request %d: ETag %s does not belong to body %q", i, resp.Header.Get("Etag"), body)
					return
				}
			}
		})
	}
	for i := range rounds {
		writeFile(t, name, fmt.Sprintf("<feed>version %d %s</feed>", i, strings.Repeat("entry ", i)), fileTime.Add(time.Duration(i+1)*time.Second))
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

func TestEtagMatch(t *testing.T) {
	const tag = `"abc"`
	tests := []struct {
		name string
		list string
		want bool
	}{
		{"exact", `"abc"`, true},
		{"weak", `W/"abc"`, true},
		{"star", `*`, true},
		{"list_last", `"x", "y",W/"abc"`, true},
		{"list_spaces_tabs", " \t\"x\" ,\t \"abc\" ", true},
		{"empty", ``, false},
		{"other", `"abd"`, false},
		{"unquoted", `abc`, false},
		{"prefix_only", `"ab"`, false},
		{"unterminated", `"abc`, false},
		{"lowercase_weak_is_malformed", `w/"abc"`, false},
		{"malformed_stops_list", `x, "abc"`, false},
		{"only_commas", `, ,,`, false},
		{"weak_prefix_alone", `W/`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := etagMatch(tt.list, tag); got != tt.want {
				t.Errorf("etagMatch(%q, %q): got %v, want %v", tt.list, tag, got, tt.want)
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
