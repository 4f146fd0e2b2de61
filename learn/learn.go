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
// Costs. The corpus (some 800 bytes a paper, see like's Costs) lives only
// within Train; a Learner keeps besides it an ID and a day per paper and a
// bit per paper for each topic with rules, a topic's training 16 bytes a
// paper it scores, and a Result only its choices.
package learn

import (
	"cmp"
	"errors"
	"fmt"
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

// candidate is a paper of the history, as the topics choose among them.
type candidate struct {
	id  string
	day time.Time
}

// Learner learns like-topics from one pass over the history. It is not safe
// for concurrent use.
type Learner struct {
	b      *like.Builder
	router *topic.Router
	topics []Topic
	// papers are the papers added, in order, once for every topic: a list
	// of candidates a topic took 4 MB at 100,000 papers, and a hundred
	// like-topics had 400 MB of them.
	papers []candidate
	// takes are, by topic, the papers its rules take, a bit each by
	// position in papers; nil for a topic without rules, which takes all.
	takes [][]uint64
}

// New returns a Learner for topics, whose Index are topics of router,
// building its corpus with options o.
func New(router *topic.Router, topics []Topic, o like.Options) (*Learner, error) {
	b, err := like.NewBuilder(o)
	if err != nil {
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
	return &Learner{b: b, router: router, topics: topics, takes: make([][]uint64, len(topics))}, nil
}

// Add adds a paper of the history: to the corpus, and to the candidates of
// each topic whose rules take it.
func (l *Learner) Add(p *paper.Paper) error {
	if err := l.b.Add(p); err != nil {
		return fmt.Errorf("learn: %w", err)
	}
	var day time.Time
	if d := feed.Date(p); !d.IsZero() {
		day = d.UTC().Truncate(24 * time.Hour)
	}
	i := len(l.papers)
	l.papers = append(l.papers, candidate{id: p.ID, day: day})
	for k, t := range l.topics {
		if !t.Rules {
			continue
		}
		if i>>6 >= len(l.takes[k]) {
			l.takes[k] = append(l.takes[k], 0)
		}
		if ok, _ := l.router.Take(t.Index, p); ok {
			l.takes[k][i>>6] |= 1 << (i & 63)
		}
	}
	return nil
}

// Train builds the corpus from the papers added, trains every topic and
// chooses its papers. The Learner cannot be used afterwards. Results are in
// the order of the topics.
func (l *Learner) Train() ([]Result, error) {
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
		for _, t := range l.topics {
			ids := slices.Concat(t.Seeds.Like, t.Seeds.Unlike)
			slices.Sort(ids)
			missing.Seeds[t.Slug] = slices.Compact(ids)
		}
		return nil, missing
	case errors.Is(err, like.ErrNoFeatures):
		for k := range results {
			results[k].Err = err
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
		next <- k
	}
	close(next)
	wg.Wait()
	missing := &MissingError{Seeds: map[string][]string{}}
	for k, t := range l.topics {
		res, err := trained[k], errs[k]
		var me *like.MissingError
		switch {
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
