package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/resultstest"
)

// A stored sweep reads back (from its folder or its file) and analyses to
// the same answer; a result's path is not a sweep.
func TestLoadSweep(t *testing.T) {
	dir := t.TempDir()
	sw := resultstest.SynthSweep(4, 4)
	path, html, err := WriteSweepFiles(dir, sw)
	if err != nil || filepath.Base(path) != "sweep.json" || filepath.Base(html) != "report.html" {
		t.Fatalf("WriteSweepFiles = %q, %q, %v", path, html, err)
	}
	for _, p := range []string{dir, path} {
		got, ok, err := results.LoadSweep(p)
		if !ok || err != nil || got.Best != sw.Best || got.BestVerdict != sw.BestVerdict || len(got.Runs) != len(sw.Runs) {
			t.Errorf("LoadSweep(%q) = best %v, ok %v, %v; want best %d, %q", p, got, ok, err, sw.Best, sw.BestVerdict)
		}
	}
	if _, ok, _ := results.LoadSweep(filepath.Join(dir, "run", "result.json")); ok {
		t.Errorf("LoadSweep(result.json) claimed a result")
	}
}

// TestWriteSweep renders the sweep of results' TestAnalyzeSweep.
func TestWriteSweep(t *testing.T) {
	sw := resultstest.SynthSweep(4, 4)
	var buf bytes.Buffer
	if err := WriteSweepText(&buf, sw); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
	buf.Reset()
	if err := WriteSweepMarkdown(&buf, sw); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".md"), buf.Bytes(), *update)
	var page bytes.Buffer
	if err := WriteSweepHTML(&page, sw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="runa/report.html"`, "capacity per variant", "bracket", "p99 of all requests per variant @ 100 req/s"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("WriteSweepHTML lacks %q", want)
		}
	}
}

// TestWriteSweepEqual renders the sweep of equal variants of results'
// TestAnalyzeSweepEqual.
func TestWriteSweepEqual(t *testing.T) {
	sw := resultstest.SynthSweep(6, 1)
	var buf bytes.Buffer
	if err := WriteSweepText(&buf, sw); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}
