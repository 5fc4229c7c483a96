package redisprobe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Heartbeat defaults.
const (
	// DefaultHeartbeatInterval is how often the heartbeat is published on
	// the master. At 100ms the probe costs 10 PUBLISH/s on the master, which
	// every replica applies from its replication stream (10/s each), and
	// nothing else: the subscribers are pushed to. With 2 replicas that is
	// 30 commands/s, 0.6 % of a 5,000 commands/s workload (rule:
	// 10·(1+R)/interval_s ≤ 0.01·load; raise the interval, spec
	// probes.heartbeat_interval, for lighter loads).
	DefaultHeartbeatInterval = 100 * time.Millisecond
	// HeartbeatChannelPrefix starts the Pub/Sub channel of a heartbeat; the
	// rest is a random id per process, so two duckbench processes watching
	// one stack never read each other's clocks.
	HeartbeatChannelPrefix = "duckbench:heartbeat:"
	// minCommandTimeout bounds a PUBLISH on a busy 2-core host.
	minCommandTimeout = 200 * time.Millisecond
	// maxPending caps the publish times kept for heartbeats a replica has
	// not delivered yet: 100,000 is 2.8 h at the default interval.
	maxPending = 100_000
)

// DelayBuckets are the histogram buckets (seconds) of the replication delay.
var DelayBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Reading is one heartbeat's replication delay on one replica.
type Reading struct {
	Replica string
	Seq     uint64
	// At is when the heartbeat arrived on the replica's subscriber (for a
	// lost one: when a later heartbeat arrived).
	At time.Time
	// Delay is the arrival on the replica's subscriber − the arrival of
	// the same heartbeat on the master's subscriber, both the kernel's
	// receive timestamps of this host (see Heartbeat); when the master's
	// subscriber is down, arrival − publish time.
	Delay time.Duration
	// Lost is true for a heartbeat the subscriber never received (the
	// replica was down, or was resynchronised from a snapshot): Delay is
	// then measured to the arrival of the next heartbeat, the moment the
	// replica showed a state at least as new.
	Lost bool
}

// Heartbeat publishes a sequence number and its publish time on the master
// every interval; outside cluster mode the master propagates PUBLISH to its
// replicas, and a subscriber per replica (SUBSCRIBE on the replica) is
// pushed each heartbeat when the replica applies it. A subscriber on the
// master is pushed the same heartbeat when the master runs the PUBLISH, in
// the same event-loop turn that sends it down the replication stream. The
// replication delay is arrival on the replica − arrival on the master: the
// client→master hop and the publisher's scheduling cancel out. Both
// arrivals are the kernel's receive timestamps of the subscribers' sockets
// (SO_TIMESTAMPNS, one host clock), so how late this process's goroutines
// run — a loaded generator in the same process, a GC pause — does not
// enter the figure either; it is read without polling. Where the kernel
// gives no timestamp (not Linux) the arrival is the goroutine's clock
// reading, and while the master's subscriber is down a reading is arrival
// − publish time (the old method, which also holds the client→master hop).
type Heartbeat struct {
	master    *Node
	replicas  []*Node
	interval  time.Duration
	onReading func(Reading)
	channel   string
	start     time.Time // monotonic origin of publish and arrival times

	mu   sync.Mutex
	seq  uint64
	sent []sentBeat // published, not yet delivered to every replica
	reps map[string]*replicaState
	// masterAt is each recent heartbeat's arrival on the master's
	// subscriber; parked holds replica arrivals whose master arrival was
	// not processed yet (the two subscribers run concurrently).
	masterAt  map[uint64]time.Time
	masterLow uint64 // every key of masterAt is above it
	parked    map[uint64][]Reading
	masterSub bool // the master's subscription is up

	hist   *prometheus.HistogramVec
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type sentBeat struct {
	seq uint64
	at  time.Duration // publish time since start
}

type replicaState struct {
	// baseSeq is the newest heartbeat published before the first
	// subscription was confirmed: earlier ones may have been applied before
	// SUBSCRIBE, so missing them says nothing about the replica.
	baseSeq    uint64
	everSubbed bool
	subscribed bool
	lastSeq    uint64        // newest heartbeat received
	lastDelay  time.Duration // its delay
	have       bool
}

// NewHeartbeat prepares a heartbeat; Start runs it. The nodes should be
// dedicated to the heartbeat (not shared with INFO scrapes) so a slow INFO
// never delays a publish. onReading, if not nil, is called for every
// reading (arrived or lost), outside any lock.
func NewHeartbeat(master *Node, replicas []*Node, interval time.Duration, onReading func(Reading)) *Heartbeat {
	if interval <= 0 {
		interval = DefaultHeartbeatInterval
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	h := &Heartbeat{
		master: master, replicas: replicas, interval: interval, onReading: onReading,
		channel:  HeartbeatChannelPrefix + hex.EncodeToString(b[:]),
		reps:     map[string]*replicaState{},
		masterAt: map[uint64]time.Time{}, parked: map[uint64][]Reading{},
		hist: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "duckbench_redis_replication_delay_observed_seconds",
			Help:    "Replication delay of every heartbeat per replica: arrival on the replica minus arrival on the master, kernel timestamps, one clock; a lost heartbeat counts until the next one arrived.",
			Buckets: DelayBuckets,
		}, []string{"replica"}),
	}
	for _, r := range replicas {
		h.reps[r.Name] = &replicaState{}
	}
	return h
}

