package raftmap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/basaltstore/basalt/ring"
)

// Config configures a Node. Zero timing fields take raft's defaults.
type Config struct {
	// ID names the node in the group; 1..128 bytes of [A-Za-z0-9._:-].
	ID string
	// Dir holds the node's log and stable store (Dir/log) and snapshots
	// (Dir/snapshots).
	Dir string
	// Bind is the TCP address the node listens on ("127.0.0.1:7946"; port
	// 0 picks a free one). Raft and the control RPC share it.
	Bind string
	// Advertise is the address the others reach the node at; empty means
	// the bound address, which must then not be a wildcard.
	Advertise string
	// Bootstrap makes a node with no state the one voter of a new group.
	// It is ignored when the node has state.
	Bootstrap bool
	// Secret is the cluster secret (at least 16 bytes) that every member
	// shares; connections that do not prove it are refused.
	Secret []byte
	// Logger receives the node's and raft's logs; nil discards them.
	Logger *slog.Logger

	HeartbeatTimeout   time.Duration // default 1 s
	ElectionTimeout    time.Duration // default 1 s
	LeaderLeaseTimeout time.Duration // default 500 ms
	CommitTimeout      time.Duration // default 50 ms
	SnapshotInterval   time.Duration // default 120 s
	SnapshotThreshold  uint64        // entries between snapshots; default 8192
	TrailingLogs       uint64        // entries kept after a snapshot; default 10240
	RetainSnapshots    int           // default 2
}

// MinSecretLen is the shortest cluster secret accepted.
const MinSecretLen = 16

func validID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// Validate checks the config.
func (c Config) Validate() error {
	switch {
	case !validID(c.ID):
		return fmt.Errorf("%w: node id %q", ErrConfig, c.ID)
	case c.Dir == "":
		return fmt.Errorf("%w: no directory", ErrConfig)
	case c.Bind == "":
		return fmt.Errorf("%w: no bind address", ErrConfig)
	case len(c.Secret) < MinSecretLen:
		return fmt.Errorf("%w: cluster secret shorter than %d bytes", ErrConfig, MinSecretLen)
	case c.RetainSnapshots < 0:
		return fmt.Errorf("%w: retain %d snapshots", ErrConfig, c.RetainSnapshots)
	}
	if err := raft.ValidateConfig(c.raftConfig()); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

func (c Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.ID)
	set := func(dst *time.Duration, v time.Duration) {
		if v > 0 {
			*dst = v
		}
	}
	set(&rc.HeartbeatTimeout, c.HeartbeatTimeout)
	set(&rc.ElectionTimeout, c.ElectionTimeout)
	set(&rc.LeaderLeaseTimeout, c.LeaderLeaseTimeout)
	set(&rc.CommitTimeout, c.CommitTimeout)
	set(&rc.SnapshotInterval, c.SnapshotInterval)
	if c.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = c.SnapshotThreshold
	}
	if c.TrailingLogs > 0 {
		rc.TrailingLogs = c.TrailingLogs
	}
	rc.NoLegacyTelemetry = true
	return rc
}

// State is a node's role in the group.
type State string

// States.
const (
	StateFollower  State = "follower"
	StateCandidate State = "candidate"
	StateLeader    State = "leader"
	StateShutdown  State = "shutdown"
)

// Member is one server of the group's configuration.
type Member struct {
	ID    string `json:"id"`
	Addr  string `json:"addr"`
	Voter bool   `json:"voter"`
}

