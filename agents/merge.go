package agents

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
)

// Arrival is what the coordinator holds of one agent when the attack is
// over.
type Arrival struct {
	// Index is the agent's 1-based index.
	Index int
	// Shard is its result (nil: none arrived).
	Shard *Shard
	// ClockOffset is the agent's clock minus the coordinator's at its
	// hello; Hello is false when none arrived.
	ClockOffset time.Duration
	Hello       bool
	// HelloAt is the agent's clock reading in its hello: when it was
	// running.
	HelloAt time.Time
	// Err says why no (readable) result arrived, e.g. the task's state.
	Err error
	// Node and Task locate the agent.
	Node, Task string
	// Clock is the agent's measured offset to the coordinator's clock
	// (nil: not measured); ClockErr why it could not be bounded.
	Clock    *ClockReading
	ClockErr string
	// FleetEvents are what the coordinator saw of the whole fleet during
	// the attack (a node lost, a node back), timed from the start; Merge
	// puts each on the timeline once, whichever arrival carries it.
	FleetEvents []results.Event
}

// Merged is the exact merge of the shards that came back.
type Merged struct {
	// Report is the merged attack (nil when no shard came back).
	Report *load.Report
	// Agents has one entry per agent, in index order.
	Agents []results.AgentStats
	// Missing names the agents left out of the merge and why; a run with
	// any is incomplete.
	Missing []string
}

