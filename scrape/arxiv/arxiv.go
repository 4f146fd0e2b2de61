// Package arxiv parses arXiv's daily announcement pages, /list/<category>/new,
// into papers; it also reads /recent and /pastweek pages. It does no I/O:
// Parse gets the page's bytes and its URL.
//
// Contract:
//   - Both layouts are read: the current one (2024 on), where each section is a
//     <dl id="articles"> whose first child is its <h3> heading, and the older
//     one, where a plain <dl> follows an <h3> such as "New submissions for Fri,
//     20 Jul 18". Items are <dt>/<dd> pairs inside the page's #dlpage element.
//   - A paper's ID is its arXiv id without version (paper.NormalizeArxivID);
//     Title, ArxivComments and JournalRef lose their "Title:"-style labels and
//     have their white space collapsed (LaTeX such as $\alpha$ is kept as
//     written); Categories hold subject codes, the primary subject first;
//     Section is "new", "cross" or "replace", taken from the section heading
//     (or, without one, from the item's "(cross-list from ...)" or "(replaced)"
//     marker); Day is the announcement day as UTC midnight; Link stays empty
//     because arXiv papers' links derive from their IDs.
//   - On /recent and /pastweek pages, headings name days ("Fri, 3 Mar 2023
//     (showing first 25 of 48 entries )"): each paper's Day is its heading's
//     day, Listing.Day the first (newest) one, and sections come from the
//     items' markers.
//   - A page saying "No updates today." is an empty Listing, not an error, and
//     so is a page whose section headings hold no items.
//   - A page that has no #dlpage element, or neither a listing heading nor the
//     "No updates today." notice, is ErrNotListing. A heading whose date
//     cannot be read is an error.
//   - One bad item never costs the others: an item without a readable arXiv
//     id or title, a <dt> without its <dd>, or an item under a /recent day
//     heading whose date cannot be read, is left out and reported in
//     Listing.Skipped. A page whose items are all unreadable is ErrBadItems,
//     and one whose only day headings cannot be read is an error: a changed
//     layout fails loudly rather than reading as an empty day.
package arxiv

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/paperfeed/paperfeed/paper"
)

// Sections of a listing page, as stored in paper.Paper.Section.
const (
	SectionNew     = "new"
	SectionCross   = "cross"
	SectionReplace = "replace"
)

var (
	// ErrNotListing reports a page that is not an arXiv listing at all, such
	// as an error page or a changed layout.
	ErrNotListing = errors.New("not an arxiv listing page")
	// ErrBadItems reports a listing page that has items but not one of them
	// could be read.
	ErrBadItems = errors.New("no item could be read")
)

// Listing is one announcement day of one category.
type Listing struct {
	// Day is the announcement day as UTC midnight; zero when the page names
	// no day (only possible on a "No updates today." page).
	Day    time.Time
	Papers []paper.Paper
	// Skipped are the items left out because they could not be read.
	Skipped []Skip
}

// Skip is an item of a page that was left out, and why.
type Skip struct {
	Index int    // 0-based, among the page's items
	ID    string // the item's arXiv id, when it could be read
	Err   error
}

// dayLayouts are the date formats of listing headings: the current one
// ("Friday, 5 December 2025"), the pre-2024 one ("Fri, 20 Jul 18") and the
// four-digit-year form used on /recent.
var dayLayouts = []string{
	"Monday, 2 January 2006",
	"Mon, 2 Jan 06",
	"Mon, 2 Jan 2006",
	"2 January 2006",
}

// recentHeading is a day heading of /recent and /pastweek pages: "Fri, 3 Mar
// 2023 (showing first 25 of 48 entries )".
var recentHeading = regexp.MustCompile(`^((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4})(?:\s*\(.*\))?$`)

// subjectCode finds the code at the end of a subject such as "Machine
// Learning (cs.LG)" or "Statistical Mechanics (cond-mat.stat-mech)".
var subjectCode = regexp.MustCompile(`\(([A-Za-z-]+(?:\.[A-Za-z-]+)?)\)\s*$`)

