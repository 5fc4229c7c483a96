// Package agents shards one attack over N load agents and merges their
// results exactly. The coordinator gives every agent the same Plan (the
// workload, a common start time in the future, the duration, the target);
// agent i of N sends every N-th hit of the schedule from hit i on
// (load.WithStripe), so the shards' requests sum exactly to the unsharded
// schedule's whatever the shape, and draws its keys from its own
// seed-derived stream. Each agent sends back its report with the
// histograms behind every quantile (load.ShardData); Merge adds the
// histograms and counts (never averaging percentiles), computes rates over
// the union window and names missing shards.
//
// The transport is the agent's standard output: Write prints the result as
// checksummed, chunked lines, which the coordinator reads back from the
// container runtime's log stream (docker service logs), so agents need no
// inbound port and no route to the coordinator.
package agents

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"time"

	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/spec"
)

// PlanEnv is the environment variable that carries the encoded Plan to
// every agent; IndexEnv the agent's 1-based index (swarm: {{.Task.Slot}}).
const (
	PlanEnv  = "DUCKBENCH_AGENT_PLAN"
	IndexEnv = "DUCKBENCH_AGENT_INDEX"
)

// DefaultStartLead is how far in the future the common start lies when
// the agents are deployed: enough for swarm to schedule and start N tasks
// on a loaded node.
const DefaultStartLead = 20 * time.Second

// MaxClockSkew bounds the disagreement between an agent's clock and the
// coordinator's, read when the agent announces itself (the reading
// includes the log delivery delay, tens of milliseconds on one node). An
// agent beyond it would start its schedule at another moment than the
// others: the run is marked incomplete.
const MaxClockSkew = time.Second

// Plan is one sharded attack, the same for every agent.
type Plan struct {
	// Workload is the spec's load section with the run's overrides applied
	// (rate, duration). Its warmup runs before Start (see Run): a plan with
	// a warm-up has its Start that much further out.
	Workload spec.Workload `json:"workload"`
	// Target is HAProxy's base URL as the agents reach it.
	Target string `json:"target"`
	// Agents is the number of shards N.
	Agents int `json:"agents"`
	// Start is the common start of the schedule; Duration its length.
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	// Seed (0: the workload's, else 1) is the base of every agent's own
	// key seed (Seed); KeyOffset is added to every key number.
	Seed      int64 `json:"seed"`
	KeyOffset int   `json:"key_offset,omitempty"`
	// Raw asks every agent for its results in vegeta's format too.
	Raw bool `json:"raw,omitempty"`
	// Clock is the coordinator's clock (UDP host:port, ServeClock) that
	// every agent measures its offset to before the start; "" for none
	// (one machine, one clock).
	Clock string `json:"clock,omitempty"`
}

// Encode is p as one environment variable value.
func (p Plan) Encode() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode agent plan: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// DecodePlan reads an encoded Plan and checks it.
func DecodePlan(s string) (Plan, error) {
	var p Plan
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return p, fmt.Errorf("%s: %w", PlanEnv, err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s: %w", PlanEnv, err)
	}
	switch {
	case p.Agents < 1:
		return p, fmt.Errorf("%s: agents must be >= 1 (got %d)", PlanEnv, p.Agents)
	case p.Duration <= 0:
		return p, fmt.Errorf("%s: duration must be > 0 (got %v)", PlanEnv, p.Duration)
	case p.Target == "":
		return p, fmt.Errorf("%s: no target", PlanEnv)
	case p.Start.IsZero():
		return p, fmt.Errorf("%s: no start time", PlanEnv)
	}
	return p, nil
}

// Seed is agent index's (1-based) key seed, derived from base: distinct
// per agent, the same for every run of the same plan.
func Seed(base int64, index int) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "duckbench-agent/%d/%d", base, index)
	s := int64(h.Sum64() >> 1)
	if s == 0 {
		s = 1
	}
	return s
}

// WarmupGap is the pause between the end of an agent's warm-up and the
// common start: the warm-up's last requests are answered before the
// measured schedule begins.
const WarmupGap = 200 * time.Millisecond

// warmupBefore is how much of warm-up an agent at now can run before
// start, ending WarmupGap before it: all of it, or what is left when the
// agent started late (0 when nothing is).
func warmupBefore(start time.Time, warmup time.Duration, now time.Time) time.Duration {
	left := start.Sub(now) - WarmupGap
	if warmup <= 0 || left <= 0 {
		return 0
	}
	return min(warmup, left)
}

