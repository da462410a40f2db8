package raftmap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/basaltstore/basalt/ring"
)

func mustPropose(t testing.TB, ctx context.Context, n *Node, cmd Command) Result {
	t.Helper()
	res, err := n.Propose(ctx, cmd)
	if err != nil {
		t.Fatalf("%s: propose %s: %v", n.ID(), cmd.Op(), err)
	}
	return res
}

func TestConfigValidate(t *testing.T) {
	good := testConfig(t, t.TempDir(), "n1")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"id":      func(c *Config) { c.ID = "bad id" },
		"dir":     func(c *Config) { c.Dir = "" },
		"bind":    func(c *Config) { c.Bind = "" },
		"secret":  func(c *Config) { c.Secret = []byte("short") },
		"timings": func(c *Config) { c.LeaderLeaseTimeout = time.Hour },
	} {
		c := good
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := good
	c.Bind = "0.0.0.0:0"
	if _, err := Open(c); !errors.Is(err, ErrConfig) {
		t.Fatalf("wildcard bind without advertise: %v", err)
	}
}

// TestSingleNode: a one-voter group takes writes, refuses bad ones the
// same way, refuses losing its last voter, and keeps its state over
// restarts, from the log and then from a snapshot.
func TestSingleNode(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	cfg := testConfig(t, dir, "solo")
	cfg.Bootstrap = true
	cfg.TrailingLogs = 2
	n := open(t, cfg)
	waitLeaderSelf(t, ctx, n)

	watch := n.Watch(ctx)
	if e := <-watch; e != 0 {
		t.Fatalf("first epoch %d", e)
	}
	r1 := mustPropose(t, ctx, n, MapChange{ring.AddNode{ID: "n1", Zone: "z1", Address: "127.0.0.1:9001"}})
	if r1.Epoch != 1 {
		t.Fatalf("result %+v", r1)
	}
	if e := <-watch; e != 1 {
		t.Fatalf("watched epoch %d, want 1", e)
	}
	mustPropose(t, ctx, n, MapChange{ring.AddDisk{ID: "d1", Node: "n1", Weight: 10}})
	mustPropose(t, ctx, n, PutDomain{Domain{ID: DefaultDomain, Name: "Default", Created: t0}})
	mustPropose(t, ctx, n, PutProject{Project{ID: "p1", Name: "alpha", Domain: DefaultDomain, Created: t0}})
	mustPropose(t, ctx, n, CreateBucket{Bucket{Name: "b1", Owner: "p1", Created: t0}})
	mustPropose(t, ctx, n, PutUser{User{ID: "alice", Name: "alice", Domain: DefaultDomain, Created: t0}})
	mustPropose(t, ctx, n, PutKey{Key{AccessKey: "AKIA1", Secret: "sec", User: "alice", Created: t0}})
	if e := <-watch; e != 2 {
		t.Fatalf("watched epoch %d, want 2", e)
	}

	res, err := n.Propose(ctx, CreateBucket{Bucket{Name: "b1", Created: t0}})
	if !errors.Is(err, ErrBucketExists) || res.Index == 0 {
		t.Fatalf("duplicate bucket: %+v %v", res, err)
	}
	if _, err := n.Propose(ctx, MapChange{ring.RemoveDisk{Disk: "d1"}}); !errors.Is(err, ring.ErrInUse) || !errors.Is(err, ErrMapRefused) {
		t.Fatalf("removing an in disk: %v", err)
	}
	if err := n.Remove(ctx, "solo"); !errors.Is(err, ErrLastVoter) {
		t.Fatalf("removing the last voter: %v", err)
	}
	if err := n.Remove(ctx, "ghost"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("removing an unknown node: %v", err)
	}
	if m, _ := n.Members(); len(m) != 1 || !m[0].Voter {
		t.Fatalf("members %+v", m)
	}
	if k, ok := n.Key("AKIA1"); !ok || k.User != "alice" {
		t.Fatalf("key %+v %v", k, ok)
	}
	want := stateOf(t, n)

	// Restart: the state comes back from the log.
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Propose(ctx, DeleteBucket{Name: "b1"}); !errors.Is(err, ErrShutdown) {
		t.Fatalf("propose after shutdown: %v", err)
	}
	n = reopen(t, cfg, n)
	if err := n.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, n); !bytes.Equal(got, want) {
		t.Fatalf("after restart:\n%s\nwant\n%s", got, want)
	}

	// Snapshot, write more, restart: snapshot plus the log after it.
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	snapIndex := n.AppliedIndex()
	if first, _ := n.store.FirstIndex(); first <= 1 {
		t.Fatalf("log not compacted after a snapshot: first index %d", first)
	}
	mustPropose(t, ctx, n, CreateBucket{Bucket{Name: "b2", Created: t0}})
	mustPropose(t, ctx, n, MapChange{ring.SetWeight{Disk: "d1", Weight: 20}})
	want = stateOf(t, n)
	if err := n.Shutdown(); err != nil {
		t.Fatal(err)
	}
	n = reopen(t, cfg, n)
	// Open restores the snapshot before it returns.
	if got := n.AppliedIndex(); got < snapIndex {
		t.Fatalf("applied %d after open, snapshot holds %d", got, snapIndex)
	}
	if _, ok := n.Bucket("b1"); !ok {
		t.Fatal("bucket b1 not restored from the snapshot")
	}
	if err := n.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, n); !bytes.Equal(got, want) {
		t.Fatalf("after snapshot restart:\n%s\nwant\n%s", got, want)
	}
	if d, _ := n.Map().Disk("d1"); d.Weight != 20 {
		t.Fatalf("disk d1 = %+v", d)
	}
}

