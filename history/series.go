// Package history is duckbench's memory across runs: the series of one
// metric over stored runs (results/<id>/result.json, filtered by spec and
// labels) or over the runs pushed to a Prometheus, its change points by
// E-Divisive means with a permutation test, and what changed between the
// runs on either side of each (spec fields, rendered files, labels).
package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// Metric is a figure of a run that history follows.
type Metric struct {
	Name string
	// Unit is "s" (shown in ms), "req/s" or "ratio".
	Unit string
	// HigherIsWorse says which direction is a regression.
	HigherIsWorse bool
	// Of reads the figure from a record (ok false: the run has none).
	Of func(r *results.Result) (v float64, ok bool)
	// Pushed is the Pushgateway series of the figure (pushgw names).
	Pushed string
}

// Metrics are the figures history can follow, by name.
var Metrics = map[string]Metric{
	"p50":        {Name: "p50", Unit: "s", HigherIsWorse: true, Of: latency(func(q results.Quantiles) float64 { return q.P50 }), Pushed: `duckbench_run_latency_seconds{quantile="0.5"}`},
	"p90":        {Name: "p90", Unit: "s", HigherIsWorse: true, Of: latency(func(q results.Quantiles) float64 { return q.P90 }), Pushed: `duckbench_run_latency_seconds{quantile="0.9"}`},
	"p99":        {Name: "p99", Unit: "s", HigherIsWorse: true, Of: latency(func(q results.Quantiles) float64 { return q.P99 }), Pushed: `duckbench_run_latency_seconds{quantile="0.99"}`},
	"max":        {Name: "max", Unit: "s", HigherIsWorse: true, Of: latency(func(q results.Quantiles) float64 { return q.Max }), Pushed: `duckbench_run_latency_seconds{quantile="1"}`},
	"throughput": {Name: "throughput", Unit: "req/s", Of: func(r *results.Result) (float64, bool) { return r.Summary.Throughput, r.Summary.Requests > 0 }, Pushed: "duckbench_run_throughput"},
	"success":    {Name: "success", Unit: "ratio", Of: func(r *results.Result) (float64, bool) { return r.Summary.SuccessRatio, r.Summary.Requests > 0 }, Pushed: "duckbench_run_success_ratio"},
	"capacity": {Name: "capacity", Unit: "req/s", Of: func(r *results.Result) (float64, bool) {
		if r.Capacity == nil {
			return 0, false
		}
		return r.Capacity.Rate, true
	}, Pushed: "duckbench_run_capacity_rate"},
}

// MetricNames are the keys of Metrics, sorted.
func MetricNames() []string {
	var ns []string
	for n := range Metrics {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func latency(f func(results.Quantiles) float64) func(*results.Result) (float64, bool) {
	return func(r *results.Result) (float64, bool) { return f(r.Summary.Latency), r.Summary.Success > 0 }
}

// Point is one run in a series.
type Point struct {
	Run      string            `json:"run"`
	Time     time.Time         `json:"time"`
	Value    float64           `json:"value"`
	Spec     string            `json:"spec"`
	SpecHash string            `json:"spec_hash"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Configs are the rendered files' hashes (stored runs only).
	Configs map[string]string `json:"-"`
	// specJSON is the run's canonical spec (stored runs that kept one).
	specJSON []byte
}

// Filter selects runs.
type Filter struct {
	// Spec is the spec name ("" for any); SpecHash a prefix of its hash.
	Spec, SpecHash string
	// Labels must all match.
	Labels map[string]string
	// Last keeps only the newest N runs (0: all).
	Last int
}

func (f Filter) match(spec, hash string, labels map[string]string) bool {
	if f.Spec != "" && spec != f.Spec || !strings.HasPrefix(hash, f.SpecHash) {
		return false
	}
	for k, v := range f.Labels {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// SpecFile is the canonical spec a run keeps beside its result.json, so
// that history can say which fields changed between two runs.
const SpecFile = "spec.json"

// FromResults reads the series of m over the completed runs under dir that
// f selects, oldest first.
func FromResults(dir string, m Metric, f Filter) ([]Point, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "result.json"))
	if err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", dir, err)
	}
	var pts []Point
	for _, path := range files {
		r, err := results.Load(path)
		if err != nil {
			return nil, err
		}
		if r.Status != results.StatusCompleted || !f.match(r.Spec.Name, r.Spec.Hash, r.Labels) {
			continue
		}
		v, ok := m.Of(r)
		if !ok {
			continue
		}
		p := Point{Run: r.ID, Time: r.StartedAt, Value: v, Spec: r.Spec.Name, SpecHash: r.Spec.Hash, Labels: r.Labels, Configs: r.Spec.ConfigHashes}
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), SpecFile)); err == nil {
			p.specJSON = b
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", SpecFile, err)
		}
		pts = append(pts, p)
	}
	return order(pts, f.Last), nil
}

func order(pts []Point, last int) []Point {
	sort.SliceStable(pts, func(i, j int) bool {
		if !pts[i].Time.Equal(pts[j].Time) {
			return pts[i].Time.Before(pts[j].Time)
		}
		return pts[i].Run < pts[j].Run
	})
	if last > 0 && len(pts) > last {
		pts = pts[len(pts)-last:]
	}
	return pts
}

// Changes says what changed from run a to run b: the spec's fields (when
// both kept their spec), the rendered files otherwise, and the labels.
func Changes(a, b Point) []string {
	var out []string
	if a.SpecHash != b.SpecHash {
		out = append(out, specChanges(a, b)...)
	}
	keys := map[string]bool{}
	for k := range a.Labels {
		keys[k] = true
	}
	for k := range b.Labels {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		if a.Labels[k] != b.Labels[k] {
			out = append(out, fmt.Sprintf("label %s: %s → %s", k, orNone(a.Labels[k]), orNone(b.Labels[k])))
		}
	}
	return out
}

func specChanges(a, b Point) []string {
	head := fmt.Sprintf("spec %s → %s", short(a.SpecHash), short(b.SpecHash))
	if a.specJSON != nil && b.specJSON != nil {
		var sa, sb spec.Spec
		if json.Unmarshal(a.specJSON, &sa) == nil && json.Unmarshal(b.specJSON, &sb) == nil {
			if cs, err := spec.Diff(&sa, &sb); err == nil && len(cs) > 0 {
				out := []string{head}
				for _, c := range cs {
					out = append(out, "  "+c.String())
				}
				return out
			}
		}
	}
	var files []string
	for name, h := range b.Configs {
		if a.Configs[name] != h {
			files = append(files, name)
		}
	}
	for name := range a.Configs {
		if _, ok := b.Configs[name]; !ok {
			files = append(files, name)
		}
	}
	sort.Strings(files)
	if len(files) > 0 {
		head += " (rendered files changed: " + strings.Join(files, ", ") + ")"
	}
	return []string{head}
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
