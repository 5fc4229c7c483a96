package results_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/resultstest"
)

func TestRoundOrder(t *testing.T) {
	got := results.RoundOrder(3, 3)
	want := [][]int{{0, 1, 2}, {2, 1, 0}, {0, 1, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RoundOrder(3, 3) = %v; want %v", got, want)
	}
	if got := strings.Join(results.ABOrder(2), " "); got != "A B B A" {
		t.Errorf("ABOrder(2) = %q; want A B B A", got)
	}
}

// Four rounds of a 4× capacity: the larger is best and significantly
// better (complete separation: p = 2/C(8,4)); the invalid variant has no
// figures and is named in the answer.
func TestAnalyzeSweep(t *testing.T) {
	sw := resultstest.SynthSweep(4, 4)
	if sw.Best != 1 {
		t.Fatalf("Best = %d; want 1 (maxconn=8)", sw.Best)
	}
	st := sw.Variants[1].Stats
	if !st.Better || st.VsBaseline == nil || st.VsBaseline.P >= 0.05 {
		t.Errorf("variant #2 vs baseline: better %v, %+v; want significantly better", st.Better, st.VsBaseline)
	}
	if !strings.HasPrefix(sw.BestVerdict, "significantly better than the baseline") {
		t.Errorf("BestVerdict = %q", sw.BestVerdict)
	}
	if sw.Variants[2].Stats != nil {
		t.Errorf("the invalid variant has stats %+v; want none", sw.Variants[2].Stats)
	}
	if sw.CommonRate != 100 {
		t.Errorf("CommonRate = %g; want 100 (the highest step every variant ran)", sw.CommonRate)
	}
	if c := sw.Variants[0].Stats.Capacity; c.N != 4 || c.Lo == nil || *c.Lo != c.Min || *c.Hi != c.Max || c.Confidence != 0.875 {
		t.Errorf("baseline capacity estimate %+v; want 4 rounds and [min, max] at 87.5%% (a 95%% interval needs 6)", c)
	}
	if c := resultstest.SynthSweep(2, 4).Variants[0].Stats.Capacity; c.Lo != nil {
		t.Errorf("2 rounds: capacity interval [%v, %v]; want none (50%% is no interval)", *c.Lo, *c.Hi)
	}
	// Per-server p99: the median over the variant's rounds (runs 1, 4, 5
	// and 8 are the baseline's: app1 4, 16, 20, 32 ms).
	if sv := sw.Variants[0].Stats.Servers; len(sv) != 2 || sv[0].Server != "app1" || math.Abs(float64(sv[0].P99)-0.018) > 1e-12 || sv[0].Requests != 200 {
		t.Errorf("baseline per-server p99 %+v; want app1 18ms over 200 requests, then app2", sv)
	}
	data, err := json.MarshalIndent(sw, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".json"), data, *update)
}

// Six rounds give a 95 % interval of the median; two equal variants are
// not called different.
func TestAnalyzeSweepEqual(t *testing.T) {
	sw := resultstest.SynthSweep(6, 1)
	c := sw.Variants[0].Stats.Capacity
	if c.Lo == nil || *c.Lo > c.Median || *c.Hi < c.Median {
		t.Fatalf("capacity estimate %+v; want an interval around the median", c)
	}
	st := sw.Variants[1].Stats
	if st.Better || st.Worse || st.VsBaseline.P < 0.05 {
		t.Errorf("equal variants: better %v worse %v p %g; want no significant difference", st.Better, st.Worse, st.VsBaseline.P)
	}
	if sw.Best == 1 && !strings.HasPrefix(sw.BestVerdict, "not significantly better") {
		t.Errorf("BestVerdict = %q; want not significantly better", sw.BestVerdict)
	}
}

// A fixed-rate sweep judges p99 (lower is better); interrupted and failed
// runs are kept in the record but are no evidence.
func TestAnalyzeSweepRate(t *testing.T) {
	sw := &results.Sweep{Mode: results.SweepRate, Rate: 200, Vary: []results.SweepAxis{{Path: "haproxy.backends[0].balance", Values: []string{"roundrobin", "leastconn"}}},
		Variants: []results.SweepVariant{{Values: []string{"roundrobin"}, Label: "balance=roundrobin"}, {Values: []string{"leastconn"}, Label: "balance=leastconn"}}}
	for i := 0; i < 8; i++ {
		sum := results.Summary{Requests: 100, Success: 100, Latency: results.Quantiles{P99: 0.010 + 0.0001*float64(i)}}
		if i%2 == 1 {
			sum.Latency.P99 /= 2
		}
		sw.Runs = append(sw.Runs, results.SweepRun{Seq: i + 1, Variant: i % 2, Status: results.StatusCompleted, Summary: sum})
	}
	sw.Runs = append(sw.Runs, results.SweepRun{Seq: 9, Variant: 0, Status: results.StatusInterrupted, Summary: results.Summary{Requests: 3, Latency: results.Quantiles{P99: 0.001}}},
		results.SweepRun{Seq: 10, Variant: 1, Status: results.StatusFailed})
	results.AnalyzeSweep(sw)
	if sw.Best != 1 || !sw.Variants[1].Stats.Better {
		t.Errorf("Best = %d (better %v); want 1, significantly better (half the p99)", sw.Best, sw.Variants[1].Stats.Better)
	}
	if n := sw.Variants[0].Stats.Runs; n != 4 {
		t.Errorf("baseline runs = %d; want 4 (the interrupted run is no evidence)", n)
	}
	if sw.CommonRate != 200 {
		t.Errorf("CommonRate = %g; want the runs' rate 200", sw.CommonRate)
	}
}

func TestVariantLabel(t *testing.T) {
	axes := []results.SweepAxis{{Path: "haproxy.backends[0].servers[*].maxconn"}, {Path: "haproxy.maxconn"}, {Path: "apps[*].origin_cost"}}
	if got, want := results.VariantLabel(axes, []string{"2", "100", "2ms"}), "haproxy.backends[0].servers[*].maxconn=2 haproxy.maxconn=100 origin_cost=2ms"; got != want {
		t.Errorf("VariantLabel = %q; want %q", got, want)
	}
	// A single value is a setting every variant shares: not in the label.
	fixed := []results.SweepAxis{{Path: "a.maxconn", Values: []string{"2", "8"}}, {Path: "apps[*].origin_cost", Values: []string{"50ms"}}}
	if got, want := results.VariantLabel(fixed, []string{"8", "50ms"}), "maxconn=8"; got != want {
		t.Errorf("VariantLabel with a fixed setting = %q; want %q", got, want)
	}
}
