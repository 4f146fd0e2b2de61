// Package listing reads papers from any listing page, given CSS selectors for
// its parts. It does no I/O: Parse gets the page's bytes and its URL.
//
// Contract:
//   - Selectors name the parts of the page. Item selects one element per
//     paper; the others are searched inside each item. A selector is CSS, with
//     an optional "@attr" suffix that takes that attribute instead of the
//     element's text ("a.pdf@href", "time@datetime"); a bare "@attr" takes
//     the attribute of the item itself. Item and Title are required. Text is
//     trimmed and its white space collapsed; where a selector matches several
//     elements the first is used, except Authors, which uses all of them.
//   - Link is resolved against the page's URL. Without a Link selector, the
//     link is the href of the title element, of the first link inside it, or
//     of the item's first link, in that order.
//   - Authors are split on commas and on " and ".
//   - Date is read as RFC 3339 or, failing that, with DateLayout (a Go time
//     layout; a date without a zone is UTC) and becomes the paper's Day. An
//     item whose date reads neither way is skipped and reported (see below).
//   - An arXiv id makes the paper's ID that id without its version, with Link
//     left empty: one found in the item's link (an /abs/, /pdf/ or /html/ path, or a
//     huggingface.co/papers/ page), in another link of the item that points to
//     arxiv.org, or in the item's text as "arXiv:2507.01234v2". Otherwise ID
//     is paper.LinkID(link) and Link is the link.
//   - Items without a title or a link are skipped; papers are deduplicated by
//     ID, the first kept.
//   - One bad item never costs the others: an item that cannot be read (its
//     date) is left out and returned as a Skip; the others are kept. A page
//     whose items are all unreadable is ErrBadItems, so that a wrong layout
//     is noticed.
//   - A page where Item matches nothing, or where Title (or an explicit Link)
//     matches nothing in every item, is a *SelectorError naming the selector
//     (errors.Is ErrNoMatch), never an empty list; a page whose items all
//     lack a title or a link is ErrNoPapers.
//
// Query (made by CompileQuery), SplitAuthors and ParseDate are the selector
// syntax and the author and date rules above, exported so that a paper's own
// page, read with the same Selectors (package scrape's details), is read
// exactly as a listing is.
package listing

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"

	"github.com/paperfeed/paperfeed/paper"
)

// Selectors say where a listing page keeps each part of a paper; see the
// package comment for the syntax.
type Selectors struct {
	Item     string `yaml:"item"`
	Title    string `yaml:"title"`
	Link     string `yaml:"link,omitempty"`
	Abstract string `yaml:"abstract,omitempty"`
	Authors  string `yaml:"authors,omitempty"`
	Date     string `yaml:"date,omitempty"`
	// DateLayout is a Go time layout ("January 2, 2006") for dates that are
	// not RFC 3339.
	DateLayout string `yaml:"date_layout,omitempty"`
}

var (
	// ErrNoMatch reports a selector that matches nothing on a page: the
	// page's layout changed or the selector is wrong.
	ErrNoMatch = errors.New("matches nothing on the page")
	// ErrNoPapers reports a page whose items all lack a title or a link.
	ErrNoPapers = errors.New("no item has both a title and a link")
	// ErrBadItems reports a page whose items with a title and a link all
	// failed to read.
	ErrBadItems = errors.New("no item could be read")
	// errRequired reports a required selector left empty.
	errRequired = errors.New("is required")
)

// SelectorError is a problem with one selector: it does not compile, or it
// matches nothing on the page.
type SelectorError struct {
	Field    string // "item", "title", "link", "abstract", "authors", "date", "date_layout"
	Selector string
	Err      error
}

func (e *SelectorError) Error() string {
	return fmt.Sprintf("%s selector %q: %v", e.Field, e.Selector, e.Err)
}

func (e *SelectorError) Unwrap() error { return e.Err }

// attrSuffix splits "css@attr"; the attribute name cannot hold the quotes or
// brackets of a CSS attribute selector, so `a[href*="@"]` stays CSS. The CSS
// may span lines.
var attrSuffix = regexp.MustCompile(`(?s)^(.*?)\s*@([A-Za-z_:][-A-Za-z0-9_:.]*)$`)

