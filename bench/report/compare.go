package report

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/basaltstore/basalt/bench/units"
)

// Unit tells how a compared figure is printed and which way is better.
type Unit int

// Units of compared figures.
const (
	PerSecond Unit = iota // a rate: higher is better
	Nanos                 // a latency: lower is better
	Count                 // a count of errors: lower is better
)

// Row is one figure of one operation in both runs.
type Row struct {
	Op     string
	Figure string
	Unit   Unit
	A, B   float64
	HasA   bool
	HasB   bool
}

// Ratio is B divided by A; it is NaN when either side is missing or when
// A is zero (an infinite or undefined ratio says nothing useful).
func (r Row) Ratio() float64 {
	if !r.HasA || !r.HasB || r.A == 0 {
		return math.NaN()
	}
	return r.B / r.A
}

// Verdict says whether B is better, worse or the same as A on this row,
// counting a change of less than 5% as the same.
func (r Row) Verdict() string {
	q := r.Ratio()
	if math.IsNaN(q) {
		if r.HasA && r.HasB && r.A == 0 && r.B != 0 && r.Unit != PerSecond {
			return "worse"
		}
		return ""
	}
	if math.Abs(q-1) < 0.05 {
		return "same"
	}
	higherBetter := r.Unit == PerSecond
	if (q > 1) == higherBetter {
		return "better"
	}
	return "worse"
}

// Comparison is two runs side by side.
type Comparison struct {
	LabelA, LabelB string
	Rows           []Row
	// Warnings name the differences between the runs' workloads and
	// settings that make the comparison less than like for like.
	Warnings []string
}

// Compare puts the figures of a and b side by side, operation by operation
// (matched by name), then the totals. Labels default to the runs' labels,
// or "A" and "B" when those are empty or equal.
func Compare(a, b *Report) Comparison {
	c := Comparison{LabelA: a.Label, LabelB: b.Label}
	if c.LabelA == "" || c.LabelA == c.LabelB {
		c.LabelA, c.LabelB = "A", "B"
	}
	if a.Kind != b.Kind || a.Workload != b.Workload {
		c.Warnings = append(c.Warnings, fmt.Sprintf("different workloads: %s %s vs %s %s", a.Kind, a.Workload, b.Kind, b.Workload))
	}
	for _, s := range a.Settings {
		if v := b.Setting(s.Name); v != s.Value && s.Name != "label" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("setting %s differs: %q vs %q", s.Name, s.Value, v))
		}
	}
	for _, s := range b.Settings {
		if a.Setting(s.Name) == "" && s.Value != "" {
			c.Warnings = append(c.Warnings, fmt.Sprintf("setting %s only in %s: %q", s.Name, c.LabelB, s.Value))
		}
	}
	if a.Interrupted || b.Interrupted {
		c.Warnings = append(c.Warnings, "a run was interrupted: its figures cover only part of it")
	}

	var names []string
	seen := map[string]bool{}
	for _, rep := range []*Report{a, b} {
		for _, s := range rep.Ops {
			if !seen[s.Op] {
				seen[s.Op] = true
				names = append(names, s.Op)
			}
		}
	}
	for _, name := range names {
		sa, okA := find(a.Ops, name)
		sb, okB := find(b.Ops, name)
		c.Rows = append(c.Rows, figures(name, sa, okA, sb, okB)...)
	}
	if a.Total != nil && b.Total != nil && (len(a.Ops) > 1 || len(b.Ops) > 1) {
		c.Rows = append(c.Rows, figures("total", *a.Total, true, *b.Total, true)...)
	}
	return c
}

func find(ss []Summary, op string) (Summary, bool) {
	for _, s := range ss {
		if s.Op == op {
			return s, true
		}
	}
	return Summary{}, false
}

func figures(op string, a Summary, okA bool, b Summary, okB bool) []Row {
	row := func(fig string, u Unit, get func(Summary) float64) Row {
		r := Row{Op: op, Figure: fig, Unit: u, HasA: okA, HasB: okB}
		if okA {
			r.A = get(a)
		}
		if okB {
			r.B = get(b)
		}
		return r
	}
	rows := []Row{
		row("MiB/s", PerSecond, func(s Summary) float64 { return s.MiBPerSec }),
		row("ops/s", PerSecond, func(s Summary) float64 { return s.OpsPerSec }),
	}
	if a.Items > 0 || b.Items > 0 {
		rows = append(rows, row("items/s", PerSecond, func(s Summary) float64 { return s.ItemsPerSec }))
	}
	rows = append(rows,
		row("mean", Nanos, func(s Summary) float64 { return float64(s.Latency.MeanNs) }),
		row("p50", Nanos, func(s Summary) float64 { return float64(s.Latency.P50Ns) }),
		row("p90", Nanos, func(s Summary) float64 { return float64(s.Latency.P90Ns) }),
		row("p99", Nanos, func(s Summary) float64 { return float64(s.Latency.P99Ns) }),
		row("p99.9", Nanos, func(s Summary) float64 { return float64(s.Latency.P999Ns) }),
		row("max", Nanos, func(s Summary) float64 { return float64(s.Latency.MaxNs) }),
	)
	if a.TTFB != nil || b.TTFB != nil {
		ttfb := func(f func(Latency) int64) func(Summary) float64 {
			return func(s Summary) float64 {
				if s.TTFB == nil {
					return 0
				}
				return float64(f(*s.TTFB))
			}
		}
		rows = append(rows,
			row("ttfb p50", Nanos, ttfb(func(l Latency) int64 { return l.P50Ns })),
			row("ttfb p99", Nanos, ttfb(func(l Latency) int64 { return l.P99Ns })),
		)
	}
	rows = append(rows, row("errors", Count, func(s Summary) float64 { return float64(s.Errors) }))
	return rows
}

// WriteComparison writes c as a table: one line per figure with both
// values, the ratio B/A and whether B is better.
func WriteComparison(w io.Writer, c Comparison) error {
	ew := &errWriter{w: w}
	ew.printf("A = %s, B = %s\n", c.LabelA, c.LabelB)
	for _, warn := range c.Warnings {
		ew.printf("warning: %s\n", warn)
	}
	ew.printf("\n")
	tw := tabwriter.NewWriter(ew, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "op\tfigure\t%s\t%s\tB/A\t\t\n", c.LabelA, c.LabelB)
	last := ""
	for _, r := range c.Rows {
		op := r.Op
		if op == last {
			op = ""
		}
		last = r.Op
		ratio := "-"
		if q := r.Ratio(); !math.IsNaN(q) {
			ratio = fmt.Sprintf("%.2fx", q)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", op, r.Figure, value(r, r.A, r.HasA), value(r, r.B, r.HasB), ratio, r.Verdict())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ew.err
}

func value(r Row, v float64, ok bool) string {
	if !ok {
		return "-"
	}
	switch r.Unit {
	case Nanos:
		if v == 0 {
			return "-"
		}
		return units.FormatDuration(int64(v))
	case Count:
		return fmt.Sprintf("%.0f", v)
	default:
		return units.FormatRate(v)
	}
}
