package like

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paperfeed/paperfeed/paper"
)

// Vocab is the vocabulary fitted on a history: its features (words and
// bigrams) and their inverse document frequencies. It is immutable and safe
// for concurrent use.
type Vocab struct {
	tokens map[string]int32 // every word that is a feature or part of one
	uni    []int32          // token -> its unigram feature, or -1
	bi     map[uint64]int32 // pair(token, token) -> bigram feature
	terms  []string         // feature -> "word" or "word word"
	idf    []float64        // feature -> ln((1+n)/(1+df)) + 1
	df     []int32          // feature -> document frequency
}

// Len is the number of features.
func (v *Vocab) Len() int { return len(v.terms) }

// Term is the text of feature id: a word, or two words and a space.
func (v *Vocab) Term(id uint32) string { return v.terms[id] }

// DF is the number of papers of the history that have feature id.
func (v *Vocab) DF(id uint32) int { return int(v.df[id]) }

// Vector is a paper's tf-idf vector: the features it has, in increasing
// order, with their weights, of Euclidean norm 1 up to rounding (or no
// features at all). Vectors come from Vocab.Vector and Corpus.At.
//
// Each feature takes 32 bits: its number in the high 16 (so a vocabulary
// has at most 65,536 features) and its weight in the low 16, in units of
// 1/65535. A history's vectors are most of the memory a Corpus needs, and
// 32-bit numbers with float32 weights take twice as much: 160 MB rather
// than 80 for the 100,000 papers of BenchmarkBuild, past the memory budget
// of the whole program. A weight is then off by at most 1/131070, which
// moves no paper of TestPrecision's rankings.
type Vector struct {
	f     []uint32
	vocab *Vocab
}

// weightUnit is the weight of one unit of a Vector's 16-bit weights.
const weightUnit = 1.0 / 65535

// FeatureLimit is the most features a vocabulary can have (see Vector).
const FeatureLimit = 1 << 16

// Len is the number of features v has.
func (v Vector) Len() int { return len(v.f) }

// Term is the number of v's k-th feature.
func (v Vector) Term(k int) uint32 { return v.f[k] >> 16 }

// Weight is the weight of v's k-th feature.
func (v Vector) Weight(k int) float64 { return unpack(v.f[k]) }

// unpack is the weight of a packed feature.
func unpack(f uint32) float64 { return float64(float64(f&0xffff) * weightUnit) }

// Vector is p's vector: title and abstract tokenised, the words and bigrams
// of the vocabulary counted, each weighted (1 + ln tf)·idf, and the whole
// scaled to norm 1. A paper of the history gets the same vector, bit for
// bit, as the Corpus holds for it.
func (v *Vocab) Vector(p *paper.Paper) Vector {
	var toks []int32
	add := func(word []byte, joined bool) {
		t, ok := v.tokens[string(word)]
		if !ok {
			t = -1
		}
		toks = push(toks, t, joined)
	}
	var s scanner
	s.scan(p.Title, add)
	s.scan(p.Abstract, add)
	var w weigher
	return Vector{f: w.weigh(v, toks, nil), vocab: v}
}

// weigher turns token sequences into weighted features, keeping its
// scratch space between papers.
type weigher struct {
	feats []uint32
	xs    []float64
}

// weigh appends the features of toks, a paper's token sequence (-1 for a
// word outside the vocabulary or a phrase break, which no bigram spans),
// to dst, packed as in Vector. Every vector, in the Corpus or not, is made
// here.
func (w *weigher) weigh(v *Vocab, toks []int32, dst []uint32) []uint32 {
	feats := w.feats[:0]
	prev := int32(-1)
	for _, t := range toks {
		if t >= 0 {
			if f := v.uni[t]; f >= 0 {
				feats = append(feats, uint32(f))
			}
			if prev >= 0 {
				if f, ok := v.bi[pair(prev, t)]; ok {
					feats = append(feats, uint32(f))
				}
			}
		}
		prev = t
	}
	w.feats = feats
	if len(feats) == 0 {
		return dst
	}
	slices.Sort(feats)
	xs := w.xs[:0]
	var sum float64
	for i := 0; i < len(feats); {
		j := i + 1
		for j < len(feats) && feats[j] == feats[i] {
			j++
		}
		x := float64(sublinear(j-i) * v.idf[feats[i]])
		feats[len(xs)] = feats[i]
		xs = append(xs, x)
		sum += float64(x * x)
		i = j
	}
	w.xs = xs
	norm := math.Sqrt(sum)
	for k, x := range xs {
		// At least one unit: a feature the paper has is never weightless.
		q := min(max(math.Round(x/norm*65535), 1), 65535)
		dst = append(dst, feats[k]<<16|uint32(q))
	}
	return dst
}

// sublinearTable holds 1 + ln tf for the counts most papers have.
var sublinearTable = func() (t [64]float64) {
	for tf := 1; tf < len(t); tf++ {
		t[tf] = 1 + ln(float64(tf))
	}
	return t
}()

// sublinear is the weight of a term found tf times in a paper: 1 + ln tf.
func sublinear(tf int) float64 {
	if tf < len(sublinearTable) {
		return sublinearTable[tf]
	}
	return 1 + ln(float64(tf))
}

// pair is the key of the bigram of tokens a and b.
func pair(a, b int32) uint64 { return uint64(a)<<32 | uint64(uint32(b)) }

