package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paperfeed/paperfeed/deliver"
	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/learn"
	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/metrics"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/publish"
	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/serve"
	"github.com/paperfeed/paperfeed/site"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
	"github.com/paperfeed/paperfeed/websub"
)

// storeFile is the name of the history file inside the data directory.
const storeFile = "paperfeed.db"

// storeWait is how long a refresh waits for the history while -check or
// -explain reads it.
const storeWait = time.Minute

// source is one configured listing, ready to scrape.
type source struct {
	name    string
	cfg     SourceConfig // as configured: a reload compares it to see what changed
	scrape  func(ctx context.Context, now time.Time) ([]paper.Paper, error)
	details *scrape.Details // fetch new papers' own pages; nil unless details: true
}

// pipeline is what a config compiles to: the sources and the topic router.
type pipeline struct {
	sources []source
	specs   []topic.Spec
	router  *topic.Router
	hub     string // the WebSub hub: PAPERFEED_WEBSUB_HUB, else the config's
	// likes are the like-topics, and likeKey what their picks depend on
	// besides the history ("" without like-topics).
	likes   []learn.Topic
	likeKey string
	// unlearntSpecs and unlearntRouter are the site's topics while the
	// like-topics have not learnt: the others (see siteConfig).
	unlearntSpecs  []topic.Spec
	unlearntRouter *topic.Router
}

// Status is the outcome of the refreshes so far, for /healthz and
// index.html. It survives a restart (see statusFile).
type Status struct {
	// Refreshed is when the last refresh ended; LastSuccess when the last
	// one in which a source answered ended.
	Refreshed   time.Time `json:"last_refresh"`
	LastSuccess time.Time `json:"last_success"`
	// NextRefresh is when every source is next asked (a failed source is
	// retried sooner: see its next_try).
	NextRefresh time.Time           `json:"next_refresh,omitzero"`
	Papers      int                 `json:"papers"`
	Sources     []feed.SourceStatus `json:"sources"`
	// WriteError says, in one public line, why the last refresh could
	// not write the history or the site; empty when it could.
	WriteError string `json:"write_error,omitempty"`
	// LearnError says, in one public line, why the like-topics could not
	// learn from the history, or which of them learnt no model and why
	// (see learnProblem); empty when each learnt one.
	LearnError string `json:"learn_error,omitempty"`
	// Published is when the site was last published to the bucket.
	Published time.Time `json:"last_published,omitzero"`
}

// App is paperfeed's state: the compiled config, the site and what the
// refreshes found. The history file is opened only while a refresh or a
// reload writes (a second or so), so -check and -explain can read it while
// the server runs; the data directory's lock keeps a second writer out.
type App struct {
	env   Env
	opt   scrape.Options // politeness and limits for every source
	log   *slog.Logger
	now   func() time.Time
	path  string // the history file
	lock  *dirLock
	site  *site.Builder
	files *serve.Handler     // the site as served; nil unless serving (-once writes only)
	pub   *publish.Publisher // nil unless PAPERFEED_PUBLISH_URL is set
	// pinger tells the WebSub hub which feeds changed; nil without a hub.
	// A reload that changes the hub replaces it.
	pinger atomic.Pointer[websub.Pinger]
	// deliver pushes the papers the feeds show to the config's targets;
	// it runs only while serving (-once queues nothing).
	deliver *deliver.Deliverer
	// environ is the process environment, for ${NAME} in a reloaded config.
	environ map[string]string
	stats   *metrics.Metrics
	// publishing asks the publishing loop for a publish (see publishLoop);
	// one pending request stands for any number. published is when the
	// last publish succeeded (unix nanoseconds; 0: never).
	publishing chan struct{}
	published  atomic.Int64

	// refreshing is held for a whole refresh: never two at once. mu is
	// held while the history and the site are written, by a refresh's
	// write and by a reload, so a reload never waits for a scrape.
	refreshing sync.Mutex
	mu         sync.Mutex
	pipe       atomic.Pointer[pipeline] // replaced under mu; read anywhere
	// detailed holds the papers whose own page was asked for (details:
	// true); failures counts each source's failures in a row. Both are
	// used by the refresh holding refreshing.
	detailed map[string]bool
	failures map[string]int
	started  atomic.Bool // a refresh ended in this process

	// learning is held while the like-topics learn (see App.learn), never
	// while a.mu is, and taken before it; learned is what they last learnt
	// for the running pipeline (replaced under a.mu with the pipeline).
	learning sync.Mutex
	learned  atomic.Pointer[learning]
	// savedLearning is the learning the history file keeps (see
	// saveLearning), under mu.
	savedLearning *learning
	// merged is what this process's last merge changed in the history
	// (see App.merge), so that the like-topics keep what they learnt
	// without reading the history when it changed nothing they read.
	merged atomic.Pointer[historyChange]
	// unlearnt are the URL paths of the feeds of like-topics that have not
	// learnt, which the served site lacks (see siteConfig and waiting);
	// set with each build the server picks up.
	unlearnt atomic.Pointer[map[string]bool]

	status atomic.Pointer[Status]
}

