package stack

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/duckbench/duckbench/spec"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name, in  string
		wantState byte
		wantPgrp  int
		wantStart uint64
		wantErr   bool
	}{
		{
			name:      "plain",
			in:        "4242 (redis-server) S 1 4242 4242 0 -1 4194560 0 0 0 0 1 2 0 0 20 0 5 0 987654 0 0",
			wantState: 'S', wantPgrp: 4242, wantStart: 987654,
		},
		{
			name:      "command name with spaces and parentheses",
			in:        "77 (a b) (c)) T 1 70 70 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 123 0 0",
			wantState: 'T', wantPgrp: 70, wantStart: 123,
		},
		{name: "truncated", in: "77 (x) S 1 2", wantErr: true},
		{name: "no command", in: "77 x S", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseProcStat(%q) error = %v; want error %v", tt.in, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got.state != tt.wantState || got.pgrp != tt.wantPgrp || got.startTicks != tt.wantStart {
				t.Errorf("parseProcStat(%q) = %+v; want state %c pgrp %d start %d", tt.in, got, tt.wantState, tt.wantPgrp, tt.wantStart)
			}
		})
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("4242 (redis-server) S 1 4242 4242 0 -1 4194560 0 0 0 0 1 2 0 0 20 0 5 0 987654 0 0"))
	f.Add([]byte("1 ()) R"))
	f.Fuzz(func(t *testing.T, b []byte) { parseProcStat(b) })
}

// startSleeper starts a child in its own process group, as the driver does.
func startSleeper(t *testing.T, script string) (*exec.Cmd, Proc) {
	t.Helper()
	// A shell that execs would change its executable after identify.
	cmd := exec.Command("/bin/sh", "-c", script)
	if script == "sleep" {
		cmd = exec.Command("sleep", "60")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	p, err := identify(cmd.Process.Pid)
	if err != nil {
		t.Fatalf("identify(%d) = %v", cmd.Process.Pid, err)
	}
	return cmd, p
}

func TestProcIdentityGuardsPIDReuse(t *testing.T) {
	_, p := startSleeper(t, "sleep")
	if !p.Alive() {
		t.Fatalf("Alive(%+v) = false for a running sleeper", p)
	}
	tests := []struct {
		name string
		mod  func(Proc) Proc
	}{
		{"other start time", func(p Proc) Proc { p.StartTicks++; return p }},
		{"other executable", func(p Proc) Proc { p.Exe = "/usr/bin/redis-server"; return p }},
		{"no pid", func(p Proc) Proc { p.PID = 0; return p }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.mod(p)
			if q.Alive() {
				t.Errorf("Alive(%+v) = true; want false (recorded identity differs)", q)
			}
			ok, err := q.signal(syscall.SIGKILL)
			if ok || err != nil {
				t.Errorf("signal(SIGKILL) on %+v = %v, %v; want false, nil", q, ok, err)
			}
			if !p.Alive() {
				t.Fatalf("the real process died after signalling a mismatched identity")
			}
		})
	}
}

