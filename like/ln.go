package like

import "math"

// ln is the natural logarithm of x > 0, computed the same way on every
// machine. math.Log is not: s390x runs assembly, and its Go code has
// multiply-adds that arm64, ppc64 and s390x may compile fused, which rounds
// differently (amd64's assembly and the Go code compiled for 386 do agree
// on two million ratios (1+n)/(1+df) tried). A weight one bit apart can
// round to another 16-bit weight and reorder two papers of equal score.
// Here every product is converted explicitly, which forbids the fusion.
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
