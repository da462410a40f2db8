package thrash

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// Check kinds of the final phase, as they appear in Report.Checks.
const (
	CheckFinalGet   = "final-get"    // a key read back after the load stopped
	CheckFinalList  = "final-list"   // a listing after the load stopped
	CheckRedundancy = "redundancy"   // a key read back with Parity disks removed
	CheckBarrier    = "heal-barrier" // the healer went through its queue
)

// finalChecks runs once the load has stopped: every key and listing agrees
// with the model, then full redundancy.
func (t *thrasher) finalChecks(ctx context.Context) error {
	nodes := t.cluster.Nodes()
	// Shards on hand-offs or left by a ring change go home first, so that
	// the redundancy check starts from the ring's placement.
	if err := t.settleFinal(ctx); err != nil || t.failed() {
		return err
	}
	t.phase("verify every key and listing")
	if err := t.verifyAll(ctx, nodes[:1], t.withOther(0), CheckFinalGet, true); err != nil || t.failed() {
		return err
	}
	// The reads above queued a heal for every object that lacks a shard
	// the store can see is missing; wait for the healer to get through.
	if err := t.healBarrier(ctx); err != nil || t.failed() {
		return err
	}
	if len(nodes) == 1 {
		return t.redundancy(ctx, nodes[0])
	}
	return t.redundancyNodes(ctx)
}

// withOther returns node i of the cluster and the one after it (node i
// alone in a cluster of one).
func (t *thrasher) withOther(i int) []Node {
	nodes := t.cluster.Nodes()
	if len(nodes) == 1 {
		return nodes
	}
	return []Node{nodes[i], nodes[(i+1)%len(nodes)]}
}

func (t *thrasher) phase(format string, args ...any) {
	msg := "PHASE: " + fmt.Sprintf(format, args...)
	t.hist.add("", msg)
	t.logf("thrash: %s", msg)
}

// verifyAll reads every key of the key space in full, in turn through
// each of readers, and lists the bucket and each prefix through each of
// listers, checking them against the model. With pin, each key's value is
// then fixed to what was read (no operation is in flight, so the read shows
// which of the allowed values took effect); later checks must find exactly
// that.
func (t *thrasher) verifyAll(ctx context.Context, readers, listers []Node, kind string, pin bool) error {
	var rcs []*minio.Core
	for _, n := range readers {
		c, err := t.client(n, false)
		if err != nil {
			return err
		}
		rcs = append(rcs, c)
	}
	for ki, key := range t.keys {
		c := rcs[ki%len(rcs)]
		o := &op{t: t, base: ctx, c: c, client: "check", node: readers[ki%len(rcs)].Name(), kind: kind, key: key, id: t.opSeq.Add(1)}
		octx, cancel := o.ctx()
		start := t.model.BeginRead()
		n, sum, ferr := o.fetch(octx)
		cancel()
		end, allowed, _ := t.model.EndReadKey(start, key)
		if ferr != nil && !isCode(ferr, "NoSuchKey") {
			o.log("[%d,%d] ERROR %v (through %s)", start, end, ferr, readers[ki%len(rcs)].Name())
			t.violate(key, "%s %s: read through %s failed after the load stopped: %v", kind, key, readers[ki%len(rcs)].Name(), ferr)
			return nil
		}
		if !o.checkFull(start, end, allowed, n, sum, ferr) {
			return nil
		}
		if pin {
			got := Absent
			if ferr == nil {
				for _, v := range allowed {
					if !v.IsAbsent() && v.Size == n && v.Sum == sum {
						got = v
						break
					}
				}
			}
			t.model.Pin(key, got)
			o.log("pinned to %s", got)
		}
	}
	for _, n := range listers {
		if err := t.verifyLists(ctx, n, kind); err != nil || t.failed() {
			return err
		}
	}
	return nil
}

// verifyLists lists the bucket and each prefix through node and checks
// the listings against the model.
func (t *thrasher) verifyLists(ctx context.Context, node Node, kind string) error {
	c, err := t.client(node, false)
	if err != nil {
		return err
	}
	listKind := CheckFinalList
	if kind == CheckRedundancy {
		listKind = CheckRedundancy + "-list"
	}
	for _, prefix := range append([]string{""}, t.prefix...) {
		octx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
		start := t.model.BeginRead()
		listed, err := listAll(octx, c, t.cfg.Bucket, prefix)
		cancel()
		var keys []string
		for _, k := range t.keys {
			if strings.HasPrefix(k, prefix) {
				keys = append(keys, k)
			}
		}
		_, allowed := t.model.EndRead(start, keys...)
		if err != nil {
			t.violate("", "%s: list %q through %s failed after the load stopped: %v", listKind, prefix, node.Name(), err)
			return nil
		}
		if !t.checkListing(fmt.Sprintf("%s %q through %s", listKind, prefix, node.Name()), listed, keys, allowed, listKind) {
			return nil
		}
	}
	return nil
}

// healBarrier waits until the store's healer has worked through every
// request queued so far. The healer takes requests in order, one at a
// time; the barrier queues one more and waits for it to be done: it puts
// an object stored as shards (not inline), damages the first block of its first
// data shard, and reads it, which queues its repair (and must still return
// the right bytes). Everything goes through node 0, which served the reads
// that queued heals; the shard may be on any node's disks, and the
// heal is awaited in every node's log.
func (t *thrasher) healBarrier(ctx context.Context) error {
	nodes := t.cluster.Nodes()
	c, err := t.client(nodes[0], false)
	if err != nil {
		return err
	}
	t.phase("heal barrier")
	shards := func() ([]shard, error) {
		var all []shard
		for _, n := range nodes {
			for _, d := range n.Disks() {
				ext, err := diskShards(d)
				if err != nil {
					return nil, err
				}
				all = append(all, ext...)
			}
		}
		return all, nil
	}
	old, err := shards()
	if err != nil {
		return err
	}
	before := map[shard]bool{}
	for _, e := range old {
		before[e] = true
	}
	key := fmt.Sprintf("barrier-%d", t.opSeq.Add(1))
	const size = 256 << 10
	v := newValue(t.valueSeq.Add(1), size)
	octx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
	defer cancel()
	if _, err := c.PutObject(octx, t.barrierBucket(), key, newContentReader(v.ID, 0, size), size, "", "", minio.PutObjectOptions{}); err != nil {
		t.violate("", "heal barrier: put %s: %v", key, err)
		return nil
	}
	// The new shards are the barrier object's (nothing else writes).
	now, err := shards()
	if err != nil {
		return err
	}
	var target shard
	for _, e := range now {
		if before[e] {
			continue
		}
		if idx, err := shardIndex(e); err == nil && idx == 0 {
			target = e
		}
	}
	if target.path == "" {
		t.violate("", "heal barrier: no shard with index 0 appeared for %s", key)
		return nil
	}
	from := make([]int, len(nodes))
	for i, n := range nodes {
		from[i] = len(n.Logs())
	}
	if err := damageFirstBlock(target); err != nil {
		return fmt.Errorf("%w: heal barrier: %w", ErrCluster, err)
	}
	body, _, _, err := c.GetObject(octx, t.barrierBucket(), key, minio.GetObjectOptions{})
	if err != nil {
		t.violate("", "heal barrier: get %s: %v", key, err)
		return nil
	}
	n, sum, _, err := readAll(body, false)
	body.Close()
	if err != nil || n != v.Size || sum != v.Sum {
		t.violate("", "heal barrier: %s read back as %d bytes sha256 %x (err %v) after one shard was damaged, want %s", key, n, sum[:4], err, v)
		return nil
	}
	who, line, err := waitAnyLine(octx, nodes, from, func(line string) bool {
		return strings.Contains(line, `msg="healed object"`) && strings.Contains(line, " key="+key+" ") &&
			strings.Contains(line, " bucket="+t.barrierBucket()+" ")
	})
	if err != nil {
		t.violate("", "heal barrier: %s not healed: %v", key, err)
		return nil
	}
	t.phase("healer done on %s: %s", who.Name(), logAttrs(line))
	t.count(t.checks, CheckBarrier, 1)
	return nil
}

