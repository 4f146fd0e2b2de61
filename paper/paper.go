// Package paper defines the one type that flows through paperfeed: a research
// paper as the sources report it and the history keeps it.
//
// Contract: a Paper is plain data. ID is the stable key of a paper in every
// source, topic, feed format and run: for arXiv papers it is the arXiv id
// without its version ("2606.00467", "hep-th/9901001"); for other items it is
// derived from the item's link (see LinkID). Nothing here does I/O.
package paper

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Paper is one paper. Zero values mean "not known"; optional strings are empty
// and optional slices are nil.
type Paper struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Abstract string   `json:"abstract,omitempty"`
	Authors  []string `json:"authors,omitempty"`
	// Link is the paper's own page on the source that named it, for items
	// without an arXiv id (generic listing pages). Empty for arXiv papers,
	// whose links are derived from ID.
	Link string `json:"link,omitempty"`

	// Published is when the paper first appeared on arXiv (paper.publishedAt).
	Published time.Time `json:"published,omitempty"`
	// Day is the listing day: the Hugging Face Daily Papers day
	// (paper.submittedOnDailyAt) or the arXiv announcement day, as UTC midnight
	// or the source's exact time. It dates the paper's items in every feed.
	Day time.Time `json:"day,omitempty"`

	// Hub is true when Hugging Face lists the paper: its page there exists,
	// and Upvotes and Comments are Hugging Face's counts. A paper only an
	// arXiv listing or a lab page gave has no such page and no counts.
	Hub         bool   `json:"hub,omitempty"`
	Upvotes     int    `json:"upvotes,omitempty"`
	Comments    int    `json:"comments,omitempty"`
	Thumbnail   string `json:"thumbnail,omitempty"`
	GitHubRepo  string `json:"github_repo,omitempty"`
	GitHubStars int    `json:"github_stars,omitempty"`
	ProjectPage string `json:"project_page,omitempty"`
	// Organization is the display name of the organisation that submitted it.
	Organization string   `json:"organization,omitempty"`
	AISummary    string   `json:"ai_summary,omitempty"`
	AIKeywords   []string `json:"ai_keywords,omitempty"`

	// Categories are arXiv subjects ("cs.LG"), primary first.
	Categories []string `json:"categories,omitempty"`
	// ArxivComments is arXiv's free-text comments line ("10 pages, 3 figures").
	ArxivComments string `json:"arxiv_comments,omitempty"`
	JournalRef    string `json:"journal_ref,omitempty"`
	// Section is the arXiv listing section it appeared in: new, cross, replace.
	Section string `json:"section,omitempty"`

	// Sources are the names of the configured sources that reported it.
	Sources []string `json:"sources,omitempty"`
	// FirstSeen and LastSeen are kept by the history, not by scrapers.
	FirstSeen time.Time `json:"first_seen,omitempty"`
	LastSeen  time.Time `json:"last_seen,omitempty"`
}

// arxivID matches new-style (YYMM.NNNNN) and old-style (archive/YYMMNNN)
// arXiv identifiers, with an optional version suffix.
var arxivID = regexp.MustCompile(`^(?:(\d{4}\.\d{4,5})|([a-z\-]+(?:\.[A-Z]{2})?/\d{7}))(?:v\d+)?$`)

// NormalizeArxivID returns id without its version suffix and any "arXiv:"
// prefix, and whether it is a well-formed arXiv identifier.
func NormalizeArxivID(id string) (string, bool) {
	id = strings.TrimSpace(id)
	if len(id) > 6 && strings.EqualFold(id[:6], "arxiv:") {
		id = id[6:]
	}
	m := arxivID.FindStringSubmatch(id)
	if m == nil {
		return "", false
	}
	if m[1] != "" {
		return m[1], true
	}
	return m[2], true
}

// bareArxivID matches an arXiv id in normal form: no prefix, no version.
var bareArxivID = regexp.MustCompile(`^(?:\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})$`)

// IsArxiv reports whether p is keyed by an arXiv id. IDs are kept in normal
// form, so this is a match without allocation: feeds ask it for every item.
func (p *Paper) IsArxiv() bool {
	return bareArxivID.MatchString(p.ID)
}

// LinkID derives a stable ID for an item that has no arXiv id from its link.
func LinkID(link string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(link)))
	return "url-" + hex.EncodeToString(sum[:10])
}

// AbsURL is the arXiv abstract page of an arXiv paper, or "".
func (p *Paper) AbsURL() string {
	if !p.IsArxiv() {
		return ""
	}
	return "https://arxiv.org/abs/" + p.ID
}

// PDFURL is the arXiv PDF of an arXiv paper, or "".
func (p *Paper) PDFURL() string {
	if !p.IsArxiv() {
		return ""
	}
	return "https://arxiv.org/pdf/" + p.ID
}

// HubURL is the paper's Hugging Face page, or "" when Hugging Face does not
// list it (Hub is false).
func (p *Paper) HubURL() string {
	if !p.Hub || !p.IsArxiv() {
		return ""
	}
	return "https://huggingface.co/papers/" + p.ID
}

// PageURL is the page an item links to, where the paper really is: its
// Hugging Face page when Hugging Face lists it, else its arXiv abstract page,
// else the item's own link.
func (p *Paper) PageURL() string {
	if u := p.HubURL(); u != "" {
		return u
	}
	if u := p.AbsURL(); u != "" {
		return u
	}
	return p.Link
}

// SameContent reports whether a and b are the same paper with the same
// content: equal in every field but LastSeen, the one field that changes
// each day a source lists a paper and that no feed shows.
func SameContent(a, b *Paper) bool {
	return a.ID == b.ID &&
		a.Title == b.Title &&
		a.Abstract == b.Abstract &&
		slices.Equal(a.Authors, b.Authors) &&
		a.Link == b.Link &&
		a.Published.Equal(b.Published) &&
		a.Day.Equal(b.Day) &&
		a.Hub == b.Hub &&
		a.Upvotes == b.Upvotes &&
		a.Comments == b.Comments &&
		a.Thumbnail == b.Thumbnail &&
		a.GitHubRepo == b.GitHubRepo &&
		a.GitHubStars == b.GitHubStars &&
		a.ProjectPage == b.ProjectPage &&
		a.Organization == b.Organization &&
		a.AISummary == b.AISummary &&
		slices.Equal(a.AIKeywords, b.AIKeywords) &&
		slices.Equal(a.Categories, b.Categories) &&
		a.ArxivComments == b.ArxivComments &&
		a.JournalRef == b.JournalRef &&
		a.Section == b.Section &&
		slices.Equal(a.Sources, b.Sources) &&
		a.FirstSeen.Equal(b.FirstSeen)
}
