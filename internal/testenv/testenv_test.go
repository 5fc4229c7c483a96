package testenv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeTB records how a helper ended the test: Skip and Fatal stop the
// helper by panicking, as the real ones stop the goroutine.
type fakeTB struct {
	testing.TB
	name            string
	skipped, failed bool
	msg             string
}

type stop struct{}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	panic(stop{})
}
func (f *fakeTB) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	panic(stop{})
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
}

// call runs fn against f, absorbing the stop of Skip and Fatal.
func call(f *fakeTB, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stop); !ok {
				panic(r)
			}
		}
	}()
	fn()
}

func TestRequireBinary(t *testing.T) {
	const missing = "duckbench-no-such-program"
	for _, tc := range []struct {
		name, env     string
		skip, fail    bool
		wantInMessage string
	}{
		{"skips by default", "", true, false, "apt-get install some-pkg"},
		{"fails under DUCKBENCH_REQUIRE_ALL=1", "1", false, true, RequireAllEnv + "=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(RequireAllEnv, tc.env)
			f := &fakeTB{}
			call(f, func() { RequireBinary(f, missing, "some-pkg") })
			if f.skipped != tc.skip || f.failed != tc.fail {
				t.Errorf("RequireBinary(%q): skipped=%v failed=%v; want %v %v", missing, f.skipped, f.failed, tc.skip, tc.fail)
			}
			if !strings.Contains(f.msg, tc.wantInMessage) {
				t.Errorf("RequireBinary(%q) message %q; want it to contain %q", missing, f.msg, tc.wantInMessage)
			}
		})
	}
	t.Run("found", func(t *testing.T) {
		got := RequireBinary(t, "go", "golang")
		if !filepath.IsAbs(got) {
			t.Errorf("RequireBinary(go) = %q; want an absolute path", got)
		}
	})
}

func TestFreePort(t *testing.T) {
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Errorf("FreePort() = %d; want 1-65535", p)
	}
}

func TestWaitHTTP(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	WaitHTTP(t, srv.URL, 5*time.Second)
	if n := calls.Load(); n != 3 {
		t.Errorf("WaitHTTP asked %d times; want 3 (two 503 then 200)", n)
	}

	f := &fakeTB{}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	call(f, func() { WaitHTTP(f, closed.URL, 150*time.Millisecond) })
	if !f.failed || !strings.Contains(f.msg, "not ready after") {
		t.Errorf("WaitHTTP(closed server): failed=%v msg=%q; want a not-ready failure", f.failed, f.msg)
	}
}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	if !Golden(t, path, []byte("a\nb\n"), true) {
		t.Fatal("Golden(update) = false; want true")
	}
	if !Golden(t, path, []byte("a\nb\n"), false) {
		t.Error("Golden(same bytes) = false; want true")
	}
	f := &fakeTB{}
	if Golden(f, path, []byte("a\nc\n"), false) || !f.failed {
		t.Errorf("Golden(other bytes): failed=%v; want a reported difference", f.failed)
	}
	if !strings.Contains(f.msg, "-b\n+c\n") {
		t.Errorf("Golden difference %q; want a unified diff", f.msg)
	}
	f = &fakeTB{}
	call(f, func() { Golden(f, path+".missing", nil, false) })
	if !f.failed || !strings.Contains(f.msg, "-update") {
		t.Errorf("Golden(missing file): failed=%v msg=%q; want a hint at -update", f.failed, f.msg)
	}
}

func TestGoldenPath(t *testing.T) {
	got := GoldenPath(&fakeTB{name: "TestX/sub case"}, ".json")
	if want := filepath.Join("testdata", "TestX_sub case.json"); got != want {
		t.Errorf("GoldenPath = %q; want %q", got, want)
	}
}

func TestCollectGolden(t *testing.T) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "testenv_value", Help: "A value."})
	g.Set(3)
	path := filepath.Join(t.TempDir(), "x.prom")
	CollectGolden(t, g, path, true, "testenv_value")
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "testenv_value 3") {
		t.Fatalf("CollectGolden(update) wrote %q, %v; want the gauge", b, err)
	}
	g.Set(4)
	f := &fakeTB{}
	CollectGolden(f, g, path, false, "testenv_value")
	if !f.failed {
		t.Error("CollectGolden(changed gauge) passed; want a difference")
	}
}
