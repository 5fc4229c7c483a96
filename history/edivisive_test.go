package history

import (
	"math/rand/v2"
	"testing"
)

func noisy(n int, seed uint64, level func(i int) float64, sd float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 7))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = level(i) * (1 + sd*rng.NormFloat64())
	}
	return xs
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want []int
	}{
		{"no change", noisy(30, 1, func(int) float64 { return 10 }, 0.02), nil},
		{"30 % at 16 of 30", noisy(30, 2, func(i int) float64 {
			if i >= 15 {
				return 13
			}
			return 10
		}, 0.02), []int{15}},
		{"up then down", noisy(45, 3, func(i int) float64 {
			if i >= 15 && i < 30 {
				return 12
			}
			return 10
		}, 0.02), []int{15, 30}},
		{"too short", []float64{1, 1, 9, 9}, nil},
		{"constant", make([]float64, 20), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Detect(tt.xs, DetectOptions{})
			var idx []int
			for _, s := range got {
				idx = append(idx, s.Index)
				if s.P > DefaultAlpha {
					t.Errorf("split %d has p %.3f > α", s.Index, s.P)
				}
			}
			if len(idx) != len(tt.want) {
				t.Fatalf("Detect = %v; want %v", idx, tt.want)
			}
			for i := range idx {
				if idx[i] != tt.want[i] {
					t.Errorf("Detect = %v; want %v", idx, tt.want)
				}
			}
		})
	}
}

// TestSplitSegmentBruteForce checks the running sums against the
// definition of Q̂ computed pair by pair.
func TestSplitSegmentBruteForce(t *testing.T) {
	xs := noisy(12, 9, func(i int) float64 { return float64(10 + i%5) }, 0.1)
	abs := func(v float64) float64 {
		if v < 0 {
			return -v
		}
		return v
	}
	bestT, bestQ := 0, -1e300
	for tau := 2; tau <= len(xs)-2; tau++ {
		x, y := xs[:tau], xs[tau:]
		var b, w, v float64
		for _, a := range x {
			for _, c := range y {
				b += abs(a - c)
			}
		}
		for i := range x {
			for j := i + 1; j < len(x); j++ {
				w += abs(x[i] - x[j])
			}
		}
		for i := range y {
			for j := i + 1; j < len(y); j++ {
				v += abs(y[i] - y[j])
			}
		}
		m, n := float64(len(x)), float64(len(y))
		q := m * n / (m + n) * (2*b/(m*n) - w/(m*(m-1)/2) - v/(n*(n-1)/2))
		if q > bestQ {
			bestT, bestQ = tau, q
		}
	}
	gotT, gotQ := splitSegment(xs, 2)
	if gotT != bestT || abs(gotQ-bestQ) > 1e-9*abs(bestQ) {
		t.Errorf("splitSegment = (%d, %g); brute force (%d, %g)", gotT, gotQ, bestT, bestQ)
	}
}
