package s3bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/basaltstore/basalt/bench/measure"
	"github.com/basaltstore/basalt/bench/report"
	"github.com/basaltstore/basalt/bench/units"
)

// run is the state of one benchmark run.
type run struct {
	cfg       Config
	progress  io.Writer
	host      string
	secure    bool
	transport *http.Transport
	// admin serves the preflight, the clean-up and the abort of failed
	// uploads; it outlives an interruption. work carries the operations
	// and is bound to the run's context.
	admin *minio.Client
	work  minio.Core

	prefix  string // unique prefix of the run's keys, Config.Prefix included
	data    []byte // payload source
	spread  int    // payloads start at an offset below spread
	created bool
	notes   []string

	ops     []measure.OpInfo
	opIndex map[Workload]uint8

	prepared  int64        // objects 0..prepared-1 exist after prepare
	nextID    atomic.Int64 // next id for a new object
	nextDel   atomic.Int64 // next prepared id for the delete workload
	exhausted atomic.Bool  // the delete workload ran out of objects
	pool      *pool        // live objects of a mixed workload

	liveOps, liveBytes, liveErrs atomic.Int64
}

// Run validates cfg, checks the endpoint, prepares objects when the
// workload reads them, runs the workload and returns its report. Progress
// lines go to progress (nil for none). When ctx is cancelled during the
// measurement, the report of what was measured is returned together with
// an error wrapping ErrInterrupted.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*report.Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	r, err := newRun(ctx, cfg, progress)
	if err != nil {
		return nil, err
	}
	defer r.transport.CloseIdleConnections()
	if err := r.preflight(ctx); err != nil {
		return nil, err
	}
	rep, err := r.execute(ctx)
	if cfg.Cleanup {
		r.cleanup(ctx)
	}
	if rep != nil {
		rep.Notes = append(rep.Notes, r.notes...)
	}
	return rep, err
}

func newRun(ctx context.Context, cfg Config, progress io.Writer) (*run, error) {
	host, secure, err := cfg.endpoint()
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, progress: progress, host: host, secure: secure}
	r.transport = newTransport(cfg, secure)
	if r.admin, err = newClient(cfg, host, secure, r.transport); err != nil {
		return nil, err
	}
	work, err := newClient(cfg, host, secure, &boundTransport{base: r.transport, ctx: ctx})
	if err != nil {
		return nil, err
	}
	r.work = minio.Core{Client: work}

	var tag [4]byte
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), cfg.Seed))
	for i := range tag {
		tag[i] = byte(rng.UintN(256))
	}
	r.prefix = fmt.Sprintf("%sbench-%x/", cfg.Prefix, tag)

	// Payloads are random bytes, so that a store that compresses or
	// deduplicates gains nothing, read from one buffer at an offset that
	// depends on the object.
	size := cfg.Size.Max
	if cfg.Workload == Multipart {
		size = min(size, cfg.PartSize)
	}
	r.spread = int(min(64<<10, max(size, 1)))
	r.data = make([]byte, min(size, 16<<20)+int64(r.spread))
	fill := rand.NewChaCha8([32]byte{byte(cfg.Seed), byte(cfg.Seed >> 8), 'b', 'e', 'n', 'c', 'h'})
	_, _ = fill.Read(r.data)

	r.opIndex = map[Workload]uint8{}
	addOp := func(w Workload) {
		if _, ok := r.opIndex[w]; !ok {
			r.opIndex[w] = uint8(len(r.ops))
			r.ops = append(r.ops, measure.OpInfo{Name: string(w), TTFB: w == Get})
		}
	}
	if cfg.Workload == Mixed {
		for _, e := range cfg.Mix {
			if e.Percent > 0 {
				addOp(e.Op)
			}
		}
	} else {
		addOp(cfg.Workload)
	}
	return r, nil
}

func (r *run) say(format string, args ...any) {
	fmt.Fprintf(r.progress, format+"\n", args...)
}

func (r *run) target() string {
	if r.secure {
		return "https://" + r.host
	}
	return "http://" + r.host
}

