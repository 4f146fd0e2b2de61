// Package scrape fetches paper listings and turns them into paper.Paper
// values. It is the only package that imports Colly. Sources: HuggingFace
// (Daily Papers, in its daily, weekly, monthly, trending and search views),
// Arxiv (a category's /list/<category>/new page, parsed by scrape/arxiv) and
// Listing (any page, by CSS selectors, parsed by scrape/listing). Details
// fetches single papers' own pages (arXiv abstract pages, parsed by
// scrape/arxiv, or any paper's link) to fill what a listing lacked.
//
// Contract:
//   - Parsers (ParseDailyAPI, ParseDailyHTML) are pure functions over bytes:
//     no I/O, no logging. Colly callbacks only hand the body to them.
//   - Every Scrape call builds a new collector (Colly never revisits a URL it
//     has seen) from Options alone. COLLY_* environment variables are never
//     read: the collector is initialised without Colly's environment parsing,
//     so configuration comes only from the caller.
//   - Politeness: the User-Agent from Options; robots.txt is obeyed for HTML
//     pages and not applied to the JSON API, which is called as an API client;
//     one request at a time per collector, at least Delay apart per host.
//     Arxiv and Listing read robots.txt themselves, because Colly ignores
//     Crawl-delay: their Delay is raised to it (capped by MaxWait).
//   - Redirects are followed only to the host of the URL asked for (any
//     port, so http to https is fine) or to a host the source names in its
//     Hosts; any other is refused (a *RedirectError, ErrRedirectRefused). A
//     redirect back to a URL already seen, or more than 10 of them, is
//     ErrRedirectLoop.
//   - Bounds: a body larger than MaxBody is an error (ErrBodyTooLarge),
//     never silently truncated. An answer (one URL) with more than MaxPapers
//     papers is used up to MaxPapers; the rest are dropped with one WARN
//     naming the source and how many. Every paper a source returns has gone
//     through paper.Clamp, so over-long text is cut (one WARN per paper cut,
//     naming the fields), never a reason to fail.
//   - 429, 5xx and timeouts are retried up to Retries times with exponential
//     backoff from Backoff, honouring Retry-After (seconds or HTTP date); each
//     wait is capped by MaxWait. Every wait selects on ctx.Done(), and the
//     in-flight request carries ctx, so cancellation returns promptly. (Colly
//     v2.3.0 fetches robots.txt without the context; Timeout bounds it.)
//     RetryAfter gives the caller the Retry-After of a 429 or 503 that
//     failed for good.
//   - One failing URL never stops the others. A source that fetches several
//     URLs (the days of a view, the pages of Details) and gets some of them
//     returns their papers with a *Partial naming each failed part; when
//     every part fails the error is the parts' errors joined, not a Partial.
//   - One bad entry never rejects an answer: an entry (a JSON element, a
//     card, an arXiv item, a listing item) that cannot be read is skipped and
//     logged once at WARN with the source, its index, its id when known and
//     the reason; the rest are used. An answer whose entries all fail is an
//     error (ErrBadEntries, arxiv.ErrBadItems, listing.ErrBadItems): a
//     changed format, never an empty day.
//   - Every error returned is one line, and stays errors.Is/As-able
//     (ErrBodyTooLarge, *HTTPError, *RedirectError, ...). Public turns it
//     into a short line for public pages, without the machine's details.
//   - Text is kept as the source gives it (newlines, LaTeX, <, &) except that
//     invalid UTF-8 is made valid and paper.Clamp's caps apply. Papers are
//     deduplicated by ID; the listing day comes from the data, never from the
//     date asked for.
package scrape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/paperfeed/paperfeed/paper"
)

// Defaults for zero Options fields.
const (
	DefaultUserAgent = "paperfeed/0.1 (+https://github.com/paperfeed/paperfeed)"
	// DefaultTimeout is per request; the API answers in well under a second.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxBody is far above a day's listing (about 170 KB for 30
	// papers) yet bounds what a broken or hostile server can make us hold.
	DefaultMaxBody = 16 << 20
	// DefaultDelay keeps us well inside Hugging Face's anonymous limit of
	// 100 page views per 5 minutes.
	DefaultDelay   = time.Second
	DefaultRetries = 3
	DefaultBackoff = 2 * time.Second
	// DefaultMaxWait bounds a Retry-After so a refresh cannot stall for hours.
	DefaultMaxWait = 2 * time.Minute
	// DefaultMaxPapers is far above any real answer (a busy Daily Papers day
	// lists about 50 papers, an arXiv category's day a few hundred) yet
	// bounds what one answer can make us store and route.
	DefaultMaxPapers = 2000
)

// maxRedirects is how many redirects one request may follow, as net/http's
// default.
const maxRedirects = 10