// cluster opens n nodes; the first bootstraps and adds the others.
func cluster(t testing.TB, ctx context.Context, size int, tune func(*Config)) ([]*Node, []Config) {
	t.Helper()
	dir := t.TempDir()
	var nodes []*Node
	var cfgs []Config
	for i := range size {
		cfg := testConfig(t, dir, fmt.Sprintf("n%d", i+1))
		cfg.Bootstrap = i == 0
		if tune != nil {
			tune(&cfg)
		}
		nodes = append(nodes, open(t, cfg))
		cfgs = append(cfgs, cfg)
	}
	waitLeaderSelf(t, ctx, nodes[0])
	for _, n := range nodes[1:] {
		if err := nodes[0].Join(ctx, n.ID(), n.Addr()); err != nil {
			t.Fatalf("join %s: %v", n.ID(), err)
		}
	}
	return nodes, cfgs
}

func TestThreeNodes(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	var nodes []*Node
	var cfgs []Config
	for i := range 3 {
		cfg := testConfig(t, dir, fmt.Sprintf("n%d", i+1))
		cfg.Bootstrap = i == 0
		nodes = append(nodes, open(t, cfg))
		cfgs = append(cfgs, cfg)
	}
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	waitLeaderSelf(t, ctx, n1)
	// n2 is added by the leader; n3 asks n2, which forwards to the leader.
	if err := n1.Join(ctx, "n2", n2.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := n3.RequestJoin(ctx, n2.Addr(), true); err != nil {
		t.Fatal(err)
	}
	// Joining again is a no-op.
	if err := n2.Join(ctx, "n3", n3.Addr()); err != nil {
		t.Fatalf("join again: %v", err)
	}
	members, err := n1.Members()
	if err != nil || len(members) != 3 {
		t.Fatalf("members %+v %v", members, err)
	}
	for _, m := range members {
		if !m.Voter {
			t.Fatalf("%s is not a voter", m.ID)
		}
	}
	leader := leaderOf(t, ctx, n1, n2, n3)
	var follower *Node
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}

	// A write through a follower is forwarded; errors keep their
	// sentinels across the hop.
	watch := nodes[2].Watch(ctx)
	<-watch
	res := mustPropose(t, ctx, follower, MapChange{ring.AddNode{ID: "s1", Zone: "z1"}})
	if res.Epoch != 1 || res.Index == 0 {
		t.Fatalf("forwarded result %+v", res)
	}
	mustPropose(t, ctx, follower, CreateBucket{Bucket{Name: "shared", Created: t0}})
	if _, err := follower.Propose(ctx, CreateBucket{Bucket{Name: "shared", Created: t0}}); !errors.Is(err, ErrBucketExists) {
		t.Fatalf("forwarded duplicate bucket: %v", err)
	}
	if _, err := follower.Propose(ctx, MapChange{ring.AddNode{ID: "s1", Zone: "z1"}}); !errors.Is(err, ring.ErrDuplicate) || !errors.Is(err, ErrMapRefused) {
		t.Fatalf("forwarded duplicate node: %v", err)
	}
	if e := <-watch; e != 1 {
		t.Fatalf("%s watched epoch %d", nodes[2].ID(), e)
	}
	converge(t, ctx, nodes...)
	for _, n := range nodes {
		if _, ok := n.Bucket("shared"); !ok {
			t.Fatalf("%s: bucket missing after Sync", n.ID())
		}
	}

	// Membership refusals, from the leader and through a follower.
	dup := open(t, Config{ID: "n2", Dir: dir + "/dup", Bind: "127.0.0.1:0", Secret: testSecret, Logger: testLogger()})
	if err := leader.Join(ctx, "n2", dup.Addr()); !errors.Is(err, ErrDuplicateNode) {
		t.Fatalf("duplicate id: %v", err)
	}
	if err := dup.RequestJoin(ctx, follower.Addr(), true); !errors.Is(err, ErrDuplicateNode) {
		t.Fatalf("duplicate id via a follower: %v", err)
	}
	if err := follower.Join(ctx, "n9", n3.Addr()); !errors.Is(err, ErrDuplicateNode) {
		t.Fatalf("duplicate address: %v", err)
	}
	stranger := open(t, Config{ID: "n5", Dir: dir + "/n5", Bind: "127.0.0.1:0", Secret: []byte("some-other-cluster-secret"), Logger: testLogger()})
	if err := stranger.RequestJoin(ctx, n1.Addr(), true); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("join with a wrong secret: %v", err)
	}
	if err := follower.Join(ctx, "n5", stranger.Addr()); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("adding a node with a wrong secret: %v", err)
	}
	if err := follower.Join(ctx, "n7", dup.Addr()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("adding a node under another id: %v", err)
	}
	if m, _ := leader.Members(); len(m) != 3 {
		t.Fatalf("refused joins changed the members: %+v", m)
	}

	// A non-voter receives the log and serves local reads.
	cfg4 := testConfig(t, dir, "n4")
	n4 := open(t, cfg4)
	if err := n4.RequestJoin(ctx, follower.Addr(), false); err != nil {
		t.Fatal(err)
	}
	if err := n4.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := n4.Bucket("shared"); !ok || n4.Map().Epoch != 1 {
		t.Fatal("non-voter did not receive the state")
	}
	if err := follower.Remove(ctx, "n4"); err != nil {
		t.Fatal(err)
	}

	// Kill the leader: the others elect a new one, and writes resume.
	old := leader.ID()
	var survivors []*Node
	for _, n := range nodes {
		if n != leader {
			survivors = append(survivors, n)
		}
	}
	start := time.Now()
	if err := leader.Shutdown(); err != nil {
		t.Fatal(err)
	}
	newID := waitNewLeader(t, ctx, survivors[0], old)
	elected := time.Since(start)
	mustPropose(t, ctx, survivors[1], CreateBucket{Bucket{Name: "after-failover", Created: t0}})
	t.Logf("failover: new leader %s known after %v, first write after %v", newID, elected, time.Since(start))
	converge(t, ctx, survivors...)

	// The old leader comes back as a follower and catches up.
	var idx int
	for i, n := range nodes {
		if n == leader {
			idx = i
		}
	}
	back := reopen(t, cfgs[idx], leader)
	nodes[idx] = back
	state := converge(t, ctx, append(survivors, back)...)
	if !bytes.Contains(state, []byte("after-failover")) {
		t.Fatal("write after failover missing")
	}
}

