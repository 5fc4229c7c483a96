package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duckbench/duckbench/agents"
	"github.com/duckbench/duckbench/load"
	"github.com/duckbench/duckbench/results"
)

// Fleet runs a sharded attack on load agents (swarm.Fleet is one).
type Fleet interface {
	// Count is the number of agents.
	Count() int
	// Prepare readies what the agents need (e.g. their image) before a
	// start time is chosen.
	Prepare(ctx context.Context) error
	// StartLead is how far in the future a plan's common start must lie
	// for the agents to be deployed by then.
	StartLead() time.Duration
	// Attack runs plan on the agents, once Prepare has readied them (it
	// sets the plan's Agents and Target, and Start when zero) and returns
	// what each agent delivered, with the plan as sent.
	Attack(ctx context.Context, p agents.Plan) ([]agents.Arrival, agents.Plan, error)
}

// ErrIncomplete marks a sharded run of which a shard is missing, or was
// left out because its clock disagreed (results.StatusIncomplete).
var ErrIncomplete = errors.New("run incomplete")

// attackAgents runs the session's attack sharded on Options.Fleet and
// returns the exact merge of the agents' reports with the per-agent
// figures. A missing shard is an error wrapping ErrIncomplete, returned
// with the merge of the others.
func (ss *Session) attackAgents(ctx context.Context, ao AttackOptions) (*load.Report, []results.AgentStats, error) {
	if ss.Endpoints.HAProxy.CA != "" {
		return nil, nil, fmt.Errorf("load agents: HAProxy's entry bind is TLS with the lab certificate, which the agents are not given in this version: run without load agents")
	}
	w, opts := ss.workload(ao)
	// Planned here (not run) for the duration and the plan's defaults.
	att, err := load.New(w, ss.Endpoints.HAProxy.URL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("plan attack: %w", err)
	}
	lp := att.Plan()
	n := ss.o.Fleet.Count()
	p := agents.Plan{Workload: w, Agents: n, Duration: time.Duration(lp.DurationSeconds * float64(time.Second)),
		Seed: lp.Seed, KeyOffset: ao.KeyOffset, Raw: ss.o.Raw}
	if ao.Seed != 0 {
		p.Seed = ao.Seed
	}
	// The agents size their own workers (the merged plan sums them).
	lp.Workers, lp.MaxWorkers, lp.Connections = 0, 0, 0
	if ao.OnPlan != nil {
		ao.OnPlan(lp)
	}
	if err := ss.o.Fleet.Prepare(ctx); err != nil {
		return nil, nil, fmt.Errorf("load agents: %w", err)
	}
	// The agents warm up (load.warmup) in the lead, before the common start.
	p.Start = time.Now().Add(ss.o.Fleet.StartLead() + w.Warmup.D()).Truncate(time.Millisecond)
	if ao.OnStart != nil {
		ao.OnStart(p.Start)
	}
	ss.logf("attacking HAProxy from %d load agents: %s %g req/s in all for %gs, each agent one request in %d", n, lp.Shape, lp.Rate, lp.DurationSeconds, n)
	arr, p, err := ss.o.Fleet.Attack(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("load agents: %w", err)
	}
	m, err := agents.Merge(p, arr, agents.MaxClockSkew)
	if err != nil {
		return nil, nil, fmt.Errorf("merge the agents' results: %w", err)
	}
	for _, a := range m.Agents {
		ss.logf("%s", agents.Describe(a))
	}
	if ss.o.Raw {
		for _, a := range arr {
			if a.Shard == nil {
				continue
			}
			if err := os.WriteFile(filepath.Join(ss.Dir, fmt.Sprintf("agent-%d.bin", a.Index)), a.Shard.Raw, 0o644); err != nil {
				return m.Report, m.Agents, fmt.Errorf("save agent %d's raw results: %w", a.Index, err)
			}
		}
	}
	if m.Report != nil {
		// The merged plan: the whole rate, the agents' workers together.
		m.Report.Plan.Shape, m.Report.Plan.DurationSeconds, m.Report.Plan.KeyOffset = lp.Shape, lp.DurationSeconds, p.KeyOffset
	}
	if len(m.Missing) > 0 {
		return m.Report, m.Agents, fmt.Errorf("%w: %d of %d load agents left out: %s", ErrIncomplete, len(m.Missing), n, strings.Join(m.Missing, "; "))
	}
	return m.Report, m.Agents, nil
}
