package objectd

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/basaltstore/basalt/objectd/disk"
)

// Versioning is a bucket's versioning state, which the caller keeps (the
// store keeps no bucket settings) and gives with each write.
//
// Every key has at most one current version, kept at the object's record
// key: the newest version, or a delete marker. Noncurrent versions are
// kept beside it, newest first, under "v/<bucket>/<key>\x00<order><id>",
// on the same disks and with the same write quorum. A key with any
// version has a current one: deleting the current version by its id
// promotes the newest noncurrent one.
type Versioning uint8

const (
	// Unversioned: a write replaces the object (its version id is
	// "null"); there are no noncurrent versions.
	Unversioned Versioning = iota
	// VersioningEnabled: every write and every delete without a version
	// id makes a new version; the previous current one is kept.
	VersioningEnabled
	// VersioningSuspended: writes make "null" versions, replacing the
	// previous null version wherever it is; other versions are kept.
	VersioningSuspended
)

// sameVersion is commitObject's mode for a new record of the current
// version (a metadata update): the record replaces the current one and
// keeps its Null flag.
const sameVersion Versioning = 255

// NullVersionID is the version id of objects written while a bucket was
// unversioned or versioning was suspended.
const NullVersionID = "null"

// Errors of versioned reads.
var (
	ErrNoSuchVersion = errors.New("objectd: no such version")
	// ErrDeleteMarker: the version asked for by id is a delete marker,
	// which has no data (S3: 405 Method Not Allowed).
	ErrDeleteMarker = errors.New("objectd: the version is a delete marker")
)

func versionPrefix(b, k string) []byte { return []byte("v/" + b + "/" + k + "\x00") }

// versionKey orders a key's noncurrent versions newest first: the
// complement of the modification time, then the record id.
func versionKey(b, k string, r *record) []byte {
	var t [8]byte
	u := ^uint64(r.ModTime)
	for i := 7; i >= 0; i-- {
		t[i] = byte(u)
		u >>= 8
	}
	return append(append(versionPrefix(b, k), hex.EncodeToString(t[:])...), r.VersionID...)
}

// versionAt is one noncurrent version of a key as a set of disks holds it.
type versionAt struct {
	rkey    []byte
	recs    []*record // by slot, nil where absent
	best    *record
	holders []bool
}

// noncurrent reads the noncurrent versions of a key from its set, newest
// first. A version that fewer than k disks hold is left out (as resolve
// leaves out unacknowledged writes).
func (s *Store) noncurrent(set []disk.Volume, bucket, key string) ([]versionAt, error) {
	prefix := versionPrefix(bucket, key)
	byKey := map[string]*versionAt{}
	answered := 0
	for j, d := range set {
		if d == nil || d.Failed() || d.Healing() {
			continue
		}
		it, err := d.NewIterator(prefix, nil, false)
		s.note(d, err)
		if err != nil {
			continue
		}
		answered++
		for ; it.Valid(); it.Next() {
			v, err := it.Value(nil)
			if err != nil {
				continue
			}
			r, err := unmarshalRecord(v)
			if err != nil {
				continue
			}
			k := string(it.Key())
			va := byKey[k]
			if va == nil {
				va = &versionAt{rkey: []byte(k), recs: make([]*record, len(set))}
				byKey[k] = va
			}
			va.recs[j] = r
		}
		it.Close()
	}
	if answered < s.cfg.DataShards {
		return nil, ErrReadQuorum
	}
	out := make([]versionAt, 0, len(byKey))
	for _, va := range byKey {
		best, holders, err := s.resolve(va.recs, make([]error, len(set)))
		if err != nil {
			continue
		}
		va.best, va.holders = best, holders
		out = append(out, *va)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].rkey, out[j].rkey) < 0 })
	return out, nil
}

// refsOf adds the data ids of rec to ids.
func refsOf(ids map[string]bool, rec *record) map[string]bool {
	if ids == nil {
		ids = map[string]bool{}
	}
	if rec != nil {
		for _, p := range rec.Parts {
			ids[p.DataID] = true
		}
	}
	return ids
}

// DeleteOptions select what DeleteObjectVersion removes.
type DeleteOptions struct {
	// VersionID removes that version ("null" included); empty: a delete
	// of the current version as the bucket's versioning says (a delete
	// marker in a versioned bucket).
	VersionID  string
	Versioning Versioning
	// Check, when set, is called with the current version of the object
	// (nil when there is none, or when it is a delete marker) under the
	// object's lock, just before the delete commits; an error aborts it
	// and is returned.
	Check func(current *ObjectInfo) error
	// CheckVersion, when set, is called under the object's lock with the
	// version a delete by id is about to remove; an error aborts it (an
	// object lock's retention, for instance).
	CheckVersion func(version *ObjectInfo) error
}

