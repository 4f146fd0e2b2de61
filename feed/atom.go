package feed

import (
	"fmt"
	"slices"
	"time"

	"github.com/gorilla/feeds"
)

// Atom renders the topic as an Atom 1.0 feed served at
// BaseURL/feeds/<slug>.atom, which is also the feed's id.
//
// The document is the one encoding/xml writes for gorilla's Atom structs
// (feeds.AtomLink, feeds.AtomAuthor, feeds.AtomSummary, feeds.AtomContent)
// and this package's own feed, entry and category elements, which gorilla's
// cannot express: a feed needs both rel="self" and rel="alternate" links
// where feeds.AtomFeed holds one, and an entry several authors and term
// categories where feeds.AtomEntry holds one author and a text category.
func Atom(s Site, t Topic) ([]byte, error) {
	return AppendAtom(nil, s, t)
}

// AppendAtom appends what Atom renders to dst and returns the extended slice:
// a caller rendering many feeds reuses one buffer instead of allocating a
// copy of each.
func AppendAtom(dst []byte, s Site, t Topic) ([]byte, error) {
	sc := getScratch()
	defer sc.put()
	ch, err := prepare(s, t, sc)
	if err != nil {
		return dst, fmt.Errorf("atom: %w", err)
	}
	sc.out = appendAtomDoc(slices.Grow(sc.out[:0], sc.outSize()), sc, ch)
	return append(dst, sc.out...), nil
}

// appendAtomDoc appends the Atom document of ch, prepared in sc, to buf.
func appendAtomDoc(buf []byte, sc *scratch, ch *channel) []byte {
	self := ch.site.feedURL(ch.slug, "atom")
	w := xmlWriter{buf: buf}
	w.buf = append(w.buf, xmlHeader...)
	w.startTag("feed", attr{"xmlns", "http://www.w3.org/2005/Atom"}, attr{"xml:lang", "en"})
	w.depth++
	w.text("title", ch.title)
	if ch.description != "" {
		w.text("subtitle", ch.description)
	}
	w.text("id", self)
	w.date("updated", ch.updated, time.RFC3339)
	w.atomLink(feeds.AtomLink{Href: self, Rel: "self", Type: "application/atom+xml"})
	w.atomLink(feeds.AtomLink{Href: ch.site.home(), Rel: "alternate", Type: "text/html"})
	w.atomAuthor(feeds.AtomPerson{Name: ch.site.title})
	for i := range ch.entries {
		e := &ch.entries[i]
		w.open("entry")
		w.text("title", e.title)
		w.text("id", e.id)
		if e.link != "" {
			w.atomLink(feeds.AtomLink{Href: e.link, Rel: "alternate", Type: "text/html"})
		}
		w.date("updated", e.date, time.RFC3339)
		w.date("published", e.date, time.RFC3339)
		for _, a := range sc.strsOf(e.authors) {
			w.atomAuthor(feeds.AtomPerson{Name: a})
		}
		for _, c := range sc.strsOf(e.terms) {
			w.text("category", "", attr{"term", c})
		}
		if e.summary.end > e.summary.start {
			w.textBytes("summary", sc.textOf(e.summary), attr{"type", "text"})
		}
		w.textBytes("content", sc.textOf(e.content), attr{"type", "html"})
		w.close("entry")
	}
	w.close("feed")
	return append(w.buf, '\n')
}

// atomLink writes l as encoding/xml writes a feeds.AtomLink.
func (w *xmlWriter) atomLink(l feeds.AtomLink) {
	w.line()
	w.buf = append(w.buf, "<link"...)
	for _, a := range [...]attr{{"href", l.Href}, {"rel", l.Rel}, {"type", l.Type}, {"length", l.Length}} {
		if a.value != "" || a.name == "href" {
			w.buf = append(w.buf, ' ')
			w.buf = append(w.buf, a.name...)
			w.buf = append(w.buf, `="`...)
			w.buf = appendXMLText(w.buf, a.value, w.rss)
			w.buf = append(w.buf, '"')
		}
	}
	w.buf = append(w.buf, "></link>"...)
}

// atomAuthor writes p as encoding/xml writes a feeds.AtomAuthor.
func (w *xmlWriter) atomAuthor(p feeds.AtomPerson) {
	if p == (feeds.AtomPerson{}) {
		w.text("author", "")
		return
	}
	w.open("author")
	for _, f := range [...]attr{{"name", p.Name}, {"uri", p.Uri}, {"email", p.Email}} {
		if f.value != "" {
			w.text(f.name, f.value)
		}
	}
	w.close("author")
}

// date writes an element holding t in layout.
func (w *xmlWriter) date(name string, t time.Time, layout string) {
	w.line()
	w.startTag(name)
	w.buf = t.AppendFormat(w.buf, layout)
	w.endTag(name)
}
