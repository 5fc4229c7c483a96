package stack

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StateFile is the local driver's state file name inside the run directory.
const StateFile = "state.json"

// stateVersion is bumped when State changes incompatibly.
const stateVersion = 1

// State is what the local driver records in <RunDir>/state.json after every
// process it starts, so that a later duckbench (after a crash of this one,
// even kill -9) can report on and stop exactly those processes. It holds no
// secret: passwords are named by environment variable only.
type State struct {
	Version   int       `json:"version"`
	Spec      string    `json:"spec"`
	StartedAt time.Time `json:"started_at"`
	// Complete is set once Up returned successfully.
	Complete  bool           `json:"complete"`
	Endpoints Endpoints      `json:"endpoints"`
	Services  []ServiceState `json:"services"`
}

// ServiceState is one process the driver started.
type ServiceState struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // redis, app, haproxy
	Role string `json:"role,omitempty"`
	// Proc identifies the process; see Proc.Alive.
	Proc Proc `json:"proc"`
	// Args is the full argv (Args[0] is the resolved executable); Dir and
	// Env (extra KEY=VALUE pairs, never secrets) complete the launch so
	// that a restart repeats it exactly.
	Args []string `json:"args"`
	Dir  string   `json:"dir"`
	Env  []string `json:"env,omitempty"`
	// SecretStdin says the process was fed the Redis password directives on
	// stdin (from the environment variable the spec names).
	SecretStdin bool   `json:"secret_stdin,omitempty"`
	Log         string `json:"log"`
	// Addr is the 127.0.0.1:port the service listens on; Health says how
	// to check it: redis, http (GET Addr+path), tcp or haproxy.
	Addr       string `json:"addr"`
	Health     string `json:"health"`
	HealthPath string `json:"health_path,omitempty"`
}

// Proc is a process identity that survives PID reuse: the PID alone could
// name another program by the time `duckbench down` runs, so the start time
// (in clock ticks since boot, /proc/<pid>/stat field 22) and the executable
// must match too.
type Proc struct {
	PID        int    `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	Exe        string `json:"exe"`
}

// procStat is what duckbench reads from /proc/<pid>/stat.
type procStat struct {
	state      byte // R, S, D, T, t, Z, X, …
	pgrp       int
	startTicks uint64
}

// procRoot is /proc; tests point it at a fake tree.
var procRoot = "/proc"

// readProcStat parses /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses: parse after the last ')'.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("parse /proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("parse /proc stat: %d fields after the command name", len(f))
	}
	pgrp, err := strconv.Atoi(f[5-3])
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat pgrp: %w", err)
	}
	start, err := strconv.ParseUint(f[22-3], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat starttime: %w", err)
	}
	return procStat{state: f[0][0], pgrp: pgrp, startTicks: start}, nil
}

// readExe returns the executable of pid, without the " (deleted)" suffix the
// kernel adds when the file was replaced since (a rebuilt binary).
func readExe(pid int) (string, error) {
	exe, err := os.Readlink(filepath.Join(procRoot, strconv.Itoa(pid), "exe"))
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(exe, " (deleted)"), nil
}

// identify reads the identity of a running pid.
func identify(pid int) (Proc, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return Proc{}, fmt.Errorf("identify pid %d: %w", pid, err)
	}
	exe, err := readExe(pid)
	if err != nil {
		return Proc{}, fmt.Errorf("identify pid %d: %w", pid, err)
	}
	return Proc{PID: pid, StartTicks: st.startTicks, Exe: exe}, nil
}

// Liveness of a recorded process.
type liveness int

const (
	gone    liveness = iota // exited, reaped or zombie, or the PID is another program now
	running                 // the same process, runnable or sleeping
	stopped                 // the same process, stopped (SIGSTOP)
)

// check reports whether p is still the process that was recorded, and in
// which state. A zombie counts as gone: it holds no port and no memory.
func (p Proc) check() (liveness, procStat) {
	if p.PID <= 0 {
		return gone, procStat{}
	}
	st, err := readProcStat(p.PID)
	if err != nil || st.startTicks != p.StartTicks {
		return gone, st
	}
	if exe, err := readExe(p.PID); err != nil || exe != p.Exe {
		return gone, st
	}
	switch st.state {
	case 'Z', 'X', 'x':
		return gone, st
	case 'T', 't':
		return stopped, st
	}
	return running, st
}

// Alive reports whether p is still the recorded process (a stopped one is
// alive).
func (p Proc) Alive() bool {
	l, _ := p.check()
	return l != gone
}

// signal sends sig to p's process group (every service runs in its own) if
// p is still the recorded process; to p alone if it left its group. It
// reports whether anything was signalled.
func (p Proc) signal(sig syscall.Signal) (bool, error) {
	l, st := p.check()
	if l == gone {
		return false, nil
	}
	target := p.PID
	if st.pgrp == p.PID {
		target = -p.PID
	}
	if err := syscall.Kill(target, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return false, nil
		}
		return false, fmt.Errorf("signal pid %d: %w", p.PID, err)
	}
	return true, nil
}

func statePath(runDir string) string { return filepath.Join(runDir, StateFile) }

// ReadState reads the state file of runDir; ErrNotUp when there is none.
func ReadState(runDir string) (*State, error) {
	var st State
	if err := ReadStateFile(statePath(runDir), &st); err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("read state %s: version %d, this duckbench reads %d", statePath(runDir), st.Version, stateVersion)
	}
	return &st, nil
}

// writeState replaces the state file atomically.
func writeState(runDir string, st *State) error {
	st.Version = stateVersion
	return WriteStateFile(statePath(runDir), st)
}

func removeState(runDir string) error {
	if err := os.Remove(statePath(runDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state: %w", err)
	}
	return nil
}
