package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/paperfeed/paperfeed/learn"
	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/site"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// learning is what the learning stage last learnt: the like-topics' results
// for one like config (key) at one generation of the history.
type learning struct {
	key     string
	gen     uint64
	results []learn.Result // in the order of the pipeline's likes
}

// likeTopics are cfg's like-topics as the learning stage takes them, with
// the key that identifies them: what their picks depend on besides the
// history.
func likeTopics(cfg *Config) ([]learn.Topic, string) {
	var out []learn.Topic
	var specs []topic.Spec
	for i := range cfg.Topics {
		t := &cfg.Topics[i]
		if !t.IsLike() {
			continue
		}
		rules := len(t.Keywords) > 0 || len(t.Exclude) > 0 || t.Query != "" || t.MinUpvotes > 0
		out = append(out, learn.Topic{Slug: t.Slug, Index: i, Rules: rules, Top: t.Top, MinScore: t.MinScore, Keep: 2 * t.Spec().Limit,
			Seeds: like.Seeds{Like: slices.Clone(t.Like), Unlike: slices.Clone(t.Unlike)}})
		specs = append(specs, t.Spec())
	}
	if len(out) == 0 {
		return nil, ""
	}
	data, err := json.Marshal(struct {
		T []learn.Topic
		S []topic.Spec
	}{out, specs})
	if err != nil { // plain data always marshals
		panic(err)
	}
	return out, string(data)
}

// SeedError is a like or unlike paper that is in neither the history nor
// on arXiv when asked for: a config error, never a silently empty topic.
type SeedError struct {
	Missing *learn.MissingError
	Fetch   error // why arXiv did not give them
}

func (e *SeedError) Error() string {
	return fmt.Sprintf("invalid config: %v, and not fetched from arXiv (%s): check the ids", e.Missing, oneLine(e.Fetch))
}

func (e *SeedError) Unwrap() error { return e.Missing }

// learn brings the like-topics of p up to date with the history: it learns
// again when the history moved on or the like config changed since it last
// did, and reuses what it learnt otherwise. It holds the history, read-only,
// for one pass over it; the corpus is built and the models trained after it
// lets go, and never under a.mu, so a reload or a refresh's write does not
// wait for them. Seeds the history lacks are fetched once from arXiv and
// merged into the history (under a.mu, briefly), and the topics learnt
// again; seeds still missing are a *SeedError. Callers hold a.learning.
func (a *App) learn(ctx context.Context, p *pipeline) (*learning, error) {
	if len(p.likes) == 0 {
		return &learning{}, nil
	}
	fetched := false
	var fetchErr error
	for {
		l, err := a.learnOnce(p)
		var missing *learn.MissingError
		switch {
		case errors.As(err, &missing) && !fetched:
			if fetchErr, err = a.fetchSeeds(ctx, missing.IDs()); err != nil {
				return nil, err
			}
			fetched = true
			continue
		case errors.As(err, &missing):
			if fetchErr == nil {
				fetchErr = errors.New("the pages gave no paper")
			}
			return nil, &SeedError{Missing: missing, Fetch: fetchErr}
		case err != nil:
			return nil, err
		}
		return l, nil
	}
}

// learnOnce is one learning pass, or the last one's outcome when neither
// the history nor the like config changed since.
func (a *App) learnOnce(p *pipeline) (*learning, error) {
	start := time.Now()
	s, err := store.OpenWith(a.path, store.Options{ReadOnly: true, Wait: storeWait})
	if errors.Is(err, fs.ErrNotExist) {
		// No history yet: every seed is missing.
		l, err := learn.New(p.router, p.likes, like.Options{})
		if err != nil {
			return nil, err
		}
		_, err = l.Train()
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("like-topics: %w", err)
	}
	gen := s.Gen()
	if last := a.learned.Load(); last != nil && last.key == p.likeKey && last.gen == gen {
		return last, s.Close()
	}
	l, err := learn.New(p.router, p.likes, like.Options{})
	if err == nil {
		err = s.ForEach(l.Add)
	}
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close history: %w", cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("like-topics: read the history: %w", err)
	}
	read := time.Since(start)
	results, err := l.Train()
	if err != nil {
		return nil, err
	}
	a.log.Info("like-topics learnt", "topics", len(results), "gen", gen, "read", read.Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	for _, r := range results {
		if r.Err != nil {
			a.log.Warn("like-topic shows no paper", "topic", r.Slug, "err", r.Err)
		}
	}
	return &learning{key: p.likeKey, gen: gen, results: results}, nil
}

