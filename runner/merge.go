package runner

import (
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
)

// merge writes the attack reports of a run into r: one report as it is;
// several (a repeated run) as Trials plus a Summary over all of them, with
// the latency quantiles read off the merged histogram, never averaged.
func merge(r *results.Result, reps []*load.Report, t0 time.Time) {
	if len(reps) == 0 {
		return
	}
	r.Histogram = reps[0].Histogram
	r.ServiceHistogram = reps[0].ServiceHistogram
	r.Summary = reps[0].Summary
	r.Targets = reps[0].Targets
	r.AppShare = reps[0].AppShare
	r.Servers = reps[0].Servers
	for _, rep := range reps {
		off := rep.StartedAt.Sub(t0)
		offSec := int(math.Round(off.Seconds()))
		for _, s := range rep.Timeline {
			s.T += offSec
			r.Timeline = append(r.Timeline, s)
		}
		for _, e := range rep.Events {
			e.AtSeconds += off.Seconds()
			r.Events = append(r.Events, e)
		}
		for _, st := range rep.Stalls {
			st.StartSeconds += off.Seconds()
			r.Stalls = append(r.Stalls, st)
		}
		r.GeneratorSaturated = r.GeneratorSaturated || rep.Saturated
		r.SUTBound = r.SUTBound || rep.SUTBound
		r.Plan.WorkersUsed = max(r.Plan.WorkersUsed, rep.Plan.WorkersUsed)
	}
	if len(reps) == 1 {
		r.Trials = []results.Trial{{Index: 1, Summary: reps[0].Summary, Histogram: reps[0].Histogram, ServiceHistogram: reps[0].ServiceHistogram}}
		return
	}

	h, svc := load.NewHistogram(), load.NewHistogram()
	var sum results.Summary
	sum.StatusCodes = map[string]uint64{}
	sum.ErrorKinds = map[string]uint64{}
	share := map[string]float64{}
	var targetRate float64
	gens := make([]*results.GeneratorCost, len(reps))
	for i, rep := range reps {
		gens[i] = rep.Summary.Generator
		s := rep.Summary
		r.Trials = append(r.Trials, results.Trial{Index: i + 1, Summary: s, Histogram: rep.Histogram, ServiceHistogram: rep.ServiceHistogram})
		if th, err := hdrhistogram.Decode([]byte(rep.Histogram)); err == nil {
			h.Merge(th)
		}
		if rep.ServiceHistogram != "" {
			if th, err := hdrhistogram.Decode([]byte(rep.ServiceHistogram)); err == nil {
				svc.Merge(th)
			}
		}
		sum.AddCounts(s)
		sum.DurationSeconds += s.DurationSeconds
		sum.DrainSeconds = max(sum.DrainSeconds, s.DrainSeconds)
		targetRate += s.TargetRate * s.DurationSeconds
		for app, v := range rep.AppShare {
			share[app] += v * float64(s.Requests)
		}
	}
	if sum.Requests > 0 {
		sum.SuccessRatio = float64(sum.Success) / float64(sum.Requests)
		for app := range share {
			share[app] /= float64(sum.Requests)
		}
	}
	if sum.DurationSeconds > 0 {
		sum.Throughput = float64(sum.Success) / sum.DurationSeconds
		sum.Rate = float64(sum.Requests) / sum.DurationSeconds
		sum.TargetRate = targetRate / sum.DurationSeconds
	}
	// One definition: throughput = successes / scheduled duration, the
	// durations of the trials summed (above); the drain is the worst trial's. Failed requests' quantiles stay per trial.
	sum.Latency = load.Quantiles(h)
	results.FillAllRequests(&sum, h)
	if enc, err := load.EncodeHistogram(h); err == nil {
		r.Histogram = enc
	}
	r.ServiceHistogram = ""
	if svc.TotalCount() > 0 {
		q := load.Quantiles(svc)
		sum.ServiceTime = &q
		if enc, err := load.EncodeHistogram(svc); err == nil {
			r.ServiceHistogram = enc
		}
	}
	if len(sum.ErrorKinds) == 0 {
		sum.ErrorKinds = nil
	}
	sum.Generator = results.SumGenerators(false, gens...) // the trials ran one after the other
	r.Summary = sum
	r.AppShare = share
	r.Targets = mergeTargets(reps)
	sets := make([][]results.ServerLatency, len(reps))
	for i, rep := range reps {
		sets[i] = rep.Servers
	}
	r.Servers = load.MergeServers(sets...)
}

// mergeTargets sums the per-target counts of all trials. Quantiles cannot
// be summed; they are left out here (each trial keeps its own).
func mergeTargets(reps []*load.Report) []results.TargetStats {
	idx := map[string]int{}
	var out []results.TargetStats
	for _, rep := range reps {
		for _, t := range rep.Targets {
			i, ok := idx[t.Name]
			if !ok {
				i = len(out)
				idx[t.Name] = i
				out = append(out, results.TargetStats{Name: t.Name, Summary: results.Summary{StatusCodes: map[string]uint64{}}})
			}
			s := &out[i].Summary
			s.Requests += t.Summary.Requests
			s.Success += t.Summary.Success
			s.Errors += t.Summary.Errors
			for k, v := range t.Summary.StatusCodes {
				s.StatusCodes[k] += v
			}
		}
	}
	for i := range out {
		if s := &out[i].Summary; s.Requests > 0 {
			s.SuccessRatio = float64(s.Success) / float64(s.Requests)
		}
	}
	return out
}
