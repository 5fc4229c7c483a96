package runner

import (
	"strings"
	"testing"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
	"github.com/duckbench/duckbench/spec"
)

// TestJudgeStepNamesTheLimit: a step is never failed for the generator's
// cap, and its reason says what bounded it.
func TestJudgeStepNamesTheLimit(t *testing.T) {
	slo := spec.SLO{Success: 0.99}
	bad := withRate(results.Summary{Requests: 100, Success: 50, SuccessRatio: 0.5, TargetRate: 100}, 80)
	plan := results.LoadPlan{MaxWorkers: 512, WorkersUsed: 512}
	tests := []struct {
		name     string
		rep      load.Report
		want     string
		whyNames string
	}{
		{"a configured cap, the server as usual", load.Report{Saturated: true, SaturationCause: load.SaturationCap, Summary: bad,
			Plan: results.LoadPlan{MaxWorkers: 16, WorkersUsed: 16}}, StepUnknown, "unknown (generator cap)"},
		{"short of CPU", load.Report{Saturated: true, SaturationCause: load.SaturationCPU, Summary: bad}, StepUnknown, "unknown (generator CPU)"},
		{"the cap of requests in flight", load.Report{SUTBound: true, Summary: bad, Plan: plan}, StepFail, "cap of 512 requests in flight"},
		{"service time grew", load.Report{SUTBound: true, Summary: bad, Plan: results.LoadPlan{MaxWorkers: 512, WorkersUsed: 90}},
			StepFail, "service time grew"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := judgeStep(slo, &tt.rep, nil); got != tt.want || !strings.Contains(why, tt.whyNames) {
				t.Errorf("judgeStep() = %q, %q; want %q naming %q", got, why, tt.want, tt.whyNames)
			}
		})
	}
}
