package disk

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/basaltstore/basalt/internal/vfs"
)

// Values kept in segments.
//
// Most of a small object's bytes are its inline shards, which the object
// layer writes as database values. Badger copies every value byte into
// its write-ahead log, its memtable, each table it flushes and each
// compaction's output, and it maps its tables into memory: under a stream
// of 4 KiB PUTs that was about a third of the server's CPU and most of its
// resident memory. A journaled disk given Options.SegmentValues keeps the
// values of the keys under that prefix (from minSegmentValue bytes) in
// its segment files instead, each an entry like a shard's, with header
// magic valueMagic, the key as its name and a CRC-32C of the value; the
// database holds only where the entry lies, marked metaInSegment.
//
// Such a value is appended to the disk's value segment without a sync of
// its own: the journal record of its update carries the value, and a
// checkpoint syncs the value segments before it syncs the database and
// drops any journal record (syncMeta). Replaying a record appends the
// value again and points the key at the new copy. Deleting the key
// punches its entry once the delete is committed, and so does writing the
// key again. Entries no key points to any more (a crash's leftovers, a
// value written again by a replay, an update that failed) are freed by
// Reclaim once their segment is sealed and synced.

const (
	valueMagic = "BSV1"
	// metaInSegment marks a database value that is the location of the
	// real value in a segment (badger's user meta byte).
	metaInSegment byte = 1
	// Values smaller than this stay in the database: an entry takes at
	// least 4 KiB, so a value kept in a segment takes at most twice its
	// size on the disk (the objects of 4 KiB to 16 KiB at 2+2).
	minSegmentValue = 2048
	maxSegmentValue = 1 << 20
	// valueWriteback is how much the value segment grows between two
	// starts of its writeback.
	valueWriteback = 1 << 20
)

// ErrCorrupt is returned for a value kept in a segment that fails its
// checksum, or whose entry is not there: rot, not an I/O error.
var ErrCorrupt = errors.New("disk: value failed its checksum")

// valueLog is where a disk appends the values it keeps in segments.
type valueLog struct {
	mu      sync.Mutex
	seg     *dataSegment // held for values until sealed
	started int64        // where its last writeback ended
	// dirty holds the segments appended to since their last sync.
	dirty map[uint64]vfs.RWFile
	// inflight counts, per segment, the batches whose values were written
	// there and whose commit has not ended yet.
	inflight map[uint64]int
	// sealed segments take no more values; each stays active, out of
	// Reclaim's way, until it is synced and no batch is in flight in it.
	sealed map[uint64]bool
}

func (v *valueLog) init() {
	if v.dirty == nil {
		v.dirty = map[uint64]vfs.RWFile{}
	}
	if v.inflight == nil {
		v.inflight, v.sealed = map[uint64]int{}, map[uint64]bool{}
	}
}

// inSegment reports whether a value of key is kept in a segment.
func (d *Disk) inSegment(key, val []byte) bool {
	return d.valuePrefix != nil && len(val) >= minSegmentValue && len(val) <= maxSegmentValue &&
		len(key) <= maxValueName && bytes.HasPrefix(key, d.valuePrefix)
}

// appendValues appends one entry per value to the value segment, with one
// write, and returns where each value lies and the segment.
func (d *Disk) appendValues(vals []stagedValue) ([]location, uint64, error) {
	size := int64(0)
	for _, sv := range vals {
		size += alignUp(entryHeader + int64(len(sv.val)))
	}
	buf := make([]byte, size)
	v := &d.vals
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seg == nil {
		seg, err := d.segs.take()
		if err != nil {
			return nil, 0, err
		}
		v.seg, v.started = seg, seg.end
	}
	v.init()
	seg := v.seg
	locs := make([]location, len(vals))
	pos := int64(0)
	for i, sv := range vals {
		n := int64(len(sv.val))
		putHeader(buf[pos:], header{kind: kindValue, id: string(sv.key), n: n, crc: crc32.Checksum(sv.val, castagnoli)})
		copy(buf[pos+entryHeader:], sv.val)
		locs[i] = location{seq: seg.seq, off: seg.end + pos + entryHeader, len: n}
		pos += alignUp(entryHeader + n)
	}
	v.dirty[seg.seq] = seg.f
	if _, err := seg.f.WriteAt(buf, seg.end); err != nil {
		// The segment's tail is unknown: values go to another one.
		v.sealed[seg.seq] = true
		v.seg = nil
		return nil, 0, fmt.Errorf("disk: write value: %w", err)
	}
	seg.end += size
	v.inflight[seg.seq]++
	if seg.end-v.started >= valueWriteback {
		_ = seg.f.Writeback(v.started, seg.end-v.started)
		v.started = seg.end
	}
	if seg.end >= d.segs.max {
		v.sealed[seg.seq] = true
		v.seg = nil
	}
	return locs, seg.seq, nil
}

