package main_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/basaltstore/basalt/internal/testserver"
	"github.com/basaltstore/basalt/internal/thrash"
)

// thrashSeed is BASALT_THRASH_SEED when set (to replay a run), else a new
// seed from the clock.
func thrashSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("BASALT_THRASH_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BASALT_THRASH_SEED=%q: %v", s, err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

// focused applies BASALT_THRASH_MIX ("multipart=6,get=4"),
// BASALT_THRASH_FAULTS ("every=8,kill=1,flip=0,replace=0") and
// BASALT_THRASH_KEYS to cfg, for a run aimed at one part of the store, and
// reports whether any was set.
func focused(t *testing.T, cfg *thrash.Config) bool {
	t.Helper()
	set := false
	if s := os.Getenv("BASALT_THRASH_MIX"); s != "" {
		mix, err := thrash.ParseMix(s)
		if err != nil {
			t.Fatalf("BASALT_THRASH_MIX: %v", err)
		}
		cfg.Mix, set = mix, true
	}
	if s := os.Getenv("BASALT_THRASH_FAULTS"); s != "" {
		if err := thrash.ParseFaults(s, &cfg.Faults); err != nil {
			t.Fatalf("BASALT_THRASH_FAULTS: %v", err)
		}
		set = true
	}
	if s := os.Getenv("BASALT_THRASH_KEYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("BASALT_THRASH_KEYS=%q: %v", s, err)
		}
		cfg.Keys, set = n, true
	}
	return set
}

// thrashRun runs the thrasher against a fresh server, logs its summary and
// fails the test on any violation, keeping the whole history and the
// server's log in files.
func thrashRun(t *testing.T, test string, cfg thrash.Config, timeout time.Duration) thrash.Report {
	t.Helper()
	cfg.Seed = thrashSeed(t)
	cfg.Logf = t.Logf
	t.Logf("thrash seed %d; replay: BASALT_THRASH_SEED=%d go test -run '^%s$' ./cmd/basalt/ (with the same BASALT_THRASH_* settings)",
		cfg.Seed, cfg.Seed, test)
	srv := testserver.Start(t, testserver.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rep, err := thrash.Run(ctx, cfg, thrash.NewLocal(srv))
	t.Log("\n" + rep.Summary())
	if err != nil {
		keep := func(what, pattern, text string) {
			if f, ferr := os.CreateTemp("", fmt.Sprintf(pattern, cfg.Seed)); ferr == nil {
				_, _ = f.WriteString(text)
				_ = f.Close()
				t.Logf("%s: %s", what, f.Name())
			}
		}
		keep("whole history of the run", "basalt-thrash-%d-*.log", rep.History())
		keep("server log", "basalt-thrash-%d-*.server.log", srv.Logs())
		t.Fatal(err)
	}
	return rep
}

// TestThrash is the short thrash of `make test`: four clients for about
// a minute, with kill -9s, rounds of flipped bytes and a disk replacement,
// then the final checks (every key, every listing, full redundancy).
//
// BASALT_THRASH_MIX, BASALT_THRASH_FAULTS and BASALT_THRASH_KEYS (see
// focused) aim it at one part of the store; the run is then checked as
// usual, but not for having exercised every kind of operation and fault.
func TestThrash(t *testing.T) {
	cfg := thrash.Config{
		Duration: 45 * time.Second,
		Clients:  4,
		Faults:   thrash.Faults{Every: 300, Kill: 2, Flip: 2, Replace: 1, MinRounds: 5},
	}
	if focused(t, &cfg) {
		thrashRun(t, "TestThrash", cfg, 10*time.Minute)
		return
	}
	rep := thrashRun(t, "TestThrash", cfg, 10*time.Minute)
	for _, kind := range []string{thrash.FaultKill, thrash.FaultFlip, thrash.FaultReplace} {
		if rep.Faults[kind] == 0 {
			t.Errorf("no %s fault was injected: %v", kind, rep.Faults)
		}
	}
	for _, kind := range []string{thrash.OpPut, thrash.OpOverwrite, thrash.OpGet, thrash.OpGetRange, thrash.OpDelete, thrash.OpList} {
		if rep.Ops[kind] == 0 {
			t.Errorf("no %s operation was acknowledged: %v", kind, rep.Ops)
		}
	}
	for _, kind := range []string{thrash.CheckFinalGet, thrash.CheckFinalList, thrash.CheckBarrier, thrash.CheckRedundancy} {
		if rep.Checks[kind] == 0 {
			t.Errorf("no %s check ran: %v", kind, rep.Checks)
		}
	}
}

// TestSoak is the long thrash of `make soak`, opt-in: BASALT_SOAK=1, for
// BASALT_SOAK_DURATION (default 20m); BASALT_THRASH_* apply as to
// TestThrash.
func TestSoak(t *testing.T) {
	if os.Getenv("BASALT_SOAK") != "1" {
		t.Skip("opt-in long run: BASALT_SOAK=1 (make soak)")
	}
	d := 20 * time.Minute
	if s := os.Getenv("BASALT_SOAK_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatalf("BASALT_SOAK_DURATION=%q: %v", s, err)
		}
	}
	cfg := thrash.Config{
		Duration: d,
		Clients:  6,
		Keys:     96,
		Faults:   thrash.Faults{Every: 150, Kill: 3, Flip: 3, Replace: 1},
	}
	focused(t, &cfg)
	rep := thrashRun(t, "TestSoak", cfg, d+time.Hour)
	fmt.Printf("\n%s", rep.Summary())
}
