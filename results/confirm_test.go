package results_test

import (
	"encoding/json"
	"testing"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/results/resultstest"
)

func TestConfirmedJSON(t *testing.T) {
	c := resultstest.Confirmed(t).Capacity
	b, err := json.MarshalIndent(c.Steps[1:3], "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, testenv.GoldenPath(t, ".json"), append(b, '\n'), *update)
	if got, want := c.Steps[1].Confirmation(), "fail, pass, pass"; got != want {
		t.Errorf("Confirmation() = %q; want %q", got, want)
	}
	if got := c.Steps[0].Confirmation(); got != "-" {
		t.Errorf("Confirmation() of a one-trial step = %q; want -", got)
	}
	if sc := results.SweepSearchOf(c); sc.Steps[1].Trials != "fail, pass, pass" || sc.Steps[0].Trials != "" {
		t.Errorf("SweepSearchOf() steps %+v; want the confirmed step's trials, none for a one-trial step", sc.Steps)
	}
}
