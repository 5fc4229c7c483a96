package results

import (
	"strings"
)

// CapacityTrial is one constant-rate trial of a capacity step: its own
// outcome and figures. A step that took more than one keeps them all.
type CapacityTrial struct {
	Outcome     string         `json:"outcome"`
	Why         string         `json:"why,omitempty"`
	Seed        int64          `json:"seed,omitempty"`
	Summary     Summary        `json:"summary"`
	Replication []ReplicaStats `json:"replication,omitempty"`
}

// Confirmation says how the step's trials came out, in order ("fail,
// pass, pass"), or "-" when one trial settled it.
func (st CapacityStep) Confirmation() string {
	if s := st.trialOutcomes(); s != "" {
		return s
	}
	return "-"
}

// trialOutcomes is Confirmation with "" for a step of one trial.
func (st CapacityStep) trialOutcomes() string {
	if len(st.Trials) < 2 {
		return ""
	}
	out := make([]string, len(st.Trials))
	for i, tr := range st.Trials {
		out[i] = tr.Outcome
	}
	return strings.Join(out, ", ")
}
