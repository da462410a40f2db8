package shardapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/basaltstore/basalt/objectd/disk"
)

// Options tune a remote volume.
type Options struct {
	// Timeout bounds each non-streaming call (default 30 s). A shard
	// upload is not bounded as a whole.
	Timeout time.Duration
	// DialTimeout bounds connecting to the node (default 2 s).
	DialTimeout time.Duration
	// RetryAfter is how long a volume stays down after a transport
	// failure before calls go through again (default 2 s).
	RetryAfter time.Duration
	// HoldDown is how long a node must have been failing before Failed
	// reports it down (default 0: at the first failure); a refused
	// connection (no process listening) counts as down at once. A node cut off
	// from the cluster stops serving within a shorter time (it loses
	// contact with the Raft leader), so a hold-down longer than that keeps
	// writers from putting on hand-offs what a cut-off node could still
	// read the older version of.
	HoldDown time.Duration
	// PageSize is how many keys an iterator fetches at a time (default
	// 256, at most 1000).
	PageSize int
	// Client, if set, is shared by the volumes dialled with it (one
	// connection pool per node is plenty); see NewClient. Otherwise
	// each volume makes its own.
	Client *http.Client
	// LocalAddr, when set, is the address connections are made from (a
	// node talks from the address it is known by).
	LocalAddr *net.TCPAddr
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 2 * time.Second
	}
	if o.PageSize <= 0 {
		o.PageSize = defaultPage
	}
	o.PageSize = min(o.PageSize, maxPage)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Client == nil {
		o.Client = NewClient(o)
	}
	return o
}

// NewClient returns an HTTP client for the shard API: keep-alive
// connections, many per node (shard I/O is concurrent), and
// opts.DialTimeout for connecting.
func NewClient(opts Options) *http.Client {
	dt := opts.DialTimeout
	if dt <= 0 {
		dt = 2 * time.Second
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: dt, KeepAlive: 30 * time.Second, LocalAddr: localAddr(opts.LocalAddr)}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ExpectContinueTimeout: 0,
	}}
}

// localAddr is a as a net.Addr: nil stays an untyped nil, which the
// dialer reads as "any".
func localAddr(a *net.TCPAddr) net.Addr {
	if a == nil {
		return nil
	}
	return a
}

// Volume is a disk of another node reached over the shard API. It is
// safe for concurrent use.
type Volume struct {
	base    *url.URL
	baseErr error
	diskID  string
	name    string
	secret  []byte
	opts    Options
	hc      *http.Client

	lastFail  atomic.Int64 // unix ns of the last transport failure; 0: none
	firstFail atomic.Int64 // unix ns of the first failure of this outage; 0: none
	healing   atomic.Int32 // 0 unknown, 1 no, 2 yes
}

var _ disk.Volume = (*Volume)(nil)

// Dial returns the volume diskID (as the serving node names it) served at baseURL (e.g.
// "http://10.0.0.2:7001"). name is what Root returns. Dial makes no call;
// a malformed baseURL makes every call fail.
func Dial(baseURL string, diskID string, name string, secret []byte, opts Options) *Volume {
	opts = opts.withDefaults()
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = fmt.Errorf("shardapi: base URL %q: want http(s)://host:port", baseURL)
	}
	return &Volume{
		base: u, baseErr: err, diskID: diskID, name: name,
		secret: append([]byte(nil), secret...), opts: opts, hc: opts.Client,
	}
}

// ID is the remote disk's id, as given to Dial.
func (v *Volume) ID() string { return v.diskID }

// Root is the name given to Dial.
func (v *Volume) Root() string { return v.name }

// Failed reports whether the node failed to answer less than RetryAfter
// ago, after failing for at least HoldDown; calls fail at once
// (ErrUnreachable) meanwhile.
func (v *Volume) Failed() bool {
	lf, ff := v.lastFail.Load(), v.firstFail.Load()
	now := v.opts.Now().UnixNano()
	return lf != 0 && ff != 0 && now-ff >= int64(v.opts.HoldDown) && now-lf < int64(v.opts.RetryAfter)
}

// Suspect reports whether the last call failed for want of an answer and
// none answered since: the volume is Failed, or will be once HoldDown has
// passed.
func (v *Volume) Suspect() bool { return v.lastFail.Load() != 0 }

