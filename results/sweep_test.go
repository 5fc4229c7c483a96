package results

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

// synthSweep is a capacity sweep of maxconn 2, 8 and an invalid 0x over
// rounds rounds: variant #2 holds 4× the load of #1, with a ±4 % wobble
// from round to round; each search steps 50, 100, 200, … and bisects.
func synthSweep(rounds int, scale float64) *Sweep {
	sw := &Sweep{ID: "20261201T120000Z-sweep-seed", StartedAt: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		Spec:   ABSide{Spec: "seed", Path: "examples/seed.yaml", Hash: "abc"},
		Vary:   []SweepAxis{{Path: "haproxy.backends[0].servers[*].maxconn", Values: []string{"2", "8", "0x"}}},
		Design: DesignGrid, Mode: SweepCapacity, SLO: "p99<50ms", Rounds: rounds, Status: StatusCompleted}
	for _, v := range sw.Vary[0].Values {
		sw.Variants = append(sw.Variants, SweepVariant{Values: []string{v}, Label: VariantLabel(sw.Vary, []string{v})})
	}
	sw.Variants[2].Invalid = "haproxy.backends[0].servers[0].maxconn: cannot parse \"0x\" as an integer (seed.yaml)"
	seq := 0
	for r, round := range RoundOrder(2, rounds) {
		for _, vi := range round {
			seq++
			knee := 80 * (1 + 0.04*float64((seq*7)%5-2)/2)
			if vi == 1 {
				knee *= scale
			}
			c := &SweepSearch{}
			for rate := 50.0; ; rate *= 2 {
				p99 := 0.004 * rate / knee
				if rate > knee {
					c.Steps = append(c.Steps, SweepStep{Rate: rate, Outcome: "fail", P99: 0.2})
					c.HighBad = rate
					break
				}
				c.Steps = append(c.Steps, SweepStep{Rate: rate, Outcome: "pass", P99: Seconds(p99)})
				c.LowGood = rate
			}
			mid := (c.LowGood + c.HighBad) / 2
			if mid <= knee {
				c.LowGood = mid
				c.Steps = append(c.Steps, SweepStep{Rate: mid, Outcome: "pass", P99: 0.004})
			} else {
				c.HighBad = mid
				c.Steps = append(c.Steps, SweepStep{Rate: mid, Outcome: "fail", P99: 0.2})
			}
			c.LowGood = math.Floor(knee) // the bisection's last good rate
			c.Rate = c.LowGood
			sw.Runs = append(sw.Runs, SweepRun{Seq: seq, Round: r + 1, Variant: vi, ID: "run" + string(rune('a'+seq-1)),
				Status: StatusCompleted, Capacity: c, Summary: Summary{Requests: 100, Success: 100},
				Servers: []ServerP99{{Server: "app1", Requests: 50, P99: Seconds(0.004 * float64(seq))}, {Server: "app2", Requests: 50, P99: 0.010}}})
		}
	}
	AnalyzeSweep(sw)
	return sw
}

