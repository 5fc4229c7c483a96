package history

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Defaults of Detect.
const (
	// DefaultAlpha is the significance level of the permutation test.
	DefaultAlpha = 0.05
	// DefaultPermutations is the number of permutations per test (199
	// resolves p down to 0.005).
	DefaultPermutations = 199
	// DefaultMinSegment is the fewest runs on either side of a change
	// point.
	DefaultMinSegment = 3
	// DefaultMinChange is the command's default smallest reported change
	// (Analyze's zero value reports every significant split).
	DefaultMinChange = 0.05
	// DefaultSeed seeds the permutations, so that an analysis repeats.
	DefaultSeed = 1
)

// DetectOptions tune Detect. Zero values take the defaults.
type DetectOptions struct {
	Alpha        float64
	Permutations int
	MinSegment   int
	Seed         uint64
	// MinChange is the smallest relative change of the segment medians
	// that Analyze reports (0: every significant split). A split below it
	// is merged away: on a shared machine, load drifts move a quiet
	// metric by a few per cent between runs, significantly but not
	// because of anything the user changed.
	MinChange float64
}

func (o *DetectOptions) defaults() {
	if o.Alpha <= 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Permutations <= 0 {
		o.Permutations = DefaultPermutations
	}
	if o.MinSegment <= 0 {
		o.MinSegment = DefaultMinSegment
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
}

// Split is one significant change point: the series changes between
// Index-1 and Index (Index is the first value of the new segment).
type Split struct {
	Index int
	// Q is the E-statistic of the split in its segment.
	Q float64
	// P is the permutation test's p-value ((1 + permutations at least as
	// large) / (1 + permutations)).
	P float64
}

// Detect finds the change points of xs by E-Divisive means (Matteson &
// James, "A Nonparametric Approach for Multiple Change Point Analysis of
// Multivariate Data", JASA 2014; α = 1, so it detects changes in the mean):
// bisect hierarchically, each time at the split of largest weighted
// energy distance Q̂ over all current segments, while the permutation test
// (values permuted within each segment) finds it significant at Alpha. The
// splits are returned in index order.
func Detect(xs []float64, o DetectOptions) []Split {
	o.defaults()
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	bounds := []int{0, len(xs)} // segment edges
	var out []Split
	for {
		seg, tau, q := bestSplit(xs, bounds, o.MinSegment)
		if seg < 0 || q <= 0 {
			break
		}
		p := permutationP(xs, bounds, q, o, rng)
		if p > o.Alpha {
			break
		}
		out = append(out, Split{Index: tau, Q: q, P: p})
		bounds = append(bounds, tau)
		sort.Ints(bounds)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// bestSplit returns the segment (index into bounds), split point and Q of
// the best split over all segments; seg < 0 when no segment can be split.
func bestSplit(xs []float64, bounds []int, minSeg int) (seg, tau int, q float64) {
	seg, q = -1, math.Inf(-1)
	for i := 0; i+1 < len(bounds); i++ {
		t, qi := splitSegment(xs[bounds[i]:bounds[i+1]], minSeg)
		if t > 0 && qi > q {
			seg, tau, q = i, bounds[i]+t, qi
		}
	}
	return seg, tau, q
}

// splitSegment returns the split t (first index of the right part, 0 for
// none) maximising Q̂(t) = m·n/(m+n) · (2/(m·n)·B − W/C(m,2) − V/C(n,2)),
// with B the sum of |x−y| between the parts and W, V within them.
func splitSegment(xs []float64, minSeg int) (int, float64) {
	n := len(xs)
	if n < 2*minSeg {
		return 0, 0
	}
	// W[t]: within-sum of xs[:t]; V[t]: within-sum of xs[t:].
	W := make([]float64, n+1)
	for t := 1; t <= n; t++ {
		s := 0.0
		for i := 0; i < t-1; i++ {
			s += math.Abs(xs[i] - xs[t-1])
		}
		W[t] = W[t-1] + s
	}
	V := make([]float64, n+1)
	for t := n - 1; t >= 0; t-- {
		s := 0.0
		for j := t + 1; j < n; j++ {
			s += math.Abs(xs[t] - xs[j])
		}
		V[t] = V[t+1] + s
	}
	total := W[n]
	best, bestQ := 0, math.Inf(-1)
	for t := max(minSeg, 2); t <= n-max(minSeg, 2); t++ {
		m, k := float64(t), float64(n-t)
		b := total - W[t] - V[t]
		e := 2*b/(m*k) - W[t]/(m*(m-1)/2) - V[t]/(k*(k-1)/2)
		if q := m * k / (m + k) * e; q > bestQ {
			best, bestQ = t, q
		}
	}
	return best, bestQ
}

// permutationP is the p-value of q: the share of permutations (values
// shuffled within each segment) whose best split is at least as large.
func permutationP(xs []float64, bounds []int, q float64, o DetectOptions, rng *rand.Rand) float64 {
	perm := make([]float64, len(xs))
	atLeast := 0
	for r := 0; r < o.Permutations; r++ {
		copy(perm, xs)
		for i := 0; i+1 < len(bounds); i++ {
			s := perm[bounds[i]:bounds[i+1]]
			rng.Shuffle(len(s), func(a, b int) { s[a], s[b] = s[b], s[a] })
		}
		if _, _, qp := bestSplit(perm, bounds, o.MinSegment); qp >= q {
			atLeast++
		}
	}
	return float64(1+atLeast) / float64(1+o.Permutations)
}
