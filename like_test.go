package main

// End-to-end tests of like-topics (issue 13): the real run() against the
// captured Hugging Face answer and an arXiv abstract page served on
// 127.0.0.1.

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/store"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// likeConfig has a keyword-free topic and a like-topic of two agent papers
// and one paper that only arXiv has (2512.04392, served from testdata).
const likeConfig = `sources:
  - name: hf
    type: huggingface
topics:
  - slug: all
  - slug: agents
    title: Like my agent papers
    like: [2606.10423, 2606.07867, 2512.04392]
    unlike: [2606.12282]
    top: 4
`

// likeWorld serves the Hugging Face answer and, as arXiv, the abstract page
// of 2512.04392; it counts the abstract pages asked for.
type likeWorld struct {
	*hfServer
	mu     sync.Mutex
	abs    map[string]int
	answer []byte // the Hugging Face answer; the fixture unless changed
	// onAbs, when set, is asked before an abstract page is served: false
	// answers 404 instead.
	onAbs func(r *http.Request) bool
	// onAPI, when set, is called before the Hugging Face answer is served.
	onAPI func(r *http.Request)
}

// setOnAbs makes fn be asked before each abstract page (nil: none).
func (w *likeWorld) setOnAbs(fn func(r *http.Request) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.onAbs = fn
}

// setOnAPI sets onAPI.
func (w *likeWorld) setOnAPI(fn func(r *http.Request)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.onAPI = fn
}

// setAnswer makes data the Hugging Face answer.
func (w *likeWorld) setAnswer(data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answer = data
}

func newLikeWorld(t *testing.T) *likeWorld {
	t.Helper()
	page, err := os.ReadFile("testdata/arxiv-abs-2512.04392v2.html")
	if err != nil {
		t.Fatal(err)
	}
	w := &likeWorld{abs: map[string]int{}, answer: fixture(t)}
	api := func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		data, onAPI := w.answer, w.onAPI
		w.mu.Unlock()
		if onAPI != nil {
			onAPI(r)
		}
		serveJSON(data)(rw, r)
	}
	w.hfServer = newHFServer(t, func(rw http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(rw, r)
		case strings.HasPrefix(r.URL.Path, "/abs/"):
			w.mu.Lock()
			w.abs[strings.TrimPrefix(r.URL.Path, "/abs/")]++
			onAbs := w.onAbs
			w.mu.Unlock()
			if r.URL.Path != "/abs/2512.04392" || onAbs != nil && !onAbs(r) {
				http.NotFound(rw, r)
				return
			}
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			rw.Write(page)
		default:
			api(rw, r)
		}
	})
	return w
}

func (w *likeWorld) absHits() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for k, v := range w.abs {
		out[k] = v
	}
	return out
}

// likeEnv is a fresh environment of w with config cfg.
func likeEnv(t *testing.T, w *likeWorld, cfg string) map[string]string {
	t.Helper()
	env := testEnv(t, w.URL)
	env["PAPERFEED_ARXIV_URL"] = w.URL
	writeConfig(t, env, cfg)
	return env
}

