package scrape

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// otherHost is srvURL with its host written as localhost: the same server,
// another host name, so a redirect there leaves the source's host without
// leaving this machine.
func otherHost(t *testing.T, srvURL string) string {
	t.Helper()
	u := mustURL(t, srvURL)
	u.Host = "localhost:" + u.Port()
	return u.String()
}

// redirectTo answers with a 302 to the location loc(r) gives.
func redirectTo(loc func(r *http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loc(r), http.StatusFound)
	}
}

// hopServer redirects /api/daily_papers through hops-1 pages /r/1, /r/2, ...
// to /r/<hops>, which answers an empty day: hops redirects in all.
func hopServer(t *testing.T, hops int) *testServer {
	return newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := 0
		if r.URL.Path != "/api/daily_papers" {
			var err error
			if n, err = strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/")); err != nil {
				http.NotFound(w, r)
				return
			}
		}
		if n == hops {
			serveBytes(w, "application/json", []byte(`[]`))
			return
		}
		http.Redirect(w, r, "/r/"+strconv.Itoa(n+1), http.StatusFound)
	})
}

func TestRedirectsHuggingFace(t *testing.T) {
	day := []byte(`[{"paper":{"id":"2606.00001","title":"Redirected"}}]`)
	final := body("application/json", day)
	other := newTestServer(t, final) // another port of 127.0.0.1
	tests := []struct {
		name      string
		handler   func(srvURL string) http.HandlerFunc
		hosts     []string
		wantPaper bool
		wantIs    error
		wantMsg   string // with SRV for the server's URL
	}{
		{"within the host is followed",
			func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/final" {
						final(w, r)
						return
					}
					http.Redirect(w, r, "/final", http.StatusMovedPermanently)
				}
			}, nil, true, nil, ""},
		{"another port of the same host is the same host",
			func(string) http.HandlerFunc {
				return redirectTo(func(*http.Request) string { return other.URL + "/final" })
			}, nil, true, nil, ""},
		{"another host is refused",
			func(srv string) http.HandlerFunc {
				return redirectTo(func(*http.Request) string { return otherHost(t, srv) + "/final" })
			}, nil, false, ErrRedirectRefused,
			"redirect to localhost refused: not 127.0.0.1 or a host in the source's hosts"},
		{"a host in Hosts is followed",
			func(srv string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.Host != strings.TrimPrefix(srv, "http://") {
						final(w, r)
						return
					}
					http.Redirect(w, r, otherHost(t, srv)+"/final", http.StatusFound)
				}
			}, []string{"example.org", "localhost"}, true, nil, ""},
		{"a redirect to itself is a loop",
			func(string) http.HandlerFunc {
				return redirectTo(func(r *http.Request) string { return r.URL.RequestURI() })
			}, nil, false, ErrRedirectLoop, "redirect loop at SRV/api/daily_papers?date=2026-06-14"},
		{"a longer loop",
			func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/b" {
						http.Redirect(w, r, "/api/daily_papers?date=2026-06-14", http.StatusFound)
						return
					}
					http.Redirect(w, r, "/b", http.StatusFound)
				}
			}, nil, false, ErrRedirectLoop, "redirect loop at SRV/api/daily_papers?date=2026-06-14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *testServer
			srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) { tt.handler(srv.URL)(w, r) })
			got, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1, Hosts: tt.hosts}.Scrape(context.Background(), sunday, testOptions())
			if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("Scrape: %v", err)
				}
				if len(got) != 1 || got[0].Title != "Redirected" {
					t.Errorf("got %+v, want the paper at the end of the redirect", got)
				}
				return
			}
			if len(got) != 0 {
				t.Errorf("got %d papers, want none", len(got))
			}
			var re *RedirectError
			if !errors.Is(err, tt.wantIs) || !errors.As(err, &re) {
				t.Fatalf("got error %v, want a *RedirectError that is %v", err, tt.wantIs)
			}
			if want := strings.ReplaceAll(tt.wantMsg, "SRV", srv.URL); !strings.Contains(err.Error(), want) {
				t.Errorf("got error %q, want it to say %q", err, want)
			}
			if hits := len(srv.requests()); hits > 2 {
				t.Errorf("got %d requests, want the redirect not retried", hits)
			}
		})
	}
}

// TestRedirectHops follows 10 redirects and refuses the 11th as a loop.
func TestRedirectHops(t *testing.T) {
	for _, tt := range []struct {
		hops     int
		wantLoop bool
	}{{10, false}, {11, true}} {
		t.Run(strconv.Itoa(tt.hops), func(t *testing.T) {
			srv := hopServer(t, tt.hops)
			_, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}.Scrape(context.Background(), sunday, testOptions())
			if tt.wantLoop {
				if !errors.Is(err, ErrRedirectLoop) || !strings.Contains(err.Error(), "redirect loop at "+srv.URL+"/r/11") {
					t.Errorf("got error %v, want a redirect loop at /r/11", err)
				}
				return
			}
			if err != nil {
				t.Errorf("Scrape: %v", err)
			}
		})
	}
}

