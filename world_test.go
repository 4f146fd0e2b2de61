package main

// End-to-end tests of what a new user and a hostile world find (issue 10):
// the real binary's run() against sources served on 127.0.0.1.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// health is /healthz's body.
type health struct {
	Status      string    `json:"status"`
	LastSuccess time.Time `json:"last_success"`
	NextRefresh time.Time `json:"next_refresh"`
	WriteError  string    `json:"write_error"`
	LearnError  string    `json:"learn_error"`
	Sources     []struct {
		Name    string    `json:"name"`
		State   string    `json:"state"`
		Error   string    `json:"error"`
		Failed  []string  `json:"failed"`
		NextTry time.Time `json:"next_try"`
	} `json:"sources"`
}

func getHealth(t *testing.T, url string) (int, health, string) {
	t.Helper()
	resp := get(t, url+"/healthz", nil)
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var h health
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("healthz: %v: %s", err, raw)
	}
	return resp.StatusCode, h, string(raw)
}

// hangingServer answers nothing until the test ends.
func hangingServer(t *testing.T) *hfServer {
	release := make(chan struct{})
	hf := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	return hf
}

// closedURL is an http URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// Without PAPERFEED_BASE_URL every self link, subscribe link and OPML entry
// follows the address the server listens on.
func TestBaseURLFollowsTheListenAddress(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	delete(env, "PAPERFEED_BASE_URL")
	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/feeds/all.atom", "/feeds.opml", "/"} {
		resp := get(t, s.url+path, nil)
		body, _ := io.ReadAll(resp.Body)
		if bytes.Contains(body, []byte("localhost:8080")) {
			t.Errorf("%s still links to localhost:8080", path)
		}
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.url, "http://"))
		if !bytes.Contains(body, []byte(":"+port+"/feeds/all.")) {
			t.Errorf("%s does not link to the feeds at port %s:\n%.600s", path, port, body)
		}
	}

	// -once has no listener: the configured address decides.
	env = testEnv(t, hf.URL)
	delete(env, "PAPERFEED_BASE_URL")
	env["PAPERFEED_ADDR"] = "127.0.0.1:18093"
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("-once: %d %s", code, stderr)
	}
	atom := siteFiles(t, env["PAPERFEED_OUT_DIR"])["feeds/all.atom"]
	if !bytes.Contains(atom, []byte(`href="http://127.0.0.1:18093/feeds/all.atom"`)) {
		t.Errorf("self link does not follow PAPERFEED_ADDR:\n%.800s", atom)
	}
}

// A source that fails is retried within the backoff, not after a whole
// interval; the next try is on /healthz.
func TestFailedSourceIsRetriedSoon(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	good := serveJSON(fixture(t))
	hf := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		good(w, r)
	})
	env := testEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	env["PAPERFEED_RETRY_MIN"] = "300ms"
	env["PAPERFEED_RETRY_MAX"] = "1s"
	s := startServer(t, env)
	if err := s.waitRefresh(t); err == nil {
		t.Fatal("first refresh against a source that is down succeeded")
	}
	code, h, raw := getHealth(t, s.url)
	if code != http.StatusServiceUnavailable || len(h.Sources) != 1 || h.Sources[0].State != "failed" {
		t.Fatalf("healthz after a failure: %d %s", code, raw)
	}
	if next := h.Sources[0].NextTry; next.IsZero() || time.Until(next) > 2*time.Second || !next.Before(h.NextRefresh) {
		t.Errorf("next try %v (next refresh %v): want within the backoff, before the interval", next, h.NextRefresh)
	}
	down.Store(false)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case err := <-s.refreshed:
			if err != nil {
				continue // a retry that still found it down
			}
		case <-deadline:
			t.Fatal("the source was not retried within 15s")
		}
		break
	}
	code, h, raw = getHealth(t, s.url)
	if code != 200 || h.Status != "ok" || h.Sources[0].State != "ok" || !h.Sources[0].NextTry.IsZero() {
		t.Errorf("healthz after the retry: %d %s", code, raw)
	}
	resp := get(t, s.url+"/feeds/all.atom", nil)
	data, _ := io.ReadAll(resp.Body)
	if n := len(parseAtom(t, data).Entries); n != 30 {
		t.Errorf("all.atom after the retry has %d entries, want 30", n)
	}
}

