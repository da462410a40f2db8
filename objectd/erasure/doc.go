// Package erasure is the Reed-Solomon codec of Basalt's storage core: it cuts
// an object into stripes and each stripe into k data and m parity shard
// blocks, and rebuilds missing blocks from any k that remain.
//
// # Layout
//
// An object of size bytes is cut into Stripes(size) stripes of BlockSize
// bytes each; the last stripe holds the rest and may be shorter. A stripe of
// L bytes becomes k data blocks of ShardLen(L) = ceil(L/k) bytes, the stripe's
// bytes laid out in order across them and the tail of the last ones padded
// with zeros, followed by m parity blocks of the same length computed over
// GF(2^8) by github.com/klauspost/reedsolomon:
//
//	stripe (L bytes)  |<-------------------- L -------------------->|
//	data blocks       [ d0 ][ d1 ] ... [ dk-1 (zero padded) ]
//	parity blocks     [ p0 ] ... [ pm-1 ]     each ShardLen(L) bytes
//
// Shard i of the object is the sequence of block i of every stripe, so its
// payload is ShardSize(size) bytes and its stripe-j piece starts at
// j*ShardBlockSize(). The padding is not part of the object: readers take
// the object's bytes back with WriteData, which knows the stripe length.
//
// With m = 0 the codec only splits; with k = 1 every parity block is a copy
// of the data block.
//
// # Concurrency
//
// A Codec is immutable after New and safe for concurrent use by any number
// of goroutines. Each call codes on the calling goroutine only, so callers
// get parallelism by coding several stripes at once. The shard buffers
// passed to a call belong to that call until it returns.
package erasure