func TestProcStoppedAndZombie(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	p, err := identify(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { l, _ := p.check(); return l == stopped }, "state stopped after SIGSTOP")
	if !p.Alive() {
		t.Errorf("Alive() = false for a stopped process; want true")
	}
	p.signal(syscall.SIGKILL)
	// Not reaped yet: a zombie. It must count as gone.
	waitFor(t, func() bool { return !p.Alive() }, "gone (zombie) after SIGKILL")
	cmd.Wait()
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadState(dir); !errors.Is(err, ErrNotUp) {
		t.Fatalf("ReadState(empty dir) = %v; want ErrNotUp", err)
	}
	want := &State{
		Spec: "seed", StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Complete: true,
		Endpoints: Endpoints{Runtime: RuntimeLocal, HAProxy: HAProxyEndpoint{URL: "http://127.0.0.1:6301"}},
		Services: []ServiceState{{Name: "app1", Kind: KindApp, Proc: Proc{PID: 12, StartTicks: 34, Exe: "/x"},
			Args: []string{"/x", "app"}, Addr: "127.0.0.1:8001", Health: healthHTTP, HealthPath: "/healthz"}},
	}
	if err := writeState(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(dir)
	if err != nil {
		t.Fatalf("ReadState = %v", err)
	}
	if got.Spec != want.Spec || !got.StartedAt.Equal(want.StartedAt) || len(got.Services) != 1 ||
		got.Services[0].Proc != want.Services[0].Proc || got.Endpoints.HAProxy.URL != want.Endpoints.HAProxy.URL {
		t.Errorf("ReadState = %+v; want %+v", got, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("run dir holds %d entries after writeState; want only %s (no temp files left)", len(entries), StateFile)
	}

	os.WriteFile(statePath(dir), []byte(`{"version": 99}`), 0o600)
	if _, err := ReadState(dir); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("ReadState(version 99) = %v; want a version error", err)
	}
	os.WriteFile(statePath(dir), []byte(`{`), 0o600)
	if _, err := ReadState(dir); err == nil || errors.Is(err, ErrNotUp) {
		t.Errorf("ReadState(bad JSON) = %v; want a parse error", err)
	}
}

func newTestLocal(t *testing.T, dir string) *Local {
	t.Helper()
	l, err := NewLocal(&spec.Spec{Name: "t"}, LocalOptions{RunDir: dir, StopTimeout: 300 * time.Millisecond, AppBinary: "/bin/true", Log: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestDownFromStateFile is the crash case: another process recorded the
// services; Down stops those that still match and leaves a recycled PID alone.
func TestDownFromStateFile(t *testing.T) {
	dir := t.TempDir()
	_, polite := startSleeper(t, "sleep")
	ready := filepath.Join(dir, "trapped")
	_, stubborn := startSleeper(t, `trap "" TERM; touch `+ready+`; while :; do sleep 0.05; done`)
	waitFor(t, func() bool { _, err := os.Stat(ready); return err == nil }, "the shell to ignore SIGTERM")
	_, stranger := startSleeper(t, "sleep")
	recycled := stranger
	recycled.StartTicks-- // the recorded process is gone; its PID now names the stranger
	st := &State{Spec: "t", Services: []ServiceState{
		{Name: "polite", Proc: polite},
		{Name: "stubborn", Proc: stubborn},
		{Name: "recycled", Proc: recycled},
		{Name: "never-started"},
	}}
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	l := newTestLocal(t, dir)
	t0 := time.Now()
	if err := l.Down(context.Background()); err != nil {
		t.Fatalf("Down = %v", err)
	}
	if polite.Alive() {
		t.Errorf("polite sleeper alive after Down")
	}
	if stubborn.Alive() {
		t.Errorf("process ignoring SIGTERM alive after Down; want SIGKILL after the grace period")
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Errorf("Down took %v; want at least the 300ms grace before SIGKILL", d)
	}
	if !stranger.Alive() {
		t.Errorf("Down killed a process whose start time differs from the record (PID reuse)")
	}
	if _, err := os.Stat(statePath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file after Down: %v; want removed", err)
	}
	if err := l.Down(context.Background()); err != nil {
		t.Errorf("second Down = %v; want nil (nothing to do)", err)
	}
}

func TestFaultSignals(t *testing.T) {
	dir := t.TempDir()
	_, p := startSleeper(t, "sleep")
	writeState(dir, &State{Spec: "t", Services: []ServiceState{{Name: "app1", Kind: KindApp, Proc: p}}})
	l := newTestLocal(t, dir)
	ctx := context.Background()
	if err := l.Fault(ctx, "app1", "stop"); err != nil {
		t.Fatalf("Fault(stop) = %v", err)
	}
	waitFor(t, func() bool { s, _ := p.check(); return s == stopped }, "stopped")
	if err := l.Fault(ctx, "app1", "cont"); err != nil {
		t.Fatalf("Fault(cont) = %v", err)
	}
	waitFor(t, func() bool { s, _ := p.check(); return s == running }, "running")
	if err := l.Fault(ctx, "nope", "kill"); err == nil || !strings.Contains(err.Error(), "app1") {
		t.Errorf("Fault(nope) = %v; want an error listing the services", err)
	}
	if err := l.Fault(ctx, "app1", "explode"); err == nil {
		t.Errorf("Fault(explode) = nil; want an error")
	}
	if err := l.Fault(ctx, "app1", "kill"); err != nil {
		t.Fatalf("Fault(kill) = %v", err)
	}
	waitFor(t, func() bool { return !p.Alive() }, "gone after kill")
	if err := l.Fault(ctx, "app1", "kill"); err == nil {
		t.Errorf("Fault(kill) on a dead service = nil; want an error")
	}
}

func TestRedisDo(t *testing.T) {
	m := miniredis.RunT(t)
	m.RequireAuth("s3cret")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := redisDo(ctx, m.Addr(), "", "PING"); err == nil {
		t.Errorf("PING without the password = nil error; want NOAUTH")
	}
	got, err := redisDo(ctx, m.Addr(), "s3cret", "PING")
	if err != nil || got != "PONG" {
		t.Errorf("PING with the password = %q, %v; want PONG", got, err)
	}
	m.Set("k", "v\r\nwith crlf")
	if got, err := redisDo(ctx, m.Addr(), "s3cret", "GET", "k"); err != nil || got != "v\r\nwith crlf" {
		t.Errorf("GET k = %q, %v; want the bulk string", got, err)
	}
	info := "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n"
	if got := infoField(info, "master_link_status"); got != "up" {
		t.Errorf("infoField(master_link_status) = %q; want up", got)
	}
}

func TestStages(t *testing.T) {
	svcs := []ServiceState{
		{Name: "m", Kind: KindRedis, Health: healthRedisMaster},
		{Name: "r1", Kind: KindRedis, Health: healthRedisReplica},
		{Name: "r2", Kind: KindRedis, Health: healthRedisReplica},
		{Name: "a1", Kind: KindApp, Health: healthHTTP},
		{Name: "a2", Kind: KindApp, Health: healthTCP},
		{Name: "h", Kind: KindHAProxy, Health: healthHAProxy},
	}
	var got []string
	for _, st := range stages(svcs) {
		var names []string
		for _, s := range st {
			names = append(names, s.Name)
		}
		got = append(got, strings.Join(names, "+"))
	}
	if g, want := strings.Join(got, " "), "m r1+r2 a1 a2 h"; g != want {
		t.Errorf("stages = %s; want %s", g, want)
	}
}

func TestLogs(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o700)
	os.WriteFile(filepath.Join(dir, "logs", "app1.log"), []byte("one\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "logs", "haproxy.log"), []byte("two\n"), 0o600)
	l := newTestLocal(t, dir)
	var b bytes.Buffer
	if err := l.Logs(context.Background(), "app1", &b); err != nil || b.String() != "one\n" {
		t.Errorf("Logs(app1) = %q, %v; want %q", b.String(), err, "one\n")
	}
	b.Reset()
	if err := l.Logs(context.Background(), "", &b); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "==> app1 <==\none\n==> haproxy <==\ntwo\n"; got != want {
		t.Errorf("Logs(all) = %q; want %q", got, want)
	}
	if err := l.Logs(context.Background(), "nope", &b); err == nil {
		t.Errorf("Logs(nope) = nil; want an error")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Logf("%s", p); return len(p), nil }
