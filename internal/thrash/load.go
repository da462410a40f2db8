package thrash

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
)

// Operation kinds, as they appear in Report.Ops.
const (
	OpPut            = "put"
	OpOverwrite      = "overwrite"
	OpGet            = "get"
	OpGetRange       = "get-range"
	OpDelete         = "delete"
	OpList           = "list"
	OpMultipart      = "multipart"
	OpMultipartAbort = "multipart-abort"
)

// DefaultMix is the load's mix of operations by weight. Multipart uploads
// are rare as they are large (a part of 5 MiB each); aborted uploads are a
// tenth of them.
func DefaultMix() map[string]int {
	return map[string]int{
		OpPut: 26, OpOverwrite: 12, OpGet: 24, OpGetRange: 12,
		OpDelete: 10, OpList: 8, OpMultipart: 3,
	}
}

const (
	mib          = 1 << 20
	partSize     = 5 * mib // the smallest part S3 allows but the last
	maxRangeSize = 2 * mib
)

// mix is a weighted choice of operation kinds, in a fixed order.
type opMix struct {
	kinds   []string
	weights []int
	total   int
}

func newOpMix(m map[string]int) opMix {
	var x opMix
	for k := range m {
		x.kinds = append(x.kinds, k)
	}
	sort.Strings(x.kinds) // map order must not leak into the choices
	for _, k := range x.kinds {
		x.weights = append(x.weights, m[k])
		x.total += m[k]
	}
	return x
}

func (x opMix) pick(rng *rand.Rand) string {
	n := rng.IntN(x.total)
	for i, w := range x.weights {
		if n < w {
			return x.kinds[i]
		}
		n -= w
	}
	return x.kinds[len(x.kinds)-1]
}

// pickSize draws an object size: many inline objects (16 KiB and less),
// around the inline threshold, single-stripe and multi-stripe shard files.
func pickSize(rng *rand.Rand, max int64) int64 {
	var n int64
	switch r := rng.IntN(100); {
	case r < 5:
		n = 0
	case r < 30:
		n = 1 + rng.Int64N(4<<10)
	case r < 45:
		n = 4<<10 + rng.Int64N(12<<10)
	case r < 50:
		n = 16<<10 - 2 + rng.Int64N(5) // both sides of the 16 KiB threshold
	case r < 75:
		n = 16<<10 + rng.Int64N(mib)
	case r < 93:
		n = mib + rng.Int64N(3*mib)
	default:
		n = 4*mib + rng.Int64N(4*mib)
	}
	if n > max {
		n = max
	}
	return n
}

// worker runs operations until the load stops.
func (t *thrasher) worker(i int) {
	defer t.workers.Done()
	name := fmt.Sprintf("c%d", i)
	for n := uint64(0); !t.stopping.Load(); n++ {
		// Each operation draws from a stream of its own, so that the
		// choices of a client's n-th operation (its kind, key, size...)
		// depend on the seed alone, not on what earlier ones met.
		rng := rngFor(t.cfg.Seed, uint64(i+1)<<40|n)
		kind := t.mix.pick(rng)
		nodes := t.cluster.Nodes()
		node := nodes[rng.IntN(len(nodes))]
		key := t.keys[rng.IntN(len(t.keys))]
		if kind == OpOverwrite {
			// Prefer a key that holds an object.
			for try := 0; try < 8 && !t.model.Present(key); try++ {
				key = t.keys[rng.IntN(len(t.keys))]
			}
		}
		c, err := t.client(node, i%2 == 1)
		if err != nil {
			t.violate("", "%v", err)
			return
		}
		o := &op{t: t, c: c, rng: rng, client: name, node: node.Name(), kind: kind, key: key, id: t.opSeq.Add(1)}
		ok := o.run()
		if ok {
			t.acks.Add(1)
			select {
			case t.ackCh <- struct{}{}:
			default:
			}
		}
	}
}

// op is one operation of one client.
type op struct {
	t      *thrasher
	base   context.Context // nil: the load's
	c      *minio.Core
	rng    *rand.Rand
	client string
	node   string // the node the operation goes through, for the history
	kind   string
	key    string
	id     uint64
}

func (o *op) ctx() (context.Context, context.CancelFunc) {
	base := o.base
	if base == nil {
		base = o.t.loadCtx
	}
	return context.WithTimeout(base, o.t.cfg.OpTimeout)
}

func (o *op) log(format string, args ...any) {
	o.t.hist.add(o.key, fmt.Sprintf("#%d %s %s %s ", o.id, o.who(), o.kind, o.key)+fmt.Sprintf(format, args...))
}

