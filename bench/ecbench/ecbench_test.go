package ecbench

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseLayouts(t *testing.T) {
	got, err := ParseLayouts("2+2, 4+2,8+4")
	if err != nil || len(got) != 3 || got[1] != (Layout{4, 2}) || got[2].String() != "8+4" {
		t.Fatalf("ParseLayouts = %v, %v", got, err)
	}
	for _, bad := range []string{"", "4", "4+", "+2", "0+2", "4+0", "200+100", "a+b", "4+2,"} {
		if _, err := ParseLayouts(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseLayouts(%q) err = %v", bad, err)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*Config){
		"no layouts":  func(c *Config) { c.Layouts = nil },
		"no sizes":    func(c *Config) { c.ShardSizes = nil },
		"zero size":   func(c *Config) { c.ShardSizes = []int64{0} },
		"concurrency": func(c *Config) { c.Concurrency = 0 },
		"memory":      func(c *Config) { c.ShardSizes, c.Concurrency = []int64{1 << 30}, 8 },
		"no duration": func(c *Config) { c.Duration = 0 },
		"bad layout":  func(c *Config) { c.Layouts = []Layout{{0, 1}} },
		"negative":    func(c *Config) { c.Warmup = -1 },
	}
	for name, mutate := range bad {
		c := DefaultConfig()
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Layouts = []Layout{{2, 1}, {4, 2}}
	cfg.ShardSizes = []int64{4 << 10}
	cfg.Ops = 20
	cfg.Warmup = 2
	cfg.Concurrency = 2
	var progress bytes.Buffer
	rep, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"encode 2+1 4KiB", "reconstruct 2+1 4KiB", "memcopy 2+1 4KiB", "encode 4+2 4KiB", "reconstruct 4+2 4KiB", "memcopy 4+2 4KiB"}
	if len(rep.Ops) != len(want) {
		t.Fatalf("ops = %+v", rep.Ops)
	}
	for i, s := range rep.Ops {
		if s.Op != want[i] {
			t.Errorf("op %d = %q, want %q", i, s.Op, want[i])
		}
		k := int64(2)
		if strings.Contains(s.Op, "4+2") {
			k = 4
		}
		if s.Ops != 40 || s.Errors != 0 || s.Bytes != 40*k*4096 || s.MiBPerSec <= 0 || s.Latency.Count != 40 {
			t.Errorf("%s: %+v", s.Op, s)
		}
		if !strings.Contains(progress.String(), s.Op) {
			t.Errorf("progress does not show %s", s.Op)
		}
	}
	if rep.Warmup.Ops != 6*2*2 || rep.Total != nil || rep.Kind != "ec" {
		t.Errorf("warm-up %d, total %v, kind %q", rep.Warmup.Ops, rep.Total, rep.Kind)
	}
}

func TestRunByDuration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Layouts = []Layout{{2, 2}}
	cfg.ShardSizes = []int64{1 << 10}
	cfg.Duration = 50 * time.Millisecond
	rep, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Ops {
		if s.Ops == 0 || time.Duration(s.WindowNs) > 200*time.Millisecond {
			t.Errorf("%s: %d ops over %v", s.Op, s.Ops, time.Duration(s.WindowNs))
		}
	}
}

func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := DefaultConfig()
	cfg.ShardSizes = []int64{1 << 10}
	rep, err := Run(ctx, cfg, nil)
	if !errors.Is(err, ErrInterrupted) || rep == nil || !rep.Interrupted {
		t.Fatalf("Run after cancel = %v, %v", rep, err)
	}
}
