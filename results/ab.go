package results

import "time"

// AB is the record of an interleaved A/B comparison (`duckbench ab`):
// results/<id>/ab.json, with each run's own folder beside it.
type AB struct {
	SchemaVersion int       `json:"schema_version"`
	ID            string    `json:"id"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at"`
	// A is the old config, B the new one.
	A ABSide `json:"a"`
	B ABSide `json:"b"`
	// AA is true when both sides run the same config: the comparison then
	// measures the machine's noise.
	AA bool `json:"aa"`
	// Rounds planned; Runs in the order they ran (A B B A A B …).
	Rounds int     `json:"rounds"`
	Runs   []ABRun `json:"runs"`
	// Status is one of the Status* values; Error says why.
	Status     string      `json:"status"`
	Error      string      `json:"error,omitempty"`
	Comparison *Comparison `json:"comparison,omitempty"`
}

// ABSide names one config of an ab.
type ABSide struct {
	Spec string `json:"spec"`
	Path string `json:"path"`
	Hash string `json:"hash"`
}

// ABRun is one run of an ab.
type ABRun struct {
	// Seq is the run's position in the sequence (1-based), Round its round.
	Seq   int    `json:"seq"`
	Round int    `json:"round"`
	Side  string `json:"side"` // "A" or "B"
	ID    string `json:"id"`   // the run's folder under the ab's
	// Status of the run; Summary its totals (the run-level sample).
	Status  string  `json:"status"`
	Summary Summary `json:"summary"`
}

// ABOrder is the counterbalanced order of rounds runs per side: A B, B A,
// A B, … so that a drift of the machine over time favours neither side.
func ABOrder(rounds int) []string {
	var out []string
	for _, round := range RoundOrder(2, rounds) {
		for _, i := range round {
			out = append(out, []string{"A", "B"}[i])
		}
	}
	return out
}

// CompareAB compares the runs of side A (old) with those of side B (new).
func CompareAB(ab *AB, a, b []*Result, th Thresholds) *Comparison {
	c := CompareSides(SideOfRuns("A: "+ab.A.Path, a), SideOfRuns("B: "+ab.B.Path, b), th)
	if ab.AA {
		c.Warnings = append(c.Warnings, "A/A: both sides run the same config; every difference is the machine's noise")
	}
	return c
}
