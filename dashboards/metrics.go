package dashboards

import (
	_ "embed"
	"sort"
	"strings"
)

// Metric names of the duckbench exporter (DESIGN.md, "Metric contract").
// Dashboards and rules refer to metrics only through these constants, so a
// rename in the contract is a change here and nowhere else.
const (
	// Redis probes.
	MetricRedisUp                   = "duckbench_redis_up"                                 // {node,role}
	MetricRedisReplicaLinkUp        = "duckbench_redis_replica_link_up"                    // {replica}
	MetricRedisOffsetLagBytes       = "duckbench_redis_replication_offset_lag_bytes"       // {replica}
	MetricRedisAckAgeSeconds        = "duckbench_redis_replication_ack_age_seconds"        // {replica}
	MetricRedisDelaySeconds         = "duckbench_redis_replication_delay_seconds"          // {replica}, gauge: newest heartbeat's delay, growing while none arrives
	MetricRedisKeyspaceHitsTotal    = "duckbench_redis_keyspace_hits_total"                // {node}
	MetricRedisKeyspaceMissesTotal  = "duckbench_redis_keyspace_misses_total"              // {node}
	MetricRedisKeyspaceHitRatio     = "duckbench_redis_keyspace_hit_ratio"                 // {node}
	MetricRedisDelayObservedSeconds = "duckbench_redis_replication_delay_observed_seconds" // {replica}, histogram: every heartbeat's delay

	// HAProxy probes (Runtime API "show stat").
	MetricHAProxyServerUp            = "duckbench_haproxy_server_up"                   // {backend,server}
	MetricHAProxyServerRequestsTotal = "duckbench_haproxy_server_requests_total"       // {backend,server}
	MetricHAProxyServerShareRatio    = "duckbench_haproxy_server_share_ratio"          // {backend,server}
	MetricHAProxyHTTPResponsesTotal  = "duckbench_haproxy_http_responses_total"        // {backend,server,code}
	MetricHAProxyCacheLookupsTotal   = "duckbench_haproxy_backend_cache_lookups_total" // {backend}
	MetricHAProxyCacheHitsTotal      = "duckbench_haproxy_backend_cache_hits_total"    // {backend}
	MetricHAProxyCacheHitRatio       = "duckbench_haproxy_backend_cache_hit_ratio"     // {backend}

	// Load generator.
	MetricLoadRequestsTotal   = "duckbench_load_requests_total"           // {code}
	MetricLoadRequestDuration = "duckbench_load_request_duration_seconds" // histogram
	// MetricLoadServerRequestDuration is the same per server that answered
	// (X-Served-By, client side).
	MetricLoadServerRequestDuration = "duckbench_load_server_request_duration_seconds" // {server}, histogram
	MetricLoadTargetRate            = "duckbench_load_target_rate"
	MetricLoadAchievedRate          = "duckbench_load_achieved_rate"

	// The exporter's own health.
	MetricProbeSuccess         = "duckbench_probe_success"          // {probe}
	MetricProbeDurationSeconds = "duckbench_probe_duration_seconds" // {probe}
)

// Histogram lists the contract metrics that are histograms: a query may use
// their _bucket, _sum and _count series.
var histograms = map[string]bool{
	MetricRedisDelayObservedSeconds: true,
	MetricLoadRequestDuration:       true,
	MetricLoadServerRequestDuration: true,
}

// ContractMetrics returns every metric name of the duckbench contract, sorted.
func ContractMetrics() []string {
	out := []string{
		MetricRedisUp, MetricRedisReplicaLinkUp, MetricRedisOffsetLagBytes,
		MetricRedisAckAgeSeconds, MetricRedisDelaySeconds, MetricRedisKeyspaceHitsTotal,
		MetricRedisKeyspaceMissesTotal, MetricRedisKeyspaceHitRatio, MetricRedisDelayObservedSeconds,
		MetricHAProxyServerUp, MetricHAProxyServerRequestsTotal, MetricHAProxyServerShareRatio,
		MetricHAProxyHTTPResponsesTotal, MetricHAProxyCacheLookupsTotal, MetricHAProxyCacheHitsTotal,
		MetricHAProxyCacheHitRatio,
		MetricLoadRequestsTotal, MetricLoadRequestDuration, MetricLoadServerRequestDuration, MetricLoadTargetRate, MetricLoadAchievedRate,
		MetricProbeSuccess, MetricProbeDurationSeconds,
	}
	sort.Strings(out)
	return out
}

//go:embed haproxy_metrics.txt
var haproxyMetricsTxt string

// HAProxyNativeMetrics returns the metric families that HAProxy 2.6's built-in
// exporter (http-request use-service prometheus-exporter) exposes, as captured
// from the Debian package in haproxy_metrics.txt, sorted.
func HAProxyNativeMetrics() []string {
	var out []string
	for _, line := range strings.Split(haproxyMetricsTxt, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// KnownMetric reports whether name is a series a query may select: a contract
// metric (with _bucket/_sum/_count for histograms), an HAProxy native metric,
// or one of extra (e.g. recording rule names).
func KnownMetric(name string, extra ...string) bool {
	for _, m := range ContractMetrics() {
		if name == m {
			return true
		}
		if histograms[m] {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if name == m+suffix {
					return true
				}
			}
		}
	}
	for _, m := range HAProxyNativeMetrics() {
		if name == m {
			return true
		}
	}
	for _, m := range extra {
		if name == m {
			return true
		}
	}
	return false
}
