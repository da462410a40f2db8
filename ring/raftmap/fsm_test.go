package raftmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/basaltstore/basalt/ring"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)

// step is one command and the error it must get (nil for accepted).
type step struct {
	cmd     Command
	wantErr []error
	epoch   uint64
}

func catalogScript() []step {
	return []step{
		{cmd: MapChange{ring.AddNode{ID: "n1", Zone: "z1", Address: "10.0.0.1:7000"}}, epoch: 1},
		{cmd: MapChange{ring.AddDisk{ID: "d1", Node: "n1", Weight: 100}}, epoch: 2},
		{cmd: MapChange{ring.AddNode{ID: "n1", Zone: "z1"}}, wantErr: []error{ErrMapRefused, ring.ErrDuplicate}, epoch: 2},
		{cmd: MapChange{ring.AddDisk{ID: "d9", Node: "nope", Weight: 1}}, wantErr: []error{ErrMapRefused, ring.ErrUnknown}, epoch: 2},
		{cmd: MapChange{ring.AddPolicy{Policy: ring.Policy{Name: "ec", K: 4, M: 2, Power: 4}}}, wantErr: []error{ErrMapRefused, ring.ErrUnplaceable}, epoch: 2},
		{cmd: MapChange{ring.AddPolicy{Policy: ring.Policy{Name: "one", Replicas: 1, Power: 4}}}, epoch: 3},
		{cmd: PutProject{Project{ID: "p1", Name: "alpha", Domain: DefaultDomain, Created: t0}}, wantErr: []error{ErrNoSuchDomain}, epoch: 3},
		{cmd: PutDomain{Domain{ID: DefaultDomain, Name: "Default", Created: t0}}, epoch: 3},
		{cmd: PutDomain{Domain{ID: "other", Name: "Default", Created: t0}}, wantErr: []error{ErrExists}, epoch: 3},
		{cmd: PutProject{Project{ID: "p1", Name: "alpha", Domain: DefaultDomain, Created: t0}}, epoch: 3},
		{cmd: PutProject{Project{ID: "p2", Name: "alpha", Domain: DefaultDomain, Created: t0}}, wantErr: []error{ErrExists}, epoch: 3},
		{cmd: PutProject{Project{ID: "p2", Name: "beta", Domain: DefaultDomain, Created: t0}}, epoch: 3},
		{cmd: CreateBucket{Bucket{Name: "photos", Owner: "p1", Created: t0, Settings: json.RawMessage(`{"versioning":"Enabled"}`)}}, epoch: 3},
		{cmd: CreateBucket{Bucket{Name: "photos", Owner: "p2", Created: t0}}, wantErr: []error{ErrBucketExists}, epoch: 3},
		{cmd: CreateBucket{Bucket{Name: "orphan", Owner: "nobody", Created: t0}}, wantErr: []error{ErrNoSuchProject}, epoch: 3},
		{cmd: CreateBucket{Bucket{Name: "", Created: t0}}, wantErr: []error{ErrBadCommand}, epoch: 3},
		{cmd: CreateBucket{Bucket{Name: "bad\x00name"}}, wantErr: []error{ErrBadCommand}, epoch: 3},
		{cmd: CreateBucket{Bucket{Name: "logs", Owner: "p1", Created: t0}}, epoch: 3},
		{cmd: SetMeta{Bucket: "logs", Set: map[string]string{"x-container-read": ".r:*"}}, epoch: 3},
		{cmd: SetMeta{Bucket: "nope", Set: map[string]string{"a": "b"}}, wantErr: []error{ErrNoSuchBucket}, epoch: 3},
		{cmd: SetBucketSetting{Bucket: "photos", Name: "cors", Value: json.RawMessage(`{"rules":[1]}`)}, epoch: 3},
		{cmd: SetBucketSetting{Bucket: "photos", Name: "tags", Value: json.RawMessage(`{"a":"b"}`)}, epoch: 3},
		{cmd: SetBucketSetting{Bucket: "photos", Name: "tags"}, epoch: 3},
		{cmd: SetBucketSetting{Bucket: "photos", Name: "", Value: json.RawMessage(`1`)}, wantErr: []error{ErrBadCommand}, epoch: 3},
		{cmd: SetBucketSetting{Bucket: "nope", Name: "cors", Value: json.RawMessage(`1`)}, wantErr: []error{ErrNoSuchBucket}, epoch: 3},
		{cmd: SetMeta{Bucket: "logs", Project: "p1"}, wantErr: []error{ErrBadCommand}, epoch: 3},
		{cmd: SetMeta{Project: "p1", Set: map[string]string{"x-account-meta-temp-url-key": "k"}}, epoch: 3},
		{cmd: DeleteBucket{Name: "logs"}, epoch: 3},
		{cmd: DeleteBucket{Name: "logs"}, wantErr: []error{ErrNoSuchBucket}, epoch: 3},
		{cmd: PutKey{Key{AccessKey: "AK1", Secret: "s", User: "u1"}}, wantErr: []error{ErrNoSuchUser}, epoch: 3},
		{cmd: PutUser{User{ID: "u1", Name: "alice", Domain: "nope", Created: t0}}, wantErr: []error{ErrNoSuchDomain}, epoch: 3},
		{cmd: PutUser{User{ID: "u1", Name: "alice", Domain: DefaultDomain, DefaultProject: "p1", Created: t0}}, epoch: 3},
		{cmd: PutUser{User{ID: "u2", Name: "alice", Domain: DefaultDomain, Created: t0}}, wantErr: []error{ErrExists}, epoch: 3},
		{cmd: PutUser{User{ID: "u2", Name: "bob", Domain: DefaultDomain, Created: t0}}, epoch: 3},
		{cmd: Assign{Assignment{User: "u1", Project: "p1", Role: RoleMember}}, epoch: 3},
		{cmd: Assign{Assignment{User: "u1", Project: "p1", Role: "superuser"}}, wantErr: []error{ErrBadCommand}, epoch: 3},
		{cmd: Assign{Assignment{User: "u1", Project: "p9", Role: RoleReader}}, wantErr: []error{ErrNoSuchProject}, epoch: 3},
		{cmd: Assign{Assignment{User: "u2", Project: "p2", Role: RoleReader}}, epoch: 3},
		{cmd: Unassign{Assignment{User: "u2", Project: "p1", Role: RoleReader}}, wantErr: []error{ErrNotFound}, epoch: 3},
		{cmd: PutKey{Key{AccessKey: "AK1", Secret: "s3cr3t", User: "u1", Project: "p1", Created: t0}}, epoch: 3},
		{cmd: PutKey{Key{AccessKey: "AK2", Secret: "", User: "u1"}}, wantErr: []error{ErrBadCommand}, epoch: 3},
		{cmd: PutKey{Key{AccessKey: "AK2", Secret: "x", User: "u1", Project: "p9"}}, wantErr: []error{ErrNoSuchProject}, epoch: 3},
		{cmd: PutKey{Key{AccessKey: "AK2", Secret: "x", User: "u1", Created: t0}}, epoch: 3},
		{cmd: DeleteKey{AccessKey: "AK2"}, epoch: 3},
		{cmd: DeleteKey{AccessKey: "AK2"}, wantErr: []error{ErrNoSuchKey}, epoch: 3},
		{cmd: PutKey{Key{AccessKey: "AK3", Secret: "x", User: "u2", Project: "p2", Created: t0}}, epoch: 3},
		{cmd: Revoke{Revocation{AuditID: "old", Expires: t0.Add(time.Hour)}, t0}, epoch: 3},
		{cmd: Revoke{Revocation{AuditID: "tok", Expires: t0.Add(3 * time.Hour)}, t0.Add(2 * time.Hour)}, epoch: 3},
		{cmd: Revoke{Revocation{User: "u2", IssuedBefore: t0.Add(time.Hour), Expires: t0.Add(5 * time.Hour)}, t0.Add(2 * time.Hour)}, epoch: 3},
		{cmd: Revoke{Revocation{AuditID: "a", User: "u2"}, t0}, wantErr: []error{ErrBadCommand}, epoch: 3},
		{cmd: PutSetting{Name: "token-key", Value: "k1", Once: true}, epoch: 3},
		{cmd: PutSetting{Name: "token-key", Value: "k2", Once: true}, wantErr: []error{ErrExists}, epoch: 3},
		{cmd: DeleteProject{ID: "p1"}, wantErr: []error{ErrNotEmpty}, epoch: 3},
		{cmd: DeleteUser{ID: "u2"}, epoch: 3},
		{cmd: DeleteProject{ID: "p2"}, epoch: 3},
	}
}

