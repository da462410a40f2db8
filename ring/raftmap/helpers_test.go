package raftmap

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var testSecret = []byte("basalt-test-cluster-secret")

// testLogger discards logs unless RAFTMAP_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("RAFTMAP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testConfig is a node on a free 127.0.0.1 port with raft's timers
// shortened.
func testConfig(t testing.TB, dir, id string) Config {
	return Config{
		ID:                 id,
		Dir:                filepath.Join(dir, id),
		Bind:               "127.0.0.1:0",
		Secret:             testSecret,
		Logger:             testLogger(),
		HeartbeatTimeout:   150 * time.Millisecond,
		ElectionTimeout:    150 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
	}
}

func open(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := Open(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.ID, err)
	}
	t.Cleanup(func() { _ = n.Shutdown() })
	return n
}

// reopen restarts a shut-down node on the same directory and address.
func reopen(t testing.TB, cfg Config, old *Node) *Node {
	t.Helper()
	cfg.Bind = old.Addr()
	return open(t, cfg)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor waits, on the node's own change notifications, until cond
// holds.
func waitFor(t testing.TB, ctx context.Context, n *Node, what string, cond func(id string) bool) string {
	t.Helper()
	for {
		id, _, changed := n.leaderView()
		if cond(id) {
			return id
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("%s: waiting for %s: %v", n.ID(), what, ctx.Err())
		}
	}
}

// waitLeaderSelf waits until n leads.
func waitLeaderSelf(t testing.TB, ctx context.Context, n *Node) {
	t.Helper()
	waitFor(t, ctx, n, "leadership", func(id string) bool { return id == n.ID() && n.State() == StateLeader })
}

// waitNewLeader waits until n knows a leader other than old.
func waitNewLeader(t testing.TB, ctx context.Context, n *Node, old string) string {
	t.Helper()
	return waitFor(t, ctx, n, "a new leader", func(id string) bool { return id != "" && id != old })
}

// leaderOf returns the node that leads among nodes (after every node
// agrees on it).
func leaderOf(t testing.TB, ctx context.Context, nodes ...*Node) *Node {
	t.Helper()
	for {
		var chans []reflect.SelectCase
		ids := map[string]bool{}
		for _, n := range nodes {
			id, _, changed := n.leaderView()
			ids[id] = true
			chans = append(chans, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(changed)})
		}
		if len(ids) == 1 {
			for _, n := range nodes {
				if ids[n.ID()] && n.State() == StateLeader {
					return n
				}
			}
		}
		chans = append(chans, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
		if i, _, _ := reflect.Select(chans); i == len(chans)-1 {
			t.Fatalf("no agreed leader: %v", ctx.Err())
		}
	}
}

// stateOf is a node's state, encoded.
func stateOf(t testing.TB, n *Node) []byte {
	t.Helper()
	b, err := n.fsm.encodeState()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// converge syncs every node and checks that their states are equal.
func converge(t testing.TB, ctx context.Context, nodes ...*Node) []byte {
	t.Helper()
	var first []byte
	for i, n := range nodes {
		if err := n.Sync(ctx); err != nil {
			t.Fatalf("sync %s: %v", n.ID(), err)
		}
		s := stateOf(t, n)
		if i == 0 {
			first = s
		} else if !bytes.Equal(first, s) {
			t.Fatalf("%s and %s differ:\n%s\n%s", nodes[0].ID(), n.ID(), first, s)
		}
	}
	return first
}
