package results

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// GeneratorCost is what the load generator cost in CPU over an attack
// window (Summary.Generator): the CPU time of its process (user + system,
// from getrusage), the wall time of the window, and the requests it sent.
// On a machine shared with the system under test every CPU-second of it
// was taken from the stack; on a sharded run it says how many agents a
// rate needs.
type GeneratorCost struct {
	// CPUSeconds is UserSeconds + SystemSeconds.
	CPUSeconds    float64 `json:"cpu_seconds"`
	UserSeconds   float64 `json:"user_seconds"`
	SystemSeconds float64 `json:"system_seconds"`
	// WallSeconds is how long the window lasted on the wall clock (summed
	// over trials; the longest agent's for agents that ran at once).
	WallSeconds float64 `json:"wall_seconds"`
	// Cores is CPUSeconds / WallSeconds: the share of one core the
	// generator kept busy (above 1 when it used more than one; the sum of
	// the agents' own for agents that ran at once).
	Cores float64 `json:"cores"`
	// Sent counts the requests actually sent (Summary.Requests less
	// Summary.Unsent).
	Sent uint64 `json:"requests_sent"`
	// RequestsPerCPUSecond is Sent / CPUSeconds (0 when no CPU time was
	// read): the generator's efficiency, comparable with other tools'
	// requests ÷ (user + sys) of their process.
	RequestsPerCPUSecond float64 `json:"requests_per_cpu_second"`
}

// NewGeneratorCost is the cost of sent requests that took user and sys
// seconds of CPU over wall seconds, with its ratios filled in.
func NewGeneratorCost(user, sys, wall float64, sent uint64) *GeneratorCost {
	g := &GeneratorCost{UserSeconds: user, SystemSeconds: sys, WallSeconds: wall, Sent: sent}
	g.fill()
	g.Cores = Ratio(g.CPUSeconds, wall)
	return g
}

// fill sets CPUSeconds and RequestsPerCPUSecond from the parts.
func (g *GeneratorCost) fill() {
	g.CPUSeconds = g.UserSeconds + g.SystemSeconds
	g.RequestsPerCPUSecond = Ratio(float64(g.Sent), g.CPUSeconds)
}

// SumGenerators adds up the costs gs: CPU time and requests summed, and so
// requests per CPU-second over the whole. Sequential windows (the trials
// of a repeated run) add their wall times too, Cores being the mean over
// them; concurrent ones (the load agents of a sharded run) share one
// window: the wall time is the longest agent's and Cores the sum of the
// agents' own, the cores they took together. It is nil when any is nil (a
// trial or an agent of a build that did not measure it): a sum of some
// would understate the cost.
func SumGenerators(concurrent bool, gs ...*GeneratorCost) *GeneratorCost {
	if len(gs) == 0 || slices.Contains(gs, nil) {
		return nil
	}
	out := &GeneratorCost{}
	for _, g := range gs {
		out.UserSeconds += g.UserSeconds
		out.SystemSeconds += g.SystemSeconds
		out.Sent += g.Sent
		if concurrent {
			out.WallSeconds = math.Max(out.WallSeconds, g.WallSeconds)
			out.Cores += g.Cores
		} else {
			out.WallSeconds += g.WallSeconds
		}
	}
	out.fill()
	if !concurrent {
		out.Cores = Ratio(out.CPUSeconds, out.WallSeconds)
	}
	return out
}

// GeneratorShareWarn is the share of a core past which a generator that
// shares its machine with the system under test is warned of
// (GeneratorShares). A quarter of a core is 12.5 % of a 2-core CI runner
// or laptop VM, and several per cent of a 4–8-core laptop: more than the
// run-to-run noise duckbench's comparisons resolve (a few per cent), so a
// capacity or a p99 found there moves by more than the noise with the
// generator's cost. Below it the cost is within that noise. On the 2-core
// test machine (2026-12, local runtime, quiet) 10 req/s cost 0.007 core,
// 100 req/s 0.03, 1,000 req/s 0.12 (0.28 while other work shared the
// machine) and rate max 0.4–0.9: the maximal rate is warned of.
const GeneratorShareWarn = 0.25

// Runtimes whose stack runs on the machine of the process that started it
// (stack.RuntimeLocal and stack.RuntimeCompose; results does not import
// stack).
var sameMachineRuntimes = []string{"local", "compose"}

