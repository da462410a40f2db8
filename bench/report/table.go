package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/basaltstore/basalt/bench/units"
)

// WriteTable writes r as a table for people: what ran, the measured window,
// one row per operation (and a total), time to first byte where measured,
// and every error kind with its count.
func WriteTable(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	title := strings.TrimSpace(r.Tool + " " + r.Kind + " " + r.Workload)
	if r.Label != "" {
		title += "  [" + r.Label + "]"
	}
	if r.Target != "" {
		title += "  " + r.Target
	}
	ew.printf("%s\n", title)
	if len(r.Settings) > 0 {
		parts := make([]string, 0, len(r.Settings))
		for _, s := range r.Settings {
			parts = append(parts, s.Name+"="+s.Value)
		}
		ew.printf("%s\n", wrap(parts, 100))
	}
	ew.printf("%s\n", windowLine(r))
	if r.Interrupted {
		ew.printf("INTERRUPTED: figures cover the run until it was stopped")
		if r.Aborted > 0 {
			ew.printf(" (%d operations in flight were cut short and are not counted)", r.Aborted)
		}
		ew.printf("\n")
	}
	ew.printf("\n")

	rows := append([]Summary(nil), r.Ops...)
	if r.Total != nil && len(r.Ops) > 1 {
		t := *r.Total
		t.Op = "total"
		rows = append(rows, t)
	}
	items := false
	for _, s := range rows {
		if s.Items > 0 {
			items = true
		}
	}
	tw := tabwriter.NewWriter(ew, 2, 8, 2, ' ', tabwriter.AlignRight)
	head := "op\tops\terrors\tops/s\tMiB/s\t"
	if items {
		head += "items/s\t"
	}
	head += "mean\tp50\tp90\tp99\tp99.9\tmax\t"
	fmt.Fprintln(tw, head)
	for _, s := range rows {
		line := fmt.Sprintf("%s\t%d\t%d\t%s\t%s\t", s.Op, s.Ops, s.Errors, units.FormatRate(s.OpsPerSec), units.FormatRate(s.MiBPerSec))
		if items {
			line += units.FormatRate(s.ItemsPerSec) + "\t"
		}
		line += latencyCells(s.Latency)
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	var ttfb []Summary
	for _, s := range r.Ops {
		if s.TTFB != nil {
			ttfb = append(ttfb, s)
		}
	}
	if len(ttfb) > 0 {
		ew.printf("\ntime to first byte\n")
		tw := tabwriter.NewWriter(ew, 2, 8, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "op\tcount\t\t\t\tmean\tp50\tp90\tp99\tp99.9\tmax\t")
		for _, s := range ttfb {
			fmt.Fprintf(tw, "%s\t%d\t\t\t\t%s\n", s.Op, s.TTFB.Count, latencyCells(*s.TTFB))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	var errLines []string
	for _, s := range r.Ops {
		for _, k := range s.ErrorKinds {
			errLines = append(errLines, fmt.Sprintf("  %-10s %8d  %s%s", s.Op, k.Count, k.Kind, example(k)))
		}
	}
	if len(errLines) > 0 {
		ew.printf("\nerrors (measured)\n%s\n", strings.Join(errLines, "\n"))
	}
	if r.Warmup.Errors > 0 {
		ew.printf("\nerrors during warm-up (not in the figures)\n")
		for _, k := range r.Warmup.ErrorKinds {
			ew.printf("  %8d  %s%s\n", k.Count, k.Kind, example(k))
		}
	}
	if len(r.Notes) > 0 {
		ew.printf("\n")
		for _, n := range r.Notes {
			ew.printf("note: %s\n", n)
		}
	}
	return ew.err
}

func latencyCells(l Latency) string {
	if l.Count == 0 {
		return "-\t-\t-\t-\t-\t-\t"
	}
	f := units.FormatDuration
	return f(l.MeanNs) + "\t" + f(l.P50Ns) + "\t" + f(l.P90Ns) + "\t" + f(l.P99Ns) + "\t" + f(l.P999Ns) + "\t" + f(l.MaxNs) + "\t"
}

func example(k ErrorKind) string {
	if k.Example == "" || k.Example == k.Kind {
		return ""
	}
	ex := k.Example
	if len(ex) > 120 {
		ex = ex[:117] + "..."
	}
	return "  (" + ex + ")"
}

func windowLine(r *Report) string {
	s := "measured " + units.Seconds(r.Window.Duration())
	switch {
	case r.Warmup.Ops == 0:
		s += ", no warm-up"
	case r.Warmup.Ns > 0:
		s += fmt.Sprintf(" after a warm-up of %s (%d operations, %d errors, not in the figures)",
			units.Seconds(time.Duration(r.Warmup.Ns)), r.Warmup.Ops, r.Warmup.Errors)
	default:
		s += fmt.Sprintf("; warm-up: %d operations, %d errors, not in the figures", r.Warmup.Ops, r.Warmup.Errors)
	}
	return s
}

// wrap joins words with spaces into lines of at most width characters.
func wrap(words []string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range words {
		if i > 0 {
			if n+1+len(w) > width {
				b.WriteString("\n")
				n = 0
			} else {
				b.WriteString(" ")
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("report: %w", err)
	}
	return n, e.err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
