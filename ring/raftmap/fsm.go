package raftmap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/basaltstore/basalt/ring"
)

// Result is what a committed command produced.
type Result struct {
	// Index is the command's index in the replicated log.
	Index uint64 `json:"index"`
	// Epoch is the map's epoch after the command.
	Epoch uint64 `json:"epoch"`
}

// applyResult is what fsm.Apply returns to raft for one log entry.
type applyResult struct {
	res Result
	err error
}

// state is the replicated state. A frozen state is shared with a snapshot
// being persisted and is never changed again: the next Apply works on a
// copy (copy on write), so Snapshot costs a pointer.
type state struct {
	frozen  atomic.Bool
	index   uint64 // index of the last command applied
	m       *ring.Map
	r       *ring.Ring // built from m and the ring before; nil until placeable
	buckets map[string]Bucket
	users   map[string]User // by ID
	keys    map[string]Key

	domains     map[string]Domain
	projects    map[string]Project
	assignments map[string]Assignment // by Assignment.key
	revocations map[string]Revocation // by Revocation.key
	settings    map[string]string
}

func newState() *state {
	return &state{
		m:       &ring.Map{},
		buckets: map[string]Bucket{},
		users:   map[string]User{},
		keys:    map[string]Key{},

		domains:     map[string]Domain{},
		projects:    map[string]Project{},
		assignments: map[string]Assignment{},
		revocations: map[string]Revocation{},
		settings:    map[string]string{},
	}
}

func (s *state) clone() *state {
	return &state{
		index:   s.index,
		m:       s.m, // a ring.Map is never changed in place
		r:       s.r, // nor a ring.Ring
		buckets: maps.Clone(s.buckets),
		users:   maps.Clone(s.users),
		keys:    maps.Clone(s.keys),

		domains:     maps.Clone(s.domains),
		projects:    maps.Clone(s.projects),
		assignments: maps.Clone(s.assignments),
		revocations: maps.Clone(s.revocations),
		settings:    maps.Clone(s.settings),
	}
}

// fsm is the state machine given to raft. Apply, Snapshot and Restore run
// on raft's FSM goroutine; the read methods run on any goroutine.
type fsm struct {
	mu      sync.RWMutex
	st      *state
	changed chan struct{} // closed and replaced after every change
}

func newFSM() *fsm {
	return &fsm{st: newState(), changed: make(chan struct{})}
}

var _ raft.FSM = (*fsm)(nil)

// notify wakes every waiter. Callers hold f.mu.
func (f *fsm) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Apply applies one committed command. It is deterministic: the result
// depends only on the state and the entry's bytes and index.
func (f *fsm) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.st.frozen.Load() {
		f.st = f.st.clone()
	}
	var err error
	if l.Type == raft.LogCommand {
		var c Command
		c, err = DecodeCommand(l.Data)
		if err == nil {
			err = c.apply(f.st)
		}
	}
	f.st.index = l.Index
	f.notify()
	return &applyResult{res: Result{Index: l.Index, Epoch: f.st.m.Epoch}, err: err}
}

// Snapshot freezes the current state and hands it to the snapshot.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.frozen.Store(true)
	return &fsmSnapshot{st: f.st}, nil
}

// snapshotFile is the encoding of a snapshot: JSON, records sorted by key.
type snapshotFile struct {
	Version int             `json:"version"`
	Index   uint64          `json:"index"`
	Map     json.RawMessage `json:"map"`
	Ring    []byte          `json:"ring,omitempty"`
	Buckets []Bucket        `json:"buckets"`
	Users   []User          `json:"users"`
	Keys    []Key           `json:"keys"`
	identitySnapshot
}

const snapshotVersion = 1

