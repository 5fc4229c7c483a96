package results

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/duckbench/duckbench/results/stat"
	"github.com/duckbench/duckbench/spec"
)

// Default regression thresholds of Compare.
const (
	DefaultMaxP99Regression  = 0.10  // p99 may grow by 10 %
	DefaultMaxThroughputDrop = 0.05  // throughput may fall by 5 %
	DefaultMaxErrorRate      = 0.001 // at most 0.1 % of requests may fail
	DefaultAlpha             = 0.05  // significance level
)

// Verdicts of a metric (MetricDelta.Verdict), in benchstat's spirit.
const (
	// VerdictRegression: significantly worse and past the metric's threshold.
	VerdictRegression = "regression"
	// VerdictWorse: significantly worse, but within the threshold (or the
	// metric has none).
	VerdictWorse = "worse"
	// VerdictImprovement: significantly better.
	VerdictImprovement = "improvement"
	// VerdictNoChange: no significant difference (benchstat's "~").
	VerdictNoChange = "~"
	// VerdictUntestable: too few runs for any test to reach p < alpha.
	VerdictUntestable = "untestable"
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
	// Runs is the number of run-level samples the tests had: the trials of
	// a result (run --repeat N), or the runs of one side of an ab.
	Runs int `json:"runs"`
	// Seconds is the length of the per-second timeline (never tested).
	Seconds int `json:"seconds"`
	// Saturated mirrors Result.GeneratorSaturated (of any run).
	Saturated bool `json:"generator_saturated"`
}

// MetricDelta is one row of a comparison.
type MetricDelta struct {
	Name string `json:"name"`
	// Unit is "s", "req/s" or "ratio".
	Unit string `json:"unit"`
	// Base and New are the medians of the run-level samples (a single
	// run's value when there is one), or the pooled proportion for the
	// error rate.
	Base float64 `json:"base"`
	New  float64 `json:"new"`
	// Delta is New − Base.
	Delta float64 `json:"delta"`
	// Relative is the change relative to Base: the Hodges–Lehmann shift
	// over Base when there is a run-level test, else Delta / Base; nil
	// when Base is 0. RelLo and RelHi bound it (the test's confidence
	// interval over Base); nil when unbounded or untested.
	Relative *float64 `json:"relative,omitempty"`
	RelLo    *float64 `json:"relative_lo,omitempty"`
	RelHi    *float64 `json:"relative_hi,omitempty"`
	// Noise is the run-to-run spread of the metric: the larger of the two
	// sides' robust coefficients of variation (1.4826·MAD / median); 0
	// with fewer than 3 runs on a side.
	Noise float64 `json:"noise,omitempty"`
	// Better is "lower" or "higher".
	Better string `json:"better"`
	// Threshold is the gate on this metric ("" = informational only).
	Threshold string        `json:"threshold,omitempty"`
	Test      *Significance `json:"test,omitempty"`
	// Exceeds is true when the change passes the threshold in the bad
	// direction; Significant when the test's p < alpha. Regression is both.
	Exceeds     bool   `json:"exceeds"`
	Significant bool   `json:"significant"`
	Regression  bool   `json:"regression"`
	Verdict     string `json:"verdict,omitempty"`
	// Unresolved is true for a gated metric whose confidence interval is
	// wider than its threshold on either side: a change of the threshold's
	// size could hide in this noise.
	Unresolved bool `json:"unresolved,omitempty"`

	limit float64 // the threshold as a signed relative change (0: none)
}

