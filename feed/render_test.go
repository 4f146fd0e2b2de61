package feed

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"

	"github.com/paperfeed/paperfeed/paper"
)

// checkRender renders tp in the three formats and holds the documents to
// what readers rely on, whatever the papers' text: each parses back with
// encoding/xml or encoding/json; every item is there with its cleaned title
// and the same id in every format; and the item's HTML, the same in every
// format, is made only of the template's elements with http(s) URLs and
// holds the cleaned abstract.
func checkRender(t *testing.T, tp Topic) {
	t.Helper()
	pa, pr, pj := renderAll(t, testSite, tp)
	n := len(tp.Items)
	if len(pa.Entries) != n || len(pr.Channel.Items) != n || len(pj.Items) != n {
		t.Fatalf("got %d atom, %d rss, %d json items, want %d each", len(pa.Entries), len(pr.Channel.Items), len(pj.Items), n)
	}
	for i := range tp.Items {
		p := &tp.Items[i].Paper
		id := cleanURL(p.AbsURL())
		if id == "" {
			id = cleanURL(p.Link)
		}
		title := collapse(p.Title)
		if title == "" {
			title = id
		}
		ae, re, je := pa.Entries[i], pr.Channel.Items[i], pj.Items[i]
		if got := []string{ae.ID, re.GUID.ID, je.ID}; got[0] != id || got[1] != id || got[2] != id {
			t.Errorf("item %d: ids atom/rss/json = %q, want %q in each", i, got, id)
		}
		if got := []string{ae.Title, re.Title, je.Title}; got[0] != title || got[1] != title || got[2] != title {
			t.Errorf("item %d: titles atom/rss/json = %q, want %q in each", i, got, title)
		}
		content := ae.Content.Text
		if je.ContentHTML != content {
			t.Errorf("item %d: json content_html differs from atom content:\n%s\n---\n%s", i, je.ContentHTML, content)
		}
		// The RSS Profile respells references; the HTML means the same.
		if html.UnescapeString(re.Description) != html.UnescapeString(content) {
			t.Errorf("item %d: rss description means something else than atom content:\n%s\n---\n%s", i, re.Description, content)
		}
		if ae.Summary != "" || re.Content != "" || je.Summary != "" {
			t.Errorf("item %d: a second copy of the text (atom summary %q, rss content:encoded %q, json summary %q)", i, ae.Summary, re.Content, je.Summary)
		}
		checkContentHTML(t, content, collapse(p.Abstract))
	}
	checkDaily(t, tp)
}

// dailyElements are the elements and attributes a digest item's HTML may
// hold: those of dailyTemplate.
var dailyElements = map[string][]string{
	"html": nil, "head": nil, "body": nil, // added by the parser
	"ol": nil, "li": nil, "br": nil, "a": {"href"},
}

// checkDaily holds the topic's daily digest to what readers rely on,
// whatever the papers' text: the formats parse and agree (renderDaily),
// every paper is listed once under its day, and the item HTML is made only
// of the template's elements with http(s) URLs.
func checkDaily(t *testing.T, tp Topic) {
	t.Helper()
	tp.More = false
	d := renderDaily(t, testSite, tp)
	listed := 0
	for _, e := range d.atom.Entries {
		doc, err := xhtml.Parse(strings.NewReader(e.Content.Text))
		if err != nil {
			t.Fatalf("parse digest content: %v", err)
		}
		for nd := range doc.Descendants() {
			if nd.Type != xhtml.ElementNode {
				continue
			}
			allowed, ok := dailyElements[nd.Data]
			if !ok {
				t.Errorf("digest content holds a <%s> element:\n%s", nd.Data, e.Content.Text)
				continue
			}
			if nd.Data == "li" {
				listed++
			}
			for _, a := range nd.Attr {
				if !slices.Contains(allowed, a.Key) {
					t.Errorf("digest content holds <%s %s=%q>", nd.Data, a.Key, a.Val)
				}
				if u := strings.ToLower(a.Val); a.Key == "href" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
					t.Errorf("digest content links to %q, not an http(s) URL", a.Val)
				}
			}
		}
	}
	if listed != len(tp.Items) {
		t.Errorf("the digest lists %d papers, want all %d", listed, len(tp.Items))
	}
}

// contentElements are the elements and attributes the item HTML may hold:
// those of contentTemplate.
var contentElements = map[string][]string{
	"html": nil, "head": nil, "body": nil, // added by the parser
	"p": nil, "b": nil, "img": {"src", "alt"}, "a": {"href"},
}

