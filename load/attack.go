// Package load drives an attack in process: pacers for the rate shapes of
// a spec's workload, its own pacing loop that keeps every hit's intended
// send time (latency is timed from it, service time from the actual send,
// so a stall of the system under test shows: no coordinated omission),
// vegeta's Result and gob format, a seeded target mix, worker and
// connection sizing that holds up under overload, a lean HTTP/1.1
// transport, telling a saturated generator from a system under test that
// does not keep up, stall detection, and streaming statistics (HdrHistogram
// quantiles of successes and failures apart, a per-second timeline,
// per-target stats and the client-side share of each app from
// X-Served-By). It knows nothing about Redis.
package load

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// Defaults for a workload that leaves them unset.
const (
	DefaultDuration = 10 * time.Second
	DefaultRate     = 100
	DefaultTimeout  = 5 * time.Second
	// DefaultMaxRateConnections is the worker (and connection) count of a
	// rate-max attack per core when none is given.
	DefaultMaxRateConnections = 32
	// LatencyBudget sizes the initial worker cap of a paced attack: enough
	// workers to keep the peak rate going while responses take this long on
	// average. Past it the server's own latency sizes the pool (Little's
	// law, see LittleHeadroom).
	LatencyBudget = 100 * time.Millisecond
	// MaxWorkersPerCore and MaxWorkersCap bound the workers (and so the
	// connections): past them, more goroutines and sockets only cost CPU
	// the generator needs, and an overloaded generator collapses.
	MaxWorkersPerCore = 256
	MaxWorkersCap     = 10000
	// MinMaxWorkers is the least initial worker cap of a paced attack:
	// goroutines are cheap, a slow response at a low rate should not stall
	// the schedule while the pool grows.
	MinMaxWorkers = 64
	// SaturationLag is the schedule lag past which the generator is behind.
	SaturationLag = 100 * time.Millisecond
	// ServedByHeader names the server that answered: HAProxy sets it to
	// the server's name (configgen.ServedByHeader), replacing the
	// reference app's own name.
	ServedByHeader = "X-Served-By"
)

// Attack is one planned attack. Make it with New; Run it once.
type Attack struct {
	w       spec.Workload
	base    string
	dur     time.Duration
	warmup  time.Duration
	timeout time.Duration
	pacer   *Pacer
	tgt     *targeter
	client  *http.Client // https targets, or DUCKBENCH_STD_TRANSPORT
	// wire: plain http targets sent on the workers' own connections to
	// addr (see hitWire); pool keeps connections between workers.
	wire      bool
	addr      string
	keepAlive bool
	pool      *connPool
	workers   uint64
	initCap   uint64
	maxWork   uint64
	hardCap   uint64
	conns     int
	progress  func(Progress)
	raw       io.Writer
	metrics   *Metrics
	rate      *spec.Rate
	durOver   time.Duration
	lagSat    time.Duration
	keySeed   int64
	keyOff    int
	stripe    [2]int    // agent index, agent count (0: not striped)
	startAt   time.Time // zero: now
	shard     bool      // fill Report.Shard
	rootCAs   *x509.CertPool
	ran       bool
}

// Option configures an Attack.
type Option func(*Attack)

// WithProgress calls f about once a second from the goroutine running Run.
// f must return quickly.
func WithProgress(f func(Progress)) Option { return func(a *Attack) { a.progress = f } }

// WithRaw writes every result to w in vegeta's gob format, which
// `vegeta report` and `vegeta plot` read.
func WithRaw(w io.Writer) Option { return func(a *Attack) { a.raw = w } }

// WithMetrics updates m (register it on your own registry) as results come.
func WithMetrics(m *Metrics) Option { return func(a *Attack) { a.metrics = m } }

// WithRateOverride replaces the workload's rate (spec.RateMax for max).
func WithRateOverride(r spec.Rate) Option { return func(a *Attack) { a.rate = &r } }

// WithDurationOverride replaces the workload's duration.
func WithDurationOverride(d time.Duration) Option { return func(a *Attack) { a.durOver = d } }

// WithKeys replaces the workload's seed (0: keep it) and shifts every key
// number by offset: a capacity step draws a fresh, reproducible sequence
// on keys no earlier step has touched, so it does not run on a cache the
// earlier steps warmed.
func WithKeys(seed int64, offset int) Option {
	return func(a *Attack) { a.keySeed, a.keyOff = seed, offset }
}

// WithStripe makes the attack the share of load agent i (0-based) of n:
// every n-th hit of the workload's schedule from hit i on (Pacer.Stripe).
func WithStripe(i, n int) Option { return func(a *Attack) { a.stripe = [2]int{i, n} } }

