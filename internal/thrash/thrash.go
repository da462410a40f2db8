package thrash

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Errors of this package.
var (
	// ErrConfig: the Config is not usable.
	ErrConfig = errors.New("thrash: invalid configuration")
	// ErrViolation: the store returned something the model does not
	// allow (a lost or wrong object, a listing that disagrees, an error
	// where none may occur). The run's seed and history say how.
	ErrViolation = errors.New("thrash: consistency violation")
	// ErrCluster: the harness could not drive the cluster (a node would
	// not start or stop, a disk directory could not be removed).
	ErrCluster = errors.New("thrash: cluster")
	// ErrRefused: the cluster refused a ring change (RingChanger), and
	// nothing changed.
	ErrRefused = errors.New("thrash: ring change refused")
	errSeek    = errors.New("thrash: invalid seek")
)

// Fault kinds, as they appear in Report.Faults and the history.
const (
	FaultKill    = "kill"    // SIGKILL of a node, then a restart
	FaultFlip    = "flip"    // bytes flipped in shard files of one disk, while running
	FaultReplace = "replace" // a disk directory removed while its node is down
	FaultCut     = "cut"     // a node cut off the network for a few seconds (Cutter)
	FaultDrain   = "drain"   // a disk drained under load, restored later (RingChanger)
	FaultAdd     = "add"     // a drained disk removed from the ring and added back (DiskAdder)
	FaultFail    = "fail"    // a disk starts failing under load, is replaced (DiskFailer)
)

// Faults says which faults a run injects and how often.
type Faults struct {
	// Every is the number of acknowledged operations between the end of a
	// fault round and the start of the next (default 100).
	Every int
	// Relative weights of the fault kinds. Kinds are dealt from a shuffled
	// deck holding each kind as many times as its weight, so that every
	// kind with a weight comes up once per deck. All zero: no faults.
	// Cut and Drain need a cluster that can inject them (Cutter,
	// RingChanger); Run refuses them otherwise.
	// Fail needs a cluster that can make a disk fail (DiskFailer) and
	// whose ring can be changed.
	Kill, Flip, Replace, Cut, Drain, Fail int
	// CutFor is the longest a node stays cut off (default 4s); each cut
	// lasts from half of it to all of it, as the seed says.
	CutFor time.Duration
	// HealGrace is how long after the end of a cut (once the node answers
	// a bucket listing again) its operations may still fail (default 3s):
	// the store retries a peer it could not reach only after a delay.
	HealGrace time.Duration
	// FlipFiles is the most shard files damaged in one flip round
	// (default 4).
	FlipFiles int
	// MinRounds: the load and faults go on past Duration until this many
	// fault rounds have run, so that a slow machine still sees them all.
	MinRounds int
}

// Config describes a run. The zero value (plus a Cluster) is a one-minute
// run of 4 clients without faults.
type Config struct {
	// Seed drives every random choice of the run: operations, keys, sizes,
	// faults and their targets. A run replays with its seed (the same
	// choices; timing, and so the interleaving, may differ).
	Seed uint64
	// Duration is how long the load and the faults run (default 1m); the
	// final checks follow.
	Duration time.Duration
	// Clients is the number of concurrent clients (default 4).
	Clients int
	Faults  Faults
	// Mix is the weight of each operation kind (OpPut, ...) in the load
	// (default DefaultMix()).
	Mix map[string]int
	// Keys is the size of the key space (default 48): small, so that
	// writes, overwrites, deletes and reads of one key collide.
	Keys int
	// Bucket receives the load (default "thrash"); it is created.
	Bucket string
	// MaxSize is the largest single PUT (default 8 MiB). Multipart
	// uploads are 2-3 parts of 5 MiB and a short last part.
	MaxSize int64
	// Parity is m, the number of disks an object survives losing
	// (default 2). The final check removes this many disks at a time.
	Parity int
	// OpTimeout bounds one operation, retries included (default 2m).
	// A write that times out stays possible for the rest of the run.
	OpTimeout time.Duration
	// FillBackTimeout bounds the wait for a replaced disk to be filled
	// back (default 5m).
	FillBackTimeout time.Duration
	// StrictReads makes a read that fails while a write or delete of the
	// same key is under way a violation. Off, such reads are counted in
	// Report.Raced: the store may remove an old version's shards under a
	// read that resolved it just before an overwrite was acknowledged, and
	// the read then fails (cut short) instead of returning the old value.
	StrictReads bool
	// Logf receives progress lines (faults, phases); nil for none.
	Logf func(format string, args ...any)
}

