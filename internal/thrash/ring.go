package thrash

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"
)

// settleRounds is how many rebalance rounds over every node the harness
// runs before it decides that the rebalancer does not settle.
const settleRounds = 6

// healPoll is how often the harness asks a node that was cut off whether
// it serves again.
const healPoll = 100 * time.Millisecond

// diskName names disk d of the cluster in the history.
func (t *thrasher) diskName(d diskRef) string {
	node := t.cluster.Nodes()[d.node]
	return node.Name() + " " + filepath.Base(node.Disks()[d.disk])
}

// cut cuts node ni off the network for a time drawn from rng, heals it,
// and waits until it serves again: it answers a bucket listing (which
// needs its Raft leader) and Faults.HealGrace has passed. Operations that
// overlap the cut or the wait are in a fault window.
func (t *thrasher) cut(ctx context.Context, rng *rand.Rand, label string, ni int) error {
	c := t.cluster.(Cutter)
	node := t.cluster.Nodes()[ni]
	half := t.cfg.Faults.CutFor / 2
	d := half + time.Duration(rng.Int64N(int64(t.cfg.Faults.CutFor-half)+1))
	t.fault(label, "cut %s off the network for %s", node.Name(), d.Round(time.Millisecond))
	w := t.openWindow()
	if err := c.Cut(ni); err != nil {
		return fmt.Errorf("%w: cut %s: %w", ErrCluster, node.Name(), err)
	}
	t.count(t.faults, FaultCut, 1)
	timer := time.NewTimer(d)
	select {
	case <-ctx.Done():
	case <-t.violated:
	case <-timer.C:
	}
	timer.Stop()
	if err := c.Heal(ni); err != nil {
		return fmt.Errorf("%w: heal %s: %w", ErrCluster, node.Name(), err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	healed := time.Now()
	if !t.waitServing(ctx, label, node) {
		return nil
	}
	t.fault(label, "%s healed; it lists buckets again after %s", node.Name(), time.Since(healed).Round(time.Millisecond))
	grace := time.NewTimer(t.cfg.Faults.HealGrace)
	defer grace.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.violated:
	case <-grace.C:
	}
	t.closeWindow(w)
	return nil
}

// waitServing polls node with bucket listings until one succeeds, and
// reports whether one did within Config.OpTimeout (a violation if not).
func (t *thrasher) waitServing(ctx context.Context, label string, node Node) bool {
	c, err := t.client(node, true)
	if err != nil {
		t.violate("", "%v", err)
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
	defer cancel()
	tick := time.NewTicker(healPoll)
	defer tick.Stop()
	var last error
	for {
		if _, last = c.ListBuckets(ctx); last == nil {
			return true
		}
		select {
		case <-ctx.Done():
			t.violate("", "%s: %s lists no buckets within %s of the end of its cut: %v", label, node.Name(), t.cfg.OpTimeout, last)
			return false
		case <-tick.C:
		}
	}
}

// drainRound is one round of ring changes under load. A disk drained by
// an earlier round is restored first; then a disk chosen from rng is
// drained. Each change is followed by rebalance rounds on every node until
// one moves nothing, while the load goes on. A ring change moves some
// shards off every disk, not only off the one drained or restored, and
// the store copies them as they are; so a damaged disk is replaced first
// (see the package comment), lest its damage be copied to another node.
func (t *thrasher) drainRound(ctx context.Context, rng *rand.Rand, label string) error {
	rc := t.cluster.(RingChanger)
	if err := t.repairBeforeChange(ctx, label); err != nil || t.failed() {
		return err
	}
	if t.drained.node >= 0 {
		if err := t.restore(ctx, label, rc); err != nil || t.failed() {
			return err
		}
	}
	d := pickDrain(rng, t.cluster.Nodes())
	t.fault(label, "drain %s", t.diskName(d))
	err := rc.DrainDisk(ctx, d.node, d.disk)
	if errors.Is(err, ErrRefused) {
		t.fault(label, "drain of %s refused: %v", t.diskName(d), err)
		t.count(t.faults, "drain-refused", 1)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: drain %s: %w", ErrCluster, t.diskName(d), err)
	}
	t.drained = d
	t.count(t.faults, FaultDrain, 1)
	return t.settle(ctx, label)
}

// repairBeforeChange replaces the damaged disk, if any, as a replacement
// round would (node stopped, disk removed, node started, fill back
// awaited), so that a ring change that follows moves no damaged shard.
func (t *thrasher) repairBeforeChange(ctx context.Context, label string) error {
	if t.damaged.node < 0 {
		return nil
	}
	t.fault(label, "replace the damaged %s before a ring change", t.diskName(t.damaged))
	node := t.cluster.Nodes()[t.damaged.node]
	if err := t.replace(ctx, label, node, []int{t.damaged.disk}, true); err != nil || t.failed() {
		return err
	}
	t.damaged = noDisk
	t.count(t.faults, "repair", 1)
	return nil
}

// restore returns the drained disk to service and settles the cluster.
// In a cluster that can add disks, every other time (the first included)
// it does so by removing the disk from the map and adding it back, a ring
// change that adds a disk; a removal the cluster refuses falls back to a
// restore.
func (t *thrasher) restore(ctx context.Context, label string, rc RingChanger) error {
	d := t.drained
	name := t.diskName(d)
	added := false
	if da, ok := t.cluster.(DiskAdder); ok && t.restores%2 == 0 {
		t.fault(label, "remove %s from the ring", name)
		switch err := da.RemoveDisk(ctx, d.node, d.disk); {
		case errors.Is(err, ErrRefused):
			t.fault(label, "removal of %s refused: %v", name, err)
			t.count(t.faults, "remove-refused", 1)
		case err != nil:
			return fmt.Errorf("%w: remove %s: %w", ErrCluster, name, err)
		default:
			t.fault(label, "add %s to the ring", name)
			if err := da.AddDisk(ctx, d.node, d.disk); err != nil {
				return fmt.Errorf("%w: add %s: %w", ErrCluster, name, err)
			}
			t.count(t.faults, FaultAdd, 1)
			added = true
		}
	}
	if !added {
		t.fault(label, "restore %s", name)
		if err := rc.RestoreDisk(ctx, d.node, d.disk); err != nil {
			return fmt.Errorf("%w: restore %s: %w", ErrCluster, name, err)
		}
	}
	t.restores++
	t.drained = noDisk
	t.count(t.faults, "restore", 1)
	return t.settle(ctx, label)
}

// pickDrain chooses a disk of the cluster to drain.
func pickDrain(rng *rand.Rand, nodes []Node) diskRef {
	var all []diskRef
	for ni, n := range nodes {
		for di := range n.Disks() {
			all = append(all, diskRef{ni, di})
		}
	}
	return all[rng.IntN(len(all))]
}

// settle runs rebalance rounds on every node until a round moves nothing
// and holds nothing on a hand-off. A rebalancer still moving, or failing,
// after settleRounds rounds is a violation: the ring's placement is not
// reached.
func (t *thrasher) settle(ctx context.Context, label string) error {
	rc, ok := t.cluster.(RingChanger)
	if !ok {
		return nil
	}
	began := time.Now()
	var total int64
	var last error
	for round := 1; round <= settleRounds; round++ {
		moved, handoffs, err := rc.Rebalance(ctx)
		t.count(t.faults, "settle-rounds", 1)
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		total += moved
		if err == nil && moved == 0 && handoffs == 0 {
			t.fault(label, "rebalance settled in %d rounds (%d shards moved) in %s", round, total, time.Since(began).Round(time.Millisecond))
			return nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("%d shards moved, %d held on hand-offs", moved, handoffs)
		}
		t.fault(label, "rebalance round %d: %v", round, last)
	}
	t.violate("", "%s: rebalance does not settle: still moving or failing after %d rounds over every node: %v", label, settleRounds, last)
	return nil
}

// settleFinal prepares a cluster whose ring changes for the final checks,
// once the load has stopped: a disk still drained is restored (a damaged
// disk replaced first, as before any ring change), and the rebalancer
// settles, so that every shard is where the usual ring places it.
func (t *thrasher) settleFinal(ctx context.Context) error {
	rc, ok := t.cluster.(RingChanger)
	if !ok {
		return nil
	}
	const label = "FINAL"
	if t.drained.node >= 0 {
		if err := t.repairBeforeChange(ctx, label); err != nil || t.failed() {
			return err
		}
		t.phase("restore %s", t.diskName(t.drained))
		return t.restore(ctx, label, rc)
	}
	t.phase("settle the rebalancer")
	return t.settle(ctx, label)
}

// failTimeout bounds the wait for a failing disk to be taken out of
// service: the load touches every disk many times a second.
const failTimeout = time.Minute

// failRound makes a disk of node ni start failing under load, waits for
// the node to take it out of service (the cluster keeps serving on the
// others), then replaces it as an operator would: the node stopped, the
// disk emptied, the node started, the disk returned to service in the
// ring, and the rebalancer settled onto it.
func (t *thrasher) failRound(ctx context.Context, rng *rand.Rand, label string, ni, di int) error {
	rc := t.cluster.(RingChanger)
	if t.drained.node >= 0 {
		if err := t.restore(ctx, label, rc); err != nil || t.failed() {
			return err
		}
	}
	node := t.cluster.Nodes()[ni]
	d := diskRef{node: ni, disk: di}
	from := len(node.Logs())
	t.fault(label, "%s starts failing", t.diskName(d))
	if err := t.cluster.(DiskFailer).FailDisk(ni, di); err != nil {
		return fmt.Errorf("%w: fail %s: %w", ErrCluster, t.diskName(d), err)
	}
	began := time.Now()
	wctx, cancel := context.WithTimeout(ctx, failTimeout)
	root := node.Disks()[di]
	line, err := waitLine(wctx, node, from, func(line string) bool {
		return strings.Contains(line, msgDiskFailed) && strings.Contains(line, root)
	})
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t.violate("", "%s: failing %s not taken out of service within %s", node.Name(), t.diskName(d), failTimeout)
		return nil
	}
	t.fault(label, "%s taken out of service after %s: %s", t.diskName(d), time.Since(began).Round(time.Millisecond), logAttrs(line))
	t.count(t.faults, FaultFail, 1)
	if err := t.replace(ctx, label, node, []int{di}, rng.IntN(2) == 0); err != nil || t.failed() {
		return err
	}
	if t.damaged == d {
		t.damaged = noDisk
	}
	t.fault(label, "return %s to service", t.diskName(d))
	if err := rc.RestoreDisk(ctx, ni, di); err != nil {
		// The node marks the disk failed in the ring on its own; when
		// that did not get through, the disk is still in service.
		if !strings.Contains(err.Error(), " is in,") {
			return fmt.Errorf("%w: restore %s: %w", ErrCluster, t.diskName(d), err)
		}
		t.fault(label, "%s was never marked failed in the ring: %v", t.diskName(d), err)
	}
	return t.settle(ctx, label)
}