// Options are the politeness and limits shared by every source. Zero fields
// take defaults.
type Options struct {
	UserAgent string        // default DefaultUserAgent
	Timeout   time.Duration // per request, default 30s
	MaxBody   int           // bytes, default 16 MiB; a larger body is an error
	Delay     time.Duration // between requests to one host, default 1s; negative means none
	Retries   int           // retries of 429/5xx/timeouts, default 3; negative means none
	Backoff   time.Duration // first backoff, doubled each retry, default 2s
	MaxWait   time.Duration // cap for Retry-After and backoff, default 2m
	// MaxPapers bounds the papers taken from one answer (one URL), default
	// 2,000; the rest are dropped with a WARN.
	MaxPapers int
	Logger    *slog.Logger // default discards
}

func (o Options) withDefaults() Options {
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Delay < 0 {
		o.Delay = 0
	} else if o.Delay == 0 {
		o.Delay = DefaultDelay
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.MaxPapers <= 0 {
		o.MaxPapers = DefaultMaxPapers
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// fetcher is one Scrape call's collector and pacing state. It is used from
// one goroutine.
type fetcher struct {
	c     *colly.Collector
	opt   Options
	log   *slog.Logger
	hosts []string  // hosts redirects may lead to besides the one asked
	last  time.Time // when the previous request finished, for Delay

	resp *colly.Response // set by OnResponse for the request in flight
}

// newFetcher builds a fresh collector. It calls Init instead of
// colly.NewCollector, which would let COLLY_* environment variables override
// these settings silently. hosts are the source's extra hosts for redirects.
func newFetcher(ctx context.Context, opt Options, hosts []string, obeyRobots bool, accept string) (*fetcher, error) {
	c := &colly.Collector{}
	c.Init()
	c.UserAgent = opt.UserAgent
	c.MaxBodySize = opt.MaxBody + 1 // one byte more, to see a body that was cut
	c.IgnoreRobotsTxt = !obeyRobots
	c.AllowURLRevisit = true // retries revisit; each Scrape has its own collector
	c.ParseHTTPErrorResponse = true
	c.Context = ctx
	c.SetRequestTimeout(opt.Timeout)
	// One request at a time per host. The delay is kept by the fetcher, not
	// by the rule: Colly's Delay is a time.Sleep after every response that
	// cannot be cancelled and is spent even after the last request.
	if err := c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: 1}); err != nil {
		return nil, fmt.Errorf("colly limit rule: %w", err)
	}
	f := &fetcher{c: c, opt: opt, log: opt.Logger, hosts: hosts}
	c.SetRedirectHandler(f.checkRedirect)
	c.OnRequest(func(r *colly.Request) {
		r.Headers.Set("Accept", accept)
	})
	c.OnResponse(func(r *colly.Response) {
		f.resp = r
	})
	return f, nil
}

// checkRedirect lets a redirect through only to the host asked for or one
// of f.hosts, and stops loops; see the package comment. via holds the
// requests made so far, the one asked for first.
func (f *fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	to := req.URL.String()
	for _, v := range via {
		if v.URL.String() == to {
			return &RedirectError{URL: to, Host: via[0].URL.Hostname(), Loop: true}
		}
	}
	if len(via) > maxRedirects {
		return &RedirectError{URL: to, Host: via[0].URL.Hostname(), Loop: true}
	}
	host := strings.ToLower(req.URL.Hostname())
	if host == strings.ToLower(via[0].URL.Hostname()) || slices.Contains(f.hosts, host) {
		return nil
	}
	return &RedirectError{URL: to, Host: via[0].URL.Hostname()}
}

// fetch GETs u, retrying 429, 5xx and timeouts, and returns the body of a 2xx
// answer.
func (f *fetcher) fetch(ctx context.Context, u string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		if err := f.pace(ctx); err != nil {
			return nil, err
		}
		body, err := f.get(ctx, u)
		if err == nil {
			return body, nil
		}
		if !retryable(err) {
			return nil, err
		}
		if attempt >= f.opt.Retries {
			if attempt > 0 {
				return nil, fmt.Errorf("gave up after %d attempts: %w", attempt+1, err)
			}
			return nil, err
		}
		wait := backoff(f.opt.Backoff, f.opt.MaxWait, attempt)
		if he := (*HTTPError)(nil); errors.As(err, &he) && he.hasRetryAfter {
			wait = min(he.retryAfter, f.opt.MaxWait)
		}
		f.log.Debug("retrying", "url", u, "attempt", attempt+1, "wait", wait, "error", err)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// pace waits until Delay has passed since the previous request finished.
func (f *fetcher) pace(ctx context.Context) error {
	if f.last.IsZero() {
		return ctx.Err()
	}
	return sleep(ctx, time.Until(f.last.Add(f.opt.Delay)))
}

// get makes one request. A failed answer's Retry-After goes into its
// *HTTPError.
func (f *fetcher) get(ctx context.Context, u string) ([]byte, error) {
	f.resp = nil
	err := f.c.Visit(u)
	f.last = time.Now()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if errors.Is(err, colly.ErrRobotsTxtBlocked) {
		return nil, ErrDisallowed
	}
	if ue, ok := err.(*url.Error); ok {
		// The caller names the URL; net/http's wrapper would repeat it.
		err = ue.Err
	}
	if err != nil {
		return nil, err
	}
	r := f.resp
	if r == nil {
		return nil, errors.New("no response")
	}
	if r.StatusCode < 200 || r.StatusCode > 299 {
		he := &HTTPError{URL: u, StatusCode: r.StatusCode}
		if r.Headers != nil {
			he.retryAfter, he.hasRetryAfter = retryAfter(*r.Headers, time.Now())
		}
		return nil, he
	}
	if len(r.Body) > f.opt.MaxBody {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, f.opt.MaxBody)
	}
	return r.Body, nil
}

// backoff is first doubled attempt times, capped by limit (and so never
// overflowing).
func backoff(first, limit time.Duration, attempt int) time.Duration {
	d := first
	for range attempt {
		if d >= limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}

// retryable reports whether err is worth another try: 429, 5xx, timeouts.
func retryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == http.StatusTooManyRequests || he.StatusCode >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date. A
// date is measured from the answer's own Date header when it has one, so
// clock skew between us and the server does not matter, else from now.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second) // no overflow; MaxWait caps it anyway
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	return max(at.Sub(now), 0), true
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// HuggingFace is the Hugging Face Daily Papers source.
type HuggingFace struct {
	Name    string // config name, goes into paper.Sources
	BaseURL string // default https://huggingface.co
	Via     string // "api" (default) or "html"
	Days    int    // how many recent days, default 3; daily view only
	// View is which listing to read: ViewDaily (default), ViewWeekly,
	// ViewMonthly, ViewTrending or ViewSearch (see views.go).
	View string
	// Query is what ViewSearch searches for; the other views take none.
	Query string
	// Hosts are the hosts besides BaseURL's that redirects may lead to:
	// exact, lower-case host names.
	Hosts []string
}

// DefaultHuggingFaceURL is the site HuggingFace scrapes when BaseURL is empty.
const DefaultHuggingFaceURL = "https://huggingface.co"

// Scrape fetches h's view (by default the last Days days, UTC, ending at
// now's date) and returns the papers, deduplicated by ID, newest day first,
// in the site's order within a day. When some days fail and others answer,
// the papers of those that answered come with a *Partial naming each failed
// day; when all fail, with their errors joined.
func (h HuggingFace) Scrape(ctx context.Context, now time.Time, opt Options) ([]paper.Paper, error) {
	opt = opt.withDefaults()
	prefix := "scrape " + h.Name
	urls, html, err := h.urls(now)
	if err != nil {
		return nil, configFailure(prefix, err)
	}
	log := opt.Logger.With("source", h.Name)
	opt.Logger = log
	accept := "application/json"
	if html {
		accept = "text/html"
	}
	f, err := newFetcher(ctx, opt, h.Hosts, html, accept)
	if err != nil {
		return nil, configFailure(prefix, err)
	}

	a := answer{log: log, prefix: prefix}
	seen := make(map[string]bool)
	for _, u := range urls {
		// After a cancellation each remaining day fails at once, without a
		// request, and is named like any other failure.
		body, err := f.fetch(ctx, u.String())
		var (
			got   []paper.Paper
			skips []skip
		)
		if err == nil {
			if html {
				got, skips, err = parseDailyHTML(body, u)
			} else {
				got, skips, err = parseDailyAPI(body)
			}
		}
		if err != nil {
			a.fail(partLabel(u), &urlError{u.String(), err})
			continue
		}
		a.ok++
		logSkips(log, u.String(), skips)
		for _, p := range limitPapers(log, u.String(), got, opt.MaxPapers) {
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			p.Sources = []string{h.Name}
			a.papers = append(a.papers, p)
		}
	}
	return a.result()
}

// partLabel names one URL of a view for a *Partial: its day, or else the
// last element of its path.
func partLabel(u *url.URL) string {
	if d := u.Query().Get("date"); d != "" {
		return d
	}
	return path.Base(u.Path)
}

// urls lists the URLs of h's view to fetch, newest first, and whether they
// are HTML pages.
func (h HuggingFace) urls(now time.Time) ([]*url.URL, bool, error) {
	var html bool
	switch h.Via {
	case "", "api":
	case "html":
		html = true
	default:
		return nil, false, fmt.Errorf("via %q: want \"api\" or \"html\"", h.Via)
	}
	if err := checkHosts(h.Hosts); err != nil {
		return nil, false, err
	}
	base, err := baseURL(h.BaseURL, DefaultHuggingFaceURL)
	if err != nil {
		return nil, false, err
	}
	urls, err := h.viewURLs(base, now, html)
	if err != nil {
		return nil, false, err
	}
	return urls, html, nil
}
