package objectd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/objectd/shardfmt"
)

// healTask names an object to check and repair.
type healTask struct{ bucket, key string }

// queueHeal asks the healer to look at an object: a read met a missing or
// corrupt shard, or a write reached fewer than all k+m disks of its set.
// The request is recorded durably (q/<bucket>/<key> on every disk in
// service) before it is queued, so it survives a restart; it is removed
// once the object is whole again. Duplicate requests are merged; when the
// in-memory queue is full the recorded request waits for the next start
// (and the scrubber finds the object anyway).
func (s *Store) queueHeal(bucket, key string) {
	name := bucket + "/" + key
	if _, dup := s.healing.LoadOrStore(name, true); dup {
		return
	}
	qk := queueKey(bucket, key)
	for _, d := range s.localOnline() {
		s.note(d, d.Update(func(t disk.Txn) error { return t.Set(qk, nil) }))
	}
	s.queued.Add(1)
	s.enqueue(healTask{bucket, key})
}

func (s *Store) enqueue(t healTask) {
	select {
	case s.heal <- t:
	default:
		s.queued.Add(-1)
		s.healing.Delete(t.bucket + "/" + t.key)
	}
}

// loadQueue puts the repair requests recorded on the disks back in the
// queue (at start).
func (s *Store) loadQueue() {
	seen := map[string]bool{}
	for _, d := range s.localOnline() {
		it, err := d.NewIterator([]byte("q/"), nil, false)
		if err != nil {
			continue
		}
		for ; it.Valid(); it.Next() {
			seen[string(it.Key()[2:])] = true
		}
		it.Close()
	}
	for name := range seen {
		i := strings.IndexByte(name, '/')
		if i < 0 {
			continue
		}
		if _, dup := s.healing.LoadOrStore(name, true); dup {
			continue
		}
		s.queued.Add(1)
		s.enqueue(healTask{name[:i], name[i+1:]})
	}
	if len(seen) > 0 {
		s.log.Info("repair queue reloaded", "objects", len(seen))
	}
}

// dequeue forgets a repair request once the object is whole.
func (s *Store) dequeue(t healTask) {
	qk := queueKey(t.bucket, t.key)
	for _, d := range s.localOnline() {
		s.note(d, d.Update(func(tx disk.Txn) error { return tx.Delete(qk) }))
	}
}

// QueueLength is the number of objects waiting for repair.
func (s *Store) QueueLength() int64 { return s.queued.Load() }

func (s *Store) healLoop() {
	defer s.wg.Done()
	rt := newHealRetries(s.cfg.HealRetry)
	defer rt.timer.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-rt.timer.C:
			for _, t := range rt.due(s.cfg.Now()) {
				s.queueHeal(t.bucket, t.key)
			}
		case t := <-s.heal:
			s.healing.Delete(t.bucket + "/" + t.key)
			res, err := s.healObject(t.bucket, t.key)
			s.queued.Add(-1)
			switch {
			case err != nil:
				s.log.Warn("heal failed", "bucket", t.bucket, "key", t.key, "err", err)
				if !rt.failed(t, s.cfg.Now()) {
					s.log.Warn("heal given up until the next start or scrub pass", "bucket", t.bucket, "key", t.key, "attempts", maxHealAttempts)
				}
			case res.Complete:
				s.dequeue(t)
			}
			if err == nil {
				rt.forget(t)
			}
			if s.cfg.OnHeal != nil {
				s.cfg.OnHeal(t.bucket, t.key, res, err)
			}
		}
	}
}

// maxHealAttempts bounds the tries of one heal that keeps failing (a
// disk holding a needed shard down for long, a read refused by the read
// rule during a cut), and maxHealRetries the heals waiting to be tried
// again; a heal given up keeps its request recorded on the disks, for the
// next start, and the scrubber finds the object anyway.
const (
	maxHealAttempts = 8
	maxHealRetries  = 1 << 16
)

// healRetries schedules the heals that failed again, after a wait that
// starts at base and doubles with each failure, up to 10 minutes. It
// belongs to the heal loop's goroutine.
type healRetries struct {
	base  time.Duration // <= 0: no retries
	tasks map[healTask]*healRetry
	timer *time.Timer
	next  time.Time // when timer fires; zero: stopped
}

type healRetry struct {
	attempts int
	at       time.Time // when to queue it (again)
}

func newHealRetries(base time.Duration) *healRetries {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &healRetries{base: base, tasks: map[healTask]*healRetry{}, timer: t}
}

