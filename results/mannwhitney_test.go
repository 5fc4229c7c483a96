package results

import (
	"math"
	"testing"
)

func TestMannWhitney(t *testing.T) {
	tests := []struct {
		name     string
		x, y     []float64
		exactMax int
		u, p     float64
		exact    bool
		delta    float64
	}{
		// SciPy's documented example (mannwhitneyu, Conover's males and
		// females): U1 = 17, exact p = 1/9, asymptotic p = 0.11134688653314041.
		{"scipy exact", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, exactLimit, 17, 0.1111111111111111, true, 0.7},
		{"scipy asymptotic", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, 0, 17, 0.11134688653314041, false, 0.7},
		// Complete separation: exact p = 2/C(6,3) and 2/C(10,5).
		{"separated 3v3", []float64{1, 2, 3}, []float64{4, 5, 6}, exactLimit, 0, 0.1, true, -1},
		{"separated 5v5", []float64{6, 7, 8, 9, 10}, []float64{1, 2, 3, 4, 5}, exactLimit, 25, 2.0 / 252, true, 1},
		// Ties: mid-ranks 1, 3, 3, 3, 5.5, 5.5, 7, 8 give R1 = 12.5, U = 2.5;
		// tie-corrected variance 16/12·(9 − 30/56), continuity 0.5:
		// p = erfc(5/√11.2857/√2) = 0.13665824773814753.
		{"ties", []float64{1, 2, 2, 3}, []float64{2, 3, 4, 5}, exactLimit, 2.5, 0.13665824773814753, false, -0.6875},
		// All equal: no evidence.
		{"all equal", []float64{1, 1, 1}, []float64{1, 1, 1}, exactLimit, 4.5, 1, false, 0},
		{"empty", nil, []float64{1}, exactLimit, 0, 1, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mannWhitney(tt.x, tt.y, tt.exactMax)
			if math.Abs(got.U-tt.u) > 1e-9 || math.Abs(got.P-tt.p) > 1e-9 || got.Exact != tt.exact || math.Abs(got.CliffsDelta-tt.delta) > 1e-9 {
				t.Errorf("MannWhitney(%v, %v) = U %v p %.17g exact %v delta %v; want U %v p %.17g exact %v delta %v",
					tt.x, tt.y, got.U, got.P, got.Exact, got.CliffsDelta, tt.u, tt.p, tt.exact, tt.delta)
			}
		})
	}
}

// The exact and normal p-values agree closely for moderate samples.
func TestMannWhitneyExactMatchesNormal(t *testing.T) {
	x := []float64{1.1, 2.3, 3.2, 4.8, 5.1, 6.7, 7.4, 8.2, 9.9, 10.5, 11.3, 12.6}
	y := []float64{3.3, 5.5, 6.1, 7.7, 9.1, 10.2, 11.9, 13.4, 14.2, 15.8, 16.1, 17.5}
	e, n := mannWhitney(x, y, exactLimit), mannWhitney(x, y, 0)
	if !e.Exact || math.Abs(e.P-n.P) > 0.01 {
		t.Errorf("exact p %v vs normal p %v: want within 0.01", e.P, n.P)
	}
}

func TestMinExactP(t *testing.T) {
	for _, tt := range []struct {
		n1, n2 int
		want   float64
	}{{3, 3, 0.1}, {4, 4, 2.0 / 70}, {5, 5, 2.0 / 252}} {
		if got := minExactP(tt.n1, tt.n2); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("minExactP(%d, %d) = %v; want %v", tt.n1, tt.n2, got, tt.want)
		}
	}
}