// newApp compiles the config, takes the data directory and checks the
// history. It fails when the config does not compile, another paperfeed uses
// the data directory, or the history is damaged.
func newApp(e Env, cfg *Config, opt scrape.Options, log *slog.Logger, now func() time.Time) (*App, error) {
	a := &App{env: e, opt: opt, log: log, now: now, detailed: map[string]bool{}, failures: map[string]int{},
		path: filepath.Join(e.DataDir, storeFile), stats: metrics.New(), publishing: make(chan struct{}, 1)}
	p, err := a.compile(cfg)
	if err != nil {
		return nil, err
	}
	a.pipe.Store(p)
	a.stats.SetSources(p.names())
	if e.PublishURL != "" {
		a.pub, err = publish.New(publish.Config{
			URL: e.PublishURL, Endpoint: e.S3Endpoint, Region: e.AWSRegion,
			AccessKey: e.AWSAccessKey, SecretKey: e.AWSSecretKey, SessionToken: e.AWSSessionToken,
			PathStyle: e.S3PathStyle, GzipEncoding: e.PublishGzip,
			CacheControl: fmt.Sprintf("public, max-age=%d", int(cacheMaxAge(e.Interval).Seconds())),
			Now:          now,
		})
		if err != nil {
			return nil, fmt.Errorf("publishing: %w", err)
		}
	}
	if err := a.setHub(p.hub); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(e.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(e.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	if a.lock, err = lockDir(e.DataDir); err != nil {
		return nil, err
	}
	a.site = site.New(e.OutDir, a.siteConfig(p, nil), log)
	papers := 0
	err = a.withStore(func(s *store.Store) error {
		// Holding the data directory, this is the only writer: temporary
		// files are what a killed process left behind.
		if n, err := feed.RemoveTemps(e.OutDir); err != nil {
			return err
		} else if n > 0 {
			log.Info("removed temporary files of an interrupted write", "files", n)
		}
		// Before anything is merged: the saved state is trusted only for
		// the history it was saved with.
		if err := a.site.Load(s); err != nil {
			return err
		}
		papers = s.Len()
		return nil
	})
	if err != nil {
		return nil, errors.Join(err, a.lock.unlock())
	}
	// The like-topics learn in the first refresh, after its merge and
	// before its build (see writeLearnt), not here: the server serves the
	// site the last run wrote at once, like-topics included, and a run
	// reads the history for them once, not at start and again after its
	// merge moved the history. An empty history (a first start) lacks
	// every seed, and the sources list most of them: learning after the
	// merge fetches only the seeds still missing then.
	a.deliver, err = deliver.New(cfg.Targets(e.SiteURL()), a.lockedStore, log, now)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("deliveries: %w", err), a.lock.unlock())
	}
	a.deliver.Observe(a.stats.Delivery)
	a.stats.SetTargets(targetNames(cfg))
	st := loadStatus(e.DataDir, log)
	st.Papers = papers
	a.status.Store(st)
	if !st.Published.IsZero() {
		a.published.Store(st.Published.UnixNano())
	}
	return a, nil
}

// lockedStore is withStore under a.mu, for readers beside a refresh's
// write: the deliveries' workers and the pages a refresh fetches.
func (a *App) lockedStore(fn func(s *store.Store) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.withStore(fn)
}

// targetNames are the names of cfg's delivery targets.
func targetNames(cfg *Config) []string {
	var names []string
	for _, t := range cfg.Targets("") {
		names = append(names, t.Name)
	}
	return names
}

// withStore opens the history, runs fn and closes it. Callers hold a.mu,
// or are newApp.
func (a *App) withStore(fn func(s *store.Store) error) error {
	s, err := store.OpenWith(a.path, store.Options{Wait: storeWait})
	if err != nil {
		return err
	}
	err = fn(s)
	if cerr := s.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close history: %w", cerr)
	}
	return err
}

// setHub makes hub the WebSub hub that is pinged ("": none), keeping the
// pinger when the hub stays.
func (a *App) setHub(hub string) error {
	if old := a.pinger.Load(); (old == nil && hub == "") || (old != nil && old.Hub() == hub) {
		return nil
	}
	if hub == "" {
		a.pinger.Store(nil)
		return nil
	}
	p, err := websub.NewPinger(&http.Client{Timeout: 30 * time.Second}, hub)
	if err != nil {
		return fmt.Errorf("websub: %w", err)
	}
	a.pinger.Store(p)
	return nil
}

// names are the sources' names, in config order.
func (p *pipeline) names() []string {
	out := make([]string, len(p.sources))
	for i, s := range p.sources {
		out[i] = s.name
	}
	return out
}

// siteConfig is what the site is built from under p, with the like-topics'
// picks as l learnt them (nil: not yet). Until they have learnt (before
// the first refresh of the process has, or while seeds cannot be found),
// the like-topics are left out of the site rather than written as empty feeds:
// their feeds on disk from an earlier run stay as they are (Keep) and are
// served, one without a file answers 503 with Retry-After (see waiting),
// which a reader retries, and index.html and feeds.opml list them once
// they have learnt. A like-topic that learnt and chose nothing is in the
// site, with an empty feed: that is what it shows.
func (a *App) siteConfig(p *pipeline, l *learning) site.Config {
	c := site.Config{Site: feed.Site{BaseURL: a.env.SiteURL(), Title: "paperfeed", Hub: p.hub}, Specs: p.specs, Router: p.router, Picks: picks(p, l)}
	if !learnt(p, l) {
		c.Specs, c.Router, c.Picks = p.unlearntSpecs, p.unlearntRouter, nil
		for _, t := range p.likes {
			c.Keep = append(c.Keep, t.Slug)
		}
	}
	return c
}

// learnt reports whether l is what p's like-topics learnt (true without
// like-topics).
func learnt(p *pipeline, l *learning) bool {
	return len(p.likes) == 0 || l != nil && l.key == p.likeKey
}

// unlearntFeeds are the URL paths of the feeds (and gzip copies) of p's
// like-topics while l is not what they learnt; nil once it is.
func unlearntFeeds(p *pipeline, l *learning) map[string]bool {
	if learnt(p, l) {
		return nil
	}
	out := map[string]bool{}
	for _, t := range p.likes {
		for _, ext := range []string{"atom", "rss", "json"} {
			for _, name := range []string{feed.Path(t.Slug, ext), feed.Path(t.Slug, feed.DailyPrefix+ext)} {
				out["/"+name], out["/"+name+".gz"] = true, true
			}
		}
	}
	return out
}

// cacheMaxAge is how long clients may cache a file: a tenth of the refresh
// interval, between a minute and an hour, so readers see a refresh soon.
func cacheMaxAge(interval time.Duration) time.Duration {
	return min(max(interval/10, time.Minute), time.Hour)
}

// Close stops the deliveries and lets go of the data directory. Callers
// must not hold a.mu.
func (a *App) Close() error {
	return errors.Join(a.deliver.Close(), a.lock.unlock())
}

