package scrape

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/listing"
)

// Listing is any listing page, read with CSS selectors (see package
// scrape/listing for their syntax and rules). It is an HTML page: robots.txt
// is obeyed and its Crawl-delay honoured.
type Listing struct {
	Name      string // config name, goes into paper.Sources
	URL       string // the page, absolute http(s)
	Selectors listing.Selectors
	// Hosts are the hosts besides URL's that redirects may lead to: exact,
	// lower-case host names.
	Hosts []string
}

// Scrape fetches the page and returns its papers in page order. Selectors
// are validated before any request. A selector that finds nothing on the
// page is an error naming it (a *listing.SelectorError), never an empty
// result. Papers keep the page's dates as Day; items without a date have a
// zero Day. Items that cannot be read (a date that does not parse) are
// skipped and logged. now is not needed.
func (l Listing) Scrape(ctx context.Context, now time.Time, opt Options) ([]paper.Paper, error) {
	opt = opt.withDefaults()
	prefix := "scrape " + l.Name
	page, err := l.config()
	if err != nil {
		return nil, configFailure(prefix, err)
	}
	log := opt.Logger.With("source", l.Name)
	opt.Logger = log
	ans := answer{log: log, prefix: prefix}
	papers, skips, err := l.fetch(ctx, opt, page)
	if err != nil {
		ans.fail("", err)
		return ans.result()
	}
	ans.ok++
	logSkips(log, page.String(), listingSkips(skips))
	ans.papers = limitPapers(log, page.String(), papers, opt.MaxPapers)
	for i := range ans.papers {
		ans.papers[i].Sources = []string{l.Name}
	}
	log.Debug("scraped listing page", "url", page.String(), "papers", len(ans.papers))
	return ans.result()
}

// config checks the fields and returns the page's URL.
func (l Listing) config() (*url.URL, error) {
	if err := checkHosts(l.Hosts); err != nil {
		return nil, err
	}
	if err := l.Selectors.Validate(); err != nil {
		return nil, err
	}
	page, err := url.Parse(l.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if (page.Scheme != "http" && page.Scheme != "https") || page.Host == "" {
		return nil, fmt.Errorf("url %q: %w", l.URL, errNotHTTP)
	}
	return page, nil
}

// fetch reads the page, its robots.txt first. Errors name their URL.
func (l Listing) fetch(ctx context.Context, opt Options, page *url.URL) ([]paper.Paper, []listing.Skip, error) {
	f, err := politeFetcher(ctx, opt, l.Hosts, page)
	if err != nil {
		return nil, nil, err
	}
	body, err := f.fetch(ctx, page.String())
	if err != nil {
		return nil, nil, &urlError{page.String(), err}
	}
	papers, skips, err := listing.Parse(body, page, l.Selectors)
	if err != nil {
		return nil, nil, &urlError{page.String(), err}
	}
	return papers, skips, nil
}

// listingSkips are the items listing.Parse skipped, for logSkips.
func listingSkips(in []listing.Skip) []skip {
	out := make([]skip, len(in))
	for i, s := range in {
		out[i] = skip{index: s.Index, id: s.ID, reason: s.Err.Error()}
	}
	return out
}
