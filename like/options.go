package like

import (
	"errors"
	"fmt"
	"math"
)

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
	// Default 1e-4, scikit-learn's; arxiv-sanity-lite asked for 1e-6,
	// which gives the same TestPrecision table in more passes.
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
