package results

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// burstySide is runs runs of requests requests, each with one burst of
// 15–40 errors with probability pBurst (one hiccup, N timeouts).
func burstySide(rng *rand.Rand, runs int, requests uint64, pBurst float64) Side {
	var s Side
	for range runs {
		var errs uint64
		if rng.Float64() < pBurst {
			errs = 15 + rng.Uint64N(26)
		}
		sum := Summary{Requests: requests, Success: requests - errs, Errors: errs, Throughput: 100,
			Latency: Quantiles{P99: 0.01 * (1 + 0.02*rng.NormFloat64())}}
		s.Runs = append(s.Runs, sum)
		s.Pooled.AddCounts(sum)
	}
	return s
}

// simBursty is the share of A/A pairs whose error rate the gate calls a
// regression, and the share the former gate (Fisher's exact test of the
// pooled requests, past the threshold) called one.
func simBursty(pBurst float64, pairs int, seed uint64) (perRun, pooled float64) {
	rng := rand.New(rand.NewPCG(seed, uint64(pBurst*1000)))
	th := DefaultThresholds()
	var nRun, nPool int
	for range pairs {
		a, b := burstySide(rng, 6, 2000, pBurst), burstySide(rng, 6, 2000, pBurst)
		c := CompareSides(a, b, th)
		for _, m := range c.Metrics {
			if m.Name != "error rate" {
				continue
			}
			if m.Regression {
				nRun++
			}
			if m.Exceeds && m.Test != nil && *m.Test.PooledFisherP < th.Alpha {
				nPool++
			}
		}
	}
	return float64(nRun) / float64(pairs), float64(nPool) / float64(pairs)
}

// TestSimulationBurstyErrors (issue #21): A/A, 6 runs × 2,000 requests a
// side, each run with one burst of 15–40 errors with probability
// 0.1–0.3. The per-run gate calls at most alpha/2 + 1 % of them a
// regression; the pooled Fisher gate it replaced called far more (so the
// simulation can tell the two apart).
//
//	go test ./results -run TestSimulationBurstyErrors -v            (2,000 pairs)
func TestSimulationBurstyErrors(t *testing.T) {
	pairs := 2000
	if testing.Short() {
		pairs = 500
	}
	var table strings.Builder
	fmt.Fprintf(&table, "A/A, 6 runs × 2,000 requests a side, one burst of 15–40 errors per run with probability p, %d pairs\np     per-run gate (now)  pooled Fisher gate (before)\n", pairs)
	for _, p := range []float64{0.1, 0.2, 0.3} {
		perRun, pooled := simBursty(p, pairs, 5)
		fmt.Fprintf(&table, "%.1f   %5.1f %%             %5.1f %%\n", p, 100*perRun, 100*pooled)
		if perRun > DefaultAlpha/2+0.01 {
			t.Errorf("p %.1f: the per-run gate calls %.3f of A/A pairs a regression; want <= %.3f", p, perRun, DefaultAlpha/2+0.01)
		}
		if pooled < 0.10 {
			t.Errorf("p %.1f: the pooled gate called only %.3f; the simulation should expose it", p, pooled)
		}
	}
	t.Log("\n" + table.String())
}
