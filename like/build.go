package like

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paperfeed/paperfeed/paper"
)

// Builder fits a Corpus on a history given one paper at a time, in any
// order (store.ForEach hands them over so): it keeps each paper's words as
// token numbers, not its text.
type Builder struct {
	opt   Options
	dict  map[string]int32 // word -> provisional token, in order of arrival
	words []string         // provisional token -> word
	docs  []entry
	sc    scanner
	toks  []int32 // scratch
	built bool
}

// withStopWords adds the stop words to m, as tokStop, and returns it.
func withStopWords(m map[string]int32) map[string]int32 {
	if m == nil {
		m = make(map[string]int32, len(stopWords))
	}
	for w := range stopWords {
		m[w] = tokStop
	}
	return m
}

// entry is one paper of a Builder: its ID and its tokens, -1 between
// phrases. Each paper has a slice of its own, of its exact length: one
// slice for the whole history would be copied as it grows, and briefly
// held twice.
type entry struct {
	id   string
	toks []int32
}

// NewBuilder returns a Builder with options o (zero fields take their
// defaults), or an error naming every option out of range.
func NewBuilder(o Options) (*Builder, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Builder{opt: o, dict: withStopWords(nil)}, nil
}

// Add adds p's title and abstract. A paper without an ID is an error;
// several papers with one ID fail Build.
func (b *Builder) Add(p *paper.Paper) error {
	if b.built {
		return errors.New("like: add: the builder was built already")
	}
	if p.ID == "" {
		return fmt.Errorf("like: add: paper %q has no ID", p.Title)
	}
	b.toks = b.toks[:0]
	add := func(word []byte, joined bool) {
		t, ok := b.dict[string(word)]
		if !ok {
			t = int32(len(b.words))
			w := string(word)
			b.dict[w] = t
			b.words = append(b.words, w)
		}
		b.toks = push(b.toks, t, joined)
	}
	b.sc.scan(p.Title, add)
	b.sc.scan(p.Abstract, add)
	b.docs = append(b.docs, entry{id: p.ID, toks: slices.Clone(b.toks)})
	return nil
}

// Words are the words of the papers added so far, in the order they came:
// the numbers of Tokens. Seed gives them to a later Builder, so that the
// tokens kept from this one are valid there. Valid until Build.
func (b *Builder) Words() []string { return b.words }

// Tokens are the tokens of the paper added last, numbered as Words, -1
// between phrases: what AddTokens takes. Valid until Build, which
// renumbers them.
func (b *Builder) Tokens() []int32 {
	if len(b.docs) == 0 {
		return nil
	}
	return b.docs[len(b.docs)-1].toks
}

// Seed starts the Builder's dictionary with words, an earlier Builder's
// Words, before any paper is added; papers added afterwards add theirs.
// Words that CheckWords refuses are an error.
func (b *Builder) Seed(words []string) error {
	if b.built || len(b.words) > 0 || len(b.docs) > 0 {
		return errors.New("like: seed: the builder has words already")
	}
	if err := CheckWords(words); err != nil {
		return fmt.Errorf("like: seed: %w", err)
	}
	for i, w := range words {
		b.dict[w] = int32(i)
	}
	b.words = slices.Clip(words) // Add appends to a copy, not to the caller's array
	return nil
}

// CheckWords reports the first of words that could not seed a dictionary:
// one that repeats, that is a stop word or that no text could give, with
// which the dictionary would tokenise new papers otherwise than Add does.
func CheckWords(words []string) error {
	seen := make(map[string]bool, len(words))
	var sc scanner
	var got []byte
	for i, w := range words {
		n := 0
		sc.scan(w, func(word []byte, _ bool) { got, n = append(got[:0], word...), n+1 })
		switch {
		case stopWords[w]:
			return fmt.Errorf("word %d, %q, is a stop word", i, w)
		case seen[w]:
			return fmt.Errorf("word %d, %q, repeats", i, w)
		case n != 1 || string(got) != w:
			return fmt.Errorf("word %d, %q, is not a word as the tokeniser reads them", i, w)
		}
		seen[w] = true
	}
	return nil
}

// AddTokens adds the paper id by its tokens, numbered as Words (or as the
// words given to Seed), as Tokens gave them for it. The Builder keeps toks.
// A token out of range is an error; the result of Build is that of Add
// given the paper's title and abstract again.
func (b *Builder) AddTokens(id string, toks []int32) error {
	if b.built {
		return errors.New("like: add: the builder was built already")
	}
	if id == "" {
		return errors.New("like: add: a paper's tokens have no ID")
	}
	for _, t := range toks {
		if t < -1 || int(t) >= len(b.words) {
			return fmt.Errorf("like: add: paper %s has token %d, not one of the %d words", id, t, len(b.words))
		}
	}
	b.docs = append(b.docs, entry{id: id, toks: toks})
	return nil
}

