package results

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/perf/benchmath"

	"github.com/duckbench/duckbench/results/stat"
)

// Sweep modes: a capacity search under the SLO per run, or one run at a
// fixed rate.
const (
	SweepCapacity = "capacity"
	SweepRate     = "rate"
)

// Sweep designs.
const (
	// DesignGrid runs every combination of the values.
	DesignGrid = "grid"
	// DesignOneAtATime varies one field at a time around the baseline (the
	// first value of each): for grids too large to run whole.
	DesignOneAtATime = "one-at-a-time"
)

// Sweep is the record of a config sweep (`duckbench sweep`):
// results/<id>/sweep.json, with each run's own folder beside it.
type Sweep struct {
	SchemaVersion int       `json:"schema_version"`
	ID            string    `json:"id"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at"`
	Spec          ABSide    `json:"spec"`
	// Vary are the swept fields; Design how their values were combined.
	Vary   []SweepAxis `json:"vary"`
	Design string      `json:"design"`
	// Mode is SweepCapacity (SLO is the search's) or SweepRate (Rate is
	// every run's, req/s; 0 = the spec's load.rate).
	Mode string  `json:"mode"`
	SLO  string  `json:"slo,omitempty"`
	Rate float64 `json:"rate,omitempty"`
	// Rounds planned: each round runs every valid variant once, in
	// alternating order.
	Rounds   int            `json:"rounds"`
	Variants []SweepVariant `json:"variants"`
	// Runs in the order they ran.
	Runs []SweepRun `json:"runs"`
	// Status is one of the Status* values; Error says why; TimedOut is set
	// when --max-time stopped the sweep before every run started.
	Status   string `json:"status"`
	Error    string `json:"error,omitempty"`
	TimedOut bool   `json:"timed_out,omitempty"`
	// Analysis (AnalyzeSweep). Alpha is the significance level; CommonRate
	// the rate every variant's p99 is taken at (capacity mode: the highest
	// step rate every variant tried; rate mode: the runs' rate).
	Alpha      float64 `json:"alpha"`
	CommonRate float64 `json:"common_rate,omitempty"`
	// Best is the index of the best variant (-1: none); BestVerdict says
	// whether it is significantly better than the baseline (variant 0).
	Best        int    `json:"best"`
	BestVerdict string `json:"best_verdict,omitempty"`

	comparisons int // the tests with the baseline that Holm's method adjusts over
}

// SweepAxis is one swept field and its values (the first is the baseline).
type SweepAxis struct {
	Path   string   `json:"path"`
	Values []string `json:"values"`
}

// SweepVariant is one combination of values.
type SweepVariant struct {
	// Values holds one value per axis ("" for an axis the variant leaves at
	// the spec's value, never in these designs).
	Values []string `json:"values"`
	Label  string   `json:"label"`
	Hash   string   `json:"hash,omitempty"`
	// Invalid is why the variant did not run: the spec's validation or the
	// real program's check of the rendered config rejected it.
	Invalid string        `json:"invalid,omitempty"`
	Stats   *VariantStats `json:"stats,omitempty"`
}

// VariantStats are a variant's figures over its rounds.
type VariantStats struct {
	Runs int `json:"runs"`
	// Censored counts the capacity searches (among Runs) whose rate is no
	// measurement: timed out, generator-bound or without a passing step
	// (CensoredWhy says which). They are reported, never a sample of
	// Capacity or of the test against the baseline.
	Censored    int      `json:"censored,omitempty"`
	CensoredWhy []string `json:"censored_why,omitempty"`
	// Capacity over rounds (capacity mode); LowGood and HighBad the widest
	// bracket of its runs (HighBad 0: no run found a failing rate).
	Capacity *Estimate `json:"capacity,omitempty"`
	LowGood  float64   `json:"low_good,omitempty"`
	HighBad  float64   `json:"high_bad,omitempty"`
	// P99 (seconds) over rounds at the sweep's CommonRate: of all requests,
	// a failed one slower than any success (Failed when the p99 falls
	// among the failures).
	P99 *Estimate `json:"p99,omitempty"`
	// Success is the success ratio over rounds, of the same requests as
	// the runs' summaries (rate mode: the run; capacity: the step at the
	// rate found).
	Success *Estimate `json:"success,omitempty"`
	// Servers is each server's median client-side p99 over rounds (of the
	// runs' records: the run, or the step at the rate found), by name.
	Servers []ServerP99 `json:"servers,omitempty"`
	// VsBaseline tests the judged metric (capacity, or p99 in rate mode)
	// of this variant against the baseline's, run by run; Better is set
	// when it is significantly better.
	VsBaseline *Significance `json:"vs_baseline,omitempty"`
	// PAdjusted is VsBaseline's p adjusted by Holm's method over the
	// sweep's comparisons with the baseline (one per variant with runs):
	// Better and Worse are judged on it, so identical variants are not
	// called better more often than alpha however many there are.
	PAdjusted float64 `json:"p_adjusted,omitempty"`
	Better    bool    `json:"better,omitempty"`
	Worse     bool    `json:"worse,omitempty"`
}

