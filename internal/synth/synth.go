// Package synth makes large, realistic inputs for benchmarks and budget
// measurements from the real Daily Papers answer: a history of many papers
// and many keyword topics drawn from real abstracts. It is deterministic:
// the same arguments give the same papers and topics.
package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/paperfeed/paperfeed/paper"
)

// entry is the part of a Daily Papers API entry synth reads.
type entry struct {
	Paper struct {
		Title   string `json:"title"`
		Summary string `json:"summary"`
		Authors []struct {
			Name string `json:"name"`
		} `json:"authors"`
	} `json:"paper"`
}

func parse(fixture []byte) ([]entry, error) {
	var entries []entry
	if err := json.Unmarshal(fixture, &entries); err != nil {
		return nil, fmt.Errorf("synth: fixture: %w", err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("synth: fixture has no papers")
	}
	return entries, nil
}

// Day is the newest listing day of the papers Papers makes.
var Day = time.Date(2026, 6, 11, 0, 0, 0, 0, time.UTC)

// Papers makes n papers from the fixture's texts under new arXiv ids, spread
// over 90 listing days ending at Day, with upvotes from 0 to 49.
func Papers(fixture []byte, n int) ([]paper.Paper, error) {
	entries, err := parse(fixture)
	if err != nil {
		return nil, err
	}
	out := make([]paper.Paper, n)
	for i := range out {
		e := entries[i%len(entries)].Paper
		p := paper.Paper{
			ID:       fmt.Sprintf("25%02d.%05d", 1+i/90_000%12, i%90_000),
			Title:    e.Title,
			Abstract: e.Summary,
			Day:      Day.AddDate(0, 0, -(i % 90)),
			Upvotes:  i % 50,
			Sources:  []string{"hf"},
		}
		for _, a := range e.Authors {
			p.Authors = append(p.Authors, a.Name)
		}
		out[i] = p
	}
	return out, nil
}

// DistinctPapers is Papers with every abstract rewritten into a text of
// its own, of the same number of words: runs of two to four words drawn
// from the first papers' abstracts, and one word in eight a rare one drawn
// from a Zipf law. Papers repeats the fixture's thirty abstracts, which is
// what routing and rendering need; a learner needs papers that differ, as
// real ones do, or each liked paper has thousands of exact copies among
// the papers it is to be told apart from.
func DistinctPapers(fixture []byte, n int) ([]paper.Paper, error) {
	papers, err := Papers(fixture, n)
	if err != nil {
		return nil, err
	}
	var words []string
	for i := range min(n, 30) {
		words = append(words, strings.Fields(papers[i].Abstract)...)
	}
	if len(words) == 0 {
		return papers, nil
	}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, 1_000_000)
	var b strings.Builder
	for i := range papers {
		b.Reset()
		for left := len(strings.Fields(papers[i].Abstract)); left > 0; {
			if rng.IntN(8) == 0 {
				b.WriteString("q" + strconv.FormatUint(zipf.Uint64(), 36) + " ")
				left--
				continue
			}
			at := rng.IntN(len(words))
			for _, w := range words[at:min(len(words), at+2+rng.IntN(3))] {
				b.WriteString(w + " ")
				left--
			}
		}
		papers[i].Abstract = b.String()
	}
	return papers, nil
}

// Topic is one generated keyword topic.
type Topic struct {
	Slug, Title       string
	Keywords, Exclude []string
	Limit             int
}

// Topics makes n topics of 1-4 keywords drawn from the words of the
// fixture's abstracts, some of them phrases or prefixes, a quarter with an
// exclude keyword.
func Topics(fixture []byte, n int) ([]Topic, error) {
	entries, err := parse(fixture)
	if err != nil {
		return nil, err
	}
	var words []string
	for _, e := range entries {
		for _, w := range strings.FieldsFunc(strings.ToLower(e.Paper.Summary), func(r rune) bool { return !('a' <= r && r <= 'z') }) {
			if len(w) > 4 {
				words = append(words, w)
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func() string { return words[rng.IntN(len(words))] }
	out := make([]Topic, n)
	for i := range out {
		t := Topic{Slug: fmt.Sprintf("t%03d", i), Title: fmt.Sprintf("Topic %d", i), Limit: 100}
		for range 1 + rng.IntN(4) {
			switch rng.IntN(4) {
			case 0:
				t.Keywords = append(t.Keywords, pick()+" "+pick())
			case 1:
				t.Keywords = append(t.Keywords, pick()[:4]+"*")
			default:
				t.Keywords = append(t.Keywords, pick())
			}
		}
		if rng.IntN(4) == 0 {
			t.Exclude = []string{pick()}
		}
		out[i] = t
	}
	return out, nil
}
