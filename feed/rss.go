package feed

import (
	"fmt"
	"slices"
	"time"

	"github.com/gorilla/feeds"
)

// RSS renders the topic as an RSS 2.0 feed served at
// BaseURL/feeds/<slug>.rss. The item guid is the same id as in the other
// formats, marked isPermaLink="false" since the item links elsewhere.
//
// The channel is this package's rather than feeds.RssFeedXml because
// readers and the W3C validator want what that struct cannot say: an
// atom:link rel="self" on the channel, dc:creator for author names (RSS
// <author> must be an e-mail address), one <category> per term, and no empty
// <link>. The guid and content:encoded elements are gorilla's feeds.RssGuid
// and feeds.RssContent.
//
// "&" and "<" are written as the hexadecimal references &#x26; and &#x3C;
// everywhere, as the RSS Profile asks: in RSS a plain-text element (title,
// channel description) holding "&lt;" is ambiguous between text and markup,
// and readers decide by how it was written. Inside the content:encoded CDATA
// the HTML's own "&amp;" and "&lt;" are respelled the same way; every "&" of
// that HTML starts a character reference, so its meaning is unchanged.
func RSS(s Site, t Topic) ([]byte, error) {
	return AppendRSS(nil, s, t)
}

// AppendRSS appends what RSS renders to dst and returns the extended slice:
// a caller rendering many feeds reuses one buffer instead of allocating a
// copy of each.
func AppendRSS(dst []byte, s Site, t Topic) ([]byte, error) {
	sc := getScratch()
	defer sc.put()
	ch, err := prepare(s, t, sc)
	if err != nil {
		return dst, fmt.Errorf("rss: %w", err)
	}
	sc.out = appendRSSDoc(slices.Grow(sc.out[:0], sc.outSize()), sc, ch)
	return append(dst, sc.out...), nil
}

// appendRSSDoc appends the RSS document of ch, prepared in sc, to buf.
func appendRSSDoc(buf []byte, sc *scratch, ch *channel) []byte {
	desc := ch.description
	if desc == "" {
		desc = ch.title // RSS requires a description
	}
	w := xmlWriter{buf: buf, rss: true}
	w.buf = append(w.buf, xmlHeader...)
	w.startTag("rss",
		attr{"version", "2.0"},
		attr{"xmlns:atom", "http://www.w3.org/2005/Atom"},
		attr{"xmlns:dc", "http://purl.org/dc/elements/1.1/"},
		attr{"xmlns:content", "http://purl.org/rss/1.0/modules/content/"})
	w.depth++
	w.open("channel")
	w.text("title", ch.title)
	w.text("link", ch.site.home())
	w.text("description", desc)
	w.text("language", "en")
	w.date("lastBuildDate", ch.updated, time.RFC1123Z)
	w.text("atom:link", "", attr{"href", ch.site.feedURL(ch.slug, "rss")}, attr{"rel", "self"}, attr{"type", "application/rss+xml"})
	for i := range ch.entries {
		e := &ch.entries[i]
		w.open("item")
		w.text("title", e.title)
		if e.link != "" {
			w.text("link", e.link)
		}
		// Readers treat an item's description as HTML: escape the plain
		// abstract so that "<" and "&" in it stay text.
		sc.tmp = appendHTML(sc.tmp[:0], sc.textOf(e.summary))
		w.textBytes("description", sc.tmp)
		w.rssContent(sc.textOf(e.content))
		if authors := sc.strsOf(e.authors); len(authors) > 0 {
			w.line()
			w.startTag("dc:creator")
			for i, a := range authors {
				if i > 0 {
					w.buf = append(w.buf, ", "...)
				}
				w.buf = appendXMLText(w.buf, a, true)
			}
			w.endTag("dc:creator")
		}
		for _, c := range sc.strsOf(e.terms) {
			w.text("category", c)
		}
		w.rssGUID(feeds.RssGuid{Id: e.id, IsPermaLink: "false"})
		w.date("pubDate", e.date, time.RFC1123Z)
		w.close("item")
	}
	w.close("channel")
	w.close("rss")
	return append(w.buf, '\n')
}

// rssContent writes html as encoding/xml writes a feeds.RssContent holding
// it, with the RSS Profile's respelling.
func (w *xmlWriter) rssContent(html []byte) {
	w.cdata("content:encoded", html)
}

// rssGUID writes g as encoding/xml writes it.
func (w *xmlWriter) rssGUID(g feeds.RssGuid) {
	if g.IsPermaLink == "" {
		w.text("guid", g.Id)
		return
	}
	w.text("guid", g.Id, attr{"isPermaLink", g.IsPermaLink})
}
