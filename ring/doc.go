// Package ring is Basalt's placement: the cluster map, and the ring that
// maps every partition of every storage policy to an ordered list of
// disks. It is pure and deterministic: no I/O, no randomness, no
// iteration over Go maps where order matters, no floating point in
// anything that decides placement, no clock (except Simulate, which times
// builds with an injectable one). The same inputs give the same ring,
// byte for byte, on every machine.
//
// # The map
//
// A Map holds nodes (id, address, region, zone, state), disks (id, node,
// weight, state) and storage policies (n replicas, or k data + m parity
// shards, over 2^power partitions), versioned by an epoch. It changes only
// through Apply(m, cmd), a pure function that returns a new map with the
// epoch one higher, or an error and nothing changed: duplicate or unknown
// ids, a zone given two regions, a disk added to a draining node, a state
// change from the wrong state, removing a disk that is not out or failed
// (drain it, let the data move, mark it out), removing a node with such
// disks, and any voluntary change that would make a placeable policy
// unplaceable, or take disks out of one that already is. FailDisk records
// a fact and is always accepted; Build then refuses the map while a policy
// is unplaceable, and the caller keeps its previous ring. Map.Encode is
// canonical JSON, and commands encode as {"op": ..., "args": ...}, for a
// replicated log.
//
// A disk receives partitions when it is "in", has weight > 0 and its node
// is "in". The others ("draining", "out", "failed") hold none in a ring
// built after the change: the rebalancer moves their data away.
//
// # Partitions
//
// An object's partition under a policy of power p is the top p bits of
// XXH64 (seed 0) of policy + "/" + bucket + "/" + key (PartitionOf).
// A Ring stores, per policy, a table of 2^p x width disk indices (4 bytes
// each): Locate is a hash and a slice, O(width). Position i of a
// partition's list is shard i (data shards first, then parity) or replica
// i, and a rebuild never moves a shard to another position.
//
// # Spread
//
// Disks form a tree: root, regions, zones, nodes, disks. A partition of
// width w is spread as widely as each level allows, region before zone
// before node before disk: no child of a tree node holding c of the
// partition's disks holds more than min(cap, L(c)), where cap is the
// child's number of disks and L(c) is the smallest L with
// sum over children of min(cap, L) >= c. So with at least w zones every
// disk of a partition is in its own zone; with 10 zones and w = 12 no zone
// holds more than 2; with one node of 12 disks (the single-machine
// default) every disk holds one shard of every partition. Losing one failure domain loses as
// few shards of a partition as the cluster's shape allows. A policy's
// Domain (node, zone or region) makes distinctness at that tier a
// requirement: the policy is unplaceable without enough such domains.
//
// Within these limits placement follows weight: a tree node's share is
// its parent's share split in proportion to weight, water-filled under
// the children's limits (a child held at its limit passes the rest to its
// siblings). Shares are fixed-point numbers of 2^-20 slot, computed in
// exact integer arithmetic.
// The limits come first: with weights 10, 10 and 1 in three zones and
// w = 3, each zone holds one disk of every partition.
//
// # Building
//
// Build(prev, m) keeps prev's assignment wherever its disk is still in and
// moves only what shares or spread limits require (after Swift's ring
// builder). Per policy, in two phases:
//
//  1. Fill. Slots on disks no longer in the ring are emptied. Each
//     partition in turn is then checked against the spread limits, top
//     down: at each tree node its current replicas are kept up to each
//     child's limit (shedding from the most over-share child when they
//     exceed the node's count), and missing replicas go to the children
//     furthest below their share, which a heap per tree node finds. A
//     jitter of less than one slot, fixed by the partition, breaks near
//     ties so that which disks share partitions is not a regular pattern.
//  2. Balance. Top down, at each tree node, slots move from children
//     above their share rounded up to children below it (or from children
//     above their share rounded down to children below that), each move
//     taking from the most over disk of the most over node and landing on
//     the neediest disk that keeps the spread limits. Moves are tried in
//     phases, cheapest first: re-moving a slot already moved in this build
//     (free), landing within one slot of the neediest disk while leaving
//     every level of both paths within its rounded share, any such clean
//     move, then any move that keeps the spread limits.
//
// Memory: a policy's table is 4 bytes a slot, 48 MiB at power 20 and
// width 12; MaxSlots (2^24 slots, 64 MiB) bounds it. A build holds, next
// to the previous ring, the new table, an index of slots per disk (4 bytes
// a slot, freed at the end) and a bit per slot: about 100 MiB at power 20
// and width 12.
//
// Figures (ec 8+4 over 10 zones, equal weights; a shared two-core
// machine; BenchmarkSimulate):
//
//	disks     power slots/disk vs weight share  build  add a node      remove a disk
//	100x12    14     164       +0.10% / -0.51%  0.1 s  1.004x, 0.03 s
//	100x12    16     655       +0.10% / -0.05%  0.5 s  1.002x, 0.09 s  1.000x, 0.04 s
//	1,000x12  18     262       +0.33% / -0.05%  3 s    1.017x, 0.4 s   1.000x, 0.4 s
//	1,000x12  19     524       +0.14% / -0.05%  7 s    1.004x, 0.9 s
//	1,000x12  20    1049       +0.04% / -0.05%  15 s   1.003x, 2 s     1.000x, 2 s
//
// (movement as moved/ideal, then the rebuild's time). Every disk holds its
// share rounded down or up: the deviations are one slot.
//
// Limits of the balancer: where a target sits exactly at a spread limit
// (a zone with twice the weight of the others and w = 12 over 11 zones:
// 2 of every partition), or where a change tightens a limit (a region's
// second zone, which may then hold only one of the region's two disks of
// a partition), the last slots can need chains of moves that Build does
// not make; the few disks left off target show in Balance.OffTarget, and
// a tightened limit moves more than the per-disk ideal.
//
// # Hand-offs
//
// Placement.Handoffs lists, for a target that is down, the next
// candidates (none of the partition's disks), best first: one disk in
// each region holding none of the partition, then each such zone, then
// each such node (round-robin over zones), then any other disk. Where to
// start in each list and which disk of a domain follow a hash of the
// policy and partition. Hand-offs do not follow weight: they hold data
// only while a target is down.
//
// # Reports
//
// Ring.Balance gives each disk's slots against its weight share and its
// target. Diff(old, new) counts, per policy and per disk, the
// partition-replicas that move, and the ideal: the least any ring must
// move so that every disk holds its new target rounded down or up.
// Moves(old, new, policy) lists them, for a rebalancer.
// Simulate builds a described cluster, applies a change through Apply and
// reports balance, movement and build times (basalt admin ring simulate).
//
// # Ring encoding
//
// Ring.MarshalBinary, little-endian, uvarint for counts and lengths:
//
//	"BRNG" | version (1 byte, 1) | epoch (uvarint)
//	disk count (uvarint), then per disk, ordered by (region, zone, node, id):
//	    id | node | zone | region (uvarint length + bytes each) | weight (uvarint)
//	policy count (uvarint), then per policy, by name:
//	    name (uvarint length + bytes) | n | k | m | power (uvarint each)
//	    | domain (uvarint length + bytes)
//	    | 2^power x width disk indices (uint32 each), partition by partition
//	CRC-32C of everything before (uint32)
//
// Shares and hand-offs are derived on decoding, not stored.
//
// # Concurrency
//
// A Map is a value: Apply never changes its input, and a Map that nobody
// changes may be read from any goroutine. A Ring is immutable and safe
// for concurrent use. Build, Apply, Diff and Simulate keep no state
// between calls and may run concurrently.
package ring
