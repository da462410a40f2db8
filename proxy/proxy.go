package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/keystone"
	"github.com/basaltstore/basalt/proxy/s3"
	"github.com/basaltstore/basalt/proxy/sigv4"
	"github.com/basaltstore/basalt/proxy/swift"
)

// Config is what a Proxy needs.
type Config struct {
	// Store is the object layer.
	Store *objectd.Store
	// Credentials resolve the access keys of signed requests.
	Credentials sigv4.CredentialStore
	// Region the endpoint answers for; default "us-east-1".
	Region string
	// StrictRegion refuses requests signed for another region, as AWS
	// does. By default any region is accepted (and verified).
	StrictRegion bool
	// Domains for virtual-host-style addressing, e.g. "localhost": Host
	// "b.localhost:8080" addresses bucket b. Other hosts use path style.
	Domains []string
	// Logger for failed requests and recovered panics; default: discard.
	Logger *slog.Logger
	// Registry receives the proxy's metrics and is served at /metrics;
	// nil means a private registry.
	Registry *prometheus.Registry
	// Ready is the readiness probe of /health/ready: nil error means
	// ready. A nil Ready is always ready.
	Ready func() error
	// Catalog holds users, projects, access keys and the buckets' owners;
	// nil serves the root credential alone, over every bucket.
	Catalog *catalog.Catalog
	// MasterKey (32 bytes) wraps the data keys of SSE-S3 objects; nil
	// refuses SSE-S3 (see s3.Config.MasterKey).
	MasterKey []byte
	// Placement, when set, brings the store's placement up to the latest
	// ring of the cluster map; an administrator's rebalance calls it
	// first, so that the pass moves shards by the ring of the last change.
	Placement func(ctx context.Context) error
	// MaxRequests bounds the S3 and Swift requests served at once (0: no
	// bound); one past it waits up to RequestWait (default 10 s) for a
	// slot, then is answered "slow down" (see admission).
	MaxRequests int
	RequestWait time.Duration
}

// Errors of New.
var (
	ErrNoStore       = errors.New("proxy: no store configured")
	ErrNoCredentials = errors.New("proxy: no credential store configured")
)

// Proxy is the HTTP front door. Build it with New.
type Proxy struct {
	engine  *gin.Engine
	s3      *s3.Server
	metrics *metrics
	ready   func() error
	log     *slog.Logger
	gather  http.Handler

	store     *objectd.Store
	placement func(ctx context.Context) error
	verifier  *sigv4.Verifier
	keys      keyring
	keystone  http.Handler  // nil without a catalog
	swift     *swift.Server // nil without a catalog
	admit     *admission    // nil: no bound on requests in flight
}

