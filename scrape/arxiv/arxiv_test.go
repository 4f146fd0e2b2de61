package arxiv

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

	"github.com/paperfeed/paperfeed/paper"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s, err)
	}
	return u
}

// readFile reads a page captured from arXiv; the captures are in the
// module's testdata, shared with the packages that scrape them.
func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestParseGolden compares whole parsed listings with golden JSON; run with
// -update to rewrite them after a deliberate change.
func TestParseGolden(t *testing.T) {
	tests := []struct {
		name, page, golden, url string
	}{
		{"current layout", "arxiv-list-cs.LG-new-2025-12-05.html", "list-cs.LG-new-2025-12-05.golden.json", "https://arxiv.org/list/cs.LG/new"},
		{"legacy layout", "arxiv-list-cs-new-2018-07-20-legacy.html", "list-cs-new-2018-07-20-legacy.golden.json", "https://arxiv.org/list/cs/new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(readFile(t, tt.page), mustURL(t, tt.url))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := json.MarshalIndent(l, "", "  ")
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

// TestParseSections checks the per-section counts and the day of both
// layouts, which the golden files would also catch but less readably.
func TestParseSections(t *testing.T) {
	tests := []struct {
		name    string
		page    string
		wantDay time.Time
		want    map[string]int
	}{
		{"current layout", "arxiv-list-cs.LG-new-2025-12-05.html", time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC),
			map[string]int{SectionNew: 3, SectionCross: 2, SectionReplace: 3}},
		{"legacy layout", "arxiv-list-cs-new-2018-07-20-legacy.html", time.Date(2018, 7, 20, 0, 0, 0, 0, time.UTC),
			map[string]int{SectionNew: 6, SectionCross: 16, SectionReplace: 65}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(readFile(t, tt.page), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !l.Day.Equal(tt.wantDay) {
				t.Errorf("Day = %v, want %v", l.Day, tt.wantDay)
			}
			got := map[string]int{}
			for _, p := range l.Papers {
				got[p.Section]++
				if !p.Day.Equal(tt.wantDay) {
					t.Errorf("paper %s Day = %v, want %v", p.ID, p.Day, tt.wantDay)
				}
			}
			for section, n := range tt.want {
				if got[section] != n {
					t.Errorf("section %s: got %d papers, want %d", section, got[section], n)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("sections = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestParseFields picks papers that exercise each field and compares them
// whole.
func TestParseFields(t *testing.T) {
	current := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	legacy := time.Date(2018, 7, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		page string
		// skipAbstract leaves a long abstract to the golden file.
		skipAbstract bool
		want         paper.Paper
	}{
		{"mathjax title, comments, journal-ref", "arxiv-list-cs.LG-new-2025-12-05.html", false, paper.Paper{
			ID:            "2512.04392",
			Title:         `Sparse Attention in $\mathcal{O}(n \log n)$: Scaling Transformers to Million-Token Contexts`,
			Abstract:      `We show that attention restricted to $k$ learned buckets per query reaches the quality of dense attention at a cost of $\mathcal{O}(n \log n)$. Our method & its kernels run at 3.1x the speed of FlashAttention on sequences of $10^6$ tokens, where $\alpha < 1$ controls sparsity.`,
			Authors:       []string{"Chiamaka Okafor", "Erik Lindqvist", "Hiroshi Tanaka"},
			ArxivComments: "14 pages, 6 figures; code at this https URL",
			JournalRef:    "Proceedings of the 42nd International Conference on Machine Learning, PMLR 267:1201-1215, 2025",
			Categories:    []string{"cs.LG", "cs.AI", "cs.CL"},
			Section:       SectionNew,
			Day:           current,
		}},
		{"cross-list keeps the other primary subject first", "arxiv-list-cs.LG-new-2025-12-05.html", false, paper.Paper{
			ID:         "2512.02011",
			Title:      "Conformal Prediction under Distribution Shift",
			Abstract:   "We extend split conformal prediction to covariate shift.",
			Authors:    []string{"Piotr Kowalski"},
			Categories: []string{"stat.ML", "cs.LG", "math.ST"},
			Section:    SectionCross,
			Day:        current,
		}},
		{"old-style id replaced without abstract", "arxiv-list-cs.LG-new-2025-12-05.html", false, paper.Paper{
			ID:         "cond-mat/0512345",
			Title:      "Glassy Dynamics of Neural Network Training",
			Authors:    []string{"Anna Berg", "Rui Ferreira"},
			Categories: []string{"cond-mat.stat-mech", "cond-mat.dis-nn", "cs.LG"},
			Section:    SectionReplace,
			Day:        current,
		}},
		{"legacy entity-encoded authors", "arxiv-list-cs-new-2018-07-20-legacy.html", false, paper.Paper{
			ID:            "1807.07091",
			Title:         "Language Preservation Problems in Parametric Timed Automata",
			Abstract:      "Parametric timed automata (PTA) are a powerful formalism to model and reason about concurrent systems with some unknown timing delays. In this paper, we address the (untimed) language- and trace-preservation problems: given a reference parameter valuation, does there exist another parameter valuation with the same untimed language (or trace)? We show that these problems are undecidable both for general PTA and for the restricted class of L/U-PTA, even for integer-valued parameters, or over bounded time. On the other hand, we exhibit decidable subclasses: 1-clock PTA, and 1-parameter deterministic L-PTA and U-PTA. We also consider robust versions of these problems, where we additionally require that the language be preserved for all valuations between the reference valuation and the new valuation.",
			Authors:       []string{"Étienne André", "Didier Lime", "Nicolas Markey"},
			ArxivComments: "Extended version of the paper of the name published in the proceedings of FORMATS 2015",
			Categories:    []string{"cs.LO"},
			Section:       SectionNew,
			Day:           legacy,
		}},
		{"legacy replacement with journal-ref", "arxiv-list-cs-new-2018-07-20-legacy.html", false, paper.Paper{
			ID:         "1309.6610",
			Title:      "Adversarial Multiple Access Channels with Individual Injection Rates",
			Authors:    []string{"Lakshmi Anantharamu", "Bogdan S. Chlebus", "Mariusz A. Rokicki"},
			JournalRef: "Adversarial multiple access channels with individual injection rates. Theory of Computing Systems, 61(3): 820 - 850, 2017",
			Categories: []string{"cs.DC", "cs.NI"},
			Section:    SectionReplace,
			Day:        legacy,
		}},
		{"legacy cross-list", "arxiv-list-cs-new-2018-07-20-legacy.html", true, paper.Paper{
			ID:         "1807.07099",
			Title:      "Comparative study of Discrete Wavelet Transforms and Wavelet Tensor Train decomposition to feature extraction of FTIR data of medicinal plants",
			Authors:    []string{"Pavel Kharyuk", "Dmitry Nazarenko", "Ivan Oseledets"},
			Categories: []string{"eess.SP", "cs.LG", "cs.NA", "stat.ML"},
			Section:    SectionCross,
			Day:        legacy,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(readFile(t, tt.page), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			i := slices.IndexFunc(l.Papers, func(p paper.Paper) bool { return p.ID == tt.want.ID })
			if i < 0 {
				t.Fatalf("no paper %s in %s", tt.want.ID, tt.page)
			}
			got := l.Papers[i]
			if tt.skipAbstract {
				got.Abstract = ""
			}
			gotJSON, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			wantJSON, err := json.MarshalIndent(tt.want, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("paper %s:\ngot  %s\nwant %s", tt.want.ID, gotJSON, wantJSON)
			}
		})
	}
}

// page wraps body in the frame of a current-layout listing page.
func page(body string) []byte {
	return []byte(`<!DOCTYPE html><html><head><title>Machine Learning</title></head><body>
<div id="content"><div id='dlpage'><h1>Machine Learning</h1>` + body + `</div></div></body></html>`)
}

// item is one current-layout entry with the given identifier line and title.
func item(dt, title string) string {
	return `<dt><a name='item1'>[1]</a>` + dt + `</dt>
<dd><div class='meta'><div class='list-title mathjax'><span class='descriptor'>Title:</span> ` + title + `</div>
<div class='list-authors'><span class='descriptor'>Authors:</span> Ada Lovelace, Charles Babbage</div>
<div class='list-subjects'><span class='descriptor'>Subjects:</span> <span class="primary-subject">Machine Learning (cs.LG)</span></div>
</div></dd>`
}

func TestParseSmallPages(t *testing.T) {
	friday := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		data        []byte
		wantDay     time.Time
		wantIDs     []string
		wantSection []string
	}{
		{"no updates today with a heading",
			page(`<h3>Showing new listings for Friday, 5 December 2025</h3><p>No updates today.</p>`),
			friday, nil, nil},
		{"no updates today without a heading",
			page(`<p>No updates today.</p>`),
			time.Time{}, nil, nil},
		{"sections without entries",
			page(`<h3>Showing new listings for Friday, 5 December 2025</h3><dl id='articles'><h3>New submissions (showing 0 of 0 entries)</h3></dl>`),
			friday, nil, nil},
		{"legacy empty sections",
			page(`<h3>New submissions for Fri, 05 Dec 25</h3><dl></dl><h3>Replacements for Fri, 05 Dec 25</h3><dl></dl>`),
			friday, nil, nil},
		{"section from the item marker when no section heading",
			page(`<h3>Showing new listings for Friday, 5 December 2025</h3><dl>` +
				item(`<a href ="/abs/2512.00001" title="Abstract">arXiv:2512.00001</a> (replaced)`, "A") +
				item(`<a href ="/abs/2512.00002" title="Abstract">arXiv:2512.00002</a> (cross-list from cs.CV)`, "B") +
				item(`<a href ="/abs/2512.00003" title="Abstract">arXiv:2512.00003</a>`, "C") + `</dl>`),
			friday, []string{"2512.00001", "2512.00002", "2512.00003"}, []string{SectionReplace, SectionCross, SectionNew}},
		{"id from link text when the link is not /abs/",
			page(`<h3>New submissions for Fri, 5 Dec 25</h3><dl>` +
				item(`<a href="#" title="Abstract">arXiv:2512.00004v2</a>`, "D") + `</dl>`),
			friday, []string{"2512.00004"}, []string{SectionNew}},
		{"versioned id in the abs link",
			page(`<h3>New submissions for Fri, 5 Dec 25</h3><dl>` +
				item(`<a href="https://arxiv.org/abs/2512.00005v3">abstract</a>`, "E") + `</dl>`),
			friday, []string{"2512.00005"}, []string{SectionNew}},
		{"four-digit year heading",
			page(`<h3>New submissions for Fri, 5 Dec 2025</h3><dl>` +
				item(`<a href="/abs/2512.00006">x</a>`, "F") + `</dl>`),
			friday, []string{"2512.00006"}, []string{SectionNew}},
		{"unknown headings are ignored",
			page(`<h3>Announcements</h3><h3>Showing new listings for Friday, 5 December 2025</h3>`),
			friday, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(tt.data, mustURL(t, "https://arxiv.org/list/cs.LG/new"))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !l.Day.Equal(tt.wantDay) {
				t.Errorf("Day = %v, want %v", l.Day, tt.wantDay)
			}
			var ids, sections []string
			for _, p := range l.Papers {
				ids = append(ids, p.ID)
				sections = append(sections, p.Section)
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("IDs = %q, want %q", ids, tt.wantIDs)
			}
			if !slices.Equal(sections, tt.wantSection) {
				t.Errorf("sections = %q, want %q", sections, tt.wantSection)
			}
		})
	}
}

// TestParseAuthorsWithoutLinks covers an authors line of plain text.
func TestParseAuthorsWithoutLinks(t *testing.T) {
	data := page(`<h3>New submissions for Fri, 5 Dec 25</h3><dl>` + item(`<a href="/abs/2512.00007">x</a>`, "G") + `</dl>`)
	l, err := Parse(data, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(l.Papers) != 1 {
		t.Fatalf("got %d papers, want 1", len(l.Papers))
	}
	want := []string{"Ada Lovelace", "Charles Babbage"}
	if got := l.Papers[0].Authors; !slices.Equal(got, want) {
		t.Errorf("Authors = %q, want %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name        string
		data        []byte
		wantIs      error
		wantMessage string
	}{
		{"empty input", nil, ErrNotListing, "no #dlpage"},
		{"error page without dlpage",
			[]byte(`<html><body><h1>Service Unavailable</h1><h3>New submissions</h3></body></html>`),
			ErrNotListing, "no #dlpage"},
		{"dlpage without headings",
			page(`<p>Something else entirely.</p>`), ErrNotListing, "no listing heading"},
		{"dt without dd, the only item",
			page(`<h3>New submissions for Fri, 5 Dec 25</h3><dl><dt><a href="/abs/2512.00001">x</a></dt></dl>`),
			ErrBadItems, "no <dd> after <dt>"},
		{"item without an arxiv id, the only item",
			page(`<h3>New submissions for Fri, 5 Dec 25</h3><dl>` + item(`<a href="/abs/not-an-id" title="Abstract">arXiv:nope</a>`, "T") + `</dl>`),
			ErrBadItems, "no arxiv id"},
		{"every item without a title",
			page(`<h3>New submissions for Fri, 5 Dec 25</h3><dl>` + item(`<a href="/abs/2512.00001">x</a>`, "") + item(`<a href="/abs/2512.00002">x</a>`, "") + `</dl>`),
			ErrBadItems, "all 2 items skipped, the first because item 2512.00001: no title"},
		{"heading with an unreadable date",
			page(`<h3>Showing new listings for the fifth of December</h3>`),
			nil, `unrecognised date "the fifth of December"`},
		{"recent day heading with an impossible date",
			page(`<h3>Fri, 31 Feb 2025 (showing 1 of 1 entries )</h3>`),
			nil, `unrecognised date "Fri, 31 Feb 2025"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(tt.data, nil)
			if err == nil {
				t.Fatalf("Parse = %d papers, nil error; want error containing %q", len(l.Papers), tt.wantMessage)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantMessage)
			}
		})
	}
}

// TestParseSkipsBadItems reads a page where some items cannot be read: they
// are skipped and reported, the others kept.
func TestParseSkipsBadItems(t *testing.T) {
	data := page(`<h3>New submissions for Fri, 5 Dec 25</h3><dl>` +
		item(`<a href="/abs/2512.00001">x</a>`, "Good one") +
		item(`<a href="/abs/not-an-id" title="Abstract">arXiv:nope</a>`, "No id") +
		item(`<a href="/abs/2512.00003">x</a>`, "") +
		item(`<a href="/abs/2512.00004">x</a>`, "Good two") +
		`<dt><a href="/abs/2512.00005">x</a></dt></dl>`)
	l, err := Parse(data, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var ids []string
	for _, p := range l.Papers {
		ids = append(ids, p.ID)
	}
	if want := []string{"2512.00001", "2512.00004"}; !slices.Equal(ids, want) {
		t.Errorf("IDs = %q, want %q", ids, want)
	}
	want := []struct {
		index int
		id    string
		msg   string
	}{
		{1, "", "no arxiv id"},
		{2, "2512.00003", "item 2512.00003: no title"},
		{4, "2512.00005", "no <dd> after <dt>"},
	}
	if len(l.Skipped) != len(want) {
		t.Fatalf("skipped %+v, want %d items", l.Skipped, len(want))
	}
	for i, w := range want {
		s := l.Skipped[i]
		if s.Index != w.index || s.ID != w.id || s.Err == nil || !strings.Contains(s.Err.Error(), w.msg) {
			t.Errorf("skipped[%d] = {%d %q %v}, want {%d %q ...%s...}", i, s.Index, s.ID, s.Err, w.index, w.id, w.msg)
		}
	}
}

// FuzzParse looks for crashes, and checks that every paper Parse accepts has
// a well-formed id, a title and a known section.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"arxiv-list-cs.LG-new-2025-12-05.html", "arxiv-list-cs-new-2018-07-20-legacy.html"} {
		f.Add(readFile(f, name))
	}
	f.Add(page(`<p>No updates today.</p>`))
	f.Add(page(`<h3>New submissions for Fri, 5 Dec 25</h3><dl>` + item(`<a href="/abs/2512.00001">x</a>`, "T") + `</dl>`))
	base := mustURL(f, "https://arxiv.org/list/cs/new")
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data, base)
		if err != nil {
			return
		}
		if len(l.Papers) == 0 && len(l.Skipped) > 0 {
			t.Errorf("every item skipped and no error: %+v", l.Skipped)
		}
		for _, s := range l.Skipped {
			if s.Err == nil {
				t.Errorf("item %d skipped without a reason", s.Index)
			}
		}
		for _, p := range l.Papers {
			if id, ok := paper.NormalizeArxivID(p.ID); !ok || id != p.ID {
				t.Errorf("paper ID %q is not a bare arXiv id", p.ID)
			}
			if p.Title == "" {
				t.Errorf("paper %s has no title", p.ID)
			}
			if p.Section != SectionNew && p.Section != SectionCross && p.Section != SectionReplace {
				t.Errorf("paper %s has section %q", p.ID, p.Section)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data := readFile(b, "arxiv-list-cs-new-2018-07-20-legacy.html")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseRecentBadDayHeading reads a /recent page where one day's heading
// cannot be read: that day's items are skipped, the other days kept.
func TestParseRecentBadDayHeading(t *testing.T) {
	data := page(`<dl id='articles'><h3>Fri, 5 Dec 2025 (showing 1 of 1 entries )</h3>` +
		item(`<a href ="/abs/2512.00011" title="Abstract">arXiv:2512.00011</a>`, "A") +
		`</dl><dl id='articles'><h3>Thu, 31 Feb 2025 (showing 2 of 2 entries )</h3>` +
		item(`<a href ="/abs/2512.00012" title="Abstract">arXiv:2512.00012</a>`, "B") +
		item(`<a href ="/abs/2512.00013" title="Abstract">arXiv:2512.00013</a>`, "C") +
		`</dl><dl id='articles'><h3>Wed, 3 Dec 2025 (showing 1 of 1 entries )</h3>` +
		item(`<a href ="/abs/2512.00014" title="Abstract">arXiv:2512.00014</a>`, "D") + `</dl>`)
	l, err := Parse(data, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var ids []string
	for _, p := range l.Papers {
		ids = append(ids, p.ID)
	}
	if want := []string{"2512.00011", "2512.00014"}; !slices.Equal(ids, want) {
		t.Errorf("IDs = %q, want %q", ids, want)
	}
	var skipped []string
	for _, s := range l.Skipped {
		skipped = append(skipped, s.ID)
		if s.Err == nil || !strings.Contains(s.Err.Error(), `unrecognised date "Thu, 31 Feb 2025"`) {
			t.Errorf("skip %+v: want the heading's date as the reason", s)
		}
	}
	if want := []string{"2512.00012", "2512.00013"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped = %q, want %q", skipped, want)
	}
}

// TestParseRecent reads a /recent page: several days, each with its own
// heading, and sections known only from the items' markers.
func TestParseRecent(t *testing.T) {
	data := page(`<h3>Showing 6 of 6 entries</h3><dl id='articles'>
<h3>Fri, 5 Dec 2025 (showing 2 of 2 entries )</h3>` +
		item(`<a href ="/abs/2512.00011" title="Abstract">arXiv:2512.00011</a>`, "A") +
		item(`<a href ="/abs/2512.00012" title="Abstract">arXiv:2512.00012</a> (cross-list from cs.CV)`, "B") +
		`</dl><dl id='articles'><h3>Thu, 4 Dec 2025 (showing first 1 of 40 entries )</h3>` +
		item(`<a href ="/abs/2512.00013" title="Abstract">arXiv:2512.00013</a>`, "C") + `</dl>`)
	l, err := Parse(data, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	fri := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	thu := time.Date(2025, 12, 4, 0, 0, 0, 0, time.UTC)
	if !l.Day.Equal(fri) {
		t.Errorf("Day = %v, want %v", l.Day, fri)
	}
	want := []struct {
		id, section string
		day         time.Time
	}{
		{"2512.00011", SectionNew, fri},
		{"2512.00012", SectionCross, fri},
		{"2512.00013", SectionNew, thu},
	}
	if len(l.Papers) != len(want) {
		t.Fatalf("got %d papers, want %d", len(l.Papers), len(want))
	}
	for i, w := range want {
		p := l.Papers[i]
		if p.ID != w.id || p.Section != w.section || !p.Day.Equal(w.day) {
			t.Errorf("paper %d = {%s %s %v}, want {%s %s %v}", i, p.ID, p.Section, p.Day, w.id, w.section, w.day)
		}
	}
}
