package objectd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/basaltstore/basalt/internal/vfs"
	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/objectd/erasure"
)

// Config describes a Store.
type Config struct {
	// Disks are the directories of the local disks, in a fixed order.
	Disks []string
	// DataShards (k) and ParityShards (m) of the erasure code.
	DataShards, ParityShards int
	// BlockSize is the number of object bytes per erasure stripe
	// (default 1 MiB). It is recorded in every shard it writes.
	BlockSize int
	// InlineThreshold: objects of at most this many bytes are kept inside
	// their metadata records instead of shard files (default 16 KiB).
	InlineThreshold int64
	// FS is the file system for all disk I/O (default vfs.Default).
	FS     vfs.FS
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ScrubInterval is how often every shard is read and verified
	// (default 30 days; negative: never in the background).
	ScrubInterval time.Duration
	// ScrubRate bounds the background scrub, in bytes of shards read per
	// second (default 16 MiB/s).
	ScrubRate int64
	// HealRetry is the wait before a heal that failed is tried again
	// (default 15 s; negative: never). It doubles with each failure, up
	// to 10 minutes, for 8 tries.
	HealRetry time.Duration
	// OnHeal, when set, is called after each repair the healer makes.
	OnHeal func(bucket, key string, res HealResult, err error)
	// WrapDisk, when set, wraps each local disk as it opens; the store
	// then uses only the wrapper (the shard API's handler wraps the disks
	// it serves so that local and remote transactions exclude each other).
	WrapDisk func(disk.Volume) disk.Volume
	// Cluster is set when the store is one node of many: it may then have
	// fewer local disks than k+m (objects are placed by the layout given
	// to SetLayout) and opens with any one of them.
	Cluster bool
	// RebalanceRate bounds how fast the rebalancer moves shards to the
	// disks a new ring places them on, in bytes per second (default
	// 64 MiB/s; negative: unbounded).
	RebalanceRate int64
	// TombstoneAge is how long the tombstone a delete leaves in a cluster
	// is kept (default 7 days): a disk that was away longer than this
	// could bring a deleted object back.
	TombstoneAge time.Duration
	// RebalanceInterval is how often the rebalancer looks for misplaced
	// shards besides after each layout change (default 10 minutes).
	RebalanceInterval time.Duration
	// OnDiskFailed, when set, is called (on its own goroutine) when a disk
	// is taken out of service after repeated I/O errors, with the disk's
	// index in Disks and its path.
	OnDiskFailed func(index int, path string)
	// JournalDir holds the metadata journal of the local disks on its
	// device (the disks of any other device keep theirs in their first
	// disk). Empty: every device's journal lives in its first disk.
	JournalDir string
}

// Defaults.
const (
	DefaultBlockSize       = 1 << 20
	DefaultInlineThreshold = 16 << 10
)

