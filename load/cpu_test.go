package load

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
)

// rusageThread is Linux's RUSAGE_THREAD (the syscall package does not
// name it): the CPU time of the calling thread only.
const rusageThread = 1

// threadCPU is the calling thread's CPU time (user + system).
func threadCPU() (time.Duration, error) {
	var ru syscall.Rusage
	err := syscall.Getrusage(rusageThread, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), err
}

// TestCPUMarkCountsBurnedCPU burns a known amount of CPU in a goroutine
// locked to its thread, read by that thread's own clock (RUSAGE_THREAD,
// independent of the process-wide reading under test), and checks that
// the process's delta holds at least that much. No upper bound: the test
// process does other work meanwhile, and a busy machine only stretches the
// wall time.
func TestCPUMarkCountsBurnedCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		testenv.Unavailable(t, "RUSAGE_THREAD, the independent reading, is Linux's")
	}
	const burn = 300 * time.Millisecond
	m := markCPU()
	if !m.ok {
		t.Fatal("markCPU: getrusage failed")
	}
	burned, failed := make(chan time.Duration), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		from, err := threadCPU()
		x := uint64(1)
		for now := from; err == nil && now-from < burn; now, err = threadCPU() {
			for i := 0; i < 100_000; i++ {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		sink = x
		to, err2 := threadCPU()
		if err = errors.Join(err, err2); err != nil {
			failed <- err
			return
		}
		burned <- to - from
	}()
	var b time.Duration
	select {
	case b = <-burned:
	case err := <-failed:
		t.Fatalf("getrusage(RUSAGE_THREAD): %v", err)
	}
	g := m.cost(42)
	if g == nil {
		t.Fatal("cost(42) = nil; want a reading")
	}
	if got := time.Duration(g.CPUSeconds * float64(time.Second)); got < b {
		t.Errorf("cost: %v of CPU; want at least the %v the goroutine burned (by its thread's clock)", got, b)
	}
	if g.CPUSeconds != g.UserSeconds+g.SystemSeconds {
		t.Errorf("cost: CPUSeconds %g != user %g + sys %g", g.CPUSeconds, g.UserSeconds, g.SystemSeconds)
	}
	if g.WallSeconds <= 0 || g.Cores != g.CPUSeconds/g.WallSeconds {
		t.Errorf("cost: cores %g over %gs wall; want CPU-seconds %g / wall", g.Cores, g.WallSeconds, g.CPUSeconds)
	}
	if g.Sent != 42 || g.RequestsPerCPUSecond != 42/g.CPUSeconds {
		t.Errorf("cost: %d sent, %g req per CPU-second; want 42, %g", g.Sent, g.RequestsPerCPUSecond, 42/g.CPUSeconds)
	}
}

var sink uint64

// TestRunRecordsGeneratorCost: an attack's summary carries the
// generator's cost of its window, with the requests actually sent.
func TestRunRecordsGeneratorCost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	w := spec.Workload{Rate: 200, Duration: spec.Duration(300 * time.Millisecond), Targets: []spec.Target{{Path: "/"}}}
	a, err := New(w, srv.URL)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rep, err := a.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	g := rep.Summary.Generator
	if g == nil {
		t.Fatal("Run: Summary.Generator = nil; want the attack's CPU cost")
	}
	s := rep.Summary
	if want := s.Requests - s.Unsent; g.Sent != want || want == 0 {
		t.Errorf("Generator.Sent = %d; want %d (requests %d less unsent %d), not 0", g.Sent, want, s.Requests, s.Unsent)
	}
	if g.CPUSeconds <= 0 || g.WallSeconds <= 0 {
		t.Errorf("Generator = %+v; want CPU and wall time", *g)
	}
	for _, ts := range rep.Targets {
		if ts.Summary.Generator != nil {
			t.Errorf("target %q has a generator cost; only the attack's summary should", ts.Name)
		}
	}
}
