package results

import (
	"fmt"
	"io"
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
func (st CapacityStep) Confirmation() string { return nonEmpty(st.trialOutcomes(), "-") }

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

// ReplicationIdleTitle heads the replication readings outside the attack
// windows in the reports.
const ReplicationIdleTitle = "Replication while idle (start lead, cooldowns, between steps; not judged)"

// WorstReplicationP99 is the highest replica delay p99 of reps, or "-".
func WorstReplicationP99(reps []ReplicaStats) string {
	worst, any := 0.0, false
	for _, r := range reps {
		if r.HeartbeatSamples > 0 {
			worst, any = max(worst, r.DelayP99Seconds), true
		}
	}
	if !any {
		return "-"
	}
	return FormatSeconds(worst)
}

// writeReplicationTable writes one replication table under title (none
// for no replicas).
func writeReplicationTable(w io.Writer, title string, reps []ReplicaStats) {
	if len(reps) == 0 {
		return
	}
	fmt.Fprintln(w, "\n"+title)
	writeTable(w, "  replica\tdelay p50\tp99\tmax\toffset lag max\tack age max\tlink down\tsamples", func(tw io.Writer) {
		for _, rep := range reps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", rep.Replica,
				FormatSeconds(rep.DelayP50Seconds), FormatSeconds(rep.DelayP99Seconds), FormatSeconds(rep.DelayMaxSeconds),
				FormatBytes(rep.MaxOffsetLagBytes), FormatSeconds(rep.MaxAckAgeSeconds), FormatSeconds(rep.LinkDownSeconds), rep.HeartbeatSamples)
		}
	})
}