// WithStartAt anchors the schedule at t instead of at Run's call: Run waits
// until t, and a late start shows as schedule lag. Load agents share one t.
func WithStartAt(t time.Time) Option { return func(a *Attack) { a.startAt = t } }

// WithRootCAs makes https targets trusted by pool only (the lab CA of a
// run whose entry bind is TLS); nil keeps the system roots.
func WithRootCAs(pool *x509.CertPool) Option { return func(a *Attack) { a.rootCAs = pool } }

// WithShardData fills Report.Shard: what a coordinator needs to merge this
// attack's figures exactly with those of other load agents.
func WithShardData() Option { return func(a *Attack) { a.shard = true } }

// New plans an attack of workload w against baseURL (e.g. the HAProxy
// frontend, http://127.0.0.1:6301). Unset workload fields take their
// documented defaults.
func New(w spec.Workload, baseURL string, opts ...Option) (*Attack, error) {
	a := &Attack{w: w, base: baseURL, lagSat: SaturationLag}
	for _, o := range opts {
		o(a)
	}
	if a.rate != nil {
		a.w.Rate = *a.rate
	}
	if a.keySeed != 0 {
		a.w.Seed = a.keySeed
	}
	if a.w.Rate == 0 {
		a.w.Rate = DefaultRate
	}
	a.dur = a.w.Duration.D()
	if a.durOver > 0 {
		a.dur = a.durOver
	}
	if a.dur == 0 && a.w.Shape == ShapeSteps {
		a.dur = stepsTotal(a.w.Steps)
	}
	if a.dur == 0 {
		a.dur = DefaultDuration
	}
	if a.dur < 0 {
		return nil, fmt.Errorf("load.duration: must be > 0 (got %v)", a.dur)
	}
	a.warmup = a.w.Warmup.D()
	a.timeout = a.w.Timeout.D()
	if a.timeout <= 0 {
		a.timeout = DefaultTimeout
	}
	if a.timeout > MaxTimeout {
		return nil, fmt.Errorf("load.timeout: must be at most %v, so that every latency fits the histogram (1µs-%v) (got %v)",
			MaxTimeout, time.Duration(HistMax)*time.Microsecond, a.timeout)
	}
	var err error
	if a.pacer, err = NewPacer(a.w, a.dur); err != nil {
		return nil, err
	}
	if a.stripe[1] > 0 {
		if err := a.pacer.Stripe(a.stripe[0], a.stripe[1]); err != nil {
			return nil, err
		}
	}
	if a.tgt, err = newTargeter(a.w, baseURL); err != nil {
		return nil, err
	}
	a.tgt.keyOff = a.keyOff
	z := Size(a.w, a.pacer.Peak(), runtime.GOMAXPROCS(0))
	a.workers, a.initCap, a.maxWork, a.hardCap, a.conns = z.Workers, z.InitialCap, z.MaxWorkers, z.HardCap, z.Connections
	a.keepAlive = a.w.KeepAlive == nil || *a.w.KeepAlive
	a.pool = &connPool{}
	u, _ := url.Parse(baseURL) // checked by newTargeter
	a.wire = u.Scheme == "http" && os.Getenv("DUCKBENCH_STD_TRANSPORT") == ""
	a.addr = hostPort(u.Host)
	if !a.wire {
		a.client = newClient(a.conns, a.timeout, a.keepAlive, a.rootCAs)
	}
	return a, nil
}

// Sizing is the worker (and connection) plan of an attack. Workers never
// exceed connections: a worker waiting for a connection would hide
// client-side queueing inside the latency.
type Sizing struct {
	// Workers are started at once.
	Workers uint64
	// InitialCap is how many workers a paced attack starts without asking
	// the server: enough for the peak rate at LatencyBudget each (at least
	// MinMaxWorkers). Past it, workers are added by Little's law from the
	// requests in flight (see LittleHeadroom), up to MaxWorkers.
	InitialCap uint64
	// MaxWorkers is the most workers the attack may have: the workload's
	// max_workers or connections, else HardCap.
	MaxWorkers uint64
	// HardCap is this machine's cap: MaxWorkersPerCore per core, at most
	// MaxWorkersCap. A schedule that slips with HardCap workers all busy is
	// the server's doing; one that slips at a lower, configured cap is the
	// generator's ("unknown (generator cap)").
	HardCap     uint64
	Connections int
}