// Node is one member of the Raft group that replicates the cluster map and
// the catalog. Its methods are safe for concurrent use.
type Node struct {
	cfg   Config
	log   *slog.Logger
	fsm   *fsm
	store *store
	mux   *mux
	trans *raft.NetworkTransport
	raft  *raft.Raft

	observer *raft.Observer
	obsCh    chan raft.Observation

	leaderMu sync.Mutex
	leaderCh chan struct{} // closed and replaced when the leader or state changes

	confMu sync.Mutex // serialises membership changes on the leader

	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// Open starts a node: it opens (or creates) its stores in cfg.Dir,
// listens on cfg.Bind and joins raft. A node that has no state waits to be
// added by a member (Join, RequestJoin) unless cfg.Bootstrap is set.
func Open(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RetainSnapshots == 0 {
		cfg.RetainSnapshots = 2
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	lg = lg.With("node", cfg.ID)
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	st, err := openStore(filepath.Join(cfg.Dir, "log"), lg)
	if err != nil {
		return nil, err
	}
	hl := newHCLogger(lg)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, cfg.RetainSnapshots, hl)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("%w: snapshots: %v", ErrStore, err)
	}
	ln, err := net.Listen("tcp", cfg.Bind)
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("%w: listen %s: %v", ErrConfig, cfg.Bind, err)
	}
	adv, err := advertiseAddr(cfg.Advertise, ln.Addr())
	if err != nil {
		_ = ln.Close()
		_ = st.Close()
		return nil, err
	}
	n := &Node{
		cfg:      cfg,
		log:      lg,
		fsm:      newFSM(),
		store:    st,
		leaderCh: make(chan struct{}),
		closed:   make(chan struct{}),
	}
	n.mux = newMux(ln, adv, cfg.Secret, lg)
	n.mux.control = n.serveControl
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  n.mux,
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  hl,
	})
	fail := func(err error) (*Node, error) {
		_ = n.trans.Close()
		_ = st.Close()
		return nil, err
	}
	rc := cfg.raftConfig()
	rc.Logger = hl
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(st, st, snaps)
		if err != nil {
			return fail(fmt.Errorf("%w: %v", ErrStore, err))
		}
		if !has {
			conf := raft.Configuration{Servers: []raft.Server{{
				Suffrage: raft.Voter, ID: rc.LocalID, Address: n.trans.LocalAddr(),
			}}}
			if err := raft.BootstrapCluster(rc, st, st, snaps, n.trans, conf); err != nil {
				return fail(fmt.Errorf("%w: bootstrap: %v", ErrStore, err))
			}
		}
	}
	r, err := raft.NewRaft(rc, n.fsm, st, st, snaps, n.trans)
	if err != nil {
		return fail(fmt.Errorf("%w: start raft: %v", ErrStore, err))
	}
	n.raft = r
	n.obsCh = make(chan raft.Observation, 64)
	n.observer = raft.NewObserver(n.obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
	r.RegisterObserver(n.observer)
	n.wg.Add(1)
	go n.observe()
	n.mux.wg.Add(1)
	go n.mux.serve()
	lg.Info("raft node started", "addr", adv.String(), "bootstrap", cfg.Bootstrap)
	return n, nil
}

func advertiseAddr(advertise string, bound net.Addr) (net.Addr, error) {
	if advertise == "" {
		a, ok := bound.(*net.TCPAddr)
		if !ok || a.IP == nil || a.IP.IsUnspecified() {
			return nil, fmt.Errorf("%w: bound to %s: set an advertise address", ErrConfig, bound)
		}
		return a, nil
	}
	a, err := net.ResolveTCPAddr("tcp", advertise)
	if err != nil {
		return nil, fmt.Errorf("%w: advertise %s: %v", ErrConfig, advertise, err)
	}
	if a.IP == nil || a.IP.IsUnspecified() || a.Port == 0 {
		return nil, fmt.Errorf("%w: advertise %s is not reachable", ErrConfig, advertise)
	}
	return a, nil
}

// observe turns raft's leader and state observations into wake-ups.
func (n *Node) observe() {
	defer n.wg.Done()
	for {
		select {
		case <-n.obsCh:
			n.leaderMu.Lock()
			close(n.leaderCh)
			n.leaderCh = make(chan struct{})
			n.leaderMu.Unlock()
		case <-n.closed:
			return
		}
	}
}

// leaderView returns the leader this node knows (empty when none), and a
// channel closed at the next change of leader or state. The channel is
// taken first, so a change after the read always closes it.
func (n *Node) leaderView() (id, addr string, changed <-chan struct{}) {
	n.leaderMu.Lock()
	changed = n.leaderCh
	n.leaderMu.Unlock()
	a, i := n.raft.LeaderWithID()
	return string(i), string(a), changed
}

// Shutdown stops the node and closes its stores. It is idempotent.
func (n *Node) Shutdown() error {
	n.closeOnce.Do(func() {
		close(n.closed)
		n.raft.DeregisterObserver(n.observer)
		rerr := n.raft.Shutdown().Error()
		terr := n.trans.Close()
		n.wg.Wait()
		serr := n.store.Close()
		n.closeErr = errors.Join(rerr, terr, serr)
		n.log.Info("raft node stopped")
	})
	return n.closeErr
}

