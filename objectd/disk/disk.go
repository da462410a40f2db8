package disk

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/basaltstore/basalt/internal/vfs"
)

// Errors of this package.
var (
	ErrNotFound    = errors.New("disk: not found")
	ErrClosed      = errors.New("disk: closed")
	ErrBadFormat   = errors.New("disk: unrecognised FORMAT file")
	ErrBadDataID   = errors.New("disk: malformed data id")
	errWriteClosed = errors.New("disk: shard writer already finished")
)

const formatVersion = 1

// tmpSuffix marks a shard file being written.
const tmpSuffix = ".tmp"

// Format is the identity record at the root of a disk.
type Format struct {
	Version int    `json:"version"`
	DiskID  string `json:"disk_id"`
}

// Options tune a disk.
type Options struct {
	// MetaCacheBytes is badger's block cache size (default 8 MiB).
	MetaCacheBytes int64
	// MemTableBytes is badger's memtable size (default 8 MiB).
	MemTableBytes int64
	// Journaled disks leave the durability of metadata updates to a
	// Journal (OpenJournal): their database does not sync by itself. Until
	// the journal is open, each update syncs the database.
	Journaled bool
	// SegmentBytes is the size past which a segment file is sealed
	// (default DefaultSegmentBytes).
	SegmentBytes int64
	// ReadCacheBytes bounds the cache of database values read (default
	// 8 MiB; negative: no cache). See readCache.
	ReadCacheBytes int64
	// SegmentValues, on a journaled disk, is the key prefix whose values
	// are kept in segment files rather than in the database (values.go).
	SegmentValues []byte
	Logger        *slog.Logger
}

// Disk is one local disk.
type Disk struct {
	root    string
	meta    string // the database's directory
	fs      vfs.FS
	db      *badger.DB
	format  Format
	log     *slog.Logger
	ts      atomic.Uint64 // last commit timestamp handed out
	healing atomic.Bool
	failed  atomic.Bool
	errRun  atomic.Int32 // consecutive I/O errors
	gc      groupCommit
	segs    segments
	// valuePrefix is Options.SegmentValues on a journaled disk; vals is
	// where those values are appended.
	valuePrefix []byte
	vals        valueLog
	cache       readCache
	// legacy is set when the disk has shard files of its own (written
	// before segments).
	legacy bool
	// pending holds shard index changes applied to the database but not
	// yet carried by a journal record (noteIndex).
	pendMu  sync.Mutex
	pending []journalOp
	// journaled disks commit through journal once it is attached.
	journaled bool
	journal   atomic.Pointer[Journal]
	// Fresh is true when the disk was formatted by this Open (a new or
	// replaced disk that holds nothing yet).
	Fresh bool
}

// Open opens (and, when empty or missing, formats) the disk at root.
func Open(root string, fsys vfs.FS, opts Options) (*Disk, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MetaCacheBytes == 0 {
		opts.MetaCacheBytes = 8 << 20
	}
	if opts.MemTableBytes == 0 {
		opts.MemTableBytes = 8 << 20
	}
	d := &Disk{root: root, meta: filepath.Join(root, "meta"), fs: fsys, log: opts.Logger.With("disk", root), journaled: opts.Journaled}
	if opts.ReadCacheBytes == 0 {
		opts.ReadCacheBytes = 8 << 20
	}
	d.cache.init(max(opts.ReadCacheBytes, 0))
	if opts.Journaled && len(opts.SegmentValues) > 0 {
		d.valuePrefix = slices.Clone(opts.SegmentValues)
	}
	if err := fsys.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("disk: create %s: %w", root, err)
	}
	if err := d.loadFormat(); err != nil {
		return nil, err
	}
	if _, err := fsys.Stat(filepath.Join(root, healingMarker)); err == nil {
		d.healing.Store(true)
	}
	if err := fsys.MkdirAll(d.metaPath(), 0o755); err != nil {
		return nil, fmt.Errorf("disk: create meta: %w", err)
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if err := d.segs.open(d, opts.SegmentBytes); err != nil {
		return nil, err
	}
	if err := d.openLegacy(); err != nil {
		return nil, err
	}
	if err := vfs.Check(fsys, vfs.OpOpen, d.metaPath()); err != nil {
		return nil, fmt.Errorf("disk: open metadata: %w", err)
	}
	bopts := badger.DefaultOptions(d.metaPath()).
		WithSyncWrites(!opts.Journaled).
		WithMemTableSize(opts.MemTableBytes).
		WithNumMemtables(2).
		WithBlockCacheSize(opts.MetaCacheBytes).
		WithNumCompactors(2).
		// Values stay in the LSM tree (and its write-ahead log) up to
		// badger's limit: a value in the value log could be persisted
		// apart from the key pointing at it, which a journaled disk,
		// syncing only at checkpoints, must not risk.
		WithValueThreshold(1 << 20).
		WithValueLogFileSize(64 << 20).
		WithCompression(options.None).
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithLogger(badgerLogger{d.log})
	// Managed mode: the disk hands out commit timestamps itself and reads
	// the latest state. Badger's own oracle makes every new transaction
	// wait until all earlier commits (and their fsyncs) finish, which
	// would serialise concurrent writers; with per-key locks above this
	// layer, that ordering is not needed.
	db, err := badger.OpenManaged(bopts)
	if err != nil {
		return nil, fmt.Errorf("disk: open metadata of %s: %w", root, err)
	}
	d.db = db
	d.ts.Store(db.MaxVersion())
	return d, nil
}

