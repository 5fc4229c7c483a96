// Package probes watches a running stack while load runs: Redis replication
// (offset lag, ACK age, link state and a heartbeat's true propagation
// delay), Redis keyspace hit ratios, and HAProxy's per-server share,
// responses and per-backend cache hit ratio. It exposes them as Prometheus
// collectors (see the redisprobe and haproxyprobe packages, one per outside
// system), serves them over HTTP, and summarises a run into a results.Result.
//
// Probe traffic, at the defaults (heartbeat 100ms, sampling 1s), with R
// replicas: 10 PUBLISH/s on the master, which each replica applies from its
// replication stream (10/s each; the subscribers are pushed to and send
// nothing), plus one INFO per node per second for the result and one per
// node per Prometheus scrape (and one `show stat` each for HAProxy). With
// R = 2 that is about 33 Redis commands/s counted on all three nodes, 0.66 %
// of a 5,000 commands/s load (measured with INFO commandstats by
// TestProbeCost). Under lighter loads raise the heartbeat interval.
//
// Extra metrics beyond the DESIGN.md contract:
// duckbench_redis_replication_delay_observed_seconds{replica} (histogram of
// every heartbeat's delay), duckbench_redis_replica_last_io_seconds{replica}
// and duckbench_redis_replica_sync_in_progress{replica}.
package probes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duckbench/duckbench/probes/haproxyprobe"
	"github.com/duckbench/duckbench/probes/redisprobe"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// Defaults of Options.
const (
	DefaultHeartbeatInterval = redisprobe.DefaultHeartbeatInterval
	DefaultInterval          = time.Second
	DefaultTimeout           = 2 * time.Second
	DefaultListen            = spec.DefaultProbesListen
)

// ErrNothingToProbe is returned by NewMonitor for endpoints with neither a
// Redis master nor an HAProxy Runtime API.
var ErrNothingToProbe = errors.New("nothing to probe: no redis master and no haproxy stats socket")

// Options tune a Monitor. Zero values take the Default* constants.
type Options struct {
	// HeartbeatInterval is the heartbeat's publish period (default 100ms).
	HeartbeatInterval time.Duration
	// Interval is the sampling period of INFO and `show stat` for the result.
	Interval time.Duration
	// Timeout bounds one scrape of one source.
	Timeout time.Duration
	// PasswordEnv names the environment variable holding the Redis password.
	PasswordEnv string
	// Backends are the spec's HAProxy backends: the result reports only
	// these (all when empty), and cache figures only for those with cache on.
	Backends []spec.Backend
}

// OptionsFromSpec takes the probe settings of a spec.
func OptionsFromSpec(s *spec.Spec) Options {
	return Options{
		HeartbeatInterval: s.Probes.HeartbeatInterval.D(),
		Interval:          s.Probes.Interval.D(),
		PasswordEnv:       s.Redis.PasswordEnv,
		Backends:          s.HAProxy.Backends,
	}
}

// Monitor runs the probes of one stack for `duckbench run` (Start, Stop,
// Fill) or for the standalone exporter (Run).
type Monitor struct {
	opts     Options
	replicas []string // names, in endpoint order
	nodes    []*redisprobe.Node
	redis    *redisprobe.Collector
	hb       *redisprobe.Heartbeat
	haproxy  *haproxyprobe.Collector

	cancel context.CancelFunc
	wg     sync.WaitGroup
	hbOn   bool
	// currentDelay is hb.Delay (tests replace it).
	currentDelay func(replica string, now time.Time) (time.Duration, bool)

	mu  sync.Mutex
	rec *recording
}

// NewMonitor prepares the probes of the stack at ep. It reads the Redis
// password from the environment variable opts.PasswordEnv; the password is
// handed to the Redis clients only, never logged or stored.
func NewMonitor(ep stack.Endpoints, opts Options) (*Monitor, error) {
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	password := ""
	if opts.PasswordEnv != "" {
		password = os.Getenv(opts.PasswordEnv)
		if password == "" {
			return nil, fmt.Errorf("read redis password: environment variable %q is unset or empty", opts.PasswordEnv)
		}
	}
	m := &Monitor{opts: opts}
	if master, ok := ep.Master(); ok {
		newNode := func(r stack.RedisEndpoint) *redisprobe.Node {
			n := redisprobe.NewNode(r.Name, r.Role, r.Addr, password)
			m.nodes = append(m.nodes, n)
			return n
		}
		var scrapeReps, hbReps []*redisprobe.Node
		for _, r := range ep.Replicas() {
			m.replicas = append(m.replicas, r.Name)
			scrapeReps = append(scrapeReps, newNode(r))
			hbReps = append(hbReps, newNode(r))
		}
		scrapeMaster := newNode(master)
		if len(hbReps) > 0 {
			m.hb = redisprobe.NewHeartbeat(newNode(master), hbReps, opts.HeartbeatInterval, m.onReading)
		}
		m.redis = redisprobe.NewCollector(scrapeMaster, scrapeReps, m.hb, opts.Timeout)
	}
	if ep.HAProxy.Stats != "" {
		m.haproxy = haproxyprobe.NewCollector(haproxyprobe.NewClient(ep.HAProxy.Stats), opts.Timeout)
	}
	if m.redis == nil && m.haproxy == nil {
		return nil, ErrNothingToProbe
	}
	return m, nil
}