// who names the operation's client, and the node it goes through.
func (o *op) who() string {
	if o.node == "" {
		return o.client
	}
	return o.client + "@" + o.node
}

// run performs the operation, checks it and reports whether it succeeded.
func (o *op) run() bool {
	switch o.kind {
	case OpPut, OpOverwrite:
		return o.put()
	case OpGet:
		return o.get()
	case OpGetRange:
		return o.getRange()
	case OpDelete:
		return o.del()
	case OpList:
		return o.list()
	case OpMultipart:
		return o.multipart()
	}
	return false
}

// outcome classifies a write's error.
func outcome(err error) Outcome {
	switch {
	case err == nil:
		return Acked
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return Lost
	default:
		return Failed
	}
}

// failed handles an unexpected error of an operation that ran from tick
// start to end: tolerated during a fault, a violation otherwise.
func (o *op) failed(start, end uint64, err error) {
	o.log("ERROR [%d,%d] %v", start, end, err)
	if o.t.inWindow(start, end) || o.t.stopping.Load() && errors.Is(err, context.Canceled) {
		o.t.count(o.t.opErrors, o.kind, 1)
		return
	}
	o.t.violate(o.key, "#%d %s %s %s failed outside any fault: %v", o.id, o.who(), o.kind, o.key, err)
}

// readFailed handles a read's unexpected error: a read that fails outside
// any fault, with no write of its key under way, means the value the store
// chose to serve (one of allowed) could not be read.
func (o *op) readFailed(start, end uint64, overlapped bool, allowed []Value, err error) {
	if o.racedWrite(start, end, overlapped, err) {
		return
	}
	if !o.t.inWindow(start, end) && !(o.t.stopping.Load() && errors.Is(err, context.Canceled)) {
		o.log("ERROR [%d,%d] %v", start, end, err)
		o.t.violate(o.key, "#%d %s %s %s failed outside any fault, no write of the key under way: %v; the key holds one of %v",
			o.id, o.who(), o.kind, o.key, err, allowed)
		return
	}
	o.failed(start, end, err)
}

func (o *op) noteWritten(v Value) {
	o.t.mu.Lock()
	o.t.written[o.key] = append(o.t.written[o.key], writtenValue{o.id, v})
	o.t.mu.Unlock()
}

func (o *op) put() bool {
	t := o.t
	size := pickSize(o.rng, t.cfg.MaxSize)
	v := newValue(t.valueSeq.Add(1), size)
	o.noteWritten(v)
	ctx, cancel := o.ctx()
	defer cancel()
	w := t.model.BeginWrite(o.id, o.key, v)
	_, err := o.c.PutObject(ctx, t.cfg.Bucket, o.key, newContentReader(v.ID, 0, size), size, "", "", minio.PutObjectOptions{})
	res := outcome(err)
	t.model.EndWrite(o.key, w, res)
	if err != nil {
		o.log("%s [%d,%d] %s: %v", v, w.Start, w.End, res, err)
		o.failed(w.Start, w.End, err)
		return false
	}
	o.log("%s [%d,%d] ok", v, w.Start, w.End)
	t.count(t.ops, o.kind, 1)
	t.mu.Lock()
	t.bytesW += size
	t.mu.Unlock()
	return true
}

func (o *op) del() bool {
	t := o.t
	ctx, cancel := o.ctx()
	defer cancel()
	w := t.model.BeginWrite(o.id, o.key, Absent)
	err := o.c.RemoveObject(ctx, t.cfg.Bucket, o.key, minio.RemoveObjectOptions{})
	res := outcome(err)
	t.model.EndWrite(o.key, w, res)
	if err != nil {
		o.log("[%d,%d] %s: %v", w.Start, w.End, res, err)
		o.failed(w.Start, w.End, err)
		return false
	}
	o.log("[%d,%d] ok", w.Start, w.End)
	t.count(t.ops, o.kind, 1)
	return true
}

