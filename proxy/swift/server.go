package swift

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
)

// Tokens validates the tokens of requests (X-Auth-Token).
type Tokens interface {
	Validate(ctx context.Context, token string) (identity.Principal, error)
}

// Config is what a Server needs.
type Config struct {
	// Store holds the objects: a container is a bucket, an object a key.
	Store *objectd.Store
	// Catalog holds the containers (bucket records owned by a project,
	// with their metadata) and the account metadata (Project.Meta).
	Catalog *catalog.Catalog
	// Tokens validates X-Auth-Token.
	Tokens Tokens
	// Now is the clock of TempURL expiry and X-Delete-At; nil = time.Now.
	Now func() time.Time
	// Logger for server errors; nil = discard.
	Logger *slog.Logger
	// SpoolDir is where a chunked upload larger than SpoolMemory is kept
	// until its size is known; "" = os.TempDir().
	SpoolDir string
}

// Limits the server enforces (and publishes at /info).
const (
	MaxObjectNameLength    = objectd.MaxKeyLength
	MaxContainerNameLength = 63
	MaxMetaNameLength      = 128
	MaxMetaValueLength     = 256
	MaxMetaCount           = 90
	MaxMetaOverallSize     = objectd.MaxUserMetaBytes
	ListingLimit           = 10000
	MaxManifestSegments    = 1000
	MaxManifestSize        = 8 << 20
	MaxSLODepth            = 10
	MaxDeletesPerRequest   = 10000
	MaxFailedDeletes       = 1000
	// SpoolMemory is how much of a chunked upload is kept in memory
	// before it is spooled to a file.
	SpoolMemory = 8 << 20
	// maxPlannedSegments bounds the segments one read of a large object
	// may expand to (nested manifests multiply).
	maxPlannedSegments = 100000
)

// limits are the values the server works with; tests lower some.
type limits struct {
	maxObjectSize   int64
	maxManifestSize int64
	maxSegments     int
	maxDeletes      int
	spoolMemory     int64
}

// Server answers the Swift API. Build it with New.
//
// Concurrency: a Server is immutable once built and safe for concurrent
// use; every request works on its own state.
type Server struct {
	store  *objectd.Store
	cat    *catalog.Catalog
	tokens Tokens
	now    func() time.Time
	log    *slog.Logger
	spool  string
	lim    limits
}

