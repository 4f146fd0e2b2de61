package feed

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gorilla/feeds"
)

// jsonFeedVersion is the JSON Feed version this package writes.
const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// JSON renders the topic as a JSON Feed 1.1 document served at
// BaseURL/feeds/<slug>.json. Every item has content_html and summary. The
// document is compact (readers ignore layout), one line ending in a newline,
// with "<", ">" and "&" written as themselves.
//
// The bytes are those encoding/json's Encoder (SetEscapeHTML(false)) writes
// for a feeds.JSONFeed whose "items" is always present (JSON Feed 1.1
// requires the array; gorilla's field omits it when empty) holding
// feeds.JSONItem values; see appendJSONDoc.
func JSON(s Site, t Topic) ([]byte, error) {
	return AppendJSON(nil, s, t)
}

// AppendJSON appends what JSON renders to dst and returns the extended slice:
// a caller rendering many feeds reuses one buffer instead of allocating a
// copy of each. On error dst is returned as given.
func AppendJSON(dst []byte, s Site, t Topic) ([]byte, error) {
	sc := getScratch()
	defer sc.put()
	ch, err := prepare(s, t, sc)
	if err != nil {
		return dst, fmt.Errorf("json: %w", err)
	}
	out, err := appendJSONDoc(slices.Grow(sc.out[:0], sc.outSize()), sc, ch)
	sc.out = out[:0]
	if err != nil {
		return dst, err
	}
	return append(dst, out...), nil
}

// appendJSONDoc appends the JSON Feed document of ch, prepared in sc, to buf.
// On error it returns buf unextended.
//
// The feed-level object is gorilla's feeds.JSONFeed, written field by field
// in its declaration order with its json tags' names and omitempty rules.
// The items are written the same way as the feeds.JSONItem values they used
// to be (id, url, title, content_html, summary, image, date_published,
// authors, tags) but straight from the prepared entries: building a
// JSONItem would copy every content and summary out of the scratch into a
// string and allocate an author list per item, which was most of what made
// this format the slowest of the three.
func appendJSONDoc(buf []byte, sc *scratch, ch *channel) ([]byte, error) {
	start := len(buf)
	for i := range ch.entries {
		if y := ch.entries[i].date.Year(); y < 0 || y > 9999 {
			return buf[:start], fmt.Errorf("json: encode: %w", jsonTimeError(ch.entries[i].date))
		}
	}
	b := appendJSONFeedHead(buf, &feeds.JSONFeed{
		Version:     jsonFeedVersion,
		Title:       ch.title,
		Language:    "en",
		HomePageUrl: ch.site.home(),
		FeedUrl:     ch.site.feedURL(ch.slug, "json"),
		Description: ch.description,
		Authors:     []*feeds.JSONAuthor{{Name: ch.site.title}},
	})
	b = append(b, `,"items":[`...)
	for i := range ch.entries {
		e := &ch.entries[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, e.id)
		if e.link != "" {
			b = append(b, `,"url":`...)
			b = appendJSONString(b, e.link)
		}
		if e.title != "" {
			b = append(b, `,"title":`...)
			b = appendJSONString(b, e.title)
		}
		if e.content.end > e.content.start {
			b = append(b, `,"content_html":`...)
			b = appendJSONString(b, sc.textOf(e.content))
		}
		if e.summary.end > e.summary.start {
			b = append(b, `,"summary":`...)
			b = appendJSONString(b, sc.textOf(e.summary))
		}
		if e.image != "" {
			b = append(b, `,"image":`...)
			b = appendJSONString(b, e.image)
		}
		b = append(b, `,"date_published":"`...)
		b = e.date.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
		if authors := sc.strsOf(e.authors); len(authors) > 0 {
			b = append(b, `,"authors":[`...)
			for j, a := range authors {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONAuthor(b, feeds.JSONAuthor{Name: a})
			}
			b = append(b, ']')
		}
		if terms := sc.strsOf(e.terms); len(terms) > 0 {
			b = append(b, `,"tags":[`...)
			for j, c := range terms {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, c)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, "]}\n"...), nil
}

// jsonTimeError is the error encoding/json gives for a date it cannot write
// (a year outside 0 to 9999), taken from encoding/json itself so that the
// message stays the one it always was.
func jsonTimeError(t time.Time) error {
	if _, err := json.Marshal(&t); err != nil {
		return err
	}
	return fmt.Errorf("date %s: year outside of range [0,9999]", t.Format(time.RFC3339))
}

// appendJSONFeedHead appends f as encoding/json writes it without its
// closing brace and without Items, which the caller writes. Fields this
// package never sets (user_comment, next_url, icon, favicon, author,
// expired, hubs) are left out as omitempty leaves them out when empty; the
// tests keep that true.
func appendJSONFeedHead(b []byte, f *feeds.JSONFeed) []byte {
	b = append(b, `{"version":`...)
	b = appendJSONString(b, f.Version)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, f.Title)
	for _, kv := range [...]struct{ key, value string }{
		{`,"language":`, f.Language},
		{`,"home_page_url":`, f.HomePageUrl},
		{`,"feed_url":`, f.FeedUrl},
		{`,"description":`, f.Description},
	} {
		if kv.value != "" {
			b = append(b, kv.key...)
			b = appendJSONString(b, kv.value)
		}
	}
	if len(f.Authors) > 0 {
		b = append(b, `,"authors":[`...)
		for i, a := range f.Authors {
			if i > 0 {
				b = append(b, ',')
			}
			if a == nil {
				b = append(b, "null"...)
				continue
			}
			b = appendJSONAuthor(b, *a)
		}
		b = append(b, ']')
	}
	return b
}

// appendJSONAuthor appends a as encoding/json writes a feeds.JSONAuthor.
func appendJSONAuthor(b []byte, a feeds.JSONAuthor) []byte {
	b = append(b, '{')
	sep := false
	for _, kv := range [...]struct{ key, value string }{
		{`"name":`, a.Name}, {`"url":`, a.Url}, {`"avatar":`, a.Avatar},
	} {
		if kv.value == "" {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		b = append(b, kv.key...)
		b = appendJSONString(b, kv.value)
		sep = true
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string exactly as encoding/json writes
// it with SetEscapeHTML(false): '"' and '\\' escaped with a backslash,
// control characters as \b, \f, \n, \r, \t or \u00XX, invalid UTF-8 as
// \ufffd, and U+2028 and U+2029 as \u2028 and \u2029; everything else,
// "<", ">" and "&" included, as itself.
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip eight plain bytes at a time: most of a feed is ASCII text.
		for i+8 <= len(s) && jsonPlain8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		// At most utf8.UTFMax bytes become a string: the conversion stays
		// on the stack.
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonPlain8 reports whether none of the eight bytes in x needs escaping or
// decoding: none is below 0x20, '"', '\\' or above 0x7F. (A false "no" is
// harmless: the byte loop then looks at them one by one.)
func jsonPlain8(x uint64) bool {
	bad := x | (x-0x20*ones8)&^x | hasByte8(x, '"') | hasByte8(x, '\\')
	return bad&high8 == 0
}