func (o *op) multipart() bool {
	t := o.t
	parts := 2 + o.rng.IntN(2)
	last := 1 + o.rng.Int64N(mib)
	size := int64(parts-1)*partSize + last
	abort := o.rng.IntN(10) == 0
	v := newValue(t.valueSeq.Add(1), size)
	ctx, cancel := o.ctx()
	defer cancel()
	start := t.model.Tick()
	uploadID, err := o.c.NewMultipartUpload(ctx, t.cfg.Bucket, o.key, minio.PutObjectOptions{})
	if err != nil {
		o.failed(start, t.model.Tick(), fmt.Errorf("initiate: %w", err))
		return false
	}
	var done []minio.CompletePart
	for p := 0; p < parts; p++ {
		off := int64(p) * partSize
		n := int64(partSize)
		if p == parts-1 {
			n = last
		}
		part, err := o.c.PutObjectPart(ctx, t.cfg.Bucket, o.key, uploadID, p+1, newContentReader(v.ID, off, n), n, minio.PutObjectPartOptions{})
		if err != nil {
			o.failed(start, t.model.Tick(), fmt.Errorf("upload %s part %d: %w", uploadID, p+1, err))
			o.abortUpload(uploadID)
			return false
		}
		done = append(done, minio.CompletePart{PartNumber: p + 1, ETag: part.ETag})
	}
	if abort {
		o.kind = OpMultipartAbort
		if err := o.c.AbortMultipartUpload(ctx, t.cfg.Bucket, o.key, uploadID); err != nil {
			o.failed(start, t.model.Tick(), fmt.Errorf("abort %s: %w", uploadID, err))
			return false
		}
		o.log("upload %s of %s aborted", uploadID, v)
		t.count(t.ops, o.kind, 1)
		return true
	}
	o.noteWritten(v)
	w := t.model.BeginWrite(o.id, o.key, v)
	_, err = o.c.CompleteMultipartUpload(ctx, t.cfg.Bucket, o.key, uploadID, done, minio.PutObjectOptions{})
	res := outcome(err)
	t.model.EndWrite(o.key, w, res)
	if err != nil {
		o.log("%s in %d parts [%d,%d] %s: %v", v, parts, w.Start, w.End, res, err)
		o.failed(w.Start, w.End, err)
		o.abortUpload(uploadID)
		return false
	}
	o.log("%s in %d parts [%d,%d] ok", v, parts, w.Start, w.End)
	t.count(t.ops, o.kind, 1)
	t.mu.Lock()
	t.bytesW += size
	t.mu.Unlock()
	return true
}

// abortUpload removes a failed upload, best effort (the server may be
// down; the store keeps what it cannot abort, invisible).
func (o *op) abortUpload(uploadID string) {
	ctx, cancel := o.ctx()
	defer cancel()
	_ = o.c.AbortMultipartUpload(ctx, o.t.cfg.Bucket, o.key, uploadID)
}

func isCode(err error, code string) bool {
	return err != nil && minio.ToErrorResponse(err).Code == code
}

// readAll reads body to its end, hashing it; it keeps the bytes only when
// keep is set.
func readAll(body io.Reader, keep bool) (n int64, sum [32]byte, data []byte, err error) {
	h := sha256.New()
	var w io.Writer = h
	var buf bytes.Buffer
	if keep {
		w = io.MultiWriter(h, &buf)
	}
	n, err = io.Copy(w, body)
	copy(sum[:], h.Sum(nil))
	return n, sum, buf.Bytes(), err
}

func (o *op) get() bool {
	t := o.t
	ctx, cancel := o.ctx()
	defer cancel()
	start := t.model.BeginRead()
	n, sum, err := o.fetch(ctx)
	end, allowed, overlapped := t.model.EndReadKey(start, o.key)
	if err != nil && !isCode(err, "NoSuchKey") {
		o.readFailed(start, end, overlapped, allowed, err)
		return false
	}
	return o.checkFull(start, end, allowed, n, sum, err)
}

// racedWrite tolerates (unless Config.StrictReads) a read that failed
// while a write or delete of its key was under way, and reports whether it
// did.
func (o *op) racedWrite(start, end uint64, overlapped bool, err error) bool {
	if !overlapped || o.t.cfg.StrictReads {
		return false
	}
	o.log("ERROR [%d,%d] during a write of the key: %v", start, end, err)
	o.t.count(o.t.raced, o.kind, 1)
	return true
}

// fetch GETs the whole object and hashes it.
func (o *op) fetch(ctx context.Context) (int64, [32]byte, error) {
	body, info, _, err := o.c.GetObject(ctx, o.t.cfg.Bucket, o.key, minio.GetObjectOptions{})
	if err != nil {
		return 0, [32]byte{}, err
	}
	defer body.Close()
	n, sum, _, err := readAll(body, false)
	if err == nil && n != info.Size {
		err = fmt.Errorf("body of %d bytes, Content-Length %d", n, info.Size)
	}
	return n, sum, err
}

// passed counts a read that passed its check, of n bytes.
func (o *op) passed(n int64) {
	t := o.t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.checks[o.kind]++
	if o.kind == OpGet || o.kind == OpGetRange {
		t.ops[o.kind]++
	}
	t.bytesR += n
}

