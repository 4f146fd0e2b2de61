package arxiv

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

const absFixture = "arxiv-abs-2512.04392v2.html"

// TestParseAbsGolden compares the whole parsed abstract page with golden
// JSON; run with -update to rewrite it after a deliberate change.
func TestParseAbsGolden(t *testing.T) {
	p, err := ParseAbs(readFile(t, absFixture), mustURL(t, "https://arxiv.org/abs/2512.04392"))
	if err != nil {
		t.Fatalf("ParseAbs: %v", err)
	}
	got, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "abs-2512.04392v2.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("ParseAbs differs from %s; run go test -update and review the diff\ngot:\n%s", path, got)
	}
}

// TestParseAbsFixtureFields spells out what the golden file holds, so that a
// careless -update cannot bless a regression.
func TestParseAbsFixtureFields(t *testing.T) {
	p, err := ParseAbs(readFile(t, absFixture), nil)
	if err != nil {
		t.Fatalf("ParseAbs: %v", err)
	}
	want := paper.Paper{
		ID:            "2512.04392",
		Title:         `Sparse Attention in $\mathcal{O}(n \log n)$: Scaling Transformers to Million-Token Contexts`,
		Abstract:      `We show that attention restricted to $k$ learned buckets per query reaches the quality of dense attention at a cost of $\mathcal{O}(n \log n)$. Our method & its kernels run at 3.1x the speed of FlashAttention on sequences of $10^6$ tokens, where $\alpha < 1$ controls sparsity. Code is available at this https URL.`,
		Authors:       []string{"Chiamaka Okafor", "Erik Lindqvist", "Hiroshi Tanaka"},
		ArxivComments: "14 pages, 6 figures; code at this https URL",
		JournalRef:    "Proceedings of the 42nd International Conference on Machine Learning, PMLR 267:1201-1215, 2025",
		Categories:    []string{"cs.LG", "cs.AI", "cs.CL"},
		Published:     time.Date(2025, 12, 5, 18, 59, 59, 0, time.UTC),
	}
	gotJSON, wantJSON := mustJSON(t, p), mustJSON(t, want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("ParseAbs:\ngot  %s\nwant %s", gotJSON, wantJSON)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// absPage is a small abstract page: head holds meta tags, body the #abs part.
func absPage(head, body string) []byte {
	return []byte(`<!DOCTYPE html><html><head><title>arXiv</title>` + head + `</head><body><div id="abs">` + body + `</div></body></html>`)
}

const (
	absTitle   = `<h1 class="title mathjax"><span class="descriptor">Title:</span> A Title </h1>`
	absCiteAs  = `<table><tr><td class="tablecell arxivid"><span class="arxivid"><a href="/abs/2512.00001">arXiv:2512.00001</a> [cs.LG]</span></td></tr></table>`
	absSubject = `<table><tr><td class="tablecell subjects"><span class="primary-subject">Statistics Theory (math.ST)</span>; Machine Learning (cs.LG); Machine Learning (stat.ML)</td></tr></table>`
)

func TestParseAbsFields(t *testing.T) {
	day := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		data []byte
		base string
		want paper.Paper
	}{
		{"id from the cite-as link, resolved against base", absPage("", absTitle+absCiteAs),
			"https://arxiv.org/abs/2512.00001v3", paper.Paper{ID: "2512.00001", Title: "A Title"}},
		{"id from citation_arxiv_id", absPage(`<meta name="citation_arxiv_id" content="2512.00002v2">`, absTitle),
			"", paper.Paper{ID: "2512.00002", Title: "A Title"}},
		{"id from the canonical link", absPage(`<link rel="canonical" href="https://arxiv.org/abs/hep-th/9901001">`, absTitle),
			"", paper.Paper{ID: "hep-th/9901001", Title: "A Title"}},
		{"id from the base url", absPage("", absTitle),
			"https://arxiv.org/abs/math.GT/0309136v1", paper.Paper{ID: "math.GT/0309136", Title: "A Title"}},
		{"the page's id wins over the base url", absPage("", absTitle+absCiteAs),
			"https://arxiv.org/abs/2512.99999", paper.Paper{ID: "2512.00001", Title: "A Title"}},
		{"authors without links are split on commas",
			absPage("", absTitle+absCiteAs+`<div class="authors"><span class="descriptor">Authors:</span> Ada Lovelace, Charles Babbage</div>`),
			"", paper.Paper{ID: "2512.00001", Title: "A Title", Authors: []string{"Ada Lovelace", "Charles Babbage"}}},
		{"cross-listed subjects keep the primary first", absPage("", absTitle+absCiteAs+absSubject),
			"", paper.Paper{ID: "2512.00001", Title: "A Title", Categories: []string{"math.ST", "cs.LG", "stat.ML"}}},
		{"a single version has the dateline's day",
			absPage("", `<div class="dateline">[Submitted on 5 Dec 2025]</div>`+absTitle+absCiteAs),
			"", paper.Paper{ID: "2512.00001", Title: "A Title", Published: day}},
		{"a history that disagrees with the dateline is ignored",
			absPage("", `<div class="dateline">[Submitted on 5 Dec 2025]</div>`+absTitle+absCiteAs+
				`<div class="submission-history"><strong>[v1]</strong> Sat, 6 Dec 2025 01:00:00 UTC (10 KB)</div>`),
			"", paper.Paper{ID: "2512.00001", Title: "A Title", Published: day}},
		{"an unreadable dateline leaves Published zero",
			absPage("", `<div class="dateline">[Submitted on 35 Foo 2025]</div>`+absTitle+absCiteAs),
			"", paper.Paper{ID: "2512.00001", Title: "A Title"}},
		{"impossible dateline date leaves Published zero",
			absPage("", `<div class="dateline">[Submitted on 31 Feb 2025]</div>`+absTitle+absCiteAs),
			"", paper.Paper{ID: "2512.00001", Title: "A Title"}},
		{"withdrawn paper with comments only",
			absPage("", absTitle+absCiteAs+`<blockquote class="abstract mathjax"><span class="descriptor">Abstract:</span>
			This paper has been withdrawn.</blockquote><table><tr><td class="tablecell comments mathjax">
			withdrawn  by the author</td></tr></table>`),
			"", paper.Paper{ID: "2512.00001", Title: "A Title", Abstract: "This paper has been withdrawn.", ArxivComments: "withdrawn by the author"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base = mustURL(t, tt.base)
			if tt.base == "" {
				base = nil
			}
			got, err := ParseAbs(tt.data, base)
			if err != nil {
				t.Fatalf("ParseAbs: %v", err)
			}
			gotJSON, wantJSON := mustJSON(t, got), mustJSON(t, tt.want)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("ParseAbs:\ngot  %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestParseAbsErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		base string
	}{
		{"empty body", nil, ""},
		{"a listing page", readFile(t, "arxiv-list-cs.LG-new-2025-12-05.html"), "https://arxiv.org/list/cs.LG/new"},
		{"no id anywhere", absPage("", absTitle), "https://arxiv.org/abs/"},
		{"an id but no title", absPage("", absCiteAs), ""},
		{"a title of only its label", absPage("", `<h1 class="title"><span class="descriptor">Title:</span> </h1>`+absCiteAs), ""},
		{"a malformed id", absPage(`<meta name="citation_arxiv_id" content="25.12">`, absTitle), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var base = mustURL(t, tt.base)
			if tt.base == "" {
				base = nil
			}
			got, err := ParseAbs(tt.data, base)
			if !errors.Is(err, ErrNotAbs) {
				t.Fatalf("ParseAbs error = %v, want ErrNotAbs", err)
			}
			if got.ID != "" || got.Title != "" {
				t.Errorf("ParseAbs returned %+v with its error, want the zero Paper", got)
			}
		})
	}
}

// FuzzParseAbs looks for crashes, and checks that every page ParseAbs accepts
// gives a bare arXiv id and a title, and no listing fields.
func FuzzParseAbs(f *testing.F) {
	f.Add(readFile(f, absFixture))
	f.Add(absPage("", absTitle+absCiteAs+absSubject))
	f.Add(absPage(`<meta name="citation_arxiv_id" content="hep-th/9901001">`, `<div class="dateline">[Submitted on 5 Dec 2025]</div>`+absTitle))
	base := mustURL(f, "https://arxiv.org/abs/2512.00003")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseAbs(data, base)
		if err != nil {
			return
		}
		if id, ok := paper.NormalizeArxivID(p.ID); !ok || id != p.ID {
			t.Errorf("paper ID %q is not a bare arXiv id", p.ID)
		}
		if p.Title == "" {
			t.Errorf("paper %s has no title", p.ID)
		}
		if p.Section != "" || !p.Day.IsZero() || p.Link != "" {
			t.Errorf("paper %s has listing fields: section %q, day %v, link %q", p.ID, p.Section, p.Day, p.Link)
		}
	})
}

func BenchmarkParseAbs(b *testing.B) {
	data := readFile(b, absFixture)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAbs(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}