// ID is the node's id.
func (n *Node) ID() string { return n.cfg.ID }

// Addr is the node's advertised address.
func (n *Node) Addr() string { return n.mux.Addr().String() }

// Leader returns the leader's id and address as this node knows them
// (empty when it knows none).
func (n *Node) Leader() (id, addr string) {
	id, addr, _ = n.leaderView()
	return id, addr
}

// State is the node's current role.
func (n *Node) State() State {
	switch n.raft.State() {
	case raft.Leader:
		return StateLeader
	case raft.Candidate:
		return StateCandidate
	case raft.Follower:
		return StateFollower
	}
	return StateShutdown
}

// WaitLeader waits until this node knows a leader, and returns it.
func (n *Node) WaitLeader(ctx context.Context) (id, addr string, err error) {
	for {
		id, addr, changed := n.leaderView()
		if id != "" {
			return id, addr, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", "", fmt.Errorf("%w: %w", ErrNoLeader, ctx.Err())
		case <-n.closed:
			return "", "", ErrShutdown
		}
	}
}

// Members returns the group's latest configuration as this node knows it.
func (n *Node) Members() ([]Member, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, n.raftErr(err)
	}
	var out []Member
	for _, s := range f.Configuration().Servers {
		out = append(out, Member{ID: string(s.ID), Addr: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// Snapshot makes the node take a snapshot now (raft takes them by itself
// after SnapshotThreshold entries).
func (n *Node) Snapshot() error {
	err := n.raft.Snapshot().Error()
	if errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrStore, err)
	}
	return nil
}

// AppliedIndex is the log index of the last command applied to the local
// state.
func (n *Node) AppliedIndex() uint64 {
	i, _ := n.fsm.applied()
	return i
}

// Local reads. They see the local state, which may lag the leader's by
// the replication delay; call Sync first to see every acknowledged write.

// Map returns the cluster map. It must not be changed (ring.Apply returns
// a new one).
func (n *Node) Map() *ring.Map { return n.fsm.snapshotMap() }

// InContact reports whether this node has heard from the Raft leader
// within d, or leads (a leader that loses its quorum steps down after
// the leader lease). A node cut off from the others answers false within
// about d: it should stop serving what it cannot know is current.
func (n *Node) InContact(d time.Duration) bool {
	if n.raft.State() == raft.Leader {
		return true
	}
	lc := n.raft.LastContact()
	return !lc.IsZero() && time.Since(lc) <= d
}

// Ring returns the ring built from the cluster map (nil until the map has
// a placeable policy). Every node applies the same commands, so every
// node has the same ring for the same epoch.
func (n *Node) Ring() *ring.Ring { return n.fsm.ring() }

// Bucket returns a bucket's record.
func (n *Node) Bucket(name string) (Bucket, bool) { return n.fsm.bucket(name) }

// Buckets returns every bucket whose name starts with prefix, by name.
func (n *Node) Buckets(prefix string) []Bucket { return n.fsm.bucketList(prefix) }

// User returns a user's record.
func (n *Node) User(name string) (User, bool) { return n.fsm.user(name) }

// Key returns an access key's record.
func (n *Node) Key(accessKey string) (Key, bool) { return n.fsm.key(accessKey) }

// View returns a consistent, immutable view of the catalog as this node
// has applied it (see the package comment for its freshness). It is cheap:
// it costs the next command a copy of the catalog's maps.
func (n *Node) View() *View { return n.fsm.view() }

// Watch delivers the map's epoch: the current one at once, then each newer
// one as the local state reaches it. A slow reader gets the latest epoch,
// not every one in between. The channel is closed when ctx ends or the
// node shuts down.
func (n *Node) Watch(ctx context.Context) <-chan uint64 {
	out := make(chan uint64)
	go func() {
		defer close(out)
		var sent uint64
		first := true
		for {
			epoch, changed := n.fsm.epoch()
			if first || epoch != sent {
				select {
				case out <- epoch:
					sent, first = epoch, false
				case <-changed:
				case <-ctx.Done():
					return
				case <-n.closed:
					return
				}
				continue
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			case <-n.closed:
				return
			}
		}
	}()
	return out
}

// Writes, membership and Sync: executed by the leader, forwarded to it by
// the others.

const (
	opPropose   = "propose"
	opReadIndex = "read-index"
	opJoin      = "join"
	opRemove    = "remove"
	opPing      = "ping"
)

type request struct {
	Op        string          `json:"op"`
	Command   json.RawMessage `json:"cmd,omitempty"`
	ID        string          `json:"id,omitempty"`
	Addr      string          `json:"addr,omitempty"`
	Voter     bool            `json:"voter,omitempty"`
	Forward   bool            `json:"forward,omitempty"`
	TimeoutMS int64           `json:"timeout_ms,omitempty"`
}

type response struct {
	Result Result     `json:"result"`
	ID     string     `json:"id,omitempty"`
	Err    *wireError `json:"err,omitempty"`
}

// Propose replicates cmd through the leader (forwarding it when this node
// is not the leader) and returns once it is committed and applied on the
// leader. A command the state refuses returns its error (wrapping one of
// the catalog's sentinels, or ErrMapRefused and ring's) with the Result of
// its log entry. Propose waits, within ctx, for a leader to be elected;
// it never sends a command twice, so an answer lost on the way wraps
// ErrUnknownOutcome.
func (n *Node) Propose(ctx context.Context, cmd Command) (Result, error) {
	data, err := EncodeCommand(cmd)
	if err != nil {
		return Result{}, err
	}
	resp, err := n.onLeader(ctx, &request{Op: opPropose, Command: data})
	if resp == nil {
		return Result{}, err
	}
	return resp.Result, err
}

// Sync returns once the local state holds every write acknowledged before
// Sync was called: the leader commits a barrier and reports what it has
// applied, and this node waits until it has applied as much.
func (n *Node) Sync(ctx context.Context) error {
	resp, err := n.onLeader(ctx, &request{Op: opReadIndex})
	if err != nil {
		return err
	}
	return n.fsm.waitApplied(ctx, resp.Result.Index, n.closed)
}

// Join adds node id at addr as a voter. The node must be running with the
// same cluster secret: the leader checks that it answers as id first.
// Joining a member again with the same address is a no-op; another member
// with the same id or address is ErrDuplicateNode.
func (n *Node) Join(ctx context.Context, id, addr string) error {
	_, err := n.onLeader(ctx, &request{Op: opJoin, ID: id, Addr: addr, Voter: true})
	return err
}

// AddNonvoter adds node id at addr as a non-voter: it receives the log
// (and serves local reads) but does not vote. For storage-only nodes.
func (n *Node) AddNonvoter(ctx context.Context, id, addr string) error {
	_, err := n.onLeader(ctx, &request{Op: opJoin, ID: id, Addr: addr})
	return err
}

// RequestJoin asks the member at peer to add this node (as a voter or
// not); the member forwards the request to its leader. This is how a new
// node enters an existing group.
func (n *Node) RequestJoin(ctx context.Context, peer string, voter bool) error {
	_, err := n.call(ctx, peer, &request{Op: opJoin, ID: n.cfg.ID, Addr: n.Addr(), Voter: voter, Forward: true})
	return err
}

// Remove removes node id from the group. Removing the last voter is
// refused (ErrLastVoter).
func (n *Node) Remove(ctx context.Context, id string) error {
	_, err := n.onLeader(ctx, &request{Op: opRemove, ID: id})
	return err
}

// transportError is a failure to reach a peer or to hear its answer.
// Before the request was sent (sent false) the peer did nothing.
type transportError struct {
	err  error
	sent bool
}

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func retryable(op string, err error) bool {
	var te *transportError
	if errors.As(err, &te) {
		return !te.sent || op == opReadIndex
	}
	if errors.Is(err, ErrNotLeader) || errors.Is(err, ErrNoLeader) {
		return true
	}
	return op == opReadIndex && errors.Is(err, ErrUnknownOutcome)
}

const (
	retryMin = 20 * time.Millisecond
	retryMax = time.Second
)

// onLeader runs req on the leader: here when this node leads, else over
// the control channel. It retries, within ctx, when the request certainly
// did not run (no leader, not the leader, leader unreachable), waking on
// leader changes and after a growing delay.
func (n *Node) onLeader(ctx context.Context, req *request) (*response, error) {
	wait := retryMin
	for {
		select {
		case <-n.closed:
			return nil, ErrShutdown
		default:
		}
		if n.raft.State() == raft.Shutdown {
			// Raft stops by itself when the node is removed from the group.
			return nil, fmt.Errorf("%w: raft stopped (removed from the group?)", ErrShutdown)
		}
		id, addr, changed := n.leaderView()
		var resp *response
		var err error
		switch {
		case id == "":
			err = fmt.Errorf("%w: none known to %s", ErrNoLeader, n.cfg.ID)
		case id == n.cfg.ID:
			resp, err = n.local(ctx, req)
		default:
			fwd := *req
			fwd.Forward = false
			resp, err = n.call(ctx, addr, &fwd)
		}
		if err == nil || !retryable(req.Op, err) || ctx.Err() != nil {
			return resp, err
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
		case <-t.C:
			wait = min(2*wait, retryMax)
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: gave up (%w): %w", ErrNoLeader, ctx.Err(), err)
		case <-n.closed:
			t.Stop()
			return nil, ErrShutdown
		}
		t.Stop()
	}
}

func (n *Node) notLeader() error {
	id, addr, _ := n.leaderView()
	if id == n.cfg.ID {
		id, addr = "", ""
	}
	return &NotLeaderError{LeaderID: id, LeaderAddr: addr}
}

// raftErr maps raft's errors to this package's.
func (n *Node) raftErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return n.notLeader()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrAbortedByRestore):
		return fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrShutdown
	}
	return fmt.Errorf("%w: raft: %v", ErrUnknownOutcome, err)
}