// Comparison is the outcome of Compare.
type Comparison struct {
	Base       RunRef     `json:"base"`
	New        RunRef     `json:"new"`
	SameSpec   bool       `json:"same_spec"`
	Thresholds Thresholds `json:"thresholds"`
	// MinP is the smallest p-value the run-level tests could give with
	// these numbers of runs; at or above alpha nothing can be significant.
	MinP    float64       `json:"min_p"`
	Metrics []MetricDelta `json:"metrics"`
	// Regression is true when a gated metric regressed.
	Regression bool `json:"regression"`
	// Reasons lists each regression, one line each.
	Reasons []string `json:"reasons,omitempty"`
	// Warnings are caveats that do not fail the comparison.
	Warnings []string `json:"warnings,omitempty"`
	// Detections say what the gated run-level metrics could detect.
	Detections []Detection `json:"detections,omitempty"`
}

// Side is one side of a comparison: the run-level samples of one config.
type Side struct {
	Ref RunRef
	// Runs are the run-level summaries: the samples of the tests.
	Runs []Summary
	// Pooled adds up the request counts of all runs (the error test).
	Pooled Summary
	// Extras are informational figures per run, by metric name
	// (replication delay, share skew, cache hit ratio).
	Extras []map[string]float64
	// Statuses are the runs' statuses.
	Statuses []string
}

// SideOf is one result as a side: its trials (run --repeat N) are the
// run-level samples; a result without trials counts as one.
func SideOf(r *Result) Side {
	s := Side{Ref: RunRef{ID: r.ID, Spec: r.Spec.Name, SpecHash: r.Spec.Hash, Seconds: len(r.Timeline),
		Saturated: r.GeneratorSaturated}, Pooled: r.Summary,
		Extras: []map[string]float64{extras(r)}, Statuses: []string{r.Status}}
	for _, t := range r.Trials {
		s.Runs = append(s.Runs, t.Summary)
	}
	if len(s.Runs) == 0 {
		s.Runs = []Summary{r.Summary}
	}
	s.Ref.Runs = len(s.Runs)
	return s
}

// SideOfRuns is a set of runs of one config as a side (an ab): each run is
// one sample, its trials pooled in its summary.
func SideOfRuns(id string, runs []*Result) Side {
	s := Side{Ref: RunRef{ID: id, Runs: len(runs)}}
	for _, r := range runs {
		s.Ref.Spec, s.Ref.SpecHash = r.Spec.Name, r.Spec.Hash
		s.Ref.Seconds += len(r.Timeline)
		s.Ref.Saturated = s.Ref.Saturated || r.GeneratorSaturated
		s.Runs = append(s.Runs, r.Summary)
		s.Pooled.Requests += r.Summary.Requests
		s.Pooled.Success += r.Summary.Success
		s.Pooled.Errors += r.Summary.Errors
		s.Extras = append(s.Extras, extras(r))
		s.Statuses = append(s.Statuses, r.Status)
	}
	return s
}

// Compare sets new against base. Gated metrics (p99, throughput, error
// rate) count as a regression only when the change exceeds its threshold
// and is significant at th.Alpha. The samples are run-level: the trials
// of each result (run --repeat N); per-second samples are autocorrelated
// and never tested. With too few trials for p < alpha a change is shown
// but never called significant. Zero thresholds take defaults.
func Compare(base, new *Result, th Thresholds) *Comparison {
	c := CompareSides(SideOf(base), SideOf(new), th)
	if base.Spec.Name == new.Spec.Name && base.Spec.Hash != "" && new.Spec.Hash != "" && base.Spec.Hash != new.Spec.Hash {
		c.Warnings = append(c.Warnings, "the spec changed between the runs (hash differs)")
	}
	if bb, nb := base.Summary.LatencyBasis, new.Summary.LatencyBasis; bb != nb {
		// Intended-time latency includes waits that send-time latency hides.
		c.Warnings = append(c.Warnings, fmt.Sprintf("the latencies are timed differently (base: %s, new: %s): compare them with care", cmp.Or(bb, "unknown"), cmp.Or(nb, "unknown")))
	}
	if min(len(base.Trials), len(new.Trials)) <= 1 && c.MinP >= c.Thresholds.Alpha {
		c.Warnings = append(c.Warnings, fmt.Sprintf(
			"%d vs %d trial(s) cannot reach p < %g: differences are shown, none is called significant; record both sides with --repeat %d (or use duckbench ab)",
			c.Base.Runs, c.New.Runs, c.Thresholds.Alpha, DefaultRounds))
	}
	return c
}

