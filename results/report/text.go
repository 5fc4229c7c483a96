package report

import (
	"fmt"
	"github.com/duckbench/duckbench/results"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText writes a plain-text summary of r in the spirit of
// `vegeta report`, with the extra tail quantiles, per-app share, saturation
// warning, replication and per-backend figures, events and the SLO verdict.
func WriteText(w io.Writer, r *results.Result) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	s := r.Summary
	row := func(label, fields, values string) { fmt.Fprintf(tw, "%s\t[%s]\t%s\n", label, fields, values) }

	fmt.Fprintf(tw, "Run\t%s\t%s\n", r.ID, runLine(r))
	if pl := r.PlacementText(); pl != "" {
		row("Placement", "service@node", pl)
	}
	row("Requests", "total, rate, throughput", fmt.Sprintf("%d, %.2f, %.2f", s.Requests, s.Rate, s.Throughput))
	if s.TargetRate > 0 {
		row("Target", "rate, achieved", fmt.Sprintf("%.2f, %s", s.TargetRate, results.FormatPercent(results.Ratio(s.Rate, s.TargetRate))))
	} else if r.Plan.Rate < 0 {
		row("Target", "rate", "max")
	}
	row("Duration", "total", results.FormatSeconds(s.DurationSeconds))
	if s.DrainSeconds > 0 || r.Plan.WorkersUsed > 0 {
		row("Drain, Workers", "after the schedule; in-flight cap used, max", fmt.Sprintf("%s; %d, %d",
			results.FormatSeconds(s.DrainSeconds), r.Plan.WorkersUsed, r.Plan.MaxWorkers))
	}
	row("Latencies", "min, mean, 50, 90, 99, 99.9, 99.99, max", formatQuantiles(s.Latency))
	if st := s.ServiceTime; st != nil && differsMaterially(s.Latency, *st) {
		row("Service Time", "min, mean, 50, 90, 99, 99.9, 99.99, max", formatQuantiles(*st))
	}
	if f := s.FailureLatency; f != nil {
		row("Failed", "min, mean, 50, 90, 99, 99.9, 99.99, max", formatQuantiles(*f))
	}
	if s.Requests > s.Success {
		row("All Requests", "min, mean, 50, 90, 99, 99.9, 99.99, max", formatQuantiles(results.Latency(s)))
	}
	row("Bytes In", "total, mean", fmt.Sprintf("%d, %.2f", s.BytesIn, results.Ratio(float64(s.BytesIn), float64(s.Requests))))
	row("Bytes Out", "total, mean", fmt.Sprintf("%d, %.2f", s.BytesOut, results.Ratio(float64(s.BytesOut), float64(s.Requests))))
	row("Success", "ratio", results.FormatPercent(s.SuccessRatio))
	row("Status Codes", "code:count", joinCounts(s.StatusCodes))
	if len(r.AppShare) > 0 && len(r.Servers) == 0 {
		var parts []string
		for _, k := range sortedKeys(r.AppShare) {
			parts = append(parts, k+":"+results.FormatPercent(r.AppShare[k]))
		}
		row("App Share", "app:share", strings.Join(parts, " "))
	}
	if g := s.Generator; g != nil {
		row("Generator", "CPU-s, cores, req per CPU-s", generatorValues(g))
	}
	if len(r.Trials) > 1 {
		var parts []string
		for _, t := range r.Trials {
			parts = append(parts, fmt.Sprintf("#%d %.1f/%s", t.Index, t.Summary.Throughput, results.FormatLatency(results.Latency(t.Summary).P99)))
		}
		row("Trials", "throughput/p99", strings.Join(parts, ", "))
	}
	if len(r.Stalls) > 0 {
		var parts []string
		for _, st := range r.Stalls {
			parts = append(parts, fmt.Sprintf("%.2fs+%s:%d", st.StartSeconds, results.FormatSeconds(st.DurationSeconds), st.Requests))
		}
		row("Stalls", "start+duration:requests", strings.Join(parts, " "))
	}
	tw.Flush()
	writeLatencyNotes(w, r)

	if len(s.ErrorKinds) > 0 {
		fmt.Fprintln(w, "Error Set:")
		for _, k := range sortedKeys(s.ErrorKinds) {
			fmt.Fprintf(w, "  %d× %s\n", s.ErrorKinds[k], k)
		}
	}
	if r.GeneratorSaturated {
		fmt.Fprintln(w, "WARNING: the load generator could not keep up with the schedule (short of CPU or workers); latency and throughput describe the generator, not the server's capacity.")
	}
	for _, sh := range results.GeneratorShares(r) {
		fmt.Fprintln(w, "WARNING: "+sh.Warning()+".")
	}
	if r.SUTBound {
		fmt.Fprintln(w, "WARNING: the system under test could not keep up (the schedule slipped while every worker waited on it); the latency above includes the wait.")
	}
	if r.Status != "" && r.Status != results.StatusCompleted {
		msg := "WARNING: run " + r.Status
		if r.Error != "" {
			msg += ": " + r.Error
		}
		fmt.Fprintln(w, msg)
	}

	writeServersText(w, r)
	writeAgents(w, r)
	writeProbeTables(w, r)
	if r.Capacity != nil {
		writeCapacityText(w, r.Capacity)
	}
	if len(r.Events) > 0 {
		fmt.Fprintln(w, "\nEvents")
		for _, e := range r.Events {
			fmt.Fprintf(w, "  %7.1fs  %-10s %s\n", e.AtSeconds, e.Kind, eventText(e))
		}
	}
	if r.SLO != nil {
		writeVerdictText(w, r.SLO)
	}
	return nil
}

