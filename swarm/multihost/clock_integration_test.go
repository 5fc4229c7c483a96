//go:build integration

package multihost

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duckbench/duckbench/agents"
	"github.com/duckbench/duckbench/spec"
)

// arrivals records when each request reached one test server, on the
// test's own clock (the coordinator's: the truth here).
type arrivals struct {
	mu sync.Mutex
	at []time.Time
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	a.mu.Lock()
	a.at = append(a.at, now)
	a.mu.Unlock()
	w.Write([]byte("ok"))
}

// TestClockOffsetGroundTruth: three agents (the real `duckbench agent`
// processes), two of them with wall clocks the test moves by +300 ms and
// −300 ms (agents.ShiftEnv), each attacking a server of its own that logs
// arrivals on the test's clock. Each agent measures its offset to the
// coordinator's clock before the start and corrects for it, so on the
// servers' logs (not duckbench's readings) the agents' first requests
// arrive at their scheduled moments within 5 ms of one another, the
// per-second counts line up with the merged series, and the offsets the
// agents measured are the shifts the test gave them within their bounds
// (+ 5 ms). An agent whose coordinator clock does not answer is left out,
// named.
func TestClockOffsetGroundTruth(t *testing.T) {
	binary := requireBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go agents.ServeClock(ctx, conn)
	shifts := []time.Duration{0, 300 * time.Millisecond, -300 * time.Millisecond}
	const rate, n = 300, 3
	p := agents.Plan{Workload: spec.Workload{Rate: rate, Targets: []spec.Target{{Path: "/k/{key}", Weight: 1}}},
		Agents: n, Duration: 4 * time.Second, Start: time.Now().Add(3 * time.Second).Truncate(time.Millisecond),
		Seed: 1, Clock: conn.LocalAddr().String()}
	servers := make([]*arrivals, n)
	col := agents.NewCollector(n)
	var colMu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		servers[i] = &arrivals{}
		srv := httptest.NewServer(servers[i])
		defer srv.Close()
		pi := p
		pi.Target = srv.URL
		enc, err := pi.Encode()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, binary, "agent")
		cmd.Env = append(os.Environ(), agents.PlanEnv+"="+enc, agents.IndexEnv+"="+strconv.Itoa(i+1),
			agents.ShiftEnv+"=2:300ms,3:-300ms")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				colMu.Lock()
				col.Line(sc.Text(), time.Now())
				colMu.Unlock()
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("agent %d: %v", i+1, err)
			}
		}()
	}
	wg.Wait()
	var arr []agents.Arrival
	for i := 1; i <= n; i++ {
		s, off, hello, rerr := col.Received(i)
		a := agents.Arrival{Index: i, Shard: s, ClockOffset: off, Hello: hello, Err: rerr}
		r, reason, ok := col.Clock(i)
		if !ok || reason != "" {
			t.Fatalf("agent %d: no clock reading (%s)", i, reason)
		}
		a.Clock = &r
		arr = append(arr, a)
	}
	m, err := agents.Merge(p, arr, agents.MaxClockSkew)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Missing) > 0 {
		t.Fatalf("missing: %v", m.Missing)
	}
	// The truth: agent i's k-th request is hit i-1+k·n of the schedule,
	// due (i-1+k·n)/rate after the start; its arrival is on its server's
	// clock. An agent's lag is the median over its first 50 requests (one
	// request alone carries the scheduling noise of a loaded machine).
	lag := make([]time.Duration, n)
	for i := range n {
		if len(servers[i].at) < 50 {
			t.Fatalf("agent %d: its server saw %d requests", i+1, len(servers[i].at))
		}
		var lags []time.Duration
		for k, at := range servers[i].at[:50] {
			lags = append(lags, at.Sub(p.Start.Add(time.Duration(i+k*n)*time.Second/rate)))
		}
		slices.Sort(lags)
		lag[i] = lags[len(lags)/2]
		st := m.Agents[i]
		t.Logf("agent %d: shift %+v, measured %+.2fms ±%.2fms, requests arrive %+.2fms after their due times (median of 50), after correction %+.2fms by hello",
			i+1, shifts[i], st.ClockMeasuredOffsetSeconds*1e3, st.ClockBoundSeconds*1e3, lag[i].Seconds()*1e3, st.ClockOffsetSeconds*1e3)
		if d := time.Duration(st.ClockMeasuredOffsetSeconds*1e9) - shifts[i]; d.Abs() > time.Duration(st.ClockBoundSeconds*1e9)+5*time.Millisecond {
			t.Errorf("agent %d: measured offset %+.2fms, the shift is %v (bound ±%.2fms)", i+1, st.ClockMeasuredOffsetSeconds*1e3, shifts[i], st.ClockBoundSeconds*1e3)
		}
		// The corrected first send (the agent's report) against its
		// server's first arrival.
		if d := servers[i].at[0].Sub(st.FirstSend); d.Abs() > 5*time.Millisecond {
			t.Errorf("agent %d: corrected first send %s, its server saw it at %s (%v apart)", i+1,
				st.FirstSend.Format("15:04:05.000000"), servers[i].at[0].Format("15:04:05.000000"), d)
		}
	}
	for i := 1; i < n; i++ {
		if d := lag[i] - lag[0]; d.Abs() > 5*time.Millisecond {
			t.Errorf("start barrier: agent %d's first request %v off agent 1's (shift %v), want within 5ms", i+1, d, shifts[i])
		}
	}
	// The per-second series: the servers' counts by second since the
	// start against the merged timeline's requests per second.
	counts := map[int]int{}
	for i := range n {
		for _, at := range servers[i].at {
			counts[int(at.Sub(p.Start)/time.Second)]++
		}
	}
	for _, sec := range m.Report.Timeline {
		got := int(sec.AchievedRate + 0.5)
		if d := got - counts[sec.T]; d < -n || d > n {
			t.Errorf("second %d: merged series %d requests, the servers saw %d (want within ±%d)", sec.T, got, counts[sec.T], n)
		}
	}
}

// TestClockUnbounded: an agent whose coordinator clock never answers does
// not attack and is left out of the merge with the reason named.
func TestClockUnbounded(t *testing.T) {
	binary := requireBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A UDP port nobody answers on: bound, never read.
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv := httptest.NewServer(&arrivals{})
	defer srv.Close()
	p := agents.Plan{Workload: spec.Workload{Rate: 10, Targets: []spec.Target{{Path: "/", Weight: 1}}}, Agents: 1,
		Duration: time.Second, Start: time.Now().Add(10 * time.Second), Target: srv.URL, Clock: conn.LocalAddr().String()}
	enc, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, binary, "agent")
	cmd.Env = append(os.Environ(), agents.PlanEnv+"="+enc, agents.IndexEnv+"=1")
	out, err := cmd.Output()
	if err == nil {
		t.Errorf("agent exited 0 without a clock")
	}
	col := agents.NewCollector(1)
	for _, l := range strings.Split(string(out), "\n") {
		col.Line(l, time.Now())
	}
	_, reason, ok := col.Clock(1)
	if !ok || reason == "" {
		t.Fatalf("no unbounded clock line in %q", out)
	}
	s, _, hello, _ := col.Received(1)
	if s != nil || hello {
		t.Errorf("the agent attacked without a clock (shard %v, hello %v)", s != nil, hello)
	}
	m, err := agents.Merge(p, []agents.Arrival{{Index: 1, ClockErr: reason}}, agents.MaxClockSkew)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Missing) != 1 || !strings.Contains(m.Missing[0], "clock offset cannot be bounded: clock of the coordinator") {
		t.Errorf("Missing = %q", m.Missing)
	}
}
