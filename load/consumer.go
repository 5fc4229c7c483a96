package load

import (
	"fmt"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/results"
)

// Causes of a slipped schedule, as the live monitor tells them apart.
const (
	causeCPU = "cpu" // workers were free: the generator itself is late
	causeCap = "cap" // all workers busy at a configured cap, the server answering as usual
	causeSUT = "sut" // all workers busy at the machine's hard cap, or waiting on a server that slowed down
)

// Saturation causes (Report.SaturationCause).
const (
	// SaturationCPU: the generator was late with workers free.
	SaturationCPU = "cpu"
	// SaturationCap: every worker was busy at a configured cap (max_workers,
	// connections) while the server answered no slower than usual:
	// "unknown (generator cap)".
	SaturationCap = "generator cap"
)

// consumer owns every statistic; only Run's goroutine calls it.
type consumer struct {
	a        *Attack
	sch      *scheduler
	began    time.Time
	total    *stats
	targets  []*stats
	tl       *timeline
	stalls   *stallFinder
	servers  map[string]*serverBucket // by X-Served-By, and results.Unattributed
	named    int                      // servers with their own bucket
	received uint64
	lastEnd  time.Time
	// sent counts actual sends, firstSend and lastSend span them.
	sent                uint64
	firstSend, lastSend time.Time

	lastTick    time.Time
	lastSent    uint64
	lastBlocked time.Duration
	cause       string // live state: "" on schedule, else a cause*
	sutWhy      string // why the live cause is causeSUT
	cpuTicks    int    // monitor ticks behind schedule by the generator's CPU
	capTicks    int    // … by its configured worker cap
	sutTicks    int    // … by the system under test
	maxLag      time.Duration
	events      []results.Event
	newEvents   int // events not yet handed to progress
	interrupted bool
	interruptAt time.Duration
	metricCodes map[uint16]counter
}

func newConsumer(a *Attack, began time.Time) *consumer {
	c := &consumer{
		a:       a,
		began:   began,
		total:   newStats(),
		tl:      newTimeline(a.pacer, a.dur, a.timeout, a.lagSat),
		servers: map[string]*serverBucket{},
	}
	if a.shard {
		c.tl.keep = true
		c.tl.hists, c.tl.svcHists = make([]string, len(c.tl.secs)), make([]string, len(c.tl.secs))
	}
	c.stalls = &stallFinder{began: began, paced: !a.pacer.Max(), onStall: func(st results.Stall) {
		c.event(time.Duration(st.StartSeconds*1e9), "stall", "start", fmt.Sprintf(
			"no response for %s while requests waited",
			results.FormatSeconds(st.DurationSeconds)))
	}}
	for range a.tgt.targets {
		c.targets = append(c.targets, newStats())
	}
	return c
}

// add is the hot path: one call per result.
func (c *consumer) add(r *result) {
	c.received++
	ok := r.Error == "" && r.Code >= 200 && r.Code < 400
	c.total.add(r, ok)
	if len(c.targets) > 1 && !r.unsent {
		c.targets[r.target].add(r, ok)
	}
	at := r.Timestamp.Sub(c.began)
	sentAt := r.sent.Sub(c.began)
	var cpuLag time.Duration
	if !c.a.pacer.Max() && !r.unsent {
		lag := max(r.sent.Sub(r.Timestamp), 0)
		c.maxLag = max(c.maxLag, lag)
		if !r.waited {
			cpuLag = lag
		}
	}
	c.tl.add(r, at, sentAt, ok, cpuLag)
	c.stalls.add(r, ok)
	if !r.unsent {
		// A hit never sent has no response: its cut-off never ends the window.
		if end := r.sent.Add(r.service); end.After(c.lastEnd) {
			c.lastEnd = end
		}
		c.sent++
		if c.firstSend.IsZero() || r.sent.Before(c.firstSend) {
			c.firstSend = r.sent
		}
		if r.sent.After(c.lastSend) {
			c.lastSend = r.sent
		}
	}
	sv := c.server(r)
	sv.stats.add(r, ok)
	if m := c.a.metrics; m != nil {
		m.observe(c, r.Code, r.Latency, ok, sv)
	}
}

// rawResult is r as vegeta's format has it: its URL and X-Served-By,
// built only for a raw results file.
func (c *consumer) rawResult(r *result) *vegeta.Result {
	if !r.unsent {
		r.URL = string(c.a.tgt.appendURL(nil, r.target, r.key))
	}
	if r.servedBy != "" {
		r.Headers = http.Header{ServedByHeader: {r.servedBy}}
	}
	return &r.Result
}

