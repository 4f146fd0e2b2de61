package feed

import (
	"bytes"
	"fmt"
	"html/template"
	"time"
)

// newestShown is how many of a topic's papers the index page lists.
const newestShown = 5

// indexTemplate is index.html. html/template escapes all text and URLs; the
// page needs no script.
var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{range .Topics}}<link rel="alternate" type="application/atom+xml" title="{{.Title}}" href="{{.Atom}}">
{{end}}<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222;background:#fff}
h1{margin-bottom:.25rem}h2{margin:2rem 0 .25rem;font-size:1.3rem}
a{color:#0645ad}.muted{color:#666;font-size:.9rem}
section{border-top:1px solid #ddd}ul{padding-left:1.2rem}li{margin:.2rem 0}
.subscribe a{margin-right:.75rem}.ok{color:#17692d}.fail{color:#b00020}
table{border-collapse:collapse;font-size:.9rem}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #eee}
@media (prefers-color-scheme:dark){body{color:#ddd;background:#161616}a{color:#8ab4f8}section{border-color:#333}td,th{border-color:#2a2a2a}}
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="muted">Last refresh: {{if .Refreshed}}<time datetime="{{.RefreshedISO}}">{{.Refreshed}}</time>{{else}}never{{end}} · <a href="{{.OPML}}">feeds.opml</a></p>
{{if .Sources}}<table>
<tr><th>Source</th><th>Outcome</th><th>Papers</th></tr>
{{range .Sources}}<tr><td>{{.Name}}</td>{{if .OK}}<td class="ok">ok</td>{{else}}<td class="fail">failed{{if .Err}}: {{.Err}}{{end}}</td>{{end}}<td>{{.Papers}}</td></tr>
{{end}}</table>
{{end}}</header>
<main>
{{range .Topics}}<section id="{{.Slug}}">
<h2>{{.Title}}</h2>
{{if .Description}}<p>{{.Description}}</p>
{{end}}<p class="muted">{{.Count}} {{if eq .Count 1}}paper{{else}}papers{{end}}</p>
<p class="subscribe">Subscribe: <a href="{{.Atom}}">Atom</a> <a href="{{.RSS}}">RSS</a> <a href="{{.JSON}}">JSON Feed</a></p>
{{if .Newest}}<ul>
{{range .Newest}}<li>{{if .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}} <span class="muted">{{.Day}}</span></li>
{{end}}</ul>
{{end}}</section>
{{end}}</main>
</body>
</html>
`))

// Status is the outcome of the last refresh, shown on index.html.
type Status struct {
	Refreshed time.Time
	Sources   []SourceStatus
}

// SourceStatus is what one source gave in the last refresh.
type SourceStatus struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Papers int    `json:"papers"`
	Err    string `json:"error,omitempty"`
}

type indexData struct {
	Title, OPML             string
	Refreshed, RefreshedISO string
	Sources                 []SourceStatus
	Topics                  []indexTopic
}

type indexTopic struct {
	Slug, Title, Description string
	Count                    int
	Atom, RSS, JSON          string
	Newest                   []indexPaper
}

type indexPaper struct{ Title, URL, Day string }

// Index renders index.html: every topic with its description, size
// (Topic.Total, or len(Items) when it is 0), its first newestShown Items and
// subscribe links, then the last refresh and each source's outcome. Times
// are shown in UTC.
func Index(s Site, topics []Topic, st Status) ([]byte, error) {
	site, err := checkSite(s)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	d := indexData{
		Title:   site.title,
		OPML:    site.base + "/" + OPMLName,
		Sources: make([]SourceStatus, 0, len(st.Sources)),
		Topics:  make([]indexTopic, 0, len(topics)),
	}
	if !st.Refreshed.IsZero() {
		r := st.Refreshed.UTC().Truncate(time.Second)
		d.Refreshed = r.Format("2006-01-02 15:04 UTC")
		d.RefreshedISO = r.Format(time.RFC3339)
	}
	for _, src := range st.Sources {
		d.Sources = append(d.Sources, SourceStatus{Name: collapse(src.Name), OK: src.OK, Papers: src.Papers, Err: collapse(src.Err)})
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
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return b.Bytes(), nil
}
