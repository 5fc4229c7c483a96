package redisprobe

import (
	"context"
	"math"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultTimeout bounds one scrape of all nodes.
const DefaultTimeout = 2 * time.Second

// ProbeName is the probe label value of duckbench_probe_success/duration.
const ProbeName = "redis"

var (
	descUp = prometheus.NewDesc("duckbench_redis_up",
		"1 when the node answered INFO, 0 when it did not.", []string{"node", "role"}, nil)
	descLinkUp = prometheus.NewDesc("duckbench_redis_replica_link_up",
		"1 when the replica reports master_link_status:up.", []string{"replica"}, nil)
	descOffsetLag = prometheus.NewDesc("duckbench_redis_replication_offset_lag_bytes",
		"master_repl_offset minus the offset the replica acknowledged, both from one INFO on the master; replicas ACK once a second, so this is up to a second of writes, not a delay.", []string{"replica"}, nil)
	descAckAge = prometheus.NewDesc("duckbench_redis_replication_ack_age_seconds",
		"INFO's lag: seconds since the replica's last ACK (not a propagation delay).", []string{"replica"}, nil)
	descDelay = prometheus.NewDesc("duckbench_redis_replication_delay_seconds",
		"Current replication delay: arrival on the replica minus arrival on the master of the newest heartbeat (kernel timestamps, one clock), or the age of a heartbeat published since and not delivered yet, when that is longer.", []string{"replica"}, nil)
	descLastIO = prometheus.NewDesc("duckbench_redis_replica_last_io_seconds",
		"The replica's master_last_io_seconds_ago (absent while the link has never been up).", []string{"replica"}, nil)
	descSync = prometheus.NewDesc("duckbench_redis_replica_sync_in_progress",
		"1 while the replica runs a full sync (master_sync_in_progress).", []string{"replica"}, nil)
	descHits = prometheus.NewDesc("duckbench_redis_keyspace_hits_total",
		"Keyspace hits (INFO stats); the heartbeat (Pub/Sub) touches no key.", []string{"node"}, nil)
	descMisses = prometheus.NewDesc("duckbench_redis_keyspace_misses_total",
		"Keyspace misses (INFO stats); the heartbeat (Pub/Sub) touches no key.", []string{"node"}, nil)
	descRatio = prometheus.NewDesc("duckbench_redis_keyspace_hit_ratio",
		"hits / (hits + misses) since the node started; NaN (0/0) before the first lookup.", []string{"node"}, nil)
	descSuccess = prometheus.NewDesc("duckbench_probe_success",
		"1 when every source of the probe answered.", nil, prometheus.Labels{"probe": ProbeName})
	descDuration = prometheus.NewDesc("duckbench_probe_duration_seconds",
		"How long the probe's last scrape took.", nil, prometheus.Labels{"probe": ProbeName})
)

// NodeResult is one node's INFO in a Snapshot; Err is set when it failed.
type NodeResult struct {
	Node *Node
	Info *Info
	Err  error
}

// ReplicaStatus is one replica's replication state in a Snapshot.
type ReplicaStatus struct {
	Replica string
	// LinkUp is master_link_status:up on the replica (false if it did not answer).
	LinkUp bool
	// InMaster is true when the master lists the replica; OffsetLag and
	// AckAge are only meaningful then.
	InMaster       bool
	OffsetLag      int64
	AckAge         int64
	LastIO         int64 // -1 unknown
	SyncInProgress bool
}

// Snapshot is one scrape of every node.
type Snapshot struct {
	At       time.Time
	Nodes    []NodeResult
	Replicas []ReplicaStatus
	Duration time.Duration
}

// OK reports whether every node answered.
func (s *Snapshot) OK() bool {
	for _, n := range s.Nodes {
		if n.Err != nil {
			return false
		}
	}
	return true
}

// Collector is a prometheus.Collector over a master and its replicas; it
// runs INFO on every node at Collect time. A node that does not answer
// gives duckbench_redis_up 0, never a failed scrape.
type Collector struct {
	master   *Node
	replicas []*Node
	hb       *Heartbeat // may be nil
	timeout  time.Duration

	mu   sync.Mutex
	kept map[string]*keyspaceState
}

type keyspaceState struct {
	runID        string
	hits, misses uint64 // last exported, kept monotonic within one run_id
}

// NewCollector returns a Collector. hb may be nil (no delay metrics); a
// timeout ≤ 0 means DefaultTimeout.
func NewCollector(master *Node, replicas []*Node, hb *Heartbeat, timeout time.Duration) *Collector {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Collector{master: master, replicas: replicas, hb: hb, timeout: timeout, kept: map[string]*keyspaceState{}}
}

var _ prometheus.Collector = (*Collector)(nil)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descLinkUp, descOffsetLag, descAckAge, descDelay, descLastIO,
		descSync, descHits, descMisses, descRatio, descSuccess, descDuration} {
		ch <- d
	}
	if c.hb != nil {
		c.hb.Describe(ch)
	}
}

// Scrape runs INFO on every node concurrently under one timeout.
func (c *Collector) Scrape(ctx context.Context) *Snapshot {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	nodes := append([]*Node{c.master}, c.replicas...)
	snap := &Snapshot{At: start, Nodes: make([]NodeResult, len(nodes))}
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			info, err := n.Info(ctx)
			snap.Nodes[i] = NodeResult{Node: n, Info: info, Err: err}
		})
	}
	wg.Wait()
	links := c.linkAddrs(ctx, snap.Nodes[0], snap.Nodes[1:])
	snap.Duration = time.Since(start)
	snap.Replicas = replicaStatus(snap.Nodes[0], snap.Nodes[1:], links)
	return snap
}