func (c *Config) setDefaults() {
	if c.Duration == 0 {
		c.Duration = time.Minute
	}
	if c.Clients == 0 {
		c.Clients = 4
	}
	if c.Faults.Every == 0 {
		c.Faults.Every = 100
	}
	if c.Faults.FlipFiles == 0 {
		c.Faults.FlipFiles = 4
	}
	if c.Faults.CutFor == 0 {
		c.Faults.CutFor = 4 * time.Second
	}
	if c.Faults.HealGrace == 0 {
		c.Faults.HealGrace = 3 * time.Second
	}
	if c.Keys == 0 {
		c.Keys = 48
	}
	if c.Mix == nil {
		c.Mix = DefaultMix()
	}
	if c.Bucket == "" {
		c.Bucket = "thrash"
	}
	if c.MaxSize == 0 {
		c.MaxSize = 8 << 20
	}
	if c.Parity == 0 {
		c.Parity = 2
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = 2 * time.Minute
	}
	if c.FillBackTimeout == 0 {
		c.FillBackTimeout = 5 * time.Minute
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Validate says what is wrong with c, after defaults.
func (c *Config) Validate() error {
	switch {
	case c.Duration < 0:
		return fmt.Errorf("%w: negative duration", ErrConfig)
	case c.Clients < 1:
		return fmt.Errorf("%w: %d clients", ErrConfig, c.Clients)
	case c.Faults.Every < 1 || c.Faults.FlipFiles < 1:
		return fmt.Errorf("%w: Faults.Every and Faults.FlipFiles must be positive", ErrConfig)
	case c.Faults.Kill < 0 || c.Faults.Flip < 0 || c.Faults.Replace < 0 || c.Faults.Cut < 0 || c.Faults.Drain < 0 || c.Faults.Fail < 0 || c.Faults.MinRounds < 0:
		return fmt.Errorf("%w: negative fault weight", ErrConfig)
	case c.Faults.CutFor < 0 || c.Faults.HealGrace < 0:
		return fmt.Errorf("%w: negative Faults.CutFor or Faults.HealGrace", ErrConfig)
	case !validMix(c.Mix):
		return fmt.Errorf("%w: Mix %v: weights of known operation kinds, not all zero", ErrConfig, c.Mix)
	case c.Keys < 1:
		return fmt.Errorf("%w: %d keys", ErrConfig, c.Keys)
	case c.MaxSize < 1:
		return fmt.Errorf("%w: MaxSize %d", ErrConfig, c.MaxSize)
	case c.Parity < 1:
		return fmt.Errorf("%w: Parity %d", ErrConfig, c.Parity)
	case c.Faults.MinRounds > 0 && c.Faults.Kill+c.Faults.Flip+c.Faults.Replace+c.Faults.Cut+c.Faults.Drain+c.Faults.Fail == 0:
		return fmt.Errorf("%w: MinRounds without any fault kind", ErrConfig)
	}
	return nil
}

func validMix(m map[string]int) bool {
	total := 0
	for k, w := range m {
		if _, known := DefaultMix()[k]; !known || w < 0 {
			return false
		}
		total += w
	}
	return total > 0
}

// Report is what a run did and found.
type Report struct {
	Seed    uint64
	Elapsed time.Duration
	// Ops counts acknowledged operations by kind (put, overwrite, get,
	// get-range, delete, list, multipart, multipart-abort).
	Ops map[string]int
	// OpErrors counts operations that failed while a fault was under way
	// (tolerated: a write that failed may or may not have taken effect).
	OpErrors map[string]int
	// Raced counts reads that failed while a write of their key was under
	// way (see Config.StrictReads), by operation kind.
	Raced map[string]int
	// Faults counts injected faults by kind; "flip-files" counts the shard
	// files damaged, "restore" the drained disks returned to service (of
	// them, "add" those removed from the ring and added back),
	// "drain-refused" the drains the cluster refused, "remove-refused" the
	// removals it refused (restored instead), "repair" the damaged
	// disks replaced before a ring change (see the package comment) and
	// "settle-rounds" the rebalance rounds run on every node.
	Faults map[string]int
	// Checks counts the checks that passed, by kind: reads and listings
	// during the load, and each phase of the final checks.
	Checks map[string]int
	// BytesWritten and BytesRead are object bytes acknowledged and read.
	BytesWritten, BytesRead int64
	// Logged counts lines of the nodes' logs of interest: bad shards
	// found by reads, objects healed, heals that failed, fill backs done
	// and left incomplete.
	Logged map[string]int
	// Violations are the failed checks, each with the history of its key.
	Violations []string

	hist *history
}

// History returns the whole log of operations and faults of the run.
func (r *Report) History() string {
	if r.hist == nil {
		return ""
	}
	return r.hist.all()
}

// Summary is a short table of the run: operations, faults, checks.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "thrash seed %d, %s\n", r.Seed, r.Elapsed.Round(time.Millisecond))
	table := func(title string, m map[string]int) {
		keys := make([]string, 0, len(m))
		total := 0
		for k, v := range m {
			keys = append(keys, k)
			total += v
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "  %-10s total %d:", title, total)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, m[k])
		}
		b.WriteString("\n")
	}
	table("ops", r.Ops)
	table("op errors", r.OpErrors)
	table("raced", r.Raced)
	table("faults", r.Faults)
	table("checks", r.Checks)
	table("node logs", r.Logged)
	fmt.Fprintf(&b, "  bytes      written %d MiB, read %d MiB\n", r.BytesWritten>>20, r.BytesRead>>20)
	fmt.Fprintf(&b, "  violations %d\n", len(r.Violations))
	return b.String()
}