func writeConfig(t *testing.T, env map[string]string, cfg string) {
	t.Helper()
	path := env["PAPERFEED_CONFIG"]
	if path == "" {
		path = filepath.Join(filepath.Dir(env["PAPERFEED_DATA_DIR"]), "paperfeed.yaml")
		env["PAPERFEED_CONFIG"] = path
	}
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// likeFiles are the like-topic's six feeds and their gzip copies.
func likeFiles(t *testing.T, env map[string]string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, data := range siteFiles(t, env["PAPERFEED_OUT_DIR"]) {
		if strings.HasPrefix(name, "feeds/agents.") || strings.HasPrefix(name, "feeds/agents-") || strings.Contains(name, "/agents.") {
			out[name] = data
		}
	}
	if len(out) != 12 {
		names := []string{}
		for n := range out {
			names = append(names, n)
		}
		t.Fatalf("like-topic files: %v, want 12", names)
	}
	return out
}

// TestLikeTopicEndToEnd: the like-topic's feed holds at most top papers of
// the day, none of its seeds, each with its top words as categories; a
// seed only arXiv has is fetched once and kept; the feeds are byte for
// byte the same in two fresh runs and after a restart.
func TestLikeTopicEndToEnd(t *testing.T) {
	w, env := likeRanOnce(t, nil)
	// The seeds Hugging Face lists come with the first refresh; only the
	// one it does not is asked of arXiv.
	if got := w.absHits(); len(got) != 1 || got["2512.04392"] != 1 {
		t.Errorf("abstract pages asked for: %v, want 2512.04392 once", got)
	}
	first := likeFiles(t, env)
	f := parseAtom(t, first["feeds/agents.atom"])
	if len(f.Entries) == 0 || len(f.Entries) > 4 {
		t.Fatalf("agents.atom has %d entries, want 1 to 4 (top: 4 of one listing day)", len(f.Entries))
	}
	for _, e := range f.Entries {
		for _, seed := range []string{"2606.10423", "2606.07867", "2512.04392", "2606.12282"} {
			if strings.HasSuffix(e.ID, seed) {
				t.Errorf("the feed shows seed %s", seed)
			}
		}
		if len(e.Category) == 0 {
			t.Errorf("entry %s has no category: the top words are missing", e.ID)
		}
	}

	// Another fresh run, in new directories: the same bytes. (The daily
	// digests are dated by when the history first saw each paper, which two
	// fresh histories do not share; the restart below holds them too.)
	env2 := likeEnv(t, w, likeConfig)
	if code, stderr := runOnce(t, env2); code != 0 {
		t.Fatalf("second fresh -once: exit code %d: %s", code, stderr)
	}
	second := likeFiles(t, env2)
	for name, data := range first {
		if strings.Contains(name, ".daily.") {
			continue
		}
		if !bytes.Equal(second[name], data) {
			t.Errorf("%s differs between two fresh runs", name)
		}
	}

	// A restart on the first directories: the seed is in the history, so
	// not fetched again, and the feeds are the same bytes.
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("restart -once: exit code %d: %s", code, stderr)
	}
	if got := w.absHits()["2512.04392"]; got != 2 { // once per fresh data directory
		t.Errorf("2512.04392 fetched %d times over two fresh runs and a restart, want 2", got)
	}
	for name, data := range likeFiles(t, env) {
		if !bytes.Equal(first[name], data) {
			t.Errorf("%s differs after a restart", name)
		}
	}

	// -check and -explain tell the model and each paper's words.
	code, out, stderr := runArgs(env, "-check")
	if code != 0 {
		t.Fatalf("-check: exit code %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^  agents: svm, \d+ features, 31 training papers, 3 like, 1 unlike; \d+ papers chosen, at most 4 a listing day$`).MatchString(out) {
		t.Errorf("-check has no like-topic line:\n%s", out)
	}
	code, out, stderr = runArgs(env, "-explain", "agents")
	if code != 0 {
		t.Fatalf("-explain: exit code %d: %s", code, stderr)
	}
	golden(t, "testdata/explain-like.golden", out)
	for _, e := range f.Entries {
		if id := strings.TrimPrefix(e.ID, "https://arxiv.org/abs/"); !strings.Contains(out, "  "+id+"  ") {
			t.Errorf("-explain does not explain %s of the feed", id)
		}
	}
}

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("got\n%s\nwant (%s)\n%s", got, path, want)
	}
}

