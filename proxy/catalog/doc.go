// Package catalog is the proxy's handle on the replicated catalog: the
// identity records (domains, projects, users, roles, access keys, token
// revocations), the bucket records (owner project, settings, Swift
// container metadata) and cluster settings, kept by a raftmap.Node.
//
// Reads go through View, an immutable view of what this node has applied:
// it may lag the leader by the replication delay; a node cut off from the
// majority keeps answering from what it had (the freshness rule of
// raftmap). Writes are proposed to the leader (forwarded from any node)
// and return once committed and applied here, so a node reads its own
// writes.
//
// Bootstrap, run once when a node starts, makes sure the records every
// cluster needs exist: the default domain and the token signing key.
//
// Concurrency: a Catalog is safe for concurrent use.
package catalog