func TestRoundOrder(t *testing.T) {
	got := RoundOrder(3, 3)
	want := [][]int{{0, 1, 2}, {2, 1, 0}, {0, 1, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RoundOrder(3, 3) = %v; want %v", got, want)
	}
	if got := strings.Join(ABOrder(2), " "); got != "A B B A" {
		t.Errorf("ABOrder(2) = %q; want A B B A", got)
	}
}

// Four rounds of a 4× capacity: the larger is best and significantly
// better (complete separation: p = 2/C(8,4)); the invalid variant has no
// figures and is named in the answer.
func TestAnalyzeSweep(t *testing.T) {
	sw := synthSweep(4, 4)
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
	if c := synthSweep(2, 4).Variants[0].Stats.Capacity; c.Lo != nil {
		t.Errorf("2 rounds: capacity interval [%v, %v]; want none (50%% is no interval)", *c.Lo, *c.Hi)
	}
	// Per-server p99: the median over the variant's rounds (runs 1, 4, 5
	// and 8 are the baseline's: app1 4, 16, 20, 32 ms).
	if sv := sw.Variants[0].Stats.Servers; len(sv) != 2 || sv[0].Server != "app1" || math.Abs(float64(sv[0].P99)-0.018) > 1e-12 || sv[0].Requests != 200 {
		t.Errorf("baseline per-server p99 %+v; want app1 18ms over 200 requests, then app2", sv)
	}
	var buf bytes.Buffer
	if err := WriteSweepText(&buf, sw); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
	buf.Reset()
	if err := WriteSweepMarkdown(&buf, sw); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".md"), buf.Bytes(), *update)
	data, err := json.MarshalIndent(sw, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".json"), data, *update)
	var page bytes.Buffer
	if err := WriteSweepHTML(&page, sw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="runa/report.html"`, "capacity per variant", "bracket", "p99 of all requests per variant @ 100 req/s"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("WriteSweepHTML lacks %q", want)
		}
	}
}

// Six rounds give a 95 % interval of the median; two equal variants are
// not called different.
func TestAnalyzeSweepEqual(t *testing.T) {
	sw := synthSweep(6, 1)
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
	var buf bytes.Buffer
	if err := WriteSweepText(&buf, sw); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

// A fixed-rate sweep judges p99 (lower is better); interrupted and failed
// runs are kept in the record but are no evidence.
func TestAnalyzeSweepRate(t *testing.T) {
	sw := &Sweep{Mode: SweepRate, Rate: 200, Vary: []SweepAxis{{Path: "haproxy.backends[0].balance", Values: []string{"roundrobin", "leastconn"}}},
		Variants: []SweepVariant{{Values: []string{"roundrobin"}, Label: "balance=roundrobin"}, {Values: []string{"leastconn"}, Label: "balance=leastconn"}}}
	for i := 0; i < 8; i++ {
		sum := Summary{Requests: 100, Success: 100, Latency: Quantiles{P99: 0.010 + 0.0001*float64(i)}}
		if i%2 == 1 {
			sum.Latency.P99 /= 2
		}
		sw.Runs = append(sw.Runs, SweepRun{Seq: i + 1, Variant: i % 2, Status: StatusCompleted, Summary: sum})
	}
	sw.Runs = append(sw.Runs, SweepRun{Seq: 9, Variant: 0, Status: StatusInterrupted, Summary: Summary{Requests: 3, Latency: Quantiles{P99: 0.001}}},
		SweepRun{Seq: 10, Variant: 1, Status: StatusFailed})
	AnalyzeSweep(sw)
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
	axes := []SweepAxis{{Path: "haproxy.backends[0].servers[*].maxconn"}, {Path: "haproxy.maxconn"}, {Path: "apps[*].origin_cost"}}
	if got, want := VariantLabel(axes, []string{"2", "100", "2ms"}), "haproxy.backends[0].servers[*].maxconn=2 haproxy.maxconn=100 origin_cost=2ms"; got != want {
		t.Errorf("VariantLabel = %q; want %q", got, want)
	}
	// A single value is a setting every variant shares: not in the label.
	fixed := []SweepAxis{{Path: "a.maxconn", Values: []string{"2", "8"}}, {Path: "apps[*].origin_cost", Values: []string{"50ms"}}}
	if got, want := VariantLabel(fixed, []string{"8", "50ms"}), "maxconn=8"; got != want {
		t.Errorf("VariantLabel with a fixed setting = %q; want %q", got, want)
	}
}

// A stored sweep reads back (from its folder or its file) and analyses to
// the same answer; a result's path is not a sweep.
func TestLoadSweep(t *testing.T) {
	dir := t.TempDir()
	sw := synthSweep(4, 4)
	path, html, err := WriteSweepFiles(dir, sw)
	if err != nil || filepath.Base(path) != "sweep.json" || filepath.Base(html) != "report.html" {
		t.Fatalf("WriteSweepFiles = %q, %q, %v", path, html, err)
	}
	for _, p := range []string{dir, path} {
		got, ok, err := LoadSweep(p)
		if !ok || err != nil || got.Best != sw.Best || got.BestVerdict != sw.BestVerdict || len(got.Runs) != len(sw.Runs) {
			t.Errorf("LoadSweep(%q) = best %v, ok %v, %v; want best %d, %q", p, got, ok, err, sw.Best, sw.BestVerdict)
		}
	}
	if _, ok, _ := LoadSweep(filepath.Join(dir, "run", "result.json")); ok {
		t.Errorf("LoadSweep(result.json) claimed a result")
	}
}