// metaPath is where the database lives (joined once: every read asks).
func (d *Disk) metaPath() string { return d.meta }

func (d *Disk) loadFormat() error {
	p := filepath.Join(d.root, "FORMAT")
	f, err := d.fs.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		d.format = Format{Version: formatVersion, DiskID: hex.EncodeToString(id)}
		b, _ := json.Marshal(d.format)
		if err := d.writeFileAtomic(p, b); err != nil {
			return fmt.Errorf("disk: write FORMAT: %w", err)
		}
		d.Fresh = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("disk: open FORMAT: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return fmt.Errorf("disk: read FORMAT: %w", err)
	}
	if err := json.Unmarshal(b, &d.format); err != nil || d.format.Version != formatVersion || d.format.DiskID == "" {
		return fmt.Errorf("%w: %s", ErrBadFormat, p)
	}
	return nil
}

func (d *Disk) writeFileAtomic(p string, b []byte) error {
	tmp := p + ".tmp"
	f, err := d.fs.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := d.fs.Rename(tmp, p); err != nil {
		return err
	}
	return d.fs.SyncDir(filepath.Dir(p))
}

// healingMarker, when present in a disk's root, says the disk was new or
// replaced while others held data, and has not been filled back yet: its
// "not found" answers do not count.
const healingMarker = "HEALING"

// Healing reports whether the disk is waiting to be filled back.
func (d *Disk) Healing() bool { return d.healing.Load() }

// SetHealing sets or clears the healing marker durably.
func (d *Disk) SetHealing(on bool) error {
	p := filepath.Join(d.root, healingMarker)
	if on {
		if err := d.writeFileAtomic(p, []byte("filling back from the other disks\n")); err != nil {
			return err
		}
		d.healing.Store(true)
		return nil
	}
	if err := d.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	d.healing.Store(false)
	return d.fs.SyncDir(d.root)
}

// FailAfter is how many consecutive I/O errors take a disk out of service.
const FailAfter = 8

// NoteIO records the outcome of an I/O on the disk: a run of FailAfter
// errors in a row marks it failed, and it reports true the moment that
// happens. Absence (ErrNotFound) is not an I/O error.
func (d *Disk) NoteIO(err error) (failedNow bool) {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		d.errRun.Store(0)
		return false
	}
	if d.errRun.Add(1) >= FailAfter && !d.failed.Swap(true) {
		return true
	}
	return false
}

// Failed reports whether the disk was taken out of service.
func (d *Disk) Failed() bool { return d.failed.Load() }

// Reinstate puts a failed disk back into service.
func (d *Disk) Reinstate() {
	d.errRun.Store(0)
	d.failed.Store(false)
}

// Root is the disk's directory.
func (d *Disk) Root() string { return d.root }

