// Package load drives an attack with the vegeta library, in process: pacers
// for the rate shapes of a spec's workload, a seeded target mix, worker and
// connection sizing that holds up under overload, schedule-lag based
// saturation detection, and streaming statistics (HdrHistogram quantiles, a
// per-second timeline, per-target stats and the client-side share of each
// app from X-Served-By). It knows nothing about Redis.
package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
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
	// LatencyBudget sizes the worker cap of a paced attack: enough workers
	// to keep the peak rate going while responses take this long on average.
	LatencyBudget = 100 * time.Millisecond
	// MaxWorkersPerCore and MaxWorkersCap bound the workers (and so the
	// connections): past them, more goroutines and sockets only cost CPU
	// the generator needs, and an overloaded generator collapses.
	MaxWorkersPerCore = 256
	MaxWorkersCap     = 10000
	// MinMaxWorkers is the least worker cap of a paced attack: goroutines
	// are cheap, a slow response at a low rate should not stall the schedule.
	MinMaxWorkers = 64
	// SaturationLag is the schedule lag past which the generator is behind.
	SaturationLag = 100 * time.Millisecond
	// ServedByHeader names the app that served a response.
	ServedByHeader = "X-Served-By"
)

// Attack is one planned attack. Make it with New; Run it once.
type Attack struct {
	w        spec.Workload
	base     string
	dur      time.Duration
	warmup   time.Duration
	timeout  time.Duration
	pacer    *Pacer
	tgt      *targeter
	client   *http.Client
	workers  uint64
	maxWork  uint64
	conns    int
	progress func(Progress)
	raw      io.Writer
	metrics  *Metrics
	rate     *spec.Rate
	durOver  time.Duration
	lagSat   time.Duration
	ran      bool
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
	var err error
	if a.pacer, err = NewPacer(a.w, a.dur); err != nil {
		return nil, err
	}
	if a.tgt, err = newTargeter(a.w, baseURL); err != nil {
		return nil, err
	}
	a.workers, a.maxWork, a.conns = Size(a.w, a.pacer.Peak(), runtime.GOMAXPROCS(0))
	keepAlive := a.w.KeepAlive == nil || *a.w.KeepAlive
	a.client = newClient(a.conns, a.timeout, keepAlive)
	return a, nil
}

// Size picks the initial and maximum workers and the connection cap of an
// attack whose peak rate is peak (0 for max) on cores cores. Explicit
// workload settings win. Workers never exceed connections: a worker waiting
// for a connection would hide client-side queueing inside the latency.
func Size(w spec.Workload, peak float64, cores int) (workers, maxWorkers uint64, conns int) {
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
		return n, n, c
	}
	maxWorkers = uint64(w.MaxWorkers)
	if maxWorkers == 0 {
		maxWorkers = uint64(math.Ceil(peak * LatencyBudget.Seconds()))
		maxWorkers = min(max(maxWorkers, MinMaxWorkers, uint64(16*cores)), hardCap)
	}
	conns = w.Connections
	if conns <= 0 {
		conns = int(maxWorkers)
	}
	if uint64(conns) < maxWorkers {
		maxWorkers = uint64(conns)
	}
	workers = uint64(w.Workers)
	if workers == 0 {
		workers = max(uint64(cores), uint64(math.Ceil(peak*0.005)))
	}
	workers = min(workers, maxWorkers)
	return workers, maxWorkers, conns
}

func newClient(conns int, timeout time.Duration, keepAlive bool) *http.Client {
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
	if os.Getenv("DUCKBENCH_STD_TRANSPORT") != "" {
		return &http.Client{Transport: tr, Timeout: timeout}
	}
	return &http.Client{Transport: newH1Transport(d, keepAlive, timeout, tr)}
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
		Targets: a.tgt.names(), KeyDistribution: dist, Seed: seed,
	}
}

