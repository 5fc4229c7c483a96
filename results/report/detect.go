package report

import (
	"fmt"
	"github.com/duckbench/duckbench/results"
	"math"
)

// detectionLines say, per gated metric, what the comparison could detect
// and, for a change not called significant, what the data rule out.
func detectionLines(c *results.Comparison) []string {
	var out []string
	for _, d := range c.Detections {
		var m *results.MetricDelta
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
				signedPercent(*d.MinChange), results.FormatPercent(results.DetectPower), m.Test.NBase, m.Test.NNew, 100*d.Spread)
			if math.Abs(*d.MinChange) > math.Abs(m.Limit())+1e-12 {
				more := fmt.Sprintf("%d", d.RunsForThreshold)
				if d.RunsForThreshold >= 50 {
					more = "more than 50"
				}
				line += fmt.Sprintf("; for %s use %s runs a side (ab --rounds, run --repeat)", m.Threshold, more)
			}
		case results.MinAttainableP(m.Test.NBase, m.Test.NNew) >= c.Thresholds.Alpha:
			line += fmt.Sprintf("%d vs %d runs cannot detect any change", m.Test.NBase, m.Test.NNew)
		default:
			line += "fewer than 3 runs a side: what it could detect is unknown"
		}
		out = append(out, line)
	}
	return out
}

func signedPercent(r float64) string { return fmt.Sprintf("%+.1f%%", r*100) }