// DeleteResult says what a delete did.
type DeleteResult struct {
	// VersionID is the id of the delete marker made, or of the version
	// removed.
	VersionID string
	// DeleteMarker: a delete marker was made, or the version removed was
	// one.
	DeleteMarker bool
}

// DeleteObjectVersion deletes as S3 does in a bucket with the given
// versioning: without a version id, an unversioned bucket loses the
// object and a versioned one gets a delete marker as its current version
// (a "null" one while suspended, replacing the null version); with a
// version id, exactly that version goes (when it was the current one, the
// newest noncurrent version becomes current). Deleting a version that does
// not exist changes nothing and is not an error.
func (s *Store) DeleteObjectVersion(ctx context.Context, bucket, key string, opts DeleteOptions) (DeleteResult, error) {
	if opts.VersionID == "" {
		if opts.Versioning == Unversioned {
			return DeleteResult{}, s.deleteObject(bucket, key, opts.Check)
		}
		if err := ValidKey(key); err != nil {
			return DeleteResult{}, err
		}
		if err := s.checkBucket(bucket); err != nil {
			return DeleteResult{}, err
		}
		set := s.set(bucket, key)
		w := &written{ok: make([]bool, len(set))}
		for j, d := range set {
			w.ok[j] = d != nil
		}
		marker := &record{
			VersionID: newID(), ModTime: s.now(), DeleteMarker: true,
			K: s.cfg.DataShards, M: s.cfg.ParityShards, BlockSize: s.cfg.BlockSize,
		}
		if err := s.commitObject(bucket, key, set, marker, []*written{w}, opts.Check, opts.Versioning); err != nil {
			return DeleteResult{}, err
		}
		return DeleteResult{VersionID: marker.versionID(), DeleteMarker: true}, nil
	}
	return s.deleteVersion(bucket, key, opts.VersionID, opts.Check, opts.CheckVersion)
}

// deleteVersion removes the version vid of a key, after check (when set)
// accepts the current version.
func (s *Store) deleteVersion(bucket, key, vid string, check, checkVersion func(*ObjectInfo) error) (DeleteResult, error) {
	s.adoptBucket(bucket)
	s.bucketMu.RLock()
	defer s.bucketMu.RUnlock()
	if _, ok := s.buckets[bucket]; !ok {
		return DeleteResult{}, ErrNoSuchBucket
	}
	if ValidKey(key) != nil {
		return DeleteResult{VersionID: vid}, nil
	}
	mu := s.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	okey := objectKey(bucket, key)
	set, olds, errs := s.readSet(bucket, key, okey)
	cur, curHolders, err := s.resolve(olds, errs)
	if err != nil && !errors.Is(err, ErrNoSuchKey) {
		return DeleteResult{}, err
	}
	if check != nil {
		var oi *ObjectInfo
		if cur != nil && !cur.DeleteMarker {
			i := cur.info(bucket, key)
			oi = &i
		}
		if err := check(oi); err != nil {
			return DeleteResult{}, err
		}
	}
	vs, err := s.noncurrent(set, bucket, key)
	if err != nil {
		return DeleteResult{}, err
	}
	// What each disk does, and how to undo it.
	var removed []*record // by slot: the records whose data goes
	var do, undo func(j int, t disk.Txn) error
	var gone *record
	switch {
	case cur != nil && cur.versionID() == vid:
		gone = cur
		removed = make([]*record, len(set))
		for j := range set {
			if curHolders[j] {
				removed[j] = olds[j]
			}
		}
		if len(vs) > 0 {
			next := vs[0]
			vs = vs[1:]
			do = func(j int, t disk.Txn) error {
				if next.recs[j] == nil {
					return t.Delete(okey)
				}
				if err := t.Set(okey, next.recs[j].marshal()); err != nil {
					return err
				}
				return t.Delete(next.rkey)
			}
			undo = func(j int, t disk.Txn) error {
				if next.recs[j] != nil {
					if err := t.Set(next.rkey, next.recs[j].marshal()); err != nil {
						return err
					}
				}
				if olds[j] != nil {
					return t.Set(okey, olds[j].marshal())
				}
				return nil
			}
			vs = append(vs, next) // still a version: its data stays
		} else {
			do = func(j int, t disk.Txn) error { return t.Delete(okey) }
			undo = func(j int, t disk.Txn) error {
				if olds[j] != nil {
					return t.Set(okey, olds[j].marshal())
				}
				return nil
			}
		}
	default:
		for i, v := range vs {
			if v.best.versionID() != vid {
				continue
			}
			gone, removed = v.best, v.recs
			vs = append(vs[:i:i], vs[i+1:]...)
			do = func(j int, t disk.Txn) error { return t.Delete(v.rkey) }
			undo = func(j int, t disk.Txn) error {
				if v.recs[j] != nil {
					return t.Set(v.rkey, v.recs[j].marshal())
				}
				return nil
			}
			break
		}
	}
	if gone == nil {
		return DeleteResult{VersionID: vid}, nil
	}
	if checkVersion != nil {
		oi := gone.info(bucket, key)
		if err := checkVersion(&oi); err != nil {
			return DeleteResult{}, err
		}
	}
	done, n := s.deleteOnSet(set, errs, func(j int) func(disk.Txn) error {
		return func(t disk.Txn) error { return do(j, t) }
	})
	if n < s.writeQuorum() {
		for j, d := range set {
			if done[j] && d != nil && errs[j] == nil {
				_ = d.Update(func(t disk.Txn) error { return undo(j, t) })
			}
		}
		return DeleteResult{}, fmt.Errorf("%w: delete recorded on %d disks", ErrWriteQuorum, n)
	}
	keep := map[string]bool{}
	if cur != nil && cur != gone {
		keep = refsOf(keep, cur)
	}
	for _, v := range vs {
		keep = refsOf(keep, v.best)
	}
	for j, d := range set {
		if d != nil && removed[j] != nil {
			s.dropData(d, removed[j], done[j], keep)
		}
	}
	if n < len(set) {
		s.queueHeal(bucket, key)
	}
	return DeleteResult{VersionID: vid, DeleteMarker: gone.DeleteMarker}, nil
}

