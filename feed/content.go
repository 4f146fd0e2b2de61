package feed

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/paperfeed/paperfeed/paper"
)

// contentTemplate is an item's HTML, the one text every format carries. It
// is html/template so that every text and URL is escaped for where it
// stands; the URLs have also passed webURL, so only http(s) links appear
// (html/template would turn others into "#ZgotmplZ", which is a dead link,
// not no link).
var contentTemplate = template.Must(template.New("content").Parse(
	`{{with .Image}}<p><img src="{{.}}" alt=""></p>
{{end}}{{with .Abstract}}<p>{{.}}</p>
{{end}}{{with .Authors}}<p><b>Authors:</b> {{.}}</p>
{{end}}{{with .Organization}}<p><b>Organization:</b> {{.}}</p>
{{end}}{{with .AISummary}}<p><b>AI summary:</b> {{.}}</p>
{{end}}{{with .Comments}}<p><b>Comments:</b> {{.}}</p>
{{end}}{{with .JournalRef}}<p><b>Journal ref:</b> {{.}}</p>
{{end}}{{with .Links}}<p>{{range $i, $l := .}}{{if $i}} · {{end}}<a href="{{$l.URL}}">{{$l.Text}}</a>{{end}}</p>
{{end}}{{if .Hub}}<p>{{.Upvotes}} upvotes · {{.CommentCount}} comments</p>
{{end}}`))

// contentData is what contentTemplate shows, all of it made in Go before
// the template runs: texts collapsed once, links checked once and all
// absolute http(s) URLs, counts already in decimal. The template only
// prints fields and ranges over Links; html/template escapes each for where
// it stands.
type contentData struct {
	Image, Abstract, Authors                      string
	Organization, AISummary, Comments, JournalRef string
	Links                                         []contentLink
	// Hub is whether Hugging Face lists the paper: only then are there
	// counts to show (a paper listed there with 0 upvotes still shows 0).
	Hub                   bool
	Upvotes, CommentCount string
}

type contentLink struct{ URL, Text string }

// newContent is the data of p's HTML: thumbnail, abstract, every author
// (authors, already cleaned), organisation, AI summary, arXiv comments and
// journal reference, links to the pages where the paper really is (arXiv
// and its PDF for an arXiv paper, its Hugging Face page only when Hugging
// Face lists it, its own link for any other item), and Hugging Face's
// counts when Hugging Face lists it. abs is p.AbsURL() as it came; page and
// image are p's page (PageURL) and thumbnail already checked by webURL,
// which newEntry needs as well.
func newContent(p *paper.Paper, authors []string, abs, page, image string) contentData {
	d := contentData{
		Image:        image,
		Abstract:     collapse(p.Abstract),
		Authors:      strings.Join(authors, ", "),
		Organization: collapse(p.Organization),
		AISummary:    collapse(p.AISummary),
		Comments:     collapse(p.ArxivComments),
		JournalRef:   collapse(p.JournalRef),
		Links:        make([]contentLink, 0, 5),
		Hub:          p.Hub,
		Upvotes:      strconv.Itoa(p.Upvotes),
		CommentCount: strconv.Itoa(p.Comments),
	}
	link := func(u, text string) {
		if u != "" {
			d.Links = append(d.Links, contentLink{URL: u, Text: text})
		}
	}
	link(webURL(abs), "arXiv")
	link(webURL(p.PDFURL()), "PDF")
	link(webURL(p.HubURL()), "Hugging Face")
	if abs == "" { // not an arXiv paper: its page is its own link
		link(page, "Source")
	}
	if p.GitHubRepo != "" {
		text := "GitHub"
		if p.GitHubStars > 0 {
			text = "GitHub (" + strconv.Itoa(p.GitHubStars) + " stars)"
		}
		link(webURL(p.GitHubRepo), text)
	}
	link(webURL(p.ProjectPage), "Project page")
	return d
}

// contentMarkup is room for the template's own markup and the links, on top
// of the texts, so that the HTML of a typical item is written without
// growing its buffer.
const contentMarkup = 1024

// renderContent is the item's HTML.
func renderContent(d *contentData) (string, error) {
	var b strings.Builder
	b.Grow(contentMarkup + len(d.Abstract) + len(d.Authors) + len(d.Organization) +
		len(d.AISummary) + len(d.Comments) + len(d.JournalRef))
	if err := contentTemplate.Execute(&b, d); err != nil {
		return "", fmt.Errorf("content: %w", err)
	}
	return b.String(), nil
}
