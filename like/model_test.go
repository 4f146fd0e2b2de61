package like

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// oneWord is a history of papers of one distinct word each, so that every
// vector is a unit vector along its own feature.
func oneWord(words ...string) []paper.Paper {
	out := make([]paper.Paper, len(words))
	for i, w := range words {
		out[i] = paper.Paper{ID: w, Title: w}
	}
	return out
}

func mustFit(t *testing.T, papers []paper.Paper, o Options) *Corpus {
	t.Helper()
	c, err := Fit(papers, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustTrain(t *testing.T, c *Corpus, s Seeds) *Model {
	t.Helper()
	m, err := c.Train(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func score(t *testing.T, c *Corpus, m *Model, id string) float64 {
	t.Helper()
	v, ok := c.Vector(id)
	if !ok {
		t.Fatalf("no paper %s", id)
	}
	return m.Score(v)
}

// TestSVMByHand trains the SVM on two papers, x = e1 liked and y = e2 not,
// where the optimum is known in closed form. Both classes have one paper,
// so balancing leaves each its C. By symmetry w = (a, -a) and b = 0, and
// the primal ½(2a²) + 2·C(1-a)² is least at a = 2C/(1+2C): that is the
// score of x, and -a that of y.
func TestSVMByHand(t *testing.T) {
	for _, C := range []float64{0.01, 0.5, 1, 10} {
		t.Run(fmt.Sprint("C=", C), func(t *testing.T) {
			c := mustFit(t, oneWord("xray", "yak"), Options{MinDF: 1, MinSVM: 1, C: C, Tol: 1e-12})
			m := mustTrain(t, c, Seeds{Like: []string{"xray"}})
			if m.Stats().Method != SVM || !m.Stats().Converged {
				t.Fatalf("stats %+v", m.Stats())
			}
			a := 2 * C / (1 + 2*C)
			// float32 weights: the score is right to about 1e-7 of it.
			tol := 1e-6 * math.Max(a, 1)
			if got := score(t, c, m, "xray"); math.Abs(got-a) > tol {
				t.Errorf("score(xray) = %.9f, want %.9f", got, a)
			}
			if got := score(t, c, m, "yak"); math.Abs(got+a) > tol {
				t.Errorf("score(yak) = %.9f, want %.9f", got, -a)
			}
			if math.Abs(m.Bias()) > tol {
				t.Errorf("bias %g, want 0", m.Bias())
			}
			v, _ := c.Vector("xray")
			pro, con := m.Explain(v, 3)
			if len(pro) != 1 || pro[0].Term != "xray" || math.Abs(pro[0].Weight-a) > tol || len(con) != 0 {
				t.Errorf("Explain(xray) = %v, %v", pro, con)
			}
			v, _ = c.Vector("yak")
			pro, con = m.Explain(v, 3)
			if len(con) != 1 || con[0].Term != "yak" || math.Abs(con[0].Weight+a) > tol || len(pro) != 0 {
				t.Errorf("Explain(yak) = %v, %v", pro, con)
			}
		})
	}
}

// TestCentroidByHand: liking x and y of three one-word papers gives the
// centroid (e1 + e2)/2, of norm 1/√2, so x scores 1/√2 and z 0; unliking
// z takes 0.2·e3 off, and the centroid (0.5, 0.5, -0.2)/0.734847 gives x
// 0.680414 and z -0.272166.
func TestCentroidByHand(t *testing.T) {
	c := mustFit(t, oneWord("xray", "yak", "zebra"), Options{MinDF: 1, MinSVM: 3})
	tests := []struct {
		name    string
		seeds   Seeds
		x, z    float64
		unlikes int
	}{
		{"likes", Seeds{Like: []string{"xray", "yak"}}, 1 / math.Sqrt2, 0, 0},
		{"unlike", Seeds{Like: []string{"yak", "xray"}, Unlike: []string{"zebra"}}, 0.5 / math.Sqrt(0.54), -0.2 / math.Sqrt(0.54), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustTrain(t, c, tt.seeds)
			st := m.Stats()
			if st.Method != Centroid || st.Likes != 2 || st.Unlikes != tt.unlikes || st.Papers != 3 || st.Features != 3 {
				t.Errorf("stats %+v", st)
			}
			for id, want := range map[string]float64{"xray": tt.x, "yak": tt.x, "zebra": tt.z} {
				if got := score(t, c, m, id); math.Abs(got-want) > 1e-6 {
					t.Errorf("score(%s) = %f, want %f", id, got, want)
				}
			}
		})
	}
}

// TestKKT checks that the SVM trained on the captured listings is the
// optimum of the problem the package comment states, with the class
// weights it states: the gradient of the primal
//
//	½‖w‖² + ½b² + Σ C_i·max(0, 1 - y_i(w·x_i + b))²
//
// is zero, for C_i = C·n/(2·n_class), and the like paper's C for an unlike
// paper.
func TestKKT(t *testing.T) {
	c := mustFit(t, evalPapers(t), Options{MinSVM: 1, Tol: 1e-9, MaxIter: 100_000})
	like := []string{c.ID(3), c.ID(40), c.ID(77)}
	unlike := []string{c.ID(10)}
	m := mustTrain(t, c, Seeds{Like: like, Unlike: unlike})
	if !m.Stats().Converged {
		t.Fatalf("not converged: %+v", m.Stats())
	}
	n := float64(c.Len())
	C := DefaultC
	cPos, cNeg := C*n/(2*3), C*n/(2*(n-3))
	grad := make([]float64, c.Vocab().Len())
	for j := range grad {
		grad[j] = float64(m.Weight(uint32(j)))
	}
	gradB := m.Bias()
	for i := range c.Len() {
		y, ci := -1.0, cNeg
		switch {
		case slices.Contains(like, c.ID(i)):
			y, ci = 1, cPos
		case slices.Contains(unlike, c.ID(i)):
			ci = cPos
		}
		v := c.At(i)
		xi := 1 - y*m.Score(v)
		if xi <= 0 {
			continue
		}
		for k := range v.Len() {
			grad[v.Term(k)] -= 2 * ci * xi * y * v.Weight(k)
		}
		gradB -= 2 * ci * xi * y
	}
	var worst, wmax float64
	for j, g := range grad {
		worst = max(worst, math.Abs(g))
		wmax = max(wmax, math.Abs(float64(m.Weight(uint32(j)))))
	}
	worst = max(worst, math.Abs(gradB))
	// The weights are float32: the gradient is zero to their precision.
	if worst > 1e-5*wmax {
		t.Errorf("largest gradient component %g, largest weight %g", worst, wmax)
	}
	// And the weights it found are not trivial.
	if wmax < 1e-3 {
		t.Errorf("largest weight %g", wmax)
	}
}

func TestMethod(t *testing.T) {
	papers := evalPapers(t)
	c := mustFit(t, papers, Options{})
	all := make([]string, len(papers))
	for i := range papers {
		all[i] = papers[i].ID
	}
	tests := []struct {
		name string
		like []string
		want Method
	}{
		{"one like", all[:1], Centroid},
		{"two likes", all[1:3], SVM},
		{"duplicates count once", []string{all[5], all[5], ""}, Centroid},
		{"every paper liked", all, Centroid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustTrain(t, c, Seeds{Like: tt.like})
			if got := m.Stats().Method; got != tt.want {
				t.Errorf("method %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTrainErrors(t *testing.T) {
	// "empty" has only function words: no feature.
	papers := append(oneWord("xray", "yak", "zebra"), paper.Paper{ID: "empty", Title: "The of"})
	c := mustFit(t, papers, Options{MinDF: 1})
	tests := []struct {
		name  string
		seeds Seeds
		is    error
		want  string
	}{
		{"no likes", Seeds{Unlike: []string{"yak"}}, ErrNoLikes, "at least one like paper"},
		{"empty IDs only", Seeds{Like: []string{"", ""}}, ErrNoLikes, "at least one like paper"},
		{"missing", Seeds{Like: []string{"nope", "xray"}, Unlike: []string{"gone"}}, nil, "papers not in the history: gone, nope"},
		{"both", Seeds{Like: []string{"xray", "yak"}, Unlike: []string{"yak"}}, nil, "both liked and unliked: yak"},
		{"no words", Seeds{Like: []string{"empty"}}, ErrNoWords, "no like paper has a word of the vocabulary: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := c.Train(tt.seeds)
			if err == nil {
				t.Fatalf("no error, model %+v", m.Stats())
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %q, want %q", err, tt.want)
			}
		})
	}
	t.Run("missing is typed", func(t *testing.T) {
		_, err := c.Train(Seeds{Like: []string{"b", "a"}})
		var me *MissingError
		if !errors.As(err, &me) || !slices.Equal(me.IDs, []string{"a", "b"}) {
			t.Errorf("err %v, want a *MissingError of a, b", err)
		}
	})
	t.Run("wordless seeds are reported", func(t *testing.T) {
		m := mustTrain(t, c, Seeds{Like: []string{"xray", "empty"}})
		if got := m.Stats().Wordless; !slices.Equal(got, []string{"empty"}) {
			t.Errorf("Wordless %q, want [empty]", got)
		}
	})
}

// TestUnlike checks that unliking the paper a model ranks first (of those
// not liked) lowers its score, for the SVM and the centroid.
func TestUnlike(t *testing.T) {
	papers := evalPapers(t)
	for _, o := range []Options{{MinSVM: 1}, {MinSVM: math.MaxInt}} {
		c := mustFit(t, papers, o)
		like := []string{c.ID(12), c.ID(50)}
		m := mustTrain(t, c, Seeds{Like: like})
		best, bestScore := "", math.Inf(-1)
		for i := range c.Len() {
			if s := m.Score(c.At(i)); !slices.Contains(like, c.ID(i)) && s > bestScore {
				best, bestScore = c.ID(i), s
			}
		}
		m2 := mustTrain(t, c, Seeds{Like: like, Unlike: []string{best}})
		if got := score(t, c, m2, best); got >= bestScore {
			t.Errorf("%s: unliked %s scores %f, as much as the %f it had", m.Stats().Method, best, got, bestScore)
		}
		if m2.Stats().Unlikes != 1 {
			t.Errorf("stats %+v", m2.Stats())
		}
	}
}

func TestExplain(t *testing.T) {
	papers := evalPapers(t)
	c := mustFit(t, papers, Options{})
	m := mustTrain(t, c, Seeds{Like: []string{c.ID(2), c.ID(30), c.ID(60)}})
	explained := 0
	for i := range c.Len() {
		v := c.At(i)
		pro, con := m.Explain(v, v.Len())
		sum := m.Bias()
		for k, p := range pro {
			sum += p.Weight
			if p.Weight <= 0 || k > 0 && p.Weight > pro[k-1].Weight {
				t.Fatalf("%s: pro %v out of order", c.ID(i), pro)
			}
		}
		for k, p := range con {
			sum += p.Weight
			if p.Weight >= 0 || k > 0 && p.Weight < con[k-1].Weight {
				t.Fatalf("%s: con %v out of order", c.ID(i), con)
			}
		}
		if got := m.Score(v); math.Abs(sum-got) > 1e-12 {
			t.Errorf("%s: contributions add up to %g, score %g", c.ID(i), sum, got)
		}
		if len(pro) > 2 {
			explained++
			top, _ := m.Explain(v, 2)
			if !slices.Equal(top, pro[:2]) {
				t.Errorf("%s: Explain(v, 2) = %v, want %v", c.ID(i), top, pro[:2])
			}
		}
		for _, n := range []int{0, -1} {
			if p, c := m.Explain(v, n); len(p) != 0 || len(c) != 0 {
				t.Errorf("Explain(v, %d) = %v, %v", n, p, c)
			}
		}
	}
	if explained == 0 {
		t.Error("no paper has three terms for it")
	}
}

func TestScoreOtherVocab(t *testing.T) {
	c1 := mustFit(t, oneWord("xray", "yak"), Options{MinDF: 1})
	c2 := mustFit(t, oneWord("xray", "yak"), Options{MinDF: 1})
	m := mustTrain(t, c1, Seeds{Like: []string{"xray"}})
	// A vector without features belongs to no vocabulary: it scores the bias.
	if got := m.Score(Vector{}); got != m.Bias() {
		t.Errorf("Score(Vector{}) = %g, want the bias %g", got, m.Bias())
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "another vocabulary") {
			t.Errorf("recovered %v, want a panic about another vocabulary", r)
		}
	}()
	v, _ := c2.Vector("xray")
	m.Score(v)
}

// fingerprint is every score of m over c, bit for bit.
func fingerprint(c *Corpus, m *Model) []uint64 {
	out := make([]uint64, c.Len())
	for i := range out {
		out[i] = math.Float64bits(m.Score(c.At(i)))
	}
	return out
}

// TestDeterministic trains the same models twice, from the history in
// other orders, and at the same time on several goroutines (run with
// -race), and checks that every score is the same, bit for bit.
func TestDeterministic(t *testing.T) {
	papers := evalPapers(t)
	c := mustFit(t, papers, Options{})
	seeds := []Seeds{
		{Like: []string{c.ID(1), c.ID(20), c.ID(33)}},
		{Like: []string{c.ID(8)}, Unlike: []string{c.ID(9)}},
		{Like: []string{c.ID(60), c.ID(61)}, Unlike: []string{c.ID(70)}},
	}
	want := make([][]uint64, len(seeds))
	for i, s := range seeds {
		want[i] = fingerprint(c, mustTrain(t, c, s))
		if again := fingerprint(c, mustTrain(t, c, s)); !slices.Equal(again, want[i]) {
			t.Errorf("seeds %d: a second training scores differently", i)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	shuffled := slices.Clone(papers)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	c2 := mustFit(t, shuffled, Options{})
	for i, s := range seeds {
		if got := fingerprint(c2, mustTrain(t, c2, s)); !slices.Equal(got, want[i]) {
			t.Errorf("seeds %d: the shuffled history scores differently", i)
		}
	}
	var wg sync.WaitGroup
	got := make([][]uint64, 4*len(seeds))
	errs := make([]error, len(got))
	for g := range got {
		wg.Go(func() {
			m, err := c.Train(seeds[g%len(seeds)])
			if err != nil {
				errs[g] = err
				return
			}
			got[g] = fingerprint(c, m)
		})
	}
	wg.Wait()
	for g := range got {
		if errs[g] != nil {
			t.Fatal(errs[g])
		}
		if !slices.Equal(got[g], want[g%len(seeds)]) {
			t.Errorf("goroutine %d: scores differ", g)
		}
	}
}

// TestScoresGolden compares the scores of models trained on the captured
// listings with testdata/scores.golden, bit for bit: on another machine or
// architecture, or after a change of the package, any difference shows.
// Rewrite it with -update after a deliberate change.
func TestScoresGolden(t *testing.T) {
	c := mustFit(t, evalPapers(t), Options{})
	var b strings.Builder
	for _, s := range []Seeds{
		{Like: []string{c.ID(0)}},
		{Like: []string{c.ID(4), c.ID(44), c.ID(88)}, Unlike: []string{c.ID(5)}},
	} {
		m := mustTrain(t, c, s)
		st := m.Stats()
		fmt.Fprintf(&b, "# like %s unlike %s: %s, %d features, %d papers, %d passes\n",
			strings.Join(s.Like, ","), strings.Join(s.Unlike, ","), st.Method, st.Features, st.Papers, st.Iterations)
		for i := range c.Len() {
			sc := m.Score(c.At(i))
			fmt.Fprintf(&b, "%-12s %016x %+.6f\n", c.ID(i), math.Float64bits(sc), sc)
		}
	}
	golden(t, "scores.golden", b.String())
}
