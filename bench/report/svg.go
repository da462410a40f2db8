package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/basaltstore/basalt/bench/units"
)

// The charts are drawn by hand as SVG so that the HTML page carries them
// inline and needs nothing from the network to display.

// svgStyle is repeated in every chart so that a chart copied out of the
// page still renders the same.
const svgStyle = `<style>.title{font:600 14px sans-serif}.tick{font:11px sans-serif;fill:#333}.label{font:12px sans-serif;fill:#333}.grid{stroke:#e5e7eb}.axis{stroke:#333}.warmup{fill:#f3f4f6}</style>`

var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"}

func color(i int) string { return palette[i%len(palette)] }

const (
	chartW  = 860
	chartH  = 280
	marginL = 70
	marginR = 20
	marginT = 30
	marginB = 45
)

type plot struct {
	b              strings.Builder
	x0, x1, y0, y1 float64 // data ranges
	logX           bool
}

func newPlot(title string) *plot {
	p := &plot{}
	fmt.Fprintf(&p.b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, html.EscapeString(title))
	p.b.WriteString(svgStyle)
	fmt.Fprintf(&p.b, `<rect width="%d" height="%d" fill="#fff"/>`, chartW, chartH)
	fmt.Fprintf(&p.b, `<text x="%d" y="18" class="title">%s</text>`, marginL, html.EscapeString(title))
	return p
}

func (p *plot) px(x float64) float64 {
	w := float64(chartW - marginL - marginR)
	if p.logX {
		lx0, lx1 := math.Log10(p.x0), math.Log10(p.x1)
		if lx1 == lx0 {
			return marginL + w/2
		}
		return marginL + (math.Log10(math.Max(x, p.x0))-lx0)/(lx1-lx0)*w
	}
	if p.x1 == p.x0 {
		return marginL + w/2
	}
	return marginL + (x-p.x0)/(p.x1-p.x0)*w
}

func (p *plot) py(y float64) float64 {
	h := float64(chartH - marginT - marginB)
	if p.y1 == p.y0 {
		return float64(chartH - marginB)
	}
	return float64(chartH-marginB) - (y-p.y0)/(p.y1-p.y0)*h
}

func (p *plot) axes(xLabel, yLabel string, xTicks []float64, xFmt func(float64) string, yTicks []float64, yFmt func(float64) string) {
	bottom, right := float64(chartH-marginB), float64(chartW-marginR)
	for _, t := range yTicks {
		y := p.py(t)
		fmt.Fprintf(&p.b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, marginL, y, right, y)
		fmt.Fprintf(&p.b, `<text x="%d" y="%.1f" class="tick" text-anchor="end">%s</text>`, marginL-6, y+4, html.EscapeString(yFmt(t)))
	}
	for _, t := range xTicks {
		x := p.px(t)
		fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, x, bottom, x, float64(marginT))
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`, x, bottom+16, html.EscapeString(xFmt(t)))
	}
	fmt.Fprintf(&p.b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/>`, marginL, bottom, right, bottom)
	fmt.Fprintf(&p.b, `<line x1="%d" y1="%d" x2="%d" y2="%.1f" class="axis"/>`, marginL, marginT, marginL, bottom)
	fmt.Fprintf(&p.b, `<text x="%.1f" y="%d" class="label" text-anchor="middle">%s</text>`, (marginL+right)/2, chartH-6, html.EscapeString(xLabel))
	fmt.Fprintf(&p.b, `<text x="14" y="%.1f" class="label" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`,
		(float64(marginT)+bottom)/2, (float64(marginT)+bottom)/2, html.EscapeString(yLabel))
}

