package scrape

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/scrape/arxiv"
)

const (
	arxivFixture       = "../testdata/arxiv-list-cs.LG-new-2025-12-05.html"
	arxivLegacyFixture = "../testdata/arxiv-list-cs-new-2018-07-20-legacy.html"
	arxivEmptyFixture  = "testdata/arxiv-list-no-updates.html"
)

// robotsAllowing is arxiv.org's robots.txt in spirit, without the delay that
// tests cannot wait for.
const robotsAllowing = "User-agent: *\nDisallow: /auth\nAllow: /list\nAllow: /abs\n"

// arxivServer serves robots.txt and page at /list/<category>/new.
func arxivServer(t *testing.T, robots string, page http.HandlerFunc) *testServer {
	t.Helper()
	return newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			serveBytes(w, "text/plain", []byte(robots))
			return
		}
		page(w, r)
	})
}

func TestArxivScrape(t *testing.T) {
	friday := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	legacy := time.Date(2018, 7, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		fixture  string
		category string
		include  []string
		want     map[string]int // papers per section
		wantDay  time.Time
	}{
		{"current layout, default sections", arxivFixture, "cs.LG", nil,
			map[string]int{"new": 3, "cross": 2}, friday},
		{"current layout, every section", arxivFixture, "cs.LG", []string{"new", "cross", "replace"},
			map[string]int{"new": 3, "cross": 2, "replace": 3}, friday},
		{"current layout, replacements only", arxivFixture, "cs.LG", []string{"replace"},
			map[string]int{"replace": 3}, friday},
		{"legacy layout, default sections", arxivLegacyFixture, "cs", nil,
			map[string]int{"new": 6, "cross": 16}, legacy},
		{"legacy layout, every section", arxivLegacyFixture, "cs", []string{"new", "cross", "replace"},
			map[string]int{"new": 6, "cross": 16, "replace": 65}, legacy},
		{"no updates today", arxivEmptyFixture, "cs.LG", nil, map[string]int{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := arxivServer(t, robotsAllowing, body("text/html; charset=utf-8", readTestdata(t, tt.fixture)))
			a := Arxiv{Name: "ax", BaseURL: srv.URL, Category: tt.category, Include: tt.include}
			got, err := a.Scrape(context.Background(), sunday, testOptions())
			if err != nil {
				t.Fatalf("Scrape: %v", err)
			}
			sections := map[string]int{}
			for _, p := range got {
				sections[p.Section]++
				if !reflect.DeepEqual(p.Sources, []string{"ax"}) {
					t.Errorf("paper %s Sources = %q, want [ax]", p.ID, p.Sources)
				}
				if !p.Day.Equal(tt.wantDay) {
					t.Errorf("paper %s Day = %v, want %v", p.ID, p.Day, tt.wantDay)
				}
			}
			if !reflect.DeepEqual(sections, tt.want) {
				t.Errorf("papers per section = %v, want %v", sections, tt.want)
			}
			wantURIs := []string{"/robots.txt", "/list/" + tt.category + "/new"}
			if uris := srv.uris(); !reflect.DeepEqual(uris, wantURIs) {
				t.Errorf("requests = %q, want %q", uris, wantURIs)
			}
			for _, h := range srv.requests() {
				if h.UserAgent != DefaultUserAgent {
					t.Errorf("%s: User-Agent %q, want %q", h.URI, h.UserAgent, DefaultUserAgent)
				}
			}
		})
	}
}

