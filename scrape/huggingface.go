package scrape

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/paperfeed/paperfeed/paper"
)

// ErrNoData means a listing page carried neither the DailyPapers JSON nor any
// paper cards. A page like that is a changed layout or an error page, never an
// empty day, so it is reported instead of being read as "no papers".
var ErrNoData = errors.New("no daily papers data in page")

// hfEntry is one element of the /api/daily_papers array and of the
// dailyPapers array in a listing page. It mirrors the site's shape; adapt
// turns it into a paper.Paper. Optional keys are absent, never null.
type hfEntry struct {
	Paper struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Summary string `json:"summary"`
		Authors []struct {
			Name   string `json:"name"`
			Hidden bool   `json:"hidden"`
		} `json:"authors"`
		PublishedAt        string   `json:"publishedAt"`
		SubmittedOnDailyAt string   `json:"submittedOnDailyAt"`
		Upvotes            int      `json:"upvotes"`
		GitHubRepo         string   `json:"githubRepo"`
		GitHubStars        int      `json:"githubStars"`
		ProjectPage        string   `json:"projectPage"`
		Organization       *hfOrg   `json:"organization"`
		AISummary          string   `json:"ai_summary"`
		AIKeywords         []string `json:"ai_keywords"`
	} `json:"paper"`
	Title        string `json:"title"`
	Summary      string `json:"summary"`
	Thumbnail    string `json:"thumbnail"`
	NumComments  int    `json:"numComments"`
	Organization *hfOrg `json:"organization"`
	// The top-level publishedAt is deliberately absent: it is the arXiv
	// time shifted by New York's UTC offset but still marked Z.
}

type hfOrg struct {
	Name     string `json:"name"`
	Fullname string `json:"fullname"`
}

func (o *hfOrg) display() string {
	if o == nil {
		return ""
	}
	if s := strings.TrimSpace(o.Fullname); s != "" {
		return s
	}
	return strings.TrimSpace(o.Name)
}

// ParseDailyAPI parses the bare JSON array answered by /api/daily_papers
// (every view) and by /api/papers/search, whose elements have the same shape.
// Entries without a valid arXiv id are skipped. Sources is left empty: the
// caller knows the configured source name.
func ParseDailyAPI(data []byte) ([]paper.Paper, error) {
	papers, _, err := parseDailyAPI(data)
	return papers, err
}

func parseDailyAPI(data []byte) ([]paper.Paper, int, error) {
	var entries []hfEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, 0, fmt.Errorf("decode daily papers json: %w", err)
	}
	if entries == nil {
		// A JSON null is not the array the API promises.
		return nil, 0, fmt.Errorf("decode daily papers json: %w", ErrNoData)
	}
	papers, skipped := adaptEntries(entries)
	return papers, skipped, nil
}

// ParseDailyHTML parses a /papers/date/YYYY-MM-DD listing page, or any page of
// the same shape (/papers/week/..., /papers/month/..., /papers/trending, and
// search pages /papers?q=..., whose array is searchResults). It reads the
// dailyPapers array from the data-props JSON of the element with
// data-target="DailyPapers"; where that JSON has no dailyPapers it falls back
// to the <article> cards, which give only ID, Title and Upvotes. A page with
// neither is ErrNoData. base resolves the cards' relative links.
func ParseDailyHTML(data []byte, base *url.URL) ([]paper.Paper, error) {
	papers, _, err := parseDailyHTML(data, base)
	return papers, err
}

func parseDailyHTML(data []byte, base *url.URL) ([]paper.Paper, int, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, 0, fmt.Errorf("parse daily papers html: %w", err)
	}
	return parseDailyDoc(doc, base)
}

// parseDailyDoc is ParseDailyHTML over an already parsed document.
func parseDailyDoc(doc *goquery.Document, base *url.URL) ([]paper.Paper, int, error) {
	if props, ok := doc.Find(`[data-target="DailyPapers"]`).First().Attr("data-props"); ok {
		var v struct {
			DailyPapers *[]hfEntry `json:"dailyPapers"`
			// SearchResults replaces dailyPapers on search pages (/papers?q=).
			SearchResults *[]hfEntry `json:"searchResults"`
		}
		if err := json.Unmarshal([]byte(props), &v); err != nil {
			return nil, 0, fmt.Errorf("decode DailyPapers data-props: %w", err)
		}
		if v.DailyPapers == nil {
			v.DailyPapers = v.SearchResults
		}
		if v.DailyPapers != nil {
			papers, skipped := adaptEntries(*v.DailyPapers)
			return papers, skipped, nil
		}
	}
	return parseCards(doc, base)
}