// fetchSeeds fetches the arXiv abstract pages of the seeds ids, as details:
// true does, and merges the papers found into the history. A page that
// fails is no error here (it is returned first, for the message): the seed
// stays missing and the learning after says so. The error is the merge's.
func (a *App) fetchSeeds(ctx context.Context, ids []string) (fetchErr, err error) {
	ctx, cancel := context.WithTimeout(ctx, a.env.RefreshTimeout)
	defer cancel()
	want := make([]paper.Paper, 0, len(ids))
	for _, id := range ids {
		want = append(want, paper.Paper{ID: id})
	}
	d := scrape.Details{Name: "like", ArxivURL: a.env.ArxivURL}
	got, fetchErr := d.Fetch(ctx, want, a.opt)
	if fetchErr != nil {
		a.log.Warn("like-topic seeds: pages failed", "err", oneLine(fetchErr))
	}
	var found []paper.Paper
	for _, p := range got {
		if p.Title != "" || p.Abstract != "" {
			found = append(found, p)
		}
	}
	a.log.Info("like-topic seeds fetched", "asked", len(ids), "found", len(found))
	if len(found) == 0 {
		return fetchErr, nil
	}
	// The site's state then lags the history: its next Build routes every
	// topic once, as after any write it was not told of.
	return fetchErr, a.lockedStore(func(s *store.Store) error {
		if _, err := s.Merge(found, a.now()); err != nil {
			return fmt.Errorf("merge like-topic seeds into history: %w", err)
		}
		return nil
	})
}

// picks are the learnt papers of p's like-topics, for the site: every
// like-topic has an entry, empty until it has learnt (siteConfig then
// leaves the like-topics out).
func picks(p *pipeline, l *learning) map[string][]site.Pick {
	if len(p.likes) == 0 {
		return nil
	}
	out := make(map[string][]site.Pick, len(p.likes))
	for _, t := range p.likes {
		out[t.Slug] = []site.Pick{}
	}
	if l == nil || l.key != p.likeKey {
		return out
	}
	for _, r := range l.results {
		ps := make([]site.Pick, len(r.Picks))
		for i, pk := range r.Picks {
			ps[i] = site.Pick{ID: pk.ID, Terms: pk.Terms()}
		}
		out[r.Slug] = ps
	}
	return out
}

// relearn learns the like-topics again after a refresh's write when the
// history moved on, and rebuilds the site with the new picks. It runs
// beside a.mu: the write has finished, and only the rebuild takes the lock.
// A reload meanwhile that leaves the like-topics as they are takes the
// picks when they are ready; one that changes them learnt its own, and
// these are dropped. It says in st how the like-topics learnt
// (LearnError), and a rebuild that failed (WriteError).
func (a *App) relearn(ctx context.Context, st *Status) error {
	p := a.pipe.Load()
	if len(p.likes) == 0 {
		st.LearnError = ""
		return nil
	}
	a.learning.Lock()
	defer a.learning.Unlock()
	before := a.learned.Load()
	l, err := a.learn(ctx, p)
	if err != nil {
		st.LearnError = learnProblem(err, nil)
		return err
	}
	st.LearnError = learnProblem(nil, l)
	if l == before {
		return nil // nothing changed: no rebuild
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cur := a.pipe.Load()
	if cur.likeKey != p.likeKey {
		// A reload changed the like-topics and learnt for them.
		st.LearnError = learnProblem(nil, a.learned.Load())
		return nil
	}
	a.learned.Store(l)
	a.site.SetConfig(a.siteConfig(cur, l))
	err = a.withStore(func(s *store.Store) error {
		if err := a.site.Load(s); err != nil {
			return err
		}
		_, err := a.build(s, nil, nil, st)
		return err
	})
	if err != nil {
		st.WriteError = writeProblem(err)
		return fmt.Errorf("rebuild the site with the like-topics' picks: %w", err)
	}
	return nil
}

// likeStats is the -check table's line of a like-topic.
func likeStats(r learn.Result) string {
	if r.Err != nil {
		return fmt.Sprintf("no model: %v", r.Err)
	}
	s := r.Stats
	line := fmt.Sprintf("%s, %d features, %d training papers, %d like, %d unlike", s.Method, s.Features, s.Papers, s.Likes, s.Unlikes)
	if len(s.Wordless) > 0 {
		line += fmt.Sprintf(", without a word of the vocabulary: %s", strings.Join(s.Wordless, " "))
	}
	return line
}
