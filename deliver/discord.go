package deliver

import (
	"fmt"
	"strings"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// Discord's webhook limits, in characters (counted as UTF-16 units, see
// units). A message over any of them is refused with a 400.
const (
	discordMaxContent     = 2000
	discordMaxEmbeds      = 10
	discordMaxTitle       = 256
	discordMaxDescription = 4096
	discordMaxFooter      = 2048
	// discordMaxTotal bounds all the embeds of a message together: their
	// titles, descriptions, footers (and fields and author names, which
	// these messages do not use).
	discordMaxTotal = 6000
	// discordFooterMax bounds the footer, which holds a short fact line.
	discordFooterMax = 300
	// discordAuthors bounds the authors line of a description.
	discordAuthors = 600
	// discordDigestAbstract is an abstract's share in a digest embed.
	discordDigestAbstract = 350
)

type discordMessage struct {
	Content         string         `json:"content,omitempty"`
	Embeds          []discordEmbed `json:"embeds"`
	AllowedMentions discordMention `json:"allowed_mentions"`
}

// discordMention lists what the message may ping: nothing, so an
// "@everyone" in a title stays text.
type discordMention struct {
	Parse []string `json:"parse"`
}

type discordEmbed struct {
	Title       string         `json:"title,omitempty"`
	URL         string         `json:"url,omitempty"`
	Description string         `json:"description,omitempty"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordFooter struct {
	Text string `json:"text"`
}

// size is what the embed counts towards discordMaxTotal.
func (e *discordEmbed) size() int {
	n := units(e.Title) + units(e.Description)
	if e.Footer != nil {
		n += units(e.Footer.Text)
	}
	return n
}

// discord renders Discord webhook messages.
type discord struct{ t *Target }

func (d discord) each(p *paper.Paper, topic string) (message, error) {
	v := viewOf(p)
	e := discordHead(&v, d.t.title(topic))
	budget := min(discordMaxDescription, discordMaxTotal-e.size())
	e.Description = discordDescription(&v, v.abstract, budget)
	m := discordMessage{Embeds: []discordEmbed{e}, AllowedMentions: discordMention{Parse: []string{}}}
	return httpMessage([]string{p.ID}, topic, eachKey(d.t.Name, p.ID), m)
}

func (d discord) digest(day time.Time, groups []group) ([]message, error) {
	var out []message
	for _, g := range groups {
		title := d.t.title(g.topic)
		parts := chunks(g.papers, discordMaxEmbeds)
		for i, papers := range parts {
			content := fmt.Sprintf("**%s**, %s: %s%s", discordMarkdown(title), dayLabel(day), plural(len(g.papers), "new paper"), part(i, len(parts)))
			if u := d.t.feedURL(g.topic); u != "" {
				content += " · <" + u + ">"
			}
			m := discordMessage{Content: cut(content, discordMaxContent), AllowedMentions: discordMention{Parse: []string{}}}
			views := make([]view, len(papers))
			used := 0
			for j, p := range papers {
				views[j] = viewOf(p)
				m.Embeds = append(m.Embeds, discordHead(&views[j], title))
				used += m.Embeds[j].size()
			}
			// Titles and footers are bounded (10 × 556 < 6000): the
			// descriptions share what is left of the message's total.
			share := min(discordMaxDescription, (discordMaxTotal-used)/len(papers))
			for j := range m.Embeds {
				m.Embeds[j].Description = discordDescription(&views[j], cut(views[j].abstract, discordDigestAbstract), share)
			}
			msg, err := httpMessage(ids(papers), g.topic, digestKey(d.t.Name, g.topic, day, i, len(parts)), m)
			if err != nil {
				return nil, err
			}
			out = append(out, msg)
		}
	}
	return out, nil
}

// discordHead is a paper's embed without its description: the title
// linking to the paper, the date, and a footer of facts.
func discordHead(v *view, topic string) discordEmbed {
	e := discordEmbed{
		Title:  fit(v.title, discordMaxTitle, discordMarkdown),
		URL:    v.page,
		Footer: &discordFooter{Text: cut(strings.Join(v.facts(topic), " · "), discordFooterMax)},
	}
	if !v.date.IsZero() {
		e.Timestamp = v.date.UTC().Format(time.RFC3339)
	}
	return e
}

// discordDescription is the authors, the abstract and the links, within max
// units: the abstract is cut to what the others leave, and the links go
// when even they do not fit.
func discordDescription(v *view, abstract string, max int) string {
	authors := ""
	if v.authors != "" {
		authors = "*" + fit(v.authors, discordAuthors, discordMarkdown) + "*"
	}
	var links []string
	for _, l := range v.links() {
		links = append(links, fmt.Sprintf("[%s](%s)", l.label, l.url))
	}
	linkLine := strings.Join(links, " · ")
	parts := func(abs string) string {
		var out []string
		for _, s := range []string{authors, abs, linkLine} {
			if s != "" {
				out = append(out, s)
			}
		}
		return strings.Join(out, "\n\n")
	}
	fixed := units(parts(""))
	if abstract != "" {
		fixed += 2 // the blank line before the abstract
	}
	if fixed > max {
		linkLine = ""
		return cut(parts(""), max)
	}
	if abstract != "" {
		abstract = fit(abstract, max-fixed, discordMarkdown)
	}
	return parts(abstract)
}
