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

// thrashCluster starts the system under test of a thrash run: its
// servers, and the cluster the thrasher drives.
type thrashCluster func(t *testing.T) ([]*testserver.Server, thrash.Cluster)

// oneServer is the single-machine default: one `basalt server` with its
// four disks.
func oneServer(t *testing.T) ([]*testserver.Server, thrash.Cluster) {
	srv := testserver.Start(t, testserver.Options{})
	return []*testserver.Server{srv}, thrash.NewLocal(srv)
}

// thrashRun runs the thrasher against fresh servers started by start, logs
// its summary and fails the test on any violation, keeping the whole
// history and every server's log in files.
func thrashRun(t *testing.T, test string, cfg thrash.Config, timeout time.Duration, start thrashCluster) thrash.Report {
	t.Helper()
	cfg.Seed = thrashSeed(t)
	cfg.Logf = t.Logf
	t.Logf("thrash seed %d; replay: BASALT_THRASH_SEED=%d go test -run '^%s$' ./cmd/basalt/ (with the same BASALT_THRASH_* settings)",
		cfg.Seed, cfg.Seed, test)
	servers, cluster := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rep, err := thrash.Run(ctx, cfg, cluster)
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
		for i, srv := range servers {
			keep(fmt.Sprintf("log of node%d", i+1), fmt.Sprintf("basalt-thrash-%%d-*.node%d.log", i+1), srv.Logs())
		}
		t.Fatal(err)
	}
	return rep
}

// checkThrashCoverage fails the test unless the run injected each of
// faults, had every kind of operation acknowledged and ran every final
// check.
func checkThrashCoverage(t *testing.T, rep thrash.Report, faults ...string) {
	t.Helper()
	for _, kind := range faults {
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
		thrashRun(t, "TestThrash", cfg, 10*time.Minute, oneServer)
		return
	}
	rep := thrashRun(t, "TestThrash", cfg, 10*time.Minute, oneServer)
	checkThrashCoverage(t, rep, thrash.FaultKill, thrash.FaultFlip, thrash.FaultReplace)
}

// TestThrashCluster thrashes three nodes of two disks each, which place
// objects (2+2) by one ring over the six disks: four clients spread over
// the nodes for about 40 s, with kill -9s of a node, rounds of flipped
// bytes and a disk replacement, then the final checks, where the
// redundancy check empties each node's disks in turn.
//
// BASALT_THRASH_* apply as to TestThrash.
func TestThrashCluster(t *testing.T) {
	const disksPerNode = 2
	cfg := thrash.Config{
		Duration:        40 * time.Second,
		Clients:         4,
		Faults:          thrash.Faults{Every: 250, Kill: 2, Flip: 2, Replace: 1, MinRounds: 5},
		FillBackTimeout: 3 * time.Minute,
	}
	three := func(t *testing.T) ([]*testserver.Server, thrash.Cluster) {
		servers, _ := startCluster(t, 3, "--disks", fmt.Sprintf("disk{1...%d}", disksPerNode))
		return servers, thrash.NewCluster(servers, disksPerNode)
	}
	if focused(t, &cfg) {
		thrashRun(t, "TestThrashCluster", cfg, 15*time.Minute, three)
		return
	}
	rep := thrashRun(t, "TestThrashCluster", cfg, 15*time.Minute, three)
	checkThrashCoverage(t, rep, thrash.FaultKill, thrash.FaultFlip, thrash.FaultReplace)
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
	rep := thrashRun(t, "TestSoak", cfg, d+time.Hour, oneServer)
	fmt.Printf("\n%s", rep.Summary())
}
