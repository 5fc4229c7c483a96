package load

import (
	"fmt"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/duckbench/duckbench/spec"
)

func sequence(t *testing.T, w spec.Workload, n int) []string {
	t.Helper()
	tg, err := newTargeter(w, "http://127.0.0.1:1")
	if err != nil {
		t.Fatalf("newTargeter: %v", err)
	}
	out := make([]string, n)
	for i := range out {
		var v vegeta.Target
		if err := tg.Next(&v); err != nil {
			t.Fatal(err)
		}
		out[i] = v.Method + " " + v.URL
	}
	return out
}

func mix() spec.Workload {
	return spec.Workload{
		Seed: 42,
		Keys: spec.Keys{Distribution: KeysZipf, Count: 1000},
		Targets: []spec.Target{
			{Path: "/kv/{key}", Weight: 8},
			{Method: "post", Path: "/kv/{key}", Body: "x", Weight: 2},
			{Path: "/healthz", Weight: 1},
		},
	}
}

func TestTargeterSeeded(t *testing.T) {
	for _, dist := range []string{KeysUniform, KeysZipf, KeysSequential} {
		t.Run(dist, func(t *testing.T) {
			w := mix()
			w.Keys.Distribution = dist
			a, b := sequence(t, w, 500), sequence(t, w, 500)
			if strings.Join(a, ",") != strings.Join(b, ",") {
				t.Fatal("same seed gave different sequences")
			}
			w.Seed = 43
			if c := sequence(t, w, 500); strings.Join(a, ",") == strings.Join(c, ",") {
				t.Error("different seeds gave the same sequence")
			}
		})
	}
}

func TestTargeterMixWeights(t *testing.T) {
	seq := sequence(t, mix(), 11000)
	var get, post, health int
	for _, s := range seq {
		switch {
		case strings.HasPrefix(s, "POST "):
			post++
		case strings.HasSuffix(s, "/healthz"):
			health++
		default:
			get++
		}
	}
	if get < 7600 || get > 8400 || post < 1800 || post > 2200 || health < 850 || health > 1150 {
		t.Errorf("mix GET/POST/health = %d/%d/%d; want about 8000/2000/1000", get, post, health)
	}
}

func TestKeysZipfSkew(t *testing.T) {
	w := spec.Workload{Seed: 7, Keys: spec.Keys{Distribution: KeysZipf, Count: 1000, ZipfS: 1.1}}
	counts := map[string]int{}
	const n = 100000
	for _, s := range sequence(t, w, n) {
		counts[s[strings.LastIndex(s, "/")+1:]]++
	}
	// P(k) ∝ (1+k)^-1.1: key 0 alone takes ~14 %, key 0 is ~2^1.1 ≈ 2.1x key 1.
	if share := float64(counts["k0"]) / n; share < 0.10 || share > 0.20 {
		t.Errorf("zipf share of k0 = %.3f; want about 0.14", share)
	}
	if r := float64(counts["k0"]) / float64(counts["k1"]); r < 1.8 || r > 2.5 {
		t.Errorf("zipf k0/k1 = %.2f; want about 2.1", r)
	}
	if counts["k999"] > counts["k0"]/100 {
		t.Errorf("zipf k999 = %d vs k0 = %d; want a long thin tail", counts["k999"], counts["k0"])
	}
	uni := map[string]int{}
	w.Keys.Distribution = KeysUniform
	for _, s := range sequence(t, w, n) {
		uni[s[strings.LastIndex(s, "/")+1:]]++
	}
	if share := float64(uni["k0"]) / n; share > 0.003 {
		t.Errorf("uniform share of k0 = %.4f; want about 0.001", share)
	}
}

func TestKeysSequential(t *testing.T) {
	w := spec.Workload{Keys: spec.Keys{Distribution: KeysSequential, Count: 3, Prefix: "user:"}}
	got := strings.Join(sequence(t, w, 5), ",")
	want := "GET http://127.0.0.1:1/kv/user:0,GET http://127.0.0.1:1/kv/user:1,GET http://127.0.0.1:1/kv/user:2,GET http://127.0.0.1:1/kv/user:0,GET http://127.0.0.1:1/kv/user:1"
	if got != want {
		t.Errorf("sequence = %s; want %s", got, want)
	}
}

func TestTargeterIndex(t *testing.T) {
	w := spec.Workload{Targets: []spec.Target{
		{Path: "/kv/{key}"},
		{Path: "/kv/{key}/meta"},
		{Method: "POST", Path: "/kv/{key}"},
		{Path: "/"},
	}}
	tg, err := newTargeter(w, "http://h:1/")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		method, url string
		want        int
	}{
		{"GET", "http://h:1/kv/k12", 0},
		{"GET", "http://h:1/kv/k12/meta", 1},
		{"POST", "http://h:1/kv/k3", 2},
		{"GET", "http://h:1/", 3},
	} {
		if got := tg.index(tt.method, tt.url); got != tt.want {
			t.Errorf("index(%s %s) = %d; want %d", tt.method, tt.url, got, tt.want)
		}
	}
}

func TestTargeterInvalid(t *testing.T) {
	for i, w := range []spec.Workload{
		{Keys: spec.Keys{Distribution: "pareto"}},
		{Keys: spec.Keys{Distribution: KeysZipf, ZipfS: 0.5}},
		{Targets: []spec.Target{{Path: "/", Weight: -1}}},
	} {
		if _, err := newTargeter(w, "http://h:1"); err == nil {
			t.Errorf("case %d: newTargeter = nil error; want one", i)
		}
	}
	if _, err := newTargeter(spec.Workload{}, "not a url"); err == nil {
		t.Error("newTargeter(bad url) = nil error")
	}
}

func BenchmarkTargeter(b *testing.B) {
	tg, err := newTargeter(mix(), "http://127.0.0.1:6301")
	if err != nil {
		b.Fatal(err)
	}
	var v vegeta.Target
	b.ReportAllocs()
	for b.Loop() {
		_ = tg.Next(&v)
	}
	_ = fmt.Sprint(v.URL)
}