// shardIndex reads the shard index from a shard's header.
func shardIndex(e shard) (int, error) {
	f, err := os.Open(e.path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h [9]byte
	if _, err := f.ReadAt(h[:], e.off); err != nil {
		return 0, err
	}
	if !bytes.Equal(h[:4], []byte("BSHD")) {
		return 0, fmt.Errorf("%w: %s is not a shard", ErrCluster, e.id)
	}
	return int(h[8]), nil
}

// damageFirstBlock flips the first payload byte of a shard's first block.
func damageFirstBlock(e shard) error {
	f, err := os.OpenFile(e.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var b [1]byte
	off := e.off + shardHeaderSize + 4
	if _, err := f.ReadAt(b[:], off); err != nil {
		return err
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], off); err != nil {
		return err
	}
	return f.Close()
}

// redundancy checks that every object is on every disk again: the disks
// are split into groups of Parity, and for each group in turn the node is
// stopped, the group's directories removed, the node started, every key
// and listing read back, and the group filled back. The first group holds
// the disk with damage not yet repaired, if any, so that what is read
// comes only from disks the store should have made whole.
func (t *thrasher) redundancy(ctx context.Context, node Node) error {
	rng := rngFor(t.cfg.Seed, 0x4ed)
	disks := node.Disks()
	order := rng.Perm(len(disks))
	if t.damaged.node >= 0 {
		for i, d := range order {
			if d == t.damaged.disk {
				order[0], order[i] = order[i], order[0]
			}
		}
	}
	var groups [][]int
	for len(order) > 0 {
		n := min(t.cfg.Parity, len(order))
		groups = append(groups, order[:n])
		order = order[n:]
	}
	for gi, g := range groups {
		if err := t.without(ctx, fmt.Sprintf("%d/%d", gi+1, len(groups)), 0, g); err != nil || t.failed() {
			return err
		}
	}
	t.phase("full redundancy: every disk refilled, every key read back")
	return t.verifyAll(ctx, []Node{node}, []Node{node}, CheckRedundancy, false)
}

// redundancyNodes is redundancy for a cluster of several nodes: for each
// node in turn (the one with damage not yet repaired first), Parity of its
// disks (all, if it has no more) are removed while it is down, every key
// and listing is read back through it and the next node, and the node
// fills them back before the next one is taken.
func (t *thrasher) redundancyNodes(ctx context.Context) error {
	rng := rngFor(t.cfg.Seed, 0x4ed)
	nodes := t.cluster.Nodes()
	order := make([]int, len(nodes))
	for i := range order {
		order[i] = i
	}
	if t.damaged.node > 0 {
		order[0], order[t.damaged.node] = order[t.damaged.node], order[0]
	}
	for oi, ni := range order {
		disks := nodes[ni].Disks()
		perm := rng.Perm(len(disks))
		if t.damaged.node == ni {
			for i, d := range perm {
				if d == t.damaged.disk {
					perm[0], perm[i] = perm[i], perm[0]
				}
			}
		}
		g := perm[:min(t.cfg.Parity, len(disks))]
		if err := t.without(ctx, fmt.Sprintf("%d/%d", oi+1, len(order)), ni, g); err != nil || t.failed() {
			return err
		}
	}
	t.phase("full redundancy: every node's disks refilled, every key read back")
	return t.verifyAll(ctx, t.withOther(0), t.withOther(0), CheckRedundancy, false)
}

// without stops node ni, removes its disks g, starts it, reads every key
// and listing back (through it and, in a cluster, the next node) and waits
// until the node has filled the disks back.
func (t *thrasher) without(ctx context.Context, step string, ni int, g []int) error {
	node := t.cluster.Nodes()[ni]
	disks := node.Disks()
	var names []string
	for _, i := range g {
		names = append(names, filepath.Base(disks[i]))
	}
	what := strings.Join(names, ", ")
	if len(t.cluster.Nodes()) > 1 {
		what = node.Name() + " " + what
	}
	t.phase("redundancy %s: without %s", step, what)
	began := time.Now()
	if err := node.Stop(); err != nil {
		return err
	}
	for _, i := range g {
		if err := os.RemoveAll(disks[i]); err != nil {
			return fmt.Errorf("%w: remove %s: %w", ErrCluster, disks[i], err)
		}
	}
	from := len(node.Logs())
	if err := node.Start(ctx); err != nil {
		return err
	}
	through := t.withOther(ni)
	if err := t.verifyAll(ctx, through, through, CheckRedundancy, false); err != nil || t.failed() {
		return err
	}
	t.phase("every key read back without %s in %s", what, time.Since(began).Round(time.Millisecond))
	if err := t.waitFillBack(ctx, "REDUNDANCY "+step, node, from); err != nil || t.failed() {
		return err
	}
	if t.damaged.node == ni && slices.Contains(g, t.damaged.disk) {
		t.damaged = noDisk
	}
	return nil
}
