package scrape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// sunday is a Sunday: the three days before it include a weekend, and the
// site answers Saturday and Sunday with Friday's list.
var sunday = time.Date(2026, 6, 14, 10, 30, 0, 0, time.UTC)

// hit is one request the test server saw.
type hit struct {
	URI       string // path and query
	UserAgent string
	Accept    string
	At        time.Time
}

// testServer is a real HTTP server on 127.0.0.1 that records its requests.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newTestServer(t testing.TB, h http.HandlerFunc) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits = append(s.hits, hit{URI: r.URL.RequestURI(), UserAgent: r.UserAgent(), Accept: r.Header.Get("Accept"), At: time.Now()})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// requests returns the URIs requested, robots.txt included.
func (s *testServer) requests() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

func (s *testServer) uris() []string {
	var uris []string
	for _, h := range s.requests() {
		uris = append(uris, h.URI)
	}
	return uris
}

// testOptions are fast options: no delay to speak of, millisecond backoff.
func testOptions() Options {
	return Options{
		Timeout: 5 * time.Second,
		Delay:   time.Nanosecond,
		Retries: 2,
		Backoff: time.Millisecond,
		MaxWait: 20 * time.Millisecond,
	}
}

func serveBytes(w http.ResponseWriter, contentType string, data []byte) {
	w.Header().Set("Content-Type", contentType)
	if _, err := w.Write(data); err != nil {
		panic(fmt.Sprintf("test server write: %v", err)) // fails the test loudly
	}
}

// wantPapers is the fixture as the source named name reports it.
func wantPapers(t testing.TB, name string) []paper.Paper {
	t.Helper()
	papers, err := ParseDailyAPI(readTestdata(t, apiFixture))
	if err != nil {
		t.Fatalf("ParseDailyAPI: %v", err)
	}
	for i := range papers {
		papers[i].Sources = []string{name}
	}
	return papers
}

func TestScrapeAPI(t *testing.T) {
	// Colly reads COLLY_* variables in NewCollector; they must not override
	// the options.
	t.Setenv("COLLY_USER_AGENT", "env-agent")
	t.Setenv("COLLY_MAX_BODY_SIZE", "10")
	t.Setenv("COLLY_IGNORE_ROBOTSTXT", "yes")
	t.Setenv("COLLY_MAX_REQUESTS", "1")
	t.Setenv("COLLY_ALLOWED_DOMAINS", "example.org")

	data := readTestdata(t, apiFixture)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/daily_papers" {
			http.NotFound(w, r)
			return
		}
		serveBytes(w, "application/json; charset=utf-8", data)
	})
	h := HuggingFace{Name: "hf", BaseURL: srv.URL}
	got, err := h.Scrape(context.Background(), sunday, testOptions())
	if err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	if want := wantPapers(t, "hf"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %d papers, want the fixture's %d deduplicated across the weekend", len(got), len(want))
	}
	wantURIs := []string{
		"/api/daily_papers?date=2026-06-14",
		"/api/daily_papers?date=2026-06-13",
		"/api/daily_papers?date=2026-06-12",
	}
	if got := srv.uris(); !reflect.DeepEqual(got, wantURIs) {
		t.Errorf("requests: got %q, want %q (no robots.txt for the API)", got, wantURIs)
	}
	for _, r := range srv.requests() {
		if r.UserAgent != DefaultUserAgent {
			t.Errorf("%s: User-Agent %q, want %q", r.URI, r.UserAgent, DefaultUserAgent)
		}
		if r.Accept != "application/json" {
			t.Errorf("%s: Accept %q, want application/json", r.URI, r.Accept)
		}
	}
}

