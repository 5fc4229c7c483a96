//go:build integration

package swarm

import (
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
	"github.com/duckbench/duckbench/stack/stacktest"
)

// TestSwarmConformance runs the stack.Driver conformance suite on the
// swarm driver, on a one-node swarm.
func TestSwarmConformance(t *testing.T) {
	requireSwarm(t)
	imgs, app, _ := fixtures(t)
	t.Setenv(testPwEnv, testPw)
	stacktest.Run(t, stacktest.Harness{
		Spec:   func(t *testing.T, name string) *spec.Spec { return testSpec(t, imgs, "c"+name) },
		RunDir: func(t *testing.T) string { return t.TempDir() },
		New: func(t *testing.T, s *spec.Spec, dir string) stack.Driver {
			return newDriver(t, s, dir, app)
		},
		Leftovers: func(t *testing.T, s *spec.Spec, _ string) []string {
			left, err := Leftovers(t.Context(), StackName(s))
			if err != nil {
				t.Fatalf("Leftovers() = %v", err)
			}
			var out []string
			for kind, ids := range left {
				for _, id := range ids {
					out = append(out, kind+" "+id)
				}
			}
			return out
		},
		UpTimeout: 2 * time.Minute,
		Password:  testPw,
	})
}