// compile turns a validated config into sources and a router.
func (a *App) compile(cfg *Config) (*pipeline, error) {
	p := &pipeline{hub: cmp.Or(a.env.WebSubHub, cfg.WebSub.Hub)}
	opt := a.opt
	for _, sc := range cfg.Sources {
		var scrapeFn func(ctx context.Context, now time.Time, opt scrape.Options) ([]paper.Paper, error)
		switch sc.Type {
		case "huggingface":
			scrapeFn = scrape.HuggingFace{Name: sc.Name, BaseURL: a.env.HFURL, Via: sc.Via, View: sc.View, Days: sc.Days, Query: sc.Q, Hosts: sc.Hosts}.Scrape
		case "arxiv":
			scrapeFn = scrape.Arxiv{Name: sc.Name, BaseURL: a.env.ArxivURL, Category: sc.Category, Include: sc.Include, Hosts: sc.Hosts}.Scrape
		case "html":
			scrapeFn = scrape.Listing{Name: sc.Name, URL: sc.URL, Selectors: sc.Selectors(), Hosts: sc.Hosts}.Scrape
		default: // ParseConfig rejects these; kept so a new type cannot be silently skipped
			return nil, fmt.Errorf("source %s: unknown type %q", sc.Name, sc.Type)
		}
		src := source{name: sc.Name, cfg: sc, scrape: func(ctx context.Context, now time.Time) ([]paper.Paper, error) {
			return scrapeFn(ctx, now, opt)
		}}
		if sc.Details {
			src.details = &scrape.Details{Name: sc.Name, ArxivURL: a.env.ArxivURL, Selectors: sc.Selectors(), Hosts: sc.Hosts}
		}
		p.sources = append(p.sources, src)
	}
	for _, t := range cfg.Topics {
		p.specs = append(p.specs, t.Spec())
	}
	r, err := topic.Compile(p.specs)
	if err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	p.router = r
	p.likes, p.likeKey = likeTopics(cfg)
	if len(p.likes) > 0 {
		for i, s := range p.specs {
			if !cfg.Topics[i].IsLike() {
				p.unlearntSpecs = append(p.unlearntSpecs, s)
			}
		}
		if p.unlearntRouter, err = topic.Compile(p.unlearntSpecs); err != nil {
			return nil, fmt.Errorf("invalid config: %w", err)
		}
	}
	return p, nil
}

// errAllFailed means no source answered in a refresh.
var errAllFailed = errors.New("every source failed")

// Refresh scrapes every source, merges what it got into the history and
// rebuilds the site from the history: RefreshSources with every source.
func (a *App) Refresh(ctx context.Context) (Status, error) {
	return a.RefreshSources(ctx, nil)
}

// RefreshSources scrapes the named sources (nil: every source), merges what
// they gave into the history and rebuilds the site. A source that fails adds
// nothing and removes nothing: the feeds keep every item they had, and the
// source is retried with backoff (see retryIn) before the next interval. A
// source that failed part-way (one day of three, say) adds what it got and
// is "partial". The whole refresh is bounded by PAPERFEED_REFRESH_TIMEOUT.
// It returns an error when no asked source worked, or the history or the
// site could not be written; either is logged here, once.
func (a *App) RefreshSources(ctx context.Context, names []string) (Status, error) {
	a.refreshing.Lock()
	defer a.refreshing.Unlock()
	startRefresh := time.Now()
	ctx, cancel := context.WithTimeout(ctx, a.env.RefreshTimeout)
	defer cancel()

	pipe := a.pipe.Load()
	all := names == nil
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}

	now := a.now()
	prev := a.status.Load()
	st := *prev
	st.Refreshed, st.WriteError = now, ""
	if all {
		st.NextRefresh = now.Add(jitter(a.env.Interval))
	}
	previous := map[string]feed.SourceStatus{}
	for _, ss := range prev.Sources {
		previous[ss.Name] = ss
	}
	st.Sources = nil
	var scraped []paper.Paper
	asked, worked := 0, 0
	for _, s := range pipe.sources {
		ss, ok := previous[s.name]
		if !ok {
			ss = feed.SourceStatus{Name: s.name, State: feed.StatePending}
		}
		if !all && !want[s.name] {
			st.Sources = append(st.Sources, ss)
			continue
		}
		asked++
		ps, ss := a.scrapeSource(ctx, s, ss, now)
		if ss.State != feed.StateFailed {
			worked++
		}
		st.Sources = append(st.Sources, ss)
		scraped = append(scraped, ps...)
	}
	if max := a.env.MaxPapers; len(scraped) > max {
		a.log.Warn("refresh cut: more papers than PAPERFEED_MAX_PAPERS", "papers", len(scraped), "kept", max)
		scraped = scraped[:max]
	}
	if worked > 0 {
		st.LastSuccess = now
	}
	if t := a.published.Load(); t != 0 {
		st.Published = time.Unix(0, t).UTC()
	}

	var w written
	var err, learnErr error
	if !learnt(pipe, a.learned.Load()) {
		w, err, learnErr = a.writeLearnt(ctx, scraped, &st, now)
		if learnErr != nil {
			a.log.Error("like-topics could not learn from the new history; their feeds keep their previous version", "err", oneLine(learnErr))
		}
	} else {
		a.mu.Lock()
		err = a.withStore(func(s *store.Store) error {
			var err error
			w, err = a.write(s, scraped, &st, now)
			return err
		})
		a.mu.Unlock()
	}
	if err == nil && learnErr == nil {
		// Off a.mu: the like-topics learn from the history just written,
		// and their feeds are rebuilt when their picks changed.
		if learnErr = a.relearn(ctx, &st); learnErr != nil {
			a.log.Error("like-topics could not learn from the new history; they keep their papers", "err", oneLine(learnErr))
		}
	}
	if err != nil {
		st.WriteError = writeProblem(err)
		a.log.Error("refresh could not write; files not written keep their previous version", "err", oneLine(err))
	}
	a.status.Store(&st)
	a.started.Store(true)
	outcome := metrics.OutcomeOK
	switch {
	case err != nil || worked == 0:
		outcome = metrics.OutcomeFailed
	case worked < asked || partialSources(st.Sources):
		outcome = metrics.OutcomePartial
	}
	a.stats.Refresh(time.Since(startRefresh), outcome)
	if err == nil {
		a.askPublish()
	}
	if serr := saveStatus(a.env.DataDir, &st); serr != nil {
		a.log.Warn("refresh status not saved; last_success is lost on restart", "err", serr)
	}
	if err != nil {
		return st, err
	}
	if learnErr != nil {
		return st, learnErr
	}
	if worked == 0 && asked > 0 {
		a.log.Warn("every source failed; the feeds keep every item they had", "failed", asked, "files_written", w.files, "next_try", a.nextWake(&st).Format(time.RFC3339))
		return st, fmt.Errorf("%w (%d asked)", errAllFailed, asked)
	}
	if w.added+w.updated+w.pruned+w.files == 0 {
		a.log.Info("refreshed: nothing new", "papers", st.Papers)
	} else {
		a.log.Info("refreshed", "added", w.added, "updated", w.updated, "pruned", w.pruned, "papers", st.Papers, "files_written", w.files)
	}
	return st, nil
}