// await waits for a raft future within ctx.
func (n *Node) await(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return n.raftErr(err)
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, ctx.Err())
	}
}

// local runs req on this node, which must lead (except for ping).
func (n *Node) local(ctx context.Context, req *request) (*response, error) {
	if req.Op == opPing {
		return &response{ID: n.cfg.ID}, nil
	}
	if n.raft.State() != raft.Leader {
		return nil, n.notLeader()
	}
	switch req.Op {
	case opPropose:
		if _, err := DecodeCommand(req.Command); err != nil {
			return nil, err
		}
		f := n.raft.Apply(req.Command, 0)
		if err := n.await(ctx, f); err != nil {
			return nil, err
		}
		ar, ok := f.Response().(*applyResult)
		if !ok {
			return nil, fmt.Errorf("%w: no result from the state machine", ErrProtocol)
		}
		return &response{Result: ar.res}, ar.err
	case opReadIndex:
		if err := n.await(ctx, n.raft.Barrier(0)); err != nil {
			return nil, err
		}
		idx, _ := n.fsm.applied()
		return &response{Result: Result{Index: idx}}, nil
	case opJoin:
		return &response{}, n.join(ctx, req.ID, req.Addr, req.Voter)
	case opRemove:
		return &response{}, n.remove(ctx, req.ID)
	}
	return nil, fmt.Errorf("%w: op %q", ErrProtocol, req.Op)
}

