package scrape

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const (
	apiFixture   = "../testdata/hf-api-daily-papers-2026-06-12.json"
	htmlFixture  = "testdata/hf-papers-date-2026-06-12.html"
	cardsFixture = "testdata/hf-papers-cards-only.html"
)

// readTestdata reads a fixture: a path relative to the package, in its own
// testdata or, for the real captures that several packages use, in the
// module's testdata.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return data
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatalf("parse url %q: %v", s, err)
	}
	return u
}

// checkGolden compares got with testdata/name, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff\ngot:\n%.2000s", name, got)
	}
}

func marshalPapers(t *testing.T, papers []paper.Paper) []byte {
	t.Helper()
	data, err := json.MarshalIndent(papers, "", "  ")
	if err != nil {
		t.Fatalf("marshal papers: %v", err)
	}
	return append(data, '\n')
}

func TestParseDailyAPIGolden(t *testing.T) {
	papers, err := ParseDailyAPI(readTestdata(t, apiFixture))
	if err != nil {
		t.Fatalf("ParseDailyAPI: %v", err)
	}
	if len(papers) != 30 {
		t.Errorf("got %d papers, want 30", len(papers))
	}
	checkGolden(t, "hf-api-daily-papers-2026-06-12.golden.json", marshalPapers(t, papers))
}

// TestParseDailyAPIFields checks the fields the golden file would let slip
// by review: the real fixture's first paper, field by field.
func TestParseDailyAPIFields(t *testing.T) {
	papers, err := ParseDailyAPI(readTestdata(t, apiFixture))
	if err != nil {
		t.Fatalf("ParseDailyAPI: %v", err)
	}
	p := papers[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", p.ID, "2606.00467"},
		{"authors", p.Authors, []string{"Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez"}},
		// paper.publishedAt, not the shifted top-level 2026-05-29T20:00:00Z.
		{"published", p.Published, time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC)},
		{"day", p.Day, time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC)},
		{"upvotes", p.Upvotes, 0},
		{"comments", p.Comments, 2},
		{"thumbnail", p.Thumbnail, "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2606.00467.png"},
		{"organization", p.Organization, "California institute of technology"},
		{"ai keywords", len(p.AIKeywords), 14},
		{"sources", p.Sources, []string(nil)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	var withRepo, withPage, withStars int
	for _, p := range papers {
		if p.GitHubRepo != "" {
			withRepo++
		}
		if p.ProjectPage != "" {
			withPage++
		}
		if p.GitHubStars > 0 {
			withStars++
		}
	}
	if withRepo == 0 || withPage == 0 || withStars == 0 {
		t.Errorf("got %d papers with a repo, %d with a project page, %d with stars; want some of each", withRepo, withPage, withStars)
	}
}

func TestParseDailyAPIHiddenAuthorDropped(t *testing.T) {
	papers, err := ParseDailyAPI(readTestdata(t, apiFixture))
	if err != nil {
		t.Fatalf("ParseDailyAPI: %v", err)
	}
	for _, p := range papers {
		for _, a := range p.Authors {
			if a == "Dengyang Jiang" { // the fixture's one hidden author
				t.Errorf("paper %s: hidden author %q kept", p.ID, a)
			}
		}
	}
}

// TestParseDailyHTMLMatchesAPI parses the same data through both paths: the
// real API answer and a page that wraps it in the DailyPapers element.
func TestParseDailyHTMLMatchesAPI(t *testing.T) {
	fromAPI, err := ParseDailyAPI(readTestdata(t, apiFixture))
	if err != nil {
		t.Fatalf("ParseDailyAPI: %v", err)
	}
	fromHTML, err := ParseDailyHTML(readTestdata(t, htmlFixture), mustURL(t, "https://huggingface.co/papers/date/2026-06-12"))
	if err != nil {
		t.Fatalf("ParseDailyHTML: %v", err)
	}
	if len(fromHTML) != len(fromAPI) {
		t.Fatalf("got %d papers from html, want %d as from the api", len(fromHTML), len(fromAPI))
	}
	for i := range fromAPI {
		if !reflect.DeepEqual(fromHTML[i], fromAPI[i]) {
			t.Errorf("paper %d: html gives\n%+v\napi gives\n%+v", i, fromHTML[i], fromAPI[i])
		}
	}
}