// writeServersText writes the client-side figures per server that
// answered; nothing when no response named a server.
func writeServersText(w io.Writer, r *results.Result) {
	if !hasServers(r) {
		return
	}
	fmt.Fprintln(w, "\nServers (client side, by X-Served-By; latency of successes as above)")
	writeTable(w, "  server\trequests\tshare\tsuccess\tp50\tp99\tmax", func(tw io.Writer) {
		for _, s := range r.Servers {
			q, dash := s.Summary.Latency, s.Summary.Success == 0
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Server, s.Summary.Requests,
				results.FormatPercent(results.Ratio(float64(s.Summary.Requests), float64(r.Summary.Requests))),
				results.FormatPercent(s.Summary.SuccessRatio), secondsOrDash(q.P50, dash), secondsOrDash(q.P99, dash), secondsOrDash(q.Max, dash))
		}
	})
}

// hasServers reports whether r attributes any response to a server.
func hasServers(r *results.Result) bool {
	for _, s := range r.Servers {
		if s.Server != results.Unattributed {
			return true
		}
	}
	return false
}

func secondsOrDash(v float64, dash bool) string {
	if dash {
		return "-"
	}
	return results.FormatSeconds(v)
}

// writeProbeTables writes what the probes saw: replication, HAProxy's
// servers and caches, and the Redis keyspace.
func writeProbeTables(w io.Writer, r *results.Result) {
	writeReplicationTable(w, "Replication", r.Replication)
	writeReplicationTable(w, replicationIdleTitle, r.ReplicationIdle)
	if len(r.Backends) > 0 {
		fmt.Fprintln(w, "\nBackends")
		writeTable(w, "  backend/server\trequests\tshare\texpected\tdown\tresponses", func(tw io.Writer) {
			for _, b := range r.Backends {
				exp := "-"
				if e := results.ExpectedShareOf(r.Backends, b); e > 0 {
					exp = results.FormatPercent(e)
				}
				fmt.Fprintf(tw, "  %s/%s\t%d\t%s\t%s\t%s\t%s\n", b.Backend, b.Server, b.Requests,
					results.FormatPercent(b.ShareRatio), exp, results.FormatSeconds(b.DownSeconds), joinCounts(b.Responses))
			}
		})
	}
	if len(r.Caches) > 0 {
		fmt.Fprintln(w, "\nCaches")
		writeTable(w, "  backend\tlookups\thits\thit ratio", func(tw io.Writer) {
			for _, c := range r.Caches {
				fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\n", c.Backend, c.Lookups, c.Hits, ratioOrDash(c.HitRatio, c.Lookups))
			}
		})
	}
	if len(r.Keyspace) > 0 {
		fmt.Fprintln(w, "\nKeyspace")
		writeTable(w, "  node\thits\tmisses\thit ratio", func(tw io.Writer) {
			for _, k := range r.Keyspace {
				fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\n", k.Node, k.Hits, k.Misses, ratioOrDash(k.HitRatio, k.Hits+k.Misses))
			}
		})
	}
}