// A SIGHUP that adds a source refreshes it at once; one that changes only
// topics scrapes nothing (TestSIGHUPReloadsConfig).
func TestSIGHUPWithANewSourceRefreshesIt(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	arxiv := newArxivServer(t, "testdata/arxiv-list-cs.LG-new-2025-12-05.html")
	env := testEnv(t, hf.URL)
	env["PAPERFEED_ARXIV_URL"] = arxiv.URL
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
	hfRequests := hf.requests.Load()
	cfg := strings.Replace(base, "topics:", "  - name: lg\n    type: arxiv\n    category: cs.LG\ntopics:", 1)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	hup(t)
	if err := <-s.reloaded; err != nil {
		t.Fatalf("reload: %v", err)
	}
	if err := s.waitRefresh(t); err != nil {
		t.Fatalf("refresh after the reload: %v", err)
	}
	if arxiv.requests.Load() == 0 {
		t.Error("the new source was not asked")
	}
	if got := hf.requests.Load(); got != hfRequests {
		t.Errorf("the unchanged source was asked again (%d requests)", got-hfRequests)
	}
	_, h, raw := getHealth(t, s.url)
	if len(h.Sources) != 2 || h.Sources[1].Name != "lg" || h.Sources[1].State != "ok" {
		t.Errorf("healthz after adding a source: %s", raw)
	}
}

// Before the first refresh the site says it is starting: a page at /, 503
// with Retry-After for feeds, "starting" on /healthz.
func TestStartingPageBeforeTheFirstRefresh(t *testing.T) {
	hf := hangingServer(t)
	env := testEnv(t, hf.URL)
	s := startServer(t, env)
	resp := get(t, s.url+"/", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("first refresh")) {
		t.Errorf("GET / while starting: %s %q\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	resp = get(t, s.url+"/feeds/all.atom", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET a feed while starting: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	code, h, raw := getHealth(t, s.url)
	if code != http.StatusServiceUnavailable || h.Status != "starting" {
		t.Errorf("healthz while starting: %d %s", code, raw)
	}
}

// last_success survives a restart: a server started after a good -once is
// "starting" but healthy while its first refresh runs.
func TestLastSuccessSurvivesARestart(t *testing.T) {
	good := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, good.URL)
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("-once: %d %s", code, stderr)
	}
	env["PAPERFEED_HF_URL"] = hangingServer(t).URL
	s := startServer(t, env)
	code, h, raw := getHealth(t, s.url)
	if code != 200 || h.Status != "starting" || h.LastSuccess.IsZero() || time.Since(h.LastSuccess) > time.Minute {
		t.Errorf("healthz of a restarted server: %d %s; want 200, starting, the last success of the previous run", code, raw)
	}
	// The previous site is served meanwhile.
	if resp := get(t, s.url+"/feeds/all.atom", nil); resp.StatusCode != 200 {
		t.Errorf("previous site not served while starting: %s", resp.Status)
	}
}

// An offline start says one line per source and a true outcome; nothing
// internal reaches the public pages.
func TestOfflineStartSaysOneLinePerSource(t *testing.T) {
	env := testEnv(t, closedURL(t))
	env["PAPERFEED_LOG_LEVEL"] = "info"
	code, stderr := runOnce(t, env)
	if code != 1 {
		t.Fatalf("-once offline: code %d", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	failed := 0
	for _, l := range lines {
		if strings.Contains(l, `msg="source failed"`) {
			failed++
		}
		if strings.Contains(l, "msg=refreshed") || strings.Contains(l, "feeds unchanged") {
			t.Errorf("untrue outcome line: %s", l)
		}
	}
	if failed != 1 {
		t.Errorf("%d lines say the source failed, want 1:\n%s", failed, stderr)
	}
	if !strings.Contains(stderr, "cannot reach") {
		t.Errorf("the log does not say plainly that the source cannot be reached:\n%s", stderr)
	}
	index := siteFiles(t, env["PAPERFEED_OUT_DIR"])["index.html"]
	for _, internal := range []string{"dial tcp", "connect:", "Get \""} {
		if bytes.Contains(index, []byte(internal)) {
			t.Errorf("index.html shows internal detail %q", internal)
		}
	}
	if !bytes.Contains(index, []byte("cannot reach")) {
		t.Errorf("index.html does not say the source cannot be reached")
	}
}

// One day of three failing makes the source "partial", saying which day,
// and the papers of the other days go in.
func TestPartialSourceSaysWhichPart(t *testing.T) {
	good := serveJSON(fixture(t))
	var n atomic.Int64
	hf := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			http.Error(w, "gone", http.StatusNotFound) // not retried, unlike a 503
			return
		}
		good(w, r)
	})
	env := testEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatalf("a partial refresh failed: %v", err)
	}
	code, h, raw := getHealth(t, s.url)
	if code != 200 || len(h.Sources) != 1 || h.Sources[0].State != "partial" || len(h.Sources[0].Failed) != 1 || !strings.Contains(h.Sources[0].Failed[0], "404") {
		t.Fatalf("healthz of a partial source: %d %s", code, raw)
	}
	resp := get(t, s.url+"/", nil)
	index, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(index, []byte("partial")) || !bytes.Contains(index, []byte(h.Sources[0].Failed[0])) {
		t.Errorf("index.html does not say the source answered in part, and which part failed")
	}
}

