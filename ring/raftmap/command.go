package raftmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/basaltstore/basalt/ring"
)

// Command is one change of the replicated state: a map change or a catalog
// record change. Commands are values; their effect is decided by Apply on
// every node alone, from the command and the state before it.
type Command interface {
	// Op is the command's name in its encoding.
	Op() string
	apply(s *state) error
}

// MapChange changes the cluster map through ring.Apply.
type MapChange struct {
	Change ring.Command
}

// Bucket is a bucket's catalog record. Settings (versioning, object lock,
// ...) is opaque JSON kept as given.
type Bucket struct {
	Name     string          `json:"name"`
	Owner    string          `json:"owner,omitempty"`
	Created  time.Time       `json:"created"`
	Settings json.RawMessage `json:"settings,omitempty"`
	// Meta holds the bucket's metadata as Swift sees a container's:
	// lowercased header names ("x-container-read",
	// "x-container-meta-temp-url-key", ...) to values.
	Meta map[string]string `json:"meta,omitempty"`
}

// CreateBucket creates a bucket; refused (ErrBucketExists) if it exists.
// The proposer sets Bucket.Created.
type CreateBucket struct {
	Bucket Bucket `json:"bucket"`
}

// DeleteBucket removes a bucket's record; refused (ErrNoSuchBucket) if it
// does not exist. Whether the bucket is empty is the caller's business.
type DeleteBucket struct {
	Name string `json:"name"`
}

// SetBucketSetting sets one named setting of a bucket (its versioning,
// CORS, policy, ... configuration) in Bucket.Settings, a JSON object; a
// null or empty Value removes it.
type SetBucketSetting struct {
	Bucket string          `json:"bucket"`
	Name   string          `json:"name"`
	Value  json.RawMessage `json:"value,omitempty"`
}

func (SetBucketSetting) Op() string { return "set-bucket-setting" }

func (c SetBucketSetting) apply(s *state) error {
	b, ok := s.buckets[c.Bucket]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchBucket, c.Bucket)
	}
	if !validName(c.Name) || len(c.Value) > 0 && !json.Valid(c.Value) {
		return fmt.Errorf("%w: setting %q of bucket %s", ErrBadCommand, c.Name, c.Bucket)
	}
	all := map[string]json.RawMessage{}
	if len(b.Settings) > 0 {
		if err := json.Unmarshal(b.Settings, &all); err != nil {
			// Settings that are not an object are replaced.
			all = map[string]json.RawMessage{}
		}
	}
	if len(c.Value) == 0 || string(c.Value) == "null" {
		delete(all, c.Name)
	} else {
		all[c.Name] = c.Value
	}
	var next json.RawMessage
	if len(all) > 0 {
		enc, err := json.Marshal(all) // keys sorted: the same bytes on every node
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadCommand, err)
		}
		next = enc
	}
	if len(next) > maxSettingsLen {
		return fmt.Errorf("%w: settings of bucket %s over %d bytes", ErrBadCommand, c.Bucket, maxSettingsLen)
	}
	b.Settings = next
	s.buckets[c.Bucket] = b
	return nil
}

// Op names.
func (MapChange) Op() string    { return "map" }
func (CreateBucket) Op() string { return "create-bucket" }
func (DeleteBucket) Op() string { return "delete-bucket" }

const (
	maxNameLen     = 1024
	maxSettingsLen = 64 << 10
)

// validName accepts 1..1024 bytes of valid UTF-8 without control
// characters.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func (c MapChange) apply(s *state) error {
	if c.Change == nil {
		return fmt.Errorf("%w: map change without a change", ErrBadCommand)
	}
	m, err := ring.Apply(s.m, c.Change)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMapRefused, c.Change.Op(), err)
	}
	s.m = m
	// The ring is built here, in the replicated state machine, so that
	// every node places by the same ring: Build depends on the ring before,
	// which a node that joined later could not compute itself. A map with
	// no placeable policy yet keeps the ring it had.
	if len(m.Policies) > 0 {
		if r, err := ring.Build(s.r, m); err == nil {
			s.r = r
		}
	}
	return nil
}

func (c CreateBucket) apply(s *state) error {
	b := c.Bucket
	if !validName(b.Name) {
		return fmt.Errorf("%w: bucket name %q", ErrBadCommand, b.Name)
	}
	if len(b.Owner) > maxNameLen || len(b.Settings) > maxSettingsLen {
		return fmt.Errorf("%w: bucket %s: owner or settings too long", ErrBadCommand, b.Name)
	}
	if err := checkMeta(b.Meta); err != nil {
		return fmt.Errorf("%w: bucket %s: %w", ErrBadCommand, b.Name, err)
	}
	if _, ok := s.projects[b.Owner]; b.Owner != "" && !ok {
		return fmt.Errorf("%w: %q (owner of bucket %s)", ErrNoSuchProject, b.Owner, b.Name)
	}
	if len(b.Settings) > 0 && !json.Valid(b.Settings) {
		return fmt.Errorf("%w: bucket %s: settings are not JSON", ErrBadCommand, b.Name)
	}
	if _, ok := s.buckets[b.Name]; ok {
		return fmt.Errorf("%w: %s", ErrBucketExists, b.Name)
	}
	s.buckets[b.Name] = b
	return nil
}

func (c DeleteBucket) apply(s *state) error {
	if _, ok := s.buckets[c.Name]; !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchBucket, c.Name)
	}
	delete(s.buckets, c.Name)
	return nil
}

type envelope struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args"`
}

// EncodeCommand encodes c as JSON: {"op":"create-bucket","args":{...}}; a
// MapChange's args are ring.EncodeCommand's encoding of its change.
func EncodeCommand(c Command) ([]byte, error) {
	var args []byte
	var err error
	switch c := c.(type) {
	case nil:
		return nil, fmt.Errorf("%w: nil command", ErrBadCommand)
	case MapChange:
		args, err = ring.EncodeCommand(c.Change)
	case *MapChange:
		if c == nil {
			return nil, fmt.Errorf("%w: nil command", ErrBadCommand)
		}
		args, err = ring.EncodeCommand(c.Change)
	default:
		args, err = json.Marshal(c)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadCommand, c.Op(), err)
	}
	return json.Marshal(envelope{Op: c.Op(), Args: args})
}

// DecodeCommand decodes a command encoded by EncodeCommand. Unknown
// operations and fields are refused.
func DecodeCommand(b []byte) (Command, error) {
	var env envelope
	if err := strictJSON(b, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	var err error
	var c Command
	switch env.Op {
	case "map":
		var rc ring.Command
		rc, err = ring.DecodeCommand(env.Args)
		c = MapChange{Change: rc}
	case "create-bucket":
		var v CreateBucket
		err = strictJSON(env.Args, &v)
		c = v
	case "delete-bucket":
		var v DeleteBucket
		err = strictJSON(env.Args, &v)
		c = v
	default:
		newCmd, ok := identityOps[env.Op]
		if !ok {
			return nil, fmt.Errorf("%w: op %q", ErrBadCommand, env.Op)
		}
		c, err = newCmd(env.Args)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadCommand, env.Op, err)
	}
	return c, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}