func TestParseDailyHTMLCards(t *testing.T) {
	got, skipped, err := parseDailyHTML(readTestdata(t, cardsFixture), mustURL(t, "https://huggingface.co/papers/date/2026-06-12"))
	if err != nil {
		t.Fatalf("parseDailyHTML: %v", err)
	}
	want := []paper.Paper{
		{ID: "2606.00467", Hub: true, Title: papersTitle(t, "2606.00467"), Upvotes: 0},
		{ID: "2606.12730", Hub: true, Title: papersTitle(t, "2606.12730"), Upvotes: 5},
		{ID: "2606.13594", Hub: true, Title: papersTitle(t, "2606.13594"), Upvotes: 3},
		{ID: "2606.12730", Hub: true, Title: "Versioned & <b>bold</b>", Upvotes: 1056},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cards:\ngot  %+v\nwant %+v", got, want)
	}
	if len(skipped) != 3 { // a date link, a #community link, a bad id
		t.Errorf("skipped: got %+v, want 3", skipped)
	}
}

// papersTitle looks a title up in the API fixture, so the cards test does not
// copy long titles by hand.
func papersTitle(t *testing.T, id string) string {
	t.Helper()
	papers, err := ParseDailyAPI(readTestdata(t, apiFixture))
	if err != nil {
		t.Fatalf("ParseDailyAPI: %v", err)
	}
	for _, p := range papers {
		if p.ID == id {
			return p.Title
		}
	}
	t.Fatalf("no paper %s in the fixture", id)
	return ""
}

