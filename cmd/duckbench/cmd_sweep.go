package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/report"
	"github.com/duckbench/duckbench/runner"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

func init() { register(newSweepCmd) }

// defaultSweepRounds is the default number of rounds of a sweep: the
// fewest runs per variant whose Mann–Whitney test against the baseline
// can reach p < 0.05 (2/C(8,4) = 0.029).
const defaultSweepRounds = 4

// sweepFlags are the flags of sweep: a capacity search's, and the sweep's.
type sweepFlags struct {
	capacityFlags
	vary        []string
	rounds      int
	runCooldown time.Duration
	maxTime     time.Duration
	maxGrid     int
	rate        *spec.Rate
	duration    time.Duration
	asJSON      bool
	asMarkdown  bool
	dryRun      bool
}

func newSweepCmd() *cobra.Command {
	f := &sweepFlags{}
	c := &cobra.Command{
		Use:   "sweep SPEC --vary PATH=V1,V2,… [--vary …]",
		Short: "Capacity or latency across config variants: which value of a setting holds the most load",
		Long: `sweep runs the spec once per combination of the --vary values and says which
variant holds the most load within the SLO (or, with --rate, has the lowest
p99 at that rate), and whether it is significantly better than the baseline:
the variant of the first value of every --vary.

Without --vary, the spec's sweep section says what to vary (and, unless
the flags say otherwise, the rounds and the rate):
  sweep:
    vary:
      - {path: "haproxy.backends[0].servers[*].maxconn", values: [2, 8]}
    rounds: 4

PATH is a spec field path as validate prints it; [*] means every item of a
list: haproxy.backends[0].balance, haproxy.backends[0].servers[*].maxconn,
apps[*].origin_cost, redis.defaults.maxmemory_policy. Values are written as
in the spec (8, 2ms, leastconn) and go through the spec's own decoding and
validation. Every variant's rendered config is checked with the real
programs (haproxy -c, redis-server) before anything runs: a variant they
reject is reported as invalid, with the error, and the sweep goes on.

Design: the full grid when it has at most --max-grid variants, else one
field at a time around the baseline; the design, the number of runs and an
estimated duration are printed before the first run.

Each run brings a fresh stack up: a capacity search under the SLO (--slo,
default the spec's slo; the search flags are capacity's) or, with --rate, one
run at that rate for --duration. Runs go in rounds, every variant once per
round, the order reversed every other round, so that the machine's drift
favours none. The run is the unit of evidence: per variant the median over
rounds with its confidence interval (distribution-free; 6 rounds give a
95 % one), and against the baseline the Hodges-Lehmann shift with its
interval and the Mann-Whitney p (golang.org/x/perf/benchmath).

Every run is stored under results/<UTC timestamp>-sweep-<spec>/ beside
sweep.json and a report.html that links each run's own report.
--max-time bounds the whole sweep: no run starts after it, and what finished
is reported. Ctrl-C stops the current run and reports the finished ones.

Exit codes: 0 the sweep ran (invalid variants included), 1 no variant found
a capacity (every search's start rate broke the SLO) or every variant was
invalid, 2 bad usage, spec or --vary, 3 a run's stack or a dependency
failed, 130 interrupted (the finished runs are kept and reported).`,
		Example: `  duckbench sweep examples/seed.yaml --vary 'haproxy.backends[0].servers[*].maxconn=2,8' --slo 'p99<50ms'
  duckbench sweep examples/seed.yaml --vary 'haproxy.backends[0].balance=roundrobin,leastconn' --rate 300 --duration 10s --rounds 6
  duckbench sweep examples/seed.yaml --vary 'apps[*].origin_cost=2ms,10ms' --vary 'haproxy.backends[0].servers[*].maxconn=4,16' --dry-run
  duckbench sweep spec.yaml --vary 'redis.defaults.maxmemory_policy=allkeys-lru,allkeys-lfu' --rate 500 --markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runSweep(cmd, f, args[0]) },
	}
	f.sessionFlags.add(c)
	f.addSearch(c, "search-max-time", "step-cooldown")
	fl := c.Flags()
	fl.StringArrayVar(&f.vary, "vary", nil, "PATH=V1,V2,…: a spec field and its values, the first the baseline (repeatable)")
	fl.IntVar(&f.rounds, "rounds", defaultSweepRounds, "runs per variant, interleaved")
	fl.DurationVar(&f.runCooldown, "cooldown", runner.DefaultCooldown, "pause between runs")
	fl.DurationVar(&f.maxTime, "max-time", 0, "bound on the whole sweep: no run starts after it (0: none)")
	fl.IntVar(&f.maxGrid, "max-grid", runner.DefaultMaxGrid, "largest full grid; above it, one field at a time")
	fl.Var(rateFlag{&f.rate}, "rate", `fixed-rate runs at this rate (req/s, or "max") instead of capacity searches`)
	fl.DurationVar(&f.duration, "duration", 0, "attack duration of each fixed-rate run (default the spec's load.duration)")
	fl.BoolVar(&f.asJSON, "json", false, "print the sweep record as JSON")
	fl.BoolVar(&f.asMarkdown, "markdown", false, "print the sweep as Markdown (for a pull-request comment)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the design, the checks of every variant and the estimate, and run nothing")
	return c
}

// sweepPlan is a checked sweep, ready to run.
type sweepPlan struct {
	sw      *results.Sweep
	configs []*runner.ABConfig
	opts    runner.SweepOptions
	base    *spec.Spec
}

func runSweep(cmd *cobra.Command, f *sweepFlags, path string) error {
	p, err := f.plan(cmd, path)
	if err != nil {
		return err
	}
	errOut := cmd.ErrOrStderr()
	valid := 0
	for i, v := range p.sw.Variants {
		state := "ok"
		if v.Invalid != "" {
			state = "INVALID: " + v.Invalid
		} else {
			valid++
		}
		fmt.Fprintf(errOut, "  #%d %s: %s\n", i+1, v.Label, state)
	}
	runs := valid * f.rounds
	est := time.Duration(runs) * p.opts.PerRunEstimate(p.base)
	bound := ""
	if f.maxTime > 0 && f.maxTime < est {
		bound = fmt.Sprintf(", cut at --max-time %v", f.maxTime)
	}
	fmt.Fprintf(errOut, "sweep: %s design, %d variant(s) (%d valid) × %d round(s) = %d run(s), estimated %v%s\n",
		p.sw.Design, len(p.sw.Variants), valid, f.rounds, runs, est.Round(time.Second), bound)
	if f.dryRun {
		return nil
	}
	if valid == 0 {
		return checkErr(errors.New("every variant is invalid: nothing to run"))
	}
	work, abort, stop := interruptible(cmd.Context())
	defer stop()
	p.opts.Run.Abort = abort
	out, runErr := runner.Sweep(work, p.sw, p.configs, p.opts)
	if out == nil {
		return depErr(runErr)
	}
	if err := writeSweep(cmd.OutOrStdout(), f, out.Sweep); err != nil {
		return fmt.Errorf("write sweep: %w", err)
	}
	fmt.Fprintf(errOut, "sweep: %s\nreport: %s\n", out.Path, out.HTML)
	switch {
	case work.Err() != nil:
		return withCode(exitInterrupted, fmt.Errorf("interrupted; the finished runs are kept and reported: %s", out.Path))
	case runErr != nil:
		return depErr(runErr)
	case p.sw.Mode == results.SweepCapacity && !anyCapacity(out.Sweep):
		return checkErr(fmt.Errorf("no variant found a capacity: every search's start rate broke the SLO (%s); try a lower --start", p.sw.SLO))
	}
	return nil
}

func anyCapacity(sw *results.Sweep) bool {
	for _, v := range sw.Variants {
		if v.Stats != nil && v.Stats.Capacity != nil && v.Stats.Capacity.Max > 0 {
			return true
		}
	}
	return false
}

// plan checks the flags and the spec, builds the design and checks every
// variant with the real programs. It starts no stack.
func (f *sweepFlags) plan(cmd *cobra.Command, path string) (*sweepPlan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr(fmt.Errorf("read spec: %w", err))
	}
	base, err := spec.Parse(path, data)
	if err != nil {
		return nil, usageErr(err)
	}
	if sw := base.Sweep; sw != nil { // the spec's sweep section, under the flags
		if len(f.vary) == 0 {
			for _, v := range sw.Vary {
				f.vary = append(f.vary, v.Path+"="+strings.Join(v.Values, ","))
			}
		}
		if !cmd.Flags().Changed("rounds") && sw.Rounds > 0 {
			f.rounds = sw.Rounds
		}
		if f.rate == nil && sw.Rate != nil {
			f.rate = sw.Rate
		}
	}
	switch {
	case f.asJSON && f.asMarkdown:
		return nil, usageErr(errors.New("--json and --markdown exclude each other"))
	case len(f.vary) == 0:
		return nil, usageErr(errors.New("sweep needs at least one --vary PATH=V1,V2,… (e.g. --vary 'haproxy.backends[0].balance=roundrobin,leastconn') or the spec's sweep section"))
	case f.rounds < 1:
		return nil, usageErr(fmt.Errorf("--rounds: must be >= 1 (got %d)", f.rounds))
	case f.maxTime < 0 || f.runCooldown < 0 || f.duration < 0:
		return nil, usageErr(errors.New("--max-time, --cooldown and --duration must not be negative"))
	case f.maxGrid < 1:
		return nil, usageErr(fmt.Errorf("--max-grid: must be >= 1 (got %d)", f.maxGrid))
	case f.rate == nil && f.duration > 0:
		return nil, usageErr(errors.New("--duration is the length of a fixed-rate run: it needs --rate (a capacity search has --step-duration)"))
	}
	var varies []spec.Vary
	for _, s := range f.vary {
		v, err := spec.ParseVary(s)
		if err != nil {
			return nil, usageErr(err)
		}
		varies = append(varies, v)
	}
	if f.observability {
		return nil, usageErr(errors.New("--observability: not with sweep (each run has a fresh stack)"))
	}
	runDir := f.runDir
	if runDir == "" {
		runDir = defaultRunDir(base)
	}
	rt, err := resolveRuntime(base, f.runtime, runDir)
	if err != nil {
		return nil, err
	}
	if err := f.checkRegistry(rt); err != nil {
		return nil, err
	}
	p := &sweepPlan{base: base, sw: &results.Sweep{
		Spec:  results.ABSide{Spec: base.Name, Path: path, Hash: base.Hash()},
		Alpha: base.Check.Alpha,
	}}
	if f.rate == nil {
		cfg, err := f.capacityConfig(base)
		if err != nil {
			return nil, err
		}
		p.opts.Capacity = &cfg
	}
	p.opts.Rounds, p.opts.Cooldown, p.opts.MaxTime, p.opts.Log = f.rounds, f.runCooldown, f.maxTime, progress
	if f.runCooldown == 0 {
		p.opts.Cooldown = -1 // no pause; zero would mean the default
	}
	p.opts.Run = runner.Options{ResultsDir: f.resultsDir, Listen: f.listen, Version: version, Log: progress, Rate: f.rate, Duration: f.duration}
	if !f.quiet {
		p.opts.Run.Progress = load.NewPrinter(os.Stderr, load.IsTerminal(os.Stderr)).Update
		p.opts.Table = progress
	}
	if f.prometheus {
		p.opts.Run.AfterUp = runner.LocalPrometheus(progress)
	}
	if err := f.exportFlags.apply(&p.opts.Run); err != nil {
		return nil, err
	}
	if f.rate != nil {
		p.sw.Rate = float64(*f.rate)
		if f.rate.IsMax() {
			p.sw.Rate = 0
		}
	}
	variants, design := runner.SweepDesign(varies, f.maxGrid)
	p.sw.Design = design
	for _, v := range varies {
		p.sw.Vary = append(p.sw.Vary, results.SweepAxis{Path: v.Path.String(), Values: v.Values})
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	for _, v := range variants {
		sv := results.SweepVariant{Values: v.Values, Label: results.VariantLabel(p.sw.Vary, v.Values)}
		cfg, err := f.variantConfig(ctx, path, data, v, rt, runDir)
		if err != nil {
			var ee *exitError
			if errors.As(err, &ee) && (ee.code == exitDependency || strings.HasPrefix(err.Error(), "--vary")) {
				return nil, err // a missing program or a wrong path, not a bad value
			}
			sv.Invalid = condense(err.Error())
		} else {
			sv.Hash = cfg.Spec.Hash()
		}
		p.sw.Variants = append(p.sw.Variants, sv)
		p.configs = append(p.configs, cfg)
	}
	return p, nil
}

// variantConfig is one variant's spec, checked by the spec's validation
// and the real programs, with a driver factory on runtime rt.
func (f *sweepFlags) variantConfig(ctx context.Context, path string, data []byte, v runner.SweepVariant, rt, runDir string) (*runner.ABConfig, error) {
	s, err := spec.ParseWith(path, data, v.Settings)
	var es spec.Errors
	switch {
	case err != nil && !errors.As(err, &es):
		// The path does not fit the spec (no such list item, not a
		// mapping): the --vary is wrong, not the value.
		return nil, usageErr(fmt.Errorf("--vary: %w", err))
	case err != nil:
		for _, e := range es {
			if strings.HasPrefix(e.Msg, "unknown key") {
				return nil, usageErr(fmt.Errorf("--vary: %w", e))
			}
		}
		return nil, err
	}
	if err := checkWithPrograms(ctx, s, filepath.Base(path), false); err != nil {
		return nil, err
	}
	return &runner.ABConfig{Spec: s, Path: path, NewMonitor: newMonitor(s), NewDriver: func() (stack.Driver, error) {
		return newDriver(s, stackFlags{runtime: rt, runDir: runDir, oneTimePassword: true, registry: f.registry})
	}}, nil
}

// condense keeps what a real program's rejection says: the first line and
// its alerts, without the pid and the closing summaries, on one line.
func condense(msg string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "" || strings.Contains(l, "[NOTICE]") || strings.Contains(l, "Error(s) found") || strings.Contains(l, "Fatal errors found") {
			continue
		}
		if i := strings.Index(l, " : config : "); i >= 0 {
			l = l[i+len(" : config : "):]
		}
		out = append(out, l)
	}
	return strings.Join(out, "; ")
}

func writeSweep(w io.Writer, f *sweepFlags, sw *results.Sweep) error {
	switch {
	case f.asJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sw)
	case f.asMarkdown:
		return report.WriteSweepMarkdown(w, sw)
	}
	return report.WriteSweepText(w, sw)
}
