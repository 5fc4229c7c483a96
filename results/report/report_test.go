package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/resultstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, resultstest.LoadFixture(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

// agentsFixture is the fixture as a sharded run with one agent missing.
func agentsFixture(t *testing.T) *results.Result {
	r := resultstest.LoadFixture(t)
	r.Status, r.Error = results.StatusIncomplete, "1 of 3 load agents left out: agent 2: task failed: task: non-zero exit (137)"
	r.Agents = []results.AgentStats{
		{Index: 1, Status: results.AgentOK, PlannedRequests: 800, Requests: 800, Success: 800, TargetRate: 100, AchievedRate: 99.8,
			MaxScheduleLagSeconds: 0.0364, LatencyP99: 0.0315, ClockOffsetSeconds: -0.0174,
			Generator: results.NewGeneratorCost(0.021, 0.008, 8.02, 800)},
		{Index: 2, Status: results.AgentMissing, Error: "task failed: task: non-zero exit (137)", PlannedRequests: 800},
		{Index: 3, Status: results.AgentOK, PlannedRequests: 800, Requests: 800, Success: 800, TargetRate: 100, AchievedRate: 99.5,
			MaxScheduleLagSeconds: 0.2, GeneratorSaturated: true, LatencyP99: 0.047, ClockOffsetSeconds: 0.0012,
			Generator: results.NewGeneratorCost(0.034, 0.011, 8.04, 800)},
	}
	r.Summary.Generator = results.SumGenerators(true, r.Agents[0].Generator, r.Agents[2].Generator)
	return r
}

func TestWriteTextAgents(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, agentsFixture(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

func TestWriteHTMLAgents(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, agentsFixture(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".html"), buf.Bytes(), *update)
}

func TestWriteTextSaturatedInterrupted(t *testing.T) {
	r := &results.Result{SchemaVersion: 1, ID: "x", Status: "interrupted", Error: "signal: interrupt", GeneratorSaturated: true,
		Plan: results.LoadPlan{Rate: -1}, Summary: results.Summary{Requests: 10, Success: 10, SuccessRatio: 1}}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"WARNING: the load generator could not keep up", "WARNING: run interrupted: signal: interrupt", "max"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("WriteText output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestWriteHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, resultstest.LoadFixture(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"http://", "https://", "<script", "NaN", "Inf"} {
		if bad == "http://" {
			out2 := strings.ReplaceAll(out, `xmlns="http://www.w3.org/2000/svg"`, "")
			if strings.Contains(out2, bad) {
				t.Errorf("report references %q: it must be self-contained", bad)
			}
			continue
		}
		if strings.Contains(out, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".html"), buf.Bytes(), *update)
}

func TestWriteHTMLCapacityAndEmpty(t *testing.T) {
	r := resultstest.LoadFixture(t)
	r.Capacity = &results.Capacity{SLO: "p99<20ms", Rate: 1800, LowGood: 1800, HighBad: 2000, Steps: []results.CapacityStep{
		{Rate: 250, Outcome: "pass", Summary: results.Summary{Rate: 250, SuccessRatio: 1, Latency: results.Quantiles{P99: 0.004}}},
		{Rate: 500, Outcome: "pass", Summary: results.Summary{Rate: 500, SuccessRatio: 1, Latency: results.Quantiles{P99: 0.005}}},
		{Rate: 1000, Outcome: "pass", Summary: results.Summary{Rate: 1000, SuccessRatio: 1, Latency: results.Quantiles{P99: 0.008}}},
		{Rate: 2000, Outcome: "fail", Summary: results.Summary{Rate: 1950, SuccessRatio: 0.97, Latency: results.Quantiles{P99: 0.06}}},
		{Rate: 1500, Outcome: "pass", Summary: results.Summary{Rate: 1500, SuccessRatio: 1, Latency: results.Quantiles{P99: 0.011}}},
		{Rate: 1800, Outcome: "pass", Summary: results.Summary{Rate: 1800, SuccessRatio: 0.999, Latency: results.Quantiles{P99: 0.017}}},
	}}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `id="capacity-p99"`) {
		t.Error("report lacks the capacity chart")
	}
	writeArtifact(t, "report-capacity.html", buf.Bytes())
	// An empty record still renders.
	buf.Reset()
	if err := WriteHTML(&buf, &results.Result{SchemaVersion: 1}); err != nil {
		t.Fatalf("WriteHTML(empty): %v", err)
	}
	if !strings.Contains(buf.String(), "no timeline") {
		t.Error("empty report lacks its 'no timeline' placeholder")
	}
}

// artifactDir is $DUCKBENCH_ARTIFACTS when set, else a test temp dir.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("DUCKBENCH_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func writeArtifact(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWriteTextServers: a record from before per-server latency keeps its
// App Share line; a record with only unattributed responses shows no table
// (nothing to tell apart); a record with servers shows the table, with "-"
// for a bucket without successes.
func TestWriteTextServers(t *testing.T) {
	old := &results.Result{SchemaVersion: 2, ID: "old", Summary: results.Summary{Requests: 10, Success: 10, SuccessRatio: 1},
		AppShare: map[string]float64{"app1": 0.5, "app2": 0.5}}
	onlyNone := &results.Result{SchemaVersion: 2, ID: "none", Summary: results.Summary{Requests: 10, Success: 10, SuccessRatio: 1},
		Servers: []results.ServerLatency{{Server: results.Unattributed, Summary: results.Summary{Requests: 10, Success: 10, SuccessRatio: 1}}}}
	withServers := &results.Result{SchemaVersion: 2, ID: "new", Summary: results.Summary{Requests: 10, Success: 8, SuccessRatio: 0.8},
		AppShare: map[string]float64{"app1": 1},
		Servers: []results.ServerLatency{
			{Server: "app1", Summary: results.Summary{Requests: 8, Success: 8, SuccessRatio: 1, Latency: results.Quantiles{P50: 0.002, P99: 0.004, Max: 0.005}}},
			{Server: results.Unattributed, Summary: results.Summary{Requests: 2, Errors: 2}},
		}}
	for _, tc := range []struct {
		r            *results.Result
		want, banned []string
	}{
		{old, []string{"App Share     [app:share]                                app1:50% app2:50%"}, []string{"Servers ("}},
		{onlyNone, nil, []string{"Servers (", "App Share"}},
		{withServers, []string{"Servers (client side", "app1            8         80%    100%     2ms  4ms  5ms", "(unattributed)  2         20%    0%       -    -    -"}, []string{"App Share"}},
	} {
		var buf bytes.Buffer
		if err := WriteText(&buf, tc.r); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("WriteText(%s) lacks %q:\n%s", tc.r.ID, w, buf.String())
			}
		}
		for _, b := range tc.banned {
			if strings.Contains(buf.String(), b) {
				t.Errorf("WriteText(%s) has %q:\n%s", tc.r.ID, b, buf.String())
			}
		}
	}
}
