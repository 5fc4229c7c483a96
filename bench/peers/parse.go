package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A sample is what one run of one tool measured.
type sample struct {
	// Requests is the requests the tool sent and got an answer or an error
	// for; the numerator of Requests per CPU-second.
	Requests float64
	// Rate is the tool's own requests per second.
	Rate float64
	// Errors counts non-2xx answers and transport errors.
	Errors float64
	// Unsent counts the hits a fixed-rate duckbench run never sent (its
	// report counts them as errors; here they are the schedule not kept).
	Unsent float64
	// CPU is the user+sys seconds of the tool's process tree (wait4).
	CPU float64
	// RSSKiB is the peak resident set of the largest process in the tree.
	RSSKiB int64
	// Seconds is the run's configured duration.
	Seconds float64
	// ServerCPU is HAProxy's CPU seconds during the run, OtherCPU the
	// machine's busy CPU seconds that were neither the tool's nor HAProxy's.
	ServerCPU, OtherCPU float64
	// Report is duckbench's JSON report (nil for the peers).
	Report *benchReport
}

// PerCPU is requests per CPU-second of the tool's processes.
func (s sample) PerCPU() float64 {
	if s.CPU <= 0 {
		return 0
	}
	return s.Requests / s.CPU
}

var (
	wrkRequests = regexp.MustCompile(`(?m)^\s*(\d+) requests in [0-9.]+\w+, `)
	wrkRate     = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk 4.1's report. Its request count is the responses
// read; socket errors are counted apart (a read error is not a response).
func parseWrk(out string) (sample, error) {
	var s sample
	var err error
	if s.Requests, err = float(wrkRequests, out, 1); err != nil {
		return s, fmt.Errorf("wrk: %w", err)
	}
	if s.Rate, err = float(wrkRate, out, 1); err != nil {
		return s, fmt.Errorf("wrk: %w", err)
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseFloat(m[1], 64)
		s.Errors += n
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.ParseFloat(v, 64)
			s.Errors += n
		}
	}
	return s, nil
}

var (
	fortioDone = regexp.MustCompile(`(?m)^All done (\d+) calls \(plus (\d+) warmup\) [0-9.]+ ms avg, ([0-9.]+) qps`)
	fortioCode = regexp.MustCompile(`(?m)^Code\s+(-?\d+)\s+:\s+(\d+) `)
)

// parseFortio reads the text summary of `fortio load` (stdout and stderr
// together: fortio writes its summary to stderr). Requests are the calls
// plus the warm-up calls (one per connection), which were sent too.
func parseFortio(out string) (sample, error) {
	var s sample
	m := fortioDone.FindStringSubmatch(out)
	if m == nil {
		return s, fmt.Errorf("fortio: no %q line in:\n%s", "All done … calls", tail(out))
	}
	calls, _ := strconv.ParseFloat(m[1], 64)
	warm, _ := strconv.ParseFloat(m[2], 64)
	s.Requests = calls + warm
	s.Rate, _ = strconv.ParseFloat(m[3], 64)
	for _, c := range fortioCode.FindAllStringSubmatch(out, -1) {
		if !is2xx(c[1]) {
			n, _ := strconv.ParseFloat(c[2], 64)
			s.Errors += n
		}
	}
	return s, nil
}

var (
	vegetaRequests = regexp.MustCompile(`(?m)^Requests\s+\[total, rate, throughput\]\s+(\d+),\s+([0-9.]+),\s+([0-9.]+)`)
	vegetaCodes    = regexp.MustCompile(`(?m)^Status Codes\s+\[code:count\]\s+(.*)$`)
)

// parseVegeta reads `vegeta report` (text). Status code 0 is vegeta's
// transport error.
func parseVegeta(out string) (sample, error) {
	var s sample
	m := vegetaRequests.FindStringSubmatch(out)
	if m == nil {
		return s, fmt.Errorf("vegeta: no %q line in:\n%s", "Requests [total, rate, throughput]", tail(out))
	}
	s.Requests, _ = strconv.ParseFloat(m[1], 64)
	s.Rate, _ = strconv.ParseFloat(m[2], 64)
	c := vegetaCodes.FindStringSubmatch(out)
	if c == nil {
		return s, fmt.Errorf("vegeta: no %q line in:\n%s", "Status Codes", tail(out))
	}
	for _, f := range strings.Fields(c[1]) {
		code, count, ok := strings.Cut(f, ":")
		n, err := strconv.ParseFloat(count, 64)
		if !ok || err != nil {
			return s, fmt.Errorf("vegeta: status code %q is not code:count", f)
		}
		if !is2xx(code) {
			s.Errors += n
		}
	}
	return s, nil
}

var (
	heyRate   = regexp.MustCompile(`(?m)^\s*Requests/sec:\s+([0-9.]+)`)
	heyStatus = regexp.MustCompile(`(?m)^\s*\[(\d+)\]\s+(\d+) responses`)
	heyErr    = regexp.MustCompile(`(?m)^\s*\[(\d+)\]\s+\S`)
)

