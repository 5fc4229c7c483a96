package load

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the load side of the metric contract, as a collector the
// caller registers on its own registry:
// duckbench_load_requests_total{code}, duckbench_load_request_duration_seconds,
// duckbench_load_target_rate and duckbench_load_achieved_rate.
type Metrics struct {
	requests     *prometheus.CounterVec
	duration     prometheus.Histogram
	targetRate   prometheus.Gauge
	achievedRate prometheus.Gauge
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics returns unregistered load metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "duckbench_load_requests_total",
			Help: "Requests sent by the load generator, by HTTP status code (0: no response).",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "duckbench_load_request_duration_seconds",
			Help:    "Latency of the load generator's requests, client side.",
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 17), // 250µs … 16s
		}),
		targetRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "duckbench_load_target_rate",
			Help: "Scheduled request rate over the last second (req/s; 0 for rate max).",
		}),
		achievedRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "duckbench_load_achieved_rate",
			Help: "Requests sent over the last second (req/s).",
		}),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.requests.Describe(ch)
	m.duration.Describe(ch)
	m.targetRate.Describe(ch)
	m.achievedRate.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.duration.Collect(ch)
	m.targetRate.Collect(ch)
	m.achievedRate.Collect(ch)
}

type counter = prometheus.Counter

// observe records one result; the per-code counters are cached by the
// consumer so the hot path does not hash label values.
func (m *Metrics) observe(c *consumer, code uint16, lat time.Duration) {
	ctr, ok := c.metricCodes[code]
	if !ok {
		if c.metricCodes == nil {
			c.metricCodes = map[uint16]counter{}
		}
		ctr = m.requests.WithLabelValues(strconv.Itoa(int(code)))
		c.metricCodes[code] = ctr
	}
	ctr.Inc()
	m.duration.Observe(lat.Seconds())
}
