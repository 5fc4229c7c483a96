package results

import (
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

func TestEvaluateSLO(t *testing.T) {
	ms := func(v float64) spec.Duration { return spec.Duration(time.Duration(v * float64(time.Millisecond))) }
	base := &Result{
		Summary: Summary{Requests: 1000, Success: 999, SuccessRatio: 0.999, Throughput: 499.5,
			Latency:    Quantiles{P50: 0.002, P90: 0.004, P99: 0.012, P999: 0.03, Max: 0.08},
			AllLatency: &Quantiles{P50: 0.002, P90: 0.004, P99: 0.012, P999: 0.03, Max: Failed}},
		Replication: []ReplicaStats{
			{Replica: "r1", DelayP99Seconds: 0.001, HeartbeatSamples: 10},
			{Replica: "r2", DelayP99Seconds: 0.009, HeartbeatSamples: 10},
		},
	}
	tests := []struct {
		name   string
		slo    spec.SLO
		r      *Result
		pass   bool
		checks []Check
	}{
		{"empty SLO passes without checks", spec.SLO{}, base, true, nil},
		{"p99 met", spec.SLO{P99: ms(50)}, base, true,
			[]Check{{Name: "p99", Threshold: "<= 50ms", Observed: "12ms", Pass: true}}},
		{"p99 at the limit passes", spec.SLO{P99: ms(12)}, base, true,
			[]Check{{Name: "p99", Threshold: "<= 12ms", Observed: "12ms", Pass: true}}},
		{"p99 violated", spec.SLO{P99: spec.Duration(time.Microsecond)}, base, false,
			[]Check{{Name: "p99", Threshold: "<= 1µs", Observed: "12ms", Pass: false}}},
		{"every quantile", spec.SLO{P50: ms(1), P90: ms(5), P999: ms(40), Max: ms(60)}, base, false, []Check{
			{Name: "p50", Threshold: "<= 1ms", Observed: "2ms", Pass: false},
			{Name: "p90", Threshold: "<= 5ms", Observed: "4ms", Pass: true},
			{Name: "p99.9", Threshold: "<= 40ms", Observed: "30ms", Pass: true},
			{Name: "max", Threshold: "<= 60ms", Observed: "failed (0.1% of requests failed)", Pass: false},
		}},
		{"success met", spec.SLO{Success: 0.999}, base, true,
			[]Check{{Name: "success", Threshold: ">= 99.9%", Observed: "99.9%", Pass: true}}},
		{"success violated", spec.SLO{Success: 0.9999}, base, false,
			[]Check{{Name: "success", Threshold: ">= 99.99%", Observed: "99.9%", Pass: false}}},
		{"no requests fail latency and success", spec.SLO{P99: ms(50), Success: 0.5}, &Result{}, false, []Check{
			{Name: "p99", Threshold: "<= 50ms", Observed: "no requests", Pass: false},
			{Name: "success", Threshold: ">= 50%", Observed: "no requests", Pass: false},
		}},
		{"min rate met", spec.SLO{MinRate: 450}, base, true,
			[]Check{{Name: "min_rate", Threshold: ">= 450.00 req/s", Observed: "499.50 req/s", Pass: true}}},
		{"min rate violated", spec.SLO{MinRate: 500}, base, false,
			[]Check{{Name: "min_rate", Threshold: ">= 500.00 req/s", Observed: "499.50 req/s", Pass: false}}},
		{"replication delay per replica", spec.SLO{MaxReplicationDelay: ms(5)}, base, false, []Check{
			{Name: "max_replication_delay[r1]", Threshold: "p99 <= 5ms", Observed: "1ms", Pass: true},
			{Name: "max_replication_delay[r2]", Threshold: "p99 <= 5ms", Observed: "9ms", Pass: false},
		}},
		{"replication delay without replicas fails", spec.SLO{MaxReplicationDelay: ms(5)}, &Result{}, false, []Check{
			{Name: "max_replication_delay", Threshold: "p99 <= 5ms", Observed: "no replica measured", Pass: false},
		}},
		{"replica without samples fails", spec.SLO{MaxReplicationDelay: ms(5)},
			&Result{Replication: []ReplicaStats{{Replica: "r1"}}}, false, []Check{
				{Name: "max_replication_delay[r1]", Threshold: "p99 <= 5ms", Observed: "no heartbeat samples", Pass: false},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := EvaluateSLO(tt.slo, tt.r)
			if v.Pass != tt.pass {
				t.Errorf("EvaluateSLO().Pass = %v; want %v", v.Pass, tt.pass)
			}
			if len(v.Checks) != len(tt.checks) {
				t.Fatalf("EvaluateSLO().Checks = %+v; want %+v", v.Checks, tt.checks)
			}
			for i := range tt.checks {
				if v.Checks[i] != tt.checks[i] {
					t.Errorf("check %d = %+v; want %+v", i, v.Checks[i], tt.checks[i])
				}
			}
		})
	}
}

func TestFormatSeconds(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0s"}, {0.0000005, "500ns"}, {0.00085, "850µs"}, {0.0123, "12.3ms"}, {0.012, "12ms"},
		{1.25, "1.25s"}, {125.4, "125s"}, {3600, "1h0m0s"}, {-0.002, "-2ms"},
	}
	for _, tt := range tests {
		if got := FormatSeconds(tt.in); got != tt.want {
			t.Errorf("FormatSeconds(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatPercent(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "100%"}, {0.999, "99.9%"}, {0.998999, "99.899%"}, {0.5, "50%"}, {0.65025, "65.025%"},
		{0.001, "0.1%"}, {0.001001, "0.1001%"}, {0.0005, "0.05%"}, {0, "0%"}, {-0.2, "-20%"},
	}
	for _, tt := range tests {
		if got := FormatPercent(tt.in); got != tt.want {
			t.Errorf("FormatPercent(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