// landed notes that a batch that wrote values in segment seq committed
// or failed.
func (d *Disk) landed(seq uint64) {
	v := &d.vals
	v.mu.Lock()
	defer v.mu.Unlock()
	v.inflight[seq]--
	d.retireValuesLocked(seq)
}

// retireValuesLocked retires a sealed value segment once it is synced and
// no batch is in flight in it: Reclaim may look at it from then on.
func (d *Disk) retireValuesLocked(seq uint64) {
	v := &d.vals
	if v.sealed[seq] && v.dirty[seq] == nil && v.inflight[seq] <= 0 {
		delete(v.sealed, seq)
		delete(v.inflight, seq)
		d.segs.retire(seq)
	}
}

// syncValues makes every value appended so far durable.
func (d *Disk) syncValues() error {
	v := &d.vals
	v.mu.Lock()
	files := v.dirty
	v.dirty = nil
	v.init()
	v.mu.Unlock()
	var errs []error
	for seq, f := range files {
		err := f.Sync()
		v.mu.Lock()
		if err != nil {
			errs = append(errs, fmt.Errorf("disk: sync values: %w", err))
			// What the file holds is not known: it takes no more values.
			v.dirty[seq] = f
			v.sealed[seq] = true
			if v.seg != nil && v.seg.seq == seq {
				v.seg = nil
			}
		} else {
			d.retireValuesLocked(seq)
		}
		v.mu.Unlock()
	}
	return errors.Join(errs...)
}

// closeValues lets go of the value segment (at Close, after its sync).
func (d *Disk) closeValues() {
	d.vals.mu.Lock()
	d.vals.seg = nil
	d.vals.mu.Unlock()
}

// readValue reads the value of key kept at l.
func (d *Disk) readValue(key []byte, l location) ([]byte, error) {
	f, err := d.segs.file(l.seq)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: value of %q: %w", ErrCorrupt, key, err)
	}
	if err != nil {
		return nil, err
	}
	start, _ := l.entry()
	buf := make([]byte, entryHeader+l.len)
	if _, err := f.ReadAt(buf, start); err != nil {
		return nil, fmt.Errorf("disk: read value: %w", err)
	}
	h, ok := decodeHeader(buf)
	if !ok || h.kind != kindValue || h.id != string(key) || h.n != l.len ||
		crc32.Checksum(buf[entryHeader:], castagnoli) != h.crc {
		return nil, fmt.Errorf("%w: value of %q in segment %s", ErrCorrupt, key, dataSegmentName(l.seq))
	}
	return buf[entryHeader:], nil
}

// segmentValue reads the value of key from where loc (a database value
// marked metaInSegment) says it lies. A write or delete of key committed
// since loc was read punches the entry loc names, which then reads as
// corrupt: the key is read again as it is now, and only an entry the
// database still points to counts as corrupt.
func (d *Disk) segmentValue(key, loc []byte) ([]byte, error) {
	for try := 0; ; try++ {
		l, err := decodeLocation(loc)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		v, err := d.readValue(key, l)
		if !errors.Is(err, ErrCorrupt) || try == 2 {
			return v, err
		}
		now, rerr := d.currentItem(key)
		switch {
		case errors.Is(rerr, ErrNotFound):
			return nil, rerr
		case rerr != nil || now.meta&metaInSegment != 0 && bytes.Equal(now.val, loc):
			return nil, err
		case now.meta&metaInSegment == 0:
			return now.val, nil
		}
		loc = now.val
	}
}

// currentItem reads key's database item in a transaction of its own,
// past the read cache.
func (d *Disk) currentItem(key []byte) (cached, error) {
	if d.db == nil {
		return cached{}, ErrClosed
	}
	txn := d.db.NewTransactionAt(math.MaxUint64, false)
	defer txn.Discard()
	return readItem(txn, key)
}

// valueLocation returns where the value of key lies when it is kept in a
// segment.
func (d *Disk) valueLocation(key []byte) (location, bool, error) {
	return itemLocation(d.currentItem(key))
}

