// Package pushgw pushes a run's summary to a Prometheus Pushgateway as
// gauges under job "duckbench", grouped by the run's identity labels, with
// client_golang's push package: the figures of a finished run where the
// user's dashboards can reach them.
package pushgw

import (
	"context"
	"fmt"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/duckbench/duckbench/results"
)

// Job is the Pushgateway job every run is pushed under.
const Job = "duckbench"

// Metric names of the pushed summary.
const (
	Latency = "duckbench_run_latency_seconds" // {quantile} of successful requests
	// AllLatency is {quantile} of all requests, a failure slower than any
	// success: +Inf where the quantile falls among the failures.
	AllLatency = "duckbench_run_all_requests_latency_seconds"
	Requests   = "duckbench_run_requests"          // requests of the attack window
	Errors     = "duckbench_run_errors"            // failed requests
	Success    = "duckbench_run_success_ratio"     // successes / requests
	Throughput = "duckbench_run_throughput"        // successes per second
	Target     = "duckbench_run_target_rate"       // scheduled requests per second
	Capacity   = "duckbench_run_capacity_rate"     // capacity search: highest sustainable rate
	SLOPass    = "duckbench_run_slo_pass"          // 1 when the SLO verdict passed
	CheckPass  = "duckbench_run_check_pass"        // {check} 1 when the check passed
	Completed  = "duckbench_run_completed"         // 1 when the run completed its plan
	Timestamp  = "duckbench_run_timestamp_seconds" // the run's start (Unix seconds)
)

// Registry returns a fresh registry holding r's summary as gauges.
func Registry(r *results.Result) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		g.Set(v)
		reg.MustRegister(g)
	}
	s := r.Summary
	quantiles := func(name, help string, q results.Quantiles) {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"quantile"})
		g.WithLabelValues("0.5").Set(q.P50)
		g.WithLabelValues("0.9").Set(q.P90)
		g.WithLabelValues("0.99").Set(q.P99)
		g.WithLabelValues("1").Set(q.Max)
		reg.MustRegister(g)
	}
	quantiles(Latency, "Latency quantiles of the run's successful requests (seconds; the report's HdrHistogram).", s.Latency)
	quantiles(AllLatency, "Latency quantiles of all the run's requests, a failure slower than any success (seconds; +Inf: the quantile falls among the failures). What the verdicts judge.", results.Latency(s))
	gauge(Requests, "Requests of the run's attack window.", float64(s.Requests))
	gauge(Errors, "Failed requests of the run.", float64(s.Errors))
	gauge(Success, "Successes / requests.", s.SuccessRatio)
	gauge(Throughput, "Successes per second of the attack window.", s.Throughput)
	gauge(Target, "Scheduled requests per second (mean).", s.TargetRate)
	gauge(Completed, "1 when the run completed its plan.", b2f(r.Status == results.StatusCompleted))
	gauge(Timestamp, "The run's start (Unix seconds).", float64(r.StartedAt.UnixMilli())/1e3)
	if r.Capacity != nil {
		gauge(Capacity, "Capacity search: the highest sustainable rate (req/s).", r.Capacity.Rate)
	}
	if r.SLO != nil {
		gauge(SLOPass, "1 when the run's SLO verdict passed.", b2f(r.SLO.Pass))
		checks := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: CheckPass, Help: "1 when the SLO check passed."}, []string{"check"})
		for _, c := range r.SLO.Checks {
			checks.WithLabelValues(c.Name).Set(b2f(c.Pass))
		}
		reg.MustRegister(checks)
	}
	return reg
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Push replaces the group of labels (the run's identity) under job
// "duckbench" at the Pushgateway url with r's summary.
func Push(ctx context.Context, url string, r *results.Result, labels map[string]string) error {
	p := push.New(url, Job).Gatherer(Registry(r))
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if labels[k] != "" {
			p = p.Grouping(k, labels[k])
		}
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("push run %s to %s: %w", r.ID, url, err)
	}
	return nil
}

// ChangePointAt is the change-point gauge: the start (Unix seconds) of the
// first run after a change point of `duckbench history`, labelled with the
// history metric, that run and the direction; what the history board
// annotates.
const ChangePointAt = "duckbench_history_change_point_timestamp_seconds"

// ChangePoint is one change point to push.
type ChangePoint struct {
	// AfterRun is the first run of the new segment; At its start.
	AfterRun string
	At       float64
	// Change is the relative change of the segment medians.
	Change     float64
	Regression bool
}

// PushChangePoints replaces the change points of metric for spec at the
// Pushgateway url (group job=duckbench, spec, history_metric).
func PushChangePoints(ctx context.Context, url, spec, metric string, cps []ChangePoint) error {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: ChangePointAt,
		Help: "Start (Unix seconds) of the first run after a change point found by duckbench history."},
		[]string{"after_run", "change", "direction"})
	for _, cp := range cps {
		dir := "improvement"
		if cp.Regression {
			dir = "regression"
		}
		g.WithLabelValues(cp.AfterRun, fmt.Sprintf("%+.1f%%", 100*cp.Change), dir).Set(cp.At)
	}
	reg.MustRegister(g)
	p := push.New(url, Job).Gatherer(reg).Grouping("spec", spec).Grouping("history_metric", metric)
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("push change points of %s to %s: %w", spec, url, err)
	}
	return nil
}
