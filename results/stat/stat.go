// Package stat holds the statistics of duckbench's verdicts, apart from
// the records they judge and the reports that print them (as benchstat
// keeps benchmath): run-level tests with their intervals, the error
// proportions' exact test, what a design can detect, multiplicity.
package stat

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchmath"
)

// Significance is the outcome of a test of the difference between the two
// sides' run-level samples of one metric (or, for the error rate, of their
// request counts).
type Significance struct {
	// Method names the test and the samples, e.g.
	// "mann-whitney, per-trial p99 (4 vs 4)".
	Method string `json:"method"`
	NBase  int    `json:"n_base"`
	NNew   int    `json:"n_new"`
	// P is the two-sided p-value; MinP the smallest p these sample sizes
	// can give at all. When MinP ≥ alpha the test cannot find anything.
	P     float64 `json:"p"`
	MinP  float64 `json:"min_p"`
	Exact bool    `json:"exact,omitempty"`
	// Effect is Cliff's delta of new against base for Mann–Whitney (−1…1,
	// positive = new larger) and the difference of proportions for
	// Fisher's test.
	Effect     float64 `json:"effect"`
	EffectName string  `json:"effect_name"`
	// Shift is the Hodges–Lehmann estimate of new − base (the median of
	// all pairwise differences), with the distribution-free confidence
	// interval [ShiftLo, ShiftHi] that inverts the same U test; its exact
	// level is Confidence (≥ 1 − alpha; the bounds are nil when the
	// samples are too small for any interval at that level). Set for
	// Mann–Whitney only.
	// A Failed latency (+Inf) in a sample ranks above every number; a
	// shift or bound it makes infinite is left out (0, nil).
	Shift      float64  `json:"shift,omitempty"`
	ShiftLo    *float64 `json:"shift_lo,omitempty"`
	ShiftHi    *float64 `json:"shift_hi,omitempty"`
	Confidence float64  `json:"confidence,omitempty"`
	// Ratio is the same Hodges–Lehmann estimate on the log scale, as a
	// ratio new/base (exp of the median pairwise log ratio), with its
	// interval [RatioLo, RatioHi]: set when every value is positive, so a
	// relative change never reads below −100 %.
	Ratio   float64  `json:"ratio,omitempty"`
	RatioLo *float64 `json:"ratio_lo,omitempty"`
	RatioHi *float64 `json:"ratio_hi,omitempty"`
	// PooledFisherP is, for the error rate, Fisher's exact test of the
	// pooled request counts: information only (it takes the requests for
	// independent, which bursts of errors are not).
	PooledFisherP *float64 `json:"pooled_fisher_p,omitempty"`
}

// Direction is the sign of the change new − base the test saw: the shift's,
// or Cliff's delta when the shift is 0 or was left out (a Failed value).
func (s *Significance) Direction() float64 {
	switch {
	case s.Shift != 0:
		return s.Shift
	case s.Ratio != 0 && s.Ratio != 1:
		return s.Ratio - 1
	}
	return s.Effect
}

// testRuns compares run-level samples with benchmath's non-parametric test
// (Mann–Whitney U, exact for up to 25 per side even with ties) and adds the
// Hodges–Lehmann shift with its confidence interval. Fewer than one
// sample on a side gives nil.
func TestRuns(what string, base, new []float64, alpha float64) *Significance {
	if len(base) == 0 || len(new) == 0 {
		return nil
	}
	th := &benchmath.Thresholds{CompareAlpha: alpha}
	// NewSample sorts in place: hand it copies.
	sb := benchmath.NewSample(slices.Clone(base), th)
	sn := benchmath.NewSample(slices.Clone(new), th)
	cmp := benchmath.AssumeNothing.Compare(sb, sn)
	s := &Significance{
		Method: fmt.Sprintf("mann-whitney, %s (%d vs %d)", what, len(base), len(new)),
		NBase:  len(base), NNew: len(new),
		P:          cmp.P,
		MinP:       MinAttainableP(len(base), len(new)),
		Exact:      len(base) <= stats.MannWhitneyTiesExactLimit && len(new) <= stats.MannWhitneyTiesExactLimit,
		EffectName: "cliff's delta",
	}
	if len(base) == 1 && len(new) == 1 {
		s.P = 1 // moremath's U test has no answer for 1 vs 1; no test has
	}
	var lo, hi float64
	s.Shift, lo, hi, s.Confidence, s.Effect = hodgesLehmann(base, new, 1-alpha)
	s.ShiftLo, s.ShiftHi = finitePair(lo, hi)
	if math.IsInf(s.Shift, 0) {
		s.Shift = 0
	}
	if allPositive(base) && allPositive(new) {
		ls, llo, lhi, _, _ := hodgesLehmann(logs(base), logs(new), 1-alpha)
		if !math.IsInf(ls, 0) {
			s.Ratio = math.Exp(ls)
		}
		s.RatioLo, s.RatioHi = finitePair(math.Exp(llo), math.Exp(lhi))
	}
	return s
}

// finitePair is &lo, &hi when both are finite, else nil, nil.
func finitePair(lo, hi float64) (*float64, *float64) {
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi) {
		return nil, nil
	}
	return &lo, &hi
}

