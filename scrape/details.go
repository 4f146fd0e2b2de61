package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/temoto/robotstxt"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/arxiv"
	"github.com/paperfeed/paperfeed/scrape/listing"
)

// DefaultDetailsConcurrency is how many pages Details fetches at once when
// Concurrency is zero: enough to overlap two hosts' Crawl-delays, few enough
// to stay a quiet client.
const DefaultDetailsConcurrency = 2

var (
	// ErrNoDetails means a paper's page was fetched and read but held none
	// of what Details looks for: no abstract, no authors, no date. The page
	// is not worth fetching again, but a selector may be wrong.
	ErrNoDetails = errors.New("page has no abstract, authors or date")
	// ErrNoPage means a paper has neither an arXiv id nor an http(s) link,
	// so there is no page to fetch.
	ErrNoPage = errors.New("no page to fetch: neither an arxiv id nor an http(s) link")
	// ErrNotHTML means a paper's link is a PDF, which Details does not
	// download: it would cost megabytes to learn nothing.
	ErrNotHTML = errors.New("link is a pdf, not an html page")
	// ErrWrongPaper means an arXiv abstract page names another paper than
	// the one asked for.
	ErrWrongPaper = errors.New("page is about another paper")
)

// Details fetches the pages of single papers, for listings that lack
// abstracts (arXiv's /recent, many lab pages): an arXiv paper's abstract page
// (parsed by arxiv.ParseAbs), any other paper's own page (paper.Link), read
// with Selectors and the page's meta tags.
//
// Politeness is that of every source: the User-Agent from Options; each
// host's robots.txt is read once per Fetch and obeyed, its Crawl-delay
// honoured; one request at a time per host, Delay apart; retries with
// backoff honouring Retry-After; the body limit; cancellation through ctx.
// At most Concurrency requests (robots.txt included) are in flight across
// hosts; a host waiting out its delay holds no slot, a retry's backoff does.
type Details struct {
	// Name is the source's name: log lines carry it as source, and errors
	// start "details <name>: ". It may be empty.
	Name string
	// ArxivURL is the base of arXiv abstract pages, /abs/<id>; default
	// https://arxiv.org.
	ArxivURL string
	// Selectors are used for non-arXiv pages. Only Abstract, Authors, Date
	// and DateLayout matter; they are searched in the whole page, with the
	// syntax of package scrape/listing. A selector left empty, or one that
	// matches nothing, falls back to the page's meta tags: for the abstract
	// <meta name="citation_abstract">, <meta property="og:description">,
	// <meta name="description">, in that order; for authors <meta
	// name="citation_author"> ("Last, First" becomes "First Last"); for the
	// date citation_publication_date, citation_date (2006/01/02 or
	// 2006-01-02) or article:published_time (RFC 3339). A date the Date
	// selector finds but cannot read is an error, as on listing pages.
	Selectors listing.Selectors
	// Concurrency bounds the requests in flight across hosts; zero or
	// negative means DefaultDetailsConcurrency. There is never more than one
	// per host.
	Concurrency int
	// Hosts are the hosts that redirects may lead to besides each page's
	// own: exact, lower-case host names.
	Hosts []string
}

// detailPage is one page to fetch and what came of it. Only its host's
// goroutine writes it before Fetch's WaitGroup is done.
type detailPage struct {
	url     *url.URL
	arxivID string // the paper's id for an abstract page, else ""
	papers  []int  // indexes of the papers the page serves
	tried   bool
	got     paper.Paper
	err     error
}

