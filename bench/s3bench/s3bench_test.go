package s3bench

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/basaltstore/basalt/bench/internal/fakes3"
	"github.com/basaltstore/basalt/bench/report"
	"github.com/basaltstore/basalt/bench/units"
)

const (
	accessKey = "benchkey"
	secretKey = "benchsecret"
	bucket    = "bench"
)

func startServer(t *testing.T, opts fakes3.Options) (*fakes3.Server, string) {
	t.Helper()
	if opts.AccessKey == "" {
		opts.AccessKey = accessKey
	}
	s := fakes3.New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

// config is a small run by operation count against endpoint.
func config(w Workload, endpoint string) Config {
	c := DefaultConfig(w)
	c.Endpoint = endpoint
	c.AccessKey, c.SecretKey = accessKey, secretKey
	c.Bucket = bucket
	c.Lookup = "path"
	c.Concurrency = 4
	c.Size = units.Range{Min: 4 << 10, Max: 4 << 10}
	c.Ops = 40
	c.Warmup = Warmup{}
	c.Objects = 20
	return c
}

func mustRun(t *testing.T, cfg Config) *report.Report {
	t.Helper()
	var progress bytes.Buffer
	rep, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	return rep
}

func onlyOp(t *testing.T, rep *report.Report, name string) report.Summary {
	t.Helper()
	for _, s := range rep.Ops {
		if s.Op == name {
			return s
		}
	}
	t.Fatalf("report has no %s summary: %+v", name, rep.Ops)
	return report.Summary{}
}

// delayObjects holds every request of the given kind for d.
func delayOp(op string, d time.Duration) func(fakes3.Request) time.Duration {
	return func(r fakes3.Request) time.Duration {
		if r.Op == op {
			return d
		}
		return 0
	}
}

// TestLatencyMatchesServerDelay runs GETs against an endpoint that holds
// every GET for 10ms: the instrument must report that latency, and a
// throughput that matches it (ops/s = concurrency / latency).
func TestLatencyMatchesServerDelay(t *testing.T) {
	const delay = 10 * time.Millisecond
	srv, url := startServer(t, fakes3.Options{Delay: delayOp(fakes3.GetObject, delay)})
	cfg := config(Get, url)
	cfg.Ops = 200
	rep := mustRun(t, cfg)
	get := onlyOp(t, rep, "get")

	if get.Ops != 200 || get.Errors != 0 {
		t.Fatalf("ops = %d, errors = %d (%+v)", get.Ops, get.Errors, get.ErrorKinds)
	}
	if n := srv.Count(fakes3.GetObject); n != 200 {
		t.Fatalf("server saw %d GETs, want 200", n)
	}
	l := get.Latency
	ms := float64(time.Millisecond)
	t.Logf("latency min %.2fms p50 %.2fms p99 %.2fms max %.2fms; %.1f ops/s", float64(l.MinNs)/ms, float64(l.P50Ns)/ms, float64(l.P99Ns)/ms, float64(l.MaxNs)/ms, get.OpsPerSec)
	// No operation can be faster than the server's hold.
	if l.MinNs < int64(delay) {
		t.Errorf("min latency %v below the server's %v delay", time.Duration(l.MinNs), delay)
	}
	if l.P50Ns < int64(delay) || l.P50Ns > int64(2*delay) {
		t.Errorf("p50 = %v, want within [10ms, 20ms]", time.Duration(l.P50Ns))
	}
	if !(l.MinNs <= l.P50Ns && l.P50Ns <= l.P90Ns && l.P90Ns <= l.P99Ns && l.P99Ns <= l.P999Ns && l.P999Ns <= l.MaxNs) {
		t.Errorf("percentiles out of order: %+v", l)
	}
	// Throughput: 4 workers each doing back-to-back 10ms operations give at
	// most 400 ops/s; Little's law ties it to the measured mean.
	ideal := float64(cfg.Concurrency) / delay.Seconds()
	if get.OpsPerSec > ideal*1.02 || get.OpsPerSec < ideal*0.5 {
		t.Errorf("ops/s = %.1f, want within [%.0f, %.0f]", get.OpsPerSec, ideal*0.5, ideal*1.02)
	}
	little := float64(cfg.Concurrency) / (float64(l.MeanNs) / 1e9)
	if get.OpsPerSec > little*1.1 || get.OpsPerSec < little*0.75 {
		t.Errorf("ops/s = %.1f but concurrency/mean latency = %.1f", get.OpsPerSec, little)
	}
	if want := get.OpsPerSec * 4 / 1024; abs(get.MiBPerSec-want) > want*1e-9 {
		t.Errorf("MiB/s = %v, want %v (4KiB objects)", get.MiBPerSec, want)
	}
	if get.Bytes != 200*4096 {
		t.Errorf("bytes = %d", get.Bytes)
	}
	// The server holds the request before the headers: the first byte
	// comes after the delay, and before the end.
	if get.TTFB == nil || get.TTFB.P50Ns < int64(delay) || get.TTFB.P50Ns > l.P50Ns {
		t.Errorf("ttfb = %+v, latency p50 %d", get.TTFB, l.P50Ns)
	}
	if rep.Total == nil || rep.Total.Ops != 200 {
		t.Errorf("total = %+v", rep.Total)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestErrorsCountedByKind has the server fail every tenth GET with 500 and
// every tenth (offset by five) with 403: each must be counted, by kind,
// with no retry hiding it.
func TestErrorsCountedByKind(t *testing.T) {
	srv, url := startServer(t, fakes3.Options{
		Fault: func(r fakes3.Request) (int, string) {
			if r.Op != fakes3.GetObject {
				return 0, ""
			}
			switch r.N % 10 {
			case 0:
				return http.StatusInternalServerError, "InternalError"
			case 5:
				return http.StatusForbidden, "AccessDenied"
			}
			return 0, ""
		},
	})
	cfg := config(Get, url)
	cfg.Ops = 100
	rep := mustRun(t, cfg)
	get := onlyOp(t, rep, "get")
	if n := srv.Count(fakes3.GetObject); n != 100 {
		t.Fatalf("server saw %d GETs, want 100 (retries?)", n)
	}
	if get.Ops != 80 || get.Errors != 20 {
		t.Fatalf("ops %d errors %d, want 80 and 20", get.Ops, get.Errors)
	}
	kinds := map[string]int64{}
	for _, k := range get.ErrorKinds {
		kinds[k.Kind] = k.Count
	}
	if kinds["500 InternalError"] != 10 || kinds["403 AccessDenied"] != 10 || len(kinds) != 2 {
		t.Fatalf("error kinds = %+v", get.ErrorKinds)
	}
	if get.ErrorKinds[0].Example != "injected fault" {
		t.Errorf("example = %q", get.ErrorKinds[0].Example)
	}
	var tlErrs int64
	for _, s := range rep.Timeline {
		tlErrs += s.Errors
	}
	if tlErrs != 20 || rep.Errors() != 20 {
		t.Errorf("timeline errors %d, report errors %d", tlErrs, rep.Errors())
	}
	// The JSON file carries the whole report, and reads back the same.
	var js bytes.Buffer
	if err := report.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(&js)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rep) {
		t.Errorf("JSON round trip changed the report:\n%+v\n%+v", back, rep)
	}
	var out bytes.Buffer
	if err := report.WriteTable(&out, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "500 InternalError") || !strings.Contains(out.String(), "403 AccessDenied") {
		t.Errorf("table does not show the error kinds:\n%s", out.String())
	}
}

// TestWarmupExcluded slows the first ten GETs to 100ms; with a warm-up of
// ten operations none of them may show in the figures.
func TestWarmupExcluded(t *testing.T) {
	srv, url := startServer(t, fakes3.Options{Delay: func(r fakes3.Request) time.Duration {
		switch {
		case r.Op != fakes3.GetObject:
			return 0
		case r.N <= 10:
			return 100 * time.Millisecond
		}
		return 5 * time.Millisecond
	}})
	cfg := config(Get, url)
	cfg.Concurrency = 1
	cfg.Ops = 30
	cfg.Warmup = Warmup{Ops: 10}
	rep := mustRun(t, cfg)
	get := onlyOp(t, rep, "get")
	if n := srv.Count(fakes3.GetObject); n != 40 {
		t.Fatalf("server saw %d GETs, want 30 measured + 10 warm-up", n)
	}
	if get.Ops != 30 || rep.Warmup.Ops != 10 {
		t.Fatalf("measured %d, warm-up %d", get.Ops, rep.Warmup.Ops)
	}
	if get.Latency.MaxNs >= int64(100*time.Millisecond) {
		t.Fatalf("max latency %v: a warm-up operation is in the figures", time.Duration(get.Latency.MaxNs))
	}
	if rep.Window.StartNs < int64(10*100*time.Millisecond) {
		t.Fatalf("window starts at %v, before the warm-up (10 x 100ms) ended", time.Duration(rep.Window.StartNs))
	}
	if rep.Setting("warmup") != "10 ops" {
		t.Errorf("warmup setting %q", rep.Setting("warmup"))
	}
}

// TestDurationRun runs by time: the window covers the duration after the
// warm-up, and operations that started in the warm-up are left out.
func TestDurationRun(t *testing.T) {
	_, url := startServer(t, fakes3.Options{Delay: delayOp(fakes3.PutObject, 5*time.Millisecond)})
	cfg := config(Put, url)
	cfg.Ops = 0
	cfg.Duration = 1200 * time.Millisecond
	cfg.Warmup = Warmup{Duration: 400 * time.Millisecond}
	rep := mustRun(t, cfg)
	put := onlyOp(t, rep, "put")
	if rep.Warmup.Ops == 0 || put.Ops == 0 {
		t.Fatalf("warm-up %d ops, measured %d", rep.Warmup.Ops, put.Ops)
	}
	if rep.Window.StartNs < int64(400*time.Millisecond) {
		t.Errorf("window starts at %v, inside the warm-up", time.Duration(rep.Window.StartNs))
	}
	if d := rep.Window.Duration(); d < 1100*time.Millisecond || d > 1400*time.Millisecond {
		t.Errorf("window %v, want about 1.2s", d)
	}
	if len(rep.Timeline) < 2 || !rep.Timeline[0].Warmup || rep.Timeline[len(rep.Timeline)-1].Warmup {
		t.Errorf("timeline warm-up flags: %+v", rep.Timeline)
	}
	var tl int64
	for _, s := range rep.Timeline {
		tl += s.Ops
	}
	if tl != put.Ops+rep.Warmup.Ops {
		t.Errorf("timeline counts %d ops, want %d", tl, put.Ops+rep.Warmup.Ops)
	}
}

func TestWorkloads(t *testing.T) {
	t.Run("put", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{})
		cfg := config(Put, url)
		cfg.Size = units.Range{Min: 1 << 10, Max: 64 << 10}
		cfg.Warmup = Warmup{Percent: 10}
		rep := mustRun(t, cfg)
		put := onlyOp(t, rep, "put")
		if put.Ops != 40 || rep.Warmup.Ops != 4 || srv.Objects(bucket) != 44 {
			t.Fatalf("put %d, warm-up %d, objects %d", put.Ops, rep.Warmup.Ops, srv.Objects(bucket))
		}
		if put.Bytes < 40<<10 || put.Bytes > 40*64<<10 {
			t.Fatalf("bytes %d outside the size range", put.Bytes)
		}
		if !srv.HasBucket(bucket) || !strings.Contains(strings.Join(rep.Notes, "\n"), `created bucket "bench"`) {
			t.Fatalf("bucket not created, or not said: %q", rep.Notes)
		}
	})
	t.Run("stat", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{})
		rep := mustRun(t, config(Stat, url))
		if s := onlyOp(t, rep, "stat"); s.Ops != 40 || srv.Count(fakes3.HeadObject) != 40 || s.TTFB != nil {
			t.Fatalf("stat = %+v, HEADs %d", s, srv.Count(fakes3.HeadObject))
		}
	})
	t.Run("delete", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{})
		cfg := config(Delete, url)
		cfg.Objects = 0 // as many as the run needs
		cfg.Warmup = Warmup{Ops: 5}
		rep := mustRun(t, cfg)
		if d := onlyOp(t, rep, "delete"); d.Ops != 40 || d.Errors != 0 {
			t.Fatalf("delete = %+v", d)
		}
		if n := srv.Objects(bucket); n != 0 {
			t.Fatalf("%d objects left after deleting all", n)
		}
	})
	t.Run("delete runs out", func(t *testing.T) {
		_, url := startServer(t, fakes3.Options{})
		cfg := config(Delete, url)
		cfg.Ops = 0
		cfg.Duration = time.Minute
		cfg.Objects = 30
		rep := mustRun(t, cfg)
		if d := onlyOp(t, rep, "delete"); d.Ops+rep.Warmup.Ops != 30 {
			t.Fatalf("deleted %d + %d warm-up of 30", d.Ops, rep.Warmup.Ops)
		}
		if !strings.Contains(strings.Join(rep.Notes, "\n"), "ran out of objects") {
			t.Fatalf("notes = %q", rep.Notes)
		}
	})
	t.Run("list", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{})
		cfg := config(List, url)
		cfg.Objects = 25
		cfg.ListPage = 10
		cfg.Ops = 30
		cfg.Concurrency = 1
		rep := mustRun(t, cfg)
		l := onlyOp(t, rep, "list")
		// One worker walks pages of 10, 10 and 5 keys, over and over.
		if l.Ops != 30 || l.Items != 250 || srv.Count(fakes3.ListObjectsV2) != 30 || l.ItemsPerSec <= 0 {
			t.Fatalf("list = %+v, requests %d", l, srv.Count(fakes3.ListObjectsV2))
		}
		if rep.Setting("list-page") != "10" {
			t.Errorf("settings = %+v", rep.Settings)
		}
	})
	t.Run("multipart", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{})
		cfg := config(Multipart, url)
		cfg.Size = units.Range{Min: 11 << 20, Max: 11 << 20}
		cfg.PartSize = 5 << 20
		cfg.Ops = 4
		cfg.Concurrency = 2
		rep := mustRun(t, cfg)
		m := onlyOp(t, rep, "multipart")
		if m.Ops != 4 || m.Bytes != 44<<20 || srv.Count(fakes3.UploadPart) != 12 || srv.Objects(bucket) != 4 || srv.Uploads() != 0 {
			t.Fatalf("multipart = %+v, parts %d, objects %d", m, srv.Count(fakes3.UploadPart), srv.Objects(bucket))
		}
	})
	t.Run("multipart aborts on failure", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{Fault: func(r fakes3.Request) (int, string) {
			if r.Op == fakes3.UploadPart && r.N == 2 {
				return http.StatusServiceUnavailable, "SlowDown"
			}
			return 0, ""
		}})
		cfg := config(Multipart, url)
		cfg.Size = units.Range{Min: 6 << 20, Max: 6 << 20}
		cfg.PartSize = 5 << 20
		cfg.Ops = 2
		cfg.Concurrency = 1
		rep := mustRun(t, cfg)
		m := onlyOp(t, rep, "multipart")
		if m.Ops != 1 || m.Errors != 1 || m.ErrorKinds[0].Kind != "503 SlowDown" || srv.Uploads() != 0 || srv.Count(fakes3.AbortMultipartUpload) != 1 {
			t.Fatalf("multipart = %+v, uploads left %d", m, srv.Uploads())
		}
	})
	t.Run("mixed", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{})
		cfg := config(Mixed, url)
		cfg.Ops = 400
		cfg.Objects = 100 // puts and deletes balance; the pool never runs dry
		cfg.Concurrency = 8
		cfg.Mix = Mix{{Get, 40}, {Stat, 20}, {Put, 15}, {Delete, 15}, {List, 10}}
		cfg.Cleanup = true
		rep := mustRun(t, cfg)
		if len(rep.Ops) != 5 {
			t.Fatalf("ops = %+v", rep.Ops)
		}
		var sum int64
		for _, s := range rep.Ops {
			if s.Ops == 0 {
				t.Errorf("no %s operation in a mix of 400", s.Op)
			}
			// Reads never race the benchmark's own deletes.
			if s.Errors != 0 {
				t.Errorf("%s: %d errors %+v", s.Op, s.Errors, s.ErrorKinds)
			}
			sum += s.Ops
		}
		if sum != 400 || rep.Total.Ops != 400 {
			t.Errorf("mixed ops sum %d, total %d", sum, rep.Total.Ops)
		}
		g := onlyOp(t, rep, "get")
		if g.Ops < 100 || g.Ops > 220 {
			t.Errorf("get has %d of 400 ops at 40%%", g.Ops)
		}
		if srv.HasBucket(bucket) || srv.Objects(bucket) != 0 {
			t.Errorf("cleanup left the bucket (%v) or %d objects", srv.HasBucket(bucket), srv.Objects(bucket))
		}
	})
}