// CompareSides compares two sides metric by metric (see Compare).
func CompareSides(base, new Side, th Thresholds) *Comparison {
	th = th.withDefaults()
	c := &Comparison{Base: base.Ref, New: new.Ref, SameSpec: base.Ref.Spec == new.Ref.Spec,
		Thresholds: th, MinP: MinAttainableP(len(base.Runs), len(new.Runs))}
	c.compareThroughput(base, new)
	for _, q := range latencyQuantiles {
		c.compareLatency(base, new, q.name, q.of)
	}
	c.compareErrorRate(base, new)
	c.compareExtras(base, new)
	c.sideWarnings(base, new)
	if c.MinP >= th.Alpha && (len(base.Runs) > 1 || len(new.Runs) > 1) {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%d vs %d runs cannot reach p < %g (smallest attainable p %s): nothing is called significant",
			len(base.Runs), len(new.Runs), th.Alpha, FormatP(c.MinP)))
	}
	return c
}

var latencyQuantiles = []struct {
	name string
	of   func(Quantiles) float64
}{
	{"p50", func(q Quantiles) float64 { return q.P50 }},
	{"p90", func(q Quantiles) float64 { return q.P90 }},
	{"p99", func(q Quantiles) float64 { return q.P99 }},
	{"p99.9", func(q Quantiles) float64 { return q.P999 }},
	{"max", func(q Quantiles) float64 { return q.Max }},
}

func values(runs []Summary, f func(Summary) float64) []float64 {
	out := make([]float64, len(runs))
	for i, s := range runs {
		out[i] = f(s)
	}
	return out
}

func (c *Comparison) compareThroughput(base, new Side) {
	f := func(s Summary) float64 { return s.Throughput }
	b, n := values(base.Runs, f), values(new.Runs, f)
	m := c.runMetric("throughput", "req/s", "higher", b, n)
	m.Threshold = "-" + FormatPercent(c.Thresholds.MaxThroughputDrop)
	m.limit = -c.Thresholds.MaxThroughputDrop
	m.Exceeds = m.Base > 0 && -m.RelativeChange() > c.Thresholds.MaxThroughputDrop+1e-12
	c.judge(&m, fmt.Sprintf("throughput fell %s%s (%.1f → %.1f req/s), more than the allowed %s",
		FormatPercent(-m.RelativeChange()), ciNote(m, -1), m.Base, m.New, FormatPercent(c.Thresholds.MaxThroughputDrop)))
	c.detect(m, b, n, -1)
}

func (c *Comparison) compareLatency(base, new Side, name string, q func(Quantiles) float64) {
	f := func(s Summary) float64 { return q(Latency(s)) }
	b, n := values(base.Runs, f), values(new.Runs, f)
	m := c.runMetric(name, "s", "lower", b, n)
	if name != "p99" {
		c.judge(&m, "")
		return
	}
	m.Threshold = "+" + FormatPercent(c.Thresholds.MaxP99Regression)
	m.limit = c.Thresholds.MaxP99Regression
	switch {
	case IsFailed(m.New) || IsFailed(m.Base):
		m.Exceeds = !IsFailed(m.Base) // the p99 of all requests fell among the failures
	case m.Base > 0:
		m.Exceeds = m.RelativeChange() > c.Thresholds.MaxP99Regression+1e-12
	default:
		m.Exceeds = m.New > 0
	}
	rose := FormatPercent(m.RelativeChange()) + ciNote(m, 1)
	if m.Relative == nil {
		rose = "to " + FormatLatency(m.New)
	}
	c.judge(&m, fmt.Sprintf("p99 rose %s (%s → %s, all requests, failures as slowest), more than the allowed %s",
		rose, FormatLatency(m.Base), FormatLatency(m.New), FormatPercent(c.Thresholds.MaxP99Regression)))
	c.detect(m, b, n, 1)
}

