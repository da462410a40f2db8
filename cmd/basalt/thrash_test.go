package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/basaltstore/basalt/cmd/internal/server"
	"github.com/basaltstore/basalt/internal/testserver"
	"github.com/basaltstore/basalt/internal/thrash"
	"github.com/basaltstore/basalt/objectd"
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

// relayCluster is a thrash.Cluster of `basalt server` processes wired as
// in TestNodeCutOff: node i listens on 127.0.0.<i+1>, with a relay in
// front of its Raft and shard ports that it advertises, so that the nodes
// reach each other only through the relays, which can cut one off
// (thrash.Cutter). Its ring is changed with `basalt admin`
// (thrash.RingChanger). Its methods are called from the test's goroutine.
type relayCluster struct {
	*thrash.Servers
	t       testing.TB
	servers []*testserver.Server
	relays  [][]*testserver.Relay // node i's Raft and shard relays
}

// startRelayCluster starts n nodes ("n1", ...) of disksPerNode disks each
// behind relays; the first bootstraps the Raft group, the others join it.
func startRelayCluster(t testing.TB, n, disksPerNode int) *relayCluster {
	t.Helper()
	c := &relayCluster{t: t}
	join := ""
	for i := range n {
		host := relayHost(i)
		raft, err := testserver.FreeAddr(host)
		if err != nil {
			t.Fatal(err)
		}
		shard, err := testserver.FreeAddr(host)
		if err != nil {
			t.Fatal(err)
		}
		// The relays listen on another address than the node's ports, so
		// that a relay's free port cannot be one just picked for the node.
		front := strings.Replace(host, "127.0.0.", "127.0.1.", 1)
		rr, sr := testserver.StartRelay(t, front, raft), testserver.StartRelay(t, front, shard)
		args := []string{"--node-id", fmt.Sprintf("n%d", i+1), "--raft-address", raft, "--raft-advertise", rr.Addr(),
			"--shard-address", shard, "--shard-advertise", sr.Addr(), "--cluster-secret", clusterSecret,
			"--disks", fmt.Sprintf("disk{1...%d}", disksPerNode)}
		if join != "" {
			args = append(args, "--join", join)
		} else {
			join = rr.Addr()
		}
		c.servers = append(c.servers, testserver.Start(t, testserver.Options{Args: args,
			Env: []string{server.FaultInjectionEnv + "=1"}}))
		c.relays = append(c.relays, []*testserver.Relay{rr, sr})
	}
	c.Servers = thrash.NewCluster(c.servers, disksPerNode)
	return c
}

// relayHost is the IP node i listens and dials from.
func relayHost(i int) string { return fmt.Sprintf("127.0.0.%d", i+1) }

// Cut makes the other nodes' relays drop what node i sends, and node i's
// drop what the others send.
func (c *relayCluster) Cut(i int) error {
	var others []string
	for j := range c.servers {
		if j != i {
			others = append(others, relayHost(j))
		}
	}
	for j, rs := range c.relays {
		for _, r := range rs {
			if j == i {
				r.Block(others...)
			} else {
				r.Block(relayHost(i))
			}
		}
	}
	return nil
}

// Heal lets every node reach every other again.
func (c *relayCluster) Heal(int) error {
	for _, rs := range c.relays {
		for _, r := range rs {
			r.Unblock()
		}
	}
	return nil
}

// FailDisk makes every I/O of node on its disk fail, from now until the
// disk's directory is removed (see server.FaultInjectionEnv).
func (c *relayCluster) FailDisk(node, disk int) error {
	root := c.Nodes()[node].Disks()[disk]
	return os.WriteFile(filepath.Join(root, server.FaultMarker), []byte("failing\n"), 0o644)
}

// diskID is the cluster map's id of disk d of node n (indexes from 0).
func diskID(n, d int) string { return fmt.Sprintf("n%d:d%d", n+1, d+1) }

// admin runs `basalt admin ARGS` through node i.
func (c *relayCluster) admin(ctx context.Context, i int, args ...string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	srv := c.servers[i]
	out, errOut, err := basaltAdmin(c.t, srv, rootEnv(srv), args...)
	if err != nil {
		return out, fmt.Errorf("basalt admin %s through n%d: %w: %s", strings.Join(args, " "), i+1, err, strings.TrimSpace(errOut))
	}
	return out, nil
}

// DrainDisk runs `basalt admin disk drain` through the first node; a
// change the cluster refuses wraps thrash.ErrRefused.
func (c *relayCluster) DrainDisk(ctx context.Context, node, disk int) error {
	_, err := c.admin(ctx, 0, "disk", "drain", diskID(node, disk))
	if err != nil && (strings.Contains(err.Error(), "unplaceable") || strings.Contains(err.Error(), "refused")) {
		return fmt.Errorf("%w: %w", thrash.ErrRefused, err)
	}
	return err
}

// RestoreDisk runs `basalt admin disk restore` through the first node.
func (c *relayCluster) RestoreDisk(ctx context.Context, node, disk int) error {
	_, err := c.admin(ctx, 0, "disk", "restore", diskID(node, disk))
	return err
}