// Query is one compiled selector of the syntax of Selectors: CSS with an
// optional "@attr" suffix. It is run inside a scope, the item on a listing
// page. The zero Query matches nothing, so that an optional selector left
// empty needs no flag beside it.
type Query struct {
	css  cascadia.Selector // nil: the scope itself (a bare "@attr"), or nothing
	attr string            // "": the element's text
}

// compiled are the Selectors ready to run.
type compiled struct {
	item                                   cascadia.Selector
	title, link, abstract, authors, date   Query
	dateLayout                             string
	hasLink, hasAbstract, hasAuth, hasDate bool
}

// Validate reports every selector that is missing or does not compile, each
// as a *SelectorError, joined.
func (s Selectors) Validate() error {
	_, err := s.compile()
	return err
}

func (s Selectors) compile() (*compiled, error) {
	var errs []error
	c := &compiled{dateLayout: s.DateLayout}
	fail := func(field, sel string, err error) {
		errs = append(errs, &SelectorError{Field: field, Selector: sel, Err: err})
	}
	if strings.TrimSpace(s.Item) == "" {
		fail("item", s.Item, errRequired)
	} else if attrSuffix.MatchString(s.Item) {
		fail("item", s.Item, errors.New("takes no @attr: it selects elements"))
	} else if sel, err := cascadia.Compile(s.Item); err != nil {
		fail("item", s.Item, err)
	} else {
		c.item = sel
	}
	one := func(field, raw string, required bool) (Query, bool) {
		if strings.TrimSpace(raw) == "" {
			if required {
				fail(field, raw, errRequired)
			}
			return Query{}, false
		}
		q, err := CompileQuery(raw)
		if err != nil {
			fail(field, raw, err)
			return Query{}, false
		}
		return q, true
	}
	c.title, _ = one("title", s.Title, true)
	c.link, c.hasLink = one("link", s.Link, false)
	c.abstract, c.hasAbstract = one("abstract", s.Abstract, false)
	c.authors, c.hasAuth = one("authors", s.Authors, false)
	c.date, c.hasDate = one("date", s.Date, false)
	if s.DateLayout != "" && strings.TrimSpace(s.Date) == "" {
		fail("date_layout", s.DateLayout, errors.New("given without a date selector"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// CompileQuery compiles one selector: CSS, searched inside the scope, with an
// optional "@attr" suffix that takes that attribute instead of the element's
// text; a bare "@attr" takes the attribute of the scope itself. An empty
// selector is an error (its Query would match nothing), as is CSS that does
// not compile; the error is cascadia's, for the caller to wrap in a
// *SelectorError naming the field.
func CompileQuery(raw string) (Query, error) {
	var q Query
	css := strings.TrimSpace(raw)
	if m := attrSuffix.FindStringSubmatch(css); m != nil {
		css, q.attr = strings.TrimSpace(m[1]), m[2]
	}
	if css == "" {
		if q.attr == "" {
			return Query{}, errRequired
		}
		return q, nil
	}
	sel, err := cascadia.Compile(css)
	if err != nil {
		return Query{}, err
	}
	q.css = sel
	return q, nil
}

// Values are q's non-empty values inside scope, in document order, each
// trimmed and with its white space collapsed: the element's text, or its
// attribute, where elements without the attribute give none. It is how
// Authors is read, every element counting, and how a whole page is read,
// where the first value that says something is wanted.
func (q Query) Values(scope *goquery.Selection) []string {
	var vs []string
	q.elements(scope).Each(func(_ int, el *goquery.Selection) {
		if v, _ := q.value(el); v != "" {
			vs = append(vs, collapse(v))
		}
	})
	return vs
}

// elements are the elements q looks at inside item.
func (q Query) elements(item *goquery.Selection) *goquery.Selection {
	switch {
	case q.css != nil:
		return item.FindMatcher(q.css)
	case q.attr != "":
		return item
	default:
		return item.Slice(0, 0)
	}
}

// value is the text or attribute of one element.
func (q Query) value(el *goquery.Selection) (string, bool) {
	if q.attr == "" {
		return collapse(el.Text()), true
	}
	v, ok := el.Attr(q.attr)
	return strings.TrimSpace(v), ok
}

// first is q's value on its first element inside item, and whether q found
// an element (with the attribute, if it asks for one).
func (q Query) first(item *goquery.Selection) (string, bool) {
	var v string
	var found bool
	q.elements(item).EachWithBreak(func(_ int, el *goquery.Selection) bool {
		v, found = q.value(el)
		return !found
	})
	return v, found
}

// Skip is an item of a page that was left out, and why.
type Skip struct {
	Index int    // 0-based, among the elements Item matched
	ID    string // the item's ID, when it could be read
	Err   error
}

// Parse reads the papers of a listing page, and the items it skipped because
// they could not be read. pageURL is the page's own URL, against which links
// are resolved.
func Parse(data []byte, pageURL *url.URL, sel Selectors) ([]paper.Paper, []Skip, error) {
	c, err := sel.compile()
	if err != nil {
		return nil, nil, fmt.Errorf("parse listing: %w", err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("parse listing: %w", err)
	}
	items := doc.FindMatcher(c.item)
	if items.Length() == 0 {
		return nil, nil, fmt.Errorf("parse listing: %w", &SelectorError{Field: "item", Selector: sel.Item, Err: ErrNoMatch})
	}
	var (
		papers              []paper.Paper
		skipped             []Skip
		seen                = map[string]bool{}
		titleFound, linkHit bool
	)
	items.Each(func(i int, item *goquery.Selection) {
		p, ok, found, err := c.paper(item, pageURL)
		titleFound = titleFound || found.title
		linkHit = linkHit || found.link
		if err != nil {
			skipped = append(skipped, Skip{Index: i, ID: p.ID, Err: fmt.Errorf("item %d: %w", i+1, err)})
			return
		}
		if ok && !seen[p.ID] {
			seen[p.ID] = true
			papers = append(papers, p)
		}
	})
	switch {
	case len(papers) == 0 && len(skipped) > 0:
		return nil, skipped, fmt.Errorf("parse listing: %w: all %d items skipped, the first because %w", ErrBadItems, len(skipped), skipped[0].Err)
	case !titleFound:
		return nil, nil, fmt.Errorf("parse listing: %w", &SelectorError{Field: "title", Selector: sel.Title, Err: ErrNoMatch})
	case c.hasLink && !linkHit:
		return nil, nil, fmt.Errorf("parse listing: %w", &SelectorError{Field: "link", Selector: sel.Link, Err: ErrNoMatch})
	case len(papers) == 0:
		return nil, nil, fmt.Errorf("parse listing: %d items: %w", items.Length(), ErrNoPapers)
	}
	return papers, skipped, nil
}

// found says which selectors matched in one item.
type found struct{ title, link bool }

// paper reads one item. ok is false for an item to skip (no title or link).
// A failed item's paper holds its ID.
func (c *compiled) paper(item *goquery.Selection, pageURL *url.URL) (p paper.Paper, ok bool, f found, err error) {
	titleEl := item.Slice(0, 0)
	c.title.elements(item).EachWithBreak(func(_ int, el *goquery.Selection) bool {
		p.Title, f.title = c.title.value(el)
		if f.title {
			titleEl = el
		}
		return !f.title
	})
	var href string
	if c.hasLink {
		href, f.link = c.link.first(item)
	} else {
		href = defaultLink(titleEl, item)
	}
	link := resolve(pageURL, href)
	if p.Title == "" || link == "" {
		return paper.Paper{}, false, f, nil
	}

	if c.hasAbstract {
		p.Abstract, _ = c.abstract.first(item)
	}
	if c.hasAuth {
		for _, v := range c.authors.Values(item) {
			p.Authors = append(p.Authors, SplitAuthors(v)...)
		}
	}
	if id, ok := arxivID(link, item, pageURL); ok {
		p.ID = id
	} else {
		p.ID, p.Link = paper.LinkID(link), link
	}
	if c.hasDate {
		if v, _ := c.date.first(item); v != "" {
			day, err := ParseDate(v, c.dateLayout)
			if err != nil {
				return paper.Paper{ID: p.ID}, false, f, fmt.Errorf("%q: %w", p.Title, err)
			}
			p.Day = day
		}
	}
	return p, true, f, nil
}

// defaultLink is the href of the title element, of the first link inside it,
// or of the item's first link.
func defaultLink(titleEl, item *goquery.Selection) string {
	for _, s := range []*goquery.Selection{
		titleEl.Filter("a[href]"),
		titleEl.Find("a[href]"),
		item.Filter("a[href]"),
		item.Find("a[href]"),
	} {
		if href, ok := s.First().Attr("href"); ok && strings.TrimSpace(href) != "" {
			return href
		}
	}
	return ""
}

// resolve makes href absolute against base; it is "" for an empty or
// unparsable href and for links that lead nowhere (a bare fragment,
// javascript:).
func resolve(base *url.URL, href string) string {
	href = strings.TrimSpace(href)
	if href == "" || strings.HasPrefix(href, "#") {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}

// arxivPath finds an id in a URL path such as /abs/2507.01234v2,
// /pdf/2507.01234v2.pdf, /abs/hep-th/9901001 or /papers/2507.01234.
var arxivPath = regexp.MustCompile(`/(abs|pdf|html|papers)/((?:[a-z-]+(?:\.[A-Z]{2})?/)?[0-9.]+(?:v\d+)?)(?:\.pdf)?/?$`)

// arxivText finds "arXiv:2507.01234v2" or "arXiv: hep-th/9901001" in text.
var arxivText = regexp.MustCompile(`(?i)\barxiv:\s*((?:[a-z-]+(?:\.[a-z]{2})?/\d{7})|(?:\d{4}\.\d{4,5}))(?:v\d+)?`)

// arxivID finds the item's arXiv id: in its link, in another of its links
// that points to arxiv.org, or in its text.
func arxivID(link string, item *goquery.Selection, pageURL *url.URL) (string, bool) {
	if id, ok := idFromURL(link, false); ok {
		return id, true
	}
	var id string
	var ok bool
	item.Find("a[href]").AddSelection(item.Filter("a[href]")).EachWithBreak(func(_ int, a *goquery.Selection) bool {
		href, _ := a.Attr("href")
		id, ok = idFromURL(resolve(pageURL, href), true)
		return !ok
	})
	if ok {
		return id, true
	}
	for _, m := range arxivText.FindAllStringSubmatch(item.Text(), -1) {
		if id, ok := paper.NormalizeArxivID(m[1]); ok {
			return id, true
		}
	}
	return "", false
}

// idFromURL reads an arXiv id from an abs, pdf or html path (on arxiv.org
// only, when arxivHostOnly) or from a Hugging Face paper page.
func idFromURL(link string, arxivHostOnly bool) (string, bool) {
	u, err := url.Parse(link)
	if err != nil || link == "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	onArxiv := host == "arxiv.org" || strings.HasSuffix(host, ".arxiv.org")
	if arxivHostOnly && !onArxiv {
		return "", false
	}
	m := arxivPath.FindStringSubmatch(u.Path)
	if m == nil {
		return "", false
	}
	if m[1] == "papers" && host != "huggingface.co" {
		return "", false
	}
	return paper.NormalizeArxivID(m[2])
}

// ParseDate reads a Date selector's value s as RFC 3339 or, failing that,
// with layout (a Go time layout; a date without a zone is UTC), and returns
// it in UTC. A date that reads neither way is an error, never a zero time,
// so that a wrong layout is noticed.
func ParseDate(s, layout string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err == nil {
		return t.UTC(), nil
	}
	if layout == "" {
		return time.Time{}, fmt.Errorf("date %q is not RFC 3339 and no date layout is set: %w", s, err)
	}
	t, err = time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: %w", s, err)
	}
	return t.UTC(), nil
}

// SplitAuthors splits an Authors selector's value, "A, B and C" (or "A, B,
// and C"), into names, each trimmed and with its white space collapsed;
// blank names are dropped.
func SplitAuthors(s string) []string {
	var names []string
	for _, part := range strings.Split(s, ",") {
		part = collapse(part)
		part = strings.TrimPrefix(part, "and ")
		for _, name := range strings.Split(part, " and ") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// collapse trims s and turns each run of white space into one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
