package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrSize is returned for a size or size range that does not parse.
var ErrSize = errors.New("units: bad size")

// MiB is 2^20 bytes, the unit throughput is reported in.
const MiB = 1 << 20

var multipliers = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// maxSize bounds every parsed size: 1 PiB is far beyond any object or
// shard a benchmark writes, and keeps arithmetic on sizes from overflowing.
const maxSize = 1 << 50

// ParseSize parses a byte count such as "4096", "4KiB", "1.5MiB" or "2GB".
// The result must be a whole number of bytes, at least 0 and at most 1 PiB.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("%w: empty", ErrSize)
	}
	i := 0
	for i < len(in) && (in[i] >= '0' && in[i] <= '9' || in[i] == '.') {
		i++
	}
	num, unit := in[:i], strings.ToLower(strings.TrimSpace(in[i:]))
	if num == "" {
		return 0, fmt.Errorf("%w: %q does not start with a number", ErrSize, s)
	}
	mult, ok := multipliers[unit]
	if !ok {
		return 0, fmt.Errorf("%w: %q has unknown unit %q (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)", ErrSize, s, in[i:])
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || float64(n)*mult > maxSize {
			return 0, fmt.Errorf("%w: %q is too large (at most 1PiB)", ErrSize, s)
		}
		return n * int64(mult), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a number", ErrSize, s)
	}
	v := f * mult
	if v > maxSize {
		return 0, fmt.Errorf("%w: %q is too large (at most 1PiB)", ErrSize, s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("%w: %q is not a whole number of bytes", ErrSize, s)
	}
	return int64(v), nil
}

// Range is an inclusive range of sizes in bytes; Min == Max is a fixed size.
type Range struct {
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

// Fixed reports whether the range holds one size.
func (r Range) Fixed() bool { return r.Min == r.Max }

// String prints the range the way ParseRange reads it.
func (r Range) String() string {
	if r.Fixed() {
		return FormatSize(r.Min)
	}
	return FormatSize(r.Min) + "-" + FormatSize(r.Max)
}

// ParseRange parses a fixed size ("1MiB") or a range of sizes
// ("1KiB-1MiB", both ends included, the lower first).
func ParseRange(s string) (Range, error) {
	loText, hiText, isRange := strings.Cut(s, "-")
	lo, err := ParseSize(loText)
	if err != nil {
		return Range{}, err
	}
	if !isRange {
		return Range{lo, lo}, nil
	}
	hi, err := ParseSize(hiText)
	if err != nil {
		return Range{}, err
	}
	if hi < lo {
		return Range{}, fmt.Errorf("%w: range %q runs backwards (write the smaller size first)", ErrSize, s)
	}
	return Range{lo, hi}, nil
}

// ParseList parses a comma-separated list of sizes ("64KiB,1MiB").
func ParseList(s string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(s, ",") {
		n, err := ParseSize(part)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// FormatSize prints n bytes exactly, in the largest binary unit that keeps
// it whole or a half ("4KiB", "1MiB", "1.5KiB", "1025B"), so that
// ParseSize(FormatSize(n)) == n.
func FormatSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + "B"
	}
	v := float64(n)
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64) + units[u]
	}
	if v*2 == math.Trunc(v*2) {
		return strconv.FormatFloat(v, 'f', 1, 64) + units[u]
	}
	// Not a round figure: use the largest unit in which it is exact, down
	// to bytes, so that the text reads back as the same number.
	for k := u - 1; k >= 1; k-- {
		d := float64(n) / math.Pow(1024, float64(k))
		if d == math.Trunc(d) {
			return strconv.FormatFloat(d, 'f', 0, 64) + units[k]
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// FormatDuration prints a latency with three significant figures in the
// unit that suits it: "850ns", "12.3µs", "10.2ms", "1.25s".
func FormatDuration(ns int64) string {
	d := float64(ns)
	switch {
	case ns < 1000:
		return strconv.FormatInt(ns, 10) + "ns"
	case ns < 1e6:
		return sig3(d/1e3) + "µs"
	case ns < 1e9:
		return sig3(d/1e6) + "ms"
	default:
		return sig3(d/1e9) + "s"
	}
}

// FormatRate prints a figure per second with three significant figures.
func FormatRate(v float64) string {
	if v == 0 {
		return "0"
	}
	if v >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return sig3(v)
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// Seconds prints a duration in seconds with one decimal ("12.5s").
func Seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}