// A refresh that cannot write the site makes /healthz fail, and the served
// site stays as it was.
func TestWriteFailureMakesHealthFail(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	unwritableFeeds(t, env)
	out := env["PAPERFEED_OUT_DIR"]
	s := startServer(t, env)
	if err := s.waitRefresh(t); err == nil {
		t.Fatal("a refresh that could not write succeeded")
	}
	code, h, raw := getHealth(t, s.url)
	if code != http.StatusServiceUnavailable || h.Status != "failing" || h.WriteError == "" {
		t.Errorf("healthz after a failed write: %d %s", code, raw)
	}
	if strings.Contains(raw, out) {
		t.Errorf("healthz shows a path: %s", raw)
	}
}

// A whole refresh has a deadline, and a SIGHUP does not wait for a refresh
// stuck on a hanging source.
func TestRefreshHasADeadlineAndReloadDoesNotWait(t *testing.T) {
	hf := hangingServer(t)
	env := testEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	env["PAPERFEED_REFRESH_TIMEOUT"] = "3s"
	path := filepath.Join(t.TempDir(), "paperfeed.yaml")
	const base = "sources:\n  - name: hf\n    type: huggingface\n    days: 1\ntopics:\n  - slug: all\n"
	if err := os.WriteFile(path, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	env["PAPERFEED_CONFIG"] = path
	start := time.Now()
	s := startServer(t, env)
	if err := os.WriteFile(path, []byte(base+"  - slug: llm\n    keywords: [llm]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the first refresh reach the hanging source
	hup(t)
	select {
	case err := <-s.reloaded:
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
	case <-s.refreshed:
		t.Fatal("the reload waited for the hanging refresh")
	case <-time.After(10 * time.Second):
		t.Fatal("no reload within 10s")
	}
	if err := s.waitRefresh(t); err == nil {
		t.Error("a refresh against a hanging source succeeded")
	}
	if took := time.Since(start); took > 12*time.Second {
		t.Errorf("the refresh took %s, past its 3s deadline and the scraper's own timeouts", took)
	}
}

// One refresh takes at most PAPERFEED_MAX_PAPERS papers.
func TestMaxPapersPerRefresh(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	env["PAPERFEED_MAX_PAPERS"] = "10"
	env["PAPERFEED_LOG_LEVEL"] = "warn"
	code, stderr := runOnce(t, env)
	if code != 0 {
		t.Fatalf("-once: %d %s", code, stderr)
	}
	if n := len(parseAtom(t, siteFiles(t, env["PAPERFEED_OUT_DIR"])["feeds/all.atom"]).Entries); n != 10 {
		t.Errorf("all.atom has %d entries, want 10", n)
	}
	if !strings.Contains(stderr, "PAPERFEED_MAX_PAPERS") {
		t.Errorf("the cut is not logged: %s", stderr)
	}
}

// The default retention keeps papers a source still lists, however old
// their date, and says so.
func TestRetentionKeepsWhatSourcesStillList(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t))) // papers of 2026-06-12
	env := testEnv(t, hf.URL)
	env["PAPERFEED_RETENTION"] = "24h"
	env["PAPERFEED_LOG_LEVEL"] = "warn"
	for run := range 2 {
		code, stderr := runOnce(t, env)
		if code != 0 {
			t.Fatalf("-once %d: %d %s", run, code, stderr)
		}
		if n := len(parseAtom(t, siteFiles(t, env["PAPERFEED_OUT_DIR"])["feeds/all.atom"]).Entries); n != 30 {
			t.Errorf("run %d: all.atom has %d entries, want the 30 the source lists", run, n)
		}
		if !strings.Contains(stderr, "retention") {
			t.Errorf("run %d: no warning that every paper is older than the retention: %s", run, stderr)
		}
	}
}

