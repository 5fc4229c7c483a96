package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
)

// HAProxy 2.6 native exporter metrics used by the HAProxy dashboard. Their
// labels are proxy, server, code ("2xx") and state.
const (
	NativeServerStatus             = "haproxy_server_status"
	NativeServerHTTPResponsesTotal = "haproxy_server_http_responses_total"
	NativeBackendCacheHitsTotal    = "haproxy_backend_http_cache_hits_total"
	NativeBackendCacheLookupsTotal = "haproxy_backend_http_cache_lookups_total"
	NativeBackendHTTPRequestsTotal = "haproxy_backend_http_requests_total"
	NativeBackendResponseTimeAvg   = "haproxy_backend_response_time_average_seconds"
	NativeProcessStartTimeSeconds  = "haproxy_process_start_time_seconds"
)

// rateBy is sum by (labels) of a counter's rate.
func rateBy(by, metric, selector string) string {
	return fmt.Sprintf(`sum by (%s) (rate(%s{%s}[%s]))`, by, metric, selector, rateWin)
}

// haproxy is the "HAProxy backends" dashboard: is traffic spread the way I
// think, does the cache hit, are servers up.
func haproxy() *dashboard.DashboardBuilder {
	d := newBoard(UIDHAProxy, "HAProxy backends",
		"HAProxy from duckbench's Runtime API probe (share per server, cache hit ratio, status, responses) and from HAProxy's own Prometheus exporter.",
		[]string{"haproxy"}).vars()
	d.b.WithVariable(labelVar(VarHAProxyJob, "HAProxy exporter job", NativeProcessStartTimeSeconds, "job"))

	d.row("Servers")
	d.stat("Server status", "Server state from show stat (1 = UP).", unitNone, fullWidth,
		[]target{q(fmt.Sprintf(`max by (backend, server) (%s{%s})`, MetricHAProxyServerUp, sel), "{{backend}}/{{server}}")},
		func(p *stat.PanelBuilder) { p.Mappings(upDownMappings()).Thresholds(thresholds("red", 1.0, "green")) })

	d.row("Traffic split")
	d.timeseries("Share ratio per server (probe)",
		"Each server's share of its backend's requests as the probe computes it.",
		unitPercent, thirdWidth, []target{
			q(fmt.Sprintf(`max by (backend, server) (%s{%s})`, MetricHAProxyServerShareRatio, sel), "{{backend}}/{{server}}"),
		}, ratioAxis)
	d.timeseries("Share ratio per server (rate window)",
		"Each server's share of its backend's request rate over the rate window.",
		unitPercent, thirdWidth, []target{
			q(rateBy("backend, server", MetricHAProxyServerRequestsTotal, sel)+" / on (backend) group_left "+
				rateBy("backend", MetricHAProxyServerRequestsTotal, sel), "{{backend}}/{{server}}"),
		}, ratioAxis)
	d.timeseries("Requests per server", "Requests per second sent to each server.", unitReqps, thirdWidth,
		[]target{q(rateBy("backend, server", MetricHAProxyServerRequestsTotal, sel), "{{backend}}/{{server}}")}, fromZero)

	d.row("Cache")
	d.timeseries("Cache hit ratio per backend",
		"HAProxy cache hits / lookups: cumulative (probe gauge) and over the rate window. Empty or NaN when the backend has no cache.",
		unitPercent, halfWidth, []target{
			q(fmt.Sprintf(`max by (backend) (%s{%s})`, MetricHAProxyCacheHitRatio, sel), "{{backend}} cumulative"),
			q(rateBy("backend", MetricHAProxyCacheHitsTotal, sel)+" / "+rateBy("backend", MetricHAProxyCacheLookupsTotal, sel), "{{backend}} window"),
		}, ratioAxis)
	d.timeseries("Cache lookups and hits", "Cache lookups and hits per second per backend.", unitOpsPerS, halfWidth,
		[]target{
			q(rateBy("backend", MetricHAProxyCacheLookupsTotal, sel), "{{backend}} lookups"),
			q(rateBy("backend", MetricHAProxyCacheHitsTotal, sel), "{{backend}} hits"),
		}, fromZero)

	d.row("Responses")
	d.timeseries("Responses by code per backend", "HTTP responses per second by status class; 4xx/5xx in red.",
		unitReqps, halfWidth, []target{
			q(rateBy("backend, code", MetricHAProxyHTTPResponsesTotal, sel), "{{backend}} {{code}}"),
		}, fromZero, redMatching(`.*[45]xx$`))
	d.timeseries("Responses by code per server", "HTTP responses per second by server and status class.",
		unitReqps, halfWidth, []target{
			q(rateBy("backend, server, code", MetricHAProxyHTTPResponsesTotal, sel), "{{backend}}/{{server}} {{code}}"),
		}, fromZero, redMatching(`.*[45]xx$`))

	d.row("HAProxy exporter (haproxy_* metrics)")
	d.stat("Server status (HAProxy exporter)", "haproxy_server_status{state=\"UP\"} per server.", unitNone, fullWidth,
		[]target{q(fmt.Sprintf(`max by (proxy, server) (%s{%s, state="UP"})`, NativeServerStatus, selHAProxy), "{{proxy}}/{{server}}")},
		func(p *stat.PanelBuilder) { p.Mappings(upDownMappings()).Thresholds(thresholds("red", 1.0, "green")) })
	d.timeseries("Cache hit ratio per backend (HAProxy exporter)",
		"haproxy_backend_http_cache_hits_total / haproxy_backend_http_cache_lookups_total over the rate window.",
		unitPercent, halfWidth, []target{
			q(rateBy("proxy", NativeBackendCacheHitsTotal, selHAProxy)+" / "+rateBy("proxy", NativeBackendCacheLookupsTotal, selHAProxy), "{{proxy}}"),
		}, ratioAxis)
	d.timeseries("Backend request rate (HAProxy exporter)", "haproxy_backend_http_requests_total per second.",
		unitReqps, halfWidth, []target{
			q(rateBy("proxy", NativeBackendHTTPRequestsTotal, selHAProxy), "{{proxy}}"),
		}, fromZero)
	d.timeseries("Server responses by code (HAProxy exporter)", "haproxy_server_http_responses_total per second; 4xx/5xx in red.",
		unitReqps, halfWidth, []target{
			q(rateBy("proxy, server, code", NativeServerHTTPResponsesTotal, selHAProxy), "{{proxy}}/{{server}} {{code}}"),
		}, fromZero, redMatching(`.*[45]xx$`))
	d.timeseries("Backend average response time (HAProxy exporter)",
		"haproxy_backend_response_time_average_seconds: HAProxy's average over the last 1024 requests.",
		unitSeconds, halfWidth, []target{
			q(fmt.Sprintf(`max by (proxy) (%s{%s})`, NativeBackendResponseTimeAvg, selHAProxy), "{{proxy}}"),
		}, fromZero)
	return d.b
}
