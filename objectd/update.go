package objectd

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/basaltstore/basalt/objectd/disk"
)

// updateAttempts bounds how often UpdateObject retries when a write to
// the same key lands between its read and its commit.
const updateAttempts = 4

// UpdateObject changes an object's metadata without rewriting its data:
// fn receives the current ObjectInfo and may change its ContentType,
// Headers and UserMeta (other fields are ignored). The result is a new
// record of the object's current version that shares the data of the old
// one, with the same version id and modification time as
// clients see them; it is committed like a PUT, under a write quorum,
// and only if the object did not change in the meantime (else fn runs
// again on the newer version). An error from fn aborts and is returned.
func (s *Store) UpdateObject(ctx context.Context, bucket, key string, fn func(*ObjectInfo) error) (ObjectInfo, error) {
	if err := ValidKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := s.checkBucket(bucket); err != nil {
		return ObjectInfo{}, err
	}
	okey := objectKey(bucket, key)
	for range updateAttempts {
		if err := ctx.Err(); err != nil {
			return ObjectInfo{}, err
		}
		set, recs, errs := s.readSet(bucket, key, okey)
		cur, holders, err := s.resolve(recs, errs)
		if err != nil {
			return ObjectInfo{}, err
		}
		oi := cur.info(bucket, key)
		oi.Headers, oi.UserMeta = maps.Clone(cur.Headers), maps.Clone(cur.UserMeta)
		if err := fn(&oi); err != nil {
			return ObjectInfo{}, err
		}
		if err := checkUserMeta(oi.UserMeta); err != nil {
			return ObjectInfo{}, err
		}
		rec := *cur
		rec.VersionID = newID()
		rec.ModTime = s.now()
		rec.ContentType, rec.Headers, rec.UserMeta = oi.ContentType, oi.Headers, oi.UserMeta
		// The new record goes where the current version's shards are.
		w := &written{ok: holders}
		unchanged := func(now *ObjectInfo) error {
			if now == nil || now.rid != cur.VersionID {
				return errChanged
			}
			return nil
		}
		// The same version, rewritten: clients keep seeing its id.
		if !cur.Null {
			rec.Label = cur.versionID()
		}
		rec.Shown = cur.modTime().UnixNano()
		err = s.commitObject(bucket, key, set, &rec, []*written{w}, unchanged, sameVersion)
		if errors.Is(err, errChanged) {
			continue
		}
		if err != nil {
			return ObjectInfo{}, err
		}
		return rec.info(bucket, key), nil
	}
	return ObjectInfo{}, fmt.Errorf("%w: %s/%s kept changing", ErrPreconditionFailed, bucket, key)
}

var errChanged = errors.New("objectd: object changed during the update")

// checkUserMeta applies S3's limit on user metadata.
func checkUserMeta(m map[string]string) error {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	if n > MaxUserMetaBytes {
		return fmt.Errorf("%w: %d bytes of user metadata (at most %d)", ErrInvalidArgument, n, MaxUserMetaBytes)
	}
	return nil
}

// UpdateObjectVersion is UpdateObject for a version given by id ("null"
// included); an empty vid is the current version. A noncurrent version is
// rewritten where it is kept, with its id, time and place in the order of
// versions unchanged. A delete marker cannot be updated (ErrDeleteMarker).
func (s *Store) UpdateObjectVersion(ctx context.Context, bucket, key, vid string, fn func(*ObjectInfo) error) (ObjectInfo, error) {
	if vid == "" {
		return s.UpdateObject(ctx, bucket, key, fn)
	}
	if err := ValidKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := s.checkBucket(bucket); err != nil {
		return ObjectInfo{}, err
	}
	set, recs, errs := s.readSet(bucket, key, objectKey(bucket, key))
	if cur, _, err := s.resolve(recs, errs); err == nil && cur.versionID() == vid {
		if cur.DeleteMarker {
			return cur.info(bucket, key), ErrDeleteMarker
		}
		return s.UpdateObject(ctx, bucket, key, fn)
	}
	s.bucketMu.RLock()
	defer s.bucketMu.RUnlock()
	mu := s.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	vs, err := s.noncurrent(set, bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	var v *versionAt
	for i := range vs {
		if vs[i].best.versionID() == vid {
			v = &vs[i]
		}
	}
	if v == nil {
		return ObjectInfo{}, ErrNoSuchVersion
	}
	if v.best.DeleteMarker {
		return v.best.info(bucket, key), ErrDeleteMarker
	}
	oi := v.best.info(bucket, key)
	oi.Headers, oi.UserMeta = maps.Clone(v.best.Headers), maps.Clone(v.best.UserMeta)
	if err := fn(&oi); err != nil {
		return ObjectInfo{}, err
	}
	if err := checkUserMeta(oi.UserMeta); err != nil {
		return ObjectInfo{}, err
	}
	rec := *v.best
	rec.VersionID = newID()
	if !v.best.Null {
		rec.Label = v.best.versionID()
	}
	rec.ContentType, rec.Headers, rec.UserMeta = oi.ContentType, oi.Headers, oi.UserMeta
	nkey := versionKey(bucket, key, &rec) // same time: the same place among the versions
	done := make([]bool, len(set))
	n := 0
	for j, d := range set {
		if d == nil || v.recs[j] == nil || v.recs[j].VersionID != v.best.VersionID {
			continue
		}
		r := *v.recs[j]
		r.VersionID, r.Label, r.ContentType, r.Headers, r.UserMeta = rec.VersionID, rec.Label, rec.ContentType, rec.Headers, rec.UserMeta
		val := r.marshal()
		err := d.Update(func(t disk.Txn) error {
			if err := t.Set(nkey, val); err != nil {
				return err
			}
			return t.Delete(v.rkey)
		})
		s.note(d, err)
		if err == nil {
			done[j] = true
			n++
		}
	}
	if n < s.writeQuorum() {
		for j, d := range set {
			if done[j] {
				old := v.recs[j]
				_ = d.Update(func(t disk.Txn) error {
					if err := t.Set(v.rkey, old.marshal()); err != nil {
						return err
					}
					return t.Delete(nkey)
				})
			}
		}
		return ObjectInfo{}, fmt.Errorf("%w: %d of %d metadata records durable", ErrWriteQuorum, n, len(set))
	}
	if n < len(set) {
		s.queueHeal(bucket, key)
	}
	return rec.info(bucket, key), nil
}
