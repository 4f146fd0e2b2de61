package main

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape"
	"github.com/paperfeed/paperfeed/serve"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
)

// storeFile is the name of the history file inside the data directory.
const storeFile = "paperfeed.db"

// feedFormats are the files written for every topic, by extension, with
// the document of each in a feed.Rendered.
var feedFormats = []struct {
	ext string
	doc func(*feed.Rendered) []byte
}{
	{"atom", func(r *feed.Rendered) []byte { return r.Atom }},
	{"rss", func(r *feed.Rendered) []byte { return r.RSS }},
	{"json", func(r *feed.Rendered) []byte { return r.JSON }},
}

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
	files *serve.Handler // the site as served; nil unless serving (-once writes only)

	mu     sync.Mutex // held for a whole refresh, rebuild or reload: never two at once
	pipe   *pipeline
	hits   map[string][]topic.Hit // routing of every paper in the history under pipe.router
	routed bool                   // hits is complete for pipe.router
	// versions counts the changes of each paper seen by this process, and
	// rendered holds a signature of what each topic's files were last
	// rendered from (its items, their versions and terms): a topic whose
	// signature is unchanged is not rendered again.
	versions map[string]uint64
	rendered []uint64
	fresh    []bool        // rendered[i] is valid
	docs     feed.Rendered // buffers reused by every topic's render
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
	a.status.Store(&Status{})
	return a, nil
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
	history := a.store.Papers()
	var need []paper.Paper
	at := map[string]int{}
	for i, p := range ps {
		if p.Abstract != "" || a.detailed[p.ID] {
			continue
		}
		if known, ok := lookup(history, p.ID); ok && known.Abstract != "" {
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

// lookup finds a paper by ID in the history (sorted by ID).
func lookup(papers []*paper.Paper, id string) (*paper.Paper, bool) {
	i, ok := slices.BinarySearchFunc(papers, id, func(p *paper.Paper, id string) int { return strings.Compare(p.ID, id) })
	if !ok {
		return nil, false
	}
	return papers[i], true
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
	a.pipe, a.routed, a.rendered, a.fresh = p, false, nil, nil
	return a.build(nil, nil)
}

// build routes the history and writes every file of the site. changed and
// pruned name the papers that moved since the last build; everything else
// keeps its cached routing. Callers hold a.mu.
func (a *App) build(changed, pruned []string) error {
	papers := a.store.Papers()
	router := a.pipe.router
	if !a.routed {
		a.hits = make(map[string][]topic.Hit, len(papers))
		if a.versions == nil {
			a.versions = map[string]uint64{}
		}
		for i := range papers {
			a.hits[papers[i].ID] = router.Route(papers[i])
		}
		a.routed = true
	} else {
		for _, id := range pruned {
			delete(a.hits, id)
			delete(a.versions, id)
		}
		for _, id := range changed {
			a.versions[id]++
			if p, ok := lookup(papers, id); ok {
				a.hits[id] = router.Route(p)
			}
		}
	}

	// Walk the history once, newest first (the feeds' order), handing each
	// paper to the topics that take it until a topic has its limit.
	specs := a.pipe.specs
	members := make([][]int, len(specs))
	var newest time.Time
	for _, i := range feedOrder(papers) {
		for _, h := range a.hits[papers[i].ID] {
			if len(members[h.Topic]) < specs[h.Topic].Limit {
				members[h.Topic] = append(members[h.Topic], i)
			}
		}
		if d := papers[i].Day; d.After(newest) {
			newest = d
		}
	}
	if newest.IsZero() {
		// An empty history: empty feeds are dated by this refresh.
		newest = a.status.Load().Refreshed
		if newest.IsZero() {
			newest = a.now()
		}
	}
	site := feed.Site{BaseURL: a.env.BaseURL, Title: "paperfeed"}
	topics := make([]feed.Topic, len(specs))
	for t, spec := range specs {
		items := make([]feed.Item, len(members[t]))
		for k, i := range members[t] {
			items[k] = feed.Item{Paper: *papers[i], Terms: termsOf(a.hits[papers[i].ID], t)}
		}
		topics[t] = feed.Topic{Slug: spec.Slug, Title: spec.Title, Description: spec.Description, Items: items, Updated: newest}
	}
	sigs := make([]uint64, len(topics))
	for t := range topics {
		sigs[t] = a.signature(&topics[t])
	}
	written, err := a.writeSite(site, topics, sigs)
	if err != nil {
		return err
	}
	if a.files != nil {
		if err := a.files.Reload(); err != nil {
			return fmt.Errorf("load site for serving: %w", err)
		}
	}
	a.log.Debug("site built", "topics", len(topics), "files_written", written)
	return nil
}

// feedOrder returns the indexes of papers in the order feeds list them
// (feed.Compare), sorting on precomputed keys: the history is large and the
// comparison runs n log n times.
func feedOrder(papers []*paper.Paper) []int {
	type key struct {
		sec     int64
		nsec    int
		upvotes int
		i       int
	}
	keys := make([]key, len(papers))
	for i := range papers {
		d := feed.Date(papers[i])
		keys[i] = key{d.Unix(), d.Nanosecond(), papers[i].Upvotes, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(b.sec, a.sec); c != 0 {
			return c
		}
		if c := cmp.Compare(b.nsec, a.nsec); c != 0 {
			return c
		}
		if c := cmp.Compare(b.upvotes, a.upvotes); c != 0 {
			return c
		}
		return strings.Compare(papers[a.i].ID, papers[b.i].ID)
	})
	order := make([]int, len(keys))
	for k, key := range keys {
		order[k] = key.i
	}
	return order
}

// signature sums up what a topic's feeds are rendered from: its text, its
// items with the version of each paper and the matched terms, and, for an
// empty topic, its date.
func (a *App) signature(t *feed.Topic) uint64 {
	h := fnv.New64a()
	field := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	field(t.Slug)
	field(t.Title)
	field(t.Description)
	if len(t.Items) == 0 {
		field(t.Updated.UTC().Format(time.RFC3339Nano))
	}
	var buf [8]byte
	for i := range t.Items {
		it := &t.Items[i]
		field(it.Paper.ID)
		binary.LittleEndian.PutUint64(buf[:], a.versions[it.Paper.ID])
		h.Write(buf[:])
		for _, term := range it.Terms {
			field(term)
		}
		h.Write([]byte{1})
	}
	return h.Sum64()
}

// termsOf returns the matched terms of topic t among hits.
func termsOf(hits []topic.Hit, t int) []string {
	for _, h := range hits {
		if h.Topic == t {
			return h.Terms
		}
	}
	return nil
}

// writeSite renders and writes every file, and removes the feed files of
// topics that are no longer configured. A topic whose signature matches the
// one its files were last rendered from is skipped: its files hold those
// bytes already. It returns how many files changed.
func (a *App) writeSite(site feed.Site, topics []feed.Topic, sigs []uint64) (int, error) {
	dir := a.env.OutDir
	written := 0
	keep := map[string]bool{}
	write := func(name string, data []byte, err error) error {
		if err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		changed, err := feed.WriteFile(dir, name, data)
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if changed {
			written++
		}
		keep[name] = true
		return nil
	}
	if len(a.rendered) != len(topics) {
		a.rendered = make([]uint64, len(topics))
		a.fresh = make([]bool, len(topics))
	}
	for i, t := range topics {
		if a.fresh[i] && a.rendered[i] == sigs[i] {
			for _, f := range feedFormats {
				keep[feed.Path(t.Slug, f.ext)] = true
			}
			continue
		}
		// One set of buffers serves every topic: WriteFile keeps no
		// reference, and the topic is prepared once for its three feeds.
		r := &a.docs
		r.Atom, r.RSS, r.JSON = r.Atom[:0], r.RSS[:0], r.JSON[:0]
		err := feed.AppendAll(r, site, t)
		for _, f := range feedFormats {
			if err := write(feed.Path(t.Slug, f.ext), f.doc(r), err); err != nil {
				a.fresh[i] = false
				return written, err
			}
		}
		a.rendered[i], a.fresh[i] = sigs[i], true
	}
	data, err := feed.OPML(site, topics)
	if err := write(feed.OPMLName, data, err); err != nil {
		return written, err
	}
	st := a.status.Load()
	data, err = feed.Index(site, topics, feed.Status{Refreshed: st.Refreshed, Sources: st.Sources})
	if err := write(feed.IndexName, data, err); err != nil {
		return written, err
	}
	// Feeds of topics removed from the config go away with them.
	entries, err := os.ReadDir(filepath.Join(dir, "feeds"))
	if err != nil {
		return written, fmt.Errorf("list feeds: %w", err)
	}
	for _, e := range entries {
		name := "feeds/" + e.Name()
		if e.Type().IsRegular() && !keep[name] && !strings.HasPrefix(e.Name(), ".") && isFeedFile(e.Name()) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return written, fmt.Errorf("remove stale feed: %w", err)
			}
			a.log.Info("removed feed of a topic no longer configured", "file", name)
		}
	}
	return written, nil
}

