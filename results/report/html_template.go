package report

// reportHTML is the page of WriteHTML: one file, no script, no external
// resource.
const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--good:#15803d;--bad:#b91c1c;--warn:#b45309}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#0f172a;color:#f8fafc;padding:20px 32px}
header h1{margin:0 0 6px;font-size:22px;font-weight:600}
header .meta{display:flex;flex-wrap:wrap;gap:6px 18px;color:#cbd5e1;font-size:13px}
header .meta b{color:#f8fafc;font-weight:500}
main{max-width:1240px;margin:0 auto;padding:20px 32px 48px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin-bottom:18px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.kpi .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.kpi .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.kpi .s{color:var(--muted);font-size:12px}
.kpi.good .v{color:var(--good)} .kpi.bad .v{color:var(--bad)}
.warn{background:#fffbeb;border:1px solid #fcd34d;color:#78350f;border-radius:10px;padding:10px 14px;margin-bottom:12px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card.wide{grid-column:1/-1}
.card h2{font-size:15px;margin:0;font-weight:600}
.card .sub{color:var(--muted);font-size:12px;margin:2px 0 8px}
svg.chart{width:100%;height:auto;display:block}
svg .grid line{stroke:#e8edf3}
svg .axis line{stroke:#94a3b8}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#475569}
svg text.label{font-size:12px;fill:#334155}
svg text.empty{font-size:13px;fill:#94a3b8}
svg text.value{font-size:12px;fill:#0f172a}
svg text.note{font-size:11px;fill:#64748b}
svg .legend text{font-size:12px;fill:#334155}
svg .marker line{stroke-width:1.4;stroke-dasharray:4 3}
svg .marker text{font-size:11px;font-weight:600}
svg line.ref{stroke:#0f172a;stroke-width:2}
h3{font-size:15px;margin:26px 0 8px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f1f5f9;font-weight:600;font-size:12px;color:#334155}
td.n,th.n{text-align:right}
tr:last-child td{border-bottom:none}
.pass{color:var(--good);font-weight:600}.fail{color:var(--bad);font-weight:600}
.tables{display:grid;grid-template-columns:1fr 1fr;gap:16px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
footer{color:var(--muted);font-size:12px;margin-top:28px}
@media (max-width:900px){.grid,.tables{grid-template-columns:1fr}}
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<div class="meta">{{range .Meta}}{{if .V}}<span>{{.K}} <b>{{.V}}</b></span>{{end}}{{end}}</div>
</header>
<main>
<section class="kpis">{{range .KPIs}}
<div class="kpi {{.Class}}"><div class="l">{{.Label}}</div><div class="v">{{.Value}}</div><div class="s">{{.Sub}}</div></div>{{end}}
</section>
{{range .Warnings}}<div class="warn">⚠ {{.}}</div>
{{end}}
{{with .R.SLO}}<h3>SLO verdict: {{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{end}}</h3>
<table><tr><th>check</th><th>threshold</th><th>observed</th><th>result</th></tr>
{{range .Checks}}<tr><td>{{.Name}}</td><td>{{.Threshold}}</td><td>{{.Observed}}</td><td>{{if .Pass}}<span class="pass">pass</span>{{else}}<span class="fail">fail</span>{{end}}</td></tr>
{{end}}</table>
{{end}}
<h3>Charts</h3>
<section class="grid">{{range .Charts}}
<div class="card{{if .Wide}} wide{{end}}" id="{{.ID}}"><h2>{{.Title}}</h2><div class="sub">{{.Sub}}</div>{{.SVG}}</div>{{end}}
</section>

<section class="tables">
<div><h3>Latency</h3>
<table><tr><th></th>{{range .Quant}}<th class="n">{{.K}}</th>{{end}}</tr><tr><td>{{.QuantName}}</td>{{range .Quant}}<td class="n">{{.V}}</td>{{end}}</tr>{{range .MoreQuant}}<tr><td>{{.K}}</td>{{range .V}}<td class="n">{{.}}</td>{{end}}</tr>{{end}}</table>
<div class="sub">{{.LatencyNote}}</div></div>
<div><h3>Status codes and errors</h3>
<table><tr><th>code</th><th class="n">count</th></tr>{{range .Codes}}<tr><td>{{.K}}</td><td class="n">{{.V}}</td></tr>{{else}}<tr><td colspan="2">none</td></tr>{{end}}</table></div>
</section>

{{with .R.Trials}}{{if gt (len .) 1}}<h3>Trials</h3>
<table><tr><th>#</th><th class="n">requests</th><th class="n">throughput</th><th class="n">success</th><th class="n">p50</th><th class="n">p99</th><th class="n">max</th></tr>
{{range .}}<tr><td>{{.Index}}</td><td class="n">{{.Summary.Requests}}</td><td class="n">{{f1 .Summary.Throughput}}/s</td><td class="n">{{pct .Summary.SuccessRatio}}</td><td class="n">{{secs .Summary.Latency.P50}}</td><td class="n">{{secs .Summary.Latency.P99}}</td><td class="n">{{secs .Summary.Latency.Max}}</td></tr>
{{end}}</table>{{end}}{{end}}

{{with .R.Targets}}<h3>Targets</h3>
<table><tr><th>target</th><th class="n">requests</th><th class="n">success</th><th class="n">p50</th><th class="n">p99</th><th class="n">max</th></tr>
{{range .}}<tr><td>{{.Name}}</td><td class="n">{{.Summary.Requests}}</td><td class="n">{{pct .Summary.SuccessRatio}}</td><td class="n">{{secs .Summary.Latency.P50}}</td><td class="n">{{secs .Summary.Latency.P99}}</td><td class="n">{{secs .Summary.Latency.Max}}</td></tr>
{{end}}</table>{{end}}

{{with .Servers}}<h3>Servers (client side)</h3>
<table><tr><th>server</th><th class="n">requests</th><th class="n">share</th><th class="n">success</th><th class="n">p50</th><th class="n">p99</th><th class="n">p99.9</th><th class="n">max</th><th class="n">service p50</th></tr>
{{range .}}<tr><td>{{.Server}}</td><td class="n">{{.Requests}}</td><td class="n">{{.Share}}</td><td class="n">{{.Success}}</td><td class="n">{{.P50}}</td><td class="n">{{.P99}}</td><td class="n">{{.P999}}</td><td class="n">{{.Max}}</td><td class="n">{{.ServiceP50}}</td></tr>
{{end}}</table>
<div class="sub">By X-Served-By: HAProxy's server name (a cache hit: &lt;CACHE&gt;); responses that name no server (transport errors, HAProxy's own errors) are unattributed. Latency of successes, timed as the run's.</div>{{end}}

{{with .R.Agents}}<h3>Load agents</h3>
<p>The run's figures are the exact merge of these agents' histograms and counts; each agent's own p99 is shown for comparison only.</p>
<table><tr><th>agent</th><th>status</th><th class="n">requests</th><th class="n">planned</th><th class="n">target rate</th><th class="n">achieved rate</th><th class="n">max lag</th><th>saturated</th><th class="n">clock offset</th><th class="n">p99 (own)</th><th class="n">cores</th><th class="n">req per CPU-s</th></tr>
{{range .}}<tr><td>{{.Index}}</td><td>{{.Status}}{{with .Error}}: {{.}}{{end}}</td><td class="n">{{.Requests}}</td><td class="n">{{.PlannedRequests}}</td><td class="n">{{f1 .TargetRate}}</td><td class="n">{{f1 .AchievedRate}}</td><td class="n">{{secs .MaxScheduleLagSeconds}}</td><td>{{.GeneratorSaturated}}</td><td class="n">{{secs .ClockOffsetSeconds}}</td><td class="n">{{secs .LatencyP99}}</td><td class="n">{{agentCores .}}</td><td class="n">{{agentPerCPU .}}</td></tr>
{{end}}</table>

{{end}}{{with .R.Replication}}<h3>Replication</h3>
{{template "replication" .}}{{end}}{{with .R.ReplicationIdle}}<h3>{{idleTitle}}</h3>
{{template "replication" .}}{{end}}

{{if .R.Backends}}<h3>Backends</h3>
<table><tr><th>backend/server</th><th class="n">requests</th><th class="n">share</th><th class="n">expected</th><th class="n">down</th><th>responses</th></tr>
{{range .R.Backends}}<tr><td>{{.Backend}}/{{.Server}}</td><td class="n">{{.Requests}}</td><td class="n">{{pct .ShareRatio}}</td><td class="n">{{expected $.R .}}</td><td class="n">{{secs .DownSeconds}}</td><td>{{range $k, $v := .Responses}}{{$k}}:{{$v}} {{end}}</td></tr>
{{end}}</table>{{end}}

{{if or .R.Caches .R.Keyspace}}<h3>Caches</h3>
<table><tr><th>where</th><th class="n">hits</th><th class="n">lookups</th><th class="n">hit ratio</th></tr>
{{range .R.Caches}}<tr><td>haproxy {{.Backend}}</td><td class="n">{{.Hits}}</td><td class="n">{{.Lookups}}</td><td class="n">{{pct .HitRatio}}</td></tr>
{{end}}{{range .R.Keyspace}}<tr><td>redis {{.Node}}</td><td class="n">{{.Hits}}</td><td class="n">{{.Misses}} misses</td><td class="n">{{pct .HitRatio}}</td></tr>
{{end}}</table>{{end}}

{{with .R.Events}}<h3>Events</h3>
<table><tr><th class="n">at</th><th>kind</th><th>what</th></tr>
{{range .}}<tr><td class="n">{{f1 .AtSeconds}} s</td><td>{{.Kind}}</td><td>{{evtext .}}</td></tr>
{{end}}</table>{{end}}

{{with .R.Capacity}}<h3>Capacity steps</h3>
<table><tr><th class="n">rate</th><th>outcome</th><th>trials</th><th class="n">achieved</th><th class="n">p99</th><th class="n">success</th><th class="n">repl p99</th><th class="n">gen cores</th></tr>
{{range .Steps}}<tr><td class="n">{{f1 .Rate}}</td><td>{{.Outcome}}</td><td>{{.Confirmation}}</td><td class="n">{{f1 .Summary.Rate}}</td><td class="n">{{secs .Summary.Latency.P99}}</td><td class="n">{{pct .Summary.SuccessRatio}}</td><td class="n">{{worstRepl .Replication}}</td><td class="n">{{genCores .Summary.Generator}}</td></tr>
{{end}}</table>
<div class="sub">A step whose first trial did not pass was tried again at its rate, and a third trial broke a tie: its outcome is the majority's, its figures the last trial's.</div>{{end}}

<h3>Run</h3>
<table>{{range .Run}}<tr><th>{{.K}}</th><td>{{.V}}</td></tr>
{{end}}{{range .Configs}}<tr><th>{{.K}}</th><td><code>{{.V}}</code></td></tr>
{{end}}</table>
<footer>Generated by duckbench {{.R.Duckbench}} from {{.R.ID}}/result.json.</footer>
</main>
</body>
</html>
{{define "replication"}}<table><tr><th>replica</th><th class="n">delay p50</th><th class="n">p99</th><th class="n">max</th><th class="n">offset lag max</th><th class="n">ack age max</th><th class="n">link down</th><th class="n">samples</th></tr>
{{range .}}<tr><td>{{.Replica}}</td><td class="n">{{secs .DelayP50Seconds}}</td><td class="n">{{secs .DelayP99Seconds}}</td><td class="n">{{secs .DelayMaxSeconds}}</td><td class="n">{{bytes .MaxOffsetLagBytes}}</td><td class="n">{{secs .MaxAckAgeSeconds}}</td><td class="n">{{secs .LinkDownSeconds}}</td><td class="n">{{.HeartbeatSamples}}</td></tr>
{{end}}</table>{{end}}`
