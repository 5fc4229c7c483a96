package stacktest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

// fakeModeEnv picks the behaviour of the fake driver TestInterruptedUpFake
// runs the suite's interrupted-up case against (unset: "honour").
const fakeModeEnv = "DUCKBENCH_STACKTEST_FAKE"

// fakeStack is the one stack every fakeDriver value of a test shares, as
// two duckbench processes share the run directory's state.
type fakeStack struct {
	mu      sync.Mutex
	running []string
	up      bool
}

// fakeDriver starts four services 30 ms apart. mode "honour" stops and
// cleans up on cancellation; "ignore" carries on and returns nil; "hidden"
// honours it but its Status shows nothing until the stack is up.
type fakeDriver struct {
	st   *fakeStack
	mode string
}

func (d fakeDriver) Up(ctx context.Context) (stack.Endpoints, error) {
	for _, name := range []string{"redis-master", "redis-replica-1", "app1", "haproxy"} {
		d.st.mu.Lock()
		d.st.running = append(d.st.running, name)
		d.st.mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		if err := ctx.Err(); err != nil && d.mode != "ignore" {
			_ = d.Down(context.WithoutCancel(ctx))
			return stack.Endpoints{}, fmt.Errorf("up: %w", err)
		}
	}
	d.st.mu.Lock()
	d.st.up = true
	d.st.mu.Unlock()
	return stack.Endpoints{}, nil
}

func (d fakeDriver) Status(context.Context) (stack.Status, error) {
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	if len(d.st.running) == 0 || (d.mode == "hidden" && !d.st.up) {
		return stack.Status{}, stack.ErrNotUp
	}
	var st stack.Status
	for _, name := range d.st.running {
		st.Services = append(st.Services, stack.ServiceStatus{Name: name, Running: true, Healthy: d.st.up})
	}
	return st, nil
}

func (d fakeDriver) Down(context.Context) error {
	d.st.mu.Lock()
	defer d.st.mu.Unlock()
	d.st.running, d.st.up = nil, false
	return nil
}

func (d fakeDriver) Fault(context.Context, string, spec.FaultAction) error { return nil }
func (d fakeDriver) Logs(context.Context, string, stack.LogWriter) error   { return nil }

// TestInterruptedUpFake runs the suite's interrupted-up case against the
// fake driver of mode $DUCKBENCH_STACKTEST_FAKE (default "honour", which
// must pass). TestInterruptedUpVerdicts runs it in a child process for the
// modes that must fail.
func TestInterruptedUpFake(t *testing.T) {
	mode := os.Getenv(fakeModeEnv)
	if mode == "" {
		mode = "honour"
	}
	st := &fakeStack{}
	h := Harness{
		Spec:   func(_ *testing.T, name string) *spec.Spec { return &spec.Spec{Name: name} },
		RunDir: func(t *testing.T) string { return t.TempDir() },
		New:    func(*testing.T, *spec.Spec, string) stack.Driver { return fakeDriver{st: st, mode: mode} },
		Leftovers: func(*testing.T, *spec.Spec, string) []string {
			st.mu.Lock()
			defer st.mu.Unlock()
			return append([]string(nil), st.running...)
		},
		UpTimeout: 10 * time.Second,
		Password:  "pw",
	}
	testInterruptedUp(context.Background(), t, h)
}

// TestInterruptedUpVerdicts: the interrupted-up case passes a driver that
// honours cancellation and fails (never skips) one that returns nil after
// the cancel, or whose Status never shows a partly started stack.
func TestInterruptedUpVerdicts(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		pass     bool
		wantLine string
	}{
		{"honour", true, "--- PASS: TestInterruptedUpFake"},
		{"ignore", false, "Up() = nil after the suite cancelled it (redis-master was running"},
		{"hidden", false, "Up() finished before Status (from another driver value) showed any service running"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestInterruptedUpFake$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), fakeModeEnv+"="+tc.mode)
			out, err := cmd.CombinedOutput()
			if got := err == nil; got != tc.pass {
				t.Errorf("interrupted-up case against the %q driver: passed=%v; want %v\n%s", tc.mode, got, tc.pass, out)
			}
			if !strings.Contains(string(out), tc.wantLine) {
				t.Errorf("interrupted-up case against the %q driver: output lacks %q:\n%s", tc.mode, tc.wantLine, out)
			}
			if strings.Contains(string(out), "--- SKIP") {
				t.Errorf("interrupted-up case against the %q driver skipped:\n%s", tc.mode, out)
			}
		})
	}
}
