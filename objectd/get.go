package objectd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/objectd/erasure"
	"github.com/basaltstore/basalt/objectd/shardfmt"
)

// version resolves a version of an object: the current one (vid empty) or
// the one with id vid. A delete marker comes back with its record and an
// error: ErrNoSuchKey when it is the current version, ErrDeleteMarker when
// asked for by id. It takes no store lock (lookupHeld runs it under
// viewMu).
func (s *Store) version(bucket, key, vid string) (*record, []disk.Volume, []bool, error) {
	if err := ValidKey(key); err != nil {
		return nil, nil, nil, ErrNoSuchKey
	}
	set, recs, errs := s.readSet(bucket, key, objectKey(bucket, key))
	best, holders, err := s.resolve(recs, errs)
	if errors.Is(err, ErrReadQuorum) && s.reprobe() {
		// A node seen down was back (just restarted, say): read again
		// with its disks rather than refuse.
		set, recs, errs = s.readSet(bucket, key, objectKey(bucket, key))
		best, holders, err = s.resolve(recs, errs)
	}
	if err != nil && !errors.Is(err, ErrNoSuchKey) {
		return nil, nil, nil, err
	}
	if err == nil {
		// A disk of the set that answered without the version needs it back.
		for j := range holders {
			if !holders[j] && set[j] != nil && (errs[j] == nil || errors.Is(errs[j], errDiskHealing)) {
				s.queueHeal(bucket, key)
				break
			}
		}
	}
	if vid == "" {
		if err != nil {
			return nil, nil, nil, err
		}
		if best.DeleteMarker {
			return best, set, holders, ErrNoSuchKey
		}
		return best, set, holders, nil
	}
	if err == nil && best.versionID() == vid {
		if best.DeleteMarker {
			return best, set, holders, ErrDeleteMarker
		}
		return best, set, holders, nil
	}
	if err != nil {
		return nil, nil, nil, ErrNoSuchVersion
	}
	vs, err := s.noncurrent(set, bucket, key)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, v := range vs {
		if v.best.versionID() == vid {
			if v.best.DeleteMarker {
				return v.best, set, v.holders, ErrDeleteMarker
			}
			return v.best, set, v.holders, nil
		}
	}
	return nil, nil, nil, ErrNoSuchVersion
}

// lookupHeld resolves a version and takes a reference on its data, so
// that an overwrite or delete acknowledged meanwhile defers removing it
// until the reference goes. Lookup and reference happen under viewMu's
// read lock; a removal passes viewMu first (see removeDataID), so it
// either sees the reference or comes before a lookup that already finds
// the newer version.
func (s *Store) lookupHeld(bucket, key, vid string) (*record, []disk.Volume, []bool, []string, error) {
	// The bucket check takes bucketMu: outside viewMu, so that a removal
	// waiting for viewMu under bucketMu's read lock cannot close a cycle.
	if err := s.checkBucket(bucket); err != nil {
		return nil, nil, nil, nil, err
	}
	s.viewMu.RLock()
	defer s.viewMu.RUnlock()
	rec, set, holders, err := s.version(bucket, key, vid)
	if err != nil {
		return rec, nil, nil, nil, err
	}
	ids := dataIDs(rec)
	s.acquire(ids)
	return rec, set, holders, ids, nil
}

// HeadObject returns the current version's metadata, answered by the
// metadata records alone. When the current version is a delete marker,
// the error is ErrNoSuchKey and the info describes the marker
// (DeleteMarker set).
func (s *Store) HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	return s.HeadObjectVersion(ctx, bucket, key, "")
}

// HeadObjectVersion returns a version's metadata (vid empty: the current
// one). A delete marker asked for by id gives its info and
// ErrDeleteMarker; an unknown id ErrNoSuchVersion.
func (s *Store) HeadObjectVersion(ctx context.Context, bucket, key, vid string) (ObjectInfo, error) {
	if err := s.checkBucket(bucket); err != nil {
		return ObjectInfo{}, err
	}
	rec, _, _, err := s.version(bucket, key, vid)
	if rec == nil {
		return ObjectInfo{}, err
	}
	return rec.info(bucket, key), err
}

