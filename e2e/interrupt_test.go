//go:build integration

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptDuringUp sends SIGINT at points of start-up, before the
// attack (right at start, i.e. while the spec is read and rendered; once the
// master runs; once the apps run; once HAProxy runs): whatever was started
// is stopped, nothing is left.
func TestInterruptDuringUp(t *testing.T) {
	need(t)
	t.Parallel()
	for _, after := range []string{"", "started redis-master", "started app1", "started haproxy"} {
		name := strings.ReplaceAll(after, " ", "-")
		if name == "" {
			name = "at-start"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, seedSpec(specOpts{name: "e2e-int-up"}))
			p := start(t, nil, e.runArgs()...)
			if after != "" {
				p.waitFor("bringing the stack up", time.Minute)
				p.waitFor(after, time.Minute)
			}
			p.signal(syscall.SIGINT)
			code := p.wait(time.Minute)
			assertNoOrphans(t, e.runDir, p)
			if strings.Contains(p.stderr.String(), "attacking") {
				t.Log("note: the attack had started before SIGINT arrived")
			}
			// Right at start the signal may beat the handler: then the
			// default action kills duckbench (-1) before it started anything.
			if code != 130 && !(after == "" && code == -1) {
				p.dump()
				t.Errorf("exit %d; want 130", code)
			}
			if _, err := os.Stat(filepath.Join(e.runDir, "state.json")); err == nil {
				t.Error("state.json left in the run dir after an interrupted up")
			}
		})
	}
}

// TestInterruptDuringAttack sends SIGINT during the attack: a partial
// result marked interrupted is written, exit 130, nothing left.
func TestInterruptDuringAttack(t *testing.T) {
	need(t)
	t.Parallel()
	e := newEnv(t, seedSpec(specOpts{name: "e2e-int-attack", duration: "30s"}))
	p := start(t, nil, e.runArgs()...)
	p.waitFor("attacking", time.Minute)
	time.Sleep(3 * time.Second)
	sent := time.Now()
	p.signal(syscall.SIGINT)
	code := p.wait(time.Minute)
	t.Logf("exited %v after SIGINT", p.ended.Sub(sent).Round(time.Millisecond))
	assertNoOrphans(t, e.runDir, p)
	if code != 130 {
		p.dump()
		t.Errorf("exit %d; want 130", code)
	}
	r, _ := loadResult(t, e.results)
	if r.Status != "interrupted" {
		t.Errorf("status = %q; want interrupted", r.Status)
	}
	if r.Summary.Requests < 200 || len(r.Timeline) < 2 || len(r.Timeline) > 8 {
		t.Errorf("partial result: %d requests, %d timeline seconds; want ~3s worth", r.Summary.Requests, len(r.Timeline))
	}
	if _, ok := findEvent(r, "interrupt", ""); !ok {
		t.Errorf("no interrupt event in %+v", r.Events)
	}
	if !strings.Contains(p.stderr.String(), "interrupted") {
		t.Errorf("stderr does not say interrupted:\n%s", p.stderr.String())
	}
}

// TestInterruptDuringTeardown sends SIGINT once teardown began: teardown
// still completes, nothing is left.
func TestInterruptDuringTeardown(t *testing.T) {
	need(t)
	t.Parallel()
	e := newEnv(t, seedSpec(specOpts{name: "e2e-int-down", duration: "2s"}))
	p := start(t, nil, e.runArgs()...)
	p.waitFor("tearing the stack down", time.Minute)
	p.cmd.Process.Signal(syscall.SIGINT) // it may have exited already
	code := p.wait(time.Minute)
	assertNoOrphans(t, e.runDir, p)
	t.Logf("exit %d after SIGINT during teardown", code)
	if code != 0 && code != 130 {
		p.dump()
		t.Errorf("exit %d; want 0 (the run was over) or 130", code)
	}
	if _, err := os.Stat(filepath.Join(e.runDir, "state.json")); err == nil {
		t.Error("state.json left in the run dir")
	}
	r, _ := loadResult(t, e.results)
	if r.Status != "completed" {
		t.Errorf("status = %q; want completed (the attack had finished)", r.Status)
	}
}

// TestDoubleInterrupt sends SIGINT twice in a row during the attack: it
// aborts fast but still stops what was started.
func TestDoubleInterrupt(t *testing.T) {
	need(t)
	t.Parallel()
	e := newEnv(t, seedSpec(specOpts{name: "e2e-int-twice", duration: "30s"}))
	p := start(t, nil, e.runArgs()...)
	p.waitFor("attacking", time.Minute)
	time.Sleep(2 * time.Second)
	p.signal(syscall.SIGINT)
	time.Sleep(50 * time.Millisecond)
	sent := time.Now()
	p.cmd.Process.Signal(syscall.SIGINT)
	code := p.wait(time.Minute)
	took := p.ended.Sub(sent)
	t.Logf("exited %v after the second SIGINT, code %d", took.Round(time.Millisecond), code)
	assertNoOrphans(t, e.runDir, p)
	if code != 130 {
		p.dump()
		t.Errorf("exit %d; want 130", code)
	}
	if took > 10*time.Second {
		t.Errorf("took %v to exit after the second SIGINT; want fast", took)
	}
}

// TestKill9ThenDown kills duckbench with SIGKILL during the attack; the
// stack outlives it, and `duckbench down` removes every process.
func TestKill9ThenDown(t *testing.T) {
	need(t)
	t.Parallel()
	e := newEnv(t, seedSpec(specOpts{name: "e2e-kill9", duration: "30s"}))
	p := start(t, nil, e.runArgs()...)
	p.waitFor("attacking", time.Minute)
	time.Sleep(time.Second)
	p.signal(syscall.SIGKILL)
	p.wait(30 * time.Second)
	if left := mentioning(e.runDir); len(left) < 6 {
		t.Errorf("after kill -9 only %d processes of the run remain; want the 6 services still up: %v", len(left), left)
	}
	d := start(t, nil, e.stackArgs("down")...)
	if code := d.wait(time.Minute); code != 0 {
		d.dump()
		t.Errorf("down = exit %d; want 0", code)
	}
	assertNoOrphans(t, e.runDir, p, d)
	if _, err := os.Stat(filepath.Join(e.runDir, "state.json")); err == nil {
		t.Error("state.json left in the run dir after down")
	}
	// A second down is a no-op.
	if code, _, stderr := run(t, nil, e.stackArgs("down")...); code != 0 {
		t.Errorf("second down = exit %d\n%s", code, stderr)
	}
}