// Fetch fetches the page of every paper given and returns the papers, in
// the same order, with what the page adds: only fields the paper lacked are
// filled (Title, Abstract, Authors, Published, Categories, ArxivComments,
// JournalRef from an arXiv page; Abstract, Authors and Day from any other
// page), so nothing the listing had is ever erased or replaced. Papers that
// share a page cause one request. Papers whose page failed are returned
// unchanged and their errors joined, each naming the paper and the URL; a
// page that gives nothing is such a failure (ErrNoDetails). When some pages
// answered, the error is a *Partial whose Failed lines name the papers.
// When ctx ends, the pages not yet tried are left out and the error says how
// many and wraps ctx's error. Every paper returned has gone through
// paper.Clamp; the papers passed in are not modified.
func (d Details) Fetch(ctx context.Context, papers []paper.Paper, opt Options) ([]paper.Paper, error) {
	opt = opt.withDefaults()
	prefix := "details"
	if d.Name != "" {
		prefix += " " + d.Name
		opt.Logger = opt.Logger.With("source", d.Name)
	}
	out := slices.Clone(papers)
	if err := checkHosts(d.Hosts); err != nil {
		return out, configFailure(prefix, err)
	}
	q, err := compilePageQueries(d.Selectors)
	if err != nil {
		return out, configFailure(prefix, err)
	}
	base, err := baseURL(d.ArxivURL, DefaultArxivURL)
	if err != nil {
		return out, configFailure(prefix, fmt.Errorf("arxiv %w", err))
	}
	ans := answer{log: opt.Logger, prefix: prefix}
	pages := planPages(out, base, &ans)
	hosts := make(map[string][]*detailPage)
	var order []string
	for _, pg := range pages {
		host := strings.ToLower(pg.url.Host)
		if _, ok := hosts[host]; !ok {
			order = append(order, host)
		}
		hosts[host] = append(hosts[host], pg)
	}
	limit := d.Concurrency
	if limit <= 0 {
		limit = DefaultDetailsConcurrency
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, host := range order {
		wg.Go(func() { fetchHost(ctx, opt, d.Hosts, sem, q, hosts[host]) })
	}
	wg.Wait()

	untried := 0
	for _, pg := range pages {
		switch {
		case !pg.tried:
			untried++
		case pg.err != nil:
			ids := pageIDs(out, pg)
			ans.fail(ids, fmt.Errorf("details of %s: %w", ids, &urlError{pg.url.String(), pg.err}))
		default:
			ans.ok++
			for _, i := range pg.papers {
				addDetails(&out[i], pg.got)
			}
		}
	}
	if untried > 0 {
		ans.fail(fmt.Sprintf("%d pages", untried), fmt.Errorf("%d pages not fetched: %w", untried, ctx.Err()))
	}
	ans.papers = out
	return ans.result()
}

// planPages finds the page of each paper, one detailPage per distinct URL in
// the order of first appearance, and records in ans the papers without a
// page.
func planPages(papers []paper.Paper, arxivBase *url.URL, ans *answer) []*detailPage {
	var (
		pages []*detailPage
		byURL = make(map[string]*detailPage)
	)
	for i, p := range papers {
		var (
			u       *url.URL
			arxivID string
			err     error
		)
		if p.IsArxiv() {
			arxivID, _ = paper.NormalizeArxivID(p.ID)
			abs := *arxivBase
			abs.Path += "/abs/" + arxivID
			u = &abs
		} else if u, err = url.Parse(strings.TrimSpace(p.Link)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ans.fail(p.ID, fmt.Errorf("details of %s (%q): %w", p.ID, p.Link, ErrNoPage))
			continue
		} else if strings.HasSuffix(strings.ToLower(u.Path), ".pdf") {
			ans.fail(p.ID, fmt.Errorf("details of %s: %w", p.ID, &urlError{u.String(), ErrNotHTML}))
			continue
		}
		key := u.String()
		pg, ok := byURL[key]
		if !ok {
			pg = &detailPage{url: u, arxivID: arxivID}
			byURL[key] = pg
			pages = append(pages, pg)
		}
		pg.papers = append(pg.papers, i)
	}
	return pages
}

// pageIDs names the papers a page serves.
func pageIDs(papers []paper.Paper, pg *detailPage) string {
	ids := make([]string, len(pg.papers))
	for k, i := range pg.papers {
		ids[k] = papers[i].ID
	}
	return strings.Join(ids, ", ")
}

// fetchHost fetches one host's pages in order, one at a time, each holding a
// slot of sem only while its request (and retries) run. It returns early,
// leaving pages untried, when ctx ends.
func fetchHost(ctx context.Context, opt Options, hosts []string, sem chan struct{}, q *pageQueries, pages []*detailPage) {
	var (
		f     *fetcher
		group *robotstxt.Group
	)
	for _, pg := range pages {
		if f == nil {
			if err := acquire(ctx, sem); err != nil {
				return
			}
			var err error
			f, group, err = hostFetcher(ctx, opt, hosts, pg.url)
			<-sem
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				// Without robots.txt no page of the host may be fetched.
				for _, p := range pages {
					p.tried, p.err = true, err
				}
				return
			}
		}
		if !allowed(group, pg.url) {
			pg.tried, pg.err = true, ErrDisallowed
			continue
		}
		if err := f.pace(ctx); err != nil {
			return
		}
		if err := acquire(ctx, sem); err != nil {
			return
		}
		body, err := f.fetch(ctx, pg.url.String())
		<-sem
		pg.tried = true
		if err != nil {
			pg.err = err
			if ctx.Err() != nil {
				return
			}
			continue
		}
		if pg.got, pg.err = readPage(body, pg, q); pg.err == nil {
			f.log.Debug("read details", "url", pg.url.String())
		}
	}
}

// acquire takes a slot of sem, or gives up when ctx ends.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readPage parses a fetched page as an arXiv abstract page or a paper's own
// page.
func readPage(body []byte, pg *detailPage, q *pageQueries) (paper.Paper, error) {
	if pg.arxivID == "" {
		return parseDetailsPage(body, q)
	}
	got, err := arxiv.ParseAbs(body, pg.url)
	if err != nil {
		return paper.Paper{}, err
	}
	if got.ID != pg.arxivID {
		return paper.Paper{}, fmt.Errorf("%w: arxiv %s", ErrWrongPaper, got.ID)
	}
	return got, nil
}

