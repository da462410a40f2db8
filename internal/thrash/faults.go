package thrash

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Log messages of `basalt server` the harness waits for.
const (
	msgFilledBack     = `msg="disks filled back"`
	msgFillIncomplete = `msg="fill back incomplete`
	// A disk taken out of service after repeated I/O errors.
	msgDiskFailed = `msg="disk taken out of service after repeated I/O errors"`
)

// shardHeaderSize is the shard header (shardfmt), left alone by flips so that
// every flip lands in a block (its checksum or its bytes).
const shardHeaderSize = 64

// logPoll is how often the harness looks at a node's log while it waits
// for a line.
const logPoll = 20 * time.Millisecond

// fillBackTries is how many starts the harness gives a node to finish
// filling back a replaced disk (the store retries at each start).
const fillBackTries = 5

// deck deals fault kinds in shuffled rounds.
type deck struct {
	rng   *rand.Rand
	kinds []string
	next  []string
}

func newDeck(rng *rand.Rand, f Faults) *deck {
	d := &deck{rng: rng}
	for kind, n := range map[string]int{FaultKill: f.Kill, FaultFlip: f.Flip, FaultReplace: f.Replace, FaultCut: f.Cut, FaultDrain: f.Drain, FaultFail: f.Fail} {
		for i := 0; i < n; i++ {
			d.kinds = append(d.kinds, kind)
		}
	}
	sort.Strings(d.kinds) // map order must not leak into the schedule
	return d
}

func (d *deck) deal() string {
	if len(d.kinds) == 0 {
		return ""
	}
	if len(d.next) == 0 {
		d.next = append(d.next[:0], d.kinds...)
		d.rng.Shuffle(len(d.next), func(i, j int) { d.next[i], d.next[j] = d.next[j], d.next[i] })
	}
	k := d.next[0]
	d.next = d.next[1:]
	return k
}

// faultLoop injects a fault every Faults.Every acknowledged operations
// until the run's time is up, a check fails or ctx ends.
func (t *thrasher) faultLoop(ctx context.Context) error {
	d := newDeck(rngFor(t.cfg.Seed, 0xdec), t.cfg.Faults)
	deadline := time.NewTimer(t.cfg.Duration)
	defer deadline.Stop()
	since := t.acks.Load()
	timeUp := false
	for round := 1; ; {
		if timeUp && round > t.cfg.Faults.MinRounds {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			timeUp = true
			continue
		case <-t.violated:
			return nil
		case <-t.ackCh:
		}
		kind := ""
		if t.acks.Load()-since >= int64(t.cfg.Faults.Every) {
			kind = d.deal()
		}
		if kind == "" {
			continue
		}
		// Each round draws from a stream of its own (see worker).
		if err := t.inject(ctx, rngFor(t.cfg.Seed, 0xfa017<<40|uint64(round)), round, kind); err != nil {
			return err
		}
		round++
		since = t.acks.Load()
	}
}

