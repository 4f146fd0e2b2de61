package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/paperfeed/paperfeed/learn"
	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/metrics"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/site"
	"github.com/paperfeed/paperfeed/store"
)

// TestCompileRefusesUnknownSourceType: ParseConfig rejects unknown types, and
// a config built another way still cannot skip a source silently.
func TestCompileRefusesUnknownSourceType(t *testing.T) {
	a := &App{}
	_, err := a.compile(&Config{Sources: []SourceConfig{{Name: "x", Type: "gopher"}}, Topics: []TopicConfig{{Slug: "all", Limit: 1}}})
	if err == nil || !strings.Contains(err.Error(), `source x: unknown type "gopher"`) {
		t.Errorf("got %v, want an error naming the source and type", err)
	}
}

// TestScrapeReason sorts scrape errors into the metrics' reasons, through
// the wrapping the scrapers and errors.Join add.
func TestScrapeReason(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("scrape hf: %w", context.DeadlineExceeded), metrics.ReasonTimeout},
		{fmt.Errorf("scrape hf: %w", &scrape.HTTPError{URL: "http://127.0.0.1/x", StatusCode: 503}), metrics.ReasonHTTPStatus},
		{errors.Join(fmt.Errorf("day 1: %w", scrape.ErrDisallowed)), metrics.ReasonRobots},
		{fmt.Errorf("x: %w", scrape.ErrBodyTooLarge), metrics.ReasonTooLarge},
		{fmt.Errorf("x: %w", scrape.ErrNoData), metrics.ReasonParse},
		{fmt.Errorf("get: %w", refused), metrics.ReasonNetwork},
		{errors.New("something else"), metrics.Other},
	} {
		if got := scrapeReason(tt.err); got != tt.want {
			t.Errorf("scrapeReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestWriteProblem says in public words what kind of write failed, without
// the path the error carries.
func TestWriteProblem(t *testing.T) {
	path := "/srv/paperfeed/public/feeds/all.atom"
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}, "cannot write the site: the disk is full"},
		{&os.PathError{Op: "open", Path: path, Err: syscall.EROFS}, "cannot write the site: the directory is not writable"},
		{&os.PathError{Op: "open", Path: path, Err: syscall.EACCES}, "cannot write the site: the directory is not writable"},
		{&os.PathError{Op: "open", Path: path, Err: syscall.EMFILE}, "cannot write the site: out of file descriptors"},
		{fmt.Errorf("merge: %w", store.ErrLocked), "cannot write the history: another process holds it"},
		{errors.New("odd"), "cannot write the history or the site"},
	} {
		got := writeProblem(tt.err)
		if got != tt.want || strings.Contains(got, path) {
			t.Errorf("writeProblem(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestLearnProblem says in public words which like-topic could not learn
// and why, without the paths and addresses the errors carry.
func TestLearnProblem(t *testing.T) {
	path := "/srv/paperfeed/data/paperfeed.db"
	seed := &SeedError{
		Missing: &learn.MissingError{Seeds: map[string][]string{"b": {"2601.00002"}, "a": {"2601.00001", "2601.00003"}}},
		Fetch:   errors.New(`Get "http://10.0.0.7/abs/2601.00001": dial tcp: connection refused`),
	}
	learnt := func(errs ...error) *learning {
		l := &learning{}
		for i, err := range errs {
			l.results = append(l.results, learn.Result{Slug: fmt.Sprint("t", i), Err: err})
		}
		return l
	}
	for _, tt := range []struct {
		name string
		err  error
		l    *learning
		want string
	}{
		{"not learnt yet", nil, nil, ""},
		{"every topic has a model", nil, learnt(nil, nil), ""},
		{"seeds not found", fmt.Errorf("like-topics: %w", seed), learnt(nil),
			"like-topic a: seeds not found in the history nor on arXiv: 2601.00001, 2601.00003; like-topic b: seeds not found in the history nor on arXiv: 2601.00002"},
		{"history held", fmt.Errorf("like-topics: open %s: %w", path, store.ErrLocked), nil, "like-topics cannot read the history: another process holds it"},
		{"history damaged", fmt.Errorf("like-topics: read the history: %s: %w", path, store.ErrDamaged), nil, "like-topics cannot read the history: the file is damaged"},
		{"other", &os.PathError{Op: "open", Path: path, Err: syscall.EIO}, nil, "like-topics could not learn from the history"},
		{"one topic without a model", nil, learnt(nil, fmt.Errorf("%w: 2601.00005", like.ErrNoWords)),
			"like-topic t1: no model: no like paper has a word of the vocabulary"},
		{"no features", nil, learnt(like.ErrNoFeatures, like.ErrNoFeatures),
			"like-topic t0: no model: no word is in enough papers; like-topic t1: no model: no word is in enough papers"},
		{"another reason", nil, learnt(errors.New("odd " + path)), "like-topic t0: no model"},
	} {
		got := learnProblem(tt.err, tt.l)
		if got != tt.want {
			t.Errorf("%s: learnProblem(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
		for _, internal := range []string{path, "10.0.0.7", "dial tcp", "\n"} {
			if strings.Contains(got, internal) {
				t.Errorf("%s: learnProblem shows %q: %q", tt.name, internal, got)
			}
		}
	}
}

// TestSiteConfigLeavesOutUnlearntLikeTopics: until the like-topics have
// learnt, the site has only the other topics, routed by a router of their
// own; a like-topic that learnt and chose nothing is in it, with no picks.
func TestSiteConfigLeavesOutUnlearntLikeTopics(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte(likeConfig+"  - slug: llm\n    keywords: [llm]\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := &App{env: Env{BaseURL: "https://feeds.example.org"}}
	p, err := a.compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	slugs := func(c site.Config) []string {
		var out []string
		for _, s := range c.Specs {
			out = append(out, s.Slug)
		}
		return out
	}
	llm := &paper.Paper{ID: "1", Title: "An LLM"}
	for _, tt := range []struct {
		name  string
		l     *learning
		slugs []string
		picks map[string][]site.Pick
	}{
		{"never learnt", nil, []string{"all", "llm"}, nil},
		{"learnt for another config", &learning{key: "other"}, []string{"all", "llm"}, nil},
		{"learnt, nothing chosen", &learning{key: p.likeKey, results: []learn.Result{{Slug: "agents", Err: like.ErrNoWords}}},
			[]string{"all", "agents", "llm"}, map[string][]site.Pick{"agents": {}}},
		{"learnt", &learning{key: p.likeKey, results: []learn.Result{{Slug: "agents", Picks: []learn.Pick{{ID: "2"}}}}},
			[]string{"all", "agents", "llm"}, map[string][]site.Pick{"agents": {{ID: "2", Terms: []string{}}}}},
	} {
		c := a.siteConfig(p, tt.l)
		if got := slugs(c); !slices.Equal(got, tt.slugs) {
			t.Errorf("%s: topics %v, want %v", tt.name, got, tt.slugs)
		}
		if !reflect.DeepEqual(c.Picks, tt.picks) {
			t.Errorf("%s: picks %#v, want %#v", tt.name, c.Picks, tt.picks)
		}
		// The router's topics are the config's (the site does not route a
		// like-topic, which without rules takes every paper).
		var hits []string
		for _, h := range c.Router.Route(llm) {
			hits = append(hits, c.Specs[h.Topic].Slug)
		}
		if !slices.Equal(hits, tt.slugs) {
			t.Errorf("%s: an LLM paper is routed to %v, want %v", tt.name, hits, tt.slugs)
		}
		feeds := unlearntFeeds(p, tt.l)
		if wantFeeds := !learnt(p, tt.l); feeds["/feeds/agents.atom"] != wantFeeds || feeds["/feeds/agents.daily.rss.gz"] != wantFeeds || feeds["/feeds/all.atom"] {
			t.Errorf("%s: feeds answered as not learnt yet: %v", tt.name, feeds)
		}
	}
}
