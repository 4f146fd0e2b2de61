package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/feeds"
	"github.com/paperfeed/paperfeed/paper"
)

// checkMatchesReference fails unless Atom and RSS give the reference's bytes
// and JSON the reference's document for tp, and both XML documents are
// well-formed; and unless JSON gives encoding/json's bytes and AppendAll the
// separate renders' (see checkJSONMatchesEncoder, checkAllMatchesSeparate).
func checkMatchesReference(t *testing.T, tp Topic) {
	t.Helper()
	checkJSONMatchesEncoder(t, tp)
	checkAllMatchesSeparate(t, tp)
	for _, f := range []struct {
		name      string
		fast, ref func(Site, Topic) ([]byte, error)
	}{
		{"atom", Atom, refAtom},
		{"rss", RSS, refRSS},
		{"json", JSON, refJSON},
	} {
		got, gotErr := f.fast(testSite, tp)
		want, wantErr := f.ref(testSite, tp)
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("%s: error %v, reference error %v", f.name, gotErr, wantErr)
		}
		if gotErr != nil {
			continue
		}
		if f.name == "json" {
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("json: %v\n%s", err, got)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatalf("reference json: %v", err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("json document differs from the reference:\n got: %s\nwant: %s", got, want)
			}
			continue
		}
		strictXML(t, got)
		if !bytes.Equal(got, want) {
			gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s: line %d differs from the reference\n got: %q\nwant: %q", f.name, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: %d lines, reference %d", f.name, len(gl), len(wl))
		}
	}
}

// renderCase is a named topic the fast renderers are checked on.
type renderCase struct {
	name  string
	topic Topic
}

// adversarialCases are the hand-made topics of TestRenderMatchesReference
// (hostile text, markup, empty fields, long lists, odd URLs, error cases)
// followed by the fixture topics.
func adversarialCases(t *testing.T) []renderCase {
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
	tests := []renderCase{
		{"nasty text everywhere", Topic{Slug: "n", Title: nasty, Description: nasty, Items: with(func(p *paper.Paper) {
			p.Title, p.Abstract, p.Authors, p.AIKeywords = nasty, nasty, []string{nasty, nasty}, []string{nasty}
			p.Organization, p.AISummary, p.ArxivComments, p.JournalRef = nasty, nasty, nasty, nasty
		})}},
		{"markup, references and CDATA ends", Topic{Slug: "m", Title: "a &amp; b &lt; ]]> c", Items: with(func(p *paper.Paper) {
			p.Title = `]]> & &amp; &lt; <![CDATA[ "q" 'a'`
			p.Abstract = "x ]]> y &amp;&lt;&gt;&#39; ]]]]>"
			p.Authors = []string{"O'Brien & <Co>", "]]>"}
			p.GitHubRepo, p.GitHubStars = "https://github.com/a/b?x=1&y=<2>", 3
			p.ProjectPage = "https://p.test/a]]>b"
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
		}}},
		{"no items", Topic{Slug: "z", Updated: refreshed}},
		{"bad slug", Topic{Slug: "../x", Updated: refreshed}},
		{"no date", Topic{Slug: "d", Items: []Item{{Paper: paper.Paper{ID: "2606.00002"}}}}},
	}
	for i, tp := range fixtureTopics(t) {
		tests = append(tests, renderCase{fmt.Sprintf("fixture %d %s", i, tp.Slug), tp})
	}
	return tests
}

func TestRenderMatchesReference(t *testing.T) {
	for _, tt := range adversarialCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			checkMatchesReference(t, tt.topic)
		})
	}
}

func FuzzRenderMatchesReference(f *testing.F) {
	f.Add("t", "abstract", "Ann", "LLM", "https://x.test/a", "2606.00001", 3)
	f.Add(nasty, nasty, nasty, nasty, nasty, nasty, -1)
	f.Add("]]>", "a &amp; b ]]> <c>", "O'Brien", "llm", "http://[::1", "hep-th/9901001v2", 0)
	f.Add("\u2028\u2029", "\xff\xfe", "\u212a", "k", "https://u.test/p?a=1&b=2", "", 7)
	f.Fuzz(func(t *testing.T, title, abstract, author, term, link, id string, n int) {
		p := paper.Paper{
			ID: id, Title: title, Abstract: abstract, Authors: []string{author, term, author},
			Link: link, Thumbnail: link, GitHubRepo: link, ProjectPage: link, GitHubStars: n,
			Organization: title, AISummary: abstract, ArxivComments: term, JournalRef: author,
			Upvotes: n, Comments: -n, Day: refreshed.Add(time.Duration(n) * time.Hour),
			AIKeywords: []string{term, title, strings.ToUpper(term)},
		}
		q := p
		q.ID, q.Link = "2606.00001", "https://x.test/"+id
		tp := Topic{Slug: "f" + id, Title: title, Description: abstract, Updated: refreshed,
			Items: []Item{{Paper: p, Terms: []string{term, author}}, {Paper: q}}}
		checkMatchesReference(t, tp)
	})
}

