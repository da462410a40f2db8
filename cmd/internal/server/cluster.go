package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/objectd/shardapi"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/ring"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// shardService is this node's side of the internal shard API: the
// handler serving its disks to the other nodes (on its own listener,
// authenticated with the cluster secret), and the volumes through which
// the store reaches every disk of the ring.
type shardService struct {
	nodeID string
	secret []byte
	log    *slog.Logger
	store  *objectd.Store
	node   atomic.Pointer[raftmap.Node] // this node's catalog member, once known
	h      *shardapi.Handler
	client *http.Client

	mu     sync.Mutex
	remote map[ring.DiskID]remoteVol // dialled volumes, kept while the address holds
}

type remoteVol struct {
	addr string
	v    *shardapi.Volume
}

func newShardService(nodeID string, secret []byte, from *net.TCPAddr, log *slog.Logger) *shardService {
	s := &shardService{nodeID: nodeID, secret: secret, log: log, remote: map[ring.DiskID]remoteVol{},
		client: shardapi.NewClient(shardapi.Options{LocalAddr: from})}
	s.h = shardapi.New(secret, s.localDisk, log)
	return s
}

// Cut-off detection: a node that has not heard from the Raft leader for
// contactWithin stops serving objects, and the others wait holdDown
// (longer) before they write on hand-offs in place of its disks, so that
// it cannot serve a version that writes on hand-offs have replaced.
const (
	contactWithin = 400 * time.Millisecond
	holdDown      = time.Second
)

// localDisk finds this node's disk by its ring id ("<node>:d<n>").
func (s *shardService) localDisk(id string) (disk.Volume, bool) {
	n, ok := strings.CutPrefix(id, s.nodeID+":d")
	if !ok || s.store == nil {
		return nil, false
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		return nil, false
	}
	v := s.store.LocalVolume(i - 1)
	return v, v != nil
}

// inContact reports whether this node hears from the Raft leader.
func (s *shardService) inContact() bool {
	n := s.node.Load()
	return n != nil && n.InContact(contactWithin)
}

// layout builds the store's layout from the ring and the map of one epoch.
func (s *shardService) layout(r *ring.Ring, m *ring.Map) *objectd.Layout {
	vols := map[ring.DiskID]disk.Volume{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range m.Disks {
		if string(d.Node) == s.nodeID {
			if v, ok := s.localDisk(string(d.ID)); ok {
				vols[d.ID] = v
			}
			continue
		}
		n, ok := m.Node(d.Node)
		if !ok || n.Address == "" {
			continue
		}
		rv, ok := s.remote[d.ID]
		if !ok || rv.addr != n.Address {
			rv = remoteVol{addr: n.Address, v: shardapi.Dial("http://"+n.Address, string(d.ID), string(d.ID), s.secret,
				shardapi.Options{Client: s.client, Logger: s.log, HoldDown: holdDown})}
			s.remote[d.ID] = rv
		}
		vols[d.ID] = rv.v
	}
	return &objectd.Layout{Ring: r, Policy: DefaultPolicy, Volumes: vols, InContact: s.inContact}
}

// apply sets the store's layout from the catalog's current ring; false
// when there is no ring yet (no placeable policy).
func (s *shardService) apply(cat *catalog.Catalog) (bool, error) {
	node := cat.Node()
	s.node.Store(node)
	r := node.Ring()
	if r == nil {
		return false, nil
	}
	if r.Epoch() == s.store.Epoch() {
		return true, nil
	}
	if err := s.store.SetLayout(s.layout(r, node.Map())); err != nil {
		return false, err
	}
	s.log.Info("placement follows the ring", "epoch", r.Epoch())
	return true, nil
}

// follow applies every new epoch of the cluster map until ctx ends.
func (s *shardService) follow(ctx context.Context, cat *catalog.Catalog) {
	for range cat.Node().Watch(ctx) {
		if _, err := s.apply(cat); err != nil {
			s.log.Error("cannot place by the new ring", "err", err)
		}
	}
}

// waitRing waits until the catalog has a ring this store can place by
// (the default policy is placeable once enough nodes have joined).
func (s *shardService) waitRing(ctx context.Context, cat *catalog.Catalog) error {
	logged := false
	for epoch := range cat.Node().Watch(ctx) {
		ok, err := s.apply(cat)
		if err != nil {
			return fmt.Errorf("server: placement: %w", err)
		}
		if ok {
			return nil
		}
		if !logged {
			s.log.Warn("waiting for enough disks in the cluster to place objects", "epoch", epoch)
			logged = true
		}
	}
	return fmt.Errorf("server: stopped while waiting for a placeable ring: %w", context.Cause(ctx))
}

// serve runs the shard API on ln until the returned stop is called.
func (s *shardService) serve(ln net.Listener) (stop func()) {
	srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return func() {
		_ = srv.Close()
		<-done
	}
}

// probeEvery is how often the other nodes' disks are asked whether they
// answer: a node that went away is known to be down within about this
// long (its primaries are then replaced by hand-offs), and one that came
// back is used again.
const probeEvery = time.Second

// probe checks every other node's disks each probeEvery until ctx ends.
func (s *shardService) probe(ctx context.Context) { every(ctx, probeEvery, s.probeOnce) }

// probeOnce checks every other node's disks once.
func (s *shardService) probeOnce() {
	s.mu.Lock()
	byAddr := map[string][]*shardapi.Volume{}
	for _, rv := range s.remote {
		byAddr[rv.addr] = append(byAddr[rv.addr], rv.v)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, vols := range byAddr {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One disk answers for its node's reachability; a node
			// that does not answer has every disk marked down.
			if err := vols[0].Healthy(); err != nil && errors.Is(err, shardapi.ErrUnreachable) {
				for _, v := range vols[1:] {
					v.NoteIO(err)
				}
				return
			}
			// The node answers: ask again each other disk marked down,
			// not only those already Failed. A disk marked down by the
			// NoteIO above less than HoldDown ago is not Failed yet, but
			// would become so right after and stay down for RetryAfter
			// with its node up. (A disk's Healing state comes with every
			// answer about it, so the others need no asking.)
			for _, v := range vols[1:] {
				if v.Suspect() {
					_ = v.Healthy()
				}
			}
		}()
	}
	wg.Wait()
}

// listenShards opens the shard API's listener. With port 0 the port
// chosen at the first start is kept in the data folder and taken again
// at the next (when still free), so that a restart does not change the
// node's address in the cluster map.
func listenShards(cfg Config) (net.Listener, error) {
	kept := filepath.Join(cfg.DataDir, CatalogDir, "shard-address")
	if host, port, err := net.SplitHostPort(cfg.ShardAddress); err == nil && port == "0" {
		if b, err := os.ReadFile(kept); err == nil {
			if h, _, err := net.SplitHostPort(strings.TrimSpace(string(b))); err == nil && h == host {
				if ln, err := net.Listen("tcp", strings.TrimSpace(string(b))); err == nil {
					return ln, nil
				}
			}
		}
	}
	ln, err := net.Listen("tcp", cfg.ShardAddress)
	if err != nil {
		return nil, fmt.Errorf("server: listen for the shard API: %w", err)
	}
	if err := os.WriteFile(kept, []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	return ln, nil
}
