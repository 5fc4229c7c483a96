// Command peers measures what duckbench's load generator costs per
// request next to its peers — wrk, fortio, the vegeta CLI and hey — on one
// machine, in one run: HAProxy answers every request itself
// (`http-request return`) pinned to one core, and the tools take turns on
// another, pinned, with the same connections and duration, rounds
// alternating (the order rotated each round). For each tool and connection
// count (default 50, throughput-bound, and 4, latency-bound) it prints
// req/s and requests per CPU-second of the tool's process tree (wait4),
// each round and the median, and duckbench ÷ each peer against issue 22's
// goals. Then the open model's cost: duckbench at a fixed rate of 80 % of
// its own median maximum (share of the schedule kept, CPU per request) and
// fortio at the same rate; then the peak RSS of a short and a long run.
//
//	go run ./bench/peers            # full: 3 rounds of 8 s per tool (~8 min)
//	go run ./bench/peers --quick    # smoke test: 1 round of 3 s (~1.5 min)
//
// It installs what it lacks (fortio and the vegeta CLI with `go install`
// at pinned versions, wrk, hey and HAProxy with apt-get) and stops with an
// error when it cannot: no peer is ever left out silently. The goals are
// measured here, not asserted in tests: a MISS is a result, exit status 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type config struct {
	quick                  bool
	conns                  []int
	dur                    time.Duration
	rounds                 int
	openShare              float64
	rssRate                float64
	rssShort, rssLong      time.Duration
	serverCore, clientCore string
	noHey                  bool
	skipOpen, skipRSS      bool
	skipInstall            bool
}

