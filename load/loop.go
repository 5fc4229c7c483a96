package load

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// hit is one scheduled request handed to a worker.
type hit struct {
	seq uint64
	// due is the intended send time (the pacer's schedule); for rate max,
	// which has no schedule, the time the hit was handed out.
	due time.Time
	// waited is true when the hit is late because of a wait for a free
	// worker (the worker cap was reached): its own, or the backlog left by
	// an earlier one that the schedule has not caught up with yet.
	waited bool
}

// result is a vegeta.Result plus what vegeta's format has no field for.
// For a paced attack Result.Timestamp is the intended send time and
// Result.Latency runs from it to the end of the response (the primary,
// intended-time latency), so that `vegeta report` on a raw file shows the
// same figures; sent is when the request actually went out, and service
// is end − sent. For rate max both latencies are the service time.
type result struct {
	vegeta.Result
	sent    time.Time
	service time.Duration
	waited  bool
	unsent  bool // never sent: the attack ended while it was still queued
}

// ErrNotSent is the error of a hit that was due but never sent: the attack
// ended (its duration plus the request timeout, or an interrupt) while the
// hit still waited for a free worker. It is counted as a failure with the
// time it waited, never dropped.
const ErrNotSent = "not sent: no free worker before the attack ended"

// scheduler paces hits to a growing pool of workers. It is vegeta's
// attack loop turned inside out: the pacer's due time of every hit is kept
// with the hit, so a late send still times its request from when it was
// due (no coordinated omission, as in wrk2).
//
// The pool grows by Little's law: past the initial cap, a hit that finds
// every worker busy gets a new one while the workers are fewer than
// LittleHeadroom × rate × the age of the oldest request in flight (a high
// percentile of the service time as the server is giving it now, stalls
// included), up to the attack's maximum. The server, not a guess made
// before the attack, sets how many requests are in flight.
type scheduler struct {
	a     *Attack
	began time.Time
	hits  chan hit
	out   chan *result
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	workers atomic.Uint64
	// slots hold, per worker, the send time (Unix ns) of its request in
	// flight, 0 when idle.
	slots []atomic.Int64
	// blocked is the total time spent waiting for a free worker;
	// blockedSince is when the current wait began (0: not waiting).
	blocked      atomic.Int64
	blockedSince atomic.Int64
	// worstAge is the oldest in-flight age seen while waiting for a worker
	// since the monitor last took it (takeWorstAge).
	worstAge atomic.Int64
	// ageAt and age cache oldestInFlight for the scheduler's own goroutine.
	ageAt time.Time
	age   time.Duration
}

// LittleHeadroom is the margin of the in-flight cap over Little's law
// (in flight = rate × time in system): bursts of the schedule and a
// service time that is still rising need room.
const LittleHeadroom = 2

// resizeEvery is how often a hit waiting for a free worker looks again at
// the requests in flight (their ages may now call for more workers).
const resizeEvery = 10 * time.Millisecond

func newScheduler(a *Attack, began time.Time) *scheduler {
	return &scheduler{a: a, began: began, hits: make(chan hit), out: make(chan *result, 4096), stop: make(chan struct{}),
		slots: make([]atomic.Int64, max(a.maxWork, a.workers))}
}

// Stop ends the schedule; hits in flight finish.
func (s *scheduler) Stop() { s.once.Do(func() { close(s.stop) }) }

// blockedFor is the time spent waiting for workers up to now.
func (s *scheduler) blockedFor(now time.Time) time.Duration {
	b := time.Duration(s.blocked.Load())
	if since := s.blockedSince.Load(); since != 0 {
		b += now.Sub(time.Unix(0, since))
	}
	return b
}

