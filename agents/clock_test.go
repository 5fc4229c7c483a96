package agents

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/load"
)

func TestParseShift(t *testing.T) {
	for _, c := range []struct {
		s    string
		idx  int
		want time.Duration
		err  bool
	}{
		{"", 1, 0, false},
		{"2:300ms,3:-300ms", 2, 300 * time.Millisecond, false},
		{"2:300ms,3:-300ms", 3, -300 * time.Millisecond, false},
		{"2:300ms,3:-300ms", 1, 0, false},
		{"2=300ms", 2, 0, true},
		{"2:soon", 2, 0, true},
	} {
		got, err := ParseShift(c.s, c.idx)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("ParseShift(%q, %d) = %v, %v; want %v, error %v", c.s, c.idx, got, err, c.want, c.err)
		}
	}
}

// A clock 250 ms ahead of the coordinator's is measured as +250 ms within
// its bound (loopback: well under a millisecond), the sign agent − coordinator.
func TestMeasureClockShifted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ServeClock(ctx, conn)
	shift := 250 * time.Millisecond
	r, err := MeasureClock(ctx, conn.LocalAddr().String(), 8, func() time.Time { return time.Now().Add(shift) })
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Offset - shift; d.Abs() > r.Bound()+time.Millisecond || r.Samples != 8 {
		t.Errorf("MeasureClock() = %+v; want offset %v within its bound, 8 samples", r, shift)
	}
}

// The clock line round trip through the collector; a reason survives too.
func TestClockLines(t *testing.T) {
	var b bytes.Buffer
	r := ClockReading{Offset: -3 * time.Millisecond, Delay: 400 * time.Microsecond, Samples: 16}
	if err := WriteClock(&b, 2, r, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteClock(&b, 3, ClockReading{}, errors.New("none of 16 round trips came back")); err != nil {
		t.Fatal(err)
	}
	c := NewCollector(3)
	for _, l := range strings.Split(b.String(), "\n") {
		c.Line("task@node | "+l, time.Now())
	}
	if got, reason, ok := c.Clock(2); !ok || reason != "" || got != r {
		t.Errorf("Clock(2) = %+v, %q, %v; want %+v", got, reason, ok, r)
	}
	if _, reason, ok := c.Clock(3); !ok || reason != "none of 16 round trips came back" {
		t.Errorf("Clock(3) reason = %q, %v", reason, ok)
	}
	if _, _, ok := c.Clock(1); ok {
		t.Error("Clock(1): a reading that never came")
	}
}

// Correct moves the absolute times by shift − offset.
func TestShardCorrect(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := &Shard{Report: &load.Report{StartedAt: t0, EndedAt: t0.Add(time.Second),
		Shard: &load.ShardData{FirstSend: t0, LastSend: t0.Add(time.Second)}}}
	s.Correct(300*time.Millisecond, 0)
	if want := t0.Add(-300 * time.Millisecond); !s.Report.StartedAt.Equal(want) || !s.Report.Shard.FirstSend.Equal(want) {
		t.Errorf("Correct: started %v, first send %v; want %v", s.Report.StartedAt, s.Report.Shard.FirstSend, want)
	}
}
