package load

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/duckbench/duckbench/results"
)

// WriteText writes a summary of rep in the manner of `vegeta report`, with
// the extra tail quantiles, the schedule, and the per-target and per-server
// tables.
func WriteText(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	s := rep.Summary
	row := func(label, fields, values string) { fmt.Fprintf(tw, "%s\t[%s]\t%s\n", label, fields, values) }
	row("Requests", "total, rate, throughput", fmt.Sprintf("%d, %.2f, %.2f", s.Requests, s.Rate, s.Throughput))
	switch {
	case rep.Plan.Rate < 0:
		row("Target", "rate", "max")
	case s.TargetRate > 0:
		row("Target", "rate, achieved", fmt.Sprintf("%.2f, %s", s.TargetRate, pct(s.Rate/s.TargetRate)))
	}
	row("Duration", "scheduled, drain", secs(s.DurationSeconds)+", "+secs(s.DrainSeconds))
	row("Latencies", "min, mean, 50, 90, 99, 99.9, 99.99, max", quantiles(s.Latency))
	row("Bytes In", "total, mean", fmt.Sprintf("%d, %.2f", s.BytesIn, div(float64(s.BytesIn), float64(s.Requests))))
	row("Bytes Out", "total, mean", fmt.Sprintf("%d, %.2f", s.BytesOut, div(float64(s.BytesOut), float64(s.Requests))))
	row("Success", "ratio", pct(s.SuccessRatio))
	row("Status Codes", "code:count", counts(s.StatusCodes))
	if rep.Plan.Rate >= 0 {
		sat := "no"
		if rep.Saturated {
			sat = "YES: the generator fell behind; these figures are not a capacity"
			if rep.SaturationCause == SaturationCap {
				sat = "YES: unknown (generator cap): every worker was busy at the configured cap while the server answered as usual"
			}
		}
		row("Schedule", "max lag, saturated", secs(rep.MaxScheduleLagSeconds)+", "+sat)
	}
	row("Workers", "initial, used, max, connections", fmt.Sprintf("%d, %d, %d, %d", rep.Plan.Workers, rep.Plan.WorkersUsed, rep.Plan.MaxWorkers, rep.Plan.Connections))
	if len(rep.AppShare) > 0 && len(rep.Servers) == 0 {
		var parts []string
		for _, k := range sortedKeys(rep.AppShare) {
			parts = append(parts, k+":"+pct(rep.AppShare[k]))
		}
		row("Served By", "app:share", strings.Join(parts, "  "))
	}
	if rep.Interrupted {
		fmt.Fprintf(tw, "Interrupted\t\tpartial results\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.ErrorKinds) > 0 {
		fmt.Fprintln(w, "Error Set:")
		for _, k := range sortedKeys(s.ErrorKinds) {
			fmt.Fprintf(w, "%s (%d)\n", k, s.ErrorKinds[k])
		}
	}
	if len(rep.Targets) > 1 {
		fmt.Fprintln(w, "Targets:")
		tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  name\trequests\tsuccess\tp50\tp99\tmax")
		for _, t := range rep.Targets {
			l := t.Summary.Latency
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", t.Name, t.Summary.Requests, pct(t.Summary.SuccessRatio), secs(l.P50), secs(l.P99), secs(l.Max))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(rep.Servers) > 0 && (len(rep.Servers) > 1 || rep.Servers[0].Server != results.Unattributed) {
		fmt.Fprintln(w, "Servers (client side, by X-Served-By):")
		tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  server\trequests\tshare\tsuccess\tp50\tp99\tmax")
		for _, sv := range rep.Servers {
			l := sv.Summary.Latency
			p50, p99, mx := secs(l.P50), secs(l.P99), secs(l.Max)
			if sv.Summary.Success == 0 && sv.Summary.SuccessRatio == 0 {
				p50, p99, mx = "-", "-", "-" // no success: no latency
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\n", sv.Server, sv.Summary.Requests,
				pct(div(float64(sv.Summary.Requests), float64(s.Requests))), pct(sv.Summary.SuccessRatio), p50, p99, mx)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, e := range rep.Events {
		if _, err := fmt.Fprintf(w, "%s at %.1fs: %s\n", eventLabel(e), e.AtSeconds, e.Message); err != nil {
			return err
		}
	}
	return nil
}

func quantiles(l results.Quantiles) string {
	return strings.Join([]string{secs(l.Min), secs(l.Mean), secs(l.P50), secs(l.P90), secs(l.P99), secs(l.P999), secs(l.P9999), secs(l.Max)}, ", ")
}

func secs(s float64) string { return time.Duration(s * 1e9).String() }

func pct(r float64) string { return strconv.FormatFloat(r*100, 'f', 2, 64) + "%" }

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func counts(m map[string]uint64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+":"+strconv.FormatUint(m[k], 10))
	}
	return strings.Join(parts, "  ")
}