// checkContentHTML parses an item's HTML and fails on an element or
// attribute the template does not write, on a URL that is not http(s), or
// when no paragraph holds exactly the abstract (unless it is empty).
func checkContentHTML(t *testing.T, content, abstract string) {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(content))
	if err != nil {
		t.Fatalf("parse content: %v", err)
	}
	foundAbstract := abstract == ""
	for nd := range doc.Descendants() {
		if nd.Type != xhtml.ElementNode {
			continue
		}
		allowed, ok := contentElements[nd.Data]
		if !ok {
			t.Errorf("content holds a <%s> element:\n%s", nd.Data, content)
			continue
		}
		for _, a := range nd.Attr {
			if !strings.Contains(" "+strings.Join(allowed, " ")+" ", " "+a.Key+" ") {
				t.Errorf("content holds <%s %s=%q>:\n%s", nd.Data, a.Key, a.Val, content)
			}
			if u := strings.ToLower(a.Val); (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Errorf("content links to %q, not an http(s) URL:\n%s", a.Val, content)
			}
		}
		if nd.Data == "p" && textOf(nd) == abstract {
			foundAbstract = true
		}
	}
	if !foundAbstract {
		t.Errorf("no paragraph of the content holds the abstract %q:\n%s", abstract, content)
	}
}

// textOf is the text of an HTML node and its descendants.
func textOf(nd *xhtml.Node) string {
	var b strings.Builder
	for d := range nd.Descendants() {
		if d.Type == xhtml.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// renderCase is a named topic the renderers are checked on.
type renderCase struct {
	name  string
	topic Topic
}

// hostileCases are topics made to break a renderer: hostile text, markup,
// references and CDATA ends, empty fields, long lists, Unicode case
// folding, odd URLs; then the fixture topics.
func hostileCases(t *testing.T) []renderCase {
	var manyTerms, manyAuthors []string
	for i := range 80 {
		manyTerms = append(manyTerms, fmt.Sprintf("Term %d", i%70), fmt.Sprintf("TERM %d", i))
	}
	for i := range 30 {
		manyAuthors = append(manyAuthors, fmt.Sprintf("A%d", i), "")
	}
	base := paper.Paper{ID: "2606.00001", Title: "t", Day: refreshed}
	with := func(f func(p *paper.Paper)) []Item {
		p := base
		f(&p)
		return []Item{{Paper: p, Terms: []string{"x"}}}
	}
	cases := []renderCase{
		{"nasty text everywhere", Topic{Slug: "n", Title: nasty, Description: nasty, Items: with(func(p *paper.Paper) {
			p.Title, p.Abstract, p.Authors, p.AIKeywords = nasty, nasty, []string{nasty, nasty}, []string{nasty}
			p.Organization, p.AISummary, p.ArxivComments, p.JournalRef = nasty, nasty, nasty, nasty
		})}},
		{"markup, references and CDATA ends", Topic{Slug: "m", Title: "a &amp; b &lt; ]]> c", Items: with(func(p *paper.Paper) {
			p.Title = `]]> & &amp; &lt; <![CDATA[ "q" 'a'`
			p.Abstract = "x ]]> y &amp;&lt;&gt;&#39; ]]]]> <script>alert(1)</script> a+b"
			p.Authors = []string{"O'Brien & <Co>", "]]>"}
			p.GitHubRepo, p.GitHubStars = "https://github.com/a/b?x=1&y=<2>", 3
			p.ProjectPage = "https://p.test/a]]>b"
			p.Thumbnail = `https://t.test/x.png" onerror="alert(1)`
		})}},
		{"empty fields", Topic{Slug: "e", Items: with(func(p *paper.Paper) {
			p.Title, p.Thumbnail = "", ""
		})}},
		{"many terms and authors", Topic{Slug: "t", Items: []Item{{Paper: func() paper.Paper {
			p := base
			p.Authors = manyAuthors
			p.AIKeywords = manyTerms
			return p
		}(), Terms: manyTerms}}}},
		{"unicode case folding", Topic{Slug: "u", Items: []Item{{Paper: base, Terms: []string{
			"Σ", "σ", "ς", "K", "\u212a", "k", "İ", "i̇", "straße", "STRASSE", "Ǆ", "ǅ", "ǆ", "ΣΑ", "σα",
		}}}}},
		{"non-arXiv and bad URLs", Topic{Slug: "w", Items: []Item{
			{Paper: paper.Paper{ID: "x1", Link: "urn:isbn:1", Title: "book", Day: refreshed}},
			{Paper: paper.Paper{ID: "x2", Link: "https://example.test/a?b=c&d=<e>", Day: refreshed, Thumbnail: "javascript:x", ProjectPage: "HTTP://UPPER.test/"}},
			{Paper: paper.Paper{ID: "x3", Link: "http://[::1", Day: refreshed, GitHubRepo: "https:///nohost"}},
			{Paper: paper.Paper{ID: "x4", Link: "https://x.test/\r\n\tid", Day: refreshed, ProjectPage: "data:text/html,<b>"}},
		}}},
		{"no items", Topic{Slug: "z", Updated: refreshed}},
	}
	for i, tp := range fixtureTopics(t) {
		cases = append(cases, renderCase{fmt.Sprintf("fixture %d %s", i, tp.Slug), tp})
	}
	return cases
}

func TestRenderInvariants(t *testing.T) {
	for _, tt := range hostileCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			checkRender(t, tt.topic)
		})
	}
}