// writeCapacityText writes the capacity search: the rate found, its
// bracket, and every step with why it came out as it did.
func writeCapacityText(w io.Writer, c *results.Capacity) {
	fmt.Fprintf(w, "\nCapacity (%s)\n  rate %.1f req/s, bracket [%.1f, %s)", c.SLO, c.Rate, c.LowGood, highBad(c.HighBad))
	if c.TimedOut {
		fmt.Fprint(w, ", timed out")
	}
	fmt.Fprintln(w)
	writeTable(w, "  rate\toutcome\ttrials\tthroughput\tp99 (all)\tservice p99\tsuccess\trepl p99\tgen cores\twhy", func(tw io.Writer) {
		for _, st := range c.Steps {
			svc := "-"
			if st.Summary.ServiceTime != nil {
				svc = results.FormatSeconds(st.Summary.ServiceTime.P99)
			}
			fmt.Fprintf(tw, "  %.1f\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Rate, st.Outcome, st.Confirmation(), st.Summary.Throughput,
				results.FormatLatency(results.Latency(st.Summary).P99), svc, results.FormatPercent(st.Summary.SuccessRatio), worstReplicationP99(st.Replication), genCores(st.Summary.Generator), nonEmpty(st.Why, "-"))
		}
	})
}

// writeTable writes a tab-aligned table: the header line, then what rows
// writes.
func writeTable(w io.Writer, header string, rows func(tw io.Writer)) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(tw)
	tw.Flush()
}

func formatQuantiles(l results.Quantiles) string {
	return strings.Join([]string{
		results.FormatLatency(l.Min), results.FormatLatency(l.Mean), results.FormatLatency(l.P50), results.FormatLatency(l.P90),
		results.FormatLatency(l.P99), results.FormatLatency(l.P999), results.FormatLatency(l.P9999), results.FormatLatency(l.Max)}, ", ")
}

// differsMaterially reports whether service time tells a different story
// from the primary latency: p50, p90, p99 or max apart by more than 10 %
// and 0.5 ms.
func differsMaterially(primary, service results.Quantiles) bool {
	for _, pair := range [][2]float64{{primary.P50, service.P50}, {primary.P90, service.P90},
		{primary.P99, service.P99}, {primary.Max, service.Max}} {
		d := pair[0] - pair[1]
		if d < 0 {
			d = -d
		}
		if d > 0.0005 && d > 0.1*max(pair[0], pair[1]) {
			return true
		}
	}
	return false
}

// writeLatencyNotes says what the latency rows are timed from, and what
// no percentile shows.
func writeLatencyNotes(w io.Writer, r *results.Result) {
	s := r.Summary
	switch s.LatencyBasis {
	case results.BasisIntended:
		msg := "Latencies: successful requests, from each request's intended send time (the schedule)"
		if s.ServiceTime != nil && !differsMaterially(s.Latency, *s.ServiceTime) {
			msg += "; service time (from the actual send) agrees within 10 %"
		} else if s.ServiceTime != nil {
			msg += "; Service Time: from the actual send, leaving out the wait for a late send"
		}
		fmt.Fprintln(w, msg+".")
	case results.BasisService:
		fmt.Fprintln(w, "Latencies: successful requests, from the actual send (rate max has no schedule, so no intended send time).")
	case results.BasisSentV1:
		fmt.Fprintln(w, "Latencies: a schema 1 record, timed from the actual send over all requests (a stall of the server may be missing).")
	}
	writeAllRequestsNote(w, s)
	if s.OverRange > 0 {
		fmt.Fprintf(w, "%d latencies lay beyond the histogram's range and count at its top (1h).\n", s.OverRange)
	}
	if s.Unsent > 0 {
		fmt.Fprintf(w, "%d requests were due but never sent (no free worker before the attack ended); they count as errors.\n", s.Unsent)
	}
}

// writeAllRequestsNote says what the verdicts judge when requests failed.
func writeAllRequestsNote(w io.Writer, s results.Summary) {
	if s.Requests <= s.Success {
		return
	}
	if _, exact := results.LatencyOf(s); !exact {
		fmt.Fprintln(w, "All Requests: this record predates all-requests quantiles; its verdicts judged the successes only.")
		return
	}
	fmt.Fprintln(w, "All Requests: every request, a failed one (error status, timeout, transport error, unsent) counted slower than any success; \"failed\": the quantile falls among the failures. SLO, capacity, check, compare, ab and sweep judge these.")
}

