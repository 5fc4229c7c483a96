package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/spec"
)

// TestWithCodeKeepsCode: a code decided deep down (a usage error) is not
// overwritten by a caller's general one.
func TestWithCodeKeepsCode(t *testing.T) {
	base := errors.New("boom")
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"plain error takes the code", depErr(base), exitDependency},
		{"usage error stays usage", depErr(usageErr(base)), exitUsage},
		{"wrapped usage error stays usage", depErr(fmtWrap(usageErr(base))), exitUsage},
		{"interrupt stays interrupt", checkErr(withCode(exitInterrupted, base)), exitInterrupted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ee *exitError
			if !errors.As(tc.err, &ee) || ee.code != tc.want || !errors.Is(tc.err, base) {
				t.Errorf("code of %v = %v; want %d, wrapping the cause", tc.err, ee, tc.want)
			}
		})
	}
	if withCode(exitUsage, nil) != nil {
		t.Errorf("withCode(nil) != nil")
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }

func TestRateFlag(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "500", want: "500"},
		{in: "0.5", want: "0.5"},
		{in: "max", want: "max"},
		{in: "0", bad: true},
		{in: "-5", bad: true},
		{in: "lots", bad: true},
	} {
		var r *spec.Rate
		f := rateFlag{&r}
		err := f.Set(tc.in)
		switch {
		case tc.bad && (err == nil || !strings.Contains(err.Error(), `"`+tc.in+`"`)):
			t.Errorf("rateFlag.Set(%q) = %v; want an error quoting the input", tc.in, err)
		case !tc.bad && (err != nil || f.String() != tc.want):
			t.Errorf("rateFlag.Set(%q) = %v, String() %q; want %q", tc.in, err, f.String(), tc.want)
		}
	}
	var unset *spec.Rate
	if got := (rateFlag{&unset}).String(); got != "" {
		t.Errorf("unset rateFlag.String() = %q; want \"\"", got)
	}
}

// TestSessionFlagsOnEveryCommand: run, check and capacity share one set of
// session flags, so each works for all three.
func TestSessionFlagsOnEveryCommand(t *testing.T) {
	cmds := map[string]*cobra.Command{"run": newRunCmd(), "check": newCheckCmd(), "capacity": newCapacityCmd()}
	for name, c := range cmds {
		for _, fl := range []string{"runtime", "run-dir", "observability", "results", "exporter-listen", "quiet", "prometheus"} {
			if c.Flags().Lookup(fl) == nil {
				t.Errorf("%s has no --%s", name, fl)
			}
		}
	}
	for _, name := range []string{"run", "check"} {
		for _, fl := range []string{"duration", "rate", "repeat", "raw"} {
			if cmds[name].Flags().Lookup(fl) == nil {
				t.Errorf("%s has no --%s", name, fl)
			}
		}
	}
}

// TestCapacityObservability: capacity reads --observability (it used to
// build its driver without it, silently ignoring the flag); with the
// local runtime the flag is refused as for run, before anything starts.
func TestCapacityObservability(t *testing.T) {
	p := writeSpec(t, t.TempDir(), "other.yaml", otherSpec)
	args := []string{"capacity", p, "--slo", "p99<1s", "--runtime", "local", "--observability", "--run-dir", t.TempDir(), "--results", t.TempDir()}
	code, _, stderr := captureRun(t, args...)
	if code != exitUsage || !strings.Contains(stderr, "--observability: needs --runtime compose") {
		t.Errorf("duckbench %v: exit %d, stderr %q; want exit %d refusing --observability", args, code, stderr, exitUsage)
	}
	// With compose the flag is taken and the session starts: here it stops
	// at once, as docker is not on PATH (a dependency, exit 3).
	t.Setenv("PATH", t.TempDir())
	args = []string{"capacity", p, "--slo", "p99<1s", "--runtime", "compose", "--observability", "--run-dir", t.TempDir(), "--results", t.TempDir(), "-q"}
	code, _, stderr = captureRun(t, args...)
	if code != exitDependency || !strings.Contains(stderr, "find docker") {
		t.Errorf("duckbench %v: exit %d, stderr %q; want exit %d (no docker)", args, code, stderr, exitDependency)
	}
}
