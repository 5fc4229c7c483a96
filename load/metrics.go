package load

import (
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is the load side of the metric contract, as a collector the
// caller registers on its own registry:
// duckbench_load_requests_total{code}, duckbench_load_request_duration_seconds,
// duckbench_load_server_request_duration_seconds{server},
// duckbench_load_target_rate and duckbench_load_achieved_rate.
type Metrics struct {
	requests     *prometheus.CounterVec
	duration     prometheus.Histogram
	perServer    *prometheus.HistogramVec
	targetRate   prometheus.Gauge
	achievedRate prometheus.Gauge
}

var _ prometheus.Collector = (*Metrics)(nil)

// NativeBucketFactor bounds the growth from one native histogram bucket to
// the next (1.02 gives schema 6: 2^(1/64) ≈ 1.011).
const NativeBucketFactor = 1.02

// ClassicBuckets are the classic histogram bounds: 100µs to 60s, each 1.25
// times the previous one.
func ClassicBuckets() []float64 {
	var b []float64
	for v := 100e-6; v < 60*1.25; v *= 1.25 {
		b = append(b, math.Round(v*1e7)/1e7)
	}
	return b
}

// NewMetrics returns unregistered load metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "duckbench_load_requests_total",
			Help: "Requests sent by the load generator, by HTTP status code (0: no response).",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "duckbench_load_request_duration_seconds",
			Help: "Latency of the load generator's successful requests, client side, from each request's intended send time (rate max: from its send).",
			// Fine enough that a dashboard's quantile agrees with the
			// report's HdrHistogram: classic buckets ×1.25 apart, and a
			// native histogram (Prometheus --enable-feature=native-histograms)
			// with buckets at most 1.1 % apart.
			Buckets:                         ClassicBuckets(),
			NativeHistogramBucketFactor:     NativeBucketFactor,
			NativeHistogramMaxBucketNumber:  1000,
			NativeHistogramMinResetDuration: time.Hour,
		}),
		perServer: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                            "duckbench_load_server_request_duration_seconds",
			Help:                            "Latency of the load generator's successful requests by the server that answered (X-Served-By; \"(unattributed)\" for none), client side, timed as duckbench_load_request_duration_seconds.",
			Buckets:                         ClassicBuckets(),
			NativeHistogramBucketFactor:     NativeBucketFactor,
			NativeHistogramMaxBucketNumber:  1000,
			NativeHistogramMinResetDuration: time.Hour,
		}, []string{"server"}),
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
	m.perServer.Describe(ch)
	m.targetRate.Describe(ch)
	m.achievedRate.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.requests.Collect(ch)
	m.duration.Collect(ch)
	m.perServer.Collect(ch)
	m.targetRate.Collect(ch)
	m.achievedRate.Collect(ch)
}

type counter = prometheus.Counter

// observe records one result (the latency of successes only, as the
// report's percentiles) of server sv; the per-code counters and per-server
// histograms are cached by the consumer so the hot path does not hash label
// values.
func (m *Metrics) observe(c *consumer, code uint16, lat time.Duration, success bool, sv *serverBucket) {
	ctr, cached := c.metricCodes[code]
	if !cached {
		if c.metricCodes == nil {
			c.metricCodes = map[uint16]counter{}
		}
		ctr = m.requests.WithLabelValues(strconv.Itoa(int(code)))
		c.metricCodes[code] = ctr
	}
	ctr.Inc()
	if success {
		m.duration.Observe(lat.Seconds())
		if sv.metric == nil {
			sv.metric = m.perServer.WithLabelValues(sv.name)
		}
		sv.metric.Observe(lat.Seconds())
	}
}
