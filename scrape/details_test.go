package scrape

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/arxiv"
	"github.com/paperfeed/paperfeed/scrape/listing"
)

const (
	absFixture     = "../testdata/arxiv-abs-2512.04392v2.html"
	projectFixture = "testdata/details-lab-project.html"
	metaFixture    = "testdata/details-meta-only.html"
	nothingFixture = "testdata/details-nothing.html"
)

// pagesServer serves robots.txt and the pages named by path; anything else
// is a 404.
func pagesServer(t *testing.T, robots string, pages map[string]http.HandlerFunc) *testServer {
	t.Helper()
	return newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			serveBytes(w, "text/plain", []byte(robots))
			return
		}
		if h, ok := pages[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

func htmlPage(t *testing.T, fixture string) http.HandlerFunc {
	return body("text/html; charset=utf-8", readTestdata(t, fixture))
}

// TestDetailsArxivGolden fills papers from an arXiv /recent listing (titles
// only) from their abstract pages, and compares the result with golden JSON.
func TestDetailsArxivGolden(t *testing.T) {
	srv := pagesServer(t, robotsAllowing, map[string]http.HandlerFunc{
		"/abs/2512.04392": htmlPage(t, absFixture),
	})
	day := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	in := []paper.Paper{{
		ID: "2512.04392", Title: "Sparse Attention (as the listing shortened it)",
		Categories: []string{"cs.LG"}, Section: "new", Day: day, Sources: []string{"arxiv-recent"},
	}}
	got, err := Details{ArxivURL: srv.URL}.Fetch(context.Background(), in, testOptions())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	checkGolden(t, "details-arxiv.golden.json", marshalPapers(t, got))

	// What the golden file must hold, spelled out: fields the listing had
	// are kept, the others come from the page.
	p := got[0]
	if p.Title != in[0].Title || !reflect.DeepEqual(p.Categories, []string{"cs.LG"}) || p.Section != "new" || !p.Day.Equal(day) {
		t.Errorf("listing fields changed: title %q, categories %q, section %q, day %v", p.Title, p.Categories, p.Section, p.Day)
	}
	if !strings.HasPrefix(p.Abstract, "We show that attention") {
		t.Errorf("Abstract = %q, want the page's", p.Abstract)
	}
	if want := []string{"Chiamaka Okafor", "Erik Lindqvist", "Hiroshi Tanaka"}; !reflect.DeepEqual(p.Authors, want) {
		t.Errorf("Authors = %q, want %q", p.Authors, want)
	}
	if want := time.Date(2025, 12, 5, 18, 59, 59, 0, time.UTC); !p.Published.Equal(want) {
		t.Errorf("Published = %v, want %v", p.Published, want)
	}
	if p.ArxivComments == "" || p.JournalRef == "" {
		t.Errorf("comments %q, journal ref %q: want both from the page", p.ArxivComments, p.JournalRef)
	}
	if in[0].Abstract != "" {
		t.Errorf("the papers passed in were modified: %+v", in[0])
	}
	if uris := srv.uris(); !reflect.DeepEqual(uris, []string{"/robots.txt", "/abs/2512.04392"}) {
		t.Errorf("requests = %q", uris)
	}
	for _, h := range srv.requests() {
		if h.UserAgent != DefaultUserAgent || h.Accept != "text/html" {
			t.Errorf("request %s: User-Agent %q, Accept %q", h.URI, h.UserAgent, h.Accept)
		}
	}
}

// TestDetailsPages reads papers' own pages: by the source's selectors, by
// meta tags, or finding nothing.
func TestDetailsPages(t *testing.T) {
	tests := []struct {
		name    string
		page    http.HandlerFunc
		sel     listing.Selectors
		in      paper.Paper // Link is set to the page
		want    paper.Paper // Link is set to the page
		wantErr error
	}{
		{"lab page by the source's selectors", htmlPage(t, projectFixture), labSelectors,
			paper.Paper{Title: "HoloNeRF"},
			paper.Paper{Title: "HoloNeRF",
				Abstract: "We render neural radiance fields as computer-generated holograms. A differentiable wave-propagation layer lets us train & display scenes at 30 fps on a phase-only modulator.",
				Authors:  []string{"Kenji Sato", "Priya Nair", "Tomasz Nowak"},
				Day:      time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC)}, nil},
		{"what the listing had is kept", htmlPage(t, projectFixture), labSelectors,
			paper.Paper{Title: "HoloNeRF", Authors: []string{"K. Sato"}, Day: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)},
			paper.Paper{Title: "HoloNeRF",
				Abstract: "We render neural radiance fields as computer-generated holograms. A differentiable wave-propagation layer lets us train & display scenes at 30 fps on a phase-only modulator.",
				Authors:  []string{"K. Sato"}, Day: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"selectors that match nothing fall back to og:description", htmlPage(t, projectFixture),
			listing.Selectors{Abstract: "div.summary", Authors: "ul.people li"},
			paper.Paper{Title: "HoloNeRF"},
			paper.Paper{Title: "HoloNeRF", Abstract: "Radiance fields rendered as holograms."}, nil},
		{"attribute selector", htmlPage(t, projectFixture), listing.Selectors{Abstract: `meta[name="description"]@content`},
			paper.Paper{Title: "HoloNeRF"},
			paper.Paper{Title: "HoloNeRF", Abstract: "Project page of HoloNeRF, from the Example Vision Lab."}, nil},
		{"meta tags only, no selectors", htmlPage(t, metaFixture), listing.Selectors{},
			paper.Paper{Title: "Event-Based Optical Flow"},
			paper.Paper{Title: "Event-Based Optical Flow",
				Abstract: "Optical flow from event cameras at 10 kHz, with a spiking network.",
				Authors:  []string{"Lena Fischer", "Ng Wei"},
				Day:      time.Date(2025, 9, 2, 0, 0, 0, 0, time.UTC)}, nil},
		{"meta description as the last resort", body("text/html", []byte(`<html><head><meta name="Description" content=" A  page. "></head></html>`)),
			listing.Selectors{}, paper.Paper{Title: "T"}, paper.Paper{Title: "T", Abstract: "A page."}, nil},
		{"article:published_time", body("text/html", []byte(`<html><head><meta property="article:published_time" content="2025-09-02T10:00:00+02:00"></head></html>`)),
			listing.Selectors{}, paper.Paper{Title: "T"}, paper.Paper{Title: "T", Day: time.Date(2025, 9, 2, 8, 0, 0, 0, time.UTC)}, nil},
		{"an unreadable meta date is ignored", body("text/html", []byte(`<html><head><meta name="citation_date" content="Sept 2025"><meta name="citation_abstract" content="A."></head></html>`)),
			listing.Selectors{}, paper.Paper{Title: "T"}, paper.Paper{Title: "T", Abstract: "A."}, nil},
		{"a date by layout", body("text/html", []byte(`<p class="when">2 September 2025</p><p class="abstract">A.</p>`)),
			listing.Selectors{Abstract: "p.abstract", Date: "p.when", DateLayout: "2 January 2006"},
			paper.Paper{Title: "T"}, paper.Paper{Title: "T", Abstract: "A.", Day: time.Date(2025, 9, 2, 0, 0, 0, 0, time.UTC)}, nil},
		{"a page with nothing is ErrNoDetails, the paper unchanged", htmlPage(t, nothingFixture), labSelectors,
			paper.Paper{Title: "HoloNeRF", Sources: []string{"lab"}},
			paper.Paper{Title: "HoloNeRF", Sources: []string{"lab"}}, ErrNoDetails},
		{"a date the selector cannot read is an error", body("text/html", []byte(`<p class="when">2 September 2025</p><p class="abstract">A.</p>`)),
			listing.Selectors{Abstract: "p.abstract", Date: "p.when"},
			paper.Paper{Title: "T"}, paper.Paper{Title: "T"}, errDateUnread},
		{"a 404 page", status(http.StatusNotFound), labSelectors,
			paper.Paper{Title: "T"}, paper.Paper{Title: "T"}, &HTTPError{StatusCode: http.StatusNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pagesServer(t, robotsAllowing, map[string]http.HandlerFunc{"/projects/p/": tt.page})
			link := srv.URL + "/projects/p/"
			in := tt.in
			in.ID, in.Link = paper.LinkID(link), link
			want := tt.want
			want.ID, want.Link = in.ID, link
			got, err := Details{Selectors: tt.sel}.Fetch(context.Background(), []paper.Paper{in}, testOptions())
			checkDetailsErr(t, err, tt.wantErr)
			if err != nil && !strings.Contains(err.Error(), in.ID) || err != nil && !strings.Contains(err.Error(), link) {
				t.Errorf("error %q does not name the paper %s and its URL %s", err, in.ID, link)
			}
			if len(got) != 1 {
				t.Fatalf("got %d papers, want 1", len(got))
			}
			if !reflect.DeepEqual(got[0], want) {
				t.Errorf("paper:\ngot  %+v\nwant %+v", got[0], want)
			}
		})
	}
}