// TestBadInputFailsBeforeAnyRequest: a configuration that cannot work is
// refused before anything is sent.
func TestBadInputFailsBeforeAnyRequest(t *testing.T) {
	srv, url := startServer(t, fakes3.Options{})
	cases := map[string]func(*Config){
		"size range backwards": func(c *Config) { c.Size = units.Range{Min: 2 << 20, Max: 1 << 20} },
		"size over 5GiB":       func(c *Config) { c.Size = units.Range{Min: 6 << 30, Max: 6 << 30} },
		"concurrency 0":        func(c *Config) { c.Concurrency = 0 },
		"no duration":          func(c *Config) { c.Ops, c.Duration = 0, 0 },
		"negative ops":         func(c *Config) { c.Ops = -1 },
		"no keys":              func(c *Config) { c.AccessKey = "" },
		"bad bucket":           func(c *Config) { c.Bucket = "Bad_Bucket" },
		"bad endpoint":         func(c *Config) { c.Endpoint = "ftp://x" },
		"bad port":             func(c *Config) { c.Endpoint = "127.0.0.1:99999" },
		"bad lookup":           func(c *Config) { c.Lookup = "sideways" },
		"mix without mixed":    func(c *Config) { c.Mix = Mix{{Get, 100}} },
		"mix sum":              func(c *Config) { c.Workload, c.Mix = Mixed, Mix{{Get, 50}, {Put, 40}} },
		"mix empty":            func(c *Config) { c.Workload, c.Mix = Mixed, nil },
		"list page":            func(c *Config) { c.ListPage = 5000 },
		"part size":            func(c *Config) { c.Workload, c.PartSize = Multipart, 1<<20 },
		"too many parts": func(c *Config) {
			c.Workload, c.PartSize, c.Size = Multipart, 5<<20, units.Range{Min: 1 << 40, Max: 1 << 40}
		},
		"warm-up count by time": func(c *Config) {
			c.Ops, c.Duration, c.Warmup = 0, time.Second, Warmup{Ops: 5}
		},
		"warm-up percent 100":  func(c *Config) { c.Warmup = Warmup{Percent: 100} },
		"delete objects":       func(c *Config) { c.Workload, c.Objects, c.Ops = Delete, 10, 20 },
		"insecure without tls": func(c *Config) { c.Insecure = true },
		"unknown workload":     func(c *Config) { c.Workload = "copy" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := config(Get, url)
			mutate(&cfg)
			_, err := Run(context.Background(), cfg, nil)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
			if n := srv.Requests(); n != 0 {
				t.Fatalf("%d requests sent for a bad configuration", n)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	t.Run("wrong keys", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{AccessKey: "someone-else"})
		srv.AddBucket(bucket)
		_, err := Run(context.Background(), config(Get, url), nil)
		if !errors.Is(err, ErrCredentials) || !strings.Contains(err.Error(), "InvalidAccessKeyId") || !strings.Contains(err.Error(), accessKey) {
			t.Fatalf("err = %v", err)
		}
		if n := srv.ObjectRequests(); n != 0 {
			t.Fatalf("%d object requests after refused keys", n)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = Run(context.Background(), config(Get, "http://"+addr), nil)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		// A listener that accepts and never answers: the preflight gives up
		// after its timeout with one message.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var conns sync.WaitGroup
		done := make(chan struct{})
		defer close(done)
		conns.Go(func() {
			c, err := ln.Accept()
			if err == nil {
				<-done
				c.Close()
			}
		})
		cfg := config(Get, ln.Addr().String())
		cfg.PreflightTimeout = 200 * time.Millisecond
		_, err = Run(context.Background(), cfg, nil)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "no answer") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing bucket with no-create", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{})
		cfg := config(Get, url)
		cfg.NoCreate = true
		_, err := Run(context.Background(), cfg, nil)
		if !errors.Is(err, ErrNoBucket) || !strings.Contains(err.Error(), "--no-create") {
			t.Fatalf("err = %v", err)
		}
		if srv.Count(fakes3.CreateBucket) != 0 || srv.ObjectRequests() != 0 {
			t.Fatal("requests sent after the bucket was found missing")
		}
	})
	t.Run("existing bucket is kept", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{})
		srv.AddBucket(bucket)
		cfg := config(Put, url)
		cfg.Cleanup = true
		rep := mustRun(t, cfg)
		if !srv.HasBucket(bucket) || srv.Objects(bucket) != 0 || srv.Count(fakes3.CreateBucket) != 0 {
			t.Fatalf("bucket kept %v, objects %d", srv.HasBucket(bucket), srv.Objects(bucket))
		}
		if !strings.Contains(strings.Join(rep.Notes, "\n"), "cleanup: removed 40 objects") {
			t.Fatalf("notes = %q", rep.Notes)
		}
	})
	t.Run("prepare failure is one error", func(t *testing.T) {
		srv, url := startServer(t, fakes3.Options{Fault: func(r fakes3.Request) (int, string) {
			if r.Op == fakes3.PutObject && r.N == 3 {
				return http.StatusInsufficientStorage, "XMinioStorageFull"
			}
			return 0, ""
		}})
		_, err := Run(context.Background(), config(Get, url), nil)
		if !errors.Is(err, ErrPrepare) || !strings.Contains(err.Error(), "507 XMinioStorageFull") {
			t.Fatalf("err = %v", err)
		}
		if srv.Count(fakes3.GetObject) != 0 {
			t.Fatal("measured after a failed preparation")
		}
	})
}