// ListVersionsOptions are the parameters of ListObjectVersions.
type ListVersionsOptions struct {
	Prefix    string
	Delimiter string
	// KeyMarker and VersionIDMarker: list what comes after this version
	// of this key (VersionIDMarker empty: after every version of the key).
	KeyMarker       string
	VersionIDMarker string
	MaxKeys         int
}

// ListVersionsResult is one page of versions: by key, each key's versions
// newest first (IsLatest on the current one), delete markers included.
type ListVersionsResult struct {
	Versions            []ObjectInfo
	CommonPrefixes      []string
	IsTruncated         bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// ListObjectVersions lists the versions of a bucket's objects. Its cost is
// that of a listing page plus, per key listed, a read of its versions.
func (s *Store) ListObjectVersions(ctx context.Context, bucket string, opts ListVersionsOptions) (ListVersionsResult, error) {
	if err := s.checkBucket(bucket); err != nil {
		return ListVersionsResult{}, err
	}
	max := opts.MaxKeys
	if max <= 0 || max > DefaultMaxKeys {
		max = DefaultMaxKeys
	}
	var res ListVersionsResult
	count := func() int { return len(res.Versions) + len(res.CommonPrefixes) }
	// emit adds the versions of key (after version afterID, when set);
	// it reports false when the page is full.
	emit := func(key, afterID string) (bool, error) {
		vers, err := s.versionsOf(bucket, key)
		if err != nil {
			return false, err
		}
		skipping := afterID != ""
		for _, v := range vers {
			if skipping {
				if v.VersionID == afterID {
					skipping = false
				}
				continue
			}
			if count() == max {
				res.IsTruncated = true
				return false, nil
			}
			res.Versions = append(res.Versions, v)
			res.NextKeyMarker, res.NextVersionIDMarker = key, v.VersionID
		}
		return true, nil
	}
	after := opts.KeyMarker
	if opts.KeyMarker != "" && opts.VersionIDMarker != "" && strings.HasPrefix(opts.KeyMarker, opts.Prefix) {
		more, err := emit(opts.KeyMarker, opts.VersionIDMarker)
		if err != nil || !more {
			return res, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		page, err := s.listObjects(bucket, ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter, After: after, MaxKeys: 1000, markers: true})
		if err != nil {
			return res, err
		}
		oi, ci := 0, 0
		for oi < len(page.Objects) || ci < len(page.CommonPrefixes) {
			if ci < len(page.CommonPrefixes) && (oi == len(page.Objects) || page.CommonPrefixes[ci] < page.Objects[oi].Key) {
				if count() == max {
					res.IsTruncated = true
					return res, nil
				}
				cp := page.CommonPrefixes[ci]
				ci++
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.NextKeyMarker, res.NextVersionIDMarker = cp, ""
				continue
			}
			key := page.Objects[oi].Key
			oi++
			more, err := emit(key, "")
			if err != nil || !more {
				return res, err
			}
		}
		if !page.IsTruncated {
			res.NextKeyMarker, res.NextVersionIDMarker = "", ""
			return res, nil
		}
		after = page.NextAfter
	}
}

// versionsOf returns every version of a key, newest first.
func (s *Store) versionsOf(bucket, key string) ([]ObjectInfo, error) {
	set, recs, errs := s.readSet(bucket, key, objectKey(bucket, key))
	cur, _, err := s.resolve(recs, errs)
	if errors.Is(err, ErrNoSuchKey) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	oi := cur.info(bucket, key)
	oi.IsLatest = true
	out := []ObjectInfo{oi}
	vs, err := s.noncurrent(set, bucket, key)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		out = append(out, v.best.info(bucket, key))
	}
	return out, nil
}