func (n *Node) join(ctx context.Context, id, addr string, voter bool) error {
	if !validID(id) {
		return fmt.Errorf("%w: node id %q", ErrConfig, id)
	}
	if addr == "" {
		return fmt.Errorf("%w: node %s has no address", ErrConfig, id)
	}
	if _, err := advertiseAddr(addr, nil); err != nil {
		return err
	}
	n.confMu.Lock()
	defer n.confMu.Unlock()
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return n.raftErr(err)
	}
	for _, s := range cf.Configuration().Servers {
		sameID, sameAddr := string(s.ID) == id, string(s.Address) == addr
		switch {
		case sameID && sameAddr:
			if !voter || s.Suffrage == raft.Voter {
				return nil
			}
		case sameID:
			return fmt.Errorf("%w: id %s is already a member, at %s", ErrDuplicateNode, id, s.Address)
		case sameAddr:
			return fmt.Errorf("%w: address %s is already member %s", ErrDuplicateNode, addr, s.ID)
		}
	}
	// The node must answer, as id, with the cluster secret: adding a voter
	// that cannot be reached would stall every later commit.
	resp, err := n.call(ctx, addr, &request{Op: opPing})
	if errors.Is(err, ErrBadSecret) {
		return fmt.Errorf("%w (node %s at %s)", err, id, addr)
	}
	if err != nil {
		return fmt.Errorf("%w: %s at %s: %v", ErrUnreachable, id, addr, err)
	}
	if resp.ID != id {
		return fmt.Errorf("%w: %s answers as %q, not %q", ErrUnreachable, addr, resp.ID, id)
	}
	var f raft.IndexFuture
	if voter {
		f = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), cf.Index(), 0)
	} else {
		f = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), cf.Index(), 0)
	}
	if err := n.await(ctx, f); err != nil {
		return err
	}
	n.log.Info("member added", "id", id, "addr", addr, "voter", voter)
	return nil
}

