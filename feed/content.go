package feed

import (
	"strconv"

	"github.com/paperfeed/paperfeed/paper"
)

// appendContent appends the item's HTML: thumbnail, abstract, every author,
// organisation, AI summary, arXiv comments and journal reference, links to
// the paper's pages, and the counts it collected. abstract is the cleaned
// abstract in sc.text, img the cleaned thumbnail URL.
//
// It is written by hand rather than with html/template, which spent two
// thirds of a feed's allocations on reflection. Safety rests on two rules
// that the tests check: every text goes through appendHTML (the escaping of
// html.EscapeString), and every URL has passed webURL (http or https only)
// before it is escaped into a double-quoted attribute.
func (sc *scratch) appendContent(b []byte, p *paper.Paper, abstract span, img string, l *links) []byte {
	if img != "" {
		b = append(b, `<p><img src="`...)
		b = appendHTML(b, img)
		b = append(b, "\" alt=\"\"></p>\n"...)
	}
	if abstract.end > abstract.start {
		b = append(b, "<p>"...)
		// b is sc.text, which holds the abstract; append may move b, but
		// the abstract's bytes stay where they are until it returns.
		b = appendHTML(b, b[abstract.start:abstract.end])
		b = append(b, "</p>\n"...)
	}
	b = appendAuthorList(b, p.Authors)
	b = sc.appendPara(b, "Organization", p.Organization)
	b = sc.appendPara(b, "AI summary", p.AISummary)
	b = sc.appendPara(b, "Comments", p.ArxivComments)
	b = sc.appendPara(b, "Journal ref", p.JournalRef)

	n := 0
	link := func(u, text string) {
		if u = webURL(u); u == "" {
			return
		}
		if n == 0 {
			b = append(b, "<p>"...)
		} else {
			b = append(b, " · "...)
		}
		n++
		b = append(b, `<a href="`...)
		b = appendHTML(b, u)
		b = append(b, `">`...)
		b = appendHTML(b, text)
		b = append(b, "</a>"...)
	}
	link(l.abs, "arXiv")
	link(l.pdf, "PDF")
	link(l.page, pageText(l.isArxiv))
	if p.GitHubRepo != "" {
		text := "GitHub"
		if p.GitHubStars > 0 {
			text = "GitHub (" + strconv.Itoa(p.GitHubStars) + " stars)"
		}
		link(p.GitHubRepo, text)
	}
	link(p.ProjectPage, "Project page")
	if n > 0 {
		b = append(b, "</p>\n"...)
	}
	b = append(b, "<p>"...)
	b = strconv.AppendInt(b, int64(p.Upvotes), 10)
	b = append(b, " upvotes · "...)
	b = strconv.AppendInt(b, int64(p.Comments), 10)
	b = append(b, " comments</p>\n"...)
	return b
}

// appendPara appends <p><b>label:</b> text</p> for the collapsed text, or
// nothing when it is empty.
func (sc *scratch) appendPara(b []byte, label, text string) []byte {
	sc.tmp = appendCollapse(sc.tmp[:0], text)
	if len(sc.tmp) == 0 {
		return b
	}
	b = append(b, "<p><b>"...)
	b = append(b, label...)
	b = append(b, ":</b> "...)
	b = appendHTML(b, sc.tmp)
	return append(b, "</p>\n"...)
}

// appendAuthorList appends the paragraph naming every author, cleaned and
// separated by commas, or nothing when there are none.
func appendAuthorList(b []byte, names []string) []byte {
	n := 0
	for _, s := range names {
		if s = collapse(s); s == "" {
			continue
		}
		if n == 0 {
			b = append(b, "<p><b>Authors:</b> "...)
		} else {
			b = append(b, ", "...)
		}
		n++
		b = appendHTML(b, s)
	}
	if n > 0 {
		b = append(b, "</p>\n"...)
	}
	return b
}

// appendHTML appends s escaped as html.EscapeString escapes it.
func appendHTML[T string | []byte](dst []byte, s T) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if !htmlSpecial[s[i]] {
			continue
		}
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// htmlSpecial marks the bytes appendHTML escapes.
var htmlSpecial = [256]bool{'&': true, '\'': true, '<': true, '>': true, '"': true}

// pageText names the page an item links to.
func pageText(isArxiv bool) string {
	if isArxiv {
		return "Hugging Face"
	}
	return "Source"
}