// compareErrorRate judges the error rate per run: Mann–Whitney over the
// runs' error ratios. Errors come in bursts (one hiccup, N timeouts), so
// the requests of a run are not independent draws: Fisher's exact test of
// the pooled requests (kept as information, PooledFisherP) calls an A/A
// with one burst in a few runs a regression 28–38 % of the time
// (TestSimulationBurstyErrors).
func (c *Comparison) compareErrorRate(base, new Side) {
	bErr, nErr := base.Pooled.ErrorRate(), new.Pooled.ErrorRate()
	m := delta("error rate", "ratio", "lower", bErr, nErr)
	m.Threshold = "<= " + FormatPercent(c.Thresholds.MaxErrorRate)
	if base.Pooled.Requests > 0 && new.Pooled.Requests > 0 {
		m.Test = stat.TestRuns("per-run error ratio", values(base.Runs, Summary.ErrorRate), values(new.Runs, Summary.ErrorRate), c.Thresholds.Alpha)
		m.Test.Shift, m.Test.ShiftLo, m.Test.ShiftHi, m.Test.Ratio, m.Test.RatioLo, m.Test.RatioHi = 0, nil, nil, 0, nil, nil
		p := stat.FisherExact(base.Pooled.FailedRequests(), base.Pooled.Requests, new.Pooled.FailedRequests(), new.Pooled.Requests)
		m.Test.PooledFisherP = &p
	}
	m.Exceeds = nErr > c.Thresholds.MaxErrorRate && nErr > bErr
	c.judge(&m, fmt.Sprintf("error rate %s is above the allowed %s (base %s)",
		FormatPercent(nErr), FormatPercent(c.Thresholds.MaxErrorRate), FormatPercent(bErr)))
	if nErr > c.Thresholds.MaxErrorRate && !m.Exceeds {
		c.Warnings = append(c.Warnings, fmt.Sprintf("error rate %s is above %s in both runs", FormatPercent(nErr), FormatPercent(c.Thresholds.MaxErrorRate)))
	}
}