// NoteIO feeds the outcome of an I/O into Failed: an error that says the
// node is unreachable (or its disk closed) marks the volume down. It
// always returns false: the node that has the disk decides about taking
// it out of service.
func (v *Volume) NoteIO(err error) bool {
	if errors.Is(err, ErrUnreachable) || errors.Is(err, disk.ErrClosed) {
		v.markDown(err)
	}
	return false
}

// Reinstate clears the down state.
func (v *Volume) Reinstate() {
	v.lastFail.Store(0)
	v.firstFail.Store(0)
}

func (v *Volume) markDown(err error) {
	now := v.opts.Now().UnixNano()
	first := now
	if errors.Is(err, syscall.ECONNREFUSED) {
		// Nothing listens: the node's process is gone and serves nobody,
		// so there is no reason to hold off (see Options.HoldDown).
		first = now - int64(v.opts.HoldDown)
	}
	v.firstFail.CompareAndSwap(0, first)
	if v.lastFail.Swap(now) == 0 {
		v.opts.Logger.Warn("remote disk down", "disk", v.name, "id", v.diskID, "err", err)
	}
}

func (v *Volume) markUp() {
	v.firstFail.Store(0)
	if v.lastFail.Swap(0) != 0 {
		v.opts.Logger.Info("remote disk back", "disk", v.name, "id", v.diskID)
	}
}

// Close releases idle connections.
func (v *Volume) Close() error {
	v.hc.CloseIdleConnections()
	return nil
}

// url builds the URL of a call on this disk: rest is already escaped.
func (v *Volume) url(rest, rawQuery string) string {
	s := v.base.String() + pathPrefix + url.PathEscape(v.diskID) + "/" + rest
	if rawQuery != "" {
		s += "?" + rawQuery
	}
	return s
}

// newRequest builds and signs a request.
func (v *Volume) newRequest(ctx context.Context, method, rest, rawQuery string, body io.Reader) (*http.Request, error) {
	return v.request(ctx, method, rest, rawQuery, body, false)
}

// request builds a signed request; unless probe is set, it fails at once
// while the volume is down. A probe (the health check) goes through, so
// that a node that is back is seen at once.
func (v *Volume) request(ctx context.Context, method, rest, rawQuery string, body io.Reader, probe bool) (*http.Request, error) {
	if v.baseErr != nil {
		return nil, v.baseErr
	}
	if !probe && v.Failed() {
		return nil, fmt.Errorf("%w: %s is down, retried after %v", ErrUnreachable, v.name, v.opts.RetryAfter)
	}
	req, err := http.NewRequestWithContext(ctx, method, v.url(rest, rawQuery), body)
	if err != nil {
		return nil, fmt.Errorf("shardapi: build request: %w", err)
	}
	date := strconv.FormatInt(v.opts.Now().UnixNano(), 10)
	req.Header.Set(hdrDate, date)
	req.Header.Set(hdrAuth, sign(v.secret, method, req.URL.EscapedPath(), req.URL.RawQuery, date))
	return req, nil
}

// send runs req and classifies transport failures and answers: it
// returns the response when its status is one of ok, else an error
// (and the body is closed).
func (v *Volume) send(req *http.Request, ok ...int) (*http.Response, error) {
	resp, err := v.hc.Do(req)
	if err == nil {
		v.noteHealing(resp)
	}
	if err != nil {
		if errors.Is(req.Context().Err(), context.Canceled) {
			return nil, fmt.Errorf("shardapi: %s %s: %w", req.Method, v.name, err)
		}
		err = fmt.Errorf("%w: %s %s: %w", ErrUnreachable, req.Method, v.name, err)
		v.markDown(err)
		return nil, err
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			v.markUp()
			return resp, nil
		}
	}
	defer resp.Body.Close()
	return nil, v.answerError(resp)
}

