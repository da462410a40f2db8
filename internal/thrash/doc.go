// Package thrash proves that Basalt loses no acknowledged byte while its
// processes die and its disks rot: in the manner of Ceph's thrashers and
// Jepsen, it runs a mixed S3 load against a cluster of real `basalt`
// processes, injects faults at random from a seed, and checks every answer
// against a model of what was acknowledged.
//
//	srv := testserver.Start(t, testserver.Options{})
//	rep, err := thrash.Run(ctx, thrash.Config{
//		Seed: seed, Duration: time.Minute, Clients: 4,
//		Faults: thrash.Faults{Every: 100, Kill: 2, Flip: 2, Replace: 1},
//	}, thrash.NewLocal(srv))
//	t.Log(rep.Summary())
//
// A cluster of several nodes is driven the same way, through NewCluster
// (servers that place objects by one ring over all their disks):
//
//	rep, err := thrash.Run(ctx, cfg, thrash.NewCluster(servers, 2))
//
// A cluster that can also cut a node off the network (Cutter) and change
// its ring (RingChanger) takes two more kinds of fault; the caller wraps
// NewCluster's value to add them (cmd/basalt's TestThrashCluster puts
// relays in front of every node and runs `basalt admin`).
//
// # Load
//
// Clients (minio-go) put, overwrite, get (whole and ranged), delete, list
// (by prefix) and upload in parts (2-3 parts of 5 MiB, some aborted), over
// a small key space so that writes to one key collide. Sizes run from 0
// bytes to MaxSize, on both sides of the store's 16 KiB inline threshold,
// so that inline objects and shard files are both exercised. Content is a
// pure function of a value id, so any range can be checked without keeping
// the bytes. Half the clients retry (minio-go's default, which rides over a
// restart); the other half make one attempt, so that writes cut by a fault
// come back as failures whose outcome is unknown.
//
// # Faults
//
// Every Faults.Every acknowledged operations the harness deals the next
// fault kind from a shuffled deck:
//
//   - kill: SIGKILL of a node, then a restart;
//   - flip: one byte flipped past the 64-byte header in each of a few
//     committed shards of one disk (found by their entries' headers in
//     the disk's segment files, disk.Extents), while the node runs;
//   - replace: the node stopped (SIGTERM or SIGKILL), one disk directory
//     removed, the node started, and the harness waits for the store to
//     log that it filled the disk back;
//   - cut (Cutter): the node cut off from the other nodes, both ways, for
//     Faults.CutFor/2 to Faults.CutFor, then healed; the harness waits
//     until the node lists buckets again (it has a Raft leader's word)
//     and for Faults.HealGrace more. Operations through any node may fail
//     meanwhile, as during a kill; none may return a wrong answer;
//   - drain (RingChanger): a ring change under load. A disk drained by an
//     earlier round is restored (in a cluster that is a DiskAdder, every
//     other time, the first included, by removing it from the ring and
//     adding it back: a disk added under load), then a disk chosen from the seed is
//     drained (a drain the cluster refuses, as one that would leave the
//     policy unplaceable, is counted and changes nothing); after each
//     change the harness runs rebalance passes on every node until one
//     moves nothing, while the load goes on. Operations must not fail
//     during a ring change: it opens no fault window;
//   - fail (DiskFailer and RingChanger): a disk starts failing under load
//     (every I/O of its node on it returns an error). Its node must take
//     it out of service within a minute (its log says so); the disk is
//     then replaced as in a replace round, returned to service in the
//     ring, and the rebalancer settled onto it.
//
// Cut, Drain and Fail need a cluster that implements the optional
// interfaces; Run refuses a Config that asks for them otherwise.
//
// Each round picks a node at random, and a disk of it for a flip or a
// replacement. At most one disk carries damage the store has not
// repaired: flips go to that disk until a replacement (which targets it)
// has had the store fill it back. A flipped parity shard is found by
// nothing but a full heal pass today, so a flipped disk counts as damaged
// until then. With m = 2 parity shards this keeps every object readable by
// construction, and anything lost is the store's doing.
//
// In a cluster a node down takes away as many shards of an object as it
// holds, two of some objects with two disks per node and 2+2, so a damaged
// disk on another node would leave those objects one shard short. Rounds
// run one at a time, so no node is ever down during a flip; and while a
// disk is damaged, every round targets its node: a kill takes down the
// very node that holds the damaged disk (whose damaged shards are then
// among those missing anyway), and a replacement replaces that disk. The
// harness does not instead wait for the damage to be repaired: a flipped
// parity shard is repaired by no read, so the wait could last the run.
// One exposure remains, and it is the store's: a write acknowledged on a
// write quorum of k+1 of 2+2 shards lacks one until its repair.
//
// A cut is a kill as far as shards go (the node's shards are out of
// reach), so it targets the damaged disk's node too. A ring change is
// different: the rebuilt ring moves a share of the partitions of every
// disk, not only those of the disk drained or restored (on 3 nodes of 2
// disks, draining one moves about 5% of each other disk's slots; a
// restore moves a fifth of each), and the store's rebalancer copies a
// shard file as it is, without checking its blocks. A damaged shard moved
// to another node would leave damage on two nodes, so before a drain or
// a restore the harness replaces the damaged disk, if any, as a
// replacement round would ("repair" in Report.Faults). The rebalance
// rounds that follow a ring change end before the next round, so that no
// flip meets a shard being moved.
//
// # Model and checks
//
// The model (Model) keeps, per key, the writes and deletes whose value may
// be current: the last acknowledged ones, those in flight, and those that
// failed (an unacknowledged write may or may not have taken effect) until
// a later acknowledged write that started after them supersedes them. Each
// read is checked when it ends: a whole GET must return exactly one of the
// values allowed (by SHA-256 and size), a ranged GET the same bytes of one
// of them, NoSuchKey only if absence is allowed; a listing must show each
// key of its prefix with the size of an allowed value, or omit it only if
// absence is allowed. An error outside a fault is a violation too, except
// (unless Config.StrictReads) a read that fails while a write of its key
// is under way: the store may remove the shards of the version such a read
// resolved, and the read is then cut short; Report.Raced counts them.
//
// After the load stops, in a cluster that changes its ring, a disk still
// drained is restored (a damaged disk replaced first) and rebalance passes
// run on every node until one moves nothing, so that the checks start
// from the usual placement with nothing left on a hand-off. Then every
// key and listing is read back through the first node (listings also through a second one, in a cluster) and each
// key is pinned to the value read; a heal barrier waits until the store's
// healer has worked through what the reads queued (it damages the index-0
// shard file of a new object, on whichever node's disk it landed, reads
// the object through the first node and waits for any node to log its
// heal); then full redundancy. On one node, the disks are split into
// groups of Parity, and for each in turn the node is stopped, the group's
// directories removed, the node restarted and every key read back (so
// every object was on every other disk), and the group filled back. In a
// cluster, each node in turn (the one with a damaged disk first) is
// stopped, Parity of its disk directories removed (all of them with two
// disks and m = 2, the damaged one among them), the node started, every
// key and listing read back through it and the next node, and the node's
// log awaited for the fill back before the next node is taken.
//
// A violation stops the run. Run's error holds the seed and the history of
// the key concerned and of the faults; Report.History has everything. The
// same seed replays the same choices: the n-th operation of each client has
// the same kind, key, size and range, the n-th fault round the same kind
// and target disk. What they meet (the interleaving, the shard files on a
// disk when a flip picks some) depends on timing.
//
// # Concurrency
//
// Run drives the cluster's nodes (kill, stop, start) from the calling
// goroutine, which must be allowed to (a test's own goroutine for
// testserver), and calls Cutter and RingChanger from it too; it runs the
// clients on goroutines of its own that are gone when it returns. A Model
// is safe for concurrent use. Waits are on events: the ready line of a
// start, a log line, the end of a request. Time enters only through
// Config.Duration, the length of a cut and the grace after it, and the
// polling of a node's log and of a healed node's bucket listing.
package thrash
