package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/duckbench/duckbench/configgen"
)

// lock takes an exclusive lock on the run directory for the life of one Up
// or Down, so that two duckbench processes cannot race on one stack.
func (l *Local) lock() (unlock func(), err error) {
	if err := os.MkdirAll(l.runDir, 0o700); err != nil {
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(l.runDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock run dir: %w", err)
	}
	// Wait a little: a duckbench killed in the middle of starting a child
	// leaves the lock to that child until its exec, a moment later.
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock run dir %s: another duckbench is bringing this stack up or down: %w", l.runDir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hasEnvEntry reports whether a /proc/<pid>/environ blob holds entry.
func hasEnvEntry(environ, entry []byte) bool {
	for _, e := range bytes.Split(environ, []byte{0}) {
		if bytes.Equal(e, entry) {
			return true
		}
	}
	return false
}

// lockWait is how long Up and Down wait for the run dir's lock.
const lockWait = 5 * time.Second

// runDirEnv marks every child's environment with its run dir, so that Down
// can find a child whose start a kill -9 interrupted before it reached the
// state file.
const runDirEnv = "DUCKBENCH_RUN_DIR"

// sweepUnrecorded stops processes carrying this run dir's marker that the
// state file does not name (started by a duckbench killed before it could
// record them). Only process group leaders are signalled, as the driver
// makes every child one.
func (l *Local) sweepUnrecorded(ctx context.Context, known []ServiceState) []error {
	marker := []byte(runDirEnv + "=" + l.runDir)
	seen := map[int]bool{os.Getpid(): true}
	for _, s := range known {
		seen[s.Proc.PID] = true
	}
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var errs []error
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || seen[pid] {
			continue
		}
		p, err := identify(pid)
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "environ"))
		if (err != nil || !hasEnvEntry(env, marker)) && !l.redisOfRun(pid, p) {
			continue
		}
		if st, err := readProcStat(pid); err != nil || st.pgrp != pid {
			continue
		}
		l.logf("stopping unrecorded pid %d (%s) of this run", pid, p.Exe)
		if err := l.stopProc(ctx, ServiceState{Name: "unrecorded pid " + strconv.Itoa(pid), Proc: p}); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// redisOfRun reports whether pid is a redis-server working in one of this
// run's Redis directories. redis-server overwrites its environment with its
// process title, so the run-dir marker cannot be read back from it; its
// working directory (redis.conf's dir) names the run instead.
func (l *Local) redisOfRun(pid int, p Proc) bool {
	if !isRedisServer(p.Exe) {
		return false
	}
	cwd, err := os.Readlink(filepath.Join(procRoot, strconv.Itoa(pid), "cwd"))
	if err != nil {
		return false
	}
	cwd = strings.TrimSuffix(cwd, " (deleted)")
	return strings.HasPrefix(cwd, filepath.Join(l.runDir, "redis-"))
}

// isRedisServer reports whether exe is the redis-server on PATH. Debian's
// redis-server is a link to redis-check-rdb, which /proc/<pid>/exe names.
func isRedisServer(exe string) bool {
	exe = strings.TrimSuffix(exe, " (deleted)")
	if filepath.Base(exe) == "redis-server" {
		return true
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(bin)
	return err == nil && real == exe
}

// start launches svc, records it (in memory and in state.json) and returns
// once the process runs; readiness is waitReady's job.
func (l *Local) start(ctx context.Context, svc ServiceState) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", svc.Name, err)
	}
	logf, err := os.OpenFile(svc.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", svc.Name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- duckbench: starting %s at %s: %s\n", svc.Name, time.Now().UTC().Format(time.RFC3339), strings.Join(svc.Args, " "))
	cmd := exec.Command(svc.Args[0], svc.Args[1:]...)
	cmd.Dir = svc.Dir
	cmd.Env = append(append(os.Environ(), svc.Env...), runDirEnv+"="+l.runDir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if svc.SecretStdin {
		pw := os.Getenv(l.spec.Redis.PasswordEnv)
		if pw == "" {
			return fmt.Errorf("start %s: %s is not set: the password is needed to start this node", svc.Name, l.spec.Redis.PasswordEnv)
		}
		cmd.Stdin = bytes.NewReader(configgen.RedisSecretConfig(l.spec, pw))
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", svc.Name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	proc, err := identify(cmd.Process.Pid)
	if err != nil {
		// Exited at once (it is a zombie or reaped already): still record the
		// pid so that the error path and the log say what happened.
		proc = Proc{PID: cmd.Process.Pid}
	}
	svc.Proc = proc

	l.mu.Lock()
	defer l.mu.Unlock()
	l.children[proc.PID] = done
	replaced := false
	for i := range l.state.Services {
		if l.state.Services[i].Name == svc.Name {
			l.state.Services[i] = svc
			replaced = true
		}
	}
	if !replaced {
		l.state.Services = append(l.state.Services, svc)
	}
	if err := writeState(l.runDir, l.state); err != nil {
		return fmt.Errorf("start %s: %w", svc.Name, err)
	}
	l.logf("started %s (pid %d) on %s", svc.Name, proc.PID, svc.Addr)
	return nil
}

func (l *Local) service(name string) (ServiceState, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state != nil {
		for _, s := range l.state.Services {
			if s.Name == name {
				return s, true
			}
		}
	}
	return ServiceState{}, false
}

// stopProc stops one recorded process: SIGTERM to its group (SIGCONT too, in
// case it was stopped), SIGKILL after StopTimeout. A PID that is now another
// program is left alone.
func (l *Local) stopProc(ctx context.Context, svc ServiceState) error {
	p := svc.Proc
	live, st := p.check()
	if live == gone {
		if p.PID > 0 {
			l.logf("%s (pid %d) is not running", svc.Name, p.PID)
		}
		return nil
	}
	group := st.pgrp == p.PID
	l.mu.Lock()
	done := l.children[p.PID]
	l.mu.Unlock()
	if _, err := p.signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", svc.Name, err)
	}
	p.signal(syscall.SIGCONT)
	if l.waitGone(ctx, p, done, l.opts.StopTimeout) {
		l.reapGroup(p.PID, group)
		l.logf("stopped %s (pid %d)", svc.Name, p.PID)
		return nil
	}
	l.logf("%s (pid %d) ignored SIGTERM for %v: SIGKILL", svc.Name, p.PID, l.opts.StopTimeout)
	if _, err := p.signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("stop %s: %w", svc.Name, err)
	}
	if !l.waitGone(context.WithoutCancel(ctx), p, done, 5*time.Second) {
		return fmt.Errorf("stop %s: pid %d survived SIGKILL", svc.Name, p.PID)
	}
	l.reapGroup(p.PID, group)
	return nil
}

// reapGroup kills what is left of a service's process group once its leader
// is gone (e.g. a Redis BGSAVE child). The group id cannot be reused while a
// member lives, so this reaches only the service's own processes.
func (l *Local) reapGroup(pid int, group bool) {
	if group {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// waitGone waits until p is gone, at most d. An abort (ctx done) shortens
// the wait to the SIGKILL step, never skips it.
func (l *Local) waitGone(ctx context.Context, p Proc, done chan struct{}, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if !p.Alive() {
			if done != nil {
				select { // reaped by our Wait goroutine: give it a moment
				case <-done:
				case <-time.After(time.Second):
				}
			}
			return true
		}
		select {
		case <-done:
			return true
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return !p.Alive()
		case <-tick.C:
		}
	}
}