// TestArxivRetryAfter answers the listing with 503 and Retry-After, as arXiv
// does while it rebuilds a listing, then with the page. The wait is read
// from the log, not from the clock: Retry-After 120 s capped by MaxWait.
func TestArxivRetryAfter(t *testing.T) {
	srv := arxivServer(t, robotsAllowing, sequence(
		status(http.StatusServiceUnavailable, "Retry-After", "120"),
		body("text/html", readTestdata(t, arxivFixture)),
	))
	var (
		mu    sync.Mutex
		waits []time.Duration
	)
	opt := testOptions()
	opt.Logger = slog.New(funcHandler{fn: func(r slog.Record, _ []slog.Attr) {
		if r.Message != "retrying" {
			return
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "wait" {
				mu.Lock()
				waits = append(waits, a.Value.Duration())
				mu.Unlock()
			}
			return true
		})
	}})
	got, err := Arxiv{Name: "ax", BaseURL: srv.URL, Category: "cs.LG"}.Scrape(context.Background(), sunday, opt)
	if err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	if len(got) != 5 {
		t.Errorf("got %d papers, want 5", len(got))
	}
	wantURIs := []string{"/robots.txt", "/list/cs.LG/new", "/list/cs.LG/new"}
	if uris := srv.uris(); !reflect.DeepEqual(uris, wantURIs) {
		t.Errorf("requests = %q, want %q", uris, wantURIs)
	}
	if want := []time.Duration{opt.MaxWait}; !reflect.DeepEqual(waits, want) {
		t.Errorf("waits = %v, want %v (Retry-After capped by MaxWait, not the %v backoff)", waits, want, opt.Backoff)
	}
}

// TestPoliteFetcher checks what robots.txt makes of the fetcher: the delay it
// configures (not the time it takes) and whether the page may be fetched.
func TestPoliteFetcher(t *testing.T) {
	tests := []struct {
		name      string
		robots    http.HandlerFunc
		delay     time.Duration // Options.Delay
		maxWait   time.Duration // Options.MaxWait, default an hour
		wantDelay time.Duration
		wantErr   error
	}{
		{"crawl-delay raises the delay", text("User-agent: *\nCrawl-delay: 15\nAllow: /list\n"),
			time.Second, 0, 15 * time.Second, nil},
		{"fractional crawl-delay", text("User-agent: *\nCrawl-delay: 0.5\n"),
			time.Millisecond, 0, 500 * time.Millisecond, nil},
		{"a longer configured delay stays", text("User-agent: *\nCrawl-delay: 2\n"),
			time.Minute, 0, time.Minute, nil},
		{"our own group wins over *", text("User-agent: *\nCrawl-delay: 15\n\nUser-agent: paperfeed\nCrawl-delay: 30\n"),
			time.Second, 0, 30 * time.Second, nil},
		{"no crawl-delay", text(robotsAllowing), time.Second, 0, time.Second, nil},
		{"no robots.txt (404) allows everything", status(http.StatusNotFound), time.Second, 0, time.Second, nil},
		{"an absurd crawl-delay is capped by max wait", text("User-agent: *\nCrawl-delay: 86400\n"),
			time.Second, 2 * time.Minute, 2 * time.Minute, nil},
		{"robots.txt answering 429 is an error", status(http.StatusTooManyRequests), time.Nanosecond, 0, 0, &HTTPError{}},
		{"disallowed listing", text("User-agent: *\nCrawl-delay: 15\nDisallow: /list\n"),
			time.Second, 0, 0, ErrDisallowed},
		{"disallowed for us only", text("User-agent: paperfeed\nDisallow: /\n"),
			time.Second, 0, 0, ErrDisallowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.robots)
			opt := testOptions()
			opt.Delay = tt.delay
			opt.MaxWait = time.Hour
			if tt.maxWait != 0 {
				opt.MaxWait = tt.maxWait
			}
			opt = opt.withDefaults()
			f, err := politeFetcher(context.Background(), opt, nil, mustURL(t, srv.URL+"/list/cs.LG/new"))
			if he := (*HTTPError)(nil); errors.As(tt.wantErr, &he) {
				if !errors.As(err, &he) || he.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("politeFetcher error = %v, want a 429 *HTTPError", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("politeFetcher error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if f.opt.Delay != tt.wantDelay {
				t.Errorf("delay = %v, want %v", f.opt.Delay, tt.wantDelay)
			}
			if uris := srv.uris(); !reflect.DeepEqual(uris, []string{"/robots.txt"}) {
				t.Errorf("requests = %q, want only /robots.txt", uris)
			}
		})
	}
}

func text(s string) http.HandlerFunc {
	return body("text/plain", []byte(s))
}

