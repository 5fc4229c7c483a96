package agents

import (
	"bytes"
	"testing"
	"time"
)

// FuzzCollectorLine: any line of a log stream (outside input) is taken or
// ignored without a panic, and never yields a shard for an index out of
// range.
func FuzzCollectorLine(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteHello(&buf, 1, time.Unix(1, 0))
	_ = WriteShard(&buf, &Shard{Index: 1, Report: nil})
	for _, l := range bytes.Split(buf.Bytes(), []byte("\n")) {
		f.Add(string(l))
	}
	f.Add("duckbench-agent shard 9 0 1 00000000 AAAA")
	f.Add("duckbench-agent shard 1 0 1 deadbeef !!!")
	f.Add("duckbench-agent hello -1 x")
	f.Fuzz(func(t *testing.T, line string) {
		c := NewCollector(2)
		c.Line(line, time.Unix(0, 0))
		c.Line(line, time.Unix(0, 0))
		for _, i := range []int{0, 3, -1} {
			if s, _, _, _ := c.Received(i); s != nil {
				t.Fatalf("Received(%d) = a shard from %q; want none", i, line)
			}
		}
	})
}

// FuzzDecodePlan: a plan from the environment is decoded or refused,
// never accepted without agents, duration, target or start.
func FuzzDecodePlan(f *testing.F) {
	enc, _ := Plan{Agents: 2, Duration: time.Second, Target: "http://h:1", Start: time.Unix(5, 0)}.Encode()
	f.Add(enc)
	f.Add("e30=")
	f.Add("not base64")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := DecodePlan(s)
		if err == nil && (p.Agents < 1 || p.Duration <= 0 || p.Target == "" || p.Start.IsZero()) {
			t.Fatalf("DecodePlan(%q) = %+v, nil; want an error", s, p)
		}
	})
}
