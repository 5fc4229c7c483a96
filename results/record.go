// Package results owns the result record of a run (and of an ab and a
// sweep): its schema, its storage under results/, the SLO verdict, and the
// comparison of records with its regression verdicts. It is the bottom of
// its family: the statistics it judges with are in results/stat, and the
// reports that print its records (text, Markdown, HTML, SVG) are in
// results/report, which imports it, never the reverse.
package results

import "time"

// SchemaVersion is bumped on any incompatible change of Result.
//
// Version 2: Summary.Latency of an open-model attack is timed from each
// request's intended send time (the pacer's schedule) and covers successful
// requests only; service time, failed requests' latency, stalls and the
// attack window as throughput's denominator came with it. Version 1 records
// are still read: their latency was timed from the actual send over all
// requests (LatencyBasis "sent", set by Decode).
//
// Version 3: Summary.AllLatency, the quantiles over all requests with the
// failures as the slowest, which a quantile can read "failed" (a string
// where older readers expect a number). Older records are read: their
// summaries with a success histogram get it from the histogram, the others
// judge the success-only quantiles where requests failed (labelled).
//
// Fields older readers skip keep the version: Summary.Generator and
// AgentStats.Generator (the load generator's CPU cost) came within 3 and
// are nil in the records before them.
const SchemaVersion = 3

// Latency bases: what a Summary's Latency is timed from.
const (
	// BasisIntended: response end − intended send time (open model).
	BasisIntended = "intended"
	// BasisService: response end − actual send (rate max, closed model:
	// there is no schedule, so there is one figure).
	BasisService = "service"
	// BasisSentV1: schema 1 records, end − actual send, over all requests.
	BasisSentV1 = "sent (schema 1)"
)

// Result is one run, stored as results/<UTC timestamp>-<spec name>/result.json.
// Durations are stored in seconds (float) and named *_seconds so the JSON
// reads without Go's nanoseconds.
type Result struct {
	SchemaVersion int       `json:"schema_version"`
	ID            string    `json:"id"` // the folder name
	Spec          SpecInfo  `json:"spec"`
	Duckbench     string    `json:"duckbench_version"`
	Host          HostInfo  `json:"host"`
	Runtime       string    `json:"runtime"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at"`
	// Status is StatusCompleted, StatusInterrupted, StatusFailed or
	// StatusIncomplete.
	Status string `json:"status"`
	// Error says why a run failed or was cut short.
	Error string   `json:"error,omitempty"`
	Plan  LoadPlan `json:"plan"`
	// Summary covers all trials together.
	Summary Summary `json:"summary"`
	// Trials holds one summary per repeat (`run --repeat N`); a single run has one.
	Trials   []Trial            `json:"trials,omitempty"`
	Timeline []Second           `json:"timeline"`
	Targets  []TargetStats      `json:"targets,omitempty"`
	AppShare map[string]float64 `json:"app_share,omitempty"` // X-Served-By share, client side
	// Servers is the client-side latency per server that answered (by
	// X-Served-By), and the responses no server is named on
	// (Unattributed): their requests sum to Summary.Requests.
	Servers []ServerLatency `json:"servers,omitempty"`
	// GeneratorSaturated is true when the load generator could not keep up
	// with the schedule: the server's figures are then not a capacity.
	GeneratorSaturated bool `json:"generator_saturated"`
	// SUTBound is true when the system under test could not keep up: the
	// schedule slipped because all workers waited on slow (or no)
	// responses. Its figures are then true (and bad), not unknown.
	SUTBound bool `json:"system_under_test_bound,omitempty"`
	// Stalls are the spans in which the system under test answered nothing
	// while requests waited on it.
	Stalls []Stall `json:"stalls,omitempty"`
	// Histogram is the encoded HdrHistogram (microseconds) of the primary
	// latency of successful requests (Summary.LatencyBasis).
	Histogram string `json:"histogram"`
	// ServiceHistogram is the same for service time (open model only).
	ServiceHistogram string          `json:"service_histogram,omitempty"`
	Replication      []ReplicaStats  `json:"replication,omitempty"`      // attack windows only (see ReplicaStats)
	ReplicationIdle  []ReplicaStats  `json:"replication_idle,omitempty"` // the session outside them: start lead, cooldowns, between steps
	Backends         []ServerStats   `json:"backends,omitempty"`
	Caches           []CacheStats    `json:"caches,omitempty"`
	Keyspace         []KeyspaceStats `json:"keyspace,omitempty"`
	Events           []Event         `json:"events,omitempty"`
	SLO              *Verdict        `json:"slo,omitempty"`
	Capacity         *Capacity       `json:"capacity,omitempty"`
	// Agents are the load agents of a sharded run (run --agents N), one
	// per shard: the record's figures are their exact merge.
	Agents []AgentStats `json:"agents,omitempty"`
	// Placement is where the stack ran on a cluster runtime (swarm):
	// service → the host names of the nodes its tasks ran on when the
	// stack came up (PlacementText; the agents' are in Agents).
	Placement map[string][]string `json:"placement,omitempty"`

	// Labels are the user's --label k=v (commit, branch, PR): what
	// `duckbench history` filters on and reports at a change point.
	Labels map[string]string `json:"labels,omitempty"`
}

