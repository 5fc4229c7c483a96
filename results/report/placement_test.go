package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results/resultstest"
)

// TestPlacement: a cluster run's placement is one line, services in name
// order, in the text summary and the HTML report's header; a run without
// one shows none.
func TestPlacement(t *testing.T) {
	r := resultstest.LoadFixture(t)
	var none bytes.Buffer
	if err := WriteText(&none, r); err != nil {
		t.Fatal(err)
	}
	if r.PlacementText() != "" || strings.Contains(none.String(), "Placement") {
		t.Errorf("a run without placement shows %q", r.PlacementText())
	}
	r.Placement = map[string][]string{"redis-master": {"h3"}, "app1": {"h2", "h3"}, "haproxy": {"h1"}, "app2": nil}
	const want = "app1@h2+h3 app2@? haproxy@h1 redis-master@h3"
	if got := r.PlacementText(); got != want {
		t.Errorf("PlacementText() = %q; want %q", got, want)
	}
	var text, html bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`\nPlacement +\[service@node\] +` + regexp.QuoteMeta(want) + "\n").MatchString(text.String()) {
		t.Errorf("text summary lacks the placement line:\n%s", text.String())
	}
	if h := html.String(); !strings.Contains(h, "placement <b>"+strings.ReplaceAll(want, "+", "&#43;")+"</b>") {
		i := strings.Index(h, "placement")
		t.Errorf("HTML report's header lacks the placement: %q", h[max(i, 0):min(max(i, 0)+200, len(h))])
	}
}
