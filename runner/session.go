package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/duckbench/duckbench/labtls"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// Session is one running stack that serves any number of attacks: run uses
// it for one attack (or --repeat N), capacity for a search of many short
// trials. Start it, Attack it, Finish the record, and always Close it.
type Session struct {
	// Spec is the stack's spec; Endpoints where it runs.
	Spec      *spec.Spec
	Endpoints stack.Endpoints
	// ID names the result folder Dir (under Options.ResultsDir).
	ID, Dir string
	// ExporterAddr is where /metrics is served ("" when off).
	ExporterAddr string
	// Started is when the session began; T0 when the stack was ready and
	// the probes started (the origin of the timeline and of the faults).
	Started, T0 time.Time

	o       Options
	metrics *load.Metrics
	mon     Monitor
	stops   []func() // run in reverse order by Close, before teardown

	monOnce   sync.Once
	closeOnce sync.Once
	closeErr  error
}

// AttackOptions override the spec's load section for one attack.
type AttackOptions struct {
	// Duration and Rate replace the spec's when set (Options' overrides
	// apply otherwise).
	Duration time.Duration
	Rate     *spec.Rate
	// Constant forces a constant-rate shape with no warmup (a capacity step).
	Constant bool
	// Seed (0: the spec's) and KeyOffset give the attack its own key
	// sequence (see load.WithKeys).
	Seed      int64
	KeyOffset int
	// Raw receives every result in vegeta's format (nil: none).
	Raw io.Writer
	// OnPlan is told the plan before the attack starts.
	OnPlan func(results.LoadPlan)
	// OnStart is told the common start of a sharded attack (load agents)
	// before the agents are deployed.
	OnStart func(time.Time)
}