// Estimate is a median over rounds with its distribution-free confidence
// interval (nil bounds: too few rounds for one at that level).
type Estimate struct {
	N          int      `json:"n"`
	Median     float64  `json:"median"`
	Lo         *float64 `json:"lo,omitempty"`
	Hi         *float64 `json:"hi,omitempty"`
	Confidence float64  `json:"confidence"`
	Min        float64  `json:"min"`
	Max        float64  `json:"max"`
}

// SweepRun is one run of one variant.
type SweepRun struct {
	Seq     int    `json:"seq"`
	Round   int    `json:"round"`
	Variant int    `json:"variant"`
	ID      string `json:"id"` // the run's folder under the sweep's
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	// Capacity is the search's answer (capacity mode), its steps reduced
	// to SweepSteps; Saturated marks a rate that is only a lower bound.
	Capacity  *SweepSearch `json:"capacity,omitempty"`
	Saturated bool         `json:"saturated,omitempty"`
	// Summary is the run's (rate mode) or that of the step at the rate
	// found (capacity mode); Servers the client-side p99 per server that
	// answered, of the same requests.
	Summary Summary     `json:"summary"`
	Servers []ServerP99 `json:"servers,omitempty"`
}

// ServerP99 is one server's client-side p99 (seconds) and its requests.
type ServerP99 struct {
	Server   string  `json:"server"`
	Requests uint64  `json:"requests"`
	P99      Seconds `json:"p99"`
}

// ServersP99 reduces a record's per-server latency to its p99s, leaving
// out buckets without a success.
func ServersP99(servers []ServerLatency) []ServerP99 {
	var out []ServerP99
	for _, s := range servers {
		if s.Summary.Success == 0 {
			continue
		}
		out = append(out, ServerP99{Server: s.Server, Requests: s.Summary.Requests, P99: Seconds(Latency(s.Summary).P99)})
	}
	return out
}

// SweepSearch is a capacity search's answer within a sweep.
type SweepSearch struct {
	Rate     float64     `json:"rate"`
	LowGood  float64     `json:"low_good"`
	HighBad  float64     `json:"high_bad"`
	TimedOut bool        `json:"timed_out,omitempty"`
	Steps    []SweepStep `json:"steps"`
}

// SweepStep is one capacity step: its rate, outcome and p99 (seconds).
type SweepStep struct {
	Rate    float64 `json:"rate"`
	Outcome string  `json:"outcome"`
	P99     Seconds `json:"p99"`
	Trials  string  `json:"trials,omitempty"` // its trials' outcomes when confirmed ("fail, pass, pass")
}

// SweepSearchOf reduces a capacity search to its sweep form.
func SweepSearchOf(c *Capacity) *SweepSearch {
	if c == nil {
		return nil
	}
	sc := &SweepSearch{Rate: c.Rate, LowGood: c.LowGood, HighBad: c.HighBad, TimedOut: c.TimedOut}
	for _, st := range c.Steps {
		sc.Steps = append(sc.Steps, SweepStep{Rate: st.Rate, Outcome: st.Outcome, P99: Seconds(Latency(st.Summary).P99), Trials: st.trialOutcomes()})
	}
	return sc
}