// FuzzRender holds the renderers to checkRender's invariants on any paper
// text, and to failing all three alike (errNoID) when an item has no id.
func FuzzRender(f *testing.F) {
	f.Add("t", "abstract", "Ann", "LLM", "https://x.test/a", "2606.00001", 3)
	f.Add(nasty, nasty, nasty, nasty, nasty, nasty, -1)
	f.Add("]]>", "a &amp; b ]]> <c>", "O'Brien", "llm", "http://[::1", "hep-th/9901001v2", 0)
	f.Add("\u2028\u2029", "\xff\xfe", "\u212a", "k", "https://u.test/p?a=1&b=2", "", 7)
	f.Add("<script>", "javascript:alert(1)", "a+b", "+", "javascript:alert(1)", "x", 1)
	f.Fuzz(func(t *testing.T, title, abstract, author, term, link, id string, n int) {
		p := paper.Paper{
			ID: id, Title: title, Abstract: abstract, Authors: []string{author, term, author},
			Link: link, Thumbnail: link, GitHubRepo: link, ProjectPage: link, GitHubStars: n,
			Organization: title, AISummary: abstract, ArxivComments: term, JournalRef: author,
			Upvotes: n, Comments: -n, Day: refreshed.Add(time.Duration(n%100000) * time.Hour),
			AIKeywords: []string{term, title, strings.ToUpper(term)},
		}
		q := p
		q.ID, q.Link = "2606.00001", "https://x.test/"+id
		tp := Topic{Slug: "f", Title: title, Description: abstract, Updated: refreshed,
			Items: []Item{{Paper: p, Terms: []string{term, author}}, {Paper: q}}}
		if cleanURL(p.AbsURL()) == "" && cleanURL(p.Link) == "" {
			for _, render := range []func(Site, Topic) ([]byte, error){Atom, RSS, JSON} {
				if b, err := render(testSite, tp); !errors.Is(err, errNoID) || b != nil {
					t.Fatalf("item without id or link: got %d bytes, %v; want nil, %v", len(b), err, errNoID)
				}
			}
			if _, err := Render(testSite, tp); !errors.Is(err, errNoID) {
				t.Fatalf("item without id or link: Render gave %v; want %v", err, errNoID)
			}
			return
		}
		checkRender(t, tp)
	})
}

// TestRenderSameBytes holds Render to giving what Atom, RSS and JSON give,
// byte for byte, on every topic the renderers are checked on.
func TestRenderSameBytes(t *testing.T) {
	for _, tt := range hostileCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(testSite, tt.topic)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name   string
				got    []byte
				render func(Site, Topic) ([]byte, error)
			}{{"atom", got.Atom, Atom}, {"rss", got.RSS, RSS}, {"json", got.JSON, JSON}} {
				want, err := f.render(testSite, tt.topic)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(f.got, want) {
					t.Errorf("Render's %s differs from %s's:\n%s\n---\n%s", f.name, f.name, f.got, want)
				}
			}
		})
	}
}

