package objectd

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
	set := s.set(bucket, key)
	okey := objectKey(bucket, key)
	for range updateAttempts {
		if err := ctx.Err(); err != nil {
			return ObjectInfo{}, err
		}
		recs, errs := s.readRecords(set, okey)
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
