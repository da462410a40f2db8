package disk

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/basaltstore/basalt/internal/vfs"
)

// Journal makes the metadata updates of several disks durable together.
//
// Without it, every disk's database syncs its own write-ahead log (and
// value log) for each committed batch: a PUT on four disks costs at least
// eight device flushes. A journal is one append-only file per group of
// disks that share a device: each disk's batch is encoded as one record,
// the records that arrive while a sync is running are appended together
// (group commit), and one write and one fsync make all of them durable.
// Only then is the batch committed to the disk's database, which no
// longer syncs by itself, and the update acknowledged.
//
// A checkpoint (every CheckpointEvery, or when a segment passes
// SegmentBytes) starts a new segment file, syncs every member database's
// log files, and removes the older segments. At start, ReplayJournals
// applies what segments remain to the disks, in order: the records are
// whole key values, so replaying one already applied changes nothing.
//
// Sharing a journal across disks does not make them fail together any
// more than they already do: they are on one device. Disks on separate
// devices get separate journals (see objectd's grouping).
type Journal struct {
	dir   string
	fs    vfs.FS
	log   *slog.Logger
	disks []*Disk

	// gate is held shared by each writer from its append until its batch
	// is committed to the database, and exclusively by a checkpoint while
	// it switches segments: a checkpoint then knows that every record of
	// the older segments is in a database.
	gate sync.RWMutex

	mu      sync.Mutex // guards the fields below
	leading bool
	queue   []*journalReq
	f       vfs.File
	seg     uint64
	size    int64
	dirty   bool
	closed  bool

	broken error // a failed append: the segment's tail is unknown

	segmentBytes int64
	kick         chan struct{}
	stop         chan struct{}
	done         chan struct{}
	closeOnce    sync.Once
}

type journalReq struct {
	rec  []byte
	err  error
	lead bool
	wake chan struct{}
}

// JournalOptions tune a journal.
type JournalOptions struct {
	// CheckpointEvery is how often a checkpoint runs while there are
	// records (default 10 s).
	CheckpointEvery time.Duration
	// SegmentBytes starts a checkpoint early when the segment grows past
	// it (default 64 MiB).
	SegmentBytes int64
	Logger       *slog.Logger
}

// ErrJournalClosed is returned by updates after the journal closed.
var ErrJournalClosed = errors.New("disk: journal closed")

