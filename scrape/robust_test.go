package scrape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/scrape/listing"
)

// logLines collects what a logger writes, one "LEVEL message k=v ..." line
// per record.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() *slog.Logger {
	return slog.New(funcHandler{fn: func(r slog.Record, attrs []slog.Attr) {
		line := r.Level.String() + " " + r.Message
		for _, a := range attrs {
			line += " " + a.String()
		}
		r.Attrs(func(a slog.Attr) bool {
			line += " " + a.String()
			return true
		})
		l.mu.Lock()
		l.lines = append(l.lines, line)
		l.mu.Unlock()
	}})
}

// warnings are the WARN lines logged so far.
func (l *logLines) warnings() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.HasPrefix(line, "WARN ") {
			out = append(out, line)
		}
	}
	return out
}

// entry is one API element of the given id and title; extra is more JSON
// for the paper object, such as `,"upvotes":"12"`.
func entry(id, title, extra string) string {
	return fmt.Sprintf(`{"paper":{"id":%q,"title":%q%s}}`, id, title, extra)
}

// TestBadEntrySkipped gives the API and the page JSON an answer where one
// entry has a number as a string: that entry is skipped and logged once,
// the others are used.
func TestBadEntrySkipped(t *testing.T) {
	answer := "[" + strings.Join([]string{
		entry("2606.00001", "one", `,"upvotes":3`),
		entry("2606.00002", "two", `,"upvotes":"12"`),
		`17`,
		entry("2606.00004", "four", ""),
	}, ",") + "]"
	page := `<html><body><div data-target="DailyPapers" data-props="` +
		strings.ReplaceAll(`{"dailyPapers":`+answer+`}`, `"`, "&quot;") + `"></div></body></html>`
	for _, via := range []string{"api", "html"} {
		t.Run(via, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/robots.txt":
					http.NotFound(w, r)
				case via == "api":
					serveBytes(w, "application/json", []byte(answer))
				default:
					serveBytes(w, "text/html", []byte(page))
				}
			})
			var log logLines
			opt := testOptions()
			opt.Logger = log.logger()
			got, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Via: via, Days: 1}.Scrape(context.Background(), sunday, opt)
			if err != nil {
				t.Fatalf("Scrape: %v", err)
			}
			var ids []string
			for _, p := range got {
				ids = append(ids, p.ID)
			}
			if want := []string{"2606.00001", "2606.00004"}; !slices.Equal(ids, want) {
				t.Errorf("ids = %q, want %q", ids, want)
			}
			u := srv.URL + "/api/daily_papers?date=2026-06-14"
			if via == "html" {
				u = srv.URL + "/papers/date/2026-06-14"
			}
			want := []string{
				"WARN skipped an entry source=hf url=" + u + " index=1 id=2606.00002 reason=json: cannot unmarshal string into Go struct field .paper.upvotes of type int",
				"WARN skipped an entry source=hf url=" + u + " index=2 reason=json: cannot unmarshal number into Go value of type scrape.hfEntry",
			}
			if got := log.warnings(); !slices.Equal(got, want) {
				t.Errorf("logged\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// TestSkippedLogsBounded logs ten skipped entries one by one and the rest
// in one line.
func TestSkippedLogsBounded(t *testing.T) {
	entries := []string{entry("2606.00001", "good", "")}
	for i := range 15 {
		entries = append(entries, entry(fmt.Sprintf("bad-%d", i), "bad", ""))
	}
	srv := newTestServer(t, body("application/json", []byte("["+strings.Join(entries, ",")+"]")))
	var log logLines
	opt := testOptions()
	opt.Logger = log.logger()
	got, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}.Scrape(context.Background(), sunday, opt)
	if err != nil || len(got) != 1 {
		t.Fatalf("Scrape = %d papers, %v; want the good one", len(got), err)
	}
	warnings := log.warnings()
	if len(warnings) != 11 {
		t.Fatalf("logged %d warnings, want 11:\n%q", len(warnings), warnings)
	}
	if want := "WARN skipped more entries source=hf url=" + srv.URL + "/api/daily_papers?date=2026-06-14 skipped=5"; warnings[10] != want {
		t.Errorf("last warning %q, want %q", warnings[10], want)
	}
}

// TestSkippedLogBoundsText cuts an id of a megabyte to what a log line
// holds.
func TestSkippedLogBoundsText(t *testing.T) {
	id := strings.Repeat("x", 1<<20)
	srv := newTestServer(t, body("application/json", []byte("["+entry(id, "bad", "")+","+entry("2606.00001", "good", "")+"]")))
	var log logLines
	opt := testOptions()
	opt.Logger = log.logger()
	if _, err := (HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}).Scrape(context.Background(), sunday, opt); err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	want := "WARN skipped an entry source=hf url=" + srv.URL + "/api/daily_papers?date=2026-06-14 index=0 id=" + strings.Repeat("x", maxLogID) + "… reason=no valid arxiv id"
	if w := log.warnings(); !slices.Equal(w, []string{want}) {
		t.Errorf("logged %.300q, want %.300q", w, want)
	}
}

