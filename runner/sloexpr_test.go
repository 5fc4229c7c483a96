package runner

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

func ms(n float64) spec.Duration { return spec.Duration(n * float64(time.Millisecond)) }

func TestParseSLO(t *testing.T) {
	tests := []struct {
		expr string
		want spec.SLO
	}{
		{"p99<50ms", spec.SLO{P99: ms(50)}},
		{"p99<50ms,success>99.9%", spec.SLO{P99: ms(50), Success: 0.999}},
		// spaces, <= and >=, upper case, a ratio instead of a percentage
		{" P99 <= 20ms , success >= 0.99 ", spec.SLO{P99: ms(20), Success: 0.99}},
		{"p50<1ms,p90<2ms,p999<100ms,max<1s", spec.SLO{P50: ms(1), P90: ms(2), P999: ms(100), Max: ms(1000)}},
		{"p99.9<1.5s", spec.SLO{P999: ms(1500)}},
		{"rate>500,success>99%", spec.SLO{MinRate: 500, Success: 0.99}},
		{"rate>250.5/s", spec.SLO{MinRate: 250.5}},
		{"success>100%", spec.SLO{Success: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := ParseSLO(tt.expr)
			if err != nil {
				t.Fatalf("ParseSLO(%q) error: %v", tt.expr, err)
			}
			if !sameSLO(got, tt.want) {
				t.Errorf("ParseSLO(%q) = %+v; want %+v", tt.expr, got, tt.want)
			}
			// FormatSLO writes what ParseSLO reads back.
			back, err := ParseSLO(FormatSLO(got))
			if err != nil || !sameSLO(back, got) {
				t.Errorf("ParseSLO(FormatSLO(%+v) = %q) = %+v, %v", got, FormatSLO(got), back, err)
			}
		})
	}
}

func TestParseSLOErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // the whole message
	}{
		{"", `slo "": column 1: empty expression (want e.g. p99<50ms,success>99.9%)`},
		{"p99", `slo "p99": column 1: term "p99" has no comparison (want NAME<VALUE or NAME>VALUE)`},
		{"p99<50ms,", `slo "p99<50ms,": column 10: empty term (stray comma?)`},
		{"p99<50ms, p95<10ms", `slo "p99<50ms, p95<10ms": column 11: unknown name "p95" (want p50, p90, p99, p999, max, success or rate)`},
		{"p99>50ms", `slo "p99>50ms": column 4: p99 takes < (got ">")`},
		{"success<99%", `slo "success<99%": column 8: success takes > (got "<")`},
		{"p99=50ms", `slo "p99=50ms": column 4: p99 takes < (got "=")`},
		{"<50ms", `slo "<50ms": column 1: missing name before "<"`},
		{"p99<", `slo "p99<": column 5: missing value after p99<`},
		{"success>99.9%,p99< 5xs", `slo "success>99.9%,p99< 5xs": column 20: p99: must be a positive duration like 50ms or 1.5s (got "5xs")`},
		{"p99<0s", `slo "p99<0s": column 5: p99: must be a positive duration like 50ms or 1.5s (got "0s")`},
		{"success>99.9", `slo "success>99.9": column 9: success: must be in (0%, 100%] (got "99.9")`},
		{"success>abc", `slo "success>abc": column 9: success: must be a percentage like 99.9% (got "abc")`},
		{"rate>-3", `slo "rate>-3": column 6: rate: must be a positive number of requests per second (got "-3")`},
		{"p99<1ms,p99<2ms", `slo "p99<1ms,p99<2ms": column 9: p99 given twice`},
		{"p999<1ms,p99.9<2ms", `slo "p999<1ms,p99.9<2ms": column 10: p999 given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := ParseSLO(tt.expr)
			var se *SLOSyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSLO(%q) error = %v; want an *SLOSyntaxError", tt.expr, err)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseSLO(%q) error:\n got %s\nwant %s", tt.expr, err, tt.want)
			}
		})
	}
}

// FuzzParseSLO: outside input never panics, errors are located inside the
// expression, and what parses survives a format round trip.
func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{"p99<50ms,success>99.9%", "p50<1ms, p90 <= 2ms", "rate>100", "max<1s,p99.9<3ms", "", ",", "p99<<1ms", "success>>1", "p99<9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		slo, err := ParseSLO(expr)
		if err != nil {
			var se *SLOSyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSLO(%q) error %v is not an *SLOSyntaxError", expr, err)
			}
			if se.Col < 1 || se.Col > len(expr)+1 {
				t.Fatalf("ParseSLO(%q) error column %d outside 1..%d", expr, se.Col, len(expr)+1)
			}
			return
		}
		if slo == (spec.SLO{}) {
			t.Fatalf("ParseSLO(%q) = empty SLO without error", expr)
		}
		back, err := ParseSLO(FormatSLO(slo))
		if err != nil || !sameSLO(back, slo) {
			t.Fatalf("round trip of %q: %q → %+v, %v; want %+v", expr, FormatSLO(slo), back, err, slo)
		}
		if strings.Count(expr, ",")+1 < countSet(slo) {
			t.Fatalf("ParseSLO(%q) set more thresholds than terms", expr)
		}
	})
}

// sameSLO compares SLOs, the float thresholds to 1e-9 relative.
func sameSLO(a, b spec.SLO) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y)) }
	fa, fb := a, b
	fa.Success, fb.Success, fa.MinRate, fb.MinRate = 0, 0, 0, 0
	return fa == fb && near(float64(a.Success), float64(b.Success)) && near(a.MinRate, b.MinRate)
}

func countSet(s spec.SLO) int {
	n := 0
	for _, d := range []spec.Duration{s.P50, s.P90, s.P99, s.P999, s.Max} {
		if d > 0 {
			n++
		}
	}
	if s.Success > 0 {
		n++
	}
	if s.MinRate > 0 {
		n++
	}
	return n
}
