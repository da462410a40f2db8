package measure

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func seq(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func TestPercentile(t *testing.T) {
	cases := []struct {
		vals []int64
		p    float64
		want int64
	}{
		{seq(100), 50, 50},
		{seq(100), 90, 90},
		{seq(100), 99, 99},
		{seq(100), 99.9, 100},
		{seq(100), 0, 1},
		{seq(100), 100, 100},
		{seq(1000), 99.9, 999},
		{seq(1000), 50, 500},
		{seq(10), 55, 6},
		{[]int64{10, 20}, 50, 10},
		{[]int64{10, 20}, 51, 20},
		{[]int64{7}, 99.9, 7},
		{nil, 50, 0},
	}
	for _, c := range cases {
		if got := Percentile(c.vals, c.p); got != c.want {
			t.Errorf("Percentile(n=%d, %v) = %d, want %d", len(c.vals), c.p, got, c.want)
		}
	}
}

// TestPercentileDefinition checks the nearest-rank property on random data:
// at least p% of values are <= P(p), and fewer than p% are < P(p).
func TestPercentileDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.IntN(500)
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = rng.Int64N(1000)
		}
		slices.Sort(vals)
		for _, p := range []float64{1, 50, 90, 99, 99.9} {
			v := Percentile(vals, p)
			le, lt := 0, 0
			for _, x := range vals {
				if x <= v {
					le++
				}
				if x < v {
					lt++
				}
			}
			rank := max(1, int(math.Ceil(p/100*float64(n)-1e-9)))
			if le < rank || lt >= rank {
				t.Fatalf("n=%d p=%v: P=%d, %d <= and %d <", n, p, v, le, lt)
			}
		}
	}
}

func TestDistribution(t *testing.T) {
	l := Distribution([]int64{1, 2, 3, 4, 10})
	if l.Count != 5 || l.MinNs != 1 || l.MaxNs != 10 || l.MeanNs != 4 || l.P50Ns != 3 || l.P90Ns != 10 {
		t.Fatalf("Distribution = %+v", l)
	}
	if z := Distribution(nil); z.Count != 0 || z.MaxNs != 0 {
		t.Fatalf("empty = %+v", z)
	}
}

func TestHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vals := make([]int64, 10000)
	for i := range vals {
		// Log-uniform from 10µs to 1s.
		vals[i] = int64(1e4 * math.Pow(10, rng.Float64()*5))
	}
	vals = append(vals, 1, 1, 1_000_000_000)
	slices.Sort(vals)
	h := Histogram(vals)
	var total int64
	prev := int64(0)
	j := 0
	for i, b := range h {
		if b.LeNs <= prev {
			t.Fatalf("bucket %d bound %d not above %d", i, b.LeNs, prev)
		}
		for k := int64(0); k < b.Count; k++ {
			v := vals[j]
			if v > b.LeNs || v <= prev {
				t.Fatalf("value %d in bucket (%d, %d]", v, prev, b.LeNs)
			}
			j++
		}
		total += b.Count
		prev = b.LeNs
	}
	if total != int64(len(vals)) {
		t.Fatalf("histogram holds %d of %d values", total, len(vals))
	}
	// About 10 buckets per decade over 9 decades.
	if len(h) < 85 || len(h) > 95 {
		t.Fatalf("%d buckets for 1ns..1s, want about 90", len(h))
	}
	if Histogram(nil) != nil {
		t.Fatal("histogram of nothing is not empty")
	}
}