// New builds a Proxy from cfg.
func New(cfg Config) (*Proxy, error) {
	if cfg.Store == nil {
		return nil, ErrNoStore
	}
	if cfg.Credentials == nil {
		return nil, ErrNoCredentials
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	keys := keyring{root: cfg.Credentials, cat: cfg.Catalog}
	verifier := &sigv4.Verifier{Region: cfg.Region, AnyRegion: !cfg.StrictRegion, Creds: keys, Domains: cfg.Domains}
	srv, err := s3.New(s3.Config{
		Store:     cfg.Store,
		Verifier:  verifier,
		Region:    cfg.Region,
		Domains:   cfg.Domains,
		Logger:    cfg.Logger,
		Catalog:   cfg.Catalog,
		Principal: keys.principal,
		MasterKey: cfg.MasterKey,
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	if err := cfg.Registry.Register(newStoreCollector(cfg.Store)); err != nil {
		return nil, fmt.Errorf("proxy: store metrics: %w", err)
	}
	p := &Proxy{
		s3: srv, metrics: m, ready: cfg.Ready, log: cfg.Logger, store: cfg.Store, placement: cfg.Placement, verifier: verifier, keys: keys,
		gather: promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}),
	}
	if cfg.RequestWait <= 0 {
		cfg.RequestWait = 10 * time.Second
	}
	p.admit = newAdmission(cfg.MaxRequests, cfg.RequestWait)

	if cfg.Catalog != nil {
		ks := keystone.New(keystone.Config{Catalog: cfg.Catalog, Logger: cfg.Logger.With("api", "keystone")})
		p.keystone = ks
		sw, err := swift.New(swift.Config{Store: cfg.Store, Catalog: cfg.Catalog, Tokens: ks, Logger: cfg.Logger.With("api", "swift")})
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		p.swift = sw
	}

	// Release mode: no debug banner on stdout; gin's mode is process-wide.
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// Paths are S3 keys: never redirect, clean or unescape them.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.RemoveExtraSlash = false
	e.UseRawPath = false
	e.UseEscapedPath = false
	e.HandleMethodNotAllowed = false
	e.ContextWithFallback = true
	e.Use(gin.CustomRecoveryWithWriter(slogWriter{cfg.Logger}, p.recovered))
	e.NoRoute(p.serve)
	p.engine = e
	return p, nil
}

// ApplyLifecycle applies the buckets' lifecycle rules once, as of now
// (see s3.Server.ApplyLifecycle).
func (p *Proxy) ApplyLifecycle(ctx context.Context, now time.Time) (s3.LifecycleReport, error) {
	return p.s3.ApplyLifecycle(ctx, now)
}

// Handler returns the HTTP handler of the proxy.
func (p *Proxy) Handler() http.Handler { return p.engine }

// serve is the one route: operational endpoints, else S3.
func (p *Proxy) serve(c *gin.Context) {
	r := c.Request
	c.Status(http.StatusOK) // gin presets 404 for its catch-all
	if p.operational(c.Writer, r) {
		c.Writer.WriteHeaderNow()
		return
	}
	if strings.HasPrefix(r.URL.Path, AdminPrefix) {
		p.admin(c.Writer, r)
		return
	}
	start := time.Now()
	p.metrics.inFlight.Inc()
	body := &countingReader{r: r.Body}
	if r.Body != nil {
		r.Body = body
	}
	api := "Unknown"
	defer func() {
		p.metrics.inFlight.Dec()
		status := c.Writer.Status()
		p.metrics.requests.WithLabelValues(api, strconv.Itoa(status)).Inc()
		p.metrics.duration.WithLabelValues(api).Observe(time.Since(start).Seconds())
		p.metrics.bytesIn.WithLabelValues(api).Add(float64(body.n))
		if n := c.Writer.Size(); n > 0 {
			p.metrics.bytesOut.WithLabelValues(api).Add(float64(n))
		}
	}()
	proto := p.protocol(r)
	if proto != "keystone" && p.admit != nil {
		if !p.admit.enter(r.Context()) {
			if r.Context().Err() != nil {
				c.Status(499) // the client went away while it waited (nginx's 499, read by nobody)
				return
			}
			p.metrics.refused.Inc()
			drainRefused(c.Writer, r)
			if proto == "swift" {
				api = "Swift"
				p.swift.SlowDown(c.Writer, r)
			} else {
				api = p.s3.SlowDown(c.Writer, r)
			}
			c.Writer.WriteHeaderNow()
			return
		}
		defer p.admit.leave()
	}
	switch proto {
	case "keystone":
		api = "Keystone"
		p.keystone.ServeHTTP(c.Writer, r)
	case "swift":
		api = "Swift"
		p.swift.ServeHTTP(c.Writer, r)
	default:
		api = p.s3.Serve(c.Writer, r)
	}
	c.Writer.WriteHeaderNow()
}

// protocol tells which API a request is for. A request that carries an
// S3 signature (Authorization header, presigned query) is S3's whatever
// its path; otherwise Keystone has /v3, /auth/v1.0 and, for clients that
// ask for JSON, the version document at /; Swift has /v1/ and /info.
// Everything else is S3's (bucket names "v1" and "v3" are not valid, and
// buckets named "auth" or "info" are reached with signed requests).
func (p *Proxy) protocol(r *http.Request) string {
	if p.keystone == nil || r.Header.Get("Authorization") != "" {
		return "s3"
	}
	q := r.URL.RawQuery
	if strings.Contains(q, "X-Amz-Signature=") || strings.Contains(q, "Signature=") {
		return "s3"
	}
	path := r.URL.Path
	switch {
	case path == "/v3" || strings.HasPrefix(path, "/v3/"),
		path == "/auth/v1.0" || path == "/auth/v1" || path == "/auth/v1.0/" || path == "/auth/v1/",
		path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "json"):
		return "keystone"
	case strings.HasPrefix(path, "/v1/") || path == "/info":
		return "swift"
	}
	return "s3"
}

// operational answers /metrics, /health/live and /health/ready, and
// reports whether the request was one of them.
func (p *Proxy) operational(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("Authorization") != "" || r.URL.Query().Has("X-Amz-Signature") {
		return false
	}
	switch r.URL.Path {
	case "/metrics":
		p.gather.ServeHTTP(w, r)
	case "/health/live":
		writeText(w, r, http.StatusOK, "ok\n")
	case "/health/ready":
		if p.ready != nil {
			if err := p.ready(); err != nil {
				writeText(w, r, http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
				return true
			}
		}
		writeText(w, r, http.StatusOK, "ready\n")
	default:
		return false
	}
	return true
}

func writeText(w http.ResponseWriter, r *http.Request, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(text)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.WriteString(w, text)
	}
}

// recovered answers a request whose handler panicked, as S3 answers an
// internal error. It is the last resort: handlers do not panic on input.
func (p *Proxy) recovered(c *gin.Context, v any) {
	p.log.Error("proxy: handler panicked", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", fmt.Sprint(v))
	if c.Writer.Written() {
		c.Abort()
		return
	}
	const body = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`
	c.Header("Content-Type", "application/xml")
	c.Header("Content-Length", strconv.Itoa(len(body)))
	c.Status(http.StatusInternalServerError)
	c.Writer.WriteHeaderNow()
	if c.Request.Method != http.MethodHead {
		io.WriteString(c.Writer, body)
	}
	c.Abort()
}

// slogWriter sends what gin's recovery prints (the stack) to the logger.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Error("proxy: recovered panic", "trace", string(p))
	return len(p), nil
}

// countingReader counts the request bytes read.
type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }
