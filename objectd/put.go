package objectd

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/objectd/shardfmt"
)

// written is the outcome of streaming one object's (or part's) data into
// shards: which slots of the set hold a durable shard.
type written struct {
	dataID string
	size   int64
	ok     []bool
	md5    []byte
	inline [][]byte // encoded shard per slot, for inline data
}

func (w *written) count() int {
	n := 0
	for _, ok := range w.ok {
		if ok {
			n++
		}
	}
	return n
}

// ValidKey reports whether key is a valid object name.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidArgument)
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("%w: key longer than %d bytes", ErrInvalidArgument, MaxKeyLength)
	}
	if !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		return fmt.Errorf("%w: key is not valid UTF-8", ErrInvalidArgument)
	}
	return nil
}

func (s *Store) header(index int, size int64) shardfmt.Header {
	return shardfmt.Header{
		Version:   shardfmt.Version,
		Algorithm: shardfmt.CRC32C,
		K:         uint8(s.cfg.DataShards),
		M:         uint8(s.cfg.ParityShards),
		Index:     uint8(index),
		BlockSize: uint32(s.codec.ShardBlockSize()),
		Length:    s.codec.ShardSize(size),
	}
}

// readFull reads len(buf) bytes of the body; a body that ends early is
// ErrIncompleteBody, any other error (a failed signature or checksum, a
// client gone) is returned as it is.
func readFull(r io.Reader, buf []byte) error {
	_, err := io.ReadFull(r, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || (errors.Is(err, io.EOF) && len(buf) > 0) {
		return ErrIncompleteBody
	}
	return err
}

// expectEOF reads past the last byte so that readers which verify a digest
// at EOF get to say so; a body longer than its length is refused.
func expectEOF(r io.Reader) error {
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n > 0 {
			return fmt.Errorf("%w: body longer than its declared length", ErrInvalidArgument)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// writeData streams size bytes from r into one shard per slot of set. Slots
// whose disk is offline or fails are marked not ok; the caller decides
// whether enough succeeded. On error nothing is left on any disk.
func (s *Store) writeData(ctx context.Context, set []disk.Volume, r io.Reader, size int64, inline bool, md5h hash.Hash) (*written, error) {
	n := len(set)
	w := &written{dataID: newID(), size: size, ok: make([]bool, n)}
	if md5h == nil {
		md5h = md5.New()
	}
	stripe := s.pools.getStripe()
	defer s.pools.putStripe(stripe)
	shards := s.pools.getShards()
	defer s.pools.putShards(shards)

	var sinks []io.Writer
	var fws []disk.ShardSink
	var bufs []*bytes.Buffer
	sfw := make([]*shardfmt.Writer, n)
	if inline {
		bufs = make([]*bytes.Buffer, n)
		for i := range set {
			bufs[i] = bytes.NewBuffer(make([]byte, 0, shardfmt.EncodedSize(s.header(i, size))))
			w.ok[i] = true
		}
	} else {
		fws = make([]disk.ShardSink, n)
		for i, d := range set {
			if d == nil {
				continue
			}
			fw, err := d.CreateShard(w.dataID)
			s.note(d, err)
			if err != nil {
				s.log.Warn("shard create failed", "disk", d.Root(), "err", err)
				continue
			}
			fws[i] = fw
			w.ok[i] = true
		}
	}
	abort := func() {
		for _, fw := range fws {
			if fw != nil {
				fw.Abort()
			}
		}
	}
	sinks = make([]io.Writer, n)
	for i := range sinks {
		if !w.ok[i] {
			continue
		}
		if inline {
			sinks[i] = bufs[i]
		} else {
			sinks[i] = fws[i]
		}
		fw, err := shardfmt.NewWriter(sinks[i], s.header(i, size))
		if err != nil {
			w.ok[i] = false
			if fws != nil {
				fws[i].Abort()
				fws[i] = nil
			}
			continue
		}
		sfw[i] = fw
	}
	if w.count() < s.writeQuorum() {
		abort()
		return nil, fmt.Errorf("%w: %d of %d disks took the write", ErrWriteQuorum, w.count(), n)
	}

	stripes := s.codec.Stripes(size)
	for i := int64(0); i < stripes; i++ {
		if err := ctx.Err(); err != nil {
			abort()
			return nil, err
		}
		buf := (*stripe)[:s.codec.StripeLen(size, i)]
		if err := readFull(r, buf); err != nil {
			abort()
			return nil, err
		}
		md5h.Write(buf)
		if err := s.codec.Encode(buf, *shards); err != nil {
			abort()
			return nil, fmt.Errorf("objectd: encode: %w", err)
		}
		for j := range set {
			if !w.ok[j] {
				continue
			}
			if err := sfw[j].WriteBlock((*shards)[j]); err != nil {
				s.note(set[j], err)
				s.log.Warn("shard write failed", "disk", set[j].Root(), "err", err)
				w.ok[j] = false
				if fws != nil {
					fws[j].Abort()
					fws[j] = nil
				}
			}
		}
		if w.count() < s.writeQuorum() {
			abort()
			return nil, fmt.Errorf("%w: too many disks failed during the write", ErrWriteQuorum)
		}
	}
	if err := expectEOF(r); err != nil {
		abort()
		return nil, err
	}
	w.md5 = md5h.Sum(nil)
	for j := range set {
		if w.ok[j] {
			if err := sfw[j].Close(); err != nil {
				w.ok[j] = false
				if fws != nil {
					fws[j].Abort()
					fws[j] = nil
				}
			}
		}
	}
	if inline {
		w.inline = make([][]byte, n)
		for j, b := range bufs {
			w.inline[j] = b.Bytes()
		}
		return w, nil
	}
	// Make every shard durable, in parallel across disks.
	var wg sync.WaitGroup
	for j, fw := range fws {
		if fw == nil || !w.ok[j] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := fw.Commit()
			s.note(set[j], err)
			if err != nil {
				s.log.Warn("shard commit failed", "disk", set[j].Root(), "err", err)
				w.ok[j] = false
			}
		}()
	}
	wg.Wait()
	if w.count() < s.writeQuorum() {
		s.removeData(set, w)
		return nil, fmt.Errorf("%w: %d of %d shards durable", ErrWriteQuorum, w.count(), n)
	}
	return w, nil
}

// removeData deletes the shard files of w (best effort).
func (s *Store) removeData(set []disk.Volume, w *written) {
	if w == nil || w.inline != nil {
		return
	}
	for j, d := range set {
		if d != nil && w.ok[j] {
			_ = d.RemoveShard(w.dataID)
		}
	}
}

func etagOf(sum []byte) string { return hex.EncodeToString(sum) }

// PutObject stores size bytes read from r (size must be known, >= 0) under
// bucket/key, replacing any previous version once a write quorum of shards
// and records is durable.
func (s *Store) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	if err := ValidKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if size < 0 {
		return ObjectInfo{}, fmt.Errorf("%w: object size must be known", ErrInvalidArgument)
	}
	if size > MaxObjectSize {
		return ObjectInfo{}, ErrEntityTooLarge
	}
	if err := s.checkBucket(bucket); err != nil {
		return ObjectInfo{}, err
	}
	set := s.set(bucket, key)
	inline := size <= s.cfg.InlineThreshold
	w, err := s.writeData(ctx, set, r, size, inline, nil)
	if err != nil {
		return ObjectInfo{}, err
	}
	if opts.ContentMD5 != nil && !bytes.Equal(opts.ContentMD5, w.md5) {
		s.removeData(set, w)
		return ObjectInfo{}, ErrBadDigest
	}
	now := s.now()
	rec := &record{
		ModTime:     now,
		VersionID:   w.dataID,
		Size:        size,
		ETag:        etagOf(w.md5),
		ContentType: opts.ContentType,
		Headers:     opts.Headers,
		UserMeta:    opts.UserMeta,
		K:           s.cfg.DataShards,
		M:           s.cfg.ParityShards,
		BlockSize:   s.cfg.BlockSize,
		Parts:       []partRecord{{Number: 1, Size: size, ETag: etagOf(w.md5), DataID: w.dataID, Inline: inline, ModTime: now}},
	}
	if opts.Checksum != nil {
		rec.Checksum = opts.Checksum()
		rec.Parts[0].Checksum = rec.Checksum
	}
	if err := s.commitObject(bucket, key, set, rec, []*written{w}, opts.Check, opts.Versioning); err != nil {
		s.removeData(set, w)
		return ObjectInfo{}, err
	}
	return rec.info(bucket, key), nil
}

// commitObject writes rec to every slot of set whose shards are durable in
// all of ws, under the key's lock, after the check. It is acknowledged when
// a write quorum of records is durable; otherwise every record written is
// rolled back. By the versioning mode, the previous current version is
// replaced (its data removed afterwards) or kept as a noncurrent version;
// with versioning suspended, the previous "null" version goes wherever it
// is.
func (s *Store) commitObject(bucket, key string, set []disk.Volume, rec *record, ws []*written, check func(*ObjectInfo) error, mode Versioning) error {
	s.adoptBucket(bucket)
	s.bucketMu.RLock()
	defer s.bucketMu.RUnlock()
	if _, ok := s.buckets[bucket]; !ok {
		return ErrNoSuchBucket
	}
	mu := s.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	okey := objectKey(bucket, key)
	olds, errs := s.readRecords(set, okey)
	var prev *record // the acknowledged current version
	var prevHolders []bool
	if check != nil || mode != Unversioned {
		best, holders, err := s.resolve(olds, errs)
		if err != nil && !errors.Is(err, ErrNoSuchKey) {
			return err
		}
		prev, prevHolders = best, holders
	}
	if check != nil {
		var cur *ObjectInfo
		if prev != nil && !prev.DeleteMarker {
			oi := prev.info(bucket, key)
			cur = &oi
		}
		if err := check(cur); err != nil {
			return err
		}
	}
	if mode != sameVersion {
		rec.Null = mode != VersioningEnabled
	}
	keepPrev := prev != nil && (mode == VersioningEnabled || mode == VersioningSuspended && !prev.Null)
	var prevKey []byte
	if keepPrev {
		prevKey = versionKey(bucket, key, prev)
	}
	// With versioning suspended the new null version replaces the old
	// one, current or not.
	var nulls []versionAt
	if mode == VersioningSuspended {
		vs, err := s.noncurrent(set, bucket, key)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.best.Null {
				nulls = append(nulls, v)
			}
		}
	}
	// A write may have been slower than a later one: keep time increasing.
	if t := s.now(); rec.ModTime < t {
		rec.ModTime = t
	}
	// Newer than every record there, a tombstone or an unacknowledged
	// write included: else the newer one would win when read.
	for _, o := range olds {
		if o != nil && rec.ModTime <= o.ModTime {
			rec.ModTime = o.ModTime + 1
		}
	}
	if prev != nil && rec.ModTime <= prev.ModTime {
		rec.ModTime = prev.ModTime + 1
	}
	okSlots := make([]bool, len(set))
	var wg sync.WaitGroup
	for j, d := range set {
		if d == nil {
			continue
		}
		all := true
		for _, w := range ws {
			all = all && w.ok[j]
		}
		if !all {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := *rec
			r.ShardIndex = j
			val := r.marshal()
			err := d.Update(func(t disk.Txn) error {
				if err := t.Set(okey, val); err != nil {
					return err
				}
				for _, w := range ws {
					if w.inline != nil {
						if err := t.Set(inlineKey(w.dataID), w.inline[j]); err != nil {
							return err
						}
					}
				}
				if keepPrev && prevHolders[j] {
					if err := t.Set(prevKey, olds[j].marshal()); err != nil {
						return err
					}
				}
				for _, v := range nulls {
					if v.recs[j] != nil {
						if err := t.Delete(v.rkey); err != nil {
							return err
						}
					}
				}
				return nil
			})
			s.note(d, err)
			if err != nil {
				s.log.Warn("metadata write failed", "disk", d.Root(), "err", err)
				return
			}
			okSlots[j] = true
		}()
	}
	wg.Wait()
	n := 0
	for _, ok := range okSlots {
		if ok {
			n++
		}
	}
	if n < s.writeQuorum() {
		// Roll back: put the previous records back where we wrote.
		for j, d := range set {
			if !okSlots[j] {
				continue
			}
			old := olds[j]
			_ = d.Update(func(t disk.Txn) error {
				for _, w := range ws {
					if w.inline != nil {
						_ = t.Delete(inlineKey(w.dataID))
					}
				}
				if keepPrev && prevHolders[j] {
					_ = t.Delete(prevKey)
				}
				for _, v := range nulls {
					if v.recs[j] != nil {
						_ = t.Set(v.rkey, v.recs[j].marshal())
					}
				}
				if old != nil {
					return t.Set(okey, old.marshal())
				}
				return t.Delete(okey)
			})
		}
		return fmt.Errorf("%w: %d of %d metadata records durable", ErrWriteQuorum, n, len(set))
	}
	// The new version is acknowledged: drop what the replaced ones held,
	// unless a version still there shares it (a metadata update).
	keep := refsOf(nil, rec)
	if mode == VersioningEnabled || mode == VersioningSuspended {
		vs, _ := s.noncurrent(set, bucket, key)
		for _, v := range vs {
			keep = refsOf(keep, v.best)
		}
	}
	for j, d := range set {
		if d == nil {
			continue
		}
		if olds[j] != nil && !(keepPrev && prevHolders[j]) {
			s.dropData(d, olds[j], okSlots[j], keep)
		}
		for _, v := range nulls {
			if v.recs[j] != nil {
				s.dropData(d, v.recs[j], okSlots[j], keep)
			}
		}
	}
	if n < len(set) {
		s.queueHeal(bucket, key)
	}
	return nil
}

