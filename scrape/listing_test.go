package scrape

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/listing"
)

const listingFixture = "../testdata/listing-lab-publications.html"

var labSelectors = listing.Selectors{
	Item:     "article.pub",
	Title:    "h2.pub-title",
	Abstract: "p.abstract",
	Authors:  ".authors",
	Date:     "time@datetime",
}

func TestListingScrape(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			serveBytes(w, "text/plain", []byte("User-agent: *\nDisallow: /private/\n"))
		case "/publications/":
			serveBytes(w, "text/html", readTestdata(t, listingFixture))
		default:
			http.NotFound(w, r)
		}
	})
	l := Listing{Name: "lab", URL: srv.URL + "/publications/", Selectors: labSelectors}
	got, err := l.Scrape(context.Background(), sunday, testOptions())
	if err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.ID)
		if !reflect.DeepEqual(p.Sources, []string{"lab"}) {
			t.Errorf("paper %s Sources = %q, want [lab]", p.ID, p.Sources)
		}
	}
	thesis := srv.URL + "/theses/2025-dubois.pdf"
	wantIDs := []string{"2511.04821", "2510.11223", "2509.00777", paper.LinkID(thesis), "2508.10234"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("IDs = %q, want %q", ids, wantIDs)
	}
	if len(got) == 5 && got[3].Link != thesis {
		t.Errorf("thesis Link = %q, want %q (resolved against the page)", got[3].Link, thesis)
	}
	if uris := srv.uris(); !reflect.DeepEqual(uris, []string{"/robots.txt", "/publications/"}) {
		t.Errorf("requests = %q", uris)
	}
}

func TestListingErrors(t *testing.T) {
	page := readTestdata(t, listingFixture)
	tests := []struct {
		name      string
		robots    string
		url       string // relative to the server unless absolute
		sel       listing.Selectors
		wantField string // of a *listing.SelectorError
		wantIs    error
		wantURIs  []string
	}{
		{"title selector finds nothing", robotsAllowing, "/publications/",
			listing.Selectors{Item: "article.pub", Title: "h3.title"}, "title", listing.ErrNoMatch,
			[]string{"/robots.txt", "/publications/"}},
		{"item selector finds nothing", robotsAllowing, "/publications/",
			listing.Selectors{Item: "li.paper", Title: "a"}, "item", listing.ErrNoMatch,
			[]string{"/robots.txt", "/publications/"}},
		{"invalid selector, no request", robotsAllowing, "/publications/",
			listing.Selectors{Item: "article[", Title: "h2"}, "item", nil, nil},
		{"robots.txt disallows the page", "User-agent: *\nDisallow: /publications/\n", "/publications/",
			labSelectors, "", ErrDisallowed, []string{"/robots.txt"}},
		{"page not found", robotsAllowing, "/gone/",
			labSelectors, "", nil, []string{"/robots.txt", "/gone/"}},
		{"url not http", robotsAllowing, "file:///etc/passwd", labSelectors, "", errNotHTTP, nil},
		{"url unparsable", robotsAllowing, "http://[::1", labSelectors, "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/robots.txt":
					serveBytes(w, "text/plain", []byte(tt.robots))
				case "/publications/":
					serveBytes(w, "text/html", page)
				default:
					http.NotFound(w, r)
				}
			})
			u := tt.url
			if u[0] == '/' {
				u = srv.URL + u
			}
			got, err := Listing{Name: "lab", URL: u, Selectors: tt.sel}.Scrape(context.Background(), sunday, testOptions())
			if err == nil {
				t.Fatalf("Scrape = %d papers, nil error; want an error", len(got))
			}
			if len(got) != 0 {
				t.Errorf("got %d papers with the error, want none", len(got))
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			if tt.wantField != "" {
				var se *listing.SelectorError
				if !errors.As(err, &se) {
					t.Fatalf("error %q is no *listing.SelectorError", err)
				}
				if se.Field != tt.wantField {
					t.Errorf("error names selector %q, want %q", se.Field, tt.wantField)
				}
			}
			if uris := srv.uris(); !reflect.DeepEqual(uris, tt.wantURIs) {
				t.Errorf("requests = %q, want %q", uris, tt.wantURIs)
			}
		})
	}
}
