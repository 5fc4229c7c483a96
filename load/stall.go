package load

import (
	"slices"
	"time"

	"github.com/duckbench/duckbench/results"
)

// StallMin is the shortest span without any answer that counts as a stall
// of the system under test; a stall must also be StallFactor times longer
// than the recent median service time, so that a slow but steady server
// is not said to stall between its answers.
const (
	StallMin    = 100 * time.Millisecond
	StallFactor = 10
)

// The stall threshold's baseline is the median service time of the last
// baselineN successes whose span overlaps no stall: a stall's victims
// (and so how many there were: the rate) never raise the threshold for
// the next stall, and the baseline follows a server whose speed changes.
const (
	baselineN     = 63
	baselineEvery = 16 // recompute the median every this many additions
)

// stallFinder finds stalls in the stream of results: spans in which no
// response arrived although a request was waiting for one. Results come in
// (about) the order their responses ended.
type stallFinder struct {
	began   time.Time
	paced   bool      // an open-model attack: hits have due times
	lastEnd time.Time // the latest response end seen (any HTTP response)
	// recent holds the last baselineN clean service times (a ring at
	// next); median is their median as of the last recompute.
	recent  []time.Duration
	next    int
	added   int
	median  time.Duration
	scratch []time.Duration
	stalls  []results.Stall
	ends    []time.Time // each stall's end, to count who waited through it
	// Per stall, the hits due inside it: sent on time (or held only for
	// want of a worker) vs sent late with workers free. Mostly late means
	// the generator itself was paused (its CPU taken), not the server.
	onTime, late []int
	// quiet is, per stall, the last answer before it.
	quiet []time.Time
	// gapFrom, gapTo is the latest span between two answers in a row that
	// was as long as the threshold: a stall once a request that waited
	// through it is seen. Its answers come in a burst in no set order, so
	// the first to arrive may have been sent late in it. gapTh is the
	// threshold when it was found: the burst's own answers, which may come
	// before the one that proves the stall, must not raise it.
	// gapWait counts the requests that waited through it before it became
	// a stall (Requests, and on time vs late, as count does).
	gapFrom, gapTo time.Time
	gapTh          time.Duration
	gapWait        [3]int
	onStall        func(results.Stall)
}

// add looks at one result; ok results whose span overlaps no stall feed
// the baseline.
func (f *stallFinder) add(r *result, ok bool) {
	if r.unsent {
		f.count(r, r.Timestamp.Add(r.Latency))
		return
	}
	end := r.sent.Add(r.service)
	if f.lastEnd.IsZero() {
		f.lastEnd = f.began
	}
	// The gap this request waited through with nothing answered: from the
	// later of its send and the last answer, to its own end.
	from := r.sent
	if f.lastEnd.After(from) {
		from = f.lastEnd
	}
	// Until a first answer gives a service time to compare with, a slow
	// answer is not told from a stall.
	th := f.threshold()
	if f.added > 0 && r.Code != 0 && end.Sub(f.lastEnd) >= th {
		f.gapFrom, f.gapTo, f.gapTh, f.gapWait = f.lastEnd, end, th, [3]int{}
	}
	if gap := end.Sub(from); f.added > 0 && gap >= th {
		f.record(from, end, f.lastEnd)
	} else if wf := later(r.sent, f.gapFrom); !f.gapTo.IsZero() && !end.Before(f.gapTo) && f.gapTo.Sub(wf) >= f.gapTh {
		// It waited through the latest long gap between answers.
		if n := len(f.stalls); f.record(wf, f.gapTo, f.gapFrom) {
			f.stalls[n].Requests += uint64(f.gapWait[0])
			f.onTime[n] += f.gapWait[1]
			f.late[n] += f.gapWait[2]
		}
	} else if n := len(f.stalls); n > 0 && !end.Before(f.ends[n-1]) {
		// The answers that end a stall come in a burst, in no set order:
		// one sent before the stall's recorded start moves it back, as far
		// as the last answer before it.
		ss := f.began.Add(time.Duration(f.stalls[n-1].StartSeconds * 1e9))
		ns := r.sent
		if f.quiet[n-1].After(ns) {
			ns = f.quiet[n-1]
		}
		if ns.Before(ss) {
			f.stalls[n-1].StartSeconds = ns.Sub(f.began).Seconds()
			f.stalls[n-1].DurationSeconds = f.ends[n-1].Sub(ns).Seconds()
		}
	}
	f.count(r, end)
	if r.Code != 0 && end.After(f.lastEnd) {
		f.lastEnd = end
	}
	if ok && !f.overlapsStall(r.sent, end) {
		f.addBaseline(r.service)
	}
}