// LoadSweep reads a sweep.json, or the sweep.json in folder path, and
// analyses it anew. ok is false when path is neither a sweep.json nor a
// folder holding one (it may be a result).
func LoadSweep(path string) (sw *Sweep, ok bool, err error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		// A folder is a sweep's only when it holds a sweep.json; else it
		// may be a run's (its error then names result.json).
		if _, err := os.Stat(filepath.Join(path, "sweep.json")); err != nil {
			return nil, false, nil
		}
		path = filepath.Join(path, "sweep.json")
	}
	if filepath.Base(path) != "sweep.json" {
		return nil, false, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, true, fmt.Errorf("read sweep: %w", err)
	}
	sw = &Sweep{}
	if err := json.Unmarshal(data, sw); err != nil {
		return nil, true, fmt.Errorf("parse sweep %s: %w", path, err)
	}
	AnalyzeSweep(sw)
	return sw, true, nil
}

// RoundOrder is the order of n items in each of rounds rounds: forward in
// odd rounds, backward in even ones (0 1 2, 2 1 0, 0 1 2, …), so that a
// drift of the machine over time favours none of them.
func RoundOrder(n, rounds int) [][]int {
	out := make([][]int, rounds)
	for r := range out {
		for i := 0; i < n; i++ {
			if r%2 == 0 {
				out[r] = append(out[r], i)
			} else {
				out[r] = append(out[r], n-1-i)
			}
		}
	}
	return out
}

// Counted says whether a run is evidence: it completed and measured
// something (an interrupted or failed run is kept in the record only).
func (r SweepRun) Counted(mode string) bool {
	if r.Status != StatusCompleted {
		return false
	}
	if mode == SweepCapacity {
		return r.Capacity != nil
	}
	return r.Summary.Requests > 0
}

// AnalyzeSweep fills each variant's Stats, the common rate, the best
// variant and whether it is significantly better than the baseline.
func AnalyzeSweep(sw *Sweep) {
	if sw.Alpha <= 0 {
		sw.Alpha = 0.05
	}
	sw.Best, sw.BestVerdict = -1, ""
	byVariant := make([][]SweepRun, len(sw.Variants))
	for _, r := range sw.Runs {
		if r.Variant >= 0 && r.Variant < len(byVariant) && r.Counted(sw.Mode) {
			byVariant[r.Variant] = append(byVariant[r.Variant], r)
		}
	}
	sw.CommonRate = sw.Rate
	if sw.Mode == SweepCapacity {
		sw.CommonRate = commonRate(byVariant)
	}
	metric := func(i int) []float64 { // the judged metric per run
		var xs []float64
		for _, r := range byVariant[i] {
			if sw.Mode == SweepCapacity {
				if r.censored() == "" {
					xs = append(xs, r.Capacity.Rate)
				}
			} else {
				xs = append(xs, Latency(r.Summary).P99)
			}
		}
		return xs
	}
	higher := sw.Mode == SweepCapacity // capacity: higher is better; p99: lower
	for i := range sw.Variants {
		v := &sw.Variants[i]
		v.Stats = nil
		if v.Invalid != "" || len(byVariant[i]) == 0 {
			continue
		}
		st := &VariantStats{Runs: len(byVariant[i])}
		if sw.Mode == SweepCapacity {
			for _, r := range byVariant[i] {
				if why := r.censored(); why != "" {
					st.Censored++
					st.CensoredWhy = append(st.CensoredWhy, fmt.Sprintf("round %d: %s (%s req/s)", r.Round, why, strconv.FormatFloat(r.Capacity.Rate, 'g', 6, 64)))
				}
			}
			st.Capacity = estimate(metric(i), 1-sw.Alpha)
			for k, r := range byVariant[i] {
				if k == 0 || r.Capacity.LowGood < st.LowGood {
					st.LowGood = r.Capacity.LowGood
				}
				st.HighBad = math.Max(st.HighBad, r.Capacity.HighBad)
			}
		}
		st.P99 = estimate(p99At(sw, byVariant[i]), 1-sw.Alpha)
		var ok []float64
		for _, r := range byVariant[i] {
			ok = append(ok, Ratio(float64(r.Summary.Success), float64(r.Summary.Requests)))
		}
		st.Success = estimate(ok, 1-sw.Alpha)
		st.Servers = serverMedians(byVariant[i])
		v.Stats = st
	}
	base := sw.Variants
	if len(base) == 0 || base[0].Stats == nil {
		return
	}
	baseVals := metric(0)
	var tested []*VariantStats
	for i := range sw.Variants {
		v := &sw.Variants[i]
		if v.Stats == nil {
			continue
		}
		if i > 0 {
			v.Stats.VsBaseline = stat.TestRuns(sw.judged(), baseVals, metric(i), sw.Alpha)
			if v.Stats.VsBaseline != nil {
				tested = append(tested, v.Stats)
			}
		}
		if sw.Mode == SweepCapacity && v.Stats.Capacity == nil {
			continue // every search censored: no capacity to rank
		}
		if sw.Best < 0 || better(sw.center(i), sw.center(sw.Best), higher) {
			sw.Best = i
		}
	}
	ps := make([]float64, len(tested))
	for i, st := range tested {
		ps[i] = st.VsBaseline.P
	}
	for i, adj := range stat.Holm(ps) {
		tested[i].PAdjusted = adj
	}
	for _, st := range tested {
		if s := st.VsBaseline; st.PAdjusted < sw.Alpha {
			d := s.Direction()
			st.Better = (d > 0) == higher && d != 0
			st.Worse = !st.Better && d != 0
		}
	}
	sw.comparisons = len(tested)
	sw.BestVerdict = sw.bestVerdict()
}