// preflight checks, before anything is written, that the endpoint answers,
// accepts the keys and has the bucket (creating it unless told not to).
func (r *run) preflight(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, r.cfg.PreflightTimeout)
	defer cancel()
	exists, err := r.admin.BucketExists(pctx, r.cfg.Bucket)
	if err != nil {
		return r.preflightError(ctx, err, "checking bucket "+strconv.Quote(r.cfg.Bucket))
	}
	if exists {
		return nil
	}
	if r.cfg.NoCreate {
		return fmt.Errorf("%w: bucket %q does not exist at %s, and --no-create was given", ErrNoBucket, r.cfg.Bucket, r.target())
	}
	if err := r.admin.MakeBucket(pctx, r.cfg.Bucket, minio.MakeBucketOptions{Region: r.cfg.Region}); err != nil {
		return r.preflightError(ctx, err, "creating bucket "+strconv.Quote(r.cfg.Bucket))
	}
	r.created = true
	note := fmt.Sprintf("created bucket %q (it did not exist)", r.cfg.Bucket)
	r.notes = append(r.notes, note)
	r.say("%s", note)
	return nil
}

func (r *run) preflightError(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w before the run started", ErrInterrupted)
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.StatusCode != 0 {
		if er.StatusCode == http.StatusForbidden || credentialCode(er.Code) {
			// A HEAD answer has no body to say why; listing the buckets
			// tells a bad key from a bucket the key may not use.
			lctx, cancel := context.WithTimeout(ctx, r.cfg.PreflightTimeout)
			defer cancel()
			_, lerr := r.admin.ListBuckets(lctx)
			var ler minio.ErrorResponse
			if errors.As(lerr, &ler) && (ler.StatusCode == http.StatusForbidden || credentialCode(ler.Code)) && ler.Code != "AccessDenied" {
				return fmt.Errorf("%w: %s refused access key %q: %s (%s)", ErrCredentials, r.target(), r.cfg.AccessKey, ler.Code, ler.Message)
			}
			if lerr == nil {
				return fmt.Errorf("%w: %s: access denied for access key %q (the bucket may belong to another account)", ErrCredentials, what, r.cfg.AccessKey)
			}
			return fmt.Errorf("%w: %s refused access key %q: %d %s", ErrCredentials, r.target(), r.cfg.AccessKey, er.StatusCode, er.Code)
		}
		hint := ""
		switch {
		case er.StatusCode == http.StatusMovedPermanently || er.Code == "AuthorizationHeaderMalformed" || er.Code == "PermanentRedirect":
			hint = " (check --region and --lookup)"
		case er.StatusCode == http.StatusBadRequest && !r.secure:
			hint = " (if the endpoint speaks HTTPS, use --tls)"
		}
		return fmt.Errorf("%w: %s at %s: %d %s: %s%s", ErrPreflight, what, r.target(), er.StatusCode, er.Code, er.Message, hint)
	}
	msg := err.Error()
	hint := ""
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: no answer from %s within %s", ErrUnreachable, r.target(), r.cfg.PreflightTimeout)
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		hint = " (the endpoint speaks plain HTTP: use http:// and no --tls)"
	case strings.Contains(msg, "malformed HTTP response") || strings.Contains(msg, "EOF") && !r.secure:
		hint = " (if the endpoint speaks HTTPS, use --tls or an https:// endpoint)"
	case strings.Contains(msg, "x509") || strings.Contains(msg, "certificate"):
		hint = " (use --insecure to accept a certificate that cannot be verified)"
	}
	return fmt.Errorf("%w: cannot reach %s: %v%s", ErrUnreachable, r.target(), err, hint)
}

func credentialCode(code string) bool {
	switch code {
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidSecurity":
		return true
	}
	return false
}

func (r *run) key(id int64) string {
	return r.prefix + fmt.Sprintf("%010d", id)
}

// size is the size of object id: fixed, or drawn log-uniformly between the
// bounds from a hash of the id, so that a reader knows it without a lookup.
func (r *run) size(id int64) int64 {
	lo, hi := r.cfg.Size.Min, r.cfg.Size.Max
	if lo == hi {
		return lo
	}
	u := float64(mix64(uint64(id)^r.cfg.Seed*0x9e3779b97f4a7c15)>>11) / (1 << 53)
	a, b := math.Log(float64(lo)+1), math.Log(float64(hi)+1)
	s := int64(math.Exp(a+u*(b-a))) - 1
	return min(max(s, lo), hi)
}

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// payload returns n bytes of random data that depend on id.
func (r *run) payload(id, n int64) io.Reader {
	off := int(mix64(uint64(id)) % uint64(r.spread))
	if int64(off)+n <= int64(len(r.data)) {
		return bytes.NewReader(r.data[off : int64(off)+n])
	}
	return &repeatReader{data: r.data, off: off, left: n}
}

// repeatReader reads left bytes from data, wrapping around.
type repeatReader struct {
	data []byte
	off  int
	left int64
}

