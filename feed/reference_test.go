package feed

// This file keeps the renderer as it was before Atom and RSS were written by
// hand: the same pipeline on encoding/xml and the gorilla/feeds structs. The
// tests hold the fast renderers to it byte for byte.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"
	"github.com/paperfeed/paperfeed/paper"
)

// refAtomFeed is an Atom feed document. It is declared here rather than taken
// from feeds.AtomFeed because that struct holds a single <link> (a feed
// needs both rel="self" and rel="alternate") and one text <category>, where
// Atom wants term attributes.
type refAtomFeed struct {
	XMLName  xml.Name          `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string            `xml:"xml:lang,attr"`
	Title    string            `xml:"title"`
	Subtitle string            `xml:"subtitle,omitempty"`
	ID       string            `xml:"id"`
	Updated  string            `xml:"updated"`
	Links    []feeds.AtomLink  `xml:"link"`
	Author   *feeds.AtomAuthor `xml:"author"`
	Entries  []refAtomEntry    `xml:"entry"`
}

// refAtomEntry is an Atom entry; feeds.AtomEntry allows only one author and one
// text category.
type refAtomEntry struct {
	XMLName    xml.Name           `xml:"entry"`
	Title      string             `xml:"title"`
	ID         string             `xml:"id"`
	Links      []feeds.AtomLink   `xml:"link"`
	Updated    string             `xml:"updated"`
	Published  string             `xml:"published"`
	Authors    []feeds.AtomAuthor `xml:"author"`
	Categories []refAtomCategory  `xml:"category"`
	Summary    *feeds.AtomSummary `xml:"summary"`
	Content    *feeds.AtomContent `xml:"content"`
}

type refAtomCategory struct {
	Term string `xml:"term,attr"`
}

// Atom renders the topic as an Atom 1.0 feed served at
// BaseURL/feeds/<slug>.atom, which is also the feed's id.
func refAtom(s Site, t Topic) ([]byte, error) {
	ch, err := refPrepare(s, t)
	if err != nil {
		return nil, fmt.Errorf("atom: %w", err)
	}
	self := ch.site.feedURL(ch.slug, "atom")
	f := refAtomFeed{
		Lang:     "en",
		Title:    ch.title,
		Subtitle: ch.description,
		ID:       self,
		Updated:  ch.updated.Format(time.RFC3339),
		Links: []feeds.AtomLink{
			{Href: self, Rel: "self", Type: "application/atom+xml"},
			{Href: ch.site.home(), Rel: "alternate", Type: "text/html"},
		},
		Author:  &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: ch.site.title}},
		Entries: make([]refAtomEntry, 0, len(ch.entries)),
	}
	for _, e := range ch.entries {
		date := e.date.Format(time.RFC3339)
		ae := refAtomEntry{
			Title:     e.title,
			ID:        e.id,
			Updated:   date,
			Published: date,
			Summary:   &feeds.AtomSummary{Content: e.summary, Type: "text"},
			Content:   &feeds.AtomContent{Content: e.content, Type: "html"},
		}
		if e.summary == "" {
			ae.Summary = nil
		}
		if e.link != "" {
			ae.Links = []feeds.AtomLink{{Href: e.link, Rel: "alternate", Type: "text/html"}}
		}
		for _, a := range e.authors {
			ae.Authors = append(ae.Authors, feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: a}})
		}
		for _, c := range e.terms {
			ae.Categories = append(ae.Categories, refAtomCategory{Term: c})
		}
		f.Entries = append(f.Entries, ae)
	}
	return refMarshalXML(f)
}

// refMarshalXML writes v as an indented XML document with its declaration.
func refMarshalXML(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// refRSSDoc is an RSS 2.0 document. It is declared here rather than taken from
// feeds.RssFeedXml because readers and the W3C validator want what that
// struct cannot say: an atom:link rel="self" on the channel, dc:creator for
// author names (RSS <author> must be an e-mail address), one <category> per
// term, and no empty <link>. The guid and content:encoded elements are
// gorilla's.
type refRSSDoc struct {
	XMLName xml.Name      `xml:"rss"`
	Version string        `xml:"version,attr"`
	Atom    string        `xml:"xmlns:atom,attr"`
	DC      string        `xml:"xmlns:dc,attr"`
	Content string        `xml:"xmlns:content,attr"`
	Channel refRSSChannel `xml:"channel"`
}

type refRSSChannel struct {
	Title         string         `xml:"title"`
	Link          string         `xml:"link"`
	Description   string         `xml:"description"`
	Language      string         `xml:"language"`
	LastBuildDate string         `xml:"lastBuildDate"`
	SelfLink      refRSSAtomLink `xml:"atom:link"`
	Items         []refRSSItem   `xml:"item"`
}

type refRSSAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type refRSSItem struct {
	Title       string            `xml:"title"`
	Link        string            `xml:"link,omitempty"`
	Description string            `xml:"description"`
	Content     *feeds.RssContent `xml:"content:encoded"`
	Creator     string            `xml:"dc:creator,omitempty"`
	Categories  []string          `xml:"category"`
	GUID        *feeds.RssGuid    `xml:"guid"`
	PubDate     string            `xml:"pubDate"`
}

// RSS renders the topic as an RSS 2.0 feed served at
// BaseURL/feeds/<slug>.rss. The item guid is the same id as in the other
// formats, marked isPermaLink="false" since the item links elsewhere.
func refRSS(s Site, t Topic) ([]byte, error) {
	ch, err := refPrepare(s, t)
	if err != nil {
		return nil, fmt.Errorf("rss: %w", err)
	}
	desc := ch.description
	if desc == "" {
		desc = ch.title // RSS requires a description
	}
	doc := refRSSDoc{
		Version: "2.0",
		Atom:    "http://www.w3.org/2005/Atom",
		DC:      "http://purl.org/dc/elements/1.1/",
		Content: "http://purl.org/rss/1.0/modules/content/",
		Channel: refRSSChannel{
			Title:         ch.title,
			Link:          ch.site.home(),
			Description:   desc,
			Language:      "en",
			LastBuildDate: ch.updated.Format(time.RFC1123Z),
			SelfLink:      refRSSAtomLink{Href: ch.site.feedURL(ch.slug, "rss"), Rel: "self", Type: "application/rss+xml"},
			Items:         make([]refRSSItem, 0, len(ch.entries)),
		},
	}
	for _, e := range ch.entries {
		doc.Channel.Items = append(doc.Channel.Items, refRSSItem{
			Title: e.title,
			Link:  e.link,
			// Readers treat an item's description as HTML: escape the plain
			// abstract so that "<" and "&" in it stay text.
			Description: html.EscapeString(e.summary),
			Content:     &feeds.RssContent{Content: e.content},
			Creator:     strings.Join(e.authors, ", "),
			Categories:  e.terms,
			GUID:        &feeds.RssGuid{Id: e.id, IsPermaLink: "false"},
			PubDate:     e.date.Format(time.RFC1123Z),
		})
	}
	b, err := refMarshalXML(doc)
	if err != nil {
		return nil, fmt.Errorf("rss: %w", err)
	}
	return []byte(refRSSProfileEscapes.Replace(string(b))), nil
}

// refRSSProfileEscapes rewrites "&amp;" and "&lt;" as hexadecimal character
// references, as the RSS Profile asks: in RSS a plain-text element (title,
// channel description) holding "&lt;" is ambiguous between text and markup,
// and readers decide by how it was written. The meaning is unchanged
// everywhere: in XML text and attributes both spellings are the same
// character, and inside the content:encoded CDATA every "&" of the
// html/template output starts a character reference, so the HTML is the same.
var refRSSProfileEscapes = strings.NewReplacer("&amp;", "&#x26;", "&lt;", "&#x3C;")

// channel is a topic made ready for every format: all text cleaned, every
// item with its id, link and date.
type refChannel struct {
	site        site
	slug        string
	title       string
	description string
	updated     time.Time
	entries     []refEntry
}

// entry is one item made ready for every format.
type refEntry struct {
	id      string
	link    string // an http(s) URL, or empty for an item without one
	title   string
	summary string // the abstract as plain text
	content string // HTML
	authors []string
	terms   []string
	image   string
	date    time.Time
}

func refPrepare(s Site, t Topic) (*refChannel, error) {
	st, err := checkSite(s)
	if err != nil {
		return nil, err
	}
	slug, err := checkSlug(t.Slug)
	if err != nil {
		return nil, err
	}
	ch := &refChannel{
		site:        st,
		slug:        slug,
		title:       collapse(t.Title),
		description: collapse(t.Description),
		updated:     t.Updated.UTC(),
		entries:     make([]refEntry, 0, len(t.Items)),
	}
	if ch.title == "" {
		ch.title = slug
	}
	var newest time.Time
	for i := range t.Items {
		e, err := refNewEntry(&t.Items[i], t.Updated)
		if err != nil {
			return nil, fmt.Errorf("topic %s: item %d: %w", slug, i, err)
		}
		if e.date.After(newest) {
			newest = e.date
		}
		ch.entries = append(ch.entries, e)
	}
	if !newest.IsZero() {
		ch.updated = newest
	}
	if ch.updated.IsZero() {
		return nil, fmt.Errorf("topic %s: %w", slug, errNoDate)
	}
	ch.updated = ch.updated.Truncate(time.Second)
	return ch, nil
}

func refNewEntry(it *Item, fallback time.Time) (refEntry, error) {
	p := &it.Paper
	id := cleanURL(p.AbsURL())
	if id == "" {
		id = cleanURL(p.Link)
	}
	if id == "" {
		return refEntry{}, fmt.Errorf("paper %q: %w", p.ID, errNoID)
	}
	date := Date(p)
	if date.IsZero() {
		date = fallback.UTC()
	}
	if date.IsZero() {
		return refEntry{}, fmt.Errorf("paper %s: %w", p.ID, errNoDate)
	}
	date = date.Truncate(time.Second)
	e := refEntry{
		id:      id,
		link:    refWebURL(p.PageURL()),
		title:   collapse(p.Title),
		summary: collapse(p.Abstract),
		authors: refCapAuthors(p.Authors),
		terms:   refTerms(it.Terms, p.Categories, p.AIKeywords),
		image:   refWebURL(p.Thumbnail),
		date:    date,
	}
	if e.title == "" {
		e.title = id
	}
	e.content = refRenderContent(p, e.summary)
	return e, nil
}

// capAuthors returns the cleaned, non-empty author names, at most maxAuthors
// of them followed by etAl when there were more.
func refCapAuthors(names []string) []string {
	out := refCleanList(names)
	if len(out) > maxAuthors {
		out = append(out[:maxAuthors:maxAuthors], etAl)
	}
	return out
}

// cleanList collapses every string and drops the empty ones.
func refCleanList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = collapse(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// terms is the matched terms, then arXiv categories, then AI keywords, cleaned, without empty
// strings and without repeats (compared case-insensitively; the first
// spelling wins).
func refTerms(lists ...[]string) []string {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]string, 0, n)
	seen := make(map[string]bool, n)
	for _, list := range lists {
		for _, s := range list {
			s = collapse(s)
			k := strings.ToLower(s)
			if s == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// renderContent is the item's HTML: thumbnail, abstract, every author,
// organisation, AI summary, arXiv comments and journal reference, links to
// the paper's pages, and the counts it collected.
//
// It is written by hand rather than with html/template, which spent two
// thirds of a feed's allocations on reflection. Safety rests on two rules
// that the tests check: every text goes through html.EscapeString, and every
// URL has passed webURL (http or https only) before it is escaped into a
// double-quoted attribute.
func refRenderContent(p *paper.Paper, abstract string) string {
	var b strings.Builder
	b.Grow(len(abstract) + len(p.AISummary) + 1024)
	if img := refWebURL(p.Thumbnail); img != "" {
		b.WriteString(`<p><img src="`)
		b.WriteString(html.EscapeString(img))
		b.WriteString("\" alt=\"\"></p>\n")
	}
	para := func(label, text string) {
		if text == "" {
			return
		}
		b.WriteString("<p>")
		if label != "" {
			b.WriteString("<b>")
			b.WriteString(label)
			b.WriteString(":</b> ")
		}
		b.WriteString(html.EscapeString(text))
		b.WriteString("</p>\n")
	}
	para("", abstract)
	para("Authors", strings.Join(refCleanList(p.Authors), ", "))
	para("Organization", collapse(p.Organization))
	para("AI summary", collapse(p.AISummary))
	para("Comments", collapse(p.ArxivComments))
	para("Journal ref", collapse(p.JournalRef))

	links := 0
	link := func(u, text string) {
		if u = refWebURL(u); u == "" {
			return
		}
		if links == 0 {
			b.WriteString("<p>")
		} else {
			b.WriteString(" · ")
		}
		links++
		b.WriteString(`<a href="`)
		b.WriteString(html.EscapeString(u))
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(text))
		b.WriteString("</a>")
	}
	link(p.AbsURL(), "arXiv")
	link(p.PDFURL(), "PDF")
	link(p.PageURL(), refPageText(p))
	if p.GitHubRepo != "" {
		text := "GitHub"
		if p.GitHubStars > 0 {
			text = "GitHub (" + strconv.Itoa(p.GitHubStars) + " stars)"
		}
		link(p.GitHubRepo, text)
	}
	link(p.ProjectPage, "Project page")
	if links > 0 {
		b.WriteString("</p>\n")
	}
	b.WriteString("<p>")
	b.WriteString(strconv.Itoa(p.Upvotes))
	b.WriteString(" upvotes · ")
	b.WriteString(strconv.Itoa(p.Comments))
	b.WriteString(" comments</p>\n")
	return b.String()
}

