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
{{end}}<p>{{.Upvotes}} upvotes · {{.CommentCount}} comments</p>
`))

// contentData is what contentTemplate shows: cleaned texts, and links that
// are all absolute http(s) URLs.
type contentData struct {
	Image, Abstract, Authors                      string
	Organization, AISummary, Comments, JournalRef string
	Links                                         []contentLink
	Upvotes, CommentCount                         int
}

type contentLink struct{ URL, Text string }

// renderContent is the item's HTML: thumbnail, abstract, every author
// (authors, already cleaned), organisation, AI summary, arXiv comments and
// journal reference, links to the paper's pages, and the counts it
// collected.
func renderContent(p *paper.Paper, authors []string) (string, error) {
	d := contentData{
		Image:        webURL(p.Thumbnail),
		Abstract:     collapse(p.Abstract),
		Authors:      strings.Join(authors, ", "),
		Organization: collapse(p.Organization),
		AISummary:    collapse(p.AISummary),
		Comments:     collapse(p.ArxivComments),
		JournalRef:   collapse(p.JournalRef),
		Upvotes:      p.Upvotes,
		CommentCount: p.Comments,
	}
	link := func(u, text string) {
		if u = webURL(u); u != "" {
			d.Links = append(d.Links, contentLink{URL: u, Text: text})
		}
	}
	link(p.AbsURL(), "arXiv")
	link(p.PDFURL(), "PDF")
	if p.IsArxiv() {
		link(p.PageURL(), "Hugging Face")
	} else {
		link(p.PageURL(), "Source")
	}
	if p.GitHubRepo != "" {
		text := "GitHub"
		if p.GitHubStars > 0 {
			text = "GitHub (" + strconv.Itoa(p.GitHubStars) + " stars)"
		}
		link(p.GitHubRepo, text)
	}
	link(p.ProjectPage, "Project page")
	var b strings.Builder
	if err := contentTemplate.Execute(&b, d); err != nil {
		return "", fmt.Errorf("content: %w", err)
	}
	return b.String(), nil
}
