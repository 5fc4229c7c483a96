package results_test

import (
	"flag"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/resultstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestFixture keeps testdata/TestFixture.json in step with resultstest.Fixture; the
// CLI tests and the screenshot test read it.
func TestFixture(t *testing.T) {
	data, err := results.Marshal(resultstest.Fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".json"), data, *update)
}
