package deliver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// Slack's Block Kit limits, in characters (counted here as UTF-16 units,
// see units): a message is refused whole (invalid_blocks,
// msg_blocks_too_long) when one is passed, so texts are cut before sending.
const (
	slackMaxBlocks  = 50
	slackMaxSection = 3000 // a section's text
	slackMaxHeader  = 150  // a header's plain text
	slackMaxContext = 3000 // a context element's text
	slackMaxText    = 3000 // the top-level fallback text (Slack cuts it at 40,000; a notification shows far less)
	// slackTitle and slackAuthors bound a paper's first section, which
	// holds both; the abstract has a section of its own.
	slackTitle   = 500
	slackAuthors = 1000
	// slackDigestAbstract is an abstract's share in a digest, where a
	// paper is a section and a context line.
	slackDigestAbstract = 300
	// slackDigestPapers is how many papers a digest message holds: a
	// header and an intro line, then two blocks a paper, within 50.
	slackDigestPapers = (slackMaxBlocks - 2) / 2
)

type slackMessage struct {
	Text        string       `json:"text"`
	Blocks      []slackBlock `json:"blocks"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"` // mrkdwn or plain_text
	Text string `json:"text"`
}

func mrkdwnBlock(typ, text string) slackBlock {
	if typ == "context" {
		return slackBlock{Type: typ, Elements: []slackText{{Type: "mrkdwn", Text: text}}}
	}
	return slackBlock{Type: typ, Text: &slackText{Type: "mrkdwn", Text: text}}
}

// slack renders Slack incoming-webhook messages.
type slack struct{ t *Target }

func (s slack) each(p *paper.Paper, topic string) (message, error) {
	v := viewOf(p)
	title := s.t.title(topic)
	blocks := []slackBlock{mrkdwnBlock("section", slackHead(&v, slackTitle, slackAuthors, ""))}
	if v.abstract != "" {
		blocks = append(blocks, mrkdwnBlock("section", fit(v.abstract, slackMaxSection, mrkdwn)))
	}
	blocks = append(blocks, mrkdwnBlock("context", slackContext(&v, title)))
	m := slackMessage{
		Text:   fit(fmt.Sprintf("New in %s: %s", title, v.title), slackMaxText, mrkdwn),
		Blocks: blocks,
	}
	return httpMessage([]string{p.ID}, topic, eachKey(s.t.Name, p.ID), m)
}

func (s slack) digest(day time.Time, groups []group) ([]message, error) {
	var out []message
	for _, g := range groups {
		title := s.t.title(g.topic)
		parts := chunks(g.papers, slackDigestPapers)
		for i, papers := range parts {
			head := fmt.Sprintf("%s, %s: %s%s", title, dayLabel(day), plural(len(g.papers), "new paper"), part(i, len(parts)))
			intro := mrkdwn(fmt.Sprintf("paperfeed digest of %s", title))
			if u := s.t.feedURL(g.topic); u != "" {
				intro += fmt.Sprintf(" · <%s|feed>", slackURL(u))
			}
			blocks := []slackBlock{
				{Type: "header", Text: &slackText{Type: "plain_text", Text: cut(head, slackMaxHeader)}},
				mrkdwnBlock("context", cut(intro, slackMaxContext)),
			}
			for _, p := range papers {
				v := viewOf(p)
				blocks = append(blocks,
					mrkdwnBlock("section", slackHead(&v, slackTitle, slackAuthors, cut(v.abstract, slackDigestAbstract))),
					mrkdwnBlock("context", slackContext(&v, title)))
			}
			m := slackMessage{Text: fit(head, slackMaxText, mrkdwn), Blocks: blocks}
			msg, err := httpMessage(ids(papers), g.topic, digestKey(s.t.Name, g.topic, day, i, len(parts)), m)
			if err != nil {
				return nil, err
			}
			out = append(out, msg)
		}
	}
	return out, nil
}

// slackHead is a paper's section: its title in bold as a link, its
// authors, and (in a digest) its abstract, cut, within a section's limit.
func slackHead(v *view, titleMax, authorsMax int, abstract string) string {
	title := "*" + fit(v.title, titleMax, mrkdwn) + "*"
	if v.page != "" {
		title = fmt.Sprintf("*<%s|%s>*", slackURL(v.page), fit(v.title, titleMax, mrkdwn))
	}
	lines := []string{title}
	if v.authors != "" {
		lines = append(lines, fit(v.authors, authorsMax, mrkdwn))
	}
	head := strings.Join(lines, "\n")
	if abstract != "" {
		// The title and authors are bounded well below the limit; the
		// abstract gets what is left.
		head += "\n" + fit(abstract, slackMaxSection-units(head)-1, mrkdwn)
	}
	return head
}

// slackContext is a paper's context line: the topic, sources, counts, then
// links, within a context element's limit.
func slackContext(v *view, topic string) string {
	var links []string
	for _, l := range v.links() {
		links = append(links, fmt.Sprintf("<%s|%s>", slackURL(l.url), l.label))
	}
	tail := strings.Join(links, " · ")
	if tail != "" {
		tail = " · " + tail
	}
	facts := fit(strings.Join(v.facts(topic), " · "), slackMaxContext/2, mrkdwn)
	if units(facts)+units(tail) > slackMaxContext {
		tail = ""
	}
	return facts + tail
}

// httpMessage is a message whose body is m as JSON.
func httpMessage(ids []string, topic, key string, m any) (message, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<" stays one byte, as the platforms read it
	if err := enc.Encode(m); err != nil {
		return message{}, fmt.Errorf("encode message: %w", err)
	}
	body := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return message{ids: ids, topic: topic, key: key, body: body,
		header: http.Header{"Content-Type": {"application/json"}}}, nil
}

// eachKey is the stable key of the message of one paper to a target.
func eachKey(target, id string) string { return target + "/" + id }

// digestKey is the stable key of a digest message: the target, topic (none
// for an e-mail of every topic) and day, and its part when the digest is
// split.
func digestKey(target, topic string, day time.Time, i, n int) string {
	k := target + "/" + dayKey(day)
	if topic != "" {
		k = target + "/" + topic + "/" + dayKey(day)
	}
	if n > 1 {
		k += fmt.Sprintf("/%d", i+1)
	}
	return k
}