// tick runs once a second: it closes finished seconds, checks the schedule
// and tells why it slipped, and reports progress.
func (c *consumer) tick(now time.Time) {
	elapsed := now.Sub(c.began)
	interval := now.Sub(c.lastTick)
	if c.lastTick.IsZero() {
		interval = elapsed
	}
	c.lastTick = now
	sec := int(elapsed / time.Second)
	p := c.a.pacer
	sent := c.sch.sentCount()
	// A second is final once every hit due in it was sent and a timeout passed.
	oldest := c.a.dur
	if !p.Max() {
		oldest = c.sch.oldestUnsent()
	}
	oldestDue := int(oldest / time.Second)
	c.tl.closeThrough(min(sec-1-int(c.a.timeout/time.Second)-1, oldestDue-1))

	achieved := float64(sent-c.lastSent) / interval.Seconds()
	c.lastSent = sent
	var target float64
	var lag time.Duration
	if !p.Max() {
		from := max(elapsed-interval, 0)
		target = (p.Hits(min(elapsed, c.a.dur)) - p.Hits(min(from, c.a.dur))) / interval.Seconds()
		if oldest < c.a.dur && elapsed > oldest {
			lag = elapsed - oldest
		}
		c.maxLag = max(c.maxLag, lag)
		c.tl.noteLag(sec-1, lag)
	}
	inFlight := sent - min(sent, c.received)
	cause := ""
	age := c.sch.takeWorstAge(now)
	if !p.Max() && !c.interrupted && lag > c.a.lagSat {
		cause = c.why(now, interval, age)
	}
	if cause != c.cause {
		c.causeEvent(elapsed, cause, lag, achieved, target)
	}
	c.cause = cause
	switch cause {
	case causeCPU:
		c.cpuTicks++
	case causeCap:
		c.capTicks++
	case causeSUT:
		c.sutTicks++
	}
	if m := c.a.metrics; m != nil {
		m.targetRate.Set(target)
		m.achievedRate.Set(achieved)
	}
	if c.a.progress != nil {
		c.a.progress(c.progress(elapsed, target, achieved, lag, inFlight))
	}
}

// why tells why the schedule slipped over the last interval. Workers free
// most of the time: the generator is late by itself (CPU). Every worker
// busy: the requests still in flight decide, never the ones that completed
// (before a stall those are the quick ones). At the machine's hard cap, or
// with a request in flight (or none answered since the wait began) for
// longer than the stall threshold — the server's service time grew — the
// system under test is not keeping up; otherwise the configured cap is too
// low for a server answering as usual.
func (c *consumer) why(now time.Time, interval, age time.Duration) string {
	blocked := c.sch.blockedFor(now)
	dBlocked := blocked - c.lastBlocked
	c.lastBlocked = blocked
	since := c.sch.blockedSince.Load()
	if dBlocked < interval/2 && since == 0 {
		return causeCPU
	}
	th := c.stalls.threshold()
	switch {
	case c.sch.workers.Load() >= c.a.hardCap:
		c.sutWhy = fmt.Sprintf("all %d workers, this machine's cap, in flight", c.a.hardCap)
	case age >= th:
		c.sutWhy = fmt.Sprintf("a request in flight for %s, past the stall threshold %s",
			age.Round(time.Millisecond), th.Round(time.Millisecond))
	case since != 0 && now.Sub(time.Unix(0, since)) >= th && c.lastEnd.Before(time.Unix(0, since)):
		c.sutWhy = "no response since every worker became busy"
	default:
		return causeCap
	}
	return causeSUT
}

func (c *consumer) causeEvent(elapsed time.Duration, cause string, lag time.Duration, achieved, target float64) {
	behind := fmt.Sprintf("%s behind schedule: achieved %.0f of %.0f req/s", lag.Round(time.Millisecond), achieved, target)
	switch cause {
	case causeCPU:
		c.event(elapsed, "saturation", "start", "load generator "+behind+
			" (the generator is short of CPU); results are not a capacity")
	case causeCap:
		c.event(elapsed, "saturation", "start", fmt.Sprintf("load generator %s (all %d workers busy at the configured cap while the server answered as usual: raise load.max_workers or load.connections); unknown (generator cap): results are not a capacity",
			behind, c.a.maxWork))
	case causeSUT:
		c.event(elapsed, "overload", "start", fmt.Sprintf("system under test not keeping up, %s (%s); latency counts from each request's intended send time",
			behind, c.sutWhy))
	default:
		kind := "saturation"
		if c.cause == causeSUT {
			kind = "overload"
		}
		c.event(elapsed, kind, "end", "back on schedule")
	}
}