func TestScrapeHTML(t *testing.T) {
	page := readTestdata(t, htmlFixture)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			serveBytes(w, "text/plain", []byte("User-agent: *\nDisallow: /api/\nAllow: /papers\n"))
		case strings.HasPrefix(r.URL.Path, "/papers/date/"):
			serveBytes(w, "text/html; charset=utf-8", page)
		default:
			http.NotFound(w, r)
		}
	})
	h := HuggingFace{Name: "hf-html", BaseURL: srv.URL + "/", Via: "html", Days: 2}
	opt := testOptions()
	opt.UserAgent = "paperfeed-test/1"
	got, err := h.Scrape(context.Background(), sunday, opt)
	if err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	if want := wantPapers(t, "hf-html"); !reflect.DeepEqual(got, want) {
		t.Errorf("got %d papers, want the fixture's %d", len(got), len(want))
	}
	wantURIs := []string{"/robots.txt", "/papers/date/2026-06-14", "/papers/date/2026-06-13"}
	if got := srv.uris(); !reflect.DeepEqual(got, wantURIs) {
		t.Errorf("requests: got %q, want %q", got, wantURIs)
	}
	for _, r := range srv.requests() {
		if r.UserAgent != "paperfeed-test/1" {
			t.Errorf("%s: User-Agent %q, want paperfeed-test/1", r.URI, r.UserAgent)
		}
	}
}

// TestScrapeHTMLCards runs the card fallback through Colly: the page has no
// data-props, its cards repeat one paper, and a page with nothing is an error.
func TestScrapeHTMLCards(t *testing.T) {
	cards := readTestdata(t, cardsFixture)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r) // no robots.txt: everything allowed
		case "/papers/date/2026-06-14":
			serveBytes(w, "text/html", cards)
		default:
			serveBytes(w, "text/html", []byte("<html><body><p>Something went wrong</p></body></html>"))
		}
	})
	got, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Via: "html", Days: 2}.Scrape(context.Background(), sunday, testOptions())
	if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), "/papers/date/2026-06-13") {
		t.Errorf("got error %v, want ErrNoData for /papers/date/2026-06-13", err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.ID)
	}
	if want := []string{"2606.00467", "2606.12730", "2606.13594"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("got ids %q, want %q (deduplicated)", ids, want)
	}
	if len(got) == 3 && got[1].Upvotes != 5 {
		t.Errorf("2606.12730: got %d upvotes, want the first card's 5", got[1].Upvotes)
	}
}

func TestScrapeRobots(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			serveBytes(w, "text/plain", []byte("User-agent: *\nDisallow: /papers\nDisallow: /api\n"))
		case strings.HasPrefix(r.URL.Path, "/papers/"):
			serveBytes(w, "text/html", readTestdata(t, htmlFixture))
		default:
			serveBytes(w, "application/json", readTestdata(t, apiFixture))
		}
	})
	tests := []struct {
		name      string
		via       string
		wantErr   error
		wantCount int
		wantURIs  []string
	}{
		{
			name:     "html pages obey robots.txt",
			via:      "html",
			wantErr:  ErrDisallowed,
			wantURIs: []string{"/robots.txt"},
		},
		{
			name:      "the json api is not subject to robots.txt",
			via:       "api",
			wantCount: 30,
			wantURIs:  []string{"/api/daily_papers?date=2026-06-14"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.mu.Lock()
			srv.hits = nil
			srv.mu.Unlock()
			h := HuggingFace{Name: "hf", BaseURL: srv.URL, Via: tt.via, Days: 1}
			got, err := h.Scrape(context.Background(), sunday, testOptions())
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got error %v, want %v", err, tt.wantErr)
			}
			if len(got) != tt.wantCount {
				t.Errorf("got %d papers, want %d", len(got), tt.wantCount)
			}
			if uris := srv.uris(); !reflect.DeepEqual(uris, tt.wantURIs) {
				t.Errorf("requests: got %q, want %q", uris, tt.wantURIs)
			}
		})
	}
}

// sequence answers the i-th request with steps[i], and the last step after.
func sequence(steps ...http.HandlerFunc) http.HandlerFunc {
	var (
		mu sync.Mutex
		n  int
	)
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := min(n, len(steps)-1)
		n++
		mu.Unlock()
		steps[i](w, r)
	}
}