// checkFull checks a full read against the values allowed.
func (o *op) checkFull(start, end uint64, allowed []Value, n int64, sum [32]byte, err error) bool {
	t := o.t
	if isCode(err, "NoSuchKey") {
		for _, v := range allowed {
			if v.IsAbsent() {
				o.log("[%d,%d] NoSuchKey, ok", start, end)
				o.passed(0)
				return true
			}
		}
		o.log("[%d,%d] NoSuchKey, allowed %v", start, end, allowed)
		t.violate(o.key, "#%d %s %s %s: NoSuchKey, but the key must hold one of %v", o.id, o.who(), o.kind, o.key, allowed)
		return false
	}
	if err != nil {
		o.failed(start, end, err)
		return false
	}
	got := Value{Size: n, Sum: sum}
	for _, v := range allowed {
		if !v.IsAbsent() && v.Size == n && v.Sum == sum {
			o.log("[%d,%d] %s, ok", start, end, v)
			o.passed(n)
			return true
		}
	}
	o.log("[%d,%d] got %d bytes sha256:%x, allowed %v", start, end, n, sum[:4], allowed)
	t.violate(o.key, "#%d %s %s %s: read %d bytes (sha256 %x), not one of the values allowed %v; %s",
		o.id, o.who(), o.kind, o.key, got.Size, got.Sum[:8], allowed, o.t.explain(o.key, got))
	return false
}

// explain says which value ever written to key a bad read matches, if any.
func (t *thrasher) explain(key string, got Value) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.written[key] {
		if w.val.Size == got.Size && w.val.Sum == got.Sum {
			return fmt.Sprintf("it is the value of op #%d (%s), no longer allowed: a newer acknowledged write was lost", w.op, w.val)
		}
	}
	for k, ws := range t.written {
		for _, w := range ws {
			if w.val.Size == got.Size && w.val.Sum == got.Sum {
				return fmt.Sprintf("it is the value of op #%d (%s) written to another key, %s", w.op, w.val, k)
			}
		}
	}
	return "it matches no value ever written: a corrupt, truncated or mixed object"
}

func (o *op) getRange() bool {
	t := o.t
	hint := t.model.SizeHint(o.key)
	var first int64
	switch {
	case hint == 0:
		first = o.rng.Int64N(64)
	case o.rng.IntN(20) == 0:
		first = hint + o.rng.Int64N(16) // past the end, most likely
	default:
		first = o.rng.Int64N(hint)
	}
	length := 1 + o.rng.Int64N(maxRangeSize)
	if hint > first && length > hint-first && o.rng.IntN(2) == 0 {
		length = hint - first
	}
	last := first + length - 1
	ctx, cancel := o.ctx()
	defer cancel()
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(first, last); err != nil {
		o.log("bad range %d-%d: %v", first, last, err)
		return false
	}
	start := t.model.BeginRead()
	data, total, ranged, err := o.fetchRange(ctx, opts)
	end, a, overlapped := t.model.EndReadKey(start, o.key)
	rng := fmt.Sprintf("bytes=%d-%d", first, last)
	switch {
	case isCode(err, "NoSuchKey"):
		if containsAbsent(a) {
			o.log("%s [%d,%d] NoSuchKey, ok", rng, start, end)
			o.passed(0)
			return true
		}
		t.violate(o.key, "#%d %s %s %s %s: NoSuchKey, but the key must hold one of %v", o.id, o.who(), o.kind, o.key, rng, a)
		return false
	case isCode(err, "InvalidRange"):
		for _, v := range a {
			if !v.IsAbsent() && v.Size <= first {
				o.log("%s [%d,%d] InvalidRange, ok", rng, start, end)
				o.passed(0)
				return true
			}
		}
		t.violate(o.key, "#%d %s %s %s %s: InvalidRange, but the key holds one of %v", o.id, o.who(), o.kind, o.key, rng, a)
		return false
	case err != nil:
		o.readFailed(start, end, overlapped, a, err)
		return false
	}
	for _, v := range a {
		if v.IsAbsent() {
			continue
		}
		var want []byte
		if ranged {
			if v.Size != total || first >= v.Size {
				continue
			}
			hi := min(last, v.Size-1)
			want = make([]byte, hi-first+1)
			fillContent(want, v.ID, first)
		} else {
			if int64(len(data)) != v.Size {
				continue
			}
			want = make([]byte, v.Size)
			fillContent(want, v.ID, 0)
		}
		if bytes.Equal(want, data) {
			o.log("%s [%d,%d] %d bytes of %s, ok", rng, start, end, len(data), v)
			o.passed(int64(len(data)))
			return true
		}
	}
	o.log("%s [%d,%d] got %d bytes (object size %d, ranged %v), allowed %v", rng, start, end, len(data), total, ranged, a)
	t.violate(o.key, "#%d %s %s %s %s: got %d bytes of an object of %d, matching none of the values allowed %v",
		o.id, o.who(), o.kind, o.key, rng, len(data), total, a)
	return false
}

