package paper

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// runes is n runes: "é" is two bytes, so byte and rune counts differ.
func runes(n int) string { return strings.Repeat("é", n) }

// names is n distinct names.
func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "Author " + strconv.Itoa(i)
	}
	return out
}

func TestClamp(t *testing.T) {
	longURL := "https://example.org/" + strings.Repeat("a", MaxURL)
	tests := []struct {
		name    string
		in      Paper
		want    Paper
		wantCut []string
	}{
		{"nothing to do", Paper{ID: "2606.00001", Title: "T", Abstract: runes(MaxAbstract), Authors: []string{"A"}},
			Paper{ID: "2606.00001", Title: "T", Abstract: runes(MaxAbstract), Authors: []string{"A"}}, nil},
		{"title one rune over", Paper{Title: runes(MaxTitle + 1)},
			Paper{Title: runes(MaxTitle-2) + " …"}, []string{"title"}},
		{"trailing space before the cut goes", Paper{Title: runes(MaxTitle-3) + "  x" + runes(10)},
			Paper{Title: runes(MaxTitle-3) + " …"}, []string{"title"}},
		{"abstract of megabytes", Paper{Abstract: strings.Repeat("word ", 1<<20)},
			Paper{Abstract: strings.TrimSpace(strings.Repeat("word ", 1<<20)[:MaxAbstract-2]) + " …"}, []string{"abstract"}},
		{"ai summary and one-line fields", Paper{AISummary: runes(MaxAISummary + 5), ArxivComments: runes(MaxLine + 1), JournalRef: runes(MaxLine + 1), Organization: runes(MaxLine + 1), Section: runes(MaxLine + 1)},
			Paper{AISummary: runes(MaxAISummary-2) + " …", ArxivComments: runes(MaxLine-2) + " …", JournalRef: runes(MaxLine-2) + " …", Organization: runes(MaxLine-2) + " …", Section: runes(MaxLine-2) + " …"},
			[]string{"organization", "ai_summary", "arxiv_comments", "journal_ref", "section"}},
		{"invalid utf-8 is replaced", Paper{Title: "a\xffb"}, Paper{Title: "a\uFFFDb"}, []string{"title"}},
		{"a long author", Paper{Authors: []string{"A", runes(MaxAuthor + 1)}},
			Paper{Authors: []string{"A", runes(MaxAuthor-2) + " …"}}, []string{"authors"}},
		{"too many authors", Paper{Authors: names(MaxAuthors + 500)},
			Paper{Authors: append(names(MaxAuthors - 1)[:MaxAuthors-1:MaxAuthors-1], "… and 501 more")}, []string{"authors"}},
		{"exactly max authors", Paper{Authors: names(MaxAuthors)}, Paper{Authors: names(MaxAuthors)}, nil},
		{"too many keywords, a long one", Paper{AIKeywords: append([]string{runes(MaxKeyword + 1)}, names(MaxKeywords)...)},
			Paper{AIKeywords: append([]string{runes(MaxKeyword-2) + " …"}, names(MaxKeywords-1)...)}, []string{"ai_keywords"}},
		{"too many categories", Paper{Categories: names(MaxCategories + 1)}, Paper{Categories: names(MaxCategories)}, []string{"categories"}},
		{"long urls are dropped, never cut", Paper{Thumbnail: longURL, GitHubRepo: longURL, ProjectPage: "https://ok.example.org/"},
			Paper{ProjectPage: "https://ok.example.org/"}, []string{"thumbnail", "github_repo"}},
		{"a url that is not utf-8 is dropped", Paper{ProjectPage: "https://example.org/\xff"}, Paper{}, []string{"project_page"}},
		{"a long link is reported, kept", Paper{ID: "url-x", Link: longURL}, Paper{ID: "url-x", Link: longURL}, []string{"link"}},
		{"a url at the limit stays", Paper{Thumbnail: longURL[:MaxURL]}, Paper{Thumbnail: longURL[:MaxURL]}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.in
			cut := Clamp(&p)
			if !slices.Equal(cut, tt.wantCut) {
				t.Errorf("cut %q, want %q", cut, tt.wantCut)
			}
			if !reflect.DeepEqual(p, tt.want) {
				t.Errorf("got %.300v\nwant %.300v", p, tt.want)
			}
			q := p
			if again := Clamp(&q); again != nil && !slices.Equal(again, []string{"link"}) {
				t.Errorf("a second Clamp cut %q, want nothing (but a long link)", again)
			}
			if !reflect.DeepEqual(q, p) {
				t.Error("a second Clamp changed the paper")
			}
		})
	}
}