// Collectors returns the collectors to register on a per-process registry.
// They scrape at Collect time and work whether or not the Monitor runs;
// only the replication delay needs the heartbeat (Start or Run).
func (m *Monitor) Collectors() []prometheus.Collector {
	var cs []prometheus.Collector
	if m.redis != nil {
		cs = append(cs, m.redis)
	}
	if m.haproxy != nil {
		cs = append(cs, m.haproxy)
	}
	return cs
}

// Run runs the heartbeat until ctx ends, recording nothing: the standalone
// exporter's mode.
func (m *Monitor) Run(ctx context.Context) error {
	if m.hb != nil {
		m.hb.Start(ctx)
		defer m.hb.Stop()
	}
	<-ctx.Done()
	return nil
}

// Start starts the heartbeat and the sampler that records the run for Fill.
// t0 is when the attack starts: timeline seconds count from it. The
// baseline of every counter is taken now.
func (m *Monitor) Start(ctx context.Context, t0 time.Time) error {
	m.mu.Lock()
	if m.rec != nil {
		m.mu.Unlock()
		return errors.New("start monitor: already started")
	}
	m.rec = newRecording(t0)
	m.mu.Unlock()
	ctx, m.cancel = context.WithCancel(ctx)
	m.sample(ctx)
	if m.hb != nil {
		m.hb.Start(ctx)
		m.hbOn = true
		m.wg.Go(func() { m.watchDelay(ctx) })
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(m.opts.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				m.sample(ctx)
			}
		}
	}()
	return nil
}

// Stop stops the heartbeat and the sampler and takes a last sample. The
// collectors keep working (for an exporter that outlives the run); Close
// releases the connections.
func (m *Monitor) Stop(ctx context.Context) {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.wg.Wait()
	if m.hbOn {
		m.hb.Stop()
		m.hbOn = false
	}
	m.sample(context.WithoutCancel(ctx))
}

// Close closes the Redis connections. The Monitor is unusable after.
func (m *Monitor) Close() error {
	var errs []error
	for _, n := range m.nodes {
		errs = append(errs, n.Close())
	}
	return errors.Join(errs...)
}

func (m *Monitor) onReading(rd redisprobe.Reading) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rec != nil {
		m.rec.reading(rd)
	}
}

// watchDelay reads every replica's current delay once per heartbeat
// interval for the timeline: it is what shows the delay growing while a
// replica delivers nothing (no reading arrives then).
func (m *Monitor) watchDelay(ctx context.Context) {
	t := time.NewTicker(m.hb.Interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, name := range m.replicas {
				if d, ok := m.hb.Delay(name, now); ok {
					m.mu.Lock()
					m.rec.current(name, now, d)
					m.mu.Unlock()
				}
			}
		}
	}
}