// ID is the disk's identity from its FORMAT file.
func (d *Disk) ID() string { return d.format.DiskID }

// Close closes the metadata database.
func (d *Disk) Close() error {
	if d.db == nil {
		return nil
	}
	err := d.syncMeta()
	d.closeValues()
	d.segs.close()
	err = errors.Join(err, d.db.Close())
	d.db = nil
	return err
}

// Healthy checks that the disk answers: its root can be stat'ed and its
// metadata database is open.
func (d *Disk) Healthy() error {
	if d.db == nil || d.db.IsClosed() {
		return ErrClosed
	}
	if err := vfs.Check(d.fs, vfs.OpStat, d.metaPath()); err != nil {
		return err
	}
	_, err := d.fs.Stat(filepath.Join(d.root, "FORMAT"))
	return err
}

// ---- shard files ----

func validDataID(id string) bool {
	if len(id) < 4 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '.') {
			return false
		}
	}
	return true
}

// CreateShard starts writing the shard dataID, in a segment (segment.go).
func (d *Disk) CreateShard(dataID string) (ShardSink, error) {
	if !validDataID(dataID) {
		return nil, ErrBadDataID
	}
	seg, err := d.segs.take()
	if err != nil {
		return nil, err
	}
	return &segmentWriter{d: d, seg: seg, id: dataID, start: seg.end, off: seg.end + entryHeader, started: seg.end}, nil
}

