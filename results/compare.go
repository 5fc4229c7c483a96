package results

import (
	"fmt"
	"math"

	"github.com/duckbench/duckbench/spec"
)

// Default regression thresholds of Compare.
const (
	DefaultMaxP99Regression  = 0.10  // p99 may grow by 10 %
	DefaultMaxThroughputDrop = 0.05  // throughput may fall by 5 %
	DefaultMaxErrorRate      = 0.001 // at most 0.1 % of requests may fail
	DefaultAlpha             = 0.05  // significance level
)

// Thresholds bound what Compare accepts as noise. Ratios are fractions
// (0.10 = 10 %).
type Thresholds struct {
	MaxP99Regression  float64 `json:"max_p99_regression"`
	MaxThroughputDrop float64 `json:"max_throughput_drop"`
	MaxErrorRate      float64 `json:"max_error_rate"`
	Alpha             float64 `json:"alpha"`
}

// DefaultThresholds returns the Default* thresholds.
func DefaultThresholds() Thresholds {
	return Thresholds{
		MaxP99Regression:  DefaultMaxP99Regression,
		MaxThroughputDrop: DefaultMaxThroughputDrop,
		MaxErrorRate:      DefaultMaxErrorRate,
		Alpha:             DefaultAlpha,
	}
}

// RunRef identifies one side of a comparison.
type RunRef struct {
	ID       string `json:"id"`
	Spec     string `json:"spec"`
	SpecHash string `json:"spec_hash"`
	Trials   int    `json:"trials"`
	Seconds  int    `json:"seconds"`
	// Saturated mirrors Result.GeneratorSaturated.
	Saturated bool `json:"generator_saturated"`
}

// Significance is the outcome of a test of the difference between the two
// runs' samples of one metric.
type Significance struct {
	// Method names the test and the samples, e.g.
	// "mann-whitney, per-second p99 (10 vs 10)".
	Method string  `json:"method"`
	NBase  int     `json:"n_base"`
	NNew   int     `json:"n_new"`
	P      float64 `json:"p"`
	Exact  bool    `json:"exact,omitempty"`
	// Effect is Cliff's delta of new against base for Mann–Whitney (−1…1,
	// positive = new larger) and the difference of proportions for the
	// two-proportion test.
	Effect     float64 `json:"effect"`
	EffectName string  `json:"effect_name"`
}

// MetricDelta is one row of a comparison.
type MetricDelta struct {
	Name string `json:"name"`
	// Unit is "s", "req/s" or "ratio".
	Unit string  `json:"unit"`
	Base float64 `json:"base"`
	New  float64 `json:"new"`
	// Delta is New − Base.
	Delta float64 `json:"delta"`
	// Relative is Delta / Base; nil when Base is 0.
	Relative *float64 `json:"relative,omitempty"`
	// Better is "lower" or "higher".
	Better string `json:"better"`
	// Threshold is the gate on this metric ("" = informational only).
	Threshold string        `json:"threshold,omitempty"`
	Test      *Significance `json:"test,omitempty"`
	// Exceeds is true when the change passes the threshold in the bad
	// direction; Significant when the test's p < alpha (or no test could be
	// run). Regression is both.
	Exceeds     bool `json:"exceeds"`
	Significant bool `json:"significant"`
	Regression  bool `json:"regression"`
}

// Comparison is the outcome of Compare.
type Comparison struct {
	Base       RunRef        `json:"base"`
	New        RunRef        `json:"new"`
	SameSpec   bool          `json:"same_spec"`
	Thresholds Thresholds    `json:"thresholds"`
	Metrics    []MetricDelta `json:"metrics"`
	Regression bool          `json:"regression"`
	// Reasons lists each regression, one line each.
	Reasons []string `json:"reasons,omitempty"`
	// Warnings are caveats that do not fail the comparison.
	Warnings []string `json:"warnings,omitempty"`
}