// Run thrashes c as cfg says: a mixed S3 load from cfg.Clients goroutines
// while faults are injected, checks of every read against a model of what
// was acknowledged, then (if nothing was found wrong) final checks: every
// key and listing read back after the load stops, and full redundancy
// (groups of Parity disks removed in turn, each time every object read
// back). It returns an error wrapping ErrViolation when a check failed; the
// error holds the seed and the history needed to understand it.
//
// Run must be called from the goroutine allowed to stop and start the
// cluster's nodes (a test's own goroutine for testserver).
func Run(ctx context.Context, cfg Config, c Cluster) (Report, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{Seed: cfg.Seed}, err
	}
	if len(c.Nodes()) == 0 {
		return Report{Seed: cfg.Seed}, fmt.Errorf("%w: no nodes", ErrConfig)
	}
	if _, ok := c.(Cutter); cfg.Faults.Cut > 0 && (!ok || len(c.Nodes()) < 2) {
		return Report{Seed: cfg.Seed}, fmt.Errorf("%w: %s faults need a cluster of several nodes that can cut one off (Cutter)", ErrConfig, FaultCut)
	}
	if _, ok := c.(RingChanger); cfg.Faults.Drain > 0 && !ok {
		return Report{Seed: cfg.Seed}, fmt.Errorf("%w: %s faults need a cluster whose ring can be changed (RingChanger)", ErrConfig, FaultDrain)
	}
	_, df := c.(DiskFailer)
	_, rc := c.(RingChanger)
	if cfg.Faults.Fail > 0 && !(df && rc) {
		return Report{Seed: cfg.Seed}, fmt.Errorf("%w: %s faults need a cluster that can make a disk fail (DiskFailer) and change its ring (RingChanger)", ErrConfig, FaultFail)
	}
	t := newThrasher(cfg, c)
	finished := false
	defer func() {
		if !finished {
			// The caller's goroutine is being torn down (a failed node
			// start ends the test): stop the load and leave the history.
			t.stopLoad(true)
			cfg.Logf("thrash: seed %d: run aborted; replay with this seed. Last events:\n%s", cfg.Seed, t.hist.tail(200))
		}
	}()
	err := t.run(ctx)
	finished = true
	rep := t.report()
	if err == nil && len(rep.Violations) > 0 {
		err = fmt.Errorf("%w: seed %d: %d violation(s); replay with this seed. First:\n%s",
			ErrViolation, cfg.Seed, len(rep.Violations), rep.Violations[0])
	} else if err != nil {
		err = fmt.Errorf("seed %d: %w\nlast events:\n%s", cfg.Seed, err, t.hist.tail(100))
	}
	return rep, err
}

