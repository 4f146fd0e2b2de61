// Package feed turns a topic and its papers into the bytes of the files
// paperfeed publishes (Atom, RSS 2.0, JSON Feed 1.1, OPML 2.0 and index.html)
// and writes those files atomically.
//
// Contract:
//
//   - Rendering is pure. Nothing reads a clock or iterates a map: the same
//     Site and Topic always give the same bytes. Items are rendered in the
//     order given; callers order them with Sort.
//   - An item's id never changes: https://arxiv.org/abs/<ID> (no version) for
//     arXiv papers, the item's own link otherwise. It is the same in every
//     topic and format. The item links to the paper's Hugging Face page.
//   - An item is dated by Paper.Day, falling back to Paper.Published, then
//     Paper.FirstSeen, then Topic.Updated; a feed is dated by its newest item
//     or by Topic.Updated when it has none. A date that cannot be found is an
//     error, never an empty element.
//   - Every string that reaches the output is valid UTF-8 without the
//     characters XML 1.0 forbids or discourages (C0/C1 controls other than
//     tab, LF and CR, U+FFFE, U+FFFF); text fields also have their whitespace
//     collapsed. JSON gets the same cleaning so that all formats agree.
//   - WriteFile replaces a file through a hidden temporary file in the same
//     directory (".<name>.tmp-*"), fsync and rename, and leaves a file that
//     already holds the same bytes untouched.
//
// github.com/gorilla/feeds provides the structs where they fit: for JSON
// Feed the feed and author values (feeds.JSONFeed, feeds.JSONAuthor) and the
// layout of feeds.JSONItem; for Atom and RSS the link, person, guid and
// content:encoded values. Where its structs cannot say what readers need,
// this package writes its own elements and says why (see Atom and RSS).
//
// No format is marshalled by reflection: Atom and RSS are appended by hand
// (xmlWriter) and so is JSON Feed (appendJSONDoc), for speed: every hourly
// refresh re-renders some three hundred topics in three formats next to a
// large live heap, and reflection, per-item strings and buffer growth made
// rendering most of the refresh's CPU and allocation. The bytes are exactly
// those encoding/xml and encoding/json (compact, one line, SetEscapeHTML
// false) wrote for the same structs, escaping included; the tests keep those
// renderers and compare on fixed and fuzzed input. JSON items are written
// straight from the prepared entries rather than built as feeds.JSONItem
// values, which would copy every text into a string of its own.
//
// A render works in pooled scratch memory and allocates little more than the
// document it returns. AppendAll prepares a topic once (checking, cleaning,
// content HTML, terms) for all three documents and writes them into the
// caller's reused buffers.
package feed

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
)

// Site is what every file needs to know about the site.
type Site struct {
	BaseURL string // e.g. http://localhost:8080 (no trailing slash); self links, OPML, index
	Title   string // "paperfeed"
}

// Topic is one feed: its papers are already selected, sorted and limited.
type Topic struct {
	Slug, Title, Description string
	Items                    []Item    // already selected, sorted and limited by the caller (see Sort)
	Updated                  time.Time // feed-level updated when Items is empty (caller passes a stable time)
}

// Item is one paper in a topic with the terms that routed it there.
type Item struct {
	Paper paper.Paper
	Terms []string // matched keywords -> categories (then Paper.Categories and Paper.AIKeywords, deduplicated)
}

// maxAuthors caps the authors named in feed metadata: collaboration papers
// list hundreds of names, which readers show in full above every item. The
// content HTML still lists every author.
const maxAuthors = 10

// etAl stands for the authors left out after maxAuthors.
const etAl = "et al."

// defaultTitle names the site and the feeds' author when Site.Title is empty.
const defaultTitle = "paperfeed"

// Sort orders items newest first by their date (Paper.Day, or the same
// fallbacks the feeds use), then by upvotes (most first), then by ID. It is
// stable, so equal items keep their order.
func Sort(items []Item) {
	slices.SortStableFunc(items, func(a, b Item) int {
		return Compare(&a.Paper, &b.Paper)
	})
}