const (
	segmentPrefix = "journal-"
	recordHeader  = 8 // length, CRC-32C
	opSet         = 1
	opDelete      = 2
	recordVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ReplayJournals applies every segment found in dirs to disks, oldest
// first within each directory, makes the disks durable, and removes the
// segments. Records of disks not among disks are dropped: they belong to
// disks replaced or gone. Run it before any journal of these disks opens.
func ReplayJournals(fsys vfs.FS, dirs []string, disks []*Disk, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	byID := map[string]*Disk{}
	for _, d := range disks {
		byID[d.ID()] = d
	}
	var old []segment
	for _, dir := range slices.Compact(slices.Clone(dirs)) {
		segs, err := listSegments(fsys, dir)
		if err != nil {
			return err
		}
		old = append(old, segs...)
	}
	if len(old) == 0 {
		return nil
	}
	for _, s := range old {
		if err := replaySegment(fsys, s.path, byID, log); err != nil {
			return err
		}
	}
	var errs []error
	for _, d := range disks {
		if err := d.syncMeta(); err != nil {
			errs = append(errs, fmt.Errorf("disk: sync %s: %w", d.root, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, s := range old {
		if err := removeSegment(fsys, s.path); err != nil {
			return err
		}
	}
	return nil
}

// OpenJournal starts the journal in dir for disks (opened with
// Options.Journaled, their journals replayed by ReplayJournals): it
// carries their updates until Close.
func OpenJournal(dir string, fsys vfs.FS, disks []*Disk, opts JournalOptions) (*Journal, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 10 * time.Second
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = 64 << 20
	}
	j := &Journal{
		dir: dir, fs: fsys, log: opts.Logger.With("journal", dir),
		segmentBytes: opts.SegmentBytes,
		kick:         make(chan struct{}, 1),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
	}
	for _, d := range disks {
		if !d.journaled {
			return nil, fmt.Errorf("disk: %s was not opened for a journal", d.root)
		}
		j.disks = append(j.disks, d)
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("disk: create journal: %w", err)
	}
	segs, err := listSegments(fsys, dir)
	if err != nil {
		return nil, err
	}
	if len(segs) > 0 {
		return nil, fmt.Errorf("disk: journal %s holds segments not replayed", dir)
	}
	if err := j.startSegment(1); err != nil {
		return nil, err
	}
	for _, d := range disks {
		d.journal.Store(j)
	}
	go j.loop(opts.CheckpointEvery)
	return j, nil
}

type segment struct {
	dir, path string
	seq       uint64
}

// listSegments returns dir's segments, oldest first.
func listSegments(fsys vfs.FS, dir string) ([]segment, error) {
	ents, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("disk: read journal %s: %w", dir, err)
	}
	var out []segment
	for _, e := range ents {
		name, ok := strings.CutPrefix(e.Name(), segmentPrefix)
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			continue
		}
		out = append(out, segment{dir: dir, path: filepath.Join(dir, e.Name()), seq: seq})
	}
	slices.SortFunc(out, func(a, b segment) int { return cmpUint(a.seq, b.seq) })
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func segmentName(seq uint64) string { return fmt.Sprintf("%s%016x", segmentPrefix, seq) }

// startSegment creates segment seq and makes it the one appended to.
func (j *Journal) startSegment(seq uint64) error {
	p := filepath.Join(j.dir, segmentName(seq))
	f, err := j.fs.Create(p)
	if err != nil {
		return fmt.Errorf("disk: create journal segment: %w", err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		f.Close()
		return fmt.Errorf("disk: sync journal directory: %w", err)
	}
	j.mu.Lock()
	prev := j.f
	j.f, j.seg, j.size, j.dirty, j.broken = f, seq, 0, false, nil
	j.mu.Unlock()
	if prev != nil {
		return prev.Close()
	}
	return nil
}

// replay applies every whole record of the segment at path, in order. A
// record cut short or failing its checksum ends the segment: it is the
// tail of an append that the crash interrupted, never acknowledged.
func replaySegment(fsys vfs.FS, path string, disks map[string]*Disk, log *slog.Logger) error {
	f, err := fsys.Open(path)
	if err != nil {
		return fmt.Errorf("disk: open journal segment: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	n, dropped := 0, 0
	var hdr [recordHeader]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("disk: read journal segment: %w", err)
			}
			break
		}
		size := binary.LittleEndian.Uint32(hdr[0:4])
		if size == 0 || size > 1<<30 {
			break
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(r, body); err != nil {
			break
		}
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(hdr[4:8]) {
			break
		}
		id, ops, err := decodeRecord(body)
		if err != nil {
			return fmt.Errorf("disk: journal segment %s: %w", path, err)
		}
		d := disks[id]
		if d == nil {
			dropped++
			continue
		}
		if err := d.applyOps(ops); err != nil {
			return fmt.Errorf("disk: replay journal into %s: %w", d.root, err)
		}
		n++
	}
	if n > 0 || dropped > 0 {
		log.Info("journal replayed", "segment", filepath.Base(path), "records", n, "dropped", dropped)
	}
	return nil
}

// journalOp is one write of a record: a set, or a delete when del.
type journalOp struct {
	key, val []byte
	del      bool
}

// apply makes the op's write in t (a transaction of the disk's database,
// or of the object layer's Txn).
func (op journalOp) apply(t interface {
	Set(key, val []byte) error
	Delete(key []byte) error
}) error {
	if op.del {
		return t.Delete(op.key)
	}
	return t.Set(op.key, op.val)
}

// encodeRecord frames one disk's batch: length, CRC-32C, then the body
// (version, disk ID, the writes in order).
func encodeRecord(id string, ops []journalOp) []byte {
	size := 1 + binary.MaxVarintLen64 + len(id) + binary.MaxVarintLen64
	for _, op := range ops {
		size += 1 + 2*binary.MaxVarintLen64 + len(op.key) + len(op.val)
	}
	b := make([]byte, recordHeader, recordHeader+size)
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(len(ops)))
	for _, op := range ops {
		if op.del {
			b = append(b, opDelete)
			b = binary.AppendUvarint(b, uint64(len(op.key)))
			b = append(b, op.key...)
			continue
		}
		b = append(b, opSet)
		b = binary.AppendUvarint(b, uint64(len(op.key)))
		b = append(b, op.key...)
		b = binary.AppendUvarint(b, uint64(len(op.val)))
		b = append(b, op.val...)
	}
	body := b[recordHeader:]
	binary.LittleEndian.PutUint32(b[0:4], uint32(len(body)))
	binary.LittleEndian.PutUint32(b[4:8], crc32.Checksum(body, castagnoli))
	return b
}

var errBadRecord = errors.New("malformed journal record")

func decodeRecord(body []byte) (string, []journalOp, error) {
	if len(body) < 1 || body[0] != recordVersion {
		return "", nil, errBadRecord
	}
	p := body[1:]
	next := func() ([]byte, bool) {
		n, w := binary.Uvarint(p)
		if w <= 0 || n > uint64(len(p)-w) {
			return nil, false
		}
		v := p[w : w+int(n)]
		p = p[w+int(n):]
		return v, true
	}
	id, ok := next()
	if !ok {
		return "", nil, errBadRecord
	}
	count, w := binary.Uvarint(p)
	if w <= 0 || count > uint64(len(p)) {
		return "", nil, errBadRecord
	}
	p = p[w:]
	ops := make([]journalOp, 0, count)
	for range count {
		if len(p) == 0 {
			return "", nil, errBadRecord
		}
		kind := p[0]
		p = p[1:]
		key, ok := next()
		if !ok {
			return "", nil, errBadRecord
		}
		switch kind {
		case opDelete:
			ops = append(ops, journalOp{key: key, del: true})
		case opSet:
			val, ok := next()
			if !ok {
				return "", nil, errBadRecord
			}
			ops = append(ops, journalOp{key: key, val: val})
		default:
			return "", nil, errBadRecord
		}
	}
	if len(p) != 0 {
		return "", nil, errBadRecord
	}
	return string(id), ops, nil
}

// append makes rec durable, sharing the write and the sync with the
// records that arrive meanwhile. The caller holds the gate shared.
func (j *Journal) append(rec []byte) error {
	req := &journalReq{rec: rec, wake: make(chan struct{})}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrJournalClosed
	}
	if j.broken != nil {
		j.mu.Unlock()
		return j.broken
	}
	j.queue = append(j.queue, req)
	if j.leading {
		j.mu.Unlock()
		<-req.wake
		if !req.lead {
			return req.err
		}
		j.mu.Lock()
	}
	j.leading = true
	batch := j.queue
	j.queue = nil
	f := j.f
	// A lead handed over after a failed append must not write either:
	// a record after the lost ones would be acknowledged, yet replay
	// stops at the first bad record.
	err := j.broken
	j.mu.Unlock()

	size := 0
	for _, r := range batch {
		size += len(r.rec)
	}
	if err == nil {
		buf := make([]byte, 0, size)
		for _, r := range batch {
			buf = append(buf, r.rec...)
		}
		_, err = f.Write(buf)
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			err = fmt.Errorf("disk: journal append: %w", err)
			j.log.Error("journal append failed", "err", err)
		}
	}

	j.mu.Lock()
	if err != nil && j.broken == nil {
		// After a failed write or sync the file's tail is unknown: take
		// no more records into it (a checkpoint starts a new segment).
		j.broken = err
	}
	j.size += int64(size)
	j.dirty = true
	full := j.size >= j.segmentBytes || err != nil
	for _, r := range batch {
		r.err = err
		if r != req {
			close(r.wake)
		}
	}
	if len(j.queue) > 0 {
		next := j.queue[0]
		next.lead = true
		close(next.wake)
	} else {
		j.leading = false
	}
	j.mu.Unlock()
	if full {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	return req.err
}

func (j *Journal) loop(every time.Duration) {
	defer close(j.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		case <-j.kick:
		}
		j.mu.Lock()
		dirty := j.dirty
		j.mu.Unlock()
		if !dirty {
			continue
		}
		if err := j.Checkpoint(); err != nil {
			j.log.Error("journal checkpoint failed", "err", err)
		}
	}
}

// Checkpoint makes every record so far durable in its disk's database and
// removes the segments that held them.
func (j *Journal) Checkpoint() error {
	j.gate.Lock()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		j.gate.Unlock()
		return ErrJournalClosed
	}
	seg := j.seg
	j.mu.Unlock()
	err := j.startSegment(seg + 1)
	j.gate.Unlock()
	if err != nil {
		return err
	}
	if err := j.syncMembers(); err != nil {
		return err
	}
	segs, err := listSegments(j.fs, j.dir)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s.seq > seg {
			break
		}
		if err := removeSegment(j.fs, s.path); err != nil {
			return err
		}
	}
	return nil
}

// removeSegment removes one segment durably. Segments go oldest first,
// each removal synced before the next: a crash can then bring back only
// a run of the oldest, which replay in order as before.
func removeSegment(fsys vfs.FS, path string) error {
	if err := fsys.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disk: remove journal segment: %w", err)
	}
	return fsys.SyncDir(filepath.Dir(path))
}

// syncMembers makes what each member database holds durable.
func (j *Journal) syncMembers() error {
	var errs []error
	for _, d := range j.disks {
		if err := d.syncMeta(); err != nil {
			errs = append(errs, fmt.Errorf("disk: sync %s: %w", d.root, err))
		}
	}
	return errors.Join(errs...)
}

// Close checkpoints a last time and stops the journal; later updates of
// its disks fail with ErrJournalClosed. The disks stay open.
func (j *Journal) Close() error {
	var err error
	j.closeOnce.Do(func() {
		close(j.stop)
		<-j.done
		err = j.Checkpoint()
		j.gate.Lock()
		defer j.gate.Unlock()
		j.mu.Lock()
		j.closed = true
		f := j.f
		j.mu.Unlock()
		if f != nil {
			err = errors.Join(err, f.Close())
		}
	})
	return err
}