// ErrNoPapers is Build's error for a history without papers.
var ErrNoPapers = errors.New("like: no papers to learn from")

// ErrNoFeatures is Build's error for a history where no word passes the
// document-frequency cut-offs, such as a history of one paper.
var ErrNoFeatures = errors.New("like: no word is in enough papers")

// candidate is a word or bigram that may become a feature: key orders it
// as its text would sort (see Build), df is its document frequency.
type candidate struct {
	key uint64
	df  int32
}

// Build fits the vocabulary on the papers added and vectorises them. The
// result depends on the papers only, not on the order they were added in:
// papers are sorted by ID and tokens by their text before anything is
// counted. The Builder cannot be used afterwards.
func (b *Builder) Build() (*Corpus, error) {
	if b.built {
		return nil, errors.New("like: build: the builder was built already")
	}
	b.built = true
	defer func() { b.dict, b.words, b.docs, b.toks = nil, nil, nil, nil }()
	n := len(b.docs)
	if n == 0 {
		return nil, ErrNoPapers
	}
	slices.SortFunc(b.docs, func(x, y entry) int { return cmp.Compare(x.id, y.id) })
	for i := 1; i < n; i++ {
		if b.docs[i].id == b.docs[i-1].id {
			return nil, fmt.Errorf("like: build: paper %s was added twice", b.docs[i].id)
		}
	}

	// Renumber the tokens in the order of their text, so that numbers,
	// keys and ties do not depend on the order papers arrived in. Words
	// have no byte below '0', so ordering a bigram by its two words' ranks
	// is ordering it by its text, and a word sorts before its bigrams.
	order := make([]int32, len(b.words))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return cmp.Compare(b.words[x], b.words[y]) })
	rank := make([]int32, len(b.words))
	for r, t := range order {
		rank[t] = int32(r)
	}
	for _, e := range b.docs {
		for i, t := range e.toks {
			if t >= 0 {
				e.toks[i] = rank[t]
			}
		}
	}
	words := make([]string, len(order))
	for r, t := range order {
		words[r] = b.words[t]
	}
	b.words, b.dict = nil, nil

	// Document frequencies: of words, then of the bigrams whose two words
	// are both frequent enough, since a bigram is in no more papers than
	// either of its words.
	df := make([]int32, len(words))
	last := make([]int32, len(words))
	for i := range last {
		last[i] = -1
	}
	for d, e := range b.docs {
		for _, t := range e.toks {
			if t >= 0 && last[t] != int32(d) {
				last[t] = int32(d)
				df[t]++
			}
		}
	}
	minDF := int32(b.opt.MinDF)
	maxDF := b.opt.MaxDF * float64(n)
	keep := func(f int32) bool { return f >= minDF && float64(f) <= maxDF }
	// When MaxFeatures words pass the cut-offs, the features kept have at
	// least the document frequency of the MaxFeatures-th of those words, and
	// so have both words of every bigram kept: bigrams of rarer words need
	// no counting. This keeps the map of bigrams small; the features are
	// the same.
	floor := minDF
	var udf []int32
	for _, f := range df {
		if keep(f) {
			udf = append(udf, f)
		}
	}
	if len(udf) >= b.opt.MaxFeatures {
		slices.Sort(udf)
		floor = max(floor, udf[len(udf)-b.opt.MaxFeatures])
	}
	udf = nil
	word := b.denseWords(df, floor)
	bigrams := b.countBigrams(word, max(floor, minDF), bigramChunk)
	// Features: words (key rank<<32) and bigrams (key a<<32 | b+1) within
	// the cut-offs; the most frequent MaxFeatures of them, numbered in the
	// order of their keys.
	var cands []candidate
	for t, f := range df {
		if keep(f) {
			cands = append(cands, candidate{key: uint64(t) << 32, df: f})
		}
	}
	for _, c := range bigrams {
		if float64(c.df) <= maxDF {
			cands = append(cands, c)
		}
	}
	bigrams = nil
	if len(cands) == 0 {
		return nil, fmt.Errorf("%w: of %d papers, none has a word found in %d to %.0f of them", ErrNoFeatures, n, minDF, math.Floor(maxDF))
	}
	if len(cands) > b.opt.MaxFeatures {
		slices.SortFunc(cands, func(x, y candidate) int {
			if c := cmp.Compare(y.df, x.df); c != 0 {
				return c
			}
			return cmp.Compare(x.key, y.key)
		})
		cands = cands[:b.opt.MaxFeatures]
	}
	slices.SortFunc(cands, func(x, y candidate) int { return cmp.Compare(x.key, y.key) })

	// The vocabulary keeps the words that are features or parts of one,
	// renumbered densely in the same order.
	need := make([]bool, len(words))
	for _, c := range cands {
		a, bb := int32(c.key>>32), int32(uint32(c.key))-1
		need[a] = true
		if bb >= 0 {
			need[bb] = true
		}
	}
	vtok := make([]int32, len(words)) // rank -> vocabulary token, or -1
	v := &Vocab{
		tokens: withStopWords(nil),
		bi:     map[uint64]int32{},
		terms:  make([]string, len(cands)),
		idf:    make([]float64, len(cands)),
		df:     make([]int32, len(cands)),
	}
	for r := range vtok {
		vtok[r] = -1
		if need[r] {
			vtok[r] = int32(len(v.uni))
			v.tokens[words[r]] = vtok[r]
			v.uni = append(v.uni, -1)
		}
	}
	for f, c := range cands {
		a, bb := int32(c.key>>32), int32(uint32(c.key))-1
		if bb < 0 {
			v.uni[vtok[a]] = int32(f)
			v.terms[f] = words[a]
		} else {
			v.bi[pair(vtok[a], vtok[bb])] = int32(f)
			v.terms[f] = words[a] + " " + words[bb]
		}
		v.df[f] = c.df
		v.idf[f] = ln(float64(1+n)/float64(1+c.df)) + 1
	}

	// Vectors, through the same weigh as a paper outside the corpus.
	// Each paper's tokens are dropped as soon as its vector is made.
	c := &Corpus{
		vocab: v,
		opt:   b.opt,
		ids:   make([]string, n),
		feats: make([][]uint32, n),
	}
	dtok := make([]int32, len(word)) // dense word -> vocabulary token, or -1
	for d, r := range word {
		dtok[d] = vtok[r]
	}
	var w weigher
	var f []uint32
	for d := range b.docs {
		e := &b.docs[d]
		c.ids[d] = e.id
		for i, t := range e.toks {
			if t >= 0 {
				e.toks[i] = dtok[t]
			}
		}
		f = w.weigh(v, e.toks, f[:0])
		e.toks = nil
		c.feats[d] = slices.Clone(f)
	}
	return c, nil
}

