package results

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results/stat"
)

// The simulation behind the statistics: a run is T seconds whose latency
// level follows an AR(1) process (lag-1 correlation rho: a slow second is
// followed by slow seconds), times a run-level factor (the machine's
// run-to-run noise), with lognormal request latencies inside each second.
// The run's p99 is the 99th percentile of all its requests (of the mixture
// of the seconds' distributions, i.e. many requests per second).
type simModel struct {
	seconds   int     // T
	rho       float64 // lag-1 correlation of the per-second level
	secSigma  float64 // sd of the per-second log level
	runSigma  float64 // sd of the run-level log factor (0.06 ≈ 6 %)
	reqSigma  float64 // sd of the log latency of requests within a second
	medianSec float64 // median latency, seconds
}

var defaultSim = simModel{seconds: 10, secSigma: 0.10, runSigma: 0.06, reqSigma: 0.35, medianSec: 0.004}

// run simulates one run at scale (1.2 = 20 % slower) and returns the run's
// p99 and the per-second p99s.
func (m simModel) run(rng *rand.Rand, scale float64) (p99 float64, perSecond []float64) {
	mu := make([]float64, m.seconds)
	level := math.Log(m.medianSec*scale) + m.runSigma*rng.NormFloat64()
	x := rng.NormFloat64() // stationary start
	innov := math.Sqrt(1 - m.rho*m.rho)
	z99 := 2.3263478740408408 // Φ⁻¹(0.99)
	perSecond = make([]float64, m.seconds)
	for t := range mu {
		if t > 0 {
			x = m.rho*x + innov*rng.NormFloat64()
		}
		mu[t] = level + m.secSigma*x
		perSecond[t] = math.Exp(mu[t] + m.reqSigma*z99)
	}
	// The mixture's 0.99 quantile: mean_t Φ((log q − mu_t)/σ) = 0.99.
	lo, hi := slicesMin(mu)+m.reqSigma*z99, slicesMax(mu)+m.reqSigma*z99
	for i := 0; i < 30; i++ {
		mid := (lo + hi) / 2
		var c float64
		for _, u := range mu {
			c += 0.5 * math.Erfc(-(mid-u)/m.reqSigma/math.Sqrt2)
		}
		if c/float64(len(mu)) < 0.99 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Exp((lo + hi) / 2), perSecond
}

func slicesMin(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

func slicesMax(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

// simOutcome is the share of pairs judged significant (either direction)
// and judged a p99 regression by CompareSides.
type simOutcome struct{ significant, regression, naive float64 }

// simulate draws pairs of sides of `rounds` runs each (new at scale) and
// compares them as duckbench does; naive is the share of single-run pairs
// that a Mann–Whitney test over their per-second p99s calls significant
// (the old method, which treated seconds as independent).
func simulate(m simModel, rounds, pairs int, scale float64, seed uint64) simOutcome {
	rng := rand.New(rand.NewPCG(seed, uint64(m.rho*1000)+uint64(scale*100)))
	var sig, reg, naive int
	side := func(scale float64) (Side, []float64) {
		s := Side{Ref: RunRef{Spec: "sim"}}
		var first []float64
		for i := 0; i < rounds; i++ {
			p99, sec := m.run(rng, scale)
			if i == 0 {
				first = sec
			}
			s.Runs = append(s.Runs, Summary{Requests: 1000, Success: 1000, Throughput: 100, Latency: Quantiles{P99: p99}})
		}
		s.Pooled = Summary{Requests: uint64(1000 * rounds), Success: uint64(1000 * rounds)}
		return s, first
	}
	th := DefaultThresholds()
	for i := 0; i < pairs; i++ {
		a, aSec := side(1)
		b, bSec := side(scale)
		c := CompareSides(a, b, th)
		for _, mt := range c.Metrics {
			if mt.Name == "p99" {
				if mt.Significant {
					sig++
				}
				if mt.Regression {
					reg++
				}
			}
		}
		if stat.TestRuns("per-second", aSec, bSec, th.Alpha).P < th.Alpha {
			naive++
		}
	}
	n := float64(pairs)
	return simOutcome{float64(sig) / n, float64(reg) / n, float64(naive) / n}
}

// TestSimulationFalseAlarm: two sides of the same system are called
// significantly different at most alpha + 2 % of the time, whatever the
// autocorrelation of the per-second series, while the old per-second test
// fails the same criterion (so this test can tell a wrong method).
func TestSimulationFalseAlarm(t *testing.T) {
	pairs := 2000
	if testing.Short() {
		pairs = 500
	}
	rounds := DefaultRounds
	limit := DefaultAlpha + 0.02
	var table strings.Builder
	fmt.Fprintf(&table, "A/A, %d rounds per side, %d pairs, %d s runs, 6 %% run-level noise\nrho   significant  regression  naive per-second test\n", rounds, pairs, defaultSim.seconds)
	for _, rho := range []float64{0, 0.25, 0.5, 0.8, 0.95} {
		m := defaultSim
		m.rho = rho
		o := simulate(m, rounds, pairs, 1, 7)
		fmt.Fprintf(&table, "%.2f  %5.1f %%      %5.1f %%     %5.1f %%\n", rho, 100*o.significant, 100*o.regression, 100*o.naive)
		if o.significant > limit {
			t.Errorf("rho %.2f: false-alarm rate %.3f; want <= %.3f", rho, o.significant, limit)
		}
		if rho >= 0.5 && o.naive <= limit {
			t.Errorf("rho %.2f: the per-second test's false-alarm rate %.3f is within %.3f; the simulation should expose it", rho, o.naive, limit)
		}
	}
	t.Log("\n" + table.String())
}

// TestSimulationPower: a true 20 % p99 regression is called a regression in
// at least 90 % of comparisons at the default number of rounds.
func TestSimulationPower(t *testing.T) {
	pairs := 500 // the power estimate's standard error near 0.9 is 1.3 %
	if testing.Short() {
		pairs = 200
	}
	rounds := DefaultRounds
	if MinAttainableP(rounds, rounds) >= DefaultAlpha {
		t.Fatalf("DefaultRounds %d cannot reach p < %v", rounds, DefaultAlpha)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "power (called a regression), %d rounds per side, %d pairs\neffect", rounds, pairs)
	rhos := []float64{0, 0.5, 0.8, 0.95}
	for _, rho := range rhos {
		fmt.Fprintf(&table, "  rho %.2f", rho)
	}
	table.WriteString("\n")
	for _, effect := range []float64{0.05, 0.10, 0.15, 0.20, 0.30} {
		fmt.Fprintf(&table, "+%2.0f %%  ", effect*100)
		for _, rho := range rhos {
			m := defaultSim
			m.rho = rho
			o := simulate(m, rounds, pairs, 1+effect, 11)
			fmt.Fprintf(&table, "  %5.1f %% ", 100*o.regression)
			// 6 % run-level noise alone (rho 0) is the reference; a
			// correlated per-second series adds run-level noise of its own.
			if want := map[float64]float64{0: 0.90, 0.5: 0.85}[rho]; effect == 0.20 && o.regression < want {
				t.Errorf("rho %.2f: power for a 20 %% regression %.3f at %d rounds; want >= %.2f", rho, o.regression, rounds, want)
			}
		}
		table.WriteString("\n")
	}
	t.Log("\n" + table.String())
}