// RemoveDisk runs `basalt admin disk out` and `disk remove` through the
// first node; out is refused while the disk holds records.
func (c *relayCluster) RemoveDisk(ctx context.Context, node, disk int) error {
	if _, err := c.admin(ctx, 0, "disk", "out", diskID(node, disk)); err != nil {
		return fmt.Errorf("%w: %w", thrash.ErrRefused, err)
	}
	_, err := c.admin(ctx, 0, "disk", "remove", diskID(node, disk))
	return err
}

// AddDisk runs `basalt admin disk add` through the first node.
func (c *relayCluster) AddDisk(ctx context.Context, node, disk int) error {
	_, err := c.admin(ctx, 0, "disk", "add", diskID(node, disk))
	return err
}

// Rebalance runs `basalt admin rebalance` on every node, as settle does.
func (c *relayCluster) Rebalance(ctx context.Context) (moved, handoffs int64, err error) {
	var errs []error
	for i := range c.servers {
		out, err := c.admin(ctx, i, "--json", "rebalance")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var st objectd.RebalanceStatus
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			errs = append(errs, fmt.Errorf("rebalance on n%d: %w: %q", i+1, err, out))
			continue
		}
		if st.Failed > 0 {
			errs = append(errs, fmt.Errorf("rebalance on n%d: %d of %d moves failed", i+1, st.Failed, st.Misplaced))
		}
		moved += st.Moved
		handoffs += st.Handoffs
	}
	return moved, handoffs, errors.Join(errs...)
}

// TestThrashCluster thrashes three nodes of two disks each, which place
// objects (2+2) by one ring over the six disks, and reach each other
// through relays: four clients spread over the nodes for about 40 s, with
// kill -9s of a node, rounds of flipped bytes, a disk replacement, a
// disk drained under load twice (the first returned to service by
// removing it from the ring and adding it back, under load; the second
// restored before the final checks), a disk
// that starts failing under load (taken out of service by its node, then
// replaced and returned to service) and a node cut off the network for a
// few seconds, then the final checks, where the redundancy check empties
// each node's disks in turn.
//
// BASALT_THRASH_* apply as to TestThrash.
func TestThrashCluster(t *testing.T) {
	const disksPerNode = 2
	cfg := thrash.Config{
		Duration:        40 * time.Second,
		Clients:         4,
		Faults:          thrash.Faults{Every: 250, Kill: 2, Flip: 2, Replace: 1, Drain: 2, Fail: 1, Cut: 1, MinRounds: 9},
		FillBackTimeout: 3 * time.Minute,
	}
	three := func(t *testing.T) ([]*testserver.Server, thrash.Cluster) {
		c := startRelayCluster(t, 3, disksPerNode)
		return c.servers, c
	}
	if focused(t, &cfg) {
		thrashRun(t, "TestThrashCluster", cfg, 15*time.Minute, three)
		return
	}
	rep := thrashRun(t, "TestThrashCluster", cfg, 15*time.Minute, three)
	checkThrashCoverage(t, rep, thrash.FaultKill, thrash.FaultFlip, thrash.FaultReplace, thrash.FaultDrain, thrash.FaultFail, thrash.FaultCut)
	// Every drained disk was restored (the last before the final checks),
	// after rebalance rounds that settled; the first by removing it from
	// the ring and adding it back.
	if rep.Faults["restore"] != rep.Faults[thrash.FaultDrain] || rep.Faults["settle-rounds"] == 0 {
		t.Errorf("%d drains, %d restores, %d rebalance rounds: %v", rep.Faults[thrash.FaultDrain], rep.Faults["restore"], rep.Faults["settle-rounds"], rep.Faults)
	}
	if rep.Faults[thrash.FaultAdd]+rep.Faults["remove-refused"] == 0 {
		t.Errorf("no drained disk was removed from the ring and added back: %v", rep.Faults)
	}
}

// soakDuration is BASALT_SOAK_DURATION (default 20m); it skips the test
// unless BASALT_SOAK=1, the long runs being opt-in (make soak).
func soakDuration(t *testing.T) time.Duration {
	t.Helper()
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
	return d
}

// TestSoak is the long single-server thrash of `make soak`, opt-in:
// BASALT_SOAK=1, for BASALT_SOAK_DURATION (default 20m); BASALT_THRASH_*
// apply as to TestThrash.
func TestSoak(t *testing.T) {
	d := soakDuration(t)
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

// TestSoakCluster is the long cluster thrash of `make soak`: the deck of
// TestThrashCluster (every fault kind, a cut and a drain included) dealt
// for BASALT_SOAK_DURATION, opt-in like TestSoak.
func TestSoakCluster(t *testing.T) {
	d := soakDuration(t)
	const disksPerNode = 2
	cfg := thrash.Config{
		Duration:        d,
		Clients:         4,
		Keys:            96,
		Faults:          thrash.Faults{Every: 250, Kill: 2, Flip: 2, Replace: 1, Drain: 1, Fail: 1, Cut: 1},
		FillBackTimeout: 5 * time.Minute,
	}
	focused(t, &cfg)
	rep := thrashRun(t, "TestSoakCluster", cfg, d+time.Hour, func(t *testing.T) ([]*testserver.Server, thrash.Cluster) {
		c := startRelayCluster(t, 3, disksPerNode)
		return c.servers, c
	})
	fmt.Printf("\n%s", rep.Summary())
}
