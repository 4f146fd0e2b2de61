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
}

// Scrape fetches the page and returns its papers in page order. Selectors
// are validated before any request. A selector that finds nothing on the
// page is an error naming it (a *listing.SelectorError), never an empty
// result. Papers keep the page's dates as Day; items without a date have a
// zero Day. now is not needed.
func (l Listing) Scrape(ctx context.Context, now time.Time, opt Options) ([]paper.Paper, error) {
	opt = opt.withDefaults()
	if err := l.Selectors.Validate(); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", l.Name, err)
	}
	page, err := url.Parse(l.URL)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: url: %w", l.Name, err)
	}
	if (page.Scheme != "http" && page.Scheme != "https") || page.Host == "" {
		return nil, fmt.Errorf("scrape %s: url %q: %w", l.Name, l.URL, errNotHTTP)
	}
	log := opt.Logger.With("source", l.Name)
	opt.Logger = log
	f, err := politeFetcher(ctx, opt, page)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", l.Name, err)
	}
	body, err := f.fetch(ctx, page.String())
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %s: %w", l.Name, page, err)
	}
	papers, err := listing.Parse(body, page, l.Selectors)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %s: %w", l.Name, page, err)
	}
	for i := range papers {
		papers[i].Sources = []string{l.Name}
	}
	log.Debug("scraped listing page", "url", page.String(), "papers", len(papers))
	return papers, nil
}
