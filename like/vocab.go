package like

import (
	"math"
	"math/bits"
	"sync"

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
	pool   sync.Pool        // of *weigher, for Vector
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
// of the whole program. A weight is then off by at most 1/131070; with
// weights rounded sixteen times coarser still, TestPrecision's table is the
// same.
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
	// English averages six bytes a word with its space.
	toks := make([]int32, 0, (len(p.Title)+len(p.Abstract))/6+2)
	add := func(word []byte, joined bool) {
		t, ok := v.tokens[string(word)]
		if !ok {
			t = -1
		}
		toks = push(toks, t, joined)
	}
	s := scanner{buf: make([]byte, 0, maxWord)}
	s.scan(p.Title, add)
	s.scan(p.Abstract, add)
	w, _ := v.pool.Get().(*weigher)
	if w == nil {
		w = new(weigher)
	}
	f := w.weigh(v, toks, nil)
	v.pool.Put(w)
	return Vector{f: f, vocab: v}
}

// weigher turns token sequences into weighted features, keeping its
// scratch space between papers.
type weigher struct {
	feats []uint32
	xs    []float64
	tf    []int32  // feature -> occurrences in the paper being weighed
	seen  []uint64 // bit f: feature f is in the paper being weighed
}

// weigh appends the features of toks, a paper's token sequence (-1 for a
// word outside the vocabulary or a phrase break, which no bigram spans),
// to dst, packed as in Vector. Every vector, in the Corpus or not, is made
// here.
func (w *weigher) weigh(v *Vocab, toks []int32, dst []uint32) []uint32 {
	// A paper's features are counted in an array over the vocabulary and
	// read back in order from a bitmap of those seen, rather than appended
	// and sorted: sorting them was 0.66 s of the 1.3 s the vectors of
	// 100,000 papers took (BenchmarkBuildMemory). The order, the counts and
	// so the sums are the same.
	if len(w.tf) < len(v.terms) {
		w.tf = make([]int32, len(v.terms))
		w.seen = make([]uint64, (len(v.terms)+63)/64)
	}
	tf, seen := w.tf, w.seen
	see := func(f int32) {
		if tf[f] == 0 {
			seen[f>>6] |= 1 << (f & 63)
		}
		tf[f]++
	}
	prev := int32(-1)
	for _, t := range toks {
		if t >= 0 {
			if f := v.uni[t]; f >= 0 {
				see(f)
			}
			if prev >= 0 {
				if f, ok := v.bi[pair(prev, t)]; ok {
					see(f)
				}
			}
		}
		prev = t
	}
	feats, xs := w.feats[:0], w.xs[:0]
	var sum float64
	for k, word := range seen {
		for word != 0 {
			f := k<<6 | bits.TrailingZeros64(word)
			word &= word - 1
			x := float64(sublinear(int(tf[f])) * v.idf[f])
			tf[f] = 0
			feats = append(feats, uint32(f))
			xs = append(xs, x)
			sum += float64(x * x)
		}
		seen[k] = 0
	}
	w.feats, w.xs = feats, xs
	if len(feats) == 0 {
		return dst
	}
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