func (c *Config) setDefaults() {
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.InlineThreshold == 0 {
		c.InlineThreshold = DefaultInlineThreshold
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ScrubInterval == 0 {
		c.ScrubInterval = 30 * 24 * time.Hour
	}
	if c.HealRetry == 0 {
		c.HealRetry = 15 * time.Second
	}
	if c.ScrubRate == 0 {
		c.ScrubRate = 16 << 20
	}
	if c.RebalanceRate == 0 {
		c.RebalanceRate = 64 << 20
	}
	if c.TombstoneAge <= 0 {
		c.TombstoneAge = 7 * 24 * time.Hour
	}
	if c.RebalanceInterval <= 0 {
		c.RebalanceInterval = 10 * time.Minute
	}
}

// Validate checks the configuration and says what is wrong in terms of the
// flags a person sets.
func (c *Config) Validate() error {
	n := len(c.Disks)
	switch {
	case n == 0:
		return fmt.Errorf("%w: no disks given", ErrInvalidArgument)
	case c.DataShards < 1:
		return fmt.Errorf("%w: data shards (k) must be at least 1, got %d", ErrInvalidArgument, c.DataShards)
	case c.ParityShards < 0:
		return fmt.Errorf("%w: parity shards (m) must be at least 0, got %d", ErrInvalidArgument, c.ParityShards)
	case c.DataShards+c.ParityShards > n && !c.Cluster:
		return fmt.Errorf("%w: k+m = %d+%d = %d shards need at least %d disks, but %d given",
			ErrInvalidArgument, c.DataShards, c.ParityShards, c.DataShards+c.ParityShards, c.DataShards+c.ParityShards, n)
	case c.DataShards+c.ParityShards > 255:
		return fmt.Errorf("%w: k+m must be at most 255", ErrInvalidArgument)
	case c.BlockSize < 0 || c.BlockSize > 64<<20:
		return fmt.Errorf("%w: block size must be between 1 and 64 MiB", ErrInvalidArgument)
	case c.InlineThreshold < 0 || c.InlineThreshold > 1<<20:
		return fmt.Errorf("%w: inline threshold must be between 0 and 1 MiB", ErrInvalidArgument)
	}
	seen := map[string]bool{}
	for _, d := range c.Disks {
		if seen[d] {
			return fmt.Errorf("%w: disk %s given twice", ErrInvalidArgument, d)
		}
		seen[d] = true
	}
	return nil
}

// Store is the object layer over a set of local disks: it places each object
// on k+m of them, writes its shards to a quorum, and reads them back,
// reconstructing what is missing or corrupt.
//
// Concurrency: a Store is safe for concurrent use. Writes to one key are
// serialised by a per-key lock around their commit only; the data of
// concurrent writes streams in parallel.
type Store struct {
	cfg   Config
	disks []disk.Volume // nil entries are disks that failed to open
	// journals carry the local disks' metadata updates (openJournals).
	journals []*disk.Journal
	codec    *erasure.Codec
	log      *slog.Logger

	locks [512]sync.Mutex

	clockMu sync.Mutex
	last    int64

	bucketMu sync.RWMutex
	buckets  map[string]BucketInfo

	heal         chan healTask
	healMu       sync.Mutex
	filled       chan struct{} // closed when fillBack has finished
	diskFailures atomic.Int64
	queued       atomic.Int64 // objects in the repair queue
	bytesRebuilt atomic.Int64

	scrubMu       sync.Mutex
	scrubRunning  bool
	scrubLast     ScrubProgress
	rateMu        sync.Mutex
	rateSamples   []rateSample
	shardsRebuilt atomic.Int64
	healing       sync.Map // pending heals by bucket/key
	stop          chan struct{}
	wg            sync.WaitGroup
	closed        sync.Once

	viewMu  sync.RWMutex // lookups that take references, against removals
	refMu   sync.Mutex
	refs    map[string]int              // data id -> readers
	pending map[string][]pendingRemoval // removals waiting for readers

	// crashAfterComplete (tests) stops CompleteMultipartUpload after its
	// commit, as a crash would, leaving the upload's records behind.
	crashAfterComplete bool

	pools  pools
	codecs sync.Map // codecKey -> *erasure.Codec, for data written with other parameters

	fresh    []bool                      // local disks formatted by Open
	local    []*disk.Disk                // the local disks, unwrapped; nil where offline
	layout   atomic.Pointer[clusterView] // nil: local disks only
	fillOnce sync.Once
	rebal    rebalancer
}

type codecKey struct{ k, m, bs int }

// codecFor returns the codec for the parameters a record was written with:
// a store reads what it wrote under an earlier configuration.
func (s *Store) codecFor(r *record) (*erasure.Codec, error) {
	if r.K == s.cfg.DataShards && r.M == s.cfg.ParityShards && r.BlockSize == s.cfg.BlockSize {
		return s.codec, nil
	}
	key := codecKey{r.K, r.M, r.BlockSize}
	if c, ok := s.codecs.Load(key); ok {
		return c.(*erasure.Codec), nil
	}
	c, err := erasure.New(r.K, r.M, r.BlockSize)
	if err != nil {
		return nil, fmt.Errorf("objectd: record parameters: %w", err)
	}
	s.codecs.Store(key, c)
	return c, nil
}

// Open opens (formatting when new) every disk and returns the Store. Disks
// that cannot be opened are left out, as long as a write quorum opens.
func Open(cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	codec, err := erasure.New(cfg.DataShards, cfg.ParityShards, cfg.BlockSize)
	if err != nil {
		return nil, fmt.Errorf("objectd: %w", err)
	}
	s := &Store{
		cfg:     cfg,
		disks:   make([]disk.Volume, len(cfg.Disks)),
		codec:   codec,
		log:     cfg.Logger,
		buckets: map[string]BucketInfo{},
		heal:    make(chan healTask, 4096),
		filled:  make(chan struct{}),
		refs:    map[string]int{},
		pending: map[string][]pendingRemoval{},
		stop:    make(chan struct{}),
	}
	s.rebal.kick = make(chan struct{}, 1)
	s.fresh = make([]bool, len(cfg.Disks))
	s.pools.init(codec)
	var wg sync.WaitGroup
	errs := make([]error, len(cfg.Disks))
	local := make([]*disk.Disk, len(cfg.Disks))
	for i, p := range cfg.Disks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := disk.Open(p, cfg.FS, disk.Options{Logger: cfg.Logger, Journaled: true, SegmentValues: []byte(inlinePrefix)})
			if err != nil {
				errs[i] = err
				return
			}
			local[i] = d
		}()
	}
	wg.Wait()
	online := 0
	for i, err := range errs {
		if err != nil {
			s.log.Error("disk offline", "disk", cfg.Disks[i], "err", err)
			continue
		}
		s.disks[i] = local[i]
		if cfg.WrapDisk != nil {
			s.disks[i] = cfg.WrapDisk(local[i])
		}
		online++
		if local[i].Fresh {
			s.fresh[i] = true
			s.log.Info("disk formatted", "disk", cfg.Disks[i], "id", local[i].ID())
		}
	}
	if online < s.writeQuorum() && !(cfg.Cluster && online > 0) {
		s.closeDisks()
		return nil, fmt.Errorf("%w: only %d of %d disks could be opened, %d needed: %v",
			ErrWriteQuorum, online, len(cfg.Disks), s.writeQuorum(), errors.Join(errs...))
	}
	if err := s.openJournals(local); err != nil {
		s.closeDisks()
		return nil, err
	}
	s.local = local
	// A new disk among disks that hold data is a replaced one: until it is
	// filled back, its "not found" answers do not count.
	anyOld := false
	for _, d := range local {
		if d != nil && !d.Fresh {
			anyOld = true
		}
	}
	for _, d := range local {
		if d != nil && d.Fresh && anyOld {
			if err := d.SetHealing(true); err != nil {
				s.log.Error("cannot mark disk for healing", "disk", d.Root(), "err", err)
			}
		}
	}
	if err := s.loadBuckets(); err != nil {
		s.closeDisks()
		return nil, err
	}
	s.loadQueue()
	s.wg.Add(3)
	go s.healLoop()
	go s.rebalanceLoop()
	go func() {
		defer s.wg.Done()
		s.reclaim() // the journals are replayed: what a crash left can go
	}()
	if !cfg.Cluster {
		// In a cluster the fill back waits for the first layout: until
		// then nothing can be placed.
		s.startFillBack()
	}
	if cfg.ScrubInterval > 0 {
		s.wg.Add(1)
		go s.scrubLoop()
	}
	return s, nil
}