// Interval is the heartbeat period.
func (h *Heartbeat) Interval() time.Duration { return h.interval }

// Channel is the Pub/Sub channel the heartbeat publishes on.
func (h *Heartbeat) Channel() string { return h.channel }

// Start runs the publisher and one subscriber per replica until ctx ends
// or Stop.
func (h *Heartbeat) Start(ctx context.Context) {
	ctx, h.cancel = context.WithCancel(ctx)
	h.start = time.Now()
	h.wg.Add(2 + len(h.replicas))
	for _, r := range h.replicas {
		go h.subscribeLoop(ctx, r, false)
	}
	go h.subscribeLoop(ctx, h.master, true)
	go h.publishLoop(ctx)
}

// Stop cancels the loops and waits for them. A replica still owing
// heartbeats that are overdue (older than one interval plus its last
// delay: a replica down at the end of a run) gets them as lost readings,
// their delay their age now, a lower bound; so a run's figures show an
// outage that had not ended when the run did.
func (h *Heartbeat) Stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.wg.Wait()
	h.cancel = nil
	now := time.Now()
	since := now.Sub(h.start)
	var out []Reading
	h.mu.Lock()
	for _, r := range h.replicas {
		st := h.reps[r.Name]
		lo := max(st.lastSeq, st.baseSeq)
		for _, b := range h.sent {
			if b.seq > lo && since-b.at > h.interval+st.lastDelay {
				out = append(out, Reading{Replica: r.Name, Seq: b.seq, At: now, Delay: since - b.at, Lost: true})
			}
		}
		if n := len(out); n > 0 && out[n-1].Replica == r.Name {
			st.lastSeq = out[n-1].Seq
		}
	}
	h.mu.Unlock()
	h.emit(out)
	h.flushParked()
}

// flushParked emits the replica arrivals still waiting for the master's,
// with their fallback delay (arrival − publish time).
func (h *Heartbeat) flushParked() {
	var out []Reading
	h.mu.Lock()
	for seq, rds := range h.parked {
		out = append(out, rds...)
		delete(h.parked, seq)
	}
	h.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	h.emit(out)
}

// emit records readings in the histogram and hands them to onReading.
func (h *Heartbeat) emit(out []Reading) {
	for _, rd := range out {
		h.hist.WithLabelValues(rd.Replica).Observe(rd.Delay.Seconds())
		if h.onReading != nil {
			h.onReading(rd)
		}
	}
}

func (h *Heartbeat) cmdTimeout() time.Duration { return max(h.interval, minCommandTimeout) }

