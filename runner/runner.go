// Package runner is one `duckbench run` (and `check`, `capacity`, `ab`): bring
// the stack up, start the probes and the exporter, drive the attack
// (repeated if asked), inject the spec's faults, record the result, report
// it and tear the stack down — teardown always, the record even for a run
// that was cut short.
//
// A Session is one running stack serving any number of attacks: Run uses
// it for one attack (or --repeat N trials), Capacity for the short trials of
// a capacity search (SearchCapacity, with an SLO from ParseSLO). AB runs
// two specs in counterbalanced alternation, one Run per run.
//
// It sits between the command line and the packages that do the work
// (stack, probes, load, results), so that cmd/duckbench holds no logic.
package runner

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// DefaultCooldown separates the trials of a repeated run.
const DefaultCooldown = 2 * time.Second

// Monitor watches a running stack while load runs (probes.Monitor is one).
type Monitor interface {
	// Start begins sampling; t0 is when the attack begins.
	Start(ctx context.Context, t0 time.Time) error
	// Stop ends sampling and waits for the background loops.
	Stop(ctx context.Context)
	// Collectors are registered on the run's exporter registry.
	Collectors() []prometheus.Collector
	// Fill writes the probe figures into the result.
	Fill(r *results.Result)
	// Replication summarises each replica's readings taken at a time
	// selects accepts (a heartbeat by its publish time, an INFO sample by
	// its scrape): an attack window's, or the idle rest of the session.
	Replication(selects func(time.Time) bool) []results.ReplicaStats
	// Settle waits, at most limit, until the heartbeats published before t
	// have arrived (or are known lost).
	Settle(ctx context.Context, t time.Time, limit time.Duration)
}

// Exporter sends a session's series and records outside (export.Exporter
// is one). Its failures never fail the session.
type Exporter interface {
	// Start begins exporting g, the session's registry, under labels (the
	// session's Identity); stop flushes and runs before teardown.
	Start(ctx context.Context, g prometheus.Gatherer, labels map[string]string) (stop func())
	// Recorded is told each record the session saves, with the same labels.
	Recorded(r *results.Result, labels map[string]string)
}

// Options configure a run. Zero values take the documented defaults.
type Options struct {
	// SpecPath is recorded in the result.
	SpecPath string
	// Driver runs the stack (required).
	Driver stack.Driver
	// ResultsDir is where results/<id>/ goes (default "results").
	ResultsDir string
	// Duration and Rate override the spec's load section when set.
	Duration time.Duration
	Rate     *spec.Rate
	// Repeat runs the attack N times (default 1) with Cooldown between.
	Repeat   int
	Cooldown time.Duration
	// Listen is the exporter address (default the spec's probes.listen;
	// "off" for none).
	Listen string
	// Raw also saves every request result in vegeta's gob format.
	Raw bool
	// Fleet, when set, runs the attack sharded on its load agents instead
	// of in this process (run only; Repeat must be 1).
	Fleet Fleet
	// Out receives the text summary; Log the phase messages (both may be nil).
	Out, Log io.Writer
	// Progress receives live attack progress (nil: none).
	Progress func(load.Progress)
	// NewMonitor builds the probes for the running stack (nil: no probes).
	NewMonitor func(ep stack.Endpoints) (Monitor, error)
	// AfterUp runs once the stack is up and the exporter listens, e.g. to
	// start a local Prometheus; the returned stop runs before teardown.
	AfterUp func(ctx context.Context, ep stack.Endpoints, exporterAddr string) (stop func(), err error)
	// Labels are the user's --label k=v: recorded in the result and put
	// on every exported series beside the session's identity.
	Labels map[string]string
	// Export, when set, sends the session's series and records where the
	// user's metrics live (remote write, Pushgateway).
	Export Exporter
	// Abort is cancelled when teardown must not wait (second Ctrl-C).
	// Default: never.
	Abort context.Context
	// Version is duckbench's version, recorded in the result.
	Version string
	// Now is the clock (tests).
	Now func() time.Time
}

