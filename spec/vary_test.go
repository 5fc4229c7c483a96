package spec

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseVary(t *testing.T) {
	tests := []struct {
		in      string
		path    string
		values  []string
		wantErr string
	}{
		{in: "haproxy.backends[0].balance=roundrobin,leastconn", path: "haproxy.backends[0].balance", values: []string{"roundrobin", "leastconn"}},
		{in: "haproxy.backends[0].servers[*].maxconn=2, 8", path: "haproxy.backends[0].servers[*].maxconn", values: []string{"2", "8"}},
		{in: "apps[*].origin_cost=2ms", path: "apps[*].origin_cost", values: []string{"2ms"}},
		{in: "a.b[1][2].c=x", path: "a.b[1][2].c", values: []string{"x"}},
		// sad paths
		{in: "haproxy.maxconn", wantErr: "want PATH=V1,V2"},
		{in: "=1", wantErr: "empty field path"},
		{in: "haproxy..maxconn=1", wantErr: "empty key"},
		{in: "haproxy.maxconn=1,,2", wantErr: "empty value"},
		{in: "haproxy.maxconn=", wantErr: "empty value"},
		{in: "apps[x].port=1", wantErr: "bad index [x]"},
		{in: "apps[-1].port=1", wantErr: "bad index [-1]"},
		{in: "apps[0.port=1", wantErr: "bad index"},
		{in: "apps[0]x.port=1", wantErr: "bad index"},
		{in: "[0].port=1", wantErr: "empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := ParseVary(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseVary(%q) = %v; want error containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseVary(%q): %v", tt.in, err)
			}
			if got := v.Path.String(); got != tt.path {
				t.Errorf("ParseVary(%q).Path = %q; want %q", tt.in, got, tt.path)
			}
			if strings.Join(v.Values, "|") != strings.Join(tt.values, "|") {
				t.Errorf("ParseVary(%q).Values = %q; want %q", tt.in, v.Values, tt.values)
			}
		})
	}
}

func settings(t *testing.T, kv ...string) []Setting {
	t.Helper()
	var out []Setting
	for _, s := range kv {
		v, err := ParseVary(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Setting{Path: v.Path, Value: v.Values[0]})
	}
	return out
}

func TestParseWith(t *testing.T) {
	data, err := os.ReadFile("../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseWith("seed.yaml", data, settings(t,
		"haproxy.backends[0].servers[*].maxconn=8",
		"haproxy.backends[0].balance=leastconn",
		"apps[1].origin_cost=10ms",
		"haproxy.timeouts.server=7s", // a mapping the spec does not write
		"load.rate=max",
	))
	if err != nil {
		t.Fatalf("ParseWith: %v", err)
	}
	b := s.HAProxy.Backends[0]
	for i, srv := range b.Servers {
		if srv.Maxconn != 8 {
			t.Errorf("servers[%d].maxconn = %d; want 8", i, srv.Maxconn)
		}
	}
	if b.Balance != "leastconn" {
		t.Errorf("balance = %q; want leastconn", b.Balance)
	}
	if got := s.Apps[1].OriginCost.D(); got != 10*time.Millisecond {
		t.Errorf("apps[1].origin_cost = %v; want 10ms", got)
	}
	if got := s.Apps[0].OriginCost.D(); got != 2*time.Millisecond {
		t.Errorf("apps[0].origin_cost = %v; want the default 2ms (only [1] was set)", got)
	}
	if got := s.HAProxy.Timeouts.Server.D(); got != 7*time.Second {
		t.Errorf("haproxy.timeouts.server = %v; want 7s", got)
	}
	if got := s.HAProxy.Timeouts.Client.D(); got != 30*time.Second {
		t.Errorf("haproxy.timeouts.client = %v; want the default 30s", got)
	}
	if !s.Load.Rate.IsMax() {
		t.Errorf("load.rate = %v; want max", s.Load.Rate)
	}
	base, err := Parse("seed.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	same, err := ParseWith("seed.yaml", data, settings(t, "haproxy.backends[0].balance=roundrobin"))
	if err != nil {
		t.Fatal(err)
	}
	if same.Hash() != base.Hash() {
		t.Errorf("setting a field to the value it has changed the spec's hash")
	}

	bad := []struct{ set, want string }{
		{"haproxy.backends[0].servers[*].maxconn=-1", "haproxy.backends[0].servers[0].maxconn: must not be negative (got -1) (seed.yaml)"},
		{"haproxy.backends[0].balance=fastest", `haproxy.backends[0].balance: must be one of`},
		{"haproxy.backends[0].servers[*].maxconn=lots", "haproxy.backends[0].servers[0].maxconn:"},
		{"haproxy.backends[0].servers[*].maxcon=2", `unknown key "maxcon" (did you mean "maxconn"?)`},
		{"haproxy.backends[3].balance=leastconn", "haproxy.backends[3]: the list has 1 item(s)"},
		{"haproxy.routes[0].path=/x", "haproxy.routes is not in the spec"},
		{"name[0]=x", "name is not a list"},
		{"haproxy.port.x=1", "haproxy.port is not a mapping"},
	}
	for _, tt := range bad {
		_, err := ParseWith("seed.yaml", data, settings(t, tt.set))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseWith(%s) = %v; want error containing %q", tt.set, err, tt.want)
		}
	}
}

func FuzzParseVary(f *testing.F) {
	for _, s := range []string{"haproxy.backends[0].servers[*].maxconn=2,8", "apps[*].origin_cost=2ms,10ms", "a[", "=", "a.b[1]]=x", "a[*][0].b=,"} {
		f.Add(s)
	}
	data, err := os.ReadFile("../examples/seed.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := ParseVary(in)
		if err != nil {
			return
		}
		if len(v.Values) == 0 {
			t.Fatalf("ParseVary(%q) gave no values and no error", in)
		}
		again, err := ParseFieldPath(v.Path.String())
		if err != nil || again.String() != v.Path.String() {
			t.Fatalf("ParseFieldPath(%q) = %v, %v; want the path back", v.Path.String(), again, err)
		}
		// Setting any parsed value must not panic, whatever it is.
		_, _ = ParseWith("seed.yaml", data, []Setting{{Path: v.Path, Value: v.Values[0]}})
	})
}
