package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	// inputs are each result's learn.Learner.Inputs: a later pass reuses
	// the result of a topic whose inputs stay (learn.Learner.Known).
	inputs []string
	// fromFile is whether the learning was read from the history file,
	// which then holds it already (see saveLearning).
	fromFile bool
}

// learntState is the key of the history file's state that keeps the last
// learning, so that a new process (each -once, a restart) whose history and
// like config are those of the last pass learns nothing, and one whose
// history changed only in what the model does not read (upvotes, mostly)
// reads the history but trains no topic. With 100 like-topics over 100,000
// papers a -once that changed nothing took 134 s of CPU and 331 MB, all of
// it learning again what the history file's previous run had learnt.
const learntState = "like-topics"

// savedLearning is a learning as the history file keeps it, gzipped JSON.
// A pick keeps what the site and the health check read (its ID, day, score
// and the terms for it), not the terms against it, which only -explain
// shows, and -explain learns afresh.
type savedLearning struct {
	Key    string
	Gen    uint64
	Topics []savedTopic
}

type savedTopic struct {
	Inputs     string
	Slug       string
	Stats      like.Stats
	Candidates int
	Picks      []savedPick
	Err        string `json:",omitempty"` // "no words" or "no features"
}

type savedPick struct {
	ID    string
	Day   time.Time `json:",omitzero"`
	Score float64
	Pro   []like.Contribution `json:",omitempty"`
}

// savedErrs are the errors a Result may carry, by their name in the file.
var savedErrs = map[string]error{"no words": like.ErrNoWords, "no features": like.ErrNoFeatures}