// TestRendererSameBytes: a Renderer that has rendered a topic's papers
// before (in this topic, and in one showing them in another order and with
// other terms) writes the topic and its daily digest as a fresh Render and
// Daily do.
func TestRendererSameBytes(t *testing.T) {
	for _, tt := range hostileCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			var r Renderer
			other := tt.topic
			other.Slug, other.Items = "other", slices.Clone(tt.topic.Items)
			slices.Reverse(other.Items)
			for i := range other.Items {
				other.Items[i].Terms = []string{"another term"}
			}
			for _, tp := range []Topic{tt.topic, other, tt.topic, other} {
				got, err := r.Render(testSite, tp)
				if err != nil {
					t.Fatal(err)
				}
				want, err := Render(testSite, tp)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Atom, want.Atom) || !bytes.Equal(got.RSS, want.RSS) || !bytes.Equal(got.JSON, want.JSON) {
					t.Errorf("topic %s: a reused Renderer wrote other bytes than Render", tp.Slug)
				}
				got, err = r.Daily(testSite, tp)
				if err != nil {
					t.Fatal(err)
				}
				want, err = Daily(testSite, tp)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Atom, want.Atom) || !bytes.Equal(got.RSS, want.RSS) || !bytes.Equal(got.JSON, want.JSON) {
					t.Errorf("topic %s: a reused Renderer wrote another digest than Daily", tp.Slug)
				}
			}
			if len(tt.topic.Items) > 0 && (len(r.entries) == 0 || len(r.digest) == 0) {
				t.Errorf("the Renderer kept %d items and %d digest lines, want some of each", len(r.entries), len(r.digest))
			}
		})
	}
}

// TestRendererAcrossBuilds: a Renderer kept from one build to the next
// makes again the item and digest lines of a paper whose content changed
// (every field a feed shows, one at a time), writing what a fresh Render and
// Daily write, and Retain forgets the papers it is told to.
func TestRendererAcrossBuilds(t *testing.T) {
	base := paper.Paper{
		ID: "2606.00001", Title: "A title", Abstract: "An abstract.", Authors: []string{"Ada"},
		Day: refreshed, Hub: true, Upvotes: 3, Categories: []string{"cs.CL"},
	}
	changes := map[string]func(p *paper.Paper){
		"title":      func(p *paper.Paper) { p.Title = "Another title" },
		"abstract":   func(p *paper.Paper) { p.Abstract = "Another abstract." },
		"authors":    func(p *paper.Paper) { p.Authors = []string{"Ada", "Bo"} },
		"day":        func(p *paper.Paper) { p.Day = p.Day.Add(-24 * time.Hour) },
		"upvotes":    func(p *paper.Paper) { p.Upvotes++ },
		"hub":        func(p *paper.Paper) { p.Hub = false },
		"categories": func(p *paper.Paper) { p.Categories = []string{"cs.LG"} },
		"code":       func(p *paper.Paper) { p.GitHubRepo = "https://github.com/example/code" },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			var r Renderer
			other := paper.Paper{ID: "2606.00002", Title: "Other", Day: refreshed}
			tp := Topic{Slug: "s", Updated: refreshed, Items: []Item{{Paper: base}, {Paper: other}}}
			first, err := r.Render(testSite, tp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Daily(testSite, tp); err != nil {
				t.Fatal(err)
			}
			changed := base
			change(&changed)
			tp.Items = []Item{{Paper: changed}, {Paper: other}}
			got, err := r.Render(testSite, tp)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Render(testSite, tp)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(want.Atom, first.Atom) {
				t.Fatalf("changing the %s does not change the feed: the test shows nothing", name)
			}
			if !bytes.Equal(got.Atom, want.Atom) || !bytes.Equal(got.RSS, want.RSS) || !bytes.Equal(got.JSON, want.JSON) {
				t.Errorf("after the %s changed, the kept Renderer wrote a stale feed:\n%s\n---\n%s", name, got.Atom, want.Atom)
			}
			gotDaily, err := r.Daily(testSite, tp)
			if err != nil {
				t.Fatal(err)
			}
			wantDaily, err := Daily(testSite, tp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotDaily.Atom, wantDaily.Atom) || !bytes.Equal(gotDaily.JSON, wantDaily.JSON) {
				t.Errorf("after the %s changed, the kept Renderer wrote a stale digest", name)
			}
			r.Retain(func(id string) bool { return id == other.ID })
			if len(r.entries) != 1 || len(r.digest) != 1 {
				t.Errorf("Retain kept %d items and %d digest lines, want 1 and 1", len(r.entries), len(r.digest))
			}
			if _, ok := r.entries[other.ID]; !ok {
				t.Errorf("Retain dropped the paper it was told to keep")
			}
		})
	}
}

