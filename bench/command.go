package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/basaltstore/basalt/bench/ecbench"
	"github.com/basaltstore/basalt/bench/report"
	"github.com/basaltstore/basalt/bench/s3bench"
	"github.com/basaltstore/basalt/bench/units"
)

// ErrUsage is matched (errors.Is) by errors in the command line or in the
// configuration it gives: they are found before anything is measured.
var ErrUsage = errors.New("bench: bad usage")

// usageError reads as its cause and matches ErrUsage.
type usageError struct{ err error }

func (e usageError) Error() string        { return e.err.Error() }
func (e usageError) Unwrap() error        { return e.err }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// Command returns the "bench" command with its subcommands. Credentials
// not given as flags are read from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, then BASALT_ROOT_USER and BASALT_ROOT_PASSWORD.
func Command() *cobra.Command { return newCommand(os.LookupEnv) }

func newCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	root := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark an S3 endpoint, compare runs, or measure erasure coding on this machine",
		Long: `Benchmark an S3 endpoint (Basalt or any other), compare two runs, or
measure erasure-code throughput on this machine.

  basalt bench s3 put --endpoint 127.0.0.1:8080 --size 1MiB --duration 30s --json put.json
  basalt bench compare minio.json basalt.json
  basalt bench summary put.json get.json
  basalt bench ec --layouts 4+2,8+4 --shard-sizes 64KiB,1MiB

Every run prints a live progress line on stderr, then a table on stdout;
--json writes every figure, --html a self-contained page with charts.
Ctrl-C stops a run, prints what was measured so far, and cleans up if
--cleanup was given.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	s3 := &cobra.Command{
		Use:   "s3",
		Short: "Run a workload against an S3 endpoint",
		Long: `Run a workload against an S3 endpoint: put, get, delete, list, stat,
multipart or mixed. Before anything is written the endpoint, the keys and
the bucket are checked; the bucket is created if absent (unless
--no-create). Objects go under a prefix unique to the run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, w := range s3bench.Workloads() {
		s3.AddCommand(newS3Command(w, lookupEnv))
	}
	root.AddCommand(s3, newCompareCommand(), newSummaryCommand(), newShowCommand(), newECCommand())
	return root
}

var workloadHelp = map[s3bench.Workload]string{
	s3bench.Put:       "PUT new objects of --size",
	s3bench.Get:       "GET random objects among --objects prepared ones, with time to first byte",
	s3bench.Delete:    "DELETE --objects prepared objects; the run ends early when all are gone",
	s3bench.List:      "LIST --objects prepared objects in pages of --list-page keys (one page per operation)",
	s3bench.Stat:      "HEAD random objects among --objects prepared ones",
	s3bench.Multipart: "upload objects of --size in parts of --part-size (one whole upload per operation)",
	s3bench.Mixed:     "a mix of get, stat, put, delete and list on a shared set of objects (--mix)",
}

// outputs are the flags shared by every run.
type outputs struct {
	json, html string
	quiet      bool
}

func (o *outputs) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.json, "json", "", "write every figure as JSON to this file (- for stdout, which then moves the table to stderr)")
	f.StringVar(&o.html, "html", "", "write a self-contained HTML report with charts to this file")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress lines on stderr")
}

func (o *outputs) progress(cmd *cobra.Command) io.Writer {
	if o.quiet {
		return io.Discard
	}
	return cmd.ErrOrStderr()
}

