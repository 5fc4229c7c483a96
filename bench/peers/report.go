package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// A goal is a lower bound on duckbench ÷ peer in requests per CPU-second
// (issue 22): the medians of the rounds at one connection count.
type goal struct {
	conns int
	peer  string
	min   float64
}

var goals = []goal{
	{50, "wrk", 0.9},    // throughput-bound
	{4, "wrk", 0.8},     // latency-bound
	{50, "vegeta", 2.5}, // the vegeta CLI, at the 50 connections
}

// keptGoal is the share of the open-model schedule duckbench must keep.
const keptGoal = 0.999

// median is the middle of v (the mean of the two middle values for an
// even count); 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func field(ss []sample, f func(sample) float64) []float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	return v
}

func medianOf(ss []sample, f func(sample) float64) float64 { return median(field(ss, f)) }

func perCPU(s sample) float64 { return s.PerCPU() }
func rate(s sample) float64   { return s.Rate }
func cpu(s sample) float64    { return s.CPU }

// A ratio is duckbench ÷ a peer in requests per CPU-second at one
// connection count, with the goal when the issue sets one.
type ratio struct {
	peer    string
	value   float64 // ratio of the medians
	perRnd  []float64
	goal    float64 // 0: none
	hasGoal bool
}

func (r ratio) pass() bool { return r.value >= r.goal }

