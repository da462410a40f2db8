package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Schema is the version of the JSON layout written by WriteJSON.
const Schema = 1

// ErrFormat is returned when a file is not a report this package can read.
var ErrFormat = errors.New("report: not a benchmark report")

// Report is the outcome of one benchmark run.
type Report struct {
	Schema   int       `json:"schema"`
	Tool     string    `json:"tool"`
	Kind     string    `json:"kind"`     // what was measured: "s3", "ec"
	Workload string    `json:"workload"` // "put", "get", "mixed", "erasure", ...
	Label    string    `json:"label"`    // names the run in comparisons
	Target   string    `json:"target,omitempty"`
	Started  time.Time `json:"started"`
	Settings []Setting `json:"settings"`
	Host     Host      `json:"host"`

	// Window is the measured part of the run: from the start of the first
	// measured operation to the end of the last, as offsets from the start
	// of the run. Every rate in the report is per second of this window.
	Window Window `json:"window"`
	// Warmup is what was excluded from the figures at the start of the run.
	Warmup Warmup `json:"warmup"`

	// Interrupted is set when the run was stopped before its end; the
	// figures then cover what was measured until then.
	Interrupted bool `json:"interrupted"`
	// Aborted counts operations cut short by the interruption: they are
	// neither successes nor errors of the store, and are in no figure.
	Aborted int64    `json:"aborted"`
	Notes   []string `json:"notes,omitempty"`

	// Total sums every operation of the run; it is nil when the operations
	// are separate experiments (erasure-code cases) rather than one load.
	Total *Summary  `json:"total,omitempty"`
	Ops   []Summary `json:"ops"`
	// Timeline has one entry per second of the run, warm-up included.
	Timeline []Second `json:"timeline,omitempty"`
}

// Setting is one configuration value, kept in the order it is shown.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Host describes the machine that ran the benchmark.
type Host struct {
	Hostname  string `json:"hostname"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
}

// Window is a span of the run, as nanosecond offsets from its start.
type Window struct {
	StartNs int64 `json:"start_ns"`
	EndNs   int64 `json:"end_ns"`
}

// Duration is the length of the window.
func (w Window) Duration() time.Duration { return time.Duration(w.EndNs - w.StartNs) }

// Warmup is the part of the run left out of the figures.
type Warmup struct {
	// Ns is the time from the start of the run to the start of the window.
	Ns         int64       `json:"ns"`
	Ops        int64       `json:"ops"`
	Errors     int64       `json:"errors"`
	ErrorKinds []ErrorKind `json:"error_kinds,omitempty"`
}

// Summary holds the figures of one kind of operation (or of all of them).
type Summary struct {
	Op string `json:"op"`
	// Ops counts successful operations, Errors failed ones; both are
	// measured ones only (warm-up excluded).
	Ops    int64 `json:"ops"`
	Errors int64 `json:"errors"`
	// Bytes is the payload moved by successful operations; Items counts
	// listed entries for list operations.
	Bytes int64 `json:"bytes"`
	Items int64 `json:"items,omitempty"`
	// WindowNs is the time the rates are taken over.
	WindowNs    int64   `json:"window_ns"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	MiBPerSec   float64 `json:"mib_per_sec"`
	ItemsPerSec float64 `json:"items_per_sec,omitempty"`
	// Latency is taken over successful operations, from the start of the
	// request to the end of the response body.
	Latency Latency `json:"latency"`
	// TTFB is the time to the first byte of the response body, for
	// operations that read one (GET).
	TTFB       *Latency    `json:"ttfb,omitempty"`
	ErrorKinds []ErrorKind `json:"error_kinds,omitempty"`
	Histogram  []Bucket    `json:"histogram,omitempty"`
	CDF        []Quantile  `json:"cdf,omitempty"`
}

// Latency is a distribution of durations, in nanoseconds. Percentiles are
// nearest-rank: the smallest sample with at least p% of samples at or below.
type Latency struct {
	Count  int64 `json:"count"`
	MinNs  int64 `json:"min_ns"`
	MeanNs int64 `json:"mean_ns"`
	P50Ns  int64 `json:"p50_ns"`
	P90Ns  int64 `json:"p90_ns"`
	P99Ns  int64 `json:"p99_ns"`
	P999Ns int64 `json:"p999_ns"`
	MaxNs  int64 `json:"max_ns"`
}

// ErrorKind counts the errors of one kind ("500 InternalError", "timeout",
// "connection refused") with the first message seen.
type ErrorKind struct {
	Kind    string `json:"kind"`
	Count   int64  `json:"count"`
	Example string `json:"example,omitempty"`
}

// Bucket is one bar of a latency histogram: the samples above the previous
// bucket's bound and at most LeNs.
type Bucket struct {
	LeNs  int64 `json:"le_ns"`
	Count int64 `json:"count"`
}

// Quantile is one point of a latency CDF: P percent of samples took at
// most Ns.
type Quantile struct {
	P  float64 `json:"p"`
	Ns int64   `json:"ns"`
}

// Second is one second of the run, by operation end time.
type Second struct {
	T      int   `json:"t"`  // seconds since the start of the run
	Ns     int64 `json:"ns"` // length covered (shorter for the last one)
	Ops    int64 `json:"ops"`
	Bytes  int64 `json:"bytes"`
	Errors int64 `json:"errors"`
	// Warmup is set for seconds that start before the measured window.
	Warmup bool `json:"warmup,omitempty"`
}

// Setting returns the value of the named setting, or "".
func (r *Report) Setting(name string) string {
	for _, s := range r.Settings {
		if s.Name == name {
			return s.Value
		}
	}
	return ""
}

// Errors is the number of measured errors of the run.
func (r *Report) Errors() int64 {
	if r.Total != nil {
		return r.Total.Errors
	}
	var n int64
	for _, s := range r.Ops {
		n += s.Errors
	}
	return n
}

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if r.Schema == 0 || r.Tool == "" {
		return nil, fmt.Errorf("%w: no schema or tool field", ErrFormat)
	}
	if r.Schema > Schema {
		return nil, fmt.Errorf("%w: schema %d is newer than this tool reads (%d)", ErrFormat, r.Schema, Schema)
	}
	return &r, nil
}

// ReadFile reads a JSON report from a file.
func ReadFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// WriteFile writes the output of write to path, replacing it only once
// the whole content is written.
func WriteFile(path string, r *Report, write func(io.Writer, *Report) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// ThisHost describes the machine the process runs on.
func ThisHost() Host {
	name, _ := os.Hostname()
	return Host{Hostname: name, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
}
