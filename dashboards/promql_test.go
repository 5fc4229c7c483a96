package dashboards

import (
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// metricsOf parses expr (template variables expanded with DefaultVars) with
// Prometheus' parser and returns the metric names it selects, sorted. A
// selector without a fixed metric name (e.g. {__name__=~"..."}) is an error:
// nothing could check that such a query selects a known metric.
func metricsOf(expr string) ([]string, error) {
	expanded, err := Expand(expr, nil)
	if err != nil {
		return nil, err
	}
	node, err := parser.NewParser(parser.Options{}).ParseExpr(expanded)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", expanded, err)
	}
	set := map[string]bool{}
	var selErr error
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
		}
		if name == "" {
			selErr = fmt.Errorf("selector %s in %q has no fixed metric name", vs, expanded)
			return nil
		}
		set[name] = true
		return nil
	})
	if selErr != nil {
		return nil, selErr
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}