func (h *Heartbeat) publishLoop(ctx context.Context) {
	defer h.wg.Done()
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		h.publish(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Heartbeat) publish(ctx context.Context) {
	h.mu.Lock()
	h.seq++
	seq := h.seq
	h.mu.Unlock()
	at := time.Since(h.start)
	cctx, cancel := context.WithTimeout(ctx, h.cmdTimeout())
	err := h.master.client.Publish(cctx, h.channel, strconv.FormatUint(seq, 10)+" "+strconv.FormatInt(int64(at), 10)).Err()
	cancel()
	if err != nil {
		// It may still reach the replicas (a timeout after the master ran
		// it): its arrival is measured from its payload, but it is never
		// counted as pending or lost.
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sent = append(h.sent, sentBeat{seq, at})
	h.prune()
}

// prune drops the publish times every replica is past, and the oldest
// beyond maxPending. Called with h.mu held.
func (h *Heartbeat) prune() {
	low := h.seq
	for _, st := range h.reps {
		low = min(low, max(st.lastSeq, st.baseSeq))
	}
	i := sort.Search(len(h.sent), func(i int) bool { return h.sent[i].seq > low })
	i = max(i, len(h.sent)-maxPending)
	if i > 0 {
		h.sent = append(h.sent[:0], h.sent[i:]...)
	}
	if h.seq > maxPending {
		low = max(low, h.seq-maxPending)
	}
	for ; h.masterLow < low; h.masterLow++ {
		delete(h.masterAt, h.masterLow+1)
	}
}

// subscribeLoop keeps one subscription on r, resubscribing after a failure
// (a replica restart, a dropped connection) until ctx ends.
func (h *Heartbeat) subscribeLoop(ctx context.Context, r *Node, master bool) {
	defer h.wg.Done()
	retry := min(max(h.interval, 50*time.Millisecond), time.Second)
	for {
		// The error only ends this subscription: the replica is down or
		// restarting, which the delay itself shows.
		_ = h.subscribe(ctx, r, master)
		h.mu.Lock()
		if master {
			h.masterSub = false
		} else {
			h.reps[r.Name].subscribed = false
		}
		h.mu.Unlock()
		if master {
			h.flushParked()
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// subscribe runs one subscription on r until it fails or ctx ends; master
// says r is the master (its arrivals are the origin of the readings). It
// reads with a connection of its own (subConn), never through the node's
// client, so each message's arrival is the kernel's timestamp of its last
// byte.
func (h *Heartbeat) subscribe(ctx context.Context, r *Node, master bool) error {
	s, err := dialSub(ctx, r)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	go func() { // Close unblocks a read that ctx cannot interrupt.
		select {
		case <-ctx.Done():
		case <-done:
		}
		_ = s.c.Close()
	}()
	v, err := s.call(h.cmdTimeout(), "SUBSCRIBE", h.channel)
	if kind, _, _ := push(v); err != nil || kind != "subscribe" {
		return fmt.Errorf("subscribe on %q: %v %w", r.Name, v, err)
	}
	h.subscribed(r.Name, master)
	// A quiet subscription is kept, however long: a stopped replica delivers
	// what it owes when it resumes, and those readings are the truth. A PING
	// after each quiet spell turns a half-open connection into an error.
	idle := max(4*h.interval, time.Second)
	for {
		_ = s.c.SetReadDeadline(time.Now().Add(idle))
		v, err := s.reply()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !s.inside && ctx.Err() == nil {
				if err := s.send(h.cmdTimeout(), "PING"); err != nil {
					return fmt.Errorf("ping subscriber on %q: %w", r.Name, err)
				}
				continue
			}
			return fmt.Errorf("receive heartbeat on %q: %w", r.Name, err)
		}
		kind, ch, payload := push(v)
		switch {
		case kind != "message" || ch != h.channel:
		case master:
			h.masterArrived(payload, s.stamp)
		default:
			h.arrived(r.Name, payload, s.stamp)
		}
	}
}

func (h *Heartbeat) subscribed(replica string, master bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if master {
		h.masterSub = true
		return
	}
	st := h.reps[replica]
	if !st.everSubbed {
		st.baseSeq, st.everSubbed = h.seq, true
	}
	st.subscribed = true
}

// arrived records heartbeat payload delivered to replica at t, and the
// heartbeats between the previous one and it as lost.
func (h *Heartbeat) arrived(replica, payload string, t time.Time) {
	seq, at, ok := parsePayload(payload)
	if !ok {
		return
	}
	var out []Reading
	h.mu.Lock()
	st := h.reps[replica]
	if lo := max(st.lastSeq, st.baseSeq); seq > lo {
		i := sort.Search(len(h.sent), func(i int) bool { return h.sent[i].seq > lo })
		for ; i < len(h.sent) && h.sent[i].seq < seq; i++ {
			b := h.sent[i]
			out = append(out, Reading{Replica: replica, Seq: b.seq, At: t, Delay: h.since(b.seq, b.at, t), Lost: true})
		}
	}
	rd := Reading{Replica: replica, Seq: seq, At: t, Delay: h.since(seq, at, t)}
	_, known := h.masterAt[seq]
	park := !known && h.masterSub
	if park {
		h.parked[seq] = append(h.parked[seq], rd)
	} else {
		out = append(out, rd)
	}
	if seq > st.lastSeq || !st.have {
		st.lastSeq, st.have = seq, true
		if !park {
			st.lastDelay = rd.Delay
		}
	}
	h.mu.Unlock()
	h.emit(out)
}

// since is t − heartbeat seq's arrival on the master, or, when that is
// not known, t − its publish time at. Called with h.mu held.
func (h *Heartbeat) since(seq uint64, at time.Duration, t time.Time) time.Duration {
	if m, ok := h.masterAt[seq]; ok {
		return max(t.Sub(m), 0)
	}
	return max(t.Sub(h.start)-at, 0)
}

// masterArrived records heartbeat payload delivered to the master's
// subscriber at t, and completes the replica readings parked for it.
func (h *Heartbeat) masterArrived(payload string, t time.Time) {
	seq, _, ok := parsePayload(payload)
	if !ok {
		return
	}
	h.mu.Lock()
	if seq > h.masterLow { // else every replica is past it
		h.masterAt[seq] = t
	}
	out := h.parked[seq]
	delete(h.parked, seq)
	for i := range out {
		out[i].Delay = max(out[i].At.Sub(t), 0)
		if st := h.reps[out[i].Replica]; st.lastSeq == seq {
			st.lastDelay = out[i].Delay
		}
	}
	h.mu.Unlock()
	h.emit(out)
}

// parsePayload reads "<seq> <publish time, ns since start>".
func parsePayload(s string) (uint64, time.Duration, bool) {
	a, b, ok := strings.Cut(s, " ")
	if !ok {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(a, 10, 64)
	at, err2 := strconv.ParseInt(b, 10, 64)
	return seq, time.Duration(at), err1 == nil && err2 == nil
}

// Delay is replica's current replication delay at now: the delay of the
// newest heartbeat it delivered, or, when a heartbeat published since has
// not arrived for longer than that, the age of that heartbeat. So the
// delay keeps growing while the link is down or the replica is stopped,
// and never waits for the next heartbeat to show it. False before the
// first heartbeat was published.
func (h *Heartbeat) Delay(replica string, now time.Time) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.reps[replica]
	if !ok || h.start.IsZero() {
		return 0, false
	}
	d, have := st.lastDelay, st.have
	lo := max(st.lastSeq, st.baseSeq)
	i := sort.Search(len(h.sent), func(i int) bool { return h.sent[i].seq > lo })
	if i < len(h.sent) {
		d, have = max(d, now.Sub(h.start)-h.sent[i].at), true
	}
	return max(d, 0), have
}

// Subscribed reports whether replica's subscription is up now.
func (h *Heartbeat) Subscribed(replica string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.reps[replica]
	return ok && st.subscribed
}

// Describe implements prometheus.Collector for the delay histogram.
func (h *Heartbeat) Describe(ch chan<- *prometheus.Desc) { h.hist.Describe(ch) }

// Collect implements prometheus.Collector for the delay histogram.
func (h *Heartbeat) Collect(ch chan<- prometheus.Metric) { h.hist.Collect(ch) }
