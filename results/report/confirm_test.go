package report

import (
	"bytes"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results/resultstest"
)

// The step table shows each step's trials and its own replication p99; the
// idle readings have a table of their own (text, HTML, JSON).
func TestWriteTextConfirmed(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, resultstest.Confirmed(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".txt"), buf.Bytes(), *update)
}

func TestWriteHTMLConfirmed(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, resultstest.Confirmed(t)); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".html"), buf.Bytes(), *update)
}
