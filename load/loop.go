package load

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// result is a vegeta.Result plus what vegeta's format has no field for.
// For a paced attack Result.Timestamp is the intended send time and
// Result.Latency runs from it to the end of the response (the primary,
// intended-time latency), so that `vegeta report` on a raw file shows the
// same figures; sent is when the request actually went out, and service
// is end − sent. For rate max both latencies are the service time.
//
// Results travel by value: the hot path fills one on the worker's stack
// and appends it to the worker's outbox. Method is the target's own
// string; URL and Headers are filled only for a raw results file (see
// consumer.rawResult), from target, key and servedBy.
type result struct {
	vegeta.Result
	sent     time.Time
	service  time.Duration
	waited   bool
	unsent   bool   // never sent: the attack ended while it was still queued
	target   int    // index of the target in the mix
	key      int    // key number drawn (-1: the target has none)
	servedBy string // the first X-Served-By value, "" when none
}

// end is when r's response ended (a hit never sent: when it was given up).
func (r *result) end() time.Time {
	if r.unsent {
		return r.Timestamp.Add(r.Latency)
	}
	return r.sent.Add(r.service)
}

// ErrNotSent is the error of a hit that was due but never sent: the attack
// ended (its duration plus the request timeout, or an interrupt) while the
// hit still waited for a free worker. It is counted as a failure with the
// time it waited, never dropped.
const ErrNotSent = "not sent: no free worker before the attack ended"

// closedTicket marks the ticket dispenser closed: take never hands out a
// ticket at or past it.
const closedTicket = 1 << 62

// scheduler runs an attack's workers. There is no dispatcher on the hot
// path: hits are tickets. A worker that is free takes the next ticket n
// (one atomic add), holds it until the pacer's due time of hit n, sends,
// and times the request from that due time, so a late send still counts
// from when it was due (no coordinated omission, as in wrk2). A ticket
// taken after its due time was late because no worker was free: its own
// wait, or the backlog of an earlier one (result.waited); one taken in
// time and sent late was late by the generator's own CPU.
//
// The scheduler's own goroutine sleeps until the next ticket nobody has
// taken falls due. Found still untaken then, every worker is busy: the
// pool grows by Little's law: past the initial cap, a new worker while the
// workers are fewer than LittleHeadroom × rate × the age of the oldest
// request in flight (a high percentile of the service time as the server
// is giving it now, stalls included), up to the attack's maximum. The
// server, not a guess made before the attack, sets how many requests are
// in flight.
//
// Results go to one outbox per worker, which the consumer empties every
// drainEvery: no channel send, and no wake-up of another goroutine, per
// request.
type scheduler struct {
	a     *Attack
	began time.Time
	end   time.Time // rate max: no hit starts at or after it
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	done  chan struct{} // closed once every worker has returned

	// next is the next ticket (hit number) to hand out; closedTicket or
	// past it once closed. firstUnsent is the first ticket never handed
	// out, set when closed.
	next        atomic.Uint64
	firstUnsent atomic.Uint64
	// starting counts workers spawned that have not taken a ticket yet.
	starting atomic.Int64

	workers atomic.Uint64
	// ws is every worker's shared state, by index, up to workers; a
	// worker's entry is set before workers counts it.
	ws []*workerState
	// own is the outbox of the scheduler's goroutine (hits given up).
	own outbox

	// blocked is the total time the next ticket was overdue with every
	// worker busy; blockedSince is when the current such span began (0:
	// none).
	blocked      atomic.Int64
	blockedSince atomic.Int64
	// worstAge is the oldest in-flight age seen while waiting for a worker
	// since the monitor last took it (takeWorstAge).
	worstAge atomic.Int64
	// ageAt and age cache oldestInFlight for the scheduler's own goroutine.
	ageAt time.Time
	age   time.Duration
	timer *time.Timer
}

// workerState is what a worker shares with the scheduler and the consumer.
type workerState struct {
	// inFlight is the send time (Unix ns) of the request in flight, 0 when
	// none; held the due time of a ticket taken and not yet sent, 0 none.
	inFlight atomic.Int64
	held     atomic.Int64
	sent     atomic.Uint64 // requests sent
	box      outbox
	_        [64]byte // keep workers' counters off each other's cache lines
}

