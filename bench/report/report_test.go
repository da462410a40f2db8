package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() *Report {
	ms := int64(time.Millisecond)
	get := Summary{
		Op: "get", Ops: 900, Errors: 10, Bytes: 900 << 20, WindowNs: 10 * int64(time.Second),
		OpsPerSec: 90, MiBPerSec: 90,
		Latency:    Latency{Count: 900, MinNs: 10 * ms, MeanNs: 12 * ms, P50Ns: 11 * ms, P90Ns: 15 * ms, P99Ns: 20 * ms, P999Ns: 30 * ms, MaxNs: 31 * ms},
		TTFB:       &Latency{Count: 900, MinNs: 1 * ms, MeanNs: 2 * ms, P50Ns: 2 * ms, P90Ns: 3 * ms, P99Ns: 4 * ms, P999Ns: 5 * ms, MaxNs: 6 * ms},
		ErrorKinds: []ErrorKind{{Kind: "500 InternalError", Count: 10, Example: "We encountered an internal error."}},
		Histogram:  []Bucket{{LeNs: BucketBound(10 * ms), Count: 400}, {LeNs: BucketBound(13 * ms), Count: 400}, {LeNs: BucketBound(32 * ms), Count: 100}},
		CDF:        []Quantile{{0, 10 * ms}, {50, 11 * ms}, {90, 15 * ms}, {99, 20 * ms}, {100, 31 * ms}},
	}
	put := get
	put.Op = "put <b>"
	put.TTFB = nil
	put.ErrorKinds = nil
	put.Errors = 0
	total := get
	total.Op = "total"
	total.TTFB = nil
	r := &Report{
		Schema: Schema, Tool: "basalt bench", Kind: "s3", Workload: "mixed", Label: "basalt",
		Target:   "http://127.0.0.1:9000",
		Started:  time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Settings: []Setting{{"concurrency", "8"}, {"size", "1MiB"}},
		Host:     Host{Hostname: "h", OS: "linux", Arch: "amd64", CPUs: 2, GoVersion: "go1.26"},
		Window:   Window{StartNs: 2e9, EndNs: 12e9},
		Warmup:   Warmup{Ns: 2e9, Ops: 50, Errors: 1, ErrorKinds: []ErrorKind{{Kind: "503 SlowDown", Count: 1}}},
		Notes:    []string{"created bucket b"},
		Total:    &total,
		Ops:      []Summary{get, put},
	}
	for i := 0; i < 12; i++ {
		r.Timeline = append(r.Timeline, Second{T: i, Ns: 1e9, Ops: 90, Bytes: 90 << 20, Errors: int64(i % 2), Warmup: i < 2})
	}
	return r
}

func TestJSONRoundTrip(t *testing.T) {
	r := sample()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, back) {
		t.Fatalf("round trip differs:\n%+v\n%+v", r, back)
	}
	// Every figure is in the file under a stable name.
	var raw map[string]any
	buf.Reset()
	_ = WriteJSON(&buf, r)
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	ops := raw["ops"].([]any)[0].(map[string]any)
	for _, k := range []string{"ops_per_sec", "mib_per_sec", "latency", "ttfb", "error_kinds", "histogram", "cdf"} {
		if _, ok := ops[k]; !ok {
			t.Errorf("JSON op summary lacks %q", k)
		}
	}
	lat := ops["latency"].(map[string]any)
	for _, k := range []string{"p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("JSON latency lacks %q", k)
		}
	}
}