// encodeLearning is l as the history file keeps it.
func encodeLearning(l *learning) ([]byte, error) {
	sl := savedLearning{Key: l.key, Gen: l.gen, Topics: make([]savedTopic, len(l.results))}
	for k, r := range l.results {
		t := savedTopic{Inputs: l.inputs[k], Slug: r.Slug, Stats: r.Stats, Candidates: r.Candidates, Picks: make([]savedPick, len(r.Picks))}
		for name, err := range savedErrs {
			if errors.Is(r.Err, err) {
				t.Err = name
			}
		}
		if r.Err != nil && t.Err == "" {
			return nil, fmt.Errorf("like-topic %s: result error %w cannot be kept", r.Slug, r.Err)
		}
		for i, p := range r.Picks {
			t.Picks[i] = savedPick{ID: p.ID, Day: p.Day, Score: p.Score, Pro: p.Pro}
		}
		sl.Topics[k] = t
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(zw).Encode(sl); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeLearning is the learning data keeps, as encodeLearning made it.
func decodeLearning(data []byte) (*learning, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var sl savedLearning
	if err := json.NewDecoder(zr).Decode(&sl); err != nil {
		return nil, err
	}
	l := &learning{key: sl.Key, gen: sl.Gen, fromFile: true, results: make([]learn.Result, len(sl.Topics)), inputs: make([]string, len(sl.Topics))}
	for k, t := range sl.Topics {
		r := learn.Result{Slug: t.Slug, Stats: t.Stats, Candidates: t.Candidates, Picks: make([]learn.Pick, len(t.Picks))}
		if t.Err != "" {
			if r.Err = savedErrs[t.Err]; r.Err == nil {
				return nil, fmt.Errorf("like-topic %s: unknown result error %q", t.Slug, t.Err)
			}
		}
		for i, p := range t.Picks {
			r.Picks[i] = learn.Pick{ID: p.ID, Day: p.Day, Score: p.Score, Pro: p.Pro}
		}
		l.results[k], l.inputs[k] = r, t.Inputs
	}
	return l, nil
}

// loadLearning is the learning s keeps, or nil when it keeps none or one
// that cannot be read, which is logged: the like-topics then learn again.
func (a *App) loadLearning(s *store.Store) *learning {
	state, err := s.State(learntState)
	if err != nil {
		a.log.Warn("like-topics: cannot read what they last learnt; learning again", "err", err)
		return nil
	}
	data, ok := state[learntState]
	if !ok {
		return nil
	}
	l, err := decodeLearning(data)
	if err != nil {
		a.log.Warn("like-topics: what they last learnt is unreadable; learning again", "err", err)
		return nil
	}
	return l
}

// saveLearning keeps the like-topics' last learning in s, the history
// file, unless s holds it already. Callers hold a.mu. A failure costs the
// next process a learning pass, nothing else, so it is logged, not
// returned.
func (a *App) saveLearning(s *store.Store) {
	l := a.learned.Load()
	if l == nil || l.key == "" || l.fromFile || l == a.savedLearning {
		return
	}
	data, err := encodeLearning(l)
	if err == nil {
		err = s.SaveState(map[string][]byte{learntState: data}, nil)
	}
	if err != nil {
		a.log.Warn("like-topics: cannot keep what they learnt in the history; the next process learns again", "err", err)
		return
	}
	a.savedLearning = l
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
	// The model's version too: a release whose model learns otherwise
	// does not take an earlier one's learning over an unchanged history.
	data, err := json.Marshal(struct {
		V int
		T []learn.Topic
		S []topic.Spec
	}{learn.ModelVersion, out, specs})
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

// learn brings the like-topics of p up to date with the history: when the
// history moved on or the like config changed since they last learnt (in
// this process or, as the history file keeps it, in an earlier one), it
// reads the history, and trains each topic whose inputs changed
// (learn.Digest), reusing what the others learnt. It holds the history,
// read-only, for its passes over it (one to digest it when there is
// something to reuse, one to read it for the model when a topic trains);
// the corpus is built and the models trained after it lets go, and never
// under a.mu, so a reload or a refresh's write does not wait for them.
// Seeds the history lacks are fetched once from arXiv and merged into the
// history (under a.mu, briefly), and the topics learnt again; seeds still
// missing are a *SeedError. Callers hold a.learning.
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

// historyChange is what one merge (and the prune after it) did to the
// history: it took it from generation from to generation to, and what it
// did to the inputs of the like-topics of likeKey (see changeOf).
type historyChange struct {
	from, to uint64
	likeKey  string
	// kept: it kept every like-topic's inputs. all: it changed them all
	// (it added, pruned or changed the text of a paper), so every topic
	// trains. Neither: new upvotes changed what some topic's rules take.
	kept, all bool
}

// changeOf is the change of a merge's result res from generation from to
// to, for p's like-topics (learn.SameText, learn.Unchanged).
func changeOf(p *pipeline, from, to uint64, res store.MergeResult, pruned bool) *historyChange {
	c := &historyChange{from: from, to: to, likeKey: p.likeKey}
	if len(p.likes) == 0 {
		return c
	}
	c.all = pruned
	takes := false
	for i, b := range res.Before {
		switch {
		case b == nil || !learn.SameText(b, res.Changed[i]):
			c.all = true
		case !learn.Unchanged(p.router, p.likes, b, res.Changed[i]):
			takes = true
		}
	}
	c.kept = !c.all && !takes
	return c
}

// across reports whether c took the history from generation learnt, when
// the like-topics of likeKey learnt, to generation now, and nothing else
// wrote it. A nil c took it nowhere.
func (c *historyChange) across(learnt, now uint64, likeKey string) bool {
	return c != nil && c.from == learnt && c.to == now && c.likeKey == likeKey
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
	last := a.learned.Load()
	if last == nil || last.key == "" {
		// A new process: what the last one learnt, if it did.
		last = a.loadLearning(s)
	}
	if last != nil && last.key == p.likeKey && last.gen == gen {
		return last, s.Close()
	}
	// When the history moved on from what they learnt by this process's
	// merge alone, the merge tells what it did to their inputs.
	change := a.merged.Load()
	if last == nil || last.key != p.likeKey || !change.across(last.gen, gen, p.likeKey) {
		change = nil
	}
	if change != nil && change.kept {
		// Nothing they read changed (upvotes, mostly): no pass over the
		// history, where digesting it took 1.6 s at 100,000 papers.
		a.log.Info("like-topics: nothing to learn; the merge changed only what they do not read", "topics", len(last.results), "gen", gen)
		return &learning{key: p.likeKey, gen: gen, results: last.results, inputs: last.inputs}, s.Close()
	}
	// The papers whose records did not change since the last training
	// pass come tokenised from the token cache it wrote.
	cache := a.readTokens()
	l, err := learn.NewCached(p.router, p.likes, like.Options{}, cache)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("like-topics: %w", err), s.Close())
	}
	known := map[string]learn.Result{} // the last results, by their inputs
	if last != nil {
		for k, r := range last.results {
			known[last.inputs[k]] = r
		}
	}
	// Without the cache, a first pass only digests the papers: when each
	// topic's inputs are those of its last result, nothing is trained. It
	// took 1.6 s at 100,000 papers, where decoding and tokenising them
	// for the model took 3.5 s, and training a hundred topics 70 s more.
	// With the cache, the pass for the model reads the history in 0.45 s
	// and trains only the topics whose inputs changed. When the merge
	// changed every topic's inputs (a new paper), there is nothing to
	// reuse either way.
	passes := 1
	if last != nil && cache == nil && (change == nil || !change.all) {
		passes = 2
		d, err := learn.NewDigest(p.router, p.likes, like.Options{})
		if err == nil {
			err = s.ForEach(d.Add)
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("like-topics: read the history: %w", err), s.Close())
		}
		inputs := d.Inputs()
		if !slices.ContainsFunc(inputs, func(in string) bool { _, ok := known[in]; return !ok }) {
			if err := s.Close(); err != nil {
				return nil, fmt.Errorf("like-topics: close history: %w", err)
			}
			return a.nothingToLearn(p, gen, start, inputs, known), nil
		}
	}
	papers, cached := 0, 0
	err = s.ForEachRecord(func(id string, sum uint32, decode func() (*paper.Paper, error)) error {
		hit, err := l.AddRecord(id, sum, decode)
		papers++
		if hit {
			cached++
		}
		return err
	})
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close history: %w", cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("like-topics: read the history: %w", err)
	}
	if cache == nil || cached != papers || cache.Len() != papers {
		a.writeTokens(l)
	}
	read := time.Since(start)
	// The inputs of what this pass read, which its results are kept under.
	inputs := l.Inputs()
	reused := 0
	for k, in := range inputs {
		if r, ok := known[in]; ok {
			l.Known(k, r)
			reused++
		}
	}
	if reused == len(inputs) {
		return a.nothingToLearn(p, gen, start, inputs, known), nil
	}
	results, err := l.Train()
	if err != nil {
		return nil, err
	}
	a.log.Info("like-topics learnt", "topics", len(results), "reused", reused, "passes", passes, "papers", papers, "tokenised", papers-cached, "gen", gen, "read", read.Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	for _, r := range results {
		if r.Err != nil {
			a.log.Warn("like-topic shows no paper", "topic", r.Slug, "err", r.Err)
		}
	}
	return &learning{key: p.likeKey, gen: gen, results: results, inputs: inputs}, nil
}

