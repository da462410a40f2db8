package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

// Config is what a Server needs.
type Config struct {
	// Store is the object layer every operation goes to.
	Store *objectd.Store
	// Verifier authenticates every request.
	Verifier *sigv4.Verifier
	// Region is reported by GetBucketLocation and HeadBucket and is the only
	// LocationConstraint CreateBucket accepts. Default "us-east-1".
	Region string
	// Domains are the endpoint's host names for virtual-host-style
	// addressing: Host "b.<domain>" addresses bucket b.
	Domains []string
	// Logger receives one record per failed request (debug level for
	// client errors, error level for server errors). Default: discard.
	Logger *slog.Logger
	// Now is the clock for the Date header and for the expiry of POST
	// policies; nil means time.Now.
	Now func() time.Time
	// SpoolDir is where the file of a browser-based POST upload is kept
	// while it arrives (its size is only known at its end, and the store
	// needs it first). Default os.TempDir().
	SpoolDir string
	// Catalog, when set, holds the buckets' owners: each access key then
	// acts for its project (see tenancy.go). Nil: one tenant.
	Catalog *catalog.Catalog
	// Principal resolves a verified access key to who it acts as; needed
	// with Catalog.
	Principal func(accessKey string) (identity.Principal, error)
	// MasterKey (32 bytes) wraps the data keys of SSE-S3 objects (see
	// sse.go). Nil: SSE-S3 requests and bucket default encryption are
	// refused (501 NotImplemented); SSE-C works without it.
	MasterKey []byte
}

// Errors of New.
var (
	ErrNoStore    = errors.New("s3: no store configured")
	ErrNoVerifier = errors.New("s3: no verifier configured")
)

// Server answers S3 requests. It holds no per-request state and is safe for
// concurrent use.
type Server struct {
	store     *objectd.Store
	verifier  *sigv4.Verifier
	region    string
	domains   []string
	log       *slog.Logger
	now       func() time.Time
	spoolDir  string
	catalog   *catalog.Catalog
	principal func(accessKey string) (identity.Principal, error)
	masterKey []byte
}

// New makes a Server from cfg, filling in defaults.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, ErrNoStore
	}
	if cfg.Verifier == nil {
		return nil, ErrNoVerifier
	}
	if cfg.MasterKey != nil && len(cfg.MasterKey) != MasterKeySize {
		return nil, ErrBadMasterKey
	}
	s := &Server{
		masterKey: cfg.MasterKey,
		store:     cfg.Store,
		verifier:  cfg.Verifier,
		region:    cfg.Region,
		domains:   cfg.Domains,
		log:       cfg.Logger,
		now:       cfg.Now,
		catalog:   cfg.Catalog,
		principal: cfg.Principal,
		spoolDir:  cfg.SpoolDir,
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.spoolDir == "" {
		s.spoolDir = os.TempDir()
	}
	return s, nil
}

// ServeHTTP answers one S3 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.Serve(w, r) }

// Serve answers one S3 request and returns the name of the S3 operation it
// was (for instance "PutObject"), for metrics.
func (s *Server) Serve(w http.ResponseWriter, r *http.Request) string {
	return s.serve(w, r, nil)
}

// SlowDown answers r with S3's SlowDown (503) without serving it: the
// server has as many requests in flight as it takes. It returns the name
// of the S3 operation r was.
func (s *Server) SlowDown(w http.ResponseWriter, r *http.Request) string {
	return s.serve(w, r, ErrSlowDown)
}

// serve answers r, or refuses it with refuse when not nil.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, refuse error) string {
	rw := &responseWriter{ResponseWriter: w}
	q := r.URL.Query()
	t := resolve(r.Method, r.URL.Path, r.Host, q, r.Header, s.domains)
	req := &request{
		s: s, w: rw, r: r, ctx: r.Context(), query: q, target: t,
		id: newRequestID(),
	}
	if r.Body != nil && r.Body != http.NoBody {
		// A shallow copy, so that the caller's request keeps its body.
		rc := *r
		req.watch = &bodyWatch{ReadCloser: r.Body}
		rc.Body = req.watch
		req.r = &rc
	}
	h := rw.Header()
	h.Set("X-Amz-Request-Id", req.id)
	h.Set("X-Amz-Id-2", newHostID())
	h.Set("Server", "Basalt")
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))

	// The request body is left for net/http to close after the answer. A
	// failure before the body's end answers with "Connection: close" (see
	// fail), so that net/http neither reads the rest before answering nor
	// takes it for the next request.
	if refuse != nil {
		req.fail(refuse)
		return t.API
	}
	if err := req.run(); err != nil {
		req.fail(err)
	}
	return t.API
}

// bodyWatch notes whether the request body was read to its end.
type bodyWatch struct {
	io.ReadCloser
	eof bool
}

func (b *bodyWatch) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// unreadBody reports whether the request has a body not read to its end.
func (q *request) unreadBody() bool {
	return q.watch != nil && !q.watch.eof && q.r.ContentLength != 0
}

// request is the state of one request while it is handled.
type request struct {
	s      *Server
	w      *responseWriter
	r      *http.Request
	ctx    context.Context
	query  url.Values
	target target
	id     string
	auth   *sigv4.Result
	body   io.ReadCloser
	watch  *bodyWatch // the raw request body; nil when there is none
	who    identity.Principal
	access *accessState // what authorize learned (access.go)
}

