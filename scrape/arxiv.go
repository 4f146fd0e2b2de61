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
	// Hosts are the hosts besides BaseURL's that redirects may lead to:
	// exact, lower-case host names.
	Hosts []string
}

// DefaultArxivInclude are the sections Arxiv keeps when Include is empty.
var DefaultArxivInclude = []string{arxiv.SectionNew, arxiv.SectionCross}

// arxivCategory is an archive ("cs", "hep-th") or an archive with its
// subject class ("cs.LG", "cond-mat.stat-mech").
var arxivCategory = regexp.MustCompile(`^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$`)

// Scrape fetches the category's latest announcement day and returns the
// papers of the included sections, in page order, with Day the announcement
// day. now is not needed: the page names its day. A "No updates today." page
// gives no papers and no error. Items of the page that cannot be read are
// skipped and logged.
func (a Arxiv) Scrape(ctx context.Context, now time.Time, opt Options) ([]paper.Paper, error) {
	opt = opt.withDefaults()
	prefix := "scrape " + a.Name
	page, include, err := a.config()
	if err != nil {
		return nil, configFailure(prefix, err)
	}
	log := opt.Logger.With("source", a.Name)
	opt.Logger = log
	ans := answer{log: log, prefix: prefix}
	l, err := a.fetch(ctx, opt, page)
	if err != nil {
		ans.fail("", err)
		return ans.result()
	}
	ans.ok++
	logSkips(log, page.String(), arxivSkips(l.Skipped))
	listed := limitPapers(log, page.String(), l.Papers, opt.MaxPapers)
	seen := make(map[string]bool, len(listed))
	for _, p := range listed {
		if !slices.Contains(include, p.Section) || seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		p.Sources = []string{a.Name}
		ans.papers = append(ans.papers, p)
	}
	log.Debug("scraped arxiv listing", "url", page.String(), "day", l.Day, "papers", len(ans.papers), "listed", len(l.Papers))
	return ans.result()
}

// fetch reads the listing page, its robots.txt first. Errors name their URL.
func (a Arxiv) fetch(ctx context.Context, opt Options, page *url.URL) (arxiv.Listing, error) {
	f, err := politeFetcher(ctx, opt, a.Hosts, page)
	if err != nil {
		return arxiv.Listing{}, err
	}
	body, err := f.fetch(ctx, page.String())
	if err != nil {
		return arxiv.Listing{}, &urlError{page.String(), err}
	}
	l, err := arxiv.Parse(body, page)
	if err != nil {
		return arxiv.Listing{}, &urlError{page.String(), err}
	}
	return l, nil
}

// arxivSkips are the items arxiv.Parse skipped, for logSkips.
func arxivSkips(in []arxiv.Skip) []skip {
	out := make([]skip, len(in))
	for i, s := range in {
		out[i] = skip{index: s.Index, id: s.ID, reason: s.Err.Error()}
	}
	return out
}

// config checks the fields and returns the listing URL and the sections.
func (a Arxiv) config() (*url.URL, []string, error) {
	if err := checkHosts(a.Hosts); err != nil {
		return nil, nil, err
	}
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