// scrapeSource asks one source, and returns what it gave and its status.
func (a *App) scrapeSource(ctx context.Context, s source, ss feed.SourceStatus, now time.Time) ([]paper.Paper, feed.SourceStatus) {
	start := time.Now()
	ps, err := s.scrape(ctx, now)
	if s.details != nil && len(ps) > 0 {
		ps = a.fetchDetails(ctx, s, ps)
	}
	ss.Papers, ss.Err, ss.Failed, ss.NextTry = len(ps), "", nil, time.Time{}
	var partial *scrape.Partial
	switch {
	case err == nil:
		ss.State = feed.StateOK
	case errors.As(err, &partial):
		ss.State, ss.Failed = feed.StatePartial, partial.Failed
	case len(ps) > 0:
		ss.State, ss.Failed = feed.StatePartial, []string{scrape.Public(err)}
	default:
		ss.State, ss.Err = feed.StateFailed, scrape.Public(err)
	}
	ss.OK = ss.State != feed.StateFailed
	if ss.State == feed.StateOK {
		a.failures[s.name] = 0
	} else {
		a.failures[s.name]++
		ss.NextTry = now.Add(a.retryIn(a.failures[s.name], err))
	}
	if ss.OK {
		ss.LastSuccess = now
	}
	a.stats.ObserveScrape(s.name, time.Since(start), scrapeReason(err))
	took := time.Since(start).Round(time.Millisecond)
	switch ss.State {
	case feed.StateOK:
		a.log.Info("source scraped", "source", s.name, "papers", len(ps), "took", took)
	case feed.StatePartial:
		a.log.Warn("source answered in part", "source", s.name, "papers", len(ps), "failed", strings.Join(ss.Failed, "; "), "retry_at", ss.NextTry.Format(time.RFC3339), "detail", oneLine(err))
	default:
		a.log.Warn("source failed", "source", s.name, "err", ss.Err, "retry_at", ss.NextTry.Format(time.RFC3339), "detail", oneLine(err))
	}
	if r := a.env.Retention; r > 0 && len(ps) > 0 && allOlder(ps, now.Add(-r)) {
		a.log.Warn("every paper of this source is dated before the retention; they are kept while it lists them, and dropped once it has not for PAPERFEED_RETENTION",
			"source", s.name, "papers", len(ps), "retention", r)
	}
	return ps, ss
}

// allOlder reports whether every paper is dated before cutoff.
func allOlder(ps []paper.Paper, cutoff time.Time) bool {
	for i := range ps {
		if !feed.Date(&ps[i]).Before(cutoff) {
			return false
		}
	}
	return true
}

// retryIn is how long a source that failed n times in a row waits before
// it is asked again: PAPERFEED_RETRY_MIN doubled per failure up to
// PAPERFEED_RETRY_MAX, never sooner than the server's Retry-After, never
// later than the interval.
func (a *App) retryIn(n int, err error) time.Duration {
	d := a.env.RetryMin
	for i := 1; i < n && d < a.env.RetryMax; i++ {
		d *= 2
	}
	d = min(d, a.env.RetryMax)
	if ra, ok := scrape.RetryAfter(err); ok {
		d = max(d, ra)
	}
	return min(d, a.env.Interval)
}

// written counts what a refresh's write did.
type written struct{ added, updated, pruned, files int }

// write merges what was scraped into s, prunes it and builds the site.
// Callers hold a.mu.
func (a *App) write(s *store.Store, scraped []paper.Paper, st *Status, now time.Time) (written, error) {
	w, changed, pruned, err := a.merge(s, scraped, st, now)
	if err != nil {
		return w, err
	}
	w.files, err = a.build(s, changed, pruned, st)
	return w, err
}

