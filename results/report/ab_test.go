package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
)

// synthAB is an ab of 6 rounds whose B side has p99 scaled by scale, with
// a 3 % wobble from run to run.
func synthAB(t *testing.T, scale float64, aa bool) *results.AB {
	ab := &results.AB{ID: "20261201T120000Z-ab-seed-vs-slow", StartedAt: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		A: results.ABSide{Spec: "seed", Path: "examples/seed.yaml"}, B: results.ABSide{Spec: "seed", Path: "slow.yaml"}, AA: aa, Rounds: 6, Status: "completed"}
	var a, b []*results.Result
	for i, side := range results.ABOrder(6) {
		f := 1 + 0.03*float64((i*7)%5-2)/2
		if side == "B" {
			f *= scale
		}
		s := results.Summary{Requests: 2000, Success: 2000, Throughput: 200 * (1 + 0.001*float64(i%3)),
			Latency: results.Quantiles{P50: 0.001 * f, P90: 0.003 * f, P99: 0.005 * f, P999: 0.008 * f, Max: 0.01 * f}}
		r := &results.Result{ID: "run", Spec: results.SpecInfo{Name: "seed"}, Status: "completed", Summary: s}
		ab.Runs = append(ab.Runs, results.ABRun{Seq: i + 1, Round: i/2 + 1, Side: side, ID: "run", Status: "completed", Summary: s})
		if side == "A" {
			a = append(a, r)
		} else {
			b = append(b, r)
		}
	}
	ab.Comparison = results.CompareAB(ab, a, b, results.DefaultThresholds())
	return ab
}

func TestWriteABText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteABText(&buf, synthAB(t, 1.3, false)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "order A B B A A B B A A B B A") || !strings.Contains(buf.String(), "REGRESSION") {
		t.Errorf("WriteABText lacks the order or the regression:\n%s", buf.String())
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

// An A/A prints the machine's noise and says what it cannot resolve.
func TestWriteABTextAA(t *testing.T) {
	ab := synthAB(t, 1, true)
	if ab.Comparison.Regression {
		t.Fatalf("A/A called a regression: %q", ab.Comparison.Reasons)
	}
	var buf bytes.Buffer
	if err := WriteABText(&buf, ab); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Noise of this machine (A/A, 6 vs 6 runs)", "A/A: both sides run the same config"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("WriteABText lacks %q:\n%s", want, buf.String())
		}
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
	var md bytes.Buffer
	if err := WriteABMarkdown(&md, ab); err != nil || !strings.Contains(md.String(), "| p99 | 3.335% | ±3.092% | +10% | yes |") ||
		!strings.Contains(md.String(), "order A B B A") {
		t.Errorf("WriteABMarkdown: %v; want the noise table and the order:\n%s", err, md.String())
	}
	var page bytes.Buffer
	if err := WriteABHTML(&page, ab); err != nil || strings.Count(page.String(), "<svg") != 4 {
		t.Errorf("WriteABHTML: %v, %d charts; want 4", err, strings.Count(page.String(), "<svg"))
	}
}