func (rr *repeatReader) Read(p []byte) (int, error) {
	if rr.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > rr.left {
		p = p[:rr.left]
	}
	n := copy(p, rr.data[rr.off:])
	rr.off = (rr.off + n) % len(rr.data)
	rr.left -= int64(n)
	return n, nil
}

func (r *run) execute(ctx context.Context) (*report.Report, error) {
	if r.cfg.needsObjects() {
		if err := r.prepare(ctx); err != nil {
			return nil, err
		}
	}
	return r.measure(ctx)
}

// prepare writes the objects the workload reads, with every worker, and
// fails on the first error: figures over missing objects would mislead.
func (r *run) prepare(ctx context.Context) error {
	n := int64(r.cfg.objects())
	r.say("preparing %d objects of %s in %s/%s", n, r.cfg.Size, r.cfg.Bucket, r.prefix)
	var next, done atomic.Int64
	var once sync.Once
	var firstErr error
	failed := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < r.cfg.Concurrency; w++ {
		wg.Go(func() {
			for {
				id := next.Add(1) - 1
				if id >= n || ctx.Err() != nil {
					return
				}
				select {
				case <-failed:
					return
				default:
				}
				octx, cancel := context.WithTimeout(ctx, r.cfg.OpTimeout)
				size := r.size(id)
				_, err := r.work.PutObject(octx, r.cfg.Bucket, r.key(id), r.payload(id, size), size, "", "",
					minio.PutObjectOptions{DisableContentSha256: r.cfg.DisableSHA256})
				cancel()
				if err != nil {
					once.Do(func() { firstErr = err; close(failed) })
					return
				}
				done.Add(1)
			}
		})
	}
	stop := r.ticker(func(tty bool) string {
		return fmt.Sprintf("prepared %d/%d objects", done.Load(), n)
	})
	wg.Wait()
	stop()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w while preparing objects (%d of %d written)", ErrInterrupted, done.Load(), n)
	case firstErr != nil:
		kind, _ := classify(firstErr)
		return fmt.Errorf("%w: writing object %d of %d to %s/%s: %s: %v", ErrPrepare, done.Load()+1, n, r.cfg.Bucket, r.prefix, kind, firstErr)
	}
	r.prepared = n
	r.nextID.Store(n)
	if r.cfg.Workload == Mixed {
		r.pool = newPool(n)
	}
	return nil
}

