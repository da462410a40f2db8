package objectd

import (
	"github.com/basaltstore/basalt/objectd/disk"
)

// Data in use: a reader (GET, heal) takes a reference on the data ids of
// the version it resolved, and a removal of data still referenced is
// deferred until the last reference goes. Without it, an overwrite that
// is acknowledged while a GET of the previous version streams would cut
// that GET short. (A crash while a removal is deferred leaves the files
// behind; they are unreferenced and never read.)

type pendingRemoval struct {
	d      disk.Volume
	inline bool
	// still, when set, is asked again before the deferred removal runs:
	// data an object took up meanwhile must stay.
	still func() bool
}

func (s *Store) acquire(ids []string) {
	s.refMu.Lock()
	for _, id := range ids {
		s.refs[id]++
	}
	s.refMu.Unlock()
}

func (s *Store) release(ids []string) {
	var now []func()
	s.refMu.Lock()
	for _, id := range ids {
		if s.refs[id]--; s.refs[id] > 0 {
			continue
		}
		delete(s.refs, id)
		for _, p := range s.pending[id] {
			f, still := s.removeFn(p.d, id, p.inline), p.still
			now = append(now, func() {
				if still == nil || still() {
					f()
				}
			})
		}
		delete(s.pending, id)
	}
	s.refMu.Unlock()
	for _, f := range now {
		f()
	}
}

// removeDataID removes one disk's copy of a data id now, or when its last
// reader is done.
func (s *Store) removeDataID(d disk.Volume, id string, inline bool) {
	s.removeDataIDUnless(d, id, inline, nil)
}

// removeDataIDUnless is removeDataID; when the removal has to wait for
// readers, still is asked again before it runs.
func (s *Store) removeDataIDUnless(d disk.Volume, id string, inline bool, still func() bool) {
	// Wait out lookups in flight: each has taken its references by then.
	s.viewMu.Lock()
	s.viewMu.Unlock()
	s.refMu.Lock()
	if s.refs[id] > 0 {
		s.pending[id] = append(s.pending[id], pendingRemoval{d, inline, still})
		s.refMu.Unlock()
		return
	}
	s.refMu.Unlock()
	s.removeFn(d, id, inline)()
}

func (s *Store) removeFn(d disk.Volume, id string, inline bool) func() {
	return func() {
		if inline {
			_ = d.Update(func(t disk.Txn) error { return t.Delete(inlineKey(id)) })
			return
		}
		_ = d.RemoveShard(id)
	}
}

func dataIDs(r *record) []string {
	ids := make([]string, len(r.Parts))
	for i, p := range r.Parts {
		ids[i] = p.DataID
	}
	return ids
}

// objectDataIDs is every data id any disk's record of the object points
// to: data that must not be removed on behalf of an upload or a part.
func (s *Store) objectDataIDs(set []disk.Volume, bucket, key string) map[string]bool {
	keep := map[string]bool{}
	recs, _ := s.readRecords(set, objectKey(bucket, key))
	for _, r := range recs {
		if r != nil {
			for _, p := range r.Parts {
				keep[p.DataID] = true
			}
		}
	}
	return keep
}

// unusedBy returns a check that id is not used by any record of the
// object (for removals of upload parts).
func (s *Store) unusedBy(bucket, key, id string) func() bool {
	return func() bool {
		return !s.objectDataIDs(s.set(bucket, key), bucket, key)[id]
	}
}

// unusedOn is unusedBy for a disk beyond the object's set: it looks at
// the object's records on d only.
func (s *Store) unusedOn(d disk.Volume, bucket, key, id string) func() bool {
	return func() bool {
		return !s.objectDataIDs([]disk.Volume{d}, bucket, key)[id]
	}
}
