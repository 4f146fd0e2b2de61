package feed

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"time"

	"github.com/gorilla/feeds"
)

// atomFeed is an Atom feed document. It is declared here rather than taken
// from feeds.AtomFeed because that struct holds a single <link> (a feed
// needs both rel="self" and rel="alternate") and one text <category>, where
// Atom wants term attributes.
type atomFeed struct {
	XMLName  xml.Name          `xml:"http://www.w3.org/2005/Atom feed"`
	Lang     string            `xml:"xml:lang,attr"`
	Title    string            `xml:"title"`
	Subtitle string            `xml:"subtitle,omitempty"`
	ID       string            `xml:"id"`
	Updated  string            `xml:"updated"`
	Links    []feeds.AtomLink  `xml:"link"`
	Author   *feeds.AtomAuthor `xml:"author"`
	Entries  []atomEntry       `xml:"entry"`
}

// atomEntry is an Atom entry; feeds.AtomEntry allows only one author and one
// text category.
type atomEntry struct {
	XMLName    xml.Name           `xml:"entry"`
	Title      string             `xml:"title"`
	ID         string             `xml:"id"`
	Links      []feeds.AtomLink   `xml:"link"`
	Updated    string             `xml:"updated"`
	Published  string             `xml:"published"`
	Authors    []feeds.AtomAuthor `xml:"author"`
	Categories []atomCategory     `xml:"category"`
	Summary    *feeds.AtomSummary `xml:"summary"`
	Content    *feeds.AtomContent `xml:"content"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// Atom renders the topic as an Atom 1.0 feed served at
// BaseURL/feeds/<slug>.atom, which is also the feed's id.
func Atom(s Site, t Topic) ([]byte, error) {
	ch, err := prepare(s, t)
	if err != nil {
		return nil, fmt.Errorf("atom: %w", err)
	}
	self := ch.site.feedURL(ch.slug, "atom")
	f := atomFeed{
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
		Entries: make([]atomEntry, 0, len(ch.entries)),
	}
	for _, e := range ch.entries {
		date := e.date.Format(time.RFC3339)
		ae := atomEntry{
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
			ae.Categories = append(ae.Categories, atomCategory{Term: c})
		}
		f.Entries = append(f.Entries, ae)
	}
	return marshalXML(f)
}

// marshalXML writes v as an indented XML document with its declaration.
func marshalXML(v any) ([]byte, error) {
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