// denseWords renumbers the papers' tokens in place: the words in at least
// floor papers (df holds the words' document frequencies) densely, in the
// order of their ranks, and every other word to -1. It returns the rank of
// each dense word. No feature is in fewer papers than floor (at least
// MaxFeatures words are in floor papers), nor is either word of a bigram
// that is one, so a rarer word only keeps the words on its two sides from
// making a bigram, as a phrase break (-1) does; a vector is the same from
// either. Dense numbers keep the bigrams of a range of first words below
// 2³² (see countBigrams), and reading them needs no table of every word of
// the history, whose lookups were a cache miss each, once per range.
func (b *Builder) denseWords(df []int32, floor int32) []int32 {
	dense := make([]int32, len(df))
	var word []int32 // dense -> rank
	for t, f := range df {
		dense[t] = -1
		if f >= floor {
			dense[t] = int32(len(word))
			word = append(word, int32(t))
		}
	}
	for _, e := range b.docs {
		for i, t := range e.toks {
			if t >= 0 {
				e.toks[i] = dense[t]
			}
		}
	}
	return word
}

// countBigrams returns the bigrams found in at least threshold papers, as
// candidates of key a<<32 | b+1 of the two words' ranks, in the order of
// keys. The papers' tokens are dense words (see denseWords, which returned
// word, the rank of each).
//
// Most bigrams of a history are in one paper only, and a map of them all
// took 86 MB for the 100,000 papers of BenchmarkBuild, the most memory of
// the whole build. So the bigrams are counted a range of first words at a
// time: each paper's bigrams of the range, once each, are appended as
// 32-bit numbers, which are sorted by radix; a run of one number is a
// bigram's papers. A count-min sketch with a map of the bigrams it let
// through (what this replaced) took 2.6 s of a build's 6.6 s of CPU at
// 100,000 papers, cache misses on its 16 MB of counters and the map's
// mostly; this takes 1.2 s (BenchmarkBuildMemory's profile) and raises
// its peak heap from 149 to 151 MB (medians of 3, A/B); the features are
// the same. Most of that time is the passes over the tokens, one a range:
// with 4M numbers a range rather than bigramChunk's 2M it took 0.8 s, but
// BenchmarkBuild's peak heap came to 186 MB, near its 192 MiB limit. chunk
// is the most numbers a range appends (bigramChunk; tests set fewer to
// have many ranges).
func (b *Builder) countBigrams(word []int32, threshold int32, chunk int) []candidate {
	nw := uint64(len(word))
	if nw == 0 {
		return nil
	}
	// Occurrences of bigrams by first word bound the numbers a range
	// appends, which bounds the memory: at most chunk numbers (unless one
	// word has more), and as many again to sort them.
	occ := make([]int, nw)
	total := 0
	for _, e := range b.docs {
		prev := int32(-1)
		for _, t := range e.toks {
			if t >= 0 && prev >= 0 {
				occ[prev]++
				total++
			}
			prev = t
		}
	}
	keys := make([]uint32, 0, min(total, chunk))
	var tmp []uint32
	var set paperSet
	var out []candidate
	for lo := uint64(0); lo < nw; {
		hi, n := lo, 0
		for hi < nw && (hi == lo || n+occ[hi] <= chunk) && (hi+1-lo)*nw <= 1<<32 {
			n += occ[hi]
			hi++
		}
		keys = keys[:0]
		for _, e := range b.docs {
			set.reset(len(e.toks))
			prev := int32(-1)
			for _, t := range e.toks {
				// prev in [lo, hi), by one comparison of unsigned numbers
				if a := uint64(prev) - lo; t >= 0 && prev >= 0 && a < hi-lo {
					k := uint32(a*nw + uint64(t))
					if set.add(k) {
						keys = append(keys, k)
					}
				}
				prev = t
			}
		}
		if cap(tmp) < len(keys) {
			tmp = make([]uint32, len(keys))
		}
		radixSort(keys, tmp[:len(keys)])
		for i := 0; i < len(keys); {
			j := i + 1
			for j < len(keys) && keys[j] == keys[i] {
				j++
			}
			if int32(j-i) >= threshold {
				a, bb := word[lo+uint64(keys[i])/nw], word[uint64(keys[i])%nw]
				out = append(out, candidate{key: pair(a, bb) + 1, df: int32(j - i)})
			}
			i = j
		}
		lo = hi
	}
	return out
}

