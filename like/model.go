package like

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Method is how a Model was made.
type Method string

const (
	// SVM is a linear support vector machine trained on the whole corpus.
	SVM Method = "svm"
	// Centroid is Rocchio's centroid of the like papers, less a part of the
	// unlike papers' centroid.
	Centroid Method = "centroid"
)

// rocchioGamma is the weight of the unlike papers' centroid against the
// like papers' one: 0.15/0.75, the ratio of Rocchio's γ and β in SMART's
// classic setting, so a paper the user disliked pulls less than one they
// liked.
const rocchioGamma = 0.2

// Seeds are a topic's example papers, by ID.
type Seeds struct {
	Like   []string // at least one
	Unlike []string // optional
}

// ErrNoLikes is Train's error for seeds without a like paper.
var ErrNoLikes = errors.New("like: a topic needs at least one like paper")

// ErrNoWords is Train's error when not one like paper has a word of the
// vocabulary, so there is nothing to learn from.
var ErrNoWords = errors.New("like: no like paper has a word of the vocabulary")

// MissingError is Train's error for seed papers that are not in the corpus.
type MissingError struct {
	IDs []string // sorted
}

func (e *MissingError) Error() string {
	return "like: papers not in the history: " + strings.Join(e.IDs, ", ")
}

// Model scores papers for one topic: Score(v) = w·v + b. It is immutable
// and safe for concurrent use.
type Model struct {
	vocab *Vocab
	w     []float32 // one weight per feature of vocab
	bias  float64
	stats Stats
}

// Stats describe a trained Model, for -check.
type Stats struct {
	Method   Method
	Features int // of the vocabulary
	Papers   int // in the corpus: the training papers
	Likes    int // like papers (positives)
	Unlikes  int // unlike papers (negatives weighted as a like paper)
	// Wordless are the like and unlike papers with no word of the
	// vocabulary: they are in the corpus but teach the model nothing.
	Wordless []string
	// Iterations are the SVM solver's passes over the papers, and
	// Converged whether it met its tolerance within MaxIter of them; both
	// are zero for the centroid.
	Iterations int
	Converged  bool
}

// Stats are m's figures.
func (m *Model) Stats() Stats {
	s := m.stats
	s.Wordless = slices.Clone(s.Wordless)
	return s
}

// Bias is b in w·v + b: the score of a paper without a known word.
func (m *Model) Bias() float64 { return m.bias }

// Weight is the model's weight of feature id.
func (m *Model) Weight(id uint32) float32 { return m.w[id] }

// Score is the model's score of v, a vector of the model's vocabulary.
// Papers rank by it: for the SVM a positive score is on the side of the
// like papers, for the centroid it is the cosine similarity in [-1, 1].
// Score panics on a vector of another vocabulary, a mistake that would
// otherwise give meaningless scores.
func (m *Model) Score(v Vector) float64 {
	m.check(v)
	s := m.bias
	for _, f := range v.f {
		s += float64(float64(m.w[f>>16]) * unpack(f))
	}
	return s
}

func (m *Model) check(v Vector) {
	if v.vocab != m.vocab && len(v.f) > 0 {
		panic("like: a vector of another vocabulary")
	}
}

// Contribution is one feature's part in a score: weight times the paper's
// tf-idf value of the term.
type Contribution struct {
	Term   string
	Weight float64
}

