package ecbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/reedsolomon"

	"github.com/basaltstore/basalt/bench/measure"
	"github.com/basaltstore/basalt/bench/report"
	"github.com/basaltstore/basalt/bench/units"
)

// Errors of a run.
var (
	ErrConfig      = errors.New("ecbench: bad configuration")
	ErrCodec       = errors.New("ecbench: codec failed")
	ErrInterrupted = errors.New("ecbench: interrupted")
)

// Layout is k data shards and m parity shards.
type Layout struct{ K, M int }

func (l Layout) String() string { return fmt.Sprintf("%d+%d", l.K, l.M) }

// ParseLayouts reads a comma-separated list of layouts: "2+2,4+2,8+4".
func ParseLayouts(s string) ([]Layout, error) {
	var out []Layout
	for _, part := range strings.Split(s, ",") {
		ks, ms, ok := strings.Cut(strings.TrimSpace(part), "+")
		k, err1 := strconv.Atoi(ks)
		m, err2 := strconv.Atoi(ms)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: layout %q: want k+m, such as 4+2", ErrConfig, part)
		}
		l := Layout{k, m}
		if err := l.validate(); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func (l Layout) validate() error {
	if l.K < 1 || l.M < 1 || l.K+l.M > 256 {
		return fmt.Errorf("%w: layout %s: want k >= 1, m >= 1 and k+m <= 256", ErrConfig, l)
	}
	return nil
}

// Config says what to measure.
type Config struct {
	Layouts    []Layout
	ShardSizes []int64
	// Duration is the time of each case; Ops, when above zero, is the
	// number of measured operations per goroutine and case instead.
	Duration time.Duration
	Ops      int64
	// Warmup is the number of operations each goroutine runs before its
	// measured ones, in every case.
	Warmup      int
	Concurrency int
	// Goroutines is how many goroutines the codec may use for one call:
	// 1 codes on the calling goroutine (as Basalt's codec does), 0 lets
	// the library decide.
	Goroutines int
	Label      string
	Seed       uint64
}

// DefaultConfig measures the layouts and shard sizes Basalt is likely to
// use, one second each, on one goroutine.
func DefaultConfig() Config {
	return Config{
		Layouts:     []Layout{{2, 2}, {4, 2}, {8, 4}},
		ShardSizes:  []int64{64 << 10, 1 << 20},
		Duration:    time.Second,
		Warmup:      3,
		Concurrency: 1,
		Goroutines:  1,
		Seed:        1,
	}
}

// maxMemory bounds the buffers of a run.
const maxMemory = 4 << 30

// Validate checks the configuration.
func (c Config) Validate() error {
	if len(c.Layouts) == 0 || len(c.ShardSizes) == 0 {
		return fmt.Errorf("%w: give at least one layout and one shard size", ErrConfig)
	}
	for _, l := range c.Layouts {
		if err := l.validate(); err != nil {
			return err
		}
	}
	if c.Concurrency < 1 || c.Concurrency > 1024 {
		return fmt.Errorf("%w: concurrency %d: want 1 to 1024", ErrConfig, c.Concurrency)
	}
	for _, s := range c.ShardSizes {
		if s < 1 || s > 1<<30 {
			return fmt.Errorf("%w: shard size %s: want 1B to 1GiB", ErrConfig, units.FormatSize(s))
		}
		for _, l := range c.Layouts {
			if need := int64(2*l.K+l.M) * s * int64(c.Concurrency); need > maxMemory {
				return fmt.Errorf("%w: layout %s with %s shards on %d goroutines needs %s of buffers (at most %s)",
					ErrConfig, l, units.FormatSize(s), c.Concurrency, units.FormatSize(need), units.FormatSize(maxMemory))
			}
		}
	}
	if c.Ops < 0 || c.Ops == 0 && c.Duration <= 0 {
		return fmt.Errorf("%w: give a positive duration or operation count", ErrConfig)
	}
	if c.Warmup < 0 || c.Goroutines < 0 {
		return fmt.Errorf("%w: warm-up and goroutines must not be negative", ErrConfig)
	}
	return nil
}

// The operations of each case.
const (
	opEncode      = "encode"
	opReconstruct = "reconstruct"
	opCopy        = "memcopy"
)

// Run measures every case and returns one report whose operations are
// named "encode 4+2 1MiB", "reconstruct 4+2 1MiB" and "memcopy 4+2 1MiB".
func Run(ctx context.Context, cfg Config, progress io.Writer) (*report.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	start := time.Now()
	rep := &report.Report{
		Schema:   report.Schema,
		Tool:     "basalt bench",
		Kind:     "ec",
		Workload: "erasure",
		Label:    cfg.Label,
		Started:  start.UTC().Round(0).Truncate(time.Millisecond),
		Settings: settings(cfg),
		Host:     report.ThisHost(),
	}
	if rep.Label == "" {
		rep.Label = rep.Host.Hostname
	}
	for _, l := range cfg.Layouts {
		for _, size := range cfg.ShardSizes {
			for _, op := range []string{opEncode, opReconstruct, opCopy} {
				if ctx.Err() != nil {
					break
				}
				s, warm, err := runCase(ctx, cfg, l, size, op)
				if err != nil {
					return nil, err
				}
				rep.Ops = append(rep.Ops, s)
				rep.Warmup.Ops += warm
				fmt.Fprintf(progress, "%-28s %9s MiB/s  p50 %s\n", s.Op, units.FormatRate(s.MiBPerSec), units.FormatDuration(s.Latency.P50Ns))
			}
		}
	}
	rep.Window = report.Window{StartNs: 0, EndNs: int64(time.Since(start))}
	if ctx.Err() != nil {
		rep.Interrupted = true
		return rep, fmt.Errorf("%w: %d of %d cases measured", ErrInterrupted, len(rep.Ops), 3*len(cfg.Layouts)*len(cfg.ShardSizes))
	}
	return rep, nil
}

func settings(cfg Config) []report.Setting {
	layouts := make([]string, len(cfg.Layouts))
	for i, l := range cfg.Layouts {
		layouts[i] = l.String()
	}
	sizes := make([]string, len(cfg.ShardSizes))
	for i, s := range cfg.ShardSizes {
		sizes[i] = units.FormatSize(s)
	}
	s := []report.Setting{
		{Name: "layouts", Value: strings.Join(layouts, ",")},
		{Name: "shard-sizes", Value: strings.Join(sizes, ",")},
		{Name: "concurrency", Value: strconv.Itoa(cfg.Concurrency)},
		{Name: "codec-goroutines", Value: strconv.Itoa(cfg.Goroutines)},
		{Name: "warmup", Value: strconv.Itoa(cfg.Warmup) + " ops per goroutine"},
	}
	if cfg.Ops > 0 {
		s = append(s, report.Setting{Name: "ops", Value: strconv.FormatInt(cfg.Ops, 10) + " per goroutine"})
	} else {
		s = append(s, report.Setting{Name: "duration", Value: cfg.Duration.String() + " per case"})
	}
	return s
}

// runCase times one operation of one layout and shard size.
func runCase(ctx context.Context, cfg Config, l Layout, size int64, op string) (report.Summary, int64, error) {
	name := fmt.Sprintf("%s %s %s", op, l, units.FormatSize(size))
	var opts []reedsolomon.Option
	if cfg.Goroutines > 0 {
		opts = append(opts, reedsolomon.WithMaxGoroutines(cfg.Goroutines))
	}
	enc, err := reedsolomon.New(l.K, l.M, opts...)
	if err != nil {
		return report.Summary{}, 0, fmt.Errorf("%w: %s: %v", ErrCodec, name, err)
	}
	origin := time.Now()
	deadline := origin.Add(cfg.Duration)
	recs := make([]*measure.Recorder, cfg.Concurrency)
	errs := make([]error, cfg.Concurrency)
	var wg sync.WaitGroup
	for g := range recs {
		recs[g] = measure.NewRecorder(origin, 1024)
		wg.Go(func() {
			errs[g] = work(ctx, cfg, enc, l, size, op, recs[g], deadline, uint64(g))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return report.Summary{}, 0, fmt.Errorf("%w: %s: %v", ErrCodec, name, err)
		}
	}
	res := measure.Build([]measure.OpInfo{{Name: name}}, recs...)
	return res.Ops[0], res.Warmup.Ops, nil
}

// work runs one goroutine of a case on its own buffers.
func work(ctx context.Context, cfg Config, enc reedsolomon.Encoder, l Layout, size int64, op string, rec *measure.Recorder, deadline time.Time, g uint64) error {
	n := l.K + l.M
	buf := make([]byte, int64(n)*size)
	shards := make([][]byte, n)
	for i := range shards {
		shards[i] = buf[int64(i)*size : int64(i+1)*size : int64(i+1)*size]
	}
	fill := rand.NewChaCha8([32]byte{byte(cfg.Seed), byte(g), byte(g >> 8)})
	_, _ = fill.Read(buf[:int64(l.K)*size])
	if err := enc.Encode(shards); err != nil {
		return err
	}
	var want [][]byte
	var dst []byte
	switch op {
	case opReconstruct:
		want = make([][]byte, l.M)
		for i := range want {
			want[i] = bytes.Clone(shards[i])
		}
	case opCopy:
		dst = make([]byte, int64(l.K)*size)
	}
	dataBytes := int64(l.K) * size
	for i := int64(0); ; i++ {
		warm := i < int64(cfg.Warmup)
		if ctx.Err() != nil {
			return nil
		}
		if cfg.Ops > 0 {
			if i >= cfg.Ops+int64(cfg.Warmup) {
				return nil
			}
		} else if !warm && !time.Now().Before(deadline) {
			return nil
		}
		var err error
		var start, end time.Time
		switch op {
		case opEncode:
			start = time.Now()
			err = enc.Encode(shards)
			end = time.Now()
		case opReconstruct:
			// Lose the first m shards (data shards first: the costly case).
			for j := 0; j < l.M; j++ {
				shards[j] = shards[j][:0]
			}
			start = time.Now()
			err = enc.Reconstruct(shards)
			end = time.Now()
			if err == nil && warm {
				for j := range want {
					if !bytes.Equal(shards[j], want[j]) {
						return fmt.Errorf("reconstructed shard %d differs from the original", j)
					}
				}
			}
		case opCopy:
			start = time.Now()
			copy(dst, buf[:dataBytes])
			end = time.Now()
		}
		if err != nil {
			return err
		}
		rec.Add(0, start, end, 0, dataBytes, 0, warm)
	}
}
