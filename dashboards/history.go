package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/duckbench/duckbench/export/pushgw"
)

// History board: the runs pushed with --pushgateway (scraped from the
// Pushgateway with honor_labels), one point per run at the run's time.
const (
	// UIDHistory is the history board's UID.
	UIDHistory = "duckbench-history"
	// VarSpec selects the spec(s) on the history board.
	VarSpec = "spec"
	// HistoryPointSeconds is how long after its start a run's figures are
	// drawn: the Pushgateway keeps every run's gauges forever, so each is
	// cut to a short segment at its own time to make a trend over runs.
	HistoryPointSeconds = 900
)

// perRun is a pushed gauge of the selected specs, drawn only near each
// run's start, one series per spec.
func perRun(series, agg string) string {
	name, inner, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
	if inner != "" {
		inner += ", "
	}
	selSpec := fmt.Sprintf(`%sspec=~"$spec", job=~"$job"`, inner)
	return fmt.Sprintf(`%s by (spec) (%s{%s} and on (run) (time() - %s{spec=~"$spec", job=~"$job"} < %d))`,
		agg, name, selSpec, pushgw.Timestamp, HistoryPointSeconds)
}

func points(p *timeseries.PanelBuilder) {
	p.ShowPoints(common.VisibilityModeAlways).PointSize(6)
}

// history is the "duckbench history" board: per spec, p50/p99, throughput,
// success and capacity over the pushed runs, with annotations at the
// change points `duckbench history --pushgateway` found and at the first
// run of every spec hash.
func history() *dashboard.DashboardBuilder {
	d := newBoard(UIDHistory, "duckbench history",
		"The runs pushed with --pushgateway, one point per run: p50/p99, throughput, success, capacity. Red annotations: change points found by `duckbench history --pushgateway`; grey: the first run of a new spec hash.",
		[]string{"history"}).vars()
	d.b.WithVariable(labelVar(VarSpec, "Spec", pushgw.Requests, "spec"))
	d.b.Time("now-30d", "now").Refresh("1m")
	anno := AnnotationQueries()
	d.b.Annotation(historyAnnotation("Change points", "red", anno[0],
		"{{history_metric}} {{change}} ({{direction}})", "first run after: {{after_run}}"))
	d.b.Annotation(historyAnnotation("Spec hash changes", "gray", anno[1],
		"spec {{spec}}: hash {{spec_hash}}", "first run of this spec hash"))

	d.row("Latency over runs")
	d.timeseries("p50 and p99 per run", "Latency of each run's successful requests (the report's HdrHistogram quantiles).",
		unitSeconds, fullWidth, []target{
			q(perRun(pushgw.Latency+`{quantile="0.5"}`, "max"), "{{spec}} p50"),
			q(perRun(pushgw.Latency+`{quantile="0.99"}`, "max"), "{{spec}} p99"),
		}, fromZero, points)
	d.row("Throughput and capacity over runs")
	d.timeseries("Throughput per run", "Successes per second of each run's attack window.",
		unitReqps, halfWidth, []target{q(perRun(pushgw.Throughput, "max"), "{{spec}}")}, fromZero, points)
	d.timeseries("Capacity per run", "The highest rate that met the SLO (duckbench capacity runs only).",
		unitReqps, halfWidth, []target{q(perRun(pushgw.Capacity, "max"), "{{spec}}")}, fromZero, points)
	d.timeseries("Success ratio per run", "Successes / requests of each run.",
		unitPercent, fullWidth, []target{q(perRun(pushgw.Success, "min"), "{{spec}}")}, ratioAxis, points)
	return d.b
}

func historyAnnotation(name, color, expr, title, text string) *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name(name).
		Datasource(dsRef()).
		Enable(true).
		IconColor(color).
		Target(prometheus.NewDataqueryBuilder().Expr(expr).RefId("Anno")).
		Expr(expr).
		UseValueForTime(true).
		Step("60s").
		TitleFormat(title).
		TextFormat(text).
		TagKeys("spec")
}

// AnnotationQueries are the history board's annotation queries: the
// change points, and the first run of every spec hash (times in ms, as
// Grafana's "use value for time" wants).
func AnnotationQueries() []string {
	return []string{
		fmt.Sprintf(`%s{spec=~"$spec", job=~"$job"} * 1000`, pushgw.ChangePointAt),
		fmt.Sprintf(`min by (spec, spec_hash) (%s{spec=~"$spec", job=~"$job"}) * 1000`, pushgw.Timestamp),
	}
}