// Explain gives the n terms of v that weighed most for the paper (positive
// contributions, largest first) and the n that weighed most against it
// (negative, most negative first); ties go in the order of the terms. All
// of v's contributions and Bias add up to Score(v), up to rounding.
func (m *Model) Explain(v Vector, n int) (pro, con []Contribution) {
	m.check(v)
	for _, f := range v.f {
		t := f >> 16
		c := float64(float64(m.w[t]) * unpack(f))
		switch {
		case c > 0:
			pro = append(pro, Contribution{m.vocab.terms[t], c})
		case c < 0:
			con = append(con, Contribution{m.vocab.terms[t], c})
		}
	}
	order := func(sign float64) func(a, b Contribution) int {
		return func(a, b Contribution) int {
			if c := cmp.Compare(sign*b.Weight, sign*a.Weight); c != 0 {
				return c
			}
			return cmp.Compare(a.Term, b.Term)
		}
	}
	slices.SortFunc(pro, order(1))
	slices.SortFunc(con, order(-1))
	// Copies of the first n, not slices of all of them: a caller keeps
	// the terms of every paper it shows, and a hundred like-topics kept
	// 900 MB of contributions that way (8 KB a paper of 200 features).
	n = max(n, 0)
	return slices.Clone(pro[:min(n, len(pro))]), slices.Clone(con[:min(n, len(con))])
}

// Train trains a topic's model on the corpus: a linear SVM with the like
// papers as positives and every other paper as a negative, or, with fewer
// like papers than Options.MinSVM or no other paper, the centroid. Seeds
// are sorted and deduplicated first. Errors: ErrNoLikes; a *MissingError
// naming every seed the corpus lacks (fetch them, rebuild, train again); a
// paper both liked and unliked; ErrNoWords.
func (c *Corpus) Train(s Seeds) (*Model, error) {
	like, unlike := sortedSet(s.Like), sortedSet(s.Unlike)
	if len(like) == 0 {
		return nil, ErrNoLikes
	}
	var both, missing []string
	for _, id := range like {
		if _, ok := slices.BinarySearch(unlike, id); ok {
			both = append(both, id)
		}
	}
	if len(both) > 0 {
		return nil, fmt.Errorf("like: papers both liked and unliked: %s", strings.Join(both, ", "))
	}
	index := func(ids []string) []int {
		var out []int
		for _, id := range ids {
			if i, ok := c.Index(id); ok {
				out = append(out, i)
			} else {
				missing = append(missing, id)
			}
		}
		return out
	}
	pos, neg := index(like), index(unlike)
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, &MissingError{IDs: missing}
	}
	st := Stats{
		Features: c.vocab.Len(),
		Papers:   c.Len(),
		Likes:    len(pos),
		Unlikes:  len(neg),
	}
	worded := 0
	for _, i := range pos {
		if len(c.feats[i]) > 0 {
			worded++
		} else {
			st.Wordless = append(st.Wordless, c.ids[i])
		}
	}
	for _, i := range neg {
		if len(c.feats[i]) == 0 {
			st.Wordless = append(st.Wordless, c.ids[i])
		}
	}
	slices.Sort(st.Wordless)
	if worded == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoWords, strings.Join(like, ", "))
	}
	m := &Model{vocab: c.vocab, stats: st}
	if len(pos) < c.opt.MinSVM || len(pos) == c.Len() {
		m.stats.Method = Centroid
		m.w = c.centroid(pos, neg)
		return m, nil
	}
	m.stats.Method = SVM
	r := c.svm(pos, neg)
	m.w, m.bias = r.w, r.bias
	m.stats.Iterations, m.stats.Converged = r.iter, r.converged
	return m, nil
}

// sortedSet is ids sorted, without duplicates or empty IDs, in a new slice.
func sortedSet(ids []string) []string {
	out := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// centroid is the unit vector in the direction of the like papers' mean
// less rocchioGamma times the unlike papers' mean.
func (c *Corpus) centroid(pos, neg []int) []float32 {
	q := make([]float64, c.vocab.Len())
	add := func(rows []int, scale float64) {
		for _, i := range rows {
			for _, f := range c.feats[i] {
				q[f>>16] += float64(scale * unpack(f))
			}
		}
	}
	add(pos, 1/float64(len(pos)))
	if len(neg) > 0 {
		add(neg, -rocchioGamma/float64(len(neg)))
	}
	var sum float64
	for _, x := range q {
		sum += float64(x * x)
	}
	norm := math.Sqrt(sum)
	w := make([]float32, len(q))
	if norm == 0 {
		return w
	}
	for j, x := range q {
		w[j] = float32(x / norm)
	}
	return w
}
