package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/scrape"
)

// hfServer serves the Hugging Face Daily Papers API from fixture data on
// 127.0.0.1. answer decides the response to each request.
type hfServer struct {
	*httptest.Server
	requests atomic.Int64
}

func newHFServer(t testing.TB, answer func(w http.ResponseWriter, r *http.Request)) *hfServer {
	t.Helper()
	s := &hfServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		answer(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// fixture is the real API answer: 30 papers of 2026-06-12.
func fixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/hf-api-daily-papers-2026-06-12.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixtureEntries is the fixture cut to its first n entries.
func fixtureEntries(t testing.TB, n int) []byte {
	t.Helper()
	var entries []json.RawMessage
	if err := json.Unmarshal(fixture(t), &entries); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(entries[:n])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func serveJSON(data []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/daily_papers" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(data)
	}
}

func serveStatus(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", code) }
}

// fastScrape keeps politeness delays and retry backoff short in tests; the
// retries themselves still happen.
func fastScrape(o *scrape.Options) {
	o.Delay = -1
	o.Backoff = time.Millisecond
	o.MaxWait = 10 * time.Millisecond
	o.Timeout = 5 * time.Second
}

// testEnv is the environment of a run against hf, in a fresh directory.
func testEnv(t *testing.T, hfURL string) map[string]string {
	dir := t.TempDir()
	return map[string]string{
		"PAPERFEED_HF_URL":     hfURL,
		"PAPERFEED_OUT_DIR":    filepath.Join(dir, "public"),
		"PAPERFEED_DATA_DIR":   filepath.Join(dir, "data"),
		"PAPERFEED_BASE_URL":   "https://feeds.example.org",
		"PAPERFEED_ADDR":       "127.0.0.1:0",
		"PAPERFEED_LOG_LEVEL":  "warn",
		"PAPERFEED_RETENTION":  "0",
		"PAPERFEED_INTERVAL":   "1h",
		"PAPERFEED_USER_AGENT": "paperfeed-test",
	}
}

// runOnce runs `paperfeed -once` and returns its exit code and stderr.
func runOnce(t *testing.T, env map[string]string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-once"}, env, &stdout, &stderr, hooks{scrape: fastScrape})
	return code, stderr.String()
}

// siteFiles reads every file of the output directory.
func siteFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		data, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

type atomFeed struct {
	ID      string `xml:"id"`
	Updated string `xml:"updated"`
	Entries []struct {
		ID        string `xml:"id"`
		Title     string `xml:"title"`
		Updated   string `xml:"updated"`
		Published string `xml:"published"`
		Content   string `xml:"content"`
		Category  []struct {
			Term string `xml:"term,attr"`
		} `xml:"category"`
	} `xml:"entry"`
}

func parseAtom(t *testing.T, data []byte) atomFeed {
	t.Helper()
	var f atomFeed
	if err := xml.Unmarshal(data, &f); err != nil {
		t.Fatalf("atom does not parse: %v", err)
	}
	return f
}

func entryIDs(f atomFeed) []string {
	var ids []string
	for _, e := range f.Entries {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestOnceWritesTheSite(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	// Three days asked for, one request each: the weekend-style answer (the
	// same list for every date) is deduplicated.
	if got := hf.requests.Load(); got != 3 {
		t.Errorf("requests: got %d, want 3 (one per day)", got)
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	cfg, err := ParseConfig(defaultConfigName, defaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"index.html", "feeds.opml"} {
		if len(files[name]) == 0 {
			t.Errorf("%s missing or empty", name)
		}
	}
	for _, tc := range cfg.Topics {
		for _, ext := range []string{"atom", "rss", "json"} {
			if len(files["feeds/"+tc.Slug+"."+ext]) == 0 {
				t.Errorf("feeds/%s.%s missing or empty", tc.Slug, ext)
			}
		}
		if !bytes.Contains(files["feeds.opml"], []byte("https://feeds.example.org/feeds/"+tc.Slug+".atom")) {
			t.Errorf("feeds.opml lacks topic %s", tc.Slug)
		}
		if !bytes.Contains(files["index.html"], []byte("feeds/"+tc.Slug+".rss")) {
			t.Errorf("index.html lacks a subscribe link for %s", tc.Slug)
		}
	}
	all := parseAtom(t, files["feeds/all.atom"])
	if len(all.Entries) != 30 {
		t.Errorf("all.atom: got %d entries, want the fixture's 30", len(all.Entries))
	}
	seen := map[string]bool{}
	for _, e := range all.Entries {
		if seen[e.ID] {
			t.Errorf("all.atom: entry id %s twice", e.ID)
		}
		seen[e.ID] = true
		if e.Updated == "" || e.Published == "" {
			t.Errorf("entry %s has no dates", e.ID)
		}
		if !strings.HasPrefix(e.Updated, "2026-06-12") {
			t.Errorf("entry %s dated %s, want the Daily Papers day 2026-06-12", e.ID, e.Updated)
		}
	}
	if !seen["https://arxiv.org/abs/2606.00467"] {
		t.Errorf("all.atom lacks the fixture's paper 2606.00467; ids: %v", entryIDs(all))
	}
	// A topic takes only papers whose words match, and says which.
	diff := parseAtom(t, files["feeds/diffusion.atom"])
	if len(diff.Entries) == 0 || len(diff.Entries) >= 30 {
		t.Errorf("diffusion.atom: got %d entries, want some but not all of 30", len(diff.Entries))
	}
	for _, e := range diff.Entries {
		if len(e.Category) == 0 {
			t.Errorf("diffusion entry %s has no categories (matched keywords)", e.ID)
		}
	}
	// The JSON feed has the same items with the same ids.
	var jf struct {
		Items []struct {
			ID          string `json:"id"`
			ContentHTML string `json:"content_html"`
		} `json:"items"`
	}
	if err := json.Unmarshal(files["feeds/diffusion.json"], &jf); err != nil {
		t.Fatal(err)
	}
	if len(jf.Items) != len(diff.Entries) {
		t.Fatalf("diffusion.json has %d items, atom %d", len(jf.Items), len(diff.Entries))
	}
	for i, it := range jf.Items {
		if it.ID != diff.Entries[i].ID || it.ContentHTML == "" {
			t.Errorf("json item %d: id %q content %d bytes; atom id %q", i, it.ID, len(it.ContentHTML), diff.Entries[i].ID)
		}
	}
}

func TestOnceTwiceRewritesNoFeed(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("first run: exit code %d: %s", code, stderr)
	}
	out := env["PAPERFEED_OUT_DIR"]
	before := modTimes(t, out)
	db := filepath.Join(env["PAPERFEED_DATA_DIR"], "paperfeed.db")
	dbBefore, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().YearDay()
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("second run: exit code %d: %s", code, stderr)
	}
	after := modTimes(t, out)
	// The history is not written either (last_seen is kept to the day, so
	// a run past midnight UTC may write it).
	if dbAfter, err := os.ReadFile(db); err != nil {
		t.Fatal(err)
	} else if !bytes.Equal(dbAfter, dbBefore) && time.Now().UTC().YearDay() == day {
		t.Errorf("paperfeed.db changed (%d -> %d bytes) in a refresh that changed nothing", len(dbBefore), len(dbAfter))
	}
	for name, mt := range before {
		if name == "index.html" { // says when the last refresh ran
			continue
		}
		if !after[name].Equal(mt) {
			t.Errorf("%s was rewritten by a refresh that changed nothing", name)
		}
	}
}

func modTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	for name := range siteFiles(t, dir) {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = fi.ModTime()
	}
	return m
}

// TestFailuresKeepEveryItem runs a good refresh, then answers that would
// empty or shrink a feed built from the last scrape: each must leave every
// feed with every item it had.
func TestFailuresKeepEveryItem(t *testing.T) {
	tests := []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request)
		code   int
		stderr string
	}{
		{"server error", serveStatus(http.StatusInternalServerError), 1, "every source failed"},
		{"not found", serveStatus(http.StatusNotFound), 1, "every source failed"},
		{"malformed json", serveJSON([]byte(`[{"paper": {`)), 1, "every source failed"},
		{"empty listing", serveJSON([]byte(`[]`)), 0, ""},
		{"fewer papers", serveJSON(fixtureEntries(t, 3)), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var answer atomic.Pointer[func(http.ResponseWriter, *http.Request)]
			good := serveJSON(fixture(t))
			answer.Store(&good)
			hf := newHFServer(t, func(w http.ResponseWriter, r *http.Request) { (*answer.Load())(w, r) })
			env := testEnv(t, hf.URL)
			env["PAPERFEED_LOG_LEVEL"] = "error"
			if code, stderr := runOnce(t, env); code != 0 {
				t.Fatalf("good run: exit code %d: %s", code, stderr)
			}
			before := siteFiles(t, env["PAPERFEED_OUT_DIR"])
			answer.Store(&tt.answer)
			code, stderr := runOnce(t, env)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("got exit code %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.stderr)
			}
			if tt.code != 0 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("the reason is not one line: %q", stderr)
			}
			after := siteFiles(t, env["PAPERFEED_OUT_DIR"])
			for name, data := range before {
				if name == "index.html" {
					continue
				}
				if !bytes.Equal(after[name], data) {
					t.Errorf("%s changed after %s", name, tt.name)
				}
			}
		})
	}
}

