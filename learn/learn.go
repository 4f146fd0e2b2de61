// Package learn is the learning stage of like-topics ("more papers like
// these"): from one pass over the history it trains each like-topic's model
// (package like) and chooses the papers the topic's feeds show.
//
// # Contract
//
// A Learner is given every paper of the history once, in any order
// (store.ForEach hands them over so), through Add. Add feeds the paper to a
// like.Builder and notes, for each like-topic, whether the topic's other
// rules (keywords, exclude, query, min_upvotes: the router's Take, asked only
// of a topic with such rules, Topic.Rules) take the
// paper, and the paper's listing day (the UTC day of feed.Date). Train then
// builds the corpus, trains every topic on its Seeds, scores the papers its
// rules take, and chooses per listing day the Top of them by score, highest
// first, ties by ID, leaving out those below MinScore (when set) and the
// topic's own like and unlike papers, which a reader has seen already. Each
// choice carries its score and the terms that weighed most for and against
// it (like.Model.Explain); the terms for it become the feed item's
// categories.
//
// The outcome depends on the history and the topics only, never on the
// order of Add or on the clock: the same history and config choose the same
// papers with the same scores, bit for bit (see like's Stability).
//
// Errors. Seeds the history lacks, in any topic, make Train fail with a
// *MissingError naming them all by topic, so that the caller fetches them
// and learns again; an empty history lacks every seed. A history too small
// to have a vocabulary (like.ErrNoFeatures) or like papers without a word
// of it (like.ErrNoWords) are no failure of Train: the topic's Result says
// why it chose nothing (Result.Err), and a larger history can mend it.
//
// Reuse. Inputs names, per topic, everything its Result depends on: the
// papers' IDs, titles, abstracts and listing days, which papers the topic's
// rules take, the topic itself (all but its Index) and the model's version
// (ModelVersion). Equal Inputs give an equal Result, so a caller that kept
// the Result of an earlier pass under its Inputs hands it back with Known,
// and Train returns it without training that topic; when every topic is
// known, Train does not even build the corpus. Upvotes and other fields the
// model does not read change no Inputs, unless they change what a topic's
// rules take; Unchanged tells so of one paper's change, without a pass, and
// SameText whether the change changes every topic's Inputs.
//
// Cache. A Learner of NewCached is given the history as records (AddRecord:
// an ID, its record's checksum, a decode) and takes each paper whose
// checksum is unchanged from the Cache an earlier pass wrote (WriteCache),
// its words already tokenised: only changed papers are decoded, or every
// paper when a topic has rules, which read the whole paper. The outcome is
// that of Add given every paper.
//
// Costs. The corpus (some 800 bytes a paper, see like's Costs) lives only
// within Train; a Learner keeps besides it an ID and a day per paper and a
// bit per paper for each topic with rules, a topic's training 16 bytes a
// paper it scores, and a Result only its choices.
package learn

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paperfeed/paperfeed/feed"
	"github.com/paperfeed/paperfeed/like"
	"github.com/paperfeed/paperfeed/paper"
	"github.com/paperfeed/paperfeed/topic"
)

// explainTerms is how many terms for and against each choice are kept: the
// categories of a feed item, a line of -explain.
const explainTerms = 5

// Topic is one like-topic as the learning stage takes it.
type Topic struct {
	Slug string
	// Index is the topic's index in the router: its other rules must take
	// a paper for it to be chosen.
	Index int
	// Rules is whether the topic has rules besides its seeds (keywords,
	// exclude, a query, min_upvotes); without, every paper is a candidate
	// and the router is not asked. Asking it costs a tokenisation of the
	// paper per topic: 5.2 s of the 9.8 s of CPU that reading 100,000
	// papers for two topics took (BenchmarkLearn100k), time the history
	// is held.
	Rules    bool
	Seeds    like.Seeds
	Top      int      // at most this many papers per listing day; at least 1
	MinScore *float64 // no paper scoring less is chosen; nil: no floor
	// Keep is the most papers chosen, newest listing days first, whole
	// days: twice the topic's limit, since its feeds show the newest
	// limit papers and an older pick would show only once newer ones
	// left the history. 0 keeps every day's. A hundred like-topics over
	// 90 listing days kept 90,000 picks, and the site read each of those
	// papers at every build.
	Keep int
}

