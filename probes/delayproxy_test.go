package probes_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/probes/redisprobe"
)

// delayProxy is the delaying link of the replication-delay tests (their
// truth is a packet capture of the wire): a TCP proxy that holds every
// byte for a known time in each direction. Each chunk is time-stamped
// when read and written at exactly arrival + hold
// (order kept, nothing coalesced across the hold), so a hold is one fixed
// one-way delay, not a delay per read that would add up under load. A
// replica pointed at it (`replicaof 127.0.0.1 <proxy port>`) receives the
// master's replication stream `down` later than it would directly.
type delayProxy struct {
	ln       net.Listener
	target   string
	down, up time.Duration // target→client (master→replica), client→target

	mu    sync.Mutex
	conns []net.Conn
	holds []time.Duration // realised target→client holds of every chunk
	wg    sync.WaitGroup
}

// startDelayProxy listens on a free loopback port and forwards each
// connection to target; it stops with the test.
func startDelayProxy(t testing.TB, target string, down, up time.Duration) *delayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{ln: ln, target: target, down: down, up: up}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *delayProxy) addr() string { return p.ln.Addr().String() }

// upstreams are the local addresses of the proxy's connections to its
// target: where the target's bytes for this proxy go on the wire.
func (p *delayProxy) upstreams() []netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []netip.AddrPort
	for i := 1; i < len(p.conns); i += 2 {
		if a, err := netip.ParseAddrPort(p.conns[i].LocalAddr().String()); err == nil {
			out = append(out, a)
		}
	}
	return out
}

func (p *delayProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *delayProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s, p.down, true)
		go p.pipe(s, c, p.up, false)
	}
}

// realised returns the p50 and p99 of the target→client holds so far.
func (p *delayProxy) realised() (p50, p99 time.Duration, n int) {
	p.mu.Lock()
	h := append([]time.Duration(nil), p.holds...)
	p.mu.Unlock()
	if len(h) == 0 {
		return 0, 0, 0
	}
	sort.Slice(h, func(i, j int) bool { return h[i] < h[j] })
	return h[len(h)/2], h[(len(h)*99)/100], len(h)
}

type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, holding each chunk for hold.
func (p *delayProxy) pipe(dst, src net.Conn, hold time.Duration, record bool) {
	defer p.wg.Done()
	defer func() {
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	if hold == 0 {
		_, _ = io.Copy(dst, src)
		return
	}
	// Large enough that the reader never waits for the writer: a full
	// queue would hold bytes longer than asked.
	q := make(chan chunk, 1<<16)
	go func() {
		defer close(q)
		buf := make([]byte, 64<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				due := time.Now().Add(hold)
				q <- chunk{append([]byte(nil), buf[:n]...), due}
			}
			if err != nil {
				return
			}
		}
	}()
	// One OS thread sleeps in nanosleep with a 1 ns timer slack: Go's own
	// timers wake up to a millisecond late on an idle P (netpoll waits in
	// whole milliseconds), which would be an error of the ground truth.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const prSetTimerSlack = 29
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
	for c := range q {
		sleepUntil(c.due)
		// Read the clock before the write: a thread preempted after it
		// would otherwise report a hold the replica never saw.
		released := time.Now()
		if _, err := dst.Write(c.b); err != nil {
			for range q { // drain: the reader must not block
			}
			return
		}
		if record {
			held := released.Sub(c.due) + hold
			p.mu.Lock()
			p.holds = append(p.holds, held)
			p.mu.Unlock()
		}
	}
}

// heartbeatSeqs finds the heartbeats in a chunk of the replication stream
// (PUBLISH duckbench:heartbeat:<id> "<seq> <ns>" in RESP) or of a
// subscriber's connection (the "message" push of the same channel and
// payload). One split across two chunks is missed (it then has no ground
// truth of its own).
func heartbeatSeqs(b []byte) []uint64 {
	var out []uint64
	prefix := []byte(redisprobe.HeartbeatChannelPrefix)
	for {
		i := bytes.Index(b, prefix)
		if i < 0 {
			return out
		}
		b = b[i+len(prefix):]
		// <id>\r\n$<len>\r\n<seq> <ns>\r\n
		parts := bytes.SplitN(b, []byte("\r\n"), 4)
		if len(parts) < 4 {
			return out
		}
		seq, _, _ := bytes.Cut(parts[2], []byte(" "))
		if n, err := strconv.ParseUint(string(seq), 10, 64); err == nil {
			out = append(out, n)
		}
	}
}

// spinFor is the last stretch before a due time that is waited out
// spinning instead of sleeping (a sleep overshoots by the scheduler's
// wake-up, ~50–100µs on a busy host).
const spinFor = 150 * time.Microsecond

func sleepUntil(due time.Time) {
	for {
		left := time.Until(due)
		if left <= 0 {
			return
		}
		if left <= spinFor {
			for time.Now().Before(due) {
			}
			return
		}
		ts := syscall.NsecToTimespec(int64(left - spinFor))
		if err := syscall.Nanosleep(&ts, nil); err != nil && !errors.Is(err, syscall.EINTR) {
			time.Sleep(left - spinFor)
		}
	}
}

// TestDelayProxy checks the ground truth itself: bytes come out in order,
// never before their hold, and (reported, not asserted) how much after.
func TestDelayProxy(t *testing.T) {
	if testing.Short() {
		testenv.Unavailable(t, "timing of a real proxy: not in -short mode")
	}
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		c, err := echo.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(c, c)
		c.Close()
	}()
	const hold = 5 * time.Millisecond
	p := startDelayProxy(t, echo.Addr().String(), hold, 0)
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 50
	sent := make(chan time.Time, n)
	go func() {
		for i := range n {
			sent <- time.Now()
			_, _ = c.Write([]byte{byte(i)})
			time.Sleep(time.Millisecond)
		}
	}()
	var b [1]byte
	for i := range n {
		if _, err := io.ReadFull(c, b[:]); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if took := time.Since(<-sent); int(b[0]) != i || took < hold {
			t.Fatalf("byte %d: got %d after %v; want %d after ≥ %v", i, b[0], took, i, hold)
		}
	}
	p50, p99, chunks := p.realised()
	t.Logf("hold %v: realised p50 %v p99 %v over %d chunks", hold, p50, p99, chunks)
}