// Close stops background work and closes the disks. Requests must have
// finished.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.stop)
		s.wg.Wait()
		err = s.closeDisks()
	})
	return err
}

func (s *Store) closeDisks() error {
	var errs []error
	for _, j := range s.journals {
		errs = append(errs, j.Close())
	}
	for _, d := range s.disks {
		if d != nil {
			errs = append(errs, d.Close())
		}
	}
	return errors.Join(errs...)
}

// Ready reports whether a write quorum of disks answers.
func (s *Store) Ready() error {
	ok := 0
	var errs []error
	for i, d := range s.disks {
		if d == nil {
			errs = append(errs, fmt.Errorf("disk %s offline", s.cfg.Disks[i]))
			continue
		}
		if d.Failed() {
			errs = append(errs, fmt.Errorf("disk %s failed (taken out of service after repeated I/O errors)", s.cfg.Disks[i]))
			continue
		}
		if err := d.Healthy(); err != nil {
			errs = append(errs, fmt.Errorf("disk %s: %w", s.cfg.Disks[i], err))
			continue
		}
		ok++
	}
	need := s.writeQuorum()
	if s.cfg.Cluster {
		v := s.layout.Load()
		if v == nil {
			return fmt.Errorf("%w: no placeable ring yet: the cluster needs more disks for its storage policy", ErrWriteQuorum)
		}
		if err := v.serving(); err != nil {
			return err
		}
		need = 1 // the other shards live on other nodes
	}
	if ok < need {
		return fmt.Errorf("%w: %d of %d disks answer, %d needed: %v", ErrWriteQuorum, ok, len(s.disks), need, errors.Join(errs...))
	}
	return nil
}