// failed schedules t again after a failure at now; false when it has
// failed maxHealAttempts times, or too many others wait (it is then
// forgotten).
func (r *healRetries) failed(t healTask, now time.Time) bool {
	if r.base <= 0 {
		return true
	}
	e := r.tasks[t]
	if e == nil {
		if len(r.tasks) >= maxHealRetries {
			return false
		}
		e = &healRetry{}
		r.tasks[t] = e
	}
	e.attempts++
	if e.attempts >= maxHealAttempts {
		delete(r.tasks, t)
		return false
	}
	e.at = now.Add(r.wait(e.attempts))
	if r.next.IsZero() || e.at.Before(r.next) {
		r.arm(e.at, now)
	}
	return true
}

// wait is the wait after a task's n-th failure: base, doubling, at most
// 10 minutes.
func (r *healRetries) wait(n int) time.Duration {
	return min(r.base<<(n-1), 10*time.Minute)
}

// forget drops t once a heal of it succeeded.
func (r *healRetries) forget(t healTask) { delete(r.tasks, t) }

// due returns the tasks to queue again at now (those due within half a
// base wait, in one batch) and arms the timer for the next. A task
// returned is due again one wait later, in case its heal never reports
// (a full queue drops it): a result reschedules or forgets it first.
func (r *healRetries) due(now time.Time) []healTask {
	r.next = time.Time{}
	var out []healTask
	var next time.Time
	for t, e := range r.tasks {
		if !e.at.After(now.Add(r.base / 2)) {
			e.at = now.Add(r.wait(e.attempts + 1))
			out = append(out, t)
		}
		if next.IsZero() || e.at.Before(next) {
			next = e.at
		}
	}
	if !next.IsZero() {
		r.arm(next, now)
	}
	return out
}

func (r *healRetries) arm(at, now time.Time) {
	r.next = at
	r.timer.Reset(at.Sub(now))
}

// HealResult says what a heal did.
type HealResult struct {
	Rebuilt  int  // shards rewritten
	Complete bool // every disk of the set holds a good shard now
	Bytes    int64
}

// HealObject checks every shard of an object's current version and rebuilds
// the missing and corrupt ones from the others, on the disks of its set.
func (s *Store) HealObject(bucket, key string) error {
	_, err := s.healObject(bucket, key)
	return err
}

// healObject heals every version of a key: the current one, then each
// noncurrent one.
func (s *Store) healObject(bucket, key string) (HealResult, error) {
	return s.healVersions(bucket, key, false)
}

// healVersions is healObject; with trust set (filling a disk back), the
// shards the records say are there are taken as good without reading
// them through first: the rebuild reads k of them, block by block with
// their checksums, and only if that fails is every shard verified and the
// heal made again. Damage on the shards it did not read is the
// scrubber's to find.
func (s *Store) healVersions(bucket, key string, trust bool) (HealResult, error) {
	res, err := s.healAt(bucket, key, objectKey(bucket, key), trust)
	if err != nil {
		return res, err
	}
	vs, err := s.noncurrent(s.set(bucket, key), bucket, key)
	if err != nil {
		return res, err
	}
	for _, v := range vs {
		r, err := s.healAt(bucket, key, v.rkey, trust)
		if err != nil {
			return res, err
		}
		res.Rebuilt += r.Rebuilt
		res.Bytes += r.Bytes
		res.Complete = res.Complete && r.Complete
	}
	return res, nil
}

// healAt heals the version kept at record key okey (the object's record
// key, or a noncurrent version's); trust as for healVersions.
func (s *Store) healAt(bucket, key string, okey []byte, trust bool) (HealResult, error) {
	// One heal at a time: repair traffic stays bounded, and two healers
	// never rebuild the same shard.
	s.healMu.Lock()
	defer s.healMu.Unlock()
	res, err := s.healLocked(bucket, key, okey, trust)
	if trust && err != nil {
		res, err = s.healLocked(bucket, key, okey, false)
	}
	return res, err
}