// Parse reads a /list/<category>/new page. base is the page's URL; links on
// the page are resolved against it (it may be nil).
func Parse(data []byte, base *url.URL) (Listing, error) {
	root, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return Listing{}, fmt.Errorf("parse arxiv listing: %w", err)
	}
	dlpage := elementByID(root, "dlpage")
	if dlpage == nil {
		return Listing{}, fmt.Errorf("parse arxiv listing: no #dlpage element: %w", ErrNotListing)
	}
	p := &parser{base: base}
	if err := p.walk(dlpage); err != nil {
		return Listing{}, fmt.Errorf("parse arxiv listing: %w", err)
	}
	if !p.sawHeading && !strings.Contains(text(dlpage, nil), "No updates today") {
		return Listing{}, fmt.Errorf("parse arxiv listing: no listing heading: %w", ErrNotListing)
	}
	if len(p.papers) == 0 && p.day.IsZero() && p.firstDayErr != nil {
		return Listing{Skipped: p.skipped}, fmt.Errorf("parse arxiv listing: %w", p.firstDayErr)
	}
	if len(p.papers) == 0 && len(p.skipped) > 0 {
		first := p.skipped[0].Err
		return Listing{Skipped: p.skipped}, fmt.Errorf("parse arxiv listing: %w: all %d items skipped, the first because %w", ErrBadItems, len(p.skipped), first)
	}
	for i := range p.papers {
		if p.papers[i].Day.IsZero() {
			p.papers[i].Day = p.day
		}
	}
	return Listing{Day: p.day, Papers: p.papers, Skipped: p.skipped}, nil
}

// parser holds the state of one walk over #dlpage: the section and day the
// last heading announced, and the papers read so far.
type parser struct {
	base        *url.URL
	section     string
	day         time.Time
	itemDay     time.Time // the day heading of /recent items, if any
	dayErr      error     // why the current /recent day heading cannot be read
	firstDayErr error     // the first such heading's, for a page with no good one
	sawHeading  bool
	items       int // items seen, read or skipped
	papers      []paper.Paper
	skipped     []Skip
}

