package websub_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/site"
	"github.com/paperfeed/paperfeed/store"
	"github.com/paperfeed/paperfeed/topic"
	"github.com/paperfeed/paperfeed/websub"
)

// recorder is a hub on 127.0.0.1 that checks every ping's form, records
// the feed URL of each, and answers with its status and headers (set).
type recorder struct {
	t      *testing.T
	mu     sync.Mutex
	pings  []string
	answer int
	header map[string]string
}

func (h *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		h.t.Errorf("hub got %s with %q, want a form POST", r.Method, r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil {
		h.t.Errorf("hub: %v", err)
	}
	u := r.PostForm.Get("hub.url")
	if r.PostForm.Get("hub.mode") != "publish" || r.PostForm.Get("hub.topic") != u || len(r.PostForm) != 3 {
		h.t.Errorf("hub got the form %v, want hub.mode=publish and hub.url, hub.topic the feed", r.PostForm)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pings = append(h.pings, u)
	for k, v := range h.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(h.answer)
}

// take returns the pings received since the last take, sorted.
func (h *recorder) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	got := slices.Sorted(slices.Values(h.pings))
	h.pings = nil
	return got
}

func (h *recorder) set(code int, header map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answer, h.header = code, header
}

// TestPingsFollowTheSite runs the site builder and a Pinger as a refresh
// does, against a real hub on 127.0.0.1: each feed whose bytes a Build
// changed is pinged once, an unchanged Build pings nothing, and pings the
// hub could not take are sent at the next refresh.
func TestPingsFollowTheSite(t *testing.T) {
	h := &recorder{t: t, answer: http.StatusNoContent}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	out := filepath.Join(dir, "public")
	s, err := store.Open(filepath.Join(dir, "paperfeed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	specs := []topic.Spec{
		{Slug: "all", Title: "All", Limit: 50},
		{Slug: "diffusion", Title: "Diffusion", Keywords: []string{"diffusion"}, Limit: 50},
	}
	router, err := topic.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := site.Config{Site: feed.Site{BaseURL: "https://feeds.example.org", Title: "paperfeed", Hub: srv.URL + "/"}, Specs: specs, Router: router}
	b := site.New(out, cfg, slog.New(slog.DiscardHandler))
	p, err := websub.NewPinger(srv.Client(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	refresh := func(name string, batch []paper.Paper) site.Result {
		t.Helper()
		var changed []*paper.Paper
		if batch != nil {
			res, err := s.Merge(batch, day)
			if err != nil {
				t.Fatal(err)
			}
			changed = res.Changed
		}
		res, err := b.Build(s, changed, nil, site.Status{}, day)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p.Add(res.Changed)
		if err := p.Flush(context.Background()); err != nil {
			t.Logf("%s: flush: %v", name, err)
		}
		return res
	}
	feeds := func(slugs ...string) []string {
		var urls []string
		for _, slug := range slugs {
			for _, ext := range []string{"atom", "rss", "json", "daily.atom", "daily.rss", "daily.json"} {
				urls = append(urls, "https://feeds.example.org/feeds/"+slug+"."+ext)
			}
		}
		slices.Sort(urls)
		return urls
	}

	refresh("first", []paper.Paper{
		{ID: "2606.00001", Title: "Diffusion models", Day: day},
		{ID: "2606.00002", Title: "Robots", Day: day.AddDate(0, 0, -1)},
	})
	if got, want := h.take(), feeds("all", "diffusion"); !slices.Equal(got, want) {
		t.Errorf("first refresh pinged\n%v\nwant every feed once\n%v", got, want)
	}
	data, err := os.ReadFile(filepath.Join(out, "feeds", "diffusion.daily.atom"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `<link href="`+srv.URL+`/" rel="hub">`) {
		t.Errorf("the digest does not name the hub:\n%s", data)
	}

	refresh("nothing new", nil)
	if got := h.take(); len(got) != 0 {
		t.Errorf("an unchanged refresh pinged %v", got)
	}
	refresh("the same papers again", []paper.Paper{{ID: "2606.00002", Title: "Robots", Day: day.AddDate(0, 0, -1)}})
	if got := h.take(); len(got) != 0 {
		t.Errorf("a refresh that changed no feed pinged %v", got)
	}

	// The hub is busy for an hour: nothing is taken, nothing is lost.
	h.set(http.StatusTooManyRequests, map[string]string{"Retry-After": "3600"})
	res := refresh("a paper only all takes, hub busy", []paper.Paper{{ID: "2606.00003", Title: "Robots again", Day: day}})
	if got, want := slices.Sorted(slices.Values(res.Changed)), feeds("all"); !slices.Equal(got, want) {
		t.Errorf("Changed %v, want all's feeds %v", got, want)
	}
	if got := h.take(); len(got) != 1 {
		t.Errorf("a busy hub got %v, want one ping, then none until the next refresh", got)
	}
	if p.Pending() != len(feeds("all")) {
		t.Errorf("Pending %d, want all's %d feeds kept", p.Pending(), len(feeds("all")))
	}
	h.set(http.StatusNoContent, nil)
	refresh("nothing new, hub back", nil)
	if got, want := h.take(), feeds("all"); !slices.Equal(got, want) {
		t.Errorf("the next refresh pinged\n%v\nwant what was left, once each\n%v", got, want)
	}
	if p.Pending() != 0 {
		t.Errorf("Pending %d, want 0", p.Pending())
	}
}