// One malformed entry and one huge abstract: the rest of the answer goes in.
func TestBadPapersAreSkippedNotFatal(t *testing.T) {
	var entries []map[string]any
	if err := json.Unmarshal(fixture(t), &entries); err != nil {
		t.Fatal(err)
	}
	entries[2]["paper"].(map[string]any)["upvotes"] = "twelve"
	entries[3]["paper"].(map[string]any)["summary"] = strings.Repeat("a huge abstract ", 300_000) // 4.8 MB
	data, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	hf := newHFServer(t, serveJSON(data))
	env := testEnv(t, hf.URL)
	code, stderr := runOnce(t, env)
	if code != 0 {
		t.Fatalf("-once: %d %s", code, stderr)
	}
	atom := siteFiles(t, env["PAPERFEED_OUT_DIR"])["feeds/all.atom"]
	f := parseAtom(t, atom)
	if len(f.Entries) != 29 {
		t.Errorf("all.atom has %d entries, want 29 (one malformed entry skipped)", len(f.Entries))
	}
	if len(atom) > 1<<20 {
		t.Errorf("all.atom is %d bytes: the huge abstract was not capped", len(atom))
	}
}

// A redirect to another host is refused, and the public pages do not show
// where it pointed.
func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	target := newHFServer(t, serveJSON(fixture(t)))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	hf := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+port+r.URL.RequestURI(), http.StatusFound)
	})
	env := testEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	code, _ := runOnce(t, env)
	if code != 1 {
		t.Errorf("-once with an off-host redirect: code %d, want 1", code)
	}
	if target.requests.Load() != 0 {
		t.Errorf("the redirect was followed to another host")
	}
	index := siteFiles(t, env["PAPERFEED_OUT_DIR"])["index.html"]
	if bytes.Contains(index, []byte("localhost:"+port)) {
		t.Errorf("index.html shows where the redirect pointed")
	}
}

// -check works while the server runs.
func TestCheckWhileTheServerRuns(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-check"}, env, &stdout, &stderr, hooks{})
	if code != 0 || !strings.Contains(stdout.String(), "history: 30 papers") {
		t.Errorf("-check while serving: %d\n%s%s", code, stdout.String(), stderr.String())
	}
	// and the server still refreshes afterwards.
	if _, h, raw := getHealth(t, s.url); h.Status != "ok" {
		t.Errorf("healthz after -check: %s", raw)
	}
}

// An empty history file is refused, not silently replaced by a new history.
func TestEmptyHistoryFileIsRefused(t *testing.T) {
	hf := newHFServer(t, serveJSON(fixture(t)))
	env := testEnv(t, hf.URL)
	if err := os.MkdirAll(env["PAPERFEED_DATA_DIR"], 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(env["PAPERFEED_DATA_DIR"], storeFile)
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr := runOnce(t, env)
	if code != 1 || !strings.Contains(stderr, "empty") {
		t.Errorf("-once on a 0-byte history: %d %q; want 1 and a message saying it is empty", code, stderr)
	}
	if fi, err := os.Stat(db); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file was touched: %v %v", fi, err)
	}
}

// Two retries back off: the first after RETRY_MIN, then doubled, never
// past RETRY_MAX or the interval; a Retry-After is honoured.
func TestRetryBackoff(t *testing.T) {
	a := &App{env: Env{RetryMin: time.Minute, RetryMax: 8 * time.Minute, Interval: time.Hour}}
	for _, tt := range []struct {
		n    int
		want time.Duration
	}{{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {4, 8 * time.Minute}, {9, 8 * time.Minute}} {
		if got := a.retryIn(tt.n, nil); got != tt.want {
			t.Errorf("retryIn(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
	a.env.Interval = 3 * time.Minute
	if got := a.retryIn(4, nil); got != 3*time.Minute {
		t.Errorf("retry past the interval: %s", got)
	}
}

// A source that answers 429 with Retry-After is not asked again sooner,
// even when the backoff would.
func TestRetryAfterIsHonoured(t *testing.T) {
	hf := newHFServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	env := testEnv(t, hf.URL)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	env["PAPERFEED_RETRY_MIN"] = "100ms"
	env["PAPERFEED_RETRY_MAX"] = "1s"
	s := startServer(t, env)
	if err := s.waitRefresh(t); err == nil {
		t.Fatal("a rate-limited refresh succeeded")
	}
	resp := get(t, s.url+"/healthz", nil)
	var h struct {
		Refreshed time.Time `json:"last_refresh"`
		Sources   []struct {
			NextTry time.Time `json:"next_try"`
			Error   string    `json:"error"`
		} `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if len(h.Sources) != 1 || h.Sources[0].NextTry.Sub(h.Refreshed) < 4*time.Second {
		t.Errorf("next try %+v after the refresh at %s: want at least the 5s Retry-After", h.Sources, h.Refreshed)
	}
	if len(h.Sources) == 1 && !strings.Contains(h.Sources[0].Error, "429") {
		t.Errorf("the public error does not say the source rate-limited us: %q", h.Sources[0].Error)
	}
}
