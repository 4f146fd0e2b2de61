package feed

import (
	"bytes"
	"fmt"
	"html/template"
	"time"
)

// newestShown is how many of a topic's papers the index page lists.
const newestShown = 5

// pageTemplates are index.html and the starting page, which share their
// head and style. html/template escapes all text and URLs; the pages need
// no script. Long words (URLs, error lines) wrap rather than widen the page
// past a phone's screen.
var pageTemplates = template.Must(template.New("pages").Parse(`{{define "head"}}<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{end}}{{define "style"}}<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222;background:#fff;overflow-wrap:anywhere}
h1{margin-bottom:.25rem}h2{margin:2rem 0 .25rem;font-size:1.3rem}
a{color:#0645ad}.muted{color:#666;font-size:.9rem}
section{border-top:1px solid #ddd}ul{padding-left:1.2rem}li{margin:.2rem 0}
.subscribe a{margin-right:.75rem}
.sources{list-style:none;padding:0;font-size:.9rem}.sources>li{margin:.5rem 0}
.state{font-weight:600}.ok{color:#17692d}.partial{color:#8a5300}.failed{color:#b00020}
@media (prefers-color-scheme:dark){body{color:#ddd;background:#161616}a{color:#8ab4f8}.muted{color:#aaa}section{border-color:#333}.ok{color:#7bd88f}.partial{color:#f0b45a}.failed{color:#ff8a95}}
</style>
{{end}}{{define "time"}}<time datetime="{{.ISO}}">{{.Text}}</time>{{end}}{{define "index"}}<!DOCTYPE html>
<html lang="en">
<head>
{{template "head"}}<title>{{.Title}}</title>
{{range .Topics}}<link rel="alternate" type="application/atom+xml" title="{{.Title}}" href="{{.Atom}}">
{{end}}{{range .Topics}}<link rel="alternate" type="application/atom+xml" title="{{.Title}} (daily)" href="{{.Daily.Atom}}">
{{end}}{{template "style"}}</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="muted">Last refresh: {{with .Refreshed}}{{template "time" .}}{{else}}never{{end}}{{with .NextRefresh}} · next refresh at {{template "time" .}}{{end}} · <a href="{{.OPML}}">feeds.opml</a></p>
{{if .Sources}}<h2>Sources</h2>
<ul class="sources">
{{range .Sources}}<li class="source"><strong>{{.Name}}</strong> <span class="state {{.State}}">{{.State}}</span> · {{if eq .State "pending"}}not tried yet{{else}}{{.Papers}} {{if eq .Papers 1}}paper{{else}}papers{{end}}{{end}}
<br><span class="muted">last success {{with .LastSuccess}}{{template "time" .}}{{else}}never{{end}}{{with .NextTry}} · next try {{template "time" .}}{{end}}</span>
{{with .Err}}<br>Error: {{.}}
{{end}}{{with .Failed}}<br>Parts that failed:
<ul>
{{range .}}<li class="part">{{.}}</li>
{{end}}</ul>
{{end}}</li>
{{end}}</ul>
{{end}}{{if .Deliveries}}<h2>Deliveries</h2>
<ul class="sources">
{{range .Deliveries}}<li class="source"><strong>{{.Name}}</strong> ({{.Type}}) {{if .Failing}}<span class="state failed">failing</span> · {{end}}{{.Queued}} queued · last delivered {{with .LastSuccess}}{{template "time" .}}{{else}}never{{end}}{{if .Failing}}{{with .Err}}<br>Error: {{.}}{{end}}{{end}}</li>
{{end}}</ul>
{{end}}{{with .LearnError}}<p>Like-topics: <span class="state failed">failing</span> · {{.}}</p>
{{end}}{{with .Publish}}<p class="muted">Published copy: {{if .Failing}}<span class="state failed">failing</span>, {{.Pending}} {{if eq .Pending 1}}file{{else}}files{{end}} waiting · {{end}}last published {{with .LastSuccess}}{{template "time" .}}{{else}}never{{end}}</p>
{{end}}</header>
<main>
{{range .Topics}}<section id="{{.Slug}}">
<h2>{{.Title}}</h2>
{{if .Description}}<p>{{.Description}}</p>
{{end}}<p class="muted">{{.Count}} {{if eq .Count 1}}paper{{else}}papers{{end}}</p>
<p class="subscribe">Subscribe: <a href="{{.Atom}}">Atom</a> <a href="{{.RSS}}">RSS</a> <a href="{{.JSON}}">JSON Feed</a></p>
<p class="subscribe">Daily digest, one item a day: <a href="{{.Daily.Atom}}">Atom</a> <a href="{{.Daily.RSS}}">RSS</a> <a href="{{.Daily.JSON}}">JSON Feed</a></p>
{{if .Newest}}<ul>
{{range .Newest}}<li>{{if .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}} <span class="muted">{{.Day}}</span></li>
{{end}}</ul>
{{end}}</section>
{{end}}</main>
</body>
</html>
{{end}}{{define "starting"}}<!DOCTYPE html>
<html lang="en">
<head>
{{template "head"}}<meta http-equiv="refresh" content="15">
<title>{{.Title}} is starting</title>
{{template "style"}}</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Title}} is starting: the first refresh is running. This page reloads itself until the feeds are written.</p>
{{if .Sources}}<p>Sources it will try:</p>
<ul>
{{range .Sources}}<li>{{.}}</li>
{{end}}</ul>
{{end}}</body>
</html>
{{end}}`))

