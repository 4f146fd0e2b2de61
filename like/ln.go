package like

import "math"

// ln is the natural logarithm of x > 0, computed the same way on every
// machine. math.Log is not: on amd64 it runs assembly and elsewhere Go,
// which may differ in the last bit, and a weight one bit apart can round to
// another float32 and reorder two papers of equal score. Products are
// converted explicitly because Go may otherwise fuse a multiply and an add
// (on arm64, ppc64, s390x), which changes the rounding.
//
// x = m·2^e with m in [√½, √2), and ln m = 2·atanh(s) for s = (m-1)/(m+1),
// |s| < 0.172: twelve terms of the series s + s³/3 + s⁵/5 + ... leave an
// error below one part in 10^17.
func ln(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Log(x) // NaN, -Inf or +Inf alike everywhere
	}
	m, e := math.Frexp(x)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	s := (m - 1) / (m + 1)
	s2 := float64(s * s)
	p := 1.0 / 23
	for k := 21.0; k >= 1; k -= 2 {
		p = float64(p*s2) + 1/k
	}
	return float64(float64(e)*math.Ln2) + float64(2*float64(s*p))
}
