package report

import (
	"bytes"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/resultstest"
)

func comparePair(t *testing.T) *results.Comparison {
	base := resultstest.BuildFixture(t, false)
	next := resultstest.BuildFixture(t, false)
	next.ID = "20261127T130000Z-seed"
	next.Summary.Latency.P99 += 0.01
	next.Summary.Latency.P50 *= 1.02
	all := *next.Summary.AllLatency // a copy: base shares the pointer's target
	all.P99 += 0.01
	all.P50 *= 1.02
	next.Summary.AllLatency = &all
	next.Summary.Throughput *= 0.99
	for i := range next.Timeline {
		next.Timeline[i].P99 += 0.01
	}
	next.Replication[1].DelayP99Seconds = 0.0031
	next.Backends[0].ShareRatio, next.Backends[1].ShareRatio = 0.52, 0.48
	next.Caches[0].HitRatio = 0.35
	next.Trials[0].Summary = next.Summary
	return results.Compare(base, next, results.DefaultThresholds())
}

// trialPair is 5 vs 5 trials, the new one 20 % slower.
func trialPair(t *testing.T) *results.Comparison {
	return results.Compare(resultstest.SynthRun(t, "seed", 1, 1.0, 5, 6), resultstest.SynthRun(t, "seed", 2, 1.2, 5, 6), results.DefaultThresholds())
}

func TestWriteCompareMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCompareMarkdown(&buf, trialPair(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".md"), buf.Bytes(), *update)
}

func TestWriteCompareText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCompareText(&buf, comparePair(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

func TestWriteCompareTextTrials(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCompareText(&buf, trialPair(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

func TestFormatBytes(t *testing.T) {
	for _, tt := range []struct {
		in   int64
		want string
	}{{0, "0B"}, {1023, "1023B"}, {1536, "1.5KiB"}, {20480, "20KiB"}, {-2048, "-2KiB"}, {5 << 30, "5GiB"}} {
		if got := formatBytes(tt.in); got != tt.want {
			t.Errorf("formatBytes(%d) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
