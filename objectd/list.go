package objectd

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd/disk"
)

// ListObjects lists one page of a bucket in key order. The cost of a page
// is O(page size x disks): every disk's sorted metadata index is walked in
// step from the marker, and a key whose prefix rolls up under the
// delimiter is skipped over with one seek.
func (s *Store) ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error) {
	if err := s.checkBucket(bucket); err != nil {
		return ListResult{}, err
	}
	return s.listObjects(bucket, opts)
}

// mergeIter walks the same key range on every online disk in step.
type mergeIter struct {
	its   []disk.Iter
	disks []disk.Volume // disk of each iterator
	keys  [][]byte      // current key of each iterator, nil when exhausted
}

// mergeOn walks the key range on disks (nil entries skipped) in step, and
// says how many of the disks that answered are authoritative (not being
// filled back).
func (s *Store) mergeOn(disks []disk.Volume, prefix, start []byte) (*mergeIter, int) {
	m := &mergeIter{}
	authoritative := 0
	for _, d := range disks {
		if d == nil {
			continue
		}
		it, err := d.NewIterator(prefix, start, false)
		if err != nil {
			s.log.Warn("listing: disk unreadable", "disk", d.Root(), "err", err)
			continue
		}
		m.its = append(m.its, it)
		m.disks = append(m.disks, d)
		if !d.Healing() {
			authoritative++
		}
	}
	m.keys = make([][]byte, len(m.its))
	for i := range m.its {
		m.load(i)
	}
	return m, authoritative
}

func (m *mergeIter) load(i int) {
	if m.its[i].Valid() {
		m.keys[i] = m.its[i].Key()
	} else {
		m.keys[i] = nil
	}
}

// min returns the smallest current key, or nil at the end.
func (m *mergeIter) min() []byte {
	var best []byte
	for _, k := range m.keys {
		if k != nil && (best == nil || bytes.Compare(k, best) < 0) {
			best = k
		}
	}
	if best == nil {
		return nil
	}
	return append([]byte(nil), best...)
}

// takeSummaries collects the record summaries of every iterator at key
// into sums (their byte fields copied into arena) and advances them.
func (m *mergeIter) takeSummaries(key []byte, sums []summary, arena []byte) ([]summary, []byte) {
	sums = sums[:0]
	for i, k := range m.keys {
		if k != nil && bytes.Equal(k, key) {
			_ = m.its[i].View(func(v []byte) error {
				if sm, ok := peekSummary(v); ok {
					a := len(arena)
					arena = append(arena, sm.VersionID...)
					b := len(arena)
					arena = append(arena, sm.ETag...)
					sm.VersionID, sm.ETag = arena[a:b:b], arena[b:]
					sums = append(sums, sm)
				}
				return nil
			})
			m.its[i].Next()
			m.load(i)
		}
	}
	return sums, arena
}

// take returns the values of every iterator at key, by disk, and
// advances them.
func (m *mergeIter) take(key []byte) map[disk.Volume][]byte {
	vals := map[disk.Volume][]byte{}
	for i, k := range m.keys {
		if k != nil && bytes.Equal(k, key) {
			if v, err := m.its[i].Value(nil); err == nil {
				vals[m.disks[i]] = v
			}
			m.its[i].Next()
			m.load(i)
		}
	}
	return vals
}

func (m *mergeIter) seek(key []byte) {
	for i := range m.its {
		if m.keys[i] != nil && bytes.Compare(m.keys[i], key) < 0 {
			m.its[i].Seek(key)
			m.load(i)
		}
	}
}

func (m *mergeIter) close() {
	for _, it := range m.its {
		it.Close()
	}
}

// after returns the smallest key strictly greater than every key with
// the given prefix: keys are UTF-8, which never holds the byte 0xff.
func after(prefix []byte) []byte { return append(append([]byte(nil), prefix...), 0xff) }

