// Package ecbench measures erasure-code throughput on this machine's CPU:
// for each chosen layout (k data + m parity shards) and shard size it times
// encoding a stripe, reconstructing the data after losing m shards (the
// worst case a stripe survives), and a plain memory copy of the same data
// bytes, so that the codec's cost is seen against what the machine can move
// at all. It uses github.com/klauspost/reedsolomon directly, by default
// with one goroutine per call as Basalt's codec does.
//
// Each (layout, shard size, operation) case runs for a fixed time or count
// on Concurrency goroutines, each with its own buffers; the first few
// operations of each goroutine are a warm-up left out of the figures.
// Throughput counts the data bytes of the stripe (k x shard size).
//
// Concurrency: Run may be called from several goroutines with distinct
// configs.
package ecbench
