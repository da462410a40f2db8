package measure

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/basaltstore/basalt/bench/report"
	"github.com/basaltstore/basalt/bench/units"
)

// Sample is one operation.
type Sample struct {
	Start int64 // nanoseconds since the recorder's origin
	Dur   int64 // nanoseconds
	TTFB  int64 // nanoseconds to the first byte of the response body; 0 if not measured
	Bytes int64 // payload moved
	Items int32 // entries listed
	Op    uint8 // index into the OpInfo list given to Build
	Warm  bool  // in the warm-up: left out of the figures
	Err   uint16
}

// OpInfo names a kind of operation.
type OpInfo struct {
	Name string
	// TTFB is set for operations whose time to first byte is measured.
	TTFB bool
}

type kindInfo struct {
	kind, example string
}

// Recorder collects the samples of one worker.
type Recorder struct {
	origin  time.Time
	samples []Sample
	kinds   []kindInfo
	index   map[string]uint16
	aborted int64
}

// NewRecorder returns a recorder whose times are offsets from origin, with
// room for capacity samples before it grows.
func NewRecorder(origin time.Time, capacity int) *Recorder {
	return &Recorder{origin: origin, samples: make([]Sample, 0, capacity), index: map[string]uint16{}}
}

// Origin is the time the recorder's offsets count from.
func (r *Recorder) Origin() time.Time { return r.origin }

// Len is the number of samples recorded.
func (r *Recorder) Len() int { return len(r.samples) }

// Add records a successful operation.
func (r *Recorder) Add(op uint8, start, end time.Time, ttfb time.Duration, bytes int64, items int, warm bool) {
	r.samples = append(r.samples, Sample{
		Start: int64(start.Sub(r.origin)),
		Dur:   int64(end.Sub(start)),
		TTFB:  int64(ttfb),
		Bytes: bytes,
		Items: int32(min(items, math.MaxInt32)),
		Op:    op,
		Warm:  warm,
	})
}

// maxKinds bounds the table of error kinds of one recorder; further kinds
// are counted under "other errors" so that a stream of distinct messages
// cannot grow it without end.
const maxKinds = 1000

// Fail records a failed operation of the given kind ("500 InternalError"),
// keeping example as the first message seen for that kind.
func (r *Recorder) Fail(op uint8, start, end time.Time, warm bool, kind, example string) {
	idx, ok := r.index[kind]
	if !ok {
		if len(r.kinds) >= maxKinds {
			kind, example = "other errors", ""
			idx, ok = r.index[kind]
		}
		if !ok {
			r.kinds = append(r.kinds, kindInfo{kind, example})
			idx = uint16(len(r.kinds))
			r.index[kind] = idx
		}
	}
	r.samples = append(r.samples, Sample{
		Start: int64(start.Sub(r.origin)),
		Dur:   int64(end.Sub(start)),
		Op:    op,
		Warm:  warm,
		Err:   idx,
	})
}

// Abort counts an operation cut short because the run was stopped.
func (r *Recorder) Abort() { r.aborted++ }

// Result is what Build computes from the recorders.
type Result struct {
	Total    report.Summary
	Ops      []report.Summary
	Timeline []report.Second
	Window   report.Window
	Warmup   report.Warmup
	Aborted  int64
}