func TestOnceRejectsInvalidConfig(t *testing.T) {
	env := testEnv(t, "http://127.0.0.1:9")
	path := filepath.Join(t.TempDir(), "paperfeed.yaml")
	if err := os.WriteFile(path, []byte("sources:\n  - name: hf\n    type: huggingface\ntopics:\n  - slug: a\n  - slug: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env["PAPERFEED_CONFIG"] = path
	code, stderr := runOnce(t, env)
	want := path + `:6:11: topics[1].slug: duplicate topic slug "a"`
	if code != 2 || !strings.Contains(stderr, want) {
		t.Errorf("got code %d, %q; want 2 and %q", code, stderr, want)
	}
	if _, err := os.Stat(env["PAPERFEED_OUT_DIR"]); !os.IsNotExist(err) {
		t.Errorf("an invalid config wrote output: %v", err)
	}
}

func TestSecondProcessOnOneDataDirFails(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	e, err := parseEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(e, env)
	if err != nil {
		t.Fatal(err)
	}
	first, err := newApp(e, cfg, scrape.Options{}, newLogger(e, io.Discard), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	code, stderr := runOnce(t, env)
	if code == 0 || !strings.Contains(stderr, "data") {
		t.Errorf("second process: got code %d, %q; want a failure naming the locked store", code, stderr)
	}
}

// server runs the service on 127.0.0.1:0 until the test ends.
type server struct {
	url       string
	refreshed chan error
	reloaded  chan error
	stop      func() int
}

func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{refreshed: make(chan error, 16), reloaded: make(chan error, 16)}
	ready := make(chan net.Addr, 1)
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, nil, env, io.Discard, &stderr, hooks{
			ready:     func(a net.Addr) { ready <- a },
			refreshed: func(_ Status, err error) { s.refreshed <- err },
			reloaded:  func(err error) { s.reloaded <- err },
			scrape:    fastScrape,
		})
	}()
	select {
	case a := <-ready:
		s.url = "http://" + a.String()
	case code := <-done:
		t.Fatalf("server exited with %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	var once sync.Once
	code := 0
	s.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Error("server did not stop within 10s of the signal")
			}
		})
		return code
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *server) waitRefresh(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.refreshed:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("no refresh within 20s")
		return nil
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func get(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestServerEndToEnd(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatalf("first refresh: %v", err)
	}

	resp := get(t, s.url+"/", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("feeds/all.atom")) {
		t.Errorf("GET /: %s %s, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(body))
	}

	resp = get(t, s.url+"/feeds/all.atom", nil)
	plain, _ := io.ReadAll(resp.Body)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" || etag == "" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("GET all.atom: %s, type %q, etag %q, last-modified %q", resp.Status, resp.Header.Get("Content-Type"), etag, resp.Header.Get("Last-Modified"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=360") {
		t.Errorf("Cache-Control %q, want max-age tied to the 1h interval (360s)", cc)
	}
	if got := len(parseAtom(t, plain).Entries); got != 30 {
		t.Errorf("served all.atom has %d entries, want 30", got)
	}

	resp = get(t, s.url+"/feeds/all.atom", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: got %s, want 304", resp.Status)
	}

	resp = get(t, s.url+"/feeds/all.atom", map[string]string{"Accept-Encoding": "gzip"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip GET: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain) {
		t.Errorf("gzip body differs from the plain one (err %v)", err)
	}

	for _, path := range []string{"/nope", "/feeds/", "/feeds/nope.atom", "/../go.mod"} {
		if resp := get(t, s.url+path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: got %s, want 404", path, resp.Status)
		}
	}

	resp = get(t, s.url+"/healthz", nil)
	raw, _ := io.ReadAll(resp.Body)
	for _, key := range []string{`"status":"ok"`, `"last_refresh":"`, `"last_success":"`, `"papers":30`, `"sources":[{"name":"hf","state":"ok","ok":true,"papers":30,"last_success":"`} {
		if !bytes.Contains(raw, []byte(key)) {
			t.Errorf("healthz body lacks %s: %s", key, raw)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	var health struct {
		Status  string `json:"status"`
		Sources []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || health.Status != "ok" || len(health.Sources) != 1 || !health.Sources[0].OK {
		t.Errorf("healthz: %s %+v", resp.Status, health)
	}

	if code := s.stop(); code != 0 {
		t.Errorf("shutdown: exit code %d, want 0", code)
	}
}

func TestHealthzIsUnavailableWhenStale(t *testing.T) {
	hf := newHFServer(t, serveStatus(http.StatusBadGateway))
	env := testEnv(t, hf.URL)
	s := startServer(t, env)
	if err := s.waitRefresh(t); err == nil {
		t.Fatal("refresh against a failing source succeeded")
	}
	resp := get(t, s.url+"/healthz", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz with no successful refresh: got %s, want 503", resp.Status)
	}
}

func TestSIGHUPReloadsConfig(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	path := filepath.Join(t.TempDir(), "paperfeed.yaml")
	const base = "sources:\n  - name: hf\n    type: huggingface\n    days: 1\ntopics:\n  - slug: all\n"
	if err := os.WriteFile(path, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	env["PAPERFEED_CONFIG"] = path
	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatal(err)
	}
	if resp := get(t, s.url+"/feeds/llm.atom", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("llm.atom before reload: %s", resp.Status)
	}
	requests := hf.requests.Load()

	// A new topic starts with its backlog from the history, without a scrape.
	if err := os.WriteFile(path, []byte(base+"  - slug: llm\n    keywords: [\"language model*\", llm, llms]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(t)
	if err := <-s.reloaded; err != nil {
		t.Fatalf("reload: %v", err)
	}
	resp := get(t, s.url+"/feeds/llm.atom", nil)
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(parseAtom(t, data).Entries) == 0 {
		t.Errorf("llm.atom after reload: %s with %d bytes, want a backlog", resp.Status, len(data))
	}
	if got := hf.requests.Load(); got != requests {
		t.Errorf("reload scraped: %d requests, want none", got-requests)
	}

	// An invalid config is refused and the running one stays.
	if err := os.WriteFile(path, []byte(base+"  - slug: BAD\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(t)
	err := <-s.reloaded
	if err == nil || !strings.Contains(err.Error(), path+":7:") {
		t.Errorf("invalid reload: got %v, want an error at %s:7", err, path)
	}
	if resp := get(t, s.url+"/feeds/llm.atom", nil); resp.StatusCode != 200 {
		t.Errorf("llm.atom after a refused reload: %s", resp.Status)
	}
}

func hup(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// newArxivServer answers /list/cs.LG/new with the listing in file.
func newArxivServer(t *testing.T, file string) *hfServer {
	t.Helper()
	listing, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/list/cs.LG/new" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(listing)
	})
}

// TestSourcesMerge scrapes Hugging Face and an arXiv listing that share a
// paper: it is one item in the feed, with the fields of both sources.
func TestSourcesMerge(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	arxiv := newArxivServer(t, "testdata/arxiv-list-cs.LG-new-with-hf-paper.html")
	env := testEnv(t, hf.URL)
	env["PAPERFEED_ARXIV_URL"] = arxiv.URL
	path := filepath.Join(t.TempDir(), "paperfeed.yaml")
	cfg := "sources:\n  - name: hf\n    type: huggingface\n    days: 1\n  - name: arxiv-lg\n    type: arxiv\n    category: cs.LG\ntopics:\n  - slug: all\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env["PAPERFEED_CONFIG"] = path
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	all := parseAtom(t, siteFiles(t, env["PAPERFEED_OUT_DIR"])["feeds/all.atom"])
	// 30 Hugging Face papers and 5 new and cross-listed arXiv ones, one of
	// them shared.
	if len(all.Entries) != 34 {
		t.Errorf("got %d entries, want 34: %v", len(all.Entries), entryIDs(all))
	}
	found := 0
	for _, e := range all.Entries {
		if e.ID != "https://arxiv.org/abs/2606.00467" {
			continue
		}
		found++
		var terms []string
		for _, c := range e.Category {
			terms = append(terms, c.Term)
		}
		if !slices.Contains(terms, "cs.LG") || !slices.Contains(terms, "LLM-as-a-judge") {
			t.Errorf("merged paper's categories %q lack the arXiv subject cs.LG or the Hugging Face ai_keywords", terms)
		}
		if !strings.HasPrefix(e.Updated, "2026-06-12") {
			t.Errorf("merged paper dated %s, want the Daily Papers day it was first seen with", e.Updated)
		}
	}
	if found != 1 {
		t.Errorf("the shared paper appears %d times, want once", found)
	}
}

// TestDetailsFetchedOnce runs a listing without abstracts with details: true
// twice: the first run reads each new paper's page, the second reads none
// of the pages that gave an abstract.
func TestDetailsFetchedOnce(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	lab := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/pubs":
			io.WriteString(w, `<html><body><ul>
<li class="paper"><h3><a href="/p/1">Sparse routing for mixtures of experts</a></h3></li>
<li class="paper"><h3><a href="/p/2">Denoising diffusion for tabular data</a></h3></li>
<li class="paper"><h3><a href="/p/3">A paper whose page is gone</a></h3></li>
</ul></body></html>`)
		case "/p/1", "/p/2":
			fmt.Fprintf(w, `<html><head><meta name="citation_abstract" content="Abstract of paper %s: we study diffusion."></head><body></body></html>`, r.URL.Path[3:])
		default:
			http.NotFound(w, r)
		}
	})
	env := testEnv(t, "http://127.0.0.1:9")
	path := filepath.Join(t.TempDir(), "paperfeed.yaml")
	cfg := "sources:\n  - name: lab\n    type: html\n    url: " + lab.URL + "/pubs\n    item: li.paper\n    title: h3\n    details: true\ntopics:\n  - slug: all\n  - slug: diffusion\n    keywords: [diffusion]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env["PAPERFEED_CONFIG"] = path
	env["PAPERFEED_LOG_LEVEL"] = "error"
	for run := 1; run <= 2; run++ {
		if code, stderr := runOnce(t, env); code != 0 {
			t.Fatalf("run %d: exit code %d: %s", run, code, stderr)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for page, want := range map[string]int{"/pubs": 2, "/p/1": 1, "/p/2": 1} {
		if hits[page] != want {
			t.Errorf("%s fetched %d times, want %d", page, hits[page], want)
		}
	}
	// The paper whose page failed is kept as the listing gave it, and its
	// page is asked for again by the next run.
	if hits["/p/3"] != 2 {
		t.Errorf("/p/3 (404) fetched %d times, want once per run", hits["/p/3"])
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	all := parseAtom(t, files["feeds/all.atom"])
	if len(all.Entries) != 3 {
		t.Errorf("all.atom has %d entries, want 3", len(all.Entries))
	}
	// Paper 1's abstract says diffusion: it reached the history and the router.
	diff := parseAtom(t, files["feeds/diffusion.atom"])
	if len(diff.Entries) != 2 {
		t.Errorf("diffusion.atom has %d entries, want 2 (one by its title, one by the abstract from its page)", len(diff.Entries))
	}
	if !bytes.Contains(files["feeds/all.atom"], []byte("Abstract of paper 1")) {
		t.Error("all.atom lacks the abstract read from paper 1's page")
	}
}

// TestBadCharactersInTitles serves titles and abstracts with control
// characters, escaped and raw, and invalid UTF-8: every feed stays readable.
func TestBadCharactersInTitles(t *testing.T) {
	data := fixture(t)
	data = bytes.Replace(data, []byte(`"title":"On the Limits`), []byte(`"title":"On\u0001 the\u000b Limits `+"\xff\xfe"), 1)
	data = bytes.Replace(data, []byte(`"summary":"Large Language Models (LLMs) are`), []byte(`"summary":"Large \u001bLanguage\u0000 Models (LLMs) are`), 1)
	hf := newHFServer(t, serveJSON(data))
	env := testEnv(t, hf.URL)
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	for _, name := range []string{"feeds/all.atom", "feeds/all.rss", "feeds/all.json", "index.html"} {
		if err := wellFormed(name, files[name]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, bad := range []string{"\x01", "\x0b", "\x1b", "\x00", "\\u0001", "\\u001b"} {
			if bytes.Contains(files[name], []byte(bad)) {
				t.Errorf("%s holds the control character %q", name, bad)
			}
		}
		if !utf8.Valid(files[name]) {
			t.Errorf("%s is not valid UTF-8", name)
		}
	}
	if !bytes.Contains(files["feeds/all.atom"], []byte("On the Limits")) {
		t.Error("the cleaned title is missing from all.atom")
	}
}

// TestFirstRunWithSourcesDown: nothing to keep yet, so the site is written
// with empty feeds and an index that says what failed, and -once fails with
// the reason on one line.
func TestFirstRunWithSourcesDown(t *testing.T) {
	hf := newHFServer(t, serveStatus(http.StatusServiceUnavailable))
	env := testEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	code, stderr := runOnce(t, env)
	if code != 1 || !strings.Contains(stderr, "every source failed") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("got code %d, %q; want 1 and a one-line reason", code, stderr)
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	if got := len(parseAtom(t, files["feeds/all.atom"]).Entries); got != 0 {
		t.Errorf("all.atom has %d entries, want 0", got)
	}
	if !bytes.Contains(files["index.html"], []byte("503")) {
		t.Errorf("index.html does not say why the source failed")
	}
}

// TestPartialSourceCountsAsWorking: one day of three fails; the papers of the
// others are kept and -once succeeds, while the index shows the failure.
func TestPartialSourceCountsAsWorking(t *testing.T) {
	good := serveJSON(fixture(t))
	var n atomic.Int64
	hf := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			http.Error(w, "gone", http.StatusNotFound)
			return
		}
		good(w, r)
	})
	env := testEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("got code %d, %q; want 0", code, stderr)
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	if got := len(parseAtom(t, files["feeds/all.atom"]).Entries); got != 30 {
		t.Errorf("all.atom has %d entries, want 30", got)
	}
	if !bytes.Contains(files["index.html"], []byte("404")) {
		t.Error("index.html does not show the failed day")
	}
}

// TestRemovedTopicLosesItsFeeds: a topic taken out of the config takes its
// files with it; the other topics' files stay untouched.
func TestRemovedTopicLosesItsFeeds(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	path := filepath.Join(t.TempDir(), "paperfeed.yaml")
	env["PAPERFEED_CONFIG"] = path
	const base = "sources:\n  - name: hf\n    type: huggingface\n    days: 1\ntopics:\n  - slug: all\n"
	for i, cfg := range []string{base + "  - slug: llm\n    keywords: [llm]\n", base} {
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, stderr := runOnce(t, env); code != 0 {
			t.Fatalf("run %d: exit code %d: %s", i, code, stderr)
		}
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	for _, ext := range []string{"atom", "rss", "json"} {
		if _, ok := files["feeds/llm."+ext]; ok {
			t.Errorf("feeds/llm.%s is still there", ext)
		}
		if _, ok := files["feeds/all."+ext]; !ok {
			t.Errorf("feeds/all.%s is gone", ext)
		}
	}
	if bytes.Contains(files["feeds.opml"], []byte("llm")) {
		t.Error("feeds.opml still lists the removed topic")
	}
}

// unwritableFeeds makes the output directory of env unable to take the
// feeds: its feeds/ is a file.
func unwritableFeeds(t *testing.T, env map[string]string) {
	t.Helper()
	out := env["PAPERFEED_OUT_DIR"]
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "feeds"), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWriteFailureIsReported: an output directory whose feeds/ is a file
// cannot take the feeds; -once says which file and fails.
func TestWriteFailureIsReported(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	unwritableFeeds(t, env)
	code, stderr := runOnce(t, env)
	if code != 1 || !strings.Contains(stderr, "write feeds/all.atom") {
		t.Errorf("got code %d, %q; want 1 and the file that could not be written", code, stderr)
	}
}

// TestListenFailureIsReported: an address already in use stops the server
// at once with the reason.
func TestListenFailureIsReported(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := testEnv(t, "http://127.0.0.1:9")
	env["PAPERFEED_ADDR"] = ln.Addr().String()
	var stderr bytes.Buffer
	code := run(context.Background(), nil, env, io.Discard, &stderr, hooks{scrape: fastScrape})
	if code != 1 || !strings.Contains(stderr.String(), "listen:") {
		t.Errorf("got code %d, %q; want 1 and a listen error", code, stderr.String())
	}
}