// OpenShard opens a committed shard for reading.
func (d *Disk) OpenShard(dataID string) (ShardSource, error) {
	if !validDataID(dataID) {
		return nil, ErrBadDataID
	}
	l, ok, err := d.location(dataID)
	if err != nil {
		return nil, err
	}
	if ok {
		f, err := d.segs.file(l.seq)
		if err != nil {
			return nil, err
		}
		return sectionSource{io.NewSectionReader(f, l.off, l.len)}, nil
	}
	if !d.legacy {
		return nil, fmt.Errorf("%w: shard %s", ErrNotFound, dataID)
	}
	f, err := d.fs.Open(d.legacyPath(dataID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: shard %s", ErrNotFound, dataID)
	}
	return f, err
}

// RemoveShard deletes a shard; a missing one is not an error.
func (d *Disk) RemoveShard(dataID string) error {
	if !validDataID(dataID) {
		return ErrBadDataID
	}
	l, ok, err := d.location(dataID)
	if err != nil {
		return err
	}
	if ok {
		if err := d.noteIndex(journalOp{key: indexKey(dataID), del: true}); err != nil {
			return err
		}
		return d.punch(l)
	}
	if !d.legacy {
		return nil
	}
	err = d.fs.Remove(d.legacyPath(dataID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// openLegacy notes whether the disk has shard files of its own, written
// before segments, and removes the leftovers of their interrupted writes.
func (d *Disk) openLegacy() error {
	root := filepath.Join(d.root, legacyDir)
	if _, err := d.fs.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	d.legacy = true
	dirs, err := d.fs.ReadDir(root)
	if err != nil {
		return fmt.Errorf("disk: scan %s: %w", root, err)
	}
	for _, dir := range dirs {
		ents, err := d.fs.ReadDir(filepath.Join(root, dir.Name()))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), tmpSuffix) {
				_ = d.fs.Remove(filepath.Join(root, dir.Name(), e.Name()))
			}
		}
	}
	return nil
}

// ---- metadata ----

// localTxn reads a transaction of a local disk's badger database, and
// the values a batch staged in a (when not nil).
type localTxn struct {
	t *badger.Txn
	d *Disk
	a *applier
}

// Get returns a copy of the value at key, or ErrNotFound.
func (t localTxn) Get(key []byte) ([]byte, error) {
	if t.a != nil {
		if v, ok := t.a.get(key); ok {
			return v, nil
		}
	}
	c, err := readItem(t.t, key)
	if err != nil {
		return nil, err
	}
	return t.d.itemValue(key, c)
}

// Update runs fn in a read-write transaction and commits it durably.
//
// Concurrent updates share their commit (group commit): badger syncs its
// write-ahead log once per committed transaction, so the updates that
// arrive while one commit is being synced are run, one after the other,
// in the next single transaction and synced together. Each sees the
// writes of those before it, as if committed in turn; one whose fn fails
// changes nothing. fn may run twice (when the shared transaction grows
// too big, each is run again in a transaction of its own).
func (d *Disk) Update(fn func(Txn) error) error {
	if err := vfs.Check(d.fs, vfs.OpWrite, d.metaPath()); err != nil {
		return err
	}
	return d.gc.run(d, fn)
}

// groupCommit batches concurrent updates of one disk. One caller at a
// time leads: it takes every update waiting, commits them as one
// transaction, then hands the lead to the first that arrived meanwhile.
type groupCommit struct {
	mu      sync.Mutex
	leading bool
	pending []*commitReq
}

type commitReq struct {
	fn   func(Txn) error
	err  error
	lead bool          // woken to lead the next batch, not done
	wake chan struct{} // closed when done, or when asked to lead
}

// maxGroup bounds the updates of one shared transaction.
const maxGroup = 64

func (g *groupCommit) run(d *Disk, fn func(Txn) error) error {
	req := &commitReq{fn: fn, wake: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, req)
	if g.leading {
		g.mu.Unlock()
		<-req.wake
		if !req.lead {
			return req.err
		}
		g.mu.Lock()
	}
	g.leading = true
	n := min(len(g.pending), maxGroup)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	d.commitGroup(batch)

	g.mu.Lock()
	if len(g.pending) > 0 {
		next := g.pending[0]
		next.lead = true
		close(next.wake)
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	return req.err
}

// commitGroup runs the updates of batch in one transaction and commits
// it, setting each one's error and waking it (the leader's own included).
func (d *Disk) commitGroup(batch []*commitReq) {
	defer func() {
		for _, r := range batch {
			if r.lead {
				r.lead = false // the leader, running this
				continue
			}
			close(r.wake) // r is not touched after: its goroutine runs on
		}
	}()
	d.commitBatch(batch)
}

// commitBatch runs the updates of batch in one transaction, each buffered
// apart until it succeeds, and commits the transaction. When the shared
// transaction grows too big, each update is committed alone.
func (d *Disk) commitBatch(batch []*commitReq) {
	if d.db == nil {
		for _, r := range batch {
			r.err = ErrClosed
		}
		return
	}
	txn := d.db.NewTransactionAt(math.MaxUint64, true)
	defer txn.Discard()
	var ok []*commitReq
	var ops []journalOp
	a := &applier{d: d, txn: txn}
	for _, r := range batch {
		bt := &bufferedTxn{under: localTxn{txn, d, a}}
		if err := r.fn(bt); err != nil {
			r.err = tooBig(err)
			continue
		}
		if err := bt.applyTo(a); err != nil {
			a.done(false)
			if len(batch) == 1 {
				r.err = tooBig(err)
				return
			}
			// The shared transaction is full, with part of this update
			// in it: commit nothing of it, and each update alone.
			for _, r := range batch {
				d.commitBatch([]*commitReq{r})
			}
			return
		}
		ok = append(ok, r)
		ops = bt.appendOps(ops)
	}
	if len(ok) == 0 {
		return
	}
	if err := a.flush(); err != nil {
		a.done(false)
		if errors.Is(err, badger.ErrTxnTooBig) && len(ok) > 1 {
			for _, r := range ok {
				d.commitBatch([]*commitReq{r})
			}
			return
		}
		for _, r := range ok {
			r.err = tooBig(err)
		}
		return
	}
	err := d.commit(txn, ops)
	a.done(err == nil)
	for _, r := range ok {
		r.err = err
	}
}

// commit makes ops durable and commits txn, which holds them. With a
// journal, the record is synced first and the database commit follows;
// a journaled disk without its journal yet syncs the database instead.
func (d *Disk) commit(txn *badger.Txn, ops []journalOp) error {
	if j := d.journal.Load(); j != nil {
		j.gate.RLock()
		defer j.gate.RUnlock()
		// The shard index changes made since the last record ride along.
		pend := d.takePending()
		if err := j.append(encodeRecord(d.ID(), append(pend, ops...))); err != nil {
			d.restorePending(pend)
			return err
		}
	}
	ts := d.ts.Add(1)
	if err := txn.CommitAt(ts, nil); err != nil {
		return err
	}
	// Only the latest version of a key is ever read: older ones may go.
	d.db.SetDiscardTs(ts)
	if d.journaled && d.journal.Load() == nil {
		if err := d.syncValues(); err != nil {
			return err
		}
		return d.db.Sync()
	}
	return nil
}

// applyOps commits ops to the database without syncing: the writes of a
// replayed journal record (the journal syncs every member once replay
// ends), or a shard index change that a later journal record carries
// (noteIndex).
func (d *Disk) applyOps(ops []journalOp) error {
	if d.db == nil {
		return ErrClosed
	}
	txn := d.db.NewTransactionAt(math.MaxUint64, true)
	defer txn.Discard()
	a := &applier{d: d, txn: txn}
	for _, op := range ops {
		if err := op.apply(a); err != nil {
			a.done(false)
			return err
		}
	}
	if err := a.flush(); err != nil {
		a.done(false)
		return err
	}
	ts := d.ts.Add(1)
	err := txn.CommitAt(ts, nil)
	a.done(err == nil)
	if err != nil {
		return err
	}
	d.db.SetDiscardTs(ts)
	return nil
}

// syncMeta makes everything the database holds durable: its active
// write-ahead log and value log (badger's Sync), and the logs of
// memtables waiting to be flushed, which that does not cover.
//
// A disk taken out of service is left alone: nothing on it is relied on
// any more, and its errors must not stop a checkpoint of the others, or a
// shutdown.
func (d *Disk) syncMeta() error {
	if d.db == nil || !d.journaled || d.Failed() {
		return nil
	}
	if err := vfs.Check(d.fs, vfs.OpWrite, d.metaPath()); err != nil {
		return err
	}
	// Values kept in segments first: the database's sync makes durable
	// the keys pointing at them.
	if err := d.syncValues(); err != nil {
		return err
	}
	// Index changes applied before the sync are durable by it; the ones
	// after stay pending for the next journal record.
	pend := d.takePending()
	err := d.syncDB()
	if err != nil {
		d.restorePending(pend)
	}
	return err
}

// syncDB syncs the database's logs, those of memtables waiting to be
// flushed included.
func (d *Disk) syncDB() error {
	if err := d.db.Sync(); err != nil {
		return err
	}
	ents, err := os.ReadDir(d.metaPath())
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".mem") && !strings.HasSuffix(n, ".vlog") {
			continue
		}
		f, err := os.Open(filepath.Join(d.metaPath(), n))
		if errors.Is(err, fs.ErrNotExist) {
			continue // flushed into a table meanwhile, which badger synced
		}
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func tooBig(err error) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("disk: transaction too big: %w", err)
	}
	return err
}

