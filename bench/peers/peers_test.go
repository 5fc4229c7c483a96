package main

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The outputs under testdata were captured from the tools themselves
// (testdata/README.md says how); the wanted figures are read off them.
func TestParsers(t *testing.T) {
	tests := []struct {
		file  string
		parse func(string) (sample, error)
		want  sample
	}{
		{"wrk-50.txt", parseWrk, sample{Requests: 85237, Rate: 42516.29}},
		{"wrk-4.txt", parseWrk, sample{Requests: 175606, Rate: 83535.35}},
		// Every answer a 503: counted as errors, still requests.
		{"wrk-503.txt", parseWrk, sample{Requests: 101490, Rate: 101384.86, Errors: 101490}},
		// Connections reset before any answer: socket errors, no requests.
		{"wrk-reset.txt", parseWrk, sample{Requests: 0, Rate: 0, Errors: 8201}},
		// fortio writes its summary to stderr; the warm-up calls (one per
		// connection) were sent too.
		{"fortio-50.stderr", parseFortio, sample{Requests: 93958 + 50, Rate: 46858.2}},
		{"fortio-qps2000.stderr", parseFortio, sample{Requests: 4000 + 50, Rate: 1997.7}},
		{"fortio-503-quiet.stderr", parseFortio, sample{Requests: 14112 + 4, Rate: 14101.6, Errors: 14112}},
		{"vegeta-50.txt", parseVegeta, sample{Requests: 15845, Rate: 7899.89}},
		{"vegeta-503.txt", parseVegeta, sample{Requests: 10841, Rate: 10842.90, Errors: 10841}},
		// The histogram's "[13792]" lines are not status codes.
		{"hey-50.txt", parseHey, sample{Requests: 26132, Rate: 13046.5708}},
		{"hey-503.txt", parseHey, sample{Requests: 25308, Rate: 25298.4574, Errors: 25308}},
		{"hey-refused.txt", parseHey, sample{Requests: 17246, Rate: 17240.8288, Errors: 17246}},
		{"duckbench-max.json", parseDuckbench, sample{Requests: 34255, Rate: 17127.5}},
		{"duckbench-rate2000.json", parseDuckbench, sample{Requests: 4000, Rate: 2000}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := tt.parse(read(t, tt.file))
			if err != nil {
				t.Fatalf("parse(%s): %v", tt.file, err)
			}
			got.Report = nil
			if got != tt.want {
				t.Errorf("parse(%s) = %+v; want %+v", tt.file, got, tt.want)
			}
		})
	}
}

// Each parser refuses another tool's output instead of reading zeros.
func TestParsersRefuseOthersOutput(t *testing.T) {
	parsers := map[string]func(string) (sample, error){
		"wrk": parseWrk, "fortio": parseFortio, "vegeta": parseVegeta, "hey": parseHey, "duckbench": parseDuckbench,
	}
	outputs := map[string]string{
		"wrk": "wrk-50.txt", "fortio": "fortio-50.stderr", "vegeta": "vegeta-50.txt", "hey": "hey-50.txt",
		"duckbench": "duckbench-max.json",
	}
	for name, parse := range parsers {
		for other, file := range outputs {
			if other == name {
				continue
			}
			t.Run(name+"/"+file, func(t *testing.T) {
				if got, err := parse(read(t, file)); err == nil {
					t.Errorf("%s parser on %s = %+v, nil; want an error", name, file, got)
				}
			})
		}
		t.Run(name+"/empty", func(t *testing.T) {
			if _, err := parse(""); err == nil {
				t.Errorf("%s parser on empty output: nil error", name)
			}
		})
	}
}

