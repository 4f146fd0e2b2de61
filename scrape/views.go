package scrape

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Hugging Face views: which listing a HuggingFace source reads.
const (
	// ViewDaily is the last Days days, one request per day (the default).
	ViewDaily = "daily"
	// ViewWeekly is the ISO week that holds now: /api/daily_papers?week=2026-W24,
	// or the page /papers/week/2026-W24.
	ViewWeekly = "weekly"
	// ViewMonthly is the month that holds now: /api/daily_papers?month=2026-06,
	// or the page /papers/month/2026-06.
	ViewMonthly = "monthly"
	// ViewTrending is the site's trending list: /api/daily_papers?sort=trending,
	// or the page /papers/trending.
	ViewTrending = "trending"
	// ViewSearch is a search for Query: /api/papers/search?q=..., or the page
	// /papers?q=... (its data-props carry searchResults).
	ViewSearch = "search"
)

// viewURLs lists the URLs of h's view below base, newest first. Every view
// but daily is one request, and only search takes a Query.
func (h HuggingFace) viewURLs(base *url.URL, now time.Time, html bool) ([]*url.URL, error) {
	view := h.View
	if view == "" {
		view = ViewDaily
	}
	query := strings.TrimSpace(h.Query)
	switch {
	case view == ViewSearch && query == "":
		return nil, fmt.Errorf("view %q: needs a query", view)
	case view != ViewSearch && h.Query != "":
		return nil, fmt.Errorf("query %q: only the %q view takes one", h.Query, ViewSearch)
	case view != ViewDaily && h.Days != 0:
		return nil, fmt.Errorf("days %d: only the %q view takes days", h.Days, ViewDaily)
	}
	at := func(path string, q url.Values) *url.URL {
		u := *base
		u.Path += path
		u.RawQuery = q.Encode()
		return &u
	}
	now = now.UTC()
	switch view {
	case ViewDaily:
		days := h.Days
		if days < 0 {
			return nil, fmt.Errorf("days %d: want a positive number", days)
		}
		if days == 0 {
			days = 3
		}
		y, m, d := now.Date()
		today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		urls := make([]*url.URL, 0, days)
		for i := range days {
			date := today.AddDate(0, 0, -i).Format(time.DateOnly)
			if html {
				urls = append(urls, at("/papers/date/"+date, nil))
			} else {
				urls = append(urls, at("/api/daily_papers", url.Values{"date": {date}}))
			}
		}
		return urls, nil
	case ViewWeekly:
		y, w := now.ISOWeek()
		week := fmt.Sprintf("%04d-W%02d", y, w)
		if html {
			return []*url.URL{at("/papers/week/"+week, nil)}, nil
		}
		return []*url.URL{at("/api/daily_papers", url.Values{"week": {week}})}, nil
	case ViewMonthly:
		month := now.Format("2006-01")
		if html {
			return []*url.URL{at("/papers/month/"+month, nil)}, nil
		}
		return []*url.URL{at("/api/daily_papers", url.Values{"month": {month}})}, nil
	case ViewTrending:
		if html {
			return []*url.URL{at("/papers/trending", nil)}, nil
		}
		return []*url.URL{at("/api/daily_papers", url.Values{"sort": {"trending"}})}, nil
	case ViewSearch:
		if html {
			return []*url.URL{at("/papers", url.Values{"q": {query}})}, nil
		}
		return []*url.URL{at("/api/papers/search", url.Values{"q": {query}})}, nil
	}
	return nil, fmt.Errorf("view %q: want %q, %q, %q, %q or %q", h.View, ViewDaily, ViewWeekly, ViewMonthly, ViewTrending, ViewSearch)
}
