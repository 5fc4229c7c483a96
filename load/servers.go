package load

import (
	"sort"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/duckbench/duckbench/results"
)

// noServer is HAProxy's server name for a response no server gave (an
// error HAProxy answered itself).
const noServer = "<NOSRV>"

// serverBucket is one server's statistics (and its metric, once used).
type serverBucket struct {
	name   string
	stats  *stats
	metric prometheus.Observer
}

// server is the bucket of the server that answered r: the first
// X-Served-By value; results.Unattributed without one.
func (c *consumer) server(r *result) *serverBucket {
	name := results.Unattributed
	if v := r.servedBy; v != "" && v != noServer {
		name = v
	}
	b := c.servers[name]
	if b == nil {
		// Past MaxServers names, new names share one bucket.
		if !catchAll(name) && c.named >= results.MaxServers {
			name = results.OtherServers
			if b = c.servers[name]; b != nil {
				return b
			}
		} else if !catchAll(name) {
			c.named++
		}
		b = &serverBucket{name: name, stats: newStats()}
		c.servers[name] = b
	}
	return b
}

// serverReport is the per-server figures, servers by name, the catch-all
// buckets last.
func (c *consumer) serverReport(window time.Duration, basis string) []results.ServerLatency {
	if len(c.servers) == 0 {
		return nil
	}
	names := sortedKeys(c.servers)
	sort.SliceStable(names, func(i, j int) bool { return !catchAll(names[i]) && catchAll(names[j]) })
	out := make([]results.ServerLatency, 0, len(names))
	for _, n := range names {
		s := c.servers[n].stats
		sl := results.ServerLatency{Server: n, Summary: s.summary(0, window, basis)}
		if s.success > 0 {
			sl.Histogram, _ = EncodeHistogram(s.hist)
			if basis == results.BasisIntended {
				sl.ServiceHistogram, _ = EncodeHistogram(s.svc)
			}
		}
		out = append(out, sl)
	}
	return out
}

func catchAll(name string) bool { return name == results.Unattributed || name == results.OtherServers }

// appShare is each named server's share of the responses that name one
// (the client-side split, as before per-server latency: X-Served-By share).
func (c *consumer) appShare() map[string]float64 {
	counts := map[string]uint64{}
	for n, b := range c.servers {
		if n != results.Unattributed {
			counts[n] = b.stats.requests
		}
	}
	return shares(counts)
}

// MergeServers merges the per-server figures of several attacks (the
// trials of a repeated run, or the shards of one attack): counts are
// summed and quantiles read off the merged histograms, never averaged.
// Failed requests' latency has no stored histogram and is left out.
// Attack windows are summed, as for trials run one after another;
// concurrent shards share one window, which the caller sets.
func MergeServers(sets ...[]results.ServerLatency) []results.ServerLatency {
	type acc struct {
		sum       results.Summary
		hist, svc *hdrhistogram.Histogram
	}
	byName := map[string]*acc{}
	for _, set := range sets {
		for _, sl := range set {
			a := byName[sl.Server]
			if a == nil {
				a = &acc{hist: NewHistogram(), svc: NewHistogram()}
				a.sum.StatusCodes = map[string]uint64{}
				byName[sl.Server] = a
			}
			a.sum.AddCounts(sl.Summary)
			a.sum.DurationSeconds += sl.Summary.DurationSeconds
			if h, err := DecodeHistogramString(sl.Histogram); sl.Histogram != "" && err == nil {
				a.hist.Merge(h)
			}
			if h, err := DecodeHistogramString(sl.ServiceHistogram); sl.ServiceHistogram != "" && err == nil {
				a.svc.Merge(h)
			}
		}
	}
	if len(byName) == 0 {
		return nil
	}
	names := sortedKeys(byName)
	sort.SliceStable(names, func(i, j int) bool { return !catchAll(names[i]) && catchAll(names[j]) })
	out := make([]results.ServerLatency, 0, len(names))
	for _, n := range names {
		a := byName[n]
		s := a.sum
		s.Latency = Quantiles(a.hist)
		results.FillAllRequests(&s, a.hist)
		sl := results.ServerLatency{Server: n}
		if a.hist.TotalCount() > 0 {
			sl.Histogram, _ = EncodeHistogram(a.hist)
		}
		if a.svc.TotalCount() > 0 {
			q := Quantiles(a.svc)
			s.ServiceTime = &q
			sl.ServiceHistogram, _ = EncodeHistogram(a.svc)
		}
		if s.Requests > 0 {
			s.SuccessRatio = float64(s.Success) / float64(s.Requests)
		}
		if s.DurationSeconds > 0 {
			s.Rate = float64(s.Requests) / s.DurationSeconds
			s.Throughput = float64(s.Success) / s.DurationSeconds
		}
		if len(s.ErrorKinds) == 0 {
			s.ErrorKinds = nil
		}
		sl.Summary = s
		out = append(out, sl)
	}
	return out
}