func (s *Store) listObjects(bucket string, opts ListOptions) (ListResult, error) {
	max := opts.MaxKeys
	if max <= 0 || max > DefaultMaxKeys {
		max = DefaultMaxKeys
	}
	base := objectPrefix(bucket)
	prefix := append(append([]byte(nil), base...), opts.Prefix...)
	start := prefix
	if opts.After != "" && opts.After >= opts.Prefix {
		start = append(append(append([]byte(nil), base...), opts.After...), 0)
	}
	mi, online := s.mergeOn(s.online(), prefix, start)
	missing, err := s.listAnswered(mi)
	if err != nil && s.reprobe() {
		// A node seen down was back (just restarted, say): list again
		// with its disks rather than refuse.
		mi.close()
		mi, online = s.mergeOn(s.online(), prefix, start)
		missing, err = s.listAnswered(mi)
	}
	defer mi.close()
	if online < s.cfg.DataShards {
		return ListResult{}, ErrReadQuorum
	}
	if err != nil {
		return ListResult{}, err
	}
	var res ListResult
	var sums []summary
	var arena []byte
	for {
		key := mi.min()
		if key == nil {
			break
		}
		name := string(key[len(base):])
		if opts.Delimiter != "" {
			if i := strings.Index(name[len(opts.Prefix):], opts.Delimiter); i >= 0 {
				cp := name[:len(opts.Prefix)+i+len(opts.Delimiter)]
				mi.seek(after(append(append([]byte(nil), base...), cp...)))
				if cp <= opts.After {
					continue
				}
				if len(res.Objects)+len(res.CommonPrefixes) == max {
					res.IsTruncated = true
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.NextAfter = cp
				continue
			}
		}
		sums, arena = mi.takeSummaries(key, sums, arena[:0])
		best, ok := resolveSummaries(sums)
		if missing > 0 && !opts.tombstones && unseenNewerSummary(sums, best, ok, missing, s.writeQuorum()) {
			// A newer version may hide on the disks that did not answer:
			// the key is resolved as a read of it is (which refuses when it
			// cannot tell), not from what the listing saw.
			if best, ok, err = s.listLookup(bucket, name); err != nil {
				return ListResult{}, err
			}
		}
		if !ok || best.Tombstone && !opts.tombstones || best.DeleteMarker && !opts.markers && !best.Tombstone {
			continue
		}
		if len(res.Objects)+len(res.CommonPrefixes) == max {
			res.IsTruncated = true
			break
		}
		mod := best.ModTime
		if best.Shown != 0 {
			mod = best.Shown
		}
		res.Objects = append(res.Objects, ObjectInfo{
			Bucket: bucket, Key: name, Size: best.Size, ETag: string(best.ETag),
			ModTime: time.Unix(0, mod).UTC(),
		})
		res.NextAfter = name
	}
	return res, nil
}

// resolveSummaries applies the read rule of resolve to the summaries of
// one key's records: the newest version present on at least k disks.
func resolveSummaries(sums []summary) (summary, bool) {
	var best summary
	found := false
	for i, sm := range sums {
		if found && (sm.ModTime < best.ModTime || bytes.Equal(sm.VersionID, best.VersionID)) {
			continue
		}
		c := 0
		for _, o := range sums[i:] {
			if bytes.Equal(o.VersionID, sm.VersionID) {
				c++
			}
		}
		if c < sm.K || sm.K == 0 {
			continue
		}
		if !found || sm.ModTime > best.ModTime || (sm.ModTime == best.ModTime && bytes.Compare(sm.VersionID, best.VersionID) > 0) {
			best, found = sm, true
		}
	}
	return best, found
}

// unseenNewerSummary is unseenNewer for a listing: whether a version newer
// than best (ok false: none) is on fewer than k of the disks that answered
// but may have been acknowledged, with missing disks not answering.
func unseenNewerSummary(sums []summary, best summary, ok bool, missing, w int) bool {
	for i, sm := range sums {
		if ok && (sm.ModTime < best.ModTime || sm.ModTime == best.ModTime && bytes.Compare(sm.VersionID, best.VersionID) <= 0) {
			continue
		}
		c := 0
		for _, o := range sums[i:] {
			if bytes.Equal(o.VersionID, sm.VersionID) {
				c++
			}
		}
		if c+missing >= w {
			return true
		}
	}
	return false
}

// listLookup resolves one key of a listing by a read of its records:
// the current version's summary, ok false when the key has none, or the
// read's error (ErrReadQuorum when it cannot tell).
func (s *Store) listLookup(bucket, key string) (summary, bool, error) {
	rec, _, _, err := s.version(bucket, key, "")
	switch {
	case err == nil, errors.Is(err, ErrNoSuchKey) && rec != nil:
		return summary{ModTime: rec.ModTime, VersionID: []byte(rec.VersionID), Size: rec.Size, ETag: []byte(rec.ETag),
			K: rec.K, DeleteMarker: rec.DeleteMarker, Tombstone: rec.Tombstone, Shown: rec.Shown}, true, nil
	case errors.Is(err, ErrNoSuchKey):
		return summary{}, false, nil
	}
	return summary{}, false, err
}

// resolveValues applies the read rule of resolve to the records of one key
// found on the disks: the newest version present on at least k of them.
func (s *Store) resolveValues(vals map[disk.Volume][]byte) *record {
	if len(vals) < s.cfg.DataShards {
		return nil
	}
	recs := make([]*record, 0, len(vals))
	for _, v := range vals {
		if r, err := unmarshalRecord(v); err == nil {
			recs = append(recs, r)
		}
	}
	best, _, err := s.resolve(recs, make([]error, len(recs)))
	if err != nil {
		return nil
	}
	return best
}
