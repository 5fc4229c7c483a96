package results

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
)

// confirmedFixture is the fixture as a capacity search whose step at
// 1,000 req/s failed once (a freeze) and passed its two confirmations, and
// whose 2,000 req/s failure was confirmed; the replication of the attack
// windows and of the idle time apart.
func confirmedFixture(t *testing.T) *Result {
	r := loadFixture(t)
	repl := func(p99 float64) []ReplicaStats {
		return []ReplicaStats{{Replica: "replica-1", DelayP50Seconds: p99 / 2, DelayP99Seconds: p99, DelayMaxSeconds: p99, HeartbeatSamples: 50}}
	}
	ok := func(rate, p99 float64) Summary {
		return Summary{Rate: rate, Throughput: rate, SuccessRatio: 1, Latency: Quantiles{P99: p99}}
	}
	r.Capacity = &Capacity{SLO: "p99<20ms", Rate: 1500, LowGood: 1500, HighBad: 2000, Steps: []CapacityStep{
		{Rate: 500, Outcome: "pass", Why: "SLO met", Summary: ok(500, 0.005), Replication: repl(0.001)},
		{Rate: 1000, Outcome: "pass", Why: "SLO met", Summary: ok(1000, 0.008), Replication: repl(0.0012), Trials: []CapacityTrial{
			{Outcome: "fail", Why: "SLO broken: p99 < 20ms (observed 160ms)", Summary: ok(1000, 0.16), Replication: repl(0.0011)},
			{Outcome: "pass", Why: "SLO met", Summary: ok(1000, 0.007), Replication: repl(0.0013)},
			{Outcome: "pass", Why: "SLO met", Summary: ok(1000, 0.008), Replication: repl(0.0012)},
		}},
		{Rate: 2000, Outcome: "fail", Why: "SLO broken: p99 < 20ms (observed 60ms)", Summary: ok(2000, 0.06), Replication: repl(0.004), Trials: []CapacityTrial{
			{Outcome: "fail", Why: "SLO broken: p99 < 20ms (observed 70ms)", Summary: ok(2000, 0.07), Replication: repl(0.005)},
			{Outcome: "fail", Why: "SLO broken: p99 < 20ms (observed 60ms)", Summary: ok(2000, 0.06), Replication: repl(0.004)},
		}},
		{Rate: 1500, Outcome: "pass", Why: "SLO met", Summary: ok(1500, 0.011)},
	}}
	r.ReplicationIdle = []ReplicaStats{{Replica: "replica-1", DelayP50Seconds: 0.0004, DelayP99Seconds: 0.0006, DelayMaxSeconds: 0.0007, HeartbeatSamples: 180}}
	return r
}

// The step table shows each step's trials and its own replication p99; the
// idle readings have a table of their own (text, HTML, JSON).
func TestWriteTextConfirmed(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, confirmedFixture(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

func TestWriteHTMLConfirmed(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, confirmedFixture(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".html"), buf.Bytes(), *update)
}

func TestConfirmedJSON(t *testing.T) {
	c := confirmedFixture(t).Capacity
	b, err := json.MarshalIndent(c.Steps[1:3], "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".json"), append(b, '\n'), *update)
	if got, want := c.Steps[1].Confirmation(), "fail, pass, pass"; got != want {
		t.Errorf("Confirmation() = %q; want %q", got, want)
	}
	if got := c.Steps[0].Confirmation(); got != "-" {
		t.Errorf("Confirmation() of a one-trial step = %q; want -", got)
	}
	if sc := SweepSearchOf(c); sc.Steps[1].Trials != "fail, pass, pass" || sc.Steps[0].Trials != "" {
		t.Errorf("SweepSearchOf() steps %+v; want the confirmed step's trials, none for a one-trial step", sc.Steps)
	}
}