func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		http.Error(w, http.StatusText(code), code)
	}
}

func body(contentType string, data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { serveBytes(w, contentType, data) }
}

// hang answers only when the client has gone.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func TestScrapeFailures(t *testing.T) {
	fixture := readTestdata(t, apiFixture)
	ok := body("application/json", fixture)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		opt       func(*Options)
		wantHits  int
		wantCount int
		check     func(error) bool // nil: want no error
		wantMsg   string
		// wantGaps are lower bounds of the waits between requests.
		wantGaps []time.Duration
	}{
		{
			name:      "429 with Retry-After then success",
			handler:   sequence(status(http.StatusTooManyRequests, "Retry-After", "1"), ok),
			opt:       func(o *Options) { o.MaxWait = 100 * time.Millisecond }, // caps the 1s
			wantHits:  2,
			wantCount: 30,
			wantGaps:  []time.Duration{100 * time.Millisecond},
		},
		{
			name:      "503 twice then success, backoff doubled",
			handler:   sequence(status(503), status(503), ok),
			opt:       func(o *Options) { o.Backoff = 20 * time.Millisecond; o.MaxWait = time.Second },
			wantHits:  3,
			wantCount: 30,
			wantGaps:  []time.Duration{20 * time.Millisecond, 40 * time.Millisecond},
		},
		{
			name:     "500 retried then error",
			handler:  status(http.StatusInternalServerError),
			wantHits: 3,
			check: func(err error) bool {
				var he *HTTPError
				return errors.As(err, &he) && he.StatusCode == 500 && strings.HasSuffix(he.URL, "date=2026-06-14")
			},
			wantMsg: "gave up after 3 attempts: http status 500 Internal Server Error",
		},
		{
			name:     "no retries when Retries is negative",
			handler:  status(http.StatusBadGateway),
			opt:      func(o *Options) { o.Retries = -1 },
			wantHits: 1,
			check: func(err error) bool {
				var he *HTTPError
				return errors.As(err, &he) && he.StatusCode == 502
			},
		},
		{
			name:     "404 is not retried",
			handler:  status(http.StatusNotFound),
			wantHits: 1,
			check: func(err error) bool {
				var he *HTTPError
				return errors.As(err, &he) && he.StatusCode == 404
			},
		},
		{
			name:     "timeout retried then error",
			handler:  hang,
			opt:      func(o *Options) { o.Timeout = 50 * time.Millisecond; o.Retries = 1 },
			wantHits: 2,
			check:    isTimeout,
			wantMsg:  "date=2026-06-14",
		},
		{
			name:     "body over the limit",
			handler:  ok,
			opt:      func(o *Options) { o.MaxBody = len(fixture) - 1 },
			wantHits: 1,
			check:    func(err error) bool { return errors.Is(err, ErrBodyTooLarge) },
		},
		{
			name:      "body exactly at the limit",
			handler:   ok,
			opt:       func(o *Options) { o.MaxBody = len(fixture) },
			wantHits:  1,
			wantCount: 30,
		},
		{
			name:     "malformed json",
			handler:  body("application/json", fixture[:len(fixture)/2]),
			wantHits: 1,
			check:    func(err error) bool { return err != nil },
			wantMsg:  "decode daily papers json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.handler)
			opt := testOptions()
			if tt.opt != nil {
				tt.opt(&opt)
			}
			h := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}
			got, err := h.Scrape(context.Background(), sunday, opt)
			if tt.check == nil && err != nil {
				t.Errorf("Scrape: %v", err)
			}
			if tt.check != nil && !tt.check(err) {
				t.Errorf("got error %v, not the one wanted", err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantMsg)
			}
			if len(got) != tt.wantCount {
				t.Errorf("got %d papers, want %d", len(got), tt.wantCount)
			}
			hits := srv.requests()
			if len(hits) != tt.wantHits {
				t.Errorf("got %d requests, want %d", len(hits), tt.wantHits)
			}
			for i, min := range tt.wantGaps {
				if i+1 >= len(hits) {
					break
				}
				if gap := hits[i+1].At.Sub(hits[i].At); gap < min {
					t.Errorf("request %d came %v after the previous one, want at least %v", i+1, gap, min)
				}
			}
		})
	}
}