func (p *plot) polyline(xs, ys []float64, stroke string) {
	var pts strings.Builder
	for i := range xs {
		fmt.Fprintf(&pts, "%.1f,%.1f ", p.px(xs[i]), p.py(ys[i]))
	}
	fmt.Fprintf(&p.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.8"/>`, strings.TrimSpace(pts.String()), stroke)
}

func (p *plot) legend(names []string) {
	x := float64(chartW - marginR)
	for i := len(names) - 1; i >= 0; i-- {
		w := float64(len(names[i])*7 + 22)
		x -= w
		fmt.Fprintf(&p.b, `<rect x="%.1f" y="8" width="12" height="10" fill="%s"/>`, x, color(i))
		fmt.Fprintf(&p.b, `<text x="%.1f" y="17" class="tick">%s</text>`, x+16, html.EscapeString(names[i]))
	}
}

func (p *plot) done() string {
	p.b.WriteString(`</svg>`)
	return p.b.String()
}

// niceTicks returns about n round tick values from 0 to at least max.
func niceTicks(max float64, n int) []float64 {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		return []float64{0, 1}
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := 0.0; ; v += step {
		ticks = append(ticks, v)
		if v >= max {
			break
		}
	}
	return ticks
}

// logTicks returns the powers of ten (and the 2 and 5 multiples when the
// range is narrow) between lo and hi.
func logTicks(lo, hi float64) []float64 {
	var ticks []float64
	steps := []float64{1}
	if hi/lo < 1000 {
		steps = []float64{1, 2, 5}
	}
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range steps {
			v := m * math.Pow(10, e)
			if v >= lo && v <= hi {
				ticks = append(ticks, v)
			}
		}
	}
	return ticks
}

func rateFmt(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func nsFmt(v float64) string { return units.FormatDuration(int64(v)) }

// timelineChart draws one figure per second of the run, with the warm-up
// shaded.
func timelineChart(r *Report, title, yLabel string, get func(Second) float64) string {
	if len(r.Timeline) == 0 {
		return ""
	}
	p := newPlot(title)
	var xs, ys []float64
	maxY := 0.0
	for _, s := range r.Timeline {
		// A rate over the last fraction of a second says little: leave
		// short tails out of the chart (they stay in the figures).
		if s.Ns < int64(time.Second)/4 && len(r.Timeline) > 1 {
			continue
		}
		xs = append(xs, float64(s.T)+float64(s.Ns)/2e9)
		ys = append(ys, get(s))
		maxY = math.Max(maxY, ys[len(ys)-1])
	}
	last := r.Timeline[len(r.Timeline)-1]
	p.x0, p.x1 = 0, float64(last.T)+float64(last.Ns)/1e9
	yt := niceTicks(maxY, 5)
	p.y0, p.y1 = 0, yt[len(yt)-1]
	if w := float64(r.Window.StartNs) / 1e9; w > 0 && r.Warmup.Ops > 0 {
		fmt.Fprintf(&p.b, `<rect x="%d" y="%d" width="%.1f" height="%d" class="warmup"/>`, marginL, marginT, p.px(w)-marginL, chartH-marginT-marginB)
		fmt.Fprintf(&p.b, `<text x="%d" y="%d" class="tick">warm-up</text>`, marginL+4, marginT+12)
	}
	xt := niceTicks(p.x1, 10)
	p.axes("seconds since start", yLabel, xt, func(v float64) string { return fmt.Sprintf("%g", v) }, yt, rateFmt)
	p.polyline(xs, ys, color(0))
	for _, s := range r.Timeline {
		if s.Errors > 0 {
			x := float64(s.T) + float64(s.Ns)/2e9
			fmt.Fprintf(&p.b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%d errors in second %d</title></circle>`, p.px(x), p.py(0), color(1), s.Errors, s.T)
		}
	}
	return p.done()
}

func perSecond(count int64, ns int64) float64 {
	if ns <= 0 {
		return 0
	}
	return float64(count) / (float64(ns) / 1e9)
}

// histogramChart draws, for each operation, the share of its samples in
// each latency bucket, on a logarithmic latency axis.
func histogramChart(ops []Summary) string {
	lo, hi := math.Inf(1), 0.0
	maxShare := 0.0
	var names []string
	for _, s := range ops {
		if len(s.Histogram) == 0 || s.Latency.Count == 0 {
			continue
		}
		names = append(names, s.Op)
		prev := float64(s.Histogram[0].LeNs) / bucketRatio
		lo = math.Min(lo, prev)
		hi = math.Max(hi, float64(s.Histogram[len(s.Histogram)-1].LeNs))
		for _, b := range s.Histogram {
			maxShare = math.Max(maxShare, float64(b.Count)/float64(s.Latency.Count)*100)
		}
	}
	if len(names) == 0 {
		return ""
	}
	p := newPlot("Latency histogram (share of operations per bucket)")
	p.logX = true
	p.x0, p.x1 = lo, hi
	yt := niceTicks(maxShare, 5)
	p.y0, p.y1 = 0, yt[len(yt)-1]
	p.axes("latency", "% of operations", logTicks(lo, hi), nsFmt, yt, func(v float64) string { return fmt.Sprintf("%g%%", v) })
	i := 0
	for _, s := range ops {
		if len(s.Histogram) == 0 || s.Latency.Count == 0 {
			continue
		}
		if len(names) == 1 {
			// One operation: filled bars.
			for _, b := range s.Histogram {
				if b.Count == 0 {
					continue
				}
				x0, x1 := p.px(float64(b.LeNs)/bucketRatio), p.px(float64(b.LeNs))
				y := p.py(float64(b.Count) / float64(s.Latency.Count) * 100)
				fmt.Fprintf(&p.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.55"><title>%s: %d ops up to %s</title></rect>`,
					x0, y, math.Max(x1-x0-0.5, 0.5), float64(chartH-marginB)-y, color(i), html.EscapeString(s.Op), b.Count, units.FormatDuration(b.LeNs))
			}
		} else {
			// Several: one outline per operation, so that none hides another.
			var pts strings.Builder
			base := p.py(0)
			first := p.px(float64(s.Histogram[0].LeNs) / bucketRatio)
			fmt.Fprintf(&pts, "%.1f,%.1f ", first, base)
			for _, b := range s.Histogram {
				x0, x1 := p.px(float64(b.LeNs)/bucketRatio), p.px(float64(b.LeNs))
				y := p.py(float64(b.Count) / float64(s.Latency.Count) * 100)
				fmt.Fprintf(&pts, "%.1f,%.1f %.1f,%.1f ", x0, y, x1, y)
			}
			last := p.px(float64(s.Histogram[len(s.Histogram)-1].LeNs))
			fmt.Fprintf(&pts, "%.1f,%.1f", last, base)
			fmt.Fprintf(&p.b, `<polyline points="%s" fill="%s" fill-opacity="0.08" stroke="%s" stroke-width="1.8"><title>%s</title></polyline>`,
				pts.String(), color(i), color(i), html.EscapeString(s.Op))
		}
		i++
	}
	p.legend(names)
	return p.done()
}