// emit prints the table and writes the files of a report, even a partial
// one, and returns runErr (or the first output error).
func (o *outputs) emit(cmd *cobra.Command, rep *report.Report, runErr error) error {
	if rep == nil {
		return runErr
	}
	table := cmd.OutOrStdout()
	if o.json == "-" {
		table = cmd.ErrOrStderr()
		if err := report.WriteJSON(cmd.OutOrStdout(), rep); err != nil {
			return errors.Join(runErr, err)
		}
	}
	var errs []error
	if err := report.WriteTable(table, rep); err != nil {
		errs = append(errs, err)
	}
	if o.json != "" && o.json != "-" {
		if err := report.WriteFile(o.json, rep, report.WriteJSON); err != nil {
			errs = append(errs, err)
		} else if !o.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", o.json)
		}
	}
	if o.html != "" {
		if err := report.WriteFile(o.html, rep, report.WriteHTML); err != nil {
			errs = append(errs, err)
		} else if !o.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", o.html)
		}
	}
	return errors.Join(append([]error{runErr}, errs...)...)
}

func newS3Command(w s3bench.Workload, lookupEnv func(string) (string, bool)) *cobra.Command {
	cfg := s3bench.DefaultConfig(w)
	var out outputs
	var size, partSize, warmup, mix string
	cmd := &cobra.Command{
		Use:   string(w),
		Short: workloadHelp[w],
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := cfg
			var err error
			if c.Size, err = units.ParseRange(size); err != nil {
				return usage(fmt.Errorf("--size: %w", err))
			}
			if w == s3bench.Multipart {
				if c.PartSize, err = units.ParseSize(partSize); err != nil {
					return usage(fmt.Errorf("--part-size: %w", err))
				}
			}
			if c.Warmup, err = s3bench.ParseWarmup(warmup); err != nil {
				return usage(err)
			}
			if w == s3bench.Mixed {
				if c.Mix, err = s3bench.ParseMix(mix); err != nil {
					return usage(err)
				}
			}
			if c.AccessKey == "" {
				c.AccessKey = firstEnv(lookupEnv, "AWS_ACCESS_KEY_ID", "BASALT_ROOT_USER")
			}
			if c.SecretKey == "" {
				c.SecretKey = firstEnv(lookupEnv, "AWS_SECRET_ACCESS_KEY", "BASALT_ROOT_PASSWORD")
			}
			if err := c.Validate(); err != nil {
				return usage(err)
			}
			if err := checkOutputs(out); err != nil {
				return usage(err)
			}
			rep, err := s3bench.Run(contextOf(cmd), c, out.progress(cmd))
			if errors.Is(err, s3bench.ErrConfig) {
				err = usage(err)
			}
			return out.emit(cmd, rep, err)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&cfg.Endpoint, "endpoint", cfg.Endpoint, "S3 endpoint: host:port, or http://host:port, https://host:port")
	f.StringVar(&cfg.AccessKey, "access-key", "", "access key (default: $AWS_ACCESS_KEY_ID, else $BASALT_ROOT_USER)")
	f.StringVar(&cfg.SecretKey, "secret-key", "", "secret key (default: $AWS_SECRET_ACCESS_KEY, else $BASALT_ROOT_PASSWORD)")
	f.StringVar(&cfg.Region, "region", cfg.Region, "region to sign requests for")
	f.StringVar(&cfg.Lookup, "lookup", cfg.Lookup, "bucket addressing: path, virtual (bucket.host) or auto")
	f.BoolVar(&cfg.TLS, "tls", cfg.TLS, "use HTTPS (implied by an https:// endpoint)")
	f.BoolVar(&cfg.Insecure, "insecure", cfg.Insecure, "with TLS, accept a certificate that cannot be verified")
	f.StringVar(&cfg.Bucket, "bucket", cfg.Bucket, "bucket to work in; created if absent unless --no-create")
	f.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "key prefix put before the run's own unique prefix")
	f.BoolVar(&cfg.NoCreate, "no-create", cfg.NoCreate, "fail if the bucket does not exist instead of creating it")
	f.BoolVar(&cfg.Cleanup, "cleanup", cfg.Cleanup, "remove the run's objects afterwards (and the bucket if the run created it), also after Ctrl-C")
	f.IntVarP(&cfg.Concurrency, "concurrency", "c", cfg.Concurrency, "operations in flight at once")
	f.StringVar(&size, "size", cfg.Size.String(), `object size: fixed ("4KiB", "1MiB") or a range drawn log-uniformly ("1KiB-1MiB")`)
	if w == s3bench.Multipart {
		f.StringVar(&partSize, "part-size", units.FormatSize(cfg.PartSize), "part size of multipart uploads (5MiB to 5GiB)")
	}
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time, after the warm-up")
	f.Int64Var(&cfg.Ops, "ops", cfg.Ops, "run this many measured operations instead of a duration")
	if w != s3bench.Put && w != s3bench.Multipart {
		f.IntVar(&cfg.Objects, "objects", cfg.Objects, "objects to prepare before measuring (0: 200 for get/stat/mixed, 2000 for list, --ops or 10000 for delete)")
	}
	f.StringVar(&warmup, "warmup", cfg.Warmup.String(), `left out of the figures: a duration ("2s"), a count ("50"), a percentage ("5%"), 0, or auto (2s, or 5% of --ops)`)
	if w == s3bench.Mixed {
		f.StringVar(&mix, "mix", cfg.Mix.String(), "share of each operation in percent, summing to 100 (get, stat, put, delete, list)")
	}
	if w == s3bench.List || w == s3bench.Mixed {
		f.IntVar(&cfg.ListPage, "list-page", cfg.ListPage, "keys asked for per list request (1 to 1000)")
	}
	f.BoolVar(&cfg.DisableSHA256, "disable-sha256", cfg.DisableSHA256, "over plain HTTP, send payloads unsigned instead of signing them in chunks")
	f.DurationVar(&cfg.OpTimeout, "op-timeout", cfg.OpTimeout, "longest one operation may take; slower ones count as timeout errors")
	f.DurationVar(&cfg.PreflightTimeout, "preflight-timeout", cfg.PreflightTimeout, "how long the checks before the run may take")
	f.StringVar(&cfg.Label, "label", cfg.Label, "name of the run in reports and comparisons (default: the endpoint)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the choice of operations, objects and sizes")
	out.flags(cmd)
	cmd.Example = fmt.Sprintf("  basalt bench s3 %s --endpoint 127.0.0.1:8080 --concurrency 8 --duration 30s --json %s.json --html %s.html", w, w, w)
	return cmd
}