// Compare sets new against base. Gated metrics (p99, throughput, error
// rate) count as a regression only when the change exceeds its threshold
// and is significant at th.Alpha. Samples are the per-trial summaries when
// both runs have at least 3 trials and enough of them for the test to reach
// alpha, otherwise the per-second timeline. Zero thresholds take defaults.
func Compare(base, new *Result, th Thresholds) *Comparison {
	th = th.withDefaults()
	c := &Comparison{
		Base:       ref(base),
		New:        ref(new),
		SameSpec:   base.Spec.Name == new.Spec.Name,
		Thresholds: th,
	}
	perTrial := len(base.Trials) >= 3 && len(new.Trials) >= 3 &&
		minExactP(len(base.Trials), len(new.Trials)) < th.Alpha
	trialVals := func(r *Result, f func(Summary) float64) []float64 {
		out := make([]float64, len(r.Trials))
		for i, t := range r.Trials {
			out[i] = f(t.Summary)
		}
		return out
	}
	secVals := func(r *Result, f func(Second) (float64, bool)) []float64 {
		var out []float64
		for _, s := range r.Timeline {
			if v, ok := f(s); ok {
				out = append(out, v)
			}
		}
		return out
	}
	mw := func(what string, b, n []float64) *Significance {
		if len(b) < 2 || len(n) < 2 {
			return nil
		}
		res := MannWhitney(n, b)
		return &Significance{
			Method: fmt.Sprintf("mann-whitney, %s (%d vs %d)", what, len(b), len(n)),
			NBase:  len(b), NNew: len(n), P: res.P, Exact: res.Exact,
			Effect: res.CliffsDelta, EffectName: "cliff's delta",
		}
	}
	latencyTest := func(label string, q func(Quantiles) float64, sec func(Second) float64) *Significance {
		if perTrial {
			f := func(s Summary) float64 { return q(s.Latency) }
			return mw("per-trial "+label, trialVals(base, f), trialVals(new, f))
		}
		if sec == nil {
			return nil
		}
		f := func(s Second) (float64, bool) { return sec(s), s.AchievedRate > 0 }
		return mw("per-second "+label, secVals(base, f), secVals(new, f))
	}

	// Throughput.
	{
		m := delta("throughput", "req/s", "higher", base.Summary.Throughput, new.Summary.Throughput)
		m.Threshold = "-" + FormatPercent(th.MaxThroughputDrop)
		if perTrial {
			f := func(s Summary) float64 { return s.Throughput }
			m.Test = mw("per-trial throughput", trialVals(base, f), trialVals(new, f))
		} else {
			f := func(s Second) (float64, bool) { return math.Max(0, s.AchievedRate-float64(s.Errors)), true }
			m.Test = mw("per-second throughput", secVals(base, f), secVals(new, f))
		}
		drop := -rel(m)
		m.Exceeds = base.Summary.Throughput > 0 && drop > th.MaxThroughputDrop+1e-12
		c.gate(&m, fmt.Sprintf("throughput fell %s (%.1f → %.1f req/s), more than the allowed %s",
			FormatPercent(drop), m.Base, m.New, FormatPercent(th.MaxThroughputDrop)))
	}
	// Latency quantiles; only p99 is gated.
	for _, q := range []struct {
		name string
		q    func(Quantiles) float64
		sec  func(Second) float64
	}{
		{"p50", func(q Quantiles) float64 { return q.P50 }, func(s Second) float64 { return s.P50 }},
		{"p90", func(q Quantiles) float64 { return q.P90 }, nil},
		{"p99", func(q Quantiles) float64 { return q.P99 }, func(s Second) float64 { return s.P99 }},
		{"p99.9", func(q Quantiles) float64 { return q.P999 }, nil},
		{"max", func(q Quantiles) float64 { return q.Max }, func(s Second) float64 { return s.Max }},
	} {
		m := delta(q.name, "s", "lower", q.q(base.Summary.Latency), q.q(new.Summary.Latency))
		m.Test = latencyTest(q.name, q.q, q.sec)
		if q.name == "p99" {
			m.Threshold = "+" + FormatPercent(th.MaxP99Regression)
			switch {
			case m.Base > 0:
				m.Exceeds = rel(m) > th.MaxP99Regression+1e-12
			default:
				m.Exceeds = m.New > 0
			}
			c.gate(&m, fmt.Sprintf("p99 rose %s (%s → %s), more than the allowed %s",
				FormatPercent(rel(m)), FormatSeconds(m.Base), FormatSeconds(m.New), FormatPercent(th.MaxP99Regression)))
			continue
		}
		m.Significant = m.Test != nil && m.Test.P < th.Alpha
		c.Metrics = append(c.Metrics, m)
	}
	// Error rate, tested as two proportions of the request counts.
	{
		bErr, nErr := errorRate(base.Summary), errorRate(new.Summary)
		m := delta("error rate", "ratio", "lower", bErr, nErr)
		m.Threshold = "<= " + FormatPercent(th.MaxErrorRate)
		m.Test = twoProportions(base.Summary, new.Summary)
		m.Exceeds = nErr > th.MaxErrorRate && nErr > bErr
		c.gate(&m, fmt.Sprintf("error rate %s is above the allowed %s (base %s)",
			FormatPercent(nErr), FormatPercent(th.MaxErrorRate), FormatPercent(bErr)))
		if nErr > th.MaxErrorRate && !m.Exceeds {
			c.Warnings = append(c.Warnings, fmt.Sprintf("error rate %s is above %s in both runs", FormatPercent(nErr), FormatPercent(th.MaxErrorRate)))
		}
	}
	// Replication delay p99 per replica (informational).
	replica := func(r ReplicaStats) string { return r.Replica }
	for _, name := range unionNames(base.Replication, new.Replication, replica) {
		b, bok := findBy(base.Replication, replica, name)
		n, nok := findBy(new.Replication, replica, name)
		if !bok || !nok {
			c.Warnings = append(c.Warnings, fmt.Sprintf("replica %q is only in one run", name))
			continue
		}
		m := delta("replication delay p99 ["+name+"]", "s", "lower", b.DelayP99Seconds, n.DelayP99Seconds)
		f := func(s Second) (float64, bool) { v, ok := s.ReplicationDelay[name]; return v, ok }
		m.Test = mw("per-second delay", secVals(base, f), secVals(new, f))
		m.Significant = m.Test != nil && m.Test.P < th.Alpha
		c.Metrics = append(c.Metrics, m)
	}
	// Per-backend share skew and cache hit ratio (informational).
	for _, be := range unionNames(base.Backends, new.Backends, func(s ServerStats) string { return s.Backend }) {
		bs, bok := shareSkew(base.Backends, be)
		ns, nok := shareSkew(new.Backends, be)
		if bok && nok {
			c.Metrics = append(c.Metrics, delta("share skew ["+be+"]", "ratio", "lower", bs, ns))
		}
	}
	cache := func(c CacheStats) string { return c.Backend }
	for _, be := range unionNames(base.Caches, new.Caches, cache) {
		b, bok := findBy(base.Caches, cache, be)
		n, nok := findBy(new.Caches, cache, be)
		if bok && nok {
			c.Metrics = append(c.Metrics, delta("cache hit ratio ["+be+"]", "ratio", "higher", b.HitRatio, n.HitRatio))
		}
	}

	if !c.SameSpec {
		c.Warnings = append(c.Warnings, fmt.Sprintf("different specs: %q vs %q", base.Spec.Name, new.Spec.Name))
	} else if base.Spec.Hash != "" && new.Spec.Hash != "" && base.Spec.Hash != new.Spec.Hash {
		c.Warnings = append(c.Warnings, "the spec changed between the runs (hash differs)")
	}
	if bb, nb := base.Summary.LatencyBasis, new.Summary.LatencyBasis; bb != nb {
		// Intended-time latency includes waits that send-time latency hides.
		c.Warnings = append(c.Warnings, fmt.Sprintf("the latencies are timed differently (base: %s, new: %s): compare them with care", nonEmpty(bb, "unknown"), nonEmpty(nb, "unknown")))
	}
	if base.GeneratorSaturated || new.GeneratorSaturated {
		c.Warnings = append(c.Warnings, "the load generator was saturated in at least one run: latency and throughput are not the server's")
	}
	for _, side := range []struct {
		name string
		r    *Result
	}{{"base", base}, {"new", new}} {
		if side.r.Status != "" && side.r.Status != "completed" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("the %s run is %s", side.name, side.r.Status))
		}
	}
	if !perTrial && (len(base.Trials) >= 3 || len(new.Trials) >= 3) {
		c.Warnings = append(c.Warnings, "too few trials for a per-trial test at this alpha: per-second samples used")
	}
	return c
}

