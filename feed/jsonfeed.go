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
// BaseURL/feeds/<slug>.json, with "hubs": [{"type": "WebSub", "url": Hub}]
// when Site.Hub is set. An item's text is its content_html alone. The
// document is compact (readers ignore layout), one line ending in a newline,
// with "<", ">" and "&" written as themselves rather than as \u escapes.
func JSON(s Site, t Topic) ([]byte, error) {
	ch, err := prepare(s, t)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	return ch.json()
}

// json encodes the prepared topic as a JSON Feed (see JSON).
func (ch *channel) json() ([]byte, error) {
	f := jsonFeed{
		JSONFeed: &feeds.JSONFeed{
			Version:     jsonFeedVersion,
			Title:       ch.title,
			Language:    "en",
			HomePageUrl: ch.site.home(),
			FeedUrl:     ch.selfURL("json"),
			Description: ch.description,
			Authors:     []*feeds.JSONAuthor{{Name: ch.site.title}},
		},
		Items: make([]*feeds.JSONItem, 0, len(ch.entries)),
	}
	if ch.site.hub != "" {
		f.Hubs = []*feeds.JSONHub{{Type: "WebSub", Url: ch.site.hub}}
	}
	for i := range ch.entries {
		e := &ch.entries[i]
		item := &feeds.JSONItem{
			Id:            e.id,
			Url:           e.link,
			Title:         e.title,
			ContentHTML:   e.content,
			Image:         e.image,
			PublishedDate: &e.date,
			Tags:          e.terms,
		}
		if !e.published.IsZero() {
			item.PublishedDate, item.ModifiedDate = &e.published, &e.date
		}
		for _, a := range e.authors {
			item.Authors = append(item.Authors, &feeds.JSONAuthor{Name: a})
		}
		f.Items = append(f.Items, item)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("json: encode: %w", err)
	}
	return b.Bytes(), nil
}