// TestRedirectsOtherSources checks the rule for the HTML sources and
// Details, robots.txt included: another host is refused unless it is in
// Hosts.
func TestRedirectsOtherSources(t *testing.T) {
	listingPage := readTestdata(t, listingFixture)
	abs := readTestdata(t, absFixture)
	// The server redirects its path from to another host name for itself,
	// where it serves robots.txt and the pages.
	server := func(t *testing.T, from string) *testServer {
		var srv *testServer
		srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Host == strings.TrimPrefix(srv.URL, "http://") && r.URL.Path == from {
				http.Redirect(w, r, otherHost(t, srv.URL)+r.URL.RequestURI(), http.StatusFound)
				return
			}
			switch {
			case r.URL.Path == "/robots.txt":
				serveBytes(w, "text/plain", []byte(robotsAllowing))
			case r.URL.Path == "/publications/":
				serveBytes(w, "text/html", listingPage)
			case r.URL.Path == "/abs/2512.04392":
				serveBytes(w, "text/html", abs)
			case strings.HasPrefix(r.URL.Path, "/list/"):
				serveBytes(w, "text/html", readTestdata(t, arxivFixture))
			default:
				http.NotFound(w, r)
			}
		})
		return srv
	}
	type run func(srvURL string, hosts []string) ([]paper.Paper, error)
	sources := []struct {
		name string
		run  run
	}{
		{"arxiv", func(srv string, hosts []string) ([]paper.Paper, error) {
			return Arxiv{Name: "ax", BaseURL: srv, Category: "cs.LG", Hosts: hosts}.Scrape(context.Background(), sunday, testOptions())
		}},
		{"listing", func(srv string, hosts []string) ([]paper.Paper, error) {
			return Listing{Name: "lab", URL: srv + "/publications/", Selectors: labSelectors, Hosts: hosts}.Scrape(context.Background(), sunday, testOptions())
		}},
		{"details", func(srv string, hosts []string) ([]paper.Paper, error) {
			got, err := Details{ArxivURL: srv, Hosts: hosts}.Fetch(context.Background(), []paper.Paper{{ID: "2512.04392", Title: "T"}}, testOptions())
			if len(got) == 1 && got[0].Abstract == "" {
				got = nil // no details: nothing was read
			}
			return got, err
		}},
	}
	for _, src := range sources {
		for _, from := range []string{"/robots.txt", "/list/cs.LG/new", "/publications/", "/abs/2512.04392"} {
			t.Run(src.name+" "+from, func(t *testing.T) {
				srv := server(t, from)
				got, err := src.run(srv.URL, nil)
				redirected := false
				for _, u := range srv.uris() {
					redirected = redirected || u == from
				}
				if !redirected {
					// This source never asks for from; it must be unaffected.
					if err != nil || len(got) == 0 {
						t.Errorf("got %d papers, error %v; want papers", len(got), err)
					}
					return
				}
				if !errors.Is(err, ErrRedirectRefused) {
					t.Errorf("got error %v, want ErrRedirectRefused", err)
				}
				if len(got) != 0 {
					t.Errorf("got %d papers read, want none", len(got))
				}
				got, err = src.run(srv.URL, []string{"localhost"})
				if err != nil || len(got) == 0 {
					t.Errorf("with localhost in hosts: got %d papers, error %v; want papers", len(got), err)
				}
			})
		}
	}
}

func TestHostsChecked(t *testing.T) {
	srv := newTestServer(t, body("application/json", []byte(`[]`)))
	for _, hosts := range [][]string{{"Example.org"}, {"example.org:443"}, {"https://example.org"}, {""}, {"example.org/x"}} {
		t.Run(strings.Join(hosts, ","), func(t *testing.T) {
			errs := []error{}
			_, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Hosts: hosts}.Scrape(context.Background(), sunday, testOptions())
			errs = append(errs, err)
			_, err = Arxiv{Name: "hf", BaseURL: srv.URL, Category: "cs.LG", Hosts: hosts}.Scrape(context.Background(), sunday, testOptions())
			errs = append(errs, err)
			_, err = Listing{Name: "hf", URL: srv.URL, Selectors: labSelectors, Hosts: hosts}.Scrape(context.Background(), sunday, testOptions())
			errs = append(errs, err)
			_, err = Details{ArxivURL: srv.URL, Hosts: hosts}.Fetch(context.Background(), []paper.Paper{{ID: "2512.04392"}}, testOptions())
			errs = append(errs, err)
			for i, err := range errs {
				if err == nil || !strings.Contains(err.Error(), "want a lower-case host name") {
					t.Errorf("source %d: got error %v, want the hosts rejected", i, err)
				}
			}
		})
	}
	if hits := len(srv.requests()); hits != 0 {
		t.Errorf("got %d requests, want none for bad hosts", hits)
	}
}

// TestRedirectErrorMessage checks the message for a host of the brief's
// kind, which a test cannot reach: the refusal happens before any dial.
func TestRedirectErrorMessage(t *testing.T) {
	u, err := url.Parse("https://evil.example/papers")
	if err != nil {
		t.Fatal(err)
	}
	e := &RedirectError{URL: u.String(), Host: "huggingface.co"}
	if got, want := e.Error(), "redirect to evil.example refused: not huggingface.co or a host in the source's hosts"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	loop := &RedirectError{URL: "https://huggingface.co/papers", Host: "huggingface.co", Loop: true}
	if got, want := loop.Error(), "redirect loop at https://huggingface.co/papers"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