// errDateUnread stands for the error of a date that cannot be read.
var errDateUnread = errors.New("date unread")

func checkDetailsErr(t *testing.T, err, want error) {
	t.Helper()
	var he *HTTPError
	switch {
	case want == nil:
		if err != nil {
			t.Fatalf("Fetch error = %v, want none", err)
		}
	case want == errDateUnread:
		if err == nil || !strings.Contains(err.Error(), "date selector") {
			t.Fatalf("Fetch error = %v, want one about the date selector", err)
		}
	case errors.As(want, &he):
		var got *HTTPError
		if !errors.As(err, &got) || got.StatusCode != he.StatusCode {
			t.Fatalf("Fetch error = %v, want an *HTTPError %d", err, he.StatusCode)
		}
	default:
		if !errors.Is(err, want) {
			t.Fatalf("Fetch error = %v, want %v", err, want)
		}
	}
}

// TestDetailsOneFailing fetches three arXiv papers of which one answers 404:
// the others get their details, the failed one is unchanged and named.
func TestDetailsOneFailing(t *testing.T) {
	page := readTestdata(t, absFixture)
	// Abstract pages of other papers: the fixture with its id replaced.
	other := func(id string) http.HandlerFunc {
		return body("text/html", []byte(strings.ReplaceAll(string(page), "2512.04392", id)))
	}
	srv := pagesServer(t, robotsAllowing, map[string]http.HandlerFunc{
		"/abs/2512.00001": other("2512.00001"),
		"/abs/2512.00003": other("2512.00003"),
	})
	in := []paper.Paper{{ID: "2512.00001", Title: "One"}, {ID: "2512.00002", Title: "Two"}, {ID: "2512.00003", Title: "Three"}}
	// A trailing slash on the base is no part of the pages' paths.
	got, err := Details{ArxivURL: srv.URL + "/"}.Fetch(context.Background(), in, testOptions())
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
		t.Fatalf("Fetch error = %v, want a 404 *HTTPError", err)
	}
	for _, want := range []string{"2512.00002", srv.URL + "/abs/2512.00002"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "2512.00001") || strings.Contains(err.Error(), "2512.00003") {
		t.Errorf("error %q names papers that succeeded", err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d papers, want 3", len(got))
	}
	for _, i := range []int{0, 2} {
		if got[i].ID != in[i].ID || got[i].Title != in[i].Title || got[i].Abstract == "" || len(got[i].Authors) != 3 {
			t.Errorf("paper %d = %+v, want %s with the page's abstract and authors", i, got[i], in[i].ID)
		}
	}
	if !reflect.DeepEqual(got[1], in[1]) {
		t.Errorf("failed paper = %+v, want it unchanged %+v", got[1], in[1])
	}
	want := []string{"/robots.txt", "/abs/2512.00001", "/abs/2512.00002", "/abs/2512.00003"}
	if uris := srv.uris(); !reflect.DeepEqual(uris, want) {
		t.Errorf("requests = %q, want %q (robots.txt once, each page once, in order)", uris, want)
	}
}

