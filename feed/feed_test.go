package feed

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var testSite = Site{BaseURL: "http://localhost:8080", Title: "paperfeed"}

// refreshed is the stable time the tests pass where a caller would pass its
// clock.
var refreshed = time.Date(2026, 6, 13, 6, 0, 0, 0, time.UTC)

// hfEntry is the part of one Hugging Face daily_papers element the tests
// need; it is decoded here so that the tests do not depend on the scraper.
type hfEntry struct {
	Paper struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Summary string `json:"summary"`
		Authors []struct {
			Name   string `json:"name"`
			Hidden bool   `json:"hidden"`
		} `json:"authors"`
		PublishedAt        time.Time `json:"publishedAt"`
		SubmittedOnDailyAt time.Time `json:"submittedOnDailyAt"`
		Upvotes            int       `json:"upvotes"`
		GitHubRepo         string    `json:"githubRepo"`
		GitHubStars        int       `json:"githubStars"`
		ProjectPage        string    `json:"projectPage"`
		Organization       *struct {
			Name     string `json:"name"`
			Fullname string `json:"fullname"`
		} `json:"organization"`
		AISummary  string   `json:"ai_summary"`
		AIKeywords []string `json:"ai_keywords"`
	} `json:"paper"`
	Thumbnail   string `json:"thumbnail"`
	NumComments int    `json:"numComments"`
}

// fixturePapers decodes the real Hugging Face answer in testdata.
func fixturePapers(tb testing.TB) []paper.Paper {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "hf-api-daily-papers-2026-06-12.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var entries []hfEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		tb.Fatalf("decode fixture: %v", err)
	}
	papers := make([]paper.Paper, 0, len(entries))
	for _, e := range entries {
		p := paper.Paper{
			ID:          e.Paper.ID,
			Title:       e.Paper.Title,
			Abstract:    e.Paper.Summary,
			Published:   e.Paper.PublishedAt,
			Day:         e.Paper.SubmittedOnDailyAt,
			Hub:         true,
			Upvotes:     e.Paper.Upvotes,
			Comments:    e.NumComments,
			Thumbnail:   e.Thumbnail,
			GitHubRepo:  e.Paper.GitHubRepo,
			GitHubStars: e.Paper.GitHubStars,
			ProjectPage: e.Paper.ProjectPage,
			AISummary:   e.Paper.AISummary,
			AIKeywords:  e.Paper.AIKeywords,
			Sources:     []string{"huggingface"},
			FirstSeen:   refreshed,
			LastSeen:    refreshed,
		}
		if o := e.Paper.Organization; o != nil {
			p.Organization = cmpOr(o.Fullname, o.Name)
		}
		for _, a := range e.Paper.Authors {
			if !a.Hidden {
				p.Authors = append(p.Authors, a.Name)
			}
		}
		papers = append(papers, p)
	}
	if len(papers) != 30 {
		tb.Fatalf("fixture has %d papers, want 30", len(papers))
	}
	return papers
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// fixtureTopics are the topics the golden files are built from: every
// paper, the papers about agents, and an empty topic.
func fixtureTopics(tb testing.TB) []Topic {
	tb.Helper()
	papers := fixturePapers(tb)
	all := Topic{Slug: "all", Title: "All papers", Description: "Every paper on Hugging Face Daily Papers.", Updated: refreshed}
	agents := Topic{Slug: "agents", Title: "Agents", Description: "LLM agents & tool use <all of it>.", Updated: refreshed}
	for _, p := range papers {
		all.Items = append(all.Items, Item{Paper: p})
		if strings.Contains(strings.ToLower(p.Title+" "+p.Abstract), "agent") {
			agents.Items = append(agents.Items, Item{Paper: p, Terms: []string{"agents", "LLM agents"}})
		}
	}
	sortNewest(all.Items)
	sortNewest(agents.Items)
	empty := Topic{Slug: "empty", Title: "Quantum gravity", Description: "Nothing matched yet.", Updated: refreshed}
	return []Topic{all, agents, empty}
}

// sortNewest orders items as paperfeed's site builder does before it hands
// them to this package: newest first by date, then most upvotes, then by
// ID. The golden files were written in this order.
func sortNewest(items []Item) {
	slices.SortStableFunc(items, func(a, b Item) int {
		if c := Date(&b.Paper).Compare(Date(&a.Paper)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Paper.Upvotes, a.Paper.Upvotes); c != 0 {
			return c
		}
		return strings.Compare(a.Paper.ID, b.Paper.ID)
	})
}

// testStatus has a source in each state, with the times the index shows.
var testStatus = Status{
	Refreshed:   refreshed,
	NextRefresh: refreshed.Add(6 * time.Hour),
	Sources: []SourceStatus{
		{Name: "huggingface", State: StateOK, OK: true, Papers: 30, LastSuccess: refreshed},
		{Name: "lab-pages", State: StatePartial, OK: true, Papers: 1, LastSuccess: refreshed, NextTry: refreshed.Add(30 * time.Minute),
			Err: "2 of 3 pages failed", Failed: []string{"page 2: status 404", "page 3: timeout after 30s <slow> & \"late\""}},
		{Name: "arxiv-cs.LG", State: StateFailed, Err: `status 503 <Retry-After: 120> & "later"`,
			LastSuccess: refreshed.Add(-24 * time.Hour), NextTry: refreshed.Add(15 * time.Minute)},
	},
}

// checkGolden compares got with testdata/golden/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s: line %d differs (run go test -update and review the diff)\n got: %s\nwant: %s", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: got %d lines, want %d (run go test -update and review the diff)", name, len(gl), len(wl))
	}
}