// dropData removes the shard files (and inline values) of an old record
// from one disk, except data ids in keep (the new version may point to the
// same parts: a CompleteMultipartUpload retried after a crash). When the
// disk did not take the new record, its old record is left for the healer
// to replace, and its data is kept.
func (s *Store) dropData(d disk.Volume, old *record, replaced bool, keep map[string]bool) {
	if !replaced {
		return
	}
	for _, p := range old.Parts {
		if !keep[p.DataID] {
			s.removeDataID(d, p.DataID, p.Inline)
		}
	}
}

func idSet(r *record) map[string]bool {
	m := make(map[string]bool, len(r.Parts))
	for _, p := range r.Parts {
		m[p.DataID] = true
	}
	return m
}

// readRecords reads the record at key from every disk of set. A missing
// record is (nil, nil); an unreachable disk gives an error.
func (s *Store) readRecords(set []disk.Volume, key []byte) ([]*record, []error) {
	recs := make([]*record, len(set))
	errs := make([]error, len(set))
	if v := s.layout.Load(); v != nil && v.remote {
		// Other nodes' disks answer in a network round trip each: ask
		// them all at once.
		var wg sync.WaitGroup
		for j := range set {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs[j], errs[j] = s.readRecord(set[j], key)
			}()
		}
		wg.Wait()
		return recs, errs
	}
	for j, d := range set {
		recs[j], errs[j] = s.readRecord(d, key)
	}
	return recs, errs
}

