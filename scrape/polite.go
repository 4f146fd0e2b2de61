package scrape

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/temoto/robotstxt"
)

// politeFetcher builds the fetcher for an HTML source on page's host and
// applies that host's robots.txt itself, rather than through Colly, because
// Colly obeys Disallow but never reads Crawl-delay. robots.txt is fetched
// through the fetcher (paced, retried, cancellable); a 4xx answer means no
// rules, as for Colly and RFC 9309, but 429 (after its retries) and 5xx are errors. The page must be allowed
// for our User-Agent (else ErrDisallowed), and the fetcher's Delay becomes
// the larger of Options.Delay and the group's Crawl-delay (capped by
// Options.MaxWait). The fetcher paces
// from the robots.txt request on, so the page itself waits the Crawl-delay.
// hosts are the source's extra hosts for redirects. Errors name their URL.
func politeFetcher(ctx context.Context, opt Options, hosts []string, page *url.URL) (*fetcher, error) {
	f, group, err := hostFetcher(ctx, opt, hosts, page)
	if err != nil {
		return nil, err
	}
	if !allowed(group, page) {
		return nil, &urlError{page.String(), ErrDisallowed}
	}
	return f, nil
}

// allowed reports whether group lets us fetch page.
func allowed(group *robotstxt.Group, page *url.URL) bool {
	path := page.EscapedPath()
	if page.RawQuery != "" {
		path += "?" + page.RawQuery
	}
	return group.Test(path)
}

// hostFetcher is politeFetcher without the test of one page: it returns the
// robots.txt group for our User-Agent, for callers that fetch several pages
// of page's host (Details).
func hostFetcher(ctx context.Context, opt Options, hosts []string, page *url.URL) (*fetcher, *robotstxt.Group, error) {
	// Colly's own robots check stays off: it would fetch robots.txt a second
	// time, outside the fetcher's pacing and retries.
	f, err := newFetcher(ctx, opt, hosts, false, "text/html")
	if err != nil {
		return nil, nil, err
	}
	robotsURL := url.URL{Scheme: page.Scheme, Host: page.Host, Path: "/robots.txt"}
	data, err := f.fetch(ctx, robotsURL.String())
	status := http.StatusOK
	var he *HTTPError
	switch {
	case errors.As(err, &he) && he.StatusCode >= 400 && he.StatusCode < 500 && he.StatusCode != http.StatusTooManyRequests:
		status, data = he.StatusCode, nil
	case err != nil:
		return nil, nil, &urlError{robotsURL.String(), err}
	}
	robots, err := robotstxt.FromStatusAndBytes(status, data)
	if err != nil {
		return nil, nil, &urlError{robotsURL.String(), fmt.Errorf("read robots.txt: %w", err)}
	}
	group := robots.FindGroup(opt.UserAgent)
	if delay := group.CrawlDelay; delay > f.opt.Delay {
		if delay > f.opt.MaxWait {
			// Like a Retry-After, an absurd Crawl-delay must not stall a
			// refresh for hours.
			f.log.Warn("crawl-delay capped by max wait", "host", page.Host, "crawl_delay", delay, "max_wait", f.opt.MaxWait)
			delay = max(f.opt.MaxWait, f.opt.Delay)
		}
		f.log.Debug("honouring crawl-delay", "host", page.Host, "delay", delay)
		f.opt.Delay = delay
	}
	return f, group, nil
}

// baseURL parses raw (or def when raw is empty) as an absolute http(s) URL
// without a trailing slash.
func baseURL(raw, def string) (*url.URL, error) {
	if raw == "" {
		raw = def
	}
	base, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("base url: %w", err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("base url %q: %w", raw, errNotHTTP)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	return base, nil
}

var errNotHTTP = errors.New("want an absolute http(s) url")