func TestScrapeOneDayFailing(t *testing.T) {
	fixture := readTestdata(t, apiFixture)
	other := []byte(`[{"paper":{"id":"2606.99999","title":"Thursday","submittedOnDailyAt":"2026-06-11T00:00:00.000Z"}}]`)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("date") {
		case "2026-06-12":
			serveBytes(w, "application/json", fixture)
		case "2026-06-11":
			status(http.StatusInternalServerError)(w, r)
		default:
			serveBytes(w, "application/json", other)
		}
	})
	h := HuggingFace{Name: "hf", BaseURL: srv.URL}
	got, err := h.Scrape(context.Background(), time.Date(2026, 6, 12, 23, 0, 0, 0, time.UTC), testOptions())
	if err == nil {
		t.Fatal("got no error, want the failed day reported")
	}
	if !strings.Contains(err.Error(), "date=2026-06-11") || strings.Contains(err.Error(), "date=2026-06-12") {
		t.Errorf("got error %q, want it to name only the failed 2026-06-11 url", err)
	}
	if len(got) != 31 {
		t.Fatalf("got %d papers, want the other days' 31", len(got))
	}
	if last := got[30]; last.ID != "2606.99999" || !last.Day.Equal(time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("last paper: got %s day %v, want 2606.99999 with the day from the data", last.ID, last.Day)
	}
	if hits := len(srv.requests()); hits != 5 { // 1 + 3 tries of the failing day + 1
		t.Errorf("got %d requests, want 5", hits)
	}
}

// funcHandler is a slog.Handler that hands each record to fn.
type funcHandler struct {
	attrs []slog.Attr
	fn    func(slog.Record, []slog.Attr)
}

func (h funcHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h funcHandler) Handle(_ context.Context, r slog.Record) error {
	h.fn(r, h.attrs)
	return nil
}
func (h funcHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return funcHandler{attrs: append(append([]slog.Attr(nil), h.attrs...), as...), fn: h.fn}
}
func (h funcHandler) WithGroup(string) slog.Handler { return h }

