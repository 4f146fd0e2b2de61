package scrape

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	searchAPIFixture  = "testdata/hf-api-papers-search.json"
	searchHTMLFixture = "testdata/hf-papers-search.html"
)

func TestViewURLs(t *testing.T) {
	// Thursday 2026-01-01 is in ISO week 2026-W01; Sunday 2026-06-14 in 2026-W24.
	tests := []struct {
		name    string
		h       HuggingFace
		now     time.Time
		want    []string
		wantErr string
	}{
		{"daily api is the default", HuggingFace{Days: 2}, sunday,
			[]string{"/api/daily_papers?date=2026-06-14", "/api/daily_papers?date=2026-06-13"}, ""},
		{"daily html", HuggingFace{View: "daily", Via: "html", Days: 1}, sunday,
			[]string{"/papers/date/2026-06-14"}, ""},
		{"weekly api", HuggingFace{View: "weekly"}, sunday, []string{"/api/daily_papers?week=2026-W24"}, ""},
		{"weekly html", HuggingFace{View: "weekly", Via: "html"}, sunday, []string{"/papers/week/2026-W24"}, ""},
		{"weekly uses the ISO year", HuggingFace{View: "weekly"}, time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC),
			[]string{"/api/daily_papers?week=2026-W53"}, ""},
		{"monthly api", HuggingFace{View: "monthly"}, sunday, []string{"/api/daily_papers?month=2026-06"}, ""},
		{"monthly html", HuggingFace{View: "monthly", Via: "html"}, sunday, []string{"/papers/month/2026-06"}, ""},
		{"monthly in UTC", HuggingFace{View: "monthly"}, time.Date(2026, 7, 1, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
			[]string{"/api/daily_papers?month=2026-06"}, ""},
		{"trending api", HuggingFace{View: "trending"}, sunday, []string{"/api/daily_papers?sort=trending"}, ""},
		{"trending html", HuggingFace{View: "trending", Via: "html"}, sunday, []string{"/papers/trending"}, ""},
		{"search api", HuggingFace{View: "search", Query: "diffusion & flows"}, sunday,
			[]string{"/api/papers/search?q=diffusion+%26+flows"}, ""},
		{"search html", HuggingFace{View: "search", Via: "html", Query: "diffusion"}, sunday,
			[]string{"/papers?q=diffusion"}, ""},
		{"unknown view", HuggingFace{View: "hourly"}, sunday, nil, `view "hourly"`},
		{"search without query", HuggingFace{View: "search", Query: "  "}, sunday, nil, "needs a query"},
		{"query without search", HuggingFace{View: "weekly", Query: "x"}, sunday, nil, `only the "search" view takes one`},
		{"days without daily", HuggingFace{View: "trending", Days: 3}, sunday, nil, `only the "daily" view takes days`},
		{"negative days", HuggingFace{Days: -1}, sunday, nil, "days -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.h.BaseURL = "https://hf.example"
			urls, _, err := tt.h.urls(tt.now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("urls() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("urls(): %v", err)
			}
			var got []string
			for _, u := range urls {
				if u.Host != "hf.example" {
					t.Errorf("url %s: host %q, want hf.example", u, u.Host)
				}
				got = append(got, u.RequestURI())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("urls() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHuggingFaceViews runs every view through Colly against a server that
// answers each URL shape with a fixture of that shape: the daily-papers
// array (weekly, monthly, trending), the search array, the DailyPapers page
// and the search page with searchResults.
func TestHuggingFaceViews(t *testing.T) {
	daily := readTestdata(t, apiFixture)
	dailyPage := readTestdata(t, htmlFixture)
	search := readTestdata(t, searchAPIFixture)
	searchPage := readTestdata(t, searchHTMLFixture)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/robots.txt":
			serveBytes(w, "text/plain", []byte("User-agent: *\nAllow: /\n"))
		case r.URL.Path == "/api/daily_papers" && (q.Has("week") || q.Has("month") || q.Get("sort") == "trending"):
			serveBytes(w, "application/json", daily)
		case r.URL.Path == "/api/papers/search" && q.Get("q") == "diffusion":
			serveBytes(w, "application/json", search)
		case strings.HasPrefix(r.URL.Path, "/papers/week/"), strings.HasPrefix(r.URL.Path, "/papers/month/"), r.URL.Path == "/papers/trending":
			serveBytes(w, "text/html", dailyPage)
		case r.URL.Path == "/papers" && q.Get("q") == "diffusion":
			serveBytes(w, "text/html", searchPage)
		default:
			http.NotFound(w, r)
		}
	})
	searchIDs := []string{"2606.00467", "2606.12730", "2606.13594"}
	tests := []struct {
		view, via string
		wantN     int
		wantIDs   []string // the first IDs, if checked
		wantURI   string
	}{
		{"weekly", "api", 30, nil, "/api/daily_papers?week=2026-W24"},
		{"weekly", "html", 30, nil, "/papers/week/2026-W24"},
		{"monthly", "api", 30, nil, "/api/daily_papers?month=2026-06"},
		{"monthly", "html", 30, nil, "/papers/month/2026-06"},
		{"trending", "api", 30, nil, "/api/daily_papers?sort=trending"},
		{"trending", "html", 30, nil, "/papers/trending"},
		{"search", "api", 3, searchIDs, "/api/papers/search?q=diffusion"},
		{"search", "html", 3, searchIDs, "/papers?q=diffusion"},
	}
	for _, tt := range tests {
		t.Run(tt.view+" "+tt.via, func(t *testing.T) {
			srv.mu.Lock()
			srv.hits = nil
			srv.mu.Unlock()
			h := HuggingFace{Name: "hf-" + tt.view, BaseURL: srv.URL, Via: tt.via, View: tt.view}
			if tt.view == "search" {
				h.Query = "diffusion"
			}
			got, err := h.Scrape(context.Background(), sunday, testOptions())
			if err != nil {
				t.Fatalf("Scrape: %v", err)
			}
			if len(got) != tt.wantN {
				t.Errorf("got %d papers, want %d", len(got), tt.wantN)
			}
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
				if !reflect.DeepEqual(p.Sources, []string{h.Name}) {
					t.Errorf("paper %s Sources = %q, want [%s]", p.ID, p.Sources, h.Name)
				}
			}
			if tt.wantIDs != nil && !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("IDs = %q, want %q", ids, tt.wantIDs)
			}
			want := []string{tt.wantURI}
			if tt.via == "html" {
				want = []string{"/robots.txt", tt.wantURI}
			}
			if uris := srv.uris(); !reflect.DeepEqual(uris, want) {
				t.Errorf("requests = %q, want %q", uris, want)
			}
		})
	}
}

// TestSearchAPIMatchesHTML reads the same search results from the API and
// from the search page's searchResults: the papers must be equal.
func TestSearchAPIMatchesHTML(t *testing.T) {
	fromAPI, err := ParseDailyAPI(readTestdata(t, searchAPIFixture))
	if err != nil {
		t.Fatalf("ParseDailyAPI: %v", err)
	}
	fromHTML, err := ParseDailyHTML(readTestdata(t, searchHTMLFixture), mustURL(t, "https://huggingface.co/papers?q=diffusion"))
	if err != nil {
		t.Fatalf("ParseDailyHTML: %v", err)
	}
	if len(fromAPI) != 3 {
		t.Errorf("got %d papers from the API, want 3", len(fromAPI))
	}
	if !reflect.DeepEqual(fromAPI, fromHTML) {
		t.Errorf("search page papers differ from the API's:\napi  %+v\nhtml %+v", fromAPI, fromHTML)
	}
}
