package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/labtls"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

func init() { register(newBenchCmd) }

// benchFlags are the flags of `duckbench bench`.
type benchFlags struct {
	stackFlags
	rate        *spec.Rate
	duration    time.Duration
	connections int
	workers     int
	timeout     time.Duration
	path        string
	raw         string
	quiet       bool
	asJSON      bool
	cpuProfile  string
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	c := &cobra.Command{
		Use:   "bench URL|SPEC",
		Short: "Attack a running stack or any URL and print a vegeta-style summary",
		Long: `bench drives load at something that is already up: a stack started with
duckbench up (give its SPEC: the load section and the HAProxy URL are read
from it and its running state), or any http:// URL. A URL's path is the
request path; {key} in it is replaced by generated keys. Nothing is recorded
under results/; use run for that.

The summary shows latency quantiles from an HdrHistogram (up to p99.99),
the share of responses per app (X-Served-By) and whether the load generator
kept up with the schedule: when it falls behind it warns live and says
"saturated", and the figures are then not a capacity. Its last lines give
the generator's CPU cost (CPU-seconds, share of a core, requests per
CPU-second) and, for a SPEC's stack on this machine (local or compose), a
warning when it took more than a quarter of a core from the stack.

--raw FILE saves every result in vegeta's gob format, for vegeta report/plot
(timestamp = the intended send time, latency from it: duckbench's figures).
Ctrl-C stops the attack and prints the partial summary; a second Ctrl-C
aborts at once. Exit codes: 0 ok, 2 bad usage, 3 no successful response.`,
		Example: `  duckbench bench http://127.0.0.1:6301/kv/{key} --rate 500 --duration 10s
  duckbench bench examples/seed.yaml --rate max --connections 64
  duckbench bench http://127.0.0.1:8080/ --rate max --duration 30s --raw out.bin
  vegeta report out.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runBench(cmd, &f, args[0]) },
	}
	f.add(c)
	fl := c.Flags()
	fl.Var(rateFlag{&f.rate}, "rate", `request rate in req/s or "max" (default the spec's, else 100)`)
	fl.DurationVar(&f.duration, "duration", 0, "attack duration (default the spec's, else 10s)")
	fl.IntVar(&f.connections, "connections", 0, "connection cap; with --rate max also the worker count (default sized from rate and cores)")
	fl.IntVar(&f.workers, "workers", 0, "initial workers (default sized from rate and cores)")
	fl.DurationVar(&f.timeout, "timeout", 0, "per-request timeout (default 5s)")
	fl.StringVar(&f.path, "path", "", "request path, may hold {key} (default the URL's path or the spec's targets)")
	fl.StringVar(&f.raw, "raw", "", "also write every result to `FILE` in vegeta's format")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no live progress")
	fl.BoolVar(&f.asJSON, "json", false, "print the report as JSON instead of text")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the attack to `FILE`")
	_ = fl.MarkHidden("cpuprofile")
	return c
}

func runBench(cmd *cobra.Command, f *benchFlags, arg string) error {
	// Flags first: a bad flag is a usage error whether or not the stack is
	// up (--rate is checked as it is parsed).
	if f.duration < 0 || f.connections < 0 || f.workers < 0 || f.timeout < 0 {
		return usageErr(fmt.Errorf("--duration, --connections, --workers and --timeout must not be negative"))
	}
	w, stackEP, err := benchTarget(cmd, f, arg)
	ep := stackEP.HAProxy
	if err != nil {
		return err
	}
	if f.rate != nil {
		w.Rate = *f.rate
	}
	if f.duration > 0 {
		w.Duration = spec.Duration(f.duration)
	}
	if f.connections > 0 {
		w.Connections = f.connections
	}
	if f.workers > 0 {
		w.Workers = f.workers
	}
	if f.timeout > 0 {
		w.Timeout = spec.Duration(f.timeout)
	}
	if f.path != "" {
		w.Targets = []spec.Target{{Path: f.path}}
	}

	var opts []load.Option
	var pr *load.Printer
	if !f.quiet {
		pr = load.NewPrinter(os.Stderr, load.IsTerminal(os.Stderr))
		opts = append(opts, load.WithProgress(pr.Update))
	}
	if f.raw != "" {
		rf, err := os.Create(f.raw)
		if err != nil {
			return usageErr(fmt.Errorf("create raw file: %w", err))
		}
		defer rf.Close()
		bw := bufio.NewWriter(rf)
		defer bw.Flush()
		opts = append(opts, load.WithRaw(bw))
	}
	if ep.CA != "" { // the stack's entry bind is TLS: trust its lab CA only
		pool, err := labtls.Pool(ep.CA)
		if err != nil {
			return depErr(err)
		}
		opts = append(opts, load.WithRootCAs(pool))
	}
	att, err := load.New(w, ep.URL, opts...)
	if err != nil {
		return usageErr(err)
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return usageErr(fmt.Errorf("create cpu profile: %w", err))
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("start cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := runAttack(cmd.Context(), att)
	if pr != nil {
		pr.Close()
	}
	if errors.Is(err, errAborted) {
		return withCode(exitInterrupted, err)
	}
	if rep == nil {
		return depErr(err)
	}
	out := cmd.OutOrStdout()
	if f.asJSON {
		if err := report.WriteJSON(out, rep); err != nil {
			return err
		}
	} else if err := load.WriteText(out, rep); err != nil {
		return err
	} else {
		writeBenchGenerator(out, rep, stackEP)
	}
	if err != nil {
		return depErr(err)
	}
	if rep.Summary.Requests > 0 && rep.Summary.Success == 0 {
		return depErr(fmt.Errorf("bench %s: no successful response out of %d requests", ep.URL, rep.Summary.Requests))
	}
	return nil
}

// errAborted is runAttack's error after a second signal.
var errAborted = errors.New("aborted by a second signal: no summary")

// runAttack runs att until it ends; the first SIGINT/SIGTERM stops it
// gracefully (the partial report follows), a second one gives up on it at
// once with errAborted, and the command returns (main exits 130) without
// waiting for requests in flight.
func runAttack(ctx context.Context, att *load.Attack) (*load.Report, error) {
	work, abort, stop := interruptible(ctx)
	defer stop()
	type ended struct {
		rep *load.Report
		err error
	}
	done := make(chan ended, 1)
	go func() {
		rep, err := att.Run(work)
		done <- ended{rep, err}
	}()
	select {
	case e := <-done:
		return e.rep, e.err
	case <-abort.Done():
		return nil, errAborted
	}
}

// writeBenchGenerator prints the generator's cost of the attack and, when
// it took more than results.GeneratorShareWarn of a core on the machine of
// a stack duckbench started (a spec's stack up on the local or compose
// runtime, or a swarm stack with a task on this host), the warning a run's
// summary gives. A bare URL is never warned of: nothing says what runs
// behind it, or where.
func writeBenchGenerator(w io.Writer, rep *load.Report, ep stack.Endpoints) {
	if rep.Summary.Generator == nil {
		return
	}
	fmt.Fprintf(w, "Generator: %s\n", results.FormatGenerator(rep.Summary.Generator))
	host, _ := os.Hostname()
	r := &results.Result{Runtime: ep.Runtime, Placement: ep.Placement, Summary: rep.Summary,
		Host: results.HostInfo{Hostname: host, CPUs: runtime.NumCPU()}}
	for _, sh := range results.GeneratorShares(r) {
		fmt.Fprintf(w, "WARNING: %s.\n", sh.Warning())
	}
}

// benchTarget reads the workload and the stack's endpoints (HAProxy's base
// URL and lab CA; the runtime and placement of a spec's stack) from a URL
// or a spec.
func benchTarget(cmd *cobra.Command, f *benchFlags, arg string) (spec.Workload, stack.Endpoints, error) {
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		u, err := url.Parse(strings.ReplaceAll(arg, "{key}", "KEY"))
		if err != nil || u.Host == "" {
			return spec.Workload{}, stack.Endpoints{}, usageErr(fmt.Errorf("parse url %q: want http://host:port/path", arg))
		}
		var w spec.Workload
		base := u.Scheme + "://" + u.Host
		if p := strings.TrimPrefix(arg, base); p != "" && p != "/" {
			w.Targets = []spec.Target{{Path: p}}
		} else if f.path == "" {
			w.Targets = []spec.Target{{Path: "/"}}
		}
		return w, stack.Endpoints{HAProxy: stack.HAProxyEndpoint{URL: base}}, nil
	}
	if _, err := os.Stat(arg); err != nil {
		return spec.Workload{}, stack.Endpoints{}, usageErr(fmt.Errorf("bench %q: neither an http:// URL nor a spec file: %w", arg, err))
	}
	s, d, err := f.loadDriver(arg)
	if err != nil {
		return spec.Workload{}, stack.Endpoints{}, err
	}
	st, err := d.Status(cmd.Context())
	if err != nil {
		return spec.Workload{}, stack.Endpoints{}, depErr(fmt.Errorf("bench %q: is the stack up? (duckbench up %s): %w", s.Name, arg, err))
	}
	if st.HAProxy.URL == "" {
		return spec.Workload{}, stack.Endpoints{}, depErr(fmt.Errorf("bench %q: the stack reports no HAProxy URL; is it up?", s.Name))
	}
	return s.Load, st.Endpoints, nil
}