func writeVerdictText(w io.Writer, v *results.Verdict) {
	verdict := "PASS"
	if !v.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\nSLO: %s\n", verdict)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, c := range v.Checks {
		mark := "ok"
		if !c.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\tobserved %s\n", mark, c.Name, c.Threshold, c.Observed)
	}
	tw.Flush()
}

func runLine(r *results.Result) string {
	var parts []string
	if r.Spec.Name != "" {
		parts = append(parts, "spec "+r.Spec.Name)
	}
	if h := r.Spec.Hash; h != "" {
		if len(h) > 12 {
			h = h[:12]
		}
		parts = append(parts, "hash "+h)
	}
	if r.Runtime != "" {
		parts = append(parts, "runtime "+r.Runtime)
	}
	if r.Status != "" {
		parts = append(parts, r.Status)
	}
	if !r.StartedAt.IsZero() {
		parts = append(parts, "started "+r.StartedAt.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return strings.Join(parts, ", ")
}

func eventText(e results.Event) string {
	var parts []string
	if e.Action != "" {
		parts = append(parts, e.Action)
	}
	if e.Target != "" {
		parts = append(parts, e.Target)
	}
	s := strings.Join(parts, " ")
	if e.Message != "" {
		if s != "" {
			s += ": "
		}
		s += e.Message
	}
	return s
}

func highBad(v float64) string {
	if v <= 0 {
		return "none found"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func joinCounts(m map[string]uint64) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// formatBytes prints a byte count with a binary unit: "512B", "1.5KiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	sign := ""
	v := float64(n)
	if v < 0 {
		sign, v = "-", -v
	}
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= unit
		if v < unit {
			return sign + results.Sig3(v) + u
		}
	}
	return sign + results.Sig3(v/unit) + "PiB"
}

// ratioOrDash is FormatPercent(ratio), or "-" when there was nothing to
// divide by (a node nobody read from has no hit ratio, not 0 %).
func ratioOrDash(ratio float64, denominator uint64) string {
	if denominator == 0 {
		return "-"
	}
	return results.FormatPercent(ratio)
}

// writeAgents writes the per-agent table of a sharded run.
func writeAgents(w io.Writer, r *results.Result) {
	if len(r.Agents) == 0 {
		return
	}
	fmt.Fprintln(w, "\nLoad agents (the figures above are their exact merge)")
	writeTable(w, "  agent\tstatus\trequests\tplanned\ttarget rate\tachieved\tmax lag\tsaturated\tclock offset\tp99 (own)\tcores\treq per CPU-s", func(tw io.Writer) {
		for _, a := range r.Agents {
			st := a.Status
			if a.Error != "" {
				st += ": " + a.Error
			}
			cores, rpc := agentGenerator(a)
			fmt.Fprintf(tw, "  %d\t%s\t%d\t%d\t%.2f\t%.2f\t%s\t%v\t%+.3fs\t%s\t%s\t%s\n", a.Index, st, a.Requests, a.PlannedRequests,
				a.TargetRate, a.AchievedRate, results.FormatSeconds(a.MaxScheduleLagSeconds), a.GeneratorSaturated, a.ClockOffsetSeconds, results.FormatSeconds(a.LatencyP99),
				cores, rpc)
		}
	})
}

// generatorValues is the Generator row: "3.21s, 0.321, 31234" (CPU time,
// share of a core, requests per CPU-second; "-" for the last without CPU
// time).
func generatorValues(g *results.GeneratorCost) string {
	return fmt.Sprintf("%s, %s, %s", results.FormatSeconds(g.CPUSeconds), results.FormatCores(g.Cores), perCPUSecond(g))
}

// perCPUSecond is g's requests per CPU-second, whole, or "-".
func perCPUSecond(g *results.GeneratorCost) string {
	if g == nil || g.CPUSeconds <= 0 {
		return "-"
	}
	return strconv.FormatFloat(g.RequestsPerCPUSecond, 'f', 0, 64)
}

// genCores is g's share of a core, or "-".
func genCores(g *results.GeneratorCost) string {
	if g == nil {
		return "-"
	}
	return results.FormatCores(g.Cores)
}

// agentGenerator is an agent's share of a core and requests per
// CPU-second, "-" each when it reported none.
func agentGenerator(a results.AgentStats) (cores, perCPU string) {
	return genCores(a.Generator), perCPUSecond(a.Generator)
}