// TestInterrupt cancels a long run once the server has seen 30 GETs: the
// run stops, reports what it measured, and cleans up.
func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, url := startServer(t, fakes3.Options{Delay: func(r fakes3.Request) time.Duration {
		if r.Op != fakes3.GetObject {
			return 0
		}
		if r.N == 30 {
			cancel()
		}
		return 2 * time.Millisecond
	}})
	cfg := config(Get, url)
	cfg.Ops = 0
	cfg.Duration = time.Hour
	cfg.Warmup = Warmup{}
	cfg.Cleanup = true
	var progress bytes.Buffer
	rep, err := Run(ctx, cfg, &progress)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v", err)
	}
	if rep == nil || !rep.Interrupted {
		t.Fatalf("report = %+v", rep)
	}
	get := onlyOp(t, rep, "get")
	if get.Ops < 20 || get.Errors != 0 {
		t.Fatalf("get = %d ops, %d errors (%+v); aborted %d", get.Ops, get.Errors, get.ErrorKinds, rep.Aborted)
	}
	if get.Ops > srv.Count(fakes3.GetObject) {
		t.Fatalf("%d ops > %d requests", get.Ops, srv.Count(fakes3.GetObject))
	}
	if srv.HasBucket(bucket) || srv.Objects(bucket) != 0 {
		t.Fatalf("not cleaned up after the interruption")
	}
	if !strings.Contains(progress.String(), "cleanup: removed 20 objects") {
		t.Fatalf("progress:\n%s", progress.String())
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("get=45, stat=30,put=15,DELETE=10")
	if err != nil || m.String() != "get=45,stat=30,put=15,delete=10" {
		t.Fatalf("ParseMix = %v, %v", m, err)
	}
	if _, err := ParseMix("list=100"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "get=50,put=40", "get=50,put=60", "get=45,get=55", "copy=100", "get", "get=x", "get=100.0", "get=-10,put=110", "get=50,,put=50"} {
		if _, err := ParseMix(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseMix(%q) err = %v", bad, err)
		}
	}
}