func (c *consumer) progress(elapsed time.Duration, target, achieved float64, lag time.Duration, inFlight uint64) Progress {
	pr := Progress{
		Elapsed: min(elapsed, c.a.dur), Total: c.a.dur,
		Sent: c.sch.sentCount(), Responses: c.received, Errors: c.total.requests - c.total.success,
		TargetRate: target, AchievedRate: achieved, ScheduleLag: lag, InFlight: inFlight,
		P99:       time.Duration(c.total.hist.ValueAtQuantile(99)) * time.Microsecond,
		Saturated: c.cause == causeCPU || c.cause == causeCap,
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

// saturation is the verdict on the generator over the whole attack:
// behind schedule by its own fault for more than a passing moment (two
// seconds, live or by the results' own lag), and why. A single late
// second — a GC pause, a neighbour on the core — gets an event, not the
// flag.
func (c *consumer) saturation() (bool, string) {
	switch {
	case c.a.pacer.Max():
		return false, ""
	case c.cpuTicks+c.capTicks >= 2 && c.capTicks > c.cpuTicks:
		return true, SaturationCap
	case c.cpuTicks+c.capTicks >= 2 || c.tl.satSecs >= 2:
		return true, SaturationCPU
	}
	return false, ""
}

func (c *consumer) report(end time.Time) *Report {
	upTo := c.a.dur
	if c.interrupted {
		upTo = c.interruptAt
	}
	if c.cause != "" {
		c.causeEvent(min(end.Sub(c.began), c.a.dur), "", 0, 0, 0)
	}
	tl := c.tl.finish(upTo)
	mean := 0.0
	if !c.a.pacer.Max() {
		d := min(upTo, c.a.dur)
		if d > 0 {
			mean = c.a.pacer.Hits(d) / d.Seconds()
		}
	}
	// One throughput for an open-model run: the successes among the
	// scheduled hits over the scheduled duration (up to an interrupt), as
	// wrk2 and Gatling report it; the drain after it is reported apart.
	window := upTo
	var drain time.Duration
	if !c.lastEnd.IsZero() {
		drain = max(c.lastEnd.Sub(c.began.Add(upTo)), 0)
	}
	basis := results.BasisIntended
	if c.a.pacer.Max() {
		basis = results.BasisService
	}
	rep := &Report{
		Plan:                  c.a.Plan(),
		Summary:               c.total.summary(mean, window, basis),
		Timeline:              tl,
		AppShare:              c.appShare(),
		Stalls:                c.stalls.result(),
		MaxScheduleLagSeconds: c.maxLag.Seconds(),
		Events:                c.events,
		Interrupted:           c.interrupted,
		StartedAt:             c.began,
		EndedAt:               end,
	}
	rep.Summary.DrainSeconds = drain.Seconds()
	if c.sch != nil {
		rep.Plan.WorkersUsed = c.sch.workers.Load()
	}
	rep.Saturated, rep.SaturationCause = c.saturation()
	if c.tl.satSecs > 0 {
		rep.Events = append(rep.Events, results.Event{AtSeconds: upTo.Seconds(), Kind: "saturation", Action: "summary",
			Message: fmt.Sprintf("load generator was more than %s behind schedule with workers free in %d second(s)", c.a.lagSat, c.tl.satSecs)})
	}
	// A stall alone does not make the run SUT-bound: a loaded machine's
	// 100 ms hiccup is recorded (and is in the latency), but only a
	// schedule that slipped at the hard cap, or while the server's service
	// time had grown, says it could not keep up.
	rep.SUTBound = c.sutTicks > 0
	rep.Histogram, _ = EncodeHistogram(c.total.hist)
	if basis == results.BasisIntended {
		rep.ServiceHistogram, _ = EncodeHistogram(c.total.svc)
	}
	rep.Servers = c.serverReport(window, basis)
	names := c.a.tgt.names()
	if c.a.shard {
		rep.Shard = c.shardData(len(tl))
	}
	if len(c.targets) > 1 {
		for i, s := range c.targets {
			rep.Targets = append(rep.Targets, results.TargetStats{Name: names[i], Summary: s.summary(0, window, basis)})
		}
	} else {
		rep.Targets = []results.TargetStats{{Name: names[0], Summary: rep.Summary}}
	}
	return rep
}

// shardData is Report.Shard over the first n seconds of the timeline.
func (c *consumer) shardData(n int) *ShardData {
	d := &ShardData{Sent: c.sent, FirstSend: c.firstSend, LastSend: c.lastSend,
		Seconds: c.tl.hists[:n], ServiceSeconds: c.tl.svcHists[:n]}
	if c.a.pacer.Max() {
		d.ServiceSeconds = nil
	}
	if c.total.fail.TotalCount() > 0 {
		d.FailureHistogram, _ = EncodeHistogram(c.total.fail)
	}
	if len(c.targets) > 1 {
		for _, s := range c.targets {
			h, _ := EncodeHistogram(s.hist)
			d.TargetHistograms = append(d.TargetHistograms, h)
		}
	} else {
		h, _ := EncodeHistogram(c.total.hist)
		d.TargetHistograms = []string{h}
	}
	return d
}
