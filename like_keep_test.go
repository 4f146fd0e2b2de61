package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// The learning a process keeps in the history file (learntState): a new
// process learns nothing when neither the history nor the like config
// changed, and trains only the topics whose inputs changed.

const (
	learntLine  = `msg="like-topics learnt"`
	nothingLine = `msg="like-topics: nothing to learn`
	// mergeLine and digestLine are nothingLine's two forms: the merge of
	// this run changed nothing they read, or a pass over the history
	// found so.
	mergeLine  = nothingLine + `; the merge changed only what they do not read"`
	digestLine = nothingLine + `; the history changed only in what they do not read"`
)

// moreUpvotes is the fixture with every paper's upvotes raised by n: a
// history that changed in nothing the model reads.
func moreUpvotes(t *testing.T, n int) []byte {
	t.Helper()
	return regexp.MustCompile(`"upvotes":(\d+)`).ReplaceAllFunc(fixture(t), func(m []byte) []byte {
		v, _ := strconv.Atoi(string(m[len(`"upvotes":`):]))
		return fmt.Appendf(nil, `"upvotes":%d`, v+n)
	})
}

// onceLogs runs a -once and returns its log, failing on a non-zero exit.
func onceLogs(t *testing.T, name string, env map[string]string) string {
	t.Helper()
	code, stderr := runOnce(t, env)
	if code != 0 {
		t.Fatalf("%s: exit code %d: %s", name, code, stderr)
	}
	return stderr
}

// sameAsFresh checks that the like-topic's feeds in env are those a fresh
// -once of cfg writes from w's current answer.
func sameAsFresh(t *testing.T, w *likeWorld, cfg string, env map[string]string, when string) {
	t.Helper()
	fresh := likeEnv(t, w, cfg)
	onceLogs(t, "fresh -once", fresh)
	want := likeFeeds(t, fresh)
	for name, data := range likeFeeds(t, env) {
		if !bytes.Equal(data, want[name]) {
			t.Errorf("%s %s differs from a fresh run's", name, when)
		}
	}
}

// likeFeeds are the like-topic's three feeds (the digests are dated by
// when each day's digest last changed, which differs between histories).
func likeFeeds(t *testing.T, env map[string]string) map[string][]byte {
	t.Helper()
	all := likeFiles(t, env)
	out := map[string][]byte{}
	for _, name := range []string{"feeds/agents.atom", "feeds/agents.rss", "feeds/agents.json"} {
		out[name] = all[name]
	}
	return out
}