func allPositive(xs []float64) bool {
	for _, x := range xs {
		if !(x > 0) {
			return false
		}
	}
	return true
}

func logs(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Log(x)
	}
	return out
}

// diff is a − b, with equal infinities (two Failed latencies) a tie.
func Diff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return a - b
}

// MinAttainableP is the smallest two-sided p-value an exact Mann–Whitney
// test can give for samples of n1 and n2 (complete separation, no ties):
// 2 / C(n1+n2, n1), capped at 1.
func MinAttainableP(n1, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	c := 1.0
	for i := 1; i <= n1; i++ {
		c = c * float64(n2+i) / float64(i)
	}
	return math.Min(1, 2/c)
}

// RunsForAlpha is the smallest number of runs per side whose Mann–Whitney
// test can reach p < alpha when the other side has other runs (0: as many
// as this side). It is capped at 50.
func RunsForAlpha(other int, alpha float64) int {
	for n := 1; n <= 50; n++ {
		o := other
		if o <= 0 {
			o = n
		}
		if MinAttainableP(o, n) < alpha {
			return n
		}
	}
	return 50
}

// hodgesLehmann returns the median of the pairwise differences new_j −
// base_i, the confidence interval of that shift obtained by inverting the
// Mann–Whitney test (Bauer 1972): the k-th smallest and largest differences,
// where k is the largest with P(U < k) ≤ (1−conf)/2 under the exact null
// distribution of U without ties, the interval's actual level, and Cliff's
// delta (the share of pairs with new > base minus those with new < base).
func hodgesLehmann(base, new []float64, conf float64) (shift, lo, hi, level, cliff float64) {
	n1, n2 := len(base), len(new)
	d := make([]float64, 0, n1*n2)
	var gt, lt int
	for _, b := range base {
		for _, n := range new {
			d = append(d, Diff(n, b))
			switch {
			case n > b:
				gt++
			case n < b:
				lt++
			}
		}
	}
	slices.Sort(d)
	m := len(d)
	if m%2 == 1 {
		shift = d[m/2]
	} else {
		shift = mid(d[m/2-1], d[m/2])
	}
	cliff = float64(gt-lt) / float64(m)
	k, level := intervalRank(n1, n2, conf)
	if k == 0 {
		return shift, math.Inf(-1), math.Inf(1), 1, cliff
	}
	return shift, d[k-1], d[m-k], level, cliff
}

// rankCache maps rankKey to rankVal: the U distribution is costly to
// build and the same few sample sizes recur.
var rankCache sync.Map

type rankKey struct {
	n1, n2 int
	conf   float64
}

type rankVal struct {
	k     int
	level float64
}

// intervalRank is k = 1 + the largest c with P(U ≤ c) ≤ (1−conf)/2 (0 when
// there is none) and the interval's level 1 − 2·P(U ≤ k−1).
func intervalRank(n1, n2 int, conf float64) (int, float64) {
	key := rankKey{n1, n2, conf}
	if v, ok := rankCache.Load(key); ok {
		return v.(rankVal).k, v.(rankVal).level
	}
	m, tail := n1*n2, (1-conf)/2
	v := rankVal{level: 1}
	if n1 <= 50 && n2 <= 50 {
		u := stats.UDist{N1: n1, N2: n2}
		for v.k < m/2 && u.CDF(float64(v.k)) <= tail {
			v.k++
		}
		if v.k > 0 {
			v.level = 1 - 2*u.CDF(float64(v.k-1))
		}
	} else { // the normal approximation of U
		sd := math.Sqrt(float64(n1*n2*(n1+n2+1)) / 12)
		v.k = max(0, int(math.Floor(float64(m)/2+stats.StdNormal.InvCDF(tail)*sd)))
		v.level = conf
	}
	rankCache.Store(key, v)
	return v.k, v.level
}

// fisherExact tests whether two error proportions differ: Fisher's exact
// test of the 2×2 table (errors, successes) × (base, new), two-sided by
// summing every table at most as likely as the observed one, on go-moremath's
// hypergeometric distribution. Requests are treated as independent; errors
// that come in bursts make this p too small, which is why the error gate
// also needs its threshold.
func FisherExact(errBase, nBase, errNew, nNew uint64) float64 {
	if nBase == 0 || nNew == 0 {
		return 1
	}
	total := errBase + errNew
	if total == 0 || total == nBase+nNew {
		return 1
	}
	h := stats.HypergeometicDist{N: int(nBase + nNew), K: int(total), Draws: int(nBase)}
	lo, hi := h.Bounds()
	obs := h.PMF(float64(errBase))
	var p float64
	for k := lo; k <= hi; k++ {
		if v := h.PMF(k); v <= obs*(1+1e-7) {
			p += v
		}
	}
	return math.Min(1, p)
}

// median of xs (NaN for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return mid(s[len(s)/2-1], s[len(s)/2])
}

// mid is the midpoint of a ≤ b; of two equal infinities, that infinity.
func mid(a, b float64) float64 {
	if a == b {
		return a
	}
	if math.IsInf(a, -1) && math.IsInf(b, 1) {
		return 0
	}
	return a/2 + b/2
}
