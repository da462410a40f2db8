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
}

// User is a user's catalog record.
type User struct {
	Name    string    `json:"name"`
	Project string    `json:"project,omitempty"`
	Created time.Time `json:"created"`
}

// Key is an access key: it authenticates requests as User, in Project.
// Secret is stored as given.
type Key struct {
	AccessKey string    `json:"access_key"`
	Secret    string    `json:"secret"`
	User      string    `json:"user"`
	Project   string    `json:"project,omitempty"`
	Created   time.Time `json:"created"`
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

// PutUser creates or replaces a user.
type PutUser struct {
	User User `json:"user"`
}

// PutKey creates or replaces an access key; its user must exist
// (ErrNoSuchUser).
type PutKey struct {
	Key Key `json:"key"`
}

// DeleteKey removes an access key; refused (ErrNoSuchKey) if unknown.
type DeleteKey struct {
	AccessKey string `json:"access_key"`
}

// Op names.
func (MapChange) Op() string    { return "map" }
func (CreateBucket) Op() string { return "create-bucket" }
func (DeleteBucket) Op() string { return "delete-bucket" }
func (PutUser) Op() string      { return "put-user" }
func (PutKey) Op() string       { return "put-key" }
func (DeleteKey) Op() string    { return "delete-key" }

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

func (c PutUser) apply(s *state) error {
	u := c.User
	if !validName(u.Name) || len(u.Project) > maxNameLen {
		return fmt.Errorf("%w: user %q", ErrBadCommand, u.Name)
	}
	s.users[u.Name] = u
	return nil
}

func (c PutKey) apply(s *state) error {
	k := c.Key
	if !validName(k.AccessKey) || k.Secret == "" || len(k.Secret) > maxNameLen || len(k.Project) > maxNameLen {
		return fmt.Errorf("%w: access key %q", ErrBadCommand, k.AccessKey)
	}
	if _, ok := s.users[k.User]; !ok {
		return fmt.Errorf("%w: %q (access key %s)", ErrNoSuchUser, k.User, k.AccessKey)
	}
	s.keys[k.AccessKey] = k
	return nil
}

func (c DeleteKey) apply(s *state) error {
	if _, ok := s.keys[c.AccessKey]; !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchKey, c.AccessKey)
	}
	delete(s.keys, c.AccessKey)
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
	case "put-user":
		var v PutUser
		err = strictJSON(env.Args, &v)
		c = v
	case "put-key":
		var v PutKey
		err = strictJSON(env.Args, &v)
		c = v
	case "delete-key":
		var v DeleteKey
		err = strictJSON(env.Args, &v)
		c = v
	default:
		return nil, fmt.Errorf("%w: op %q", ErrBadCommand, env.Op)
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