// writeLearnt is write for a process whose like-topics have not learnt
// yet (its first refresh, a server's or a -once's): it merges the scraped
// papers, lets the like-topics learn from the history they make, and only
// then builds the site, so that the run reads the history for them once,
// and no like-topic is built before it has learnt. When they cannot learn (learnErr), the site is built without
// them, and their feeds stay as they are on disk (see siteConfig).
func (a *App) writeLearnt(ctx context.Context, scraped []paper.Paper, st *Status, now time.Time) (w written, err, learnErr error) {
	var changed []*paper.Paper
	var pruned []string
	a.mu.Lock()
	err = a.withStore(func(s *store.Store) error {
		var err error
		w, changed, pruned, err = a.merge(s, scraped, st, now)
		return err
	})
	a.mu.Unlock()
	if err != nil {
		return w, err, nil
	}
	p := a.pipe.Load()
	a.learning.Lock()
	l, err := a.learn(ctx, p)
	a.learning.Unlock()
	if learnErr = err; learnErr != nil {
		st.LearnError = learnProblem(learnErr, nil)
		l = nil
	} else {
		st.LearnError = learnProblem(nil, l)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if l != nil {
		a.learned.Store(l)
	}
	a.site.SetConfig(a.siteConfig(p, l))
	err = a.withStore(func(s *store.Store) error {
		var err error
		w.files, err = a.build(s, changed, pruned, st)
		return err
	})
	return w, err, learnErr
}

// merge merges scraped into the history and prunes it: write's first half.
func (a *App) merge(s *store.Store, scraped []paper.Paper, st *Status, now time.Time) (written, []*paper.Paper, []string, error) {
	var w written
	// Another process (-once) may have written since the last build.
	if err := a.site.Load(s); err != nil {
		return w, nil, nil, err
	}
	// What was scraped is merged even when a source failed part-way: the
	// history only grows, so a partial answer can add papers but never drop one.
	from := s.Gen()
	res, err := s.Merge(scraped, now)
	if err != nil {
		a.merged.Store(nil)
		return w, nil, nil, fmt.Errorf("merge into history: %w", err)
	}
	w.added, w.updated = res.Added, res.Updated
	a.countNew(scraped, res.Changed, now)
	for _, sk := range res.Skipped {
		a.log.Warn("paper not stored", "paper", sk.ID, "err", oneLine(sk.Err))
	}
	var pruned []string
	if a.env.Retention > 0 {
		pruned, err = s.Prune(now.Add(-a.env.Retention))
		if err != nil {
			a.merged.Store(nil)
			return w, nil, nil, fmt.Errorf("prune history: %w", err)
		}
	}
	a.merged.Store(changeOf(a.pipe.Load(), from, s.Gen(), res, len(pruned) > 0))
	w.pruned = len(pruned)
	st.Papers = s.Len()
	return w, res.Changed, pruned, nil
}

// countNew counts, per source, the papers it listed and those of them the
// history did not have, for the metrics.
func (a *App) countNew(scraped []paper.Paper, changed []*paper.Paper, now time.Time) {
	added := map[string]bool{}
	for _, p := range changed {
		if p.FirstSeen.Equal(now) {
			added[p.ID] = true
		}
	}
	seen, fresh := map[string]int{}, map[string]int{}
	for i := range scraped {
		for _, src := range scraped[i].Sources {
			seen[src]++
			if added[scraped[i].ID] {
				fresh[src]++
			}
		}
	}
	for src, n := range seen {
		a.stats.ScrapePapers(src, n, fresh[src])
	}
}

// partialSources reports whether a source answered in part.
func partialSources(ss []feed.SourceStatus) bool {
	for _, s := range ss {
		if s.State == feed.StatePartial {
			return true
		}
	}
	return false
}

// scrapeReason classifies a scrape's error for the metrics ("" when it
// worked).
func scrapeReason(err error) string {
	var he *scrape.HTTPError
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return metrics.ReasonTimeout
	case errors.As(err, &he):
		return metrics.ReasonHTTPStatus
	case errors.Is(err, scrape.ErrDisallowed):
		return metrics.ReasonRobots
	case errors.Is(err, scrape.ErrBodyTooLarge):
		return metrics.ReasonTooLarge
	case errors.Is(err, scrape.ErrNoData):
		return metrics.ReasonParse
	case errors.As(err, &ne):
		return metrics.ReasonNetwork
	}
	return metrics.Other
}

// askPublish asks the publishing loop to publish the site as it is now
// and ping the WebSub hub; it never waits.
func (a *App) askPublish() {
	if a.pub == nil && a.pinger.Load() == nil {
		return
	}
	select {
	case a.publishing <- struct{}{}:
	default: // one is pending already
	}
}

// Publish uploads what changed in the site to the bucket (see package
// publish), then tells the WebSub hub which feeds changed: after the bucket,
// because the hub fetches the feeds from their public URLs. It records the
// outcome for /healthz and /metrics. Without PAPERFEED_PUBLISH_URL it only
// pings; without a hub either, it does nothing.
func (a *App) Publish(ctx context.Context) error {
	if err := a.upload(ctx); err != nil {
		return err
	}
	pinger := a.pinger.Load()
	if pinger == nil || pinger.Pending() == 0 {
		return nil
	}
	if err := pinger.Flush(ctx); err != nil {
		a.log.Warn("websub ping failed; kept for the next refresh", "hub", pinger.Hub(), "pending", pinger.Pending(), "err", oneLine(err))
		return fmt.Errorf("websub: %w", err)
	}
	return nil
}

// upload is Publish's upload to the bucket.
func (a *App) upload(ctx context.Context) error {
	if a.pub == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.env.RefreshTimeout)
	defer cancel()
	res, err := a.pub.Publish(ctx, a.env.OutDir)
	a.stats.PublishRequests(metrics.KindList, res.Requests.List)
	a.stats.PublishRequests(metrics.KindGet, res.Requests.Get)
	a.stats.PublishRequests(metrics.KindPut, res.Requests.Put)
	a.stats.PublishRequests(metrics.KindDelete, res.Requests.Delete)
	a.stats.PublishRequests(metrics.Other, res.Requests.Other)
	a.stats.PublishUploaded(res.UploadedBytes)
	if err != nil {
		a.stats.Publish(metrics.ResultError, res.Pending)
		a.log.Warn("publish failed; the bucket is caught up at the next try", "target", a.pub.Status().Target, "pending", res.Pending, "err", oneLine(err))
		return fmt.Errorf("publish: %w", err)
	}
	a.stats.Publish(metrics.ResultOK, res.Pending)
	a.published.Store(a.now().UnixNano())
	st := *a.status.Load()
	st.Published = a.now()
	if err := saveStatus(a.env.DataDir, &st); err != nil {
		a.log.Warn("publish time not saved", "err", err)
	}
	a.log.Info("published", "uploaded", res.Uploaded, "deleted", res.Deleted, "bytes", res.UploadedBytes, "requests", res.Requests.Total())
	return nil
}

// publishLoop publishes after each refresh that wrote the site, and
// retries a failed publish with the sources' backoff, until ctx is done. It
// runs beside the refreshes: a bucket that is down or slow never holds up
// the local site, the feeds or a reload.
func (a *App) publishLoop(ctx context.Context) {
	retry := time.NewTimer(0)
	retry.Stop()
	defer retry.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.publishing:
		case <-retry.C:
		}
		if err := a.Publish(ctx); err != nil && ctx.Err() == nil {
			failures++
			retry.Reset(a.retryIn(failures, nil))
			continue
		}
		failures = 0
		retry.Stop()
	}
}

