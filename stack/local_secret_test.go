package stack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/spec"
)

// Secrets fail closed on the local runtime: a spec naming a password
// variable that is unset or empty starts no Redis (and nothing else); the
// error names the node and the variable. Today's code warned and ran Redis
// without a password.
func TestLocalPasswordFailsClosed(t *testing.T) {
	for _, val := range []string{"unset", ""} {
		t.Run("variable "+val, func(t *testing.T) {
			s, err := spec.Load(filepath.Join("testdata", "local-seed.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			const env = "DUCKBENCH_TEST_LOCAL_NO_PW"
			s.Redis.PasswordEnv = env
			if val == "unset" {
				os.Unsetenv(env)
			} else {
				t.Setenv(env, val)
			}
			dir := t.TempDir()
			l, err := NewLocal(s, LocalOptions{RunDir: dir, AppBinary: "/nonexistent"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Up(context.Background())
			if !errors.Is(err, ErrNoPassword) || !strings.Contains(err.Error(), `redis node "`+s.Redis.Master.Name+`"`) ||
				!strings.Contains(err.Error(), env) {
				t.Fatalf("Up() = %v; want ErrNoPassword naming the node and %s", err, env)
			}
			if _, err := os.Stat(filepath.Join(dir, StateFile)); err == nil {
				t.Error("a state file was written: something was started")
			}
		})
	}
}