func (q *request) run() error {
	if q.target.API == apiPreflight {
		return q.preflight() // unauthenticated, as browsers send it (cors.go)
	}
	q.corsHeaders()
	if q.target.API == apiUnknown {
		return ErrMethodNotAllowed
	}
	res, err := q.s.verifier.Verify(q.r)
	if err != nil {
		return err
	}
	q.auth = res
	q.body = res.Body
	if q.target.API == apiPostObject {
		// A browser upload is authenticated by the signed policy in its
		// form, not by the request's own signature.
		if !validBucketName(q.target.Bucket) {
			return ErrInvalidBucketName
		}
		return q.postObject()
	}
	if q.target.API == apiNotImplemented {
		if res.Anonymous {
			return ErrAccessDenied
		}
		return ErrNotImplemented
	}
	// Anonymous requests get what the bucket's policy and ACLs grant
	// everyone (authorize).
	if err := q.authorize(); err != nil {
		return err
	}
	if q.target.Bucket != "" && !validBucketName(q.target.Bucket) {
		return ErrInvalidBucketName
	}
	if q.target.Key != "" {
		if err := checkKey(q.target.Key); err != nil {
			return err
		}
		if _, err := q.versionID(); err != nil { // versioning.go
			return err
		}
	}
	return q.concealMissing(q.dispatch()) // access.go
}

// fail writes err as an S3 error response, unless the response has started.
func (q *request) fail(err error) {
	ae := toAPIError(err)
	level := slog.LevelDebug
	if ae.Status >= 500 && ae.Status != 501 && ae != ErrSlowDown {
		// Refusals for load are counted (requests_refused_total), not
		// logged one by one when they come by the hundred.
		level = slog.LevelError
	}
	q.s.log.Log(q.ctx, level, "s3 request failed", "api", q.target.API, "bucket", q.target.Bucket,
		"key", q.target.Key, "request_id", q.id, "code", ae.Code, "status", ae.Status, "err", err)
	if q.w.started {
		return
	}
	h := q.w.Header()
	for _, k := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "Content-Type"} {
		h.Del(k)
	}
	if q.unreadBody() {
		// The rest of a refused body is not worth reading, nor safe to
		// leave on a connection that carries on.
		h.Set("Connection", "close")
	}
	if ae.Status == http.StatusRequestedRangeNotSatisfiable && ae.Code == ErrInvalidRange.Code {
		if size, ok := q.rangeSize(); ok {
			h.Set("Content-Range", "bytes */"+itoa(size))
		}
	}
	if q.r.Method == http.MethodHead || ae.Status == http.StatusNotModified {
		q.w.WriteHeader(ae.Status)
		return
	}
	doc := errorDoc{
		Code: ae.Code, Message: ae.Message, Resource: q.r.URL.Path, RequestID: q.id,
		HostID: q.w.Header().Get("X-Amz-Id-2"),
	}
	switch ae.Code {
	case "NoSuchKey", "KeyTooLongError":
		doc.Key = q.target.Key
	case "NoSuchBucket", "BucketNotEmpty", "BucketAlreadyOwnedByYou", "InvalidBucketName":
		doc.BucketName = q.target.Bucket
	case "NoSuchUpload":
		doc.UploadID = q.query.Get("uploadId")
	}
	q.writeXML(ae.Status, doc)
}

// rangeSize is the object size remembered for a 416 answer.
func (q *request) rangeSize() (int64, bool) {
	if q.w.objectSize < 0 {
		return 0, false
	}
	return q.w.objectSize, q.w.haveSize
}

// writeXML writes v as an XML document with the given status.
func (q *request) writeXML(status int, v any) {
	if a, ok := v.(xmlAppender); ok {
		out := a.appendXML(append(make([]byte, 0, 64<<10), xml.Header...))
		h := q.w.Header()
		h.Set("Content-Type", "application/xml")
		h.Set("Content-Length", itoa(int64(len(out))))
		q.w.WriteHeader(status)
		if q.r.Method != http.MethodHead {
			q.w.Write(out)
		}
		return
	}
	b, err := xml.Marshal(v)
	if err != nil {
		q.s.log.Error("s3: encoding response", "err", err)
		status = http.StatusInternalServerError
		b, _ = xml.Marshal(errorDoc{Code: ErrInternalError.Code, Message: ErrInternalError.Message, RequestID: q.id})
	}
	if _, ok := v.(errorDoc); ok {
		// An error document has no attributes, so quotes need no escaping
		// and S3 writes them as they are: POST policy messages quote the
		// failed condition, and clients look for it.
		b = bytes.ReplaceAll(b, []byte("&#34;"), []byte(`"`))
	}
	out := make([]byte, 0, len(xml.Header)+len(b))
	out = append(out, xml.Header...)
	out = append(out, b...)
	h := q.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", itoa(int64(len(out))))
	q.w.WriteHeader(status)
	if q.r.Method != http.MethodHead {
		q.w.Write(out)
	}
}

// writeEmpty answers with a status and no body.
func (q *request) writeEmpty(status int) {
	if status != http.StatusNoContent && status != http.StatusNotModified {
		q.w.Header().Set("Content-Length", "0")
	}
	q.w.WriteHeader(status)
}

// responseWriter remembers whether the response has started, so that a
// late error is not written into a body.
type responseWriter struct {
	http.ResponseWriter
	started    bool
	haveSize   bool
	objectSize int64
}

func (w *responseWriter) WriteHeader(code int) {
	w.started = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(p)
}

// Flush passes through to the underlying writer when it can flush.
func (w *responseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newRequestID returns 16 uppercase hex digits, as S3's request IDs.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// newHostID returns a random x-amz-id-2 value.
func newHostID() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