// Size plans the workers and connections of an attack whose peak rate is
// peak (0 for max) on cores cores. Explicit workload settings win.
func Size(w spec.Workload, peak float64, cores int) Sizing {
	if cores < 1 {
		cores = 1
	}
	hardCap := uint64(min(MaxWorkersPerCore*cores, MaxWorkersCap))
	if w.Rate.IsMax() {
		n := uint64(DefaultMaxRateConnections * cores)
		switch {
		case w.Connections > 0:
			n = uint64(w.Connections)
		case w.MaxWorkers > 0:
			n = uint64(w.MaxWorkers)
		case w.Workers > 0:
			n = uint64(w.Workers)
		}
		if w.Workers > 0 && uint64(w.Workers) < n {
			n = uint64(w.Workers)
		}
		c := int(n)
		if w.Connections > 0 {
			c = w.Connections
		}
		return Sizing{Workers: n, InitialCap: n, MaxWorkers: n, HardCap: hardCap, Connections: c}
	}
	z := Sizing{HardCap: hardCap, MaxWorkers: uint64(w.MaxWorkers)}
	if z.MaxWorkers == 0 {
		z.MaxWorkers = hardCap
	}
	z.Connections = w.Connections
	if z.Connections <= 0 {
		z.Connections = int(z.MaxWorkers)
	}
	z.MaxWorkers = min(z.MaxWorkers, uint64(z.Connections))
	z.InitialCap = uint64(math.Ceil(peak * LatencyBudget.Seconds()))
	z.InitialCap = min(max(z.InitialCap, MinMaxWorkers, uint64(16*cores)), z.MaxWorkers)
	z.Workers = uint64(w.Workers)
	if z.Workers == 0 {
		z.Workers = min(max(uint64(cores), uint64(math.Ceil(peak*0.005))), z.InitialCap)
	}
	z.Workers = min(z.Workers, z.MaxWorkers)
	z.InitialCap = max(z.InitialCap, z.Workers)
	return z
}

func newClient(conns int, timeout time.Duration, keepAlive bool, rootCAs *x509.CertPool) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         d.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableKeepAlives:   !keepAlive,
		DisableCompression:  true,
	}
	if rootCAs != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: rootCAs}
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Plan is the attack as planned.
func (a *Attack) Plan() results.LoadPlan {
	shape := a.w.Shape
	if shape == "" {
		shape = ShapeConstant
	}
	dist := a.w.Keys.Distribution
	if dist == "" {
		dist = KeysUniform
	}
	seed := a.w.Seed
	if seed == 0 {
		seed = 1
	}
	rate := float64(a.w.Rate)
	if a.pacer.Max() {
		rate = -1
	}
	return results.LoadPlan{
		Shape: shape, Rate: rate, DurationSeconds: a.dur.Seconds(),
		Workers: a.workers, MaxWorkers: a.maxWork, Connections: a.conns,
		Targets: a.tgt.names(), KeyDistribution: dist, Seed: seed, KeyOffset: a.keyOff,
	}
}

// Report is what an attack measured.
type Report struct {
	Plan     results.LoadPlan      `json:"plan"`
	Summary  results.Summary       `json:"summary"`
	Timeline []results.Second      `json:"timeline"`
	Targets  []results.TargetStats `json:"targets,omitempty"`
	AppShare map[string]float64    `json:"app_share,omitempty"`
	// Servers is the client-side figures per server that answered (by
	// X-Served-By) and of the unattributed responses; their requests sum
	// to Summary.Requests.
	Servers []results.ServerLatency `json:"servers,omitempty"`
	// Saturated means the generator could not keep up: short of CPU, or
	// at a configured worker cap while the server answered as usual;
	// SaturationCause says which (SaturationCPU, SaturationCap).
	Saturated       bool   `json:"generator_saturated"`
	SaturationCause string `json:"saturation_cause,omitempty"`
	// SUTBound means the system under test could not keep up: the
	// schedule slipped with every worker busy at this machine's hard cap
	// (Sizing.HardCap), or waiting on a server whose service time had grown
	// past the stall threshold (or that answered nothing since they all
	// became busy).
	SUTBound bool            `json:"system_under_test_bound,omitempty"`
	Stalls   []results.Stall `json:"stalls,omitempty"`
	// MaxScheduleLagSeconds is the worst lag behind the schedule seen.
	MaxScheduleLagSeconds float64 `json:"max_schedule_lag_seconds"`
	// Histogram is the V2 compressed, base64 HdrHistogram (microseconds)
	// of the primary latency of successes; ServiceHistogram of their
	// service time (open model only).
	Histogram        string          `json:"histogram"`
	ServiceHistogram string          `json:"service_histogram,omitempty"`
	Events           []results.Event `json:"events,omitempty"`
	Interrupted      bool            `json:"interrupted"`
	StartedAt        time.Time       `json:"started_at"`
	EndedAt          time.Time       `json:"ended_at"`
	// Shard is set with WithShardData.
	Shard *ShardData `json:"shard,omitempty"`
}

