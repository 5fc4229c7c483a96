// Command peers benchmarks duckbench's load generator against its peers —
// the vegeta CLI, wrk and hey — on one machine: HAProxy answers every request
// itself (`http-request return`) pinned to one core, each tool runs in turn
// pinned to another with the same connection count and duration. It prints
// each tool's req/s and the ratios, then a constant-rate ladder at 25/50/80 %
// of duckbench's maximum (achieved/target), then the peak RSS of a short and
// a long run at a fixed rate.
//
//	go run ./bench/peers            # full: 10s per tool, RSS 60s vs 300s
//	go run ./bench/peers --quick    # smoke test: 3s per tool, RSS 5s vs 25s
//
// It installs what it lacks: the vegeta CLI with `go install` (into
// $(go env GOPATH)/bin), wrk and hey with apt-get.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	quick       bool
	conns       int
	dur         time.Duration
	ladderDur   time.Duration
	rssRate     float64
	rssShort    time.Duration
	rssLong     time.Duration
	serverCore  string
	clientCore  string
	skipRSS     bool
	skipInstall bool
	rounds      int
}

func main() {
	var c config
	flag.BoolVar(&c.quick, "quick", false, "short durations for a smoke test")
	flag.IntVar(&c.conns, "connections", 64, "connections (and workers) for every tool")
	flag.DurationVar(&c.dur, "duration", 0, "duration of each max-rate run (default 10s, quick 3s)")
	flag.DurationVar(&c.ladderDur, "ladder-duration", 0, "duration of each ladder step (default 10s, quick 3s)")
	flag.Float64Var(&c.rssRate, "rss-rate", 1000, "fixed rate of the RSS runs (req/s)")
	flag.DurationVar(&c.rssShort, "rss-short", 0, "short RSS run (default 60s, quick 5s)")
	flag.DurationVar(&c.rssLong, "rss-long", 0, "long RSS run (default 300s, quick 25s)")
	flag.StringVar(&c.serverCore, "server-core", "0", "CPU list for HAProxy (taskset -c)")
	flag.StringVar(&c.clientCore, "client-core", "1", "CPU list for the load tools (taskset -c)")
	flag.BoolVar(&c.skipRSS, "skip-rss", false, "skip the RSS runs")
	flag.BoolVar(&c.skipInstall, "skip-install", false, "do not install missing tools")
	flag.IntVar(&c.rounds, "rounds", 0, "max-rate rounds, interleaving the tools; each tool's best counts (default 3, quick 1)")
	flag.Parse()
	if c.rounds <= 0 {
		c.rounds = 3
		if c.quick {
			c.rounds = 1
		}
	}
	def := func(d *time.Duration, full, quick time.Duration) {
		if *d == 0 {
			*d = full
			if c.quick {
				*d = quick
			}
		}
	}
	def(&c.dur, 10*time.Second, 3*time.Second)
	def(&c.ladderDur, 10*time.Second, 3*time.Second)
	def(&c.rssShort, 60*time.Second, 5*time.Second)
	def(&c.rssLong, 300*time.Second, 25*time.Second)
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

type tools struct{ duckbench, vegeta, wrk, hey string }

func run(ctx context.Context, c config) error {
	tmp, err := os.MkdirTemp("", "duckbench-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	t, err := install(ctx, c, tmp)
	if err != nil {
		return err
	}
	url, stop, err := startHAProxy(ctx, c, tmp)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("target %s (HAProxy on core %s), tools on core %s, %d connections, %s per run\n",
		url, c.serverCore, c.clientCore, c.conns, c.dur)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average before: %s", b)
	}

	dbRates := maxRates(ctx, c, t, url)
	ladder(ctx, c, t, url, median(dbRates))
	if !c.skipRSS {
		peakRSS(ctx, c, t, url)
	}
	return nil
}

// maxRates runs every tool at its max rate, with the same connections and
// duration, c.rounds times; prints the best of each and the ratios to the
// goals, and returns duckbench's rate of every round.
func maxRates(ctx context.Context, c config, t tools, url string) []float64 {
	d := c.dur.String()
	n := strconv.Itoa(c.conns)
	rates := map[string]float64{} // best of the rounds
	cpu := map[string]float64{}   // CPU seconds of the tool's processes, in its best round
	order := []string{"duckbench", "vegeta", "wrk", "hey"}
	var db *benchReport
	var dbRates []float64
	for round := 0; round < c.rounds; round++ {
		for _, name := range order {
			var rate float64
			var err error
			var ru *syscall.Rusage
			var rep *benchReport
			switch name {
			case "duckbench":
				rep, ru, err = duckbench(ctx, c, t, url, "max", c.dur)
				if rep != nil {
					rate = rep.Summary.Rate
				}
			case "vegeta":
				// The CLI as people use it: attack piped into report.
				sh := fmt.Sprintf("echo 'GET %s' | %s attack -rate=0 -workers=%d -max-workers=%d -connections=%d -duration=%s | %s report",
					url, t.vegeta, c.conns, c.conns, c.conns, d, t.vegeta)
				var out string
				out, ru, err = pinned(ctx, c.clientCore, "sh", "-c", sh)
				rate, err = parse(out, err, `Requests\s+\[total, rate, throughput\]\s+\d+,\s+([0-9.]+)`)
			case "wrk":
				var out string
				out, ru, err = pinned(ctx, c.clientCore, t.wrk, "-t1", "-c"+n, "-d"+d, url)
				rate, err = parse(out, err, `Requests/sec:\s+([0-9.]+)`)
			case "hey":
				var out string
				out, ru, err = pinned(ctx, c.clientCore, t.hey, "-z", d, "-c", n, url)
				rate, err = parse(out, err, `Requests/sec:\s+([0-9.]+)`)
			}
			if err != nil {
				fmt.Printf("%-10s error: %v\n", name, err)
				continue
			}
			fmt.Printf("  round %d %-10s %8.0f req/s\n", round+1, name, rate)
			if name == "duckbench" {
				dbRates = append(dbRates, rate)
			}
			if rate > rates[name] {
				rates[name] = rate
				if ru != nil {
					cpu[name] = tv(ru.Utime) + tv(ru.Stime)
				}
				if rep != nil {
					db = rep
				}
			}
		}
	}
	// req/s is what the tools reach on this box; requests per CPU second
	// of the tool is its efficiency, and holds up when other work shares
	// the cores.
	eff := map[string]float64{}
	fmt.Printf("\nmax rate, best of %d round(s): req/s   CPU s   req per CPU s\n", c.rounds)
	for _, name := range order {
		if cpu[name] > 0 {
			eff[name] = rates[name] * c.dur.Seconds() / cpu[name]
		}
		fmt.Printf("  %-10s %10.0f %7.2f %12.0f\n", name, rates[name], cpu[name], eff[name])
	}
	if db != nil {
		l := db.Summary.Latency
		fmt.Printf("  duckbench latency p50 %s p99 %s p99.99 %s max %s, success %.4f\n",
			secs(l.P50), secs(l.P99), secs(l.P9999), secs(l.Max), db.Summary.SuccessRatio)
	}
	against := func(a, b string, goal float64) {
		if rates[b] == 0 {
			return
		}
		r := rates[a] / rates[b]
		e := 0.0
		if eff[b] > 0 {
			e = eff[a] / eff[b]
		}
		fmt.Printf("  %s/%s = %.2f req/s, %.2f per CPU s (goal >= %.2f: %s)\n", a, b, r, e, goal, verdict(r >= goal))
	}
	against("duckbench", "vegeta", 1.5)
	against("duckbench", "wrk", 0.6)
	against("duckbench", "hey", 1.0)

	return dbRates
}

// ladder runs duckbench at 25, 50 and 80 % of max at a constant rate.
func ladder(ctx context.Context, c config, t tools, url string, max float64) {
	// The ladder is based on the median of duckbench's rounds: a best-of
	// figure caught in a quiet moment would put 80 % above what the box
	// usually gives.
	if max > 0 {
		fmt.Printf("\nconstant-rate ladder (%s each) on duckbench's median max %.0f req/s:\n", c.ladderDur, max)
		for _, pct := range []float64{25, 50, 80} {
			target := float64(int(max * pct / 100))
			r, _, err := duckbench(ctx, c, t, url, strconv.FormatFloat(target, 'f', 0, 64), c.ladderDur)
			if err != nil {
				fmt.Printf("  %2.0f%%: error %v\n", pct, err)
				continue
			}
			got := float64(r.Summary.Requests) / c.ladderDur.Seconds()
			ach := got / target
			goal := ""
			if pct == 80 {
				goal = fmt.Sprintf(" (goal >= 99.5%%: %s)", verdict(ach >= 0.995))
			}
			fmt.Printf("  %2.0f%% = %6.0f req/s: achieved %6.0f = %6.2f%%, p99 %s, max lag %s, saturated %v%s\n",
				pct, target, got, ach*100, secs(r.Summary.Latency.P99), secs(r.MaxLag), r.Saturated, goal)
		}
	}
}

// peakRSS compares duckbench's peak RSS in a short and a long run at a
// fixed rate: memory must not grow with the run's length.
func peakRSS(ctx context.Context, c config, t tools, url string) {
	fmt.Printf("\npeak RSS at %.0f req/s:\n", c.rssRate)
	n := strconv.Itoa(c.conns)
	rate := strconv.FormatFloat(c.rssRate, 'f', -1, 64)
	var rss [2]int64
	for i, dur := range []time.Duration{c.rssShort, c.rssLong} {
		_, ru, err := pinned(ctx, c.clientCore, t.duckbench, "bench", url, "--rate", rate, "--duration", dur.String(), "--connections", n, "--quiet")
		if err != nil {
			fmt.Printf("  %s: error %v\n", dur, err)
			continue
		}
		rss[i] = ru.Maxrss
		fmt.Printf("  %-6s %8.1f MiB\n", dur, float64(ru.Maxrss)/1024)
	}
	if rss[0] > 0 && rss[1] > 0 {
		r := float64(rss[1]) / float64(rss[0])
		fmt.Printf("  RSS(%s)/RSS(%s) = %.3f (goal <= 1.10: %s)\n", c.rssLong, c.rssShort, r, verdict(r <= 1.1))
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func secs(s float64) string { return time.Duration(s * 1e9).Round(time.Microsecond).String() }

// benchReport is the part of `duckbench bench --json` read here.
type benchReport struct {
	Summary struct {
		Requests     uint64  `json:"requests"`
		Rate         float64 `json:"rate"`
		SuccessRatio float64 `json:"success_ratio"`
		Latency      struct {
			P50   float64 `json:"p50"`
			P99   float64 `json:"p99"`
			P9999 float64 `json:"p99_99"`
			Max   float64 `json:"max"`
		} `json:"latency"`
	} `json:"summary"`
	Saturated bool    `json:"generator_saturated"`
	MaxLag    float64 `json:"max_schedule_lag_seconds"`
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func duckbench(ctx context.Context, c config, t tools, url, rate string, d time.Duration) (*benchReport, *syscall.Rusage, error) {
	out, ru, err := pinned(ctx, c.clientCore, t.duckbench, "bench", url, "--rate", rate,
		"--duration", d.String(), "--connections", strconv.Itoa(c.conns), "--quiet", "--json")
	if err != nil {
		return nil, ru, err
	}
	var r benchReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return nil, ru, fmt.Errorf("read duckbench json: %w", err)
	}
	return &r, ru, nil
}

// pinned runs a command on the given CPUs and returns its stdout and
// resource usage.
func pinned(ctx context.Context, cpus, name string, args ...string) (string, *syscall.Rusage, error) {
	cmd := exec.CommandContext(ctx, "taskset", append([]string{"-c", cpus, name}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ru *syscall.Rusage
	if cmd.ProcessState != nil {
		ru, _ = cmd.ProcessState.SysUsage().(*syscall.Rusage)
	}
	if err != nil {
		return out.String(), ru, fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), ru, nil
}

func parse(out string, err error, re string) (float64, error) {
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no match for %q in:\n%s", re, out)
	}
	return strconv.ParseFloat(m[1], 64)
}

func install(ctx context.Context, c config, tmp string) (tools, error) {
	var t tools
	root, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return t, fmt.Errorf("go env GOMOD: %w", err)
	}
	t.duckbench = filepath.Join(tmp, "duckbench")
	build := exec.CommandContext(ctx, "go", "build", "-o", t.duckbench, "./cmd/duckbench")
	build.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := build.CombinedOutput(); err != nil {
		return t, fmt.Errorf("build duckbench: %w\n%s", err, out)
	}
	gopath, _ := exec.CommandContext(ctx, "go", "env", "GOPATH").Output()
	vegetaBin := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "vegeta")
	if p, err := exec.LookPath("vegeta"); err == nil {
		vegetaBin = p
	} else if _, err := os.Stat(vegetaBin); err != nil {
		if c.skipInstall {
			return t, errors.New("vegeta not found (go install github.com/tsenart/vegeta/v12@v12.13.0)")
		}
		fmt.Println("installing vegeta v12.13.0 …")
		cmd := exec.CommandContext(ctx, "go", "install", "github.com/tsenart/vegeta/v12@v12.13.0")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			return t, fmt.Errorf("go install vegeta: %w\n%s", err, out)
		}
	}
	t.vegeta = vegetaBin
	for _, name := range []string{"wrk", "hey", "haproxy", "taskset"} {
		if _, err := exec.LookPath(name); err == nil {
			continue
		}
		pkg := map[string]string{"taskset": "util-linux"}[name]
		if pkg == "" {
			pkg = name
		}
		if c.skipInstall {
			return t, fmt.Errorf("%s not found (apt-get install %s)", name, pkg)
		}
		fmt.Printf("installing %s …\n", pkg)
		if out, err := exec.CommandContext(ctx, "apt-get", "install", "-y", pkg).CombinedOutput(); err != nil {
			return t, fmt.Errorf("apt-get install %s: %w\n%s", pkg, err, out)
		}
	}
	t.wrk, _ = exec.LookPath("wrk")
	t.hey, _ = exec.LookPath("hey")
	return t, nil
}

func startHAProxy(ctx context.Context, c config, dir string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf(`global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend peers
    bind %s
    http-request return status 200 content-type text/plain string ok hdr X-Served-By peer
`, addr)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", nil, err
	}
	cmd := exec.Command("taskset", "-c", c.serverCore, "haproxy", "-db", "-f", path)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start haproxy: %w", err)
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	for i := 0; i < 100; i++ {
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			fmt.Fprintf(conn, "GET / HTTP/1.0\r\n\r\n")
			line, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if strings.Contains(line, "200") {
				return "http://" + addr + "/", stop, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("haproxy did not answer on %s: %s", addr, errb.String())
}