// readRecord reads the record at key from d: nil and no error when d
// holds none (errDiskHealing instead when d is being filled back).
func (s *Store) readRecord(d disk.Volume, key []byte) (*record, error) {
	if d == nil {
		return nil, errDiskOffline
	}
	b, err := d.Get(key)
	s.note(d, err)
	if errors.Is(err, disk.ErrNotFound) {
		if d.Healing() {
			return nil, errDiskHealing
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return unmarshalRecord(b)
}

var (
	errDiskOffline = errors.New("objectd: disk offline")
	errDiskHealing = errors.New("objectd: disk is being filled back")
	// errHandoffEmpty: a hand-off in the set holds no record of the key.
	errHandoffEmpty = errors.New("objectd: hand-off holds nothing of the key")
)

// resolve picks the version to serve from the records of a set: the newest
// version held by at least k disks (enough to read it). Versions on fewer
// disks are writes that were never acknowledged, or are being healed.
// It returns the chosen record and which slots hold it. A tombstone
// chosen means no object (ErrNoSuchKey).
func (s *Store) resolve(recs []*record, errs []error) (*record, []bool, error) {
	best, holders, err := s.resolveAny(recs, errs)
	if err == nil && best.Tombstone {
		return nil, nil, ErrNoSuchKey
	}
	return best, holders, err
}

// unseenNewer refuses to choose best (nil: no version) when a newer
// version may have been acknowledged without the read seeing k of its
// records: a write counts once the write quorum of the set's slots took
// it, and unanswered disks (slots that did not answer, and hand-offs that
// might stand in for a slot but did not answer) could hold the rest. That
// is so for a version seen on c disks when c + unanswered reaches the
// quorum, and for one not seen at all when unanswered alone does (a node
// cut off, not knowing it yet, that sees only its own disks). Choosing
// best then could serve an older version, or none, in place of one
// acknowledged; the read is unavailable (ErrReadQuorum) instead, until
// those disks answer. With every disk answering, a version on fewer than
// k of them is a write that never reached its quorum (failed, or still
// in flight), and best stands.
func (s *Store) unseenNewer(recs []*record, unanswered int, best *record) error {
	if unanswered == 0 {
		return nil
	}
	w := s.writeQuorum()
	if unanswered >= w {
		return fmt.Errorf("%w: %d of the disks that may hold the newest records did not answer", ErrReadQuorum, unanswered)
	}
	for j, r := range recs {
		if r == nil || best != nil && !newerRecord(r, best) {
			continue
		}
		c := 0
		for _, o := range recs[j:] {
			if o != nil && o.VersionID == r.VersionID {
				c++
			}
		}
		if c+unanswered >= w {
			return fmt.Errorf("%w: version %s on %d of %d disks, %d did not answer: it may be acknowledged", ErrReadQuorum, r.VersionID, c, len(recs), unanswered)
		}
	}
	return nil
}

// readable returns the newest version held by at least its k records,
// nil when there is none.
func readable(recs []*record) *record {
	var best *record
	for j, r := range recs {
		if r == nil || best != nil && (r.VersionID == best.VersionID || r.ModTime < best.ModTime) {
			continue
		}
		c := 0
		for _, o := range recs[j:] {
			if o != nil && o.VersionID == r.VersionID {
				c++
			}
		}
		if c >= r.K && (best == nil || newerRecord(r, best)) {
			best = r
		}
	}
	return best
}

// newerRecord orders records as resolve does: by time, then id.
func newerRecord(a, b *record) bool {
	return a.ModTime > b.ModTime || a.ModTime == b.ModTime && a.VersionID > b.VersionID
}

// resolveAny is resolve that returns a tombstone as the version chosen
// (the healer copies tombstones like any record).
func (s *Store) resolveAny(recs []*record, errs []error) (*record, []bool, error) {
	answered := 0
	for j := range recs {
		if errs[j] == nil {
			answered++
		}
	}
	if answered < s.cfg.DataShards {
		for _, err := range errs {
			if errors.Is(err, ErrReadQuorum) {
				return nil, nil, err // readSet's refusal, with its reason
			}
		}
		return nil, nil, fmt.Errorf("%w: %d of %d disks answered", ErrReadQuorum, answered, len(recs))
	}
	best := readable(recs)
	if err := s.unseenNewer(recs, len(recs)-answered, best); err != nil {
		return nil, nil, err
	}
	if best == nil {
		return nil, nil, ErrNoSuchKey
	}
	holders := make([]bool, len(recs))
	for j, r := range recs {
		holders[j] = r != nil && r.VersionID == best.VersionID
	}
	return best, holders, nil
}
