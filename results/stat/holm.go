package stat

import (
	"cmp"
	"math"
	"slices"
)

// Holm adjusts p-values by Holm's step-down method over the m of them:
// the i-th smallest times m−i+1, made monotone, capped at 1. An adjusted
// p < alpha keeps the chance of any false call among the m at most alpha.
func Holm(p []float64) []float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[a], p[b]) })
	out := make([]float64, len(p))
	run := 0.0
	for rank, i := range idx {
		run = math.Max(run, math.Min(1, float64(len(p)-rank)*p[i]))
		out[i] = run
	}
	return out
}
