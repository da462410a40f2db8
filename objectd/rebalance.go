package objectd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/basaltstore/basalt/objectd/disk"
)

// RebalanceStatus describes the rebalancer of this node: the shards its
// disks hold that the current ring places elsewhere.
type RebalanceStatus struct {
	Running bool   `json:"running"`
	Epoch   uint64 `json:"epoch"` // ring epoch of the pass running or last done
	// Misplaced and MisplacedBytes are what the pass found to move;
	// Moved and MovedBytes what it has moved so far.
	Misplaced      int64 `json:"misplaced"`
	MisplacedBytes int64 `json:"misplaced_bytes"`
	Moved          int64 `json:"moved"`
	MovedBytes     int64 `json:"moved_bytes"`
	Failed         int64 `json:"failed"`
	// Handoffs are shards this node's disks hold for a primary that is
	// down; they move home once it is back.
	Handoffs int64         `json:"handoffs"`
	Rate     int64         `json:"rate"` // throttle, bytes per second
	Estimate time.Duration `json:"estimate"`
	Started  time.Time     `json:"started"`
	Finished time.Time     `json:"finished"`
}

type rebalancer struct {
	mu     sync.Mutex
	status RebalanceStatus
	kick   chan struct{}
	// checked is the ring epoch whose placement this node's disks were
	// last checked against (repairs queued for sets missing shards); a
	// pass for the same epoch only moves misplaced shards.
	checked uint64
	// onHandoff is set when the last pass found shards held on hand-offs
	// (their primary was down): passes then run often, to move them home
	// once the primary is back.
	onHandoff bool
}

// handoffRetry is how often passes run while shards sit on hand-offs.
const handoffRetry = 30 * time.Second

var rebalancedKey = []byte("s/rebalanced-epoch")

// kickRebalance asks for a rebalance pass (after a layout change).
func (s *Store) kickRebalance() {
	select {
	case s.rebal.kick <- struct{}{}:
	default:
	}
}

// RebalanceStatus reports the rebalancer's progress.
func (s *Store) RebalanceStatus() RebalanceStatus {
	s.rebal.mu.Lock()
	defer s.rebal.mu.Unlock()
	st := s.rebal.status
	st.Rate = s.cfg.RebalanceRate
	if st.Running && st.MovedBytes > 0 {
		el := time.Since(st.Started)
		left := st.MisplacedBytes - st.MovedBytes
		if left > 0 {
			st.Estimate = time.Duration(float64(el) * float64(left) / float64(st.MovedBytes))
		}
	}
	return st
}

// rebalanceLoop runs a pass when the layout changes and every
// RebalanceInterval, until the store closes.
func (s *Store) rebalanceLoop() {
	defer s.wg.Done()
	for {
		wait := s.cfg.RebalanceInterval
		s.rebal.mu.Lock()
		if s.rebal.onHandoff {
			wait = min(wait, handoffRetry)
		}
		s.rebal.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-s.rebal.kick:
		case <-t.C:
		}
		t.Stop()
		if s.layout.Load() == nil {
			continue
		}
		ctx, cancel := s.stopContext()
		if _, err := s.rebalance(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("rebalance pass failed", "err", err)
		}
		cancel()
	}
}

// misplaced is one record on one of this node's disks that the ring
// places on another disk.
type misplaced struct {
	src         disk.Volume
	rkey        []byte
	bucket, key string
	versionID   string
	bytes       int64
}