// TestDetailsErrors covers the failures of single papers and of the whole
// call.
func TestDetailsErrors(t *testing.T) {
	abs := readTestdata(t, absFixture)
	tests := []struct {
		name     string
		details  func(srv string) Details
		in       func(srv string) []paper.Paper
		robots   http.HandlerFunc
		wantErr  error
		wantURIs []string
	}{
		{"no page to fetch", nil,
			func(string) []paper.Paper { return []paper.Paper{{ID: "url-x", Title: "T"}} },
			nil, ErrNoPage, nil},
		{"a link that is not http", nil,
			func(string) []paper.Paper {
				return []paper.Paper{{ID: "url-x", Title: "T", Link: "ftp://example.org/x"}}
			},
			nil, ErrNoPage, nil},
		{"a link to a pdf", nil,
			func(srv string) []paper.Paper {
				return []paper.Paper{{ID: "url-x", Title: "T", Link: srv + "/theses/2025-dubois.PDF"}}
			},
			nil, ErrNotHTML, nil},
		{"an abstract page of another paper", nil,
			func(string) []paper.Paper { return []paper.Paper{{ID: "2512.99999", Title: "T"}} },
			nil, ErrWrongPaper, []string{"/robots.txt", "/abs/2512.99999"}},
		{"not an abstract page", nil,
			func(string) []paper.Paper { return []paper.Paper{{ID: "2512.00404", Title: "T"}} },
			nil, arxiv.ErrNotAbs, []string{"/robots.txt", "/abs/2512.00404"}},
		{"disallowed by robots.txt", nil,
			func(string) []paper.Paper { return []paper.Paper{{ID: "2512.04392", Title: "T"}} },
			text("User-agent: *\nDisallow: /abs\n"), ErrDisallowed, []string{"/robots.txt"}},
		{"robots.txt failing fails every page of its host", nil,
			func(string) []paper.Paper {
				return []paper.Paper{{ID: "2512.04392", Title: "T"}, {ID: "2512.99999", Title: "U"}}
			},
			status(http.StatusInternalServerError), &HTTPError{StatusCode: http.StatusInternalServerError},
			[]string{"/robots.txt", "/robots.txt", "/robots.txt"}},
		{"a bad arxiv url", func(string) Details { return Details{ArxivURL: "arxiv.org"} },
			func(string) []paper.Paper { return []paper.Paper{{ID: "2512.04392", Title: "T"}} },
			nil, errNotHTTP, nil},
		{"a selector that does not compile", func(string) Details {
			return Details{Selectors: listing.Selectors{Abstract: "p[", Date: "time@datetime"}}
		},
			func(srv string) []paper.Paper { return []paper.Paper{{ID: "url-x", Title: "T", Link: srv + "/p"}} },
			nil, &listing.SelectorError{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			robots := tt.robots
			if robots == nil {
				robots = text(robotsAllowing)
			}
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/robots.txt":
					robots(w, r)
				case "/abs/2512.99999", "/abs/2512.04392":
					serveBytes(w, "text/html", abs)
				case "/abs/2512.00404":
					serveBytes(w, "text/html", []byte("<html><body><h1>Article not found</h1></body></html>"))
				default:
					http.NotFound(w, r)
				}
			})
			d := Details{ArxivURL: srv.URL}
			if tt.details != nil {
				d = tt.details(srv.URL)
			}
			in := tt.in(srv.URL)
			got, err := d.Fetch(context.Background(), in, testOptions())
			if se := (*listing.SelectorError)(nil); errors.As(tt.wantErr, &se) {
				if !errors.As(err, &se) || se.Field != "abstract" {
					t.Errorf("Fetch error = %v, want a *listing.SelectorError for abstract", err)
				}
			} else {
				checkDetailsErr(t, err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, in) {
				t.Errorf("papers = %+v, want them unchanged %+v", got, in)
			}
			if uris := srv.uris(); !reflect.DeepEqual(uris, tt.wantURIs) {
				t.Errorf("requests = %q, want %q", uris, tt.wantURIs)
			}
		})
	}
}

