package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/resultstest"
)

// TestGeneratorWarningRendered: a local run whose generator took more than
// results.GeneratorShareWarn of a core is warned of in the text and the
// HTML report; the fixture's (0.155 core) is not.
func TestGeneratorWarningRendered(t *testing.T) {
	const warn = "on the machine of the system under test (runtime local)"
	heavy := resultstest.LoadFixture(t)
	heavy.Summary.Generator = results.NewGeneratorCost(5.1, 1.1, 10.02, heavy.Summary.Requests)
	for _, tc := range []struct {
		name string
		r    *results.Result
		want bool
	}{{"fixture", resultstest.LoadFixture(t), false}, {"heavy", heavy, true}} {
		var text, html bytes.Buffer
		if err := WriteText(&text, tc.r); err != nil {
			t.Fatal(err)
		}
		if err := WriteHTML(&html, tc.r); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(text.String(), "WARNING: the load generator took "); got != tc.want || strings.Contains(text.String(), warn) != tc.want {
			t.Errorf("%s: WriteText warns of the generator: %v; want %v:\n%s", tc.name, got, tc.want, text.String())
		}
		if got := strings.Contains(html.String(), "The load generator took "); got != tc.want || strings.Contains(html.String(), warn) != tc.want {
			t.Errorf("%s: WriteHTML warns of the generator: %v; want %v", tc.name, got, tc.want)
		}
		if !strings.Contains(text.String(), "Generator     [CPU-s, cores, req per CPU-s]") {
			t.Errorf("%s: WriteText lacks the Generator row:\n%s", tc.name, text.String())
		}
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, heavy); err != nil {
		t.Fatal(err)
	}
	if want := "Generator     [CPU-s, cores, req per CPU-s]              6.2s, 0.619, 806\n"; !strings.Contains(buf.String(), want) {
		t.Errorf("WriteText(heavy) lacks %q:\n%s", want, buf.String())
	}
}