func TestLikeOnceKeepsWhatItLearnt(t *testing.T) {
	w := newLikeWorld(t)
	env := likeEnv(t, w, likeConfig)
	env["PAPERFEED_LOG_LEVEL"] = "info"
	if logs := onceLogs(t, "first -once", env); strings.Count(logs, learntLine) != 1 {
		t.Fatalf("the first -once did not learn once:\n%s", logs)
	}
	first := likeFiles(t, env)
	stat := func(name string) time.Time {
		t.Helper()
		fi, err := os.Stat(filepath.Join(env["PAPERFEED_OUT_DIR"], filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	mtimes := map[string]time.Time{}
	for name := range first {
		mtimes[name] = stat(name)
	}

	// Nothing changed: nothing is learnt, and the like-topic's files are
	// left as they are.
	if logs := onceLogs(t, "unchanged -once", env); strings.Contains(logs, learntLine) || strings.Contains(logs, nothingLine) {
		t.Errorf("a -once over an unchanged history read it for the like-topics:\n%s", logs)
	}
	for name, data := range likeFiles(t, env) {
		if !bytes.Equal(data, first[name]) || !stat(name).Equal(mtimes[name]) {
			t.Errorf("%s was written again by a -once that changed nothing", name)
		}
	}

	// Upvotes only, merged by the run: the history is not read for the
	// like-topics, nothing is trained, and the feeds are those of a fresh
	// run over the same answer.
	w.setAnswer(moreUpvotes(t, 7))
	if logs := onceLogs(t, "-once after new upvotes", env); strings.Contains(logs, learntLine) || !strings.Contains(logs, mergeLine) {
		t.Errorf("after new upvotes the like-topics trained, or read the history, or did not say they had nothing to learn:\n%s", logs)
	}
	sameAsFresh(t, w, likeConfig, env, "after reusing what was learnt")
	if bytes.Equal(first["feeds/agents.atom"], likeFeeds(t, env)["feeds/agents.atom"]) {
		t.Error("new upvotes left the like-topic's feed as it was: the test shows nothing")
	}

	// Upvotes written by another process first: the run's merge did not
	// start from the history they learnt from, so the history is
	// digested, and still nothing is trained.
	s, err := store.Open(filepath.Join(env["PAPERFEED_DATA_DIR"], "paperfeed.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Merge([]paper.Paper{{ID: "2606.10423", Upvotes: 500}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if logs := onceLogs(t, "-once after another writer", env); strings.Contains(logs, learntLine) || !strings.Contains(logs, digestLine) {
		t.Errorf("after another process wrote upvotes the like-topics trained, or did not digest the history:\n%s", logs)
	}
	sameAsFresh(t, w, likeConfig, env, "after another writer")

	// A title the model reads: the topic trains again, and the history is
	// not digested first, since the merge changed every topic's inputs.
	w.setAnswer(bytes.Replace(moreUpvotes(t, 7), []byte(`"title":"MiniMax Sparse Attention"`), []byte(`"title":"MiniMax Sparse Attention for Agents"`), 1))
	if logs := onceLogs(t, "-once after a new title", env); !strings.Contains(logs, learntLine+" topics=1 reused=0 passes=1") {
		t.Errorf("after a new title the like-topic did not train again, or digested the history first:\n%s", logs)
	}
	sameAsFresh(t, w, likeConfig, env, "after a new title")

	// A second like-topic: it trains, the first is reused.
	two := likeConfig + `  - slug: more
    like: [2606.10423]
    top: 2
`
	writeConfig(t, env, two)
	if logs := onceLogs(t, "-once with a second like-topic", env); !strings.Contains(logs, learntLine+" topics=2 reused=1 passes=1") || !strings.Contains(logs, "tokenised=0 ") {
		t.Errorf("with a second like-topic, not only it trained, or the history was read twice, or tokenised:\n%s", logs)
	}
	sameAsFresh(t, w, two, env, "with a reused result")

	// Without the token cache, the history is digested first, and the
	// topic whose config is the same is still reused.
	if err := os.Remove(filepath.Join(env["PAPERFEED_DATA_DIR"], tokensFile)); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, env, strings.Replace(two, "top: 2", "top: 3", 1))
	if logs := onceLogs(t, "-once without the token cache", env); !strings.Contains(logs, learntLine+" topics=2 reused=1 passes=2") {
		t.Errorf("without the token cache, a changed like-topic did not train alone after a digest:\n%s", logs)
	}
}

// TestLikeUpvotesThatChangeATakeTrain: a like-topic whose other rules
// read upvotes (min_upvotes) trains again when new upvotes change which
// papers they take, although the merge changed nothing else.
func TestLikeUpvotesThatChangeATakeTrain(t *testing.T) {
	w := newLikeWorld(t)
	cfg := likeConfig + "    min_upvotes: 9\n"
	env := likeEnv(t, w, cfg)
	env["PAPERFEED_LOG_LEVEL"] = "info"
	if logs := onceLogs(t, "first -once", env); !strings.Contains(logs, learntLine+" topics=1 reused=0") {
		t.Fatalf("the first -once did not learn:\n%s", logs)
	}
	// Seven more upvotes each: papers of 2 to 8 now pass min_upvotes.
	w.setAnswer(moreUpvotes(t, 7))
	if logs := onceLogs(t, "-once after new upvotes", env); strings.Contains(logs, nothingLine) || !strings.Contains(logs, learntLine+" topics=1 reused=0 passes=1") {
		t.Errorf("new upvotes that change what the topic takes did not train it, in one pass:\n%s", logs)
	}
	sameAsFresh(t, w, cfg, env, "after upvotes that change what it takes")
}

// TestHistoryChange: a merge keeps the like-topics' inputs only when it
// added, pruned and changed no paper in what they read, and changes them
// all when it added, pruned or changed the text of a paper; and it tells
// of them only across its own generations, for the like config it judged.
func TestHistoryChange(t *testing.T) {
	pipe := func(t *testing.T, yaml string) *pipeline {
		t.Helper()
		cfg, err := ParseConfig("c.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		var specs []topic.Spec
		for _, tc := range cfg.Topics {
			specs = append(specs, tc.Spec())
		}
		r, err := topic.Compile(specs)
		if err != nil {
			t.Fatal(err)
		}
		p := &pipeline{router: r}
		p.likes, p.likeKey = likeTopics(cfg)
		return p
	}
	likes := pipe(t, likeConfig+"    min_upvotes: 9\n")
	none := pipe(t, "sources:\n  - name: hf\n    type: huggingface\ntopics:\n  - slug: all\n")
	old := &paper.Paper{ID: "2606.00001", Title: "A title", Abstract: "An abstract.", Day: time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC), Upvotes: 1}
	with := func(f func(p *paper.Paper)) *paper.Paper {
		p := *old
		f(&p)
		return &p
	}
	changed := func(before, after *paper.Paper) store.MergeResult {
		return store.MergeResult{Before: []*paper.Paper{before}, Changed: []*paper.Paper{after}}
	}
	upvotes := changed(old, with(func(p *paper.Paper) { p.Upvotes = 5 }))
	takes := changed(old, with(func(p *paper.Paper) { p.Upvotes = 9 }))
	title := changed(old, with(func(p *paper.Paper) { p.Title += "!" }))
	added := changed(nil, old)
	for _, tt := range []struct {
		name      string
		p         *pipeline
		res       store.MergeResult
		pruned    bool
		kept, all bool
	}{
		{"upvotes the rules do not see", likes, upvotes, false, true, false},
		{"nothing changed", likes, store.MergeResult{}, false, true, false},
		{"upvotes that pass min_upvotes", likes, takes, false, false, false},
		{"a title", likes, title, false, false, true},
		{"a new paper", likes, added, false, false, true},
		{"a pruned paper", likes, store.MergeResult{}, true, false, true},
		{"new upvotes and a new paper", likes, store.MergeResult{Before: slices.Concat(takes.Before, added.Before), Changed: slices.Concat(takes.Changed, added.Changed)}, false, false, true},
		{"no like-topics", none, upvotes, false, false, false},
	} {
		c := changeOf(tt.p, 1, 2, tt.res, tt.pruned)
		if c.kept != tt.kept || c.all != tt.all {
			t.Errorf("%s: kept %v, all %v; want %v, %v", tt.name, c.kept, c.all, tt.kept, tt.all)
		}
	}

	c := changeOf(likes, 1, 2, upvotes, false)
	for _, tt := range []struct {
		name        string
		c           *historyChange
		learnt, now uint64
		key         string
		want        bool
	}{
		{"across the merge", c, 1, 2, likes.likeKey, true},
		{"learnt before another write", c, 0, 2, likes.likeKey, false},
		{"written since by another", c, 1, 3, likes.likeKey, false},
		{"another like config", c, 1, 2, likes.likeKey + " ", false},
		{"no merge", nil, 1, 2, likes.likeKey, false},
	} {
		if got := tt.c.across(tt.learnt, tt.now, tt.key); got != tt.want {
			t.Errorf("across %s = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// learntCounts are the papers a training pass read and those it tokenised,
// from its log line.
func learntCounts(t *testing.T, logs string) (papers, tokenised int) {
	t.Helper()
	m := regexp.MustCompile(learntLine + ` .*papers=(\d+) tokenised=(\d+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no training pass in:\n%s", logs)
	}
	papers, _ = strconv.Atoi(m[1])
	tokenised, _ = strconv.Atoi(m[2])
	return papers, tokenised
}

// TestLikeTokenCache: a training pass tokenises only the papers whose
// records changed since the last one, and learns what a pass that
// tokenises them all learns; a damaged cache is logged, and the pass
// tokenises every paper and writes it anew.
func TestLikeTokenCache(t *testing.T) {
	w := newLikeWorld(t)
	env := likeEnv(t, w, likeConfig)
	env["PAPERFEED_LOG_LEVEL"] = "info"
	cache := filepath.Join(env["PAPERFEED_DATA_DIR"], tokensFile)
	// The first -once learns twice: before and after it fetches a seed,
	// which alone the second pass tokenises.
	if papers, tokenised := learntCounts(t, onceLogs(t, "first -once", env)); papers < 2 || tokenised != 1 {
		t.Fatalf("the pass after the seed's fetch tokenised %d of %d papers, want 1", tokenised, papers)
	}
	retitle := func(title string) {
		w.setAnswer(bytes.Replace(fixture(t), []byte(`"title":"MiniMax Sparse Attention"`), []byte(`"title":"`+title+`"`), 1))
	}
	retitle("MiniMax Sparse Attention for Agents")
	if papers, tokenised := learntCounts(t, onceLogs(t, "-once after a new title", env)); tokenised != 1 {
		t.Errorf("after one new title the pass tokenised %d of %d papers, want 1", tokenised, papers)
	}
	sameAsFresh(t, w, likeConfig, env, "with the token cache")

	if err := os.WriteFile(cache, []byte("not a cache"), 0o644); err != nil {
		t.Fatal(err)
	}
	retitle("MiniMax Sparse Attention for Tool Use")
	logs := onceLogs(t, "-once over a damaged cache", env)
	if !strings.Contains(logs, "the token cache is unreadable; tokenising every paper") {
		t.Errorf("a damaged token cache was not reported:\n%s", logs)
	}
	if papers, tokenised := learntCounts(t, logs); tokenised != papers {
		t.Errorf("over a damaged cache the pass tokenised %d of %d papers, want all", tokenised, papers)
	}
	sameAsFresh(t, w, likeConfig, env, "after a damaged token cache")
	retitle("MiniMax Sparse Attention, Again")
	if _, tokenised := learntCounts(t, onceLogs(t, "-once after the cache was written anew", env)); tokenised != 1 {
		t.Errorf("the cache written anew did not serve: %d papers tokenised, want 1", tokenised)
	}

	// A cache of another version (a format 2 this program does not read):
	// said, at info level, and replaced.
	other := append([]byte("paperfeed like-tokens\n"), 2, 1, 0, 0)
	if err := os.WriteFile(cache, binary.BigEndian.AppendUint32(other, crc32.Checksum(other, crc32.MakeTable(crc32.Castagnoli))), 0o644); err != nil {
		t.Fatal(err)
	}
	retitle("MiniMax Sparse Attention, Anew")
	logs = onceLogs(t, "-once over a cache of another version", env)
	if !strings.Contains(logs, "the token cache is of another version; tokenising every paper") {
		t.Errorf("a cache of another version was not reported:\n%s", logs)
	}
	if papers, tokenised := learntCounts(t, logs); tokenised != papers {
		t.Errorf("over a cache of another version the pass tokenised %d of %d papers, want all", tokenised, papers)
	}

	// A cache that can be neither read nor replaced (a directory in its
	// place) costs the tokenising only: the pass learns, and says why.
	if err := os.Remove(cache); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(cache, "in the way"), 0o755); err != nil {
		t.Fatal(err)
	}
	retitle("MiniMax Sparse Attention, Once More")
	logs = onceLogs(t, "-once with a directory for a cache", env)
	for _, want := range []string{"the token cache is unreadable", "could not write the token cache"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
	if left, _ := filepath.Glob(cache + ".*"); len(left) > 0 {
		t.Errorf("the failed write left %q", left)
	}
	sameAsFresh(t, w, likeConfig, env, "without a token cache")
}

// TestLikeUnreadableLearningLearnsAgain: what the history file keeps of
// the last learning, damaged, is logged and learnt again; nothing else is
// lost.
func TestLikeUnreadableLearningLearnsAgain(t *testing.T) {
	for name, data := range map[string][]byte{
		"not gzip":         []byte("{}"),
		"not JSON":         gzipped(t, []byte("not json")),
		"an unknown error": gzipped(t, []byte(`{"Key":"k","Gen":1,"Topics":[{"Inputs":"x","Slug":"agents","Err":"on fire"}]}`)),
	} {
		t.Run(name, func(t *testing.T) {
			w, env := likeRanOnce(t, map[string]string{"PAPERFEED_LOG_LEVEL": "info"})
			s, err := store.Open(filepath.Join(env["PAPERFEED_DATA_DIR"], "paperfeed.db"))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SaveState(map[string][]byte{learntState: data}, nil); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			w.setAnswer(moreUpvotes(t, 3))
			logs := onceLogs(t, "-once", env)
			if !strings.Contains(logs, "what they last learnt is unreadable; learning again") || !strings.Contains(logs, learntLine+" topics=1 reused=0") {
				t.Errorf("a damaged learning was not reported and learnt again:\n%s", logs)
			}
			sameAsFresh(t, w, likeConfig, env, "after learning again")
			// And it is kept again: the next -once learns nothing.
			if logs := onceLogs(t, "unchanged -once", env); strings.Contains(logs, learntLine) {
				t.Errorf("the learning was not kept again:\n%s", logs)
			}
		})
	}
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
