// Package testenv holds the helpers duckbench's tests share: skipping (or,
// in CI, failing) without a real program, free loopback ports, waiting for
// an HTTP endpoint, and golden files. Only tests import it.
package testenv

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/duckbench/duckbench/internal/textdiff"
)

// RequireAllEnv is the environment variable CI sets to 1 so that a test
// missing a program fails instead of skipping.
const RequireAllEnv = "DUCKBENCH_REQUIRE_ALL"

// RequireAll reports whether DUCKBENCH_REQUIRE_ALL=1.
func RequireAll() bool { return os.Getenv(RequireAllEnv) == "1" }

// Unavailable skips t with msg, or fails it under DUCKBENCH_REQUIRE_ALL=1.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if RequireAll() {
		t.Fatal(msg + " (" + RequireAllEnv + "=1)")
	}
	t.Skip(msg)
}

// RequireBinary returns the path of the program name, calling Unavailable
// when it is not on PATH. aptPkg names the Debian package that installs it
// ("" when it is name itself).
func RequireBinary(t testing.TB, name, aptPkg string) string {
	t.Helper()
	if aptPkg == "" {
		aptPkg = name
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, fmt.Sprintf("%s not on PATH (apt-get install %s): %v", name, aptPkg, err))
	}
	return p
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitHTTP polls url every 100ms until it answers 200 OK, failing t after
// timeout.
func WaitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s: %v", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// GoldenPath is testdata/<t.Name()><suffix>, with the slashes of subtest
// names replaced by underscores.
func GoldenPath(t testing.TB, suffix string) string {
	return filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+suffix)
}

// Golden compares got with the file at path; with update it rewrites the
// file (creating its directory) instead. A difference is reported with
// t.Errorf and a unified diff; Golden reports whether the two matched.
func Golden(t testing.TB, path string, got []byte, update bool) bool {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return true
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if bytes.Equal(got, want) {
		return true
	}
	t.Errorf("output differs from %s (run with -update to accept):\n%s",
		path, textdiff.Unified(path, "got", string(want), string(got)))
	return false
}

// CollectGolden compares what c collects for the metric families names
// with the Prometheus text exposition at path; with update it rewrites the
// file first.
func CollectGolden(t testing.TB, c prometheus.Collector, path string, update bool, names ...string) {
	t.Helper()
	if update {
		b, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, names...)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.CollectAndCompare(c, f, names...); err != nil {
		t.Errorf("CollectAndCompare(%s): %v", path, err)
	}
}