// GeneratorShare is a load generator that took more than
// GeneratorShareWarn of a core on a machine the system under test ran on.
type GeneratorShare struct {
	// Who is "the load generator" (in process) or "load agent N".
	Who string
	// Where says why the machine is the stack's: "runtime local", "its
	// node h2 runs app1, haproxy".
	Where string
	Cost  *GeneratorCost
	// CPUs is the machine's CPU count (0: not known).
	CPUs int
}

// GeneratorShares are the load generators of r that took more than
// GeneratorShareWarn of a core on a machine the system under test ran on:
// their CPU was taken from the stack, so a rate or a capacity found there
// is lower than the stack's own. The in-process generator shares its
// machine when duckbench started the stack on it: the local and compose
// runtimes, or a swarm stack with a task placed on this host; a load agent
// when its node runs a task of the stack (Placement). A record without a
// runtime or without generator figures (older records) has none.
func GeneratorShares(r *Result) []GeneratorShare {
	if len(r.Agents) == 0 {
		g := r.Summary.Generator
		if g == nil || g.Cores <= GeneratorShareWarn {
			return nil
		}
		var where string
		switch on := r.placedOn(r.Host.Hostname); {
		case slices.Contains(sameMachineRuntimes, r.Runtime):
			where = "runtime " + r.Runtime
		case r.Host.Hostname != "" && len(on) > 0:
			where = "this host runs " + strings.Join(on, ", ")
		default:
			return nil
		}
		return []GeneratorShare{{Who: "the load generator", Where: where, Cost: g, CPUs: r.Host.CPUs}}
	}
	var out []GeneratorShare
	for _, a := range r.Agents {
		g := a.Generator
		if g == nil || g.Cores <= GeneratorShareWarn || a.Node == "" {
			continue
		}
		if on := r.placedOn(a.Node); len(on) > 0 {
			out = append(out, GeneratorShare{Who: fmt.Sprintf("load agent %d", a.Index),
				Where: "its node " + a.Node + " runs " + strings.Join(on, ", "), Cost: g})
		}
	}
	return out
}

// placedOn lists the stack's services with a task on host, in name order.
func (r *Result) placedOn(host string) []string {
	var out []string
	for svc, nodes := range r.Placement {
		if slices.Contains(nodes, host) {
			out = append(out, svc)
		}
	}
	slices.Sort(out)
	return out
}

// Warning is the reports' warning about s.
func (s GeneratorShare) Warning() string {
	of := ""
	if s.CPUs > 0 {
		of = fmt.Sprintf(", %s of this %d-CPU machine", FormatPercent(s.Cost.Cores/float64(s.CPUs)), s.CPUs)
	}
	return fmt.Sprintf("%s took %s of a core (%s CPU over %s%s) on the machine of the system under test (%s): "+
		"that CPU was taken from the stack, so a rate or capacity found here is lower than the stack's own by about that much (warned above %s of a core)",
		s.Who, FormatCores(s.Cost.Cores), FormatSeconds(s.Cost.CPUSeconds), FormatSeconds(s.Cost.WallSeconds), of, s.Where, FormatCores(GeneratorShareWarn))
}

// Event is the record's event about s (kind "generator"), at seconds since
// the attack began.
func (s GeneratorShare) Event(at float64) Event {
	return Event{AtSeconds: at, Kind: "generator", Action: "share", Message: fmt.Sprintf(
		"%s took %s of a core on the machine of the system under test (%s), more than %s: its CPU was taken from the stack",
		s.Who, FormatCores(s.Cost.Cores), s.Where, FormatCores(GeneratorShareWarn))}
}

// FormatGenerator prints g in one line: "3.21s CPU, 0.32 of a core,
// 31234 req per CPU-second" ("-" for nil).
func FormatGenerator(g *GeneratorCost) string {
	if g == nil {
		return "-"
	}
	rpc := "-"
	if g.CPUSeconds > 0 {
		rpc = fmt.Sprintf("%.0f", g.RequestsPerCPUSecond)
	}
	return fmt.Sprintf("%s CPU, %s of a core, %s req per CPU-second", FormatSeconds(g.CPUSeconds), FormatCores(g.Cores), rpc)
}

// FormatCores prints a number of cores with three significant digits:
// "0.00412", "0.32", "1.25".
func FormatCores(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