// Options tune the vocabulary and the models. The zero value of a field
// takes its default.
type Options struct {
	// MinDF drops words and bigrams found in fewer papers: a feature of one
	// paper links it to no other. Default 2.
	MinDF int
	// MaxDF drops words and bigrams found in more than this fraction of
	// the papers ("paper", "propose", "results"): boilerplate that every
	// abstract has. Default 0.5.
	MaxDF float64
	// MaxFeatures keeps only the most frequent features (by document
	// frequency, ties by term): it bounds the memory of every model and of
	// the corpus. Default 20,000, as arxiv-sanity-lite.
	MaxFeatures int
	// C is the SVM's regularisation constant, before class weighting.
	// Default 0.01, as arxiv-sanity-lite.
	C float64
	// Tol is the solver's stopping tolerance on the projected gradient.
	// Default 1e-4.
	Tol float64
	// MaxIter caps the solver's passes over the papers. Default 1,000.
	MaxIter int
	// MinSVM is the fewest like papers the SVM is trained on; with fewer,
	// the model is the centroid. Default 2. Measured on the captured arXiv
	// listings (TestPrecision), the centroid ranks as well as the SVM from
	// one like paper (mean p@10 0.294 against 0.292) and costs no training,
	// where the SVM takes seconds over a large history. The SVM is no
	// better from 3 or 5 papers there either, within the measurement's
	// noise, but that corpus is small; on large histories it is the model
	// arxiv-sanity-lite's users found best.
	MinSVM int
}

// Defaults of Options.
const (
	DefaultMinDF       = 2
	DefaultMaxDF       = 0.5
	DefaultMaxFeatures = 20_000
	DefaultC           = 0.01
	DefaultTol         = 1e-4
	DefaultMaxIter     = 1000
	DefaultMinSVM      = 2
)

// withDefaults fills o's zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MinDF, DefaultMinDF)
	deff(&o.MaxDF, DefaultMaxDF)
	def(&o.MaxFeatures, DefaultMaxFeatures)
	deff(&o.C, DefaultC)
	deff(&o.Tol, DefaultTol)
	def(&o.MaxIter, DefaultMaxIter)
	def(&o.MinSVM, DefaultMinSVM)
	var errs []error
	if o.MinDF < 1 {
		errs = append(errs, fmt.Errorf("MinDF %d is below 1", o.MinDF))
	}
	if !(o.MaxDF > 0 && o.MaxDF <= 1) {
		errs = append(errs, fmt.Errorf("MaxDF %g is not a fraction in (0, 1]", o.MaxDF))
	}
	if o.MaxFeatures < 1 || o.MaxFeatures > FeatureLimit {
		errs = append(errs, fmt.Errorf("MaxFeatures %d is not in [1, %d]", o.MaxFeatures, FeatureLimit))
	}
	if !(o.C > 0) || math.IsInf(o.C, 1) {
		errs = append(errs, fmt.Errorf("C %g is not a positive number", o.C))
	}
	if !(o.Tol > 0) || math.IsInf(o.Tol, 1) {
		errs = append(errs, fmt.Errorf("Tol %g is not a positive number", o.Tol))
	}
	if o.MaxIter < 1 {
		errs = append(errs, fmt.Errorf("MaxIter %d is below 1", o.MaxIter))
	}
	if o.MinSVM < 1 {
		errs = append(errs, fmt.Errorf("MinSVM %d is below 1", o.MinSVM))
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("like: options: %w", err)
	}
	return o, nil
}

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
	bigrams := b.countBigrams(df, floor, minDF)
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
	vtok := make([]int32, len(words)) // rank -> vocabulary token, or -1
	for i := range vtok {
		vtok[i] = -1
	}
	for _, c := range cands {
		a, bb := int32(c.key>>32), int32(uint32(c.key))-1
		vtok[a] = 0
		if bb >= 0 {
			vtok[bb] = 0
		}
	}
	v := &Vocab{
		tokens: withStopWords(nil),
		bi:     map[uint64]int32{},
		terms:  make([]string, len(cands)),
		idf:    make([]float64, len(cands)),
		df:     make([]int32, len(cands)),
	}
	for r := range vtok {
		if vtok[r] == 0 {
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
	var w weigher
	var f []uint32
	for d := range b.docs {
		e := &b.docs[d]
		c.ids[d] = e.id
		for i, t := range e.toks {
			if t >= 0 {
				e.toks[i] = vtok[t]
			}
		}
		f = w.weigh(v, e.toks, f[:0])
		e.toks = nil
		c.feats[d] = slices.Clone(f)
	}
	return c, nil
}

// countBigrams returns the bigrams found in at least minDF papers whose two
// words are each in at least floor papers (df holds the words' document
// frequencies), as candidates of key a<<32 | b+1, in the order of keys.
func (b *Builder) countBigrams(df []int32, floor, minDF int32) []candidate {
	type count struct{ df, last int32 }
	counts := map[uint64]count{}
	for d, e := range b.docs {
		prev := int32(-1)
		for _, t := range e.toks {
			if t >= 0 && prev >= 0 && df[t] >= floor && df[prev] >= floor {
				k := pair(prev, t)
				if c := counts[k]; c.df == 0 || c.last != int32(d) {
					counts[k] = count{df: c.df + 1, last: int32(d)}
				}
			}
			prev = t
		}
	}
	var out []candidate
	for k, c := range counts {
		if c.df >= minDF {
			out = append(out, candidate{key: k + 1, df: c.df})
		}
	}
	// Map order is random: the candidates are put in the order of keys.
	slices.SortFunc(out, func(x, y candidate) int { return cmp.Compare(x.key, y.key) })
	return out
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
	ids   []string // sorted
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