func FuzzWebURL(f *testing.F) {
	for _, s := range []string{"https://a.test/b", "http://", "https:///x", "http://a_b.test/~c", "http://-/.", "https://x.test/%zz", "http://a:b/", "http://a/b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := webURL(s), refWebURL(s); got != want {
			t.Fatalf("webURL(%q) = %q, url.Parse says %q", s, got, want)
		}
	})
}

func FuzzEscapers(f *testing.F) {
	for _, s := range []string{"", "plain", nasty, "&amp;&lt;&gt;", "]]>", "a]]]>b]]>", "\xed\xa0\x80\uFFFD\uFFFE", "\t\r\n\"'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		if err := xml.EscapeText(&b, []byte(s)); err != nil {
			t.Fatal(err)
		}
		want := b.String()
		for _, c := range []struct {
			name string
			got  []byte
			want string
		}{
			{"xml string", appendXMLText([]byte("x"), s, false), "x" + want},
			{"xml bytes", appendXMLText([]byte("x"), []byte(s), false), "x" + want},
			{"rss", appendXMLText(nil, s, true), refRSSProfileEscapes.Replace(want)},
			{"html string", appendHTML([]byte("x"), s), "x" + html.EscapeString(s)},
			{"html bytes", appendHTML([]byte("x"), []byte(s)), "x" + html.EscapeString(s)},
			{"collapse", appendCollapse([]byte("x"), s), "x" + collapse(s)},
		} {
			if string(c.got) != c.want {
				t.Errorf("%s of %q = %q, want %q", c.name, s, c.got, c.want)
			}
		}
		// CDATA as encoding/xml writes gorilla's RssContent.
		ref, err := xml.Marshal(feeds.RssContent{Content: s})
		if err != nil {
			t.Fatal(err)
		}
		for _, rss := range []bool{false, true} {
			w := xmlWriter{rss: rss}
			w.rssContent([]byte(s))
			want := "\n" + string(ref)
			if rss {
				want = refRSSProfileEscapes.Replace(want)
			}
			if got := string(w.buf); got != want {
				t.Errorf("rssContent(%q), rss %v = %q, want %q", s, rss, got, want)
			}
		}
	})
}

func TestAtomAuthorEmpty(t *testing.T) {
	w := xmlWriter{}
	w.atomAuthor(feeds.AtomPerson{})
	w.atomAuthor(feeds.AtomPerson{Name: "a", Uri: "https://u.test/?a&b", Email: "e"})
	var want bytes.Buffer
	enc := xml.NewEncoder(&want)
	enc.Indent("", "  ")
	for _, p := range []feeds.AtomPerson{{}, {Name: "a", Uri: "https://u.test/?a&b", Email: "e"}} {
		if err := enc.Encode(feeds.AtomAuthor{AtomPerson: p}); err != nil {
			t.Fatal(err)
		}
	}
	if got := string(w.buf); got != "\n"+want.String() {
		t.Errorf("atomAuthor wrote %q, encoding/xml %q", got, "\n"+want.String())
	}
}

// TestConcurrentRender renders from several goroutines at once, sharing the
// scratch pool, and wants every result to be the one rendered alone.
func TestConcurrentRender(t *testing.T) {
	topics := fixtureTopics(t)
	render := []func(Site, Topic) ([]byte, error){Atom, RSS, JSON}
	want := make([][]byte, len(topics)*len(render))
	for i := range want {
		b, err := render[i%len(render)](testSite, topics[i/len(render)])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = b
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(want))
	for g := range 4 {
		wg.Go(func() {
			for k := range want {
				i := (k + g) % len(want)
				got, err := render[i%len(render)](testSite, topics[i/len(render)])
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, want[i]) {
					errs <- fmt.Errorf("goroutine %d: render %d differs from the one rendered alone", g, i)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkRender100Reference renders as BenchmarkRender100 does with the
// encoding/xml renderer the package replaced, for comparison in one run.
func BenchmarkRender100Reference(b *testing.B) {
	tp := benchTopic(b, 100)
	for _, f := range []struct {
		name   string
		render func(Site, Topic) ([]byte, error)
	}{{"Atom", refAtom}, {"RSS", refRSS}, {"JSON", refJSON}} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.render(testSite, tp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAppendXMLTextEveryByte puts every byte value at every position of a
// plain 17-byte string, so that each lane of the eight-byte scan sees it,
// and compares with the byte-at-a-time definition (xmlPlain and the escapes).
func TestAppendXMLTextEveryByte(t *testing.T) {
	for c := range 256 {
		for i := range 17 {
			for _, rss := range []bool{false, true} {
				s := []byte("abcdefghijklmnopq")
				s[i] = byte(c)
				got := appendXMLText(nil, s, rss)
				// Every byte but s[i] is plain, so the output is the
				// prefix, s[i] on its own, then the suffix.
				want := string(s[:i]) + string(appendXMLText(nil, string(s[i:i+1]), rss)) + string(s[i+1:])
				if string(got) != want {
					t.Fatalf("byte %#x at %d (rss %v): got %q, want %q", c, i, rss, got, want)
				}
			}
		}
	}
}
