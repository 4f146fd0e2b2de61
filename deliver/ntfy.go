package deliver

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// ntfy's limits: a message body over its message-size-limit (4,096 bytes
// by default, on ntfy.sh too) becomes an attachment instead of text, so
// bodies are cut below it; a title is kept to a phone's notification.
const (
	ntfyMaxBody  = 4000
	ntfyMaxTitle = 250
	// ntfyTag is the emoji tag of every message (ntfy shows it before the
	// title).
	ntfyTag = "page_facing_up"
)

// ntfy renders ntfy messages: the text as the body, the rest in headers.
type ntfy struct{ t *Target }

func (n ntfy) each(p *paper.Paper, topic string) (message, error) {
	v := viewOf(p)
	var lines []string
	if v.authors != "" {
		lines = append(lines, cut(v.authors, 600))
	}
	if v.abstract != "" {
		lines = append(lines, v.abstract)
	}
	body := strings.Join(lines, "\n\n")
	if body == "" {
		body = v.title
	}
	return n.message([]string{p.ID}, topic, eachKey(n.t.Name, p.ID), v.title, v.page, cutBytes(body, ntfyMaxBody)), nil
}

func (n ntfy) digest(day time.Time, groups []group) ([]message, error) {
	var out []message
	for _, g := range groups {
		// Each paper is a line with its title and a line with its page;
		// as many as fit go in one message.
		var bodies []string
		var runs [][]string
		var b strings.Builder
		var run []string
		for _, p := range g.papers {
			v := viewOf(p)
			entry := "• " + cutBytes(v.title, 300)
			if v.page != "" {
				entry += "\n  " + v.page
			}
			if b.Len() > 0 && b.Len()+1+len(entry) > ntfyMaxBody {
				bodies, runs = append(bodies, b.String()), append(runs, run)
				b.Reset()
				run = nil
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(entry)
			run = append(run, p.ID)
		}
		if b.Len() > 0 {
			bodies, runs = append(bodies, b.String()), append(runs, run)
		}
		for i, body := range bodies {
			title := fmt.Sprintf("%s: %s, %s%s", n.t.title(g.topic), plural(len(g.papers), "new paper"), dayLabel(day), part(i, len(bodies)))
			out = append(out, n.message(runs[i], g.topic, digestKey(n.t.Name, g.topic, day, i, len(bodies)), title, n.t.feedURL(g.topic), body))
		}
	}
	return out, nil
}

func (n ntfy) message(ids []string, topic, key, title, click, body string) message {
	h := http.Header{
		"Content-Type": {"text/plain; charset=utf-8"},
		"Title":        {headerText(cut(title, ntfyMaxTitle))},
		"Tags":         {ntfyTag + "," + topic},
	}
	if click != "" {
		h.Set("Click", click)
	}
	return message{ids: ids, topic: topic, key: key, body: []byte(body), header: h}
}

// headerText is s as an HTTP header value: as is when it is printable
// ASCII, else RFC 2047 encoded (ntfy decodes it), since header bytes
// beyond ASCII reach servers mangled.
func headerText(s string) string {
	for _, r := range s {
		if r < ' ' || r > '~' {
			return mime.BEncoding.Encode("utf-8", s)
		}
	}
	return s
}
