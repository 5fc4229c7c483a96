//go:build integration

package probes_test

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/duckbench/duckbench/internal/capture"
	"github.com/duckbench/duckbench/internal/groundtruth"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/probes/redisprobe"
	"github.com/duckbench/duckbench/spec"
)

// pipelinedWrites sends rate SETs/s of size bytes to addr in pipelined
// batches every 5ms (a batch late by a stall is caught up, not dropped)
// until ctx ends, counting them in n.
func pipelinedWrites(ctx context.Context, addr string, rate, size int, n *atomic.Int64) {
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 2})
	defer c.Close()
	val := strings.Repeat("x", size)
	const tick = 5 * time.Millisecond
	start := time.Now()
	sent := 0
	for ctx.Err() == nil {
		due := int(time.Since(start) * time.Duration(rate) / time.Second)
		if due > sent {
			p := c.Pipeline()
			for i := sent; i < due; i++ {
				p.Set(ctx, fmt.Sprintf("load:%d", i%500), val, 0)
			}
			_, _ = p.Exec(ctx)
			n.Add(int64(due - sent))
			sent = due
		}
		time.Sleep(tick)
	}
}

// beatTimes are, per heartbeat sequence number, when the wire carried it.
type beatTimes map[uint64]time.Time

func (b beatTimes) add(seq uint64, at time.Time) {
	if _, dup := b[seq]; !dup {
		b[seq] = at
	}
}

// wire is what the capture saw of each heartbeat.
type wire struct {
	pushed  beatTimes   // the master's "message" push to its subscriber
	sent    []beatTimes // per replica: the master's PUBLISH down its link
	applied []beatTimes // per replica: its "message" push to its subscriber
}

// readWire reads the capture: the segment that completed each heartbeat's
// "message" push from the master and from every replica (to whichever
// subscriber: the probe's are the only ones), and the segment of the master
// → proxy connection of each replica's link that carried its PUBLISH.
func readWire(segs []capture.Segment, master netip.AddrPort, links [][]netip.AddrPort, replicas []netip.AddrPort) wire {
	link := map[netip.AddrPort]int{}
	rep := map[netip.AddrPort]int{}
	w := wire{pushed: beatTimes{}}
	for i := range replicas {
		for _, a := range links[i] {
			link[a] = i
		}
		rep[replicas[i]] = i
		w.sent, w.applied = append(w.sent, beatTimes{}), append(w.applied, beatTimes{})
	}
	for _, s := range segs {
		var into beatTimes
		isPush := strings.Contains(string(s.Payload), "message\r\n")
		if i, ok := link[s.Dst]; ok && s.Src == master {
			into = w.sent[i]
		} else if i, ok := rep[s.Src]; ok && isPush {
			into = w.applied[i]
		} else if s.Src == master && isPush {
			into = w.pushed
		} else {
			continue
		}
		for _, seq := range heartbeatSeqs(s.Payload) {
			into.add(seq, s.At)
		}
	}
	return w
}