func sortedValues[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

func (s *state) encode() ([]byte, error) {
	mb, err := s.m.Encode()
	if err != nil {
		return nil, err
	}
	var rb []byte
	if s.r != nil {
		if rb, err = s.r.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return json.Marshal(snapshotFile{
		Version: snapshotVersion,
		Index:   s.index,
		Map:     mb,
		Ring:    rb,
		Buckets: sortedValues(s.buckets),
		Users:   sortedValues(s.users),
		Keys:    sortedValues(s.keys),

		identitySnapshot: s.identitySnapshot(),
	})
}

func decodeState(b []byte) (*state, error) {
	var f snapshotFile
	if err := strictJSON(b, &f); err != nil {
		return nil, fmt.Errorf("%w: snapshot: %v", ErrStore, err)
	}
	if f.Version != snapshotVersion {
		return nil, fmt.Errorf("%w: snapshot version %d", ErrStore, f.Version)
	}
	m, err := ring.DecodeMap(f.Map)
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot map: %w", ErrStore, err)
	}
	s := newState()
	s.index, s.m = f.Index, m
	if len(f.Ring) > 0 {
		if s.r, err = ring.DecodeRing(f.Ring); err != nil {
			return nil, fmt.Errorf("%w: snapshot ring: %w", ErrStore, err)
		}
	}
	for _, b := range f.Buckets {
		s.buckets[b.Name] = b
	}
	for _, u := range f.Users {
		s.users[u.ID] = u
	}
	s.restoreIdentity(f.identitySnapshot)
	for _, k := range f.Keys {
		s.keys[k.AccessKey] = k
	}
	return s, nil
}

// Restore replaces the state with a snapshot's.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("%w: read snapshot: %v", ErrStore, err)
	}
	s, err := decodeState(b)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st = s
	f.notify()
	return nil
}

type fsmSnapshot struct{ st *state }

// Persist writes the frozen state; it runs beside Apply, which no longer
// touches this state.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	b, err := s.st.encode()
	if err == nil {
		_, err = sink.Write(b)
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("%w: persist snapshot: %v", ErrStore, err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

// Reads.

func (f *fsm) snapshotMap() *ring.Map {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.m
}

func (f *fsm) ring() *ring.Ring {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.r
}

func (f *fsm) applied() (index uint64, changed <-chan struct{}) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.index, f.changed
}

func (f *fsm) epoch() (epoch uint64, changed <-chan struct{}) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.m.Epoch, f.changed
}

// waitApplied waits until the command at index (or a later one) is
// applied.
func (f *fsm) waitApplied(ctx context.Context, index uint64, closed <-chan struct{}) error {
	for {
		got, changed := f.applied()
		if got >= index {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%w: applied %d of %d: %w", ErrNoLeader, got, index, ctx.Err())
		case <-closed:
			return ErrShutdown
		}
	}
}

func cloneBucket(b Bucket) Bucket {
	b.Settings = bytes.Clone(b.Settings)
	b.Meta = maps.Clone(b.Meta)
	return b
}

func (f *fsm) bucket(name string) (Bucket, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, ok := f.st.buckets[name]
	return cloneBucket(b), ok
}

func (f *fsm) bucketList(prefix string) []Bucket {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Bucket, 0, len(f.st.buckets))
	for name, b := range f.st.buckets {
		if strings.HasPrefix(name, prefix) {
			out = append(out, cloneBucket(b))
		}
	}
	slices.SortFunc(out, func(a, b Bucket) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (f *fsm) user(name string) (User, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	u, ok := f.st.users[name]
	return u, ok
}

func (f *fsm) key(access string) (Key, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	k, ok := f.st.keys[access]
	return k, ok
}

// view freezes the current state and returns it as a View: the next
// Apply works on a copy, so the view never changes.
func (f *fsm) view() *View {
	f.mu.RLock()
	defer f.mu.RUnlock()
	f.st.frozen.Store(true)
	return &View{st: f.st}
}

// encodeState returns the snapshot encoding of the current state (for
// comparing nodes).
func (f *fsm) encodeState() ([]byte, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.encode()
}
