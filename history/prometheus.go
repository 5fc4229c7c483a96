package history

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// DefaultWindow is how far back FromPrometheus looks for pushed runs.
const DefaultWindow = 30 * 24 * time.Hour

// selector is m's pushed series narrowed to f's spec and labels.
func selector(series string, f Filter) string {
	name, inner, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
	var ms []string
	if inner != "" {
		ms = append(ms, inner)
	}
	if f.Spec != "" {
		ms = append(ms, "spec="+strconv.Quote(f.Spec))
	}
	if f.SpecHash != "" {
		ms = append(ms, "spec_hash=~"+strconv.Quote(regexp.QuoteMeta(f.SpecHash)+".*"))
	}
	for _, k := range sortedKeys(f.Labels) {
		ms = append(ms, k+"="+strconv.Quote(f.Labels[k]))
	}
	return name + "{" + strings.Join(ms, ",") + "}"
}

// FromPrometheus reads the series of m over the runs pushed to the
// Pushgateway that promURL's Prometheus scrapes (job "duckbench"), within
// window before now: each run's last value, ordered by the run's start.
func FromPrometheus(ctx context.Context, promURL string, m Metric, f Filter, window time.Duration, now time.Time) ([]Point, error) {
	if window <= 0 {
		window = DefaultWindow
	}
	c, err := api.NewClient(api.Config{Address: promURL})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", promURL, err)
	}
	q := v1.NewAPI(c)
	rng := model.Duration(window).String()
	values, err := lastByRun(ctx, q, fmt.Sprintf("last_over_time(%s[%s])", selector(m.Pushed, f), rng), now)
	if err != nil {
		return nil, err
	}
	starts, err := lastByRun(ctx, q, fmt.Sprintf("last_over_time(%s[%s])", selector("duckbench_run_timestamp_seconds", f), rng), now)
	if err != nil {
		return nil, err
	}
	var pts []Point
	for run, s := range values {
		p := Point{Run: run, Value: float64(s.Value), Labels: map[string]string{}}
		if st, ok := starts[run]; ok {
			p.Time = time.UnixMilli(int64(float64(st.Value) * 1000)).UTC()
		}
		for k, v := range s.Metric {
			switch k {
			case "spec":
				p.Spec = string(v)
			case "spec_hash":
				p.SpecHash = string(v)
			case "run", "runtime", "job", "instance", "quantile", model.MetricNameLabel:
			default:
				p.Labels[string(k)] = string(v)
			}
		}
		if len(p.Labels) == 0 {
			p.Labels = nil
		}
		pts = append(pts, p)
	}
	return order(pts, f.Last), nil
}

func lastByRun(ctx context.Context, q v1.API, expr string, now time.Time) (map[string]*model.Sample, error) {
	v, _, _, err := q.Query(ctx, expr, now)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", expr, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %s: got %s, want a vector", expr, v.Type())
	}
	out := map[string]*model.Sample{}
	for _, s := range vec {
		if run := string(s.Metric["run"]); run != "" {
			out[run] = s
		}
	}
	return out, nil
}
