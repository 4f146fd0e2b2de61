// Package feed turns a topic and its papers into the bytes of the files
// paperfeed publishes (Atom, RSS 2.0, JSON Feed 1.1, OPML 2.0 and index.html,
// and the page served before the first refresh, Starting) and writes those
// files atomically. Every topic has two sets of feeds: its papers, one item
// each (Render; feeds/<slug>.atom, .rss, .json), and its daily digest, one
// item per listing day listing that day's papers (Daily;
// feeds/<slug>.daily.atom, .daily.rss, .daily.json), whose rules Daily's
// comment gives.
//
// Contract:
//
//   - Rendering is pure. Nothing reads a clock or iterates a map: the same
//     Site and Topic always give the same bytes. Items are rendered in the
//     order given; choosing, ordering and limiting them is the caller's.
//   - An item's id never changes: https://arxiv.org/abs/<ID> (no version) for
//     arXiv papers, the item's own link otherwise. It is the same in every
//     topic and format. The item links where the paper really is
//     (Paper.PageURL): its Hugging Face page when Hugging Face lists it
//     (Paper.Hub), else its arXiv abstract page, else the item's own link.
//   - An item's text appears once per format, as the item's HTML (abstract,
//     authors, summaries, links and counts): Atom <content type="html">, RSS
//     <description>, JSON Feed content_html. There is no separate summary,
//     which readers would show as the abstract a second time. The HTML
//     links to Hugging Face only when Hugging Face lists the paper, and only
//     then shows its upvotes and comments (0 included): a paper that only an
//     arXiv listing or a lab page gave has neither.
//   - An item is dated by Date: Paper.Day, falling back to Paper.Published,
//     then Paper.FirstSeen, then (Date has none) Topic.Updated. A day-only
//     date, exactly a UTC midnight, gets a time of day derived from the
//     paper's ID alone: for a new-style arXiv id YYMM.NNNNN, NNNNN × 864 ms
//     plus a term below 864 ms from YYMM (later submissions are later in the
//     day); for any other id, a hash of the ID in milliseconds below 24
//     hours. So no two papers of a day share an instant (the W3C validator
//     warns DuplicateUpdated when Atom entries do), and the date never
//     changes between refreshes; a date with a time of day is kept as it
//     is. Dates keep their milliseconds (Atom and JSON Feed write them, RSS
//     has whole seconds). A feed is dated by its newest item or by
//     Topic.Updated when it has none. A date that cannot be found is an
//     error, never an empty element.
//   - Every feed, topic and daily, names Site.Hub, when set, as its WebSub
//     hub right after its self link: <link rel="hub"> in Atom,
//     <atom:link rel="hub"> in RSS, "hubs" in JSON Feed. A topic's self
//     link, the URL a hub is told about, is URL.
//   - Every string that reaches the output is valid UTF-8 without the
//     characters XML 1.0 forbids or discourages (C0/C1 controls other than
//     tab, LF and CR, U+FFFE, U+FFFF); text fields also have their whitespace
//     collapsed. JSON gets the same cleaning so that all formats agree. Links
//     in the output are absolute http(s) URLs; other links are left out.
//   - WriteFile replaces a file through a hidden temporary file in the same
//     directory (".<name>.tmp-*"), fsync and rename, and leaves a file that
//     already holds the same bytes untouched; a file on disk is always a
//     whole old or whole new version. A Writer does the same for many files:
//     each waits in its temporary file until Sync, which makes them all
//     durable with one sync of the file system, renames them into place and
//     syncs each directory once, after which they last through a crash of
//     the machine.
//
// Render gives a topic's three feeds at once, preparing the topic (checks,
// cleaning, item HTML, terms) once for all of them; Atom, RSS and JSON give
// one format each, through the same code, with the same bytes. Daily gives
// the three digest feeds of the same Topic, through the same encoders.
//
// The documents are encoding/xml and encoding/json on structs, and the
// HTML is html/template, so escaping never rests on hand-written code.
// github.com/gorilla/feeds provides the structs where they fit: the Atom
// link, author and content (feeds.AtomLink, feeds.AtomAuthor,
// feeds.AtomContent), the RSS guid (feeds.RssGuid), and the JSON Feed feed,
// item and author (feeds.JSONFeed, feeds.JSONItem, feeds.JSONAuthor). This
// package declares its own struct only where gorilla's cannot say what
// readers and the W3C validator need: the Atom feed and entry (both a self
// and an alternate link, several authors, term categories), the RSS document
// (atom:link rel="self", dc:creator, one category per term, no empty link,
// HTML description), and a JSON Feed wrapper that always writes "items".
// Each says why where it is declared.
package feed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// Site is what every file needs to know about the site.
type Site struct {
	BaseURL string // e.g. http://localhost:8080 (no trailing slash); self links, OPML, index
	Title   string // "paperfeed"
	// Hub is the WebSub hub every feed names next to its self link, an
	// absolute http(s) URL; empty: none. It is public: every feed shows it.
	Hub string
}