// nothingToLearn is the learning of a pass that found every topic's inputs
// those of a result it knew.
func (a *App) nothingToLearn(p *pipeline, gen uint64, start time.Time, inputs []string, known map[string]learn.Result) *learning {
	results := make([]learn.Result, len(inputs))
	for k, in := range inputs {
		results[k] = known[in]
	}
	a.log.Info("like-topics: nothing to learn; the history changed only in what they do not read", "topics", len(results), "gen", gen, "took", time.Since(start).Round(time.Millisecond))
	return &learning{key: p.likeKey, gen: gen, results: results, inputs: inputs}
}

// tokensFile is the token cache's name, beside the history file: what
// the last training pass kept of the history's papers (learn.Cache).
const tokensFile = "like-tokens"

func (a *App) tokensPath() string { return filepath.Join(filepath.Dir(a.path), tokensFile) }

// readTokens reads the token cache; none, or one that cannot be read, is
// nil (the latter logged): the pass then tokenises every paper.
func (a *App) readTokens() *learn.Cache {
	data, err := os.ReadFile(a.tokensPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var c *learn.Cache
	if err == nil {
		c, err = learn.ReadCache(data)
	}
	switch {
	case errors.Is(err, learn.ErrCacheVersion):
		a.log.Info("like-topics: the token cache is of another version; tokenising every paper", "file", a.tokensPath())
	case err != nil:
		a.log.Warn("like-topics: the token cache is unreadable; tokenising every paper", "file", a.tokensPath(), "err", oneLine(err))
	}
	return c
}

// writeTokens writes l's token cache for the next pass, whole or not at
// all (a temporary file renamed); a failure is logged, and costs the next
// pass its tokenising only.
func (a *App) writeTokens(l *learn.Learner) {
	path := a.tokensPath()
	err := func() error {
		f, err := os.CreateTemp(filepath.Dir(path), tokensFile+".*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name()) // after the rename, a no-op
		bw := bufio.NewWriterSize(f, 1<<20)
		if _, err := l.WriteCache(bw); err != nil {
			f.Close()
			return err
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(f.Name(), path)
	}()
	if err != nil {
		a.log.Warn("like-topics: could not write the token cache; the next pass tokenises every paper", "file", path, "err", oneLine(err))
	}
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
