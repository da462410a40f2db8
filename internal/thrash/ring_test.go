package thrash

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeNode is a Node that serves S3 at endpoint; each start logs that
// its disks are filled back.
type fakeNode struct {
	name, endpoint string
	disks          []string
	c              *fakeCluster
	logs           string
}

func (n *fakeNode) Name() string                  { return n.name }
func (n *fakeNode) Endpoint() string              { return n.endpoint }
func (n *fakeNode) Credentials() (string, string) { return "fake-access", "fake-secret-key" }
func (n *fakeNode) Disks() []string               { return n.disks }
func (n *fakeNode) Kill() error                   { n.c.note("kill %s", n.name); return nil }
func (n *fakeNode) Stop() error                   { n.c.note("stop %s", n.name); return nil }

func (n *fakeNode) Start(context.Context) error {
	n.c.note("start %s", n.name)
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	n.logs += `level=INFO msg="disks filled back" disks=1` + "\n"
	return nil
}

func (n *fakeNode) Logs() string {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	return n.logs
}

// fakeCluster is a Cluster of fake nodes of two disks each, which can cut
// a node off and change its ring: its S3 endpoint answers bucket listings
// with 503 while a node is cut, and each Rebalance call reports the next
// of moves (then 0).
type fakeCluster struct {
	nodes []Node

	mu      sync.Mutex
	cut     int // the node cut off, or -1
	calls   []string
	moves   []int64
	refuse  bool
	failing bool
}

