package history

import (
	"errors"
	"math"
	"sort"
)

// ChangePoint is a significant change in a series, with its context.
type ChangePoint struct {
	// Index is the first run of the new segment (0-based, in Points).
	Index int `json:"index"`
	// Before and After are the runs on either side.
	Before string `json:"before"`
	After  string `json:"after"`
	// MedianBefore and MedianAfter are the medians of the adjacent
	// segments; Change is MedianAfter/MedianBefore − 1.
	MedianBefore float64 `json:"median_before"`
	MedianAfter  float64 `json:"median_after"`
	Change       float64 `json:"change"`
	// P is the permutation test's p-value; Confidence is 1 − P.
	P          float64 `json:"p"`
	Confidence float64 `json:"confidence"`
	// Regression says the change is in the metric's bad direction.
	Regression bool `json:"regression"`
	// Changed is what differs between Before and After (spec, labels).
	Changed []string `json:"changed,omitempty"`
}

// Analysis is one metric's series and its change points.
type Analysis struct {
	Metric string `json:"metric"`
	Unit   string `json:"unit"`
	// HigherIsWorse says which direction is a regression.
	HigherIsWorse bool          `json:"higher_is_worse"`
	Points        []Point       `json:"points"`
	ChangePoints  []ChangePoint `json:"change_points"`
	// Alpha, Permutations and MinSegment are the test's settings.
	Alpha        float64 `json:"alpha"`
	Permutations int     `json:"permutations"`
	MinSegment   int     `json:"min_segment"`
	MinChange    float64 `json:"min_change"`
	// NewestRegression is true when the newest segment begins with a
	// significant regression: the gate's verdict.
	NewestRegression bool `json:"newest_regression"`
}

// ErrTooFew means the series is too short to hold a change point.
var ErrTooFew = errors.New("too few runs for a change point")

// Analyze detects the change points of pts (oldest first) for m.
func Analyze(pts []Point, m Metric, o DetectOptions) (*Analysis, error) {
	o.defaults()
	a := &Analysis{Metric: m.Name, Unit: m.Unit, HigherIsWorse: m.HigherIsWorse, Points: pts,
		Alpha: o.Alpha, Permutations: o.Permutations, MinSegment: o.MinSegment, MinChange: o.MinChange, ChangePoints: []ChangePoint{}}
	if len(pts) < 2*o.MinSegment {
		return a, ErrTooFew
	}
	xs := make([]float64, len(pts))
	for i, p := range pts {
		xs[i] = p.Value
	}
	splits := keepLarge(xs, Detect(xs, o), o.MinChange)
	for i, s := range splits {
		before, after, change := segmentChange(xs, splits, i)
		cp := ChangePoint{Index: s.Index, Before: pts[s.Index-1].Run, After: pts[s.Index].Run,
			MedianBefore: before, MedianAfter: after, Change: change, P: s.P, Confidence: 1 - s.P,
			Changed: Changes(pts[s.Index-1], pts[s.Index])}
		cp.Regression = (after > before) == m.HigherIsWorse && after != before
		a.ChangePoints = append(a.ChangePoints, cp)
	}
	if n := len(a.ChangePoints); n > 0 && a.ChangePoints[n-1].Regression {
		a.NewestRegression = true
	}
	return a, nil
}

// segmentChange is the medians of the segments either side of splits[i]
// and their relative change.
func segmentChange(xs []float64, splits []Split, i int) (before, after, change float64) {
	lo, hi := 0, len(xs)
	if i > 0 {
		lo = splits[i-1].Index
	}
	if i+1 < len(splits) {
		hi = splits[i+1].Index
	}
	before, after = median(xs[lo:splits[i].Index]), median(xs[splits[i].Index:hi])
	if before != 0 {
		change = after/before - 1
	}
	return before, after, change
}

// keepLarge drops, smallest first, the splits whose segments' medians
// differ by less than minChange, merging their segments.
func keepLarge(xs []float64, splits []Split, minChange float64) []Split {
	for len(splits) > 0 && minChange > 0 {
		worst, worstAbs := -1, math.Inf(1)
		for i := range splits {
			if _, _, c := segmentChange(xs, splits, i); math.Abs(c) < worstAbs {
				worst, worstAbs = i, math.Abs(c)
			}
		}
		if worstAbs >= minChange {
			break
		}
		splits = append(splits[:worst:worst], splits[worst+1:]...)
	}
	return splits
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
