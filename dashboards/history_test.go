package dashboards

import (
	"strings"
	"testing"

	"github.com/duckbench/duckbench/export/pushgw"
)

// TestHistoryQueries parses every query of the history board with
// Prometheus' parser and wants it to select only the pushed run metrics.
func TestHistoryQueries(t *testing.T) {
	pushed := map[string]bool{pushgw.Latency: true, pushgw.Throughput: true, pushgw.Capacity: true, pushgw.Success: true,
		pushgw.Timestamp: true, pushgw.ChangePointAt: true}
	exprs := AnnotationQueries()
	for _, q := range HistoryQueries() {
		exprs = append(exprs, q.Expr)
	}
	if len(exprs) < 7 {
		t.Fatalf("history board: %d queries; want its 5 panel queries and 2 annotations", len(exprs))
	}
	for _, e := range exprs {
		names, err := metricsOf(e)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, n := range names {
			if !pushed[n] {
				t.Errorf("%s selects %s, which --pushgateway does not push", e, n)
			}
		}
	}
	for _, q := range Queries() {
		if strings.Contains(q.Expr, "duckbench_run_") {
			t.Errorf("live-run board %s queries a pushed metric: %s", q.Dashboard, q.Expr)
		}
	}
}