// compareExtras adds the informational per-run figures (replication delay
// per replica, share skew, cache hit ratio, client-side p99 per server): tested when each side has
// more than one run, never gated.
func (c *Comparison) compareExtras(base, new Side) {
	names := map[string]bool{}
	for _, side := range [][]map[string]float64{base.Extras, new.Extras} {
		for _, e := range side {
			for k := range e {
				names[k] = true
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		b, n := extraValues(base.Extras, name), extraValues(new.Extras, name)
		if len(b) == 0 || len(n) == 0 {
			if replica, ok := strings.CutPrefix(name, "replication delay p99 ["); ok {
				c.Warnings = append(c.Warnings, fmt.Sprintf("replica %q is only in one run", strings.TrimSuffix(replica, "]")))
			}
			continue
		}
		unit, better := extraUnit(name)
		var m MetricDelta
		if len(b) > 1 && len(n) > 1 {
			m = c.runMetric(name, unit, better, b, n)
		} else {
			m = delta(name, unit, better, stat.Median(b), stat.Median(n))
		}
		c.judge(&m, "")
	}
}

func extraValues(runs []map[string]float64, name string) []float64 {
	var out []float64
	for _, e := range runs {
		if v, ok := e[name]; ok {
			out = append(out, v)
		}
	}
	return out
}

func extraUnit(name string) (unit, better string) {
	switch {
	case strings.HasPrefix(name, "replication"):
		return "s", "lower"
	case strings.HasPrefix(name, "cache"):
		return "ratio", "higher"
	case strings.HasPrefix(name, "server p99"):
		return "s", "lower"
	}
	return "ratio", "lower"
}

// extras are a result's informational figures by metric name.
func extras(r *Result) map[string]float64 {
	out := map[string]float64{}
	for _, rs := range r.Replication {
		out["replication delay p99 ["+rs.Replica+"]"] = rs.DelayP99Seconds
	}
	for be, skew := range ShareSkew(r) {
		out["share skew ["+be+"]"] = skew
	}
	for _, cs := range r.Caches {
		out["cache hit ratio ["+cs.Backend+"]"] = cs.HitRatio
	}
	for _, s := range r.Servers {
		if s.Server != Unattributed && s.Server != OtherServers && s.Summary.Success > 0 {
			out["server p99 ["+s.Server+"]"] = s.Summary.Latency.P99
		}
	}
	return out
}

// runMetric is a metric measured once per run: medians, the run-level
// test, the change with its confidence interval, and the noise.
func (c *Comparison) runMetric(name, unit, better string, b, n []float64) MetricDelta {
	m := delta(name, unit, better, stat.Median(b), stat.Median(n))
	m.Test = stat.TestRuns(name, b, n, c.Thresholds.Alpha)
	if m.Test == nil {
		return m
	}
	m.Noise = math.Max(robustCV(b), robustCV(n))
	switch t := m.Test; {
	case t.Ratio > 0: // a positive quantity: the change is a ratio, on the log scale
		r := t.Ratio - 1
		m.Relative = &r
		if t.RatioLo != nil {
			lo, hi := *t.RatioLo-1, *t.RatioHi-1
			m.RelLo, m.RelHi = &lo, &hi
		}
	case m.Base != 0 && !math.IsInf(m.Base, 0) && !math.IsInf(m.New, 0):
		r := t.Shift / m.Base
		m.Relative = &r
		if t.ShiftLo != nil {
			lo, hi := *t.ShiftLo/m.Base, *t.ShiftHi/m.Base
			m.RelLo, m.RelHi = &lo, &hi
		}
	default:
		m.Relative = nil // a Failed median: no relative change
	}
	return m
}

// robustCV is 1.4826·MAD / median (the normal-consistent spread), 0 for
// fewer than 3 values or a zero median.
func robustCV(xs []float64) float64 {
	med := stat.Median(xs)
	if len(xs) < 3 || med == 0 || math.IsInf(med, 0) {
		return 0
	}
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
	}
	if cv := 1.4826 * stat.Median(dev) / math.Abs(med); !math.IsInf(cv, 0) {
		return cv
	}
	return 0 // a Failed value among them: no finite spread
}

// judge sets the metric's verdict and, for a gated regression, records it.
func (c *Comparison) judge(m *MetricDelta, reason string) {
	alpha := c.Thresholds.Alpha
	change := m.Delta // the direction: the shift when tested, else the medians
	if m.Relative != nil {
		change = *m.Relative
	}
	if change == 0 && m.Test != nil {
		change = m.Test.Direction()
	}
	worse := change > 0
	if m.Better == "higher" {
		worse = change < 0
	}
	switch {
	case m.Test == nil:
	case m.Test.MinP >= alpha:
		m.Verdict = VerdictUntestable
	case m.Test.P < alpha && worse:
		m.Significant, m.Verdict = true, VerdictWorse
	case m.Test.P < alpha:
		m.Significant, m.Verdict = true, VerdictImprovement
	default:
		m.Verdict = VerdictNoChange
	}
	if m.limit != 0 && m.RelLo != nil && (math.Abs(*m.RelHi-m.RelativeChange()) > math.Abs(m.limit) || math.Abs(m.RelativeChange()-*m.RelLo) > math.Abs(m.limit)) {
		m.Unresolved = true
	}
	if m.limit != 0 && m.Test != nil && m.Test.MinP < alpha && m.RelLo == nil {
		m.Unresolved = true // a test but no finite interval
	}
	m.Regression = m.Threshold != "" && m.Exceeds && m.Significant
	switch {
	case m.Regression:
		m.Verdict = VerdictRegression
		c.Regression = true
		c.Reasons = append(c.Reasons, reason+fmt.Sprintf(" (p=%s, %s)", FormatP(m.Test.P), m.Test.Method))
	case m.Threshold != "" && m.Exceeds && m.Verdict == VerdictUntestable:
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s: past its threshold, but %d vs %d samples cannot reach p < %g: not called a regression",
			reason, m.Test.NBase, m.Test.NNew, alpha))
	}
	c.Metrics = append(c.Metrics, *m)
}

