package agents

import (
	"testing"
	"time"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// TestMergeGeneratorCost: the merged record's generator cost is the sum of
// the merged agents' (CPU, requests, cores: they ran at once), each agent
// keeps its own, and an agent left out of the merge is in neither sum.
func TestMergeGeneratorCost(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	p := Plan{Workload: spec.Workload{Rate: 30}, Agents: 3, Duration: 10 * time.Second, Target: "http://x", Start: t0}
	costs := []*results.GeneratorCost{
		results.NewGeneratorCost(1.5, 0.5, 10, 2),  // 2 CPU-s, 0.2 core
		results.NewGeneratorCost(3, 1, 10.5, 3),    // 4 CPU-s, 0.381 core
		results.NewGeneratorCost(0.1, 0.1, 10, 99), // left out: clock
	}
	var arr []Arrival
	for i, lat := range [][]int64{{100, 200}, {300, 400, 500}, {600}} {
		sh := fakeShard(t, i+1, lat, t0, 10*time.Second)
		sh.Report.Summary.Generator = costs[i]
		a := Arrival{Index: i + 1, Shard: sh, Hello: true}
		if i == 2 {
			a.ClockOffset = time.Hour
		}
		arr = append(arr, a)
	}
	m, err := Merge(p, arr, MaxClockSkew)
	if err != nil {
		t.Fatalf("Merge() = %v", err)
	}
	g := m.Report.Summary.Generator
	if g == nil {
		t.Fatal("merged Summary.Generator = nil; want the agents' sum")
	}
	want := results.GeneratorCost{CPUSeconds: 6, UserSeconds: 4.5, SystemSeconds: 1.5, WallSeconds: 10.5,
		Cores: costs[0].Cores + costs[1].Cores, Sent: 5, RequestsPerCPUSecond: 5.0 / 6}
	if *g != want {
		t.Errorf("merged Generator = %+v; want %+v", *g, want)
	}
	for i, a := range m.Agents {
		if a.Generator != costs[i] {
			t.Errorf("agent %d: Generator = %+v; want its own %+v", a.Index, a.Generator, costs[i])
		}
	}
}

// TestMergeGeneratorCostPartial: when a merged agent reported no cost (a
// build that did not measure it), the run has none rather than a sum that
// leaves it out; the others keep theirs.
func TestMergeGeneratorCostPartial(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	p := Plan{Workload: spec.Workload{Rate: 30}, Agents: 2, Duration: 10 * time.Second, Target: "http://x", Start: t0}
	own := results.NewGeneratorCost(1, 1, 10, 2)
	a1 := fakeShard(t, 1, []int64{100, 200}, t0, 10*time.Second)
	a1.Report.Summary.Generator = own
	a2 := fakeShard(t, 2, []int64{300}, t0, 10*time.Second)
	m, err := Merge(p, []Arrival{{Index: 1, Shard: a1, Hello: true}, {Index: 2, Shard: a2, Hello: true}}, MaxClockSkew)
	if err != nil {
		t.Fatalf("Merge() = %v", err)
	}
	if g := m.Report.Summary.Generator; g != nil {
		t.Errorf("merged Generator = %+v; want nil (agent 2's cost is not known)", *g)
	}
	if m.Agents[0].Generator != own || m.Agents[1].Generator != nil {
		t.Errorf("agents' Generator = %v, %v; want agent 1's own and nil", m.Agents[0].Generator, m.Agents[1].Generator)
	}
}
