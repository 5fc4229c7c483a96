package results

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var simPairs = flag.Int("sim-pairs", 0, "pairs per cell of the call-rate and sweep simulations (0: the quick CI size)")

// callRates simulates pairs of `rounds` runs a side, new at scale: the
// share called significant (worse), the share called a regression, and
// the median smallest detectable p99 change the comparisons printed.
func callRates(m simModel, rounds, pairs int, scale float64, seed uint64) (worse, regression, mde float64) {
	rng := rand.New(rand.NewPCG(seed, uint64(scale*1000)))
	side := func(scale float64) Side {
		var s Side
		for range rounds {
			p99, _ := m.run(rng, scale)
			s.Runs = append(s.Runs, Summary{Requests: 1000, Success: 1000, Throughput: 100, Latency: Quantiles{P99: p99}})
		}
		s.Pooled = Summary{Requests: uint64(1000 * rounds), Success: uint64(1000 * rounds)}
		return s
	}
	var nw, nr int
	var mdes []float64
	for range pairs {
		c := CompareSides(side(1), side(scale), DefaultThresholds())
		for _, mt := range c.Metrics {
			if mt.Name == "p99" && mt.Significant && mt.RelativeChange() > 0 {
				nw++
			}
			if mt.Name == "p99" && mt.Regression {
				nr++
			}
		}
		for _, d := range c.Detections {
			if d.Metric == "p99" && d.MinChange != nil {
				mdes = append(mdes, *d.MinChange)
			}
		}
	}
	slices.Sort(mdes)
	if len(mdes) > 0 {
		mde = mdes[len(mdes)/2]
	}
	return float64(nw) / float64(pairs), float64(nr) / float64(pairs), mde
}

// TestSimulationCallRate is the call rate of the p99 gate at 0, ½, 1 and 2
// times its threshold (+10 %), and at the smallest change the comparison
// says it detects: the gate tests against 0 (significant, p < alpha) and
// calls a regression when the estimated change is also past the
// threshold, so a true change of exactly the threshold is called about
// half the time (the threshold is the point of indifference), and the
// printed detectable change is found significant with about 90 % power.
//
//	go test ./results -run TestSimulationCallRate -v -sim-pairs 2000   (the README's table)
func TestSimulationCallRate(t *testing.T) {
	pairs := 300
	if *simPairs > 0 {
		pairs = *simPairs
	}
	m := defaultSim
	rounds := DefaultRounds
	var table strings.Builder
	fmt.Fprintf(&table, "p99 gate +10 %%, %d rounds a side, %d pairs, 6 %% run-level noise, rho 0\ntrue change  significant worse  called a regression  printed detectable change (median)\n", rounds, pairs)
	var mde float64
	for _, eff := range []float64{0, 0.05, 0.10, 0.20} {
		w, r, d := callRates(m, rounds, pairs, 1+eff, 3)
		fmt.Fprintf(&table, "%+5.0f %%      %5.1f %%            %5.1f %%               %+.1f %%\n", eff*100, 100*w, 100*r, 100*d)
		switch eff {
		case 0:
			mde = d
			if r > DefaultAlpha/2+0.02 {
				t.Errorf("A/A: called a regression %.3f of the time; want <= %.3f", r, DefaultAlpha/2+0.02)
			}
		case 0.20:
			if r < 0.85 {
				t.Errorf("+20 %%: called a regression %.3f of the time; want >= 0.85", r)
			}
		}
	}
	w, _, _ := callRates(m, rounds, pairs, 1+mde, 4)
	fmt.Fprintf(&table, "at the printed detectable change %+.1f %%: significant worse %.1f %% (stated power %s)\n", 100*mde, 100*w, FormatPercent(DetectPower))
	// The normal approximation of the U test's power: within ±8 points
	// of the stated 90 % (the binomial error of 300 pairs is ±3.5).
	if w < DetectPower-0.08 || w > DetectPower+0.08 {
		t.Errorf("at the printed detectable change %+.3f: significant %.3f of the time; want %.2f ± 0.08", mde, w, DetectPower)
	}
	t.Log("\n" + table.String())
}
