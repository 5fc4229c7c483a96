package load

import (
	"math"
	"slices"
	"testing"
	"testing/quick"
	"time"

	"github.com/duckbench/duckbench/spec"
)

func TestPacerRate(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	tests := []struct {
		name string
		w    spec.Workload
		at   time.Duration
		want float64
	}{
		{"constant", spec.Workload{Rate: 100}, sec(3), 100},
		{"constant default shape name", spec.Workload{Rate: 7.5, Shape: "constant"}, 0, 7.5},
		{"ramp start", spec.Workload{Rate: 200, Shape: ShapeRamp, RampFrom: 100}, 0, 100},
		{"ramp middle", spec.Workload{Rate: 200, Shape: ShapeRamp, RampFrom: 100}, sec(5), 150},
		{"ramp end holds", spec.Workload{Rate: 200, Shape: ShapeRamp, RampFrom: 100}, sec(12), 200},
		{"ramp down", spec.Workload{Rate: 0, Shape: ShapeRamp, RampFrom: 100}, sec(5), 50},
		{"sine mean", spec.Workload{Rate: 100, Shape: ShapeSine, Amplitude: 50, Period: spec.Duration(4 * time.Second)}, 0, 100},
		{"sine peak", spec.Workload{Rate: 100, Shape: ShapeSine, Amplitude: 50, Period: spec.Duration(4 * time.Second)}, sec(1), 150},
		{"sine trough", spec.Workload{Rate: 100, Shape: ShapeSine, Amplitude: 50, Period: spec.Duration(4 * time.Second)}, sec(3), 50},
		{"steps first", stepsW(), sec(0.5), 10},
		{"steps second", stepsW(), sec(1.5), 0},
		{"steps third", stepsW(), sec(2.5), 30},
		{"steps hold last", stepsW(), sec(9), 30},
		{"max", spec.Workload{Rate: spec.RateMax}, sec(1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPacer(tt.w, 10*time.Second)
			if err != nil {
				t.Fatalf("NewPacer: %v", err)
			}
			if got := p.Rate(tt.at); math.Abs(got-tt.want) > 1e-6 {
				t.Errorf("Rate(%v) = %v; want %v", tt.at, got, tt.want)
			}
		})
	}
}

func stepsW() spec.Workload {
	return spec.Workload{Shape: ShapeSteps, Steps: []spec.Step{
		{Rate: 10, For: spec.Duration(time.Second)},
		{Rate: 0, For: spec.Duration(time.Second)},
		{Rate: 30, For: spec.Duration(time.Second)},
	}}
}

// count runs the pacer's schedule the way vegeta's attack loop does, on a
// virtual clock, and counts the hits sent in [from, to).
func count(t *testing.T, p *Pacer, from, to time.Duration) (n int) {
	t.Helper()
	var elapsed time.Duration
	for hits := uint64(0); ; hits++ {
		wait, stop := p.Pace(elapsed, hits)
		if stop {
			return n
		}
		if wait > 0 {
			elapsed += wait
		}
		if elapsed >= from && elapsed < to {
			n++
		}
		if hits > 1e7 {
			t.Fatal("pacer never stops")
		}
	}
}