// gate appends a gated metric and records its regression.
func (c *Comparison) gate(m *MetricDelta, reason string) {
	m.Significant = m.Test == nil || m.Test.P < c.Thresholds.Alpha
	m.Regression = m.Exceeds && m.Significant
	if m.Regression {
		if m.Test != nil {
			reason += fmt.Sprintf(" (p=%s, %s)", formatP(m.Test.P), m.Test.Method)
		} else {
			reason += " (no samples to test significance)"
		}
		c.Regression = true
		c.Reasons = append(c.Reasons, reason)
	}
	c.Metrics = append(c.Metrics, *m)
}

// ThresholdsFromSpec returns the thresholds of a spec's check section,
// with defaults for what it leaves unset. Flags override the result.
func ThresholdsFromSpec(c spec.Check) Thresholds {
	return Thresholds{
		MaxP99Regression:  float64(c.MaxP99Regression),
		MaxThroughputDrop: float64(c.MaxThroughputDrop),
		MaxErrorRate:      float64(c.MaxErrorRate),
		Alpha:             c.Alpha,
	}.withDefaults()
}

func (th Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds()
	if th.MaxP99Regression <= 0 {
		th.MaxP99Regression = d.MaxP99Regression
	}
	if th.MaxThroughputDrop <= 0 {
		th.MaxThroughputDrop = d.MaxThroughputDrop
	}
	if th.MaxErrorRate <= 0 {
		th.MaxErrorRate = d.MaxErrorRate
	}
	if th.Alpha <= 0 || th.Alpha >= 1 {
		th.Alpha = d.Alpha
	}
	return th
}