// TestEveryEntryBad is an error, not an empty day: the answer's format
// changed.
func TestEveryEntryBad(t *testing.T) {
	tests := []struct {
		name string
		via  string
		data string
	}{
		{"api", "api", "[" + entry("2606.00001", "a", `,"upvotes":"1"`) + "," + entry("x", "b", "") + "]"},
		{"cards", "html", `<article><h3><a href="/papers/date/2026-06-11">Yesterday</a></h3></article>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/robots.txt" {
					http.NotFound(w, r)
					return
				}
				serveBytes(w, "text/html", []byte(tt.data))
			})
			got, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Via: tt.via, Days: 1}.Scrape(context.Background(), sunday, testOptions())
			if !errors.Is(err, ErrBadEntries) {
				t.Errorf("got error %v, want ErrBadEntries", err)
			}
			if len(got) != 0 {
				t.Errorf("got %d papers, want none", len(got))
			}
		})
	}
}

// TestBadItemsSkippedHTML runs the arXiv and listing parsers' skips through
// their sources: the good items are used, the bad one logged.
func TestBadItemsSkippedHTML(t *testing.T) {
	arxivPage := `<html><body><div id="dlpage"><h3>New submissions for Fri, 5 Dec 25</h3><dl>
<dt><a href="/abs/2512.00001">arXiv:2512.00001</a></dt><dd><div class="list-title"><span class="descriptor">Title:</span> Good</div></dd>
<dt><a href="/abs/2512.00002">arXiv:2512.00002</a></dt><dd><div class="list-title"></div></dd>
</dl></div></body></html>`
	labPage := `<html><body>
<article class="pub"><h2 class="pub-title"><a href="/a">Good</a></h2><time datetime="2025-01-02T00:00:00Z"></time></article>
<article class="pub"><h2 class="pub-title"><a href="/b">Bad date</a></h2><time datetime="last week"></time></article>
</body></html>`
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			serveBytes(w, "text/plain", []byte(robotsAllowing))
		case "/list/cs.LG/new":
			serveBytes(w, "text/html", []byte(arxivPage))
		default:
			serveBytes(w, "text/html", []byte(labPage))
		}
	})
	tests := []struct {
		name     string
		scrape   func(Options) ([]paper.Paper, error)
		wantWarn string
	}{
		{"arxiv", func(opt Options) ([]paper.Paper, error) {
			return Arxiv{Name: "ax", BaseURL: srv.URL, Category: "cs.LG"}.Scrape(context.Background(), sunday, opt)
		}, "WARN skipped an entry source=ax url=" + srv.URL + "/list/cs.LG/new index=1 id=2512.00002 reason=item 2512.00002: no title"},
		{"listing", func(opt Options) ([]paper.Paper, error) {
			return Listing{Name: "lab", URL: srv.URL + "/pubs", Selectors: listing.Selectors{Item: "article.pub", Title: "h2", Date: "time@datetime"}}.Scrape(context.Background(), sunday, opt)
		}, "WARN skipped an entry source=lab url=" + srv.URL + "/pubs index=1 id=" + paper.LinkID(srv.URL+"/b") +
			` reason=item 2: "Bad date": date "last week" is not RFC 3339 and no date layout is set: parsing time "last week" as "2006-01-02T15:04:05Z07:00": cannot parse "last week" as "2006"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log logLines
			opt := testOptions()
			opt.Logger = log.logger()
			got, err := tt.scrape(opt)
			if err != nil {
				t.Fatalf("Scrape: %v", err)
			}
			if len(got) != 1 || got[0].Title != "Good" {
				t.Errorf("got %+v, want the good item", got)
			}
			if w := log.warnings(); !slices.Equal(w, []string{tt.wantWarn}) {
				t.Errorf("logged\n%q\nwant\n%q", w, tt.wantWarn)
			}
		})
	}
}

