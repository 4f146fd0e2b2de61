package like

import (
	"cmp"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paperfeed/paperfeed/paper"
)

// terms lists the vocabulary's features in order.
func terms(v *Vocab) []string {
	out := make([]string, v.Len())
	for i := range out {
		out[i] = v.Term(uint32(i))
	}
	return out
}

// tiny is a history small enough to work out by hand:
//
//	a: "alpha beta" + "alpha gamma"   alpha ×2, beta, gamma, "alpha beta", "alpha gamma"
//	b: "beta gamma"                   beta, gamma, "beta gamma"
//
// alpha and the three bigrams are in one paper of two, beta and gamma in
// both.
var tiny = []paper.Paper{
	{ID: "a", Title: "Alpha beta", Abstract: "alpha gamma."},
	{ID: "b", Title: "Beta gamma"},
}

// TestVectorByHand checks every weight of the tiny history against the
// formulas worked out by hand: idf = ln((1+n)/(1+df)) + 1 is ln(3/2) + 1 =
// 1.405465 for df 1 and ln(3/3) + 1 = 1 for df 2; a's alpha has tf 2, so
// (1 + ln 2)·1.405465 = 2.379637; a's norm is √(2.379637² + 2·1.405465² +
// 2) = 3.407834, b's √(2 + 1.405465²) = 1.993824.
func TestVectorByHand(t *testing.T) {
	c, err := Fit(tiny, Options{MinDF: 1, MaxDF: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantTerms := []string{"alpha", "alpha beta", "alpha gamma", "beta", "beta gamma", "gamma"}
	if got := terms(c.Vocab()); !slices.Equal(got, wantTerms) {
		t.Fatalf("terms %q, want %q", got, wantTerms)
	}
	wantDF := []int{1, 1, 1, 2, 1, 2}
	for i, want := range wantDF {
		if got := c.Vocab().DF(uint32(i)); got != want {
			t.Errorf("DF(%q) = %d, want %d", wantTerms[i], got, want)
		}
	}
	idf1 := math.Log(1.5) + 1
	tf2 := (1 + math.Log(2)) * idf1
	normA := math.Sqrt(tf2*tf2 + 2*idf1*idf1 + 2)
	normB := math.Sqrt(2 + idf1*idf1)
	want := map[string][]float64{
		"a": {tf2 / normA, idf1 / normA, idf1 / normA, 1 / normA, 0, 1 / normA},
		"b": {0, 0, 0, 1 / normB, idf1 / normB, 1 / normB},
	}
	if d := 1 / normA; math.Abs(d-0.293441) > 1e-6 {
		t.Fatalf("the hand-worked figures are off: 1/normA = %f", d)
	}
	for id, ws := range want {
		v, ok := c.Vector(id)
		if !ok {
			t.Fatalf("no vector for %s", id)
		}
		got := make([]float64, len(ws))
		for k := range v.Len() {
			got[v.Term(k)] = v.Weight(k)
		}
		for i := range ws {
			// A weight is stored to the nearest 1/65535.
			if math.Abs(got[i]-ws[i]) > 0.5/65535+1e-12 {
				t.Errorf("%s: weight of %q = %f, want %f", id, wantTerms[i], got[i], ws[i])
			}
		}
		var sum float64
		for k := range v.Len() {
			sum += v.Weight(k) * v.Weight(k)
		}
		if math.Abs(sum-1) > 1e-4 {
			t.Errorf("%s: squared norm %f, want 1", id, sum)
		}
	}
}

func TestCutOffs(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"everything", Options{MinDF: 1, MaxDF: 1}, []string{"alpha", "alpha beta", "alpha gamma", "beta", "beta gamma", "gamma"}},
		{"min df", Options{MinDF: 2, MaxDF: 1}, []string{"beta", "gamma"}},
		{"max df", Options{MinDF: 1, MaxDF: 0.5}, []string{"alpha", "alpha beta", "alpha gamma", "beta gamma"}},
		{"most frequent", Options{MinDF: 1, MaxDF: 1, MaxFeatures: 2}, []string{"beta", "gamma"}},
		{"ties by term", Options{MinDF: 1, MaxDF: 1, MaxFeatures: 4}, []string{"alpha", "alpha beta", "beta", "gamma"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Fit(tiny, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := terms(c.Vocab()); !slices.Equal(got, tt.want) {
				t.Errorf("terms %q, want %q", got, tt.want)
			}
		})
	}
}

// TestMaxFeaturesFloor checks that counting only the bigrams of frequent
// enough words (see Build) keeps exactly the features that counting them
// all would: the MaxFeatures most frequent of the whole vocabulary.
func TestMaxFeaturesFloor(t *testing.T) {
	papers := evalPapers(t)
	all, err := Fit(papers, Options{MaxFeatures: FeatureLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{10, 50, 200} {
		if k >= all.Vocab().Len() {
			t.Fatalf("the corpus has %d features, fewer than %d", all.Vocab().Len(), k)
		}
		ids := make([]uint32, all.Vocab().Len())
		for i := range ids {
			ids[i] = uint32(i)
		}
		slices.SortStableFunc(ids, func(a, b uint32) int { return cmp.Compare(all.Vocab().DF(b), all.Vocab().DF(a)) })
		ids = ids[:k]
		slices.Sort(ids)
		var want []string
		for _, id := range ids {
			want = append(want, all.Vocab().Term(id))
		}
		c, err := Fit(papers, Options{MaxFeatures: k})
		if err != nil {
			t.Fatal(err)
		}
		if got := terms(c.Vocab()); !slices.Equal(got, want) {
			t.Errorf("MaxFeatures %d: terms\n%q\nwant\n%q", k, got, want)
		}
	}
}

// TestOrderIndependent adds the same papers in other orders and checks
// that the corpus is the same, bit for bit.
func TestOrderIndependent(t *testing.T) {
	papers := evalPapers(t)
	want, err := Fit(papers, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3 {
		shuffled := slices.Clone(papers)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, err := Fit(shuffled, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameCorpus(t, got, want)
	}
}

// sameCorpus fails t unless a and b have the same papers, vocabulary and
// vectors, bit for bit.
func sameCorpus(t *testing.T, a, b *Corpus) {
	t.Helper()
	if !slices.Equal(a.ids, b.ids) {
		t.Fatalf("IDs differ")
	}
	if !slices.Equal(terms(a.vocab), terms(b.vocab)) || !slices.Equal(a.vocab.df, b.vocab.df) || !slices.Equal(a.vocab.idf, b.vocab.idf) {
		t.Fatalf("vocabularies differ")
	}
	for i := range a.ids {
		if !slices.Equal(a.feats[i], b.feats[i]) {
			t.Fatalf("paper %s: vectors differ", a.ids[i])
		}
	}
}

// TestVectorMatchesCorpus checks that a paper vectorised on its own gets
// the vector the corpus holds for it, bit for bit, so that a new paper is
// scored exactly as it will be once it is in the history.
func TestVectorMatchesCorpus(t *testing.T) {
	papers := evalPapers(t)
	c, err := Fit(papers, Options{})
	if err != nil {
		t.Fatal(err)
	}
	empty := 0
	for i := range papers {
		got := c.Vocab().Vector(&papers[i])
		want, ok := c.Vector(papers[i].ID)
		if !ok {
			t.Fatalf("no vector for %s", papers[i].ID)
		}
		if !slices.Equal(got.f, want.f) {
			t.Errorf("%s: Vector %v, corpus %v", papers[i].ID, got.f, want.f)
		}
		if got.Len() == 0 {
			empty++
		}
	}
	if empty > len(papers)/4 {
		t.Errorf("%d of %d papers have no feature", empty, len(papers))
	}
	// A paper the history does not have is vectorised with its words.
	v := c.Vocab().Vector(&paper.Paper{Title: "Learning " + strings.Repeat("zzzunknown ", 3)})
	if v.Len() != 1 || c.Vocab().Term(v.Term(0)) != "learning" || v.Weight(0) != 1 {
		t.Errorf("a new paper's vector: %d features", v.Len())
	}
	if _, ok := c.Vector("9999.99999"); ok {
		t.Errorf("Vector of an unknown ID is found")
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"min df", Options{MinDF: -1}, []string{"MinDF -1"}},
		{"max df above 1", Options{MaxDF: 1.5}, []string{"MaxDF 1.5"}},
		{"max df negative", Options{MaxDF: -0.1}, []string{"MaxDF -0.1"}},
		{"max df NaN", Options{MaxDF: math.NaN()}, []string{"MaxDF NaN"}},
		{"max features", Options{MaxFeatures: FeatureLimit + 1}, []string{"MaxFeatures 65537"}},
		{"C", Options{C: -1}, []string{"C -1"}},
		{"C infinite", Options{C: math.Inf(1)}, []string{"C +Inf"}},
		{"tol", Options{Tol: math.NaN()}, []string{"Tol NaN"}},
		{"max iter", Options{MaxIter: -3}, []string{"MaxIter -3"}},
		{"min svm", Options{MinSVM: -1}, []string{"MinSVM -1"}},
		{"all at once", Options{MinDF: -1, C: -2}, []string{"MinDF -1", "C -2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewBuilder(tt.o)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "like: options: ") {
				t.Errorf("error %q lacks its context", err)
			}
		})
	}
	if _, err := NewBuilder(Options{}); err != nil {
		t.Errorf("default options: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Run("no papers", func(t *testing.T) {
		if _, err := Fit(nil, Options{}); !errors.Is(err, ErrNoPapers) {
			t.Errorf("err %v, want ErrNoPapers", err)
		}
	})
	t.Run("no ID", func(t *testing.T) {
		_, err := Fit([]paper.Paper{{Title: "Untitled work"}}, Options{})
		if err == nil || !strings.Contains(err.Error(), `"Untitled work" has no ID`) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("twice", func(t *testing.T) {
		_, err := Fit([]paper.Paper{tiny[0], tiny[1], tiny[0]}, Options{})
		if err == nil || !strings.Contains(err.Error(), "paper a was added twice") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("no features", func(t *testing.T) {
		_, err := Fit(tiny[:1], Options{})
		if !errors.Is(err, ErrNoFeatures) || !strings.Contains(err.Error(), "of 1 papers") {
			t.Errorf("err %v, want ErrNoFeatures", err)
		}
	})
	t.Run("built already", func(t *testing.T) {
		b, err := NewBuilder(Options{MinDF: 1, MaxDF: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(&tiny[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Build(); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(&tiny[1]); err == nil || !strings.Contains(err.Error(), "built already") {
			t.Errorf("Add after Build: %v", err)
		}
		if _, err := b.Build(); err == nil || !strings.Contains(err.Error(), "built already") {
			t.Errorf("Build twice: %v", err)
		}
	})
}

// TestBigramChunks counts the bigrams of a history a few first words at a
// time and all at once, and checks both against the papers' bigrams
// counted one by one.
func TestBigramChunks(t *testing.T) {
	b, err := NewBuilder(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range evalPapers(t) {
		if err := b.Add(&p); err != nil {
			t.Fatal(err)
		}
	}
	df := make([]int32, len(b.words))
	want := map[uint64]int32{}
	for _, e := range b.docs {
		seen := map[int32]bool{}
		pairs := map[uint64]bool{}
		prev := int32(-1)
		for _, tok := range e.toks {
			if tok >= 0 && !seen[tok] {
				seen[tok] = true
				df[tok]++
			}
			if tok >= 0 && prev >= 0 {
				pairs[pair(prev, tok)] = true
			}
			prev = tok
		}
		for k := range pairs {
			want[k]++
		}
	}
	const floor = 2
	var wantCands []candidate
	for k, n := range want {
		if n >= floor && df[k>>32] >= floor && df[uint32(k)] >= floor {
			wantCands = append(wantCands, candidate{key: k + 1, df: n})
		}
	}
	slices.SortFunc(wantCands, func(x, y candidate) int { return cmp.Compare(x.key, y.key) })
	if len(wantCands) < 20 {
		t.Fatalf("only %d bigrams in %d papers", len(wantCands), floor)
	}
	word := b.denseWords(df, floor)
	for _, chunk := range []int{1, 50, 1000, bigramChunk} {
		if got := b.countBigrams(word, floor, chunk); !slices.Equal(got, wantCands) {
			t.Errorf("chunk %d: %d bigrams, want %d", chunk, len(got), len(wantCands))
		}
	}
}

// TestSeed: a Builder seeded with an earlier one's words, given the papers
// that one read by their tokens and the others by their text, builds the
// corpus a fresh Builder builds from all of them, bit for bit.
func TestSeed(t *testing.T) {
	papers := evalPapers(t)
	want, err := Fit(papers, Options{})
	if err != nil {
		t.Fatal(err)
	}
	half := len(papers) / 2
	earlier, err := NewBuilder(Options{})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string][]int32{}
	for i := range papers[:half] {
		if err := earlier.Add(&papers[i]); err != nil {
			t.Fatal(err)
		}
		kept[papers[i].ID] = slices.Clone(earlier.Tokens())
	}
	b, err := NewBuilder(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Seed(slices.Clone(earlier.Words())); err != nil {
		t.Fatal(err)
	}
	// The later papers first: the words they bring follow the seed's.
	for i := range papers[half:] {
		if err := b.Add(&papers[half+i]); err != nil {
			t.Fatal(err)
		}
	}
	for id, toks := range kept {
		if err := b.AddTokens(id, toks); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	sameCorpus(t, got, want)
}

func TestSeedErrors(t *testing.T) {
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"diffusion", "models", "diffusion"}, `word 2, "diffusion", repeats`},
		{[]string{"diffusion", "the"}, `word 1, "the", is a stop word`},
		{[]string{"two words"}, `word 0, "two words", is not a word`},
		{[]string{"Models"}, `"Models", is not a word`},
		{[]string{"x"}, `"x", is not a word`},
		{[]string{""}, `word 0, "", is not a word`},
	} {
		b, err := NewBuilder(Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Seed(tt.words); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Seed(%q) = %v, want an error with %q", tt.words, err, tt.want)
		}
	}
	b, err := NewBuilder(Options{MinDF: 1, MaxDF: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(&tiny[0]); err != nil {
		t.Fatal(err)
	}
	if err := b.Seed([]string{"robots"}); err == nil || !strings.Contains(err.Error(), "has words already") {
		t.Errorf("Seed after Add: %v", err)
	}
	n := int32(len(b.Words()))
	for _, toks := range [][]int32{{0, n}, {-2}} {
		if err := b.AddTokens("b", toks); err == nil || !strings.Contains(err.Error(), "not one of the") {
			t.Errorf("AddTokens(%v) = %v, want a token out of range", toks, err)
		}
	}
	if err := b.AddTokens("", []int32{0}); err == nil || !strings.Contains(err.Error(), "no ID") {
		t.Errorf("AddTokens without an ID: %v", err)
	}
	if _, err := b.Build(); err != nil {
		t.Fatal(err)
	}
	if err := b.AddTokens("c", []int32{0}); err == nil || !strings.Contains(err.Error(), "built already") {
		t.Errorf("AddTokens after Build: %v", err)
	}
}
