package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"time"

	"github.com/basaltstore/basalt/bench/units"
)

// BucketsPerDecade is the resolution of latency histograms: bucket bounds
// are 10^(k/BucketsPerDecade) nanoseconds, about 26% apart.
const BucketsPerDecade = 10

var bucketRatio = math.Pow(10, 1.0/BucketsPerDecade)

// BucketBound returns the upper bound of the histogram bucket holding ns.
func BucketBound(ns int64) int64 {
	if ns <= 1 {
		return 1
	}
	// Bounds are 10^(k/BucketsPerDecade) rounded to whole nanoseconds:
	// the smallest such bound at or above ns.
	k := math.Floor(math.Log10(float64(ns)) * BucketsPerDecade)
	b := int64(math.Round(math.Pow(10, k/BucketsPerDecade)))
	for b < ns {
		k++
		b = int64(math.Round(math.Pow(10, k/BucketsPerDecade)))
	}
	return b
}

// WriteHTML writes r as one self-contained HTML page: the settings, the
// figures and the charts, with no reference to anything outside the file.
func WriteHTML(w io.Writer, r *Report) error {
	var charts []template.HTML
	add := func(svg string) {
		if svg != "" {
			charts = append(charts, template.HTML(svg)) // built by this package, text escaped
		}
	}
	add(timelineChart(r, "Throughput per second (MiB/s)", "MiB/s", func(s Second) float64 {
		return perSecond(s.Bytes, s.Ns) / units.MiB
	}))
	add(timelineChart(r, "Operations per second (errors marked)", "ops/s", func(s Second) float64 {
		return perSecond(s.Ops, s.Ns)
	}))
	add(histogramChart(r.Ops))
	add(cdfChart(r.Ops))
	if len(r.Ops) > 1 {
		add(barChart(r.Ops, "Throughput by operation (MiB/s)", func(s Summary) float64 { return s.MiBPerSec }))
		add(barChart(r.Ops, "Operations per second by operation", func(s Summary) float64 { return s.OpsPerSec }))
	}

	rows := append([]Summary(nil), r.Ops...)
	if r.Total != nil && len(r.Ops) > 1 {
		t := *r.Total
		t.Op = "total"
		rows = append(rows, t)
	}
	data := struct {
		R      *Report
		Title  string
		Window string
		Rows   []Summary
		Charts []template.HTML
	}{r, r.Tool + " " + r.Kind + " " + r.Workload, windowLine(r), rows, charts}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"dur":  units.FormatDuration,
	"rate": units.FormatRate,
	"time": func(t time.Time) string { return t.Format(time.RFC3339) },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}{{if .R.Label}} [{{.R.Label}}]{{end}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #111; max-width: 920px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
table { border-collapse: collapse; }
th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.meta td { text-align: left; }
.warn { color: #b91c1c; font-weight: 600; }
svg.chart { display: block; margin: 12px 0; }
</style>
</head>
<body>
<h1>{{.Title}}{{if .R.Label}} [{{.R.Label}}]{{end}}</h1>
<div>{{if .R.Target}}{{.R.Target}} · {{end}}started {{time .R.Started}} · {{.R.Host.Hostname}} ({{.R.Host.OS}}/{{.R.Host.Arch}}, {{.R.Host.CPUs}} CPUs, {{.R.Host.GoVersion}})</div>
<div>{{.Window}}</div>
{{if .R.Interrupted}}<p class="warn">Interrupted: the figures cover the run until it was stopped.</p>{{end}}
<h2>Settings</h2>
<table class="meta">{{range .R.Settings}}<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>{{end}}</table>
<h2>Figures</h2>
<table>
<tr><th>op</th><th>ops</th><th>errors</th><th>ops/s</th><th>MiB/s</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>
{{range .Rows}}<tr><td>{{.Op}}</td><td>{{.Ops}}</td><td>{{.Errors}}</td><td>{{rate .OpsPerSec}}</td><td>{{rate .MiBPerSec}}</td>{{with .Latency}}<td>{{dur .MeanNs}}</td><td>{{dur .P50Ns}}</td><td>{{dur .P90Ns}}</td><td>{{dur .P99Ns}}</td><td>{{dur .P999Ns}}</td><td>{{dur .MaxNs}}</td>{{end}}</tr>
{{end}}</table>
{{range .R.Ops}}{{if .TTFB}}<p>Time to first byte ({{.Op}}): {{with .TTFB}}p50 {{dur .P50Ns}}, p90 {{dur .P90Ns}}, p99 {{dur .P99Ns}}, p99.9 {{dur .P999Ns}}, max {{dur .MaxNs}}{{end}}</p>{{end}}{{end}}
{{range .R.Ops}}{{if .ItemsPerSec}}<p>Listed entries ({{.Op}}): {{.Items}}, {{rate .ItemsPerSec}} per second</p>{{end}}{{end}}
{{$errs := false}}{{range .R.Ops}}{{if .ErrorKinds}}{{$errs = true}}{{end}}{{end}}
{{if $errs}}<h2>Errors</h2>
<table><tr><th>op</th><th>count</th><th>kind</th><th>example</th></tr>
{{range .R.Ops}}{{$op := .Op}}{{range .ErrorKinds}}<tr><td>{{$op}}</td><td>{{.Count}}</td><td style="text-align:left">{{.Kind}}</td><td style="text-align:left">{{.Example}}</td></tr>{{end}}{{end}}
</table>{{end}}
{{if .R.Warmup.ErrorKinds}}<p>Errors during warm-up (not in the figures): {{range .R.Warmup.ErrorKinds}}{{.Kind}} × {{.Count}}; {{end}}</p>{{end}}
{{range .R.Notes}}<p>Note: {{.}}</p>{{end}}
<h2>Charts</h2>
{{range .Charts}}{{.}}
{{end}}
</body>
</html>
`))
