package feed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"
)

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// blockElements may not stand inside a <p> (the parser would close the
// paragraph before them, which is not what the page says).
var blockElements = map[string]bool{
	"p": true, "ul": true, "ol": true, "h1": true, "h2": true, "h3": true, "section": true,
	"header": true, "main": true, "div": true, "table": true,
}

// checkHTML fails the test with every problem htmlProblems finds.
func checkHTML(t *testing.T, page []byte) {
	t.Helper()
	for _, p := range htmlProblems(page) {
		t.Errorf("invalid HTML: %s", p)
	}
}

// htmlProblems holds a page to the HTML rules a validator checks and our
// pages could break: the HTML doctype first; every non-void element
// closed, in order, and no void element closed or self-closed; no
// attribute twice on an element and no id twice on the page; <li> only in
// a list and a list holding only <li>; no block element inside a <p>; and
// the document shape <html lang> <head> (charset, title) <body>.
func htmlProblems(page []byte) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	var open []string
	ids := map[string]bool{}
	seen := map[string]bool{}
	first := true
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				bad("tokenize: %v", z.Err())
			}
			break
		}
		tok := z.Token()
		if first {
			if tt != xhtml.DoctypeToken || tok.Data != "html" {
				bad("the page does not start with <!DOCTYPE html>")
			}
			first = false
			if tt == xhtml.DoctypeToken {
				continue
			}
		}
		parent := ""
		if len(open) > 0 {
			parent = open[len(open)-1]
		}
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name := tok.Data
			seen[name] = true
			if tt == xhtml.SelfClosingTagToken && !voidElements[name] {
				bad("<%s/> self-closes a non-void element", name)
			}
			attrs := map[string]bool{}
			for _, a := range tok.Attr {
				if attrs[a.Key] {
					bad("<%s> has attribute %s twice", name, a.Key)
				}
				attrs[a.Key] = true
				if a.Key == "id" {
					if ids[a.Val] {
						bad("id %q twice on the page", a.Val)
					}
					ids[a.Val] = true
				}
			}
			switch {
			case name == "html" && !attrs["lang"]:
				bad("<html> has no lang")
			case name == "li" && parent != "ul" && parent != "ol":
				bad("<li> inside <%s>", parent)
			case (parent == "ul" || parent == "ol") && name != "li":
				bad("<%s> directly inside <%s>", name, parent)
			case blockElements[name] && slices.Contains(open, "p"):
				bad("<%s> inside a <p>", name)
			}
			if !voidElements[name] && tt == xhtml.StartTagToken {
				open = append(open, name)
			}
		case xhtml.EndTagToken:
			switch {
			case voidElements[tok.Data]:
				bad("</%s> closes a void element", tok.Data)
			case parent != tok.Data:
				bad("</%s> closes <%s> (open: %v)", tok.Data, parent, open)
				return problems
			default:
				open = open[:len(open)-1]
			}
		case xhtml.TextToken:
			if (parent == "ul" || parent == "ol") && strings.TrimSpace(tok.Data) != "" {
				bad("text %q directly inside <%s>", tok.Data, parent)
			}
		}
	}
	if len(open) != 0 {
		bad("elements left open: %v", open)
	}
	for _, name := range []string{"html", "head", "meta", "title", "body"} {
		if !seen[name] {
			bad("the page has no <%s>", name)
		}
	}
	if !bytes.Contains(page, []byte(`<meta charset="utf-8">`)) {
		bad("the page does not declare its charset")
	}
	return problems
}