// Report is what an attack measured.
type Report struct {
	Plan      results.LoadPlan      `json:"plan"`
	Summary   results.Summary       `json:"summary"`
	Timeline  []results.Second      `json:"timeline"`
	Targets   []results.TargetStats `json:"targets,omitempty"`
	AppShare  map[string]float64    `json:"app_share,omitempty"`
	Saturated bool                  `json:"generator_saturated"`
	// MaxScheduleLagSeconds is the worst lag behind the schedule seen.
	MaxScheduleLagSeconds float64 `json:"max_schedule_lag_seconds"`
	// Histogram is the V2 compressed, base64 HdrHistogram (microseconds).
	Histogram   string          `json:"histogram"`
	Events      []results.Event `json:"events,omitempty"`
	Interrupted bool            `json:"interrupted"`
	StartedAt   time.Time       `json:"started_at"`
	EndedAt     time.Time       `json:"ended_at"`
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
	defer a.client.CloseIdleConnections()

	c := newConsumer(a)
	var enc vegeta.Encoder
	var bw *bufio.Writer
	if a.raw != nil {
		bw = bufio.NewWriterSize(a.raw, 256<<10)
		enc = vegeta.NewEncoder(bw)
	}
	atk := vegeta.NewAttacker(vegeta.Client(a.client), vegeta.Workers(a.workers),
		vegeta.MaxWorkers(a.maxWork), vegeta.MaxBody(0))
	began := time.Now()
	c.began = began
	// A paced attack stops itself after its last scheduled hit; the limit
	// here only drops hits later than the saturation lag (vegeta drops every
	// hit not sent by du, even one a millisecond late).
	du := a.dur
	if !a.pacer.Max() {
		du += a.lagSat
	}
	res := atk.Attack(a.tgt.Next, a.pacer, du, "")
	tick := time.NewTicker(time.Second)
	defer tick.Stop()

	var rawErr error
	done := ctx.Done()
	for res != nil {
		select {
		case r, ok := <-res:
			if !ok {
				res = nil
				break
			}
			c.add(r)
			if enc != nil && rawErr == nil {
				rawErr = enc.Encode(r)
			}
		case now := <-tick.C:
			c.tick(now)
		case <-done:
			done = nil
			atk.Stop()
			c.interrupt(time.Since(began))
		}
	}
	rep := c.report(time.Now())
	if bw != nil && rawErr == nil {
		rawErr = bw.Flush()
	}
	if rawErr != nil {
		return rep, fmt.Errorf("write raw results: %w", rawErr)
	}
	return rep, nil
}

// runWarmup sends the shape's starting rate for the warmup period and drops
// the results; the connections it opened stay for the measured attack.
func (a *Attack) runWarmup(ctx context.Context) error {
	rate := a.pacer.Rate(0)
	var p vegeta.Pacer = vegeta.ConstantPacer{}
	if !a.pacer.Max() {
		if rate <= 0 {
			return nil
		}
		p = constPacer(rate)
	}
	atk := vegeta.NewAttacker(vegeta.Client(a.client), vegeta.Workers(a.workers),
		vegeta.MaxWorkers(a.maxWork), vegeta.MaxBody(0))
	res := atk.Attack(a.tgt.Next, p, a.warmup, "")
	for {
		select {
		case _, ok := <-res:
			if !ok {
				return nil
			}
		case <-ctx.Done():
			atk.Stop()
			for range res {
			}
			return fmt.Errorf("warm up: %w", ctx.Err())
		}
	}
}

func constPacer(rate float64) *Pacer { return &Pacer{s: constant{rate}, dur: math.MaxInt64} }

// consumer owns every statistic; only Run's goroutine calls it.
type consumer struct {
	a        *Attack
	began    time.Time
	total    *stats
	targets  []*stats
	tl       *timeline
	apps     map[string]uint64
	received uint64

	lastTick    time.Time
	lastSent    uint64
	saturated   bool // live state
	satTicks    int  // monitor ticks found behind schedule
	maxLag      time.Duration
	events      []results.Event
	newEvents   int // events not yet handed to progress
	interrupted bool
	interruptAt time.Duration
	metricCodes map[uint16]counter
}