// parseHey reads hey 0.1.4's summary: the status code distribution gives
// the responses, the error distribution the requests that got none.
func parseHey(out string) (sample, error) {
	var s sample
	var err error
	if s.Rate, err = float(heyRate, out, 1); err != nil {
		return s, fmt.Errorf("hey: %w", err)
	}
	status, errs, _ := strings.Cut(out, "Error distribution:")
	for _, m := range heyStatus.FindAllStringSubmatch(status, -1) {
		n, _ := strconv.ParseFloat(m[2], 64)
		s.Requests += n
		if !is2xx(m[1]) {
			s.Errors += n
		}
	}
	for _, m := range heyErr.FindAllStringSubmatch(errs, -1) {
		n, _ := strconv.ParseFloat(m[1], 64)
		s.Requests += n
		s.Errors += n
	}
	if s.Requests == 0 {
		return s, fmt.Errorf("hey: no status code distribution in:\n%s", tail(out))
	}
	return s, nil
}

// benchReport is the part of `duckbench bench --json` read here.
type benchReport struct {
	Plan struct {
		Rate            float64 `json:"rate"` // -1: max
		DurationSeconds float64 `json:"duration_seconds"`
	} `json:"plan"`
	Summary struct {
		Requests     float64 `json:"requests"`
		Errors       float64 `json:"errors"`
		Unsent       float64 `json:"unsent"`
		Rate         float64 `json:"rate"`
		TargetRate   float64 `json:"target_rate"`
		SuccessRatio float64 `json:"success_ratio"`
		Latency      struct {
			P50   float64 `json:"p50"`
			P99   float64 `json:"p99"`
			P9999 float64 `json:"p99_99"`
			Max   float64 `json:"max"`
		} `json:"latency"`
	} `json:"summary"`
	Timeline []struct {
		T            int     `json:"t"`
		TargetRate   float64 `json:"target_rate"`
		AchievedRate float64 `json:"achieved_rate"`
	} `json:"timeline"`
	Servers []struct {
		Server  string `json:"server"`
		Summary struct {
			Requests float64 `json:"requests"`
		} `json:"summary"`
	} `json:"servers"`
	Histogram       string  `json:"histogram"`
	Saturated       bool    `json:"generator_saturated"`
	SaturationCause string  `json:"saturation_cause"`
	MaxLag          float64 `json:"max_schedule_lag_seconds"`
}

// parseDuckbench reads `duckbench bench --json`. Requests are the hits
// sent: the unsent ones (due but never sent), which the report counts
// among its errors, are kept apart.
func parseDuckbench(out string) (sample, error) {
	var r benchReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return sample{}, fmt.Errorf("duckbench: read --json: %w", err)
	}
	if r.Summary.Requests == 0 {
		return sample{}, fmt.Errorf("duckbench: no requests in the report:\n%s", tail(out))
	}
	return sample{
		Requests: r.Summary.Requests - r.Summary.Unsent,
		Rate:     r.Summary.Rate,
		Errors:   r.Summary.Errors - r.Summary.Unsent,
		Unsent:   r.Summary.Unsent,
		Report:   &r,
	}, nil
}

// schedule is how well an open-model run kept its schedule.
type schedule struct {
	// Achieved is the hits sent over the hits planned for the run.
	Achieved float64
	// Kept is the share of the planned hits sent within the second they
	// were due in: per second of the timeline min(sent, planned), summed,
	// over the planned total. A hit sent a second late counts once, in the
	// second it went out, so Kept ≤ Achieved.
	Kept float64
}

// scheduleKept reads Achieved and Kept from a fixed-rate report.
func scheduleKept(r *benchReport) (schedule, error) {
	dur := r.Plan.DurationSeconds
	planned := r.Summary.TargetRate * dur
	if planned <= 0 || len(r.Timeline) == 0 {
		return schedule{}, fmt.Errorf("duckbench: no schedule in the report (target rate %g, %d seconds of timeline)", r.Summary.TargetRate, len(r.Timeline))
	}
	var kept float64
	for _, s := range r.Timeline {
		span := min(1, dur-float64(s.T))
		if span <= 0 {
			continue
		}
		kept += min(s.AchievedRate, s.TargetRate) * span
	}
	return schedule{
		Achieved: (r.Summary.Requests - r.Summary.Unsent) / planned,
		Kept:     kept / planned,
	}, nil
}

func is2xx(code string) bool { return len(code) == 3 && code[0] == '2' }

func float(re *regexp.Regexp, out string, group int) (float64, error) {
	m := re.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no match for %q in:\n%s", re, tail(out))
	}
	return strconv.ParseFloat(m[group], 64)
}

// tail is the end of a tool's output, for an error message.
func tail(out string) string {
	const n = 2000
	if len(out) > n {
		return "…" + out[len(out)-n:]
	}
	return out
}