// TestRendererUndatedPaperPerTopic: a paper without any date of its own is
// dated by each topic's Updated, also when a Renderer made its item for
// another topic before.
func TestRendererUndatedPaperPerTopic(t *testing.T) {
	p := paper.Paper{ID: "2606.00001", Title: "undated"}
	var r Renderer
	for _, updated := range []time.Time{refreshed, refreshed.Add(time.Hour)} {
		tp := Topic{Slug: "u", Items: []Item{{Paper: p}}, Updated: updated}
		got, err := r.Render(testSite, tp)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Render(testSite, tp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Atom, want.Atom) || !bytes.Equal(got.RSS, want.RSS) || !bytes.Equal(got.JSON, want.JSON) {
			t.Errorf("updated %s: a reused Renderer wrote other bytes than Render:\n%s\n---\n%s", updated, got.Atom, want.Atom)
		}
		if stamp := updated.Format(dateLayout); !bytes.Contains(got.Atom, []byte("<updated>"+stamp+"</updated>")) {
			t.Errorf("updated %s: the item is not dated %s:\n%s", updated, stamp, got.Atom)
		}
	}
	if _, err := r.Render(testSite, Topic{Slug: "z", Items: []Item{{Paper: p}}}); !errors.Is(err, errNoDate) {
		t.Errorf("a topic without Updated: got %v, want errNoDate", err)
	}
}

// TestItemTextOnce checks the once-per-format rule on the raw documents: the
// abstract is written once, in the item HTML, not again as a summary.
func TestItemTextOnce(t *testing.T) {
	p := paper.Paper{ID: "2606.00001", Title: "t", Abstract: "MARKER abstract", AISummary: "other", Day: refreshed}
	tp := Topic{Slug: "o", Items: []Item{{Paper: p}}}
	for _, f := range []struct {
		name   string
		render func(Site, Topic) ([]byte, error)
	}{{"atom", Atom}, {"rss", RSS}, {"json", JSON}} {
		b, err := f.render(testSite, tp)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("MARKER")); n != 1 {
			t.Errorf("%s: the abstract appears %d times, want once:\n%s", f.name, n, b)
		}
	}
	r, err := RSS(testSite, tp)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(r, []byte("content:")) {
		t.Errorf("rss uses the content module, which nothing needs any more:\n%s", r)
	}
}

func TestJSONYearOutOfRange(t *testing.T) {
	far := paper.Paper{ID: "2606.00003", Title: "far", Day: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, err := JSON(testSite, Topic{Slug: "y", Items: []Item{{Paper: far}}})
	if err == nil || !strings.Contains(err.Error(), "year outside of range") || b != nil {
		t.Errorf("got %d bytes, %v; want nil and encoding/json's year error", len(b), err)
	}
	f, err := Render(testSite, Topic{Slug: "y", Items: []Item{{Paper: far}}})
	if err == nil || !strings.HasPrefix(err.Error(), "json: ") || !strings.Contains(err.Error(), "year outside of range") || f.Atom != nil || f.RSS != nil || f.JSON != nil {
		t.Errorf("Render: got %d, %d, %d bytes, %v; want none and encoding/json's year error", len(f.Atom), len(f.RSS), len(f.JSON), err)
	}
}

func TestIndexTotal(t *testing.T) {
	var items []Item
	for i := range 7 {
		items = append(items, Item{Paper: paper.Paper{ID: fmt.Sprintf("2606.%05d", i+1), Title: fmt.Sprintf("P%d", i), Day: refreshed}})
	}
	topics := []Topic{
		{Slug: "big", Title: "Big", Items: items, Total: 250},
		{Slug: "one", Title: "One", Items: items[:1]},
	}
	idx, err := Index(testSite, topics, Status{})
	if err != nil {
		t.Fatal(err)
	}
	s := string(idx)
	for _, want := range []string{"250 papers", "1 paper<", ">P4</a>"} {
		if !strings.Contains(s, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(s, ">P5</a>") || strings.Contains(s, "7 papers") {
		t.Errorf("index.html shows more than the first %d items or counts Items instead of Total:\n%s", newestShown, s)
	}
	if n := strings.Count(s, "<li>"); n != newestShown+1 {
		t.Errorf("index lists %d papers, want %d", n, newestShown+1)
	}
}