// TestSnapshotInstall: a follower that was down while the leader
// compacted its log catches up from the leader's snapshot.
func TestSnapshotInstall(t *testing.T) {
	ctx := ctxT(t)
	nodes, cfgs := cluster(t, ctx, 3, func(c *Config) { c.TrailingLogs = 2 })
	leader := leaderOf(t, ctx, nodes...)
	var late *Node
	var lateCfg Config
	for i, n := range nodes {
		if n != leader {
			late, lateCfg = n, cfgs[i]
		}
	}
	mustPropose(t, ctx, leader, PutDomain{Domain{ID: "d0", Name: "d0", Created: t0}})
	converge(t, ctx, nodes...)
	if err := late.Shutdown(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustPropose(t, ctx, leader, PutDomain{Domain{ID: fmt.Sprintf("d%d", i+1), Name: fmt.Sprintf("d%d", i+1), Created: t0}})
	}
	mustPropose(t, ctx, leader, MapChange{ring.AddNode{ID: "s1", Zone: "z"}})
	if err := leader.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if first, _ := leader.store.FirstIndex(); first <= late.AppliedIndex() {
		t.Fatalf("leader's log still holds %d, which %s has", first, late.ID())
	}
	live := slices.DeleteFunc(slices.Clone(nodes), func(n *Node) bool { return n == late })
	want := converge(t, ctx, live...)
	late = reopen(t, lateCfg, late)
	if err := late.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, late); !bytes.Equal(got, want) {
		t.Fatalf("late follower:\n%s\nwant\n%s", got, want)
	}
	if d, ok := late.View().Domain("d20"); !ok || !d.Created.Equal(t0) {
		t.Fatalf("domain d20 = %+v %v", d, ok)
	}
}

// TestNoLeaderRefuses: a node cut off from its group's majority refuses
// writes and Sync once ctx ends, instead of serving stale state as
// current.
func TestNoLeaderRefuses(t *testing.T) {
	ctx := ctxT(t)
	nodes, _ := cluster(t, ctx, 3, nil)
	leader := leaderOf(t, ctx, nodes...)
	var rest []*Node
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	if err := rest[0].Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := rest[1].Shutdown(); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	if _, err := leader.Propose(short, CreateBucket{Bucket{Name: "lonely", Created: t0}}); err == nil {
		t.Fatal("a minority committed a write")
	}
	short2, cancel2 := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel2()
	if err := leader.Sync(short2); !errors.Is(err, ErrNoLeader) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sync in a minority: %v", err)
	}
}