func newConsumer(a *Attack) *consumer {
	c := &consumer{
		a:     a,
		total: newStats(),
		tl:    newTimeline(a.pacer, a.dur, a.timeout, a.lagSat),
		apps:  map[string]uint64{},
	}
	for range a.tgt.targets {
		c.targets = append(c.targets, newStats())
	}
	return c
}

// add is the hot path: one call per result.
func (c *consumer) add(r *vegeta.Result) {
	c.received++
	us := micros(r.Latency)
	ok := r.Error == "" && r.Code >= 200 && r.Code < 400
	bytesIn := r.BytesIn
	if bytesIn == 0 && r.Headers != nil {
		if v := r.Headers["Content-Length"]; len(v) == 1 {
			if n, err := strconv.ParseUint(v[0], 10, 64); err == nil {
				bytesIn = n
				r.BytesIn = n // keeps the raw output honest: bodies are not kept
			}
		}
	}
	c.total.add(r, us, bytesIn, ok)
	if len(c.targets) > 1 {
		c.targets[c.a.tgt.index(r.Method, r.URL)].add(r, us, bytesIn, ok)
	}
	at := r.Timestamp.Sub(c.began)
	var lag time.Duration
	if !c.a.pacer.Max() {
		if lag = at - c.a.pacer.At(r.Seq); lag < 0 {
			lag = 0
		}
		if lag > c.maxLag {
			c.maxLag = lag
		}
	}
	c.tl.add(at, us, r.Code, ok, lag)
	if v := r.Headers[ServedByHeader]; len(v) > 0 {
		c.apps[v[0]]++
	}
	if m := c.a.metrics; m != nil {
		m.observe(c, r.Code, r.Latency)
	}
}

// tick runs once a second: it closes finished seconds, checks the schedule
// and reports progress.
func (c *consumer) tick(now time.Time) {
	elapsed := now.Sub(c.began)
	interval := now.Sub(c.lastTick)
	if c.lastTick.IsZero() {
		interval = elapsed
	}
	c.lastTick = now
	sec := int(elapsed / time.Second)
	c.tl.closeThrough(sec - 1 - int(c.a.timeout/time.Second) - 1)

	p := c.a.pacer
	sent := p.Sent()
	achieved := float64(sent-c.lastSent) / interval.Seconds()
	c.lastSent = sent
	var target float64
	var lag time.Duration
	if !p.Max() {
		from := max(elapsed-interval, 0)
		target = (p.Hits(min(elapsed, c.a.dur)) - p.Hits(min(from, c.a.dur))) / interval.Seconds()
		if due := p.At(sent); due < c.a.dur && elapsed > due {
			lag = elapsed - due
		}
		if lag > c.maxLag {
			c.maxLag = lag
		}
		c.tl.noteLag(sec-1, lag)
	}
	inFlight := sent - min(sent, c.received)
	sat := !p.Max() && !c.interrupted && lag > c.a.lagSat
	switch {
	case sat && !c.saturated:
		why := "the generator is short of CPU"
		if inFlight >= c.a.maxWork {
			why = fmt.Sprintf("all %d workers are busy", c.a.maxWork)
		}
		c.event(elapsed, "saturation", "start", fmt.Sprintf(
			"load generator %s behind schedule (%s): achieved %.0f of %.0f req/s; results are not a capacity",
			lag.Round(time.Millisecond), why, achieved, target))
	case !sat && c.saturated:
		c.event(elapsed, "saturation", "end", "load generator back on schedule")
	}
	c.saturated = sat
	if sat {
		c.satTicks++
	}
	if m := c.a.metrics; m != nil {
		m.targetRate.Set(target)
		m.achievedRate.Set(achieved)
	}
	if c.a.progress != nil {
		c.a.progress(c.progress(elapsed, target, achieved, lag, inFlight))
	}
}