// Agent statuses: what became of one load agent's shard.
const (
	// AgentOK: the shard's result arrived and its clock agreed.
	AgentOK = "ok"
	// AgentMissing: no result arrived from the shard.
	AgentMissing = "missing"
	// AgentClock: the agent's clock disagreed with the coordinator's
	// beyond the bound; its figures are left out of the merge.
	AgentClock = "clock"
)

// AgentStats are one load agent's own figures in a sharded run.
type AgentStats struct {
	// Index is the agent's shard, 1-based (the swarm task slot).
	Index  int    `json:"index"`
	Status string `json:"status"`
	// Error says why the shard is missing or left out.
	Error string `json:"error,omitempty"`
	// Node and Task locate the agent (swarm node, task name).
	Node string `json:"node,omitempty"`
	Task string `json:"task,omitempty"`
	// PlannedRequests is the shard's share of the schedule; the shares of
	// all agents sum exactly to the run's.
	PlannedRequests uint64 `json:"planned_requests"`
	Requests        uint64 `json:"requests"`
	Success         uint64 `json:"success"`
	// TargetRate is the shard's scheduled mean rate; AchievedRate its
	// requests actually sent over its own attack window.
	TargetRate   float64 `json:"target_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	// MaxScheduleLagSeconds is the agent's worst lag behind the schedule.
	MaxScheduleLagSeconds float64 `json:"max_schedule_lag_seconds"`
	GeneratorSaturated    bool    `json:"generator_saturated"`
	Stalls                int     `json:"stalls,omitempty"`
	// LatencyP99 is the shard's own p99 (seconds), for comparison only:
	// the run's quantiles come from the merged histogram.
	LatencyP99 float64 `json:"latency_p99"`
	// Generator is the agent's own CPU cost (its process's).
	Generator *GeneratorCost `json:"generator,omitempty"`
	// ClockOffsetSeconds is the agent's clock minus the coordinator's when
	// the agent announced itself (including the delivery delay).
	ClockOffsetSeconds float64 `json:"clock_offset_seconds"`
	// ClockMeasuredOffsetSeconds is the agent's clock minus the
	// coordinator's measured NTP-style before the start (and corrected
	// for: ClockOffsetSeconds is then read on the corrected clock), within
	// ±ClockBoundSeconds; both zero when not measured.
	ClockMeasuredOffsetSeconds float64   `json:"clock_measured_offset_seconds,omitempty"`
	ClockBoundSeconds          float64   `json:"clock_bound_seconds,omitempty"`
	FirstSend                  time.Time `json:"first_send,omitempty"`
	LastSend                   time.Time `json:"last_send,omitempty"`
}

// SpecInfo identifies the spec and the rendered configs of a run.
type SpecInfo struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
	Hash string `json:"hash"` // sha256 of the canonical spec
	// ConfigHashes maps a rendered file name (haproxy.cfg, redis-<node>.conf,
	// compose.yaml) to its sha256.
	ConfigHashes map[string]string `json:"config_hashes"`
}

// HostInfo describes the machine a run was made on.
type HostInfo struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	Go       string `json:"go"`
	Kernel   string `json:"kernel,omitempty"`
}

// LoadPlan is the attack as planned.
type LoadPlan struct {
	Shape           string   `json:"shape"`
	Rate            float64  `json:"rate"` // -1 = max
	DurationSeconds float64  `json:"duration_seconds"`
	Workers         uint64   `json:"workers"`
	MaxWorkers      uint64   `json:"max_workers"`
	Connections     int      `json:"connections"`
	Targets         []string `json:"targets"`
	KeyDistribution string   `json:"key_distribution"`
	Seed            int64    `json:"seed"`
	// KeyOffset is added to every key number (a capacity step's own keys).
	KeyOffset int `json:"key_offset,omitempty"`
	Repeat    int `json:"repeat,omitempty"`
	// WorkersUsed is the in-flight cap the attack grew to (by Little's law
	// from the server's latency; at most MaxWorkers).
	WorkersUsed uint64 `json:"workers_used,omitempty"`
}

// Summary is the totals and latency quantiles of a set of requests.
type Summary struct {
	Requests     uint64  `json:"requests"`
	Success      uint64  `json:"success"` // 2xx and 3xx
	Errors       uint64  `json:"errors"`
	SuccessRatio float64 `json:"success_ratio"`
	// Throughput is successes / DurationSeconds, Rate requests / DurationSeconds.
	Throughput float64 `json:"throughput"`
	Rate       float64 `json:"rate"`
	TargetRate float64 `json:"target_rate"` // scheduled req/s (mean)
	// DurationSeconds is the scheduled duration (up to an interrupt; summed
	// over trials): the successes among the scheduled hits over it are the
	// throughput, as wrk2 and Gatling report it. Records before the drain
	// was reported apart: from the start to the last response. Schema 1:
	// the span of send times.
	DurationSeconds float64 `json:"duration_seconds"`
	BytesIn         uint64  `json:"bytes_in"`
	BytesOut        uint64  `json:"bytes_out"`
	// LatencyBasis says what Latency is timed from: BasisIntended,
	// BasisService or BasisSentV1.
	LatencyBasis string `json:"latency_basis,omitempty"`
	// Latency is the primary latency of successful requests, in seconds
	// (success-only: the reports label it so).
	Latency Quantiles `json:"latency"`
	// AllLatency is the primary latency over all requests, a failed one
	// (error status, timeout, transport error, unsent) counted slower than
	// any success: a quantile that falls among the failures is Failed
	// ("failed" in JSON). Every latency verdict judges it (results.Latency).
	// Nil in records that predate it (schema < 3).
	AllLatency *Quantiles `json:"all_requests_latency,omitempty"`
	// ServiceTime is the latency of successful requests from their actual
	// send (open model only: it leaves out the wait for a late send).
	ServiceTime *Quantiles `json:"service_time,omitempty"`
	// FailureLatency is the primary latency of failed requests.
	FailureLatency *Quantiles `json:"failure_latency,omitempty"`
	// DrainSeconds is how long after the schedule's end the last response
	// came (the worst of trials and agents); not part of the throughput.
	DrainSeconds float64 `json:"drain_seconds,omitempty"`
	// OverRange counts latencies beyond the histogram's range: they are
	// recorded at its top, so the highest quantiles are at least that.
	OverRange uint64 `json:"latency_over_range,omitempty"`
	// Unsent counts hits that were due but never sent (counted as errors).
	Unsent      uint64            `json:"unsent,omitempty"`
	StatusCodes map[string]uint64 `json:"status_codes"`
	ErrorKinds  map[string]uint64 `json:"error_kinds,omitempty"`
	// Generator is what the load generator cost in CPU over the attack
	// window (a run's, a trial's, a capacity step's; summed over trials and
	// agents). Nil in records that predate it, and in the summaries of a
	// target or a server.
	Generator *GeneratorCost `json:"generator,omitempty"`
}

// Quantiles are latencies in seconds.
type Quantiles struct {
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	P9999 float64 `json:"p99_99"`
	Max   float64 `json:"max"`
}

// Trial is one repeat of a `run --repeat N`.
type Trial struct {
	Index            int     `json:"index"`
	Summary          Summary `json:"summary"`
	Histogram        string  `json:"histogram"`
	ServiceHistogram string  `json:"service_histogram,omitempty"`
	// Replication is of this trial's attack window.
	Replication []ReplicaStats `json:"replication,omitempty"`
}

// Stall is a span in which the system under test answered nothing while
// requests waited on it (longer than the stall threshold).
type Stall struct {
	StartSeconds    float64 `json:"start_seconds"` // since the attack began
	DurationSeconds float64 `json:"duration_seconds"`
	// Requests is how many requests waited through the stall: due before
	// its end, answered (or failed) at or after it.
	Requests uint64 `json:"requests"`
}

// Second is one entry of the per-second timeline. Requests belong to the
// second they were due in (schema 1: the second they were sent in).
type Second struct {
	T          int     `json:"t"` // seconds since the attack began
	TargetRate float64 `json:"target_rate"`
	// AchievedRate is the requests sent in this second, per second.
	AchievedRate float64 `json:"achieved_rate"`
	// Throughput is the successes among this second's requests, per second.
	Throughput float64 `json:"throughput,omitempty"`
	// P50, P99 and Max are the primary latency of the second's requests.
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	// ServiceP50 and ServiceP99 are their service time (open model).
	ServiceP50  float64           `json:"service_p50,omitempty"`
	ServiceP99  float64           `json:"service_p99,omitempty"`
	Errors      uint64            `json:"errors"`
	StatusCodes map[string]uint64 `json:"status_codes,omitempty"`
	// ScheduleLagSeconds is how far behind schedule the generator was.
	ScheduleLagSeconds float64 `json:"schedule_lag_seconds"`
	// ReplicationDelay maps replica name to its worst delay (seconds) that second.
	ReplicationDelay map[string]float64 `json:"replication_delay,omitempty"`
	// ReplicationOffsetLag maps replica name to its worst offset lag (bytes).
	ReplicationOffsetLag map[string]int64 `json:"replication_offset_lag,omitempty"`
	// ServerShare maps backend/server to its share of that second's requests.
	ServerShare map[string]float64 `json:"server_share,omitempty"`
}

// Server buckets that name no single server.
const (
	// Unattributed holds the responses that name no server: transport
	// errors, timeouts, HAProxy's own errors (<NOSRV>) and responses
	// without X-Served-By.
	Unattributed = "(unattributed)"
	// OtherServers holds the servers past the first MaxServers names.
	OtherServers = "(other)"
	// CacheServer is what HAProxy's X-Served-By says on a cache hit.
	CacheServer = "<CACHE>"
)

// MaxServers bounds the distinct servers kept (X-Served-By is outside
// input: a backend that names every response differently must not grow
// memory without bound).
const MaxServers = 64

// ServerLatency is the client-side figures of the responses one server
// gave, by X-Served-By: HAProxy's header names the HAProxy server (it
// replaces an app's own); without it, the app's own name. Latency is timed
// as the run's (Summary.LatencyBasis), successes only.
type ServerLatency struct {
	Server  string  `json:"server"`
	Summary Summary `json:"summary"`
	// Histogram and ServiceHistogram are encoded HdrHistograms
	// (microseconds) as Result.Histogram and Result.ServiceHistogram.
	Histogram        string `json:"histogram,omitempty"`
	ServiceHistogram string `json:"service_histogram,omitempty"`
}

// TargetStats is the summary of one entry of the request mix.
type TargetStats struct {
	Name    string  `json:"name"`
	Summary Summary `json:"summary"`
}

// ReplicaStats are one replica's replication figures over a span of the
// session (an attack window, or the idle time between attacks). The
// delay quantiles are over every heartbeat published in it:
// delivery on the replica minus publish on the master (one clock); a
// heartbeat the replica never delivered (it was down, or resynchronised)
// counts until the next one arrived.
type ReplicaStats struct {
	Replica         string  `json:"replica"`
	DelayP50Seconds float64 `json:"delay_p50_seconds"`
	DelayP99Seconds float64 `json:"delay_p99_seconds"`
	DelayMaxSeconds float64 `json:"delay_max_seconds"`
	// MaxOffsetLagBytes is master_repl_offset − the replica's acknowledged
	// offset: replicas ACK once a second, so it mostly shows the writes of
	// up to a second, not a delay.
	MaxOffsetLagBytes int64 `json:"max_offset_lag_bytes"`
	// MaxAckAgeSeconds is INFO's lag=: the age of the last ACK.
	MaxAckAgeSeconds float64 `json:"max_ack_age_seconds"`
	LinkDownSeconds  float64 `json:"link_down_seconds"`
	// HeartbeatSamples counts the delay readings (one per heartbeat).
	HeartbeatSamples uint64 `json:"heartbeat_samples"`
	// HeartbeatsLost counts the heartbeats among them that never arrived.
	HeartbeatsLost uint64 `json:"heartbeats_lost,omitempty"`
}

// ServerStats is one HAProxy server's share of its backend, server side.
type ServerStats struct {
	Backend    string  `json:"backend"`
	Server     string  `json:"server"`
	Requests   uint64  `json:"requests"`
	ShareRatio float64 `json:"share_ratio"`
	// ExpectedShare is the server's weight over its backend's total weight
	// (0 = unknown: compare and the reports then assume an even split).
	ExpectedShare float64           `json:"expected_share,omitempty"`
	DownSeconds   float64           `json:"down_seconds"`
	Responses     map[string]uint64 `json:"responses,omitempty"` // by class: 2xx, 5xx, …
}

// CacheStats is one HAProxy backend's cache figures over the run.
type CacheStats struct {
	Backend  string  `json:"backend"`
	Lookups  uint64  `json:"lookups"`
	Hits     uint64  `json:"hits"`
	HitRatio float64 `json:"hit_ratio"`
}

// KeyspaceStats is one Redis node's keyspace hit ratio over the run.
type KeyspaceStats struct {
	Node     string  `json:"node"`
	Hits     uint64  `json:"hits"`
	Misses   uint64  `json:"misses"`
	HitRatio float64 `json:"hit_ratio"`
}

// Event is something that happened during a run: a fault, a recovery, a
// saturation warning, an interrupt.
type Event struct {
	AtSeconds float64 `json:"at_seconds"` // since the attack began
	Kind      string  `json:"kind"`       // fault, recovery, saturation, interrupt, error
	Target    string  `json:"target,omitempty"`
	Action    string  `json:"action,omitempty"`
	Message   string  `json:"message"`
}

// Verdict is the SLO outcome.
type Verdict struct {
	Pass   bool    `json:"pass"`
	Checks []Check `json:"checks"`
}

// Check is one SLO or regression threshold and its outcome.
type Check struct {
	Name      string `json:"name"` // e.g. "p99", "success", "min_rate"
	Threshold string `json:"threshold"`
	Observed  string `json:"observed"`
	Pass      bool   `json:"pass"`
}

// Capacity is the outcome of `duckbench capacity`.
type Capacity struct {
	SLO      string         `json:"slo"`
	Rate     float64        `json:"rate"`     // highest sustainable rate found
	LowGood  float64        `json:"low_good"` // bracket: last rate that met the SLO
	HighBad  float64        `json:"high_bad"` // first rate that broke it (0 = none found)
	Steps    []CapacityStep `json:"steps"`
	TimedOut bool           `json:"timed_out"`
}

// CapacityStep is one rate of the capacity search: its outcome and the
// figures of the trial that settled it (see Trials).
type CapacityStep struct {
	Rate    float64 `json:"rate"`
	Outcome string  `json:"outcome"` // pass, fail, unknown (generator saturated)
	// Why says what decided the outcome (SLO check, SUT bound, generator bound).
	Why     string  `json:"why,omitempty"`
	Seed    int64   `json:"seed,omitempty"` // the step's key sequence
	Summary Summary `json:"summary"`
	// Replication is of the settling trial's attack window: the step is
	// judged on it.
	Replication []ReplicaStats `json:"replication,omitempty"`
	// Trials are every trial at this rate in order when there was more
	// than one: a trial that did not pass is confirmed by a second, and a
	// third breaks a tie; the last one settled the step.
	Trials []CapacityTrial `json:"trials,omitempty"`
}

// AddCounts adds o's counts (requests, outcomes, bytes, status codes, error
// kinds) to s and takes its latency basis. Quantiles, rates and the window
// are the caller's: trials add their windows, concurrent shards share one.
func (s *Summary) AddCounts(o Summary) {
	s.LatencyBasis = o.LatencyBasis
	s.Requests += o.Requests
	s.Success += o.Success
	s.Errors += o.Errors
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.OverRange += o.OverRange
	s.Unsent += o.Unsent
	for k, v := range o.StatusCodes {
		if s.StatusCodes == nil {
			s.StatusCodes = map[string]uint64{}
		}
		s.StatusCodes[k] += v
	}
	for k, v := range o.ErrorKinds {
		if s.ErrorKinds == nil {
			s.ErrorKinds = map[string]uint64{}
		}
		s.ErrorKinds[k] += v
	}
}
