package haproxyprobe

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultTimeout bounds one `show stat`.
const DefaultTimeout = 2 * time.Second

// ProbeName is the probe label value of duckbench_probe_success/duration.
const ProbeName = "haproxy"

var (
	descServerUp = prometheus.NewDesc("duckbench_haproxy_server_up",
		"1 when the server's status is UP (or no check, DRAIN, NOLB), else 0.", []string{"backend", "server"}, nil)
	descRequests = prometheus.NewDesc("duckbench_haproxy_server_requests_total",
		"Requests (sessions, stot) sent to the server.", []string{"backend", "server"}, nil)
	descShare = prometheus.NewDesc("duckbench_haproxy_server_share_ratio",
		"The server's stot over the sum of its backend's servers' stot, since HAProxy started.", []string{"backend", "server"}, nil)
	descResponses = prometheus.NewDesc("duckbench_haproxy_http_responses_total",
		"HTTP responses of the server by class (1xx…5xx, other).", []string{"backend", "server", "code"}, nil)
	descLookups = prometheus.NewDesc("duckbench_haproxy_backend_cache_lookups_total",
		"Cache lookups of the backend.", []string{"backend"}, nil)
	descHits = prometheus.NewDesc("duckbench_haproxy_backend_cache_hits_total",
		"Cache hits of the backend.", []string{"backend"}, nil)
	descHitRatio = prometheus.NewDesc("duckbench_haproxy_backend_cache_hit_ratio",
		"cache_hits / cache_lookups since HAProxy started; NaN (0/0) before the first lookup or without a cache.", []string{"backend"}, nil)
	descSuccess = prometheus.NewDesc("duckbench_probe_success",
		"1 when every source of the probe answered.", nil, prometheus.Labels{"probe": ProbeName})
	descDuration = prometheus.NewDesc("duckbench_probe_duration_seconds",
		"How long the probe's last scrape took.", nil, prometheus.Labels{"probe": ProbeName})
)

// Server is one server of a backend in a Snapshot.
type Server struct {
	Backend, Server string
	Up              bool
	Weight          uint64 // effective weight from show stat
	Requests        uint64
	// Share is Requests over the sum of the backend's servers' Requests
	// (0 when the backend has none yet).
	Share     float64
	Responses map[string]uint64
}

// Backend is one backend's cache figures in a Snapshot.
type Backend struct {
	Backend      string
	CacheLookups uint64
	CacheHits    uint64
}

// Snapshot is one `show stat`.
type Snapshot struct {
	At       time.Time
	Servers  []Server
	Backends []Backend
	Duration time.Duration
	Err      error
}

// Summarize turns `show stat` rows into per-server and per-backend figures.
func Summarize(rows []StatRow) (servers []Server, backends []Backend) {
	sum := map[string]uint64{}
	for _, r := range rows {
		if r.Type == TypeServer {
			sum[r.Proxy] += r.Sessions
		}
	}
	for _, r := range rows {
		switch r.Type {
		case TypeServer:
			s := Server{Backend: r.Proxy, Server: r.Service, Up: r.Up(), Weight: r.Weight, Requests: r.Sessions, Responses: r.Responses}
			if t := sum[r.Proxy]; t > 0 {
				s.Share = float64(r.Sessions) / float64(t)
			}
			servers = append(servers, s)
		case TypeBackend:
			backends = append(backends, Backend{Backend: r.Proxy, CacheLookups: r.CacheLookups, CacheHits: r.CacheHits})
		}
	}
	return servers, backends
}

// Collector is a prometheus.Collector running `show stat` at Collect time.
// When HAProxy does not answer, only duckbench_probe_success 0 is emitted
// (with the duration), never a failed scrape.
type Collector struct {
	client  *Client
	timeout time.Duration
}

// NewCollector returns a Collector; timeout ≤ 0 means DefaultTimeout.
func NewCollector(c *Client, timeout time.Duration) *Collector {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Collector{client: c, timeout: timeout}
}

var _ prometheus.Collector = (*Collector)(nil)

// Scrape runs `show stat` under the collector's timeout.
func (c *Collector) Scrape(ctx context.Context) *Snapshot {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s := &Snapshot{At: time.Now()}
	rows, err := c.client.ShowStat(ctx)
	s.Duration, s.Err = time.Since(s.At), err
	if err == nil {
		s.Servers, s.Backends = Summarize(rows)
	}
	return s
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descServerUp, descRequests, descShare, descResponses,
		descLookups, descHits, descHitRatio, descSuccess, descDuration} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.Scrape(context.Background())
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	for _, sv := range s.Servers {
		up := 0.0
		if sv.Up {
			up = 1
		}
		gauge(descServerUp, up, sv.Backend, sv.Server)
		counter(descRequests, sv.Requests, sv.Backend, sv.Server)
		gauge(descShare, sv.Share, sv.Backend, sv.Server)
		for _, code := range CodeClasses {
			counter(descResponses, sv.Responses[code], sv.Backend, sv.Server, code)
		}
	}
	for _, b := range s.Backends {
		counter(descLookups, b.CacheLookups, b.Backend)
		counter(descHits, b.CacheHits, b.Backend)
		hr := math.NaN() // 0/0, as PromQL would give: no lookup yet, or no cache
		if b.CacheLookups > 0 {
			hr = float64(b.CacheHits) / float64(b.CacheLookups)
		}
		gauge(descHitRatio, hr, b.Backend)
	}
	ok := 0.0
	if s.Err == nil {
		ok = 1
	}
	gauge(descSuccess, ok)
	gauge(descDuration, s.Duration.Seconds())
}
