// Package raftmap replicates Basalt's cluster map and catalog with Raft
// (github.com/hashicorp/raft; this is the one package that imports it).
//
// A Node is one member of the group. Its state machine holds the cluster
// map (a *ring.Map) and the catalog's small control records: buckets (owner
// project, settings, Swift container metadata), the identity records
// (domains, projects, users with password hashes, role assignments, access
// keys, token revocations; identity.go) and cluster settings such as the
// token signing key. Object data and object metadata
// never go through Raft. A one-node group (Config.Bootstrap, alone) is the
// single-machine default; larger clusters run 3 or 5 voters, and
// storage-only nodes as non-voters that receive the log.
//
// # The state machine
//
// The state changes only by committed commands (Command): MapChange, which
// carries a ring.Command and is applied with ring.Apply, and the catalog's
// CreateBucket, DeleteBucket, SetMeta, PutDomain, PutProject,
// DeleteProject, PutUser, DeleteUser, Assign, Unassign, PutKey, DeleteKey,
// Revoke and PutSetting. Its contract:
//
//   - Apply is deterministic: the result depends only on the state and the
//     entry (its bytes and index). No clock, no randomness, no I/O, no
//     iteration over Go maps where order matters. Times (Created) are put
//     in the command by whoever proposes it.
//   - A command that is malformed or refused (ring.Apply's error, a bucket
//     that exists, a key of an unknown user, ...) changes nothing, on every
//     node alike; its error goes back to the proposer. The entry still
//     takes its log index.
//   - Snapshot costs a pointer: it freezes the current state, and the next
//     Apply works on a copy (copy on write), so Persist can encode the
//     frozen state while Apply goes on. Restore replaces the whole state.
//   - A snapshot is JSON: {"version":1,"index":N,"map":<Map.Encode>,
//     "buckets":[...],"users":[...],"keys":[...],"domains":[...],
//     "projects":[...],"assignments":[...],"revocations":[...],
//     "settings":[...]}, records sorted by key.
//
// # Reads and freshness
//
// Map, View (an immutable view of the whole catalog, which costs the next
// command a copy of the catalog's maps), Bucket, Buckets, User and Key read
// the local state, without a round trip. The local state may lag the leader's by the replication delay (a
// heartbeat or two), and a node cut off from the majority keeps serving
// what it had. Sync(ctx) makes the following local reads see every write
// acknowledged before Sync was called: the leader commits a barrier entry
// (which only a current leader can), reports the index of the last command
// it has applied, and this node waits until it has applied as far. A node
// that cannot reach a leader fails Sync (ErrNoLeader) instead of serving a
// stale answer as current. Watch delivers new map epochs as the local state
// reaches them, so daemons learn of changes without polling.
//
// # Writes
//
// Propose, Join, AddNonvoter, Remove and Sync run on the leader. On any
// other node they are forwarded to the leader this node knows, over the
// control channel below; while there is no leader, or the request
// certainly did not run (not the leader any more, leader unreachable),
// they wait for the next leader change (or a growing delay) and try again
// until ctx ends. A command is never sent twice: if the answer is lost
// after it was sent, the error wraps ErrUnknownOutcome. Errors keep their
// sentinels across forwarding: the leader sends the names of the
// sentinels an error wraps, and the caller gets an error that wraps the
// same ones, so errors.Is works on either side.
//
// # The port
//
// Raft and the control channel share the node's TCP port. Every connection
// starts with a mutual HMAC-SHA256 challenge over the cluster secret:
//
//	C->S  "BRFT" | version (1) | client nonce cn (16)
//	S->C  server nonce sn (16) | HMAC(secret, "server" 0 cn sn)
//	C->S  HMAC(secret, "client" 0 cn sn) | channel ('R' raft, 'C' control)
//	S->C  status (0 accepted, 1 refused)
//
// A peer that does not prove the secret is refused (ErrBadSecret). A raft
// connection then carries raft's NetworkTransport protocol. A control
// connection carries one request and one response, each framed as
//
//	length (4 bytes, big-endian) | JSON | HMAC(key, dir 0 length JSON)
//
// with key = HMAC(secret, "session" 0 cn sn) and dir "req" or "resp", so
// a frame can be neither forged nor replayed on another connection. The
// secret authenticates; it does not encrypt.
//
// # Storage
//
// Dir/log is a badger database holding raft's log and stable store
// (synchronous writes; see store.go for the key and value layout), and
// Dir/snapshots holds raft's file snapshots.
//
// # Figures
//
// Failover of a three-voter group on one shared two-core machine
// (BenchmarkFailover: Shutdown of the leader until a survivor knows a new
// leader; the first write through a survivor commits about 1-5 ms later):
//
//	heartbeat and election timeouts   new leader known
//	150 ms (the tests' setting)       0.30-0.35 s
//	1 s (raft's defaults)             1.7 s
//
// # Concurrency
//
// A Node's methods are safe for concurrent use. Raft calls the state
// machine's Apply, Snapshot and Restore from one goroutine; local reads
// take a read lock and return copies. A *ring.Map returned by Map is
// shared and must not be changed.
package raftmap