// bufferedTxn holds one update's writes apart from the shared transaction
// until the update has succeeded; its reads see its own writes, then the
// shared transaction's (earlier updates of the group included).
type bufferedTxn struct {
	under localTxn
	order []string
	vals  map[string][]byte // nil value with present key: deleted
}

func (b *bufferedTxn) Get(key []byte) ([]byte, error) {
	if v, ok := b.vals[string(key)]; ok {
		if v == nil {
			return nil, ErrNotFound
		}
		return bytes.Clone(v), nil
	}
	return b.under.Get(key)
}

func (b *bufferedTxn) put(key, val []byte) {
	if b.vals == nil {
		b.vals = map[string][]byte{}
	}
	k := string(key)
	if _, ok := b.vals[k]; !ok {
		b.order = append(b.order, k)
	}
	b.vals[k] = val
}

func (b *bufferedTxn) Set(key, val []byte) error {
	if val == nil {
		val = []byte{}
	}
	b.put(key, bytes.Clone(val))
	return nil
}

func (b *bufferedTxn) Delete(key []byte) error {
	b.put(key, nil)
	return nil
}

// appendOps appends the buffered writes to ops, in order, for a journal
// record.
func (b *bufferedTxn) appendOps(ops []journalOp) []journalOp {
	for _, k := range b.order {
		v := b.vals[k]
		ops = append(ops, journalOp{key: []byte(k), val: v, del: v == nil})
	}
	return ops
}

