package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
)

// ReadyMessage is the log message written once the S3 listener accepts
// connections; its "address" attribute is the listening address.
const ReadyMessage = "basalt server ready"

// IdentityDir is the folder under DataDir that keeps the root credential.
const IdentityDir = "identity"

// JournalDir, under the data directory, holds the metadata journal of the
// disks on the data directory's device.
const JournalDir = "journal"

// Process is what Run takes from the process it runs in.
type Process struct {
	Stdout  io.Writer               // where the root credential is shown
	Stderr  io.Writer               // where logs go
	Getenv  func(key string) string // environment lookup, for the root credential
	Version string                  // version of the binary, for logs and metrics
}

// Run serves S3 as cfg says until ctx is cancelled, then stops accepting
// connections, waits up to cfg.ShutdownTimeout for in-flight requests,
// closes the store and returns nil. Configuration errors match ErrUsage.
func Run(ctx context.Context, cfg Config, p Process) (err error) {
	if err := cfg.Validate(); err != nil {
		return err
	}
	disks, err := cfg.DiskPaths()
	if err != nil {
		return err
	}
	level, err := cfg.level()
	if err != nil {
		return err
	}
	logger := newLogger(p.Stderr, cfg.LogFormat, level)
	// A soft heap limit keeps bursts of garbage (many small writes) from
	// growing the process: the collector runs sooner near it.
	if cfg.MemoryLimitMiB > 0 && (p.Getenv == nil || p.Getenv("GOMEMLIMIT") == "") {
		debug.SetMemoryLimit(int64(cfg.MemoryLimitMiB) << 20)
	}

	storeCfg := objectd.Config{
		Disks:        disks,
		DataShards:   cfg.DataShards,
		ParityShards: cfg.ParityShards,
		Logger:       logger.With("component", "objectd"),
		// A node of a cluster may have fewer disks than k+m.
		Cluster:       cfg.Clustered(),
		RebalanceRate: -1, // no limit
		// The metadata journal of the disks that share the data
		// directory's device.
		JournalDir: filepath.Join(cfg.DataDir, JournalDir),
	}
	if os.Getenv(FaultInjectionEnv) == "1" {
		storeCfg.FS = faultFS(ctx, disks)
		logger.Warn("fault injection is on: a disk holding " + FaultMarker + " fails every operation")
	}
	if cfg.RebalanceMiBps > 0 {
		storeCfg.RebalanceRate = int64(cfg.RebalanceMiBps * (1 << 20))
	}
	// A disk the store takes out of service is marked failed in the
	// cluster map (once the catalog is open; before, the operator marks it
	// with basalt admin disk fail).
	var catRef atomic.Pointer[catalog.Catalog]
	storeCfg.OnDiskFailed = func(i int, path string) {
		if c := catRef.Load(); c != nil {
			markFailed(c, i, path, logger)
		}
	}
	if err := storeCfg.Validate(); err != nil {
		return &usageError{msg: err.Error()}
	}

	idDir := filepath.Join(cfg.DataDir, IdentityDir)
	root, created, err := identity.Load(idDir, p.Getenv)
	if err != nil {
		if errors.Is(err, identity.ErrPartialEnv) || errors.Is(err, identity.ErrShortUser) ||
			errors.Is(err, identity.ErrShortSecret) || errors.Is(err, identity.ErrBadCharacter) {
			return &usageError{msg: err.Error()}
		}
		return err
	}
	showCredential(p.Stdout, root, created, filepath.Join(idDir, identity.FileName))

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("server: create data folder: %w", err)
	}
	// Disk directories inside the data folder are the server's own to
	// create; others (mount points) must exist already.
	for _, d := range disks {
		if inside(cfg.DataDir, d) {
			if err := os.MkdirAll(d, 0o750); err != nil {
				return fmt.Errorf("server: create disk directory: %w", err)
			}
		}
	}
	cat, secret, err := openCatalog(ctx, cfg, root, logger.With("component", "catalog"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := cat.Node().Shutdown(); cerr != nil {
			logger.Error("closing the catalog", "err", cerr)
		}
	}()
	catRef.Store(cat)

	// The shard API: this node's disks for the other nodes, on a listener
	// of its own that S3 clients never reach.
	shardLn, err := listenShards(cfg)
	if err != nil {
		return err
	}
	// Calls to the other nodes leave from the address this node listens
	// on, when it is a specific one.
	var from *net.TCPAddr
	if a, ok := shardLn.Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		from = &net.TCPAddr{IP: a.IP}
	}
	shards := newShardService(cat.Node().ID(), secret, from, logger.With("component", "shardapi"))
	storeCfg.WrapDisk = shards.h.Local
	store, err := objectd.Open(storeCfg)
	if err != nil {
		_ = shardLn.Close()
		return fmt.Errorf("server: open store: %w", err)
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			logger.Error("closing the store", "err", cerr)
			err = errors.Join(err, fmt.Errorf("server: close store: %w", cerr))
		}
	}()
	shards.store = store
	stopShards := shards.serve(shardLn)
	defer stopShards()
	shardAddr := shardLn.Addr().String()
	if cfg.ShardAdvertise != "" {
		shardAddr = cfg.ShardAdvertise
	}
	known, err := registerNode(ctx, cat, cfg, shardAddr, disks, logger)
	if err != nil {
		return err
	}
	// A fresh disk the cluster map knew had held data: fill it back.
	if cfg.Clustered() {
		for _, i := range store.FreshDisks() {
			if known[i] {
				if err := store.MarkReplaced(i); err != nil {
					return fmt.Errorf("server: %w", err)
				}
			}
		}
	}
	if _, err := shards.apply(cat); err != nil {
		return fmt.Errorf("server: placement: %w", err)
	}
	sseKey, err := masterKey(ctx, cat, cfg.SSEMasterKey) // sse.go
	if err != nil {
		return err
	}
	if err := reconcileBuckets(ctx, cat, store, logger); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	if err := registerCollectors(reg, p.Version); err != nil {
		return err
	}
	px, err := proxy.New(proxy.Config{
		Store:       store,
		Credentials: root,
		Catalog:     cat,
		Region:      cfg.Region,
		Domains:     cfg.Domains,
		Logger:      logger.With("component", "proxy"),
		Registry:    reg,
		Ready:       store.Ready,
		MasterKey:   sseKey,
		MaxRequests: cfg.MaxRequests,
		RequestWait: cfg.RequestWait,
		Placement: func(ctx context.Context) error {
			if err := cat.Sync(ctx); err != nil {
				return err
			}
			_, err := shards.apply(cat)
			return err
		},
	})
	if err != nil {
		return fmt.Errorf("server: proxy: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	followCtx, stopFollow := context.WithCancel(context.Background())
	followDone := make(chan struct{})
	go func() {
		defer close(followDone)
		go shards.probe(followCtx)
		shards.follow(followCtx, cat)
	}()
	defer func() {
		stopFollow()
		<-followDone
	}()
	srv := &http.Server{
		Handler:           px.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 2)
	go func() {
		if cfg.TLSCert != "" {
			serveErr <- srv.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
			return
		}
		serveErr <- srv.Serve(ln)
	}()

	var debug *http.Server
	if cfg.PprofAddress != "" {
		dln, err := net.Listen("tcp", cfg.PprofAddress)
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("server: listen for pprof: %w", err)
		}
		debug = &http.Server{Handler: pprofMux(), ReadHeaderTimeout: 30 * time.Second}
		go func() { serveErr <- debug.Serve(dln) }()
		logger.Info("pprof listening", "address", dln.Addr().String())
	}

	lifecycleDone := make(chan struct{})
	lctx, stopLifecycle := context.WithCancel(context.Background())
	go func() {
		defer close(lifecycleDone)
		runLifecycle(lctx, px, cfg.LifecycleEvery, logger)
	}()
	defer func() {
		stopLifecycle()
		<-lifecycleDone
	}()

	logger.Info(ReadyMessage,
		"address", ln.Addr().String(),
		"disks", len(disks),
		"data_shards", cfg.DataShards,
		"parity_shards", cfg.ParityShards,
		"region", cfg.Region,
		"node", cat.Node().ID(),
		"raft_address", cat.Node().Addr(),
		"version", p.Version)

	// Logged once the listener is closed: from then on no new connection
	// is accepted.
	draining := make(chan struct{})
	srv.RegisterOnShutdown(func() {
		logger.Info("shutting down: listener closed, draining requests", "timeout", cfg.ShutdownTimeout.String())
		close(draining)
	})
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		_ = srv.Close()
		if debug != nil {
			_ = debug.Close()
		}
		return fmt.Errorf("server: serve: %w", err)
	}

	if debug != nil {
		_ = debug.Close()
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-draining // Shutdown runs the hook; keep the log in order
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("server: requests still running after %s: %w", cfg.ShutdownTimeout, err)
	}
	logger.Info("basalt server stopped")
	return nil
}