// inject runs one fault round.
func (t *thrasher) inject(ctx context.Context, rng *rand.Rand, round int, kind string) error {
	label := fmt.Sprintf("FAULT %d", round)
	nodes := t.cluster.Nodes()
	ni := rng.IntN(len(nodes))
	// At most one disk carries damage the store has not repaired: flips
	// go to it, a replacement replaces it (which repairs it), and a kill
	// takes down its node, so that the shards a fault takes away and the
	// damaged ones are on one node (see the package comment).
	target := t.damaged
	if target.node >= 0 {
		ni = target.node
	}
	node := nodes[ni]
	disks := node.Disks()
	if target.node < 0 {
		target = diskRef{node: ni, disk: rng.IntN(len(disks))}
	}
	switch kind {
	case FaultKill:
		t.fault(label, "kill -9 %s", node.Name())
		w := t.openWindow()
		if err := node.Kill(); err != nil {
			return err
		}
		if err := node.Start(ctx); err != nil {
			return err
		}
		t.closeWindow(w)
		t.fault(label, "%s restarted (%s)", node.Name(), node.Endpoint())
	case FaultFlip:
		files := rng.IntN(t.cfg.Faults.FlipFiles) + 1
		where := ""
		if len(nodes) > 1 {
			where = node.Name() + " "
		}
		n, err := t.flip(rng, label, where, disks[target.disk], files)
		if err != nil {
			return err
		}
		if n > 0 {
			t.damaged = target
		}
		t.count(t.faults, "flip-files", n)
	case FaultReplace:
		graceful := rng.IntN(2) == 0
		if err := t.replace(ctx, label, node, []int{target.disk}, graceful); err != nil {
			return err
		}
		t.damaged = noDisk
	case FaultCut:
		// A cut counts itself, once the node is cut.
		return t.cut(ctx, rng, label, ni)
	case FaultDrain:
		// A drain round counts itself: a drain may be refused.
		return t.drainRound(ctx, rng, label)
	case FaultFail:
		return t.failRound(ctx, rng, label, ni, target.disk)
	}
	t.count(t.faults, kind, 1)
	return nil
}

// fault records an event of a fault (or of the final checks) in the history and the progress log.
func (t *thrasher) fault(label string, format string, args ...any) {
	msg := label + ": " + fmt.Sprintf(format, args...)
	t.hist.add("", msg)
	t.logf("thrash: %s", msg)
}

// flip damages up to files shards of disk, one byte each past the shard
// header, while the node runs. It returns how many it damaged. where
// names the node in the history ("" on one node).
func (t *thrasher) flip(rng *rand.Rand, label, where, disk string, files int) (int, error) {
	all, err := diskShards(disk)
	if err != nil {
		return 0, err
	}
	if len(all) == 0 {
		t.fault(label, "flip: no shards on %s%s yet", where, disk)
		return 0, nil
	}
	n := 0
	for _, i := range rng.Perm(len(all))[:min(files, len(all))] {
		e := all[i]
		off, was, now, err := flipByte(rng, e)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile (overwritten or deleted)
		}
		if err != nil {
			return n, fmt.Errorf("%w: flip %s: %w", ErrCluster, e.id, err)
		}
		if off < 0 {
			continue
		}
		t.fault(label, "flip %s%s shard %s byte %d: %#02x -> %#02x", where, filepath.Base(disk), e.id, off, was, now)
		n++
	}
	return n, nil
}

// flipByte flips some bits of one byte of shard e, past the shard
// header; off (from the shard's start) is -1 when the shard is too short.
// A shard removed since it was listed gives fs.ErrNotExist.
func flipByte(rng *rand.Rand, e shard) (off int64, was, now byte, err error) {
	if e.n <= shardHeaderSize {
		return -1, 0, 0, nil
	}
	f, err := os.OpenFile(e.path, os.O_RDWR, 0)
	if err != nil {
		return -1, 0, 0, err
	}
	defer f.Close()
	if !e.liveIn(f) {
		return -1, 0, 0, fs.ErrNotExist
	}
	off = shardHeaderSize + rng.Int64N(e.n-shardHeaderSize)
	var b [1]byte
	if _, err := f.ReadAt(b[:], e.off+off); err != nil {
		return -1, 0, 0, err
	}
	was = b[0]
	b[0] ^= byte(1 + rng.IntN(255))
	if _, err := f.WriteAt(b[:], e.off+off); err != nil {
		return -1, 0, 0, err
	}
	return off, was, b[0], f.Close()
}