// fetchRange GETs a range; total is the object size from Content-Range,
// ranged whether the answer was a partial one.
func (o *op) fetchRange(ctx context.Context, opts minio.GetObjectOptions) (data []byte, total int64, ranged bool, err error) {
	body, info, hdr, err := o.c.GetObject(ctx, o.t.cfg.Bucket, o.key, opts)
	if err != nil {
		return nil, 0, false, err
	}
	defer body.Close()
	n, _, data, err := readAll(io.LimitReader(body, maxRangeSize+1), true)
	if err != nil {
		return nil, 0, false, err
	}
	if n != info.Size {
		return nil, 0, false, fmt.Errorf("body of %d bytes, Content-Length %d", n, info.Size)
	}
	cr := hdr.Get("Content-Range")
	if cr == "" {
		return data, int64(len(data)), false, nil
	}
	i := strings.LastIndexByte(cr, '/')
	if i < 0 {
		return nil, 0, false, fmt.Errorf("bad Content-Range %q", cr)
	}
	total, err = strconv.ParseInt(cr[i+1:], 10, 64)
	if err != nil {
		return nil, 0, false, fmt.Errorf("bad Content-Range %q", cr)
	}
	return data, total, true, nil
}

// listKey stands for the key of a listing in the history.
const listKey = "(list)"

func containsAbsent(vs []Value) bool {
	for _, v := range vs {
		if v.IsAbsent() {
			return true
		}
	}
	return false
}

// list lists a prefix (or the whole bucket) and checks every key of the
// key space under it: listed with the size of a value it may hold, or
// absent when it may be.
func (o *op) list() bool {
	t := o.t
	prefix := ""
	if o.rng.IntN(3) != 0 {
		prefix = t.prefix[o.rng.IntN(len(t.prefix))]
	}
	o.key = listKey
	ctx, cancel := o.ctx()
	defer cancel()
	start := t.model.BeginRead()
	listed, err := listAll(ctx, o.c, t.cfg.Bucket, prefix)
	var keys []string
	for _, k := range t.keys {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	end, allowed := t.model.EndRead(start, keys...)
	if err != nil {
		o.log("prefix %q [%d,%d] ERROR %v", prefix, start, end, err)
		if t.inWindow(start, end) && !errors.Is(err, ErrViolation) {
			t.count(t.opErrors, o.kind, 1)
			return false
		}
		t.violate("", "#%d %s list %q failed outside any fault: %v", o.id, o.who(), prefix, err)
		return false
	}
	o.log("prefix %q [%d,%d] %d keys", prefix, start, end, len(listed))
	return t.checkListing(fmt.Sprintf("#%d %s list %q", o.id, o.who(), prefix), listed, keys, allowed, OpList)
}

// checkListing checks a listing of keys against their allowed values.
func (t *thrasher) checkListing(what string, listed map[string]int64, keys []string, allowed [][]Value, kind string) bool {
	known := map[string]bool{}
	for i, k := range keys {
		known[k] = true
		size, ok := listed[k]
		good := false
		for _, v := range allowed[i] {
			if (!ok && v.IsAbsent()) || (ok && !v.IsAbsent() && v.Size == size) {
				good = true
				break
			}
		}
		if !good {
			state := "absent"
			if ok {
				state = fmt.Sprintf("listed with %d bytes", size)
			}
			t.hist.add(k, fmt.Sprintf("%s: %s, allowed %v", what, state, allowed[i]))
			t.violate(k, "%s: %s is %s, but may only be one of %v", what, k, state, allowed[i])
			return false
		}
	}
	for k := range listed {
		if !known[k] {
			t.violate(k, "%s: lists %s, a key never written", what, k)
			return false
		}
	}
	t.count(t.checks, kind, 1)
	if kind == OpList {
		t.count(t.ops, kind, 1)
	}
	return true
}

// listAll lists every object under prefix, by name and size.
func listAll(ctx context.Context, c *minio.Core, bucket, prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	for oi := range c.Client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, oi.Err
		}
		if _, dup := out[oi.Key]; dup {
			return nil, fmt.Errorf("%w: %s listed twice", ErrViolation, oi.Key)
		}
		out[oi.Key] = oi.Size
	}
	return out, nil
}
