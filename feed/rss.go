package feed

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/gorilla/feeds"
)

// rssDoc is an RSS 2.0 document. It is this package's rather than
// feeds.RssFeedXml because readers and the W3C validator want what that
// struct cannot say: atom:link rel="self" (and rel="hub") on the channel, dc:creator for
// author names (RSS <author> must be an e-mail address), one <category> per
// term, and no empty <link>. The guid is gorilla's feeds.RssGuid.
type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	DC      string     `xml:"xmlns:dc,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string        `xml:"title"`
	Link          string        `xml:"link"`
	Description   string        `xml:"description"`
	Language      string        `xml:"language"`
	LastBuildDate string        `xml:"lastBuildDate"`
	Links         []rssAtomLink `xml:"atom:link"` // self, then the hub if any
	Items         []rssItem     `xml:"item"`
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssItem struct {
	Title       string        `xml:"title"`
	Link        string        `xml:"link,omitempty"`
	Description rssHTML       `xml:"description"`
	Creator     string        `xml:"dc:creator,omitempty"`
	Categories  []string      `xml:"category"`
	GUID        feeds.RssGuid `xml:"guid"`
	PubDate     string        `xml:"pubDate"`
}

// rssHTML is an item description: the item's HTML in a CDATA section, which
// keeps the markup readable (gorilla's RssItem.Description is a plain string
// and would escape every tag).
type rssHTML struct {
	HTML string `xml:",cdata"`
}

// RSS renders the topic as an RSS 2.0 feed served at
// BaseURL/feeds/<slug>.rss, with an atom:link rel="hub" after the self link
// when Site.Hub is set. An item's text is its <description>, which holds
// the item's HTML. The item guid is the same id as in the other formats,
// marked isPermaLink="false" since the item links elsewhere.
func RSS(s Site, t Topic) ([]byte, error) {
	ch, err := prepare(s, t)
	if err != nil {
		return nil, fmt.Errorf("rss: %w", err)
	}
	return ch.rss()
}

// rss encodes the prepared topic as RSS (see RSS).
func (ch *channel) rss() ([]byte, error) {
	desc := ch.description
	if desc == "" {
		desc = ch.title // RSS requires a description
	}
	doc := rssDoc{
		Version: "2.0",
		Atom:    "http://www.w3.org/2005/Atom",
		DC:      "http://purl.org/dc/elements/1.1/",
		Channel: rssChannel{
			Title:         ch.title,
			Link:          ch.site.home(),
			Description:   desc,
			Language:      "en",
			LastBuildDate: ch.updated.Format(time.RFC1123Z),
			Links:         []rssAtomLink{{Href: ch.selfURL("rss"), Rel: "self", Type: "application/rss+xml"}},
			Items:         make([]rssItem, 0, len(ch.entries)),
		},
	}
	if ch.site.hub != "" {
		doc.Channel.Links = append(doc.Channel.Links, rssAtomLink{Href: ch.site.hub, Rel: "hub"})
	}
	for _, e := range ch.entries {
		doc.Channel.Items = append(doc.Channel.Items, rssItem{
			Title:       e.title,
			Link:        e.link,
			Description: rssHTML{HTML: e.content},
			Creator:     strings.Join(e.authors, ", "),
			Categories:  e.terms,
			GUID:        feeds.RssGuid{Id: e.id, IsPermaLink: "false"},
			PubDate:     e.date.Format(time.RFC1123Z),
		})
	}
	b, err := marshalXML(doc, ch.size())
	if err != nil {
		return nil, fmt.Errorf("rss: %w", err)
	}
	return rssProfileEscapes(b), nil
}

// rssProfileEscapes rewrites "&amp;" and "&lt;" in b as hexadecimal
// character references, as the RSS Profile asks: RSS titles, categories, dc:creator
// and the channel description are plain text, and readers that take a
// "&lt;" in them for markup decide by how it was written. The meaning is
// unchanged everywhere: in XML text and attributes both spellings are the
// same character, and inside a description's CDATA every "&" of the
// html/template output starts a character reference, which means the same
// in either spelling. The two patterns cannot overlap, so replacing one
// after the other is the same as replacing both in one pass.
func rssProfileEscapes(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("&amp;"), []byte("&#x26;"))
	return bytes.ReplaceAll(b, []byte("&lt;"), []byte("&#x3C;"))
}