// readItem reads key's value as the database holds it (a copy).
func readItem(txn *badger.Txn, key []byte) (cached, error) {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return cached{}, ErrNotFound
	}
	if err != nil {
		return cached{}, err
	}
	v, err := it.ValueCopy(nil)
	return cached{val: v, meta: it.UserMeta()}, err
}

func segmentLocation(txn *badger.Txn, key []byte) (location, bool, error) {
	return itemLocation(readItem(txn, key))
}

// itemLocation is where the value of a database item (read with err)
// lies when a segment keeps it.
func itemLocation(c cached, err error) (location, bool, error) {
	if errors.Is(err, ErrNotFound) || err == nil && c.meta&metaInSegment == 0 {
		return location{}, false, nil
	}
	if err != nil {
		return location{}, false, err
	}
	l, err := decodeLocation(c.val)
	return l, err == nil, nil
}

// applier writes a batch of sets and deletes into a transaction of the
// disk's database, keeping values in segments where they belong. The
// values are staged (reads of the batch see them), written with one write
// by flush before the commit, and pointed to from the transaction. After
// the commit, done frees the entries of the values deleted or replaced
// (or, when the commit failed, those written).
type applier struct {
	d       *Disk
	txn     *badger.Txn
	staged  []stagedValue
	byKey   map[string]int // a key's live value in staged
	written []location
	freed   []location
	seg     uint64 // where flush wrote, when it did
	wrote   bool
	keys    [][]byte // written or deleted: forgotten by the read cache at done
}

type stagedValue struct {
	key, val []byte
	dead     bool // set or deleted again later in the batch
}

func (a *applier) unstage(key []byte) {
	if i, ok := a.byKey[string(key)]; ok {
		a.staged[i].dead = true
		delete(a.byKey, string(key))
	}
}

func (a *applier) Set(key, val []byte) error {
	a.unstage(key)
	a.keys = append(a.keys, key)
	if err := a.release(key); err != nil {
		return err
	}
	if !a.d.inSegment(key, val) {
		return a.txn.Set(key, val)
	}
	if a.byKey == nil {
		a.byKey = map[string]int{}
	}
	a.byKey[string(key)] = len(a.staged)
	a.staged = append(a.staged, stagedValue{key: key, val: val})
	return nil
}

func (a *applier) Delete(key []byte) error {
	a.unstage(key)
	a.keys = append(a.keys, key)
	if err := a.release(key); err != nil {
		return err
	}
	return a.txn.Delete(key)
}

// release notes the entry of key's committed value, if a segment holds
// it, to be freed once the batch that replaces or deletes it is
// committed (a repair writes an inline shard again, for one).
func (a *applier) release(key []byte) error {
	if a.d.valuePrefix == nil || !bytes.HasPrefix(key, a.d.valuePrefix) {
		return nil
	}
	l, ok, err := segmentLocation(a.txn, key)
	if err != nil {
		return err
	}
	if ok {
		a.freed = append(a.freed, l)
	}
	return nil
}

// get returns a value the batch staged.
func (a *applier) get(key []byte) ([]byte, bool) {
	i, ok := a.byKey[string(key)]
	if !ok {
		return nil, false
	}
	return bytes.Clone(a.staged[i].val), true
}

// flush writes the staged values and points their keys at them.
func (a *applier) flush() error {
	live := make([]stagedValue, 0, len(a.byKey))
	for _, sv := range a.staged {
		if !sv.dead {
			live = append(live, sv)
		}
	}
	a.staged, a.byKey = nil, nil
	if len(live) == 0 {
		return nil
	}
	locs, seq, err := a.d.appendValues(live)
	if err != nil {
		return err
	}
	a.written, a.seg, a.wrote = locs, seq, true
	for i, sv := range live {
		if err := a.txn.SetEntry(badger.NewEntry(sv.key, locs[i].encode()).WithMeta(metaInSegment)); err != nil {
			return err
		}
	}
	return nil
}

// done frees the entries the batch let go of: the deleted values' when
// it was committed, the values it wrote when not; and makes the read cache
// forget every key the batch wrote.
func (a *applier) done(committed bool) {
	for _, k := range a.keys {
		a.d.cache.invalidate(k)
	}
	a.keys = nil
	free := a.freed
	if !committed {
		free = a.written
	}
	for _, l := range free {
		_ = a.d.punch(l) // best effort: Reclaim frees what is left
	}
	if a.wrote {
		a.d.landed(a.seg)
	}
	a.staged, a.byKey, a.written, a.freed, a.wrote = nil, nil, nil, nil, false
}