func applyEncoded(t *testing.T, f *fsm, index uint64, cmd Command) *applyResult {
	t.Helper()
	b, err := EncodeCommand(cmd)
	if err != nil {
		t.Fatalf("encode %T: %v", cmd, err)
	}
	res, ok := f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: b}).(*applyResult)
	if !ok {
		t.Fatal("Apply returned no *applyResult")
	}
	return res
}

func TestFSMApplyScript(t *testing.T) {
	f := newFSM()
	for i, s := range catalogScript() {
		idx := uint64(i + 1)
		res := applyEncoded(t, f, idx, s.cmd)
		if len(s.wantErr) == 0 && res.err != nil {
			t.Fatalf("step %d %s: %v", i, s.cmd.Op(), res.err)
		}
		if len(s.wantErr) > 0 && res.err == nil {
			t.Fatalf("step %d %s: accepted, want %v", i, s.cmd.Op(), s.wantErr)
		}
		for _, w := range s.wantErr {
			if !errors.Is(res.err, w) {
				t.Fatalf("step %d %s: %v does not wrap %v", i, s.cmd.Op(), res.err, w)
			}
		}
		if res.res.Index != idx || res.res.Epoch != s.epoch {
			t.Fatalf("step %d: result %+v, want index %d epoch %d", i, res.res, idx, s.epoch)
		}
	}
	if b, ok := f.bucket("photos"); !ok || b.Owner != "p1" || !b.Created.Equal(t0) || string(b.Settings) != `{"cors":{"rules":[1]},"versioning":"Enabled"}` {
		t.Fatalf("bucket photos = %+v, %v", b, ok)
	}
	if _, ok := f.bucket("logs"); ok {
		t.Fatal("deleted bucket still there")
	}
	if k, ok := f.key("AK1"); !ok || k.User != "u1" || k.Secret != "s3cr3t" || k.Project != "p1" {
		t.Fatalf("key AK1 = %+v, %v", k, ok)
	}
	if _, ok := f.key("AK2"); ok {
		t.Fatal("deleted key still there")
	}
	if m := f.snapshotMap(); m.Epoch != 3 || len(m.Nodes) != 1 || len(m.Disks) != 1 || len(m.Policies) != 1 {
		t.Fatalf("map = %+v", m)
	}
	if got := f.bucketList(""); len(got) != 1 || got[0].Name != "photos" {
		t.Fatalf("buckets = %+v", got)
	}
	v := f.view()
	if p, ok := v.Project("p1"); !ok || p.Meta["x-account-meta-temp-url-key"] != "k" {
		t.Fatalf("project p1 = %+v, %v", p, ok)
	}
	if _, ok := v.Project("p2"); ok {
		t.Fatal("deleted project p2 still there")
	}
	if k, ok := v.Key("AK3"); ok {
		t.Fatalf("key %+v of a deleted user and project still there", k)
	}
	if u, ok := v.UserByName(DefaultDomain, "alice"); !ok || u.ID != "u1" || u.DefaultProject != "p1" {
		t.Fatalf("user alice = %+v, %v", u, ok)
	}
	if got := v.Roles("u1", "p1"); !slices.Equal(got, []string{RoleMember}) {
		t.Fatalf("roles of u1 on p1 = %v", got)
	}
	if got := v.Assignments(); len(got) != 1 {
		t.Fatalf("assignments = %+v (those of the deleted user must go)", got)
	}
	if v.Revoked("old", "u1", t0) {
		t.Fatal("a revocation past its expiry was kept")
	}
	if !v.Revoked("tok", "u1", t0) || v.Revoked("other", "u1", t0) {
		t.Fatal("revocation by audit id")
	}
	if !v.Revoked("any", "u2", t0) || v.Revoked("any", "u2", t0.Add(time.Hour)) {
		t.Fatal("revocation of a user's tokens issued before a time")
	}
	if s, ok := v.Setting("token-key"); !ok || s != "k1" {
		t.Fatalf("setting token-key = %q, %v", s, ok)
	}
	// A view does not change when later commands are applied.
	applyEncoded(t, f, 99, SetMeta{Bucket: "photos", Set: map[string]string{"x-container-meta-a": "1"}})
	if b, _ := v.Bucket("photos"); len(b.Meta) != 0 {
		t.Fatalf("an earlier view sees a later change: %+v", b.Meta)
	}
	if b, _ := f.view().Bucket("photos"); b.Meta["x-container-meta-a"] != "1" {
		t.Fatalf("a new view misses a change: %+v", b.Meta)
	}
	// Entries no proposer would encode are refused like any bad command,
	// change nothing, and still count.
	records := func() []byte { // the state without its index
		f.mu.Lock()
		defer f.mu.Unlock()
		idx := f.st.index
		f.st.index = 0
		b, _ := f.st.encode()
		f.st.index = idx
		return b
	}
	before := records()
	for i, raw := range []string{
		`{"op":"drop-table","args":{}}`,
		`{"op":"map","args":null}`,
		`{"op":"create-bucket","args":{"bucket":{"name":"x","settings":{not json}}}}`,
		`not json`,
	} {
		res, _ := f.Apply(&raft.Log{Index: uint64(100 + i), Type: raft.LogCommand, Data: []byte(raw)}).(*applyResult)
		if res == nil || !errors.Is(res.err, ErrBadCommand) {
			t.Fatalf("entry %s: %+v", raw, res)
		}
	}
	if i, _ := f.applied(); i != 103 {
		t.Fatalf("applied index %d after bad entries", i)
	}
	if after := records(); !bytes.Equal(before, after) {
		t.Fatalf("bad entries changed the state:\n%s\n%s", before, after)
	}
}

