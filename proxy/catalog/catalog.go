package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/basaltstore/basalt/ring/raftmap"
)

// TokenKeySetting names the cluster setting that holds the token signing
// key (hex).
const TokenKeySetting = "token-key"

// ErrNotReady: the catalog has no token key yet (Bootstrap has not run).
var ErrNotReady = errors.New("catalog: not bootstrapped")

// Catalog reads and changes the replicated catalog through a raftmap.Node.
type Catalog struct {
	node  *raftmap.Node
	owned bool // Close shuts the node down
	now   func() time.Time
}

// New wraps a running node.
func New(n *raftmap.Node) *Catalog { return &Catalog{node: n, now: time.Now} }

// OpenLocal opens (or creates) a one-voter catalog in dir, listening on a
// free port of 127.0.0.1, and bootstraps it: for tests and tools that need
// a real catalog on one machine.
func OpenLocal(dir string, log *slog.Logger) (*Catalog, error) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	n, err := raftmap.Open(raftmap.Config{
		ID: "local", Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Secret: secret, Logger: log,
		HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond, CommitTimeout: 5 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	c := &Catalog{node: n, owned: true, now: time.Now}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Bootstrap(ctx); err != nil {
		_ = n.Shutdown()
		return nil, err
	}
	return c, nil
}

// Close shuts the node down if OpenLocal opened it.
func (c *Catalog) Close() error {
	if c.owned {
		return c.node.Shutdown()
	}
	return nil
}

// Node is the raftmap node behind the catalog.
func (c *Catalog) Node() *raftmap.Node { return c.node }

// Bootstrap creates, where missing, the default domain and the token
// signing key. Every node may run it: the key is proposed "once", so the
// first proposal wins and the others change nothing.
func (c *Catalog) Bootstrap(ctx context.Context) error {
	if err := c.node.Sync(ctx); err != nil {
		return fmt.Errorf("catalog: bootstrap: %w", err)
	}
	v := c.View()
	if _, ok := v.Domain(raftmap.DefaultDomain); !ok {
		err := c.Propose(ctx, raftmap.PutDomain{Domain: raftmap.Domain{ID: raftmap.DefaultDomain, Name: "Default", Created: c.now().UTC()}})
		if err != nil && !errors.Is(err, raftmap.ErrExists) {
			return fmt.Errorf("catalog: bootstrap: %w", err)
		}
	}
	if _, ok := v.Setting(TokenKeySetting); !ok {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		err := c.Propose(ctx, raftmap.PutSetting{Name: TokenKeySetting, Value: hex.EncodeToString(key), Once: true})
		if err != nil && !errors.Is(err, raftmap.ErrExists) {
			return fmt.Errorf("catalog: bootstrap: %w", err)
		}
	}
	return nil
}

// View returns an immutable view of the catalog as this node has applied
// it.
func (c *Catalog) View() *raftmap.View { return c.node.View() }

// Sync makes the views taken after it see every write acknowledged before
// it was called; it fails (raftmap.ErrNoLeader) on a node cut off from the
// majority.
func (c *Catalog) Sync(ctx context.Context) error { return c.node.Sync(ctx) }

// Propose commits a command and waits until this node has applied it.
func (c *Catalog) Propose(ctx context.Context, cmd raftmap.Command) error {
	res, err := c.node.Propose(ctx, cmd)
	if err != nil {
		return err
	}
	return c.waitApplied(ctx, res.Index)
}

// waitApplied waits until this node's view includes index.
func (c *Catalog) waitApplied(ctx context.Context, index uint64) error {
	if c.View().Index() >= index {
		return nil
	}
	// A follower applies the entry a heartbeat later at most; Sync waits
	// for exactly that.
	return c.node.Sync(ctx)
}

// CreateBucket records a bucket owned by project owner ("" for none).
func (c *Catalog) CreateBucket(ctx context.Context, name, owner string) error {
	return c.Propose(ctx, raftmap.CreateBucket{Bucket: raftmap.Bucket{Name: name, Owner: owner, Created: c.now().UTC()}})
}

// DeleteBucket removes a bucket's record.
func (c *Catalog) DeleteBucket(ctx context.Context, name string) error {
	return c.Propose(ctx, raftmap.DeleteBucket{Name: name})
}

// SetBucketMeta changes a bucket's metadata.
func (c *Catalog) SetBucketMeta(ctx context.Context, name string, set map[string]string, remove []string) error {
	return c.Propose(ctx, raftmap.SetMeta{Bucket: name, Set: set, Remove: remove})
}

// SetProjectMeta changes a project's metadata.
func (c *Catalog) SetProjectMeta(ctx context.Context, project string, set map[string]string, remove []string) error {
	return c.Propose(ctx, raftmap.SetMeta{Project: project, Set: set, Remove: remove})
}

// Revoke records a token revocation.
func (c *Catalog) Revoke(ctx context.Context, r raftmap.Revocation) error {
	return c.Propose(ctx, raftmap.Revoke{Revocation: r, Now: c.now().UTC()})
}

// TokenKey returns the token signing key, the same on every node; nil
// before Bootstrap.
func (c *Catalog) TokenKey() []byte {
	s, ok := c.View().Setting(TokenKeySetting)
	if !ok {
		return nil
	}
	k, err := hex.DecodeString(s)
	if err != nil {
		return nil
	}
	return k
}

// SetBucketSetting sets a bucket's named setting (its versioning, CORS,
// policy, ... configuration) to value encoded as JSON; a nil value
// removes it.
func (c *Catalog) SetBucketSetting(ctx context.Context, bucket, name string, value any) error {
	var raw json.RawMessage
	if value != nil {
		b, err := json.Marshal(value)
		if err != nil {
			return fmt.Errorf("catalog: setting %s: %w", name, err)
		}
		raw = b
	}
	return c.Propose(ctx, raftmap.SetBucketSetting{Bucket: bucket, Name: name, Value: raw})
}

// BucketSetting decodes a bucket's named setting into out and reports
// whether the bucket has it, as view v sees it.
func BucketSetting(v *raftmap.View, bucket, name string, out any) (bool, error) {
	b, ok := v.Bucket(bucket)
	if !ok || len(b.Settings) == 0 {
		return false, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b.Settings, &all); err != nil {
		return false, nil
	}
	raw, ok := all[name]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return false, fmt.Errorf("catalog: setting %s of bucket %s: %w", name, bucket, err)
	}
	return true, nil
}