// thrasher is one run.
type thrasher struct {
	cfg     Config
	cluster Cluster
	model   *Model
	hist    *history
	keys    []string
	prefix  []string
	mix     opMix
	began   time.Time

	loadCtx    context.Context
	cancelLoad context.CancelFunc
	stopping   atomic.Bool
	workers    sync.WaitGroup
	acks       atomic.Int64
	ackCh      chan struct{}
	violated   chan struct{}
	violOnce   sync.Once
	opSeq      atomic.Uint64
	valueSeq   atomic.Uint64

	mu         sync.Mutex
	clients    map[string]*minio.Core
	windows    [][2]uint64 // fault windows [start, end] in ticks; end 0: open
	violations []string
	ops        map[string]int
	opErrors   map[string]int
	raced      map[string]int
	faults     map[string]int
	checks     map[string]int
	bytesW     int64
	bytesR     int64
	written    map[string][]writtenValue // every value written to each key

	damaged  diskRef // the one disk with unrepaired damage, or noDisk
	drained  diskRef // the disk drained and not yet restored, or noDisk
	restores int     // drained disks returned to service so far
}

// diskRef names a disk by the indexes of its node in Cluster.Nodes and of
// the disk in Node.Disks.
type diskRef struct{ node, disk int }

// noDisk is the diskRef of no disk.
var noDisk = diskRef{-1, -1}

// writtenValue is a value written to a key, for explaining a bad read.
type writtenValue struct {
	op  uint64
	val Value
}

var keyPrefixes = []string{"alpha/", "beta/", "gamma/", "delta/"}

func newThrasher(cfg Config, c Cluster) *thrasher {
	t := &thrasher{
		cfg:      cfg,
		cluster:  c,
		model:    NewModel(),
		hist:     newHistory(),
		ackCh:    make(chan struct{}, 1),
		violated: make(chan struct{}),
		clients:  map[string]*minio.Core{},
		ops:      map[string]int{},
		opErrors: map[string]int{},
		raced:    map[string]int{},
		faults:   map[string]int{},
		checks:   map[string]int{},
		written:  map[string][]writtenValue{},
		damaged:  noDisk,
		drained:  noDisk,
		prefix:   keyPrefixes,
		mix:      newOpMix(cfg.Mix),
	}
	for i := 0; i < cfg.Keys; i++ {
		t.keys = append(t.keys, fmt.Sprintf("%sk%03d", keyPrefixes[i%len(keyPrefixes)], i))
	}
	// Value ids differ from run to run, so that nothing of another run
	// can pass for a value of this one.
	t.valueSeq.Store(mix(cfg.Seed) &^ 0xffffffff)
	t.loadCtx, t.cancelLoad = context.WithCancel(context.Background())
	return t
}

