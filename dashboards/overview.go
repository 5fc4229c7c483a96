package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// UIDs of the generated dashboards. They are stable: links and provisioning
// refer to them.
const (
	UIDOverview    = "duckbench-overview"
	UIDRedis       = "duckbench-redis-replication"
	UIDHAProxy     = "duckbench-haproxy-backends"
	successCodes   = `code=~"[23].."`
	errorCodes     = `code!~"[23].."`
	latencyBuckets = MetricLoadRequestDuration + "_bucket"
)

// latencyQuantile is the q-quantile of request latency over the rate window:
// from the native histogram where Prometheus ingests it (buckets 1.1 %
// apart; `--enable-feature=native-histograms`, which then drops the classic
// series), else from the classic buckets (×1.25 apart).
func latencyQuantile(q float64) string {
	return fmt.Sprintf(`histogram_quantile(%g, sum(rate(%s{%s}[%s]))) or histogram_quantile(%g, sum by (le) (rate(%s{%s}[%s])))`,
		q, MetricLoadRequestDuration, sel, rateWin, q, latencyBuckets, sel, rateWin)
}

// overview is the "duckbench overview" dashboard: is the generator keeping up,
// how fast are answers, how many fail.
func overview() *dashboard.DashboardBuilder {
	d := newBoard(UIDOverview, "duckbench overview",
		"Load generated through HAProxy by duckbench: target vs achieved rate, latency against the SLO, errors, generator saturation.",
		[]string{"load"}).vars()
	d.b.WithVariable(dashboard.NewTextBoxVariableBuilder(VarSLOP99).
		Label("SLO p99 (s)").
		Description("p99 latency objective drawn on the latency panel, in seconds (the spec's slo.p99).").
		DefaultValue(dashboard.StringOrMap{String: cog.ToPtr(DefaultSLOP99)}).
		Current(option(DefaultSLOP99, DefaultSLOP99)))

	reqs := func(extra string) string {
		if extra != "" {
			extra = ", " + extra
		}
		return fmt.Sprintf(`sum(rate(%s{%s%s}[%s]))`, MetricLoadRequestsTotal, sel, extra, rateWin)
	}

	d.row("Summary")
	d.stat("Achieved rate", "Requests per second the generator reports achieving.", unitReqps, quarterWidth,
		[]target{q(fmt.Sprintf(`sum(%s{%s})`, MetricLoadAchievedRate, sel), "achieved")},
		func(p *stat.PanelBuilder) {
			p.ColorMode(common.BigValueColorModeNone).GraphMode(common.BigValueGraphModeArea)
		})
	d.stat("Success ratio", "Share of 2xx/3xx responses over the rate window.", unitPercent, quarterWidth,
		[]target{q(fmt.Sprintf(`(%s or vector(0)) / %s`, reqs(successCodes), reqs("")), "success")},
		func(p *stat.PanelBuilder) {
			p.Decimals(3).Thresholds(thresholds("red", 0.99, "orange", 0.999, "green"))
		})
	d.stat("p99 latency", "99th percentile of request latency over the rate window.", unitSeconds, quarterWidth,
		[]target{q(latencyQuantile(0.99), "p99")},
		func(p *stat.PanelBuilder) {
			p.ColorMode(common.BigValueColorModeNone).GraphMode(common.BigValueGraphModeArea)
		})
	d.stat("Generator saturation", "Achieved / target rate. Below 1 the generator (or the stack) cannot keep up: results under-report latency.",
		unitPercent, quarterWidth,
		[]target{q(fmt.Sprintf(`sum(%s{%s}) / sum(%s{%s})`, MetricLoadAchievedRate, sel, MetricLoadTargetRate, sel), "achieved / target")},
		func(p *stat.PanelBuilder) { p.Thresholds(thresholds("red", 0.9, "orange", 0.98, "green")) })

	d.row("Rate")
	d.timeseries("Target vs achieved rate",
		"The pacer's target, the rate the generator reports achieving, and the completed-request rate counted from responses.",
		unitReqps, halfWidth, []target{
			q(fmt.Sprintf(`sum by (instance) (%s{%s})`, MetricLoadTargetRate, sel), "target {{instance}}"),
			q(fmt.Sprintf(`sum by (instance) (%s{%s})`, MetricLoadAchievedRate, sel), "achieved {{instance}}"),
			q(fmt.Sprintf(`sum by (instance) (rate(%s{%s}[%s]))`, MetricLoadRequestsTotal, sel, rateWin), "completed {{instance}}"),
		}, fromZero)
	d.timeseries("Generator saturation (achieved / target)",
		"Below the dashed line (90%) the generator or the stack is saturated.",
		unitPercent, halfWidth, []target{
			q(fmt.Sprintf(`sum by (instance) (%s{%s}) / sum by (instance) (%s{%s})`,
				MetricLoadAchievedRate, sel, MetricLoadTargetRate, sel), "{{instance}}"),
		}, fromZero, func(p *timeseries.PanelBuilder) {
			p.Thresholds(thresholds("red", 0.9, "green")).
				ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
		})

	d.row("Latency")
	d.timeseries("Latency quantiles",
		"Quantiles of duckbench_load_request_duration_seconds over the rate window. The dashed red line is the SLO p99 (dashboard variable slo_p99).",
		unitSeconds, fullWidth, []target{
			q(latencyQuantile(0.5), "p50"),
			q(latencyQuantile(0.9), "p90"),
			q(latencyQuantile(0.99), "p99"),
			q(latencyQuantile(0.999), "p99.9"),
			q(`vector($`+VarSLOP99+`)`, "SLO p99"),
		}, fromZero, dashedRed("SLO p99"))
	d.timeseries("p99 latency per server",
		"99th percentile of request latency by the server that answered, client side (X-Served-By, which HAProxy sets to the server's name; \"(unattributed)\": no server named). HAProxy itself only averages over its last 1,024 requests.",
		unitSeconds, fullWidth, []target{
			q(fmt.Sprintf(`histogram_quantile(0.99, sum by (server) (rate(%s{%s}[%s]))) or histogram_quantile(0.99, sum by (server, le) (rate(%s_bucket{%s}[%s])))`,
				MetricLoadServerRequestDuration, sel, rateWin, MetricLoadServerRequestDuration, sel, rateWin), "{{server}}"),
		}, fromZero)

	d.row("Errors")
	d.timeseries("Responses by code",
		"Completed requests per second by status code; code 0 means no HTTP response (connection error, timeout). Non-2xx/3xx in red.",
		unitReqps, halfWidth, []target{
			q(fmt.Sprintf(`sum by (code) (rate(%s{%s}[%s]))`, MetricLoadRequestsTotal, sel, rateWin), "{{code}}"),
		}, fromZero, redMatching(`^[^23].*`))
	d.timeseries("Error ratio",
		"Share of responses that are not 2xx/3xx over the rate window.",
		unitPercent, halfWidth, []target{
			q(fmt.Sprintf(`(%s or vector(0)) / %s`, reqs(errorCodes), reqs("")), "error ratio"),
		}, fromZero)

	d.row("Exporter")
	d.stat("Probe success", "Whether each duckbench probe's last scrape succeeded.", unitNone, halfWidth,
		[]target{q(fmt.Sprintf(`max by (probe) (%s{%s})`, MetricProbeSuccess, sel), "{{probe}}")},
		func(p *stat.PanelBuilder) {
			p.Mappings(okFailMappings()).Thresholds(thresholds("red", 1.0, "green"))
		}, tall)
	d.timeseries("Probe duration", "How long each probe's last scrape took.", unitSeconds, halfWidth,
		[]target{q(fmt.Sprintf(`max by (probe) (%s{%s})`, MetricProbeDurationSeconds, sel), "{{probe}}")}, fromZero)
	return d.b
}

// okFailMappings shows probe success as OK/FAIL.
func okFailMappings() []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": {Text: cog.ToPtr("FAIL"), Color: cog.ToPtr("red"), Index: cog.ToPtr(int32(0))},
			"1": {Text: cog.ToPtr("OK"), Color: cog.ToPtr("green"), Index: cog.ToPtr(int32(1))},
		},
	}}}
}
