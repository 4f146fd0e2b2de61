package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/serve"
	"github.com/paperfeed/paperfeed/site"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// storeFile is the name of the history file inside the data directory.
const storeFile = "paperfeed.db"

// source is one configured listing, ready to scrape.
type source struct {
	name    string
	scrape  func(ctx context.Context, now time.Time) ([]paper.Paper, error)
	details *scrape.Details // fetch new papers' own pages; nil unless details: true
}

// pipeline is what a config compiles to: the sources and the topic router.
type pipeline struct {
	sources []source
	specs   []topic.Spec
	router  *topic.Router
}

// Status is the outcome of the last refresh, for /healthz and index.html.
type Status struct {
	Refreshed   time.Time           `json:"last_refresh"`
	LastSuccess time.Time           `json:"last_success"`
	Papers      int                 `json:"papers"`
	Sources     []feed.SourceStatus `json:"sources"`
}

// App is paperfeed's state: the history, the compiled config and the site.
type App struct {
	env   Env
	opt   scrape.Options // politeness and limits for every source
	log   *slog.Logger
	now   func() time.Time
	store *store.Store
	site  *site.Builder
	files *serve.Handler // the site as served; nil unless serving (-once writes only)

	mu   sync.Mutex // held for a whole refresh or reload: never two at once
	pipe *pipeline
	// detailed holds the papers whose own page was asked for (details: true).
	detailed map[string]bool

	status atomic.Pointer[Status]
}

