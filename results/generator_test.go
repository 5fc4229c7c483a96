package results_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/resultstest"
)

// TestGeneratorShares: who is warned of, and when. The warning needs a
// generator above GeneratorShareWarn on the machine of the system under
// test: the local or compose runtime, a swarm task on this host, an agent
// on a node of the stack.
func TestGeneratorShares(t *testing.T) {
	over := results.NewGeneratorCost(4, 1, 10, 50000)   // 0.5 core
	at := results.NewGeneratorCost(2, 0.5, 10, 50000)   // 0.25 core: not above
	under := results.NewGeneratorCost(1, 0.2, 10, 5000) // 0.12 core
	swarmPlaced := map[string][]string{"haproxy": {"h1"}, "app1": {"h2", "h3"}, "redis-master": {"h3"}}
	for _, tc := range []struct {
		name string
		r    results.Result
		want []string // Who and Where of each share
	}{
		{"local above", results.Result{Runtime: "local", Summary: results.Summary{Generator: over}},
			[]string{"the load generator / runtime local"}},
		{"compose above", results.Result{Runtime: "compose", Summary: results.Summary{Generator: over}},
			[]string{"the load generator / runtime compose"}},
		{"local at the threshold", results.Result{Runtime: "local", Summary: results.Summary{Generator: at}}, nil},
		{"local under", results.Result{Runtime: "local", Summary: results.Summary{Generator: under}}, nil},
		{"older record without figures", results.Result{Runtime: "local"}, nil},
		{"no runtime (an outside stack)", results.Result{Summary: results.Summary{Generator: over}}, nil},
		{"swarm, stack elsewhere", results.Result{Runtime: "swarm", Host: results.HostInfo{Hostname: "h9"}, Placement: swarmPlaced,
			Summary: results.Summary{Generator: over}}, nil},
		{"swarm, a task on this host", results.Result{Runtime: "swarm", Host: results.HostInfo{Hostname: "h3"}, Placement: swarmPlaced,
			Summary: results.Summary{Generator: over}}, []string{"the load generator / this host runs app1, redis-master"}},
		{"agents: one on a stack node", results.Result{Runtime: "swarm", Host: results.HostInfo{Hostname: "h1"}, Placement: swarmPlaced,
			Summary: results.Summary{Generator: results.SumGenerators(true, over, over, over, under)},
			Agents: []results.AgentStats{
				{Index: 1, Node: "h1", Generator: over},  // the SUT's node
				{Index: 2, Node: "h4", Generator: over},  // a node of its own
				{Index: 3, Node: "", Generator: over},    // unknown node
				{Index: 4, Node: "h2", Generator: under}, // cheap
			}}, []string{"load agent 1 / its node h1 runs haproxy"}},
		{"agents: the coordinator's host does not count", results.Result{Runtime: "local",
			Summary: results.Summary{Generator: over},
			Agents:  []results.AgentStats{{Index: 1, Node: "h4", Generator: over}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, sh := range results.GeneratorShares(&tc.r) {
				got = append(got, sh.Who+" / "+sh.Where)
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("GeneratorShares() = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestGeneratorShareWarning: the warning names the share, the CPU, the
// machine's share and why it matters; the event is short.
func TestGeneratorShareWarning(t *testing.T) {
	r := &results.Result{Runtime: "local", Host: results.HostInfo{CPUs: 2}, Summary: results.Summary{
		Generator: results.NewGeneratorCost(4.5, 1.7, 10, 186000)}}
	sh := results.GeneratorShares(r)
	if len(sh) != 1 {
		t.Fatalf("GeneratorShares() = %v; want one", sh)
	}
	got := sh[0].Warning()
	want := "the load generator took 0.62 of a core (6.2s CPU over 10s, 31% of this 2-CPU machine) on the machine of the system under test (runtime local): " +
		"that CPU was taken from the stack, so a rate or capacity found here is lower than the stack's own by about that much (warned above 0.25 of a core)"
	if got != want {
		t.Errorf("Warning() =\n%s\nwant\n%s", got, want)
	}
	e := sh[0].Event(12.5)
	if e.Kind != "generator" || e.AtSeconds != 12.5 || !strings.Contains(e.Message, "took 0.62 of a core on the machine of the system under test (runtime local)") {
		t.Errorf("Event(12.5) = %+v", e)
	}
}

// TestSumGenerators: trials run one after the other (wall times add up,
// cores are the mean); agents run at once (cores add up).
func TestSumGenerators(t *testing.T) {
	a := results.NewGeneratorCost(1, 1, 10, 1000) // 0.2 core
	b := results.NewGeneratorCost(3, 1, 10, 3000) // 0.4 core
	if g := results.SumGenerators(false); g != nil {
		t.Errorf("SumGenerators() = %+v; want nil", g)
	}
	if g := results.SumGenerators(true, a, nil, b); g != nil {
		t.Errorf("SumGenerators(a, nil, b) = %+v; want nil (a part is not known)", g)
	}
	seq := results.SumGenerators(false, a, b)
	if want := (results.GeneratorCost{CPUSeconds: 6, UserSeconds: 4, SystemSeconds: 2, WallSeconds: 20, Cores: 0.3,
		Sent: 4000, RequestsPerCPUSecond: 4000.0 / 6}); *seq != want {
		t.Errorf("SumGenerators(trials) = %+v; want %+v", *seq, want)
	}
	con := results.SumGenerators(true, a, b)
	if want := (results.GeneratorCost{CPUSeconds: 6, UserSeconds: 4, SystemSeconds: 2, WallSeconds: 10, Cores: a.Cores + b.Cores,
		Sent: 4000, RequestsPerCPUSecond: 4000.0 / 6}); *con != want {
		t.Errorf("SumGenerators(agents) = %+v; want %+v", *con, want)
	}
	if z := results.NewGeneratorCost(0, 0, 0, 10); z.Cores != 0 || z.RequestsPerCPUSecond != 0 {
		t.Errorf("NewGeneratorCost(no time) = %+v; want zero ratios, not NaN or Inf", *z)
	}
}

// TestGeneratorBackwardCompat: records from before the generator figures
// (schema 1, and schema 3 without them) read with none and warn of
// nothing; a record with them keeps them through Marshal and Decode.
func TestGeneratorBackwardCompat(t *testing.T) {
	v1, err := results.Load(filepath.Join("testdata", "v1-result.json"))
	if err != nil {
		t.Fatalf("Load(v1-result.json) = %v", err)
	}
	old := resultstest.Fixture(t)
	old.Summary.Generator, old.Trials[0].Summary.Generator = nil, nil
	data, err := results.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(`"generator"`)) {
		t.Fatal("a record without generator figures marshals a generator key")
	}
	v3, err := results.Decode(data)
	if err != nil {
		t.Fatalf("Decode(schema 3 without generator) = %v", err)
	}
	for _, r := range []*results.Result{v1, v3} {
		if r.Summary.Generator != nil {
			t.Errorf("schema %d record: Summary.Generator = %+v; want nil", r.SchemaVersion, r.Summary.Generator)
		}
		if sh := results.GeneratorShares(r); len(sh) != 0 {
			t.Errorf("schema %d record: GeneratorShares() = %v; want none", r.SchemaVersion, sh)
		}
	}
	r := resultstest.Fixture(t)
	data, err = results.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := results.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if g, want := back.Summary.Generator, r.Summary.Generator; g == nil || *g != *want {
		t.Errorf("round trip: Summary.Generator = %+v; want %+v", g, want)
	}
	if g := back.Trials[0].Summary.Generator; g == nil {
		t.Error("round trip: the trial's generator figures are lost")
	}
}
