package history

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// writeRun stores a completed run with p99 v, spec s and labels under dir.
func writeRun(t *testing.T, dir, id string, at time.Time, v float64, s *spec.Spec, labels map[string]string) {
	t.Helper()
	r := &results.Result{SchemaVersion: results.SchemaVersion, ID: id, StartedAt: at, EndedAt: at.Add(time.Second),
		Status: results.StatusCompleted, Labels: labels, Runtime: "local",
		Spec:    results.SpecInfo{Name: s.Name, Hash: s.Hash(), ConfigHashes: map[string]string{"haproxy.cfg": s.Hash()[:8]}},
		Summary: results.Summary{Requests: 100, Success: 100, SuccessRatio: 1, Throughput: 50, Latency: results.Quantiles{P99: v}}}
	if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteFile(filepath.Join(dir, id, "result.json"), r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, id, SpecFile), spec.Canonical(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func seedSpec(t *testing.T, originCost time.Duration) *spec.Spec {
	t.Helper()
	s, err := spec.Load("../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Apps {
		s.Apps[i].OriginCost = spec.Duration(originCost)
	}
	return s
}

// TestFromResultsAndChanges stores 20 runs whose spec's origin cost and
// commit label change at run 11, with p99 stepping 10 → 13 ms, and wants
// the change point there, with the spec field and the label named.
func TestFromResultsAndChanges(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		cost, p99, commit := 10*time.Millisecond, 0.010, "aaa"
		if i >= 10 {
			cost, p99, commit = 13*time.Millisecond, 0.013, "bbb"
		}
		p99 *= 1 + 0.01*float64(i%3)
		writeRun(t, dir, "run-"+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Hour), p99, seedSpec(t, cost), map[string]string{"commit": commit, "branch": "main"})
	}
	writeRun(t, dir, "other", t0, 1, &spec.Spec{Name: "other"}, nil)
	pts, err := FromResults(dir, Metrics["p99"], Filter{Spec: "seed", Labels: map[string]string{"branch": "main"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 20 {
		t.Fatalf("FromResults: %d points; want 20 (the other spec filtered out)", len(pts))
	}
	a, err := Analyze(pts, Metrics["p99"], DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.ChangePoints) != 1 || a.ChangePoints[0].Index != 10 {
		t.Fatalf("change points = %+v; want one at index 10", a.ChangePoints)
	}
	cp := a.ChangePoints[0]
	changed := strings.Join(cp.Changed, "\n")
	for _, want := range []string{"origin_cost: 10ms → 13ms", "label commit: aaa → bbb"} {
		if !strings.Contains(changed, want) {
			t.Errorf("Changed = %q; want it to name %q", changed, want)
		}
	}
	if !cp.Regression || !a.NewestRegression || cp.Change < 0.25 || cp.Change > 0.35 {
		t.Errorf("change point %+v; want a regression of about +30 %%", cp)
	}
}