// fetchDetails fills the papers of a details source that the history does
// not know with an abstract from their own pages. Each page is asked for
// once per process whatever the outcome, and never again once the history
// holds the paper's abstract. A page that fails is logged; the paper keeps
// what the listing gave.
func (a *App) fetchDetails(ctx context.Context, s source, ps []paper.Paper) []paper.Paper {
	var ids []string
	for _, p := range ps {
		if p.Abstract == "" && !a.detailed[p.ID] {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return ps
	}
	var known map[string]*paper.Paper
	err := a.lockedStore(func(st *store.Store) error {
		var err error
		known, err = st.Get(ids...)
		return err
	})
	if err != nil {
		a.log.Warn("history unreadable; paper pages not fetched", "source", s.name, "err", oneLine(err))
		return ps
	}
	var need []paper.Paper
	at := map[string]int{}
	for i, p := range ps {
		if p.Abstract != "" || a.detailed[p.ID] {
			continue
		}
		if k, ok := known[p.ID]; ok && k.Abstract != "" {
			continue
		}
		need = append(need, p)
		at[p.ID] = i
	}
	if len(need) == 0 {
		return ps
	}
	filled, err := s.details.Fetch(ctx, need, a.opt)
	if err != nil {
		a.log.Warn("paper pages failed; those papers keep the listing's fields", "source", s.name, "err", oneLine(err))
	}
	for _, p := range filled {
		ps[at[p.ID]] = p
	}
	for _, p := range need {
		a.detailed[p.ID] = true
	}
	a.log.Info("paper pages fetched", "source", s.name, "papers", len(need))
	return ps
}

// Reload replaces the config with cfg and rebuilds the site from the
// history, so new and edited topics start with their backlog. It waits for
// a refresh's write, never for its scrape. On error the running config
// stays. It returns the sources that are new or changed, which the caller
// refreshes at once.
func (a *App) Reload(cfg *Config) ([]string, error) {
	p, err := a.compile(cfg)
	if err != nil {
		return nil, err
	}
	// Changed like-topics learn first, off a.mu: seeds not found refuse
	// the config. Unchanged ones keep what they learnt (read under a.mu
	// below), and the reload does not wait for a refresh's learning.
	var l *learning
	if p.likeKey != a.pipe.Load().likeKey {
		a.learning.Lock()
		defer a.learning.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), a.env.RefreshTimeout)
		l, err = a.learn(ctx, p)
		cancel()
		if err != nil {
			return nil, err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	relearnt := l != nil
	if !relearnt {
		l = a.learned.Load()
	}
	old := map[string]SourceConfig{}
	for _, s := range a.pipe.Load().sources {
		old[s.name] = s.cfg
	}
	var changed []string
	for _, s := range p.sources {
		if o, ok := old[s.name]; !ok || !reflect.DeepEqual(o, s.cfg) {
			changed = append(changed, s.name)
		}
	}
	if err := a.deliver.Reconfigure(cfg.Targets(a.env.SiteURL())); err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	if err := a.setHub(p.hub); err != nil {
		return nil, err
	}
	a.stats.SetTargets(targetNames(cfg))
	a.pipe.Store(p)
	a.learned.Store(l)
	a.stats.SetSources(p.names())
	a.site.SetConfig(a.siteConfig(p, l))
	st := *a.status.Load()
	if relearnt {
		st.LearnError = learnProblem(nil, l)
	}
	// Sources no longer configured leave the status.
	st.Sources = slices.DeleteFunc(slices.Clone(st.Sources), func(ss feed.SourceStatus) bool {
		return !slicesContainsSource(p.sources, ss.Name)
	})
	a.status.Store(&st)
	err = a.withStore(func(s *store.Store) error {
		if err := a.site.Load(s); err != nil {
			return err
		}
		_, err := a.build(s, nil, nil, &st)
		return err
	})
	return changed, err
}

func slicesContainsSource(ss []source, name string) bool {
	for _, s := range ss {
		if s.name == name {
			return true
		}
	}
	return false
}

// build writes the site for the papers changed and pruned since the last
// build, and has the server pick the files up. It returns how many files
// it wrote. Callers hold a.mu.
func (a *App) build(s *store.Store, changed []*paper.Paper, pruned []string, st *Status) (int, error) {
	fs := feed.Status{Refreshed: st.Refreshed, NextRefresh: st.NextRefresh, Sources: st.Sources, LearnError: st.LearnError}
	if a.pub != nil {
		ps := a.pub.Status()
		fs.Publish = &feed.PublishStatus{LastSuccess: st.Published, Failing: ps.LastError != "", Pending: ps.Pending}
	}
	for _, ts := range a.deliver.Status() {
		fs.Deliveries = append(fs.Deliveries, feed.DeliveryStatus{Name: ts.Name, Type: ts.Type, LastSuccess: ts.LastSuccess, Queued: ts.Queued,
			Failing: ts.LastError != "" && ts.LastErrorAt.After(ts.LastSuccess), Err: ts.LastError})
	}
	a.saveLearning(s)
	res, err := a.site.Build(s, changed, pruned, fs, a.now())
	// Even a Build that failed part-way wrote some feeds: the hub hears of
	// them, and the server picks them up (its snapshot must match the disk).
	if pinger := a.pinger.Load(); pinger != nil {
		pinger.Add(res.Changed)
	}
	if shown := a.site.Shown(); shown != nil {
		a.deliver.Offer(shown)
		items := make(map[string]int, len(shown))
		for slug, ids := range shown {
			items[slug] = len(ids)
		}
		a.stats.Topics(items)
	}
	if a.files != nil {
		if rerr := a.files.Reload(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("load site for serving: %w", rerr))
		}
		a.setUnlearnt()
	}
	if err != nil {
		return res.Written, err
	}
	a.log.Debug("site built", "files_written", res.Written, "files_removed", res.Removed, "topics_routed", res.Scanned, "topics_rendered", res.Rendered)
	return res.Written + res.Removed, nil
}

// writeProblem says in one public line why writing failed: the class of
// failure, without paths or other internal detail (the log has those).
func writeProblem(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "cannot write the site: the disk is full"
	case errors.Is(err, syscall.EROFS), errors.Is(err, os.ErrPermission):
		return "cannot write the site: the directory is not writable"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "cannot write the site: out of file descriptors"
	case errors.Is(err, store.ErrLocked):
		return "cannot write the history: another process holds it"
	case errors.Is(err, store.ErrDamaged):
		return "cannot write the history: the file is damaged"
	}
	return "cannot write the history or the site"
}