// Topic is one feed: its papers are already selected, sorted and limited.
type Topic struct {
	Slug, Title, Description string
	Items                    []Item    // rendered in the order given (the caller orders and limits them)
	Updated                  time.Time // feed date when Items is empty (the caller passes a stable time)
	// Total is how many papers the topic's feeds hold, for Index, whose
	// caller may pass only the newest Items; 0 means len(Items).
	Total int
	// More says the topic takes more papers than Items (its feeds are at
	// their limit), so the oldest day of Items may be cut: Daily leaves
	// that day out.
	More bool
}

// Item is one paper in a topic with the terms that routed it there.
type Item struct {
	Paper paper.Paper
	Terms []string // matched keywords -> categories (then Paper.Categories and Paper.AIKeywords, deduplicated)
}

// dateLayout is how Atom writes dates: RFC 3339 in UTC, with the
// milliseconds of an item's time of day (see Date) when it has any, since
// items of one day may be less than a second apart. RSS dates have no
// fraction of a second; JSON Feed writes RFC 3339 with it.
const dateLayout = "2006-01-02T15:04:05.999Z07:00"

// maxAuthors caps the authors named in feed metadata: collaboration papers
// list hundreds of names, which readers show in full above every item. The
// content HTML still lists every author.
const maxAuthors = 10

// etAl stands for the authors left out after maxAuthors.
const etAl = "et al."

// defaultTitle names the site and the feeds' author when Site.Title is empty.
const defaultTitle = "paperfeed"

// Date is the date of a paper's items in every feed, in UTC, or the zero
// time if it has none: Paper.Day, else Published, else FirstSeen. A date
// that is exactly a UTC midnight is a day-only date (arXiv listings and lab
// pages give no time), and gets the paper's time of day (see timeOfDay), so
// that the papers of one day do not all share one instant. A date with a
// time of day is kept as it is.
func Date(p *paper.Paper) time.Time {
	for _, t := range []time.Time{p.Day, p.Published, p.FirstSeen} {
		if t.IsZero() {
			continue
		}
		t = t.UTC()
		if t.Equal(t.Truncate(24 * time.Hour)) {
			t = t.Add(timeOfDay(p.ID))
		}
		return t
	}
	return time.Time{}
}

func timeOfDay(id string) time.Duration {
	const day = 24 * time.Hour / time.Millisecond // ms in a day
	if yy, mm, n, ok := newStyleID(id); ok {
		month := (yy*12 + mm) % 864
		return time.Duration(n*864+month) * time.Millisecond
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64()%uint64(day)) * time.Millisecond
}

// newStyleID parses a new-style arXiv id, YYMM.NNNN (2007-2014) or
// YYMM.NNNNN, into its year, month and number. Every route of a paper
// through every topic dates it (site.KeyOf), so this is read by hand: the
// regular expression it replaces made the dating a sixth of the CPU of
// routing a 100,000-paper history through 100 topics (1.0 of 6.8 s).
func newStyleID(id string) (yy, mm, n int, ok bool) {
	if len(id) != 9 && len(id) != 10 || id[4] != '.' {
		return 0, 0, 0, false
	}
	num := func(s string) (int, bool) {
		v := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			v = v*10 + int(s[i]-'0')
		}
		return v, true
	}
	yy, ok1 := num(id[0:2])
	mm, ok2 := num(id[2:4])
	n, ok3 := num(id[5:])
	return yy, mm, n, ok1 && ok2 && ok3
}

// site is a checked Site: an absolute http(s) base URL without trailing
// slash, a title, and a hub URL or "".
type site struct {
	base  string
	title string
	hub   string
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
	hub := cleanURL(s.Hub)
	if hub != "" && webURL(hub) == "" {
		return site{}, fmt.Errorf("hub url %q: %w", s.Hub, errNotAbsolute)
	}
	return site{base: base, title: title, hub: hub}, nil
}