func (s *Store) healLocked(bucket, key string, okey []byte, trust bool) (HealResult, error) {
	// Resolve and hold the version's data as a GET does (lookupHeld), on
	// the same widened set: a version whose records are partly on
	// hand-offs or on an earlier ring's disks is the current one, and the
	// heal must not rebuild an older one over it from the primaries alone.
	s.viewMu.RLock()
	set, recs, errs := s.readSet(bucket, key, okey)
	best, holders, err := s.resolveAny(recs, errs)
	if err == nil {
		s.acquire(dataIDs(best))
	}
	s.viewMu.RUnlock()
	if errors.Is(err, ErrNoSuchKey) {
		return HealResult{Complete: true}, nil
	}
	if err != nil {
		return HealResult{}, err
	}
	defer s.release(dataIDs(best))
	good := make([]bool, len(set))
	targets := make([]bool, len(set))
	nGood, nTargets, offline := 0, 0, 0
	for j, d := range set {
		// A disk being filled back, or a hand-off standing in for a
		// primary that is down, answered and takes the shard.
		if d == nil || (errs[j] != nil && !errors.Is(errs[j], errDiskHealing) && !errors.Is(errs[j], errHandoffEmpty)) {
			offline++
			continue
		}
		if holders[j] && (trust || s.verifyShards(d, best, j) == nil) {
			good[j] = true
			nGood++
		} else {
			targets[j] = true
			nTargets++
		}
	}
	if nTargets == 0 {
		return HealResult{Complete: offline == 0}, nil
	}
	if nGood < best.K {
		return HealResult{}, fmt.Errorf("%w: %s/%s has %d good shards, %d needed", ErrReadQuorum, bucket, key, nGood, best.K)
	}
	inline := make([][][]byte, len(best.Parts)) // [part][slot] encoded shards
	for pi := range best.Parts {
		out, err := s.rebuildPart(set, best, &best.Parts[pi], good, targets)
		if err != nil {
			return HealResult{}, err
		}
		inline[pi] = out
	}
	// Commit the records only if the version is still the current one.
	mu := s.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	cset, crecs, cerrs := s.readSet(bucket, key, okey)
	cur, _, err := s.resolveAny(crecs, cerrs)
	if err != nil || cur.VersionID != best.VersionID {
		return HealResult{}, nil
	}
	res := HealResult{Complete: offline == 0}
	for j, d := range set {
		if !targets[j] {
			continue
		}
		r := *best
		r.ShardIndex = j
		val := r.marshal()
		// What the target holds now, from the check's read when it saw
		// this disk at this slot.
		old := crecs[j]
		if cset[j] != d || cerrs[j] != nil {
			old, _ = s.readRecord(d, okey)
		}
		err := d.Update(func(t disk.Txn) error {
			for pi, p := range best.Parts {
				if p.Inline {
					if err := t.Set(inlineKey(p.DataID), inline[pi][j]); err != nil {
						return err
					}
				}
			}
			return t.Set(okey, val)
		})
		s.note(d, err)
		if err != nil {
			s.log.Warn("heal: record write failed", "disk", d.Root(), "err", err)
			res.Complete = false
			continue
		}
		if old != nil && old.VersionID != best.VersionID {
			s.dropData(d, old, true, idSet(best))
		}
		res.Rebuilt++
		n := s.shardBytes(best)
		res.Bytes += n
		s.shardsRebuilt.Add(1)
		s.bytesRebuilt.Add(n)
	}
	s.log.Info("healed object", "bucket", bucket, "key", key, "shards", res.Rebuilt)
	return res, nil
}