func TestGolden(t *testing.T) {
	topics := fixtureTopics(t)
	formats := []struct {
		ext    string
		render func(Site, Topic) ([]byte, error)
	}{
		{"atom", Atom},
		{"rss", RSS},
		{"json", JSON},
	}
	for _, tp := range topics {
		for _, f := range formats {
			name := tp.Slug + "." + f.ext
			t.Run(name, func(t *testing.T) {
				got, err := f.render(testSite, tp)
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				checkGolden(t, name, got)
			})
		}
	}
	t.Run("feeds.opml", func(t *testing.T) {
		got, err := OPML(testSite, topics)
		if err != nil {
			t.Fatalf("OPML: %v", err)
		}
		checkGolden(t, "feeds.opml", got)
	})
	t.Run("index.html", func(t *testing.T) {
		got, err := Index(testSite, topics, testStatus)
		if err != nil {
			t.Fatalf("Index: %v", err)
		}
		checkHTML(t, got)
		checkGolden(t, "index.html", got)
	})
	t.Run("starting.html", func(t *testing.T) {
		got, err := Starting(testSite, testStatus)
		if err != nil {
			t.Fatalf("Starting: %v", err)
		}
		checkHTML(t, got)
		checkGolden(t, "starting.html", got)
	})
}

// The structs below read the rendered documents back with encoding/xml,
// which refuses XML that is not well-formed.

type parsedAtom struct {
	ID      string       `xml:"id"`
	Updated string       `xml:"updated"`
	Links   []parsedLink `xml:"link"`
	Author  []string     `xml:"author>name"`
	Entries []struct {
		Title      string       `xml:"title"`
		ID         string       `xml:"id"`
		Updated    string       `xml:"updated"`
		Published  string       `xml:"published"`
		Links      []parsedLink `xml:"link"`
		Authors    []string     `xml:"author>name"`
		Categories []struct {
			Term string `xml:"term,attr"`
		} `xml:"category"`
		Summary string `xml:"summary"`
		Content struct {
			Type string `xml:"type,attr"`
			Text string `xml:",chardata"`
		} `xml:"content"`
	} `xml:"entry"`
}

type parsedLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type parsedRSS struct {
	Channel struct {
		Links []rssLink `xml:"link"` // both <link> and <atom:link>
		Items []struct {
			Title       string   `xml:"title"`
			Link        []string `xml:"link"`
			Description string   `xml:"description"`
			Content     string   `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			Creator     []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
			Author      []string `xml:"author"`
			Categories  []string `xml:"category"`
			GUID        struct {
				ID          string `xml:",chardata"`
				IsPermaLink string `xml:"isPermaLink,attr"`
			} `xml:"guid"`
			PubDate string `xml:"pubDate"`
		} `xml:"item"`
	} `xml:"channel"`
}

// rssLink is a channel <link> (Space "") or <atom:link>.
type rssLink struct {
	XMLName xml.Name
	Text    string `xml:",chardata"`
	parsedLink
}

// channelLinks splits the channel's links into the RSS links' text and the
// Atom links.
func channelLinks(links []rssLink) (rss []string, atom []parsedLink) {
	for _, l := range links {
		switch l.XMLName.Space {
		case "":
			rss = append(rss, l.Text)
		case "http://www.w3.org/2005/Atom":
			atom = append(atom, l.parsedLink)
		}
	}
	return rss, atom
}

type parsedJSON struct {
	Version     string `json:"version"`
	FeedURL     string `json:"feed_url"`
	HomePageURL string `json:"home_page_url"`
	Language    string `json:"language"`
	Items       []struct {
		ID            string   `json:"id"`
		URL           string   `json:"url"`
		Title         string   `json:"title"`
		ContentHTML   string   `json:"content_html"`
		Summary       string   `json:"summary"`
		Image         string   `json:"image"`
		DatePublished string   `json:"date_published"`
		Tags          []string `json:"tags"`
		Authors       []struct {
			Name string `json:"name"`
		} `json:"authors"`
	} `json:"items"`
}

// strictXML fails unless data is a well-formed XML document.
func strictXML(t *testing.T, data []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("output is not well-formed XML: %v", err)
		}
	}
}

func renderAll(t *testing.T, s Site, tp Topic) (parsedAtom, parsedRSS, parsedJSON) {
	t.Helper()
	a, err := Atom(s, tp)
	if err != nil {
		t.Fatalf("Atom: %v", err)
	}
	r, err := RSS(s, tp)
	if err != nil {
		t.Fatalf("RSS: %v", err)
	}
	j, err := JSON(s, tp)
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	strictXML(t, a)
	strictXML(t, r)
	var pa parsedAtom
	var pr parsedRSS
	var pj parsedJSON
	if err := xml.Unmarshal(a, &pa); err != nil {
		t.Fatalf("parse atom: %v", err)
	}
	if err := xml.Unmarshal(r, &pr); err != nil {
		t.Fatalf("parse rss: %v", err)
	}
	if !json.Valid(j) {
		t.Fatalf("JSON output is not valid JSON")
	}
	if err := json.Unmarshal(j, &pj); err != nil {
		t.Fatalf("parse json: %v", err)
	}
	return pa, pr, pj
}

func TestSameIDInEveryFormatAndTopic(t *testing.T) {
	topics := fixtureTopics(t)
	seen := map[string]string{} // paper title -> id, across topics
	for _, tp := range topics[:2] {
		pa, pr, pj := renderAll(t, testSite, tp)
		if len(pa.Entries) != len(tp.Items) || len(pr.Channel.Items) != len(tp.Items) || len(pj.Items) != len(tp.Items) {
			t.Fatalf("%s: got %d atom, %d rss, %d json items, want %d each", tp.Slug, len(pa.Entries), len(pr.Channel.Items), len(pj.Items), len(tp.Items))
		}
		for i, it := range tp.Items {
			want := "https://arxiv.org/abs/" + it.Paper.ID
			got := []string{pa.Entries[i].ID, pr.Channel.Items[i].GUID.ID, pj.Items[i].ID}
			if !slices.Equal(got, []string{want, want, want}) {
				t.Errorf("%s item %d: ids atom/rss/json = %q, want %q in each", tp.Slug, i, got, want)
			}
			if prev, ok := seen[it.Paper.ID]; ok && prev != want {
				t.Errorf("paper %s: id %q in one topic, %q in another", it.Paper.ID, prev, want)
			}
			seen[it.Paper.ID] = want
			wantLink := "https://huggingface.co/papers/" + it.Paper.ID
			if pa.Entries[i].Links[0].Href != wantLink || pr.Channel.Items[i].Link[0] != wantLink || pj.Items[i].URL != wantLink {
				t.Errorf("%s item %d: links %q %q %q, want %q", tp.Slug, i, pa.Entries[i].Links[0].Href, pr.Channel.Items[i].Link[0], pj.Items[i].URL, wantLink)
			}
		}
	}
}

func TestIDHasNoVersionAndNonArxivUsesLink(t *testing.T) {
	tp := Topic{Slug: "t", Updated: refreshed, Items: []Item{
		{Paper: paper.Paper{ID: "2606.00467", Title: "arXiv paper", Day: refreshed}},
		{Paper: paper.Paper{ID: paper.LinkID("https://example.org/p/1"), Title: "blog post", Link: " https://example.org/p/1 ", Day: refreshed}},
	}}
	pa, pr, pj := renderAll(t, testSite, tp)
	want := []string{"https://arxiv.org/abs/2606.00467", "https://example.org/p/1"}
	for i, w := range want {
		if got := pa.Entries[i].ID; got != w {
			t.Errorf("atom id %d = %q, want %q", i, got, w)
		}
		if got := pr.Channel.Items[i].GUID.ID; got != w {
			t.Errorf("rss guid %d = %q, want %q", i, got, w)
		}
		if got := pj.Items[i].ID; got != w {
			t.Errorf("json id %d = %q, want %q", i, got, w)
		}
	}
	if got := pj.Items[1].URL; got != "https://example.org/p/1" {
		t.Errorf("non-arXiv item url = %q, want its link", got)
	}
}

func TestNoEmptyLinksOrDates(t *testing.T) {
	for _, tp := range fixtureTopics(t) {
		t.Run(tp.Slug, func(t *testing.T) {
			pa, pr, pj := renderAll(t, testSite, tp)
			if _, err := time.Parse(time.RFC3339, pa.Updated); err != nil {
				t.Errorf("atom feed updated %q: %v", pa.Updated, err)
			}
			rels := map[string]parsedLink{}
			for _, l := range pa.Links {
				rels[l.Rel] = l
			}
			wantSelf := parsedLink{Href: "http://localhost:8080/feeds/" + tp.Slug + ".atom", Rel: "self", Type: "application/atom+xml"}
			if rels["self"] != wantSelf {
				t.Errorf("atom self link = %+v, want %+v", rels["self"], wantSelf)
			}
			if rels["alternate"].Href != "http://localhost:8080/" {
				t.Errorf("atom alternate link = %+v, want the home page", rels["alternate"])
			}
			if pa.ID != wantSelf.Href {
				t.Errorf("atom feed id = %q, want %q", pa.ID, wantSelf.Href)
			}
			if !slices.Equal(pa.Author, []string{"paperfeed"}) {
				t.Errorf("atom feed authors = %q, want [paperfeed]", pa.Author)
			}
			for i, e := range pa.Entries {
				for _, d := range []string{e.Updated, e.Published} {
					if _, err := time.Parse(time.RFC3339, d); err != nil {
						t.Errorf("atom entry %d date %q: %v", i, d, err)
					}
				}
				for _, l := range e.Links {
					if l.Href == "" {
						t.Errorf("atom entry %d has an empty link", i)
					}
				}
				if e.Content.Type != "html" || e.Content.Text == "" {
					t.Errorf("atom entry %d content type %q, %d bytes; want html, non-empty", i, e.Content.Type, len(e.Content.Text))
				}
				if e.Summary != "" {
					t.Errorf("atom entry %d has a summary; its text belongs in the content alone", i)
				}
				if len(e.Authors) == 0 {
					t.Errorf("atom entry %d has no author", i)
				}
			}
			links, self := channelLinks(pr.Channel.Links)
			if !slices.Equal(links, []string{"http://localhost:8080/"}) {
				t.Errorf("rss channel links = %q, want the home page", links)
			}
			wantRSSSelf := []parsedLink{{Href: "http://localhost:8080/feeds/" + tp.Slug + ".rss", Rel: "self", Type: "application/rss+xml"}}
			if !slices.Equal(self, wantRSSSelf) {
				t.Errorf("rss atom:link = %+v, want %+v", self, wantRSSSelf)
			}
			for i, it := range pr.Channel.Items {
				if _, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil {
					t.Errorf("rss item %d pubDate %q: %v", i, it.PubDate, err)
				}
				if len(it.Link) != 1 || it.Link[0] == "" {
					t.Errorf("rss item %d links = %q, want one non-empty", i, it.Link)
				}
				if it.GUID.IsPermaLink != "false" {
					t.Errorf("rss item %d guid isPermaLink = %q, want false", i, it.GUID.IsPermaLink)
				}
				if len(it.Author) != 0 {
					t.Errorf("rss item %d has <author> %q; names belong in dc:creator", i, it.Author)
				}
				if len(it.Creator) != 1 || it.Creator[0] == "" {
					t.Errorf("rss item %d dc:creator = %q, want one", i, it.Creator)
				}
				if !strings.HasPrefix(it.Description, "<p>") {
					t.Errorf("rss item %d description %.40q, want the item HTML", i, it.Description)
				}
				if it.Content != "" {
					t.Errorf("rss item %d has content:encoded; its text belongs in the description alone", i)
				}
			}
			wantFeedURL := "http://localhost:8080/feeds/" + tp.Slug + ".json"
			if pj.Version != "https://jsonfeed.org/version/1.1" || pj.FeedURL != wantFeedURL || pj.HomePageURL != "http://localhost:8080/" || pj.Language != "en" {
				t.Errorf("json feed version/feed_url/home/language = %q %q %q %q", pj.Version, pj.FeedURL, pj.HomePageURL, pj.Language)
			}
			for i, it := range pj.Items {
				if it.ContentHTML == "" || it.Summary != "" {
					t.Errorf("json item %d: content_html %d bytes, summary %d bytes; want content_html alone", i, len(it.ContentHTML), len(it.Summary))
				}
				if _, err := time.Parse(time.RFC3339, it.DatePublished); err != nil {
					t.Errorf("json item %d date_published %q: %v", i, it.DatePublished, err)
				}
				if it.Image == "" || len(it.Authors) == 0 {
					t.Errorf("json item %d: image %q, %d authors; want both", i, it.Image, len(it.Authors))
				}
			}
		})
	}
}

func TestEmptyTopic(t *testing.T) {
	tp := Topic{Slug: "empty", Title: "Empty", Updated: time.Date(2026, 6, 13, 6, 0, 0, 0, time.FixedZone("X", 3600))}
	pa, pr, pj := renderAll(t, testSite, tp)
	if got, want := pa.Updated, "2026-06-13T05:00:00Z"; got != want {
		t.Errorf("atom updated = %q, want %q (Topic.Updated in UTC)", got, want)
	}
	if len(pr.Channel.Items) != 0 || len(pa.Entries) != 0 {
		t.Errorf("got %d rss items, %d atom entries, want none", len(pr.Channel.Items), len(pa.Entries))
	}
	j, err := JSON(testSite, tp)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(j, &top); err != nil {
		t.Fatalf("parse json: %v", err)
	}
	if got := string(top["items"]); got != "[]" {
		t.Errorf("json feed without items has items %q, want [] (JSON Feed requires it):\n%s", got, j)
	}
	if pj.Items == nil {
		t.Errorf("json items decoded as nil")
	}
}

func TestItemDates(t *testing.T) {
	day := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	pub := time.Date(2026, 5, 30, 14, 30, 0, 0, time.FixedZone("EDT", -4*3600))
	first := time.Date(2026, 6, 13, 7, 0, 0, 999, time.UTC)
	tests := []struct {
		name    string
		p       paper.Paper
		updated time.Time
		want    string // RFC 3339
		rss     string
	}{
		// 2606.00001: 1 × 864 ms, plus (26×12+6) mod 864 = 318 ms for June 2026.
		{"day, with the paper's time of day", paper.Paper{Day: day, Published: pub, FirstSeen: first}, refreshed, "2026-06-12T00:00:01.182Z", "Fri, 12 Jun 2026 00:00:01 +0000"},
		{"day with a time of day kept", paper.Paper{Day: day.Add(3*time.Hour + 7*time.Millisecond + 5), Published: pub}, refreshed, "2026-06-12T03:00:00.007Z", "Fri, 12 Jun 2026 03:00:00 +0000"},
		{"published when no day", paper.Paper{Published: pub, FirstSeen: first}, refreshed, "2026-05-30T18:30:00Z", "Sat, 30 May 2026 18:30:00 +0000"},
		{"day-only published", paper.Paper{Published: time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC)}, refreshed, "2026-05-30T00:00:01.182Z", "Sat, 30 May 2026 00:00:01 +0000"},
		{"midnight elsewhere is a time of day in UTC", paper.Paper{Day: time.Date(2026, 6, 12, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600))}, refreshed, "2026-06-11T22:00:00Z", "Thu, 11 Jun 2026 22:00:00 +0000"},
		{"first seen when no day or published", paper.Paper{FirstSeen: first}, refreshed, "2026-06-13T07:00:00Z", "Sat, 13 Jun 2026 07:00:00 +0000"},
		{"topic updated when nothing else", paper.Paper{}, refreshed, "2026-06-13T06:00:00Z", "Sat, 13 Jun 2026 06:00:00 +0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.ID, tt.p.Title = "2606.00001", "x"
			pa, pr, pj := renderAll(t, testSite, Topic{Slug: "d", Updated: tt.updated, Items: []Item{{Paper: tt.p}}})
			e := pa.Entries[0]
			if e.Updated != tt.want || e.Published != tt.want || pa.Updated != tt.want {
				t.Errorf("atom entry updated/published, feed updated = %q %q %q, want %q", e.Updated, e.Published, pa.Updated, tt.want)
			}
			if got := pr.Channel.Items[0].PubDate; got != tt.rss {
				t.Errorf("rss pubDate = %q, want %q", got, tt.rss)
			}
			if got := pj.Items[0].DatePublished; got != tt.want {
				t.Errorf("json date_published = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFeedUpdatedIsNewestItem(t *testing.T) {
	older := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	newer := time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)
	tp := Topic{Slug: "u", Updated: refreshed, Items: []Item{
		{Paper: paper.Paper{ID: "2606.00001", Title: "a", Day: older}},
		{Paper: paper.Paper{ID: "2606.00002", Title: "b", Day: newer}},
	}}
	pa, _, _ := renderAll(t, testSite, tp)
	if got, want := pa.Updated, pa.Entries[1].Updated; got != want || !strings.HasPrefix(got, "2026-06-12T") {
		t.Errorf("feed updated = %q, want the newest item's %q, on 2026-06-12", got, want)
	}
}

// nasty holds every kind of character that must not reach XML, plus
// markup and whitespace runs.
const nasty = "\x00A\x01 <b>&amp;</b>\x1b\n\n\t title\u0085\u00a0\uFFFE\uFFFF \xff\xed\xa0\x80 end\x7f\u0080 \r\n"

const nastyClean = "A <b>&amp;</b> title \uFFFD\uFFFD\uFFFD\uFFFD end"

func TestForbiddenCharactersAndInvalidUTF8(t *testing.T) {
	p := paper.Paper{
		ID: "2606.00001", Title: nasty, Abstract: nasty, Day: refreshed,
		Authors: []string{nasty, "B\x02ob"}, AIKeywords: []string{nasty}, Organization: nasty, AISummary: nasty,
		ArxivComments: nasty, JournalRef: nasty, Thumbnail: "https://x.test/\x00a.png",
	}
	tp := Topic{Slug: "n", Title: nasty, Description: nasty, Updated: refreshed, Items: []Item{{Paper: p, Terms: []string{nasty, "ok"}}}}
	pa, pr, pj := renderAll(t, testSite, tp)
	e := pa.Entries[0]
	checks := []struct{ what, got, want string }{
		{"atom title", e.Title, nastyClean},
		{"atom author", e.Authors[0], nastyClean},
		{"atom second author", e.Authors[1], "Bob"},
		{"atom category", e.Categories[0].Term, nastyClean},
		{"rss title", pr.Channel.Items[0].Title, nastyClean},
		{"rss creator", pr.Channel.Items[0].Creator[0], nastyClean + ", Bob"},
		{"json title", pj.Items[0].Title, nastyClean},
		{"json tag", pj.Items[0].Tags[0], nastyClean},
		{"json image", pj.Items[0].Image, "https://x.test/a.png"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	// The content is HTML: the markup in the text must arrive escaped.
	const escaped = "<p>A &lt;b&gt;&amp;amp;&lt;/b&gt; title \uFFFD\uFFFD\uFFFD\uFFFD end</p>"
	if !strings.Contains(e.Content.Text, escaped) {
		t.Errorf("atom content does not hold the escaped abstract:\n%s", e.Content.Text)
	}
	if got := html.UnescapeString(pr.Channel.Items[0].Description); !strings.Contains(got, html.UnescapeString(escaped)) {
		t.Errorf("rss description does not hold the escaped abstract:\n%s", got)
	}
	for _, s := range []string{e.Content.Text, pr.Channel.Items[0].Description, pj.Items[0].ContentHTML} {
		if clean(s) != s || strings.ContainsAny(s, "\x00\x01\x1b\x7f\u0080\uFFFE") {
			t.Errorf("content holds a forbidden character: %q", s)
		}
	}
	o, err := OPML(testSite, []Topic{tp})
	if err != nil {
		t.Fatal(err)
	}
	strictXML(t, o)
	idx, err := Index(testSite, []Topic{tp}, Status{Refreshed: refreshed, Sources: []SourceStatus{{Name: nasty, Err: nasty}}})
	if err != nil {
		t.Fatal(err)
	}
	if clean(string(idx)) != string(idx) || bytes.Contains(idx, []byte("<b>")) {
		t.Errorf("index.html holds a forbidden character or unescaped markup")
	}
}

func TestContentEscapesAndFiltersURLs(t *testing.T) {
	p := paper.Paper{
		ID: "2606.00001", Title: "t", Abstract: `x < y && "z"`, AISummary: "Paper's <b>", Day: refreshed,
		ProjectPage: "javascript:alert(1)", GitHubRepo: "https://github.com/a/b?x=1&y=2", GitHubStars: 7,
		Hub: true, Upvotes: 3, Comments: 2, Organization: "Org <i>", ArxivComments: "10 pages", JournalRef: "J. Foo 1",
		Authors: []string{"A", "B"}, Thumbnail: "https://t.test/x.png",
	}
	pa, _, pj := renderAll(t, testSite, Topic{Slug: "c", Items: []Item{{Paper: p}}})
	content := pa.Entries[0].Content.Text
	if content != pj.Items[0].ContentHTML {
		t.Errorf("atom and json content differ:\n%s\n---\n%s", content, pj.Items[0].ContentHTML)
	}
	for _, want := range []string{
		`<img src="https://t.test/x.png" alt="">`,
		`<p>x &lt; y &amp;&amp; &#34;z&#34;</p>`,
		`<b>Authors:</b> A, B`,
		`<b>Organization:</b> Org &lt;i&gt;`,
		`<b>AI summary:</b> Paper&#39;s &lt;b&gt;`,
		`<b>Comments:</b> 10 pages`,
		`<b>Journal ref:</b> J. Foo 1`,
		`<a href="https://arxiv.org/abs/2606.00001">arXiv</a>`,
		`<a href="https://arxiv.org/pdf/2606.00001">PDF</a>`,
		`<a href="https://huggingface.co/papers/2606.00001">Hugging Face</a>`,
		`<a href="https://github.com/a/b?x=1&amp;y=2">GitHub (7 stars)</a>`,
		`3 upvotes · 2 comments`,
	} {
		if !strings.Contains(content, want) {
			t.Errorf("content lacks %q:\n%s", want, content)
		}
	}
	for _, bad := range []string{"javascript", "Project page", "ZgotmplZ"} {
		if strings.Contains(content, bad) {
			t.Errorf("content holds %q; a javascript: link must be left out:\n%s", bad, content)
		}
	}
}

func TestNonWebLinkKeptAsIDOnly(t *testing.T) {
	p := paper.Paper{ID: paper.LinkID("urn:isbn:0451450523"), Link: "urn:isbn:0451450523", Title: "book", Day: refreshed}
	pa, pr, pj := renderAll(t, testSite, Topic{Slug: "w", Items: []Item{{Paper: p}}})
	if got := pa.Entries[0].ID; got != "urn:isbn:0451450523" {
		t.Errorf("atom id = %q, want the link", got)
	}
	if len(pa.Entries[0].Links) != 0 || len(pr.Channel.Items[0].Link) != 0 || pj.Items[0].URL != "" {
		t.Errorf("a non-web link became an item link: atom %+v, rss %q, json %q", pa.Entries[0].Links, pr.Channel.Items[0].Link, pj.Items[0].URL)
	}
	r, err := RSS(testSite, Topic{Slug: "w", Items: []Item{{Paper: p}}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(r, []byte("<link></link>")) || bytes.Contains(r, []byte("<link/>")) {
		t.Errorf("rss holds an empty link:\n%s", r)
	}
}

func TestRSSProfileEscapes(t *testing.T) {
	tp := fixtureTopics(t)[1]
	tp.Items[0].Paper.Title = `a < b & "c"`
	tp.Items[0].Paper.GitHubRepo = "https://github.com/a/b?x=1&y=2"
	r, err := RSS(testSite, tp)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(r, []byte("&amp;")) || bytes.Contains(r, []byte("&lt;")) {
		t.Errorf("rss holds &amp; or &lt;; want hexadecimal character references")
	}
	pa, pr, _ := renderAll(t, testSite, tp)
	if got, want := pr.Channel.Items[0].Title, `a < b & "c"`; got != want {
		t.Errorf("rss title = %q, want %q", got, want)
	}
	for i := range pa.Entries {
		a, r := html.UnescapeString(pa.Entries[i].Content.Text), html.UnescapeString(pr.Channel.Items[i].Description)
		if a != r {
			t.Errorf("item %d: rss description means something else than atom content:\n%s\n---\n%s", i, r, a)
		}
	}
}

func TestAuthorsCapped(t *testing.T) {
	var names []string
	for i := range 14 {
		names = append(names, fmt.Sprintf("Author %d", i+1))
	}
	p := paper.Paper{ID: "2606.00001", Title: "t", Day: refreshed, Authors: names}
	pa, pr, pj := renderAll(t, testSite, Topic{Slug: "a", Items: []Item{{Paper: p}}})
	want := append(slices.Clone(names[:10]), "et al.")
	if got := pa.Entries[0].Authors; !slices.Equal(got, want) {
		t.Errorf("atom authors = %q, want %q", got, want)
	}
	if got, w := pr.Channel.Items[0].Creator[0], strings.Join(want, ", "); got != w {
		t.Errorf("rss dc:creator = %q, want %q", got, w)
	}
	if got := len(pj.Items[0].Authors); got != 11 {
		t.Errorf("json authors = %d, want 11", got)
	}
	if !strings.Contains(pa.Entries[0].Content.Text, "Author 14") {
		t.Errorf("content does not list every author")
	}
}

func TestTerms(t *testing.T) {
	tests := []struct {
		name                          string
		matched, categories, keywords []string
		want                          []string
	}{
		{"none", nil, nil, nil, []string{}},
		{"matched then keywords", []string{"LLM"}, nil, []string{"RL"}, []string{"LLM", "RL"}},
		{"matched, categories, keywords", []string{"LLM"}, []string{"cs.LG", "cs.AI"}, []string{"RL"}, []string{"LLM", "cs.LG", "cs.AI", "RL"}},
		{"dedupe ignoring case, first spelling wins", []string{"LLM", "agents"}, []string{"CS.LG"}, []string{"llm", " Agents ", "RL", "cs.lg"}, []string{"LLM", "agents", "CS.LG", "RL"}},
		{"cleaned and empty dropped", []string{" a\n b ", "", "\x00"}, nil, []string{"a b"}, []string{"a b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := terms(tt.matched, tt.categories, tt.keywords); !slices.Equal(got, tt.want) {
				t.Errorf("terms(%q, %q, %q) = %q, want %q", tt.matched, tt.categories, tt.keywords, got, tt.want)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	topics := fixtureTopics(t)
	renders := map[string]func() ([]byte, error){
		"atom":  func() ([]byte, error) { return Atom(testSite, topics[0]) },
		"rss":   func() ([]byte, error) { return RSS(testSite, topics[0]) },
		"json":  func() ([]byte, error) { return JSON(testSite, topics[0]) },
		"opml":  func() ([]byte, error) { return OPML(testSite, topics) },
		"index": func() ([]byte, error) { return Index(testSite, topics, testStatus) },
	}
	for name, render := range renders {
		a, err := render()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := render()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders of the same input differ", name)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	ok := Topic{Slug: "s", Updated: refreshed}
	tests := []struct {
		name string
		site Site
		tp   Topic
		want error // nil: any error
	}{
		{"empty base url", Site{}, ok, errNotAbsolute},
		{"relative base url", Site{BaseURL: "/feeds"}, ok, errNotAbsolute},
		{"ftp base url", Site{BaseURL: "ftp://example.org"}, ok, errNotAbsolute},
		{"unparsable base url", Site{BaseURL: "http://[::1"}, ok, nil},
		{"no slug", testSite, Topic{Slug: " \n", Updated: refreshed}, errNoSlug},
		{"slug with slash", testSite, Topic{Slug: "a/b", Updated: refreshed}, errBadSlug},
		{"slug with backslash", testSite, Topic{Slug: `a\b`, Updated: refreshed}, errBadSlug},
		{"dot slug", testSite, Topic{Slug: "..", Updated: refreshed}, errBadSlug},
		{"slug of another topic's digest", testSite, Topic{Slug: "ml.daily", Updated: refreshed}, errDailySlug},
		{"relative hub url", Site{BaseURL: testSite.BaseURL, Hub: "/hub"}, ok, errNotAbsolute},
		{"javascript hub url", Site{BaseURL: testSite.BaseURL, Hub: "javascript:alert(1)"}, ok, errNotAbsolute},
		{"no date at all", testSite, Topic{Slug: "s"}, errNoDate},
		{"item without a date and zero Topic.Updated", testSite, Topic{Slug: "s", Items: []Item{{Paper: paper.Paper{ID: "2606.00001"}}}}, errNoDate},
		{"item without id or link", testSite, Topic{Slug: "s", Updated: refreshed, Items: []Item{{Paper: paper.Paper{ID: "weird", Link: " "}}}}, errNoID},
	}
	renders := []struct {
		name   string
		render func(Site, Topic) ([]byte, error)
	}{
		{"atom", Atom}, {"rss", RSS}, {"json", JSON}, {"render", renderOrNil},
	}
	for _, tt := range tests {
		for _, r := range renders {
			t.Run(tt.name+"/"+r.name, func(t *testing.T) {
				b, err := r.render(tt.site, tt.tp)
				if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if b != nil {
					t.Errorf("got %d bytes with an error, want nil", len(b))
				}
			})
		}
	}
	t.Run("opml bad site", func(t *testing.T) {
		if _, err := OPML(Site{BaseURL: "example.org"}, nil); !errors.Is(err, errNotAbsolute) {
			t.Errorf("err = %v, want %v", err, errNotAbsolute)
		}
	})
	t.Run("opml no slug", func(t *testing.T) {
		if _, err := OPML(testSite, []Topic{{Title: "x"}}); !errors.Is(err, errNoSlug) {
			t.Errorf("err = %v, want %v", err, errNoSlug)
		}
	})
	t.Run("opml bad slug", func(t *testing.T) {
		if _, err := OPML(testSite, []Topic{{Slug: ".hidden"}}); !errors.Is(err, errBadSlug) {
			t.Errorf("err = %v, want %v", err, errBadSlug)
		}
	})
	t.Run("index bad slug", func(t *testing.T) {
		if _, err := Index(testSite, []Topic{{Slug: "a/b"}}, Status{}); !errors.Is(err, errBadSlug) {
			t.Errorf("err = %v, want %v", err, errBadSlug)
		}
	})
	t.Run("index bad site", func(t *testing.T) {
		if _, err := Index(Site{}, nil, Status{}); !errors.Is(err, errNotAbsolute) {
			t.Errorf("err = %v, want %v", err, errNotAbsolute)
		}
	})
	t.Run("index no slug", func(t *testing.T) {
		if _, err := Index(testSite, []Topic{{}}, Status{}); !errors.Is(err, errNoSlug) {
			t.Errorf("err = %v, want %v", err, errNoSlug)
		}
	})
}

func TestSiteDefaults(t *testing.T) {
	tp := Topic{Slug: "a b", Updated: refreshed}
	pa, pr, pj := renderAll(t, Site{BaseURL: "https://example.org/papers/"}, tp)
	if got, want := pa.ID, "https://example.org/papers/feeds/a%20b.atom"; got != want {
		t.Errorf("atom id = %q, want %q (trailing slash trimmed, slug escaped)", got, want)
	}
	if !slices.Equal(pa.Author, []string{"paperfeed"}) {
		t.Errorf("atom author = %q, want paperfeed when Site.Title is empty", pa.Author)
	}
	if got, _ := channelLinks(pr.Channel.Links); !slices.Equal(got, []string{"https://example.org/papers/"}) {
		t.Errorf("rss links = %q, want [https://example.org/papers/]", got)
	}
	if got, want := pj.FeedURL, "https://example.org/papers/feeds/a%20b.json"; got != want {
		t.Errorf("json feed_url = %q, want %q", got, want)
	}
}

func TestIndexAndOPMLContent(t *testing.T) {
	topics := fixtureTopics(t)
	idx, err := Index(testSite, topics, testStatus)
	if err != nil {
		t.Fatal(err)
	}
	s := string(idx)
	for _, want := range []string{
		`<section id="agents">`,
		`LLM agents &amp; tool use &lt;all of it&gt;.`,
		`href="http://localhost:8080/feeds/all.atom"`,
		`href="http://localhost:8080/feeds/all.rss"`,
		`href="http://localhost:8080/feeds/all.json"`,
		`<a href="http://localhost:8080/feeds/agents.daily.atom">Atom</a> <a href="http://localhost:8080/feeds/agents.daily.rss">RSS</a> <a href="http://localhost:8080/feeds/agents.daily.json">JSON Feed</a>`,
		`<link rel="alternate" type="application/atom+xml" title="Agents (daily)" href="http://localhost:8080/feeds/agents.daily.atom">`,
		`30 papers`,
		`0 papers`,
		`Last refresh: <time datetime="2026-06-13T06:00:00Z">2026-06-13 06:00 UTC</time>`,
		`next refresh at <time datetime="2026-06-13T12:00:00Z">2026-06-13 12:00 UTC</time>`,
		`<strong>huggingface</strong> <span class="state ok">ok</span> · 30 papers`,
		`<strong>lab-pages</strong> <span class="state partial">partial</span> · 1 paper`,
		`<strong>arxiv-cs.LG</strong> <span class="state failed">failed</span> · 0 papers`,
		`last success <time datetime="2026-06-12T06:00:00Z">2026-06-12 06:00 UTC</time> · next try <time datetime="2026-06-13T06:15:00Z">2026-06-13 06:15 UTC</time>`,
		`<br>Error: status 503 &lt;Retry-After: 120&gt; &amp; &#34;later&#34;`,
		`<li class="part">page 3: timeout after 30s &lt;slow&gt; &amp; &#34;late&#34;</li>`,
		`href="https://huggingface.co/papers/` + topics[0].Items[0].Paper.ID + `"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if n := strings.Count(s, "<li>"); n != 5+min(5, len(topics[1].Items)) {
		t.Errorf("index lists %d papers, want 5 per non-empty topic", n)
	}
	if strings.Contains(s, "<script") {
		t.Errorf("index.html has a script")
	}

	o, err := OPML(testSite, topics)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version string `xml:"version,attr"`
		Title   string `xml:"head>title"`
		Outline []struct {
			Type    string `xml:"type,attr"`
			Text    string `xml:"text,attr"`
			Title   string `xml:"title,attr"`
			XMLURL  string `xml:"xmlUrl,attr"`
			HTMLURL string `xml:"htmlUrl,attr"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(o, &doc); err != nil {
		t.Fatalf("parse opml: %v", err)
	}
	if doc.Version != "2.0" || doc.Title != "paperfeed" || len(doc.Outline) != 2*len(topics) {
		t.Fatalf("opml version %q title %q with %d outlines, want 2.0, paperfeed, %d (the topics, then their digests)", doc.Version, doc.Title, len(doc.Outline), 2*len(topics))
	}
	for i, tp := range topics {
		o := doc.Outline[i]
		if o.Type != "rss" || o.Text != tp.Title || o.Title != tp.Title ||
			o.XMLURL != "http://localhost:8080/feeds/"+tp.Slug+".atom" || o.HTMLURL != "http://localhost:8080/#"+tp.Slug {
			t.Errorf("outline %d = %+v", i, o)
		}
		d := doc.Outline[len(topics)+i]
		if d.Type != "rss" || d.Text != tp.Title+" (daily)" || d.Title != tp.Title+" (daily)" ||
			d.XMLURL != "http://localhost:8080/feeds/"+tp.Slug+".daily.atom" || d.HTMLURL != "http://localhost:8080/#"+tp.Slug {
			t.Errorf("daily outline %d = %+v", i, d)
		}
	}
}

// renderOrNil is Render as a function of one format: the three documents
// one after the other, or nil with Render's error.
func renderOrNil(s Site, t Topic) ([]byte, error) {
	f, err := Render(s, t)
	if err != nil {
		if f.Atom != nil || f.RSS != nil || f.JSON != nil {
			return []byte("Render gave documents with its error"), err
		}
		return nil, err
	}
	return slices.Concat(f.Atom, f.RSS, f.JSON), nil
}

// benchTopic is a topic of n papers made from the fixture with distinct ids.
func benchTopic(b *testing.B, n int) Topic {
	papers := fixturePapers(b)
	tp := Topic{Slug: "bench", Title: "Bench", Description: "100 papers", Updated: refreshed}
	for i := range n {
		p := papers[i%len(papers)]
		p.ID = fmt.Sprintf("2606.%05d", 10000+i)
		tp.Items = append(tp.Items, Item{Paper: p, Terms: []string{"agents", "reasoning"}})
	}
	sortNewest(tp.Items)
	return tp
}

// BenchmarkRender100 renders a topic of 100 papers in each format, in all
// three one after the other, and in all three with Render, as the site
// builder does for every topic it refreshes.
func BenchmarkRender100(b *testing.B) {
	tp := benchTopic(b, 100)
	formats := []struct {
		name   string
		render func(Site, Topic) ([]byte, error)
	}{{"Atom", Atom}, {"RSS", RSS}, {"JSON", JSON}}
	for _, f := range formats {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.render(testSite, tp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("All", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range formats {
				if _, err := f.render(testSite, tp); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("Render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Render(testSite, tp); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestIndexNeverRefreshed(t *testing.T) {
	idx, err := Index(Site{BaseURL: "http://127.0.0.1:8080"}, []Topic{{Slug: "x", Title: "<X>"}}, Status{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(idx)
	for _, want := range []string{"Last refresh: never", "<h1>paperfeed</h1>", "<h2>&lt;X&gt;</h2>", "0 papers"} {
		if !strings.Contains(s, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(s, "<table>") || strings.Contains(s, "<ul>") {
		t.Errorf("index.html has a source table or paper list with no sources and no papers")
	}
}

func TestPathMatchesSelfLink(t *testing.T) {
	for _, ext := range []string{"atom", "rss", "json"} {
		if got, want := Path("ml", ext), "feeds/ml."+ext; got != want {
			t.Errorf("Path(ml, %s) = %q, want %q", ext, got, want)
		}
	}
	pa, _, pj := renderAll(t, testSite, Topic{Slug: "ml", Updated: refreshed})
	if want := testSite.BaseURL + "/" + Path("ml", "atom"); pa.ID != want {
		t.Errorf("atom id %q, want BaseURL/Path = %q", pa.ID, want)
	}
	if want := testSite.BaseURL + "/" + Path("ml", "json"); pj.FeedURL != want {
		t.Errorf("json feed_url %q, want BaseURL/Path = %q", pj.FeedURL, want)
	}
	for _, ext := range []string{"atom", "json"} {
		got, err := URL(testSite, "ml", ext)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"atom": pa.ID, "json": pj.FeedURL}[ext]; got != want {
			t.Errorf("URL(ml, %s) = %q, want the self link %q", ext, got, want)
		}
	}
}

// TestURL: URL gives the self link of every feed file, topic and daily,
// the slug escaped and the base cleaned, and refuses what the feeds refuse.
func TestURL(t *testing.T) {
	tests := []struct {
		name      string
		site      Site
		slug, ext string
		want      string
		err       error
	}{
		{"topic feed", testSite, "ml", "rss", "http://localhost:8080/feeds/ml.rss", nil},
		{"daily digest", testSite, "ml", DailyPrefix + "json", "http://localhost:8080/feeds/ml.daily.json", nil},
		{"escaped slug, trailing slash", Site{BaseURL: "https://example.org/p/"}, "a b", "atom", "https://example.org/p/feeds/a%20b.atom", nil},
		{"bad site", Site{BaseURL: "example.org"}, "ml", "atom", "", errNotAbsolute},
		{"bad slug", testSite, "../x", "atom", "", errBadSlug},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := URL(tt.site, tt.slug, tt.ext)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("URL = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}
