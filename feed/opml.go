package feed

import (
	"encoding/xml"
	"fmt"
)

// opmlDoc is an OPML 2.0 subscription list; gorilla/feeds has no OPML.
type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Outline []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Type        string `xml:"type,attr"`
	Text        string `xml:"text,attr"`
	Title       string `xml:"title,attr"`
	Description string `xml:"description,attr,omitempty"`
	XMLURL      string `xml:"xmlUrl,attr"`
	HTMLURL     string `xml:"htmlUrl,attr"`
}

// OPML lists every topic's Atom feed as an OPML 2.0 document (feeds.opml),
// in the order given, then every topic's Atom daily digest in the same
// order, as separate outlines titled "<title> (daily)". Readers import it
// to subscribe to all topics at once. The topics' items are not read.
func OPML(s Site, topics []Topic) ([]byte, error) {
	st, err := checkSite(s)
	if err != nil {
		return nil, fmt.Errorf("opml: %w", err)
	}
	doc := opmlDoc{Version: "2.0", Title: st.title, Outline: make([]opmlOutline, 0, 2*len(topics))}
	daily := make([]opmlOutline, 0, len(topics))
	for i, t := range topics {
		slug, err := checkSlug(t.Slug)
		if err != nil {
			return nil, fmt.Errorf("opml: topic %d: %w", i, err)
		}
		title := collapse(t.Title)
		if title == "" {
			title = slug
		}
		o := opmlOutline{
			Type:        "rss", // OPML's name for any feed, Atom included
			Text:        title,
			Title:       title,
			Description: collapse(t.Description),
			XMLURL:      st.feedURL(slug, "atom"),
			HTMLURL:     st.topicURL(slug),
		}
		doc.Outline = append(doc.Outline, o)
		o.Text, o.Title = title+" (daily)", title+" (daily)"
		o.XMLURL = st.feedURL(slug, DailyPrefix+"atom")
		daily = append(daily, o)
	}
	doc.Outline = append(doc.Outline, daily...)
	b, err := marshalXML(doc, 0)
	if err != nil {
		return nil, fmt.Errorf("opml: %w", err)
	}
	return b, nil
}
