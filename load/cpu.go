package load

import (
	"syscall"
	"time"

	"github.com/duckbench/duckbench/results"
)

// cpuMark is a reading of this process's CPU time (getrusage RUSAGE_SELF:
// user and system time of every thread, children excluded) and of the
// wall clock, taken when an attack's window opens; cost reads again when
// it closes.
//
// The whole process is measured: Go runs goroutines on any thread, so no
// per-thread clock (RUSAGE_THREAD, CLOCK_THREAD_CPUTIME_ID) follows the
// attack's. Besides the attack (its workers, the pacer, the consumer, the
// garbage collector working for them), the process of `duckbench run` also
// runs the probes (Redis INFO and heartbeats, HAProxy's Runtime API, a few
// round trips a second), the Prometheus exporter (when scraped), remote
// write and the live progress. They cost little: a local run at 10 req/s
// measured 7 ms of CPU a second in all, small beside an attack whose cost
// matters (100 req/s: 29 ms a second, 1,000 req/s: 118). They are CPU
// duckbench takes from the machine too: on the stack's machine the figure
// is what the stack lost, and its requests per CPU-second a lower bound on
// the attack's own. A load agent's process runs the attack only. The
// stack's processes (the local runtime's children, the containers) are
// never in it: RUSAGE_SELF leaves children out.
type cpuMark struct {
	wall      time.Time
	user, sys time.Duration
	ok        bool
}

// markCPU reads the CPU time now; a failed read leaves ok false (no cost).
func markCPU() cpuMark {
	m := cpuMark{wall: time.Now()}
	m.user, m.sys, m.ok = rusageSelf()
	return m
}

// cost is the generator's cost since m, for sent requests; nil when a
// reading failed.
func (m cpuMark) cost(sent uint64) *results.GeneratorCost {
	user, sys, ok := rusageSelf()
	wall := time.Since(m.wall)
	if !m.ok || !ok {
		return nil
	}
	return results.NewGeneratorCost(max(user-m.user, 0).Seconds(), max(sys-m.sys, 0).Seconds(), wall.Seconds(), sent)
}

// costOf is cost with the sent requests of rep's summary (its requests
// less the unsent ones).
func (m cpuMark) costOf(rep *Report) *results.GeneratorCost {
	s := rep.Summary
	return m.cost(s.Requests - min(s.Unsent, s.Requests))
}

// rusageSelf is the process's user and system CPU time.
func rusageSelf() (user, sys time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, false
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), true
}