// TestLikeSeedNotFound: a seed neither the history nor arXiv has is an
// error naming it, at start and in -check; it is asked for once a run.
func TestLikeSeedNotFound(t *testing.T) {
	w := newLikeWorld(t)
	bad := strings.Replace(likeConfig, "2606.07867, 2512.04392", "2606.07867, 2601.00001v2", 1)
	env := likeEnv(t, w, bad)
	code, stderr := runOnce(t, env)
	if code == 0 || !strings.Contains(stderr, "like-topic agents: 2601.00001 not in the history, and not fetched from arXiv (") || !strings.Contains(stderr, "404") {
		t.Errorf("-once: exit code %d, stderr %q; want a failure naming 2601.00001", code, stderr)
	}
	if got := w.absHits()["2601.00001"]; got != 1 {
		t.Errorf("2601.00001 asked for %d times, want once", got)
	}
	// With a history, -check names the missing seed too.
	writeConfig(t, env, likeConfig)
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("-once: exit code %d: %s", code, stderr)
	}
	writeConfig(t, env, bad)
	code, _, stderr = runArgs(env, "-check")
	if code != 1 || !strings.Contains(stderr, "like-topic agents: 2601.00001 not in the history") {
		t.Errorf("-check: exit code %d, stderr %q; want 1 and the missing id", code, stderr)
	}
}

// TestLikeOnceSeedMissingKeepsItsFeed: a -once whose like-topic lost a
// seed (one not found anywhere) exits 1 naming it, writes the other topics,
// and leaves the like-topic's feeds as the last run wrote them, neither
// emptied nor removed.
func TestLikeOnceSeedMissingKeepsItsFeed(t *testing.T) {
	w, env := likeRanOnce(t, nil)
	before := likeFiles(t, env)
	writeConfig(t, env, strings.Replace(likeConfig, "2606.07867, 2512.04392", "2606.07867, 2601.00001", 1))
	w.setAnswer(bytes.Replace(fixture(t), []byte(`"title":"MiniMax Sparse Attention"`), []byte(`"title":"MiniMax Sparse Attention for Agents"`), 1))
	code, stderr := runOnce(t, env)
	if code != 1 || !strings.Contains(stderr, "2601.00001") {
		t.Errorf("-once: exit code %d, stderr %q; want 1 and the missing id", code, stderr)
	}
	after := likeFiles(t, env)
	for _, name := range []string{"feeds/agents.atom", "feeds/agents.rss", "feeds/agents.daily.json"} {
		if after[name] == nil || !bytes.Equal(after[name], before[name]) {
			t.Errorf("%s: %d bytes, want the %d the last run wrote", name, len(after[name]), len(before[name]))
		}
	}
	if !bytes.Contains(siteFiles(t, env["PAPERFEED_OUT_DIR"])["feeds/all.atom"], []byte("MiniMax Sparse Attention for Agents")) {
		t.Error("the other topics were not written")
	}
}