// GetObject returns the object's info and a reader of the selected bytes.
// The reader must be closed. Conditions can be checked on the info before
// reading: nothing is read from disk until the first Read.
//
// The reader reads only the data shards of the stripes it needs and decodes
// only when one of them is missing or fails its checksum; a shard found bad
// is queued for repair and never returned.
func (s *Store) GetObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, io.ReadCloser, error) {
	rec, set, holders, ids, err := s.lookupHeld(bucket, key, opts.VersionID)
	if err != nil {
		if rec != nil {
			return rec.info(bucket, key), nil, err
		}
		return ObjectInfo{}, nil, err
	}
	held := true
	defer func() {
		if held {
			s.release(ids)
		}
	}()
	oi := rec.info(bucket, key)
	start, length := opts.Offset, opts.Length
	if opts.PartNumber > 0 {
		if !rec.Multipart {
			if opts.PartNumber != 1 {
				return oi, nil, ErrInvalidPart
			}
		} else {
			if opts.PartNumber > len(rec.Parts) {
				return oi, nil, ErrInvalidPart
			}
			off := int64(0)
			for _, p := range rec.Parts[:opts.PartNumber-1] {
				off += p.Size
			}
			start, length = off, rec.Parts[opts.PartNumber-1].Size
		}
		if opts.PartNumber == 1 && !rec.Multipart {
			start, length = 0, rec.Size
		}
	}
	if start < 0 || (start > 0 && start >= rec.Size) {
		return oi, nil, ErrInvalidRange
	}
	if length < 0 || start+length > rec.Size {
		length = rec.Size - start
	}
	codec, err := s.codecFor(rec)
	if err != nil {
		return oi, nil, err
	}
	if len(set) != rec.K+rec.M {
		return oi, nil, fmt.Errorf("%w: object written as %d+%d, store set is %d disks", ErrReadQuorum, rec.K, rec.M, len(set))
	}
	held = false // the reader releases them at Close
	or := &objectReader{
		ids: ids,
		s:   s, ctx: ctx, codec: codec, bucket: bucket, key: key, rec: rec, set: set, holders: holders,
		pos: start, end: start + length,
	}
	return oi, or, nil
}

// objectReader streams a byte range of one object version, stripe by stripe.
type objectReader struct {
	s           *Store
	ids         []string // data ids held until Close
	codec       *erasure.Codec
	ctx         context.Context
	bucket, key string
	rec         *record
	set         []disk.Volume
	holders     []bool

	pos, end int64 // next object byte to produce, and the end of the range

	out    *[]byte // current stripe's bytes [outOff, outOff+len)
	outBuf []byte
	shards *[][]byte // pooled full-capacity buffers, one per shard
	view   [][]byte  // this stripe's shard payloads (sub-slices of shards)

	part     int // index of the open part, -1 for none
	partOff  int64
	readers  []*shardfmt.Reader
	closers  []io.Closer
	bad      []bool
	healSent bool
	err      error
}

func (r *objectReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(r.outBuf) == 0 {
		if r.pos >= r.end {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.outBuf)
	r.outBuf = r.outBuf[n:]
	return n, nil
}

// WriteTo streams the rest of the object to w straight from the blocks
// read from the data shards: no stripe is joined into a buffer first.
func (r *objectReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if len(r.outBuf) > 0 { // left by an earlier Read
		n, err := w.Write(r.outBuf)
		total += int64(n)
		r.outBuf = r.outBuf[n:]
		if err != nil {
			r.err = err
			return total, err
		}
	}
	cw := countingWriter{w: w}
	for r.err == nil && r.pos < r.end {
		cw.n = 0
		err := r.next(&cw)
		total += cw.n
		r.pos += cw.n
		if err != nil {
			r.err = err
		}
	}
	if r.err != nil {
		return total, r.err
	}
	return total, nil
}

// countingWriter counts what reaches w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (r *objectReader) Close() error {
	r.closeParts()
	if r.ids != nil {
		r.s.release(r.ids)
		r.ids = nil
	}
	if r.out != nil {
		r.s.pools.putStripe(r.out)
		r.out = nil
	}
	if r.shards != nil {
		r.s.pools.putShards(r.shards)
		r.shards = nil
	}
	r.outBuf = nil
	if r.err == nil {
		r.err = errors.New("objectd: reader closed")
	}
	return nil
}

func (r *objectReader) closeParts() {
	for _, c := range r.closers {
		if c != nil {
			c.Close()
		}
	}
	r.readers, r.closers = nil, nil
}

// fill produces the bytes of the stripe holding r.pos, up to r.end, in
// r.outBuf.
func (r *objectReader) fill() error {
	if r.out == nil {
		r.out = r.s.pools.getStripe()
	}
	w := sliceWriter{buf: (*r.out)[:0]}
	if err := r.next(&w); err != nil {
		return err
	}
	r.outBuf = w.buf
	*r.out = w.buf[:cap(w.buf)]
	r.pos += int64(len(w.buf))
	return nil
}

// buffers takes the reader's shard buffers from the pool (WriteTo needs
// no stripe buffer: fill takes one).
func (r *objectReader) buffers() {
	if r.shards == nil {
		r.shards = r.s.pools.getShards()
		r.view = make([][]byte, len(*r.shards))
		r.part = -1
	}
}

