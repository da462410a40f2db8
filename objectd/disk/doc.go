// Package disk is one local disk of a Basalt storage node: shard data in
// segment files, and the disk's metadata records in an embedded badger
// database kept on the same disk.
//
// Layout under the disk's root directory:
//
//	FORMAT          disk identity and layout version (JSON, written once)
//	meta/           badger database: object, upload, part and bucket
//	                records, and where each shard's entry lies
//	segments/       append-only segment files of shard entries (segment.go)
//	shards/00..ff/  shard files of disks written before segments: read and
//	                removed there, never written
//
// A shard is one entry of a segment: a checksummed header, the data, and
// padding to 4 KiB. A writer appends it to a segment it holds, and Commit
// writes the header, syncs the segment and records where the entry lies,
// so a committed shard survives a crash and a half-written one is never
// found. A removed entry's blocks are freed by punching a hole; Reclaim
// frees what no record points to after a crash.
//
// Metadata updates are durable when Update returns. Concurrent updates of
// a disk are committed as one batch (group commit); a disk given a Journal
// (journal.go) appends its batches to a journal shared by the disks of
// one device, so one fsync makes the batches of every disk durable
// together, and its database no longer syncs by itself. A journaled disk
// keeps large values (Options.SegmentValues: objectd's inline shards)
// in its segment files instead of the database (values.go), and caches the
// database values it reads (cache.go).
//
// Every I/O goes through a vfs.FS, and metadata operations first ask the FS
// (vfs.Check) so that one fault-injecting FS governs the whole disk.
//
// Concurrency: a Disk is safe for concurrent use.
package disk