func (m *Monitor) sample(ctx context.Context) {
	var rs *redisprobe.Snapshot
	var hs *haproxyprobe.Snapshot
	var wg sync.WaitGroup
	if m.redis != nil {
		wg.Go(func() { rs = m.redis.Scrape(ctx) })
	}
	if m.haproxy != nil {
		wg.Go(func() { hs = m.haproxy.Scrape(ctx) })
	}
	wg.Wait()
	var ks map[string][2]uint64
	if rs != nil {
		ks = map[string][2]uint64{}
		for _, n := range rs.Nodes {
			if n.Info != nil {
				h, mi := m.redis.KeyspaceCounts(n)
				ks[n.Node.Name] = [2]uint64{h, mi}
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rec == nil {
		return
	}
	if rs != nil {
		m.rec.redis(rs, ks)
	}
	if hs != nil && hs.Err == nil {
		m.rec.haproxy(hs)
	}
}

// recording accumulates a run between Start and Stop.
type recording struct {
	t0 time.Time

	// beats and infos are each replica's readings in the order they
	// came: a summary of any span of the session (an attack window, the
	// idle time) selects from them.
	beats     map[string][]beat
	infos     map[string][]infoSample
	delaySec  map[int]map[string]float64
	lagSec    map[int]map[string]int64
	lastRedis time.Time

	ksFirst, ksLast map[string][2]uint64

	hpFirst, hpPrev, hpLast *haproxyprobe.Snapshot
	serverDown              map[string]time.Duration
	shareSec                map[int]map[string]float64
}

func newRecording(t0 time.Time) *recording {
	return &recording{
		t0: t0, beats: map[string][]beat{}, infos: map[string][]infoSample{},
		delaySec: map[int]map[string]float64{}, lagSec: map[int]map[string]int64{},
		ksFirst: map[string][2]uint64{}, ksLast: map[string][2]uint64{},
		serverDown: map[string]time.Duration{}, shareSec: map[int]map[string]float64{},
	}
}

// second is the timeline index of t; false before the attack began.
func (r *recording) second(t time.Time) (int, bool) {
	d := t.Sub(r.t0)
	return int(d / time.Second), d >= 0
}

// reading records one heartbeat's delay, by its publish time (arrival −
// delay), and the worst of its second.
func (r *recording) reading(rd redisprobe.Reading) {
	r.beats[rd.Replica] = append(r.beats[rd.Replica], beat{pub: rd.At.Add(-rd.Delay), delay: rd.Delay, lost: rd.Lost})
	r.current(rd.Replica, rd.At, rd.Delay)
}

// current raises replica's worst delay of the second of at to d.
func (r *recording) current(replica string, at time.Time, d time.Duration) {
	if sec, ok := r.second(at); ok {
		m := r.delaySec[sec]
		if m == nil {
			m = map[string]float64{}
			r.delaySec[sec] = m
		}
		m[replica] = math.Max(m[replica], d.Seconds())
	}
}

func (r *recording) redis(s *redisprobe.Snapshot, ks map[string][2]uint64) {
	dt := time.Duration(0)
	if !r.lastRedis.IsZero() {
		dt = s.At.Sub(r.lastRedis)
	}
	r.lastRedis = s.At
	sec, inRun := r.second(s.At)
	for _, st := range s.Replicas {
		r.infos[st.Replica] = append(r.infos[st.Replica], infoSample{at: s.At, dt: dt, linkUp: st.LinkUp,
			inMaster: st.InMaster, lag: st.OffsetLag, ack: float64(st.AckAge)})
		if !st.InMaster {
			continue
		}
		if inRun {
			m := r.lagSec[sec]
			if m == nil {
				m = map[string]int64{}
				r.lagSec[sec] = m
			}
			m[st.Replica] = max(m[st.Replica], st.OffsetLag)
		}
	}
	for node, v := range ks {
		if _, ok := r.ksFirst[node]; !ok {
			r.ksFirst[node] = v
		}
		r.ksLast[node] = v
	}
}

func (r *recording) haproxy(s *haproxyprobe.Snapshot) {
	if r.hpFirst == nil {
		r.hpFirst = s
	}
	r.hpPrev, r.hpLast = r.hpLast, s
	if r.hpPrev == nil {
		return
	}
	dt := s.At.Sub(r.hpPrev.At)
	prev := map[string]uint64{}
	for _, sv := range r.hpPrev.Servers {
		prev[sv.Backend+"/"+sv.Server] = sv.Requests
	}
	deltas := map[string]uint64{}
	sums := map[string]uint64{}
	for _, sv := range s.Servers {
		k := sv.Backend + "/" + sv.Server
		if !sv.Up {
			r.serverDown[k] += dt
		}
		d := delta(prev[k], sv.Requests)
		deltas[k] = d
		sums[sv.Backend] += d
	}
	sec, ok := r.second(s.At)
	if !ok {
		return
	}
	for _, sv := range s.Servers {
		k := sv.Backend + "/" + sv.Server
		if sums[sv.Backend] == 0 {
			continue
		}
		m := r.shareSec[sec]
		if m == nil {
			m = map[string]float64{}
			r.shareSec[sec] = m
		}
		m[k] = float64(deltas[k]) / float64(sums[sv.Backend])
	}
}

// delta is a counter's increase; a counter that went down was reset
// (the process restarted) and counts from zero.
func delta(first, last uint64) uint64 {
	if last < first {
		return last
	}
	return last - first
}

// Fill writes the recorded session into r: Replication (all of it: the
// runner narrows it to the attack windows with Replication), Backends, Caches,
// Keyspace, and the per-second replication delay, offset lag and server
// share of r.Timeline (entries are created when missing). Call after Stop.
func (m *Monitor) Fill(r *results.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := m.rec
	if rec == nil {
		return
	}
	r.Replication = append(r.Replication, m.replication(func(time.Time) bool { return true })...)
	nodes := make([]string, 0, len(rec.ksLast))
	for n := range rec.ksLast {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		first, last := rec.ksFirst[n], rec.ksLast[n]
		h, mi := delta(first[0], last[0]), delta(first[1], last[1])
		r.Keyspace = append(r.Keyspace, results.KeyspaceStats{Node: n, Hits: h, Misses: mi, HitRatio: results.Ratio(float64(h), float64(h+mi))})
	}
	m.fillHAProxy(r, rec)
	m.fillTimeline(r, rec)
}

func (m *Monitor) fillHAProxy(r *results.Result, rec *recording) {
	if rec.hpLast == nil {
		return
	}
	wanted := map[string]bool{}
	cached := map[string]bool{}
	for _, b := range m.opts.Backends {
		wanted[b.Name], cached[b.Name] = true, b.Cache
	}
	keep := func(b string) bool { return len(wanted) == 0 || wanted[b] }
	type counts struct {
		req  uint64
		resp map[string]uint64
	}
	first := map[string]counts{}
	for _, sv := range rec.hpFirst.Servers {
		first[sv.Backend+"/"+sv.Server] = counts{sv.Requests, sv.Responses}
	}
	sums, weights := map[string]uint64{}, map[string]uint64{}
	for _, sv := range rec.hpLast.Servers {
		weights[sv.Backend] += sv.Weight
	}
	var out []results.ServerStats
	for _, sv := range rec.hpLast.Servers {
		if !keep(sv.Backend) {
			continue
		}
		k := sv.Backend + "/" + sv.Server
		f := first[k]
		st := results.ServerStats{Backend: sv.Backend, Server: sv.Server, Requests: delta(f.req, sv.Requests),
			ExpectedShare: results.Ratio(float64(sv.Weight), float64(weights[sv.Backend])), DownSeconds: rec.serverDown[k].Seconds()}
		for _, c := range haproxyprobe.CodeClasses {
			if d := delta(f.resp[c], sv.Responses[c]); d > 0 {
				if st.Responses == nil {
					st.Responses = map[string]uint64{}
				}
				st.Responses[c] = d
			}
		}
		sums[sv.Backend] += st.Requests
		out = append(out, st)
	}
	for i := range out {
		out[i].ShareRatio = results.Ratio(float64(out[i].Requests), float64(sums[out[i].Backend]))
	}
	r.Backends = append(r.Backends, out...)
	firstCache := map[string]haproxyprobe.Backend{}
	for _, b := range rec.hpFirst.Backends {
		firstCache[b.Backend] = b
	}
	for _, b := range rec.hpLast.Backends {
		if !keep(b.Backend) || (len(wanted) > 0 && !cached[b.Backend]) || (len(wanted) == 0 && b.CacheLookups == 0) {
			continue
		}
		f := firstCache[b.Backend]
		l, h := delta(f.CacheLookups, b.CacheLookups), delta(f.CacheHits, b.CacheHits)
		r.Caches = append(r.Caches, results.CacheStats{Backend: b.Backend, Lookups: l, Hits: h, HitRatio: results.Ratio(float64(h), float64(l))})
	}
}

func (m *Monitor) fillTimeline(r *results.Result, rec *recording) {
	index := map[int]int{}
	for i, s := range r.Timeline {
		index[s.T] = i
	}
	// Probe samples outside the attack's seconds (the last one is taken as
	// the monitor stops) get no timeline entry of their own: an entry
	// without load would read as a second of zero throughput.
	lo, hi := math.MinInt, math.MaxInt
	if len(r.Timeline) > 0 {
		lo, hi = math.MaxInt, math.MinInt
		for _, s := range r.Timeline {
			lo, hi = min(lo, s.T), max(hi, s.T)
		}
	}
	var none results.Second
	entry := func(t int) *results.Second {
		i, ok := index[t]
		if !ok && (t < lo || t > hi) {
			none = results.Second{}
			return &none
		}
		if !ok {
			r.Timeline = append(r.Timeline, results.Second{T: t})
			i = len(r.Timeline) - 1
			index[t] = i
		}
		return &r.Timeline[i]
	}
	for t, v := range rec.delaySec {
		e := entry(t)
		if e.ReplicationDelay == nil {
			e.ReplicationDelay = map[string]float64{}
		}
		for k, d := range v {
			e.ReplicationDelay[k] = d
		}
	}
	for t, v := range rec.lagSec {
		e := entry(t)
		if e.ReplicationOffsetLag == nil {
			e.ReplicationOffsetLag = map[string]int64{}
		}
		for k, d := range v {
			e.ReplicationOffsetLag[k] = d
		}
	}
	wanted := map[string]bool{}
	for _, b := range m.opts.Backends {
		wanted[b.Name] = true
	}
	for t, v := range rec.shareSec {
		e := entry(t)
		for k, d := range v {
			if len(wanted) > 0 {
				if b, _, _ := strings.Cut(k, "/"); !wanted[b] {
					continue
				}
			}
			if e.ServerShare == nil {
				e.ServerShare = map[string]float64{}
			}
			e.ServerShare[k] = d
		}
	}
	sort.Slice(r.Timeline, func(i, j int) bool { return r.Timeline[i].T < r.Timeline[j].T })
}
