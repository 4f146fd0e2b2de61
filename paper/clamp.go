package paper

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Caps on a paper's text, in runes. Each is far above what a real listing
// gives (arXiv caps an abstract at 1,920 characters, a title at a few
// hundred), so only a broken or hostile source meets them; they bound what
// one paper can make the history, every feed and every page hold.
const (
	MaxTitle     = 1000
	MaxAbstract  = 20000
	MaxAISummary = 4000
	// MaxLine caps the one-line fields: ArxivComments, JournalRef,
	// Organization and Section.
	MaxLine = 1000
	// MaxAuthor caps each author's name, MaxAuthors the list; a longer list
	// keeps MaxAuthors-1 names and ends with "… and N more".
	MaxAuthor  = 300
	MaxAuthors = 1000
	// MaxKeyword caps each AI keyword and each category, MaxKeywords and
	// MaxCategories the lists; entries beyond are dropped.
	MaxKeyword    = 200
	MaxKeywords   = 50
	MaxCategories = 50
	// MaxURL is in bytes: no browser or server takes longer URLs in
	// practice.
	MaxURL = 4096
)

// cutMarker ends every text that Clamp cut.
const cutMarker = " …"

// Clamp cuts p's over-long text fields to the caps above, at a rune
// boundary, ending each cut text with " …", and returns the names of the
// fields it changed, as in the JSON encoding ("title", "authors", ...), in
// a fixed order. Invalid UTF-8 in a text field is replaced (U+FFFD), which
// also counts as a change. URL fields are never cut, since a cut URL is a
// wrong link: Thumbnail, GitHubRepo and ProjectPage over MaxURL bytes, or not
// valid UTF-8, are emptied; Link may be the source of the ID, so it is kept
// as it is and only reported ("link"). ID and Sources are not looked at.
//
// Clamp does no I/O. It never writes into the slices p holds (they may be
// shared with the caller's copy) but gives p new ones where it changes them.
// It is idempotent: a clamped paper is clamped already.
func Clamp(p *Paper) (cut []string) {
	text := func(name string, s *string, limit int) {
		if v, changed := clampText(*s, limit); changed {
			*s = v
			cut = append(cut, name)
		}
	}
	list := func(name string, s *[]string, each, limit int, more bool) {
		if v, changed := clampList(*s, each, limit, more); changed {
			*s = v
			cut = append(cut, name)
		}
	}
	link := func(name string, s *string) {
		if len(*s) > MaxURL || !utf8.ValidString(*s) {
			*s = ""
			cut = append(cut, name)
		}
	}
	text("title", &p.Title, MaxTitle)
	text("abstract", &p.Abstract, MaxAbstract)
	list("authors", &p.Authors, MaxAuthor, MaxAuthors, true)
	if len(p.Link) > MaxURL || !utf8.ValidString(p.Link) {
		cut = append(cut, "link")
	}
	link("thumbnail", &p.Thumbnail)
	link("github_repo", &p.GitHubRepo)
	link("project_page", &p.ProjectPage)
	text("organization", &p.Organization, MaxLine)
	text("ai_summary", &p.AISummary, MaxAISummary)
	list("ai_keywords", &p.AIKeywords, MaxKeyword, MaxKeywords, false)
	list("categories", &p.Categories, MaxKeyword, MaxCategories, false)
	text("arxiv_comments", &p.ArxivComments, MaxLine)
	text("journal_ref", &p.JournalRef, MaxLine)
	text("section", &p.Section, MaxLine)
	return cut
}

// clampText makes s valid UTF-8 of at most limit runes, and says whether
// that changed it. A cut text keeps its first runes, without trailing white
// space, and ends with cutMarker.
func clampText(s string, limit int) (string, bool) {
	changed := false
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		changed = true
	}
	if len(s) <= limit || utf8.RuneCountInString(s) <= limit {
		return s, changed
	}
	keep := limit - utf8.RuneCountInString(cutMarker)
	end := 0
	for range keep {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	return strings.TrimRightFunc(s[:end], unicode.IsSpace) + cutMarker, true
}

// clampList caps each entry of s at each runes and the list at limit
// entries: the rest are dropped or, with more, replaced by a last entry
// "… and N more". It returns a new slice when it changes anything.
func clampList(s []string, each, limit int, more bool) ([]string, bool) {
	var out []string // nil until something changes
	n := min(len(s), limit)
	if len(s) > limit && more {
		n = limit - 1
	}
	for i := range n {
		v, changed := clampText(s[i], each)
		if changed && out == nil {
			out = make([]string, i, limit)
			copy(out, s[:i])
		}
		if out != nil {
			out = append(out, v)
		}
	}
	if len(s) <= limit {
		if out == nil {
			return s, false
		}
		return out, true
	}
	if out == nil {
		out = make([]string, n, limit)
		copy(out, s[:n])
	}
	if more {
		out = append(out, "… and "+strconv.Itoa(len(s)-n)+" more")
	}
	return out, true
}