// TestMaxPapers keeps the first MaxPapers papers of an answer and says how
// many it dropped.
func TestMaxPapers(t *testing.T) {
	srv := newTestServer(t, body("application/json", readTestdata(t, apiFixture)))
	var log logLines
	opt := testOptions()
	opt.MaxPapers = 10
	opt.Logger = log.logger()
	got, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}.Scrape(context.Background(), sunday, opt)
	if err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	if want := wantPapers(t, "hf")[:10]; !slices.EqualFunc(got, want, func(a, b paper.Paper) bool { return a.ID == b.ID }) {
		t.Errorf("got %d papers, want the first 10 of the answer", len(got))
	}
	want := "WARN dropped papers over max papers source=hf url=" + srv.URL + "/api/daily_papers?date=2026-06-14 dropped=20 max_papers=10"
	if w := log.warnings(); !slices.Equal(w, []string{want}) {
		t.Errorf("logged %q, want %q", w, want)
	}
}

// TestOverlongTextClamped serves a paper with an abstract of megabytes and
// a title of a hundred thousand runes: the source returns it cut to
// paper.Clamp's caps, with one WARN, instead of a paper no feed can hold.
func TestOverlongTextClamped(t *testing.T) {
	huge := strings.Repeat("very long abstract ", 200000) // 3.8 MB
	title := strings.Repeat("T", 100000)
	data := "[" + entry("2606.00001", title, `,"summary":"`+huge+`"`) + "," + entry("2606.00002", "short", "") + "]"
	srv := newTestServer(t, body("application/json", []byte(data)))
	var log logLines
	opt := testOptions()
	opt.Logger = log.logger()
	got, err := HuggingFace{Name: "hf", BaseURL: srv.URL, Days: 1}.Scrape(context.Background(), sunday, opt)
	if err != nil {
		t.Fatalf("Scrape: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d papers, want 2", len(got))
	}
	if n := utf8.RuneCountInString(got[0].Abstract); n > paper.MaxAbstract || n < paper.MaxAbstract-2 || !strings.HasSuffix(got[0].Abstract, " …") {
		t.Errorf("abstract of %d runes ending %q, want about %d ending in the marker", n, got[0].Abstract[len(got[0].Abstract)-10:], paper.MaxAbstract)
	}
	if n := utf8.RuneCountInString(got[0].Title); n != paper.MaxTitle {
		t.Errorf("title of %d runes, want %d", n, paper.MaxTitle)
	}
	want := "WARN cut over-long fields source=hf id=2606.00001 fields=title,abstract"
	if w := log.warnings(); !slices.Equal(w, []string{want}) {
		t.Errorf("logged %q, want %q", w, want)
	}
}

// TestDetailsClamped fills a paper from a page with a huge abstract: what
// Details returns is clamped, the paper passed in untouched.
func TestDetailsClamped(t *testing.T) {
	page := `<html><head><meta name="citation_abstract" content="` + strings.Repeat("x", 100000) + `"></head></html>`
	srv := pagesServer(t, robotsAllowing, map[string]http.HandlerFunc{"/p/": body("text/html", []byte(page))})
	link := srv.URL + "/p/"
	in := []paper.Paper{{ID: paper.LinkID(link), Title: "T", Link: link, Authors: []string{strings.Repeat("a", paper.MaxAuthor+1)}}}
	var log logLines
	opt := testOptions()
	opt.Logger = log.logger()
	got, err := Details{Name: "lab"}.Fetch(context.Background(), in, opt)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if n := utf8.RuneCountInString(got[0].Abstract); n != paper.MaxAbstract {
		t.Errorf("abstract of %d runes, want %d", n, paper.MaxAbstract)
	}
	if n := len(got[0].Authors[0]); n > paper.MaxAuthor+2 {
		t.Errorf("author of %d bytes, want it cut", n)
	}
	if len(in[0].Authors[0]) != paper.MaxAuthor+1 {
		t.Error("the paper passed in was modified")
	}
	want := "WARN cut over-long fields source=lab id=" + in[0].ID + " fields=abstract,authors"
	if w := log.warnings(); !slices.Equal(w, []string{want}) {
		t.Errorf("logged %q, want %q", w, want)
	}
}