func TestScheduleKept(t *testing.T) {
	tests := []struct {
		file string
		want schedule
	}{
		// 2000 req/s for 2 s, every second on time.
		{"duckbench-rate2000.json", schedule{Achieved: 1, Kept: 1}},
		// 90 000 req/s for 3 s, far beyond one core: every hit went out,
		// but 48 339, 39 128 and 182 533 in the three seconds (the late
		// ones in the last), so only 48 339 + 39 128 + 90 000 on time.
		{"duckbench-rate90000-behind.json", schedule{Achieved: 1, Kept: (48339.0 + 39128 + 90000) / 270000}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := parseDuckbench(read(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := scheduleKept(s.Report)
			if err != nil {
				t.Fatalf("scheduleKept(%s): %v", tt.file, err)
			}
			if math.Abs(got.Achieved-tt.want.Achieved) > 1e-9 || math.Abs(got.Kept-tt.want.Kept) > 1e-6 {
				t.Errorf("scheduleKept(%s) = %+v; want %+v", tt.file, got, tt.want)
			}
		})
	}
	t.Run("max rate has no schedule", func(t *testing.T) {
		s, err := parseDuckbench(read(t, "duckbench-max.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := scheduleKept(s.Report); err == nil {
			t.Errorf("scheduleKept(max-rate report) = %+v, nil; want an error", got)
		}
	})
}

func TestRecordingOn(t *testing.T) {
	s, err := parseDuckbench(read(t, "duckbench-max.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := recordingOn(s.Report); err != nil {
		t.Errorf("recordingOn(duckbench-max.json) = %v; want nil", err)
	}
	for name, spoil := range map[string]func(r *benchReport){
		"no histogram":   func(r *benchReport) { r.Histogram = "" },
		"no timeline":    func(r *benchReport) { r.Timeline = nil },
		"no attribution": func(r *benchReport) { r.Servers = nil },
		"partial":        func(r *benchReport) { r.Servers[0].Summary.Requests-- },
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := parseDuckbench(read(t, "duckbench-max.json"))
			spoil(s.Report)
			if err := recordingOn(s.Report); err == nil {
				t.Errorf("recordingOn(%s) = nil; want an error", name)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},         // not the best (3), not the first
		{[]float64{40, 10, 30, 20}, 25}, // even count: mean of the middle two
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

// samples makes one sample per round with the given req/s and CPU
// seconds per round (8 s runs).
func samples(cpu float64, rates ...float64) []sample {
	var ss []sample
	for _, r := range rates {
		ss = append(ss, sample{Requests: r * 8, Rate: r, CPU: cpu, Seconds: 8, RSSKiB: 20480})
	}
	return ss
}

func fixture() map[int]map[string][]sample {
	// Requests per CPU-second = rate × 8 s ÷ CPU seconds.
	return map[int]map[string][]sample{
		50: {
			"duckbench": samples(8, 40000, 36000, 44000), // median 40 000 per CPU-s (not the best, 44 000)
			"wrk":       samples(8, 50000, 44000, 45000), // median 45 000: 0.889, a MISS by a hair
			"fortio":    samples(4, 20000, 22000, 21000), // median 42 000
			"vegeta":    samples(8, 16000, 17600, 15000), // median 16 000: 2.5 exactly, a PASS
		},
		4: {
			"duckbench": samples(4, 20000, 21000, 19000), // median 40 000
			"wrk":       samples(4, 24000, 25000, 26000), // median 50 000: 0.8 exactly, a PASS
			"fortio":    samples(4, 20000, 20000, 20000),
			"vegeta":    samples(4, 5000, 6000, 7000), // no goal at 4 connections
		},
	}
}

func TestRatios(t *testing.T) {
	names := []string{"duckbench", "wrk", "fortio", "vegeta"}
	res := fixture()
	type row struct {
		peer    string
		value   float64
		hasGoal bool
		pass    bool
	}
	want := map[int][]row{
		50: {{"wrk", 40000.0 / 45000, true, false}, {"fortio", 40000.0 / 42000, false, true}, {"vegeta", 2.5, true, true}},
		4:  {{"wrk", 0.8, true, true}, {"fortio", 1, false, true}, {"vegeta", 40000.0 / 12000, false, true}},
	}
	for _, n := range []int{50, 4} {
		got := ratios(res[n], n, names)
		if len(got) != len(want[n]) {
			t.Fatalf("ratios(%d connections) = %d rows; want %d", n, len(got), len(want[n]))
		}
		for i, w := range want[n] {
			g := got[i]
			if g.peer != w.peer || math.Abs(g.value-w.value) > 1e-9 || g.hasGoal != w.hasGoal || (g.hasGoal && g.pass() != w.pass) {
				t.Errorf("ratios(%d connections)[%d] = %s %.4f goal %v pass %v; want %s %.4f goal %v pass %v",
					n, i, g.peer, g.value, g.hasGoal, g.pass(), w.peer, w.value, w.hasGoal, w.pass)
			}
		}
		if len(got[0].perRnd) != 3 {
			t.Errorf("ratios(%d connections)[0].perRnd = %v; want one per round", n, got[0].perRnd)
		}
	}
}

// The tables printed at the end of a run, from a fixed set of rounds.
func TestReportTables(t *testing.T) {
	names := []string{"duckbench", "wrk", "fortio", "vegeta"}
	res := fixture()
	var b bytes.Buffer
	for _, n := range []int{50, 4} {
		maxTable(&b, n, names, res[n])
	}
	misses := ratioTable(&b, []int{50, 4}, names, res)
	if misses != 1 {
		t.Errorf("ratioTable misses = %d; want 1 (÷wrk at 50 connections)", misses)
	}
	behind, err := parseDuckbench(read(t, "duckbench-rate90000-behind.json"))
	if err != nil {
		t.Fatal(err)
	}
	onTime, err := parseDuckbench(read(t, "duckbench-rate2000.json"))
	if err != nil {
		t.Fatal(err)
	}
	var db []openRun
	for _, s := range []sample{onTime, onTime, behind} {
		s.CPU = s.Requests / 30000
		sch, err := scheduleKept(s.Report)
		if err != nil {
			t.Fatal(err)
		}
		db = append(db, openRun{s: s, sched: sch})
	}
	fo := []openRun{{s: sample{Requests: 4000, Rate: 1990, CPU: 0.05}}, {s: sample{Requests: 4000, Rate: 2000, CPU: 0.04}}}
	if ok := openTable(&b, 2000, db, fo); !ok {
		t.Errorf("openTable with 2 of 3 rounds on schedule = false; want true (the median counts)")
	}
	golden := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := read(t, t.Name()+".golden")
	if got := b.String(); got != want {
		t.Errorf("tables differ from %s (go test ./bench/peers -update):\n%s", golden, got)
	}
}

func TestCmdLine(t *testing.T) {
	argv := vegetaPeer.argv(tools{vegeta: "/go/bin/vegeta"}, "http://127.0.0.1:8080/", 4, 8e9, 0)
	got := cmdLine(append([]string{"taskset", "-c", "1"}, argv...))
	want := `taskset -c 1 sh -c 'echo '\''GET http://127.0.0.1:8080/'\'' | /go/bin/vegeta attack -rate=0 -workers=4 -max-workers=4 -connections=4 -duration=8s | /go/bin/vegeta report'`
	if got != want {
		t.Errorf("cmdLine(vegeta) =\n%s\nwant\n%s", got, want)
	}
	if got := strings.Join(fortioPeer.argv(tools{fortio: "fortio"}, "http://h/", 50, 8e9, 1234.4), " "); got != "fortio load -qps 1234 -c 50 -t 8s -uniform http://h/" {
		t.Errorf("fortio at a fixed rate = %q", got)
	}
}