// learnProblem says in one public line why the like-topics could not
// learn (err), or else which of them learnt no model from l and why: the
// topic and the class of failure, without addresses or error chains (the
// log has those). It is empty when err is nil and each topic of l has a
// model, or l is nil (not learnt yet, and not failed).
func learnProblem(err error, l *learning) string {
	var missing *learn.MissingError
	switch {
	case err == nil:
	case errors.As(err, &missing):
		var parts []string
		for _, slug := range slices.Sorted(maps.Keys(missing.Seeds)) {
			parts = append(parts, fmt.Sprintf("like-topic %s: seeds not found in the history nor on arXiv: %s", slug, strings.Join(missing.Seeds[slug], ", ")))
		}
		return strings.Join(parts, "; ")
	case errors.Is(err, store.ErrLocked):
		return "like-topics cannot read the history: another process holds it"
	case errors.Is(err, store.ErrDamaged):
		return "like-topics cannot read the history: the file is damaged"
	default:
		return "like-topics could not learn from the history"
	}
	if l == nil {
		return ""
	}
	var parts []string
	for _, r := range l.results {
		switch {
		case r.Err == nil:
			continue
		case errors.Is(r.Err, like.ErrNoWords):
			parts = append(parts, fmt.Sprintf("like-topic %s: no model: no like paper has a word of the vocabulary", r.Slug))
		case errors.Is(r.Err, like.ErrNoFeatures):
			parts = append(parts, fmt.Sprintf("like-topic %s: no model: no word is in enough papers", r.Slug))
		default:
			parts = append(parts, fmt.Sprintf("like-topic %s: no model", r.Slug))
		}
	}
	return strings.Join(parts, "; ")
}

// healthWindow is how old the last success may be while healthy: two
// intervals and a margin for a slow scrape.
func (a *App) healthWindow() time.Duration {
	return 2*a.env.Interval + 5*time.Minute
}

// health says what /healthz reports: a state word and whether it is
// healthy.
//   - starting: the first refresh of this process is running; healthy when
//     the site served (the previous run's) is recent enough;
//   - failing: the last refresh could not write the history or the site;
//   - stale: no source answered within the health window;
//   - degraded: some source has not answered within the health window,
//     the bucket has not taken the site within it, or the like-topics
//     could not learn (or one learnt no model) in their last pass;
//   - ok.
func (a *App) health(now time.Time) (string, bool) {
	st := a.status.Load()
	fresh := !st.LastSuccess.IsZero() && now.Sub(st.LastSuccess) <= a.healthWindow()
	pipe := a.pipe.Load()
	switch {
	case !a.started.Load():
		return "starting", fresh
	case st.WriteError != "":
		return "failing", false
	case !fresh:
		return "stale", false
	case st.LearnError != "":
		return "degraded", false
	}
	if a.pub != nil {
		if ps := a.pub.Status(); ps.LastError != "" && now.Sub(ps.LastSuccess) > a.healthWindow() {
			return "degraded", false
		}
	}
	for _, ss := range st.Sources {
		if !slicesContainsSource(pipe.sources, ss.Name) {
			continue
		}
		if ss.LastSuccess.IsZero() || now.Sub(ss.LastSuccess) > a.healthWindow() {
			return "degraded", false
		}
	}
	return "ok", true
}

// healthz serves the status as JSON: 200 while healthy, 503 otherwise.
func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	st := a.status.Load()
	state, ok := a.health(a.now())
	body := struct {
		State string `json:"status"`
		Status
		Publish *publish.Status `json:"publish,omitempty"`
		// WebSubPending counts the feeds whose change the hub has not
		// taken yet.
		WebSubPending *int `json:"websub_pending,omitempty"`
		// Deliveries is each delivery target's state.
		Deliveries []deliver.TargetStatus `json:"deliveries,omitempty"`
	}{State: state, Status: *st, Deliveries: a.deliver.Status()}
	if pinger := a.pinger.Load(); pinger != nil {
		n := pinger.Pending()
		body.WebSubPending = &n
	}
	if a.pub != nil {
		ps := a.pub.Status()
		body.Publish = &ps
	}
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	data, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "status unavailable", http.StatusInternalServerError)
		a.log.Error("healthz", "err", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(data) //nolint:errcheck // the client went away; nothing to do
}

// starting answers while no site has been written yet: the starting page
// at /, and 503 with Retry-After elsewhere, so readers subscribing now
// retry rather than drop a feed that is about to exist.
func (a *App) starting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.files.Len() > 0 {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", "30")
		if r.URL.Path != "/" && r.URL.Path != "/index.html" {
			http.Error(w, "paperfeed is starting: the first refresh is running", http.StatusServiceUnavailable)
			return
		}
		st := a.status.Load()
		page, err := feed.Starting(feed.Site{BaseURL: a.env.SiteURL(), Title: "paperfeed"}, feed.Status{Refreshed: st.Refreshed, NextRefresh: st.NextRefresh, Sources: a.pendingSources()})
		if err != nil {
			a.log.Error("starting page", "err", err)
			http.Error(w, "paperfeed is starting", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page) //nolint:errcheck // the client went away; nothing to do
	})
}

// waiting answers for the feeds of like-topics that have not learnt yet,
// which the site leaves out (see siteConfig) and has no file of: 503 with
// Retry-After, as while starting, so a reader retries rather than drops a
// feed that is about to exist, and never reads it empty first. A feed an
// earlier run wrote is served as it is meanwhile.
func (a *App) waiting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := a.unlearnt.Load(); u == nil || !(*u)[r.URL.Path] || a.files.Has(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", "30")
		http.Error(w, "paperfeed is starting: this like-topic has not learnt yet", http.StatusServiceUnavailable)
	})
}

// setUnlearnt records which like-topics' feeds the site just loaded for
// serving lacks. Callers hold a.mu, under which the pipeline and what the
// like-topics learnt are replaced, so it matches what was built.
func (a *App) setUnlearnt() {
	u := unlearntFeeds(a.pipe.Load(), a.learned.Load())
	a.unlearnt.Store(&u)
}

// pendingSources is every configured source, with what is known of it.
func (a *App) pendingSources() []feed.SourceStatus {
	known := map[string]feed.SourceStatus{}
	for _, ss := range a.status.Load().Sources {
		known[ss.Name] = ss
	}
	var out []feed.SourceStatus
	for _, s := range a.pipe.Load().sources {
		ss, ok := known[s.name]
		if !ok {
			ss = feed.SourceStatus{Name: s.name, State: feed.StatePending}
		}
		out = append(out, ss)
	}
	return out
}

