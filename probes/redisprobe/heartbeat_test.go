package redisprobe

import (
	"strconv"
	"testing"
	"time"
)

// A heartbeat run without Redis: publishes are recorded by hand and
// deliveries fed to arrived, so the bookkeeping is checked exactly.
func TestHeartbeatReadings(t *testing.T) {
	var got []Reading
	r1 := &Node{Name: "r1"}
	h := NewHeartbeat(&Node{Name: "m"}, []*Node{r1}, 100*time.Millisecond, func(rd Reading) { got = append(got, rd) })
	h.start = time.Now().Add(-time.Hour)
	h.cancel = func() {}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	publish := func(seq uint64, at time.Duration) {
		h.seq = seq
		h.sent = append(h.sent, sentBeat{seq, at})
	}
	deliver := func(seq uint64, at, arrival time.Duration) {
		h.arrived("r1", strconv.FormatUint(seq, 10)+" "+strconv.FormatInt(int64(at), 10), h.start.Add(arrival))
	}
	delay := func(at time.Duration) time.Duration {
		d, ok := h.Delay("r1", h.start.Add(at))
		if !ok {
			t.Fatalf("Delay(r1, %v) = none", at)
		}
		return d
	}

	publish(1, ms(0)) // before the subscription: never counted as lost
	h.subscribed("r1", false)
	publish(2, ms(100))
	deliver(2, ms(100), ms(103))
	if d := delay(ms(150)); d != ms(3) {
		t.Errorf("Delay after heartbeat 2 = %v; want 3ms (its own delay)", d)
	}
	// 3 and 4 are not delivered (replica down): the delay grows from 3's
	// publish time, at scrape time.
	publish(3, ms(200))
	publish(4, ms(300))
	if d := delay(ms(1200)); d != ms(1000) {
		t.Errorf("Delay with 3 and 4 undelivered = %v; want 1s (the age of 3)", d)
	}
	deliver(5, ms(400), ms(1500))
	want := []Reading{
		{Replica: "r1", Seq: 2, Delay: ms(3)},
		{Replica: "r1", Seq: 3, Delay: ms(1300), Lost: true},
		{Replica: "r1", Seq: 4, Delay: ms(1200), Lost: true},
		{Replica: "r1", Seq: 5, Delay: ms(1100)},
	}
	check := func(want []Reading) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("readings = %+v; want %+v", got, want)
		}
		for i := range want {
			if g := got[i]; g.Seq != want[i].Seq || g.Delay != want[i].Delay || g.Lost != want[i].Lost {
				t.Errorf("reading %d = %+v; want %+v", i, g, want[i])
			}
		}
	}
	check(want)
	if d := delay(ms(1550)); d != ms(1100) {
		t.Errorf("Delay after 5 = %v; want 1.1s (5's delay)", d)
	}
	// 6 is overdue when the heartbeat stops: a lost reading, its age.
	publish(6, ms(500))
	got = nil
	h.start = time.Now().Add(-ms(2000) + 0) // now is 2s after start
	h.Stop()
	if len(got) != 1 || got[0].Seq != 6 || !got[0].Lost || got[0].Delay < ms(1500) {
		t.Errorf("Stop: readings %+v; want heartbeat 6 lost with a delay ≥ 1.5s", got)
	}
}

func TestParsePayload(t *testing.T) {
	for in, ok := range map[string]bool{"7 123": true, "7": false, "x 1": false, "1 y": false, "": false} {
		if _, _, got := parsePayload(in); got != ok {
			t.Errorf("parsePayload(%q) ok = %v; want %v", in, got, ok)
		}
	}
}

// With the master's subscription up, a reading is the replica's arrival −
// the master's, whichever of the two is processed first; with it down, the
// publish time is the origin again.
func TestHeartbeatMasterOrigin(t *testing.T) {
	var got []Reading
	h := NewHeartbeat(&Node{Name: "m"}, []*Node{{Name: "r1"}}, 100*time.Millisecond, func(rd Reading) { got = append(got, rd) })
	h.start = time.Now().Add(-time.Hour)
	h.cancel = func() {}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	payload := func(seq uint64, at time.Duration) string {
		return strconv.FormatUint(seq, 10) + " " + strconv.FormatInt(int64(at), 10)
	}
	h.subscribed("r1", false)
	h.subscribed("m", true)
	for seq := uint64(1); seq <= 3; seq++ {
		h.seq = seq
		h.sent = append(h.sent, sentBeat{seq, ms(100 * int(seq))})
	}
	// 1: the master's arrival first (7ms after publish), the replica 3ms later.
	h.masterArrived(payload(1, ms(100)), h.start.Add(ms(107)))
	h.arrived("r1", payload(1, ms(100)), h.start.Add(ms(110)))
	// 2: the replica's arrival is processed first: parked until the master's.
	h.arrived("r1", payload(2, ms(200)), h.start.Add(ms(212)))
	if len(got) != 1 {
		t.Fatalf("readings before the master's arrival of 2 = %+v; want 1", got)
	}
	h.masterArrived(payload(2, ms(200)), h.start.Add(ms(210)))
	// 3: the master's subscription is down: arrival − publish time.
	h.mu.Lock()
	h.masterSub = false
	h.mu.Unlock()
	h.arrived("r1", payload(3, ms(300)), h.start.Add(ms(309)))
	want := []time.Duration{ms(3), ms(2), ms(9)}
	if len(got) != len(want) {
		t.Fatalf("readings = %+v; want delays %v", got, want)
	}
	for i, w := range want {
		if got[i].Seq != uint64(i+1) || got[i].Delay != w {
			t.Errorf("reading %d = %+v; want seq %d delay %v", i, got[i], i+1, w)
		}
	}
	if d, _ := h.Delay("r1", h.start.Add(ms(310))); d != ms(9) {
		t.Errorf("Delay = %v; want 9ms", d)
	}
	// A replica arrival parked when the master's subscription ends is
	// emitted with its fallback delay.
	h.mu.Lock()
	h.masterSub = true
	h.mu.Unlock()
	h.seq = 4
	h.sent = append(h.sent, sentBeat{4, ms(400)})
	h.arrived("r1", payload(4, ms(400)), h.start.Add(ms(405)))
	h.flushParked()
	if n := len(got); n != 4 || got[3].Delay != ms(5) {
		t.Errorf("flushed reading = %+v; want seq 4 delay 5ms", got[n-1])
	}
	// The master's arrivals are dropped once every replica is past them.
	h.prune()
	if len(h.masterAt) != 0 || h.masterLow != 4 {
		t.Errorf("after prune: masterAt %v, masterLow %d; want empty, 4", h.masterAt, h.masterLow)
	}
	h.masterArrived(payload(3, ms(300)), h.start.Add(ms(305)))
	if len(h.masterAt) != 0 {
		t.Errorf("a late master arrival of a pruned heartbeat was kept: %v", h.masterAt)
	}
}
