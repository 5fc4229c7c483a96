package compose

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/spec"
	"github.com/duckbench/duckbench/stack"
)

func TestNew(t *testing.T) {
	s := loadSpec(t, "seed.yaml")
	if _, err := New(s, Options{}); err == nil {
		t.Errorf("New() without a run dir = nil; want an error")
	}
	if _, err := New(nil, Options{RunDir: t.TempDir()}); err == nil {
		t.Errorf("New(nil) = nil; want an error")
	}
	d, err := New(s, Options{RunDir: t.TempDir()})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	// The driver works on a copy: resolving ports leaves the caller's spec alone.
	d.(*Driver).spec.Apps[0].Port = spec.PortAuto
	if s.Apps[0].Port == spec.PortAuto {
		t.Errorf("New() shares the caller's spec")
	}
	// Status, Logs and Fault of a stack never started say so.
	if _, err := d.Status(context.Background()); !errors.Is(err, stack.ErrNotUp) {
		t.Errorf("Status() = %v; want ErrNotUp", err)
	}
	if err := d.Fault(context.Background(), "app1", "kill"); !errors.Is(err, stack.ErrNotUp) {
		t.Errorf("Fault() = %v; want ErrNotUp", err)
	}
}

func TestEndpoints(t *testing.T) {
	s := loadSpec(t, "seed.yaml")
	ep := Endpoints(s, ProjectName(s), "/run")
	if ep.Runtime != stack.RuntimeCompose || ep.HAProxy.URL != "http://127.0.0.1:6301" || ep.HAProxy.Stats != "127.0.0.1:9999" {
		t.Errorf("Endpoints() = %+v", ep)
	}
	if m, ok := ep.Master(); !ok || m.Addr != "127.0.0.1:6379" || len(ep.Replicas()) != 2 || len(ep.Apps) != 2 {
		t.Errorf("Endpoints() redis/apps = %+v / %+v", ep.Redis, ep.Apps)
	}
}

func TestCheckSecrets(t *testing.T) {
	s := loadSpec(t, "images.yaml")
	for _, c := range []struct {
		redisPW, pagePW string
		want            string
	}{
		{"", "x", `environment variable "DUCKBENCH_TEST_REDIS_PASSWORD" is not set`},
		{`a"b`, "x", "holds a quote, backslash or newline"},
		{"ok pw", "", `haproxy.stats_page.password_env: environment variable "DUCKBENCH_TEST_STATS_PASSWORD" is not set`},
		{"ok pw", "x", ""},
	} {
		t.Setenv("DUCKBENCH_TEST_REDIS_PASSWORD", c.redisPW)
		t.Setenv("DUCKBENCH_TEST_STATS_PASSWORD", c.pagePW)
		err := checkSecrets(s)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("checkSecrets(redis %q, page %q) = %v; want %q", c.redisPW, c.pagePW, err, c.want)
		}
	}
}