// ratios compares duckbench with each peer: the ratio of the medians, and
// each round's ratio (same round, adjacent runs) to show the spread.
func ratios(bytool map[string][]sample, conns int, peers []string) []ratio {
	db := bytool["duckbench"]
	var out []ratio
	for _, p := range peers {
		if p == "duckbench" || len(bytool[p]) == 0 {
			continue
		}
		r := ratio{peer: p}
		if m := medianOf(bytool[p], perCPU); m > 0 {
			r.value = medianOf(db, perCPU) / m
		}
		for i := 0; i < len(db) && i < len(bytool[p]); i++ {
			if e := bytool[p][i].PerCPU(); e > 0 {
				r.perRnd = append(r.perRnd, db[i].PerCPU()/e)
			}
		}
		for _, g := range goals {
			if g.conns == conns && g.peer == p {
				r.goal, r.hasGoal = g.min, true
			}
		}
		out = append(out, r)
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// roundLine is one run's figures, printed as it ends.
func roundLine(name string, s sample) string {
	l := fmt.Sprintf("  %-9s %9.0f req/s %10.0f req %6.2f CPU-s %9.0f req/CPU-s  RSS %5.1f MiB  HAProxy %3.0f%% of its core  other %4.2f CPU-s",
		name, s.Rate, s.Requests, s.CPU, s.PerCPU(), float64(s.RSSKiB)/1024, 100*s.ServerCPU/max(s.Seconds, 1e-9), s.OtherCPU)
	if s.Errors > 0 {
		l += fmt.Sprintf("  ERRORS %.0f", s.Errors)
	}
	if s.Unsent > 0 {
		l += fmt.Sprintf("  unsent %.0f", s.Unsent)
	}
	return l
}

// maxTable writes the medians of the max-rate rounds at one connection
// count, with every round's requests per CPU-second.
func maxTable(w io.Writer, conns int, names []string, bytool map[string][]sample) {
	fmt.Fprintf(w, "\n%d connections, median of %d round(s):\n\n", conns, len(bytool[names[0]]))
	fmt.Fprintln(w, "| tool | req/s | CPU s | req per CPU-s | each round, req per CPU-s | each round, req/s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, n := range names {
		ss := bytool[n]
		fmt.Fprintf(w, "| %s | %s | %.2f | %s | %s | %s |\n", n, thousands(medianOf(ss, rate)), medianOf(ss, cpu),
			thousands(medianOf(ss, perCPU)), list(field(ss, perCPU), thousands), list(field(ss, rate), thousands))
	}
}

// ratioTable writes duckbench ÷ each peer per CPU-second at every
// connection count, with the goals' verdicts.
func ratioTable(w io.Writer, conns []int, names []string, res map[int]map[string][]sample) (misses int) {
	fmt.Fprintf(w, "\nduckbench ÷ peer, requests per CPU-second (ratio of the medians; each round's ratio in brackets):\n\n")
	fmt.Fprint(w, "| ratio |")
	for _, n := range conns {
		fmt.Fprintf(w, " %d connections |", n)
	}
	fmt.Fprint(w, "\n|---|")
	fmt.Fprint(w, strings.Repeat("---|", len(conns)))
	fmt.Fprintln(w)
	rows := map[int][]ratio{}
	for _, n := range conns {
		rows[n] = ratios(res[n], n, names)
	}
	for i, p := range rows[conns[0]] {
		fmt.Fprintf(w, "| duckbench ÷ %s |", p.peer)
		for _, n := range conns {
			r := rows[n][i]
			fmt.Fprintf(w, " **%.3f** [%s]", r.value, list(r.perRnd, two))
			if r.hasGoal {
				fmt.Fprintf(w, " goal ≥ %.1f: %s", r.goal, verdict(r.pass()))
				if !r.pass() {
					misses++
				}
			}
			fmt.Fprint(w, " |")
		}
		fmt.Fprintln(w)
	}
	return misses
}

// An openRun is one fixed-rate run of duckbench or fortio.
type openRun struct {
	s     sample
	sched schedule // duckbench only
}

// openTable writes the fixed-rate rounds' medians: duckbench's share of
// the schedule kept and the CPU per request of both tools. It returns
// whether duckbench kept keptGoal of the schedule.
func openTable(w io.Writer, target float64, db, fortio []openRun) bool {
	kept := make([]float64, len(db))
	ach := make([]float64, len(db))
	var lag []float64
	saturated := 0
	dbS := make([]sample, len(db))
	for i, r := range db {
		kept[i], ach[i], dbS[i] = r.sched.Kept, r.sched.Achieved, r.s
		lag = append(lag, r.s.Report.MaxLag)
		if r.s.Report.Saturated {
			saturated++
		}
	}
	foS := make([]sample, len(fortio))
	foAch := make([]float64, len(fortio))
	for i, r := range fortio {
		foS[i], foAch[i] = r.s, r.s.Rate/target
	}
	ok := median(kept) >= keptGoal
	fmt.Fprintf(w, "\nfixed rate %s req/s, median of %d round(s):\n\n", thousands(target), len(db))
	fmt.Fprintln(w, "| tool | achieved ÷ target | schedule kept | max schedule lag (worst round) | saturated | req per CPU-s | each round, req per CPU-s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	fmt.Fprintf(w, "| duckbench | %.2f %% | **%.3f %%** (goal ≥ %.1f %%: %s) | %s (%s) | %d of %d rounds | %s | %s |\n",
		100*median(ach), 100*median(kept), 100*keptGoal, verdict(ok), secs(median(lag)), secs(maxOf(lag)), saturated, len(db),
		thousands(medianOf(dbS, perCPU)), list(field(dbS, perCPU), thousands))
	if len(fortio) > 0 {
		fmt.Fprintf(w, "| fortio | %.2f %% | – | – | – | %s | %s |\n",
			100*median(foAch), thousands(medianOf(foS, perCPU)), list(field(foS, perCPU), thousands))
		if f := medianOf(foS, perCPU); f > 0 {
			fmt.Fprintf(w, "\nduckbench ÷ fortio at this fixed rate, requests per CPU-second: **%.2f**\n", medianOf(dbS, perCPU)/f)
		}
	}
	return ok
}

// thousands formats a rate with a thin grouping ("42 516").
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func two(v float64) string { return fmt.Sprintf("%.2f", v) }

func list(v []float64, f func(float64) string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = f(x)
	}
	return strings.Join(s, ", ")
}

func secs(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.1f ms", s*1e3)
	default:
		return fmt.Sprintf("%.0f µs", s*1e6)
	}
}