// walk visits n's subtree in document order: headings set the section and
// day, and each <dt> is read together with the <dd> that follows it.
func (p *parser) walk(n *html.Node) error {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		switch c.DataAtom {
		case atom.H3:
			if err := p.heading(collapse(text(c, nil))); err != nil {
				return err
			}
		case atom.Dt:
			index := p.items
			p.items++
			if p.dayErr != nil {
				id, _ := p.id(c)
				p.skipped = append(p.skipped, Skip{Index: index, ID: id, Err: p.dayErr})
				continue
			}
			dd := nextElement(c)
			if dd == nil || dd.DataAtom != atom.Dd {
				id, _ := p.id(c)
				p.skipped = append(p.skipped, Skip{Index: index, ID: id, Err: fmt.Errorf("item %q: no <dd> after <dt>", collapse(text(c, nil)))})
				continue
			}
			pp, err := p.item(c, dd)
			if err != nil {
				p.skipped = append(p.skipped, Skip{Index: index, ID: pp.ID, Err: err})
				continue
			}
			p.papers = append(p.papers, pp)
		case atom.Dd:
			// Read with its <dt>.
		default:
			if err := p.walk(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// heading reads an <h3>: "Showing new listings for <day>" (current layout),
// "New submissions (showing 3 of 3 entries)", "Cross submissions ...",
// "Replacement submissions ..." (current) or "New submissions for <day>",
// "Cross-lists for <day>", "Replacements for <day>" (old layout). Other
// headings are ignored.
func (p *parser) heading(h string) error {
	lower := strings.ToLower(h)
	var date string
	switch {
	case strings.HasPrefix(lower, "showing new listings for "):
		date = h[len("showing new listings for "):]
	case strings.HasPrefix(lower, "new submissions"):
		p.section = SectionNew
	case strings.HasPrefix(lower, "cross"):
		p.section = SectionCross
	case strings.HasPrefix(lower, "replacement"):
		p.section = SectionReplace
	case recentHeading.MatchString(h):
		// A day of /recent or /pastweek: its items get that day, and their
		// sections come from their markers.
		day, err := parseDay(recentHeading.FindStringSubmatch(h)[1])
		p.sawHeading = true
		p.section = ""
		p.itemDay = day
		p.dayErr = nil
		if err != nil {
			// Only this day's items are lost; they are skipped with it.
			p.dayErr = fmt.Errorf("heading %q: %w", h, err)
			if p.firstDayErr == nil {
				p.firstDayErr = p.dayErr
			}
			return nil
		}
		if p.day.IsZero() {
			p.day = day
		}
		return nil
	default:
		return nil
	}
	p.sawHeading = true
	if date == "" {
		if _, after, ok := strings.Cut(h, " for "); ok {
			date = after
		}
	}
	if i := strings.Index(date, "("); i >= 0 {
		date = date[:i]
	}
	date = strings.TrimSpace(date)
	if date == "" || !p.day.IsZero() {
		return nil
	}
	day, err := parseDay(date)
	if err != nil {
		return fmt.Errorf("heading %q: %w", h, err)
	}
	p.day = day
	return nil
}

// parseDay reads a heading's date as UTC midnight.
func parseDay(s string) (time.Time, error) {
	for _, layout := range dayLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised date %q", s)
}

// item reads one <dt> (identifier and section marker) and its <dd>
// (metadata). A failed item's paper holds its ID when that was read.
func (p *parser) item(dt, dd *html.Node) (paper.Paper, error) {
	label := collapse(text(dt, nil))
	id, ok := p.id(dt)
	if !ok {
		return paper.Paper{}, fmt.Errorf("item %q: no arxiv id", label)
	}
	meta := goquery.NewDocumentFromNode(dd).Selection
	pp := paper.Paper{
		ID:            id,
		Title:         field(meta, ".list-title"),
		Abstract:      collapse(meta.Find("p.mathjax").First().Text()),
		Authors:       authors(meta.Find(".list-authors").First()),
		ArxivComments: field(meta, ".list-comments"),
		JournalRef:    field(meta, ".list-journal-ref"),
		Categories:    categories(meta.Find(".list-subjects").First()),
		Section:       p.section,
		Day:           p.itemDay,
	}
	if pp.Title == "" {
		return paper.Paper{ID: id}, fmt.Errorf("item %s: no title", id)
	}
	if pp.Section == "" {
		switch {
		case strings.Contains(label, "(cross-list from"):
			pp.Section = SectionCross
		case strings.Contains(label, "(replaced)"):
			pp.Section = SectionReplace
		default:
			pp.Section = SectionNew
		}
	}
	return pp, nil
}

// id finds the arXiv id in a <dt>: the path of its abstract link, or else the
// link's text ("arXiv:2512.04392").
func (p *parser) id(dt *html.Node) (string, bool) {
	var found string
	var ok bool
	visit(dt, func(n *html.Node) bool {
		if n.DataAtom != atom.A {
			return true
		}
		href := attr(n, "href")
		if u, err := url.Parse(strings.TrimSpace(href)); err == nil {
			if p.base != nil {
				u = p.base.ResolveReference(u)
			}
			if _, rest, cut := strings.Cut(u.Path, "/abs/"); cut {
				if found, ok = paper.NormalizeArxivID(rest); ok {
					return false
				}
			}
		}
		if attr(n, "title") == "Abstract" {
			if found, ok = paper.NormalizeArxivID(collapse(text(n, nil))); ok {
				return false
			}
		}
		return true
	})
	return found, ok
}

// field is the collapsed text of the first element matching sel, without its
// "Label:" descriptor.
func field(s *goquery.Selection, sel string) string {
	m := s.Find(sel)
	if m.Length() == 0 {
		return ""
	}
	return collapse(text(m.Get(0), isDescriptor))
}

// authors are the names linked in the authors line; a line without links is
// split on commas.
func authors(s *goquery.Selection) []string {
	var names []string
	s.Find("a").Each(func(_ int, a *goquery.Selection) {
		if name := collapse(a.Text()); name != "" {
			names = append(names, name)
		}
	})
	if len(names) > 0 || s.Length() == 0 {
		return names
	}
	for _, name := range strings.Split(text(s.Get(0), isDescriptor), ",") {
		if name = collapse(name); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// categories are the subject codes of a subjects line, the primary subject
// first and each code once.
func categories(s *goquery.Selection) []string {
	if s.Length() == 0 {
		return nil
	}
	var codes []string
	add := func(subject string) {
		m := subjectCode.FindStringSubmatch(subject)
		if m == nil {
			return
		}
		for _, c := range codes {
			if c == m[1] {
				return
			}
		}
		codes = append(codes, m[1])
	}
	add(collapse(s.Find(".primary-subject").First().Text()))
	for _, subject := range strings.Split(text(s.Get(0), isDescriptor), ";") {
		add(collapse(subject))
	}
	return codes
}

// isDescriptor reports a "Title:"-style label, <span class="descriptor">.
func isDescriptor(n *html.Node) bool {
	return n.Type == html.ElementNode && hasClass(n, "descriptor")
}

// text concatenates the text below n, leaving out subtrees that skip reports.
func text(n *html.Node, skip func(*html.Node) bool) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				b.WriteString(c.Data)
			case c.Type == html.ElementNode && (skip == nil || !skip(c)):
				rec(c)
			}
		}
	}
	rec(n)
	return b.String()
}

// collapse trims s and turns each run of white space into one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// visit calls f on every element below n in document order until f returns
// false.
func visit(n *html.Node, f func(*html.Node) bool) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if !f(c) || !visit(c, f) {
			return false
		}
	}
	return true
}

// elementByID is the first element below n whose id is id.
func elementByID(n *html.Node, id string) *html.Node {
	var found *html.Node
	visit(n, func(c *html.Node) bool {
		if attr(c, "id") == id {
			found = c
			return false
		}
		return true
	})
	return found
}

// nextElement is the next sibling element of n, or nil.
func nextElement(n *html.Node) *html.Node {
	for c := n.NextSibling; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			return c
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}