func (t *thrasher) run(ctx context.Context) error {
	t.began = time.Now()
	t.hist.start = t.began
	node := t.cluster.Nodes()[0]
	t.logf("thrash: seed %d, %d clients, %s, faults every %d ops (kill %d, flip %d, replace %d, cut %d, drain %d, fail %d), %s",
		t.cfg.Seed, t.cfg.Clients, t.cfg.Duration, t.cfg.Faults.Every,
		t.cfg.Faults.Kill, t.cfg.Faults.Flip, t.cfg.Faults.Replace, t.cfg.Faults.Cut, t.cfg.Faults.Drain, t.cfg.Faults.Fail, node.Endpoint())
	if err := t.makeBuckets(ctx); err != nil {
		return err
	}
	for i := 0; i < t.cfg.Clients; i++ {
		t.workers.Add(1)
		go t.worker(i)
	}
	err := t.faultLoop(ctx)
	t.stopLoad(err != nil)
	if err != nil {
		return err
	}
	if t.failed() {
		return nil
	}
	t.logf("thrash: load stopped after %s; final checks", time.Since(t.began).Round(time.Millisecond))
	return t.finalChecks(ctx)
}

// stopLoad stops the clients and waits for them; with abort, operations
// in flight are cancelled rather than waited for.
func (t *thrasher) stopLoad(abort bool) {
	t.stopping.Store(true)
	if abort {
		t.cancelLoad()
	}
	t.workers.Wait()
	t.cancelLoad()
}

func (t *thrasher) logf(format string, args ...any) {
	t.cfg.Logf(format, args...)
}

func (t *thrasher) failed() bool {
	select {
	case <-t.violated:
		return true
	default:
		return false
	}
}

// violate records a failed check and stops the run.
func (t *thrasher) violate(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.hist.add(key, "VIOLATION: "+msg)
	var b strings.Builder
	b.WriteString(msg)
	if key != "" {
		fmt.Fprintf(&b, "\nhistory of %s:\n%s", key, t.hist.forKey(key, 60))
	}
	fmt.Fprintf(&b, "\nfaults:\n%s", t.hist.faults(40))
	if key != "" && key != listKey {
		fmt.Fprintf(&b, "node log lines about %s:\n%s", key, t.nodeLines(" key="+key+" ", 30))
	}
	t.mu.Lock()
	t.violations = append(t.violations, b.String())
	t.mu.Unlock()
	t.violOnce.Do(func() {
		t.stopping.Store(true)
		close(t.violated)
	})
}