// runLifecycle applies the buckets' lifecycle rules every interval until
// ctx ends (never when interval is 0).
func runLifecycle(ctx context.Context, px *proxy.Proxy, interval time.Duration, log *slog.Logger) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			rep, err := px.ApplyLifecycle(ctx, now)
			if err != nil && ctx.Err() == nil {
				log.Warn("lifecycle pass failed", "err", err)
				continue
			}
			if rep.Expired > 0 || rep.Aborted > 0 {
				log.Info("lifecycle pass", "buckets", rep.Buckets, "scanned", rep.Scanned, "expired", rep.Expired, "aborted", rep.Aborted)
			}
		}
	}
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// inside reports whether path is dir or below it.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func registerCollectors(reg *prometheus.Registry, version string) error {
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "basalt_build_info",
		Help: "Always 1; the version label is the version of the running basalt binary.",
	}, []string{"version"})
	info.WithLabelValues(version).Set(1)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		info,
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("server: register metrics: %w", err)
		}
	}
	return nil
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// showCredential prints the root credential: in full, boxed, when it was
// just generated; otherwise only its access key.
func showCredential(w io.Writer, root identity.Root, created bool, path string) {
	if !created {
		fmt.Fprintf(w, "Root access key: %s\n", root.AccessKey)
		return
	}
	lines := []string{
		"Basalt generated a root credential. It is shown only this once:",
		"",
		"  Access key: " + root.AccessKey,
		"  Secret key: " + root.SecretAccessKey,
		"",
		"It is kept in " + path + " (mode 0600).",
		"Set BASALT_ROOT_USER and BASALT_ROOT_PASSWORD to choose your own.",
	}
	width := 0
	for _, l := range lines {
		width = max(width, len(l))
	}
	bar := "+" + strings.Repeat("-", width+2) + "+"
	fmt.Fprintln(w, bar)
	for _, l := range lines {
		fmt.Fprintf(w, "| %-*s |\n", width, l)
	}
	fmt.Fprintln(w, bar)
}
