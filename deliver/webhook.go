package deliver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
)

// Webhook headers.
const (
	// HeaderEvent names the event: "paper" (mode each) or "digest".
	HeaderEvent = "X-Paperfeed-Event"
	// HeaderDelivery is the message's stable key: the same message sent
	// twice (after a crash between the receiver's answer and the mark)
	// carries the same one, so a receiver can drop the second.
	HeaderDelivery = "X-Paperfeed-Delivery"
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the body
	// under the target's secret, when it has one.
	HeaderSignature = "X-Paperfeed-Signature"
)

// WebhookEvent is the JSON document a webhook receives.
type WebhookEvent struct {
	Event      string `json:"event"` // paper or digest
	ID         string `json:"id"`    // the same as HeaderDelivery
	Target     string `json:"target"`
	Topic      string `json:"topic"`
	TopicTitle string `json:"topic_title"`
	Day        string `json:"day,omitempty"` // a digest's day, YYYY-MM-DD
	// Feed is the topic's Atom feed, when the site's URL is known.
	Feed   string         `json:"feed,omitempty"`
	Papers []WebhookPaper `json:"papers"`
}

// WebhookPaper is a paper as a webhook receives it: every field the history
// keeps, under paper.Paper's JSON names, and what a feed item makes of it.
type WebhookPaper struct {
	*paper.Paper
	// ItemID is the paper's id in every feed; URL the page its items
	// link to; Date the date they carry.
	ItemID string    `json:"item_id"`
	URL    string    `json:"url"`
	Date   time.Time `json:"date"`
	// Tags are the item's terms beyond the topic's own: arXiv categories,
	// then AI keywords, without repeats.
	Tags     []string `json:"tags,omitempty"`
	ArxivURL string   `json:"arxiv_url,omitempty"`
	PDFURL   string   `json:"pdf_url,omitempty"`
	HubURL   string   `json:"hub_url,omitempty"`
}

func webhookPaper(p *paper.Paper) WebhookPaper {
	w := WebhookPaper{Paper: p, ItemID: p.AbsURL(), URL: p.PageURL(), Date: feed.Date(p),
		ArxivURL: p.AbsURL(), PDFURL: p.PDFURL(), HubURL: p.HubURL()}
	if w.ItemID == "" {
		w.ItemID = p.Link
	}
	seen := map[string]bool{}
	for _, list := range [][]string{p.Categories, p.AIKeywords} {
		for _, s := range list {
			s = clean(s)
			if k := strings.ToLower(s); s != "" && !seen[k] {
				seen[k] = true
				w.Tags = append(w.Tags, s)
			}
		}
	}
	return w
}

// webhook renders generic webhook messages: one JSON document a message,
// whatever its size (a receiver of ours has no platform limit).
type webhook struct{ t *Target }

func (h webhook) each(p *paper.Paper, topic string) (message, error) {
	key := eachKey(h.t.Name, p.ID)
	ev := WebhookEvent{Event: "paper", ID: key, Target: h.t.Name, Topic: topic, TopicTitle: h.t.title(topic),
		Feed: h.t.feedURL(topic), Papers: []WebhookPaper{webhookPaper(p)}}
	return h.message([]string{p.ID}, topic, ev)
}

func (h webhook) digest(day time.Time, groups []group) ([]message, error) {
	var out []message
	for _, g := range groups {
		key := digestKey(h.t.Name, g.topic, day, 0, 1)
		ev := WebhookEvent{Event: "digest", ID: key, Target: h.t.Name, Topic: g.topic, TopicTitle: h.t.title(g.topic),
			Day: dayKey(day), Feed: h.t.feedURL(g.topic)}
		for _, p := range g.papers {
			ev.Papers = append(ev.Papers, webhookPaper(p))
		}
		m, err := h.message(ids(g.papers), g.topic, ev)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (h webhook) message(ids []string, topic string, ev WebhookEvent) (message, error) {
	m, err := httpMessage(ids, topic, ev.ID, ev)
	if err != nil {
		return message{}, err
	}
	m.header.Set(HeaderEvent, ev.Event)
	m.header.Set(HeaderDelivery, ev.ID)
	if h.t.Secret != "" {
		m.header.Set(HeaderSignature, Sign(h.t.Secret, m.body))
	}
	return m, nil
}

// Sign is the X-Paperfeed-Signature of body under secret: "sha256=" and the
// hex HMAC-SHA256. A receiver computes it over the raw body it got and
// compares with hmac.Equal.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body) // a hash.Hash never returns an error
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
