package results

import (
	"fmt"
	"math"
	"sync"

	"github.com/aclements/go-moremath/stats"
)

// DetectPower is the power at which a comparison states the smallest
// change it could detect.
const DetectPower = 0.90

// Detection is what the comparison of one gated run-level metric could
// see at its design (runs per side) and the runs' own spread.
type Detection struct {
	Metric string `json:"metric"`
	// Spread is the runs' spread on the log scale: the pooled standard
	// deviation of the log values about each side's mean.
	Spread float64 `json:"spread"`
	// MinChange is the smallest relative change in the bad direction that
	// the test calls significant with DetectPower (nil: these runs cannot
	// reach p < alpha, or fewer than 3 runs a side show no spread).
	MinChange *float64 `json:"min_change,omitempty"`
	// RunsForThreshold is the runs per side whose MinChange is the
	// threshold's size (50: at least that many).
	RunsForThreshold int `json:"runs_for_threshold,omitempty"`
	// NoChangeLargerThan is, for a change not called significant, the
	// bound of its confidence interval in the bad direction: the data rule
	// out a larger one (nil: the interval is unbounded).
	NoChangeLargerThan *float64 `json:"no_change_larger_than,omitempty"`
}

// minDetectable is the smallest shift on the log scale that a two-sided
// Mann–Whitney test at alpha finds with power, for n1 and n2 runs of
// spread sd: the t-test's (t₁₋α/₂ + t_power)·sd·√(1/n1+1/n2) on n1+n2−2
// degrees of freedom, divided by √(3/π), the U test's efficiency against
// it under normal noise. TestSimulationCallRate checks the power it
// states. 0 when the samples cannot reach p < alpha at all.
func minDetectable(n1, n2 int, sd, alpha, power float64) float64 {
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

// logSpread is the pooled standard deviation of the log values of a and b
// about their own sides' means (0 when a side has fewer than 3 finite
// positive values). Not a robust spread: an outlier run widens it, which
// makes the stated detectable change larger, never smaller.
func logSpread(a, b []float64) float64 {
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

// detect fills the Detection of a gated metric m from its run-level
// values b and n; sign is +1 when higher is worse, −1 when lower is.
func (c *Comparison) detect(m MetricDelta, b, n []float64, sign float64) {
	d := Detection{Metric: m.Name, Spread: logSpread(b, n)}
	alpha := c.Thresholds.Alpha
	if d.Spread > 0 {
		if s := minDetectable(len(b), len(n), d.Spread, alpha, DetectPower); s > 0 {
			ch := math.Expm1(sign * s)
			d.MinChange = &ch
		}
		want := math.Abs(math.Log1p(m.limit))
		d.RunsForThreshold = 50
		for k := 2; k <= 50; k++ {
			if s := minDetectable(k, k, d.Spread, alpha, DetectPower); s > 0 && s <= want {
				d.RunsForThreshold = k
				break
			}
		}
	}
	if !m.Significant && m.RelLo != nil {
		bound := *m.RelHi
		if sign < 0 {
			bound = *m.RelLo
		}
		d.NoChangeLargerThan = &bound
	}
	c.Detections = append(c.Detections, d)
}

// DetectionLines say, per gated metric, what the comparison could detect
// and, for a change not called significant, what the data rule out.
func (c *Comparison) DetectionLines() []string {
	var out []string
	for _, d := range c.Detections {
		var m *MetricDelta
		for i := range c.Metrics {
			if c.Metrics[i].Name == d.Metric {
				m = &c.Metrics[i]
			}
		}
		if m == nil || m.Test == nil {
			continue
		}
		line := d.Metric + ": "
		if !m.Significant {
			if d.NoChangeLargerThan != nil {
				line += fmt.Sprintf("no change larger than %s (the %.0f%% interval's bound); ", signedPercent(*d.NoChangeLargerThan), 100*m.Test.Confidence)
			} else {
				line += "no bound on the change (the interval is unbounded); "
			}
		}
		switch {
		case d.MinChange != nil:
			line += fmt.Sprintf("detects changes of %s or more (%s power, %d vs %d runs, spread %.1f%%)",
				signedPercent(*d.MinChange), FormatPercent(DetectPower), m.Test.NBase, m.Test.NNew, 100*d.Spread)
			if math.Abs(*d.MinChange) > math.Abs(m.limit)+1e-12 {
				more := fmt.Sprintf("%d", d.RunsForThreshold)
				if d.RunsForThreshold >= 50 {
					more = "more than 50"
				}
				line += fmt.Sprintf("; for %s use %s runs a side (ab --rounds, run --repeat)", m.Threshold, more)
			}
		case MinAttainableP(m.Test.NBase, m.Test.NNew) >= c.Thresholds.Alpha:
			line += fmt.Sprintf("%d vs %d runs cannot detect any change", m.Test.NBase, m.Test.NNew)
		default:
			line += "fewer than 3 runs a side: what it could detect is unknown"
		}
		out = append(out, line)
	}
	return out
}

func signedPercent(r float64) string { return fmt.Sprintf("%+.1f%%", r*100) }
