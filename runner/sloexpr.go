package runner

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// SLOSyntaxError locates a mistake in an SLO expression.
type SLOSyntaxError struct {
	Expr string
	// Col is the 1-based byte column of the offending term or value.
	Col int
	Msg string
}

func (e *SLOSyntaxError) Error() string {
	return fmt.Sprintf("slo %q: column %d: %s", e.Expr, e.Col, e.Msg)
}

// sloKeys are the names an SLO expression knows, with the comparison each
// takes: latencies must stay below (<, <=), success and rate above (>, >=).
var sloKeys = map[string]byte{
	"p50": '<', "p90": '<', "p99": '<', "p999": '<', "p99.9": '<', "max": '<',
	"success": '>', "rate": '>',
}

// ParseSLO reads an SLO expression such as "p99<50ms,success>99.9%": terms
// separated by commas, each NAME OP VALUE with
//
//	p50 p90 p99 p999 (or p99.9) max  <  a duration (50ms, 1.5s)
//	success                          >  a percentage (99.9%) or a ratio (0.999)
//	rate                             >  requests per second (min achieved rate)
//
// "<=" and ">=" are accepted as synonyms: a limit is met when equalled.
// Spaces around terms and operators are ignored; a name may appear once.
// The result is the equivalent spec SLO, judged by results.EvaluateSLO.
func ParseSLO(expr string) (spec.SLO, error) {
	var slo spec.SLO
	fail := func(col int, format string, args ...any) (spec.SLO, error) {
		return spec.SLO{}, &SLOSyntaxError{Expr: expr, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(expr) == "" {
		return fail(1, "empty expression (want e.g. p99<50ms,success>99.9%%)")
	}
	seen := map[string]bool{}
	off := 0
	for _, term := range strings.Split(expr, ",") {
		col := off + 1 + (len(term) - len(strings.TrimLeft(term, " \t")))
		off += len(term) + 1
		t := strings.TrimSpace(term)
		if t == "" {
			return fail(col, "empty term (stray comma?)")
		}
		i := strings.IndexAny(t, "<>=")
		if i < 0 {
			return fail(col, "term %q has no comparison (want NAME<VALUE or NAME>VALUE)", t)
		}
		name := strings.ToLower(strings.TrimSpace(t[:i]))
		op := t[i : i+1]
		j := i + 1
		if j < len(t) && t[j] == '=' {
			op += "="
			j++
		}
		valCol := col + j + (len(t[j:]) - len(strings.TrimLeft(t[j:], " \t")))
		val := strings.TrimSpace(t[j:])
		want, ok := sloKeys[name]
		if !ok {
			if name == "" {
				return fail(col, "missing name before %q", op)
			}
			return fail(col, "unknown name %q (want p50, p90, p99, p999, max, success or rate)", name)
		}
		if op[0] == '=' || op[0] != want {
			return fail(col+i, "%s takes %c (got %q)", name, want, op)
		}
		if val == "" {
			return fail(valCol, "missing value after %s%s", name, op)
		}
		if name == "p99.9" {
			name = "p999"
		}
		if seen[name] {
			return fail(col, "%s given twice", name)
		}
		seen[name] = true
		switch name {
		case "success":
			var p spec.Percent
			if err := p.UnmarshalText([]byte(val)); err != nil {
				return fail(valCol, "success: %v", err)
			}
			if p <= 0 || p > 1 {
				return fail(valCol, "success: must be in (0%%, 100%%] (got %q)", val)
			}
			slo.Success = p
		case "rate":
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(val, "/s")), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
				return fail(valCol, "rate: must be a positive number of requests per second (got %q)", val)
			}
			slo.MinRate = v
		default:
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				return fail(valCol, "%s: must be a positive duration like 50ms or 1.5s (got %q)", name, val)
			}
			switch name {
			case "p50":
				slo.P50 = spec.Duration(d)
			case "p90":
				slo.P90 = spec.Duration(d)
			case "p99":
				slo.P99 = spec.Duration(d)
			case "p999":
				slo.P999 = spec.Duration(d)
			case "max":
				slo.Max = spec.Duration(d)
			}
		}
	}
	return slo, nil
}

// FormatSLO writes slo back as an expression ParseSLO reads.
func FormatSLO(slo spec.SLO) string {
	var terms []string
	for _, q := range []struct {
		name string
		d    spec.Duration
	}{{"p50", slo.P50}, {"p90", slo.P90}, {"p99", slo.P99}, {"p999", slo.P999}, {"max", slo.Max}} {
		if q.d > 0 {
			terms = append(terms, q.name+"<"+q.d.D().String())
		}
	}
	if slo.Success > 0 {
		terms = append(terms, "success>"+strconv.FormatFloat(float64(slo.Success)*100, 'g', -1, 64)+"%")
	}
	if slo.MinRate > 0 {
		terms = append(terms, "rate>"+strconv.FormatFloat(slo.MinRate, 'g', -1, 64))
	}
	return strings.Join(terms, ",")
}
