package report

import (
	"fmt"
	"github.com/duckbench/duckbench/results"
	"io"
)

// replicationIdleTitle heads the replication readings outside the attack
// windows in the reports.
const replicationIdleTitle = "Replication while idle (start lead, cooldowns, between steps; not judged)"

// worstReplicationP99 is the highest replica delay p99 of reps, or "-".
func worstReplicationP99(reps []results.ReplicaStats) string {
	worst, any := 0.0, false
	for _, r := range reps {
		if r.HeartbeatSamples > 0 {
			worst, any = max(worst, r.DelayP99Seconds), true
		}
	}
	if !any {
		return "-"
	}
	return results.FormatSeconds(worst)
}

// writeReplicationTable writes one replication table under title (none
// for no replicas).
func writeReplicationTable(w io.Writer, title string, reps []results.ReplicaStats) {
	if len(reps) == 0 {
		return
	}
	fmt.Fprintln(w, "\n"+title)
	writeTable(w, "  replica\tdelay p50\tp99\tmax\toffset lag max\tack age max\tlink down\tsamples", func(tw io.Writer) {
		for _, rep := range reps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", rep.Replica,
				results.FormatSeconds(rep.DelayP50Seconds), results.FormatSeconds(rep.DelayP99Seconds), results.FormatSeconds(rep.DelayMaxSeconds),
				formatBytes(rep.MaxOffsetLagBytes), results.FormatSeconds(rep.MaxAckAgeSeconds), results.FormatSeconds(rep.LinkDownSeconds), rep.HeartbeatSamples)
		}
	})
}