// newApp compiles the config and opens the history. It fails when the config
// does not compile, or the store is locked by another process or damaged.
func newApp(e Env, cfg *Config, opt scrape.Options, log *slog.Logger, now func() time.Time) (*App, error) {
	a := &App{env: e, opt: opt, log: log, now: now, detailed: map[string]bool{}}
	p, err := a.compile(cfg)
	if err != nil {
		return nil, err
	}
	a.pipe = p
	if err := os.MkdirAll(e.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := os.MkdirAll(e.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	a.store, err = store.Open(filepath.Join(e.DataDir, storeFile))
	if err != nil {
		return nil, err
	}
	// Holding the store's lock, this is the only writer: temporary files
	// are what a killed process left behind.
	if n, err := feed.RemoveTemps(e.OutDir); err != nil {
		return nil, errors.Join(err, a.store.Close())
	} else if n > 0 {
		log.Info("removed temporary files of an interrupted write", "files", n)
	}
	a.site = site.New(e.OutDir, a.store, a.siteConfig(p), log)
	// Before anything is merged: the saved state is trusted only for the
	// history it was saved with.
	if err := a.site.Load(); err != nil {
		return nil, errors.Join(err, a.store.Close())
	}
	a.status.Store(&Status{})
	return a, nil
}

// siteConfig is what the site is built from under p.
func (a *App) siteConfig(p *pipeline) site.Config {
	return site.Config{Site: feed.Site{BaseURL: a.env.BaseURL, Title: "paperfeed"}, Specs: p.specs, Router: p.router}
}

// cacheMaxAge is how long clients may cache a file: a tenth of the refresh
// interval, between a minute and an hour, so readers see a refresh soon.
func cacheMaxAge(interval time.Duration) time.Duration {
	return min(max(interval/10, time.Minute), time.Hour)
}

// Close closes the history.
func (a *App) Close() error {
	return a.store.Close()
}

// compile turns a validated config into sources and a router.
func (a *App) compile(cfg *Config) (*pipeline, error) {
	p := &pipeline{}
	opt := a.opt
	for _, sc := range cfg.Sources {
		var scrapeFn func(ctx context.Context, now time.Time, opt scrape.Options) ([]paper.Paper, error)
		switch sc.Type {
		case "huggingface":
			scrapeFn = scrape.HuggingFace{Name: sc.Name, BaseURL: a.env.HFURL, Via: sc.Via, View: sc.View, Days: sc.Days, Query: sc.Q}.Scrape
		case "arxiv":
			scrapeFn = scrape.Arxiv{Name: sc.Name, BaseURL: a.env.ArxivURL, Category: sc.Category, Include: sc.Include}.Scrape
		case "html":
			scrapeFn = scrape.Listing{Name: sc.Name, URL: sc.URL, Selectors: sc.Selectors()}.Scrape
		default: // ParseConfig rejects these; kept so a new type cannot be silently skipped
			return nil, fmt.Errorf("source %s: unknown type %q", sc.Name, sc.Type)
		}
		src := source{name: sc.Name, scrape: func(ctx context.Context, now time.Time) ([]paper.Paper, error) {
			return scrapeFn(ctx, now, opt)
		}}
		if sc.Details {
			src.details = &scrape.Details{ArxivURL: a.env.ArxivURL, Selectors: sc.Selectors()}
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
	return p, nil
}

// errAllFailed means no source answered in a refresh.
var errAllFailed = errors.New("every source failed")

// Refresh scrapes every source, merges what it got into the history and
// rebuilds the site from the history. A source that fails adds nothing and
// removes nothing: the feeds keep every item they had. A source that failed
// part-way (one day of three, say) still adds what it got, and counts as
// having worked. It returns an error when no source worked or the history
// could not be written.
func (a *App) Refresh(ctx context.Context) (Status, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	prev := a.status.Load()
	st := Status{Refreshed: now, LastSuccess: prev.LastSuccess}
	var scraped []paper.Paper
	var failed []error
	worked := 0
	for _, s := range a.pipe.sources {
		start := time.Now()
		ps, err := s.scrape(ctx, now)
		if s.details != nil {
			ps = a.fetchDetails(ctx, s, ps)
		}
		ss := feed.SourceStatus{Name: s.name, OK: err == nil, Papers: len(ps)}
		if err != nil {
			ss.Err = err.Error()
			failed = append(failed, err)
			a.log.Warn("source failed", "source", s.name, "papers", len(ps), "err", err)
		} else {
			a.log.Info("source scraped", "source", s.name, "papers", len(ps), "took", time.Since(start).Round(time.Millisecond))
		}
		if err == nil || len(ps) > 0 {
			worked++
		}
		st.Sources = append(st.Sources, ss)
		scraped = append(scraped, ps...)
	}
	if worked > 0 {
		st.LastSuccess = now
	}
	// What was scraped is merged even when a source failed part-way: the
	// history only grows, so a partial answer can add papers but never drop one.
	res, err := a.store.Merge(scraped, now)
	if err != nil {
		return st, fmt.Errorf("merge into history: %w", err)
	}
	var pruned []string
	if a.env.Retention > 0 {
		pruned, err = a.store.Prune(now.Add(-a.env.Retention))
		if err != nil {
			return st, fmt.Errorf("prune history: %w", err)
		}
	}
	st.Papers = a.store.Len()
	a.status.Store(&st)
	if err := a.build(res.Changed, pruned); err != nil {
		return st, err
	}
	a.log.Info("refreshed", "added", res.Added, "updated", res.Updated, "pruned", len(pruned), "papers", st.Papers)
	if worked == 0 {
		return st, fmt.Errorf("%w: %w", errAllFailed, errors.Join(failed...))
	}
	return st, nil
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
	known, err := a.store.Get(ids...)
	if err != nil {
		a.log.Warn("history unreadable; paper pages not fetched", "source", s.name, "err", err)
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
		a.log.Warn("paper pages failed; those papers keep the listing's fields", "source", s.name, "err", err)
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

// Reload replaces the config with cfg and rebuilds the site from the history,
// so new and edited topics start with their backlog. On error the running
// config stays.
func (a *App) Reload(cfg *Config) error {
	p, err := a.compile(cfg)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pipe = p
	a.site.SetConfig(a.siteConfig(p))
	return a.build(nil, nil)
}

// build writes the site for the papers changed and pruned since the last
// build, and has the server pick the files up. Callers hold a.mu.
func (a *App) build(changed []*paper.Paper, pruned []string) error {
	st := a.status.Load()
	res, err := a.site.Build(changed, pruned, feed.Status{Refreshed: st.Refreshed, Sources: st.Sources}, a.now())
	if err != nil {
		return err
	}
	if a.files != nil {
		if err := a.files.Reload(); err != nil {
			return fmt.Errorf("load site for serving: %w", err)
		}
	}
	a.log.Debug("site built", "files_written", res.Written, "files_removed", res.Removed, "topics_routed", res.Scanned)
	return nil
}

// healthy reports whether the last successful refresh is recent enough: within
// two intervals and a margin for a slow scrape.
func (a *App) healthy(now time.Time) bool {
	st := a.status.Load()
	return !st.LastSuccess.IsZero() && now.Sub(st.LastSuccess) <= 2*a.env.Interval+5*time.Minute
}

// healthz serves the status as JSON: 200 while healthy, 503 otherwise.
func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	st := a.status.Load()
	body := struct {
		State string `json:"status"`
		Status
	}{"ok", *st}
	code := http.StatusOK
	if !a.healthy(a.now()) {
		body.State, code = "stale", http.StatusServiceUnavailable
	}
	data, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(data) //nolint:errcheck // the client went away; nothing to do
}

// Handler is the whole site: /healthz and the output directory.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.Handle("/", a.files)
	return mux
}

// jitter spreads refreshes of many instances: the interval plus up to 5%.
func jitter(d time.Duration) time.Duration {
	return d + rand.N(d/20+1)
}

// Serve serves the site and refreshes it at start and then every interval,
// until ctx is done. A value on reload re-reads the config (main sends one
// on SIGHUP). On shutdown a running write finishes and the server drains for
// a few seconds.
func (a *App) Serve(ctx context.Context, reload <-chan os.Signal, h hooks) error {
	ln, err := net.Listen("tcp", a.env.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Serve what the last run wrote while the first refresh runs.
	a.mu.Lock()
	a.files = serve.New(a.env.OutDir, serve.Options{MaxAge: cacheMaxAge(a.env.Interval), Logger: a.log})
	err = a.files.Reload()
	a.mu.Unlock()
	if err != nil {
		a.log.Warn("serving the previous site", "err", err)
	}
	// The timeouts: see serve.NewServer.
	srv := serve.NewServer(a.Handler(), slog.NewLogLogger(a.log.Handler(), slog.LevelWarn))
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "base_url", a.env.BaseURL, "out_dir", a.env.OutDir)
	if h.ready != nil {
		h.ready(ln.Addr())
	}

	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		a.loop(ctx, reload, h)
	}()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	}
	<-loopDone // a running refresh sees ctx and finishes its write
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	a.log.Info("stopped")
	return nil
}

// loop refreshes now and then every interval, and reloads on SIGHUP.
func (a *App) loop(ctx context.Context, hup <-chan os.Signal, h hooks) {
	for {
		st, err := a.Refresh(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Error("refresh failed; feeds unchanged, will retry", "err", err)
		}
		if h.refreshed != nil {
			h.refreshed(st, err)
		}
		timer := time.NewTimer(jitter(a.env.Interval))
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-hup:
				err := a.reloadConfig()
				if h.reloaded != nil {
					h.reloaded(err)
				}
			case <-timer.C:
				break wait
			}
		}
	}
}

// reloadConfig re-reads the config file; an invalid one is refused and the
// running config stays.
func (a *App) reloadConfig() error {
	cfg, err := loadConfig(a.env)
	if err == nil {
		err = a.Reload(cfg)
	}
	if err != nil {
		a.log.Error("config reload refused; keeping the running config", "err", err)
		return err
	}
	a.log.Info("config reloaded", "topics", len(cfg.Topics), "sources", len(cfg.Sources))
	return nil
}
