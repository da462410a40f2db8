package thrash

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/basaltstore/basalt/internal/testserver"
)

// Cluster is the system under test: the nodes a load is spread over and
// faults are injected into.
type Cluster interface {
	Nodes() []Node
}

// Node is one storage process with its disks, and the faults the harness
// can inject into it. Kill, Stop and Start are called from the goroutine
// that called Run, one at a time; Endpoint, Credentials and Logs may be
// called from any goroutine.
type Node interface {
	// Name identifies the node in the history.
	Name() string
	// Endpoint is the node's S3 URL (http://host:port); it may change
	// across restarts.
	Endpoint() string
	// Credentials are an access key and secret with rights on every bucket.
	Credentials() (accessKey, secretKey string)
	// Disks are the node's disk directories, in the order it uses them.
	Disks() []string
	// Kill ends the process with SIGKILL, as a crash would, and returns
	// once it is gone.
	Kill() error
	// Stop asks the process to stop (SIGTERM) and waits for it.
	Stop() error
	// Start starts the process again on the same disks after Kill or Stop,
	// and returns once it serves requests.
	Start(ctx context.Context) error
	// Logs returns everything the node's processes logged so far, across
	// restarts; it only grows.
	Logs() string
}

// Cutter is a Cluster that can cut one of its nodes off the network; the
// harness injects FaultCut only into a cluster that implements it. Cut and
// Heal are called from the goroutine that called Run, one at a time, while
// every node runs.
type Cutter interface {
	// Cut isolates node i (an index into Nodes) from the other nodes,
	// both ways: connections between them, open or new, are dropped.
	// Clients still reach every node.
	Cut(i int) error
	// Heal ends the cut of node i: the nodes reach each other again.
	Heal(i int) error
}

// RingChanger is a Cluster whose ring an operator can change under load;
// the harness injects FaultDrain only into a cluster that implements it.
// A disk is named by the indexes of its node in Nodes and of the disk in
// Node.Disks. Its methods are called from the goroutine that called Run,
// one at a time, while every node runs.
type RingChanger interface {
	// DrainDisk asks the ring to move every partition off the disk. An
	// error wrapping ErrRefused says the cluster refused the change and
	// nothing changed (it would leave a policy unplaceable).
	DrainDisk(ctx context.Context, node, disk int) error
	// RestoreDisk returns a drained disk to service.
	RestoreDisk(ctx context.Context, node, disk int) error
	// Rebalance runs one rebalance pass on every node and returns the
	// shards the passes moved, and those held on a hand-off for a node
	// that is down. A pass whose moves failed in part is an error.
	Rebalance(ctx context.Context) (moved, handoffs int64, err error)
}

// DiskAdder is a RingChanger that can also take a drained disk out of the
// cluster map and add it back as a new disk: the ring change that adds a
// disk. The harness then returns every other drained disk to service that
// way instead of restoring it.
type DiskAdder interface {
	// RemoveDisk marks a drained disk out and removes it from the map; an
	// error wrapping ErrRefused says the cluster refused (the disk still
	// holds records) and nothing changed.
	RemoveDisk(ctx context.Context, node, disk int) error
	// AddDisk adds a disk of a node to the map, with its usual weight.
	AddDisk(ctx context.Context, node, disk int) error
}

// DiskFailer is a Cluster that can make a disk start failing under its
// running node: from then on every I/O of the node on that disk returns
// an error, until the disk's directory is removed (replaced). The harness
// injects FaultFail only into a cluster that implements it and
// RingChanger (the replaced disk is returned to service).
type DiskFailer interface {
	FailDisk(node, disk int) error
}

// Local is a Cluster of one `basalt server` run by testserver.
type Local struct {
	node *localNode
}

// NewLocal wraps srv as a one-node cluster. disks are its disk directories
// (default: disk1..disk4 under its data folder, the server's default).
//
// testserver ends the test (t.Fatal) when a restart fails; Run's deferred
// clean-up still stops the load and records the history in that case.
func NewLocal(srv *testserver.Server, disks ...string) *Local {
	if len(disks) == 0 {
		for i := 1; i <= 4; i++ {
			disks = append(disks, filepath.Join(srv.DataDir(), fmt.Sprintf("disk%d", i)))
		}
	}
	return &Local{node: &localNode{name: "node1", srv: srv, disks: disks}}
}

// Nodes returns the one node.
func (l *Local) Nodes() []Node { return []Node{l.node} }

// Servers is a Cluster of several `basalt server` processes run by
// testserver, which place objects by one ring over all their disks.
type Servers struct {
	nodes []Node
}

// NewCluster wraps servers as a cluster: nodes "node1", "node2", ... in
// the order given, each with the disk directories disk1..disk<disksPerNode>
// under its data folder (`--disks 'disk{1...N}'`).
//
// As with NewLocal, testserver ends the test when a restart fails.
func NewCluster(servers []*testserver.Server, disksPerNode int) *Servers {
	c := &Servers{}
	for i, srv := range servers {
		var disks []string
		for d := 1; d <= disksPerNode; d++ {
			disks = append(disks, filepath.Join(srv.DataDir(), fmt.Sprintf("disk%d", d)))
		}
		c.nodes = append(c.nodes, &localNode{name: fmt.Sprintf("node%d", i+1), srv: srv, disks: disks})
	}
	return c
}

// Nodes returns the nodes in the order of the servers given.
func (c *Servers) Nodes() []Node { return c.nodes }

type localNode struct {
	name  string
	srv   *testserver.Server
	disks []string
}

func (n *localNode) Name() string     { return n.name }
func (n *localNode) Endpoint() string { return n.srv.Endpoint() }
func (n *localNode) Credentials() (string, string) {
	return n.srv.AccessKey(), n.srv.SecretKey()
}
func (n *localNode) Disks() []string { return n.disks }
func (n *localNode) Logs() string    { return n.srv.Logs() }

func (n *localNode) Kill() error {
	n.srv.Kill()
	return nil
}

func (n *localNode) Stop() error {
	if !n.srv.Running() {
		return nil
	}
	if code := n.srv.Stop(); code != 0 {
		return fmt.Errorf("%w: %s exited with code %d on SIGTERM", ErrCluster, n.Name(), code)
	}
	return nil
}

func (n *localNode) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n.srv.Restart()
	if !n.srv.Running() {
		return fmt.Errorf("%w: %s is not running after a start", ErrCluster, n.Name())
	}
	return nil
}