// TestDetailsRobotsPerPage checks robots.txt against every page of a host,
// while reading it once.
func TestDetailsRobotsPerPage(t *testing.T) {
	srv := pagesServer(t, "User-agent: *\nDisallow: /private/\n", map[string]http.HandlerFunc{
		"/projects/a/": htmlPage(t, projectFixture),
		"/private/b/":  htmlPage(t, projectFixture),
		"/projects/c/": htmlPage(t, metaFixture),
	})
	var in []paper.Paper
	for _, path := range []string{"/projects/a/", "/private/b/", "/projects/c/"} {
		in = append(in, paper.Paper{ID: paper.LinkID(srv.URL + path), Title: path, Link: srv.URL + path})
	}
	got, err := Details{Selectors: labSelectors}.Fetch(context.Background(), in, testOptions())
	if !errors.Is(err, ErrDisallowed) || !strings.Contains(err.Error(), srv.URL+"/private/b/") {
		t.Errorf("Fetch error = %v, want ErrDisallowed naming /private/b/", err)
	}
	if got[0].Abstract == "" || got[2].Abstract == "" {
		t.Errorf("allowed pages gave abstracts %q and %q, want both", got[0].Abstract, got[2].Abstract)
	}
	if !reflect.DeepEqual(got[1], in[1]) {
		t.Errorf("disallowed paper = %+v, want it unchanged", got[1])
	}
	if want, uris := []string{"/robots.txt", "/projects/a/", "/projects/c/"}, srv.uris(); !reflect.DeepEqual(uris, want) {
		t.Errorf("requests = %q, want %q", uris, want)
	}
}