// Pick is a paper a like-topic shows.
type Pick struct {
	ID    string
	Day   time.Time // the listing day, UTC midnight; zero for a paper without a date
	Score float64
	// Pro and Con are the terms that weighed most for and against the
	// paper, largest first.
	Pro, Con []like.Contribution
}

// Terms are the words that weighed most for the paper, for its categories.
func (p Pick) Terms() []string {
	out := make([]string, len(p.Pro))
	for i, c := range p.Pro {
		out[i] = c.Term
	}
	return out
}

// Result is what Train learnt for one topic.
type Result struct {
	Slug  string
	Stats like.Stats // zero when Err is set
	// Candidates is how many papers the topic's other rules take, the
	// papers that were scored.
	Candidates int
	// Picks are the chosen papers, newest listing day first, then highest
	// score, then by ID.
	Picks []Pick
	// Err says why the topic chose nothing (like.ErrNoFeatures,
	// like.ErrNoWords), or is nil.
	Err error
}

// MissingError is Train's error for seeds the history lacks.
type MissingError struct {
	Seeds map[string][]string // missing IDs by topic slug, sorted
}

// IDs are every missing ID, sorted, once each.
func (e *MissingError) IDs() []string {
	var ids []string
	for _, s := range e.Seeds {
		ids = append(ids, s...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func (e *MissingError) Error() string {
	var parts []string
	for _, slug := range slices.Sorted(maps.Keys(e.Seeds)) {
		parts = append(parts, fmt.Sprintf("like-topic %s: %s not in the history", slug, strings.Join(e.Seeds[slug], ", ")))
	}
	return strings.Join(parts, "; ")
}

// ModelVersion is part of every topic's Inputs: bump it with any change to
// package like or to this package that changes a Result for the same
// history and topics, so that no Result kept by an earlier version is
// reused. A caller that reuses Results without a pass over the history
// (the history unchanged since) keys them by it too. TestModelVersion pins
// the results of a fixed history to it and fails until it is bumped.
const ModelVersion = 1

// sum is an order-independent digest of a set of papers: the sum, lane by
// lane, of each paper's SHA-256, and their number.
type sum struct {
	lanes [4]uint64
	n     uint64
}

func (s *sum) add(d *[sha256.Size]byte) {
	for i := range s.lanes {
		s.lanes[i] += binary.LittleEndian.Uint64(d[8*i:])
	}
	s.n++
}

func (s *sum) write(h hash.Hash) {
	var b [40]byte
	for i, v := range s.lanes {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	binary.LittleEndian.PutUint64(b[32:], s.n)
	h.Write(b[:])
}

// candidate is a paper of the history, as the topics choose among them.
type candidate struct {
	id  string
	day time.Time
}

// Learner learns like-topics from one pass over the history. It is not safe
// for concurrent use.
type Learner struct {
	b      *like.Builder
	topics []Topic
	// papers are the papers added, in order, once for every topic: a list
	// of candidates a topic took 4 MB at 100,000 papers, and a hundred
	// like-topics had 400 MB of them.
	papers []candidate
	// takes are, by topic, the papers its rules take, a bit each by
	// position in papers; nil for a topic without rules, which takes all.
	takes [][]uint64

	d     *Digest   // the Inputs, and what each topic's rules take
	known []*Result // by topic, given by Known

	// For a Learner of NewCached: the earlier pass's Cache, and what this
	// pass keeps of each paper of papers for the next (see Cache).
	cache *Cache
	keep  []cached
	rules bool // a topic has rules
}

// Digest computes a pass's Inputs without learning anything: the first of
// two passes over the history for a caller that reuses Results, so that
// one whose Inputs all stay neither tokenises the papers nor holds their
// tokens. It is not safe for concurrent use.
type Digest struct {
	router *topic.Router
	topics []Topic
	opt    like.Options
	buf    []byte // hash's
	all    sum    // every paper added
	took   []sum  // by topic, the papers its rules take
	digest [sha256.Size]byte
}

// NewDigest returns a Digest for topics, whose Index are topics of router,
// as New's Learner with options o would compute it.
func NewDigest(router *topic.Router, topics []Topic, o like.Options) (*Digest, error) {
	if _, err := like.NewBuilder(o); err != nil {
		return nil, fmt.Errorf("learn: %w", err)
	}
	for _, t := range topics {
		if t.Top < 1 {
			return nil, fmt.Errorf("learn: topic %s: top %d is not positive", t.Slug, t.Top)
		}
		if t.Index < 0 || t.Index >= router.Len() {
			return nil, fmt.Errorf("learn: topic %s: index %d is not a topic of the router", t.Slug, t.Index)
		}
	}
	return &Digest{router: router, topics: topics, opt: o, took: make([]sum, len(topics))}, nil
}

// Add adds a paper of the history, as Learner.Add does; a paper without
// an ID is an error there and here.
func (d *Digest) Add(p *paper.Paper) error {
	if p.ID == "" {
		return fmt.Errorf("learn: paper %q has no ID", p.Title)
	}
	d.add(p, listingDay(p), nil)
	return nil
}

// listingDay is p's listing day, UTC midnight; zero without a date.
func listingDay(p *paper.Paper) time.Time {
	if t := feed.Date(p); !t.IsZero() {
		return t.UTC().Truncate(24 * time.Hour)
	}
	return time.Time{}
}

// add hashes what the model and the choice read of p, and which topics'
// rules take it, calling took for each of those.
func (d *Digest) add(p *paper.Paper, day time.Time, took func(k int)) {
	d.addSum(d.sum(p, day), p, took)
}

// sum is the digest of what the model and the choice read of p, in
// d.digest.
func (d *Digest) sum(p *paper.Paper, day time.Time) *[sha256.Size]byte {
	b := d.buf[:0]
	for _, f := range []string{p.ID, p.Title, p.Abstract} {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(day.Unix()))
	d.digest = sha256.Sum256(b)
	d.buf = b
	return &d.digest
}

// addSum adds the paper of digest sum; p, which only the topics' rules
// read, may be nil when no topic has rules.
func (d *Digest) addSum(sum *[sha256.Size]byte, p *paper.Paper, took func(k int)) {
	d.all.add(sum)
	for k, t := range d.topics {
		if !t.Rules {
			continue
		}
		if ok, _ := d.router.Take(t.Index, p); ok {
			d.took[k].add(sum)
			if took != nil {
				took(k)
			}
		}
	}
}

// SameText reports whether a paper that changed from before to after has
// the same ID, title, abstract and listing day: what every topic's Inputs
// read of each paper of the history. A change of these in one paper, or a
// paper added to the history or removed, changes every topic's Inputs.
func SameText(before, after *paper.Paper) bool {
	return before.ID == after.ID && before.Title == after.Title && before.Abstract == after.Abstract &&
		listingDay(before).Equal(listingDay(after))
}

// Unchanged reports whether a paper that changed from before to after (the
// same ID) leaves the Inputs of every topic of router as they were: it has
// the same text (SameText), and each topic with rules takes both or
// neither. A history that changed in such papers only (no paper added or
// removed) has the Inputs it had, so a caller that knows what a write
// changed keeps its Results without a pass over the history.
func Unchanged(router *topic.Router, topics []Topic, before, after *paper.Paper) bool {
	if !SameText(before, after) {
		return false
	}
	for _, t := range topics {
		if !t.Rules {
			continue
		}
		was, _ := router.Take(t.Index, before)
		if is, _ := router.Take(t.Index, after); is != was {
			return false
		}
	}
	return true
}

// New returns a Learner for topics, whose Index are topics of router,
// building its corpus with options o.
func New(router *topic.Router, topics []Topic, o like.Options) (*Learner, error) {
	d, err := NewDigest(router, topics, o)
	if err != nil {
		return nil, err
	}
	b, err := like.NewBuilder(o)
	if err != nil {
		return nil, fmt.Errorf("learn: %w", err)
	}
	return &Learner{b: b, topics: topics, takes: make([][]uint64, len(topics)),
		d: d, known: make([]*Result, len(topics))}, nil
}

// Inputs are, by topic, the digests of everything its Result depends on
// (see the package comment), as hex; call it once every paper is added.
func (l *Learner) Inputs() []string { return l.d.Inputs() }

// Inputs are, by topic, the digests of everything its Result depends on,
// as a Learner given the same papers gives them.
func (d *Digest) Inputs() []string {
	out := make([]string, len(d.topics))
	for k, t := range d.topics {
		t.Index = 0 // where the topic is in the router changes nothing
		cfg, err := json.Marshal(struct {
			V int
			T Topic
			O like.Options
		}{ModelVersion, t, d.opt})
		if err != nil { // plain data always marshals
			panic(err)
		}
		h := sha256.New()
		h.Write(cfg)
		d.all.write(h)
		if t.Rules {
			d.took[k].write(h)
		}
		out[k] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// Known gives topic k's Result from an earlier pass whose Inputs for it
// were those of this one: Train returns r as it is and does not train the
// topic.
func (l *Learner) Known(k int, r Result) {
	l.known[k] = &r
}

// Add adds a paper of the history: to the corpus, and to the candidates of
// each topic whose rules take it.
func (l *Learner) Add(p *paper.Paper) error {
	_, err := l.add(p, 0)
	return err
}

// add adds p, whose record has checksum sum, and returns what a Cache keeps
// of it.
func (l *Learner) add(p *paper.Paper, sum uint32) (cached, error) {
	if err := l.b.Add(p); err != nil {
		return cached{}, fmt.Errorf("learn: %w", err)
	}
	c := cached{sum: sum, day: listingDay(p), toks: l.b.Tokens()}
	c.digest = *l.d.sum(p, c.day)
	l.addPaper(p.ID, &c, p)
	return c, nil
}

// addPaper adds the paper id, whose digest and listing day c has, to the
// candidates and the Inputs; p is the paper, for the topics' rules (nil
// when no topic has rules).
func (l *Learner) addPaper(id string, c *cached, p *paper.Paper) {
	i := len(l.papers)
	l.papers = append(l.papers, candidate{id: id, day: c.day})
	for k, t := range l.topics {
		if t.Rules && i>>6 >= len(l.takes[k]) {
			l.takes[k] = append(l.takes[k], 0)
		}
	}
	l.d.addSum(&c.digest, p, func(k int) { l.takes[k][i>>6] |= 1 << (i & 63) })
}

// Train builds the corpus from the papers added, trains every topic not
// Known and chooses its papers. The Learner cannot be used afterwards.
// Results are in the order of the topics.
func (l *Learner) Train() ([]Result, error) {
	// What a Cache needs is written already (WriteCache): 13 MB at
	// 100,000 papers, not held while the corpus is built.
	l.cache, l.keep = nil, nil
	if !slices.Contains(l.known, nil) {
		results := make([]Result, len(l.topics))
		for k, r := range l.known {
			results[k] = *r
		}
		l.b, l.papers, l.takes = nil, nil, nil
		return results, nil
	}
	corpus, err := l.b.Build()
	l.b = nil
	results := make([]Result, len(l.topics))
	for k, t := range l.topics {
		results[k].Slug = t.Slug
	}
	switch {
	case errors.Is(err, like.ErrNoPapers):
		// An empty history lacks every seed.
		missing := &MissingError{Seeds: map[string][]string{}}
		for k, t := range l.topics {
			if l.known[k] != nil {
				continue
			}
			ids := slices.Concat(t.Seeds.Like, t.Seeds.Unlike)
			slices.Sort(ids)
			missing.Seeds[t.Slug] = slices.Compact(ids)
		}
		return nil, missing
	case errors.Is(err, like.ErrNoFeatures):
		for k := range results {
			if l.known[k] != nil {
				results[k] = *l.known[k]
			} else {
				results[k].Err = err
			}
		}
		return results, nil
	case err != nil:
		return nil, fmt.Errorf("learn: %w", err)
	}
	// The topics train at the same time, one a core: each reads the
	// corpus only. The outcome is in the topics' order whatever the
	// order they finish in.
	// Each paper's place in the corpus, found once for every topic.
	at := make([]int32, len(l.papers))
	for i, c := range l.papers {
		j, ok := corpus.Index(c.id)
		if !ok { // every paper added is in the corpus
			return nil, fmt.Errorf("learn: paper %s is not in the corpus", c.id)
		}
		at[i] = int32(j)
	}
	trained := make([]Result, len(l.topics))
	errs := make([]error, len(l.topics))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(l.topics)) {
		wg.Go(func() {
			for k := range next {
				trained[k], errs[k] = l.train(corpus, at, k)
			}
		})
	}
	for k := range l.topics {
		if l.known[k] == nil {
			next <- k
		}
	}
	close(next)
	wg.Wait()
	missing := &MissingError{Seeds: map[string][]string{}}
	for k, t := range l.topics {
		res, err := trained[k], errs[k]
		var me *like.MissingError
		switch {
		case l.known[k] != nil:
			results[k] = *l.known[k]
		case errors.As(err, &me):
			missing.Seeds[t.Slug] = me.IDs
		case errors.Is(err, like.ErrNoWords):
			results[k].Err = err
		case err != nil:
			return nil, fmt.Errorf("learn: topic %s: %w", t.Slug, err)
		default:
			results[k] = res
		}
	}
	l.papers, l.takes = nil, nil
	if len(missing.Seeds) > 0 {
		return nil, missing
	}
	return results, nil
}

// train trains topic k and chooses its papers among those its rules
// take; at is each paper's place in the corpus.
func (l *Learner) train(corpus *like.Corpus, at []int32, k int) (Result, error) {
	t, take := l.topics[k], l.takes[k]
	m, err := corpus.Train(t.Seeds)
	if err != nil {
		return Result{}, err
	}
	seed := map[string]bool{}
	for _, id := range slices.Concat(t.Seeds.Like, t.Seeds.Unlike) {
		seed[id] = true
	}
	res := Result{Slug: t.Slug, Stats: m.Stats()}
	// Every paper's score, 16 bytes each, then picks for the chosen only.
	type scoredPaper struct {
		i     int32 // in l.papers
		score float64
	}
	var scored []scoredPaper
	for i, c := range l.papers {
		if take != nil && take[i>>6]&(1<<(i&63)) == 0 {
			continue
		}
		res.Candidates++
		if seed[c.id] {
			continue
		}
		s := m.Score(corpus.At(int(at[i])))
		if t.MinScore != nil && s < *t.MinScore {
			continue
		}
		scored = append(scored, scoredPaper{int32(i), s})
	}
	pick := func(sp scoredPaper) Pick {
		return Pick{ID: l.papers[sp.i].id, Day: l.papers[sp.i].day, Score: sp.score}
	}
	slices.SortFunc(scored, func(a, b scoredPaper) int { return comparePicks(pick(a), pick(b)) })
	for i := 0; i < len(scored) && (t.Keep == 0 || len(res.Picks) < t.Keep); {
		day := l.papers[scored[i].i].day
		j := i
		for j < len(scored) && l.papers[scored[j].i].day.Equal(day) {
			j++
		}
		for _, sp := range scored[i:min(j, i+t.Top)] {
			p := pick(sp)
			p.Pro, p.Con = m.Explain(corpus.At(int(at[sp.i])), explainTerms)
			res.Picks = append(res.Picks, p)
		}
		i = j
	}
	res.Picks = slices.Clip(res.Picks)
	return res, nil
}

// comparePicks orders picks newest day first, then highest score, then by
// ID.
func comparePicks(a, b Pick) int {
	if c := b.Day.Compare(a.Day); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Score, a.Score); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}
