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
// Entries are decoded one by one: one that cannot be decoded, or has no
// valid arXiv id, is skipped; an array whose entries are all skipped is
// ErrBadEntries. Sources is left empty: the caller knows the configured
// source name.
func ParseDailyAPI(data []byte) ([]paper.Paper, error) {
	papers, _, err := parseDailyAPI(data)
	return papers, err
}

// parseDailyAPI is ParseDailyAPI that also says which entries it skipped.
func parseDailyAPI(data []byte) ([]paper.Paper, []skip, error) {
	var entries []json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, nil, fmt.Errorf("decode daily papers json: %w", err)
	}
	if entries == nil {
		// A JSON null is not the array the API promises.
		return nil, nil, fmt.Errorf("decode daily papers json: %w", ErrNoData)
	}
	papers, skips, err := adaptEntries(entries)
	if err != nil {
		return nil, skips, fmt.Errorf("decode daily papers json: %w", err)
	}
	return papers, skips, nil
}

// ParseDailyHTML parses a /papers/date/YYYY-MM-DD listing page, or any page of
// the same shape (/papers/week/..., /papers/month/..., /papers/trending, and
// search pages /papers?q=..., whose array is searchResults). It reads the
// dailyPapers array from the data-props JSON of the element with
// data-target="DailyPapers", entry by entry as ParseDailyAPI does; where that
// JSON has no dailyPapers it falls back to the <article> cards, which give
// only ID, Title and Upvotes. A page with neither is ErrNoData; one whose
// entries or cards are all unreadable is ErrBadEntries. base resolves the
// cards' relative links.
func ParseDailyHTML(data []byte, base *url.URL) ([]paper.Paper, error) {
	papers, _, err := parseDailyHTML(data, base)
	return papers, err
}

// parseDailyHTML is ParseDailyHTML that also says which entries it skipped.
func parseDailyHTML(data []byte, base *url.URL) ([]paper.Paper, []skip, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("parse daily papers html: %w", err)
	}
	return parseDailyDoc(doc, base)
}

// parseDailyDoc is parseDailyHTML over an already parsed document.
func parseDailyDoc(doc *goquery.Document, base *url.URL) ([]paper.Paper, []skip, error) {
	if props, ok := doc.Find(`[data-target="DailyPapers"]`).First().Attr("data-props"); ok {
		var v struct {
			DailyPapers *[]json.RawMessage `json:"dailyPapers"`
			// SearchResults replaces dailyPapers on search pages (/papers?q=).
			SearchResults *[]json.RawMessage `json:"searchResults"`
		}
		if err := json.Unmarshal([]byte(props), &v); err != nil {
			return nil, nil, fmt.Errorf("decode DailyPapers data-props: %w", err)
		}
		if v.DailyPapers == nil {
			v.DailyPapers = v.SearchResults
		}
		if v.DailyPapers != nil {
			papers, skips, err := adaptEntries(*v.DailyPapers)
			if err != nil {
				return nil, skips, fmt.Errorf("decode DailyPapers data-props: %w", err)
			}
			return papers, skips, nil
		}
	}
	return parseCards(doc, base)
}

// parseCards reads the visible <article> cards: the fallback when the
// hydration JSON is missing. A card whose link is not a paper page is
// skipped.
func parseCards(doc *goquery.Document, base *url.URL) ([]paper.Paper, []skip, error) {
	var (
		papers []paper.Paper
		skips  []skip
		cards  int
	)
	doc.Find("article").Each(func(_ int, art *goquery.Selection) {
		link := art.Find("h3 > a[href]").First()
		href, ok := link.Attr("href")
		if !ok {
			return
		}
		index := cards
		cards++
		id, ok := cardID(href, base)
		if !ok {
			skips = append(skips, skip{index: index, reason: fmt.Sprintf("card link %q is not a paper page", bounded(href, maxLogID))})
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
		return nil, nil, ErrNoData
	}
	if len(papers) == 0 {
		return nil, skips, fmt.Errorf("cards: %w", allSkipped(cards, skips))
	}
	return papers, skips, nil
}

// allSkipped is the error of an answer of n entries that were all skipped.
func allSkipped(n int, skips []skip) error {
	return fmt.Errorf("%w: all %d skipped, the first (index %d) because %s", ErrBadEntries, n, skips[0].index, skips[0].reason)
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

// adaptEntries decodes site entries one by one and turns them into papers.
// An entry that does not decode (a number given as a string, say) or has no
// valid arXiv id is skipped, so that one bad entry never costs the others;
// when there are entries and all are skipped, it is ErrBadEntries.
func adaptEntries(entries []json.RawMessage) ([]paper.Paper, []skip, error) {
	papers := make([]paper.Paper, 0, len(entries))
	var skips []skip
	for i, raw := range entries {
		var e hfEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			skips = append(skips, skip{index: i, id: entryID(raw), reason: err.Error()})
			continue
		}
		p, ok := adapt(&e)
		if !ok {
			skips = append(skips, skip{index: i, id: strings.TrimSpace(e.Paper.ID), reason: "no valid arxiv id"})
			continue
		}
		papers = append(papers, p)
	}
	if len(entries) > 0 && len(papers) == 0 {
		return nil, skips, allSkipped(len(entries), skips)
	}
	return papers, skips, nil
}

// entryID is the paper.id of an entry that did not decode, if that much of
// it reads.
func entryID(raw json.RawMessage) string {
	var e struct {
		Paper struct {
			ID string `json:"id"`
		} `json:"paper"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	return strings.TrimSpace(e.Paper.ID)
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