// ticker prints line() to the progress writer every second on a terminal
// (rewriting one line) and every 5 seconds otherwise, until stop is
// called.
func (r *run) ticker(line func(tty bool) string) (stop func()) {
	tty := isTerminal(r.progress)
	every := 5 * time.Second
	if tty {
		every = time.Second
	}
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				if tty {
					fmt.Fprint(r.progress, "\r\x1b[K")
				}
				return
			case <-t.C:
				if tty {
					fmt.Fprint(r.progress, "\r\x1b[K"+line(true))
				} else {
					fmt.Fprintln(r.progress, line(false))
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// worker is what each goroutine of the measurement owns.
type worker struct {
	rec       *measure.Recorder
	rng       *rand.Rand
	buf       []byte
	listToken string
}

func (r *run) measure(ctx context.Context) (*report.Report, error) {
	cfg := r.cfg
	warmTime := cfg.warmupTime()
	warmOps := cfg.warmupOps()
	tickets := cfg.Ops + warmOps
	var issued atomic.Int64

	what := fmt.Sprintf("for %s", cfg.Duration)
	if cfg.Ops > 0 {
		what = fmt.Sprintf("for %d operations", cfg.Ops)
	}
	warmText := "no warm-up"
	if warmTime > 0 {
		warmText = "after a warm-up of " + warmTime.String()
	} else if warmOps > 0 {
		warmText = fmt.Sprintf("after a warm-up of %d operations", warmOps)
	}
	r.say("running %s against %s %s %s, concurrency %d", cfg.Workload, r.target(), what, warmText, cfg.Concurrency)

	origin := time.Now()
	warmEnd := origin.Add(warmTime)
	deadline := warmEnd.Add(cfg.Duration)
	capHint := 1024
	if cfg.Ops > 0 {
		capHint = int(min(tickets/int64(cfg.Concurrency)+1, 1<<20))
	}
	workers := make([]*worker, cfg.Concurrency)
	recs := make([]*measure.Recorder, cfg.Concurrency)
	for i := range workers {
		recs[i] = measure.NewRecorder(origin, capHint)
		workers[i] = &worker{
			rec: recs[i],
			rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			buf: make([]byte, 256<<10),
		}
	}

	var lastOps, lastBytes int64
	lastT := origin
	stop := r.ticker(func(tty bool) string {
		now := time.Now()
		ops, bytes, errs := r.liveOps.Load(), r.liveBytes.Load(), r.liveErrs.Load()
		secs := now.Sub(lastT).Seconds()
		mibps := float64(bytes-lastBytes) / units.MiB / secs
		opsps := float64(ops-lastOps) / secs
		lastOps, lastBytes, lastT = ops, bytes, now
		phase := "measuring"
		left := ""
		if cfg.Ops > 0 {
			n := issued.Load()
			if n <= warmOps {
				phase = "warm-up"
			}
			if opsps > 0 {
				left = units.Seconds(time.Duration(float64(max(tickets-n, 0)) / opsps * float64(time.Second)))
			}
		} else {
			if now.Before(warmEnd) {
				phase = "warm-up"
			}
			left = units.Seconds(max(deadline.Sub(now), 0))
		}
		s := fmt.Sprintf("%s %s  %s  ops %d  %s MiB/s  %s ops/s  errors %d",
			cfg.Workload, phase, units.Seconds(now.Sub(origin)), ops, units.FormatRate(mibps), units.FormatRate(opsps), errs)
		if left != "" {
			s += "  left " + left
		}
		return s
	})

	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil && !r.exhausted.Load() {
				var warm bool
				if cfg.Ops > 0 {
					t := issued.Add(1) - 1
					if t >= tickets {
						return
					}
					warm = t < warmOps
				} else {
					now := time.Now()
					if !now.Before(deadline) {
						return
					}
					warm = now.Before(warmEnd)
				}
				r.one(ctx, w, r.pick(w.rng), warm)
			}
		})
	}
	wg.Wait()
	stop()

	res := measure.Build(r.ops, recs...)
	rep := &report.Report{
		Schema:   report.Schema,
		Tool:     "basalt bench",
		Kind:     "s3",
		Workload: string(cfg.Workload),
		Label:    cfg.Label,
		Target:   r.target(),
		Started:  origin.UTC().Round(0).Truncate(time.Millisecond),
		Settings: r.settings(warmTime, warmOps),
		Host:     report.ThisHost(),
		Window:   res.Window,
		Warmup:   res.Warmup,
		Aborted:  res.Aborted,
		Total:    &res.Total,
		Ops:      res.Ops,
		Timeline: res.Timeline,
	}
	if rep.Label == "" {
		rep.Label = r.host
	}
	r.notes = append(r.notes, fmt.Sprintf("objects of the run are under %s/%s", cfg.Bucket, r.prefix))
	if r.exhausted.Load() {
		r.notes = append(r.notes, fmt.Sprintf("delete ran out of objects: all %d prepared objects were deleted after %s, so the run ended early (raise --objects)",
			r.prepared, units.Seconds(time.Duration(res.Window.EndNs))))
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
		return rep, fmt.Errorf("%w after %s: the report covers what was measured until then", ErrInterrupted, units.Seconds(time.Since(origin)))
	}
	return rep, nil
}

func (r *run) settings(warmTime time.Duration, warmOps int64) []report.Setting {
	cfg := r.cfg
	var s []report.Setting
	add := func(name, value string) { s = append(s, report.Setting{Name: name, Value: value}) }
	add("workload", string(cfg.Workload))
	add("bucket", cfg.Bucket)
	if cfg.Prefix != "" {
		add("prefix", cfg.Prefix)
	}
	add("concurrency", strconv.Itoa(cfg.Concurrency))
	add("size", cfg.Size.String())
	if cfg.Workload == Multipart {
		add("part-size", units.FormatSize(cfg.PartSize))
	}
	if cfg.needsObjects() {
		add("objects", strconv.Itoa(cfg.objects()))
	}
	if cfg.Ops > 0 {
		add("ops", strconv.FormatInt(cfg.Ops, 10))
		add("warmup", strconv.FormatInt(warmOps, 10)+" ops")
	} else {
		add("duration", cfg.Duration.String())
		add("warmup", warmTime.String())
	}
	if cfg.Workload == Mixed {
		add("mix", cfg.Mix.String())
	}
	if _, ok := r.opIndex[List]; ok {
		add("list-page", strconv.Itoa(cfg.ListPage))
	}
	add("lookup", cfg.Lookup)
	add("region", cfg.Region)
	add("tls", strconv.FormatBool(r.secure))
	if r.secure {
		add("payload", "unsigned (TLS)")
	} else if cfg.DisableSHA256 {
		add("payload", "unsigned")
	} else {
		add("payload", "signed in chunks (sha256)")
	}
	add("op-timeout", cfg.OpTimeout.String())
	add("seed", strconv.FormatUint(cfg.Seed, 10))
	return s
}