// oldestInFlight is the age at now of the oldest request in flight (0:
// none).
func (s *scheduler) oldestInFlight(now time.Time) time.Duration {
	n := min(s.workers.Load(), uint64(len(s.slots)))
	oldest := int64(0)
	for i := range n {
		if t := s.slots[i].Load(); t != 0 && (oldest == 0 || t < oldest) {
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

// run schedules every hit and closes out when the last result is in.
func (s *scheduler) run(ctx context.Context) {
	for range s.a.workers {
		s.spawn(ctx)
	}
	p := s.a.pacer
	// Hits still queued this long after the schedule's end are given up:
	// one request timeout is as long as any of them could have waited for
	// its answer.
	cutoff := s.began.Add(s.a.dur + s.a.timeout)
	end := s.began.Add(s.a.dur)
	var n uint64
	backlog := false // behind schedule since a wait for a worker
	defer func() {
		s.wg.Wait()
		close(s.out)
	}()
	defer close(s.hits)
	for ; ; n++ {
		h := hit{seq: n}
		if p.Max() {
			if !time.Now().Before(end) {
				return
			}
		} else {
			at := p.At(n)
			if at >= s.a.dur {
				return
			}
			h.due = s.began.Add(at)
			if wait := time.Until(h.due); wait > 0 {
				backlog = false // on schedule again
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-s.stop:
					t.Stop()
					return
				}
			}
		}
		p.next.Store(n)
		h.waited = backlog
		ok, waited := s.send(ctx, h, cutoff)
		backlog = backlog || waited
		if !ok {
			s.giveUp(n)
			return
		}
		p.next.Store(n + 1)
	}
}

// send hands h to an idle worker, starting one while grow allows and else
// waiting for one (waited), looking again at the requests in flight every
// resizeEvery; ok is false when the attack ended first.
func (s *scheduler) send(ctx context.Context, h hit, cutoff time.Time) (ok, waited bool) {
	if h.due.IsZero() {
		h.due = time.Now()
	}
	select {
	case s.hits <- h:
		return true, false
	case <-s.stop:
		return false, false
	default:
	}
	if s.a.pacer.Max() || s.grow(time.Now()) {
		if !s.a.pacer.Max() {
			s.spawn(ctx)
		}
		// closed model: waiting for a worker is the model
		select {
		case s.hits <- h:
			return true, false
		case <-s.stop:
			return false, false
		}
	}
	h.waited = true
	start := time.Now()
	s.blockedSince.Store(start.UnixNano())
	defer func() {
		s.blockedSince.Store(0)
		s.blocked.Add(int64(time.Since(start)))
	}()
	t := time.NewTimer(time.Until(cutoff))
	defer t.Stop()
	re := time.NewTicker(resizeEvery)
	defer re.Stop()
	for {
		select {
		case s.hits <- h:
			return true, true
		case <-s.stop:
			return false, true
		case <-t.C:
			return false, true
		case now := <-re.C:
			s.noteAge(now)
			if s.grow(now) {
				s.spawn(ctx)
			}
		}
	}
}

// giveUp reports every hit from n on that was due by now as not sent.
func (s *scheduler) giveUp(n uint64) {
	p := s.a.pacer
	if p.Max() {
		return
	}
	now := time.Now()
	for ; ; n++ {
		at := p.At(n)
		if at >= s.a.dur || s.began.Add(at).After(now) {
			return
		}
		due := s.began.Add(at)
		r := &result{unsent: true, waited: true}
		r.Seq, r.Timestamp, r.Latency, r.Error = n, due, now.Sub(due), ErrNotSent
		s.out <- r
	}
}

func (s *scheduler) spawn(ctx context.Context) {
	i := s.workers.Add(1) - 1
	var slot *atomic.Int64
	if i < uint64(len(s.slots)) {
		slot = &s.slots[i]
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for h := range s.hits {
			sent := time.Now()
			if slot != nil {
				slot.Store(sent.UnixNano())
			}
			r := s.a.hit(ctx, h, sent)
			if slot != nil {
				slot.Store(0)
			}
			s.out <- r
		}
	}()
}

// hit sends one request at sent and times it.
func (a *Attack) hit(ctx context.Context, h hit, sent time.Time) *result {
	r := &result{waited: h.waited}
	r.Seq = h.seq
	var tgt vegeta.Target
	_ = a.tgt.Next(&tgt) // never fails: the targets were checked in New
	r.Method, r.URL = tgt.Method, tgt.URL
	r.sent = sent
	var err error
	var mark sendMark
	defer func() {
		end := time.Now()
		if !mark.at.IsZero() { // the transport's reading, nearer the wire
			r.sent = mark.at
		}
		r.service = end.Sub(r.sent)
		r.Timestamp, r.Latency = h.due, end.Sub(h.due)
		if err != nil && r.Error == "" {
			r.Error = err.Error()
		}
	}()
	req, err := tgt.Request()
	if err != nil {
		return r
	}
	req = req.WithContext(withSendMark(ctx, &mark))
	resp, err := a.client.Do(req)
	if err != nil {
		return r
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.BytesIn = uint64(n)
	if req.ContentLength > 0 {
		r.BytesOut = uint64(req.ContentLength)
	}
	if err != nil {
		return r
	}
	r.Code = uint16(resp.StatusCode)
	if r.Code < 200 || r.Code >= 400 {
		r.Error = resp.Status
	}
	r.Headers = http.Header{}
	if v := resp.Header.Values(ServedByHeader); len(v) > 0 {
		r.Headers[ServedByHeader] = v
	}
	return r
}