// Source states, as SourceStatus.State holds them.
const (
	StateOK      = "ok"      // the source gave everything it was asked for
	StatePartial = "partial" // some parts failed (Failed); the rest was merged
	StateFailed  = "failed"  // it gave nothing
	StatePending = "pending" // not tried yet (added since the last refresh)
)

// Status is the state of the refreshes, shown on index.html.
type Status struct {
	Refreshed   time.Time // when the last refresh ended (zero: none yet)
	NextRefresh time.Time // when the next one is planned (zero: unknown)
	Sources     []SourceStatus
	// Publish is the copy of the site in object storage; nil when the
	// site is not published.
	Publish *PublishStatus
	// Deliveries are the targets papers are pushed to.
	Deliveries []DeliveryStatus
	// LearnError says in one public line why the like-topics could not
	// learn, or which of them learnt no model (as /healthz's learn_error
	// does); "" when they learnt, or there are none.
	LearnError string
}

// DeliveryStatus is what the index says of a delivery target: its name,
// type and state, never its URL or address.
type DeliveryStatus struct {
	Name, Type  string
	LastSuccess time.Time // zero: never
	Queued      int       // papers it is owed
	Failing     bool      // the last attempt failed and none succeeded since
	Err         string    // failing: the last error, one public line without secrets
}

// PublishStatus is what the index says of the published copy of the site:
// no bucket, endpoint or error text, which belong to /healthz and the log.
type PublishStatus struct {
	LastSuccess time.Time // zero: never
	Failing     bool      // the last attempt failed
	Pending     int       // files not yet uploaded
}

// SourceStatus is what one source gave in the last refresh. Its texts are
// shown to anyone who opens the page: Err and Failed must be public lines
// (no paths, no internal detail).
type SourceStatus struct {
	Name        string    `json:"name"`
	State       string    `json:"state"`            // StateOK, StatePartial, StateFailed or StatePending
	OK          bool      `json:"ok"`               // State != "failed", kept for /healthz readers
	Papers      int       `json:"papers"`           // how many papers it gave
	Err         string    `json:"error,omitempty"`  // one public line, or "" when ok
	Failed      []string  `json:"failed,omitempty"` // partial: which parts failed, one public line each
	LastSuccess time.Time `json:"last_success,omitzero"`
	NextTry     time.Time `json:"next_try,omitzero"` // a failed or partial source is retried sooner than the interval
}

// state is s's state word: State when it is one of the four, else what OK
// says (a caller that sets only OK still gets a true word).
func (s *SourceStatus) state() string {
	switch s.State {
	case StateOK, StatePartial, StateFailed, StatePending:
		return s.State
	}
	if s.OK {
		return StateOK
	}
	return StateFailed
}

type indexData struct {
	Title, OPML            string
	Refreshed, NextRefresh *stamp // nil: not known
	Sources                []indexSource
	Publish                *indexPublish
	Deliveries             []indexDelivery
	LearnError             string
	Topics                 []indexTopic
}

// stamp is a time as the pages show it: readable UTC to the minute, and
// RFC 3339 for the <time> element.
type stamp struct{ ISO, Text string }

// indexDelivery is DeliveryStatus as the index shows it.
type indexDelivery struct {
	Name, Type, Err string
	LastSuccess     *stamp
	Queued          int
	Failing         bool
}

// indexPublish is PublishStatus as the index shows it.
type indexPublish struct {
	LastSuccess *stamp
	Failing     bool
	Pending     int
}

// newStamp is t as a stamp, or nil for the zero time.
func newStamp(t time.Time) *stamp {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &stamp{ISO: t.Format(time.RFC3339), Text: t.Format("2006-01-02 15:04 UTC")}
}

type indexSource struct {
	Name, State          string
	Papers               int
	Err                  string
	Failed               []string
	LastSuccess, NextTry *stamp
}