// outbox holds one producer's results until the consumer takes them.
type outbox struct {
	mu    sync.Mutex
	rs    []result
	spare []result // the consumer's batch from the last take
}

// put appends a copy of r.
func (o *outbox) put(r *result) {
	o.mu.Lock()
	o.rs = append(o.rs, *r)
	o.mu.Unlock()
}

// take returns the results put since the last take; they stay valid until
// the next take.
func (o *outbox) take() []result {
	o.mu.Lock()
	rs := o.rs
	o.rs, o.spare = o.spare[:0], rs
	o.mu.Unlock()
	return rs
}

// LittleHeadroom is the margin of the in-flight cap over Little's law
// (in flight = rate × time in system): bursts of the schedule and a
// service time that is still rising need room.
const LittleHeadroom = 2

// resizeEvery is how often the scheduler, while the next hit is overdue
// with every worker busy, looks again at the requests in flight (their
// ages may now call for more workers).
const resizeEvery = 10 * time.Millisecond

// drainEvery is how often the consumer empties the workers' outboxes.
const drainEvery = 10 * time.Millisecond

func newScheduler(a *Attack, began time.Time) *scheduler {
	return &scheduler{a: a, began: began, end: began.Add(a.dur), stop: make(chan struct{}), done: make(chan struct{}),
		ws: make([]*workerState, max(a.maxWork, a.workers))}
}

// Stop ends the schedule: no ticket is handed out after it; hits in flight
// finish.
func (s *scheduler) Stop() {
	s.once.Do(func() {
		s.firstUnsent.Store(s.next.Swap(closedTicket))
		close(s.stop)
	})
}

// take hands out the next ticket; false once the dispenser is closed.
func (s *scheduler) take() (uint64, bool) {
	n := s.next.Add(1) - 1
	return n, n < closedTicket
}

// state is the shared state of the first n workers.
func (s *scheduler) states() []*workerState {
	return s.ws[:min(s.workers.Load(), uint64(len(s.ws)))]
}

// blockedFor is the time spent waiting for workers up to now.
func (s *scheduler) blockedFor(now time.Time) time.Duration {
	b := time.Duration(s.blocked.Load())
	if since := s.blockedSince.Load(); since != 0 {
		b += now.Sub(time.Unix(0, since))
	}
	return b
}

// setBehind notes at now whether the next ticket is overdue with every
// worker busy. Only the scheduler's goroutine calls it.
func (s *scheduler) setBehind(now time.Time, behind bool) {
	since := s.blockedSince.Load()
	switch {
	case behind && since == 0:
		s.blockedSince.Store(now.UnixNano())
	case !behind && since != 0:
		s.blocked.Add(int64(now.Sub(time.Unix(0, since))))
		s.blockedSince.Store(0)
	}
}

// sentCount is how many requests the workers have sent.
func (s *scheduler) sentCount() uint64 {
	var n uint64
	for _, w := range s.states() {
		n += w.sent.Load()
	}
	return n
}

// oldestUnsent is the due time, from the start, of the earliest hit due
// and not yet sent (the schedule's end when none is left); a paced attack
// only.
func (s *scheduler) oldestUnsent() time.Duration {
	p := s.a.pacer
	oldest := s.a.dur
	if n := s.next.Load(); n < closedTicket {
		oldest = min(p.At(n), s.a.dur)
	}
	for _, w := range s.states() {
		if h := w.held.Load(); h != 0 {
			oldest = min(oldest, time.Unix(0, h).Sub(s.began))
		}
	}
	return oldest
}

// oldestInFlight is the age at now of the oldest request in flight (0:
// none).
func (s *scheduler) oldestInFlight(now time.Time) time.Duration {
	oldest := int64(0)
	for _, w := range s.states() {
		if t := w.inFlight.Load(); t != 0 && (oldest == 0 || t < oldest) {
			oldest = t
		}
	}
	if oldest == 0 {
		return 0
	}
	return max(now.Sub(time.Unix(0, oldest)), 0)
}