// Outcome is what a run leaves behind.
type Outcome struct {
	Result *results.Result
	// Dir is results/<id>; Path its result.json, HTML its report.html.
	Dir, Path, HTML string
	// ExporterAddr is where /metrics was served ("" when off).
	ExporterAddr string
}

// ErrStackDown marks a run whose stack failed under it (e.g. HAProxy died).
var ErrStackDown = errors.New("stack failed during the run")

// Run performs one run of s: a Session with one attack (or Options.Repeat
// trials). It returns the outcome whenever a result was recorded — with an
// error too when the run failed or was interrupted (ctx cancelled). Without
// a result it returns only the error. Teardown always runs.
func Run(ctx context.Context, s *spec.Spec, o Options) (out *Outcome, err error) {
	if o.Fleet != nil && o.Repeat > 1 {
		return nil, errors.New("run: --repeat and load agents do not combine")
	}
	ss, err := Start(ctx, s, o)
	if err != nil {
		return nil, err
	}
	defer ss.closeInto(&err)
	o = ss.o // with defaults
	r := ss.NewResult()
	out = &Outcome{Result: r, Dir: ss.Dir, ExporterAddr: ss.ExporterAddr}
	var raw *bufio.Writer
	if o.Raw && o.Fleet == nil {
		f, err := os.Create(filepath.Join(ss.Dir, "results.bin"))
		if err != nil {
			return nil, fmt.Errorf("create raw results file: %w", err)
		}
		defer f.Close()
		raw = bufio.NewWriterSize(f, 1<<16)
		defer raw.Flush()
	}

	// Faults, events and the timeline count from the start of the attack,
	// not from the start of the probes (which take a first sample).
	t0 := o.Now()
	faults := &faultRunner{driver: o.Driver, steps: plan(s.Faults)}
	fctx, stopFaults := context.WithCancel(ctx)
	defer stopFaults()
	if o.Fleet == nil {
		faults.start(fctx, t0)
	}
	nodeEvents := watchNodes(fctx, o, t0)

	var reports []*load.Report
	var runErr error
	for i := 0; i < o.Repeat; i++ {
		if i > 0 {
			ss.logf("cooldown %v before trial %d/%d", o.Cooldown, i+1, o.Repeat)
			if !sleep(ctx, o.Cooldown) {
				break
			}
		}
		ao := AttackOptions{}
		if raw != nil {
			ao.Raw = raw
		}
		if i == 0 && o.Fleet == nil {
			ao.OnPlan = func(p results.LoadPlan) {
				r.Plan = p
				r.Plan.Repeat = o.Repeat
				ss.logf("attacking %s: %s", ss.Endpoints.HAProxy.URL, describePlan(r.Plan))
			}
		}
		var rep *load.Report
		var err error
		if o.Fleet != nil {
			ao.OnPlan = func(p results.LoadPlan) { r.Plan, r.Plan.Repeat = p, 1 }
			// The agents begin at their common start, well after t0 (the
			// origin of the timeline and the probes' seconds): the faults
			// keep their times relative to the attack.
			ao.OnStart = func(start time.Time) {
				faults.shift(start.Sub(t0))
				faults.start(fctx, t0)
			}
			rep, r.Agents, err = ss.attackAgents(ctx, ao)
			if rep != nil {
				r.Plan, r.Plan.Repeat = rep.Plan, 1 // the merged plan
			}
		} else {
			rep, err = ss.Attack(ctx, ao)
		}
		if rep != nil {
			reports = append(reports, rep)
		}
		if err != nil {
			runErr = err
			break
		}
		if rep.Interrupted || ctx.Err() != nil {
			break
		}
	}
	stopFaults()
	r.Events = append(r.Events, faults.wait()...)
	r.Events = append(r.Events, nodeEvents()...)
	// A stack that died under the load is a failed run, even if the
	// result looks fine; a service the spec killed on purpose is not.
	if runErr == nil && ctx.Err() == nil {
		if err := ss.CheckStack(ctx); err != nil {
			runErr = err
		}
	}
	if out.Path, out.HTML, err = ss.Finish(ctx, r, Ending{Reports: reports, T0: t0, Err: runErr, SLO: &s.SLO}); err != nil {
		return out, err
	}
	if ctx.Err() != nil {
		return out, fmt.Errorf("run interrupted: %w", ctx.Err())
	}
	return out, runErr
}