// overlapsStall tells whether [from, to] overlaps a recorded stall.
func (f *stallFinder) overlapsStall(from, to time.Time) bool {
	for i := len(f.stalls) - 1; i >= 0; i-- {
		if f.ends[i].Before(from) {
			return false // stalls are in order: the earlier ones end sooner
		}
		if !f.began.Add(time.Duration(f.stalls[i].StartSeconds * 1e9)).After(to) {
			return true
		}
	}
	return false
}

func (f *stallFinder) addBaseline(d time.Duration) {
	if len(f.recent) < baselineN {
		f.recent = append(f.recent, d)
	} else {
		f.recent[f.next] = d
		f.next = (f.next + 1) % baselineN
	}
	f.added++
	if f.added <= baselineEvery || f.added%baselineEvery == 0 {
		f.scratch = append(f.scratch[:0], f.recent...)
		slices.Sort(f.scratch)
		f.median = f.scratch[len(f.scratch)/2]
	}
}

// threshold is the shortest gap without an answer that is a stall now.
func (f *stallFinder) threshold() time.Duration {
	return max(StallMin, StallFactor*f.median)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// record adds the stall [from, to) after the last answer at quiet,
// merging it with the previous one when they overlap (its start moves
// back to from, its end on to to); added is false for a merge.
func (f *stallFinder) record(from, to, quiet time.Time) (added bool) {
	if n := len(f.stalls); n > 0 && !from.After(f.ends[n-1]) {
		start := f.began.Add(time.Duration(f.stalls[n-1].StartSeconds * 1e9))
		if from.Before(start) {
			start = from
			f.stalls[n-1].StartSeconds = from.Sub(f.began).Seconds()
		}
		if to.After(f.ends[n-1]) {
			f.ends[n-1] = to
		}
		f.stalls[n-1].DurationSeconds = f.ends[n-1].Sub(start).Seconds()
		return false
	}
	st := results.Stall{StartSeconds: from.Sub(f.began).Seconds(), DurationSeconds: to.Sub(from).Seconds()}
	f.stalls = append(f.stalls, st)
	f.ends = append(f.ends, to)
	f.onTime, f.late = append(f.onTime, 0), append(f.late, 0)
	f.quiet = append(f.quiet, quiet)
	if f.onStall != nil {
		f.onStall(st)
	}
	return true
}

// count adds r to the stall it waited through (due before the stall's
// end and done at or after it), and tells whether it went out on time.
func (f *stallFinder) count(r *result, end time.Time) {
	for i := len(f.stalls) - 1; i >= 0; i-- {
		se := f.ends[i]
		if r.Timestamp.Before(se) && !end.Before(se) {
			f.stalls[i].Requests++
			ss := f.began.Add(time.Duration(f.stalls[i].StartSeconds * 1e9))
			f.tell(r, ss, &f.onTime[i], &f.late[i])
			return
		}
		if end.Before(se) {
			continue
		}
		break
	}
	if g := f.gapTo; !g.IsZero() && r.Timestamp.Before(g) && !end.Before(g) && (len(f.ends) == 0 || g.After(f.ends[len(f.ends)-1])) {
		f.gapWait[0]++
		f.tell(r, f.gapFrom, &f.gapWait[1], &f.gapWait[2])
	}
}

// tell adds a hit due at or after start to onTime or late: sent on time
// (or held only for want of a worker), or late with workers free.
func (f *stallFinder) tell(r *result, start time.Time, onTime, late *int) {
	if r.Timestamp.Before(start) || r.unsent || !f.paced {
		return
	}
	if r.waited || r.sent.Sub(r.Timestamp) < StallMin/2 {
		*onTime++
	} else {
		*late++
	}
}

// result is the stalls of the system under test: those in which the
// generator itself was paused (hits due in them went out late with
// workers free) are left out; the schedule lag shows those.
func (f *stallFinder) result() []results.Stall {
	var out []results.Stall
	for i, st := range f.stalls {
		if f.late[i] > f.onTime[i] {
			continue
		}
		out = append(out, st)
	}
	return out
}
