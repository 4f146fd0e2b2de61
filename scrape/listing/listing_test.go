package listing

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/paperfeed/paperfeed/paper"
)

// labPage is a real lab publications page.
const labPage = "../../testdata/listing-lab-publications.html"

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s, err)
	}
	return u
}

// readFile reads a page: a path relative to the package, in its testdata or,
// for the captured lab page that the scrape package serves too, in the
// module's testdata.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var (
	labSelectors = Selectors{
		Item:     "article.pub",
		Title:    "h2.pub-title",
		Abstract: "p.abstract",
		Authors:  ".authors",
		Date:     "time@datetime",
	}
	readingSelectors = Selectors{
		Item:       "tr.paper",
		Title:      "td.title",
		Link:       "a.pdf@href",
		Authors:    "span.author",
		Date:       "td.date",
		DateLayout: "January 2, 2006",
	}
)

// TestParseGolden compares the papers of whole pages with golden JSON; run
// with -update to rewrite them after a deliberate change.
func TestParseGolden(t *testing.T) {
	tests := []struct {
		name, page, url, golden string
		sel                     Selectors
	}{
		{"lab publications, default link, RFC 3339 attribute dates", labPage,
			"https://lab.example.org/publications/", "lab-publications.golden.json", labSelectors},
		{"reading list, link attribute, date layout", "testdata/reading-list.html",
			"https://group.example.edu/reading/spring/index.html", "reading-list.golden.json", readingSelectors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			papers, skipped, err := Parse(readFile(t, tt.page), mustURL(t, tt.url), tt.sel)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(skipped) != 0 {
				t.Errorf("skipped %+v, want none", skipped)
			}
			got, err := json.MarshalIndent(papers, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Parse(%s) differs from %s; got:\n%s", tt.page, tt.golden, got)
			}
		})
	}
}

// TestParseLabPage spells out what the golden file holds for the lab page,
// one paper at a time.
func TestParseLabPage(t *testing.T) {
	papers, skipped, err := Parse(readFile(t, labPage), mustURL(t, "https://lab.example.org/publications/"), labSelectors)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped %+v, want none: items without a title or a link are not errors", skipped)
	}
	thesis := "https://lab.example.org/theses/2025-dubois.pdf"
	tests := []struct {
		name     string
		id       string
		title    string
		link     string
		authors  []string
		day      time.Time
		abstract string
	}{
		{"arXiv abs link with version", "2511.04821", "Seeing Through Fog: Robust Depth from Polarisation", "",
			[]string{"Maya Patel", "Jonas Weber", "Sofia Alvarez"}, time.Date(2025, 11, 6, 8, 30, 0, 0, time.UTC),
			"We recover dense depth in fog & haze from polarisation cues, with errors below 5<sup>%."},
		{"arXiv pdf among the item's other links", "2510.11223", "HoloNeRF: Holographic Radiance Fields", "",
			[]string{"Kenji Sato", "Priya Nair", "Tomasz Nowak"}, time.Date(2025, 10, 21, 0, 0, 0, 0, time.UTC),
			"Radiance fields rendered as holograms."},
		{"arXiv id in the text", "2509.00777", "Event-Based Optical Flow at 10 kHz", "",
			[]string{"Lena Fischer"}, time.Date(2025, 9, 2, 0, 0, 0, 0, time.UTC),
			"Preprint: arXiv:2509.00777v3. Optical flow from event cameras."},
		{"no arXiv id: keyed by link", paper.LinkID(thesis), "Learning Shape Priors for Cultural Heritage Scans", thesis,
			[]string{"Camille Dubois"}, time.Date(2025, 7, 15, 0, 0, 0, 0, time.UTC),
			"A doctoral thesis; not on arXiv."},
		{"Hugging Face paper page", "2508.10234", "Old Strings, New Tricks", "",
			[]string{"Ada Byron", "Charles Babbage"}, time.Time{}, ""},
	}
	if len(papers) != len(tests) {
		t.Errorf("got %d papers, want %d (no title, no link and the duplicate skipped)", len(papers), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if i >= len(papers) {
				t.Fatalf("no paper %d", i)
			}
			p := papers[i]
			if p.ID != tt.id {
				t.Errorf("ID = %q, want %q", p.ID, tt.id)
			}
			if p.Title != tt.title {
				t.Errorf("Title = %q, want %q", p.Title, tt.title)
			}
			if p.Link != tt.link {
				t.Errorf("Link = %q, want %q", p.Link, tt.link)
			}
			if !slices.Equal(p.Authors, tt.authors) {
				t.Errorf("Authors = %q, want %q", p.Authors, tt.authors)
			}
			if !p.Day.Equal(tt.day) || p.Day.Location() != time.UTC {
				t.Errorf("Day = %v, want %v in UTC", p.Day, tt.day)
			}
			if p.Abstract != tt.abstract {
				t.Errorf("Abstract = %q, want %q", p.Abstract, tt.abstract)
			}
		})
	}
}

