package raftmap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/basaltstore/basalt/ring"
)

// Sentinel errors. Every error returned by this package wraps one of them
// (or one of ring's, for a refused map change), including errors that a
// leader returned to a follower that forwarded the request.
var (
	// ErrConfig: a Config is missing a field or has a bad one.
	ErrConfig = errors.New("raftmap: bad config")
	// ErrNotLeader: the operation must run on the leader and this node is
	// not it. The error is a *NotLeaderError naming the leader it knows.
	ErrNotLeader = errors.New("raftmap: not the leader")
	// ErrNoLeader: no leader is known, or the known one cannot be reached.
	ErrNoLeader = errors.New("raftmap: no leader")
	// ErrBadSecret: the peer does not share this node's cluster secret, or
	// a message failed authentication.
	ErrBadSecret = errors.New("raftmap: cluster secret mismatch")
	// ErrDuplicateNode: a join names a node id, or an address, that another
	// member already has.
	ErrDuplicateNode = errors.New("raftmap: duplicate node")
	// ErrUnknownNode: a removal names a node that is not a member.
	ErrUnknownNode = errors.New("raftmap: unknown node")
	// ErrLastVoter: the removal would leave the group without a voter.
	ErrLastVoter = errors.New("raftmap: cannot remove the last voter")
	// ErrUnreachable: a joining node did not answer with the expected id.
	ErrUnreachable = errors.New("raftmap: node unreachable")
	// ErrUnknownOutcome: the request reached the leader but the answer was
	// lost (leadership lost while committing, connection cut, context
	// ended): the change may or may not have been applied.
	ErrUnknownOutcome = errors.New("raftmap: outcome unknown")
	// ErrShutdown: the node is shut down.
	ErrShutdown = errors.New("raftmap: node shut down")
	// ErrProtocol: a peer sent bytes that are not this package's protocol.
	ErrProtocol = errors.New("raftmap: protocol error")
	// ErrStore: the log or stable store failed.
	ErrStore = errors.New("raftmap: store")

	// Catalog refusals, returned by Propose (and by Apply on every node).

	// ErrBadCommand: the command does not decode or is malformed.
	ErrBadCommand = errors.New("raftmap: bad command")
	// ErrBucketExists: CreateBucket of a bucket that exists.
	ErrBucketExists = errors.New("raftmap: bucket exists")
	// ErrNoSuchBucket: DeleteBucket of a bucket that does not exist.
	ErrNoSuchBucket = errors.New("raftmap: no such bucket")
	// ErrNoSuchUser: PutKey for a user that does not exist.
	ErrNoSuchUser = errors.New("raftmap: no such user")
	// ErrNoSuchKey: DeleteKey of an access key that does not exist.
	ErrNoSuchKey = errors.New("raftmap: no such access key")
	// ErrExists: a record's name is taken by another record, or a setting
	// proposed Once exists.
	ErrExists = errors.New("raftmap: already exists")
	// ErrNoSuchDomain: a record names a domain that does not exist.
	ErrNoSuchDomain = errors.New("raftmap: no such domain")
	// ErrNoSuchProject: a record names a project that does not exist.
	ErrNoSuchProject = errors.New("raftmap: no such project")
	// ErrNotEmpty: DeleteProject of a project that owns buckets.
	ErrNotEmpty = errors.New("raftmap: not empty")
	// ErrNotFound: Unassign of a role the user does not hold.
	ErrNotFound = errors.New("raftmap: not found")
	// ErrMapRefused: ring.Apply refused a map change; the error also wraps
	// ring's own sentinel (ring.ErrDuplicate, ring.ErrUnplaceable, ...).
	ErrMapRefused = errors.New("raftmap: map change refused")
)

// NotLeaderError is returned where an operation reached a node that is not
// the leader. errors.Is(err, ErrNotLeader) holds for it.
type NotLeaderError struct {
	LeaderID   string // empty when unknown
	LeaderAddr string // empty when unknown
}

func (e *NotLeaderError) Error() string {
	if e.LeaderAddr == "" {
		return ErrNotLeader.Error() + " (leader unknown)"
	}
	return fmt.Sprintf("%s (leader %s at %s)", ErrNotLeader, e.LeaderID, e.LeaderAddr)
}

// Is makes errors.Is(err, ErrNotLeader) hold.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// wireNames maps the sentinels that may cross the network to stable names.
// An error is sent as the names of every sentinel it wraps, plus its text;
// the receiver rebuilds an error that wraps the same sentinels.
var wireNames = []struct {
	name string
	err  error
}{
	{"not-leader", ErrNotLeader},
	{"no-leader", ErrNoLeader},
	{"bad-secret", ErrBadSecret},
	{"duplicate-node", ErrDuplicateNode},
	{"unknown-node", ErrUnknownNode},
	{"last-voter", ErrLastVoter},
	{"unreachable", ErrUnreachable},
	{"unknown-outcome", ErrUnknownOutcome},
	{"shutdown", ErrShutdown},
	{"protocol", ErrProtocol},
	{"store", ErrStore},
	{"config", ErrConfig},
	{"bad-command", ErrBadCommand},
	{"bucket-exists", ErrBucketExists},
	{"no-such-bucket", ErrNoSuchBucket},
	{"no-such-user", ErrNoSuchUser},
	{"no-such-key", ErrNoSuchKey},
	{"map-refused", ErrMapRefused},
	{"ring-invalid", ring.ErrInvalid},
	{"ring-duplicate", ring.ErrDuplicate},
	{"ring-unknown", ring.ErrUnknown},
	{"ring-unknown-policy", ring.ErrUnknownPolicy},
	{"ring-unplaceable", ring.ErrUnplaceable},
	{"ring-state", ring.ErrState},
	{"ring-in-use", ring.ErrInUse},
	{"ring-corrupt", ring.ErrCorrupt},
	{"deadline", context.DeadlineExceeded},
	{"canceled", context.Canceled},
}

// wireError is an error as it crosses the network.
type wireError struct {
	Names      []string `json:"names,omitempty"`
	Msg        string   `json:"msg"`
	LeaderID   string   `json:"leader_id,omitempty"`
	LeaderAddr string   `json:"leader_addr,omitempty"`
}

func toWire(err error) *wireError {
	if err == nil {
		return nil
	}
	w := &wireError{Msg: err.Error()}
	for _, s := range wireNames {
		if errors.Is(err, s.err) {
			w.Names = append(w.Names, s.name)
		}
	}
	var nl *NotLeaderError
	if errors.As(err, &nl) {
		w.LeaderID, w.LeaderAddr = nl.LeaderID, nl.LeaderAddr
	}
	return w
}

// remoteError is an error rebuilt from a wireError: its text is the
// original's, and it wraps the same sentinels.
type remoteError struct {
	msg  string
	errs []error
}

func (e *remoteError) Error() string   { return e.msg }
func (e *remoteError) Unwrap() []error { return e.errs }

func (w *wireError) err() error {
	if w == nil {
		return nil
	}
	e := &remoteError{msg: w.Msg}
	for _, n := range w.Names {
		if n == "not-leader" {
			e.errs = append(e.errs, &NotLeaderError{LeaderID: w.LeaderID, LeaderAddr: w.LeaderAddr})
			continue
		}
		for _, s := range wireNames {
			if s.name == n {
				e.errs = append(e.errs, s.err)
			}
		}
	}
	if len(e.errs) == 0 {
		// An error of no known kind still says where it came from.
		e.msg = strings.TrimSpace("raftmap: remote: " + w.Msg)
	}
	return e
}