// TestFSMDeterministic feeds one log to two state machines through the
// encoding, and checks that they end byte-identical.
func TestFSMDeterministic(t *testing.T) {
	a, b := newFSM(), newFSM()
	for i, s := range catalogScript() {
		ra := applyEncoded(t, a, uint64(i+1), s.cmd)
		rb := applyEncoded(t, b, uint64(i+1), s.cmd)
		if (ra.err == nil) != (rb.err == nil) || ra.res != rb.res {
			t.Fatalf("step %d: %+v vs %+v", i, ra, rb)
		}
	}
	ea, _ := a.encodeState()
	eb, _ := b.encodeState()
	if !bytes.Equal(ea, eb) {
		t.Fatalf("states differ:\n%s\n%s", ea, eb)
	}
}

type memSink struct {
	bytes.Buffer
	closed, canceled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.canceled = true; return nil }

func TestFSMSnapshotRestore(t *testing.T) {
	f := newFSM()
	for i, s := range catalogScript() {
		applyEncoded(t, f, uint64(i+1), s.cmd)
	}
	before, _ := f.encodeState()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Changes after the snapshot do not reach it (copy on write).
	applyEncoded(t, f, 500, CreateBucket{Bucket{Name: "after", Created: t0}})
	applyEncoded(t, f, 501, DeleteBucket{Name: "photos"})
	applyEncoded(t, f, 502, MapChange{ring.AddNode{ID: "n2", Zone: "z2"}})
	var sink memSink
	if err := snap.Persist(&sink); err != nil || !sink.closed {
		t.Fatalf("persist: %v closed=%v", err, sink.closed)
	}
	snap.Release()
	if !bytes.Equal(sink.Bytes(), before) {
		t.Fatalf("snapshot is not the state at Snapshot:\n%s\n%s", sink.Bytes(), before)
	}
	if _, ok := f.bucket("after"); !ok {
		t.Fatal("change after the snapshot lost")
	}
	// Restore replaces everything.
	g := newFSM()
	applyEncoded(t, g, 1, CreateBucket{Bucket{Name: "stale", Created: t0}})
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	after, _ := g.encodeState()
	if !bytes.Equal(after, before) {
		t.Fatalf("restored state differs:\n%s\n%s", after, before)
	}
	if _, ok := g.bucket("stale"); ok {
		t.Fatal("restore kept old state")
	}
	// A corrupt snapshot is refused and changes nothing.
	for _, bad := range []string{"", "{", `{"version":2}`, `{"version":1,"map":{"epoch":1,"nodes":[{"id":""}]}}`} {
		if err := g.Restore(io.NopCloser(bytes.NewReader([]byte(bad)))); !errors.Is(err, ErrStore) {
			t.Fatalf("restore %q: %v", bad, err)
		}
	}
	if now, _ := g.encodeState(); !bytes.Equal(now, before) {
		t.Fatal("failed restore changed the state")
	}
}

