package results

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// EvaluateSLO judges r against slo. Every threshold the SLO sets becomes one
// Check naming the threshold and the observed value; unset (zero) thresholds
// are skipped, so an empty SLO gives a passing Verdict without checks.
// max_replication_delay is checked against each replica's delay p99 and
// fails when no replica was measured. Latency thresholds judge all
// requests, a failed one slower than any success (Latency): a quantile that
// falls among the failures fails its threshold whatever the successes' was.
func EvaluateSLO(slo spec.SLO, r *Result) *Verdict {
	v := &Verdict{Pass: true}
	add := func(c Check) {
		v.Checks = append(v.Checks, c)
		if !c.Pass {
			v.Pass = false
		}
	}
	lat, exact := LatencyOf(r.Summary)
	for _, q := range []struct {
		name  string
		limit spec.Duration
		got   float64
	}{
		{"p50", slo.P50, lat.P50},
		{"p90", slo.P90, lat.P90},
		{"p99", slo.P99, lat.P99},
		{"p99.9", slo.P999, lat.P999},
		{"max", slo.Max, lat.Max},
	} {
		if q.limit <= 0 {
			continue
		}
		limit := q.limit.D().Seconds()
		c := Check{
			Name:      q.name,
			Threshold: "<= " + FormatSeconds(limit),
			Observed:  observedLatency(q.got, r.Summary, exact),
			Pass:      q.got <= limit,
		}
		if r.Summary.Requests == 0 {
			c.Observed, c.Pass = "no requests", false
		}
		add(c)
	}
	if slo.Success > 0 {
		c := Check{
			Name:      "success",
			Threshold: ">= " + FormatPercent(float64(slo.Success)),
			Observed:  FormatPercent(r.Summary.SuccessRatio),
			Pass:      r.Summary.Requests > 0 && r.Summary.SuccessRatio >= float64(slo.Success),
		}
		if r.Summary.Requests == 0 {
			c.Observed = "no requests"
		}
		add(c)
	}
	if slo.MinRate > 0 {
		add(Check{
			Name:      "min_rate",
			Threshold: fmt.Sprintf(">= %.2f req/s", slo.MinRate),
			Observed:  fmt.Sprintf("%.2f req/s", r.Summary.Throughput),
			Pass:      r.Summary.Throughput >= slo.MinRate,
		})
	}
	if slo.MaxReplicationDelay > 0 {
		limit := slo.MaxReplicationDelay.D().Seconds()
		if len(r.Replication) == 0 {
			add(Check{
				Name:      "max_replication_delay",
				Threshold: "p99 <= " + FormatSeconds(limit),
				Observed:  "no replica measured",
			})
		}
		for _, rep := range r.Replication {
			c := Check{
				Name:      "max_replication_delay[" + rep.Replica + "]",
				Threshold: "p99 <= " + FormatSeconds(limit),
				Observed:  FormatSeconds(rep.DelayP99Seconds),
				Pass:      rep.DelayP99Seconds <= limit,
			}
			if rep.HeartbeatSamples == 0 {
				c.Observed, c.Pass = "no heartbeat samples", false
			}
			add(c)
		}
	}
	return v
}

// observedLatency is an SLO check's observed all-requests quantile: a
// Failed one says how many requests failed; a success-only stand-in (a
// record that predates all-requests quantiles) says so.
func observedLatency(v float64, s Summary, exact bool) string {
	switch {
	case IsFailed(v):
		return fmt.Sprintf("failed (%s of requests failed)", FormatPercent(s.ErrorRate()))
	case !exact:
		return FormatSeconds(v) + " (successes only: the record predates all-requests quantiles)"
	}
	return FormatSeconds(v)
}

// FormatSeconds prints a duration given in seconds with three significant
// digits and a unit: "850µs", "12.3ms", "1.25s".
func FormatSeconds(s float64) string {
	if s == 0 {
		return "0s"
	}
	neg := ""
	if s < 0 {
		neg, s = "-", -s
	}
	var v float64
	var unit string
	switch {
	case s < 1e-6:
		v, unit = s*1e9, "ns"
	case s < 1e-3:
		v, unit = s*1e6, "µs"
	case s < 1:
		v, unit = s*1e3, "ms"
	case s < 600:
		v, unit = s, "s"
	default:
		return neg + time.Duration(s*float64(time.Second)).Round(time.Second).String()
	}
	return neg + Sig3(v) + unit
}

// Sig3 formats v (>= 0) with three significant digits and no trailing zeros.
func Sig3(v float64) string {
	var s string
	switch {
	case v >= 100:
		s = fmt.Sprintf("%.0f", v)
	case v >= 10:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprintf("%.2f", v)
	}
	return TrimZeros(s)
}

// TrimZeros drops the trailing zeros of a decimal number (and its point
// when nothing follows it): "1.500" → "1.5", "2.0" → "2".
func TrimZeros(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			for len(s) > 0 && s[len(s)-1] == '0' {
				s = s[:len(s)-1]
			}
			if s[len(s)-1] == '.' {
				s = s[:len(s)-1]
			}
			break
		}
	}
	return s
}

// FormatPercent prints a ratio (0-1) as a percentage with up to three
// decimals, truncated rather than rounded so a ratio just under a
// threshold never prints as the threshold: 0.999 → "99.9%",
// 0.9989990 → "99.898%".
func FormatPercent(ratio float64) string {
	p := ratio * 100
	dec := 3
	if a := math.Abs(p); a > 0 && a < 1 {
		dec = min(6, 3-int(math.Floor(math.Log10(a))))
	}
	scale := math.Pow10(dec)
	if p >= 0 {
		p = math.Floor(p*scale+1e-6) / scale
	} else {
		p = math.Ceil(p*scale-1e-6) / scale
	}
	return TrimZeros(strconv.FormatFloat(p, 'f', dec, 64)) + "%"
}

// WithDefaultSuccess gives an SLO without a success term DefaultSuccess,
// and its text (format writes the SLO's when text is empty) a note naming
// the default: a server that sheds load with fast errors otherwise meets
// a latency-only SLO far past its capacity on the quantiles alone.
func WithDefaultSuccess(slo spec.SLO, text string, format func(spec.SLO) string) (spec.SLO, string) {
	if slo.Success > 0 {
		return slo, text
	}
	if text == "" {
		text = format(slo)
	}
	slo.Success = spec.Percent(DefaultSuccess)
	return slo, text + fmt.Sprintf(" (and success>=%s, the default)", FormatPercent(DefaultSuccess))
}