// nodeLines returns the last n lines of the nodes' logs that contain sub.
func (t *thrasher) nodeLines(sub string, n int) string {
	var out []string
	for _, node := range t.cluster.Nodes() {
		for _, line := range strings.Split(node.Logs(), "\n") {
			if strings.Contains(line, sub) {
				out = append(out, "  "+node.Name()+": "+line)
			}
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "\n") + "\n"
}

func (t *thrasher) count(m map[string]int, kind string, n int) {
	t.mu.Lock()
	m[kind] += n
	t.mu.Unlock()
}

// client returns an S3 client for the node's current endpoint: one that
// retries (minio-go's default, riding over restarts), or, with once, one
// that makes a single attempt, so that writes cut by a fault come back as
// failures of unknown outcome.
func (t *thrasher) client(n Node, once bool) (*minio.Core, error) {
	ep := n.Endpoint()
	id := ep
	retries := 0 // the default
	if once {
		id, retries = ep+" once", 1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.clients[id]; ok {
		return c, nil
	}
	ak, sk := n.Credentials()
	c, err := minio.NewCore(strings.TrimPrefix(ep, "http://"), &minio.Options{
		Creds:      credentials.NewStaticV4(ak, sk, ""),
		Region:     "us-east-1",
		MaxRetries: retries,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: client for %s: %w", ErrCluster, ep, err)
	}
	t.clients[id] = c
	return c, nil
}

// barrierBucket holds the objects of heal barriers, apart from the load.
func (t *thrasher) barrierBucket() string { return t.cfg.Bucket + "-barrier" }

func (t *thrasher) makeBuckets(ctx context.Context) error {
	c, err := t.client(t.cluster.Nodes()[0], false)
	if err != nil {
		return err
	}
	for _, b := range []string{t.cfg.Bucket, t.barrierBucket()} {
		octx, cancel := context.WithTimeout(ctx, t.cfg.OpTimeout)
		err := c.MakeBucket(octx, b, minio.MakeBucketOptions{})
		cancel()
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return fmt.Errorf("%w: create bucket %s: %w", ErrCluster, b, err)
		}
	}
	return nil
}

// openWindow marks the start of a fault: errors of operations that overlap
// a window are expected. It returns the window's index for closeWindow.
func (t *thrasher) openWindow() int {
	tick := t.model.Tick()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.windows = append(t.windows, [2]uint64{tick, 0})
	return len(t.windows) - 1
}

func (t *thrasher) closeWindow(i int) {
	tick := t.model.Tick()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.windows[i][1] = tick
}

// inWindow reports whether an operation that ran from tick start to end
// overlapped a fault.
func (t *thrasher) inWindow(start, end uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.windows) - 1; i >= 0; i-- {
		w := t.windows[i]
		if start <= w[1] || w[1] == 0 {
			if end >= w[0] {
				return true
			}
		}
	}
	return false
}

func (t *thrasher) report() Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	cp := func(m map[string]int) map[string]int {
		out := make(map[string]int, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	logged := map[string]int{}
	for _, n := range t.cluster.Nodes() {
		logs := n.Logs()
		logged["bad-shard"] += strings.Count(logs, `msg="bad shard"`)
		logged["healed"] += strings.Count(logs, `msg="healed object"`)
		logged["heal-failed"] += strings.Count(logs, `msg="heal failed"`) + strings.Count(logs, `msg="fill back: heal failed"`)
		logged["filled-back"] += strings.Count(logs, msgFilledBack)
		logged["fill-incomplete"] += strings.Count(logs, msgFillIncomplete)
		logged["reclaimed"] += strings.Count(logs, `msg="segments reclaimed"`)
	}
	return Report{
		Seed:         t.cfg.Seed,
		Elapsed:      time.Since(t.began),
		Ops:          cp(t.ops),
		OpErrors:     cp(t.opErrors),
		Raced:        cp(t.raced),
		Faults:       cp(t.faults),
		Checks:       cp(t.checks),
		BytesWritten: t.bytesW,
		BytesRead:    t.bytesR,
		Logged:       logged,
		Violations:   append([]string(nil), t.violations...),
		hist:         t.hist,
	}
}

// history is the log of operations and faults of a run.
type history struct {
	mu     sync.Mutex
	start  time.Time
	events []event
	byKey  map[string][]int
	fault  []int
}

type event struct {
	at   time.Duration
	key  string
	text string
}

func newHistory() *history {
	return &history{start: time.Now(), byKey: map[string][]int{}}
}

func (h *history) format(e event) string {
	return fmt.Sprintf("%9.3fs %s", e.at.Seconds(), e.text)
}

// add records an event about key ("" for a fault or phase).
func (h *history) add(key, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, event{at: time.Since(h.start), key: key, text: text})
	i := len(h.events) - 1
	if key == "" {
		h.fault = append(h.fault, i)
	} else {
		h.byKey[key] = append(h.byKey[key], i)
	}
}

func (h *history) lines(idx []int, last int) string {
	var b strings.Builder
	if len(idx) > last {
		fmt.Fprintf(&b, "  ... %d earlier events\n", len(idx)-last)
		idx = idx[len(idx)-last:]
	}
	for _, i := range idx {
		b.WriteString("  " + h.format(h.events[i]) + "\n")
	}
	return b.String()
}

func (h *history) forKey(key string, last int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lines(h.byKey[key], last)
}

func (h *history) faults(last int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lines(h.fault, last)
}

func (h *history) tail(last int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	idx := make([]int, len(h.events))
	for i := range idx {
		idx[i] = i
	}
	return h.lines(idx, last)
}

func (h *history) all() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, e := range h.events {
		b.WriteString(h.format(e) + "\n")
	}
	return b.String()
}

// rngFor returns the random source of one stream of choices of the run.
func rngFor(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}