// TestDetailsSharedPage fetches a page once for the papers that share it.
func TestDetailsSharedPage(t *testing.T) {
	srv := pagesServer(t, robotsAllowing, map[string]http.HandlerFunc{"/projects/p/": htmlPage(t, projectFixture)})
	link := srv.URL + "/projects/p/"
	in := []paper.Paper{
		{ID: paper.LinkID(link), Title: "HoloNeRF", Link: link, Sources: []string{"a"}},
		{ID: paper.LinkID(link), Title: "HoloNeRF", Link: link, Sources: []string{"b"}},
	}
	got, err := Details{Selectors: labSelectors}.Fetch(context.Background(), in, testOptions())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	for i, p := range got {
		if p.Abstract == "" || !reflect.DeepEqual(p.Sources, in[i].Sources) {
			t.Errorf("paper %d = %+v, want the abstract and its own sources", i, p)
		}
	}
	if want, uris := []string{"/robots.txt", "/projects/p/"}, srv.uris(); !reflect.DeepEqual(uris, want) {
		t.Errorf("requests = %q, want %q", uris, want)
	}
}

// TestDetailsRetry waits out a 503 with Retry-After, as arXiv sends while
// busy, within MaxWait.
func TestDetailsRetry(t *testing.T) {
	srv := pagesServer(t, robotsAllowing, map[string]http.HandlerFunc{
		"/abs/2512.04392": sequence(status(http.StatusServiceUnavailable, "Retry-After", "1"), htmlPage(t, absFixture)),
	})
	got, err := Details{ArxivURL: srv.URL}.Fetch(context.Background(), []paper.Paper{{ID: "2512.04392"}}, testOptions())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if got[0].Abstract == "" {
		t.Errorf("no abstract after the retry")
	}
	if want, uris := []string{"/robots.txt", "/abs/2512.04392", "/abs/2512.04392"}, srv.uris(); !reflect.DeepEqual(uris, want) {
		t.Errorf("requests = %q, want %q", uris, want)
	}
}

// inflight counts the requests a set of servers are answering at once.
type inflight struct {
	mu      sync.Mutex
	now     int
	max     int
	perHost map[string]int
	maxHost int
	paired  chan struct{} // closed when two requests overlapped
}

// hold marks a request in flight on host, holds it until another request
// overlaps it (or briefly, at the end of the run, when none will), and
// records the maxima. The wait only makes overlap likely; the bounds are
// checked by counting, not by timing.
func (c *inflight) hold(host string, r *http.Request) {
	c.mu.Lock()
	c.now++
	c.perHost[host]++
	c.max = max(c.max, c.now)
	c.maxHost = max(c.maxHost, c.perHost[host])
	if c.now >= 2 {
		select {
		case <-c.paired:
		default:
			close(c.paired)
		}
	}
	c.mu.Unlock()
	t := time.NewTimer(50 * time.Millisecond)
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
	t.Stop()
	c.mu.Lock()
	c.now--
	c.perHost[host]--
	c.mu.Unlock()
}