func (o *Options) defaults(s *spec.Spec) {
	if o.ResultsDir == "" {
		o.ResultsDir = "results"
	}
	if o.Repeat < 1 {
		o.Repeat = 1
	}
	if o.Cooldown == 0 {
		o.Cooldown = DefaultCooldown
	}
	if o.Listen == "" {
		o.Listen = s.Probes.Listen
	}
	if o.Listen == "" {
		o.Listen = spec.DefaultProbesListen
	}
	if o.Abort == nil {
		o.Abort = context.Background()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// saveAll writes result.json and report.html into dir.
func saveAll(r *results.Result, dir string, htmlPath *string) (string, error) {
	path := filepath.Join(dir, "result.json")
	if err := results.WriteFile(path, r); err != nil {
		return "", fmt.Errorf("save result: %w", err)
	}
	*htmlPath = filepath.Join(dir, "report.html")
	f, err := os.Create(*htmlPath)
	if err != nil {
		return path, fmt.Errorf("write report: %w", err)
	}
	defer f.Close()
	if err := report.WriteHTML(f, r); err != nil {
		return path, fmt.Errorf("write report: %w", err)
	}
	return path, f.Close()
}

// serve starts the exporter on addr (port 0 picks one) and returns the
// address it listens on.
// ExporterLinger is how long the exporter waits, when stopping, for one
// more scrape (a scrape interval of 5 s and some).
const ExporterLinger = 7 * time.Second

func serve(addr string, reg *prometheus.Registry) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	var mu sync.Mutex
	var lastScrape time.Time
	scraped := make(chan struct{}, 1)
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		metrics.ServeHTTP(w, r)
		mu.Lock()
		lastScrape = time.Now()
		mu.Unlock()
		select {
		case scraped <- struct{}{}:
		default:
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `duckbench exporter: <a href="/metrics">/metrics</a>`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return ln.Addr().String(), func() {
		// Something scrapes us: serve until it has read the final figures
		// (the attack's last seconds), else its dashboards miss them.
		mu.Lock()
		was := !lastScrape.IsZero()
		mu.Unlock()
		if was {
			select {
			case <-scraped: // drop a scrape from before the stop
			default:
			}
			select {
			case <-scraped:
			case <-time.After(ExporterLinger):
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// deadServices lists services not running after the attack, leaving out
// those a fault killed without a recovery.
func deadServices(ctx context.Context, d stack.Driver, faults []spec.Fault) []string {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	st, err := d.Status(sctx)
	if err != nil {
		return nil
	}
	meant := map[string]bool{}
	for _, f := range faults {
		if (f.Action == spec.FaultKill || f.Action == spec.FaultStop) && f.For == 0 {
			meant[f.Target] = true
		}
	}
	var down []string
	for _, svc := range st.Services {
		if !svc.Running && !meant[svc.Name] {
			down = append(down, svc.Name)
		}
	}
	return down
}

// configHashes hashes the rendered files the driver left in the run dir.
func configHashes(runDir string) map[string]string {
	out := map[string]string{}
	if runDir == "" {
		return out
	}
	names, _ := filepath.Glob(filepath.Join(runDir, "redis-*.conf"))
	names = append(names, filepath.Join(runDir, "haproxy.cfg"), filepath.Join(runDir, "compose.yaml"))
	for _, p := range names {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		out[filepath.Base(p)] = hex.EncodeToString(sum[:])
	}
	return out
}

func hostInfo() results.HostInfo {
	h := results.HostInfo{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}
	h.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	return h
}

func describePlan(p results.LoadPlan) string {
	rate := fmt.Sprintf("%g req/s", p.Rate)
	if p.Rate < 0 {
		rate = "max rate"
	}
	s := fmt.Sprintf("%s %s for %gs, %d workers (max %d), %d connections", p.Shape, rate, p.DurationSeconds, p.Workers, p.MaxWorkers, p.Connections)
	if p.Repeat > 1 {
		s += fmt.Sprintf(", %d trials", p.Repeat)
	}
	return s
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
