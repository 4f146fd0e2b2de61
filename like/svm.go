package like

import (
	"math"
	"math/rand/v2"
)

// svmResult is a trained linear SVM: w·x + bias.
type svmResult struct {
	w         []float32
	bias      float64
	iter      int
	converged bool
}

// svm trains an L2-regularised linear SVM with the squared hinge loss, as
// scikit-learn's LinearSVC does (and arxiv-sanity-lite with it), by the dual
// coordinate descent of liblinear (Hsieh et al., ICML 2008, with its
// shrinking of the active set). pos are the positives; every other paper is
// a negative. Classes are weighted as class_weight="balanced": a paper's C
// is C·n/(2·n_class), so the few like papers weigh as much as the rest of
// the history together; an unlike paper is a negative with a like paper's
// C, so that it pushes the model away as hard as a like pulls it. The bias
// is a feature of value 1 for every paper, regularised like the others
// (liblinear's and LinearSVC's intercept_scaling=1).
//
// The result is the same on every machine and in every run: papers are in
// ID order, the coordinates are visited in an order drawn from a PCG of a
// fixed seed, the sums run in a fixed order in float64, and products are
// converted explicitly, so that no multiply-add is fused (see ln).
func (c *Corpus) svm(pos, neg []int) svmResult {
	n := c.Len()
	nPos := len(pos)
	nNeg := n - nPos
	cPos := c.opt.C * float64(n) / float64(2*nPos)
	cNeg := c.opt.C * float64(n) / float64(2*nNeg)

	y := make([]int8, n)
	diag := make([]float64, n) // 1/(2·C_i): the squared hinge's term
	for i := range y {
		y[i] = -1
		diag[i] = 0.5 / cNeg
	}
	for _, i := range pos {
		y[i] = 1
		diag[i] = 0.5 / cPos
	}
	for _, i := range neg {
		diag[i] = 0.5 / cPos
	}
	qd := make([]float64, n) // x_i·x_i + 1 (the bias) + diag_i
	for i := range qd {
		var s float64
		for _, f := range c.feats[i] {
			x := unpack(f)
			s += float64(x * x)
		}
		qd[i] = s + 1 + diag[i]
	}

	w := make([]float64, c.vocab.Len())
	var bias float64
	alpha := make([]float64, n)
	index := make([]int32, n)
	for i := range index {
		index[i] = int32(i)
	}
	rng := rand.NewPCG(0x6c696b65, 0x73766d) // fixed: the same visiting order everywhere
	active := n
	pgMaxOld := math.Inf(1) // liblinear's PGmax_old; the squared hinge has no upper bound, so no PGmin_old
	iter := 0
	converged := false
	for iter < c.opt.MaxIter {
		// Fisher-Yates over the active set, with a reduction of our own
		// rather than rand.IntN, whose algorithm may change between Go
		// releases.
		for i := range active - 1 {
			j := i + int(rng.Uint64()%uint64(active-i))
			index[i], index[j] = index[j], index[i]
		}
		pgMax, pgMin := math.Inf(-1), math.Inf(1)
		for s := 0; s < active; s++ {
			i := index[s]
			fs := c.feats[i]
			dot := bias
			for _, f := range fs {
				dot += float64(w[f>>16] * unpack(f))
			}
			yi := float64(y[i])
			g := float64(yi*dot) - 1 + float64(alpha[i]*diag[i])
			pg := 0.0
			if alpha[i] == 0 {
				if g > pgMaxOld {
					// At its bound and likely to stay there: shrink.
					active--
					index[s], index[active] = index[active], index[s]
					s--
					continue
				}
				if g < 0 {
					pg = g
				}
			} else {
				pg = g
			}
			pgMax = max(pgMax, pg)
			pgMin = min(pgMin, pg)
			if math.Abs(pg) > 1e-12 {
				old := alpha[i]
				alpha[i] = max(old-g/qd[i], 0)
				d := (alpha[i] - old) * yi
				for _, f := range fs {
					w[f>>16] += float64(d * unpack(f))
				}
				bias += d
			}
		}
		iter++
		if pgMax-pgMin <= c.opt.Tol {
			if active == n {
				converged = true
				break
			}
			// Converged on the active set: check every paper again.
			active = n
			pgMaxOld = math.Inf(1)
			continue
		}
		pgMaxOld = pgMax
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
	}
	out := make([]float32, len(w))
	for j, x := range w {
		out[j] = float32(x)
	}
	return svmResult{w: out, bias: bias, iter: iter, converged: converged}
}
