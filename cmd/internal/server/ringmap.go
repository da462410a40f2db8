package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/ring"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// defaultWeight is a disk's ring weight when its capacity is unknown.
const defaultWeight = 100

// DefaultPolicy names the storage policy every cluster starts with: the
// erasure code of its first node, 2^DefaultPartitionPower partitions.
const (
	DefaultPolicy         = "default"
	DefaultPartitionPower = 10
)

// DiskID is the ring id of this node's disk number i (from 1).
func DiskID(node string, i int) ring.DiskID { return ring.DiskID(fmt.Sprintf("%s:d%d", node, i)) }

// registerNode makes sure the cluster map knows this node, at address (of
// its shard API),
// in zone, and each of its disks; and that the default policy exists
// (made from this node's k and m when it is the first). A disk already in
// the map keeps its state and weight: the map is changed by operators
// from then on.
//
// It returns, for each disk, whether the map knew it before: a fresh disk
// the map knew is a replaced one.
func registerNode(ctx context.Context, cat *catalog.Catalog, cfg Config, address string, disks []string, log *slog.Logger) ([]bool, error) {
	node := cat.Node()
	id := ring.NodeID(node.ID())
	propose := func(c ring.Command) error {
		if err := cat.Propose(ctx, raftmap.MapChange{Change: c}); err != nil && !errors.Is(err, ring.ErrDuplicate) {
			return fmt.Errorf("server: cluster map: %s: %w", c.Op(), err)
		}
		return nil
	}
	m := node.Map()
	if n, ok := m.Node(id); !ok {
		if err := propose(ring.AddNode{ID: id, Address: address, Zone: cfg.Zone}); err != nil {
			return nil, err
		}
		log.Info("node added to the cluster map", "node", id, "zone", cfg.Zone, "address", address)
	} else if n.Address != address {
		if err := propose(ring.SetAddress{Node: id, Address: address}); err != nil {
			return nil, err
		}
		log.Info("node address changed in the cluster map", "node", id, "address", address, "was", n.Address)
	}
	known := make([]bool, len(disks))
	for i, path := range disks {
		did := DiskID(string(id), i+1)
		if _, ok := m.Disk(did); ok {
			known[i] = true
			continue
		}
		if err := propose(ring.AddDisk{ID: did, Node: id, Weight: diskWeight(path)}); err != nil {
			return nil, err
		}
		log.Info("disk added to the cluster map", "disk", did, "path", path)
	}
	if _, ok := node.Map().Policy(DefaultPolicy); !ok {
		p := ring.Policy{Name: DefaultPolicy, K: cfg.DataShards, M: cfg.ParityShards, Power: DefaultPartitionPower}
		if err := propose(ring.AddPolicy{Policy: p}); err != nil {
			// Not fatal: an operator adds a policy the cluster can place.
			log.Warn("no default storage policy in the cluster map", "policy", p.String(), "err", err)
		}
	}
	return known, nil
}

// markFailed records in the cluster map that this node's disk i (from 0)
// was taken out of service.
func markFailed(cat *catalog.Catalog, i int, path string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	did := DiskID(cat.Node().ID(), i+1)
	if err := cat.Propose(ctx, raftmap.MapChange{Change: ring.FailDisk{Disk: did}}); err != nil {
		log.Error("cannot mark the disk failed in the cluster map", "disk", did, "path", path, "err", err)
		return
	}
	log.Warn("disk marked failed in the cluster map", "disk", did, "path", path)
}