// Comparisons is the number of tests with the baseline that Holm's method
// adjusts over (set by AnalyzeSweep).
func (sw *Sweep) Comparisons() int { return sw.comparisons }

func (sw *Sweep) judged() string {
	if sw.Mode == SweepCapacity {
		return "per-round capacity"
	}
	return "per-round p99"
}

// center is variant i's judged median (capacity 0 when every search was
// censored).
func (sw *Sweep) center(i int) float64 {
	st := sw.Variants[i].Stats
	if sw.Mode == SweepCapacity {
		if st.Capacity == nil {
			return 0
		}
		return st.Capacity.Median
	}
	return st.P99.Median
}

// censored says why a capacity search's rate is no measurement ("": it is
// one): a search that timed out or whose generator could not keep up
// gives a lower bound only, and one without a passing step (a first step
// that failed, perhaps once, in noise) no rate at all. A censored search
// is reported, never taken as a sample (a 0 would drag the median).
func (r SweepRun) censored() string {
	switch c := r.Capacity; {
	case c == nil:
		return ""
	case c.TimedOut:
		return "the search timed out"
	case r.Saturated:
		return "the load generator could not keep up"
	case c.Rate <= 0:
		return "no step passed"
	}
	return ""
}

func better(a, b float64, higher bool) bool {
	if higher {
		return a > b
	}
	return a < b
}

func (sw *Sweep) bestVerdict() string {
	if sw.Best < 0 {
		return ""
	}
	if sw.Best == 0 {
		return "the baseline is best: no variant beats its median"
	}
	s := sw.Variants[sw.Best].Stats.VsBaseline
	if s == nil {
		return "not compared with the baseline"
	}
	st := sw.Variants[sw.Best].Stats
	holmNote := ""
	if sw.comparisons > 1 {
		holmNote = fmt.Sprintf(", Holm-adjusted over %d comparisons with the baseline: p=%s", sw.comparisons, FormatP(st.PAdjusted))
	}
	if st.Better {
		return fmt.Sprintf("significantly better than the baseline (p=%s, Mann-Whitney over %d vs %d rounds%s)", FormatP(s.P), s.NBase, s.NNew, holmNote)
	}
	why := ""
	if level := sw.Alpha / float64(max(1, sw.comparisons)); s.MinP >= level {
		why = fmt.Sprintf("; %d vs %d rounds cannot reach p < %.3g (smallest p %.3g): run more --rounds", s.NBase, s.NNew, level, s.MinP)
	}
	return fmt.Sprintf("not significantly better than the baseline (p=%s%s%s)", FormatP(s.P), holmNote, why)
}