// Build merges the recorders into the figures of a report. ops names the
// operation indexes used in the samples; an operation with no sample still
// gets a (zero) summary, so that a report always lists what was asked for.
// All recorders must share one origin.
func Build(ops []OpInfo, recs ...*Recorder) Result {
	var res Result
	res.Window.StartNs = math.MaxInt64
	var lastEnd, nsamples, nwarm int64
	for _, r := range recs {
		res.Aborted += r.aborted
		for _, s := range r.samples {
			end := s.Start + s.Dur
			lastEnd = max(lastEnd, end)
			nsamples++
			if s.Warm {
				nwarm++
				continue
			}
			res.Window.StartNs = min(res.Window.StartNs, s.Start)
			res.Window.EndNs = max(res.Window.EndNs, end)
		}
	}
	if res.Window.StartNs == math.MaxInt64 {
		res.Window = report.Window{StartNs: lastEnd, EndNs: lastEnd}
	}
	window := res.Window.EndNs - res.Window.StartNs

	type acc struct {
		durs, ttfbs          []int64
		bytes, items, errors int64
		kinds                map[string]*report.ErrorKind
		order                []string
	}
	newAcc := func() *acc { return &acc{kinds: map[string]*report.ErrorKind{}} }
	per := make([]*acc, len(ops))
	for i := range per {
		per[i] = newAcc()
	}
	total := newAcc()
	warm := newAcc()
	count := func(a *acc, k kindInfo) {
		a.errors++
		e := a.kinds[k.kind]
		if e == nil {
			e = &report.ErrorKind{Kind: k.kind, Example: k.example}
			a.kinds[k.kind] = e
			a.order = append(a.order, k.kind)
		}
		e.Count++
	}

	seconds := int((lastEnd + int64(time.Second) - 1) / int64(time.Second))
	if nsamples > 0 {
		seconds = max(seconds, 1)
	}
	res.Timeline = make([]report.Second, seconds)
	for i := range res.Timeline {
		t := int64(i) * int64(time.Second)
		res.Timeline[i] = report.Second{T: i, Ns: int64(time.Second), Warmup: nwarm > 0 && t < res.Window.StartNs}
	}
	if seconds > 0 {
		res.Timeline[seconds-1].Ns = lastEnd - int64(seconds-1)*int64(time.Second)
	}

	for _, r := range recs {
		for _, s := range r.samples {
			sec := int(max(s.Start+s.Dur-1, 0) / int64(time.Second))
			tl := &res.Timeline[sec]
			if s.Err != 0 {
				tl.Errors++
			} else {
				tl.Ops++
				tl.Bytes += s.Bytes
			}
			if s.Warm {
				res.Warmup.Ops++
				if s.Err != 0 {
					count(warm, r.kinds[s.Err-1])
				}
				continue
			}
			if int(s.Op) >= len(ops) {
				continue // invariant: callers use the indexes of ops
			}
			a := per[s.Op]
			if s.Err != 0 {
				count(a, r.kinds[s.Err-1])
				count(total, r.kinds[s.Err-1])
				continue
			}
			a.durs = append(a.durs, s.Dur)
			a.bytes += s.Bytes
			a.items += int64(s.Items)
			total.bytes += s.Bytes
			total.items += int64(s.Items)
			if ops[s.Op].TTFB {
				a.ttfbs = append(a.ttfbs, s.TTFB)
			}
		}
	}
	res.Warmup.Errors = warm.errors
	res.Warmup.ErrorKinds = kindList(warm.kinds, warm.order)
	res.Warmup.Ns = res.Window.StartNs

	summarize := func(name string, a *acc, ttfb bool) report.Summary {
		slices.Sort(a.durs)
		s := report.Summary{
			Op:         name,
			Ops:        int64(len(a.durs)),
			Errors:     a.errors,
			Bytes:      a.bytes,
			Items:      a.items,
			WindowNs:   window,
			Latency:    Distribution(a.durs),
			ErrorKinds: kindList(a.kinds, a.order),
			Histogram:  Histogram(a.durs),
			CDF:        CDF(a.durs),
		}
		if window > 0 {
			secs := float64(window) / 1e9
			s.OpsPerSec = float64(s.Ops) / secs
			s.MiBPerSec = float64(s.Bytes) / units.MiB / secs
			s.ItemsPerSec = float64(s.Items) / secs
		}
		if ttfb {
			slices.Sort(a.ttfbs)
			l := Distribution(a.ttfbs)
			s.TTFB = &l
		}
		return s
	}
	res.Ops = make([]report.Summary, len(ops))
	for i, op := range ops {
		res.Ops[i] = summarize(op.Name, per[i], op.TTFB)
		total.durs = append(total.durs, per[i].durs...)
	}
	res.Total = summarize("total", total, false)
	return res
}

func kindList(m map[string]*report.ErrorKind, order []string) []report.ErrorKind {
	if len(order) == 0 {
		return nil
	}
	out := make([]report.ErrorKind, 0, len(order))
	for _, k := range order {
		out = append(out, *m[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// Percentile returns the nearest-rank p-th percentile (0 <= p <= 100) of
// sorted: the smallest value such that at least p% of the values are at
// or below it. It is 0 for no values; p = 0 gives the minimum.
func Percentile(sorted []int64, p float64) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	// Guard against p/100*n landing a hair above an integer through
	// floating-point error (99.9/100*1000 = 999.0000000000001).
	if f := p / 100 * float64(n); math.Abs(f-math.Round(f)) < 1e-9 {
		rank = int(math.Round(f))
	}
	return sorted[min(max(rank, 1), n)-1]
}

// Distribution summarizes sorted durations.
func Distribution(sorted []int64) report.Latency {
	n := len(sorted)
	if n == 0 {
		return report.Latency{}
	}
	var sum float64
	for _, v := range sorted {
		sum += float64(v)
	}
	return report.Latency{
		Count:  int64(n),
		MinNs:  sorted[0],
		MeanNs: int64(math.Round(sum / float64(n))),
		P50Ns:  Percentile(sorted, 50),
		P90Ns:  Percentile(sorted, 90),
		P99Ns:  Percentile(sorted, 99),
		P999Ns: Percentile(sorted, 99.9),
		MaxNs:  sorted[n-1],
	}
}

// Histogram counts sorted durations into logarithmic buckets (see
// report.BucketBound), from the bucket of the smallest to that of the
// largest, empty buckets in between included.
func Histogram(sorted []int64) []report.Bucket {
	if len(sorted) == 0 {
		return nil
	}
	var out []report.Bucket
	i := 0
	for i < len(sorted) {
		bound := report.BucketBound(sorted[i])
		if len(out) > 0 {
			// Fill the empty buckets between the last one and this one.
			for b := report.BucketBound(out[len(out)-1].LeNs + 1); b < bound; b = report.BucketBound(b + 1) {
				out = append(out, report.Bucket{LeNs: b})
			}
		}
		j := sort.Search(len(sorted), func(k int) bool { return sorted[k] > bound })
		out = append(out, report.Bucket{LeNs: bound, Count: int64(j - i)})
		i = j
	}
	return out
}

// cdfPoints are the percentiles a report's CDF is drawn through.
var cdfPoints = []float64{0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100}

// CDF returns the latency at a fixed set of percentiles of sorted.
func CDF(sorted []int64) []report.Quantile {
	if len(sorted) == 0 {
		return nil
	}
	out := make([]report.Quantile, len(cdfPoints))
	for i, p := range cdfPoints {
		out[i] = report.Quantile{P: p, Ns: Percentile(sorted, p)}
	}
	return out
}
