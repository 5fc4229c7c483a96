// Package remotewrite sends a run's series to a Prometheus remote-write
// receiver while the run goes on: the families of the run's own registry
// (a client_golang Gatherer) become prompb time series — counters and
// gauges as samples, histograms as a native histogram and as the classic
// _bucket/_sum/_count series — each labelled with the run's identity. A
// receiver that is down never fails or slows the run: batches wait in a
// bounded queue, are retried with back-off, and what did not fit is dropped
// and counted.
package remotewrite

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
)

// DefaultPrefix selects the families sent: the run's own series, not the
// Go runtime and process collectors registered beside them.
const DefaultPrefix = "duckbench_"

// Convert turns gathered families into remote-write series stamped at ts,
// each with the extra labels (the run's identity; a family's own label of
// the same name wins). Only families whose name starts with prefix are kept.
// The output is sorted by label set so that a batch is deterministic.
func Convert(mfs []*dto.MetricFamily, prefix string, extra map[string]string, ts time.Time) []prompb.TimeSeries {
	ms := ts.UnixMilli()
	var out []prompb.TimeSeries
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		for _, m := range mf.GetMetric() {
			base := labelSet(name, m.GetLabel(), extra)
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out = append(out, sample(base, m.GetCounter().GetValue(), ms))
			case dto.MetricType_GAUGE:
				out = append(out, sample(base, m.GetGauge().GetValue(), ms))
			case dto.MetricType_UNTYPED:
				out = append(out, sample(base, m.GetUntyped().GetValue(), ms))
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				out = append(out, histogram(name, base, m.GetHistogram(), ms)...)
			case dto.MetricType_SUMMARY:
				out = append(out, summary(name, base, m.GetSummary(), ms)...)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return labelsKey(out[i].Labels) < labelsKey(out[j].Labels) })
	return out
}

// labelSet is __name__, the metric's labels and the extra labels, sorted
// by name as remote write requires.
func labelSet(name string, own []*dto.LabelPair, extra map[string]string) []prompb.Label {
	seen := map[string]bool{"__name__": true}
	ls := []prompb.Label{{Name: "__name__", Value: name}}
	for _, l := range own {
		ls = append(ls, prompb.Label{Name: l.GetName(), Value: l.GetValue()})
		seen[l.GetName()] = true
	}
	for k, v := range extra {
		if !seen[k] && v != "" {
			ls = append(ls, prompb.Label{Name: k, Value: v})
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// with returns ls with __name__ set to name and, when k is not empty, the
// label k=v added (in order).
func with(ls []prompb.Label, name, k, v string) []prompb.Label {
	out := make([]prompb.Label, 0, len(ls)+1)
	for _, l := range ls {
		if l.Name == "__name__" {
			l.Value = name
		}
		out = append(out, l)
	}
	if k != "" {
		out = append(out, prompb.Label{Name: k, Value: v})
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	}
	return out
}

func labelsKey(ls []prompb.Label) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Name)
		b.WriteByte(0)
		b.WriteString(l.Value)
		b.WriteByte(0)
	}
	return b.String()
}

func sample(ls []prompb.Label, v float64, ms int64) prompb.TimeSeries {
	return prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Value: v, Timestamp: ms}}}
}

// histogram is the native histogram (when the metric has one) under the
// family's name, and the classic buckets, sum and count.
func histogram(name string, base []prompb.Label, h *dto.Histogram, ms int64) []prompb.TimeSeries {
	var out []prompb.TimeSeries
	if h.Schema != nil {
		out = append(out, prompb.TimeSeries{Labels: base, Histograms: []prompb.Histogram{native(h, ms)}})
	}
	if len(h.GetBucket()) == 0 && h.Schema != nil {
		return out // a native-only histogram has no classic series
	}
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), +1) {
			continue // written below from the count
		}
		out = append(out, sample(with(base, name+"_bucket", "le", formatLe(b.GetUpperBound())), float64(b.GetCumulativeCount()), ms))
	}
	out = append(out,
		sample(with(base, name+"_bucket", "le", "+Inf"), float64(h.GetSampleCount()), ms),
		sample(with(base, name+"_sum", "", ""), h.GetSampleSum(), ms),
		sample(with(base, name+"_count", "", ""), float64(h.GetSampleCount()), ms))
	return out
}

// native maps client_golang's native histogram to the remote-write one:
// the two share the sparse layout (schema, zero bucket, spans, deltas).
func native(h *dto.Histogram, ms int64) prompb.Histogram {
	return prompb.Histogram{
		Count:          &prompb.Histogram_CountInt{CountInt: h.GetSampleCount()},
		Sum:            h.GetSampleSum(),
		Schema:         h.GetSchema(),
		ZeroThreshold:  h.GetZeroThreshold(),
		ZeroCount:      &prompb.Histogram_ZeroCountInt{ZeroCountInt: h.GetZeroCount()},
		NegativeSpans:  spans(h.GetNegativeSpan()),
		NegativeDeltas: h.GetNegativeDelta(),
		PositiveSpans:  spans(h.GetPositiveSpan()),
		PositiveDeltas: h.GetPositiveDelta(),
		ResetHint:      prompb.Histogram_UNKNOWN,
		Timestamp:      ms,
	}
}

func spans(in []*dto.BucketSpan) []prompb.BucketSpan {
	out := make([]prompb.BucketSpan, 0, len(in))
	for _, s := range in {
		out = append(out, prompb.BucketSpan{Offset: s.GetOffset(), Length: s.GetLength()})
	}
	return out
}

func summary(name string, base []prompb.Label, s *dto.Summary, ms int64) []prompb.TimeSeries {
	var out []prompb.TimeSeries
	for _, q := range s.GetQuantile() {
		out = append(out, sample(with(base, name, "quantile", strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)), q.GetValue(), ms))
	}
	return append(out,
		sample(with(base, name+"_sum", "", ""), s.GetSampleSum(), ms),
		sample(with(base, name+"_count", "", ""), float64(s.GetSampleCount()), ms))
}

// formatLe writes a bucket bound as the text exposition does.
func formatLe(v float64) string {
	if math.IsInf(v, +1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
