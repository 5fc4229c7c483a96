package agents

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// ShiftEnv is test-only: it moves the wall clock an agent reads, per
// agent index ("2:300ms,3:-300ms"). Time namespaces do not move
// CLOCK_REALTIME and a static binary ignores libfaketime; this is how the
// tests give an agent a clock that disagrees with the coordinator's.
const ShiftEnv = "DUCKBENCH_TEST_CLOCK_SHIFT"

// ClockSamples is how many round trips an agent makes to the coordinator's
// clock; the one with the least delay gives the offset.
const ClockSamples = 16

// MaxClockBound is the widest offset uncertainty (half the round trip of
// the best sample) an agent may have and still be merged: beyond it, its
// start could not be lined up with the others'.
const MaxClockBound = 25 * time.Millisecond

// ParseShift is index's shift in ShiftEnv's value s (0 when none).
func ParseShift(s string, index int) (time.Duration, error) {
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		i, d, ok := strings.Cut(f, ":")
		n, err := strconv.Atoi(i)
		if !ok || err != nil {
			return 0, fmt.Errorf("%s: %q: want INDEX:DURATION", ShiftEnv, f)
		}
		shift, err := time.ParseDuration(d)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", ShiftEnv, f, err)
		}
		if n == index {
			return shift, nil
		}
	}
	return 0, nil
}

// ServeClock answers time requests on the UDP connection until ctx is
// done: each request (8 bytes, the agent's send time) comes back with the
// coordinator's receive and send times appended (NTP's t1 and t2, Unix
// nanoseconds).
func ServeClock(ctx context.Context, conn net.PacketConn) {
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	buf := make([]byte, 64)
	for {
		n, from, err := conn.ReadFrom(buf)
		recv := time.Now()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n != 8 {
			continue
		}
		out := make([]byte, 24)
		copy(out, buf[:8])
		binary.BigEndian.PutUint64(out[8:], uint64(recv.UnixNano()))
		binary.BigEndian.PutUint64(out[16:], uint64(time.Now().UnixNano()))
		_, _ = conn.WriteTo(out, from)
	}
}

// ClockReading is an agent's offset to the coordinator's clock.
type ClockReading struct {
	// Offset is the agent's clock minus the coordinator's, from the
	// sample of least delay.
	Offset time.Duration
	// Delay is that sample's round trip less the coordinator's turnaround:
	// the offset is within ±Delay/2.
	Delay time.Duration
	// Samples is how many round trips came back.
	Samples int
}

// Bound is the offset's uncertainty, Delay/2.
func (r ClockReading) Bound() time.Duration { return r.Delay / 2 }

// MeasureClock estimates the offset of the clock now (the agent's) to the
// coordinator's clock at addr, NTP-style: samples round trips, each with
// its four timestamps t0 (agent send), t1 (coordinator receive), t2
// (coordinator send), t3 (agent receive); offset ((t0−t1)+(t3−t2))/2 (NTP's
// θ with the sign of agent − coordinator) and
// delay (t3−t0)−(t2−t1) of the sample of least delay, whose offset is
// within ±delay/2 of the truth whatever the asymmetry. It fails when no
// round trip came back.
func MeasureClock(ctx context.Context, addr string, samples int, now func() time.Time) (ClockReading, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return ClockReading{}, fmt.Errorf("clock of the coordinator at %s: %w", addr, err)
	}
	defer conn.Close()
	best := ClockReading{Delay: -1}
	buf := make([]byte, 64)
	for range samples {
		if ctx.Err() != nil {
			break
		}
		t0 := now()
		req := make([]byte, 8)
		binary.BigEndian.PutUint64(req, uint64(t0.UnixNano()))
		if _, err := conn.Write(req); err != nil {
			continue
		}
		_ = conn.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			t3 := now()
			if n != 24 || binary.BigEndian.Uint64(buf[:8]) != uint64(t0.UnixNano()) {
				continue // a late answer to an earlier request
			}
			t1 := time.Unix(0, int64(binary.BigEndian.Uint64(buf[8:16])))
			t2 := time.Unix(0, int64(binary.BigEndian.Uint64(buf[16:24])))
			delay := t3.Sub(t0) - t2.Sub(t1)
			off := (t0.Sub(t1) + t3.Sub(t2)) / 2 // agent − coordinator
			best.Samples++
			if best.Delay < 0 || delay < best.Delay {
				best.Offset, best.Delay = off, delay
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if best.Samples == 0 {
		return ClockReading{}, fmt.Errorf("clock of the coordinator at %s: none of %d round trips came back", addr, samples)
	}
	return best, nil
}

// WriteClock reports agent index's clock reading (or why it has none).
func WriteClock(w io.Writer, index int, r ClockReading, err error) error {
	if err != nil {
		_, werr := fmt.Fprintf(w, "%s%d unbounded %s\n", clockPrefix, index, strings.ReplaceAll(err.Error(), "\n", " "))
		return werr
	}
	_, werr := fmt.Fprintf(w, "%s%d %d %d %d\n", clockPrefix, index, r.Offset.Nanoseconds(), r.Delay.Nanoseconds(), r.Samples)
	return werr
}

// parseClock reads the fields of a clock line after its prefix.
func parseClock(rest string) (idx int, r ClockReading, reason string, ok bool) {
	f := strings.Fields(rest)
	if len(f) < 2 {
		return 0, r, "", false
	}
	idx, err := strconv.Atoi(f[0])
	if err != nil {
		return 0, r, "", false
	}
	if f[1] == "unbounded" {
		return idx, r, strings.Join(f[2:], " "), true
	}
	if len(f) != 4 {
		return 0, r, "", false
	}
	off, e1 := strconv.ParseInt(f[1], 10, 64)
	del, e2 := strconv.ParseInt(f[2], 10, 64)
	n, e3 := strconv.Atoi(f[3])
	if e1 != nil || e2 != nil || e3 != nil || del < 0 || n < 1 {
		return 0, r, "", false
	}
	return idx, ClockReading{Offset: time.Duration(off), Delay: time.Duration(del), Samples: n}, "", true
}

// Correct moves the report's absolute times from the agent's clock to the
// coordinator's: by −offset (and +shift, the test clock's own move, since
// the process itself runs on the unshifted clock).
func (s *Shard) Correct(offset, shift time.Duration) {
	r := s.Report
	if r == nil {
		return
	}
	d := shift - offset
	r.StartedAt, r.EndedAt = r.StartedAt.Add(d), r.EndedAt.Add(d)
	if sd := r.Shard; sd != nil {
		if !sd.FirstSend.IsZero() {
			sd.FirstSend = sd.FirstSend.Add(d)
		}
		if !sd.LastSend.IsZero() {
			sd.LastSend = sd.LastSend.Add(d)
		}
	}
}