// replace stops node (SIGTERM when graceful, else SIGKILL), removes the
// directories of the given disks, starts it and waits until the store has
// filled them back.
func (t *thrasher) replace(ctx context.Context, label string, node Node, idx []int, graceful bool) error {
	disks := node.Disks()
	var names []string
	for _, i := range idx {
		names = append(names, filepath.Base(disks[i]))
	}
	how := "kill -9"
	if graceful {
		how = "stop"
	}
	t.fault(label, "%s %s, remove %s, start", how, node.Name(), strings.Join(names, ", "))
	w := t.openWindow()
	var err error
	if graceful {
		err = node.Stop()
	} else {
		err = node.Kill()
	}
	if err != nil {
		return err
	}
	for _, i := range idx {
		if err := os.RemoveAll(disks[i]); err != nil {
			return fmt.Errorf("%w: remove %s: %w", ErrCluster, disks[i], err)
		}
	}
	from := len(node.Logs())
	if err := node.Start(ctx); err != nil {
		return err
	}
	t.closeWindow(w)
	t.fault(label, "%s restarted (%s); filling back", node.Name(), node.Endpoint())
	return t.waitFillBack(ctx, label, node, from)
}

// waitFillBack waits for the node's log, from offset from, to say that its
// replaced disks are filled back. When the store says it could not finish
// (it retries at its next start) the node is restarted, a few times.
func (t *thrasher) waitFillBack(ctx context.Context, label string, node Node, from int) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.FillBackTimeout)
	defer cancel()
	began := time.Now()
	for try := 1; ; try++ {
		line, err := waitLog(ctx, node, from, msgFilledBack, msgFillIncomplete)
		if err != nil {
			t.violate("", "%s: replaced disks not filled back within %s: %v", node.Name(), t.cfg.FillBackTimeout, err)
			return nil
		}
		if strings.Contains(line, msgFilledBack) {
			t.fault(label, "%s filled back in %s: %s", node.Name(), time.Since(began).Round(time.Millisecond), logAttrs(line))
			return nil
		}
		t.fault(label, "%s: %s", node.Name(), logAttrs(line))
		logs := node.Logs()
		for _, l := range strings.Split(logs[min(from, len(logs)):], "\n") {
			if strings.Contains(l, `msg="fill back: `) {
				t.fault(label, "%s: %s", node.Name(), logAttrs(l))
			}
		}
		if try == fillBackTries {
			t.violate("", "%s: fill back still incomplete after %d starts: %s", node.Name(), try, line)
			return nil
		}
		t.fault(label, "restart %s to retry the fill back", node.Name())
		w := t.openWindow()
		if err := node.Stop(); err != nil {
			return err
		}
		from = len(node.Logs())
		if err := node.Start(ctx); err != nil {
			return err
		}
		t.closeWindow(w)
	}
}

// logAttrs trims the time and level of a log line.
func logAttrs(line string) string {
	if i := strings.Index(line, "msg="); i >= 0 {
		return line[i:]
	}
	return line
}

// waitLog waits until a line of node's log past offset from contains one
// of subs, and returns that line.
func waitLog(ctx context.Context, node Node, from int, subs ...string) (string, error) {
	return waitLine(ctx, node, from, func(line string) bool {
		for _, s := range subs {
			if strings.Contains(line, s) {
				return true
			}
		}
		return false
	})
}

// waitLine waits until a line of node's log past offset from satisfies
// match, and returns that line.
func waitLine(ctx context.Context, node Node, from int, match func(string) bool) (string, error) {
	tick := time.NewTicker(logPoll)
	defer tick.Stop()
	for {
		logs := node.Logs()
		if from > len(logs) {
			from = len(logs)
		}
		for _, line := range strings.Split(logs[from:], "\n") {
			if match(line) {
				return line, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

// waitAnyLine waits until a line of the log of one of nodes, past its
// offset in from, satisfies match, and returns the node and the line.
func waitAnyLine(ctx context.Context, nodes []Node, from []int, match func(string) bool) (Node, string, error) {
	tick := time.NewTicker(logPoll)
	defer tick.Stop()
	for {
		for i, node := range nodes {
			logs := node.Logs()
			off := min(from[i], len(logs))
			for _, line := range strings.Split(logs[off:], "\n") {
				if match(line) {
					return node, line, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-tick.C:
		}
	}
}
