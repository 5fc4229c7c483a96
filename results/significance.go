package results

import "github.com/duckbench/duckbench/results/stat"

// Significance is the outcome of a run-level test (stat.Significance).
type Significance = stat.Significance

// MinAttainableP is stat.MinAttainableP: the smallest two-sided p an exact
// Mann–Whitney test of n1 and n2 runs can give.
func MinAttainableP(n1, n2 int) float64 { return stat.MinAttainableP(n1, n2) }

// RunsForAlpha is stat.RunsForAlpha: the fewest runs per side whose test
// can reach p < alpha.
func RunsForAlpha(other int, alpha float64) int { return stat.RunsForAlpha(other, alpha) }

// DefaultRounds is the default number of runs per side of an ab, and of
// trials for a check and its baseline. 4 is the smallest number whose
// two-sided Mann–Whitney test can reach p < 0.05 at all (2/C(8,4) = 0.029),
// but only by complete separation: with 6 % run-to-run noise it finds a
// true 20 % p99 regression 71 % of the time. 6 is the smallest that finds
// it ≥ 90 % of the time (TestSimulationPower).
const DefaultRounds = 6