// TestDetailsConcurrency fetches pages on three hosts with Concurrency 2:
// never more than two requests at once, never two on one host.
func TestDetailsConcurrency(t *testing.T) {
	c := &inflight{perHost: map[string]int{}, paired: make(chan struct{})}
	var in []paper.Paper
	var servers []*testServer
	for h := range 3 {
		var srv *testServer
		srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			c.hold(srv.URL, r)
			if r.URL.Path == "/robots.txt" {
				serveBytes(w, "text/plain", []byte(robotsAllowing))
				return
			}
			serveBytes(w, "text/html", readTestdata(t, projectFixture))
		})
		servers = append(servers, srv)
		for p := range 3 {
			link := srv.URL + "/projects/" + string(rune('a'+h)) + string(rune('0'+p)) + "/"
			in = append(in, paper.Paper{ID: paper.LinkID(link), Title: "T", Link: link})
		}
	}
	got, err := Details{Selectors: labSelectors, Concurrency: 2}.Fetch(context.Background(), in, testOptions())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	for i, p := range got {
		if p.Abstract == "" {
			t.Errorf("paper %d has no abstract", i)
		}
	}
	if c.max > 2 {
		t.Errorf("%d requests in flight at once, want at most Concurrency 2", c.max)
	}
	if c.maxHost > 1 {
		t.Errorf("%d requests in flight on one host, want at most 1", c.maxHost)
	}
	if c.max < 2 {
		t.Errorf("never two requests in flight: the hosts were not fetched concurrently")
	}
	for _, srv := range servers {
		if n := len(srv.uris()); n != 4 {
			t.Errorf("server %s saw %d requests, want robots.txt and 3 pages", srv.URL, n)
		}
	}
}

// TestDetailsCancelledDuringCrawlDelay cancels while a host's page waits out
// an hour-long Crawl-delay: Fetch returns at once with the papers unchanged,
// saying how many pages it left.
func TestDetailsCancelledDuringCrawlDelay(t *testing.T) {
	srv := pagesServer(t, "User-agent: *\nCrawl-delay: 3600\n", map[string]http.HandlerFunc{"/abs/2512.04392": htmlPage(t, absFixture)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := testOptions()
	opt.MaxWait = 2 * time.Hour
	opt.Logger = slog.New(funcHandler{fn: func(r slog.Record, _ []slog.Attr) {
		if r.Message == "honouring crawl-delay" {
			cancel() // the page is about to wait an hour
		}
	}})
	in := []paper.Paper{{ID: "2512.04392", Title: "T"}, {ID: "2512.00001", Title: "U"}}
	type result struct {
		papers []paper.Paper
		err    error
	}
	done := make(chan result, 1)
	go func() {
		got, err := Details{ArxivURL: srv.URL}.Fetch(ctx, in, opt)
		done <- result{got, err}
	}()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) || !strings.Contains(r.err.Error(), "2 pages not fetched") {
			t.Errorf("Fetch error = %v, want context.Canceled and 2 pages not fetched", r.err)
		}
		if !reflect.DeepEqual(r.papers, in) {
			t.Errorf("papers = %+v, want them unchanged", r.papers)
		}
	case <-time.After(30 * time.Second): // a guard against hanging for the hour, not a timing target
		t.Fatal("Fetch did not return after cancel")
	}
	if uris := srv.uris(); !reflect.DeepEqual(uris, []string{"/robots.txt"}) {
		t.Errorf("requests = %q, want only /robots.txt", uris)
	}
}

// TestDetailsCancelledBeforeStart makes no request at all.
func TestDetailsCancelledBeforeStart(t *testing.T) {
	srv := pagesServer(t, robotsAllowing, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := []paper.Paper{{ID: "2512.04392", Title: "T"}}
	got, err := Details{ArxivURL: srv.URL}.Fetch(ctx, in, testOptions())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch error = %v, want context.Canceled", err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("papers = %+v, want them unchanged", got)
	}
	if uris := srv.uris(); len(uris) != 0 {
		t.Errorf("requests = %q, want none", uris)
	}
}

// TestDetailsNothingToDo makes no request for no papers.
func TestDetailsNothingToDo(t *testing.T) {
	got, err := Details{ArxivURL: "http://127.0.0.1:1"}.Fetch(context.Background(), nil, testOptions())
	if err != nil || len(got) != 0 {
		t.Errorf("Fetch(nil) = %v, %v; want no papers, no error", got, err)
	}
}