func TestBuild(t *testing.T) {
	origin := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return origin.Add(d) }
	ms := time.Millisecond
	ops := []OpInfo{{Name: "get", TTFB: true}, {Name: "put"}}

	w1 := NewRecorder(origin, 0)
	w2 := NewRecorder(origin, 0)
	// Warm-up: one slow success and one error, both excluded.
	w1.Add(0, at(0), at(900*ms), 100*ms, 1000, 0, true)
	w2.Fail(1, at(0), at(50*ms), true, "503 SlowDown", "please slow down")
	// Measured: 1s to 3s.
	for i := 0; i < 100; i++ {
		start := at(time.Second + time.Duration(i)*20*ms)
		w1.Add(0, start, start.Add(10*ms), 2*ms, 1<<20, 0, false)
	}
	for i := 0; i < 10; i++ {
		start := at(time.Second + time.Duration(i)*200*ms)
		w2.Add(1, start, start.Add(time.Duration(i+1)*ms), 0, 1<<20, 0, false)
	}
	w2.Fail(1, at(1500*ms), at(1510*ms), false, "500 InternalError", "We encountered an internal error")
	w2.Fail(1, at(1600*ms), at(1610*ms), false, "500 InternalError", "second message")
	w1.Fail(0, at(1700*ms), at(1710*ms), false, "403 AccessDenied", "")
	w1.Abort()

	res := Build(ops, w1, w2)
	// Window: first measured start (1s) to last measured end (1s+99*20ms+10ms = 2.99s).
	if res.Window.StartNs != int64(time.Second) || res.Window.EndNs != int64(2990*ms) {
		t.Fatalf("window = %+v", res.Window)
	}
	if res.Warmup.Ops != 2 || res.Warmup.Errors != 1 || len(res.Warmup.ErrorKinds) != 1 || res.Warmup.ErrorKinds[0].Kind != "503 SlowDown" {
		t.Fatalf("warmup = %+v", res.Warmup)
	}
	if res.Warmup.Ns != int64(time.Second) {
		t.Fatalf("warmup ns = %d", res.Warmup.Ns)
	}
	if res.Aborted != 1 {
		t.Fatalf("aborted = %d", res.Aborted)
	}
	get, put := res.Ops[0], res.Ops[1]
	if get.Ops != 100 || get.Errors != 1 || get.Bytes != 100<<20 {
		t.Fatalf("get = %+v", get)
	}
	if get.Latency.P50Ns != int64(10*ms) || get.Latency.MaxNs != int64(10*ms) {
		t.Fatalf("get latency = %+v (warm-up sample leaked?)", get.Latency)
	}
	if get.TTFB == nil || get.TTFB.P99Ns != int64(2*ms) || get.TTFB.Count != 100 {
		t.Fatalf("get ttfb = %+v", get.TTFB)
	}
	if put.TTFB != nil {
		t.Fatal("put has a TTFB")
	}
	if put.Ops != 10 || put.Errors != 2 || put.Latency.P50Ns != int64(5*ms) || put.Latency.MaxNs != int64(10*ms) {
		t.Fatalf("put = %+v", put)
	}
	if len(put.ErrorKinds) != 1 || put.ErrorKinds[0].Count != 2 || put.ErrorKinds[0].Example != "We encountered an internal error" {
		t.Fatalf("put errors = %+v", put.ErrorKinds)
	}
	win := 1.99
	if d := get.OpsPerSec - 100/win; d > 1e-6 || d < -1e-6 {
		t.Fatalf("get ops/s = %v, want %v", get.OpsPerSec, 100/win)
	}
	if d := res.Total.MiBPerSec - 110/win; d > 1e-6 || d < -1e-6 {
		t.Fatalf("total MiB/s = %v", res.Total.MiBPerSec)
	}
	if res.Total.Ops != 110 || res.Total.Errors != 3 || len(res.Total.ErrorKinds) != 2 || res.Total.ErrorKinds[0].Kind != "500 InternalError" {
		t.Fatalf("total = %+v", res.Total)
	}
	// Timeline: 3 seconds; every operation (warm-up included) counted once.
	if len(res.Timeline) != 3 {
		t.Fatalf("timeline has %d seconds", len(res.Timeline))
	}
	var tops, terrs int64
	for _, s := range res.Timeline {
		tops += s.Ops
		terrs += s.Errors
	}
	if tops != 111 || terrs != 4 {
		t.Fatalf("timeline counts %d ops, %d errors; want 111, 4", tops, terrs)
	}
	if !res.Timeline[0].Warmup || res.Timeline[1].Warmup {
		t.Fatalf("warm-up flags: %+v", res.Timeline)
	}
	if res.Timeline[2].Ns != int64(990*ms) {
		t.Fatalf("last second covers %d ns", res.Timeline[2].Ns)
	}
}

func TestBuildNoWarmup(t *testing.T) {
	origin := time.Now()
	r := NewRecorder(origin, 4)
	r.Add(0, origin.Add(time.Millisecond), origin.Add(3*time.Millisecond), 0, 10, 5, false)
	res := Build([]OpInfo{{Name: "list"}, {Name: "stat"}}, r)
	if res.Warmup.Ops != 0 || res.Timeline[0].Warmup {
		t.Fatalf("warm-up reported without warm-up ops: %+v", res)
	}
	if res.Ops[0].Items != 5 || res.Ops[1].Ops != 0 || res.Ops[1].Op != "stat" {
		t.Fatalf("ops = %+v", res.Ops)
	}
	empty := Build([]OpInfo{{Name: "get"}})
	if len(empty.Timeline) != 0 || empty.Total.Ops != 0 || empty.Window.Duration() != 0 {
		t.Fatalf("empty build = %+v", empty)
	}
}

func TestErrorKindsBounded(t *testing.T) {
	origin := time.Now()
	r := NewRecorder(origin, 0)
	for i := 0; i < maxKinds+50; i++ {
		r.Fail(0, origin, origin, false, "kind "+string(rune('a'+i%26))+time.Duration(i).String(), "x")
	}
	if len(r.kinds) != maxKinds+1 {
		t.Fatalf("%d kinds kept", len(r.kinds))
	}
	res := Build([]OpInfo{{Name: "get"}}, r)
	if res.Ops[0].Errors != int64(maxKinds+50) {
		t.Fatalf("errors = %d", res.Ops[0].Errors)
	}
}
