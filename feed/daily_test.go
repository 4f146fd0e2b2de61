package feed

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// dailyTopics are fixtureTopics with their papers spread over three listing
// days (the fixture is one Hugging Face day), each first seen on its day's
// morning, a minute apart. "agents" is at its limit (More): its oldest day
// is left out of its digest.
func dailyTopics(tb testing.TB) []Topic {
	tb.Helper()
	topics := fixtureTopics(tb)
	for ti := range topics {
		for i := range topics[ti].Items {
			p := &topics[ti].Items[i].Paper
			back := int(p.ID[len(p.ID)-1]-'0') % 3 // fixed by the ID's last digit
			p.Day = p.Day.AddDate(0, 0, -back)
			p.FirstSeen = p.Day.Add(8*time.Hour + time.Duration(i)*time.Minute)
		}
		sortNewest(topics[ti].Items)
	}
	topics[1].More = true
	return topics
}

func TestDailyGolden(t *testing.T) {
	for _, tp := range dailyTopics(t) {
		f, err := Daily(testSite, tp)
		if err != nil {
			t.Fatalf("%s: %v", tp.Slug, err)
		}
		for _, doc := range []struct {
			ext  string
			data []byte
		}{{"atom", f.Atom}, {"rss", f.RSS}, {"json", f.JSON}} {
			t.Run(tp.Slug+"."+DailyPrefix+doc.ext, func(t *testing.T) {
				checkGolden(t, tp.Slug+"."+DailyPrefix+doc.ext, doc.data)
			})
		}
	}
}