// pick chooses the next operation.
func (r *run) pick(rng *rand.Rand) Workload {
	if r.cfg.Workload != Mixed {
		return r.cfg.Workload
	}
	n := rng.IntN(100)
	for _, e := range r.cfg.Mix {
		if n < e.Percent {
			return e.Op
		}
		n -= e.Percent
	}
	return r.cfg.Mix[len(r.cfg.Mix)-1].Op
}

// one runs and records one operation.
func (r *run) one(ctx context.Context, w *worker, op Workload, warm bool) {
	octx, cancel := context.WithTimeout(ctx, r.cfg.OpTimeout)
	defer cancel()
	var (
		start, end time.Time
		ttfb       time.Duration
		nbytes     int64
		items      int
		err        error
	)
	bucket := r.cfg.Bucket
	switch op {
	case Put:
		id := r.nextID.Add(1) - 1
		size := r.size(id)
		body := r.payload(id, size)
		start = time.Now()
		_, err = r.work.PutObject(octx, bucket, r.key(id), body, size, "", "", minio.PutObjectOptions{DisableContentSha256: r.cfg.DisableSHA256})
		end = time.Now()
		if err == nil {
			nbytes = size
			if r.pool != nil {
				r.pool.add(id)
			}
		}
	case Get, Stat:
		id, ok := r.pickRead(w.rng)
		start = time.Now()
		if !ok {
			err = errNoObject
			end = start
			break
		}
		if op == Get {
			ttfb, nbytes, err = r.get(octx, r.key(id), r.size(id), w.buf, start)
		} else {
			_, err = r.work.StatObject(octx, bucket, r.key(id), minio.StatObjectOptions{})
		}
		end = time.Now()
		if r.pool != nil {
			r.pool.release(id)
		}
	case Delete:
		id, ok := r.pickDelete(w.rng)
		if !ok && r.pool == nil {
			r.exhausted.Store(true)
			return
		}
		start = time.Now()
		if !ok {
			err = errNoObject
			end = start
			break
		}
		err = r.work.RemoveObject(octx, bucket, r.key(id), minio.RemoveObjectOptions{})
		end = time.Now()
	case List:
		start = time.Now()
		var res minio.ListBucketV2Result
		res, err = r.work.ListObjectsV2(bucket, r.prefix, "", w.listToken, "", r.cfg.ListPage)
		end = time.Now()
		if err == nil {
			items = len(res.Contents)
			w.listToken = ""
			if res.IsTruncated {
				w.listToken = res.NextContinuationToken
			}
		}
	case Multipart:
		id := r.nextID.Add(1) - 1
		size := r.size(id)
		start = time.Now()
		err = r.multipart(octx, ctx, r.key(id), id, size)
		end = time.Now()
		if err == nil {
			nbytes = size
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			w.rec.Abort()
			return
		}
		kind, example := classify(err)
		w.rec.Fail(r.opIndex[op], start, end, warm, kind, example)
		r.liveErrs.Add(1)
		return
	}
	w.rec.Add(r.opIndex[op], start, end, ttfb, nbytes, items, warm)
	r.liveOps.Add(1)
	r.liveBytes.Add(nbytes)
}

// get reads an object to the end and returns the time to its first body
// byte and its length, which must be want.
func (r *run) get(ctx context.Context, key string, want int64, buf []byte, start time.Time) (ttfb time.Duration, n int64, err error) {
	body, _, _, err := r.work.GetObject(ctx, r.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return 0, 0, err
	}
	defer body.Close()
	first := true
	for {
		k, rerr := body.Read(buf)
		if k > 0 && first {
			ttfb = time.Since(start)
			first = false
		}
		n += int64(k)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return ttfb, n, rerr
		}
	}
	if first {
		ttfb = time.Since(start)
	}
	if n != want {
		return ttfb, n, fmt.Errorf("%w: read %d bytes of %d", errShortBody, n, want)
	}
	return ttfb, n, nil
}