// New builds a Server from cfg.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Store == nil:
		return nil, ErrNoStore
	case cfg.Catalog == nil:
		return nil, ErrNoCatalog
	case cfg.Tokens == nil:
		return nil, ErrNoTokens
	}
	s := &Server{
		store: cfg.Store, cat: cfg.Catalog, tokens: cfg.Tokens, now: cfg.Now, log: cfg.Logger, spool: cfg.SpoolDir,
		lim: limits{
			maxObjectSize:   objectd.MaxObjectSize,
			maxManifestSize: MaxManifestSize,
			maxSegments:     MaxManifestSegments,
			maxDeletes:      MaxDeletesPerRequest,
			spoolMemory:     SpoolMemory,
		},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// request is one request in progress.
type request struct {
	s       *Server
	w       *respWriter
	r       *http.Request
	ctx     context.Context
	query   url.Values
	tx      string
	version string // "v1" or "v1.0"
	acctSeg string // "AUTH_<project>" as in the path
	acct    string // project ID
	cont    string
	obj     string
	caller  caller
	temp    *tempInfo // set when a TempURL authorized the request
}

// respWriter remembers whether the status is out, and lets a TempURL
// request adjust the headers just before it is.
type respWriter struct {
	http.ResponseWriter
	wrote    bool
	status   int
	onHeader func(status int, h http.Header)
}

func (w *respWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote, w.status = true, status
	if w.onHeader != nil {
		w.onHeader(status, w.Header())
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// newTransID returns a transaction id in Swift's form: "tx", 21 hex
// digits, "-", the time in 10 hex digits.
func newTransID(now time.Time) string {
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	return "tx" + hex.EncodeToString(b)[:21] + fmt.Sprintf("-%010x", now.Unix())
}

// ServeHTTP answers /info and /v1/AUTH_<project>[/container[/object]].
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := s.newRequest(w, r)
	if err := q.serve(); err != nil {
		q.fail(err)
	}
}

// SlowDown answers r with 503 and Retry-After without serving it: the
// server has as many requests in flight as it takes.
func (s *Server) SlowDown(w http.ResponseWriter, r *http.Request) {
	q := s.newRequest(w, r)
	q.w.Header().Set("Retry-After", "1")
	q.sendBody(http.StatusServiceUnavailable, "text/html; charset=UTF-8", []byte(standardPage(http.StatusServiceUnavailable)))
}

func (s *Server) newRequest(w http.ResponseWriter, r *http.Request) *request {
	tx := newTransID(s.now())
	rw := &respWriter{ResponseWriter: w}
	rw.Header().Set("X-Trans-Id", tx)
	rw.Header().Set("X-Openstack-Request-Id", tx)
	return &request{s: s, w: rw, r: r, ctx: r.Context(), tx: tx, query: r.URL.Query()}
}

func (q *request) serve() error {
	p := q.r.URL.Path
	if p == "/info" {
		return q.info()
	}
	switch {
	case strings.HasPrefix(p, "/v1/"):
		q.version, p = "v1", p[len("/v1/"):]
	case strings.HasPrefix(p, "/v1.0/"):
		q.version, p = "v1.0", p[len("/v1.0/"):]
	default:
		return errNotFound
	}
	if !utf8.ValidString(p) || strings.ContainsRune(p, 0) {
		return failf(errPreconditionFailed, "Invalid UTF8 or contains NULL")
	}
	var rest string
	q.acctSeg, rest, _ = strings.Cut(p, "/")
	q.cont, q.obj, _ = strings.Cut(rest, "/")
	id, ok := strings.CutPrefix(q.acctSeg, "AUTH_")
	if !ok || id == "" {
		return errNotFound
	}
	q.acct = id
	if q.cont == "" && q.obj != "" {
		return errNotFound
	}
	if err := q.authenticate(); err != nil {
		return err
	}
	switch {
	case q.obj != "":
		return q.objectRequest()
	case q.cont != "":
		return q.containerRequest()
	default:
		return q.accountRequest()
	}
}

func (q *request) objectRequest() error {
	switch q.r.Method {
	case http.MethodGet:
		return q.getObject(false)
	case http.MethodHead:
		return q.getObject(true)
	case http.MethodPut:
		return q.putObject()
	case http.MethodPost:
		return q.postObject()
	case http.MethodDelete:
		return q.deleteObjectRequest()
	case "COPY":
		return q.copyMethod()
	}
	return q.notAllowed("GET, HEAD, PUT, POST, DELETE, COPY")
}

func (q *request) containerRequest() error {
	switch q.r.Method {
	case http.MethodGet:
		return q.getContainer(false)
	case http.MethodHead:
		return q.getContainer(true)
	case http.MethodPut:
		return q.putContainer()
	case http.MethodPost:
		return q.postContainer()
	case http.MethodDelete:
		return q.deleteContainerRequest()
	}
	return q.notAllowed("GET, HEAD, PUT, POST, DELETE")
}

func (q *request) accountRequest() error {
	if q.query.Has("bulk-delete") && (q.r.Method == http.MethodPost || q.r.Method == http.MethodDelete) {
		return q.bulkDelete()
	}
	switch q.r.Method {
	case http.MethodGet:
		return q.getAccount(false)
	case http.MethodHead:
		return q.getAccount(true)
	case http.MethodPost:
		return q.postAccount()
	}
	return q.notAllowed("GET, HEAD, POST")
}

func (q *request) notAllowed(allow string) error {
	q.w.Header().Set("Allow", allow)
	return errMethodNotAllowed
}

// fail answers err, unless the status is already out (then the
// connection is cut short by the missing bytes of the declared length).
func (q *request) fail(err error) {
	status := statusFor(err)
	if status >= 500 && status != statusClientDisconnect {
		q.s.log.Warn("swift request failed", "method", q.r.Method, "path", q.r.URL.Path, "tx", q.tx, "status", status, "err", err)
	}
	if q.w.wrote {
		if !errors.Is(err, context.Canceled) {
			q.s.log.Warn("swift response cut short", "method", q.r.Method, "path", q.r.URL.Path, "tx", q.tx, "err", err)
		}
		return
	}
	var de *detailError
	if errors.As(err, &de) && status < 500 {
		q.sendBody(status, "text/plain; charset=utf-8", []byte(de.msg+"\n"))
		return
	}
	if status == http.StatusUnauthorized && q.temp != nil {
		q.sendBody(status, "text/plain; charset=utf-8", []byte("401 Unauthorized: Temp URL invalid\n"))
		return
	}
	q.sendBody(status, "text/html; charset=UTF-8", []byte(standardPage(status)))
}

// sendBody answers status with body (not sent to HEAD, but counted in
// Content-Length).
func (q *request) sendBody(status int, ctype string, body []byte) {
	h := q.w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	q.w.WriteHeader(status)
	if q.r.Method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified {
		_, _ = q.w.Write(body)
	}
}

// sendStatus answers a status with Swift's short standard body, or none
// for 204.
func (q *request) sendStatus(status int) {
	if status == http.StatusNoContent {
		h := q.w.Header()
		h.Set("Content-Length", "0")
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "text/html; charset=UTF-8")
		}
		q.w.WriteHeader(status)
		return
	}
	var body []byte
	if status >= 300 || status == http.StatusAccepted {
		body = []byte(standardPage(status))
	}
	q.sendBody(status, "text/html; charset=UTF-8", body)
}