// bigramChunk is the most bigram numbers countBigrams appends at a time:
// 8 MB, and as much again to sort them.
const bigramChunk = 1 << 21

// radixSort sorts keys, using tmp (as long) as scratch space.
func radixSort(keys, tmp []uint32) {
	for shift := 0; shift < 32; shift += 8 {
		var count [256]int
		for _, k := range keys {
			count[k>>shift&0xff]++
		}
		at := 0
		for i, c := range count {
			count[i] = at
			at += c
		}
		for _, k := range keys {
			d := k >> shift & 0xff
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	// Four passes: the sorted keys are back in keys.
}

// paperSet is a set of one paper's bigram numbers, so that each counts
// once per paper: open addressing, emptied in constant time by a new
// generation.
type paperSet struct {
	slots []uint64 // generation<<32 | number
	gen   uint64
}

// reset empties the set for a paper of n tokens.
func (s *paperSet) reset(n int) {
	size := 64
	for size < 2*n {
		size <<= 1
	}
	s.gen++
	if size > len(s.slots) || s.gen == 1<<32 {
		s.slots = make([]uint64, size)
		s.gen = 1
	}
}

// add adds k and reports whether it was not in the set yet. The table has
// twice as many slots as the paper's tokens, so it never fills.
func (s *paperSet) add(k uint32) bool {
	mask := uint64(len(s.slots) - 1)
	want := s.gen<<32 | uint64(k)
	for i := uint64(k) * 0x9e3779b97f4a7c15 >> 32 & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case want:
			return false
		default:
			if s.slots[i]>>32 != s.gen {
				s.slots[i] = want
				return true
			}
		}
	}
}

// Fit builds a Corpus from papers: a Builder given each of them.
func Fit(papers []paper.Paper, o Options) (*Corpus, error) {
	b, err := NewBuilder(o)
	if err != nil {
		return nil, err
	}
	for i := range papers {
		if err := b.Add(&papers[i]); err != nil {
			return nil, err
		}
	}
	return b.Build()
}

// Corpus is a history ready to train models on: its vocabulary and every
// paper's vector, in ID order. It is immutable and safe for concurrent use;
// models of one Corpus may be trained at the same time.
type Corpus struct {
	vocab *Vocab
	opt   Options
	ids   []string   // sorted
	feats [][]uint32 // of ids[i], packed as in Vector
}

// Vocab is the corpus's vocabulary.
func (c *Corpus) Vocab() *Vocab { return c.vocab }

// Len is the number of papers.
func (c *Corpus) Len() int { return len(c.ids) }

// ID is the ID of paper i, in increasing order of IDs.
func (c *Corpus) ID(i int) string { return c.ids[i] }

// Index is the position of the paper with the given ID, and whether the
// corpus has it.
func (c *Corpus) Index(id string) (int, bool) {
	return slices.BinarySearch(c.ids, id)
}

// At is the vector of paper i.
func (c *Corpus) At(i int) Vector { return Vector{f: c.feats[i], vocab: c.vocab} }

// Vector is the vector of the paper with the given ID, and whether the
// corpus has it.
func (c *Corpus) Vector(id string) (Vector, bool) {
	i, ok := c.Index(id)
	if !ok {
		return Vector{}, false
	}
	return c.At(i), true
}