// addDetails fills the fields p lacks from got; see Fetch.
func addDetails(p *paper.Paper, got paper.Paper) {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&p.Title, got.Title)
	fill(&p.Abstract, got.Abstract)
	fill(&p.ArxivComments, got.ArxivComments)
	fill(&p.JournalRef, got.JournalRef)
	if len(p.Authors) == 0 {
		p.Authors = got.Authors
	}
	if len(p.Categories) == 0 {
		p.Categories = got.Categories
	}
	if p.Published.IsZero() {
		p.Published = got.Published
	}
	if p.Day.IsZero() {
		p.Day = got.Day
	}
}

// pageQueries are Details.Selectors ready to run on a whole page. A query
// left unset is the zero listing.Query, which matches nothing.
type pageQueries struct {
	abstract, authors, date listing.Query
	dateLayout              string
}

// compilePageQueries compiles the selectors Details uses, reporting each that
// does not compile as a *listing.SelectorError. A bare "@attr", which on a
// listing means the item itself, means the root <html> element here.
func compilePageQueries(s listing.Selectors) (*pageQueries, error) {
	q := &pageQueries{dateLayout: s.DateLayout}
	var errs []error
	for _, f := range []struct {
		field, raw string
		dst        *listing.Query
	}{
		{"abstract", s.Abstract, &q.abstract},
		{"authors", s.Authors, &q.authors},
		{"date", s.Date, &q.date},
	} {
		raw := strings.TrimSpace(f.raw)
		if raw == "" {
			continue
		}
		query, err := listing.CompileQuery(raw)
		if err == nil && strings.HasPrefix(raw, "@") {
			// A bare "@attr" that compiles has no CSS: run it on the
			// root, not on the document node, which has no attributes.
			query, err = listing.CompileQuery(":root" + raw)
		}
		if err != nil {
			errs = append(errs, &listing.SelectorError{Field: f.field, Selector: f.raw, Err: err})
			continue
		}
		*f.dst = query
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return q, nil
}

// metas are the non-empty contents of the meta tags whose name (or
// property) is key.
func metas(doc *goquery.Selection, key string) []string {
	var vs []string
	doc.Find("meta").Each(func(_ int, m *goquery.Selection) {
		name, _ := m.Attr("name")
		prop, _ := m.Attr("property")
		if !strings.EqualFold(name, key) && !strings.EqualFold(prop, key) {
			return
		}
		content, _ := m.Attr("content")
		if content = strings.Join(strings.Fields(content), " "); content != "" {
			vs = append(vs, content)
		}
	})
	return vs
}

// parseDetailsPage reads what a paper's own page says about it: Abstract,
// Authors and Day (see Details.Selectors). It does no I/O. A page with none
// of them is ErrNoDetails.
func parseDetailsPage(data []byte, q *pageQueries) (paper.Paper, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		return paper.Paper{}, fmt.Errorf("parse page: %w", err)
	}
	s := doc.Selection
	var p paper.Paper
	if vs := q.abstract.Values(s); len(vs) > 0 {
		p.Abstract = vs[0]
	}
	for _, key := range []string{"citation_abstract", "og:description", "description"} {
		if p.Abstract != "" {
			break
		}
		if vs := metas(s, key); len(vs) > 0 {
			p.Abstract = vs[0]
		}
	}
	for _, v := range q.authors.Values(s) {
		p.Authors = append(p.Authors, listing.SplitAuthors(v)...)
	}
	if len(p.Authors) == 0 {
		for _, v := range metas(s, "citation_author") {
			p.Authors = append(p.Authors, citationName(v))
		}
	}
	if vs := q.date.Values(s); len(vs) > 0 {
		day, err := listing.ParseDate(vs[0], q.dateLayout)
		if err != nil {
			return paper.Paper{}, fmt.Errorf("parse page: date selector: %w", err)
		}
		p.Day = day
	}
	if p.Day.IsZero() {
		p.Day = metaDate(s)
	}
	if p.Abstract == "" && len(p.Authors) == 0 && p.Day.IsZero() {
		return paper.Paper{}, ErrNoDetails
	}
	return p, nil
}

// citationName turns a citation_author "Last, First" into "First Last";
// names in any other form are kept.
func citationName(s string) string {
	last, first, ok := strings.Cut(s, ",")
	if !ok || strings.Contains(first, ",") {
		return s
	}
	last, first = strings.TrimSpace(last), strings.TrimSpace(first)
	if last == "" || first == "" {
		return s
	}
	return first + " " + last
}

// metaDate is the page's publication date from its meta tags, or zero. A
// meta date that cannot be read is ignored: it is the site's, not ours.
func metaDate(s *goquery.Selection) time.Time {
	for _, key := range []string{"citation_publication_date", "citation_date"} {
		for _, v := range metas(s, key) {
			for _, layout := range []string{"2006/01/02", "2006-01-02"} {
				if t, err := time.Parse(layout, v); err == nil {
					return t
				}
			}
		}
	}
	for _, v := range metas(s, "article:published_time") {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