func TestCommandEncoding(t *testing.T) {
	for _, s := range catalogScript() {
		b, err := EncodeCommand(s.cmd)
		if err != nil {
			t.Fatal(err)
		}
		c, err := DecodeCommand(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		b2, err := EncodeCommand(c)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("round trip: %s -> %s (%v)", b, b2, err)
		}
	}
	for _, bad := range []string{
		``, `[]`, `{"op":"create-bucket"}`, `{"op":"nope","args":{}}`,
		`{"op":"create-bucket","args":{"bucket":{"name":"a"},"extra":1}}`,
		`{"op":"map","args":{"op":"add-node","args":{"id":"n","zone":"z","bogus":1}}}`,
		`{"op":"delete-key","args":{"access_key":"a"}} trailing`,
	} {
		if _, err := DecodeCommand([]byte(bad)); !errors.Is(err, ErrBadCommand) {
			t.Fatalf("DecodeCommand(%q) = %v", bad, err)
		}
	}
	for _, c := range []Command{nil, MapChange{}, (*MapChange)(nil),
		CreateBucket{Bucket{Name: "x", Settings: json.RawMessage(`{not json`)}}} {
		if _, err := EncodeCommand(c); !errors.Is(err, ErrBadCommand) {
			t.Fatalf("EncodeCommand(%#v) = %v", c, err)
		}
	}
}