func newFakeCluster(t *testing.T, n int) *fakeCluster {
	c := &fakeCluster{cut: -1}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		cut := c.cut
		c.mu.Unlock()
		if cut >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>x</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>`)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		c.nodes = append(c.nodes, &fakeNode{name: fmt.Sprintf("node%d", i+1), endpoint: srv.URL, c: c,
			disks: []string{filepath.Join(dir, fmt.Sprintf("n%d-disk1", i+1)), filepath.Join(dir, fmt.Sprintf("n%d-disk2", i+1))}})
	}
	return c
}

func (c *fakeCluster) Nodes() []Node { return c.nodes }

func (c *fakeCluster) note(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, fmt.Sprintf(format, args...))
}

func (c *fakeCluster) Cut(i int) error {
	c.note("cut %d", i)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = i
	return nil
}

func (c *fakeCluster) Heal(i int) error {
	c.note("heal %d", i)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = -1
	return nil
}

func (c *fakeCluster) DrainDisk(_ context.Context, node, disk int) error {
	c.note("drain %d:%d", node, disk)
	if c.refuse {
		return fmt.Errorf("%w: unplaceable", ErrRefused)
	}
	return nil
}

func (c *fakeCluster) RestoreDisk(_ context.Context, node, disk int) error {
	c.note("restore %d:%d", node, disk)
	return nil
}

func (c *fakeCluster) Rebalance(context.Context) (int64, int64, error) {
	c.note("rebalance")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failing {
		return 0, 0, errors.New("2 of 9 moves failed")
	}
	if len(c.moves) == 0 {
		return 0, 0, nil
	}
	m := c.moves[0]
	c.moves = c.moves[1:]
	return m, 0, nil
}

func (c *fakeCluster) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.calls, ", ")
}

func testThrasher(cfg Config, c Cluster) *thrasher {
	cfg.setDefaults()
	return newThrasher(cfg, c)
}

// TestRunRefusesFaultsTheClusterCannotInject: cut and drain need the
// optional interfaces (and a cut, more than one node).
func TestRunRefusesFaultsTheClusterCannotInject(t *testing.T) {
	plain := struct{ Cluster }{newFakeCluster(t, 3)}
	for name, tc := range map[string]struct {
		f Faults
		c Cluster
	}{
		"cut without Cutter":     {Faults{Cut: 1}, plain},
		"drain without Changer":  {Faults{Drain: 1}, plain},
		"cut of the single node": {Faults{Cut: 1}, newFakeCluster(t, 1)},
	} {
		_, err := Run(context.Background(), Config{Faults: tc.f}, tc.c)
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Run = %v, want ErrConfig", name, err)
		}
	}
	c := Config{Faults: Faults{Cut: -1}}
	c.setDefaults()
	if err := c.Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("a negative cut weight: %v", err)
	}
	c = Config{Faults: Faults{Drain: 1, MinRounds: 2}}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("drain alone with MinRounds: %v", err)
	}
}

// TestCut: a cut round cuts the node, heals it after CutFor/2..CutFor,
// and closes its fault window only once the node lists buckets again.
func TestCut(t *testing.T) {
	c := newFakeCluster(t, 3)
	th := testThrasher(Config{Faults: Faults{Cut: 1, CutFor: 40 * time.Millisecond, HealGrace: time.Millisecond}}, c)
	began := time.Now()
	if err := th.cut(context.Background(), rngFor(1, 1), "FAULT 1", 2); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 20*time.Millisecond {
		t.Errorf("the cut lasted %s, less than CutFor/2", took)
	}
	if got := c.log(); got != "cut 2, heal 2" {
		t.Errorf("cluster calls: %s", got)
	}
	if len(th.windows) != 1 || th.windows[0][1] == 0 {
		t.Errorf("fault windows %v: want one, closed", th.windows)
	}
	if th.faults[FaultCut] != 1 || th.failed() {
		t.Errorf("faults %v, violations %v", th.faults, th.violations)
	}
	// A cut dealt from the deck counts once too.
	if err := th.inject(context.Background(), rngFor(1, 2), 2, FaultCut); err != nil {
		t.Fatal(err)
	}
	if th.faults[FaultCut] != 2 {
		t.Errorf("after a second cut, faults %v", th.faults)
	}
	hist := th.hist.all()
	for _, want := range []string{"FAULT 1: cut node3 off the network for", "FAULT 1: node3 healed; it lists buckets again"} {
		if !strings.Contains(hist, want) {
			t.Errorf("history lacks %q:\n%s", want, hist)
		}
	}
}

// TestDrainRounds: the first drain round drains a disk and settles; the
// next restores it, settles, and drains one again; a refusal is counted,
// not an error.
func TestDrainRounds(t *testing.T) {
	c := newFakeCluster(t, 3)
	th := testThrasher(Config{Faults: Faults{Drain: 1}}, c)
	ctx := context.Background()
	c.moves = []int64{7, 2}
	if err := th.drainRound(ctx, rngFor(3, 1), "FAULT 1"); err != nil {
		t.Fatal(err)
	}
	first := th.drained
	if first.node < 0 || !strings.HasPrefix(c.log(), fmt.Sprintf("drain %d:%d, rebalance, rebalance, rebalance", first.node, first.disk)) {
		t.Fatalf("first round: drained %v, calls %s", first, c.log())
	}
	c.calls = nil
	if err := th.drainRound(ctx, rngFor(3, 2), "FAULT 2"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.log(), fmt.Sprintf("restore %d:%d, rebalance, drain ", first.node, first.disk)) {
		t.Errorf("second round: %s", c.log())
	}
	if th.faults[FaultDrain] != 2 || th.faults["restore"] != 1 || th.faults["settle-rounds"] != 5 || th.failed() {
		t.Errorf("faults %v, violations %v", th.faults, th.violations)
	}
	// With a disk damaged, the final checks replace it before they
	// restore the disk still drained.
	c.calls = nil
	last := th.drained
	th.damaged = diskRef{node: (last.node + 1) % 3, disk: 1}
	if err := th.settleFinal(ctx); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("stop node%d, start node%d, restore %d:%d, rebalance", (last.node+1)%3+1, (last.node+1)%3+1, last.node, last.disk); th.drained != noDisk || th.damaged != noDisk || c.log() != want {
		t.Errorf("final: drained %v, damaged %v, calls %s, want %s", th.drained, th.damaged, c.log(), want)
	}
	c.refuse = true
	if err := th.drainRound(ctx, rngFor(3, 3), "FAULT 3"); err != nil {
		t.Fatal(err)
	}
	if th.drained != noDisk || th.faults["drain-refused"] != 1 || th.faults[FaultDrain] != 2 {
		t.Errorf("after a refusal: drained %v, faults %v", th.drained, th.faults)
	}
	// The same seed drains the same disk.
	a, b := pickDrain(rngFor(9, 9), c.Nodes()), pickDrain(rngFor(9, 9), c.Nodes())
	if a != b || a.node < 0 || a.node >= 3 || a.disk < 0 || a.disk >= 2 {
		t.Errorf("pickDrain: %v and %v", a, b)
	}
}

// TestSettleGivesUp: a rebalancer that keeps failing is a violation after
// settleRounds rounds.
func TestSettleGivesUp(t *testing.T) {
	c := newFakeCluster(t, 3)
	c.failing = true
	th := testThrasher(Config{Faults: Faults{Drain: 1}}, c)
	if err := th.settle(context.Background(), "FAULT 1"); err != nil {
		t.Fatal(err)
	}
	if !th.failed() || len(th.violations) != 1 || !strings.Contains(th.violations[0], "does not settle") ||
		!strings.Contains(th.violations[0], "moves failed") || th.faults["settle-rounds"] != settleRounds {
		t.Errorf("violations %v, faults %v", th.violations, th.faults)
	}
}