func firstEnv(lookupEnv func(string) (string, bool), names ...string) string {
	for _, n := range names {
		if v, ok := lookupEnv(n); ok && v != "" {
			return v
		}
	}
	return ""
}

func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// checkOutputs refuses, before a run, output files that could not be
// written after it.
func checkOutputs(o outputs) error {
	for _, p := range []string{o.json, o.html} {
		if p == "" || p == "-" {
			continue
		}
		dir := filepath.Dir(p)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("bench: cannot write %s: folder %s does not exist", p, dir)
		}
	}
	if o.html == "-" {
		return errors.New("bench: --html needs a file name")
	}
	return nil
}

func newCompareCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "compare A.json B.json",
		Short: "Show two runs side by side with the ratio B/A of each figure",
		Long: `Show two runs written with --json side by side: for each operation
(matched by name) and the total, throughput, latency percentiles and
errors of A and B, the ratio B/A, and whether B is better or worse
(changes under 5% count as the same). Differences between the runs'
settings are listed first.`,
		Example: "  basalt bench compare minio-put.json basalt-put.json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usage(fmt.Errorf("bench: compare takes two JSON reports, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := report.ReadFile(args[0])
			if err != nil {
				return usage(err)
			}
			b, err := report.ReadFile(args[1])
			if err != nil {
				return usage(err)
			}
			c := report.Compare(a, b)
			if c.LabelA == "A" && c.LabelB == "B" {
				c.LabelA, c.LabelB = name(args[0]), name(args[1])
				if c.LabelA == c.LabelB {
					c.LabelA, c.LabelB = args[0], args[1]
				}
			}
			return report.WriteComparison(cmd.OutOrStdout(), c)
		},
	}
}

func newSummaryCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "summary FILE.json...",
		Short:   "Print one line per run (MiB/s, ops/s, p50, p99, errors) for JSON reports",
		Example: "  basalt bench summary put-1MiB.json get-1MiB.json mixed.json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usage(errors.New("bench: summary takes one or more JSON reports"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rows := make([]report.SummaryRow, 0, len(args))
			for _, p := range args {
				r, err := report.ReadFile(p)
				if err != nil {
					return usage(err)
				}
				rows = append(rows, report.SummaryRow{Name: name(p), Report: r})
			}
			return report.WriteSummary(cmd.OutOrStdout(), rows)
		},
	}
}

func newShowCommand() *cobra.Command {
	var htmlPath string
	cmd := &cobra.Command{
		Use:     "show FILE.json",
		Short:   "Print the table of a JSON report again, and optionally write its HTML page",
		Example: "  basalt bench show put.json --html put.html",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usage(errors.New("bench: show takes one JSON report"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := report.ReadFile(args[0])
			if err != nil {
				return usage(err)
			}
			if err := checkOutputs(outputs{html: htmlPath}); err != nil {
				return usage(err)
			}
			if err := report.WriteTable(cmd.OutOrStdout(), r); err != nil {
				return err
			}
			if htmlPath != "" {
				return report.WriteFile(htmlPath, r, report.WriteHTML)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&htmlPath, "html", "", "write the self-contained HTML report to this file")
	return cmd
}

func name(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

func newECCommand() *cobra.Command {
	cfg := ecbench.DefaultConfig()
	var out outputs
	layouts, sizes := "2+2,4+2,8+4", "64KiB,1MiB"
	cmd := &cobra.Command{
		Use:   "ec",
		Short: "Measure erasure-code throughput on this machine, beside a plain memory copy",
		Long: `Measure erasure-code throughput on this machine's CPU with
github.com/klauspost/reedsolomon: for each layout k+m and shard size, the
time to encode a stripe, to reconstruct its data after losing m shards,
and to copy the same data bytes in memory. Throughput counts data bytes
(k x shard size).`,
		Example: "  basalt bench ec --layouts 4+2,8+4 --shard-sizes 64KiB,1MiB --duration 2s --html ec.html",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := cfg
			var err error
			if c.Layouts, err = ecbench.ParseLayouts(layouts); err != nil {
				return usage(err)
			}
			if c.ShardSizes, err = units.ParseList(sizes); err != nil {
				return usage(fmt.Errorf("--shard-sizes: %w", err))
			}
			if err := c.Validate(); err != nil {
				return usage(err)
			}
			if err := checkOutputs(out); err != nil {
				return usage(err)
			}
			rep, err := ecbench.Run(contextOf(cmd), c, out.progress(cmd))
			return out.emit(cmd, rep, err)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&layouts, "layouts", layouts, "layouts k+m to measure, comma separated")
	f.StringVar(&sizes, "shard-sizes", sizes, "shard sizes to measure, comma separated")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "time of each case (layout, shard size, operation)")
	f.Int64Var(&cfg.Ops, "ops", cfg.Ops, "measured operations per goroutine and case, instead of a duration")
	f.IntVar(&cfg.Warmup, "warmup", cfg.Warmup, "operations per goroutine and case left out of the figures")
	f.IntVarP(&cfg.Concurrency, "concurrency", "c", cfg.Concurrency, "goroutines coding at once, each on its own stripe")
	f.IntVar(&cfg.Goroutines, "codec-goroutines", cfg.Goroutines, "goroutines the codec may use within one call (1 as Basalt's codec; 0 lets the library choose)")
	f.StringVar(&cfg.Label, "label", cfg.Label, "name of the run in reports and comparisons (default: the host name)")
	out.flags(cmd)
	return cmd
}
