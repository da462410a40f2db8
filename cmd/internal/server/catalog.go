package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// CatalogDir is the folder under DataDir that keeps the catalog's Raft
// log, snapshots, node id and (single machine) cluster secret.
const CatalogDir = "catalog"

// openCatalog starts this node's member of the catalog's Raft group: a
// new one-voter group on first start, unless --join names a member of an
// existing cluster to join. It then makes sure the records every cluster
// needs exist (default domain, token key, admin project and user), and
// returns the cluster secret with it (the shard API signs with it too).
func openCatalog(ctx context.Context, cfg Config, root identity.Root, log *slog.Logger) (*catalog.Catalog, []byte, error) {
	dir := filepath.Join(cfg.DataDir, CatalogDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("server: catalog folder: %w", err)
	}
	id, err := keptValue(filepath.Join(dir, "node-id"), cfg.NodeID, func() string { return "node-" + randomHex(6) })
	if err != nil {
		return nil, nil, err
	}
	if cfg.NodeID != "" && cfg.NodeID != id {
		return nil, nil, usagef("--node-id=%s: this data folder belongs to node %s", cfg.NodeID, id)
	}
	secret, err := keptValue(filepath.Join(dir, "secret"), cfg.ClusterSecret, func() string { return randomHex(32) })
	if err != nil {
		return nil, nil, err
	}
	if cfg.ClusterSecret != "" && cfg.ClusterSecret != secret {
		return nil, nil, usagef("--cluster-secret differs from the one this node was started with")
	}
	_, statErr := os.Stat(filepath.Join(dir, "log"))
	fresh := errors.Is(statErr, os.ErrNotExist)
	node, err := raftmap.Open(raftmap.Config{
		ID: id, Dir: dir, Bind: cfg.RaftAddress, Advertise: cfg.RaftAdvertise,
		Bootstrap: cfg.Join == "", Secret: []byte(secret), Logger: log,
		HeartbeatTimeout: 500 * time.Millisecond, ElectionTimeout: 500 * time.Millisecond,
		LeaderLeaseTimeout: 250 * time.Millisecond,
	})
	if err != nil {
		if errors.Is(err, raftmap.ErrConfig) {
			return nil, nil, usagef("%v", err)
		}
		return nil, nil, fmt.Errorf("server: catalog: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = node.Shutdown()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if cfg.Join != "" && fresh {
		if err := node.RequestJoin(ctx, cfg.Join, cfg.Role == "voter"); err != nil {
			if errors.Is(err, raftmap.ErrBadSecret) || errors.Is(err, raftmap.ErrDuplicateNode) {
				return nil, nil, usagef("--join %s: %v", cfg.Join, err)
			}
			return nil, nil, fmt.Errorf("server: join %s: %w", cfg.Join, err)
		}
	}
	cat := catalog.New(node)
	if err := cat.Bootstrap(ctx); err != nil {
		return nil, nil, fmt.Errorf("server: %w", err)
	}
	if err := cat.BootstrapAdmin(ctx, root.SecretAccessKey); err != nil {
		return nil, nil, fmt.Errorf("server: %w", err)
	}
	ok = true
	return cat, []byte(secret), nil
}

// reconcileBuckets makes the store's buckets and the catalog's agree at
// start: a bucket the store has and the catalog lacks (made before the
// catalog kept buckets, or left by a crash between the two) is recorded,
// owned by the admin project; a bucket the catalog has and this node's
// store lacks is made.
func reconcileBuckets(ctx context.Context, cat *catalog.Catalog, store *objectd.Store, log *slog.Logger) error {
	have, err := store.ListBuckets(ctx)
	if err != nil {
		return err
	}
	v := cat.View()
	inStore := map[string]bool{}
	for _, b := range have {
		inStore[b.Name] = true
		if _, ok := v.Bucket(b.Name); ok {
			continue
		}
		if err := cat.CreateBucket(ctx, b.Name, cat.AdminProject()); err != nil && !errors.Is(err, raftmap.ErrBucketExists) {
			return fmt.Errorf("server: record bucket %s in the catalog: %w", b.Name, err)
		}
		log.Info("bucket recorded in the catalog", "bucket", b.Name)
	}
	for _, b := range v.Buckets("") {
		if inStore[b.Name] {
			continue
		}
		if err := store.MakeBucket(ctx, b.Name); err != nil && !errors.Is(err, objectd.ErrBucketExists) {
			log.Warn("bucket of the catalog not made in the store", "bucket", b.Name, "err", err)
		}
	}
	return nil
}

// keptValue returns the value kept in path; when there is none, want (or,
// if empty, a generated one) is written there and returned.
func keptValue(path, want string, generate func() string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("server: %w", err)
	}
	v := want
	if v == "" {
		v = generate()
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(v+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("server: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("server: %w", err)
	}
	return v, syncFile(filepath.Dir(path))
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("server: fsync %s: %w", path, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