// PlannedHits is the number of requests of p's unsharded schedule.
func PlannedHits(p Plan) (uint64, error) {
	pc, err := load.NewPacer(p.Workload, p.Duration)
	if err != nil {
		return 0, err
	}
	if pc.Max() {
		return 0, nil
	}
	// The first hit due at or after the duration, by doubling then bisection.
	hi := uint64(1)
	for pc.At(hi) < p.Duration {
		hi *= 2
	}
	lo := uint64(0)
	for lo < hi {
		mid := lo + (hi-lo)/2
		if pc.At(mid) < p.Duration {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// Merge merges the arrivals of p's agents: histograms added bucket by
// bucket (every quantile is read off the merged histogram), counts
// summed, rates over the union of the agents' attack windows. An agent
// without a result, or whose clock lay more than maxSkew from the
// coordinator's, is left out and named in Missing.
func Merge(p Plan, arr []Arrival, maxSkew time.Duration) (*Merged, error) {
	total, err := PlannedHits(p)
	if err != nil {
		return nil, err
	}
	m := &Merged{}
	var shards []*Shard
	sort.Slice(arr, func(a, b int) bool { return arr[a].Index < arr[b].Index })
	for _, a := range arr {
		st := results.AgentStats{Index: a.Index, Node: a.Node, Task: a.Task, ClockOffsetSeconds: a.ClockOffset.Seconds(),
			PlannedRequests: load.StripeHits(total, a.Index-1, p.Agents)}
		if a.Clock != nil {
			st.ClockMeasuredOffsetSeconds, st.ClockBoundSeconds = a.Clock.Offset.Seconds(), a.Clock.Bound().Seconds()
		}
		switch {
		case a.ClockErr != "":
			st.Status = results.AgentClock
			st.Error = "clock offset cannot be bounded: " + a.ClockErr
		case a.Shard == nil:
			st.Status = results.AgentMissing
			st.Error = "no result"
			if a.Err != nil {
				st.Error = a.Err.Error()
			}
		case !a.Hello:
			st.Status = results.AgentClock
			st.Error = "no clock reading (hello) arrived"
		case a.ClockOffset > maxSkew || a.ClockOffset < -maxSkew:
			st.Status = results.AgentClock
			st.Error = fmt.Sprintf("clock %+.3fs off the coordinator's (bound ±%v)", a.ClockOffset.Seconds(), maxSkew)
		default:
			st.Status = results.AgentOK
			shards = append(shards, a.Shard)
		}
		if s := a.Shard; s != nil && s.Report != nil {
			fillAgent(&st, s)
		}
		if st.Status != results.AgentOK {
			m.Missing = append(m.Missing, fmt.Sprintf("agent %d: %s", a.Index, st.Error))
		}
		m.Agents = append(m.Agents, st)
	}
	if len(shards) > 0 {
		if m.Report, err = mergeShards(p, shards); err != nil {
			return nil, err
		}
		m.Report.Events = append(m.Report.Events, lateStarts(p, arr)...)
		seen := map[string]bool{}
		for _, a := range arr {
			for _, e := range a.FleetEvents {
				if k := fmt.Sprintf("%.3f %s", e.AtSeconds, e.Message); !seen[k] {
					seen[k] = true
					m.Report.Events = append(m.Report.Events, e)
				}
			}
		}
		sort.SliceStable(m.Report.Events, func(a, b int) bool { return m.Report.Events[a].AtSeconds < m.Report.Events[b].AtSeconds })
	}
	return m, nil
}

// lateStarts warns of agents that announced themselves after the common
// start (deployment took longer than the lead): their first requests went
// out late. Their latency is timed from the schedule, so the wait is in
// the figures; the warning says why.
func lateStarts(p Plan, arr []Arrival) []results.Event {
	var out []results.Event
	for _, a := range arr {
		if a.Shard == nil || !a.Hello || a.HelloAt.IsZero() {
			continue
		}
		if late := a.HelloAt.Sub(p.Start); late > 0 {
			out = append(out, results.Event{AtSeconds: 0, Kind: "saturation", Action: "start", Message: fmt.Sprintf(
				"agent %d: started %s after the common start, its first requests late (raise --agent-start-lead)",
				a.Index, late.Round(time.Millisecond))})
		}
	}
	return out
}

func fillAgent(st *results.AgentStats, s *Shard) {
	r := s.Report
	st.Requests, st.Success = r.Summary.Requests, r.Summary.Success
	st.TargetRate = r.Summary.TargetRate
	st.MaxScheduleLagSeconds = r.MaxScheduleLagSeconds
	st.GeneratorSaturated = r.Saturated
	st.Stalls = len(r.Stalls)
	st.LatencyP99 = r.Summary.Latency.P99
	st.Generator = r.Summary.Generator
	if d := r.Shard; d != nil {
		st.FirstSend, st.LastSend = d.FirstSend.UTC(), d.LastSend.UTC()
		if w := r.Summary.DurationSeconds; w > 0 {
			st.AchievedRate = float64(d.Sent) / w
		}
	}
}

// hists accumulates decoded histograms; the first decode error sticks.
type hists struct{ err error }

func (h *hists) add(dst **hdrhistogram.Histogram, enc string, sigFigs int) {
	if enc == "" || h.err != nil {
		return
	}
	src, err := hdrhistogram.Decode([]byte(enc))
	if err != nil {
		h.err = fmt.Errorf("decode histogram: %w", err)
		return
	}
	if *dst == nil {
		*dst = hdrhistogram.New(load.HistMin, load.HistMax, sigFigs)
	}
	if dropped := (*dst).Merge(src); dropped != 0 {
		h.err = fmt.Errorf("merge histogram: %d values out of range", dropped)
	}
}

func encode(h *hdrhistogram.Histogram) string {
	if h == nil {
		return ""
	}
	s, _ := load.EncodeHistogram(h)
	return s
}

func quantiles(h *hdrhistogram.Histogram) results.Quantiles {
	if h == nil {
		return results.Quantiles{}
	}
	return load.Quantiles(h)
}

// mergeShards merges the reports of the agents in shards (at least one).
func mergeShards(p Plan, shards []*Shard) (*load.Report, error) {
	var hs hists
	var total, svc, fail *hdrhistogram.Histogram
	out := &load.Report{Plan: shards[0].Report.Plan}
	out.Plan.Rate = float64(p.Workload.Rate)
	if p.Workload.Rate.IsMax() {
		out.Plan.Rate = -1
	}
	out.Plan.Seed, out.Plan.Workers, out.Plan.MaxWorkers, out.Plan.Connections = p.Seed, 0, 0, 0
	sum := &out.Summary
	sum.StatusCodes = map[string]uint64{}
	var start, end, drained time.Time
	apps := map[string]float64{}
	targets := map[string]*targetAcc{}
	var order []string
	var secs []secondAcc
	var stalls [][]results.Stall
	var servers [][]results.ServerLatency
	var gens []*results.GeneratorCost
	for _, sh := range shards {
		r := sh.Report
		out.Plan.Workers += r.Plan.Workers
		out.Plan.MaxWorkers += r.Plan.MaxWorkers
		out.Plan.WorkersUsed += r.Plan.WorkersUsed
		out.Plan.Connections += r.Plan.Connections
		s := r.Summary
		sum.AddCounts(s)
		sum.TargetRate += s.TargetRate
		gens = append(gens, s.Generator)
		for app, v := range r.AppShare {
			apps[app] += v * float64(s.Requests)
		}
		// The union window: from the earliest start to the latest end of
		// any agent's scheduled window (never a sum or mean of their
		// rates); the drain past it is the latest agent's.
		from := r.StartedAt
		to := from.Add(time.Duration(s.DurationSeconds * float64(time.Second)))
		if start.IsZero() || from.Before(start) {
			start = from
		}
		if to.After(end) {
			end = to
		}
		if d := to.Add(time.Duration(s.DrainSeconds * float64(time.Second))); d.After(drained) {
			drained = d
		}
		if out.EndedAt.Before(r.EndedAt) {
			out.EndedAt = r.EndedAt
		}
		hs.add(&total, r.Histogram, load.HistSigFigs)
		hs.add(&svc, r.ServiceHistogram, load.HistSigFigs)
		out.Saturated = out.Saturated || r.Saturated
		out.SUTBound = out.SUTBound || r.SUTBound
		out.Interrupted = out.Interrupted || r.Interrupted
		out.MaxScheduleLagSeconds = math.Max(out.MaxScheduleLagSeconds, r.MaxScheduleLagSeconds)
		stalls = append(stalls, r.Stalls)
		servers = append(servers, r.Servers)
		for _, e := range r.Events {
			e.Message = fmt.Sprintf("agent %d: %s", sh.Index, e.Message)
			out.Events = append(out.Events, e)
		}
		d := r.Shard
		if d == nil {
			return nil, fmt.Errorf("agent %d: its report has no histograms to merge", sh.Index)
		}
		hs.add(&fail, d.FailureHistogram, load.HistSigFigs)
		order = hs.addTargets(targets, order, r.Targets, d.TargetHistograms)
		secs = hs.addSeconds(secs, r.Timeline, d)
	}
	if hs.err != nil {
		return nil, hs.err
	}
	out.StartedAt = start
	window := end.Sub(start).Seconds()
	sum.DurationSeconds = window
	if drained.After(end) {
		sum.DrainSeconds = drained.Sub(end).Seconds()
	}
	if window > 0 {
		sum.Rate = float64(sum.Requests) / window
		sum.Throughput = float64(sum.Success) / window
	}
	if sum.Requests > 0 {
		sum.SuccessRatio = float64(sum.Success) / float64(sum.Requests)
		for app := range apps {
			apps[app] /= float64(sum.Requests)
		}
		out.AppShare = apps
	}
	sum.Latency = quantiles(total)
	results.FillAllRequests(sum, total)
	// The agents ran at once, each in its own process (and mostly on its
	// own machine): CPU summed, cores added up.
	sum.Generator = results.SumGenerators(true, gens...)
	if svc != nil {
		q := quantiles(svc)
		sum.ServiceTime = &q
	}
	if fail != nil {
		q := quantiles(fail)
		sum.FailureLatency = &q
	}
	out.Histogram, out.ServiceHistogram = encode(total), encode(svc)
	// Per server: histograms merged exactly; the shards ran at once, so
	// the window is the run's, not the sum of theirs.
	out.Servers = load.MergeServers(servers...)
	for i := range out.Servers {
		sv := &out.Servers[i].Summary
		sv.DurationSeconds, sv.Rate, sv.Throughput = window, 0, 0
		if window > 0 {
			sv.Rate, sv.Throughput = float64(sv.Requests)/window, float64(sv.Success)/window
		}
	}
	for _, name := range order {
		out.Targets = append(out.Targets, targets[name].summary(name, window, sum.LatencyBasis))
	}
	for i := range secs {
		out.Timeline = append(out.Timeline, secs[i].second(i))
	}
	out.Stalls = intersectStalls(stalls)
	sort.SliceStable(out.Events, func(a, b int) bool { return out.Events[a].AtSeconds < out.Events[b].AtSeconds })
	return out, nil
}

// addTargets adds one shard's per-target figures and histograms to
// targets and returns order with the targets seen first here appended.
func (hs *hists) addTargets(targets map[string]*targetAcc, order []string, ts []results.TargetStats, hists []string) []string {
	for i, t := range ts {
		acc := targets[t.Name]
		if acc == nil {
			acc = &targetAcc{codes: map[string]uint64{}}
			targets[t.Name] = acc
			order = append(order, t.Name)
		}
		acc.add(t.Summary)
		if i < len(hists) {
			hs.add(&acc.hist, hists[i], load.HistSigFigs)
		}
	}
	return order
}

// addSeconds adds one shard's seconds (the agents share their start, so
// second i is the same second for all) to secs and returns it.
func (hs *hists) addSeconds(secs []secondAcc, timeline []results.Second, d *load.ShardData) []secondAcc {
	for i, sec := range timeline {
		if i >= len(secs) {
			secs = append(secs, make([]secondAcc, i+1-len(secs))...)
		}
		a := &secs[i]
		a.add(sec)
		if i < len(d.Seconds) {
			hs.add(&a.hist, d.Seconds[i], 2)
		}
		if i < len(d.ServiceSeconds) {
			hs.add(&a.svc, d.ServiceSeconds[i], 2)
		}
	}
	return secs
}

type targetAcc struct {
	req, ok, errs uint64
	codes         map[string]uint64
	hist          *hdrhistogram.Histogram
}

func (t *targetAcc) add(s results.Summary) {
	t.req += s.Requests
	t.ok += s.Success
	t.errs += s.Errors
	for k, v := range s.StatusCodes {
		t.codes[k] += v
	}
}

func (t *targetAcc) summary(name string, window float64, basis string) results.TargetStats {
	s := results.Summary{Requests: t.req, Success: t.ok, Errors: t.errs, StatusCodes: t.codes,
		LatencyBasis: basis, Latency: quantiles(t.hist), DurationSeconds: window}
	results.FillAllRequests(&s, t.hist)
	if t.req > 0 {
		s.SuccessRatio = float64(t.ok) / float64(t.req)
	}
	if window > 0 {
		s.Rate, s.Throughput = float64(t.req)/window, float64(t.ok)/window
	}
	return results.TargetStats{Name: name, Summary: s}
}

// secondAcc is one second of the merged timeline: the agents share the
// start, so their second i is the same second.
type secondAcc struct {
	target, achieved, throughput float64
	errs                         uint64
	lag                          float64
	codes                        map[string]uint64
	hist, svc                    *hdrhistogram.Histogram
}

func (a *secondAcc) add(s results.Second) {
	a.target += s.TargetRate
	a.achieved += s.AchievedRate
	a.throughput += s.Throughput
	a.errs += s.Errors
	a.lag = math.Max(a.lag, s.ScheduleLagSeconds)
	for k, v := range s.StatusCodes {
		if a.codes == nil {
			a.codes = map[string]uint64{}
		}
		a.codes[k] += v
	}
}

func (a *secondAcc) second(t int) results.Second {
	s := results.Second{T: t, TargetRate: a.target, AchievedRate: a.achieved, Throughput: a.throughput,
		Errors: a.errs, ScheduleLagSeconds: a.lag, StatusCodes: a.codes}
	us := func(v int64) float64 { return float64(v) / 1e6 }
	if a.hist != nil && a.hist.TotalCount() > 0 {
		s.P50, s.P99, s.Max = us(a.hist.ValueAtQuantile(50)), us(a.hist.ValueAtQuantile(99)), us(a.hist.Max())
	}
	if a.svc != nil && a.svc.TotalCount() > 0 {
		s.ServiceP50, s.ServiceP99 = us(a.svc.ValueAtQuantile(50)), us(a.svc.ValueAtQuantile(99))
	}
	return s
}

// Describe is a one-line account of an agent for logs.
func Describe(st results.AgentStats) string {
	s := "agent " + strconv.Itoa(st.Index)
	if st.Node != "" {
		s += " on " + st.Node
	}
	s += ": " + st.Status
	if st.Error != "" {
		s += " (" + st.Error + ")"
	}
	s += fmt.Sprintf(", %d/%d requests, achieved %.1f req/s, lag %s", st.Requests, st.PlannedRequests,
		st.AchievedRate, results.FormatSeconds(st.MaxScheduleLagSeconds))
	if st.ClockBoundSeconds > 0 {
		s += fmt.Sprintf(", clock %+.1fms ±%.1fms measured, %+.1fms after correction", st.ClockMeasuredOffsetSeconds*1e3,
			st.ClockBoundSeconds*1e3, st.ClockOffsetSeconds*1e3)
	}
	return s
}

// intersectStalls is the stalls of the whole run: the spans in which no
// agent got an answer while its requests waited, the intersection of every
// agent's stalls (one agent's stall alone, e.g. its own connections', is in
// its row). Requests sums the agents' requests that waited through a
// stall overlapping the span.
func intersectStalls(per [][]results.Stall) []results.Stall {
	if len(per) == 0 {
		return nil
	}
	type span struct {
		from, to float64
		req      uint64
	}
	toSpans := func(ss []results.Stall) []span {
		out := make([]span, 0, len(ss))
		for _, s := range ss {
			out = append(out, span{s.StartSeconds, s.StartSeconds + s.DurationSeconds, s.Requests})
		}
		sort.Slice(out, func(a, b int) bool { return out[a].from < out[b].from })
		return out
	}
	cur := toSpans(per[0])
	for _, next := range per[1:] {
		var out []span
		for _, a := range cur {
			for _, b := range toSpans(next) {
				if from, to := math.Max(a.from, b.from), math.Min(a.to, b.to); to > from {
					out = append(out, span{from, to, a.req + b.req})
				}
			}
		}
		cur = out
	}
	var res []results.Stall
	for _, s := range cur {
		res = append(res, results.Stall{StartSeconds: s.from, DurationSeconds: s.to - s.from, Requests: s.req})
	}
	return res
}