// parsedDaily is what the digest tests read back from the three formats.
type parsedDaily struct {
	atom parsedAtom
	rss  parsedRSS
	json struct {
		parsedJSON
		Title string `json:"title"`
		Hubs  []struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"hubs"`
		Items []struct {
			ID            string `json:"id"`
			URL           string `json:"url"`
			Title         string `json:"title"`
			ContentHTML   string `json:"content_html"`
			DatePublished string `json:"date_published"`
			DateModified  string `json:"date_modified"`
		} `json:"items"`
	}
}

func renderDaily(t *testing.T, s Site, tp Topic) parsedDaily {
	t.Helper()
	f, err := Daily(s, tp)
	if err != nil {
		t.Fatalf("Daily: %v", err)
	}
	strictXML(t, f.Atom)
	strictXML(t, f.RSS)
	var d parsedDaily
	if err := xml.Unmarshal(f.Atom, &d.atom); err != nil {
		t.Fatalf("parse atom: %v", err)
	}
	if err := xml.Unmarshal(f.RSS, &d.rss); err != nil {
		t.Fatalf("parse rss: %v", err)
	}
	if err := json.Unmarshal(f.JSON, &d.json); err != nil {
		t.Fatalf("parse json: %v", err)
	}
	// JSON Feed 1.1 wants a version, a title, items, and an id and a
	// content on every item (the W3C validator does not read JSON).
	if d.json.Version != jsonFeedVersion || d.json.Title == "" || d.json.FeedURL == "" {
		t.Errorf("json feed: version %q title %q feed_url %q", d.json.Version, d.json.Title, d.json.FeedURL)
	}
	for i, it := range d.json.Items {
		if it.ID == "" || it.ContentHTML == "" || it.Title == "" {
			t.Errorf("json item %d lacks an id, a title or content_html", i)
		}
	}
	// The three formats agree on the items, in the same order.
	if len(d.atom.Entries) != len(d.rss.Channel.Items) || len(d.atom.Entries) != len(d.json.Items) {
		t.Fatalf("atom %d, rss %d, json %d items", len(d.atom.Entries), len(d.rss.Channel.Items), len(d.json.Items))
	}
	for i, e := range d.atom.Entries {
		r, j := d.rss.Channel.Items[i], d.json.Items[i]
		if r.GUID.ID != e.ID || j.ID != e.ID || r.GUID.IsPermaLink != "false" {
			t.Errorf("item %d: ids atom %q, rss %q (permalink %q), json %q", i, e.ID, r.GUID.ID, r.GUID.IsPermaLink, j.ID)
		}
		// RSS writes "&lt;" and "&amp;" as hexadecimal references, which
		// mean the same (rssProfileEscapes).
		rssHTML := strings.NewReplacer("&#x3C;", "&lt;", "&#x26;", "&amp;").Replace(r.Description)
		if r.Title != e.Title || j.Title != e.Title || rssHTML != e.Content.Text || j.ContentHTML != e.Content.Text {
			t.Errorf("item %d: title or content differ between formats", i)
		}
		if len(e.Links) != 0 || len(r.Link) != 0 || j.URL != "" {
			t.Errorf("item %d has a link of its own: %v %v %q", i, e.Links, r.Link, j.URL)
		}
	}
	return d
}

// day0 is the digest tests' newest listing day.
var day0 = time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)

// dp is paper n of the digest tests, listed on day0 minus back days and
// first seen at seen after its day's midnight.
func dp(n, back int, seen time.Duration) Item {
	d := day0.AddDate(0, 0, -back)
	return Item{Paper: paper.Paper{
		ID:        fmt.Sprintf("2606.%05d", n),
		Title:     fmt.Sprintf("Paper %d", n),
		Abstract:  "About paper " + fmt.Sprint(n) + ".",
		Authors:   []string{"A. One", "B. Two"},
		Day:       d,
		Hub:       true,
		FirstSeen: d.Add(seen),
	}}
}

// TestDailyDays: one item per day with papers, newest first, the oldest
// left out when More; dates, ids and titles as Daily documents them.
func TestDailyDays(t *testing.T) {
	const ms = time.Millisecond
	p9 := dp(9, 0, 0).Paper
	date9 := Date(&p9) // paper 9's item date: its day and the time of day of its ID
	end := func(back int) string {
		return day0.AddDate(0, 0, -back).Add(24*time.Hour - ms).Format(dateLayout)
	}
	mid := func(back int) string { return day0.AddDate(0, 0, -back).Format(dateLayout) }
	type want struct {
		day                 string // the id's fragment
		title               string
		updated, published  string
		papers              []string // titles in the item's list
		rssDate, jsonUpdate string
	}
	tests := []struct {
		name        string
		items       []Item
		more        bool
		updated     time.Time
		want        []want
		feedUpdated string
	}{
		{
			name:  "three days, a gap between them",
			items: []Item{dp(9, 0, 8*time.Hour), dp(8, 0, 9*time.Hour), dp(5, 1, 7*time.Hour), dp(2, 3, 7*time.Hour)},
			want: []want{
				{day: "2026-06-12", title: "T, 12 June 2026: 2 papers", updated: day0.Add(9 * time.Hour).Format(dateLayout), published: mid(0), papers: []string{"Paper 9", "Paper 8"},
					rssDate: "Fri, 12 Jun 2026 09:00:00 +0000", jsonUpdate: "2026-06-12T09:00:00Z"},
				{day: "2026-06-11", title: "T, 11 June 2026: 1 paper", updated: end(1), published: mid(1), papers: []string{"Paper 5"},
					rssDate: "Thu, 11 Jun 2026 23:59:59 +0000", jsonUpdate: "2026-06-11T23:59:59.999Z"},
				{day: "2026-06-09", title: "T, 9 June 2026: 1 paper", updated: end(3), published: mid(3), papers: []string{"Paper 2"},
					rssDate: "Tue, 09 Jun 2026 23:59:59 +0000", jsonUpdate: "2026-06-09T23:59:59.999Z"},
			},
			feedUpdated: day0.Add(9 * time.Hour).Format(dateLayout),
		},
		{
			name:  "more: the oldest day may be cut and is left out",
			items: []Item{dp(9, 0, time.Hour), dp(5, 1, time.Hour), dp(4, 1, time.Hour)},
			more:  true,
			want: []want{{day: "2026-06-12", title: "T, 12 June 2026: 1 paper", updated: day0.Add(time.Hour).Format(dateLayout), published: mid(0), papers: []string{"Paper 9"},
				rssDate: "Fri, 12 Jun 2026 01:00:00 +0000", jsonUpdate: "2026-06-12T01:00:00Z"}},
			feedUpdated: day0.Add(time.Hour).Format(dateLayout),
		},
		{
			name:        "more with one day: no item, dated by the newest paper",
			items:       []Item{dp(9, 0, time.Hour), dp(8, 0, time.Hour)},
			more:        true,
			feedUpdated: date9.Format(dateLayout),
		},
		{
			name:  "first seen before its day: dated at the day's start",
			items: []Item{dp(9, 0, -48*time.Hour)},
			want: []want{{day: "2026-06-12", title: "T, 12 June 2026: 1 paper", updated: mid(0), published: mid(0), papers: []string{"Paper 9"},
				rssDate: "Fri, 12 Jun 2026 00:00:00 +0000", jsonUpdate: "2026-06-12T00:00:00Z"}},
			feedUpdated: mid(0),
		},
		{
			name: "first seen unknown: the item date",
			items: []Item{func() Item {
				it := dp(9, 0, 0)
				it.Paper.FirstSeen = time.Time{}
				return it
			}()},
			want: []want{{day: "2026-06-12", title: "T, 12 June 2026: 1 paper", updated: date9.Format(dateLayout), published: mid(0), papers: []string{"Paper 9"},
				rssDate: date9.Format(time.RFC1123Z), jsonUpdate: date9.Format(time.RFC3339Nano)}},
			feedUpdated: date9.Format(dateLayout),
		},
		{
			name:        "no papers: dated by Topic.Updated",
			updated:     refreshed,
			feedUpdated: refreshed.Format(dateLayout),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := renderDaily(t, testSite, Topic{Slug: "t", Title: "T", Items: tt.items, More: tt.more, Updated: tt.updated})
			if d.atom.Updated != tt.feedUpdated {
				t.Errorf("feed updated %s, want %s", d.atom.Updated, tt.feedUpdated)
			}
			if len(d.atom.Entries) != len(tt.want) {
				t.Fatalf("%d items, want %d", len(d.atom.Entries), len(tt.want))
			}
			for i, w := range tt.want {
				e, r, j := d.atom.Entries[i], d.rss.Channel.Items[i], d.json.Items[i]
				if id := "http://localhost:8080/feeds/t.daily.atom#" + w.day; e.ID != id {
					t.Errorf("item %d id %q, want %q", i, e.ID, id)
				}
				if e.Title != w.title {
					t.Errorf("item %d title %q, want %q", i, e.Title, w.title)
				}
				if e.Updated != w.updated || e.Published != w.published {
					t.Errorf("item %d updated %s published %s, want %s and %s", i, e.Updated, e.Published, w.updated, w.published)
				}
				if r.PubDate != w.rssDate {
					t.Errorf("item %d rss pubDate %s, want %s", i, r.PubDate, w.rssDate)
				}
				if j.DateModified != w.jsonUpdate || j.DatePublished != w.day+"T00:00:00Z" {
					t.Errorf("item %d json modified %s published %s, want %s and midnight", i, j.DateModified, j.DatePublished, w.jsonUpdate)
				}
				if got := listedTitles(t, e.Content.Text); !slices.Equal(got, w.papers) {
					t.Errorf("item %d lists %q, want %q", i, got, w.papers)
				}
			}
		})
	}
}

// listedTitles are the paper titles a digest item's HTML lists, in order.
func listedTitles(t *testing.T, content string) []string {
	t.Helper()
	var list struct {
		Items []struct {
			A string `xml:"a"`
		} `xml:"li"`
	}
	// The item HTML is also well-formed XML once its <br> are closed.
	if err := xml.Unmarshal([]byte(strings.ReplaceAll(content, "<br>", "<br/>")), &list); err != nil {
		t.Fatalf("item content %q: %v", content, err)
	}
	var titles []string
	for _, li := range list.Items {
		titles = append(titles, li.A)
	}
	return titles
}

// TestDailyAsPapersArrive follows a topic's digest through refreshes: the
// open day's date moves with each arrival while its id stays; once a later
// day has papers it is dated at its end and stays so, also when a paper
// comes late for it; a refresh that brings nothing gives the same bytes.
func TestDailyAsPapersArrive(t *testing.T) {
	build := func(items ...Item) Topic {
		items = slices.Clone(items)
		sortNewest(items)
		return Topic{Slug: "t", Title: "T", Items: items}
	}
	yesterday := day0.AddDate(0, 0, -1)
	steps := []struct {
		name  string
		topic Topic
		want  map[string]string // id fragment -> updated
	}{
		{"first paper", build(dp(1, 1, 6*time.Hour)), map[string]string{"2026-06-11": yesterday.Add(6 * time.Hour).Format(dateLayout)}},
		{"a second paper the same day", build(dp(1, 1, 6*time.Hour), dp(2, 1, 11*time.Hour)), map[string]string{"2026-06-11": yesterday.Add(11 * time.Hour).Format(dateLayout)}},
		{"a paper seen after midnight for that day", build(dp(1, 1, 6*time.Hour), dp(2, 1, 11*time.Hour), dp(3, 1, 26*time.Hour)), map[string]string{"2026-06-11": yesterday.Add(26 * time.Hour).Format(dateLayout)}},
		{"the next day begins: the day is complete", build(dp(1, 1, 6*time.Hour), dp(2, 1, 11*time.Hour), dp(3, 1, 26*time.Hour), dp(4, 0, 7*time.Hour)),
			map[string]string{"2026-06-12": day0.Add(7 * time.Hour).Format(dateLayout), "2026-06-11": "2026-06-11T23:59:59.999Z"}},
		{"a late paper for the complete day", build(dp(1, 1, 6*time.Hour), dp(2, 1, 11*time.Hour), dp(3, 1, 26*time.Hour), dp(4, 0, 7*time.Hour), dp(5, 1, 30*time.Hour)),
			map[string]string{"2026-06-12": day0.Add(7 * time.Hour).Format(dateLayout), "2026-06-11": "2026-06-11T23:59:59.999Z"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			d := renderDaily(t, testSite, st.topic)
			got := map[string]string{}
			for _, e := range d.atom.Entries {
				_, day, _ := strings.Cut(e.ID, "#")
				got[day] = e.Updated
			}
			if fmt.Sprint(got) != fmt.Sprint(st.want) {
				t.Errorf("items dated %v, want %v", got, st.want)
			}
			a, err := Daily(testSite, st.topic)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Daily(testSite, st.topic)
			if err != nil {
				t.Fatal(err)
			}
			if string(a.Atom) != string(b.Atom) || string(a.RSS) != string(b.RSS) || string(a.JSON) != string(b.JSON) {
				t.Error("two renders of the same topic differ")
			}
		})
	}
}

// TestDailyFixtureDates: in the digests of the fixture topics, every Atom
// entry has its own updated instant, in the items' order, and the feed is
// dated by its newest entry (the W3C validator warns DuplicateUpdated
// otherwise, and readers sort by date).
func TestDailyFixtureDates(t *testing.T) {
	for _, tp := range dailyTopics(t) {
		d := renderDaily(t, testSite, tp)
		var prev time.Time
		for i, e := range d.atom.Entries {
			u, err := time.Parse(time.RFC3339, e.Updated)
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && !u.Before(prev) {
				t.Errorf("%s: entry %d (%s) not older than the one before", tp.Slug, i, e.Updated)
			}
			prev = u
		}
		if len(d.atom.Entries) > 0 && d.atom.Updated != d.atom.Entries[0].Updated {
			t.Errorf("%s: feed updated %s, newest entry %s", tp.Slug, d.atom.Updated, d.atom.Entries[0].Updated)
		}
		if want := map[string]int{"all": 3, "agents": 2, "empty": 0}[tp.Slug]; len(d.atom.Entries) != want {
			t.Errorf("%s: %d days, want %d", tp.Slug, len(d.atom.Entries), want)
		}
	}
}

// TestDailyContent: an item's list escapes every text, links only to
// http(s) pages, cuts authors and abstracts, and stays XML-clean.
func TestDailyContent(t *testing.T) {
	long := strings.Repeat("word ", 100)
	p := paper.Paper{
		ID:        "x1",
		Link:      "javascript:alert(1)",
		Title:     `<script>alert("t")</script> & co` + "\x01",
		Abstract:  long,
		Authors:   []string{"A", "B", "C", "D"},
		Day:       day0,
		FirstSeen: day0,
	}
	q := paper.Paper{ID: "2606.00002", Title: " ", Abstract: "Short.", Authors: []string{"Solo"}, Day: day0, FirstSeen: day0}
	d := renderDaily(t, testSite, Topic{Slug: "t", Items: []Item{{Paper: p}, {Paper: q}}})
	if len(d.atom.Entries) != 1 {
		t.Fatalf("%d items, want 1", len(d.atom.Entries))
	}
	html := d.atom.Entries[0].Content.Text
	for _, want := range []string{
		`<li>&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; co<br>A, B, C et al.<br>` + strings.Repeat("word ", 39) + "word …</li>",
		`<li><a href="https://arxiv.org/abs/2606.00002">2606.00002</a><br>Solo<br>Short.</li>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("item HTML lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "javascript:") || strings.Contains(html, "\x01") || strings.Contains(html, "<script") {
		t.Errorf("item HTML carries what it must not:\n%s", html)
	}
	if got, want := d.atom.Entries[0].Title, "t, 12 June 2026: 2 papers"; got != want {
		t.Errorf("title %q, want %q (the slug when the topic has no title)", got, want)
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "A short abstract.", 200, "A short abstract."},
		{"exactly n", "abcde", 5, "abcde"},
		{"cut inside a word drops it", "one two three", 9, "one two …"},
		{"cut at a space keeps the word", "one two three", 7, "one two …"},
		{"trailing punctuation goes", "one, two three", 6, "one …"},
		{"white space collapsed first", "  one \n\t two  ", 200, "one two"},
		{"one long word is cut inside", "abcdefghij", 4, "abcd …"},
		{"runes, not bytes", "ééé ééé", 5, "ééé …"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := excerpt(tt.in, tt.n); got != tt.want {
				t.Errorf("excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestDailyErrors(t *testing.T) {
	tests := []struct {
		name string
		site Site
		tp   Topic
		want error
	}{
		{"bad base url", Site{BaseURL: "example.org"}, Topic{Slug: "t", Updated: refreshed}, errNotAbsolute},
		{"bad hub", Site{BaseURL: testSite.BaseURL, Hub: "hub.example.org"}, Topic{Slug: "t", Updated: refreshed}, errNotAbsolute},
		{"no slug", testSite, Topic{Updated: refreshed}, errNoSlug},
		{"bad slug", testSite, Topic{Slug: "a/b", Updated: refreshed}, errBadSlug},
		{"another topic's digest", testSite, Topic{Slug: "a.daily", Updated: refreshed}, errDailySlug},
		{"no date at all", testSite, Topic{Slug: "t"}, errNoDate},
		{"item without a date", testSite, Topic{Slug: "t", Items: []Item{{Paper: paper.Paper{ID: "x"}}}}, errNoDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Daily(tt.site, tt.tp)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "daily: ") {
				t.Errorf("err %q does not say it is the digest", err)
			}
			if f.Atom != nil || f.RSS != nil || f.JSON != nil {
				t.Error("bytes with an error")
			}
		})
	}
}

// TestHubLinks: with Site.Hub set, every feed, topic and daily, names the
// hub right after its self link in Atom and RSS, and in "hubs" in JSON
// Feed; without it, none does.
func TestHubLinks(t *testing.T) {
	const hub = "https://hub.example.org/"
	tp := dailyTopics(t)[1]
	renders := []struct {
		name   string
		render func(Site, Topic) (Feeds, error)
		self   string
	}{
		{"topic", Render, "http://localhost:8080/feeds/agents."},
		{"daily", Daily, "http://localhost:8080/feeds/agents.daily."},
	}
	for _, r := range renders {
		for _, withHub := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/hub=%v", r.name, withHub), func(t *testing.T) {
				s := testSite
				if withHub {
					s.Hub = hub
				}
				f, err := r.render(s, tp)
				if err != nil {
					t.Fatal(err)
				}
				var a parsedAtom
				var rs parsedRSS
				var j struct {
					Hubs []struct {
						Type string `json:"type"`
						URL  string `json:"url"`
					} `json:"hubs"`
				}
				if err := xml.Unmarshal(f.Atom, &a); err != nil {
					t.Fatal(err)
				}
				if err := xml.Unmarshal(f.RSS, &rs); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(f.JSON, &j); err != nil {
					t.Fatal(err)
				}
				_, rssLinks := channelLinks(rs.Channel.Links)
				wantAtom := []parsedLink{{Href: r.self + "atom", Rel: "self", Type: "application/atom+xml"}}
				wantRSS := []parsedLink{{Href: r.self + "rss", Rel: "self", Type: "application/rss+xml"}}
				var wantJSON string
				if withHub {
					wantAtom = append(wantAtom, parsedLink{Href: hub, Rel: "hub"})
					wantRSS = append(wantRSS, parsedLink{Href: hub, Rel: "hub"})
					wantJSON = `[{WebSub ` + hub + `}]`
				}
				wantAtom = append(wantAtom, parsedLink{Href: "http://localhost:8080/", Rel: "alternate", Type: "text/html"})
				if !slices.Equal(a.Links, wantAtom) {
					t.Errorf("atom links %+v, want %+v", a.Links, wantAtom)
				}
				if !slices.Equal(rssLinks, wantRSS) {
					t.Errorf("rss atom:links %+v, want %+v", rssLinks, wantRSS)
				}
				gotJSON := ""
				if len(j.Hubs) > 0 {
					gotJSON = fmt.Sprint(j.Hubs)
				}
				if gotJSON != wantJSON {
					t.Errorf("json hubs %s, want %s", gotJSON, wantJSON)
				}
			})
		}
	}
}

// BenchmarkDaily100 is the digest of a topic of 100 papers, to compare
// with BenchmarkRender100/Render: the site builder renders both for every
// topic it rewrites.
func BenchmarkDaily100(b *testing.B) {
	tp := benchTopic(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Daily(testSite, tp); err != nil {
			b.Fatal(err)
		}
	}
}