func main() {
	var c config
	conns := flag.String("connections", "50,4", "connection counts, comma-separated (the first is the open model's)")
	flag.BoolVar(&c.quick, "quick", false, "smoke test: 1 round of 3 s, RSS 5 s vs 25 s")
	flag.DurationVar(&c.dur, "duration", 0, "duration of every run but the RSS ones, whole seconds (default 8s, quick 3s)")
	flag.IntVar(&c.rounds, "rounds", 0, "rounds; each tool's median counts (default 3, quick 1)")
	flag.Float64Var(&c.openShare, "open-share", 0.8, "fixed rate of the open-model runs, as a share of duckbench's median max")
	flag.Float64Var(&c.rssRate, "rss-rate", 1000, "fixed rate of the RSS runs (req/s)")
	flag.DurationVar(&c.rssShort, "rss-short", 0, "short RSS run (default 20s, quick 5s)")
	flag.DurationVar(&c.rssLong, "rss-long", 0, "long RSS run (default 120s, quick 25s)")
	flag.StringVar(&c.serverCore, "server-core", "0", "CPU list for HAProxy (taskset -c)")
	flag.StringVar(&c.clientCore, "client-core", "1", "CPU list for the load tools (taskset -c)")
	flag.BoolVar(&c.noHey, "no-hey", false, "leave hey out (it has no goal)")
	flag.BoolVar(&c.skipOpen, "skip-open", false, "skip the fixed-rate (open model) runs")
	flag.BoolVar(&c.skipRSS, "skip-rss", false, "skip the RSS runs")
	flag.BoolVar(&c.skipInstall, "skip-install", false, "do not install missing tools (fail instead)")
	flag.Parse()
	for _, f := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "peers: --connections %q: want positive integers, comma-separated\n", *conns)
			os.Exit(2)
		}
		c.conns = append(c.conns, n)
	}
	if c.rounds <= 0 {
		c.rounds = pick(c.quick, 1, 3)
	}
	def := func(d *time.Duration, full, quick time.Duration) {
		if *d <= 0 {
			*d = pick(c.quick, quick, full)
		}
	}
	def(&c.dur, 8*time.Second, 3*time.Second)
	def(&c.rssShort, 20*time.Second, 5*time.Second)
	def(&c.rssLong, 120*time.Second, 25*time.Second)
	if c.dur < time.Second {
		fmt.Fprintln(os.Stderr, "peers: --duration must be at least 1s (wrk and fortio take whole seconds)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func pick[T any](quick bool, q, full T) T {
	if quick {
		return q
	}
	return full
}

func (c config) peers() []peer {
	p := []peer{duckbenchPeer, wrkPeer, fortioPeer, vegetaPeer, heyPeer}
	if c.noHey {
		p = p[:4]
	}
	return p
}

// estimate is the run's expected length, for the header.
func (c config) estimate() time.Duration {
	const overhead = 700 * time.Millisecond // start-up, connect, report
	per := c.dur + overhead
	d := time.Duration(c.rounds*len(c.conns)*len(c.peers())) * per
	if !c.skipOpen {
		d += time.Duration(2*c.rounds) * per
	}
	if !c.skipRSS {
		d += c.rssShort + c.rssLong + 2*overhead
	}
	return d
}

func run(ctx context.Context, c config) error {
	began := time.Now()
	tmp, err := os.MkdirTemp("", "duckbench-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	t, err := install(ctx, c, tmp)
	if err != nil {
		return err
	}
	url, srv, stop, err := startHAProxy(ctx, c, tmp)
	if err != nil {
		return err
	}
	defer stop()
	r := runner{c: c, t: t, url: url, srv: srv}

	fmt.Printf("bench/peers %s, %d CPUs (nproc)\n",
		began.UTC().Format(time.RFC3339), runtime.NumCPU())
	fmt.Printf("load average before: %s\n", loadavg())
	for _, v := range t.versions {
		fmt.Println("  " + v)
	}
	fmt.Printf("target %s: HAProxy (1 thread, http-request return 200) on core %s; tools on core %s\n",
		url, c.serverCore, c.clientCore)
	fmt.Printf("%d round(s) × connections %v × %d tools, %s per run; expected ≈ %s\n",
		c.rounds, c.conns, len(c.peers()), c.dur, c.estimate().Round(10*time.Second))

	res, problems, err := maxRates(ctx, r)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(c.peers()))
	for _, p := range c.peers() {
		names = append(names, p.name)
	}
	fmt.Printf("\n== results (each tool's median; requests per CPU-second = requests ÷ user+sys CPU of its process tree) ==\n")
	for _, n := range c.conns {
		maxTable(os.Stdout, n, names, res[n])
	}
	misses := ratioTable(os.Stdout, c.conns, names, res)
	if !c.skipOpen {
		ok, bad, err := openModel(ctx, r, medianOf(res[c.conns[0]]["duckbench"], rate))
		if err != nil {
			return err
		}
		problems = append(problems, bad...)
		if !ok {
			misses++
		}
	}
	if !c.skipRSS {
		ok, err := peakRSS(ctx, r)
		if err != nil {
			return err
		}
		if !ok {
			misses++
		}
	}
	fmt.Printf("\ngoals missed: %d (measured, not asserted: a MISS is a result)\n", misses)
	fmt.Printf("load average after: %s; took %s\n", loadavg(), time.Since(began).Round(time.Second))
	if len(problems) > 0 {
		return fmt.Errorf("the figures above are not valid:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// maxRates runs every tool as fast as it goes at every connection count,
// c.rounds times, the tools' order rotated each round. problems lists the
// runs whose figures do not stand (errors, duckbench's recording off).
func maxRates(ctx context.Context, r runner) (res map[int]map[string][]sample, problems []string, err error) {
	c := r.c
	peers := c.peers()
	fmt.Printf("\ncommands (max rate; taskset pins each to the client core):\n")
	for _, n := range c.conns {
		for _, p := range peers {
			fmt.Printf("  %s\n", cmdLine(r.command(p, n, 0, c.dur)))
		}
	}
	res = map[int]map[string][]sample{}
	for _, n := range c.conns {
		res[n] = map[string][]sample{}
	}
	for round := 0; round < c.rounds; round++ {
		for _, n := range c.conns {
			fmt.Printf("\nround %d/%d, %d connections, as fast as it goes:\n", round+1, c.rounds, n)
			for i := range peers {
				p := peers[(i+round)%len(peers)]
				s, err := r.run(ctx, p, n, 0, c.dur)
				if err != nil {
					return nil, nil, fmt.Errorf("%s, round %d, %d connections: %w", p.name, round+1, n, err)
				}
				fmt.Println(roundLine(p.name, s))
				if s.Errors > 0 {
					problems = append(problems, fmt.Sprintf("%s, round %d, %d connections: %.0f errors", p.name, round+1, n, s.Errors))
				}
				if s.Report != nil {
					if err := recordingOn(s.Report); err != nil {
						problems = append(problems, fmt.Sprintf("duckbench, round %d, %d connections: %v", round+1, n, err))
					}
				}
				res[n][p.name] = append(res[n][p.name], s)
			}
		}
	}
	return res, problems, nil
}

// recordingOn checks that a duckbench run recorded what a real run
// records: the HDR histogram, the timeline and the per-server attribution
// (every response named by HAProxy's X-Served-By).
func recordingOn(rep *benchReport) error {
	if rep.Histogram == "" {
		return errors.New("no HDR histogram in the report")
	}
	if len(rep.Timeline) == 0 {
		return errors.New("no timeline in the report")
	}
	for _, s := range rep.Servers {
		if s.Server == serverName && s.Summary.Requests == rep.Summary.Requests {
			return nil
		}
	}
	return fmt.Errorf("per-server attribution: not every request attributed to %q (%+v)", serverName, rep.Servers)
}

// openModel runs duckbench at a fixed rate of openShare × its median max,
// alternating with fortio at the same rate. problems lists the runs with
// errors (hits never sent are not errors here but the schedule not kept).
func openModel(ctx context.Context, r runner, dbMax float64) (ok bool, problems []string, err error) {
	c := r.c
	n := c.conns[0]
	target := float64(int(dbMax * c.openShare))
	if target < 1 {
		return false, nil, fmt.Errorf("open model: duckbench's median max is %.0f req/s", dbMax)
	}
	fmt.Printf("\n== open model: fixed rate %.0f %% of duckbench's median max at %d connections = %.0f req/s ==\n",
		100*c.openShare, n, target)
	fmt.Println("wrk 4.1 has no fixed-rate mode (wrk2's -R is not packaged here); fortio -qps paces each connection:")
	for _, p := range []peer{duckbenchPeer, fortioPeer} {
		fmt.Printf("  %s\n", cmdLine(r.command(p, n, target, c.dur)))
	}
	var db, fo []openRun
	for round := 0; round < c.rounds; round++ {
		fmt.Printf("\nround %d/%d, %d connections, %.0f req/s:\n", round+1, c.rounds, n, target)
		for i := range 2 {
			p := []peer{duckbenchPeer, fortioPeer}[(i+round)%2]
			s, err := r.run(ctx, p, n, target, c.dur)
			if err != nil {
				return false, nil, fmt.Errorf("open model, %s, round %d: %w", p.name, round+1, err)
			}
			line := roundLine(p.name, s)
			if s.Report == nil {
				fo = append(fo, openRun{s: s})
				line += fmt.Sprintf("  achieved %.2f %%", 100*s.Rate/target)
			} else {
				sch, err := scheduleKept(s.Report)
				if err != nil {
					return false, nil, err
				}
				db = append(db, openRun{s: s, sched: sch})
				line += fmt.Sprintf("  achieved %.2f %%, kept %.3f %%, max lag %s, saturated %v",
					100*sch.Achieved, 100*sch.Kept, secs(s.Report.MaxLag), s.Report.Saturated)
				if s.Report.SaturationCause != "" {
					line += " (" + s.Report.SaturationCause + ")"
				}
			}
			fmt.Println(line)
			if s.Errors > 0 {
				problems = append(problems, fmt.Sprintf("open model, %s, round %d: %.0f errors", p.name, round+1, s.Errors))
			}
		}
	}
	return openTable(os.Stdout, target, db, fo), problems, nil
}

// peakRSS compares duckbench's peak RSS in a short and a long run at a
// fixed rate: memory must not grow with the run's length.
func peakRSS(ctx context.Context, r runner) (bool, error) {
	c := r.c
	fmt.Printf("\n== peak RSS at %.0f req/s, %d connections: %s vs %s ==\n", c.rssRate, c.conns[0], c.rssShort, c.rssLong)
	var rss [2]int64
	for i, d := range []time.Duration{c.rssShort, c.rssLong} {
		fmt.Printf("  %s\n", cmdLine(r.command(duckbenchPeer, c.conns[0], c.rssRate, d)))
		s, err := r.run(ctx, duckbenchPeer, c.conns[0], c.rssRate, d)
		if err != nil {
			return false, fmt.Errorf("peak RSS, %s: %w", d, err)
		}
		rss[i] = s.RSSKiB
		fmt.Printf("  %-6s %6.1f MiB\n", d, float64(s.RSSKiB)/1024)
	}
	ratio := float64(rss[1]) / float64(rss[0])
	fmt.Printf("  RSS(%s) ÷ RSS(%s) = %.3f (goal ≤ 1.10: %s)\n", c.rssLong, c.rssShort, ratio, verdict(ratio <= 1.1))
	return ratio <= 1.1, nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