// takeWorstAge returns the oldest in-flight age seen while waiting for a
// worker since the last call, and the age now if a wait is going on.
func (s *scheduler) takeWorstAge(now time.Time) time.Duration {
	w := time.Duration(s.worstAge.Swap(0))
	if s.blockedSince.Load() != 0 {
		w = max(w, s.oldestInFlight(now))
	}
	return w
}

// grow tells whether a hit that found every worker busy at now gets a new
// worker: under the initial cap always, past it while Little's law asks
// for more, never past the maximum.
func (s *scheduler) grow(now time.Time) bool {
	n := s.workers.Load()
	if n >= s.a.maxWork {
		return false
	}
	if n < s.a.initCap {
		return true
	}
	if now.Sub(s.ageAt) >= time.Millisecond {
		s.ageAt, s.age = now, s.oldestInFlight(now)
	}
	rate := s.a.pacer.Rate(now.Sub(s.began))
	return float64(n) < LittleHeadroom*rate*s.age.Seconds()
}

// noteAge keeps the oldest in-flight age seen while waiting for a worker.
func (s *scheduler) noteAge(now time.Time) {
	age := int64(s.oldestInFlight(now))
	for {
		w := s.worstAge.Load()
		if age <= w || s.worstAge.CompareAndSwap(w, age) {
			return
		}
	}
}

// run starts the workers, watches the schedule until every ticket due is
// taken (or given up), and closes done once every worker has returned.
func (s *scheduler) run(ctx context.Context) {
	for range s.a.workers {
		s.spawn(ctx)
	}
	defer func() {
		s.wg.Wait()
		close(s.done)
	}()
	if s.a.pacer.Max() {
		return // closed model: the workers are the schedule
	}
	p := s.a.pacer
	// Hits still queued this long after the schedule's end are given up:
	// one request timeout is as long as any of them could have waited for
	// its answer.
	cutoff := s.end.Add(s.a.timeout)
	for {
		n := s.next.Load()
		if n >= closedTicket { // stopped
			s.setBehind(time.Now(), false)
			s.giveUp(s.firstUnsent.Load())
			return
		}
		at := p.At(n)
		if at >= s.a.dur {
			s.setBehind(time.Now(), false)
			return // every hit handed out
		}
		now := time.Now()
		if due := s.began.Add(at); due.After(now) {
			s.setBehind(now, false)
			s.sleep(due.Sub(now))
			continue
		}
		if s.starting.Load() > 0 {
			// a worker just started will take it
			runtime.Gosched()
			continue
		}
		// Due, and no worker free to take it.
		s.setBehind(now, true)
		if now.After(cutoff) {
			s.Stop()
			continue
		}
		if s.grow(now) {
			s.spawn(ctx)
			continue
		}
		s.noteAge(now)
		s.sleep(resizeEvery)
	}
}

// sleep waits d or until Stop.
func (s *scheduler) sleep(d time.Duration) {
	if s.timer == nil {
		s.timer = time.NewTimer(d)
	} else {
		s.timer.Reset(d)
	}
	select {
	case <-s.timer.C:
	case <-s.stop:
		s.timer.Stop()
	}
}

// giveUp reports every hit from n on that was due by now as not sent.
func (s *scheduler) giveUp(n uint64) {
	p := s.a.pacer
	now := time.Now()
	for ; ; n++ {
		at := p.At(n)
		if at >= s.a.dur || s.began.Add(at).After(now) {
			return
		}
		due := s.began.Add(at)
		r := result{unsent: true, waited: true, key: -1}
		r.Seq, r.Timestamp, r.Latency, r.Error = n, due, now.Sub(due), ErrNotSent
		s.own.put(&r)
	}
}

// spawn starts a worker. Only the scheduler's goroutine (and run before
// it watches) calls it.
func (s *scheduler) spawn(ctx context.Context) {
	i := s.workers.Load()
	if i >= uint64(len(s.ws)) {
		return
	}
	st := &workerState{}
	s.ws[i] = st
	s.starting.Add(1)
	s.workers.Store(i + 1)
	s.wg.Add(1)
	w := &worker{s: s, a: s.a, st: st}
	go func() {
		defer s.wg.Done()
		defer w.release()
		w.run(ctx)
	}()
}