func TestScrapeCancelledDuringBackoff(t *testing.T) {
	srv := newTestServer(t, status(http.StatusServiceUnavailable, "Retry-After", "3600"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	retrying := make(chan struct{})
	var once sync.Once
	opt := testOptions()
	opt.MaxWait = time.Hour
	opt.Logger = slog.New(funcHandler{fn: func(r slog.Record, _ []slog.Attr) {
		if r.Message == "retrying" {
			once.Do(func() { close(retrying) })
		}
	}})
	go func() {
		<-retrying // the fetcher is about to wait an hour
		cancel()
	}()
	type result struct {
		papers []paper.Paper
		err    error
	}
	done := make(chan result, 1)
	go func() {
		got, err := HuggingFace{Name: "hf", BaseURL: srv.URL}.Scrape(ctx, sunday, opt)
		done <- result{got, err}
	}()
	var got []paper.Paper
	var err error
	select {
	case r := <-done:
		got, err = r.papers, r.err
	case <-time.After(30 * time.Second): // a guard against hanging for the hour, not a timing target
		t.Fatal("Scrape did not return after cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
	if len(got) != 0 {
		t.Errorf("got %d papers, want none", len(got))
	}
	if hits := len(srv.requests()); hits != 1 {
		t.Errorf("got %d requests, want 1 (no further days after cancel)", hits)
	}
}

func TestScrapeCancelledBeforeStart(t *testing.T) {
	srv := newTestServer(t, body("application/json", []byte(`[]`)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := HuggingFace{Name: "hf", BaseURL: srv.URL}.Scrape(ctx, sunday, testOptions())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
	if len(got) != 0 {
		t.Errorf("got %d papers, want none", len(got))
	}
	if hits := len(srv.requests()); hits != 0 {
		t.Errorf("got %d requests, want 0", hits)
	}
}

func TestScrapeDelay(t *testing.T) {
	srv := newTestServer(t, body("application/json", []byte(`[]`)))
	opt := testOptions()
	opt.Delay = 30 * time.Millisecond
	if _, err := (HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 3}).Scrape(context.Background(), sunday, opt); err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	hits := srv.requests()
	if len(hits) != 3 {
		t.Fatalf("got %d requests, want 3", len(hits))
	}
	for i := 1; i < len(hits); i++ {
		if gap := hits[i].At.Sub(hits[i-1].At); gap < opt.Delay {
			t.Errorf("request %d came %v after the previous one, want at least %v", i, gap, opt.Delay)
		}
	}
}

func TestScrapeLogsSkipped(t *testing.T) {
	srv := newTestServer(t, body("application/json", []byte(`[{"paper":{"id":"bogus"}},{"paper":{"id":"2606.00001","title":"ok"}}]`)))
	var (
		mu     sync.Mutex
		logged []string
	)
	opt := testOptions()
	opt.Logger = slog.New(funcHandler{fn: func(r slog.Record, attrs []slog.Attr) {
		line := r.Level.String() + " " + r.Message
		for _, a := range attrs {
			line += " " + a.String()
		}
		r.Attrs(func(a slog.Attr) bool {
			line += " " + a.String()
			return true
		})
		mu.Lock()
		logged = append(logged, line)
		mu.Unlock()
	}})
	got, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}.Scrape(context.Background(), sunday, opt)
	if err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	want := []paper.Paper{{ID: "2606.00001", Hub: true, Title: "ok", Sources: []string{"hf"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	wantLine := "WARN skipped an entry source=hf url=" + srv.URL + "/api/daily_papers?date=2026-06-14 index=0 id=bogus reason=no valid arxiv id"
	if !reflect.DeepEqual(logged, []string{wantLine}) {
		t.Errorf("logged %q, want %q", logged, wantLine)
	}
}

func TestScrapeConfigErrors(t *testing.T) {
	srv := newTestServer(t, body("application/json", []byte(`[]`)))
	tests := []struct {
		name    string
		h       HuggingFace
		wantMsg string
	}{
		{"unknown via", HuggingFace{Name: "hf", BaseURL: srv.URL, Via: "rss"}, `via "rss"`},
		{"negative days", HuggingFace{Name: "hf", BaseURL: srv.URL, Days: -1}, "days -1"},
		{"not http", HuggingFace{Name: "hf", BaseURL: "ftp://127.0.0.1/"}, "want an absolute http(s) url"},
		{"relative", HuggingFace{Name: "hf", BaseURL: "/papers"}, "want an absolute http(s) url"},
		{"unparsable", HuggingFace{Name: "hf", BaseURL: "http://[::1"}, "base url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.h.Scrape(context.Background(), sunday, testOptions())
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) || !strings.HasPrefix(err.Error(), "scrape hf: ") {
				t.Errorf("got error %v, want one starting \"scrape hf: \" containing %q", err, tt.wantMsg)
			}
			if got != nil {
				t.Errorf("got %d papers, want none", len(got))
			}
		})
	}
	if hits := len(srv.requests()); hits != 0 {
		t.Errorf("got %d requests, want none for bad configuration", hits)
	}
}

func TestScrapeConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	got, err := HuggingFace{Name: "hf", BaseURL: "http://" + addr, Days: 2}.Scrape(context.Background(), sunday, testOptions())
	if err == nil || !strings.Contains(err.Error(), "date=2026-06-14") || !strings.Contains(err.Error(), "date=2026-06-13") {
		t.Errorf("got error %v, want both days named", err)
	}
	if len(got) != 0 {
		t.Errorf("got %d papers, want none", len(got))
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 13, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
		wantOK bool
	}{
		{"absent", nil, 0, false},
		{"seconds", map[string]string{"Retry-After": "120"}, 2 * time.Minute, true},
		{"zero seconds", map[string]string{"Retry-After": "0"}, 0, true},
		{"negative seconds", map[string]string{"Retry-After": "-5"}, 0, false},
		{"huge seconds capped at a day", map[string]string{"Retry-After": "99999999999999999"}, 24 * time.Hour, true},
		{"http date from now", map[string]string{"Retry-After": "Sat, 13 Jun 2026 12:01:30 GMT"}, 90 * time.Second, true},
		{"http date from the server's Date", map[string]string{"Retry-After": "Sat, 13 Jun 2026 12:01:30 GMT", "Date": "Sat, 13 Jun 2026 12:01:00 GMT"}, 30 * time.Second, true},
		{"date in the past", map[string]string{"Retry-After": "Sat, 13 Jun 2026 11:00:00 GMT"}, 0, true},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := retryAfter(h, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("retryAfter(%v) = %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name         string
		first, limit time.Duration
		attempt      int
		want         time.Duration
	}{
		{"first try", 2 * time.Second, time.Minute, 0, 2 * time.Second},
		{"doubled", 2 * time.Second, time.Minute, 1, 4 * time.Second},
		{"doubled twice", 2 * time.Second, time.Minute, 2, 8 * time.Second},
		{"capped", 2 * time.Second, time.Minute, 5, time.Minute},
		{"no overflow", time.Hour, 2 * time.Hour, 100, 2 * time.Hour},
		{"first above limit", time.Hour, time.Minute, 0, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := backoff(tt.first, tt.limit, tt.attempt); got != tt.want {
				t.Errorf("backoff(%v, %v, %d) = %v, want %v", tt.first, tt.limit, tt.attempt, got, tt.want)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want Options
	}{
		{
			name: "zero takes defaults",
			in:   Options{},
			want: Options{UserAgent: DefaultUserAgent, Timeout: DefaultTimeout, MaxBody: DefaultMaxBody, Delay: DefaultDelay, Retries: DefaultRetries, Backoff: DefaultBackoff, MaxWait: DefaultMaxWait, MaxPapers: DefaultMaxPapers},
		},
		{
			name: "negative delay and retries mean none, negative max papers the default",
			in:   Options{Delay: -1, Retries: -1, MaxPapers: -1},
			want: Options{UserAgent: DefaultUserAgent, Timeout: DefaultTimeout, MaxBody: DefaultMaxBody, Delay: 0, Retries: 0, Backoff: DefaultBackoff, MaxWait: DefaultMaxWait, MaxPapers: DefaultMaxPapers},
		},
		{
			name: "set values kept",
			in:   Options{UserAgent: "x", Timeout: 1, MaxBody: 2, Delay: 3, Retries: 4, Backoff: 5, MaxWait: 6, MaxPapers: 7},
			want: Options{UserAgent: "x", Timeout: 1, MaxBody: 2, Delay: 3, Retries: 4, Backoff: 5, MaxWait: 6, MaxPapers: 7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.withDefaults()
			if got.Logger == nil {
				t.Error("got a nil Logger, want a discarding one")
			}
			got.Logger = nil
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func BenchmarkScrapeFixture(b *testing.B) {
	data := readTestdata(b, apiFixture)
	srv := newTestServer(b, body("application/json", data))
	h := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}
	opt := testOptions()
	b.ReportAllocs()
	for b.Loop() {
		got, err := h.Scrape(context.Background(), sunday, opt)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 30 {
			b.Fatalf("got %d papers, want 30", len(got))
		}
	}
}
