package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Template variable names used in the queries.
const (
	VarDatasource  = "datasource"
	VarJob         = "job"
	VarInstance    = "instance"
	VarHAProxyJob  = "haproxy_job"
	VarSLOP99      = "slo_p99"
	VarRateWindow  = "__rate_interval" // Grafana built-in
	DatasourceUID  = "duckbench-prometheus"
	DatasourceName = "Prometheus (duckbench)"
)

// DefaultSLOP99 is the overview's SLO p99 line (seconds) until the user types
// another value into the dashboard's "SLO p99" box.
const DefaultSLOP99 = "0.25"

// Grafana unit identifiers.
const (
	unitSeconds  = "s"
	unitReqps    = "reqps"
	unitBytes    = "bytes"
	unitPercent  = "percentunit"
	unitNone     = "none"
	unitOpsPerS  = "ops"
	unitUpDown   = "none"
	panelHeight  = 8
	statHeight   = 5
	fullWidth    = 24
	halfWidth    = 12
	thirdWidth   = 8
	quarterWidth = 6
)

// Selectors for the duckbench exporter and HAProxy's own exporter, with the
// template variables applied.
const (
	sel        = `job=~"$job", instance=~"$instance"`
	selHAProxy = `job=~"$haproxy_job"`
	rateWin    = `$__rate_interval`
)

// dsRef points panels and queries at the dashboard's datasource variable.
func dsRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + VarDatasource + "}")}
}

// target is one PromQL query of a panel.
type target struct {
	expr   string
	legend string
}

// q is shorthand for a target.
func q(expr, legend string) target { return target{expr: expr, legend: legend} }

// board accumulates one dashboard: rows and panels placed left to right.
type board struct {
	b      *dashboard.DashboardBuilder
	nextID uint32
}

func newBoard(uid, title, description string, tags []string) *board {
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(append([]string{"duckbench"}, tags...)).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("10s").
		Time("now-15m", "now").
		Timezone(common.TimeZoneBrowser).
		Version(1)
	return &board{b: b, nextID: 1}
}

func (d *board) id() uint32 {
	id := d.nextID
	d.nextID++
	return id
}

// vars adds the datasource variable and the job/instance variables of the
// duckbench exporter.
func (d *board) vars() *board {
	d.b.WithVariable(dashboard.NewDatasourceVariableBuilder(VarDatasource).
		Label("Datasource").
		Type("prometheus").
		Current(option(DatasourceName, DatasourceUID)))
	d.b.WithVariable(labelVar(VarJob, "Job", `{__name__=~"duckbench_.+"}`, "job"))
	d.b.WithVariable(labelVar(VarInstance, "Instance", `{__name__=~"duckbench_.+", job=~"$job"}`, "instance"))
	return d
}

func option(text, value string) dashboard.VariableOption {
	return dashboard.VariableOption{
		Selected: cog.ToPtr(true),
		Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(text)},
		Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(value)},
	}
}

// labelVar is a multi-value "All"-able variable over a label's values.
func labelVar(name, label, selector, labelName string) *dashboard.QueryVariableBuilder {
	query := fmt.Sprintf("label_values(%s, %s)", selector, labelName)
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(dsRef()).
		Query(dashboard.StringOrMap{Map: map[string]any{
			"qryType": 1,
			"query":   query,
			"refId":   "PrometheusVariableQueryEditor-VariableQuery",
		}}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(option("All", "$__all"))
}

func (d *board) row(title string) *board {
	d.b.WithRow(dashboard.NewRowBuilder(title).Id(d.id()))
	return d
}

func (d *board) queries(targets []target) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(targets))
	for i, t := range targets {
		qb := prometheus.NewDataqueryBuilder().
			Datasource(dsRef()).
			Expr(t.expr).
			RefId(string(rune('A' + i))).
			Range()
		if t.legend != "" {
			qb.LegendFormat(t.legend)
		}
		out = append(out, qb)
	}
	return out
}

// tsOpt tweaks a time series panel.
type tsOpt func(*timeseries.PanelBuilder)

// timeseries adds a time series panel of width w.
func (d *board) timeseries(title, desc, unit string, w uint32, targets []target, opts ...tsOpt) *board {
	p := timeseries.NewPanelBuilder().
		Id(d.id()).
		Title(title).
		Description(desc).
		Datasource(dsRef()).
		Unit(unit).
		Span(w).
		Height(panelHeight).
		Targets(d.queries(targets)).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(false)}).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
	for _, o := range opts {
		o(p)
	}
	d.b.WithPanel(p)
	return d
}

// statOpt tweaks a stat panel.
type statOpt func(*stat.PanelBuilder)

// stat adds a stat panel (last value of each series) of width w.
func (d *board) stat(title, desc, unit string, w uint32, targets []target, opts ...statOpt) *board {
	p := stat.NewPanelBuilder().
		Id(d.id()).
		Title(title).
		Description(desc).
		Datasource(dsRef()).
		Unit(unit).
		Span(w).
		Height(statHeight).
		Targets(d.queries(targets)).
		Orientation(common.VizOrientationAuto).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(common.NewReduceDataOptionsBuilder().
			Calcs([]string{"lastNotNull"}).
			Values(false))
	for _, o := range opts {
		o(p)
	}
	d.b.WithPanel(p)
	return d
}

// thresholds builds absolute threshold steps: base color, then value/color pairs.
func thresholds(base string, steps ...any) *dashboard.ThresholdsConfigBuilder {
	list := []dashboard.Threshold{{Value: nil, Color: base}}
	for i := 0; i+1 < len(steps); i += 2 {
		v := steps[i].(float64)
		list = append(list, dashboard.Threshold{Value: cog.ToPtr(v), Color: steps[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(list)
}

// upDownMappings shows 1/0 gauges as UP/DOWN.
func upDownMappings() []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": {Text: cog.ToPtr("DOWN"), Color: cog.ToPtr("red"), Index: cog.ToPtr(int32(0))},
			"1": {Text: cog.ToPtr("UP"), Color: cog.ToPtr("green"), Index: cog.ToPtr(int32(1))},
		},
	}}}
}

// tall makes a stat panel as tall as the time series next to it.
func tall(p *stat.PanelBuilder) { p.Height(panelHeight) }

// ratioAxis pins a ratio panel to 0–1.
func ratioAxis(p *timeseries.PanelBuilder) { p.Min(0).Max(1) }

// fromZero starts the y axis at 0.
func fromZero(p *timeseries.PanelBuilder) { p.Min(0) }

// dashedRed draws the series named name as a dashed red line without fill:
// the look of a threshold, for a threshold that is itself a query.
func dashedRed(name string) tsOpt {
	return func(p *timeseries.PanelBuilder) {
		p.OverrideByName(name, []dashboard.DynamicConfigValue{
			{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}},
			{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
			{Id: "custom.fillOpacity", Value: 0},
			{Id: "custom.lineWidth", Value: 2},
		})
	}
}

// redMatching colours series whose display name matches re in red.
func redMatching(re string) tsOpt {
	return func(p *timeseries.PanelBuilder) {
		p.OverrideByRegexp(re, []dashboard.DynamicConfigValue{
			{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}},
		})
	}
}

// joinLines joins PromQL fragments on one line; it keeps long expressions
// readable in Go without putting newlines into the JSON.
func joinLines(parts ...string) string { return strings.Join(parts, " ") }
