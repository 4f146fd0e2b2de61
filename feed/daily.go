package feed

import (
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paperfeed/paperfeed/paper"
)

// digestAuthors is how many authors a digest names for a paper before
// "et al.": the digest is a list to scan, and the paper's page has the rest.
const digestAuthors = 3

// excerptRunes caps the abstract excerpt a digest shows for each paper:
// about two lines, enough to tell what the paper is about. It is decided
// by size: a digest day lists up to the topic's limit of papers (a busy
// day on Hugging Face brings 40 to 60), and at this length such a day
// stays around 30 KB of HTML, below the topic feed that carries the same
// papers with their whole abstracts, while full abstracts would make one
// item as long as the whole topic feed.
const excerptRunes = 200

// dayLayout is how a digest item's title writes its day.
const dayLayout = "2 January 2006"

// dailyTemplate is a digest item's HTML: the day's papers in feed order,
// each its title linked where the paper is, its first authors and the
// start of its abstract. html/template escapes every text and URL, and
// the URLs have passed webURL.
var dailyTemplate = template.Must(template.New("daily").Parse(`<ol>
{{range .}}<li>{{if .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}}{{with .Authors}}<br>{{.}}{{end}}{{with .Excerpt}}<br>{{.}}{{end}}</li>
{{end}}</ol>
`))

// digestPaper is one paper as a digest item lists it, every text cleaned.
type digestPaper struct{ Title, URL, Authors, Excerpt string }

// digestDay is one listing day of a topic, in UTC.
type digestDay struct {
	start  time.Time // the day's midnight
	papers []digestPaper
	latest time.Time // the latest time one of its papers was first seen
}

// Daily renders the topic's daily digest in all three formats, served at
// BaseURL/feeds/<slug>.daily.atom, .daily.rss and .daily.json (Path with
// DailyPrefix): one item per listing day, newest day first, that lists
// the day's papers among t.Items. The feeds' title is the topic's followed
// by " (daily)"; they carry the hub link as the topic's feeds do.
//
//   - A paper's listing day is the UTC day of its item date (Date, falling
//     back to Topic.Updated like the topic's feeds). A day without papers
//     has no item.
//   - Days covers what t.Items hold: the caller passes the papers the
//     topic's feeds show. When t.More says the topic has more papers, the
//     oldest day of Items is left out, since the limit may have cut it;
//     every other day is whole. A topic whose limit is below one day's
//     papers therefore has an empty digest.
//   - An item lists its papers in the order of Items (feed order): the
//     title linked where the paper really is (Paper.PageURL), the first
//     digestAuthors authors then "et al.", and the abstract's first
//     excerptRunes characters, cut at a word and ended with " …". Its
//     title is "<topic title>, <day>: <n> papers". It has no link of its
//     own: the papers are its links.
//   - An item's id is the Atom digest's URL with the day as fragment,
//     BaseURL/feeds/<slug>.daily.atom#YYYY-MM-DD, the same in every
//     format and never changing for that topic and day (it changes only
//     with BaseURL, like every self link).
//   - The newest day is open: papers may still arrive for it. Its item is
//     dated (Atom updated, RSS pubDate, JSON Feed date_modified) by the
//     latest time one of its papers was first seen (Paper.FirstSeen, or
//     its item date when unknown), and not before the day began: each
//     arrival moves the date, and readers that follow updates show the
//     item again. Every older day is complete, since the listing has
//     moved on to a later day: it is dated at its last millisecond,
//     23:59:59.999 UTC, and that date never changes again; a paper that
//     comes late for it changes its list, not its date. Every item is
//     published (Atom published, JSON Feed date_published) at its day's
//     midnight. So dates are distinct, fall in the items' order, and
//     never change between refreshes that bring nothing.
//   - The feeds are dated by their newest item; without items by the
//     newest item date of Items, then Topic.Updated.
//
// Like Render it is pure and checks the site and the topic; it fails on a
// bad site or slug, or an item without any date, naming the topic.
func Daily(s Site, t Topic) (Feeds, error) {
	return new(Renderer).Daily(s, t)
}

// Daily is Daily, reusing the digest lines (title, link, authors, excerpt)
// of papers this Renderer has listed before: the site builder renders the
// digest of every topic it re-renders, a paper is listed by several of
// them (9,400 lines of 1,888 papers in a refresh of 100 topics over
// 100,000 papers), and cleaning and cutting its abstract is most of a
// digest's cost. That refresh, where 30 papers change, takes 1.38 s of CPU
// with the lines reused and 1.52 s without (the real binary, as the README
// measures it; medians of eight alternating runs); its budget is 1 s.
func (r *Renderer) Daily(s Site, t Topic) (Feeds, error) {
	ch, err := r.prepareDaily(s, t)
	if err != nil {
		return Feeds{}, fmt.Errorf("daily: %w", err)
	}
	var f Feeds
	if f.Atom, err = ch.atom(); err != nil {
		return Feeds{}, fmt.Errorf("daily: %w", err)
	}
	if f.RSS, err = ch.rss(); err != nil {
		return Feeds{}, fmt.Errorf("daily: %w", err)
	}
	if f.JSON, err = ch.json(); err != nil {
		return Feeds{}, fmt.Errorf("daily: %w", err)
	}
	return f, nil
}