// TestClampKeepsCallersSlices clamps a copy of a paper: the original's
// slices must not change.
func TestClampKeepsCallersSlices(t *testing.T) {
	orig := Paper{Authors: []string{"A", runes(MaxAuthor + 1)}, AIKeywords: []string{runes(MaxKeyword + 1)}, Categories: names(MaxCategories + 1)}
	want := Paper{Authors: slices.Clone(orig.Authors), AIKeywords: slices.Clone(orig.AIKeywords), Categories: slices.Clone(orig.Categories)}
	p := orig
	if cut := Clamp(&p); len(cut) != 3 {
		t.Fatalf("cut %q, want three fields", cut)
	}
	if !reflect.DeepEqual(orig, want) {
		t.Error("Clamp wrote into the slices of the paper it was given")
	}
}

// checkClamped is what every clamped paper satisfies.
func checkClamped(t *testing.T, p *Paper) {
	t.Helper()
	texts := map[string]struct {
		s     string
		limit int
	}{
		"title": {p.Title, MaxTitle}, "abstract": {p.Abstract, MaxAbstract}, "ai_summary": {p.AISummary, MaxAISummary},
		"arxiv_comments": {p.ArxivComments, MaxLine}, "journal_ref": {p.JournalRef, MaxLine},
		"organization": {p.Organization, MaxLine}, "section": {p.Section, MaxLine},
	}
	for name, f := range texts {
		if !utf8.ValidString(f.s) || utf8.RuneCountInString(f.s) > f.limit {
			t.Errorf("%s: %d runes (limit %d), valid %v", name, utf8.RuneCountInString(f.s), f.limit, utf8.ValidString(f.s))
		}
	}
	lists := []struct {
		name        string
		s           []string
		each, limit int
	}{
		{"authors", p.Authors, MaxAuthor, MaxAuthors},
		{"ai_keywords", p.AIKeywords, MaxKeyword, MaxKeywords},
		{"categories", p.Categories, MaxKeyword, MaxCategories},
	}
	for _, l := range lists {
		if len(l.s) > l.limit {
			t.Errorf("%s: %d entries, limit %d", l.name, len(l.s), l.limit)
		}
		for _, s := range l.s {
			if !utf8.ValidString(s) || utf8.RuneCountInString(s) > l.each {
				t.Errorf("%s: an entry of %d runes (limit %d), valid %v", l.name, utf8.RuneCountInString(s), l.each, utf8.ValidString(s))
			}
		}
	}
	for name, u := range map[string]string{"thumbnail": p.Thumbnail, "github_repo": p.GitHubRepo, "project_page": p.ProjectPage} {
		if len(u) > MaxURL || !utf8.ValidString(u) {
			t.Errorf("%s: %d bytes, valid %v", name, len(u), utf8.ValidString(u))
		}
	}
}

// FuzzClamp builds papers with fields made of the fuzzer's text repeated,
// so that they cross the caps, and checks Clamp never panics, keeps every
// field within its cap and valid, leaves ID and Link alone, and is
// idempotent.
func FuzzClamp(f *testing.F) {
	f.Add("Attention", "We show", "Ada", "https://example.org/", uint16(1), uint16(1))
	f.Add("é", "\xff\xfe", " ", "\xff", uint16(2000), uint16(1200))
	f.Add(runes(MaxTitle-1), "x ", "", strings.Repeat("u", MaxURL), uint16(3), uint16(60))
	f.Fuzz(func(t *testing.T, title, text, author, link string, times, count uint16) {
		repeat := func(s string) string {
			if len(s)*int(times) > 1<<16 { // past every cap, cheap enough to fuzz
				return s
			}
			return strings.Repeat(s, int(times))
		}
		list := func(s string) []string {
			out := make([]string, int(count)%(2*MaxAuthors))
			for i := range out {
				out[i] = s
			}
			return out
		}
		in := Paper{
			ID: "2606.00001", Title: repeat(title), Abstract: repeat(text), AISummary: repeat(text),
			ArxivComments: repeat(title), JournalRef: repeat(text), Organization: repeat(author), Section: repeat(title),
			Authors: append(list(author), repeat(author)), AIKeywords: list(author), Categories: list(title),
			Link: repeat(link), Thumbnail: repeat(link), GitHubRepo: link, ProjectPage: repeat(link),
		}
		p := in
		cut := Clamp(&p)
		checkClamped(t, &p)
		if p.ID != in.ID || p.Link != in.Link {
			t.Errorf("ID or Link changed")
		}
		if len(cut) == 0 && !reflect.DeepEqual(p, in) {
			t.Errorf("the paper changed but Clamp says nothing was cut")
		}
		q := p
		if again := Clamp(&q); again != nil && !(len(again) == 1 && again[0] == "link") {
			t.Errorf("a second Clamp cut %q", again)
		}
		if !reflect.DeepEqual(q, p) {
			t.Errorf("a second Clamp changed the paper")
		}
	})
}

func BenchmarkClamp(b *testing.B) {
	p := Paper{ID: "2606.00001", Title: "Attention Is All You Need", Abstract: strings.Repeat("word ", 300), Authors: names(12), AIKeywords: names(10)}
	b.ReportAllocs()
	for b.Loop() {
		q := p
		if cut := Clamp(&q); cut != nil {
			b.Fatal(cut)
		}
	}
}