func TestPacerHits(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	tests := []struct {
		name     string
		w        spec.Workload
		dur      time.Duration
		from, to time.Duration
		want     int
	}{
		{"constant whole run", spec.Workload{Rate: 100}, sec(10), 0, sec(10), 1000},
		{"constant one second", spec.Workload{Rate: 100}, sec(10), sec(3), sec(4), 100},
		{"constant fractional", spec.Workload{Rate: 2.5}, sec(4), 0, sec(4), 10},
		{"ramp 0 to 200", spec.Workload{Rate: 200, Shape: ShapeRamp}, sec(10), 0, sec(10), 1000},
		{"ramp first second", spec.Workload{Rate: 200, Shape: ShapeRamp}, sec(10), 0, sec(1), 10},
		{"ramp last second", spec.Workload{Rate: 200, Shape: ShapeRamp}, sec(10), sec(9), sec(10), 190},
		{"ramp down", spec.Workload{Rate: 0, Shape: ShapeRamp, RampFrom: 200}, sec(10), 0, sec(10), 1000},
		{"sine whole periods", spec.Workload{Rate: 100, Shape: ShapeSine, Amplitude: 80, Period: spec.Duration(2 * time.Second)}, sec(10), 0, sec(10), 1000},
		{"sine rising half", spec.Workload{Rate: 100, Shape: ShapeSine, Amplitude: 80, Period: spec.Duration(2 * time.Second)}, sec(10), 0, sec(1), 151}, // 100 + 2·80/π
		{"steps", stepsW(), sec(3), 0, sec(3), 40},
		{"steps idle step", stepsW(), sec(3), sec(1), sec(2), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPacer(tt.w, tt.dur)
			if err != nil {
				t.Fatalf("NewPacer: %v", err)
			}
			if got := count(t, p, tt.from, tt.to); got < tt.want-1 || got > tt.want+1 {
				t.Errorf("hits in [%v, %v) = %d; want %d±1", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestPacerAtInvertsHits(t *testing.T) {
	for _, w := range []spec.Workload{
		{Rate: 300, Shape: ShapeRamp, RampFrom: 20},
		{Rate: 100, Shape: ShapeSine, Amplitude: 100, Period: spec.Duration(3 * time.Second)},
		stepsW(),
	} {
		p, err := NewPacer(w, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for n := uint64(0); n < 500; n += 7 {
			if got := p.Hits(p.At(n)); math.Abs(got-float64(n)) > 1e-3 {
				t.Errorf("%s: Hits(At(%d)) = %v", w.Shape, n, got)
			}
		}
	}
}

func TestPacerInvalid(t *testing.T) {
	for _, w := range []spec.Workload{
		{Rate: 0},
		{Rate: 100, Shape: "square"},
		{Rate: 100, Shape: ShapeSine, Amplitude: 150, Period: spec.Duration(time.Second)},
		{Rate: 100, Shape: ShapeSine, Amplitude: 10},
		{Shape: ShapeSteps},
		{Shape: ShapeSteps, Steps: []spec.Step{{Rate: 1}}},
		{Rate: 0, Shape: ShapeRamp},
	} {
		if _, err := NewPacer(w, time.Second); err == nil {
			t.Errorf("NewPacer(%+v) = nil error; want one", w)
		}
	}
}

// TestStripeHitsSum: for any total and agent count, the stripes' shares
// sum exactly to the total and differ by at most one (property test).
func TestStripeHitsSum(t *testing.T) {
	f := func(total uint32, n uint8) bool {
		stripes := int(n%64) + 1
		var sum, lo, hi uint64
		lo = math.MaxUint64
		for i := range stripes {
			h := StripeHits(uint64(total), i, stripes)
			sum += h
			lo, hi = min(lo, h), max(hi, h)
		}
		return sum == uint64(total) && hi-lo <= 1
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Errorf("StripeHits: %v", err)
	}
}

// TestStripeUnion: the striped pacers of N agents together schedule
// exactly the hits of the unstriped pacer, at the same times, for every
// shape of spec.LoadShapes (steps with a pause and a jump); their counts
// match StripeHits.
func TestStripeUnion(t *testing.T) {
	d := 3 * time.Second
	workloads := []spec.Workload{
		{Rate: 100},
		{Shape: ShapeConstant, Rate: 333.3},
		{Shape: ShapeRamp, RampFrom: 10, Rate: 250},
		{Shape: ShapeSine, Rate: 120, Amplitude: 60, Period: spec.Duration(time.Second)},
		{Shape: ShapeSteps, Steps: []spec.Step{{Rate: 50, For: spec.Duration(time.Second)},
			{Rate: 0, For: spec.Duration(500 * time.Millisecond)}, {Rate: 401, For: spec.Duration(1500 * time.Millisecond)}}},
	}
	for _, shape := range spec.LoadShapes {
		if !slices.ContainsFunc(workloads, func(w spec.Workload) bool { return w.Shape == shape }) {
			t.Errorf("shape %q has no workload in TestStripeUnion", shape)
		}
	}
	for _, w := range workloads {
		for _, n := range []int{1, 2, 3, 7} {
			whole, err := NewPacer(w, d)
			if err != nil {
				t.Fatal(err)
			}
			var want []time.Duration
			for k := uint64(0); whole.At(k) < d; k++ {
				want = append(want, whole.At(k))
			}
			got := make([]time.Duration, 0, len(want))
			for i := range n {
				p, _ := NewPacer(w, d)
				if err := p.Stripe(i, n); err != nil {
					t.Fatalf("Stripe(%d, %d) = %v", i, n, err)
				}
				var cnt uint64
				for k := uint64(0); p.At(k) < d; k++ {
					got = append(got, p.At(k))
					cnt++
				}
				if wantN := StripeHits(uint64(len(want)), i, n); cnt != wantN {
					t.Errorf("%+v stripe %d/%d: %d hits; want %d", w, i, n, cnt, wantN)
				}
				if r, wr := p.Rate(time.Second)*float64(n), whole.Rate(time.Second); math.Abs(r-wr) > 1e-9 {
					t.Errorf("%+v stripe %d/%d: rate×%d = %v; want %v", w, i, n, n, r, wr)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%+v in %d stripes: union of %d hits differs from the unstriped %d", w, n, len(got), len(want))
			}
		}
	}
	if err := (&Pacer{}).Stripe(3, 3); err == nil {
		t.Errorf("Stripe(3, 3) = nil; want an error")
	}
}
