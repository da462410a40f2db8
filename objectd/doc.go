// Package objectd is the data plane of Basalt's storage core: it splits
// objects into erasure-coded shards, writes them to a quorum of disks, and
// reads them back, reconstructing what is missing or corrupt.
//
// # Placement
//
// A Store writes every object with k data and m parity shards. Shard i of
// every part of the object lives on disk i of the object's set. Given a
// Layout (SetLayout: a ring of the cluster map and a Volume for each of
// its disks, this node's or another's), the set is the ring's placement of
// the object's partition, a primary that is down replaced by the next
// hand-off; a read that finds the version short of some slots also looks
// on the hand-offs and the previous rings' disks (cluster.go). Without a
// layout the set is k+m consecutive local disks starting at a hash of
// bucket/key. The rebalancer (rebalance.go) moves what a ring change
// misplaced; deletes in a cluster leave tombstones so that a disk that
// missed one cannot bring the object back.
//
// # Writes
//
// The body is read one stripe (BlockSize bytes, 1 MiB by default) at a time,
// encoded, and each shard's block is appended to that disk's shard file in
// the shardfmt format (a self-describing header and a CRC32C per block).
// At the end every shard file is fsynced, renamed into place and its
// directory fsynced. Objects of at most InlineThreshold bytes (16 KiB by
// default) skip the shard commits: their encoded shards are written as
// metadata values with the record, in one durable update (the disks keep
// these values in their segment files, see disk.Options.SegmentValues,
// with the journal record carrying them until a checkpoint). Below that
// size a shard file costs more (create, fsync, rename, directory fsync)
// than the bytes themselves; in the database a write costs a share of one
// journal sync (see disk.Journal). The threshold was set where inline
// stopped paying when each database synced its own logs: on
// the development machine (4 directories of one disk, 2+2, 8 clients),
// 64 KiB objects went in at 129 PUT/s inline against 163 PUT/s as shard
// files, and inline values that large pushed the databases' mapped value
// logs to 335 MiB of resident memory. Other metadata stays inside
// badger's LSM tree, below its value threshold (1 MiB: a journaled
// database keeps values out of its value log).
//
// Then, under the key's lock, each disk of the set gets a metadata record:
// size, ETag, content type, user metadata, times, checksums, the erasure
// parameters, the disk's shard index and the list of parts (data ids).
// A write is acknowledged when a write quorum of records is durable: k, or
// k+1 when k == m. Otherwise every record written is rolled back and the
// shards removed. The previous version's data is removed only after the new
// one is acknowledged. A write that reached fewer than all k+m disks is
// queued for repair.
//
// # Reads
//
// HEAD reads the records of the set and serves the newest version that at
// least k disks hold; versions held by fewer were never acknowledged (or
// are being repaired) and are invisible. GET reads only the blocks of the
// stripes its range needs, and of those only the data shards that hold
// bytes of the range; it decodes only when one of them is missing or fails
// its checksum. A bad shard is queued for repair and its bytes are never
// returned. Fewer than k readable shards: ErrReadQuorum, never wrong data.
//
// # Listing
//
// Every disk keeps its records in key order (badger's LSM tree). A listing
// walks all disks in step from the marker, applies the same newest-on-k
// rule per key, and skips a whole common prefix with one seek, so a page
// costs O(page size x disks) whatever the bucket size.
//
// # Data in use
//
// A reader (GET, heal) takes a reference on the data ids of the version
// it resolved and then checks that the version is still current; a
// removal of data still referenced (the previous version, after an
// overwrite or delete is acknowledged) waits for the last reference. Data
// a committed version uses is never removed on behalf of another version,
// an upload or a part: a CompleteMultipartUpload retried after a crash
// points to the same parts.
//
// # Memory
//
// A request in flight holds one stripe buffer (BlockSize) and one set of
// k+m shard buffers (BlockSize/k + 4 each), both pooled: 3 MiB for 2+2 at
// 1 MiB stripes, whatever the object size. Inline objects are buffered
// whole (at most InlineThreshold bytes, encoded). The badger databases hold
// 8 MiB of block cache, two 8 MiB memtables and a 64 MiB value-log
// window (mapped) per disk; each disk caches up to 8 MiB of the values it
// read from its database (disk.Options.ReadCacheBytes). A journal append holds its batch's records
// (one copy) until the sync returns.
//
// # Repair
//
// A healer goroutine takes objects from the repair queue one at a time,
// verifies every shard of the current version, rebuilds missing or corrupt
// shards from k good ones, and rewrites them (files atomically replaced,
// inline values and records in one transaction) if the version is still
// current.
//
// A disk found empty at start while others hold data (a new or replaced
// disk, or a directory that was removed) is marked HEALING: its "not
// found" answers do not count towards a read quorum, so three new disks
// of four give a read-quorum error, not "no such key". A background pass
// heals every object onto it, then clears the mark.
//
// # Concurrency
//
// A Store is safe for concurrent use. Writes to one key are serialised by a
// per-key lock held only while records are committed; data streams in
// parallel.
package objectd
