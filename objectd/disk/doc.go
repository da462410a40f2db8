// Package disk is one local disk of a Basalt storage node: shard files in a
// directory tree, and the disk's metadata records in an embedded badger
// database kept on the same disk.
//
// Layout under the disk's root directory:
//
//	FORMAT          disk identity and layout version (JSON, written once)
//	meta/           badger database: object, upload, part and bucket records
//	shards/00..ff/  shard files, named by data id; <id>.tmp while written
//
// A shard file is written as shards/xx/<id>.tmp, fsynced, renamed to
// shards/xx/<id> and the directory fsynced before Commit returns, so a
// committed shard survives a crash and a half-written one is never under
// its final name. Open removes the .tmp leftovers of a crash.
//
// Metadata writes are synchronous (badger SyncWrites): a record is on stable
// storage when Update returns. Badger batches concurrent commits, so
// concurrent writers share one fsync (group commit).
//
// Every I/O goes through a vfs.FS, and metadata operations first ask the FS
// (vfs.Check) so that one fault-injecting FS governs the whole disk.
//
// Concurrency: a Disk is safe for concurrent use.
package disk