// TestLikeReloadRefusesMissingSeed: a SIGHUP with a seed not found is
// refused and the running like-topic keeps its feed; a good reload that
// changes the seeds changes it.
func TestLikeReloadRefusesMissingSeed(t *testing.T) {
	w := newLikeWorld(t)
	env := likeEnv(t, w, likeConfig)
	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatal(err)
	}
	before := likeFiles(t, env)["feeds/agents.atom"]

	writeConfig(t, env, strings.Replace(likeConfig, "2512.04392]", "2601.00002]", 1))
	hup(t)
	select {
	case err := <-s.reloaded:
		if err == nil || !strings.Contains(err.Error(), "2601.00002") {
			t.Errorf("reload: got %v, want an error naming 2601.00002", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no reload within 20s")
	}
	if got := likeFiles(t, env)["feeds/agents.atom"]; !bytes.Equal(got, before) {
		t.Error("a refused reload changed the like-topic's feed")
	}

	writeConfig(t, env, strings.Replace(likeConfig, "like: [2606.10423, 2606.07867, 2512.04392]", "like: [2606.12575]", 1))
	hup(t)
	select {
	case err := <-s.reloaded:
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no reload within 20s")
	}
	if got := likeFiles(t, env)["feeds/agents.atom"]; bytes.Equal(got, before) {
		t.Error("new seeds left the like-topic's feed as it was")
	}
}

// TestLikeRunLearnsOnce: a run (a -once, or a server's first refresh)
// reads the history for its like-topics once, after its merge and before
// its build, also when the history it starts from has the seeds already
// (learning at start as well read it twice); and -once and a server write
// the same feed from the same history.
func TestLikeRunLearnsOnce(t *testing.T) {
	w := newLikeWorld(t)
	env := likeEnv(t, w, likeConfig)
	e, err := parseEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("c.yaml", []byte(likeConfig))
	if err != nil {
		t.Fatal(err)
	}
	opt := scrape.Options{}
	fastScrape(&opt)
	refresh := func(name string) {
		t.Helper()
		var logs syncBuffer
		a, err := newApp(e, cfg, opt, slog.New(slog.NewTextHandler(&logs, nil)), time.Now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := strings.Count(logs.String(), `msg="like-topics learnt"`); n != 0 {
			t.Errorf("%s: the like-topics learnt %d times at start, want 0", name, n)
		}
		if _, err := a.Refresh(context.Background()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(logs.String(), `msg="like-topics learnt"`); n != 1 {
			t.Errorf("%s: the like-topics learnt %d times, want 1", name, n)
		}
	}
	refresh("first run")
	if n := len(parseAtom(t, likeFiles(t, env)["feeds/agents.atom"]).Entries); n == 0 {
		t.Fatal("the first run wrote the like-topic without entries")
	}
	w.setAnswer(bytes.Replace(fixture(t), []byte(`"title":"MiniMax Sparse Attention"`), []byte(`"title":"MiniMax Sparse Attention for Agents"`), 1))
	refresh("run over a history with the seeds")
	byApp := likeFiles(t, env)
	// The same history by the binary's -once, from a fresh data directory.
	env2 := likeEnv(t, w, likeConfig)
	if code, stderr := runOnce(t, env2); code != 0 {
		t.Fatalf("-once: exit code %d: %s", code, stderr)
	}
	byOnce := likeFiles(t, env2)
	// The digests are dated by when each day's digest last changed, which
	// differs between the two histories; the topic's feeds are not.
	for _, name := range []string{"feeds/agents.atom", "feeds/agents.rss", "feeds/agents.json"} {
		if !bytes.Equal(byOnce[name], byApp[name]) {
			t.Errorf("%s differs between -once and the app from the same history", name)
		}
	}
}

// TestLikeLearnsOnlyWhenSomethingChanged: the like-topics learn after a
// refresh that changed the history and on a reload that changed them, not
// on a refresh that changed nothing nor on a reload that left them alone;
// and they learn without the write lock, so a reload or a refresh's
// write never waits for a corpus being built.
func TestLikeLearnsOnlyWhenSomethingChanged(t *testing.T) {
	w := newLikeWorld(t)
	env := likeEnv(t, w, likeConfig)
	e, err := parseEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("c.yaml", []byte(likeConfig))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	opt := scrape.Options{}
	fastScrape(&opt)
	a, err := newApp(e, cfg, opt, slog.New(slog.NewTextHandler(&logs, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	learnt := func() int { return strings.Count(logs.String(), `msg="like-topics learnt"`) }
	steps := []struct {
		name string
		do   func() error
		want int
	}{
		{"first refresh", func() error { _, err := a.Refresh(context.Background()); return err }, 1},
		{"refresh that changed nothing", func() error { _, err := a.Refresh(context.Background()); return err }, 1},
		{"refresh that changed the history", func() error {
			w.setAnswer(bytes.Replace(fixture(t), []byte(`"title":"MiniMax Sparse Attention"`), []byte(`"title":"MiniMax Sparse Attention for Agents"`), 1))
			_, err := a.Refresh(context.Background())
			return err
		}, 2},
		{"reload of the same config", func() error { _, err := a.Reload(cfg); return err }, 2},
		{"reload with another top", func() error {
			c, err := ParseConfig("c.yaml", []byte(strings.Replace(likeConfig, "top: 4", "top: 2", 1)))
			if err != nil {
				return err
			}
			_, err = a.Reload(c)
			return err
		}, 3},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := learnt(); got != s.want {
			t.Errorf("after the %s the like-topics learnt %d times, want %d", s.name, got, s.want)
		}
	}
	if n := len(parseAtom(t, likeFiles(t, env)["feeds/agents.atom"]).Entries); n != 2 {
		t.Errorf("after top: 2 the feed has %d entries, want 2", n)
	}

	// A reload that leaves the like-topics alone does not wait for a
	// refresh's learning.
	a.learning.Lock()
	reloaded := make(chan error, 1)
	top2, err := ParseConfig("c.yaml", []byte(strings.Replace(likeConfig, "top: 4", "top: 2", 1)))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, err := a.Reload(top2); reloaded <- err }()
	select {
	case err := <-reloaded:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(20 * time.Second):
		t.Error("a reload waited for the like-topics' learning")
	}
	a.learning.Unlock()

	// Learning again with the write lock held elsewhere finishes.
	c, err := ParseConfig("c.yaml", []byte(strings.Replace(likeConfig, "top: 4", "top: 3", 1)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.compile(c)
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	done := make(chan error, 1)
	go func() {
		a.learning.Lock()
		defer a.learning.Unlock()
		_, err := a.learn(context.Background(), p)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(20 * time.Second):
		t.Error("learning waited for the write lock")
	}
	a.mu.Unlock()
}

// likeRanOnce is a world and a fresh environment of it (with extra
// variables set) where a -once of likeConfig has run.
func likeRanOnce(t *testing.T, extra map[string]string) (*likeWorld, map[string]string) {
	t.Helper()
	w := newLikeWorld(t)
	env := likeEnv(t, w, likeConfig)
	maps.Copy(env, extra)
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("-once: exit code %d: %s", code, stderr)
	}
	return w, env
}

// holdRequests makes hold, which holds each request it is given until
// release is closed (or the request is given up); asked is closed at the
// first.
func holdRequests() (asked, release chan struct{}, hold func(*http.Request)) {
	asked, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	return asked, release, func(r *http.Request) {
		once.Do(func() { close(asked) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
}

// wordlessSeedEnv is an environment (with extra variables set) whose
// history, made by a -once, has 2601.00005, a paper without a word of the
// vocabulary, and whose like-topic has it as its one seed.
func wordlessSeedEnv(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	_, env := likeRanOnce(t, extra)
	s, err := store.Open(filepath.Join(env["PAPERFEED_DATA_DIR"], storeFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Merge([]paper.Paper{{ID: "2601.00005", Title: "Zyxwvu"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, env, strings.Replace(likeConfig, "like: [2606.10423, 2606.07867, 2512.04392]", "like: [2601.00005]", 1))
	return env
}

// TestLikeWordlessSeed: a like-topic whose only seed has no word of the
// vocabulary learns nothing; -check and -explain say why, and the feed
// is empty rather than wrong.
func TestLikeWordlessSeed(t *testing.T) {
	env := wordlessSeedEnv(t, nil)
	const why = "no model: like: no like paper has a word of the vocabulary: 2601.00005"
	code, out, stderr := runArgs(env, "-check")
	if code != 0 || !strings.Contains(out, "  agents: "+why+"; 0 papers chosen") {
		t.Errorf("-check: exit code %d, stdout %q, stderr %q; want the reason", code, out, stderr)
	}
	code, out, stderr = runArgs(env, "-explain", "agents")
	if code != 0 || out != "like-topic agents: "+why+"\n" {
		t.Errorf("-explain: exit code %d, stdout %q, stderr %q; want only the reason", code, out, stderr)
	}
	if code, stderr := runOnce(t, env); code != 0 {
		t.Fatalf("-once: exit code %d: %s", code, stderr)
	}
	if n := len(parseAtom(t, likeFiles(t, env)["feeds/agents.atom"]).Entries); n != 0 {
		t.Errorf("the feed has %d entries, want none", n)
	}
}

// likeFeed is GET /feeds/agents.atom from s: the status and, on 200, how
// many entries it has.
func likeFeed(t *testing.T, s *server) (*http.Response, int) {
	t.Helper()
	resp := get(t, s.url+"/feeds/agents.atom", nil)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp, 0
	}
	return resp, len(parseAtom(t, body).Entries)
}

// TestLikeFeedNotServedEmptyOnFirstStart: on a first start the like-topics
// learn after the first merge (the seeds come with it) and before the
// first build. Held here while the refresh fetches the seed only arXiv
// has, nothing is built yet, and the like-topic's feed answers 503 with
// Retry-After; once it has learnt, in the same refresh, it is written with
// its papers and listed.
func TestLikeFeedNotServedEmptyOnFirstStart(t *testing.T) {
	w := newLikeWorld(t)
	asked, release, hold := holdRequests()
	w.setOnAbs(func(r *http.Request) bool { hold(r); return true })
	env := likeEnv(t, w, likeConfig)
	s := startServer(t, env)
	select {
	case <-asked: // merged: the seeds still missing are fetched now
	case <-time.After(20 * time.Second):
		t.Fatal("the seed was not asked for within 20s")
	}
	files := siteFiles(t, env["PAPERFEED_OUT_DIR"])
	if data, ok := files["feeds/agents.atom"]; ok {
		t.Errorf("the like-topic's feed was written before it learnt (%d entries)", len(parseAtom(t, data).Entries))
	}
	if _, ok := files["index.html"]; ok {
		t.Error("the site was built before the like-topics learnt")
	}
	if resp, n := likeFeed(t, s); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("agents.atom before the like-topic learnt: %s with %d entries, Retry-After %q; want 503 with Retry-After", resp.Status, n, resp.Header.Get("Retry-After"))
	}
	if resp := get(t, s.url+"/feeds/agents.daily.json", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("agents.daily.json before the like-topic learnt: %s, want 503", resp.Status)
	}

	close(release)
	if err := s.waitRefresh(t); err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if resp, n := likeFeed(t, s); resp.StatusCode != http.StatusOK || n == 0 || n > 4 {
		t.Errorf("agents.atom after the first refresh: %s with %d entries, want 200 with 1 to 4", resp.Status, n)
	}
	resp := get(t, s.url+"/", nil)
	if index, _ := io.ReadAll(resp.Body); !bytes.Contains(index, []byte("feeds/agents.atom")) {
		t.Error("index.html does not list the like-topic once it learnt")
	}
	if code, h, raw := getHealth(t, s.url); code != http.StatusOK || h.Status != "ok" {
		t.Errorf("healthz after the first refresh: %d %s", code, raw)
	}
}

// TestLikeFeedServedWhileARestartLearns: a server started over the site
// of an earlier run serves the like-topic's feed that run wrote while its
// first refresh scrapes and learns, not a 503.
func TestLikeFeedServedWhileARestartLearns(t *testing.T) {
	w, env := likeRanOnce(t, nil)
	written := likeFiles(t, env)["feeds/agents.atom"]
	asked, release, hold := holdRequests()
	w.setOnAPI(func(r *http.Request) { hold(r) })
	s := startServer(t, env)
	select {
	case <-asked:
	case <-time.After(20 * time.Second):
		t.Fatal("the first refresh did not scrape within 20s")
	}
	resp := get(t, s.url+"/feeds/agents.atom", nil)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, written) {
		t.Errorf("agents.atom while the first refresh runs: %s, %d bytes; want 200 and the %d bytes written before", resp.Status, len(body), len(written))
	}
	close(release)
	if err := s.waitRefresh(t); err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	if resp, n := likeFeed(t, s); resp.StatusCode != http.StatusOK || n == 0 {
		t.Errorf("agents.atom after the first refresh: %s with %d entries", resp.Status, n)
	}
}

// TestLikeLearnFailureIsOnHealthz: like-topics that cannot learn make
// /healthz degraded with a public line naming the topic and the seed, and
// their feed is not written empty; a learning pass that succeeds makes it
// ok again.
func TestLikeLearnFailureIsOnHealthz(t *testing.T) {
	w := newLikeWorld(t)
	var down atomic.Bool
	down.Store(true)
	w.setOnAbs(func(*http.Request) bool { return !down.Load() })
	env := likeEnv(t, w, likeConfig)
	env["PAPERFEED_LOG_LEVEL"] = "error"
	s := startServer(t, env)
	if err := s.waitRefresh(t); err == nil || !strings.Contains(err.Error(), "2512.04392") {
		t.Fatalf("first refresh with a seed not found: %v, want an error naming 2512.04392", err)
	}
	code, h, raw := getHealth(t, s.url)
	const want = "like-topic agents: seeds not found in the history nor on arXiv: 2512.04392"
	if code != http.StatusServiceUnavailable || h.Status != "degraded" || h.LearnError != want {
		t.Errorf("healthz while the like-topic cannot learn: %d %s; want 503, degraded, learn_error %q", code, raw, want)
	}
	for _, internal := range []string{"127.0.0.1", "404", "http"} {
		if strings.Contains(raw, internal) {
			t.Errorf("healthz shows internal detail %q: %s", internal, raw)
		}
	}
	if resp, n := likeFeed(t, s); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("agents.atom of a like-topic that never learnt: %s with %d entries, want 503 with Retry-After", resp.Status, n)
	}
	if page := indexPage(t, s); !strings.Contains(page, "Like-topics: <span class=\"state failed\">failing</span> · "+want) {
		t.Errorf("index.html while the like-topic cannot learn does not say so:\n%s", page)
	}

	// arXiv answers again; a refresh (of the source the reload changed)
	// learns, and health is back.
	down.Store(false)
	writeConfig(t, env, strings.Replace(likeConfig, "type: huggingface", "type: huggingface\n    days: 2", 1))
	hup(t)
	if err := <-s.reloaded; err != nil {
		t.Fatalf("reload: %v", err)
	}
	if err := s.waitRefresh(t); err != nil {
		t.Fatalf("refresh after arXiv came back: %v", err)
	}
	code, h, raw = getHealth(t, s.url)
	if code != http.StatusOK || h.Status != "ok" || h.LearnError != "" {
		t.Errorf("healthz once the like-topic learnt: %d %s; want 200, ok, no learn_error", code, raw)
	}
	if resp, n := likeFeed(t, s); resp.StatusCode != http.StatusOK || n == 0 {
		t.Errorf("agents.atom once the like-topic learnt: %s with %d entries, want papers", resp.Status, n)
	}
	if page := indexPage(t, s); strings.Contains(page, "Like-topics") {
		t.Errorf("index.html once the like-topic learnt still reports a problem:\n%s", page)
	}
}

// indexPage is the server's index.html.
func indexPage(t *testing.T, s *server) string {
	t.Helper()
	resp, err := http.Get(s.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("index.html: %s, %v", resp.Status, err)
	}
	return string(data)
}

// TestLikeWithoutModelIsOnHealthz: a like-topic that learnt no model (its
// seed has no word of the vocabulary) makes /healthz degraded, naming it,
// and keeps its feed, empty: it learnt, and chose nothing. A reload that
// gives it a model makes health ok again.
func TestLikeWithoutModelIsOnHealthz(t *testing.T) {
	env := wordlessSeedEnv(t, map[string]string{"PAPERFEED_LOG_LEVEL": "error"})
	s := startServer(t, env)
	if err := s.waitRefresh(t); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	code, h, raw := getHealth(t, s.url)
	const want = "like-topic agents: no model: no like paper has a word of the vocabulary"
	if code != http.StatusServiceUnavailable || h.Status != "degraded" || h.LearnError != want {
		t.Errorf("healthz with a like-topic without a model: %d %s; want 503, degraded, learn_error %q", code, raw, want)
	}
	if resp, n := likeFeed(t, s); resp.StatusCode != http.StatusOK || n != 0 {
		t.Errorf("agents.atom of a like-topic that chose nothing: %s with %d entries, want 200 and empty", resp.Status, n)
	}

	writeConfig(t, env, likeConfig)
	hup(t)
	if err := <-s.reloaded; err != nil {
		t.Fatalf("reload: %v", err)
	}
	if code, h, raw := getHealth(t, s.url); code != http.StatusOK || h.Status != "ok" || h.LearnError != "" {
		t.Errorf("healthz once the like-topic has a model: %d %s; want 200, ok, no learn_error", code, raw)
	}
}
