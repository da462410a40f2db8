package objectd

import (
	"context"
	"errors"
	"fmt"

	"github.com/basaltstore/basalt/objectd/disk"
)

// DeleteObject removes an object; removing a missing key is not an error.
// The records go first (under the key's lock, on a write quorum), then the
// data they pointed to.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	return s.deleteObject(bucket, key, nil)
}

// deleteObject removes an object after check (when set) accepts its
// current version (nil when there is none).
func (s *Store) deleteObject(bucket, key string, check func(*ObjectInfo) error) error {
	s.adoptBucket(bucket)
	s.bucketMu.RLock()
	defer s.bucketMu.RUnlock()
	if _, ok := s.buckets[bucket]; !ok {
		return ErrNoSuchBucket
	}
	if ValidKey(key) != nil {
		return nil
	}
	mu := s.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	okey := objectKey(bucket, key)
	set, olds, errs := s.readSet(bucket, key, okey)
	present, answered := 0, 0
	for j := range set {
		if errs[j] == nil {
			answered++
			if olds[j] != nil {
				present++
			}
		}
	}
	if check != nil {
		var cur *ObjectInfo
		best, _, err := s.resolve(olds, errs)
		if err != nil && !errors.Is(err, ErrNoSuchKey) {
			return err
		}
		if best != nil && !best.DeleteMarker {
			oi := best.info(bucket, key)
			cur = &oi
		}
		if err := check(cur); err != nil {
			return err
		}
	}
	if present == 0 {
		if answered < s.cfg.DataShards {
			return fmt.Errorf("%w: %d of %d disks answered", ErrReadQuorum, answered, len(set))
		}
		return nil
	}
	// In a cluster the delete leaves a tombstone on every disk of the set,
	// newer than any record there, so that a disk that missed it cannot
	// bring the object back; on local disks alone the records just go.
	var tomb *record
	if s.layout.Load() != nil {
		tomb = &record{VersionID: newID(), ModTime: s.now(), Tombstone: true, DeleteMarker: true,
			K: s.cfg.DataShards, M: s.cfg.ParityShards, BlockSize: s.cfg.BlockSize}
		for _, o := range olds {
			if o != nil && tomb.ModTime <= o.ModTime {
				tomb.ModTime = o.ModTime + 1
			}
		}
	}
	done, n := s.deleteOnSet(set, errs, func(j int) func(disk.Txn) error {
		if tomb != nil {
			r := *tomb
			r.ShardIndex = j
			val := r.marshal()
			return func(t disk.Txn) error { return t.Set(okey, val) }
		}
		if olds[j] == nil {
			return nil
		}
		return func(t disk.Txn) error { return t.Delete(okey) }
	})
	if n < s.writeQuorum() {
		for j, d := range set {
			switch {
			case !done[j]:
			case olds[j] != nil:
				s.restoreRecord(d, okey, olds[j])
			case tomb != nil:
				_ = d.Update(func(t disk.Txn) error { return t.Delete(okey) })
			}
		}
		return fmt.Errorf("%w: delete recorded on %d disks", ErrWriteQuorum, n)
	}
	for j, d := range set {
		if done[j] && olds[j] != nil {
			s.dropData(d, olds[j], true, nil)
		}
	}
	return nil
}

// restoreRecord puts back a record removed by a delete that did not reach
// its quorum (its data is still there).
func (s *Store) restoreRecord(d disk.Volume, key []byte, old *record) {
	_ = d.Update(func(t disk.Txn) error { return t.Set(key, old.marshal()) })
}

// deleteOnSet runs the metadata change of a delete on every disk of set
// that answered (errs from reading its records): op(j) gives disk j's
// transaction, nil when the disk has nothing to change. A disk being
// filled back, or with nothing to change, counts as done. It returns which
// disks are done and how many.
func (s *Store) deleteOnSet(set []disk.Volume, errs []error, op func(j int) func(disk.Txn) error) ([]bool, int) {
	done := make([]bool, len(set))
	n := 0
	for j, d := range set {
		if errors.Is(errs[j], errDiskHealing) {
			done[j] = true // nothing there to delete
			n++
			continue
		}
		if d == nil || errs[j] != nil && !errors.Is(errs[j], errHandoffEmpty) {
			continue
		}
		if fn := op(j); fn != nil {
			err := d.Update(fn)
			s.note(d, err)
			if err != nil {
				s.log.Warn("metadata delete failed", "disk", d.Root(), "err", err)
				continue
			}
		}
		done[j] = true
		n++
	}
	return done, n
}