// TestHTMLProblems: the checker refuses what it is there to refuse, and
// passes a small valid page.
func TestHTMLProblems(t *testing.T) {
	const head = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>`
	tests := []struct{ name, page, want string }{
		{"valid", head + `<p>a<br>b</p><ul><li>x</li></ul></body></html>`, ""},
		{"no doctype", `<html lang="en"><head><meta charset="utf-8"><title>t</title></head><body></body></html>`, "DOCTYPE"},
		{"unclosed", head + `<p>a</body></html>`, "closes <p>"},
		{"misnested", head + `<p><strong>a</p></strong></body></html>`, "closes <strong>"},
		{"list in paragraph", head + `<p><ul><li>a</li></ul></p></body></html>`, "<ul> inside a <p>"},
		{"li outside list", head + `<li>a</li></body></html>`, "<li> inside <body>"},
		{"duplicate id", head + `<p id="a"></p><p id="a"></p></body></html>`, `id "a" twice`},
		{"closed void", head + `<br></br></body></html>`, "closes a void element"},
		{"no lang", `<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body></body></html>`, "no lang"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(htmlProblems([]byte(tt.page)), "; ")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSourceStates: the index says each source's state in one word, with
// the parts that failed and the times it knows, and shows an error as one
// escaped line; a caller that sets only OK still gets a true word.
func TestSourceStates(t *testing.T) {
	at := time.Date(2026, 6, 13, 6, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name     string
		src      SourceStatus
		want     []string
		dontWant []string
	}{
		{"ok", SourceStatus{Name: "hf", State: StateOK, OK: true, Papers: 1, LastSuccess: at},
			[]string{`<span class="state ok">ok</span> · 1 paper`, `last success <time datetime="2026-06-13T04:00:00Z">2026-06-13 04:00 UTC</time>`},
			[]string{"Error:", "next try", "Parts that failed"}},
		{"failed, never succeeded", SourceStatus{Name: "arxiv", State: StateFailed, Err: "status 503\n\tat line 2", NextTry: at},
			[]string{`<span class="state failed">failed</span> · 0 papers`, "last success never · next try <time", "Error: status 503 at line 2\n"},
			[]string{"Parts that failed"}},
		{"partial", SourceStatus{Name: "lab", State: StatePartial, OK: true, Papers: 4, Failed: []string{"page 2: status 404", " ", "page 3:\ntimeout"}},
			[]string{`<span class="state partial">partial</span> · 4 papers`, `<li class="part">page 2: status 404</li>`, `<li class="part">page 3: timeout</li>`},
			[]string{"Error:", `<li class="part"></li>`}},
		{"pending", SourceStatus{Name: "new", State: StatePending},
			[]string{`<span class="state pending">pending</span> · not tried yet`, "last success never"},
			[]string{"0 papers", "state failed", "Error:"}},
		{"only OK set", SourceStatus{Name: "old", OK: true}, []string{`<span class="state ok">ok</span>`}, nil},
		{"only failure set", SourceStatus{Name: "old", Err: "x"}, []string{`<span class="state failed">failed</span>`}, nil},
		{"unknown state word", SourceStatus{Name: "odd", State: "<weird>", OK: true}, []string{`<span class="state ok">ok</span>`}, []string{"weird"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := Index(testSite, nil, Status{Refreshed: refreshed, Sources: []SourceStatus{tt.src}})
			if err != nil {
				t.Fatal(err)
			}
			checkHTML(t, idx)
			s := string(idx)
			if !strings.Contains(s, "body{") || !strings.Contains(s, "overflow-wrap:anywhere") || strings.Contains(s, "<table") {
				t.Errorf("index.html lets long lines widen the page past a phone's width (no overflow-wrap, or a table)")
			}
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("index.html lacks %q:\n%s", w, s)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(s, w) {
					t.Errorf("index.html holds %q:\n%s", w, s)
				}
			}
		})
	}
}

// TestIndexNextRefresh: "next refresh at" appears only when it is known.
func TestIndexNextRefresh(t *testing.T) {
	for _, tt := range []struct {
		name string
		next time.Time
		want string
	}{
		{"known", refreshed.Add(time.Hour), ` · next refresh at <time datetime="2026-06-13T07:00:00Z">2026-06-13 07:00 UTC</time> · `},
		{"unknown", time.Time{}, `</time> · <a href="http://localhost:8080/feeds.opml">`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := Index(testSite, nil, Status{Refreshed: refreshed, NextRefresh: tt.next})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(idx), tt.want) {
				t.Errorf("index.html lacks %q:\n%s", tt.want, idx)
			}
		})
	}
}

// TestIndexPublish: the published copy's state appears only when the site
// is published, without the bucket or the error text.
func TestIndexPublish(t *testing.T) {
	for _, tt := range []struct {
		name      string
		pub       *PublishStatus
		want, not []string
	}{
		{"not published", nil, nil, []string{"Published copy"}},
		{"ok", &PublishStatus{LastSuccess: refreshed}, []string{`Published copy: last published <time datetime="2026-06-13T06:00:00Z">`}, []string{"failing"}},
		{"failing", &PublishStatus{LastSuccess: refreshed.Add(-time.Hour), Failing: true, Pending: 3}, []string{`Published copy: <span class="state failed">failing</span>, 3 files waiting · last published <time datetime="2026-06-13T05:00:00Z">`}, nil},
		{"never", &PublishStatus{Failing: true, Pending: 1}, []string{"1 file waiting · last published never"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := Index(testSite, nil, Status{Refreshed: refreshed, Publish: tt.pub})
			if err != nil {
				t.Fatal(err)
			}
			checkHTML(t, idx)
			for _, w := range tt.want {
				if !strings.Contains(string(idx), w) {
					t.Errorf("index.html lacks %q:\n%s", w, idx)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(string(idx), w) {
					t.Errorf("index.html holds %q", w)
				}
			}
		})
	}
}

// TestIndexLearnError: the like-topics' learning problem is on the page,
// escaped and on one line, and nothing of it when there is none.
func TestIndexLearnError(t *testing.T) {
	idx, err := Index(testSite, nil, Status{Refreshed: refreshed, LearnError: "like-topic <mine>: seeds not found\nin the history nor on arXiv: 2601.99999"})
	if err != nil {
		t.Fatal(err)
	}
	checkHTML(t, idx)
	if want := `Like-topics: <span class="state failed">failing</span> · like-topic &lt;mine&gt;: seeds not found in the history nor on arXiv: 2601.99999</p>`; !strings.Contains(string(idx), want) {
		t.Errorf("index.html lacks %q:\n%s", want, idx)
	}
	idx, err = Index(testSite, nil, Status{Refreshed: refreshed})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(idx), "Like-topics") {
		t.Errorf("index.html without a learning problem mentions like-topics:\n%s", idx)
	}
}

// TestIndexDeliveries: each delivery target appears with its state, and
// nothing else of it.
func TestIndexDeliveries(t *testing.T) {
	st := Status{Refreshed: refreshed, Deliveries: []DeliveryStatus{
		{Name: "lab-slack", Type: "slack", LastSuccess: refreshed, Queued: 2},
		{Name: "me", Type: "email", Queued: 5, Failing: true, Err: "mail.example.org answered 451 try again later"},
	}}
	idx, err := Index(testSite, nil, st)
	if err != nil {
		t.Fatal(err)
	}
	checkHTML(t, idx)
	for _, want := range []string{
		`<strong>lab-slack</strong> (slack) 2 queued · last delivered <time datetime="2026-06-13T06:00:00Z">`,
		`<strong>me</strong> (email) <span class="state failed">failing</span> · 5 queued · last delivered never<br>Error: mail.example.org answered 451 try again later</li>`,
	} {
		if !strings.Contains(string(idx), want) {
			t.Errorf("index.html lacks %q:\n%s", want, idx)
		}
	}
	if idx, err := Index(testSite, nil, Status{Refreshed: refreshed}); err != nil || strings.Contains(string(idx), "Deliveries") {
		t.Errorf("an index without targets mentions deliveries (err %v)", err)
	}
}

// TestStarting: the starting page says what is happening, names the
// sources it will try and reloads itself; it shows nothing else of the
// status (no error, no count, no time) and links to no feed, none being
// written yet.
func TestStarting(t *testing.T) {
	page, err := Starting(testSite, testStatus)
	if err != nil {
		t.Fatal(err)
	}
	checkHTML(t, page)
	s := string(page)
	for _, want := range []string{
		`<meta http-equiv="refresh" content="15">`,
		"paperfeed is starting: the first refresh is running",
		"<li>huggingface</li>", "<li>lab-pages</li>", "<li>arxiv-cs.LG</li>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("starting page lacks %q:\n%s", want, s)
		}
	}
	body := s[strings.Index(s, "<body>"):]
	for _, bad := range []string{"503", "timeout", "404", "2026", "papers", "state", "ok", "fail"} {
		if strings.Contains(body, bad) {
			t.Errorf("starting page holds %q, internal detail:\n%s", bad, s)
		}
	}
	for _, bad := range []string{"href=", "feeds/", ".opml"} {
		if strings.Contains(s, bad) {
			t.Errorf("starting page holds %q, a link to what is not there yet:\n%s", bad, s)
		}
	}
	none, err := Starting(Site{BaseURL: "http://127.0.0.1:8080", Title: "<Feeds>"}, Status{Sources: []SourceStatus{{Name: " \x00 "}}})
	if err != nil {
		t.Fatal(err)
	}
	checkHTML(t, none)
	if !strings.Contains(string(none), "&lt;Feeds&gt; is starting") || strings.Contains(string(none), "<ul>") {
		t.Errorf("starting page with an escaped title and no named source:\n%s", none)
	}
	if _, err := Starting(Site{BaseURL: "example.org"}, Status{}); !errors.Is(err, errNotAbsolute) {
		t.Errorf("Starting with a bad site: %v, want %v", err, errNotAbsolute)
	}
}