func TestParseWarmup(t *testing.T) {
	good := map[string]Warmup{
		"auto": {Auto: true}, "": {Auto: true}, "2s": {Duration: 2 * time.Second},
		"50": {Ops: 50}, "5%": {Percent: 5}, "0": {}, "0s": {},
	}
	for in, want := range good {
		if got, err := ParseWarmup(in); err != nil || got != want {
			t.Errorf("ParseWarmup(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"-1", "-2s", "100%", "x%", "soon"} {
		if _, err := ParseWarmup(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseWarmup(%q) err = %v", bad, err)
		}
	}
	c := DefaultConfig(Get)
	if c.warmupTime() != 2*time.Second || c.warmupOps() != 0 {
		t.Error("auto warm-up by duration is not 2s")
	}
	c.Ops = 1000
	if c.warmupTime() != 0 || c.warmupOps() != 50 {
		t.Error("auto warm-up by count is not 5%")
	}
	c.Warmup = Warmup{Percent: 10}
	if c.warmupOps() != 100 {
		t.Error("10% of 1000 ops")
	}
}

func TestSizeDistribution(t *testing.T) {
	r := &run{cfg: DefaultConfig(Put)}
	r.cfg.Size = units.Range{Min: 1 << 10, Max: 1 << 20}
	below := 0
	const n = 20000
	for id := int64(0); id < n; id++ {
		s := r.size(id)
		if s < 1<<10 || s > 1<<20 {
			t.Fatalf("size(%d) = %d out of range", id, s)
		}
		if r.size(id) != s {
			t.Fatal("size is not a function of the id")
		}
		if s < 32<<10 { // the geometric middle of 1KiB..1MiB
			below++
		}
	}
	// Log-uniform: half the objects fall below the geometric mean.
	if below < n*45/100 || below > n*55/100 {
		t.Fatalf("%d of %d sizes below 32KiB, want about half", below, n)
	}
}

func TestEndpoint(t *testing.T) {
	cases := []struct {
		in, host string
		tls      bool
		secure   bool
	}{
		{"127.0.0.1:9000", "127.0.0.1:9000", false, false},
		{"http://127.0.0.1:9000", "127.0.0.1:9000", false, false},
		{"https://s3.example.com", "s3.example.com", false, true},
		{"s3.example.com:443", "s3.example.com:443", true, true},
		{"http://[::1]:9000/", "[::1]:9000", false, false},
	}
	for _, c := range cases {
		cfg := Config{Endpoint: c.in, TLS: c.tls}
		host, secure, err := cfg.endpoint()
		if err != nil || host != c.host || secure != c.secure {
			t.Errorf("endpoint(%q) = %q %v %v", c.in, host, secure, err)
		}
	}
	for _, bad := range []string{"", "http://", "http://h/path", "ftp://h", "h:0", "h:x"} {
		if _, _, err := (Config{Endpoint: bad}).endpoint(); !errors.Is(err, ErrConfig) {
			t.Errorf("endpoint(%q) err = %v", bad, err)
		}
	}
}

func TestPoolNeverDeletesWhatIsRead(t *testing.T) {
	p := newPool(3)
	rng := rand.New(rand.NewPCG(1, 1))
	held := map[int64]int{}
	for len(held) < 3 {
		id, ok := p.acquire(rng)
		if !ok {
			t.Fatal("acquire failed on a full pool")
		}
		held[id]++
	}
	if id, ok := p.take(rng); ok {
		t.Fatalf("took object %d while every object is being read", id)
	}
	for range held[1] - 1 {
		p.release(1)
		if id, ok := p.take(rng); ok {
			t.Fatalf("took object %d while a reader remains", id)
		}
	}
	p.release(1)
	if id, ok := p.take(rng); !ok || id != 1 {
		t.Fatalf("take = %d, %v; want the one released object", id, ok)
	}
	if id, ok := p.take(rng); ok {
		t.Fatalf("took busy object %d", id)
	}
	p.add(7)
	if id, ok := p.take(rng); !ok || id != 7 {
		t.Fatalf("take = %d, %v; want the added object", id, ok)
	}
}