func TestWireErrors(t *testing.T) {
	cases := []struct {
		err  error
		want []error
	}{
		{applyEncodedErr(t, MapChange{ring.AddNode{ID: "n1", Zone: "z"}}), []error{ErrMapRefused, ring.ErrDuplicate}},
		{ErrBucketExists, []error{ErrBucketExists}},
		{&NotLeaderError{LeaderID: "n2", LeaderAddr: "127.0.0.1:9"}, []error{ErrNotLeader}},
		{ErrLastVoter, []error{ErrLastVoter}},
	}
	for _, c := range cases {
		got := toWire(c.err).err()
		if got.Error() != c.err.Error() {
			t.Fatalf("text %q, want %q", got, c.err)
		}
		for _, w := range c.want {
			if !errors.Is(got, w) {
				t.Fatalf("%v does not wrap %v after the wire", got, w)
			}
		}
		if errors.Is(got, ErrNoSuchKey) {
			t.Fatalf("%v wraps an unrelated sentinel", got)
		}
	}
	var nl *NotLeaderError
	if !errors.As(toWire(cases[2].err).err(), &nl) || nl.LeaderAddr != "127.0.0.1:9" || nl.LeaderID != "n2" {
		t.Fatalf("leader hint lost: %+v", nl)
	}
	if toWire(nil).err() != nil {
		t.Fatal("nil error crossed as non-nil")
	}
	if got := toWire(errors.New("plain")).err(); got == nil || got.Error() != "raftmap: remote: plain" {
		t.Fatalf("unknown error: %v", got)
	}
}

// applyEncodedErr returns the error of cmd applied to a state holding node
// n1.
func applyEncodedErr(t *testing.T, cmd Command) error {
	f := newFSM()
	applyEncoded(t, f, 1, MapChange{ring.AddNode{ID: "n1", Zone: "z"}})
	return applyEncoded(t, f, 2, cmd).err
}