// Rebalance runs a pass now, and waits for the repairs queued meanwhile.
// A pass moves every shard this node's disks hold that the current
// layout places on another disk to that disk (copy, then remove here),
// and queues a repair for objects whose set lacks a shard. It returns the
// pass's figures. A pass with nothing misplaced costs one scan of the
// local metadata; the check of each set (a read of its records) runs only
// once per ring epoch, and on every pass asked for with Rebalance.
func (s *Store) Rebalance(ctx context.Context) (RebalanceStatus, error) {
	// Another node's disk that was down may be back: ask it, so that what
	// its hand-offs hold goes home in this pass.
	if v := s.layout.Load(); v != nil {
		for _, d := range v.all {
			if d.Failed() && !slices.Contains(s.disks, d) && d.Healthy() == nil {
				d.Reinstate()
			}
		}
	}
	s.rebal.mu.Lock()
	s.rebal.checked = 0
	s.rebal.mu.Unlock()
	st, err := s.rebalance(ctx)
	if err != nil {
		return st, err
	}
	// The repairs the pass queued (sets missing a shard) are part of it.
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for s.queued.Load() > 0 {
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("objectd: rebalance: waiting for %d repairs: %w", s.queued.Load(), ctx.Err())
		case <-t.C:
		}
	}
	return st, nil
}

func (s *Store) rebalance(ctx context.Context) (RebalanceStatus, error) {
	v := s.layout.Load()
	if v == nil {
		return RebalanceStatus{}, nil
	}
	epoch := v.Ring.Epoch()
	s.rebal.mu.Lock()
	if s.rebal.checked == 0 {
		for _, d := range s.localOnline() {
			if b, err := d.Get(rebalancedKey); err == nil {
				if e, n := binary.Uvarint(b); n > 0 && e > s.rebal.checked {
					s.rebal.checked = e
				}
			}
		}
	}
	check := s.rebal.checked != epoch
	s.rebal.mu.Unlock()
	var todo []misplaced
	handoffs := 0
	for _, d := range s.localOnline() {
		for _, prefix := range [][]byte{[]byte("o/"), []byte("v/")} {
			found, h, err := s.scanMisplaced(ctx, d, prefix, check)
			if err != nil {
				return RebalanceStatus{}, err
			}
			todo = append(todo, found...)
			handoffs += h
		}
	}
	s.rebal.mu.Lock()
	s.rebal.onHandoff = handoffs > 0
	s.rebal.mu.Unlock()

	var total int64
	for _, m := range todo {
		total += m.bytes
	}
	s.rebal.mu.Lock()
	s.rebal.status = RebalanceStatus{Running: len(todo) > 0, Epoch: v.Ring.Epoch(), Misplaced: int64(len(todo)), MisplacedBytes: total, Handoffs: int64(handoffs), Started: time.Now()}
	s.rebal.mu.Unlock()
	if len(todo) > 0 {
		s.log.Info("rebalance: moving shards", "epoch", v.Ring.Epoch(), "records", len(todo), "bytes", total)
	}
	var err error
	for _, m := range todo {
		if err = ctx.Err(); err != nil {
			break
		}
		n, merr := s.moveRecord(m)
		s.rebal.mu.Lock()
		if merr != nil {
			s.rebal.status.Failed++
			s.log.Warn("rebalance: move failed", "bucket", m.bucket, "key", m.key, "from", m.src.Root(), "err", merr)
		} else {
			s.rebal.status.Moved++
			s.rebal.status.MovedBytes += n
		}
		s.rebal.mu.Unlock()
		if err = s.throttle(ctx, n); err != nil {
			break
		}
	}
	s.rebal.mu.Lock()
	s.rebal.status.Running = false
	s.rebal.status.Finished = time.Now()
	st := s.rebal.status
	s.rebal.mu.Unlock()
	if len(todo) > 0 {
		s.log.Info("rebalance pass done", "moved", st.Moved, "bytes", st.MovedBytes, "failed", st.Failed)
	}
	if err == nil && st.Failed > 0 {
		err = fmt.Errorf("objectd: rebalance: %d of %d moves failed", st.Failed, st.Misplaced)
	}
	if err == nil && check {
		val := binary.AppendUvarint(nil, epoch)
		for _, d := range s.localOnline() {
			s.note(d, d.Update(func(t disk.Txn) error { return t.Set(rebalancedKey, val) }))
		}
		s.rebal.mu.Lock()
		s.rebal.checked = epoch
		s.rebal.mu.Unlock()
	}
	return st, err
}