// Date is the date of a paper's items in every feed (Paper.Day, else
// Published, else FirstSeen), in UTC, or the zero time if it has none.
func Date(p *paper.Paper) time.Time {
	for _, t := range []time.Time{p.Day, p.Published, p.FirstSeen} {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

// site is a checked Site: an absolute http(s) base URL without trailing
// slash, and a title.
type site struct {
	base  string
	title string
}

func checkSite(s Site) (site, error) {
	base := strings.TrimRight(cleanURL(s.BaseURL), "/")
	u, err := url.Parse(base)
	if err != nil {
		return site{}, fmt.Errorf("base url %q: %w", s.BaseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return site{}, fmt.Errorf("base url %q: %w", s.BaseURL, errNotAbsolute)
	}
	title := collapse(s.Title)
	if title == "" {
		title = defaultTitle
	}
	return site{base: base, title: title}, nil
}

var (
	errNotAbsolute = errors.New("not an absolute http or https url")
	errNoSlug      = errors.New("topic has no slug")
	errBadSlug     = errors.New("slug must be one path segment not starting with a dot")
	errNoDate      = errors.New("no date: items and Topic.Updated are all zero")
	errNoID        = errors.New("item has neither an id nor a link")
)

// Names of the files the package renders, relative to the output directory.
// The self links and the OPML point at BaseURL + "/" + these paths.
const (
	IndexName = "index.html"
	OPMLName  = "feeds.opml"
)

// Path is the slash-separated path of a topic's feed file in one format
// ("atom", "rss" or "json") relative to the output directory, for WriteFile:
// feeds/<slug>.<ext>. Its self link is BaseURL/feeds/<slug>.<ext>, with the
// slug escaped.
func Path(slug, ext string) string {
	return "feeds/" + slug + "." + ext
}

// checkSlug cleans a topic's slug and refuses one that would not name a
// single file in the feeds directory.
func checkSlug(raw string) (string, error) {
	slug := collapse(raw)
	switch {
	case slug == "":
		return "", errNoSlug
	case strings.ContainsAny(slug, `/\`) || strings.HasPrefix(slug, "."):
		return "", fmt.Errorf("slug %q: %w", slug, errBadSlug)
	}
	return slug, nil
}

// home is the site's front page.
func (s site) home() string { return s.base + "/" }

// feedURL is where the file of a topic in one format is served.
func (s site) feedURL(slug, ext string) string {
	return s.base + "/feeds/" + url.PathEscape(slug) + "." + ext
}

// topicURL is the topic's section of the index page.
func (s site) topicURL(slug string) string {
	return s.base + "/#" + url.PathEscape(slug)
}

// channel is a topic made ready for every format: all text cleaned, every
// item with its id, link and date. Its entries' longer texts and lists live
// in the scratch it was prepared in (see prepare).
type channel struct {
	site        site
	slug        string
	title       string
	description string
	updated     time.Time
	entries     []entry
}

// entry is one item made ready for every format.
type entry struct {
	id      string
	link    string // an http(s) URL, or empty for an item without one
	title   string
	summary span // the abstract as plain text, in scratch.text
	content span // HTML, in scratch.text
	authors span // in scratch.strs
	terms   span // in scratch.strs
	image   string
	date    time.Time
}

// span is the part [start, end) of one of scratch's buffers.
type span struct{ start, end int }

// scratch is the memory one render works in: the document, the summaries
// and contents of every entry back to back, and their author and term
// lists. Renders take one from scratchPool and put it back, so that a feed
// of a hundred items costs about one allocation of its own size (the copy
// the caller gets) instead of one per string and a growing buffer.
type scratch struct {
	entries []entry
	text    []byte   // summaries and contents
	strs    []string // author and term lists
	tmp     []byte   // one text on its way to being escaped twice
	out     []byte   // the document
}

// maxPooled is the largest buffer put back into the pool: a rare huge feed
// should not pin its memory for the rest of the process.
const maxPooled = 16 << 20

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// put returns sc to the pool, dropping the references it holds to papers'
// strings.
func (sc *scratch) put() {
	if cap(sc.text) > maxPooled || cap(sc.out) > maxPooled || cap(sc.tmp) > maxPooled {
		return
	}
	clear(sc.entries)
	clear(sc.strs)
	sc.entries, sc.strs = sc.entries[:0], sc.strs[:0]
	sc.text, sc.tmp, sc.out = sc.text[:0], sc.tmp[:0], sc.out[:0]
	scratchPool.Put(sc)
}

// grow makes room for the texts and lists of items at once, so that a
// scratch fresh from the pool grows in one step rather than by doubling.
func (sc *scratch) grow(items []Item) {
	text, strs := 0, 0
	for i := range items {
		p := &items[i].Paper
		// The abstract twice (summary and content), the AI summary, and
		// the rest of the content.
		text += 2*len(p.Abstract) + len(p.AISummary) + 1024
		strs += min(len(p.Authors), maxAuthors+1) + len(items[i].Terms) + len(p.Categories) + len(p.AIKeywords)
	}
	sc.text = slices.Grow(sc.text[:0], text)
	sc.strs = slices.Grow(sc.strs[:0], strs)
}

// outSize is about the size of a document of the channel in sc: its texts
// half again for escaping, and the markup of every entry.
func (sc *scratch) outSize() int {
	return len(sc.text)*3/2 + 512*len(sc.entries) + 4096
}

func (sc *scratch) textOf(sp span) []byte   { return sc.text[sp.start:sp.end] }
func (sc *scratch) strsOf(sp span) []string { return sc.strs[sp.start:sp.end:sp.end] }

// prepare checks and cleans s and t. The channel's entries point into sc,
// which must outlive its use.
func prepare(s Site, t Topic, sc *scratch) (*channel, error) {
	st, err := checkSite(s)
	if err != nil {
		return nil, err
	}
	slug, err := checkSlug(t.Slug)
	if err != nil {
		return nil, err
	}
	ch := &channel{
		site:        st,
		slug:        slug,
		title:       collapse(t.Title),
		description: collapse(t.Description),
		updated:     t.Updated.UTC(),
		entries:     slices.Grow(sc.entries[:0], len(t.Items)),
	}
	if ch.title == "" {
		ch.title = slug
	}
	sc.grow(t.Items)
	var newest time.Time
	for i := range t.Items {
		e, err := sc.newEntry(&t.Items[i], t.Updated)
		if err != nil {
			return nil, fmt.Errorf("topic %s: item %d: %w", slug, i, err)
		}
		if e.date.After(newest) {
			newest = e.date
		}
		ch.entries = append(ch.entries, e)
	}
	sc.entries = ch.entries
	if !newest.IsZero() {
		ch.updated = newest
	}
	if ch.updated.IsZero() {
		return nil, fmt.Errorf("topic %s: %w", slug, errNoDate)
	}
	ch.updated = ch.updated.Truncate(time.Second)
	return ch, nil
}

// links are an item's URLs, each computed once.
type links struct {
	abs, pdf, page string // as the paper gives them
	isArxiv        bool
}

func (sc *scratch) newEntry(it *Item, fallback time.Time) (entry, error) {
	p := &it.Paper
	l := links{abs: p.AbsURL()}
	l.isArxiv = l.abs != ""
	if l.isArxiv {
		l.pdf = p.PDFURL()
	}
	l.page = p.PageURL()
	id := cleanURL(l.abs)
	if id == "" {
		id = cleanURL(p.Link)
	}
	if id == "" {
		return entry{}, fmt.Errorf("paper %q: %w", p.ID, errNoID)
	}
	date := Date(p)
	if date.IsZero() {
		date = fallback.UTC()
	}
	if date.IsZero() {
		return entry{}, fmt.Errorf("paper %s: %w", p.ID, errNoDate)
	}
	date = date.Truncate(time.Second)
	e := entry{
		id:    id,
		link:  webURL(l.page),
		title: collapse(p.Title),
		image: webURL(p.Thumbnail),
		date:  date,
	}
	if e.title == "" {
		e.title = id
	}
	e.authors.start = len(sc.strs)
	sc.strs = appendAuthors(sc.strs, p.Authors)
	e.authors.end = len(sc.strs)
	e.terms.start = len(sc.strs)
	sc.strs = appendTerms(sc.strs, it.Terms, p.Categories, p.AIKeywords)
	e.terms.end = len(sc.strs)
	e.summary.start = len(sc.text)
	sc.text = appendCollapse(sc.text, p.Abstract)
	e.summary.end = len(sc.text)
	e.content.start = len(sc.text)
	sc.text = sc.appendContent(sc.text, p, e.summary, e.image, &l)
	e.content.end = len(sc.text)
	return e, nil
}

// appendAuthors appends the cleaned, non-empty author names, at most
// maxAuthors of them followed by etAl when there were more.
func appendAuthors(dst, names []string) []string {
	n := 0
	for _, s := range names {
		if s = collapse(s); s == "" {
			continue
		}
		if n == maxAuthors {
			return append(dst, etAl)
		}
		dst = append(dst, s)
		n++
	}
	return dst
}

// terms is the matched terms, then arXiv categories, then AI keywords, cleaned, without empty
// strings and without repeats (compared case-insensitively; the first
// spelling wins).
func terms(lists ...[]string) []string {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	return appendTerms(make([]string, 0, n), lists...)
}

// maxLinearTerms is how many terms appendTerms compares pairwise before it
// switches to a map.
const maxLinearTerms = 64

// appendTerms appends terms(lists...) to dst.
func appendTerms(dst []string, lists ...[]string) []string {
	start := len(dst)
	var ascii [maxLinearTerms]bool // whether dst[start+i] is ASCII
	var seen map[string]bool       // only for long lists
	for _, list := range lists {
		for _, s := range list {
			if s = collapse(s); s == "" {
				continue
			}
			n := len(dst) - start
			if seen == nil && n >= maxLinearTerms {
				seen = make(map[string]bool, 2*maxLinearTerms)
				for _, t := range dst[start:] {
					seen[strings.ToLower(t)] = true
				}
			}
			if seen != nil {
				k := strings.ToLower(s)
				if seen[k] {
					continue
				}
				seen[k] = true
			} else {
				sASCII := isASCII(s)
				if containsLower(dst[start:], ascii[:n], s, sASCII) {
					continue
				}
				ascii[n] = sASCII
			}
			dst = append(dst, s)
		}
	}
	return dst
}

// containsLower reports whether strings.ToLower(s) equals strings.ToLower
// of one of list, whose strings are ASCII where ascii says so. It does not
// allocate when both sides of a comparison are ASCII.
func containsLower(list []string, ascii []bool, s string, sASCII bool) bool {
	for i, t := range list {
		if sASCII && ascii[i] {
			if len(s) == len(t) && equalLowerASCII(s, t) {
				return true
			}
		} else if strings.ToLower(s) == strings.ToLower(t) {
			return true
		}
	}
	return false
}

// equalLowerASCII compares two ASCII strings of the same length ignoring
// case.
func equalLowerASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