func TestArxivErrors(t *testing.T) {
	tests := []struct {
		name     string
		robots   http.HandlerFunc
		page     http.HandlerFunc
		arxiv    Arxiv
		wantErr  error
		wantURIs []string
	}{
		{"robots.txt disallows /list", text("User-agent: *\nDisallow: /list\n"), nil,
			Arxiv{Category: "cs.LG"}, ErrDisallowed, []string{"/robots.txt"}},
		{"robots.txt keeps failing", status(http.StatusInternalServerError), nil,
			Arxiv{Category: "cs.LG"}, &HTTPError{}, []string{"/robots.txt", "/robots.txt", "/robots.txt"}},
		{"listing keeps answering 503", text(robotsAllowing), status(http.StatusServiceUnavailable, "Retry-After", "1"),
			Arxiv{Category: "cs.LG"}, &HTTPError{}, []string{"/robots.txt", "/list/cs.LG/new", "/list/cs.LG/new", "/list/cs.LG/new"}},
		{"listing not found", text(robotsAllowing), status(http.StatusNotFound),
			Arxiv{Category: "cs.XX"}, &HTTPError{}, []string{"/robots.txt", "/list/cs.XX/new"}},
		{"not a listing page", text(robotsAllowing), body("text/html", []byte("<html><body><h1>Maintenance</h1></body></html>")),
			Arxiv{Category: "cs.LG"}, arxiv.ErrNotListing, []string{"/robots.txt", "/list/cs.LG/new"}},
		{"bad category", nil, nil, Arxiv{Category: "cs.LG/../../admin"}, nil, nil},
		{"empty category", nil, nil, Arxiv{}, nil, nil},
		{"unknown section", nil, nil, Arxiv{Category: "cs.LG", Include: []string{"new", "withdrawn"}}, nil, nil},
		{"base url not http", nil, nil, Arxiv{Category: "cs.LG", BaseURL: "ftp://arxiv.org"}, errNotHTTP, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/robots.txt" && tt.robots != nil:
					tt.robots(w, r)
				case tt.page != nil:
					tt.page(w, r)
				default:
					t.Errorf("unexpected request %s", r.URL)
				}
			})
			a := tt.arxiv
			a.Name = "ax"
			if a.BaseURL == "" {
				a.BaseURL = srv.URL
			}
			got, err := a.Scrape(context.Background(), sunday, testOptions())
			if err == nil {
				t.Fatalf("Scrape = %d papers, nil error; want an error", len(got))
			}
			if len(got) != 0 {
				t.Errorf("got %d papers with the error, want none", len(got))
			}
			var he *HTTPError
			switch want := tt.wantErr.(type) {
			case nil:
			case *HTTPError:
				if !errors.As(err, &he) {
					t.Errorf("error %q is no *HTTPError", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Errorf("error %q is not %v", err, want)
				}
			}
			if uris := srv.uris(); !reflect.DeepEqual(uris, tt.wantURIs) {
				t.Errorf("requests = %q, want %q", uris, tt.wantURIs)
			}
		})
	}
}

// TestArxivCancelledDuringCrawlDelay cancels while the page waits out an
// hour-long Crawl-delay: Scrape must return at once, without the page.
func TestArxivCancelledDuringCrawlDelay(t *testing.T) {
	srv := arxivServer(t, "User-agent: *\nCrawl-delay: 3600\n", body("text/html", readTestdata(t, arxivFixture)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := testOptions()
	opt.MaxWait = 2 * time.Hour
	opt.Logger = slog.New(funcHandler{fn: func(r slog.Record, _ []slog.Attr) {
		if r.Message == "honouring crawl-delay" {
			cancel() // the fetcher is about to wait an hour
		}
	}})
	done := make(chan error, 1)
	go func() {
		got, err := Arxiv{Name: "ax", BaseURL: srv.URL, Category: "cs.LG"}.Scrape(ctx, sunday, opt)
		if len(got) != 0 {
			t.Errorf("got %d papers, want none", len(got))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got error %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second): // a guard against hanging for the hour, not a timing target
		t.Fatal("Scrape did not return after cancel")
	}
	if uris := srv.uris(); !reflect.DeepEqual(uris, []string{"/robots.txt"}) {
		t.Errorf("requests = %q, want only /robots.txt", uris)
	}
}