// K and M are the erasure parameters new objects are written with.
func (s *Store) K() int { return s.cfg.DataShards }

// M returns the number of parity shards.
func (s *Store) M() int { return s.cfg.ParityShards }

// writeQuorum is the number of shards that must be durable before a write
// is acknowledged: k, plus one when k == m so that two halves of a split
// set can never both accept a write.
func (s *Store) writeQuorum() int {
	k, m := s.cfg.DataShards, s.cfg.ParityShards
	if m > 0 && k == m {
		return k + 1
	}
	return k
}

// set returns the disks that hold an object's shards, in shard order.
// The first disk is chosen by a hash of the name, so parity is spread over
// every disk; entries may be nil for offline disks.
func (s *Store) set(bucket, key string) []disk.Volume {
	if v := s.layout.Load(); v != nil {
		return s.placeOn(v, bucket, key)
	}
	if s.cfg.Cluster {
		// No ring yet: nowhere to place anything (quorum errors follow).
		return make([]disk.Volume, s.cfg.DataShards+s.cfg.ParityShards)
	}
	n := len(s.disks)
	w := s.cfg.DataShards + s.cfg.ParityShards
	h := fnv.New64a()
	h.Write([]byte(bucket))
	h.Write([]byte{'/'})
	h.Write([]byte(key))
	start := int(h.Sum64() % uint64(n))
	out := make([]disk.Volume, w)
	for i := range out {
		if d := s.disks[(start+i)%n]; d != nil && !d.Failed() {
			out[i] = d
		}
	}
	return out
}

func (s *Store) lock(bucket, key string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	h.Write([]byte{'/'})
	h.Write([]byte(key))
	return &s.locks[h.Sum32()%uint32(len(s.locks))]
}

// now is a hybrid logical clock: wall time, but strictly increasing.
func (s *Store) now() int64 {
	t := s.cfg.Now().UnixNano()
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	if t <= s.last {
		t = s.last + 1
	}
	s.last = t
	return t
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// note records the outcome of an I/O on d, taking the disk out of service
// after a run of errors.
func (s *Store) note(d disk.Volume, err error) {
	if d == nil {
		return
	}
	if d.NoteIO(err) {
		s.diskFailures.Add(1)
		s.log.Error("disk taken out of service after repeated I/O errors", "disk", d.Root(), "errors", disk.FailAfter, "err", err)
		if fn := s.cfg.OnDiskFailed; fn != nil {
			for i, o := range s.disks {
				if o == d {
					go fn(i, s.cfg.Disks[i])
				}
			}
		}
	}
}

// online returns the disks in service: every disk of the cluster when the
// store has a layout, else the local ones.
func (s *Store) online() []disk.Volume {
	v := s.layout.Load()
	if v == nil {
		return s.localOnline()
	}
	if v.serving() != nil {
		return nil // cut off: see serving
	}
	var out []disk.Volume
	for _, d := range v.all {
		if d != nil && !d.Failed() {
			out = append(out, d)
		}
	}
	return out
}

// keys of the metadata database.
// inlinePrefix keys the inline shards of small objects; the disks keep
// their values in segment files (disk.Options.SegmentValues).
const inlinePrefix = "i/"

func bucketKey(b string) []byte          { return []byte("b/" + b) }
func objectKey(b, k string) []byte       { return []byte("o/" + b + "/" + k) }
func objectPrefix(b string) []byte       { return []byte("o/" + b + "/") }
func inlineKey(dataID string) []byte     { return []byte(inlinePrefix + dataID) }
func uploadKey(b, k, id string) []byte   { return []byte("u/" + b + "/" + k + "\x00" + id) }
func uploadPrefix(b string) []byte       { return []byte("u/" + b + "/") }
func partKey(id string, n int) []byte    { return fmt.Appendf(nil, "p/%s/%05d", id, n) }
func partPrefix(id string) []byte        { return []byte("p/" + id + "/") }
func queueKey(b, k string) []byte        { return []byte("q/" + b + "/" + k) }
func checkCtx(ctx context.Context) error { return ctx.Err() }