// verifyShards reads and checks every block of every part of rec held on d.
func (s *Store) verifyShards(d disk.Volume, rec *record, j int) error {
	for pi := range rec.Parts {
		rd, c, err := s.openShard(d, rec, &rec.Parts[pi], j)
		if err != nil {
			return err
		}
		err = rd.Verify()
		if c != nil {
			c.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rebuildPart reconstructs the target shards of one part from the good
// ones, stripe by stripe. File shards are written (atomically replacing a
// corrupt file of the same name); inline shards are returned encoded.
func (s *Store) rebuildPart(set []disk.Volume, rec *record, p *partRecord, good, targets []bool) ([][]byte, error) {
	src, dst := make([]disk.Volume, len(set)), make([]disk.Volume, len(set))
	for j, d := range set {
		if good[j] {
			src[j] = d
		}
		if targets[j] {
			dst[j] = d
		}
	}
	return s.rebuildShards(src, dst, rec, p)
}

// rebuildShards is rebuildPart with the disks of each slot given apart:
// shard j is read from src[j] (nil: not a source) and written to dst[j]
// (nil: not a target). A slot may be both, to carry a shard from the disk
// that has it to the slot's own.
func (s *Store) rebuildShards(src, dst []disk.Volume, rec *record, p *partRecord) ([][]byte, error) {
	n := len(src)
	codec, err := s.codecFor(rec)
	if err != nil {
		return nil, err
	}
	readers := make([]*shardfmt.Reader, n)
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	srcs := 0
	for j, d := range src {
		if d == nil || srcs == rec.K {
			continue
		}
		rd, c, err := s.openShard(d, rec, p, j)
		if err != nil {
			continue
		}
		if c != nil {
			closers = append(closers, c)
		}
		readers[j] = rd
		srcs++
	}
	if srcs < rec.K {
		return nil, fmt.Errorf("%w: part %d: %d sources", ErrReadQuorum, p.Number, srcs)
	}
	sws := make([]*shardfmt.Writer, n)
	fws := make([]disk.ShardSink, n)
	bufs := make([]*bytes.Buffer, n)
	abort := func() {
		for _, fw := range fws {
			if fw != nil {
				fw.Abort()
			}
		}
	}
	for j, d := range dst {
		if d == nil {
			continue
		}
		h := shardfmt.Header{Version: shardfmt.Version, Algorithm: shardfmt.CRC32C, K: uint8(rec.K), M: uint8(rec.M),
			Index: uint8(j), BlockSize: uint32(codec.ShardBlockSize()), Length: codec.ShardSize(p.Size)}
		var w io.Writer
		if p.Inline {
			bufs[j] = &bytes.Buffer{}
			w = bufs[j]
		} else {
			fw, err := d.CreateShard(p.DataID)
			if err != nil {
				abort()
				return nil, err
			}
			fws[j] = fw
			w = fw
		}
		sw, err := shardfmt.NewWriter(w, h)
		if err != nil {
			abort()
			return nil, err
		}
		sws[j] = sw
	}
	shards := s.pools.getShards()
	defer s.pools.putShards(shards)
	raw := make([][]byte, n)
	copy(raw, *shards)
	view := make([][]byte, n)
	stripes := codec.Stripes(p.Size)
	for i := int64(0); i < stripes; i++ {
		for j := range view {
			view[j] = raw[j][:0]
			if readers[j] == nil {
				continue
			}
			b, err := readers[j].ReadBlock(i, raw[j][:cap(raw[j])])
			if err != nil {
				abort()
				return nil, fmt.Errorf("heal: source shard %d: %w", j, err)
			}
			view[j] = b
		}
		if err := codec.Reconstruct(view, false); err != nil {
			abort()
			return nil, fmt.Errorf("heal: %w", err)
		}
		for j, sw := range sws {
			if sw == nil {
				continue
			}
			if err := sw.WriteBlock(view[j]); err != nil {
				abort()
				return nil, err
			}
		}
	}
	out := make([][]byte, n)
	for j, sw := range sws {
		if sw == nil {
			continue
		}
		if err := sw.Close(); err != nil {
			abort()
			return nil, err
		}
		if p.Inline {
			out[j] = bufs[j].Bytes()
		} else {
			if err := fws[j].Commit(); err != nil {
				fws[j] = nil
				abort()
				return nil, err
			}
			fws[j] = nil
		}
	}
	return out, nil
}

// fillBack fills disks marked healing (new or replaced disks among disks
// that hold data) by healing every object, then clears their markers.
func (s *Store) fillBack() {
	defer s.wg.Done()
	defer close(s.filled)
	var healing []disk.Volume
	for _, d := range s.disks {
		if d != nil && d.Healing() {
			healing = append(healing, d)
		}
	}
	if len(healing) == 0 {
		return
	}
	s.log.Info("filling back disks", "disks", len(healing))
	ctx, cancel := s.stopContext()
	defer cancel()
	objects, failed := 0, 0
	clustered := s.layout.Load() != nil
	err := s.eachObject(ctx, "", func(bucket string, o ObjectInfo) error {
		// In a cluster most objects have no shard on this node's disks.
		if clustered && !slices.ContainsFunc(s.set(bucket, o.Key), func(d disk.Volume) bool { return slices.Contains(healing, d) }) {
			return nil
		}
		if _, err := s.healVersions(bucket, o.Key, true); err != nil {
			failed++
			s.log.Warn("fill back: heal failed", "bucket", bucket, "key", o.Key, "err", err)
		}
		objects++
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("fill back: listing failed", "err", err)
		}
		return
	}
	if failed > 0 {
		s.log.Warn("fill back incomplete; retried at next start", "objects", objects, "failed", failed)
		return
	}
	for _, d := range healing {
		if err := d.SetHealing(false); err != nil {
			s.log.Warn("fill back: cannot clear marker", "disk", d.Root(), "err", err)
		}
	}
	s.log.Info("disks filled back", "objects", objects)
}