func (n *Node) remove(ctx context.Context, id string) error {
	n.confMu.Lock()
	defer n.confMu.Unlock()
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return n.raftErr(err)
	}
	found, isVoter, voters := false, false, 0
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
		if string(s.ID) == id {
			found, isVoter = true, s.Suffrage == raft.Voter
		}
	}
	if !found {
		return fmt.Errorf("%w: %q", ErrUnknownNode, id)
	}
	if isVoter && voters == 1 {
		return fmt.Errorf("%w: %s", ErrLastVoter, id)
	}
	if err := n.await(ctx, n.raft.RemoveServer(raft.ServerID(id), cf.Index(), 0)); err != nil {
		return err
	}
	n.log.Info("member removed", "id", id)
	return nil
}

const (
	defaultRPCTimeout = 30 * time.Second
	maxRPCTimeout     = 5 * time.Minute
)

// call sends req to the node at addr over the control channel.
func (n *Node) call(ctx context.Context, addr string, req *request) (*response, error) {
	deadline := time.Now().Add(defaultRPCTimeout)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	var from *net.TCPAddr
	if n.mux != nil {
		from = n.mux.from
	}
	c, key, err := dialChannel(addr, n.cfg.Secret, chanControl, deadline, from)
	if errors.Is(err, ErrBadSecret) {
		return nil, err
	}
	if err != nil {
		return nil, &transportError{err: fmt.Errorf("%w: %s: %v", ErrUnreachable, addr, err)}
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	_ = c.SetDeadline(deadline)
	req.TimeoutMS = time.Until(deadline).Milliseconds()
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if err := writeFrame(c, key, "req", b); err != nil {
		return nil, &transportError{err: fmt.Errorf("%w: %s: %v", ErrUnreachable, addr, err)}
	}
	rb, err := readFrame(c, key, "resp")
	if err != nil {
		if errors.Is(err, ErrBadSecret) {
			return nil, err
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%v (%w)", err, ctx.Err())
		}
		return nil, &transportError{err: fmt.Errorf("%w: %s: %w", ErrUnknownOutcome, addr, err), sent: true}
	}
	var resp response
	if err := strictJSON(rb, &resp); err != nil {
		return nil, fmt.Errorf("%w: response from %s: %v", ErrProtocol, addr, err)
	}
	return &resp, resp.Err.err()
}

// serveControl answers one request on an authenticated control
// connection.
func (n *Node) serveControl(c net.Conn, key []byte) {
	_ = c.SetReadDeadline(time.Now().Add(hsTimeout))
	b, err := readFrame(c, key, "req")
	if err != nil {
		if errors.Is(err, ErrBadSecret) || errors.Is(err, ErrProtocol) {
			n.log.Warn("control request refused", "remote", c.RemoteAddr().String(), "err", err)
		}
		return
	}
	var req request
	var resp *response
	if err = strictJSON(b, &req); err != nil {
		err = fmt.Errorf("%w: request: %v", ErrProtocol, err)
	} else {
		timeout := defaultRPCTimeout
		if req.TimeoutMS > 0 {
			timeout = min(time.Duration(req.TimeoutMS)*time.Millisecond, maxRPCTimeout)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		go func() {
			select {
			case <-n.closed:
				cancel()
			case <-ctx.Done():
			}
		}()
		if req.Forward {
			resp, err = n.onLeader(ctx, &req)
		} else {
			resp, err = n.local(ctx, &req)
		}
		cancel()
	}
	if resp == nil {
		resp = &response{}
	}
	resp.Err = toWire(err)
	out, merr := json.Marshal(resp)
	if merr != nil {
		return
	}
	_ = c.SetWriteDeadline(time.Now().Add(hsTimeout))
	_ = writeFrame(c, key, "resp", out)
}
