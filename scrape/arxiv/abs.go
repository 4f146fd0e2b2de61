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

	"github.com/paperfeed/paperfeed/paper"
)

// ErrNotAbs reports a page that is not an arXiv abstract page: no arXiv id
// can be read from it, or it has no h1.title.
var ErrNotAbs = errors.New("not an arxiv abstract page")

// dateline reads the first date of an abstract page's dateline: "[Submitted
// on 5 Dec 2025]" or "[Submitted on 5 Dec 2025 (v1), last revised 8 Dec 2025
// (this version, v2)]".
var dateline = regexp.MustCompile(`Submitted on (\d{1,2} [A-Z][a-z]{2} \d{4})`)

// firstVersion reads the exact time of version 1 from the submission history:
// "[v1] Fri, 5 Dec 2025 18:59:59 UTC (1,234 KB)".
var firstVersion = regexp.MustCompile(`\[v1\]\s*((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}) UTC`)

// ParseAbs parses an arXiv abstract page, /abs/<id>. It does no I/O.
//
// The paper's ID is the page's own arXiv id without its version, read from
// its "Cite as" link, else its citation_arxiv_id meta tag, else its canonical
// link, else the /abs/ path of base (which may be nil). Title, Abstract,
// ArxivComments and JournalRef lose their "Title:"-style labels and have
// their white space collapsed, LaTeX kept as written, as on listing pages;
// Authors are the linked names; Categories are subject codes, the primary
// subject first. Published is the submission of version 1: the exact time
// from the submission history when it agrees with the dateline's day, else
// the dateline's day as UTC midnight, else zero. Day, Section and Link stay
// empty: they belong to listings. A page without an id or a title is
// ErrNotAbs, so that a changed layout fails loudly.
func ParseAbs(data []byte, base *url.URL) (paper.Paper, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		return paper.Paper{}, fmt.Errorf("parse arxiv abstract page: %w", err)
	}
	s := doc.Selection
	id, ok := absID(s, base)
	if !ok {
		return paper.Paper{}, fmt.Errorf("parse arxiv abstract page: no arxiv id: %w", ErrNotAbs)
	}
	p := paper.Paper{
		ID:            id,
		Title:         field(s, "h1.title"),
		Abstract:      field(s, "blockquote.abstract"),
		Authors:       authors(s.Find("div.authors").First()),
		ArxivComments: field(s, "td.comments"),
		JournalRef:    field(s, "td.jref"),
		Categories:    categories(s.Find("td.subjects").First()),
		Published:     published(s),
	}
	if p.Title == "" {
		return paper.Paper{}, fmt.Errorf("parse arxiv abstract page %s: no title: %w", id, ErrNotAbs)
	}
	return p, nil
}

// absID is the page's arXiv id; see ParseAbs for where it is looked for.
func absID(s *goquery.Selection, base *url.URL) (string, bool) {
	var candidates []string
	if href, ok := s.Find("td.arxivid a[href], span.arxivid a[href]").First().Attr("href"); ok {
		candidates = append(candidates, absPath(href, base))
	}
	if v, ok := s.Find(`meta[name="citation_arxiv_id"]`).First().Attr("content"); ok {
		candidates = append(candidates, v)
	}
	if href, ok := s.Find(`link[rel="canonical"]`).First().Attr("href"); ok {
		candidates = append(candidates, absPath(href, base))
	}
	if base != nil {
		candidates = append(candidates, absPath(base.String(), nil))
	}
	for _, c := range candidates {
		if id, ok := paper.NormalizeArxivID(c); ok {
			return id, true
		}
	}
	return "", false
}

// absPath is what follows /abs/ in href resolved against base, or "".
func absPath(href string, base *url.URL) string {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	_, rest, ok := strings.Cut(u.Path, "/abs/")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(rest, "/")
}

// published is when version 1 was submitted; see ParseAbs.
func published(s *goquery.Selection) time.Time {
	m := dateline.FindStringSubmatch(collapse(s.Find("div.dateline").First().Text()))
	if m == nil {
		return time.Time{}
	}
	day, err := time.Parse("2 Jan 2006", m[1])
	if err != nil {
		return time.Time{}
	}
	if v := firstVersion.FindStringSubmatch(collapse(s.Find("div.submission-history").First().Text())); v != nil {
		at, err := time.Parse("Mon, 2 Jan 2006 15:04:05", v[1])
		if err == nil && at.Truncate(24*time.Hour).Equal(day) {
			return at
		}
	}
	return day
}
