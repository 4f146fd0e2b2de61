package deliver

import (
	"fmt"
	"html/template"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/paperfeed/paperfeed/paper"
)

// Bounds on an e-mail's texts: mail has no hard limit, but a digest of a
// busy day should stay a message one reads.
const (
	emailSubject        = 200
	emailAbstract       = 10000
	emailDigestAbstract = 1000
)

// email renders e-mails: a plain-text and an HTML part, one section a
// topic.
type email struct {
	t      *Target
	now    func() time.Time
	domain string // of the From address, for Message-IDs
}

func newEmail(t *Target, now func() time.Time) email {
	e := email{t: t, now: now, domain: "paperfeed.invalid"}
	if a, err := mail.ParseAddress(t.From); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			e.domain = d
		}
	}
	return e
}

// emailSection is one topic of an e-mail.
type emailSection struct {
	Title  string
	Feed   string
	Papers []emailPaper
}

type emailPaper struct {
	Title, Page, Authors, Abstract, Facts string
	Links                                 []emailLink
}

type emailLink struct{ Label, URL string }

type emailData struct {
	Heading  string
	Sections []emailSection
	Footer   string
}

var emailHTML = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Heading}}</title></head>
<body style="font-family: sans-serif; max-width: 42em; line-height: 1.4">
<h1 style="font-size: 1.3em">{{.Heading}}</h1>
{{range .Sections}}<h2 style="font-size: 1.15em; border-bottom: 1px solid #ccc">{{.Title}}{{with .Feed}} <small>(<a href="{{.}}">feed</a>)</small>{{end}}</h2>
{{range .Papers}}<h3 style="font-size: 1em; margin-bottom: 0.2em">{{if .Page}}<a href="{{.Page}}">{{.Title}}</a>{{else}}{{.Title}}{{end}}</h3>
{{with .Authors}}<p style="margin: 0; color: #555"><i>{{.}}</i></p>
{{end}}{{with .Abstract}}<p style="margin: 0.3em 0">{{.}}</p>
{{end}}<p style="margin: 0 0 1em; color: #555; font-size: 0.9em">{{.Facts}}{{range .Links}} · <a href="{{.URL}}">{{.Label}}</a>{{end}}</p>
{{end}}{{end}}<hr>
<p style="color: #777; font-size: 0.85em">{{.Footer}}</p>
</body></html>
`))

func (e email) section(topic string, papers []*paper.Paper, abstract int) emailSection {
	s := emailSection{Title: e.t.title(topic), Feed: e.t.feedURL(topic)}
	for _, p := range papers {
		v := viewOf(p)
		ep := emailPaper{Title: v.title, Page: v.page, Authors: v.authors, Abstract: cut(v.abstract, abstract),
			Facts: strings.Join(v.facts(s.Title), " · ")}
		for _, l := range v.links() {
			ep.Links = append(ep.Links, emailLink{l.label, l.url})
		}
		s.Papers = append(s.Papers, ep)
	}
	return s
}

func (e email) each(p *paper.Paper, topic string) (message, error) {
	v := viewOf(p)
	d := emailData{
		Heading:  fmt.Sprintf("New in %s", e.t.title(topic)),
		Sections: []emailSection{e.section(topic, []*paper.Paper{p}, emailAbstract)},
		Footer:   e.footer(),
	}
	subject := "[paperfeed] " + v.title
	id := fmt.Sprintf("%s.%s.paperfeed@%s", atext(p.ID), e.t.Name, e.domain)
	return e.message([]string{p.ID}, topic, eachKey(e.t.Name, p.ID), id, subject, d)
}

// digest is one e-mail for every topic: a section each.
func (e email) digest(day time.Time, groups []group) ([]message, error) {
	d := emailData{Heading: "paperfeed digest, " + dayLabel(day), Footer: e.footer()}
	var all []string
	var titles []string
	for _, g := range groups {
		d.Sections = append(d.Sections, e.section(g.topic, g.papers, emailDigestAbstract))
		all = append(all, ids(g.papers)...)
		titles = append(titles, e.t.title(g.topic))
	}
	if len(all) == 0 {
		return nil, nil
	}
	subject := fmt.Sprintf("paperfeed digest, %s: %s in %s", dayLabel(day), plural(len(all), "new paper"), strings.Join(titles, ", "))
	key := digestKey(e.t.Name, "", day, 0, 1)
	id := fmt.Sprintf("digest-%s.%s.paperfeed@%s", dayKey(day), e.t.Name, e.domain)
	m, err := e.message(all, "", key, id, subject, d)
	if err != nil {
		return nil, err
	}
	return []message{m}, nil
}

func (e email) footer() string {
	return fmt.Sprintf("Sent by paperfeed's delivery %q. To stop these, reply with \"unsubscribe\" or write to %s.", e.t.Name, e.t.From)
}

func (e email) message(ids []string, topic, key, msgID, subject string, d emailData) (message, error) {
	var html strings.Builder
	if err := emailHTML.Execute(&html, d); err != nil {
		return message{}, fmt.Errorf("e-mail: %w", err)
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(e.t.From); err != nil {
		return message{}, fmt.Errorf("e-mail from: %w", err)
	}
	if err := m.To(e.t.To...); err != nil {
		return message{}, fmt.Errorf("e-mail to: %w", err)
	}
	m.Subject(cut(subject, emailSubject))
	m.SetMessageIDWithValue(msgID)
	m.SetDateWithValue(e.now())
	m.SetBulk()
	m.SetGenHeader(gomail.HeaderListUnsubscribe, fmt.Sprintf("<mailto:%s?subject=unsubscribe>", e.t.From))
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetUserAgent("paperfeed")
	m.SetBodyString(gomail.TypeTextPlain, plainText(&d))
	m.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return message{ids: ids, topic: topic, key: key, mail: m}, nil
}

// plainText is the plain-text part: the same as the HTML, as text.
func plainText(d *emailData) string {
	var b strings.Builder
	b.WriteString(d.Heading + "\n")
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "\n== %s ==\n", s.Title)
		if s.Feed != "" {
			fmt.Fprintf(&b, "Feed: %s\n", s.Feed)
		}
		for _, p := range s.Papers {
			fmt.Fprintf(&b, "\n%s\n", p.Title)
			for _, line := range []string{p.Authors, p.Page, p.Abstract} {
				if line != "" {
					b.WriteString(line + "\n")
				}
			}
			b.WriteString(p.Facts)
			for _, l := range p.Links {
				fmt.Fprintf(&b, " · %s: %s", l.Label, l.URL)
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n-- \n" + d.Footer + "\n")
	return b.String()
}

// atext is s with every character a Message-ID's left part cannot hold
// replaced by "-".
func atext(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(".-_+=", r):
			return r
		}
		return '-'
	}, s)
}