var (
	errNotAbsolute = errors.New("not an absolute http or https url")
	errNoSlug      = errors.New("topic has no slug")
	errBadSlug     = errors.New("slug must be one path segment not starting with a dot")
	errDailySlug   = errors.New("slug must not end in .daily, which names daily digest feeds")
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
// relative to the output directory, for WriteFile: feeds/<slug>.<ext>, where
// ext is "atom", "rss" or "json" for the topic's feeds (Render) and
// DailyPrefix+"atom" and so on for its daily digest (Daily). Its self link
// is URL(s, slug, ext).
func Path(slug, ext string) string {
	return "feeds/" + slug + "." + ext
}

// DailyPrefix starts the extensions of a topic's daily digest feeds:
// feeds/<slug>.daily.atom, .daily.rss and .daily.json.
const DailyPrefix = "daily."

// URL is the public URL of a topic's feed file in one format (ext as for
// Path), exactly as its self link gives it: BaseURL/feeds/<slug>.<ext>, with
// the slug escaped. WebSub hubs are told this URL when the file changes.
func URL(s Site, slug, ext string) (string, error) {
	st, err := checkSite(s)
	if err != nil {
		return "", err
	}
	clean, err := checkSlug(slug)
	if err != nil {
		return "", err
	}
	return st.feedURL(clean, ext), nil
}

// checkSlug cleans a topic's slug and refuses one that would not name a
// single file in the feeds directory, or whose feeds would be another
// topic's daily digest ("x.daily" would write x's feeds/x.daily.atom).
func checkSlug(raw string) (string, error) {
	slug := collapse(raw)
	switch {
	case slug == "":
		return "", errNoSlug
	case strings.ContainsAny(slug, `/\`) || strings.HasPrefix(slug, "."):
		return "", fmt.Errorf("slug %q: %w", slug, errBadSlug)
	case strings.HasSuffix(slug, "."+strings.TrimSuffix(DailyPrefix, ".")):
		return "", fmt.Errorf("slug %q: %w", slug, errDailySlug)
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
// item with its id, link, date and HTML.
type channel struct {
	site        site
	slug        string
	title       string
	description string
	updated     time.Time
	entries     []entry
	// ext starts the extension of the channel's files: "" for a topic's
	// feeds, DailyPrefix for its daily digest.
	ext string
}

// selfURL is where the channel's document in one format is served.
func (ch *channel) selfURL(format string) string {
	return ch.site.feedURL(ch.slug, ch.ext+format)
}

// size is a guess at the length of the channel's XML documents, a little
// above what they come to: each item's HTML twice (Atom escapes it) and
// room for its metadata. Their buffers then grow once instead of doubling
// their way up to a few hundred kilobytes through encoding/xml's 4 KiB
// flushes. (encoding/json hands over its document in one write.)
func (ch *channel) size() int {
	n := 4096
	for _, e := range ch.entries {
		n += 2*len(e.content) + 1024
	}
	return n
}

// entry is one item made ready for every format.
type entry struct {
	id      string
	link    string // an http(s) URL, or empty for an item without one
	title   string
	content string // the item's HTML, its only text (see the package comment)
	authors []string
	terms   []string
	image   string
	date    time.Time
	// published, when set, is an earlier date at which the item first
	// stood (a daily digest's day); date is then when it last changed.
	published time.Time
}

// firstDate is when the entry was published: published, else date.
func (e *entry) firstDate() time.Time {
	if !e.published.IsZero() {
		return e.published
	}
	return e.date
}

// Feeds are the three feed documents of a topic, as Atom, RSS and JSON
// render them.
type Feeds struct{ Atom, RSS, JSON []byte }

// Render renders the topic in all three formats, byte for byte as Atom, RSS
// and JSON do, but checks and cleans the topic and makes every item's HTML
// once instead of once per format: that work is most of a feed's cost, and
// the site builder writes every format of every topic it refreshes. It
// fails when any of the three would: with their error less its format
// prefix when the topic itself is refused (a bad slug, an item without id
// or date), or with the encoder's error, named by its format.
func Render(s Site, t Topic) (Feeds, error) {
	return new(Renderer).Render(s, t)
}

// Renderer renders the topics of a site, build after build. A paper shown
// by several topics has the same item in each but for its terms (the same
// id, title, authors, date and HTML), and the same lines in their daily
// digests, and a Renderer makes them once: a refresh re-renders every topic
// that shows a changed paper, and the item HTML is most of a feed's cost.
// Reusing the rest of the item as well as its HTML takes a refresh of 100
// topics over 100,000 papers where 30 change from 1.43 s of CPU to 1.38 s
// (the real binary; medians of eight alternating runs; the budget is 1 s).
//
// A Renderer kept from one build to the next makes again only the items of
// papers that changed: an item is reused only for a paper with the same
// content (paper.SameContent) as the one it was made from, so it cannot go
// stale. In the running server, whose site builder keeps its Renderer,
// that takes a refresh of BenchmarkRefreshHistory from 1.47 s of CPU to
// 1.19 s (one run each, on a loaded machine); a -once, a new process, gains
// nothing. Retain
// drops what the next builds will not show, so it keeps the items of the
// papers the site shows, not of the history. The zero value is ready; a
// Renderer is not safe for concurrent use.
type Renderer struct {
	entries map[string]cachedEntry  // items by paper ID, without terms (paperEntry)
	digest  map[string]cachedDigest // digest lines by paper ID
}

type cachedEntry struct {
	from  paper.Paper // what e was made from
	entry entry
}

type cachedDigest struct {
	from paper.Paper
	dp   digestPaper
}

// Retain forgets the items and digest lines of every paper whose ID keep
// reports false for.
func (r *Renderer) Retain(keep func(id string) bool) {
	maps.DeleteFunc(r.entries, func(id string, _ cachedEntry) bool { return !keep(id) })
	maps.DeleteFunc(r.digest, func(id string, _ cachedDigest) bool { return !keep(id) })
}

// Render is Render, reusing the items of papers this Renderer has rendered
// before.
func (r *Renderer) Render(s Site, t Topic) (Feeds, error) {
	ch, err := r.prepare(s, t)
	if err != nil {
		return Feeds{}, err
	}
	var f Feeds
	if f.Atom, err = ch.atom(); err != nil {
		return Feeds{}, err
	}
	if f.RSS, err = ch.rss(); err != nil {
		return Feeds{}, err
	}
	if f.JSON, err = ch.json(); err != nil {
		return Feeds{}, err
	}
	return f, nil
}

// prepare checks and cleans s and t: everything the formats share.
func prepare(s Site, t Topic) (*channel, error) {
	return new(Renderer).prepare(s, t)
}

func (r *Renderer) prepare(s Site, t Topic) (*channel, error) {
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
		entries:     make([]entry, 0, len(t.Items)),
	}
	if ch.title == "" {
		ch.title = slug
	}
	var newest time.Time
	for i := range t.Items {
		e, err := r.newEntry(&t.Items[i], t.Updated)
		if err != nil {
			return nil, fmt.Errorf("topic %s: item %d: %w", slug, i, err)
		}
		if e.date.After(newest) {
			newest = e.date
		}
		ch.entries = append(ch.entries, e)
	}
	if !newest.IsZero() {
		ch.updated = newest
	}
	if ch.updated.IsZero() {
		return nil, fmt.Errorf("topic %s: %w", slug, errNoDate)
	}
	ch.updated = ch.updated.Truncate(time.Millisecond)
	return ch, nil
}

func (r *Renderer) newEntry(it *Item, fallback time.Time) (entry, error) {
	p := &it.Paper
	c, ok := r.entries[p.ID]
	e := c.entry
	if !ok || !paper.SameContent(&c.from, p) {
		var err error
		if e, err = paperEntry(p); err != nil {
			return entry{}, err
		}
		if r.entries == nil {
			r.entries = map[string]cachedEntry{}
		}
		r.entries[p.ID] = cachedEntry{from: *p, entry: e}
	}
	if e.date.IsZero() {
		e.date = fallback.UTC().Truncate(time.Millisecond)
	}
	if e.date.IsZero() {
		return entry{}, fmt.Errorf("paper %s: %w", p.ID, errNoDate)
	}
	e.terms = terms(it.Terms, p.Categories, p.AIKeywords)
	return e, nil
}

// paperEntry is the part of p's entry that is the same in every topic:
// all but its terms, and its date when p has none (the topic's Updated
// stands in).
func paperEntry(p *paper.Paper) (entry, error) {
	// Each of the paper's URLs is made and checked once, here and in
	// newContent: the id, link, image and content links share them.
	abs := p.AbsURL()
	id := cleanURL(abs)
	if id == "" {
		id = cleanURL(p.Link)
	}
	if id == "" {
		return entry{}, fmt.Errorf("paper %q: %w", p.ID, errNoID)
	}
	link, image := webURL(p.PageURL()), webURL(p.Thumbnail)
	authors := cleanList(p.Authors)
	d := newContent(p, authors, abs, link, image)
	content, err := renderContent(&d)
	if err != nil {
		return entry{}, fmt.Errorf("paper %s: %w", p.ID, err)
	}
	e := entry{
		id:      id,
		link:    link,
		title:   collapse(p.Title),
		content: content,
		authors: capAuthors(authors),
		image:   image,
		date:    Date(p).Truncate(time.Millisecond),
	}
	if e.title == "" {
		e.title = id
	}
	return e, nil
}

// capAuthors is the first maxAuthors of the cleaned author names, followed
// by etAl when there were more.
func capAuthors(names []string) []string {
	if len(names) <= maxAuthors {
		return names
	}
	return append(names[:maxAuthors:maxAuthors], etAl)
}

// cleanList collapses every string and drops the empty ones.
func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = collapse(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// terms is the matched terms, then arXiv categories, then AI keywords,
// cleaned, without empty strings and without repeats (compared
// case-insensitively; the first spelling wins).
func terms(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, list := range lists {
		for _, s := range list {
			s = collapse(s)
			k := strings.ToLower(s)
			if s == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// marshalXML writes v as an XML document with its declaration, indented two
// spaces and ending in a newline. size is a guess at its length (see
// channel.size), or 0.
func marshalXML(v any, size int) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode xml: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