// pageText names the page an item links to.
func refPageText(p *paper.Paper) string {
	if p.IsArxiv() {
		return "Hugging Face"
	}
	return "Source"
}

// webURL is s cleaned if it is an absolute http or https URL, otherwise "".
// Scraped links with other schemes (javascript:, data:) or none are left out
// of the output rather than written as relative references.
func refWebURL(s string) string {
	s = cleanURL(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// refJSONFeed wraps feeds.JSONFeed only to write "items" even when there are
// none: JSON Feed 1.1 requires the array and gorilla's field omits it when
// empty. The outer field shadows the embedded one.
type refJSONFeed struct {
	*feeds.JSONFeed
	Items []*feeds.JSONItem `json:"items"`
}

// JSON renders the topic as a JSON Feed 1.1 document served at
// BaseURL/feeds/<slug>.json. Every item has content_html and summary.
func refJSON(s Site, t Topic) ([]byte, error) {
	ch, err := refPrepare(s, t)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	f := refJSONFeed{
		JSONFeed: &feeds.JSONFeed{
			Version:     jsonFeedVersion,
			Title:       ch.title,
			Language:    "en",
			HomePageUrl: ch.site.home(),
			FeedUrl:     ch.site.feedURL(ch.slug, "json"),
			Description: ch.description,
			Authors:     []*feeds.JSONAuthor{{Name: ch.site.title}},
		},
		Items: make([]*feeds.JSONItem, 0, len(ch.entries)),
	}
	for _, e := range ch.entries {
		item := &feeds.JSONItem{
			Id:            e.id,
			Url:           e.link,
			Title:         e.title,
			ContentHTML:   e.content,
			Summary:       e.summary,
			Image:         e.image,
			PublishedDate: &e.date,
			Tags:          e.terms,
		}
		for _, a := range e.authors {
			item.Authors = append(item.Authors, &feeds.JSONAuthor{Name: a})
		}
		f.Items = append(f.Items, item)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("json: encode: %w", err)
	}
	return b.Bytes(), nil
}