// ciNote is " [lo, hi]" of the relative change (sign −1 flips it), or "".
func ciNote(m MetricDelta, sign float64) string {
	if m.RelLo == nil {
		return ""
	}
	a, b := sign**m.RelLo, sign**m.RelHi
	if a > b {
		a, b = b, a
	}
	return fmt.Sprintf(" [%s, %s]", FormatPercent(a), FormatPercent(b))
}

// sideWarnings adds the caveats about the runs themselves.
func (c *Comparison) sideWarnings(base, new Side) {
	if !c.SameSpec {
		c.Warnings = append(c.Warnings, fmt.Sprintf("different specs: %q vs %q", base.Ref.Spec, new.Ref.Spec))
	}
	if base.Ref.Saturated || new.Ref.Saturated {
		c.Warnings = append(c.Warnings, "the load generator was saturated in at least one run: latency and throughput are not the server's")
	}
	for _, side := range []struct {
		name string
		s    Side
	}{{"base", base}, {"new", new}} {
		for _, st := range slices.Compact(slices.Sorted(slices.Values(side.s.Statuses))) {
			if st != "" && st != StatusCompleted {
				c.Warnings = append(c.Warnings, fmt.Sprintf("a %s run is %s", side.name, st))
			}
		}
	}
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

func delta(name, unit, better string, b, n float64) MetricDelta {
	m := MetricDelta{Name: name, Unit: unit, Better: better, Base: b, New: n, Delta: stat.Diff(n, b)}
	if b != 0 && !math.IsInf(b, 0) && !math.IsInf(n, 0) {
		r := (n - b) / b
		m.Relative = &r
	}
	return m
}

// Limit is the metric's threshold as a signed relative change (negative
// for a metric where higher is better; 0: no threshold).
func (m MetricDelta) Limit() float64 { return m.limit }

// RelativeChange is m.Relative, or 0 when the change has no relative
// form (a zero base).
func (m MetricDelta) RelativeChange() float64 {
	if m.Relative == nil {
		return 0
	}
	return *m.Relative
}

// FailedRequests is the number of requests of s that did not succeed.
func (s Summary) FailedRequests() uint64 { return s.Requests - min(s.Success, s.Requests) }

// ErrorRate is the share of the requests of s that did not succeed (0
// for no requests).
func (s Summary) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.FailedRequests()) / float64(s.Requests)
}

// shareSkew is the largest |share − expected share| over backend's servers.
func shareSkew(all []ServerStats, backend string) (float64, bool) {
	skew, found := 0.0, false
	for _, s := range all {
		if s.Backend != backend {
			continue
		}
		found = true
		skew = math.Max(skew, math.Abs(s.ShareRatio-ExpectedShareOf(all, s)))
	}
	return skew, found
}

// ExpectedShareOf is b's expected share of its backend: ExpectedShare when
// the record has it, else an even split over the backend's servers.
func ExpectedShareOf(all []ServerStats, b ServerStats) float64 {
	if b.ExpectedShare > 0 {
		return b.ExpectedShare
	}
	n := 0
	for _, o := range all {
		if o.Backend == b.Backend {
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return 1 / float64(n)
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
// FormatP prints a p-value as reports show it: three decimals, "<0.001"
// below that.
func FormatP(p float64) string {
	if p < 0.001 {
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}