// linkAddrs asks the replicas the master does not list under their own
// address for the local address of their master link (by name).
func (c *Collector) linkAddrs(ctx context.Context, master NodeResult, reps []NodeResult) map[string]string {
	if master.Info == nil {
		return nil
	}
	listed := map[string]bool{}
	for _, l := range master.Info.Replicas {
		listed[l.Addr()] = true
	}
	links := map[string]string{}
	for _, r := range reps {
		if r.Info == nil || listed[normalizeAddr(r.Node.Addr)] {
			continue
		}
		if a, err := r.Node.LinkAddr(ctx); err == nil && a != "" {
			links[r.Node.Name] = a
		}
	}
	return links
}

func normalizeAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// replicaStatus joins the master's slaveN lines with the replicas' own INFO.
// links maps a replica's name to the local address of its master link.
func replicaStatus(master NodeResult, reps []NodeResult, links map[string]string) []ReplicaStatus {
	var out []ReplicaStatus
	used := map[int]bool{}
	for _, r := range reps {
		st := ReplicaStatus{Replica: r.Node.Name, LastIO: -1}
		if r.Info != nil {
			st.LinkUp = r.Info.MasterLinkUp
			st.LastIO = r.Info.MasterLastIOSecondsAgo
			st.SyncInProgress = r.Info.MasterSyncInProgress
		}
		if master.Info != nil {
			if i, ok := matchReplica(master.Info.Replicas, r, links[r.Node.Name], used); ok {
				used[i] = true
				line := master.Info.Replicas[i]
				st.InMaster, st.OffsetLag, st.AckAge = true, master.Info.OffsetLag(line), line.Lag
			}
		}
		out = append(out, st)
	}
	// Replicas the master knows but we were not told about, by address.
	if master.Info != nil {
		for i, line := range master.Info.Replicas {
			if !used[i] {
				out = append(out, ReplicaStatus{Replica: line.Addr(), LinkUp: line.State == "online", InMaster: true,
					OffsetLag: master.Info.OffsetLag(line), AckAge: line.Lag, LastIO: -1})
			}
		}
	}
	return out
}

// matchReplica finds the master's line for a replica: by the address we
// reach it at; else (a container announces its inner address) by the IP of
// its master link and its own tcp_port; else by tcp_port alone when exactly
// one line has it.
func matchReplica(lines []ReplicaLine, r NodeResult, linkAddr string, used map[int]bool) (int, bool) {
	addr := normalizeAddr(r.Node.Addr)
	for i, l := range lines {
		if !used[i] && l.Addr() == addr {
			return i, true
		}
	}
	if r.Info == nil || r.Info.TCPPort == 0 {
		return 0, false
	}
	if ip, _, err := net.SplitHostPort(linkAddr); err == nil {
		for i, l := range lines {
			if !used[i] && l.IP == ip && l.Port == r.Info.TCPPort {
				return i, true
			}
		}
	}
	found, n := 0, 0
	for i, l := range lines {
		if !used[i] && l.Port == r.Info.TCPPort {
			found, n = i, n+1
		}
	}
	return found, n == 1
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.Scrape(context.Background())
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, n := range snap.Nodes {
		gauge(descUp, b2f(n.Err == nil), n.Node.Name, n.Node.Role)
		if n.Info == nil {
			continue
		}
		hits, misses := c.keyspace(n)
		ch <- prometheus.MustNewConstMetric(descHits, prometheus.CounterValue, float64(hits), n.Node.Name)
		ch <- prometheus.MustNewConstMetric(descMisses, prometheus.CounterValue, float64(misses), n.Node.Name)
		gauge(descRatio, hitRatio(hits, hits+misses), n.Node.Name)
	}
	for _, r := range snap.Replicas {
		gauge(descLinkUp, b2f(r.LinkUp), r.Replica)
		if r.InMaster {
			gauge(descOffsetLag, float64(r.OffsetLag), r.Replica)
			gauge(descAckAge, float64(r.AckAge), r.Replica)
		}
		if r.LastIO >= 0 {
			gauge(descLastIO, float64(r.LastIO), r.Replica)
		}
		gauge(descSync, b2f(r.SyncInProgress), r.Replica)
	}
	if c.hb != nil {
		now := time.Now()
		for _, r := range c.replicas {
			if d, ok := c.hb.Delay(r.Name, now); ok {
				gauge(descDelay, d.Seconds(), r.Name)
			}
		}
		c.hb.Collect(ch)
	}
	gauge(descSuccess, b2f(snap.OK()))
	gauge(descDuration, snap.Duration.Seconds())
}

// keyspace returns a node's hits and misses, kept monotonic while the
// node's run_id stays the same.
func (c *Collector) keyspace(n NodeResult) (hits, misses uint64) {
	hits, misses = n.Info.KeyspaceHits, n.Info.KeyspaceMisses
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.kept[n.Node.Name]
	if k == nil || k.runID != n.Info.RunID {
		k = &keyspaceState{runID: n.Info.RunID}
		c.kept[n.Node.Name] = k
	}
	k.hits, k.misses = max(k.hits, hits), max(k.misses, misses)
	return k.hits, k.misses
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// KeyspaceCounts is a node's keyspace hits and misses as the collector
// exports them: monotonic per run_id.
func (c *Collector) KeyspaceCounts(n NodeResult) (hits, misses uint64) {
	if n.Info == nil {
		return 0, 0
	}
	return c.keyspace(n)
}

// hitRatio is num/den for a gauge, NaN for 0/0 as PromQL would give: the
// ratio is undefined until the first lookup, which 0 would misstate. (A
// record's ratio is results.Ratio, 0 for 0/0: JSON has no NaN.)
func hitRatio(num, den uint64) float64 {
	if den == 0 {
		return math.NaN()
	}
	return float64(num) / float64(den)
}