func isFeedFile(name string) bool {
	for _, f := range feedFormats {
		if strings.HasSuffix(name, "."+f.ext) {
			return true
		}
	}
	return false
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

// Handler is the whole site: /healthz and the output directory. It
// dispatches on the one dynamic path itself rather than through a ServeMux:
// serving feeds is the hot path and needs no pattern matching.
func (a *App) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			a.healthz(w, r)
			return
		}
		a.files.ServeHTTP(w, r)
	})
}

// jitter spreads refreshes of many instances: the interval plus up to 5%.
func jitter(d time.Duration) time.Duration {
	return d + rand.N(d/20+1)
}

// Serve serves the site and refreshes it at start and then every interval,
// until ctx is done. SIGHUP reloads the config. On shutdown a running write
// finishes and the server drains for a few seconds.
func (a *App) Serve(ctx context.Context, h hooks) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
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
	// The timeouts and the one-write responses: see serve.NewServer.
	srv := serve.NewServer(a.Handler(), slog.NewLogLogger(a.log.Handler(), slog.LevelWarn))
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(serve.Coalesce(ln)) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "base_url", a.env.BaseURL, "out_dir", a.env.OutDir)
	if h.ready != nil {
		h.ready(ln.Addr())
	}

	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		a.loop(ctx, hup, h)
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
