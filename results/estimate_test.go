package results

import "testing"

// Two rounds of a variant whose p99 failed both times: its estimate is
// failed, not NaN (benchmath interpolates the median: Inf − Inf).
func TestEstimateOfFailed(t *testing.T) {
	e := estimate([]float64{Failed, Failed}, 0.95)
	if !IsFailed(e.Median) {
		t.Errorf("estimate(failed, failed).Median = %v; want failed", e.Median)
	}
}
