package feed

// This file keeps AppendJSON as it was before the JSON Feed was written by
// hand (appendJSONDoc): the same prepared channel marshalled by
// encoding/json through gorilla's feeds.JSONFeed and feeds.JSONItem. The
// tests hold the hand-written document to its bytes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gorilla/feeds"
)

// encAppendJSON is AppendJSON as it was before the JSON Feed was written by
// hand: gorilla's JSON structs through encoding/json. The tests hold
// AppendJSON to its bytes.
func encAppendJSON(dst []byte, s Site, t Topic) ([]byte, error) {
	sc := getScratch()
	defer sc.put()
	ch, err := prepare(s, t, sc)
	if err != nil {
		return dst, fmt.Errorf("json: %w", err)
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

// BenchmarkRender100Before renders as BenchmarkRender100 does with the
// encoding/json path AppendJSON replaced, for comparison in one run: JSON
// alone, and the three appends into reused buffers the app made per topic
// before AppendAll.
func BenchmarkRender100Before(b *testing.B) {
	tp := benchTopic(b, 100)
	b.Run("JSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encAppendJSON(nil, testSite, tp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Separate3", func(b *testing.B) {
		b.ReportAllocs()
		var atom, rss, js []byte
		for b.Loop() {
			var err error
			if atom, err = AppendAtom(atom[:0], testSite, tp); err != nil {
				b.Fatal(err)
			}
			if rss, err = AppendRSS(rss[:0], testSite, tp); err != nil {
				b.Fatal(err)
			}
			if js, err = encAppendJSON(js[:0], testSite, tp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
