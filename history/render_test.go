package history

import (
	"bytes"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedAnalysis is 12 runs, p99 10 ms then 13 ms from run 7, with the
// spec hash and commit changing there.
func fixedAnalysis(t *testing.T) *Analysis {
	t.Helper()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var pts []Point
	for i := range 12 {
		v, hash, commit := 0.010, "aaaaaaaaaaaaaaaa", "c1"
		if i >= 6 {
			v, hash, commit = 0.013, "bbbbbbbbbbbbbbbb", "c2"
		}
		v *= 1 + 0.01*float64(i%3)
		pts = append(pts, Point{Run: "20261201T0" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "0000Z-seed", Time: t0.Add(time.Duration(i) * time.Hour),
			Value: v, Spec: "seed", SpecHash: hash, Labels: map[string]string{"commit": commit}})
	}
	a, err := Analyze(pts, Metrics["p99"], DetectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRender(t *testing.T) {
	a := fixedAnalysis(t)
	for _, r := range []struct {
		name  string
		write func(io.Writer, *Analysis) error
		ext   string
	}{{"text", WriteText, ".txt"}, {"markdown", WriteMarkdown, ".md"}, {"json", WriteJSON, ".json"}, {"html", WriteHTML, ".html"}} {
		t.Run(r.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := r.write(&b, a); err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, testenv.GoldenPath(t, r.ext), b.Bytes(), *update)
		})
	}
}