type indexTopic struct {
	Slug, Title, Description string
	Count                    int
	Atom, RSS, JSON          string
	Daily                    struct{ Atom, RSS, JSON string }
	Newest                   []indexPaper
}

type indexPaper struct{ Title, URL, Day string }

// Index renders index.html: the last and the next refresh; each source's
// state word ("ok", "partial", "failed", or "pending" for one not tried
// yet), papers, error line, the parts
// that failed, last success and next try; the deliveries, why the
// like-topics could not learn (Status.LearnError) and the published copy;
// then every topic with its
// description, size (Topic.Total, or len(Items) when it is 0), its first
// newestShown Items, each linked where the paper really is
// (Paper.PageURL), and subscribe links to its feeds and to its daily
// digest (also in the head, for readers' autodiscovery). Times are shown in UTC, to the
// minute, each in a <time> element. Texts are cleaned and collapsed, so an
// error is one line; long ones wrap within a phone's width.
func Index(s Site, topics []Topic, st Status) ([]byte, error) {
	site, err := checkSite(s)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	d := indexData{
		Title:       site.title,
		OPML:        site.base + "/" + OPMLName,
		Refreshed:   newStamp(st.Refreshed),
		NextRefresh: newStamp(st.NextRefresh),
		Sources:     make([]indexSource, 0, len(st.Sources)),
		Topics:      make([]indexTopic, 0, len(topics)),
	}
	for _, ds := range st.Deliveries {
		d.Deliveries = append(d.Deliveries, indexDelivery{Name: collapse(ds.Name), Type: collapse(ds.Type), LastSuccess: newStamp(ds.LastSuccess), Queued: ds.Queued, Failing: ds.Failing, Err: collapse(ds.Err)})
	}
	d.LearnError = collapse(st.LearnError)
	if p := st.Publish; p != nil {
		d.Publish = &indexPublish{LastSuccess: newStamp(p.LastSuccess), Failing: p.Failing, Pending: p.Pending}
	}
	for i := range st.Sources {
		src := &st.Sources[i]
		is := indexSource{
			Name:        collapse(src.Name),
			State:       src.state(),
			Papers:      src.Papers,
			Err:         collapse(src.Err),
			Failed:      cleanList(src.Failed),
			LastSuccess: newStamp(src.LastSuccess),
			NextTry:     newStamp(src.NextTry),
		}
		d.Sources = append(d.Sources, is)
	}
	for i, t := range topics {
		slug, err := checkSlug(t.Slug)
		if err != nil {
			return nil, fmt.Errorf("index: topic %d: %w", i, err)
		}
		it := indexTopic{
			Slug:        slug,
			Title:       collapse(t.Title),
			Description: collapse(t.Description),
			Count:       t.Total,
			Atom:        site.feedURL(slug, "atom"),
			RSS:         site.feedURL(slug, "rss"),
			JSON:        site.feedURL(slug, "json"),
		}
		it.Daily.Atom = site.feedURL(slug, DailyPrefix+"atom")
		it.Daily.RSS = site.feedURL(slug, DailyPrefix+"rss")
		it.Daily.JSON = site.feedURL(slug, DailyPrefix+"json")
		if it.Title == "" {
			it.Title = slug
		}
		if it.Count == 0 {
			it.Count = len(t.Items)
		}
		for _, item := range t.Items[:min(len(t.Items), newestShown)] {
			p := &item.Paper
			ip := indexPaper{Title: collapse(p.Title), URL: webURL(p.PageURL())}
			if ip.Title == "" {
				ip.Title = collapse(p.ID)
			}
			if day := Date(p); !day.IsZero() {
				ip.Day = day.Format(time.DateOnly)
			}
			it.Newest = append(it.Newest, ip)
		}
		d.Topics = append(d.Topics, it)
	}
	return execute("index", d)
}

type startingData struct {
	Title   string
	Sources []string
}

// Starting renders the page served before the first refresh has written the
// site: "<title> is starting: the first refresh is running", the names of
// the sources it will try (st.Sources; nothing else of st is shown, so the
// page carries no internal detail), and a refresh every 15 seconds, so a
// browser left open finds index.html once it is there. It links to no
// feed, since none is written yet. The caller serves it, or writes it as
// IndexName, until the first Build writes the site.
func Starting(s Site, st Status) ([]byte, error) {
	site, err := checkSite(s)
	if err != nil {
		return nil, fmt.Errorf("starting page: %w", err)
	}
	d := startingData{Title: site.title}
	for _, src := range st.Sources {
		if name := collapse(src.Name); name != "" {
			d.Sources = append(d.Sources, name)
		}
	}
	return execute("starting", d)
}

// execute runs one of pageTemplates.
func execute(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("%s page: %w", name, err)
	}
	return b.Bytes(), nil
}