// ShardData is what a load agent's report carries beyond a Report's
// figures so that a coordinator can merge it exactly with the others':
// the histograms behind every quantile (V2 compressed, base64,
// microseconds) and the span of the actual sends.
type ShardData struct {
	// FailureHistogram is the primary latency of failed requests.
	FailureHistogram string `json:"failure_histogram,omitempty"`
	// TargetHistograms are the successes' latency per target, in the order
	// of Report.Targets.
	TargetHistograms []string `json:"target_histograms"`
	// Seconds are the successes' latency per second of the timeline (2
	// significant digits, as the timeline's), ServiceSeconds their service
	// time; "" for a second without successes.
	Seconds        []string `json:"seconds"`
	ServiceSeconds []string `json:"service_seconds,omitempty"`
	// Sent counts the requests actually sent; FirstSend and LastSend are
	// the first and last actual send (zero when none was sent).
	Sent      uint64    `json:"sent"`
	FirstSend time.Time `json:"first_send"`
	LastSend  time.Time `json:"last_send"`
}

// ErrAlreadyRun is returned by a second call of Run.
var ErrAlreadyRun = errors.New("attack already run")

// Run drives the attack until its duration is over or ctx is done. On
// cancellation it stops sending, waits for the requests in flight (at most
// the request timeout) and returns the partial report with Interrupted set.
func (a *Attack) Run(ctx context.Context) (*Report, error) {
	if a.ran {
		return nil, ErrAlreadyRun
	}
	a.ran = true
	if a.warmup > 0 {
		if err := a.runWarmup(ctx); err != nil {
			return nil, err
		}
	}
	defer a.closeIdle()

	var enc vegeta.Encoder
	var bw *bufio.Writer
	if a.raw != nil {
		bw = bufio.NewWriterSize(a.raw, 256<<10)
		enc = vegeta.NewEncoder(bw)
	}
	began := time.Now()
	if !a.startAt.IsZero() {
		if !sleep(ctx, time.Until(a.startAt)) {
			return nil, fmt.Errorf("wait for the start at %s: %w", a.startAt.Format(time.RFC3339Nano), ctx.Err())
		}
		began = a.startAt
	}
	cpu := markCPU() // the generator's cost: the attack window's CPU time
	c := newConsumer(a, began)
	sch := newScheduler(a, began)
	c.sch = sch
	// Requests in flight finish under their own timeout even when ctx is
	// cancelled: an interrupt keeps their answers.
	go sch.run(context.WithoutCancel(ctx))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	drain := time.NewTicker(drainEvery)
	defer drain.Stop()

	var rawErr error
	var b batch
	take := func() {
		for _, k := range b.collect(sch) {
			c.add(k.r)
			if enc != nil && rawErr == nil {
				rawErr = enc.Encode(c.rawResult(k.r))
			}
		}
	}
	done := ctx.Done()
	for finished := false; !finished; {
		select {
		case <-drain.C:
			take()
		case now := <-tick.C:
			take()
			c.tick(now)
		case <-done:
			done = nil
			sch.Stop()
			c.interrupt(time.Since(began))
		case <-sch.done:
			take()
			finished = true
		}
	}
	rep := c.report(time.Now())
	rep.Summary.Generator = cpu.costOf(rep)
	if bw != nil && rawErr == nil {
		rawErr = bw.Flush()
	}
	if rawErr != nil {
		return rep, fmt.Errorf("write raw results: %w", rawErr)
	}
	return rep, nil
}

// closeIdle closes the connections kept after the attack.
func (a *Attack) closeIdle() {
	a.pool.closeAll()
	if a.client != nil {
		a.client.CloseIdleConnections()
	}
}

// runWarmup sends the shape's starting rate for the warmup period and drops
// the results; the connections it opened stay for the measured attack.
func (a *Attack) runWarmup(ctx context.Context) error {
	w := *a
	w.dur = a.warmup
	if !a.pacer.Max() {
		rate := a.pacer.Rate(0)
		if rate <= 0 {
			return nil
		}
		w.pacer = constPacer(rate)
	}
	sch := newScheduler(&w, time.Now())
	go sch.run(context.WithoutCancel(ctx))
	drain := time.NewTicker(drainEvery)
	defer drain.Stop()
	var b batch
	for {
		select {
		case <-drain.C:
			b.collect(sch)
		case <-sch.done:
			return nil
		case <-ctx.Done():
			sch.Stop()
			<-sch.done
			return fmt.Errorf("warm up: %w", ctx.Err())
		}
	}
}

func constPacer(rate float64) *Pacer { return &Pacer{s: constant{rate}, dur: math.MaxInt64} }

// sleep waits d (none when d <= 0) or until ctx is done; it reports
// whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