// estimate is the median of xs with benchmath's distribution-free
// confidence interval (order statistics), nil for no values. Fewer than 6
// values cannot give a 95 % interval; from 3 on, the interval is the one
// they can give, [min, max] at its own level 1 − 2^(1−n) (75 % for 3, 87.5 %
// for 4, 93.75 % for 5), and Confidence says so.
func estimate(xs []float64, conf float64) *Estimate {
	if len(xs) == 0 {
		return nil
	}
	s := benchmath.NewSample(slices.Clone(xs), &benchmath.Thresholds{CompareAlpha: 1 - conf})
	sum := benchmath.AssumeNothing.Summary(s, conf)
	if n := len(xs); n >= 3 && (math.IsInf(sum.Lo, 0) || math.IsInf(sum.Hi, 0)) {
		sum = benchmath.AssumeNothing.Summary(s, (1-math.Pow(2, float64(1-n)))*(1-1e-9))
	}
	// The median as stat.Median takes it: benchmath interpolates, and two
	// Failed p99s would give NaN.
	e := &Estimate{N: len(xs), Median: stat.Median(xs), Confidence: sum.Confidence, Min: slices.Min(xs), Max: slices.Max(xs)}
	if !math.IsInf(sum.Lo, 0) && !math.IsInf(sum.Hi, 0) && !math.IsNaN(sum.Lo) && !math.IsNaN(sum.Hi) {
		lo, hi := sum.Lo, sum.Hi
		e.Lo, e.Hi = &lo, &hi
	}
	return e
}

// commonRate is the highest capacity step rate that every variant with
// runs tried.
func commonRate(byVariant [][]SweepRun) float64 {
	var common map[float64]bool
	for _, runs := range byVariant {
		if len(runs) == 0 {
			continue
		}
		rates := map[float64]bool{}
		for _, r := range runs {
			for _, st := range r.Capacity.Steps {
				rates[st.Rate] = true
			}
		}
		if common == nil {
			common = rates
			continue
		}
		for k := range common {
			if !rates[k] {
				delete(common, k)
			}
		}
	}
	best := 0.0
	for k := range common {
		best = math.Max(best, k)
	}
	return best
}

// serverMedians is each server's median p99 over runs, its requests
// summed, in the order the servers first appear.
func serverMedians(runs []SweepRun) []ServerP99 {
	var order []string
	p99s := map[string][]float64{}
	reqs := map[string]uint64{}
	for _, r := range runs {
		for _, s := range r.Servers {
			if _, seen := p99s[s.Server]; !seen {
				order = append(order, s.Server)
			}
			p99s[s.Server] = append(p99s[s.Server], float64(s.P99))
			reqs[s.Server] += s.Requests
		}
	}
	var out []ServerP99
	for _, name := range order {
		out = append(out, ServerP99{Server: name, Requests: reqs[name], P99: Seconds(stat.Median(p99s[name]))})
	}
	return out
}

// p99At is each run's p99 at the sweep's common rate.
func p99At(sw *Sweep, runs []SweepRun) []float64 {
	var xs []float64
	for _, r := range runs {
		if sw.Mode != SweepCapacity {
			xs = append(xs, Latency(r.Summary).P99)
			continue
		}
		for _, st := range r.Capacity.Steps {
			if st.Rate == sw.CommonRate {
				xs = append(xs, float64(st.P99))
				break
			}
		}
	}
	return xs
}

// VariantLabel is the label of a variant: path=value for each axis that
// varies (one with a single value is a setting every variant shares),
// shortened to the last key of the path where that stays unique.
func VariantLabel(axes []SweepAxis, values []string) string {
	short := map[string]int{}
	for _, a := range axes {
		short[lastKey(a.Path)]++
	}
	var parts []string
	for i, a := range axes {
		if len(a.Values) == 1 && len(axes) > 1 {
			continue
		}
		name := lastKey(a.Path)
		if short[name] > 1 {
			name = a.Path
		}
		parts = append(parts, name+"="+values[i])
	}
	return strings.Join(parts, " ")
}

func lastKey(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.Index(path, "["); i >= 0 {
		path = path[:i]
	}
	return path
}
