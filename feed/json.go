package feed

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gorilla/feeds"
)

// jsonFeedVersion is the JSON Feed version this package writes.
const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// jsonFeed wraps feeds.JSONFeed only to write "items" even when there are
// none: JSON Feed 1.1 requires the array and gorilla's field omits it when
// empty. The outer field shadows the embedded one.
type jsonFeed struct {
	*feeds.JSONFeed
	Items []*feeds.JSONItem `json:"items"`
}

// JSON renders the topic as a JSON Feed 1.1 document served at
// BaseURL/feeds/<slug>.json. Every item has content_html and summary. The
// document is compact (readers ignore layout), one line ending in a newline,
// with "<", ">" and "&" written as themselves.
func JSON(s Site, t Topic) ([]byte, error) {
	return AppendJSON(nil, s, t)
}

// AppendJSON appends what JSON renders to dst and returns the extended slice:
// a caller rendering many feeds reuses one buffer instead of allocating a
// copy of each.
func AppendJSON(dst []byte, s Site, t Topic) ([]byte, error) {
	sc := getScratch()
	defer sc.put()
	ch, err := prepare(s, t, sc)
	if err != nil {
		return dst, fmt.Errorf("json: %w", err)
	}
	f := jsonFeed{
		JSONFeed: &feeds.JSONFeed{
			Version:     jsonFeedVersion,
			Title:       ch.title,
			Language:    "en",
			HomePageUrl: ch.site.home(),
			FeedUrl:     ch.site.feedURL(ch.slug, "json"),
			Description: ch.description,
			Authors:     []*feeds.JSONAuthor{{Name: ch.site.title}},
		},
		Items: make([]*feeds.JSONItem, len(ch.entries)),
	}
	// One string holds every summary and content, and one array every item
	// and author, rather than one allocation each.
	text := string(sc.text)
	items := make([]feeds.JSONItem, len(ch.entries))
	n := 0
	for i := range ch.entries {
		n += ch.entries[i].authors.end - ch.entries[i].authors.start
	}
	// authors is never appended beyond its capacity: the pointers into it
	// stay valid.
	authors := make([]feeds.JSONAuthor, 0, n)
	authorPtrs := make([]*feeds.JSONAuthor, 0, n)
	for i := range ch.entries {
		e := &ch.entries[i]
		item := &items[i]
		*item = feeds.JSONItem{
			Id:            e.id,
			Url:           e.link,
			Title:         e.title,
			ContentHTML:   text[e.content.start:e.content.end],
			Summary:       text[e.summary.start:e.summary.end],
			Image:         e.image,
			PublishedDate: &e.date,
			Tags:          sc.strsOf(e.terms),
		}
		if len(item.Tags) == 0 {
			item.Tags = nil
		}
		first := len(authorPtrs)
		for _, a := range sc.strsOf(e.authors) {
			authors = append(authors, feeds.JSONAuthor{Name: a})
			authorPtrs = append(authorPtrs, &authors[len(authors)-1])
		}
		if len(authorPtrs) > first {
			item.Authors = authorPtrs[first:len(authorPtrs):len(authorPtrs)]
		}
		f.Items[i] = item
	}
	// The encoder writes the document in one Write, straight after dst.
	b := bytes.NewBuffer(dst)
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return dst, fmt.Errorf("json: encode: %w", err)
	}
	return b.Bytes(), nil
}