func ref(r *Result) RunRef {
	return RunRef{ID: r.ID, Spec: r.Spec.Name, SpecHash: r.Spec.Hash, Trials: len(r.Trials),
		Seconds: len(r.Timeline), Saturated: r.GeneratorSaturated}
}

func delta(name, unit, better string, b, n float64) MetricDelta {
	m := MetricDelta{Name: name, Unit: unit, Better: better, Base: b, New: n, Delta: n - b}
	if b != 0 {
		r := (n - b) / b
		m.Relative = &r
	}
	return m
}

func rel(m MetricDelta) float64 {
	if m.Relative == nil {
		return 0
	}
	return *m.Relative
}

// minExactP is the smallest two-sided p-value an exact Mann–Whitney test
// can give for samples of n1 and n2: 2 / C(n1+n2, n1).
func minExactP(n1, n2 int) float64 {
	c := 1.0
	for i := 1; i <= n1; i++ {
		c = c * float64(n2+i) / float64(i)
	}
	return 2 / c
}

func errorRate(s Summary) float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Requests-min(s.Success, s.Requests)) / float64(s.Requests)
}

// twoProportions tests whether the error proportions of two runs differ
// (pooled two-proportion z-test, two-sided).
func twoProportions(b, n Summary) *Significance {
	if b.Requests == 0 || n.Requests == 0 {
		return nil
	}
	p1, p2 := errorRate(b), errorRate(n)
	n1, n2 := float64(b.Requests), float64(n.Requests)
	pool := (p1*n1 + p2*n2) / (n1 + n2)
	s := &Significance{Method: fmt.Sprintf("two-proportion z, requests (%d vs %d)", b.Requests, n.Requests),
		NBase: int(b.Requests), NNew: int(n.Requests), P: 1, Effect: p2 - p1, EffectName: "difference"}
	se := math.Sqrt(pool * (1 - pool) * (1/n1 + 1/n2))
	if se > 0 {
		s.P = math.Erfc(math.Abs(p2-p1) / se / math.Sqrt2)
	}
	return s
}

// unionNames is the sorted set of name(x) over the items of a and b.
func unionNames[T any](a, b []T, name func(T) string) []string {
	set := map[string]bool{}
	for _, items := range [][]T{a, b} {
		for _, x := range items {
			set[name(x)] = true
		}
	}
	return sortedKeys(set)
}

// findBy returns the first item of s whose name is key.
func findBy[T any](s []T, name func(T) string, key string) (T, bool) {
	for _, x := range s {
		if name(x) == key {
			return x, true
		}
	}
	var zero T
	return zero, false
}

// shareSkew is the largest |share − expected share| over backend's servers.
func shareSkew(all []ServerStats, backend string) (float64, bool) {
	skew, found := 0.0, false
	for _, s := range all {
		if s.Backend != backend {
			continue
		}
		found = true
		skew = math.Max(skew, math.Abs(s.ShareRatio-expectedShare(all, s)))
	}
	return skew, found
}

// ShareSkew is the largest |share − expected share| over the servers of
// each backend of r, by backend name.
func ShareSkew(r *Result) map[string]float64 {
	out := map[string]float64{}
	for _, s := range r.Backends {
		out[s.Backend], _ = shareSkew(r.Backends, s.Backend)
	}
	return out
}

// formatP prints a p-value compactly: "0.032", "<0.001".
func formatP(p float64) string {
	if p < 0.001 {
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}