func TestParseErrors(t *testing.T) {
	base := mustURL(t, "https://huggingface.co/papers/date/2026-06-12")
	tests := []struct {
		name    string
		html    bool
		data    string
		wantErr error  // errors.Is target, if any
		wantMsg string // substring of the message
	}{
		{name: "api malformed json", data: `[{"paper":{"id":"2606.00467"`, wantMsg: "decode daily papers json"},
		{name: "api object not array", data: `{"error":"Invalid date"}`, wantMsg: "decode daily papers json"},
		{name: "api null", data: `null`, wantErr: ErrNoData},
		{name: "api empty body", data: ``, wantMsg: "unexpected end of JSON input"},
		{name: "api wrong type", data: `[{"paper":{"id":"2606.00467","upvotes":"many"}}]`, wantMsg: "upvotes"},
		{name: "html neither props nor cards", html: true, data: `<html><body><main><h1>Daily Papers</h1><p>nothing</p></main></body></html>`, wantErr: ErrNoData},
		{name: "html empty", html: true, data: ``, wantErr: ErrNoData},
		{name: "html malformed props", html: true, data: `<div data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;:[">`, wantMsg: "decode DailyPapers data-props"},
		{name: "html props without papers and no cards", html: true, data: `<div data-target="DailyPapers" data-props="{&quot;dateString&quot;:&quot;2026-06-12&quot;}"></div>`, wantErr: ErrNoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				got []paper.Paper
				err error
			)
			if tt.html {
				got, err = ParseDailyHTML([]byte(tt.data), base)
			} else {
				got, err = ParseDailyAPI([]byte(tt.data))
			}
			if err == nil {
				t.Fatalf("got %d papers and no error, want an error", len(got))
			}
			if got != nil {
				t.Errorf("got %d papers with the error, want none", len(got))
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got error %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got error %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseDailyAPIEntries(t *testing.T) {
	tests := []struct {
		name        string
		data        string
		want        []paper.Paper
		wantSkipped int
	}{
		{
			name: "empty day",
			data: `[]`,
			want: []paper.Paper{},
		},
		{
			name: "invalid utf-8 and control characters kept valid",
			data: "[{\"paper\":{\"id\":\"2606.00001\",\"title\":\"A \xff\xfe title\\u0001 with\\nnewline, $x<y$ & more\",\"summary\":\"bad \xc3\"}}]",
			want: []paper.Paper{{ID: "2606.00001", Hub: true, Title: "A \uFFFD\uFFFD title\x01 with\nnewline, $x<y$ & more", Abstract: "bad \uFFFD"}},
		},
		{
			name: "version stripped and invalid ids skipped",
			data: `[{"paper":{"id":"2606.00001v3","title":"a"}},{"paper":{"id":"not-an-id","title":"b"}},{"paper":{"title":"c"}},{"paper":{"id":"hep-th/9901001","title":"d"}}]`,
			want: []paper.Paper{
				{ID: "2606.00001", Hub: true, Title: "a"},
				{ID: "hep-th/9901001", Hub: true, Title: "d"},
			},
			wantSkipped: 2,
		},
		{
			name: "hidden and empty authors dropped",
			data: `[{"paper":{"id":"2606.00001","title":"a","authors":[{"name":"Ann"},{"name":"Hid","hidden":true},{"name":"  "},{"name":"Bo","hidden":false}]}}]`,
			want: []paper.Paper{{ID: "2606.00001", Hub: true, Title: "a", Authors: []string{"Ann", "Bo"}}},
		},
		{
			name: "top-level organization name when paper has none",
			data: `[{"paper":{"id":"2606.00001","title":"a"},"organization":{"name":"acme"}}]`,
			want: []paper.Paper{{ID: "2606.00001", Hub: true, Title: "a", Organization: "acme"}},
		},
		{
			name: "paper organization fullname wins",
			data: `[{"paper":{"id":"2606.00001","title":"a","organization":{"name":"x","fullname":"X Lab"}},"organization":{"name":"acme"}}]`,
			want: []paper.Paper{{ID: "2606.00001", Hub: true, Title: "a", Organization: "X Lab"}},
		},
		{
			name: "top-level title and summary as fallback, top-level publishedAt ignored",
			data: `[{"paper":{"id":"2606.00001","publishedAt":"2026-06-11T17:59:59.000Z"},"title":"T","summary":"S","publishedAt":"2026-06-11T13:59:59.000Z"}]`,
			want: []paper.Paper{{ID: "2606.00001", Hub: true, Title: "T", Abstract: "S", Published: time.Date(2026, 6, 11, 17, 59, 59, 0, time.UTC)}},
		},
		{
			name: "malformed date is not known",
			data: `[{"paper":{"id":"2606.00001","title":"a","submittedOnDailyAt":"yesterday"}}]`,
			want: []paper.Paper{{ID: "2606.00001", Hub: true, Title: "a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, skipped, err := parseDailyAPI([]byte(tt.data))
			if err != nil {
				t.Fatalf("parseDailyAPI: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			if len(skipped) != tt.wantSkipped {
				t.Errorf("skipped: got %+v, want %d", skipped, tt.wantSkipped)
			}
			for _, p := range got {
				if !utf8.ValidString(p.Title) || !utf8.ValidString(p.Abstract) {
					t.Errorf("paper %s: invalid UTF-8 in %q / %q", p.ID, p.Title, p.Abstract)
				}
			}
		})
	}
}

func TestParseDailyHTMLInvalidUTF8Card(t *testing.T) {
	page := "<article><h3><a href=\"/papers/2606.00001\">Bad \xff title\x01</a></h3><div class=\"leading-none\">7</div></article>"
	got, err := ParseDailyHTML([]byte(page), mustURL(t, "https://huggingface.co/papers/date/2026-06-12"))
	if err != nil {
		t.Fatalf("ParseDailyHTML: %v", err)
	}
	want := []paper.Paper{{ID: "2606.00001", Hub: true, Title: "Bad \uFFFD title\x01", Upvotes: 7}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func TestParseUpvotes(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   int
		wantOK bool
	}{
		{"dash is zero", " - ", 0, true},
		{"plain", "42", 42, true},
		{"thousands separator", "1,056", 1056, true},
		{"text", "Upvote", 0, false},
		{"negative", "-3", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseUpvotes(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseUpvotes(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestCardID(t *testing.T) {
	base := mustURL(t, "https://huggingface.co/papers/date/2026-06-12")
	tests := []struct {
		name   string
		href   string
		want   string
		wantOK bool
	}{
		{"relative", "/papers/2606.00467", "2606.00467", true},
		{"versioned", "/papers/2606.00467v2", "2606.00467", true},
		{"absolute same host", "https://huggingface.co/papers/2606.00467", "2606.00467", true},
		{"other host", "https://example.org/papers/2606.00467", "", false},
		{"community fragment", "/papers/2606.00467#community", "", false},
		{"date page", "/papers/date/2026-06-11", "", false},
		{"trending", "/papers/trending", "", false},
		{"login", "/login?next=%2Fpapers", "", false},
		{"bad escape", "/papers/%zz", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cardID(tt.href, base)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("cardID(%q) = %q, %v; want %q, %v", tt.href, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// checkFuzzOutput is what every accepted parse must satisfy.
func checkFuzzOutput(t *testing.T, papers []paper.Paper) {
	for _, p := range papers {
		if p.ID == "" {
			t.Fatalf("accepted a paper with an empty id: %+v", p)
		}
		for _, s := range append([]string{p.ID, p.Title, p.Abstract, p.Organization, p.AISummary, p.Thumbnail, p.GitHubRepo, p.ProjectPage}, append(p.Authors, p.AIKeywords...)...) {
			if !utf8.ValidString(s) {
				t.Fatalf("paper %q: invalid UTF-8 in %q", p.ID, s)
			}
		}
	}
}

func FuzzParseDailyAPI(f *testing.F) {
	f.Add(readTestdata(f, apiFixture))
	f.Add([]byte(`[]`))
	f.Add([]byte("[{\"paper\":{\"id\":\"2606.00001v2\",\"title\":\"\xff\",\"authors\":[{\"name\":\"a\",\"hidden\":true}]},\"organization\":{\"name\":\"o\"}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		papers, skips, err := parseDailyAPI(data)
		if err != nil {
			return
		}
		checkFuzzOutput(t, papers)
		checkFuzzSkips(t, papers, skips)
	})
}

// checkFuzzSkips is what every accepted answer's skips must satisfy: an
// answer of skipped entries only is an error, and each skip says why.
func checkFuzzSkips(t *testing.T, papers []paper.Paper, skips []skip) {
	if len(papers) == 0 && len(skips) > 0 {
		t.Fatalf("every entry skipped and no error: %+v", skips)
	}
	for _, s := range skips {
		if s.reason == "" || s.index < 0 {
			t.Fatalf("skip without a reason or index: %+v", s)
		}
	}
}

func FuzzParseDailyHTML(f *testing.F) {
	f.Add(readTestdata(f, htmlFixture))
	f.Add(readTestdata(f, cardsFixture))
	f.Add([]byte(`<div data-target="DailyPapers" data-props="{&quot;dailyPapers&quot;:[]}"></div>`))
	f.Add([]byte("<article><h3><a href=\"/papers/2606.00001\">\xff</a></h3><div class=\"leading-none\">1,0</div></article>"))
	base, err := url.Parse("https://huggingface.co/papers/date/2026-06-12")
	if err != nil {
		f.Fatalf("parse base: %v", err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		papers, skips, err := parseDailyHTML(data, base)
		if err != nil {
			return
		}
		checkFuzzOutput(t, papers)
		checkFuzzSkips(t, papers, skips)
	})
}

func BenchmarkParseDailyAPI(b *testing.B) {
	data := readTestdata(b, apiFixture)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseDailyAPI(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDailyHTML(b *testing.B) {
	data := readTestdata(b, htmlFixture)
	base, err := url.Parse("https://huggingface.co/papers/date/2026-06-12")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseDailyHTML(data, base); err != nil {
			b.Fatal(err)
		}
	}
}
