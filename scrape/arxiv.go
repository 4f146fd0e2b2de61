package scrape

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/arxiv"
)

// DefaultArxivURL is the site Arxiv scrapes when BaseURL is empty.
const DefaultArxivURL = "https://arxiv.org"

// Arxiv is one arXiv category's daily announcements, read from its
// /list/<category>/new page in either of arXiv's layouts (see package
// scrape/arxiv). The page is an HTML page: robots.txt is obeyed and its
// Crawl-delay honoured (arxiv.org asks for 15 s), and a 503 with Retry-After,
// which arXiv answers while a listing is being rebuilt, is waited out and
// retried like any 5xx.
type Arxiv struct {
	Name     string // config name, goes into paper.Sources
	BaseURL  string // default https://arxiv.org
	Category string // "cs.LG", "cs", "hep-th", ...
	// Include names the sections to keep: "new", "cross", "replace".
	// Default new and cross: replacements are old papers revised.
	Include []string
}

// DefaultArxivInclude are the sections Arxiv keeps when Include is empty.
var DefaultArxivInclude = []string{arxiv.SectionNew, arxiv.SectionCross}

// arxivCategory is an archive ("cs", "hep-th") or an archive with its
// subject class ("cs.LG", "cond-mat.stat-mech").
var arxivCategory = regexp.MustCompile(`^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$`)

// Scrape fetches the category's latest announcement day and returns the
// papers of the included sections, in page order, with Day the announcement
// day. now is not needed: the page names its day. A "No updates today." page
// gives no papers and no error.
func (a Arxiv) Scrape(ctx context.Context, now time.Time, opt Options) ([]paper.Paper, error) {
	opt = opt.withDefaults()
	page, include, err := a.config()
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", a.Name, err)
	}
	log := opt.Logger.With("source", a.Name)
	opt.Logger = log
	f, err := politeFetcher(ctx, opt, page)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", a.Name, err)
	}
	body, err := f.fetch(ctx, page.String())
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %s: %w", a.Name, page, err)
	}
	l, err := arxiv.Parse(body, page)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %s: %w", a.Name, page, err)
	}
	papers := make([]paper.Paper, 0, len(l.Papers))
	seen := make(map[string]bool, len(l.Papers))
	for _, p := range l.Papers {
		if !slices.Contains(include, p.Section) || seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		p.Sources = []string{a.Name}
		papers = append(papers, p)
	}
	log.Debug("scraped arxiv listing", "url", page.String(), "day", l.Day, "papers", len(papers), "listed", len(l.Papers))
	return papers, nil
}

// config checks the fields and returns the listing URL and the sections.
func (a Arxiv) config() (*url.URL, []string, error) {
	if !arxivCategory.MatchString(a.Category) {
		return nil, nil, fmt.Errorf("category %q: want an arxiv category such as cs.LG", a.Category)
	}
	include := a.Include
	if len(include) == 0 {
		include = DefaultArxivInclude
	}
	for _, s := range include {
		switch s {
		case arxiv.SectionNew, arxiv.SectionCross, arxiv.SectionReplace:
		default:
			return nil, nil, fmt.Errorf("include %q: want %q, %q or %q", s, arxiv.SectionNew, arxiv.SectionCross, arxiv.SectionReplace)
		}
	}
	base, err := baseURL(a.BaseURL, DefaultArxivURL)
	if err != nil {
		return nil, nil, err
	}
	base.Path += "/list/" + a.Category + "/new"
	return base, include, nil
}