// applyTo writes the buffered writes through a.
func (b *bufferedTxn) applyTo(a *applier) error {
	for _, k := range b.order {
		v := b.vals[k]
		var err error
		if v == nil {
			err = a.Delete([]byte(k))
		} else {
			err = a.Set([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Get reads one key.
func (d *Disk) Get(key []byte) ([]byte, error) {
	if err := vfs.Check(d.fs, vfs.OpRead, d.metaPath()); err != nil {
		return nil, err
	}
	if d.db == nil {
		return nil, ErrClosed
	}
	if c, ok := d.cache.get(key); ok {
		return d.cachedValue(key, c)
	}
	gen := d.cache.generation(key)
	c, err := d.currentItem(key)
	if err != nil {
		return nil, err
	}
	d.cache.put(key, c, gen)
	return d.cachedValue(key, c)
}

// cachedValue returns a copy of a value the cache holds, read from its
// segment when kept there.
func (d *Disk) cachedValue(key []byte, c cached) ([]byte, error) {
	if c.meta&metaInSegment == 0 {
		return bytes.Clone(c.val), nil
	}
	return d.segmentValue(key, c.val)
}

// itemValue returns the value of a database item read for this caller
// (its own copy), from its segment when kept there.
func (d *Disk) itemValue(key []byte, c cached) ([]byte, error) {
	if c.meta&metaInSegment == 0 {
		return c.val, nil
	}
	return d.segmentValue(key, c.val)
}

// Iterator walks keys in order within a prefix.
type Iterator struct {
	d      *Disk
	txn    *badger.Txn
	it     *badger.Iterator
	prefix []byte
}

// NewIterator opens an iterator over keys with prefix, positioned at the
// first key >= start (start must have the prefix, or be nil).
func (d *Disk) NewIterator(prefix, start []byte, prefetch bool) (Iter, error) {
	if err := vfs.Check(d.fs, vfs.OpRead, d.metaPath()); err != nil {
		return nil, err
	}
	if d.db == nil {
		return nil, ErrClosed
	}
	txn := d.db.NewTransactionAt(math.MaxUint64, false)
	o := badger.DefaultIteratorOptions
	o.Prefix = prefix
	// Records live in the LSM tree itself (they are below the value
	// threshold): prefetching would only add a goroutine per item.
	o.PrefetchValues = prefetch
	o.PrefetchSize = 16
	it := txn.NewIterator(o)
	if start == nil || bytes.Compare(start, prefix) < 0 {
		start = prefix
	}
	it.Seek(start)
	return &Iterator{d: d, txn: txn, it: it, prefix: prefix}, nil
}

// Valid reports whether the iterator is at a key.
func (i *Iterator) Valid() bool { return i.it.ValidForPrefix(i.prefix) }

// Key is the current key (valid until Next).
func (i *Iterator) Key() []byte { return i.it.Item().Key() }

// Value copies the current value into buf.
func (i *Iterator) Value(buf []byte) ([]byte, error) {
	it := i.it.Item()
	v, err := it.ValueCopy(buf)
	if err != nil {
		return nil, err
	}
	return i.d.itemValue(it.Key(), cached{val: v, meta: it.UserMeta()})
}

// View calls fn with the current value, valid only during the call.
func (i *Iterator) View(fn func(val []byte) error) error {
	it := i.it.Item()
	if it.UserMeta()&metaInSegment == 0 {
		return it.Value(fn)
	}
	v, err := i.Value(nil)
	if err != nil {
		return err
	}
	return fn(v)
}

// Next advances.
func (i *Iterator) Next() { i.it.Next() }

// Seek moves to the first key >= key.
func (i *Iterator) Seek(key []byte) { i.it.Seek(key) }

// Close releases the iterator.
func (i *Iterator) Close() {
	i.it.Close()
	i.txn.Discard()
}

// badgerLogger sends badger's messages to slog, keeping only warnings and
// errors (badger is chatty at INFO).
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}
