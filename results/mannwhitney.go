package results

import (
	"math"
	"sort"
)

// exactLimit is the largest n1+n2 for which MannWhitney computes the exact
// distribution of U (when there are no ties); above it the normal
// approximation is accurate to well under alpha's resolution.
const exactLimit = 50

// MWResult is the outcome of a two-sided Mann–Whitney U test of x against y.
type MWResult struct {
	N1, N2 int
	// U is the statistic of the first sample: the number of pairs (x, y)
	// with x > y, ties counting one half.
	U float64 `json:"u"`
	// Z is the normal approximation's standardised U (0 when Exact).
	Z float64 `json:"z"`
	// P is the two-sided p-value.
	P float64 `json:"p"`
	// Exact is true when P comes from the exact distribution of U.
	Exact bool `json:"exact"`
	// CliffsDelta is the effect size in [-1, 1]: P(x > y) − P(x < y).
	// It equals the rank-biserial correlation 2U/(n1·n2) − 1.
	CliffsDelta float64 `json:"cliffs_delta"`
}

// MannWhitney runs a two-sided Mann–Whitney U test. Ties get mid-ranks and
// the variance its tie correction; without ties and with n1+n2 ≤ 50 the
// p-value is exact, otherwise it is the normal approximation with a
// continuity correction. Either sample empty gives P = 1.
func MannWhitney(x, y []float64) MWResult { return mannWhitney(x, y, exactLimit) }

func mannWhitney(x, y []float64, exactMax int) MWResult {
	n1, n2 := len(x), len(y)
	res := MWResult{N1: n1, N2: n2, P: 1}
	if n1 == 0 || n2 == 0 {
		return res
	}
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].v < all[j].v })

	n := float64(n1 + n2)
	var r1, tieSum float64
	ties := false
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		t := float64(j - i)
		if t > 1 {
			ties = true
			tieSum += t*t*t - t
		}
		mid := float64(i+j+1) / 2 // ranks are 1-based: (i+1 + j) / 2
		for k := i; k < j; k++ {
			if all[k].first {
				r1 += mid
			}
		}
		i = j
	}
	f1, f2 := float64(n1), float64(n2)
	u := r1 - f1*(f1+1)/2
	res.U = u
	res.CliffsDelta = 2*u/(f1*f2) - 1

	if !ties && n1+n2 <= exactMax {
		res.Exact = true
		res.P = exactP(n1, n2, u)
		return res
	}
	mean := f1 * f2 / 2
	variance := f1 * f2 / 12 * ((n + 1) - tieSum/(n*(n-1)))
	if variance <= 0 { // every value equal: no evidence of a difference
		return res
	}
	d := math.Abs(u-mean) - 0.5
	if d < 0 {
		d = 0
	}
	res.Z = math.Copysign(d/math.Sqrt(variance), u-mean)
	res.P = math.Min(1, math.Erfc(d/math.Sqrt(variance)/math.Sqrt2))
	return res
}

// exactP is the two-sided exact p-value of U for samples of n1 and n2
// without ties: 2·P(U' ≤ min(U, n1n2−U)), capped at 1.
func exactP(n1, n2 int, u float64) float64 {
	m := n1 * n2
	// counts[u] for the current (i, j) built up by the recurrence
	// c(i, j, u) = c(i-1, j, u-j) + c(i, j-1, u). Floats: C(50,25) ≈ 1.3e14
	// fits a float64's mantissa.
	prev := make([][]float64, n2+1) // prev[j] = counts for i-1
	for j := 0; j <= n2; j++ {
		prev[j] = []float64{1} // i = 0: U is 0 in exactly one way
	}
	for i := 1; i <= n1; i++ {
		cur := make([][]float64, n2+1)
		cur[0] = []float64{1}
		for j := 1; j <= n2; j++ {
			c := make([]float64, i*j+1)
			for k, v := range prev[j] { // x_i is the largest: it beats all j
				c[k+j] += v
			}
			for k, v := range cur[j-1] { // y_j is the largest
				c[k] += v
			}
			cur[j] = c
		}
		prev = cur
	}
	counts := prev[n2]
	var total float64
	for _, v := range counts {
		total += v
	}
	lo := math.Min(u, float64(m)-u)
	var tail float64
	for k := 0; k <= m && float64(k) <= lo+1e-9; k++ {
		tail += counts[k]
	}
	return math.Min(1, 2*tail/total)
}
