//go:build integration

package stack_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
	"github.com/duckbench/duckbench/stack/stacktest"
)

// TestLocalConformance runs the stack.Driver conformance suite against the
// local driver: real redis-server, haproxy and `duckbench app` processes,
// with a Redis password fed on stdin.
func TestLocalConformance(t *testing.T) {
	for _, b := range []string{"redis-server", "haproxy"} {
		testenv.RequireBinary(t, b, "")
	}
	const pwEnv, pw = "DUCKBENCH_ITEST_LOCAL_PW", "quack pw$1"
	t.Setenv(pwEnv, pw)
	stacktest.Run(t, stacktest.Harness{
		Spec: func(t *testing.T, name string) *spec.Spec {
			s, err := spec.Load(filepath.Join("testdata", "local-seed.yaml"))
			if err != nil {
				t.Fatalf("load spec: %v", err)
			}
			s.Name = fmt.Sprintf("itest-local-%s-%d", name, os.Getpid())
			s.Redis.PasswordEnv = pwEnv
			return s
		},
		RunDir: stack.TestRunDir,
		New: func(t *testing.T, s *spec.Spec, dir string) stack.Driver {
			l, err := stack.NewLocal(s, stack.LocalOptions{RunDir: dir, AppBinary: stack.TestBinary(),
				Log: testLog{t}, StopTimeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("NewLocal() = %v", err)
			}
			return l
		},
		Leftovers: func(t *testing.T, _ *spec.Spec, dir string) []string { return stack.ProcessesUnder(dir) },
		UpTimeout: time.Minute,
		Password:  pw,
	})
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) { w.t.Logf("%s", p); return len(p), nil }