func TestReadJSONRejects(t *testing.T) {
	for _, in := range []string{"", "not json", `{"ops":[]}`, `{"schema":99,"tool":"basalt bench"}`} {
		if _, err := ReadJSON(strings.NewReader(in)); !errors.Is(err, ErrFormat) {
			t.Errorf("ReadJSON(%q) err = %v, want ErrFormat", in, err)
		}
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	if err := WriteFile(path, sample(), WriteJSON); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil || back.Label != "basalt" {
		t.Fatalf("ReadFile = %v, %v", back, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("left %d files behind", len(entries))
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("reading a missing file succeeded")
	}
}

func TestTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"basalt bench s3 mixed", "[basalt]", "concurrency=8", "measured 10.0s after a warm-up of 2.0s (50 operations, 1 errors",
		"p99.9", "11.0ms", "time to first byte", "500 InternalError", "We encountered", "total", "503 SlowDown", "note: created bucket b",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"<!DOCTYPE html>", "Throughput per second (MiB/s)", "Operations per second", "Latency histogram",
		"Latency distribution (CDF)", "Throughput by operation", "<polyline", `class="warmup"`, "500 InternalError",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if n := strings.Count(out, "<svg"); n != 6 {
		t.Errorf("HTML has %d charts, want 6", n)
	}
	// Self-contained: no scripts, no external resources.
	for _, bad := range []string{"<script", "src=", "href=", "<link", "@import"} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	// Names are escaped, in the tables and inside the charts.
	if strings.Contains(out, "put <b>") || !strings.Contains(out, "put &lt;b&gt;") {
		t.Error("operation name not escaped")
	}
	// A report without timeline or samples still renders.
	buf.Reset()
	if err := WriteHTML(&buf, &Report{Schema: Schema, Tool: "basalt bench", Ops: []Summary{{Op: "get"}}}); err != nil {
		t.Fatal(err)
	}
}

func TestBucketBound(t *testing.T) {
	prev := int64(0)
	for ns := int64(1); ns < 1e10; ns = ns*11/10 + 1 {
		b := BucketBound(ns)
		if b < ns {
			t.Fatalf("BucketBound(%d) = %d below it", ns, b)
		}
		if float64(b) > float64(ns)*bucketRatio*1.001+1 {
			t.Fatalf("BucketBound(%d) = %d more than one bucket above", ns, b)
		}
		if BucketBound(b) != b {
			t.Fatalf("BucketBound(%d) = %d is not its own bound", b, BucketBound(b))
		}
		if b < prev {
			t.Fatalf("not monotonic at %d", ns)
		}
		prev = b
	}
}

func TestCompare(t *testing.T) {
	a, b := sample(), sample()
	a.Label, b.Label = "minio", "basalt"
	b.Ops[0].MiBPerSec = 135 // 1.5x a's 90
	b.Ops[0].Latency.P50Ns = a.Ops[0].Latency.P50Ns * 2
	b.Ops[0].Latency.P99Ns = a.Ops[0].Latency.P99Ns / 2
	b.Ops[0].Errors = 0
	b.Ops = append(b.Ops, Summary{Op: "stat", OpsPerSec: 5})
	b.Settings[1].Value = "4KiB"
	c := Compare(a, b)
	if c.LabelA != "minio" || c.LabelB != "basalt" {
		t.Fatalf("labels %q %q", c.LabelA, c.LabelB)
	}
	get := func(op, fig string) Row {
		for _, r := range c.Rows {
			if r.Op == op && r.Figure == fig {
				return r
			}
		}
		t.Fatalf("no row %s %s", op, fig)
		return Row{}
	}
	cases := []struct {
		op, fig string
		ratio   float64
		verdict string
	}{
		{"get", "MiB/s", 1.5, "better"},
		{"get", "p50", 2, "worse"},
		{"get", "p99", 0.5, "better"},
		{"get", "ops/s", 1, "same"},
		{"get", "errors", 0, "better"},
		{"get", "ttfb p50", 1, "same"},
	}
	for _, k := range cases {
		r := get(k.op, k.fig)
		if q := r.Ratio(); math.Abs(q-k.ratio) > 1e-9 || r.Verdict() != k.verdict {
			t.Errorf("%s %s: ratio %v verdict %q, want %v %q", k.op, k.fig, q, r.Verdict(), k.ratio, k.verdict)
		}
	}
	// An operation only in B has no ratio.
	if r := get("stat", "ops/s"); r.HasA || !r.HasB || !math.IsNaN(r.Ratio()) || r.Verdict() != "" {
		t.Errorf("stat row = %+v", r)
	}
	// Errors from zero to some are worse, though the ratio is undefined.
	if v := (Row{Unit: Count, HasA: true, HasB: true, A: 0, B: 3}).Verdict(); v != "worse" {
		t.Errorf("0 -> 3 errors verdict %q", v)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "size") {
		t.Errorf("warnings = %q", c.Warnings)
	}
	if got := get("total", "MiB/s"); got.Ratio() != 1 {
		t.Errorf("total ratio = %v", got.Ratio())
	}
	var buf bytes.Buffer
	if err := WriteComparison(&buf, c); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"A = minio, B = basalt", "1.50x", "2.00x", "0.50x", "better", "worse", "warning: setting size differs"} {
		if !strings.Contains(out, want) {
			t.Errorf("comparison lacks %q:\n%s", want, out)
		}
	}
	// Equal labels fall back to A and B.
	if c := Compare(sample(), sample()); c.LabelA != "A" || c.LabelB != "B" || len(c.Warnings) != 0 {
		t.Errorf("same-label compare: %q %q %q", c.LabelA, c.LabelB, c.Warnings)
	}
}

func TestSummaryTable(t *testing.T) {
	a := sample()
	ec := &Report{Schema: Schema, Tool: "basalt bench", Kind: "ec", Ops: []Summary{{Op: "encode 4+2 1MiB", MiBPerSec: 2048, Latency: Latency{Count: 1, P50Ns: 400_000, P99Ns: 600_000}}}}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, []SummaryRow{{"mixed-1MiB", a}, {"ec", ec}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"workload", "MiB/s", "p99", "mixed-1MiB", "90.0", "11.0ms", "20.0ms", "ec encode 4+2 1MiB", "2048", "400µs"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n") != 3 {
		t.Errorf("summary has %d lines:\n%s", strings.Count(out, "\n"), out)
	}
}