// Handler is the whole site: /healthz and the output directory.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.Handle("GET /metrics", a.stats.Handler())
	mux.Handle("/", a.starting(a.waiting(a.files)))
	return a.stats.Middleware(metrics.Route, mux)
}

// jitter spreads refreshes of many instances: the interval plus up to 5%.
func jitter(d time.Duration) time.Duration {
	return d + rand.N(d/20+1)
}

// Serve serves the site and refreshes it at start and then every interval,
// retrying failed sources sooner, until ctx is done. A value on reload
// re-reads the config (main sends one on SIGHUP) and refreshes new or
// changed sources at once. On shutdown a running write finishes and the
// server drains for a few seconds.
func (a *App) Serve(ctx context.Context, reload <-chan os.Signal, h hooks) error {
	ln, err := net.Listen("tcp", a.env.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Serve what the last run wrote while the first refresh runs.
	a.mu.Lock()
	if a.env.BaseURL == "" {
		// Links follow the address really listened on (":0" picks a port).
		a.env.Addr = ln.Addr().String()
		a.site.SetConfig(a.siteConfig(a.pipe.Load(), a.learned.Load()))
	}
	a.files = serve.New(a.env.OutDir, serve.Options{MaxAge: cacheMaxAge(a.env.Interval), Logger: a.log})
	err = a.files.Reload()
	a.setUnlearnt()
	a.mu.Unlock()
	if err != nil {
		a.log.Warn("the previous site cannot be served; the starting page is shown until the first refresh", "err", oneLine(err))
	}
	// The timeouts: see serve.NewServer.
	srv := serve.NewServer(a.Handler(), slog.NewLogLogger(a.log.Handler(), slog.LevelWarn))
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "base_url", a.env.SiteURL(), "out_dir", a.env.OutDir)
	if h.ready != nil {
		h.ready(ln.Addr())
	}

	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		a.loop(ctx, reload, h)
	}()
	deliverDone := make(chan struct{})
	go func() {
		defer close(deliverDone)
		a.deliver.Run(ctx)
	}()
	pubCtx, stopPublishing := context.WithCancel(ctx)
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		a.publishLoop(pubCtx)
	}()
	defer func() { stopPublishing(); <-pubDone }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	}
	<-loopDone // a running refresh sees ctx and finishes its write
	<-deliverDone
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// nextWake is when the loop next refreshes: the next full refresh, or the
// earliest retry of a failed source.
func (a *App) nextWake(st *Status) time.Time {
	t := st.NextRefresh
	for _, ss := range st.Sources {
		if !ss.NextTry.IsZero() && (t.IsZero() || ss.NextTry.Before(t)) {
			t = ss.NextTry
		}
	}
	return t
}

// due is what the loop refreshes at now: every source (nil) when the full
// refresh is due, else the sources whose retry is due.
func (a *App) due(st *Status, now time.Time) ([]string, bool) {
	if st.NextRefresh.IsZero() || !now.Before(st.NextRefresh) {
		return nil, true
	}
	var names []string
	for _, ss := range st.Sources {
		if !ss.NextTry.IsZero() && !now.Before(ss.NextTry) {
			names = append(names, ss.Name)
		}
	}
	return names, len(names) > 0
}

// loop refreshes now and then every interval, retries failed sources at
// their next try, and reloads on SIGHUP. A refresh runs beside the loop, so
// a reload never waits for a scrape.
func (a *App) loop(ctx context.Context, hup <-chan os.Signal, h hooks) {
	type outcome struct {
		st  Status
		err error
	}
	var (
		done    chan outcome // non-nil while a refresh runs
		pending []string     // sources a reload changed, refreshed next
		timer   = time.NewTimer(0)
	)
	defer timer.Stop()
	start := func(names []string) {
		done = make(chan outcome, 1)
		go func() {
			st, err := a.RefreshSources(ctx, names)
			// The refresh's garbage goes back to the system now, not as
			// the heap's goal allows: an idle server otherwise stays near
			// twice its live heap. With 100 like-topics over 100,000
			// papers, after a refresh that trained them (a 350 MB peak),
			// idle RSS 203 MB without this, 135 MB with it.
			debug.FreeOSMemory()
			done <- outcome{st, err}
		}()
	}
	start(nil)
	for {
		select {
		case <-ctx.Done():
			if done != nil {
				<-done
			}
			return
		case o := <-done:
			done = nil
			if h.refreshed != nil {
				h.refreshed(o.st, o.err)
			}
			if len(pending) > 0 {
				start(pending)
				pending = nil
				continue
			}
			wait := time.Until(a.nextWake(&o.st))
			a.log.Debug("next refresh", "in", wait.Round(time.Second))
			timer.Reset(max(wait, 0))
		case <-timer.C:
			if done != nil {
				continue // the refresh that ends re-arms the timer
			}
			if names, ok := a.due(a.status.Load(), a.now()); ok {
				start(names)
			} else {
				timer.Reset(max(time.Until(a.nextWake(a.status.Load())), time.Second))
			}
		case <-hup:
			changed, err := a.reloadConfig()
			if h.reloaded != nil {
				h.reloaded(err)
			}
			if err != nil || len(changed) == 0 {
				continue
			}
			a.log.Info("refreshing new and changed sources now", "sources", strings.Join(changed, ","))
			if done != nil {
				pending = append(pending, changed...)
			} else {
				start(changed)
			}
		}
	}
}

// reloadConfig re-reads the config file; an invalid one is refused and the
// running config stays. It returns the sources that are new or changed.
func (a *App) reloadConfig() ([]string, error) {
	cfg, err := loadConfig(a.env, a.environ)
	if err != nil {
		a.log.Error("config reload refused; keeping the running config", "err", oneLine(err))
		return nil, err
	}
	changed, err := a.Reload(cfg)
	if err != nil {
		a.log.Error("config reloaded, but the site could not be rebuilt", "err", oneLine(err))
		return changed, err
	}
	a.log.Info("config reloaded", "topics", len(cfg.Topics), "sources", len(cfg.Sources))
	return changed, nil
}