// small is a page of the given items, each an <li>.
func small(items ...string) []byte {
	return []byte("<html><body><ul>" + strings.Join(items, "\n") + "</ul></body></html>")
}

func TestParseSmallPages(t *testing.T) {
	base := "https://example.org/list/"
	tests := []struct {
		name     string
		data     []byte
		sel      Selectors
		wantIDs  []string
		wantLink []string
	}{
		{"title is the link itself",
			small(`<li><a class="t" href="a.html">A</a></li>`),
			Selectors{Item: "li", Title: "a.t"},
			[]string{paper.LinkID("https://example.org/list/a.html")}, []string{"https://example.org/list/a.html"}},
		{"item's first link when the title has none",
			small(`<li><b>B</b> <a href="/b">more</a></li>`),
			Selectors{Item: "li", Title: "b"},
			[]string{paper.LinkID("https://example.org/b")}, []string{"https://example.org/b"}},
		{"bare @attr reads the item itself",
			small(`<li data-url="/c" data-title="C">x</li>`),
			Selectors{Item: "li", Title: "@data-title", Link: "@data-url"},
			[]string{paper.LinkID("https://example.org/c")}, []string{"https://example.org/c"}},
		{"title from an attribute",
			small(`<li><a href="/d" title="D">[link]</a></li>`),
			Selectors{Item: "li", Title: "a@title"},
			[]string{paper.LinkID("https://example.org/d")}, []string{"https://example.org/d"}},
		{"old-style arXiv id in an abs link",
			small(`<li><a href="https://arxiv.org/abs/hep-th/9901001v2">E</a></li>`),
			Selectors{Item: "li", Title: "a"},
			[]string{"hep-th/9901001"}, []string{""}},
		{"arXiv-looking path on another site is no arXiv link unless it is the item's link",
			small(`<li><a href="/f">F</a> <a href="https://example.com/pdf/2501.00001">mirror</a></li>`),
			Selectors{Item: "li", Title: "a"},
			[]string{paper.LinkID("https://example.org/f")}, []string{"https://example.org/f"}},
		{"/papers/ path only counts on Hugging Face",
			small(`<li><a href="https://example.com/papers/2501.00002">G</a></li>`),
			Selectors{Item: "li", Title: "a"},
			[]string{paper.LinkID("https://example.com/papers/2501.00002")}, []string{"https://example.com/papers/2501.00002"}},
		{"fragment and javascript links are no links",
			small(`<li><a href="#top">H</a></li>`, `<li><a href="javascript:void(0)">I</a></li>`, `<li><a href="/j">J</a></li>`),
			Selectors{Item: "li", Title: "a"},
			[]string{paper.LinkID("https://example.org/j")}, []string{"https://example.org/j"}},
		{"attribute selector with @ inside stays CSS",
			small(`<li><a href="mailto:x@example.org">K</a><a class="m" href="/k">K</a></li>`),
			Selectors{Item: "li", Title: `a[href*="@"]`, Link: "a.m@href"},
			[]string{paper.LinkID("https://example.org/k")}, []string{"https://example.org/k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			papers, skipped, err := Parse(tt.data, mustURL(t, base), tt.sel)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(skipped) != 0 {
				t.Errorf("skipped %+v, want none", skipped)
			}
			var ids, links []string
			for _, p := range papers {
				ids = append(ids, p.ID)
				links = append(links, p.Link)
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("IDs = %q, want %q", ids, tt.wantIDs)
			}
			if !slices.Equal(links, tt.wantLink) {
				t.Errorf("Links = %q, want %q", links, tt.wantLink)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	base := "https://example.org/"
	page := small(`<li><h2><a href="/a">A</a></h2><time>yesterday</time></li>`)
	tests := []struct {
		name      string
		data      []byte
		sel       Selectors
		wantIs    error
		wantField string
		wantMsg   string
	}{
		{"item matches nothing", page, Selectors{Item: "article", Title: "h2"},
			ErrNoMatch, "item", `item selector "article": matches nothing on the page`},
		{"title matches nothing in every item", page, Selectors{Item: "li", Title: "h3"},
			ErrNoMatch, "title", `title selector "h3": matches nothing on the page`},
		{"title attribute missing in every item", page, Selectors{Item: "li", Title: "h2@data-title"},
			ErrNoMatch, "title", `title selector "h2@data-title"`},
		{"link matches nothing in every item", page, Selectors{Item: "li", Title: "h2", Link: "a.pdf@href"},
			ErrNoMatch, "link", `link selector "a.pdf@href": matches nothing`},
		{"every item lacks a link", small(`<li><h2>A</h2></li>`, `<li><h2>B</h2></li>`), Selectors{Item: "li", Title: "h2"},
			ErrNoPapers, "", "2 items: no item has both a title and a link"},
		{"every item has an empty title", small(`<li><h2> </h2><a href="/a">x</a></li>`), Selectors{Item: "li", Title: "h2"},
			ErrNoPapers, "", "no item has both"},
		{"date in no known format", page, Selectors{Item: "li", Title: "h2", Date: "time"},
			ErrBadItems, "", `item 1: "A": date "yesterday" is not RFC 3339 and no date layout is set`},
		{"date not in the layout", page, Selectors{Item: "li", Title: "h2", Date: "time", DateLayout: "2006-01-02"},
			ErrBadItems, "", `date "yesterday": parsing time`},
		{"invalid selectors are rejected before parsing", page, Selectors{Item: "li[", Title: "h2"},
			nil, "item", `item selector "li["`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			papers, _, err := Parse(tt.data, mustURL(t, base), tt.sel)
			if err == nil {
				t.Fatalf("Parse = %d papers, nil error; want error containing %q", len(papers), tt.wantMsg)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantMsg)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			var se *SelectorError
			if tt.wantField != "" {
				if !errors.As(err, &se) {
					t.Fatalf("error %q is no *SelectorError", err)
				}
				if se.Field != tt.wantField {
					t.Errorf("SelectorError.Field = %q, want %q", se.Field, tt.wantField)
				}
			}
		})
	}
}

// TestParseSkipsBadItem reads a page where one item's date is unreadable:
// that item is skipped and reported, the others are kept.
func TestParseSkipsBadItem(t *testing.T) {
	data := small(
		`<li><h2><a href="/a">A</a></h2><time>2025-01-02T00:00:00Z</time></li>`,
		`<li><h2><a href="https://arxiv.org/abs/2501.00002">B</a></h2><time>yesterday</time></li>`,
		`<li><h2><a href="/c">C</a></h2><time>2025-01-03T00:00:00Z</time></li>`,
	)
	papers, skipped, err := Parse(data, mustURL(t, "https://example.org/"), Selectors{Item: "li", Title: "h2", Date: "time"})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var titles []string
	for _, p := range papers {
		titles = append(titles, p.Title)
	}
	if want := []string{"A", "C"}; !slices.Equal(titles, want) {
		t.Errorf("titles = %q, want %q", titles, want)
	}
	if len(skipped) != 1 {
		t.Fatalf("skipped %+v, want the one item with a bad date", skipped)
	}
	s := skipped[0]
	if s.Index != 1 || s.ID != "2501.00002" || s.Err == nil || !strings.Contains(s.Err.Error(), `item 2: "B": date "yesterday"`) {
		t.Errorf("skip = {%d %q %v}, want {1 2501.00002 item 2: \"B\": date \"yesterday\" ...}", s.Index, s.ID, s.Err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		sel  Selectors
		// wantFields are the fields named by the joined errors, in order;
		// none means valid.
		wantFields []string
		wantMsg    string
	}{
		{"minimal", Selectors{Item: "li", Title: "a"}, nil, ""},
		{"everything", readingSelectors, nil, ""},
		{"attributes and bare attributes", Selectors{Item: "li", Title: "@title", Link: "a.pdf@href", Date: "time@datetime"}, nil, ""},
		{"missing item and title", Selectors{}, []string{"item", "title"}, `item selector "": is required`},
		{"bad item css", Selectors{Item: "li[", Title: "a"}, []string{"item"}, `item selector "li["`},
		{"item with an attribute", Selectors{Item: "li@id", Title: "a"}, []string{"item"}, "takes no @attr"},
		{"bad title css", Selectors{Item: "li", Title: "a:nope"}, []string{"title"}, `title selector "a:nope"`},
		{"bad optional selectors", Selectors{Item: "li", Title: "a", Link: ">>", Abstract: "p[", Authors: "::x", Date: "time[@datetime"},
			[]string{"link", "abstract", "authors", "date"}, `link selector ">>"`},
		{"lone @", Selectors{Item: "li", Title: "a", Link: "@"}, []string{"link"}, `link selector "@"`},
		{"date layout without date", Selectors{Item: "li", Title: "a", DateLayout: "2006"}, []string{"date_layout"}, "without a date selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sel.Validate()
			if len(tt.wantFields) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors for %q", tt.wantFields)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.wantMsg)
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("Validate() error %T is not joined", err)
			}
			var fields []string
			for _, e := range joined.Unwrap() {
				var se *SelectorError
				if !errors.As(e, &se) {
					t.Fatalf("error %q is no *SelectorError", e)
				}
				fields = append(fields, se.Field)
			}
			if !slices.Equal(fields, tt.wantFields) {
				t.Errorf("fields = %q, want %q", fields, tt.wantFields)
			}
		})
	}
}

func TestSplitAuthors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"one", "Ada Lovelace", []string{"Ada Lovelace"}},
		{"commas", "A. One, B. Two,C. Three", []string{"A. One", "B. Two", "C. Three"}},
		{"and", "A. One and B. Two", []string{"A. One", "B. Two"}},
		{"oxford comma", "A. One, B. Two, and C. Three", []string{"A. One", "B. Two", "C. Three"}},
		{"names containing and", "Alexandra Sandberg and Rand Anderson", []string{"Alexandra Sandberg", "Rand Anderson"}},
		{"blank", " , ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SplitAuthors(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("SplitAuthors(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestQueryValues(t *testing.T) {
	page := `<html lang="en"><body>
		<p class="a"> x
		  y </p>
		<p class="a"></p>
		<p class="a" title="  t1   t2 ">z</p>
		<a href="mailto:x@y">mail</a>
	</body></html>`
	tests := []struct {
		name, raw string
		want      []string
	}{
		{"text, collapsed, empty elements dropped", "p.a", []string{"x y", "z"}},
		{"attribute, collapsed, elements without it dropped", "p.a@title", []string{"t1 t2"}},
		{"space before the @", "p.a @title", []string{"t1 t2"}},
		{"CSS over several lines", "body\n  p.a@title", []string{"t1 t2"}},
		{"bare @attr reads the scope itself", "@lang", []string{"en"}},
		{"an @ inside CSS stays CSS", `a[href*="@"]`, []string{"mail"}},
		{"matches nothing", "table", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
			if err != nil {
				t.Fatal(err)
			}
			q, err := CompileQuery(tt.raw)
			if err != nil {
				t.Fatalf("CompileQuery(%q): %v", tt.raw, err)
			}
			// A bare @attr reads the scope itself, so run it on <html>.
			scope := doc.Selection
			if strings.HasPrefix(tt.raw, "@") {
				scope = doc.Find("html")
			}
			if got := q.Values(scope); !slices.Equal(got, tt.want) {
				t.Errorf("Values of %q = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
	t.Run("the zero Query matches nothing", func(t *testing.T) {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		if got := (Query{}).Values(doc.Selection); got != nil {
			t.Errorf("Values = %q, want none", got)
		}
	})
}

func TestCompileQueryErrors(t *testing.T) {
	tests := []struct {
		name, raw, wantMsg string
	}{
		{"empty", "", "is required"},
		{"blank", " \t", "is required"},
		{"lone @", "@", "@"},
		{"bad CSS", "p[", "expected identifier"},
		{"bad CSS before an attribute", "p[@title", "expected identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileQuery(tt.raw)
			if err == nil {
				t.Fatalf("CompileQuery(%q) = nil error, want one containing %q", tt.raw, tt.wantMsg)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("CompileQuery(%q) = %q, want it to contain %q", tt.raw, err, tt.wantMsg)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		name, in, layout string
		want             time.Time
		wantMsg          string // "": no error
	}{
		{"RFC 3339 in UTC", "2025-09-02T10:00:00+02:00", "", time.Date(2025, 9, 2, 8, 0, 0, 0, time.UTC), ""},
		{"RFC 3339 wins over the layout", "2025-09-02T00:00:00Z", "2 January 2006", time.Date(2025, 9, 2, 0, 0, 0, 0, time.UTC), ""},
		{"layout", "2 September 2025", "2 January 2006", time.Date(2025, 9, 2, 0, 0, 0, 0, time.UTC), ""},
		{"layout with a zone, in UTC", "2025-09-02 01:00 +0200", "2006-01-02 15:04 -0700", time.Date(2025, 9, 1, 23, 0, 0, 0, time.UTC), ""},
		{"no layout", "2 September 2025", "", time.Time{}, `date "2 September 2025" is not RFC 3339 and no date layout is set`},
		{"not in the layout", "Sept 2025", "2006-01-02", time.Time{}, `date "Sept 2025": parsing time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in, tt.layout)
			if tt.wantMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("ParseDate(%q, %q) error = %v, want one containing %q", tt.in, tt.layout, err, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q, %q): %v", tt.in, tt.layout, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ParseDate(%q, %q) = %v, want %v", tt.in, tt.layout, got, tt.want)
			}
		})
	}
}

// FuzzCompileQuery looks for crashes over selector strings, and checks that
// a query that compiles gives only non-empty, collapsed values.
func FuzzCompileQuery(f *testing.F) {
	for _, raw := range []string{"p.a", "p.a@title", "@lang", `a[href*="@"]`, "@", "p[@x", "body\n p@title"} {
		f.Add(raw)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(readFile(f, labPage)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := CompileQuery(raw)
		if err != nil {
			return
		}
		for _, v := range q.Values(doc.Selection) {
			if v == "" || v != strings.Join(strings.Fields(v), " ") {
				t.Errorf("CompileQuery(%q) gave value %q, empty or not collapsed", raw, v)
			}
		}
	})
}

// FuzzParse looks for crashes over page bytes and selector strings, and
// checks that every paper Parse accepts has a title and a consistent key.
func FuzzParse(f *testing.F) {
	f.Add(readFile(f, labPage), labSelectors.Item, labSelectors.Title, "", "time@datetime", "")
	f.Add(readFile(f, "testdata/reading-list.html"), readingSelectors.Item, readingSelectors.Title, readingSelectors.Link, readingSelectors.Date, readingSelectors.DateLayout)
	f.Add(small(`<li><a href="/a">arXiv:2501.00001</a></li>`), "li", "a", "@href", "", "")
	base := mustURL(f, "https://example.org/list/")
	f.Fuzz(func(t *testing.T, data []byte, item, title, link, date, layout string) {
		sel := Selectors{Item: item, Title: title, Link: link, Date: date, DateLayout: layout}
		papers, skipped, err := Parse(data, base, sel)
		if err != nil {
			return
		}
		if len(papers) == 0 && len(skipped) > 0 {
			t.Errorf("every item skipped and no error: %+v", skipped)
		}
		for _, s := range skipped {
			if s.Err == nil {
				t.Errorf("item %d skipped without a reason", s.Index)
			}
		}
		for _, p := range papers {
			if p.Title == "" {
				t.Errorf("paper %s has no title", p.ID)
			}
			if p.Link == "" {
				if id, ok := paper.NormalizeArxivID(p.ID); !ok || id != p.ID {
					t.Errorf("paper without link has ID %q, not a bare arXiv id", p.ID)
				}
			} else if p.ID != paper.LinkID(p.Link) {
				t.Errorf("paper %q has ID %q, want LinkID %q", p.Link, p.ID, paper.LinkID(p.Link))
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data := readFile(b, labPage)
	base := mustURL(b, "https://lab.example.org/publications/")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse(data, base, labSelectors); err != nil {
			b.Fatal(err)
		}
	}
}
