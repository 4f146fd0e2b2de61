package serve

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzIfNoneMatch sends any If-None-Match: never a crash, never a status
// but 200 or 304, and a list that starts with the ETag always matches.
func FuzzIfNoneMatch(f *testing.F) {
	dir := site(f)
	h := New(dir, Options{})
	if err := h.Reload(); err != nil {
		f.Fatal(err)
	}
	tag := etagOf(readFile(f, dir, "feeds/cs-lg.atom"))
	for _, s := range []string{tag, "W/" + tag, `*`, `"x", W/"abc"`, `"abc`, `W/`, `,,`, ``} {
		f.Add(s)
	}
	status := func(inm string) int {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/feeds/cs-lg.atom"}, Header: http.Header{"If-None-Match": {inm}}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	f.Fuzz(func(t *testing.T, list string) {
		if got := status(list); got != 200 && got != 304 {
			t.Fatalf("If-None-Match %q: status %d, want 200 or 304", list, got)
		}
		for _, l := range []string{tag + ", " + list, "W/" + tag + "," + list} {
			if got := status(l); got != 304 {
				t.Errorf("If-None-Match %q: status %d, want 304", l, got)
			}
		}
	})
}

func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0", "*;q=0.5", "br, x-gzip;q=1", ";;,,=", "gzip;q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		acceptsGzip([]string{s})
		if !acceptsGzip([]string{"gzip, " + s}) {
			t.Errorf(`acceptsGzip("gzip, %s"): got false, want true`, s)
		}
	})
}

// FuzzServePath checks that any URL path either 404s or serves exactly the
// site file it cleans to, never a hidden one, never a .gz by its own name,
// never one outside the site.
func FuzzServePath(f *testing.F) {
	dir := site(f)
	h := New(dir, Options{})
	if err := h.Reload(); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"/", "/feeds/cs-lg.atom", "/feeds/cs-lg.atom.gz", "/../secret.txt", "/feeds/../../secret.txt", "//x", "/.git/config", "/up/secret.txt", "feeds.opml", "", "/feeds/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: p}, Header: http.Header{}}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.Bytes()
		if bytes.Contains(body, []byte(secret)) {
			t.Fatalf("path %q leaks %q", p, body)
		}
		switch w.Code {
		case http.StatusNotFound:
		case http.StatusOK:
			clean := path.Clean("/" + p)
			if clean == "/" {
				clean = "/index.html"
			}
			for _, elem := range strings.Split(clean, "/") {
				if strings.HasPrefix(elem, ".") {
					t.Fatalf("path %q served hidden %q", p, clean)
				}
			}
			if strings.HasSuffix(clean, ".gz") {
				t.Fatalf("path %q served the gzip copy %q by its own name", p, clean)
			}
			want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(clean)))
			if err != nil || !bytes.Equal(body, want) {
				t.Fatalf("path %q: served %d bytes, not the file %q (%v)", p, len(body), clean, err)
			}
		default:
			t.Fatalf("path %q: status %d, want 200 or 404", p, w.Code)
		}
	})
}