// cdfChart draws, for each operation, the share of operations that took at
// most a given latency.
func cdfChart(ops []Summary) string {
	lo, hi := math.Inf(1), 0.0
	var names []string
	var curves [][]Quantile
	for _, s := range ops {
		q := s.CDF
		if len(q) == 0 || s.Latency.Count == 0 {
			continue
		}
		names = append(names, s.Op)
		curves = append(curves, q)
		lo = math.Min(lo, float64(q[0].Ns))
		hi = math.Max(hi, float64(q[len(q)-1].Ns))
	}
	if len(names) == 0 {
		return ""
	}
	if lo <= 0 {
		lo = 1
	}
	if hi <= lo {
		hi = lo * 10
	}
	p := newPlot("Latency distribution (CDF)")
	p.logX = true
	p.x0, p.x1 = lo, hi
	p.y0, p.y1 = 0, 100
	p.axes("latency", "% of operations at or below", logTicks(lo, hi), nsFmt, []float64{0, 25, 50, 75, 90, 100}, func(v float64) string { return fmt.Sprintf("%g%%", v) })
	for i, q := range curves {
		xs := make([]float64, len(q))
		ys := make([]float64, len(q))
		for j, pt := range q {
			xs[j] = math.Max(float64(pt.Ns), lo)
			ys[j] = pt.P
		}
		p.polyline(xs, ys, color(i))
	}
	p.legend(names)
	return p.done()
}

// barChart draws one horizontal bar per operation for a rate.
func barChart(ops []Summary, title string, get func(Summary) float64) string {
	if len(ops) == 0 {
		return ""
	}
	maxV := 0.0
	for _, s := range ops {
		maxV = math.Max(maxV, get(s))
	}
	if maxV == 0 {
		return ""
	}
	rowH := 22
	h := marginT + len(ops)*rowH + 30
	left := 200
	w := float64(chartW - left - 90)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartW, h, chartW, h, html.EscapeString(title))
	b.WriteString(svgStyle)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`, chartW, h)
	fmt.Fprintf(&b, `<text x="%d" y="18" class="title">%s</text>`, marginL, html.EscapeString(title))
	for i, s := range ops {
		y := marginT + i*rowH
		v := get(s)
		bw := v / maxV * w
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, left-8, y+14, html.EscapeString(s.Op))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, y+2, math.Max(bw, 1), rowH-6, color(i))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="tick">%s</text>`, float64(left)+bw+6, y+14, html.EscapeString(units.FormatRate(v)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
