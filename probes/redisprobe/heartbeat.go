package redisprobe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Heartbeat defaults.
const (
	// DefaultHeartbeatInterval is how often the heartbeat is written on the
	// master and read on every replica. At 100ms the probe costs 10 SET/s on
	// the master and 10–20 GET/s per replica (the first read after a write
	// usually beats replication by a fraction of a millisecond, so about one
	// catch-up read follows it): with 2 replicas 30–50 commands/s, which
	// stays at or under 1 % of the load from 5,000 Redis commands/s
	// (1 % rule: 10·(1+2R)/interval_s ≤ 0.01·load). For lighter loads raise
	// the interval (spec probes.heartbeat_interval).
	DefaultHeartbeatInterval = 100 * time.Millisecond
	// HeartbeatKey is the key the heartbeat SETs on the master. It expires
	// an hour after the last write, so nothing is left behind for long.
	HeartbeatKey = "duckbench:heartbeat"
	heartbeatTTL = time.Hour
	// minCommandTimeout bounds a heartbeat command on a busy 2-core host.
	minCommandTimeout = 200 * time.Millisecond
)

// DelayBuckets are the histogram buckets (seconds) of the replication delay.
var DelayBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Sample is one reading of one replica's replication delay.
type Sample struct {
	Replica string
	At      time.Time
	// Delay is now − the write time of the newest heartbeat visible on the
	// replica (pt-heartbeat semantics): it keeps growing while the replica
	// is stalled or disconnected.
	Delay time.Duration
	// Reached is false when the replica did not answer (timeout, refused).
	Reached bool
}

// Heartbeat writes a sequence number and timestamps on the master every
// interval and, right after each write, reads it back on every replica, all
// from one process so that one clock measures the delay. Each write kicks the
// replica pollers, so a healthy replica shows a delay of about one round
// trip (well under 1 ms on loopback), not up to one interval.
type Heartbeat struct {
	master   *Node
	replicas []*Node
	interval time.Duration
	onSample func(Sample)

	id        string
	start     time.Time // monotonic origin
	startWall int64

	mu         sync.Mutex
	seq        uint64
	firstWrite time.Duration // since start; -1 before the first write
	lastWrite  time.Duration // since start, of the newest successful write
	writeErrs  uint64
	reps       map[string]*replicaState

	hist   *prometheus.HistogramVec
	kicks  map[string]chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type replicaState struct {
	seen         bool
	seenAt       time.Duration // write time (since start) of the newest heartbeat seen
	last         Sample
	haveLast     bool
	hits, misses uint64 // our own GETs as Redis counts them
}

// NewHeartbeat prepares a heartbeat; Start runs it. The nodes should be
// dedicated to the heartbeat (not shared with INFO scrapes) so a slow INFO
// never delays a reading. onSample, if not nil, is called for every reading.
func NewHeartbeat(master *Node, replicas []*Node, interval time.Duration, onSample func(Sample)) *Heartbeat {
	if interval <= 0 {
		interval = DefaultHeartbeatInterval
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	h := &Heartbeat{
		master: master, replicas: replicas, interval: interval, onSample: onSample,
		id:         hex.EncodeToString(b[:]),
		firstWrite: -1,
		reps:       map[string]*replicaState{},
		kicks:      map[string]chan struct{}{},
		hist: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "duckbench_redis_replication_delay_histogram_seconds",
			Help:    "Distribution of heartbeat replication delay readings (one per heartbeat interval per replica).",
			Buckets: DelayBuckets,
		}, []string{"replica"}),
	}
	for _, r := range replicas {
		h.reps[r.Name] = &replicaState{}
		h.kicks[r.Name] = make(chan struct{}, 1)
	}
	return h
}

// Interval is the heartbeat period.
func (h *Heartbeat) Interval() time.Duration { return h.interval }

// Start runs the writer and one poller per replica until ctx ends or Stop.
func (h *Heartbeat) Start(ctx context.Context) {
	ctx, h.cancel = context.WithCancel(ctx)
	h.start = time.Now()
	h.startWall = h.start.UnixNano()
	h.wg.Add(1 + len(h.replicas))
	go h.writeLoop(ctx)
	for _, r := range h.replicas {
		go h.pollLoop(ctx, r)
	}
}

// Stop cancels the loops and waits for them.
func (h *Heartbeat) Stop() {
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
}

func (h *Heartbeat) cmdTimeout() time.Duration { return max(h.interval, minCommandTimeout) }

