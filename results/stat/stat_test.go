package stat

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMinAttainableP(t *testing.T) {
	for _, tt := range []struct {
		n1, n2 int
		want   float64
	}{{1, 1, 1}, {3, 3, 0.1}, {4, 4, 2.0 / 70}, {5, 3, 2.0 / 56}, {5, 5, 2.0 / 252}, {0, 4, 1}} {
		if got := MinAttainableP(tt.n1, tt.n2); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("MinAttainableP(%d, %d) = %v; want %v", tt.n1, tt.n2, got, tt.want)
		}
	}
	for _, tt := range []struct {
		other int
		alpha float64
		want  int
	}{{0, 0.05, 4}, {0, 0.01, 5}, {0, 0.1, 4}, {5, 0.05, 3}, {1, 0.05, 40}, {3, 0.05, 5}} {
		if got := RunsForAlpha(tt.other, tt.alpha); got != tt.want {
			t.Errorf("RunsForAlpha(%d, %v) = %d; want %d", tt.other, tt.alpha, got, tt.want)
		}
	}
}

// permutationP is the exact two-sided p of U by enumerating every split
// of the pooled values (ties counting one half): twice the probability of
// a U at most min(U, n1·n2 − U), as go-moremath defines it. It is an
// independent check of benchmath's exact test with ties.
func permutationP(x, y []float64) float64 {
	all := append(append([]float64(nil), x...), y...)
	n, n1 := len(all), len(x)
	u := func(mask int) float64 {
		var s float64
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if mask&(1<<i) == 0 || mask&(1<<j) != 0 {
					continue
				}
				switch {
				case all[i] > all[j]:
					s++
				case all[i] == all[j]:
					s += 0.5
				}
			}
		}
		return s
	}
	obs := u(1<<n1 - 1)
	small := math.Min(obs, float64(n1*(n-n1))-obs)
	var hit, total float64
	for mask := 0; mask < 1<<n; mask++ {
		if popcount(mask) != n1 {
			continue
		}
		total++
		if u(mask) <= small+1e-9 {
			hit++
		}
	}
	return math.Min(1, 2*hit/total)
}

func popcount(m int) int {
	c := 0
	for ; m > 0; m &= m - 1 {
		c++
	}
	return c
}

func TestRunTestIsExactWithTies(t *testing.T) {
	for _, tt := range []struct{ x, y []float64 }{
		{[]float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}},
		{[]float64{1, 2, 2, 3}, []float64{3, 4, 4, 5}},
		{[]float64{1, 1, 1, 2}, []float64{2, 2, 3, 3}},
		{[]float64{5, 5, 5, 5}, []float64{5, 5, 5, 6}},
		{[]float64{1, 3, 5, 7, 9}, []float64{2, 4, 6, 8, 10}},
		{[]float64{1, 2, 2, 2, 3}, []float64{2, 3, 3, 4}},
	} {
		got := TestRuns("x", tt.x, tt.y, 0.05)
		want := permutationP(tt.x, tt.y)
		if math.Abs(got.P-want) > 1e-9 || !got.Exact {
			t.Errorf("TestRuns(%v, %v).P = %v (exact %v); want the permutation p %v", tt.x, tt.y, got.P, got.Exact, want)
		}
	}
}

func TestHodgesLehmann(t *testing.T) {
	s := TestRuns("x", []float64{1, 2, 3, 4}, []float64{11, 12, 13, 14}, 0.05)
	if s.Shift != 10 || s.ShiftLo == nil || *s.ShiftLo != 7 || *s.ShiftHi != 13 || math.Abs(s.Confidence-(1-2.0/70)) > 1e-12 || s.Effect != 1 {
		t.Errorf("TestRuns(1..4, 11..14) = shift %v [%v, %v] level %v cliff %v; want 10 [7, 13] level %v cliff 1",
			s.Shift, s.ShiftLo, s.ShiftHi, s.Confidence, s.Effect, 1-2.0/70)
	}
	if s := TestRuns("x", []float64{1, 2, 3}, []float64{4, 5, 6}, 0.05); s.ShiftLo != nil {
		t.Errorf("3 vs 3 at 95%%: interval [%v, %v]; want none (no finite interval reaches 95%%)", *s.ShiftLo, *s.ShiftHi)
	}
	// Coverage: the interval holds the true shift at least at its level.
	rng := rand.New(rand.NewPCG(3, 4))
	const reps = 2000
	covered, level := 0, 0.0
	for i := 0; i < reps; i++ {
		a, b := make([]float64, 6), make([]float64, 6)
		for j := range a {
			a[j], b[j] = rng.NormFloat64(), 1+rng.NormFloat64()
		}
		s := TestRuns("x", a, b, 0.05)
		level = s.Confidence
		if *s.ShiftLo <= 1 && 1 <= *s.ShiftHi {
			covered++
		}
	}
	if got := float64(covered) / reps; got < level-0.015 {
		t.Errorf("coverage of the 6 vs 6 interval = %.3f; want at least its level %.3f", got, level)
	}
}

func TestFisherExact(t *testing.T) {
	for _, tt := range []struct {
		e1, n1, e2, n2 uint64
		want           float64
	}{
		{0, 3000, 4, 3000, 0.124875},     // the case (≈ 0.125); a z-test says 0.045
		{3, 4, 1, 4, 0.4857142857142857}, // Fisher's tea tasting
		{0, 100, 0, 100, 1},
		{10, 10, 0, 10, 2 / 184756.0},
		{0, 0, 1, 10, 1},
	} {
		if got := FisherExact(tt.e1, tt.n1, tt.e2, tt.n2); math.Abs(got-tt.want) > 1e-5*tt.want+1e-12 {
			t.Errorf("FisherExact(%d/%d, %d/%d) = %v; want %v", tt.e1, tt.n1, tt.e2, tt.n2, got, tt.want)
		}
	}
}
