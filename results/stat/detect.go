package stat

import (
	"math"
	"sync"

	"github.com/aclements/go-moremath/stats"
)

// MinDetectable is the smallest shift on the log scale that a two-sided
// Mann–Whitney test at alpha finds with power, for n1 and n2 runs of
// spread sd: the t-test's (t₁₋α/₂ + t_power)·sd·√(1/n1+1/n2) on n1+n2−2
// degrees of freedom, divided by √(3/π), the U test's efficiency against
// it under normal noise. TestSimulationCallRate checks the power it
// states. 0 when the samples cannot reach p < alpha at all.
func MinDetectable(n1, n2 int, sd, alpha, power float64) float64 {
	if MinAttainableP(n1, n2) >= alpha || n1+n2 < 3 {
		return 0
	}
	return tSum(n1, n2, alpha, power) * sd * math.Sqrt(math.Pi/3) * math.Sqrt(1/float64(n1)+1/float64(n2))
}

// attainedAlpha is the largest two-sided level below alpha that the exact
// U test of n1 and n2 samples (no ties) attains: its p-values are
// discrete, so it rejects less often than alpha says.
func attainedAlpha(n1, n2 int, alpha float64) float64 {
	if n1 > 25 || n2 > 25 {
		return alpha // the normal approximation's levels are not discrete
	}
	key := rankKey{n1, n2, alpha}
	if v, ok := alphaCache.Load(key); ok {
		return v.(float64)
	}
	u := stats.UDist{N1: n1, N2: n2}
	got := 0.0
	for c := 0; c <= n1*n2/2; c++ {
		p := 2 * u.CDF(float64(c))
		if p >= alpha {
			break
		}
		got = p
	}
	got = max(got, 1e-12)
	alphaCache.Store(key, got)
	return got
}

// tSum is t₁₋α'/₂ + t_power on n1+n2−2 degrees of freedom, α' the level
// the U test attains (cached: the inversion is numeric).
func tSum(n1, n2 int, alpha, power float64) float64 {
	key := tKey{n1, n2, alpha, power}
	if v, ok := tCache.Load(key); ok {
		return v.(float64)
	}
	inv := stats.InvCDF(stats.TDist{V: float64(n1 + n2 - 2)})
	t := inv(1-attainedAlpha(n1, n2, alpha)/2) + inv(power)
	tCache.Store(key, t)
	return t
}

type tKey struct {
	n1, n2       int
	alpha, power float64
}

var tCache sync.Map

// alphaCache maps rankKey (n1, n2, alpha) to attainedAlpha.
var alphaCache sync.Map

// LogSpread is the pooled standard deviation of the log values of a and b
// about their own sides' means (0 when a side has fewer than 3 finite
// positive values). Not a robust spread: an outlier run widens it, which
// makes the stated detectable change larger, never smaller.
func LogSpread(a, b []float64) float64 {
	var ss float64
	var df int
	for _, xs := range [][]float64{a, b} {
		var ls []float64
		for _, x := range xs {
			if x > 0 && !math.IsInf(x, 0) {
				ls = append(ls, math.Log(x))
			}
		}
		if len(ls) < 3 {
			return 0
		}
		mean := stats.Mean(ls)
		for _, l := range ls {
			ss += (l - mean) * (l - mean)
		}
		df += len(ls) - 1
	}
	return math.Sqrt(ss / float64(df))
}
