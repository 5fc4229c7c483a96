package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
)

// delayQuantile is the q-quantile of the heartbeats' replication delay per
// replica over the rate window.
func delayQuantile(q float64) string {
	return fmt.Sprintf(`histogram_quantile(%g, sum by (replica, le) (rate(%s_bucket{%s}[%s])))`,
		q, MetricRedisDelayObservedSeconds, sel, rateWin)
}

// perReplica is a gauge's value per replica.
func perReplica(metric string) string {
	return fmt.Sprintf(`max by (replica) (%s{%s})`, metric, sel)
}

// redis is the "Redis replication" dashboard: do the replicas keep up.
func redis() *dashboard.DashboardBuilder {
	d := newBoard(UIDRedis, "Redis replication",
		"Redis master/replica health from duckbench's probes: heartbeat propagation delay, offset lag, ACK age, link status, keyspace hit ratio.",
		[]string{"redis"}).vars()

	d.row("Status")
	d.stat("Replica link", "master_link_status of each replica (1 = up).", unitNone, halfWidth,
		[]target{q(perReplica(MetricRedisReplicaLinkUp), "{{replica}}")},
		func(p *stat.PanelBuilder) { p.Mappings(upDownMappings()).Thresholds(thresholds("red", 1.0, "green")) })
	d.stat("Redis up", "Whether each node answered the probe's INFO.", unitNone, halfWidth,
		[]target{q(fmt.Sprintf(`max by (node, role) (%s{%s})`, MetricRedisUp, sel), "{{node}} ({{role}})")},
		func(p *stat.PanelBuilder) { p.Mappings(upDownMappings()).Thresholds(thresholds("red", 1.0, "green")) })

	d.row("Propagation delay")
	d.timeseries("Propagation delay per replica (last heartbeat)",
		"Time from publishing a heartbeat on the master to its delivery to a subscriber on the replica, measured by one process with one clock. While no heartbeat arrives (link down, replica stopped) it grows with the age of the oldest undelivered one.",
		unitSeconds, halfWidth, []target{q(perReplica(MetricRedisDelaySeconds), "{{replica}}")}, fromZero)
	d.timeseries("Propagation delay quantiles",
		"p50 and p99 of every heartbeat's delay per replica over the rate window (from "+MetricRedisDelayObservedSeconds+"; a heartbeat never delivered counts until the next one arrived).",
		unitSeconds, halfWidth, []target{
			q(delayQuantile(0.5), "{{replica}} p50"),
			q(delayQuantile(0.99), "{{replica}} p99"),
		}, fromZero)

	d.row("Replication stream")
	d.timeseries("Offset lag",
		"Bytes of the replication stream the replica has not acknowledged yet (master_repl_offset - replica offset). Replicas ACK once a second, so this shows up to a second of writes even on a replica that is not behind: a volume, not a delay.",
		unitBytes, halfWidth, []target{q(perReplica(MetricRedisOffsetLagBytes), "{{replica}}")}, fromZero)
	d.timeseries("ACK age",
		"INFO's lag field: seconds since the replica's last ACK (normally 0-1). An age, not a propagation delay.",
		unitSeconds, halfWidth, []target{q(perReplica(MetricRedisAckAgeSeconds), "{{replica}}")}, fromZero)

	d.row("Keyspace")
	d.timeseries("Keyspace hit ratio per node",
		"keyspace_hits / (hits + misses): since the node started (probe gauge) and over the rate window.",
		unitPercent, halfWidth, []target{
			q(fmt.Sprintf(`max by (node) (%s{%s})`, MetricRedisKeyspaceHitRatio, sel), "{{node}} since start"),
			q(fmt.Sprintf(`sum by (node) (rate(%[1]s{%[3]s}[%[4]s])) / (sum by (node) (rate(%[1]s{%[3]s}[%[4]s])) + sum by (node) (rate(%[2]s{%[3]s}[%[4]s])))`,
				MetricRedisKeyspaceHitsTotal, MetricRedisKeyspaceMissesTotal, sel, rateWin), "{{node}} window"),
		}, ratioAxis)
	d.timeseries("Keyspace lookups per node", "Key lookups per second that hit and missed, per node.",
		unitOpsPerS, halfWidth, []target{
			q(fmt.Sprintf(`sum by (node) (rate(%s{%s}[%s]))`, MetricRedisKeyspaceHitsTotal, sel, rateWin), "{{node}} hits"),
			q(fmt.Sprintf(`sum by (node) (rate(%s{%s}[%s]))`, MetricRedisKeyspaceMissesTotal, sel, rateWin), "{{node}} misses"),
		}, fromZero)
	return d.b
}