// Start brings the stack up, starts the exporter, the AfterUp hook and the
// probes. When it fails after the stack came up, it tears it down itself.
func Start(ctx context.Context, s *spec.Spec, o Options) (ss *Session, err error) {
	if o.Driver == nil {
		return nil, errors.New("start session: no stack driver")
	}
	o.defaults(s)
	started := o.Now()
	ss = &Session{Spec: s, o: o, Started: started, ID: results.NewID(started, s.Name)}
	ss.Dir = filepath.Join(o.ResultsDir, ss.ID)

	ss.logf("bringing the stack up…")
	ep, err := o.Driver.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("bring stack up: %w", err)
	}
	ss.Endpoints = ep
	defer func() {
		if err != nil {
			err = errors.Join(err, ss.Close())
			ss = nil
		}
	}()

	if err := os.MkdirAll(ss.Dir, 0o755); err != nil {
		return ss, fmt.Errorf("create result dir: %w", err)
	}
	// The canonical spec beside the record (history.SpecFile): history
	// diffs it field by field between the runs around a change point.
	if err := os.WriteFile(filepath.Join(ss.Dir, "spec.json"), spec.Canonical(s), 0o644); err != nil {
		return ss, fmt.Errorf("save spec: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ss.metrics = load.NewMetrics()
	reg.MustRegister(ss.metrics)
	if o.NewMonitor != nil {
		mon, err := o.NewMonitor(ep)
		if err != nil {
			return ss, fmt.Errorf("start probes: %w", err)
		}
		if mon != nil {
			for _, c := range mon.Collectors() {
				reg.MustRegister(c)
			}
			ss.mon = mon
		}
	}
	if o.Listen != "off" {
		addr, stop, err := serve(o.Listen, reg)
		if err != nil {
			return ss, fmt.Errorf("start exporter on %s: %w (another duckbench run? use --exporter-listen)", o.Listen, err)
		}
		ss.stops = append(ss.stops, stop)
		ss.ExporterAddr = addr
		ss.logf("metrics on http://%s/metrics", addr)
	}
	if o.AfterUp != nil {
		stop, err := o.AfterUp(ctx, ep, ss.ExporterAddr)
		if err != nil {
			return ss, err
		}
		if stop != nil {
			ss.stops = append(ss.stops, stop)
		}
	}
	if o.Export != nil {
		ss.stops = append(ss.stops, o.Export.Start(ctx, reg, ss.Identity()))
	}
	ss.T0 = o.Now()
	if ss.mon != nil {
		if err := ss.mon.Start(ctx, ss.T0); err != nil {
			ss.mon = nil // never started: nothing to stop
			return ss, fmt.Errorf("start probes: %w", err)
		}
	}
	return ss, nil
}

func (ss *Session) logf(format string, args ...any) {
	if ss.o.Log != nil {
		fmt.Fprintf(ss.o.Log, format+"\n", args...)
	}
}

// workload is the spec's workload as ao and the session's overrides
// change it (a constant shape without warm-up for a capacity step, the
// rate), with the option that sets its duration. A sharded attack hands the
// same workload to its agents.
func (ss *Session) workload(ao AttackOptions) (spec.Workload, []load.Option) {
	w := ss.Spec.Load
	if ao.Constant {
		w.Shape = load.ShapeConstant
		w.Warmup = 0
		w.Steps = nil
	}
	switch {
	case ao.Rate != nil:
		w.Rate = *ao.Rate
	case ss.o.Rate != nil:
		w.Rate = *ss.o.Rate
	}
	var opts []load.Option
	switch {
	case ao.Duration > 0:
		opts = append(opts, load.WithDurationOverride(ao.Duration))
	case ss.o.Duration > 0:
		opts = append(opts, load.WithDurationOverride(ss.o.Duration))
	}
	return w, opts
}

// Attack drives one attack through HAProxy and returns its report — a
// partial one, marked Interrupted, when ctx is cancelled.
func (ss *Session) Attack(ctx context.Context, ao AttackOptions) (*load.Report, error) {
	w, opts := ss.workload(ao)
	opts = append(opts, load.WithMetrics(ss.metrics))
	if ss.o.Progress != nil {
		opts = append(opts, load.WithProgress(ss.o.Progress))
	}
	if ao.Raw != nil {
		opts = append(opts, load.WithRaw(ao.Raw))
	}
	if ao.Seed != 0 || ao.KeyOffset != 0 {
		opts = append(opts, load.WithKeys(ao.Seed, ao.KeyOffset))
	}
	if ca := ss.Endpoints.HAProxy.CA; ca != "" { // a TLS entry bind: trust the lab CA only
		pool, err := labtls.Pool(ca)
		if err != nil {
			return nil, fmt.Errorf("plan attack: %w", err)
		}
		opts = append(opts, load.WithRootCAs(pool))
	}
	att, err := load.New(w, ss.Endpoints.HAProxy.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("plan attack: %w", err)
	}
	if ao.OnPlan != nil {
		ao.OnPlan(att.Plan())
	}
	rep, err := att.Run(ctx)
	if err != nil {
		return rep, fmt.Errorf("attack: %w", err)
	}
	return rep, nil
}

// NewResult returns the record of this session with its identity, host and
// spec filled in; the caller adds what it measured.
func (ss *Session) NewResult() *results.Result {
	return &results.Result{
		SchemaVersion: results.SchemaVersion,
		ID:            ss.ID,
		Duckbench:     ss.o.Version,
		Host:          hostInfo(),
		Runtime:       ss.Endpoints.Runtime,
		StartedAt:     ss.Started.UTC(),
		Status:        results.StatusCompleted,
		Labels:        ss.o.Labels,
		Placement:     ss.Endpoints.Placement,
		Spec: results.SpecInfo{
			Name:         ss.Spec.Name,
			Path:         ss.o.SpecPath,
			Hash:         ss.Spec.Hash(),
			ConfigHashes: configHashes(ss.Endpoints.RunDir),
		},
	}
}

// Identity is the labels of the session's exported series: run, spec,
// spec_hash, runtime and the user's Options.Labels.
func (ss *Session) Identity() map[string]string {
	l := map[string]string{"run": ss.ID, "spec": ss.Spec.Name, "spec_hash": ss.Spec.Hash(), "runtime": ss.Endpoints.Runtime}
	for k, v := range ss.o.Labels {
		if _, reserved := l[k]; !reserved {
			l[k] = v
		}
	}
	return l
}

// StopProbes stops the probes (once; Close does it too), waiting at most
// 10s, under Options.Abort.
func (ss *Session) StopProbes() {
	ss.monOnce.Do(func() {
		if ss.mon == nil {
			return
		}
		mctx, cancel := context.WithTimeout(ss.o.Abort, 10*time.Second)
		ss.mon.Stop(mctx)
		cancel()
	})
}

// FillProbes writes the probe figures into r (after StopProbes).
func (ss *Session) FillProbes(r *results.Result) {
	if ss.mon != nil {
		ss.mon.Fill(r)
	}
}

// CheckStack returns an error wrapping ErrStackDown when a service is not
// running, leaving out those the spec's faults kill on purpose.
func (ss *Session) CheckStack(ctx context.Context) error {
	if down := deadServices(ctx, ss.o.Driver, ss.Spec.Faults); len(down) > 0 {
		return fmt.Errorf("%w: not running at the end: %s", ErrStackDown, strings.Join(down, ", "))
	}
	return nil
}

// Ending is how a session's attacks ended: what Finish needs to complete
// the record.
type Ending struct {
	// Reports are the attacks' reports in order; T0 is the origin of their
	// timeline and events (the start of the first attack).
	Reports []*load.Report
	T0      time.Time
	// Err is why the attacks failed (nil: they ran their plan, or were
	// interrupted, which ctx tells).
	Err error
	// Amend adjusts the merged record before its status and verdict
	// (nil: nothing), e.g. a capacity search's figures.
	Amend func(r *results.Result)
	// SLO judges the record (nil: no verdict).
	SLO *spec.SLO
}

// Finish is the tail every session's record shares once its attacks are
// over: stop the probes, merge the reports into r, fill the probe figures,
// amend, stamp the end, the status (interrupted when ctx is done, failed
// with e.Err) and the error, sort the events, judge the SLO, and Save. It
// returns Save's paths.
func (ss *Session) Finish(ctx context.Context, r *results.Result, e Ending) (path, html string, err error) {
	ss.StopProbes()
	merge(r, e.Reports, e.T0)
	ss.FillProbes(r)
	ss.fillReplication(r, e.Reports)
	if e.Amend != nil {
		e.Amend(r)
	}
	for _, sh := range results.GeneratorShares(r) {
		r.Events = append(r.Events, sh.Event(ss.o.Now().Sub(e.T0).Seconds()))
	}
	r.EndedAt = ss.o.Now().UTC()
	switch {
	case ctx.Err() != nil:
		r.Status = results.StatusInterrupted
		r.Error = "interrupted"
		r.Events = append(r.Events, results.Event{AtSeconds: ss.o.Now().Sub(e.T0).Seconds(), Kind: "interrupt", Message: "run interrupted; results so far kept"})
	case errors.Is(e.Err, ErrIncomplete):
		r.Status = results.StatusIncomplete
		r.Error = strings.TrimPrefix(e.Err.Error(), ErrIncomplete.Error()+": ")
	case e.Err != nil:
		r.Status = results.StatusFailed
		r.Error = e.Err.Error()
	}
	sort.SliceStable(r.Events, func(a, b int) bool { return r.Events[a].AtSeconds < r.Events[b].AtSeconds })
	if e.SLO != nil {
		r.SLO = results.EvaluateSLO(*e.SLO, r)
	}
	return ss.Save(r)
}

// Save writes r as result.json and report.html into the session's folder
// and, with Options.Out set, prints the text summary. It returns the paths.
func (ss *Session) Save(r *results.Result) (path, html string, err error) {
	if path, err = saveAll(r, ss.Dir, &html); err != nil {
		return path, html, err
	}
	if ss.o.Export != nil {
		ss.o.Export.Recorded(r, ss.Identity())
	}
	if ss.o.Out != nil {
		if err := report.WriteText(ss.o.Out, r); err != nil {
			return path, html, fmt.Errorf("write summary: %w", err)
		}
		fmt.Fprintf(ss.o.Out, "\nresult: %s\nreport: %s\n", path, html)
	}
	return path, html, nil
}

// closeInto is Close for a deferred call: its error joins *err.
func (ss *Session) closeInto(err *error) {
	if cerr := ss.Close(); cerr != nil {
		*err = errors.Join(*err, cerr)
	}
}

// Close stops the probes, the exporter and the AfterUp hook, then tears the
// stack down under Options.Abort (so only the second signal cuts it short).
// It is safe to call more than once.
func (ss *Session) Close() error {
	ss.closeOnce.Do(func() {
		ss.StopProbes()
		for i := len(ss.stops) - 1; i >= 0; i-- {
			ss.stops[i]()
		}
		ss.logf("tearing the stack down…")
		dctx, cancel := context.WithTimeout(ss.o.Abort, 60*time.Second)
		defer cancel()
		if err := ss.o.Driver.Down(dctx); err != nil {
			ss.closeErr = fmt.Errorf("tear stack down: %w", err)
		}
	})
	return ss.closeErr
}
