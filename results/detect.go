package results

import (
	"math"

	"github.com/duckbench/duckbench/results/stat"
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

// detect fills the Detection of a gated metric m from its run-level
// values b and n; sign is +1 when higher is worse, −1 when lower is.
func (c *Comparison) detect(m MetricDelta, b, n []float64, sign float64) {
	d := Detection{Metric: m.Name, Spread: stat.LogSpread(b, n)}
	alpha := c.Thresholds.Alpha
	if d.Spread > 0 {
		if s := stat.MinDetectable(len(b), len(n), d.Spread, alpha, DetectPower); s > 0 {
			ch := math.Expm1(sign * s)
			d.MinChange = &ch
		}
		want := math.Abs(math.Log1p(m.limit))
		d.RunsForThreshold = 50
		for k := 2; k <= 50; k++ {
			if s := stat.MinDetectable(k, k, d.Spread, alpha, DetectPower); s > 0 && s <= want {
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
