// Package dashboards holds duckbench's Grafana dashboards, written in Go with
// the Grafana Foundation SDK and generated into the committed JSON under
// json/, the Prometheus recording and alerting rules under rules/, and the
// provisioning files that wire Prometheus and Grafana to them.
//
// Every query a dashboard makes is listed by Queries, so tests can parse it
// and evaluate it against a Prometheus that scraped a real run.
package dashboards

//go:generate go run ./internal/gen -o json -readme README.md -prometheus provisioning/prometheus/prometheus.yml

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Dashboard is one generated dashboard.
type Dashboard struct {
	UID   string
	Title string
	// File is the JSON file name, e.g. "duckbench-overview.json".
	File string
	// JSON is the dashboard model, indented, ending in a newline.
	JSON []byte
}

// builders lists the dashboards in their display order.
var builders = []func() *dashboard.DashboardBuilder{overview, redis, haproxy, history}

// All builds every dashboard. The output is deterministic: the same code
// gives the same bytes.
func All() ([]Dashboard, error) {
	out := make([]Dashboard, 0, len(builders))
	for _, f := range builders {
		d, err := f().Build()
		if err != nil {
			return nil, fmt.Errorf("build dashboard: %w", err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("encode dashboard %q: %w", *d.Uid, err)
		}
		out = append(out, Dashboard{UID: *d.Uid, Title: *d.Title, File: *d.Uid + ".json", JSON: buf.Bytes()})
	}
	return out, nil
}

// Write writes every dashboard's JSON into dir (created if missing) and
// returns the paths written.
func Write(dir string) ([]string, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create dashboards dir: %w", err)
	}
	var paths []string
	for _, d := range all {
		p := filepath.Join(dir, d.File)
		if err := os.WriteFile(p, d.JSON, 0o644); err != nil {
			return nil, fmt.Errorf("write dashboard %q: %w", d.UID, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// Query is one PromQL query of one dashboard panel, as it appears in the JSON
// (template variables not yet substituted: see Expand).
type Query struct {
	Dashboard string // dashboard title
	UID       string // dashboard UID
	Panel     string // panel title
	RefID     string // "A", "B", …
	Legend    string
	Expr      string
}

// Queries returns every panel query of every dashboard of a live run (all
// but the history board: HistoryQueries), in dashboard and panel order. It
// reads them back from the generated JSON, so it lists exactly what Grafana
// will run.
func Queries() []Query { return queries(func(uid string) bool { return uid != UIDHistory }) }

// HistoryQueries returns the history board's panel queries (of the runs
// pushed to a Pushgateway).
func HistoryQueries() []Query { return queries(func(uid string) bool { return uid == UIDHistory }) }

func queries(keep func(uid string) bool) []Query {
	all, err := All()
	if err != nil {
		panic(err) // the dashboards are code: a build error is a bug caught by the tests
	}
	var out []Query
	for _, d := range all {
		if !keep(d.UID) {
			continue
		}
		qs, err := QueriesFromJSON(d.JSON)
		if err != nil {
			panic(err)
		}
		out = append(out, qs...)
	}
	return out
}

// QueriesFromJSON extracts the Prometheus queries of a dashboard JSON model.
func QueriesFromJSON(data []byte) ([]Query, error) {
	var m struct {
		UID    string      `json:"uid"`
		Title  string      `json:"title"`
		Panels []jsonPanel `json:"panels"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode dashboard: %w", err)
	}
	var out []Query
	var walk func(ps []jsonPanel)
	walk = func(ps []jsonPanel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				out = append(out, Query{Dashboard: m.Title, UID: m.UID, Panel: p.Title, RefID: t.RefID, Legend: t.LegendFormat, Expr: t.Expr})
			}
			walk(p.Panels) // collapsed rows hold their panels
		}
	}
	walk(m.Panels)
	return out, nil
}

type jsonPanel struct {
	Title   string `json:"title"`
	Targets []struct {
		RefID        string `json:"refId"`
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
	} `json:"targets"`
	Panels []jsonPanel `json:"panels"`
}

// DefaultVars are the values Expand gives the dashboards' template variables
// when evaluating queries outside Grafana: every job and instance, a one
// minute rate window, the default SLO.
func DefaultVars() map[string]string {
	return map[string]string{
		VarJob:        ".*",
		VarInstance:   ".*",
		VarHAProxyJob: ".*",
		VarSLOP99:     DefaultSLOP99,
		VarSpec:       ".*",
		VarRateWindow: "1m",
		"__interval":  "1m",
		"__range":     "15m",
		VarDatasource: DatasourceUID,
	}
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)`)

// Expand substitutes Grafana template variables ($name, ${name},
// ${name:format}) in expr with vars; DefaultVars fills the ones vars lacks. An
// unknown variable is an error.
func Expand(expr string, vars map[string]string) (string, error) {
	all := DefaultVars()
	for k, v := range vars {
		all[k] = v
	}
	var missing []string
	out := varRE.ReplaceAllStringFunc(expr, func(s string) string {
		m := varRE.FindStringSubmatch(s)
		name := m[1] + m[2]
		v, ok := all[name]
		if !ok {
			missing = append(missing, name)
			return s
		}
		return v
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", fmt.Errorf("expand %q: unknown variables %s", expr, strings.Join(missing, ", "))
	}
	return out, nil
}
