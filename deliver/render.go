package deliver

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/paper"
)

// message is one message to a target and the papers it carries: they are
// marked delivered when the target accepts it.
type message struct {
	ids   []string
	topic string // the topic it is about; "" for an e-mail digest of several
	// key identifies the message stably (the same papers, topic and day
	// give the same key): the webhook's X-Paperfeed-Delivery, the
	// e-mail's Message-ID, so a receiver can drop a message sent twice
	// after a crash.
	key    string
	body   []byte      // an HTTP message's body
	header http.Header // and its headers
	mail   *mail.Msg   // an e-mail
}

// group is one topic's papers in a digest.
type group struct {
	topic  string
	papers []*paper.Paper
}

// renderer turns papers into a platform's messages, within its limits.
type renderer interface {
	// each is the message of one paper.
	each(p *paper.Paper, topic string) (message, error)
	// digest is the messages of a digest due on day: one per topic,
	// split into several where the platform's limits need it (e-mail:
	// one for all topics).
	digest(day time.Time, groups []group) ([]message, error)
}

// view is what every message shows of a paper, cleaned: URLs are
// absolute http(s) URLs or "".
type view struct {
	id, title, page, abstract, authors string
	abs, pdf, hub, code, project       string
	hubListed                          bool
	upvotes, stars                     int
	sources                            string
	date                               time.Time
}

func viewOf(p *paper.Paper) view {
	v := view{
		id:        p.ID,
		title:     clean(p.Title),
		page:      webURL(p.PageURL()),
		abstract:  clean(p.Abstract),
		authors:   authorLine(p.Authors),
		abs:       webURL(p.AbsURL()),
		pdf:       webURL(p.PDFURL()),
		hub:       webURL(p.HubURL()),
		code:      webURL(p.GitHubRepo),
		project:   webURL(p.ProjectPage),
		hubListed: p.Hub,
		upvotes:   p.Upvotes,
		stars:     p.GitHubStars,
		sources:   clean(strings.Join(p.Sources, ", ")),
		date:      feed.Date(p),
	}
	if v.title == "" {
		v.title = p.ID
	}
	return v
}

// link is a labelled URL of a paper.
type link struct{ label, url string }

// links are the paper's pages beyond its own: arXiv, the PDF, the code,
// the project page.
func (v *view) links() []link {
	var out []link
	for _, l := range []link{{"arXiv", v.abs}, {"PDF", v.pdf}, {"code", v.code}, {"project", v.project}} {
		if l.url != "" && l.url != v.page {
			out = append(out, l)
		}
	}
	return out
}

// facts is the context line of a paper without its links: topic, sources,
// upvotes (only where Hugging Face lists it) and stars.
func (v *view) facts(topic string) []string {
	out := []string{topic}
	if v.sources != "" {
		out = append(out, v.sources)
	}
	if v.hubListed {
		out = append(out, plural(v.upvotes, "upvote"))
	}
	if v.code != "" && v.stars > 0 {
		out = append(out, plural(v.stars, "star"))
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// webURL is s if it is an absolute http or https URL, else "".
func webURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// dayLabel names a digest's day.
func dayLabel(day time.Time) string { return day.UTC().Format("Mon 2 Jan 2006") }

// dayKey is a digest's day in keys.
func dayKey(day time.Time) string { return day.UTC().Format("2006-01-02") }

// part numbers the messages of a digest split in several: "" for one,
// " (2/3)" for the second of three.
func part(i, n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf(" (%d/%d)", i+1, n)
}

// chunks splits papers into runs of at most n.
func chunks(papers []*paper.Paper, n int) [][]*paper.Paper {
	var out [][]*paper.Paper
	for len(papers) > n {
		out = append(out, papers[:n])
		papers = papers[n:]
	}
	if len(papers) > 0 {
		out = append(out, papers)
	}
	return out
}

func ids(papers []*paper.Paper) []string {
	out := make([]string, len(papers))
	for i, p := range papers {
		out[i] = p.ID
	}
	return out
}