// TestDelayGroundTruth is the accuracy check of the heartbeat against an
// outside observer. Replicas reach the master through delay proxies that
// hold the master → replica link D ∈ {0, 2, 10, 40} ms, under 2,000 SET/s.
// A packet capture of the loopback (tcpdump, kernel timestamps, nothing of
// the probe's code) sees every heartbeat's "message" push from the master
// and from each replica: the truth of arrival on the replica − arrival on
// the master, per heartbeat. The probe's p50 and p99 must be within
// ±(0.5ms + 5 %) of the truth's over the same heartbeats (nearest rank on
// both sides), first on a quiet process, then with duckbench's generator
// attacking from the same process (3,000 req/s against a local backend,
// its goroutines competing with the probe's for the 2 cores). A probe that
// reads its clocks in goroutines fails the attacked half, and one that
// times from before the PUBLISH round trip over-reports by that trip.
//
// What the probe cannot see as the wire does: its arrival is when the
// kernel delivered the push to its socket, the capture's when the sender
// sent it. On a host so loaded that the kernel defers loopback delivery
// (ksoftirqd), a few readings carry that deferral (seen at load 12–20 on 2
// cores: a handful of 1,400 heartbeats off by 3–260 ms); a quantile that
// moves by them is accepted while it stays within the truth's own 95 %
// distribution-free interval, widened by the tolerance. The "link" column
// is informative: from the master's write of the PUBLISH on the replica's
// link (every heartbeat must reach the replica ≥ D after it: the proxy
// held it), showing the master writes its subscriber and its replicas in
// one pass, in either order.
func TestDelayGroundTruth(t *testing.T) {
	holds := []time.Duration{0, 2 * time.Millisecond, 10 * time.Millisecond, 40 * time.Millisecond}
	const (
		interval = 10 * time.Millisecond
		warmUp   = 2 * time.Second
		phase    = 15 * time.Second
		writes   = 2000 // SET/s of 100 bytes
		attackAt = 3000 // req/s of the generator in the attacked phase
	)
	dir := t.TempDir()
	master := startRedis(t, dir, "redis-master", nil)
	var (
		nodes    []*redisprobe.Node
		proxies  []*delayProxy
		repAddrs []netip.AddrPort
	)
	for _, d := range holds {
		p := startDelayProxy(t, master.addr, d, 0)
		r := startRedis(t, dir, fmt.Sprintf("replica-%v", d), &redisProc{addr: p.addr()})
		n := redisprobe.NewNode(r.name, redisprobe.RoleReplica, r.addr, "")
		defer n.Close()
		nodes, proxies = append(nodes, n), append(proxies, p)
		repAddrs = append(repAddrs, netip.MustParseAddrPort(r.addr))
	}
	mAddr := netip.MustParseAddrPort(master.addr)
	ports := []int{int(mAddr.Port())}
	for _, a := range repAddrs {
		ports = append(ports, int(a.Port()))
	}
	// Server → client directions only: the master's replication streams
	// and replies, the replicas' pushes. Whole packets: a PUBLISH sits
	// anywhere in a segment of the replication stream.
	c := capture.Start(t, warmUp+2*phase+30*time.Second, 65535, ports...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wrote atomic.Int64
	go pipelinedWrites(ctx, master.addr, writes, 100, &wrote)
	mn := redisprobe.NewNode("redis-master", redisprobe.RoleMaster, master.addr, "")
	defer mn.Close()
	var got readings
	hb := redisprobe.NewHeartbeat(mn, nodes, interval, got.add)
	hb.Start(ctx)
	time.Sleep(warmUp)
	quietFrom := time.Now()
	time.Sleep(phase)
	attackFrom := time.Now()
	be := groundtruth.StartBackend(t, 0)
	a, err := load.New(spec.Workload{Rate: attackAt, Duration: spec.Duration(phase)}, be.URL)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	attackTo := time.Now()
	hb.Stop()
	cancel()
	// A dropped packet only loses the heartbeats it carried (each truth is
	// a pair of segments, both seen); the ≥ 80 % check below bounds that.
	segs, dropped, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	var links [][]netip.AddrPort
	for _, p := range proxies {
		links = append(links, p.upstreams())
	}
	w := readWire(segs, mAddr, links, repAddrs)

	var table strings.Builder
	fmt.Fprintf(&table, "%5s %-8s  %10s %10s  %10s %10s  %9s %7s  %10s %10s  %4s\n",
		"D", "phase", "truth p50", "probe p50", "truth p99", "probe p99", "max|err|", "in tol", "link p50", "link p99", "n")
	for i, d := range holds {
		phases := []struct {
			name     string
			from, to time.Time
		}{{"quiet", quietFrom, attackFrom}, {"attacked", attackFrom, attackTo}}
		for _, ph := range phases {
			judgePhase(t, &table, d, ph.name, got.get(nodes[i].Name), w, i, ph.from, ph.to, interval)
		}
	}
	t.Logf("heartbeat every %v; %d SET/s of 100 B asked, %.0f/s done; attacked phase: the generator at %d req/s (%d requests done); %d segments captured, %d dropped:\n%s",
		interval, writes, float64(wrote.Load())/attackTo.Sub(quietFrom.Add(-warmUp)).Seconds(), attackAt, rep.Summary.Requests, len(segs), dropped, table.String())
}

// judgePhase compares replica i's readings rds of heartbeats the master
// pushed in [from, to) with the wire's truth, adds a row to table and
// fails t where they disagree.
func judgePhase(t *testing.T, table *strings.Builder, d time.Duration, name string, rds []redisprobe.Reading, w wire, i int, from, to time.Time, interval time.Duration) {
	t.Helper()
	var truth, reading, link []time.Duration
	var worst time.Duration
	within := 0
	for _, rd := range rds {
		m, ok1 := w.pushed[rd.Seq]
		ap, ok2 := w.applied[i][rd.Seq]
		if rd.Lost || !ok1 || !ok2 || m.Before(from) || !m.Before(to) {
			continue
		}
		// The master may write the replica's link, and the replica
		// push, before it writes its own subscriber: a negative
		// delay, which the metric reports as 0.
		tr := max(ap.Sub(m), 0)
		truth, reading = append(truth, tr), append(reading, rd.Delay)
		worst = max(worst, rd.Delay-tr, tr-rd.Delay)
		if e := max(rd.Delay-tr, tr-rd.Delay); e <= 500*time.Microsecond+tr/20 {
			within++
		}
		if s, ok := w.sent[i][rd.Seq]; ok {
			link = append(link, ap.Sub(s))
			if ap.Sub(s) < d {
				t.Errorf("D=%v: heartbeat %d reached the replica %v after the master sent it: the link did not hold it", d, rd.Seq, ap.Sub(s))
			}
		}
	}
	for _, s := range [][]time.Duration{truth, reading, link} {
		sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	}
	if want := int(to.Sub(from)/interval) * 8 / 10; len(truth) < want {
		t.Errorf("D=%v %s: %d heartbeats seen on the wire and read; want ≥ %d", d, name, len(truth), want)
	}
	us := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	fmt.Fprintf(table, "%5v %-8s  %10v %10v  %10v %10v  %9v %6.2f%%  %10v %10v  %4d\n", d, name,
		us(quantile(truth, .5)), us(quantile(reading, .5)), us(quantile(truth, .99)), us(quantile(reading, .99)),
		us(worst), 100*float64(within)/float64(max(len(truth), 1)), us(quantile(link, .5)), us(quantile(link, .99)), len(truth))
	// Each quantile of the readings must be the truth's ± tol, or, when
	// a few readings carry a kernel delivery deferral (see
	// TestDelayGroundTruth), lie within the truth's own 95 %
	// distribution-free interval for that quantile widened by tol: no
	// closer agreement can be asked of n heartbeats.
	for _, q := range []float64{.5, .99} {
		w, g := quantile(truth, q), quantile(reading, q)
		lo, hi := quantileCI(truth, q)
		if tol := 500*time.Microsecond + w/20; (g < w-tol || g > w+tol) && (g < lo-tol || g > hi+tol) {
			t.Errorf("D=%v %s: probe p%v %v; the wire's %v [%v, %v] ± %v", d, name, q*100, g, w, lo, hi, tol)
		}
	}
}