// sleepUntil waits until t or ctx is done; it reports whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Shard is what one agent sends back.
type Shard struct {
	// Index is the agent's 1-based index.
	Index  int          `json:"index"`
	Report *load.Report `json:"report"`
	// Raw is the agent's results in vegeta's gob format (Plan.Raw).
	Raw []byte `json:"raw,omitempty"`
}

// ErrBadIndex is returned for an index outside 1..Plan.Agents.
var ErrBadIndex = errors.New("agent index out of range")

// Run runs shard index (1-based) of p: it waits for the common start and
// drives its stripe of the schedule against p.Target.
func Run(ctx context.Context, p Plan, index int, progress func(load.Progress)) (*Shard, error) {
	return runAt(ctx, p, index, p.Start, progress)
}

// runAt is Run with the common start at start on this process's clock.
func runAt(ctx context.Context, p Plan, index int, start time.Time, progress func(load.Progress)) (*Shard, error) {
	if index < 1 || index > p.Agents {
		return nil, fmt.Errorf("%w: %d of %d", ErrBadIndex, index, p.Agents)
	}
	w := p.Workload
	// The warm-up (load.warmup) takes place in the lead before the common
	// start, at this agent's share of the starting rate, so that the
	// measured schedule still starts at p.Start on every agent.
	w.Warmup = spec.Duration(warmupBefore(p.Start, w.Warmup.D(), time.Now()))
	if w.Warmup > 0 && !sleepUntil(ctx, p.Start.Add(-WarmupGap-w.Warmup.D())) {
		return nil, fmt.Errorf("agent %d: wait for the warm-up: %w", index, ctx.Err())
	}
	seed := p.Seed
	if seed == 0 {
		seed = max(w.Seed, 1)
	}
	raw := &rawBuffer{}
	opts := []load.Option{
		load.WithStripe(index-1, p.Agents),
		load.WithStartAt(start),
		load.WithDurationOverride(p.Duration),
		load.WithShardData(),
		load.WithKeys(Seed(seed, index), p.KeyOffset),
	}
	if p.Raw {
		opts = append(opts, load.WithRaw(raw))
	}
	if progress != nil {
		opts = append(opts, load.WithProgress(progress))
	}
	a, err := load.New(w, p.Target, opts...)
	if err != nil {
		return nil, fmt.Errorf("agent %d: plan attack: %w", index, err)
	}
	rep, err := a.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("agent %d: %w", index, err)
	}
	return &Shard{Index: index, Report: rep, Raw: raw.b}, nil
}

type rawBuffer struct{ b []byte }

func (r *rawBuffer) Write(p []byte) (int, error) { r.b = append(r.b, p...); return len(p), nil }

// Serve is one agent of p from its start to its result: with p.Clock it
// measures its clock's offset to the coordinator's (MeasureClock) and,
// when that cannot be bounded within MaxClockBound, reports why and stops
// without attacking; it announces itself with its corrected clock, runs
// its shard from the common start as the coordinator's clock reads it and
// writes the shard, its absolute times on the coordinator's clock. shift
// moves the clock it reads (tests only, ShiftEnv).
func Serve(ctx context.Context, out io.Writer, p Plan, index int, shift time.Duration) error {
	now := func() time.Time { return time.Now().Add(shift) }
	var offset time.Duration
	if p.Clock != "" {
		r, err := MeasureClock(ctx, p.Clock, ClockSamples, now)
		if err == nil && r.Bound() > MaxClockBound {
			err = fmt.Errorf("clock offset %+v within ±%v only, wider than ±%v", r.Offset, r.Bound(), MaxClockBound)
		}
		if werr := WriteClock(out, index, r, err); werr != nil {
			return werr
		}
		if err != nil {
			return fmt.Errorf("agent %d: %w", index, err)
		}
		offset = r.Offset
	}
	if err := WriteHello(out, index, now().Add(-offset)); err != nil {
		return err
	}
	// The start on this process's (unshifted) clock: the agent's clock
	// reads p.Start+offset then.
	s, err := runAt(ctx, p, index, p.Start.Add(offset-shift), nil)
	if s == nil {
		return err
	}
	s.Correct(offset, shift)
	if werr := WriteShard(out, s); werr != nil {
		return werr
	}
	return err
}