// prepareDaily groups t's items by day into the digest's channel.
func (r *Renderer) prepareDaily(s Site, t Topic) (*channel, error) {
	st, err := checkSite(s)
	if err != nil {
		return nil, err
	}
	slug, err := checkSlug(t.Slug)
	if err != nil {
		return nil, err
	}
	title := collapse(t.Title)
	if title == "" {
		title = slug
	}
	ch := &channel{
		site:        st,
		slug:        slug,
		title:       title + " (daily)",
		description: collapse(t.Description),
		ext:         DailyPrefix,
	}
	var days []*digestDay
	byStart := map[int64]*digestDay{}
	var newest time.Time
	for i := range t.Items {
		p := &t.Items[i].Paper
		date := Date(p)
		if date.IsZero() {
			date = t.Updated.UTC()
		}
		if date.IsZero() {
			return nil, fmt.Errorf("topic %s: item %d: paper %s: %w", slug, i, p.ID, errNoDate)
		}
		newest = later(newest, date)
		start := date.Truncate(24 * time.Hour)
		d, ok := byStart[start.Unix()]
		if !ok {
			d = &digestDay{start: start}
			byStart[start.Unix()] = d
			days = append(days, d)
		}
		arrival := p.FirstSeen.UTC()
		if p.FirstSeen.IsZero() {
			arrival = date
		}
		d.latest = later(d.latest, arrival)
		d.papers = append(d.papers, r.digestPaper(p))
	}
	slices.SortFunc(days, func(a, b *digestDay) int { return b.start.Compare(a.start) })
	if t.More && len(days) > 0 {
		days = days[:len(days)-1]
	}
	ch.entries = make([]entry, 0, len(days))
	for i, d := range days {
		e, err := ch.dayEntry(d, title, i == 0)
		if err != nil {
			return nil, fmt.Errorf("topic %s: %w", slug, err)
		}
		ch.entries = append(ch.entries, e)
	}
	switch {
	case len(ch.entries) > 0:
		ch.updated = ch.entries[0].date
	case !newest.IsZero():
		ch.updated = newest.Truncate(time.Millisecond)
	default:
		ch.updated = t.Updated.UTC().Truncate(time.Millisecond)
	}
	if ch.updated.IsZero() {
		return nil, fmt.Errorf("topic %s: %w", slug, errNoDate)
	}
	return ch, nil
}

// digestPaper is p as a digest lists it, made once per Renderer for each
// content of p.
func (r *Renderer) digestPaper(p *paper.Paper) digestPaper {
	if c, ok := r.digest[p.ID]; ok && paper.SameContent(&c.from, p) {
		return c.dp
	}
	dp := digestPaper{
		Title:   collapse(p.Title),
		URL:     webURL(p.PageURL()),
		Authors: digestAuthorLine(cleanList(p.Authors)),
		Excerpt: excerpt(p.Abstract, excerptRunes),
	}
	if dp.Title == "" {
		dp.Title = collapse(p.ID)
	}
	if r.digest == nil {
		r.digest = map[string]cachedDigest{}
	}
	r.digest[p.ID] = cachedDigest{from: *p, dp: dp}
	return dp
}

// dayEntry is the digest item of day d of the topic titled title; open is
// whether d is the newest day (see Daily).
func (ch *channel) dayEntry(d *digestDay, title string, open bool) (entry, error) {
	var b strings.Builder
	if err := dailyTemplate.Execute(&b, d.papers); err != nil {
		return entry{}, fmt.Errorf("day %s: %w", d.start.Format(time.DateOnly), err)
	}
	date := d.start.Add(24*time.Hour - time.Millisecond)
	if open {
		date = later(d.start, d.latest).Truncate(time.Millisecond)
	}
	count := strconv.Itoa(len(d.papers)) + " papers"
	if len(d.papers) == 1 {
		count = "1 paper"
	}
	return entry{
		id:        ch.selfURL("atom") + "#" + d.start.Format(time.DateOnly),
		title:     title + ", " + d.start.Format(dayLayout) + ": " + count,
		content:   b.String(),
		date:      date,
		published: d.start,
	}, nil
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// digestAuthorLine is the first digestAuthors of the cleaned names, then
// "et al." when there were more.
func digestAuthorLine(names []string) string {
	if len(names) <= digestAuthors {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:digestAuthors], ", ") + " " + etAl
}

// excerpt is s collapsed and, when longer than n runes, cut after its last
// whole word within them and ended with " …".
func excerpt(s string, n int) string {
	s = collapse(s)
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	end := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	cut := s[:end]
	if s[end] != ' ' { // the cut falls inside a word: drop that word
		if i := strings.LastIndexByte(cut, ' '); i > 0 {
			cut = cut[:i]
		}
	}
	return strings.TrimRight(cut, " ,;:") + " …"
}
