package report

import (
	"strings"
	"testing"

	"github.com/duckbench/duckbench/results"
)

func TestWriteSLOMarkdown(t *testing.T) {
	var b strings.Builder
	v := &results.Verdict{Checks: []results.Check{
		{Name: "p99", Threshold: "<= 50ms", Observed: "72ms", Pass: false},
		{Name: "success", Threshold: ">= 99%", Observed: "100%", Pass: true},
	}}
	if err := WriteSLOMarkdown(&b, v); err != nil {
		t.Fatal(err)
	}
	want := "\n**❌ SLO violated**\n\n| check | threshold | observed | |\n|---|---|---|---|\n" +
		"| p99 | &lt;= 50ms | 72ms | **FAIL** |\n| success | &gt;= 99% | 100% | ok |\n"
	if b.String() != want {
		t.Errorf("WriteSLOMarkdown() = %q; want %q", b.String(), want)
	}
	b.Reset()
	if err := WriteSLOMarkdown(&b, nil); err != nil || b.Len() != 0 {
		t.Errorf("WriteSLOMarkdown(nil) = %q, %v; want nothing", b.String(), err)
	}
}