func (h *Heartbeat) writeLoop(ctx context.Context) {
	defer h.wg.Done()
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		h.write(ctx)
		for _, k := range h.kicks {
			select {
			case k <- struct{}{}:
			default:
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Heartbeat) write(ctx context.Context) {
	h.mu.Lock()
	h.seq++
	seq := h.seq
	h.mu.Unlock()
	at := time.Since(h.start)
	val := fmt.Sprintf("%s %d %d %d", h.id, seq, int64(at), h.startWall+int64(at))
	cctx, cancel := context.WithTimeout(ctx, h.cmdTimeout())
	err := h.master.client.Set(cctx, HeartbeatKey, val, heartbeatTTL).Err()
	cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.writeErrs++
		return
	}
	if h.firstWrite < 0 {
		h.firstWrite = at
	}
	h.lastWrite = at
}

func (h *Heartbeat) pollLoop(ctx context.Context, r *Node) {
	defer h.wg.Done()
	t := time.NewTimer(h.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kicks[r.Name]:
		case <-t.C:
		}
		h.poll(ctx, r)
		t.Reset(h.interval + h.interval/2) // a fallback when the writer is stuck
	}
}

// Catch-up reads: a read right after the write usually beats the
// replication stream by a fraction of a millisecond. Reading again after
// 250µs, 500µs, 1ms, … (up to a quarter interval) until the newest write
// shows keeps the reading's resolution at about a millisecond instead of a
// whole interval, for one or two extra GETs per heartbeat.
const firstCatchUp = 250 * time.Microsecond

// poll reads the heartbeat on r, re-reading with a growing pause while the
// newest write has not shown yet (see firstCatchUp), and records one
// reading.
func (h *Heartbeat) poll(ctx context.Context, r *Node) {
	var (
		err    error
		caught bool
	)
	for wait := firstCatchUp; ; wait *= 2 {
		caught, err = h.read(ctx, r)
		if caught || err != nil || wait > h.interval/4 || ctx.Err() != nil {
			break
		}
		pause := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			pause.Stop()
			return
		case <-pause.C:
		}
	}
	if ctx.Err() != nil {
		return
	}
	h.record(r, err)
}

// read GETs the heartbeat on r once and reports whether r shows the newest
// successful write.
func (h *Heartbeat) read(ctx context.Context, r *Node) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, h.cmdTimeout())
	val, err := r.client.Get(cctx, HeartbeatKey).Result()
	cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.reps[r.Name]
	switch {
	case err == nil:
		st.hits++
		if at, ok := h.writeTime(val); ok && (!st.seen || at > st.seenAt) {
			st.seen, st.seenAt = true, at
		}
	case errors.Is(err, redis.Nil):
		st.misses++
		err = nil
	}
	return st.seen && st.seenAt >= h.lastWrite, err
}

// record turns r's state into one reading: now − the write time of the
// newest heartbeat seen on it.
func (h *Heartbeat) record(r *Node, err error) {
	now := time.Now()
	since := now.Sub(h.start)
	h.mu.Lock()
	st := h.reps[r.Name]
	s := Sample{Replica: r.Name, At: now, Reached: err == nil}
	switch {
	case st.seen:
		s.Delay = since - st.seenAt
	case h.firstWrite >= 0:
		s.Delay = since - h.firstWrite
	default:
		h.mu.Unlock()
		return // nothing written yet: no reading
	}
	s.Delay = max(s.Delay, 0)
	st.last, st.haveLast = s, true
	h.mu.Unlock()
	h.hist.WithLabelValues(r.Name).Observe(s.Delay.Seconds())
	if h.onSample != nil {
		h.onSample(s)
	}
}

// writeTime turns a heartbeat value into its write time since h.start: the
// monotonic reading for our own writes, the wall clock of this host for a
// heartbeat another duckbench process wrote.
func (h *Heartbeat) writeTime(val string) (time.Duration, bool) {
	f := strings.Fields(val)
	if len(f) != 4 {
		return 0, false
	}
	if f[0] == h.id {
		mono, err := strconv.ParseInt(f[2], 10, 64)
		return time.Duration(mono), err == nil
	}
	wall, err := strconv.ParseInt(f[3], 10, 64)
	return time.Duration(wall - h.startWall), err == nil
}

// Delay returns a replica's latest reading, false before the first one.
func (h *Heartbeat) Delay(replica string) (Sample, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.reps[replica]
	if !ok || !st.haveLast {
		return Sample{}, false
	}
	return st.last, true
}

// OwnReads is how many keyspace hits and misses the heartbeat's own GETs
// caused on a replica, so the keyspace figures can leave them out.
func (h *Heartbeat) OwnReads(replica string) (hits, misses uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st, ok := h.reps[replica]; ok {
		return st.hits, st.misses
	}
	return 0, 0
}

// Describe implements prometheus.Collector for the delay histogram.
func (h *Heartbeat) Describe(ch chan<- *prometheus.Desc) { h.hist.Describe(ch) }

// Collect implements prometheus.Collector for the delay histogram.
func (h *Heartbeat) Collect(ch chan<- prometheus.Metric) { h.hist.Collect(ch) }