// next writes the bytes of the stripe holding r.pos, up to r.end, to w;
// the caller moves r.pos on by what w took.
func (r *objectReader) next(w io.Writer) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	r.buffers()
	// Find the part holding pos.
	off := int64(0)
	pi := 0
	for ; pi < len(r.rec.Parts); pi++ {
		if r.pos < off+r.rec.Parts[pi].Size {
			break
		}
		off += r.rec.Parts[pi].Size
	}
	if pi == len(r.rec.Parts) {
		return io.ErrUnexpectedEOF
	}
	if pi != r.part {
		r.closeParts()
		r.part, r.partOff = pi, off
		r.bad = make([]bool, len(r.set))
		r.readers = make([]*shardfmt.Reader, len(r.set))
		r.closers = make([]io.Closer, len(r.set))
	}
	part := &r.rec.Parts[pi]
	inPart := r.pos - r.partOff
	stripe := inPart / int64(r.rec.BlockSize)
	stripeStart := stripe * int64(r.rec.BlockSize)
	stripeLen := r.codec.StripeLen(part.Size, stripe)
	lo := int(inPart - stripeStart)
	hi := stripeLen
	if rem := r.end - r.partOff - stripeStart; rem < int64(hi) {
		hi = int(rem)
	}
	if err := r.readStripe(part, stripe, stripeLen, lo, hi); err != nil {
		return err
	}
	if err := r.codec.WriteData(w, r.view, stripeLen, lo, hi-lo); err != nil {
		return fmt.Errorf("objectd: join stripe: %w", err)
	}
	return nil
}

// readStripe reads (and, when a data shard is missing or bad, rebuilds)
// the data shards' blocks of a stripe that hold its bytes [lo, hi), in
// r.view.
func (r *objectReader) readStripe(part *partRecord, stripe int64, stripeLen, lo, hi int) error {
	k := r.rec.K
	shards := r.view
	sl := r.codec.ShardLen(stripeLen)
	for i := range shards {
		shards[i] = (*r.shards)[i][:0]
	}
	// Data shards that hold bytes of [lo, hi).
	first, last := lo/sl, (hi-1)/sl
	need := 0
	failed := false
	for j := first; j <= last; j++ {
		need++
		if !r.readShard(part, j, stripe) {
			failed = true
		}
	}
	if failed {
		// Gather any k shards and rebuild the data shards.
		have := 0
		for j := range shards {
			if len(shards[j]) > 0 {
				have++
			}
		}
		for j := 0; j < len(shards) && have < k; j++ {
			if len(shards[j]) > 0 || r.bad[j] {
				continue
			}
			if r.readShard(part, j, stripe) {
				have++
			}
		}
		if have < k {
			return fmt.Errorf("%w: %s/%s: only %d of %d shards readable", ErrReadQuorum, r.bucket, r.key, have, k)
		}
		if err := r.codec.Reconstruct(shards, true); err != nil {
			return fmt.Errorf("%w: %s/%s: %v", ErrReadQuorum, r.bucket, r.key, err)
		}
	}
	return nil
}

type sliceWriter struct{ buf []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// readShard reads block `stripe` of shard j into the shard buffers; false
// (and the shard marked bad) when it is missing, unreadable or corrupt.
func (r *objectReader) readShard(part *partRecord, j int, stripe int64) bool {
	if r.bad[j] || !r.holders[j] || r.set[j] == nil {
		r.bad[j] = true
		return false
	}
	rd := r.readers[j]
	if rd == nil {
		var err error
		rd, err = r.openShard(part, j)
		if err != nil {
			r.markBad(j, err)
			return false
		}
		r.readers[j] = rd
	}
	buf := (*r.shards)[j]
	b, err := rd.ReadBlock(stripe, buf[:cap(buf)])
	if err != nil {
		r.markBad(j, err)
		r.view[j] = buf[:0]
		return false
	}
	r.view[j] = b
	return true
}

func (r *objectReader) openShard(part *partRecord, j int) (*shardfmt.Reader, error) {
	rd, c, err := r.s.openShard(r.set[j], r.rec, part, j)
	if c != nil {
		r.closers[j] = c
	}
	return rd, err
}

func (r *objectReader) markBad(j int, err error) {
	r.bad[j] = true
	if !errors.Is(err, shardfmt.ErrChecksum) && !errors.Is(err, shardfmt.ErrBadHeader) && !errors.Is(err, shardfmt.ErrBadMagic) && !errors.Is(err, disk.ErrCorrupt) {
		r.s.note(r.set[j], err) // an I/O error, not rot
	}
	r.s.log.Warn("bad shard", "bucket", r.bucket, "key", r.key, "shard", j, "disk", diskName(r.set[j]), "err", err)
	if !r.healSent {
		r.healSent = true
		r.s.queueHeal(r.bucket, r.key)
	}
}

func diskName(d disk.Volume) string {
	if d == nil {
		return "offline"
	}
	return d.Root()
}