// throttle waits as long as moving n bytes takes at RebalanceRate.
func (s *Store) throttle(ctx context.Context, n int64) error {
	if s.cfg.RebalanceRate <= 0 || n <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(time.Duration(float64(n) / float64(s.cfg.RebalanceRate) * float64(time.Second)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scanMisplaced lists the records under prefix on d whose shard the ring
// places elsewhere. A record in place whose set lacks shards is queued
// for repair (by the node of the set's first disk only, so that one node
// does it).
func (s *Store) scanMisplaced(ctx context.Context, d disk.Volume, prefix []byte, check bool) ([]misplaced, int, error) {
	v := s.layout.Load()
	it, err := d.NewIterator(prefix, nil, true)
	if err != nil {
		return nil, 0, err
	}
	handoffs := 0
	defer it.Close()
	var out []misplaced
	var healCheck [][2]string
	for ; it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		bucket, key, ok := splitRecordKey(it.Key())
		if !ok {
			continue
		}
		b, err := it.Value(nil)
		if err != nil {
			continue
		}
		r, err := unmarshalRecord(b)
		if err != nil {
			continue
		}
		if r.Tombstone && s.cfg.Now().UnixNano()-r.ModTime > int64(s.cfg.TombstoneAge) {
			s.reclaimTombstone(d, bucket, key, append([]byte(nil), it.Key()...), r.VersionID)
			continue
		}
		set := s.set(bucket, key)
		j := r.ShardIndex
		if j < 0 || j >= len(set) || set[j] == nil {
			continue
		}
		if set[j] == d {
			if p := s.primaries(v, bucket, key); j < len(p) && p[j] != d {
				handoffs++ // held for a primary that is down
			}
			if check && firstLive(set) == d && bytes.HasPrefix(it.Key(), []byte("o/")) {
				healCheck = append(healCheck, [2]string{bucket, key})
			}
			continue
		}
		out = append(out, misplaced{src: d, rkey: append([]byte(nil), it.Key()...), bucket: bucket, key: key, versionID: r.VersionID, bytes: s.shardBytes(r)})
	}
	for _, bk := range healCheck {
		okey := objectKey(bk[0], bk[1])
		set := s.set(bk[0], bk[1])
		recs, errs := s.readRecords(set, okey)
		if best, holders, err := s.resolve(recs, errs); err == nil && best != nil {
			for j := range holders {
				if !holders[j] && set[j] != nil && errs[j] == nil {
					s.queueHeal(bk[0], bk[1])
					break
				}
			}
		}
	}
	return out, handoffs, nil
}

func firstLive(set []disk.Volume) disk.Volume {
	for _, d := range set {
		if d != nil {
			return d
		}
	}
	return nil
}

// splitRecordKey returns the bucket and key of an object record key
// ("o/<bucket>/<key>") or a noncurrent version's ("v/<bucket>/<key>\x00...").
func splitRecordKey(rk []byte) (bucket, key string, ok bool) {
	if len(rk) < 2 {
		return "", "", false
	}
	rest := string(rk[2:])
	if rk[0] == 'v' {
		i := strings.IndexByte(rest, 0)
		if i < 0 {
			return "", "", false
		}
		rest = rest[:i]
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// reclaimTombstone removes an old tombstone from d, if it is still there.
func (s *Store) reclaimTombstone(d disk.Volume, bucket, key string, rkey []byte, id string) {
	mu := s.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	err := d.Update(func(t disk.Txn) error {
		b, err := t.Get(rkey)
		if err != nil {
			return err
		}
		if r, err := unmarshalRecord(b); err != nil || !r.Tombstone || r.VersionID != id {
			return nil
		}
		return t.Delete(rkey)
	})
	if err != nil && !errors.Is(err, disk.ErrNotFound) {
		s.log.Warn("cannot reclaim a tombstone", "disk", d.Root(), "bucket", bucket, "key", key, "err", err)
	}
}

// moveRecord copies one misplaced record with its shards to the disk the
// ring places it on, then removes it here. The copy is durable before the
// removal, so a crash between them leaves two copies (the next pass
// removes this one), never none. A newer version already at the target
// wins: this record is then only removed.
func (s *Store) moveRecord(m misplaced) (int64, error) {
	mu := s.lock(m.bucket, m.key)
	mu.Lock()
	defer mu.Unlock()
	set := s.set(m.bucket, m.key)
	b, err := m.src.Get(m.rkey)
	if errors.Is(err, disk.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	r, err := unmarshalRecord(b)
	if err != nil {
		return 0, err
	}
	if r.VersionID != m.versionID {
		return 0, nil // overwritten since the scan: the next pass looks again
	}
	j := r.ShardIndex
	if j < 0 || j >= len(set) {
		return 0, nil // a record of another width: not this policy's to move
	}
	dst := set[j]
	if dst == nil || dst == m.src {
		return 0, nil
	}
	var moved int64
	var old *record
	switch ob, err := dst.Get(m.rkey); {
	case err == nil:
		old, err = unmarshalRecord(ob)
		if err != nil {
			old = nil
		}
	case !errors.Is(err, disk.ErrNotFound):
		return 0, err
	}
	copyIt := old == nil || (old.VersionID != r.VersionID && old.ModTime < r.ModTime) || (old.VersionID == r.VersionID && old.ShardIndex != j)
	if copyIt && s.verifyShards(m.src, r, j) != nil {
		// A damaged shard is not carried to another disk: it goes, and the
		// healer rebuilds the slot from the object's other shards.
		s.log.Warn("rebalance: damaged shard not moved; repairing instead", "bucket", m.bucket, "key", m.key, "disk", m.src.Root())
		copyIt = false
		s.queueHeal(m.bucket, m.key)
	}
	if copyIt {
		inline := map[string][]byte{}
		for _, p := range r.Parts {
			if p.Inline {
				v, err := m.src.Get(inlineKey(p.DataID))
				if err != nil {
					return 0, fmt.Errorf("inline shard %s: %w", p.DataID, err)
				}
				inline[p.DataID] = v
				continue
			}
			n, err := copyShard(m.src, dst, p.DataID)
			if err != nil {
				return 0, err
			}
			moved += n
		}
		err := dst.Update(func(t disk.Txn) error {
			for id, v := range inline {
				if err := t.Set(inlineKey(id), v); err != nil {
					return err
				}
			}
			return t.Set(m.rkey, r.marshal())
		})
		s.note(dst, err)
		if err != nil {
			return 0, err
		}
		if old != nil && old.VersionID != r.VersionID {
			s.dropData(dst, old, true, idSet(r))
		}
	}
	// Durable at the target (or superseded there): remove it here.
	if err := m.src.Update(func(t disk.Txn) error { return t.Delete(m.rkey) }); err != nil {
		return moved, err
	}
	s.dropData(m.src, r, true, nil)
	// This disk may hold another shard of the object under the new ring;
	// and a target that held another shard of this version (rings swap
	// slots) has just lost it to this one. Either way the heal makes the
	// set whole.
	swapped := old != nil && old.VersionID == r.VersionID && old.ShardIndex != j
	if k := slices.Index(set, m.src); swapped || k >= 0 && k != j {
		s.queueHeal(m.bucket, m.key)
	}
	return moved, nil
}

// copyShard copies one shard file from src to dst, durably.
func copyShard(src, dst disk.Volume, dataID string) (int64, error) {
	f, err := src.OpenShard(dataID)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w, err := dst.CreateShard(dataID)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(w, io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		w.Abort()
		return 0, err
	}
	return n, w.Commit()
}
