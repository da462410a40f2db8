package report

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/basaltstore/basalt/bench/units"
)

// SummaryRow names one run in a summary table.
type SummaryRow struct {
	Name   string
	Report *Report
}

// WriteSummary writes one line per run (one per operation for runs without
// a total, such as erasure-code cases): throughput, p50, p99 and errors.
func WriteSummary(w io.Writer, rows []SummaryRow) error {
	ew := &errWriter{w: w}
	tw := tabwriter.NewWriter(ew, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tMiB/s\tops/s\tp50\tp99\terrors\t")
	line := func(name string, s Summary, interrupted bool) {
		if interrupted {
			name += " (interrupted)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t\n", name, units.FormatRate(s.MiBPerSec), units.FormatRate(s.OpsPerSec),
			units.FormatDuration(s.Latency.P50Ns), units.FormatDuration(s.Latency.P99Ns), s.Errors)
	}
	for _, r := range rows {
		switch {
		case r.Report.Total != nil:
			line(r.Name, *r.Report.Total, r.Report.Interrupted)
		default:
			for _, s := range r.Report.Ops {
				line(r.Name+" "+s.Op, s, r.Report.Interrupted)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ew.err
}