func TestCitationName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"last, first", "Okafor, Chiamaka", "Chiamaka Okafor"},
		{"first last", "Chiamaka Okafor", "Chiamaka Okafor"},
		{"two commas kept", "Okafor, Chiamaka, Jr.", "Okafor, Chiamaka, Jr."},
		{"empty first name kept", "Okafor,", "Okafor,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := citationName(tt.in); got != tt.want {
				t.Errorf("citationName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCompilePageQueries(t *testing.T) {
	tests := []struct {
		name     string
		sel      listing.Selectors
		page     string
		wantAbs  string
		wantErrs []string // fields of the *listing.SelectorErrors
	}{
		{"text", listing.Selectors{Abstract: "p.a"}, `<p class="a"> x  y </p>`, "x y", nil},
		{"attribute", listing.Selectors{Abstract: "p.a@title"}, `<p class="a" title="t">x</p>`, "t", nil},
		{"bare attribute is the root element's", listing.Selectors{Abstract: "@data-abstract"}, `<html data-abstract="r"><p>x</p></html>`, "r", nil},
		{"an @ inside CSS stays CSS", listing.Selectors{Abstract: `a[href*="@"]`}, `<a href="mailto:x@y">mail</a>`, "mail", nil},
		{"every bad selector is reported", listing.Selectors{Abstract: "p[", Authors: "::x", Date: "time@datetime"}, "", "", []string{"abstract", "authors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := compilePageQueries(tt.sel)
			if tt.wantErrs != nil {
				var fields []string
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var se *listing.SelectorError
					if errors.As(e, &se) {
						fields = append(fields, se.Field)
					}
				}
				if !slices.Equal(fields, tt.wantErrs) {
					t.Errorf("compile errors for %q, want %q (error %v)", fields, tt.wantErrs, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			p, err := parseDetailsPage([]byte(tt.page), q)
			if err != nil {
				t.Fatalf("parseDetailsPage: %v", err)
			}
			if p.Abstract != tt.wantAbs {
				t.Errorf("Abstract = %q, want %q", p.Abstract, tt.wantAbs)
			}
		})
	}
}

// FuzzParseDetailsPage looks for crashes, and checks that a page accepted
// gives something and nothing but Abstract, Authors and Day.
func FuzzParseDetailsPage(f *testing.F) {
	for _, name := range []string{projectFixture, metaFixture, nothingFixture, absFixture} {
		f.Add(readTestdata(f, name))
	}
	q, err := compilePageQueries(labSelectors)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseDetailsPage(data, q)
		if err != nil {
			return
		}
		if p.Abstract == "" && len(p.Authors) == 0 && p.Day.IsZero() {
			t.Errorf("accepted a page with nothing: %+v", p)
		}
		rest := p
		rest.Abstract, rest.Authors, rest.Day = "", nil, time.Time{}
		if !reflect.DeepEqual(rest, paper.Paper{}) {
			t.Errorf("page set other fields: %+v", rest)
		}
		for _, a := range p.Authors {
			if a == "" || a != strings.TrimSpace(a) {
				t.Errorf("author %q is empty or untrimmed", a)
			}
		}
	})
}

// BenchmarkDetailsFetch fetches ten arXiv abstract pages from a local
// server, robots.txt included.
func BenchmarkDetailsFetch(b *testing.B) {
	page := readTestdata(b, absFixture)
	srv := newTestServer(b, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			serveBytes(w, "text/plain", []byte(robotsAllowing))
			return
		}
		id := strings.TrimPrefix(r.URL.Path, "/abs/")
		serveBytes(w, "text/html", []byte(strings.ReplaceAll(string(page), "2512.04392", id)))
	})
	var in []paper.Paper
	for i := range 10 {
		in = append(in, paper.Paper{ID: "2512.0000" + string(rune('0'+i)), Title: "T"})
	}
	opt := testOptions()
	opt.Delay = -1
	d := Details{ArxivURL: srv.URL}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Fetch(context.Background(), in, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDetailsPage(b *testing.B) {
	data := readTestdata(b, projectFixture)
	q, err := compilePageQueries(labSelectors)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseDetailsPage(data, q); err != nil {
			b.Fatal(err)
		}
	}
}