// multipart uploads one object in parts of Config.PartSize, one after the
// other, and aborts the upload if a step fails.
func (r *run) multipart(octx, ctx context.Context, key string, id, size int64) error {
	bucket := r.cfg.Bucket
	uploadID, err := r.work.NewMultipartUpload(octx, bucket, key, minio.PutObjectOptions{})
	if err != nil {
		return err
	}
	var parts []minio.CompletePart
	for off, num := int64(0), 1; off < size; off, num = off+r.cfg.PartSize, num+1 {
		n := min(r.cfg.PartSize, size-off)
		var p minio.ObjectPart
		p, err = r.work.PutObjectPart(octx, bucket, key, uploadID, num, r.payload(id+int64(num), n), n,
			minio.PutObjectPartOptions{DisableContentSha256: r.cfg.DisableSHA256})
		if err != nil {
			break
		}
		parts = append(parts, minio.CompletePart{PartNumber: num, ETag: p.ETag})
	}
	if err == nil {
		_, err = r.work.CompleteMultipartUpload(octx, bucket, key, uploadID, parts, minio.PutObjectOptions{})
		if err == nil {
			return nil
		}
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = minio.Core{Client: r.admin}.AbortMultipartUpload(actx, bucket, key, uploadID)
	return err
}

func (r *run) pickRead(rng *rand.Rand) (int64, bool) {
	if r.pool != nil {
		return r.pool.acquire(rng)
	}
	return rng.Int64N(r.prepared), true
}

func (r *run) pickDelete(rng *rand.Rand) (int64, bool) {
	if r.pool != nil {
		return r.pool.take(rng)
	}
	id := r.nextDel.Add(1) - 1
	return id, id < r.prepared
}

// cleanup removes every object under the run's prefix, and the bucket if
// the run created it. It runs even after an interruption, on a context of
// its own.
func (r *run) cleanup(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	r.say("cleaning up %s/%s", r.cfg.Bucket, r.prefix)
	objects := r.admin.ListObjects(cctx, r.cfg.Bucket, minio.ListObjectsOptions{Prefix: r.prefix, Recursive: true})
	var removed, failed atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < r.cfg.Concurrency; w++ {
		wg.Go(func() {
			for obj := range objects {
				err := obj.Err
				if err == nil {
					err = r.admin.RemoveObject(cctx, r.cfg.Bucket, obj.Key, minio.RemoveObjectOptions{})
				}
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				removed.Add(1)
			}
		})
	}
	wg.Wait()
	note := fmt.Sprintf("cleanup: removed %d objects", removed.Load())
	if failed.Load() > 0 {
		note += fmt.Sprintf("; %d failures, the first: %v", failed.Load(), firstErr)
	}
	if r.created {
		if err := r.admin.RemoveBucket(cctx, r.cfg.Bucket); err != nil {
			note += fmt.Sprintf("; could not remove bucket %q: %v", r.cfg.Bucket, err)
		} else {
			note += fmt.Sprintf(" and bucket %q, which the run had created", r.cfg.Bucket)
		}
	}
	r.notes = append(r.notes, note)
	r.say("%s", note)
}

// pool holds the live objects of a mixed workload. An object being read
// is not deleted until its readers are done, so that no read fails for an
// object the benchmark itself removed.
type pool struct {
	mu   sync.Mutex
	ids  []int64
	busy map[int64]int32
}

func newPool(n int64) *pool {
	p := &pool{ids: make([]int64, n), busy: map[int64]int32{}}
	for i := range p.ids {
		p.ids[i] = int64(i)
	}
	return p
}

func (p *pool) add(id int64) {
	p.mu.Lock()
	p.ids = append(p.ids, id)
	p.mu.Unlock()
}

func (p *pool) acquire(rng *rand.Rand) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ids) == 0 {
		return 0, false
	}
	id := p.ids[rng.IntN(len(p.ids))]
	p.busy[id]++
	return id, true
}

func (p *pool) release(id int64) {
	p.mu.Lock()
	if p.busy[id]--; p.busy[id] <= 0 {
		delete(p.busy, id)
	}
	p.mu.Unlock()
}

// take removes an object that nobody reads from the pool, for deletion.
func (p *pool) take(rng *rand.Rand) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ids) == 0 {
		return 0, false
	}
	// Start at a random place and take the first object nobody reads:
	// with fewer readers than objects there always is one.
	start := rng.IntN(len(p.ids))
	for k := range len(p.ids) {
		i := (start + k) % len(p.ids)
		id := p.ids[i]
		if p.busy[id] > 0 {
			continue
		}
		last := len(p.ids) - 1
		p.ids[i] = p.ids[last]
		p.ids = p.ids[:last]
		return id, true
	}
	return 0, false
}