// parseCards reads the visible <article> cards: the fallback when the
// hydration JSON is missing.
func parseCards(doc *goquery.Document, base *url.URL) ([]paper.Paper, int, error) {
	var (
		papers  []paper.Paper
		skipped int
		cards   int
	)
	doc.Find("article").Each(func(_ int, art *goquery.Selection) {
		link := art.Find("h3 > a[href]").First()
		href, ok := link.Attr("href")
		if !ok {
			return
		}
		cards++
		id, ok := cardID(href, base)
		if !ok {
			skipped++
			return
		}
		p := paper.Paper{
			ID:    id,
			Hub:   true,
			Title: strings.TrimSpace(strings.ToValidUTF8(link.Text(), "\uFFFD")),
		}
		art.Find("div.leading-none").EachWithBreak(func(_ int, s *goquery.Selection) bool {
			n, ok := parseUpvotes(s.Text())
			if ok {
				p.Upvotes = n
			}
			return !ok
		})
		papers = append(papers, p)
	})
	if cards == 0 {
		return nil, 0, ErrNoData
	}
	return papers, skipped, nil
}

// cardID returns the arXiv id of a card link "/papers/<id>". Links to other
// listing pages (/papers/date/..., /papers/trending) or with a fragment
// (#community) are not paper links.
func cardID(href string, base *url.URL) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil || u.Fragment != "" {
		return "", false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if base != nil && u.Host != base.Host {
		return "", false
	}
	rest, ok := strings.CutPrefix(u.Path, "/papers/")
	if !ok || strings.Contains(rest, "/") {
		return "", false
	}
	return paper.NormalizeArxivID(rest)
}

// parseUpvotes reads a card's upvote count: "-" is zero, "1,056" has a
// thousands separator.
func parseUpvotes(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "-" {
		return 0, true
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// adaptEntries turns site entries into papers, counting those without a valid
// arXiv id.
func adaptEntries(entries []hfEntry) ([]paper.Paper, int) {
	papers := make([]paper.Paper, 0, len(entries))
	skipped := 0
	for i := range entries {
		p, ok := adapt(&entries[i])
		if !ok {
			skipped++
			continue
		}
		papers = append(papers, p)
	}
	return papers, skipped
}

func adapt(e *hfEntry) (paper.Paper, bool) {
	id, ok := paper.NormalizeArxivID(e.Paper.ID)
	if !ok {
		return paper.Paper{}, false
	}
	p := paper.Paper{
		ID:           id,
		Hub:          true,
		Title:        valid(firstNonEmpty(e.Paper.Title, e.Title)),
		Abstract:     valid(firstNonEmpty(e.Paper.Summary, e.Summary)),
		Published:    parseTime(e.Paper.PublishedAt),
		Day:          parseTime(e.Paper.SubmittedOnDailyAt),
		Upvotes:      e.Paper.Upvotes,
		Comments:     e.NumComments,
		Thumbnail:    valid(e.Thumbnail),
		GitHubRepo:   valid(e.Paper.GitHubRepo),
		GitHubStars:  e.Paper.GitHubStars,
		ProjectPage:  valid(e.Paper.ProjectPage),
		Organization: valid(firstNonEmpty(e.Paper.Organization.display(), e.Organization.display())),
		AISummary:    valid(e.Paper.AISummary),
	}
	for _, a := range e.Paper.Authors {
		name := strings.TrimSpace(a.Name)
		if a.Hidden || name == "" {
			continue
		}
		p.Authors = append(p.Authors, valid(name))
	}
	for _, k := range e.Paper.AIKeywords {
		if k = strings.TrimSpace(k); k != "" {
			p.AIKeywords = append(p.AIKeywords, valid(k))
		}
	}
	return p, true
}

// parseTime reads the site's RFC 3339 times ("2026-06-12T00:00:00.000Z") as
// UTC. A missing or malformed time is the zero time, "not known": one bad
// date must not drop an otherwise good paper.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// valid keeps text as the site gave it but replaces invalid UTF-8, so that
// nothing downstream (JSON, XML, the store) breaks on it.
func valid(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

func firstNonEmpty(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}