// answerError maps an error answer to an error, marking the volume down
// when the node says the disk is closed.
func (v *Volume) answerError(resp *http.Response) error {
	var body errorBody
	if resp.Request.Method != http.MethodHead {
		_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	}
	code := resp.Header.Get(hdrError)
	msg := body.Error
	if msg == "" {
		msg = resp.Status
	}
	var err error
	switch {
	case code == codeClosed:
		err = fmt.Errorf("%w: %s: %s", disk.ErrClosed, v.name, msg)
		v.markDown(err)
		return err
	case code == codeNoSuchDisk:
		err = fmt.Errorf("%w: %s on %s", ErrNoSuchDisk, v.diskID, v.name)
	case code == codeNotFound || resp.StatusCode == http.StatusNotFound:
		err = fmt.Errorf("%w: %s: %s", disk.ErrNotFound, v.name, msg)
	case code == codeCorrupt:
		err = fmt.Errorf("%w: %s: %s", disk.ErrCorrupt, v.name, msg)
	case code == codeBadDataID:
		err = fmt.Errorf("%w: %s", disk.ErrBadDataID, msg)
	case resp.StatusCode == http.StatusUnauthorized:
		err = fmt.Errorf("%w: %s: %s", ErrUnauthorized, v.name, msg)
	case code == codeConflict:
		err = errConflict
	case resp.StatusCode >= 500:
		err = fmt.Errorf("%w: %s: %s", ErrServer, v.name, msg)
	default:
		err = fmt.Errorf("%w: %s: %s", ErrProtocol, v.name, msg)
	}
	v.markUp() // the node answered
	return err
}

// call is a non-streaming call bounded by Options.Timeout. decode, if
// set, reads the successful answer.
func (v *Volume) call(method, rest, rawQuery string, body io.Reader, ok []int, decode func(*http.Response) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), v.opts.Timeout)
	defer cancel()
	req, err := v.newRequest(ctx, method, rest, rawQuery, body)
	if err != nil {
		return err
	}
	resp, err := v.send(req, ok...)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if decode == nil {
		return nil
	}
	if err := decode(resp); err != nil {
		if ctx.Err() != nil || isNetErr(err) {
			err = fmt.Errorf("%w: %s %s: reading answer: %w", ErrUnreachable, method, v.name, err)
			v.markDown(err)
		}
		return err
	}
	return nil
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}

func jsonBody(x any) io.Reader {
	b, _ := json.Marshal(x) // plain structs of byte slices and numbers
	return bytes.NewReader(b)
}

// Healthy asks the node whether the disk answers, and refreshes the
// cached Healing state.
func (v *Volume) Healthy() error {
	ctx, cancel := context.WithTimeout(context.Background(), v.opts.Timeout)
	defer cancel()
	req, err := v.request(ctx, http.MethodGet, "health", "", nil, true)
	if err != nil {
		return err
	}
	resp, err := v.hc.Do(req)
	if err != nil {
		err = fmt.Errorf("%w: health of %s: %w", ErrUnreachable, v.name, err)
		v.markDown(err)
		return err
	}
	defer resp.Body.Close()
	if h, err := strconv.ParseBool(resp.Header.Get(hdrHealing)); err == nil {
		v.setHealingCache(h)
	}
	if resp.StatusCode == http.StatusNoContent {
		v.markUp()
		return nil
	}
	return v.answerError(resp)
}

// noteHealing refreshes the cached Healing state from an answer that
// carries it (every answer about a disk the node has).
func (v *Volume) noteHealing(resp *http.Response) {
	if h, err := strconv.ParseBool(resp.Header.Get(hdrHealing)); err == nil {
		v.setHealingCache(h)
	}
}

func (v *Volume) setHealingCache(on bool) {
	if on {
		v.healing.Store(2)
	} else {
		v.healing.Store(1)
	}
}

// Healing reports the last known healing state (from health checks and
// SetHealing). Before any is known it asks the node, and if that fails
// it answers true: the disk's "not found" answers should not count
// while nothing is known about it.
func (v *Volume) Healing() bool {
	switch v.healing.Load() {
	case 1:
		return false
	case 2:
		return true
	}
	var on bool
	err := v.call(http.MethodGet, "healing", "", nil, []int{http.StatusOK}, func(resp *http.Response) error {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16))
		if err != nil {
			return err
		}
		on, err = strconv.ParseBool(strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("%w: healing %q", ErrProtocol, b)
		}
		return nil
	})
	if err != nil {
		v.opts.Logger.Debug("remote disk healing state unknown", "disk", v.name, "err", err)
		return true
	}
	v.setHealingCache(on)
	return on
}

// SetHealing sets or clears the disk's healing marker on the node.
func (v *Volume) SetHealing(on bool) error {
	err := v.call(http.MethodPut, "healing", "", strings.NewReader(strconv.FormatBool(on)), []int{http.StatusNoContent}, nil)
	if err == nil {
		v.setHealingCache(on)
	}
	return err
}
