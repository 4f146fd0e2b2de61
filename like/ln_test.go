package like

import (
	"math"
	"testing"
)

// TestLn checks ln against math.Log over the arguments the package takes
// (term counts and (1+n)/(1+df) ratios) and beyond: they may differ in the
// last bits, which is why ln exists, but not by more.
func TestLn(t *testing.T) {
	check := func(x float64) {
		t.Helper()
		got, want := ln(x), math.Log(x)
		if d := math.Abs(got - want); d > 4e-16*math.Max(1, math.Abs(want)) {
			t.Fatalf("ln(%v) = %v, math.Log %v, off by %g", x, got, want, d)
		}
	}
	for i := 1; i <= 100_000; i++ {
		check(float64(i))
		check(float64(1+100_000) / float64(1+i))
	}
	for _, x := range []float64{1e-300, 1e-10, 0.5, math.Sqrt2 / 2, math.Sqrt2, math.E, 1e10, 1e300, math.MaxFloat64} {
		check(x)
	}
	if got := ln(1); got != 0 {
		t.Errorf("ln(1) = %v, want 0", got)
	}
	for _, x := range []float64{0, -1, math.Inf(1), math.NaN()} {
		got, want := ln(x), math.Log(x)
		if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("ln(%v) = %v, want %v", x, got, want)
		}
	}
}