func (c *consumer) progress(elapsed time.Duration, target, achieved float64, lag time.Duration, inFlight uint64) Progress {
	pr := Progress{
		Elapsed: min(elapsed, c.a.dur), Total: c.a.dur,
		Sent: c.a.pacer.Sent(), Responses: c.received, Errors: c.total.requests - c.total.success,
		TargetRate: target, AchievedRate: achieved, ScheduleLag: lag, InFlight: inFlight,
		P99:       time.Duration(c.total.hist.ValueAtQuantile(99)) * time.Microsecond,
		Saturated: c.saturated,
	}
	if c.newEvents < len(c.events) {
		pr.Events = append([]results.Event(nil), c.events[c.newEvents:]...)
		c.newEvents = len(c.events)
	}
	return pr
}

func (c *consumer) event(at time.Duration, kind, action, msg string) {
	c.events = append(c.events, results.Event{AtSeconds: at.Seconds(), Kind: kind, Action: action, Message: msg})
}

func (c *consumer) interrupt(at time.Duration) {
	c.interrupted, c.interruptAt = true, at
	c.event(at, "interrupt", "stop", "attack stopped early; waiting for requests in flight")
	if c.a.progress != nil {
		c.a.progress(c.progress(at, 0, 0, 0, 0))
	}
}

// isSaturated is the verdict on the whole attack: behind schedule for more
// than a passing moment (two seconds, live or by the results' own lag), or
// short of the scheduled requests by more than 1 %. A single late second —
// a GC pause, a neighbour on the core — gets an event, not the flag.
func (c *consumer) isSaturated(upTo time.Duration) bool {
	p := c.a.pacer
	if p.Max() {
		return false
	}
	if c.satTicks >= 2 || c.tl.satSecs >= 2 {
		return true
	}
	want := math.Ceil(p.Hits(min(upTo, c.a.dur)))
	return !c.interrupted && float64(c.total.requests) < 0.99*want
}

func (c *consumer) report(end time.Time) *Report {
	upTo := c.a.dur
	if c.interrupted {
		upTo = c.interruptAt
	}
	if c.saturated {
		c.event(min(end.Sub(c.began), c.a.dur), "saturation", "end", "attack ended while behind schedule")
	}
	tl := c.tl.finish(upTo)
	mean := 0.0
	if !c.a.pacer.Max() {
		d := min(upTo, c.a.dur)
		if d > 0 {
			mean = c.a.pacer.Hits(d) / d.Seconds()
		}
	}
	rep := &Report{
		Plan:                  c.a.Plan(),
		Summary:               c.total.summary(mean),
		Timeline:              tl,
		AppShare:              shares(c.apps),
		Saturated:             c.isSaturated(upTo),
		MaxScheduleLagSeconds: c.maxLag.Seconds(),
		Events:                c.events,
		Interrupted:           c.interrupted,
		StartedAt:             c.began,
		EndedAt:               end,
	}
	if c.tl.satSecs > 0 {
		rep.Events = append(rep.Events, results.Event{AtSeconds: upTo.Seconds(), Kind: "saturation", Action: "summary",
			Message: fmt.Sprintf("load generator was more than %s behind schedule in %d second(s)", c.a.lagSat, c.tl.satSecs)})
	}
	rep.Histogram, _ = EncodeHistogram(c.total.hist)
	names := c.a.tgt.names()
	if len(c.targets) > 1 {
		for i, s := range c.targets {
			rep.Targets = append(rep.Targets, results.TargetStats{Name: names[i], Summary: s.summary(0)})
		}
	} else {
		rep.Targets = []results.TargetStats{{Name: names[0], Summary: rep.Summary}}
	}
	return rep
}