// worker is one worker goroutine's own state: its connection, request
// buffer and server names, none shared.
type worker struct {
	s     *scheduler
	a     *Attack
	st    *workerState
	conn  *wireConn
	buf   []byte
	names map[string]string // X-Served-By values seen, interned
	timer *time.Timer
}

// run takes tickets until the schedule ends or the attack stops.
func (w *worker) run(ctx context.Context) {
	s, p := w.s, w.a.pacer
	for first := true; ; first = false {
		// rate max: the clock first, so that every ticket taken is sent and
		// the hits sent are numbered 0…N−1 without a gap
		if p.Max() && !time.Now().Before(s.end) {
			return
		}
		n, ok := s.take()
		if first {
			s.starting.Add(-1)
		}
		if !ok {
			return
		}
		var r result
		r.Seq = n
		if p.Max() {
			r.Timestamp = time.Now()
			w.prepare(&r)
		} else {
			at := p.At(n)
			if at >= w.a.dur {
				return
			}
			due := s.began.Add(at)
			r.Timestamp = due
			if now := time.Now(); now.After(due) {
				r.waited = true // nobody free to take it in time
			}
			w.st.held.Store(due.UnixNano())
			w.prepare(&r)
			if !w.sleepUntil(due) {
				w.st.held.Store(0)
				return
			}
		}
		w.send(ctx, &r)
		w.st.box.put(&r)
	}
}

// sleepUntil waits until t; false if the attack stopped first.
func (w *worker) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.timer.C:
		return true
	case <-w.s.stop:
		w.timer.Stop()
		return false
	}
}

// prepare draws r's request: its target and key, and for the wire path
// its bytes in w.buf.
func (w *worker) prepare(r *result) {
	t := w.a.tgt
	r.target, r.key = t.draw()
	r.Method = t.targets[r.target].method
	if w.a.wire {
		w.buf = t.appendWire(w.buf[:0], r.target, r.key)
	}
}

// send sends r's request now and times it.
func (w *worker) send(ctx context.Context, r *result) {
	sent := time.Now()
	w.st.held.Store(0)
	w.st.inFlight.Store(sent.UnixNano())
	w.st.sent.Add(1)
	if w.a.wire {
		w.hitWire(r, sent)
	} else {
		w.hitHTTP(ctx, r, sent)
	}
	w.st.inFlight.Store(0)
	if w.a.pacer.Max() {
		r.Timestamp = r.sent
	}
	r.Latency = r.sent.Add(r.service).Sub(r.Timestamp)
}

// release gives the worker's connection to the attack's pool.
func (w *worker) release() {
	if w.conn != nil {
		w.a.pool.put(w.conn)
		w.conn = nil
	}
}

// serverName is the interned string of an X-Served-By value: the same few
// server names come back on every response, so only the first of each
// allocates.
func (w *worker) serverName(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := w.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if w.names == nil {
		w.names = map[string]string{}
	}
	if len(w.names) < 4*maxServerNames {
		w.names[s] = s
	}
	return s
}

// maxServerNames bounds the names a worker interns; past it (a server
// whose names never repeat) each response's name allocates.
const maxServerNames = 256

// batch is the consumer's view of the outboxes: their results in the order
// their responses ended.
type batch struct {
	keyed []endKeyed
}

type endKeyed struct {
	end int64 // Unix ns
	r   *result
}

// collect takes every outbox's results, sorted by the end of their
// response (each worker's are in order already; the sort merges the
// workers', on keys computed once per result).
func (b *batch) collect(s *scheduler) []endKeyed {
	b.keyed = b.keyed[:0]
	add := func(rs []result) {
		for i := range rs {
			b.keyed = append(b.keyed, endKeyed{rs[i].end().UnixNano(), &rs[i]})
		}
	}
	for _, w := range s.states() {
		add(w.box.take())
	}
	add(s.own.take())
	slices.SortFunc(b.keyed, func(x, y endKeyed) int {
		if c := cmp.Compare(x.end, y.end); c != 0 {
			return c
		}
		return cmp.Compare(x.r.Seq, y.r.Seq)
	})
	return b.keyed
}
