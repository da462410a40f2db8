// Package shardfmt is Basalt's on-disk shard format: one shard of one object
// (or part) as a self-describing header followed by checksummed blocks. The
// same bytes are kept either in a file of their own or inline in a metadata
// record, so the package reads from an io.ReaderAt and writes to an
// io.Writer and does no I/O of its own.
//
// # Byte layout
//
// All integers are little endian. Checksums are CRC-32C (Castagnoli).
//
//	offset size field
//	0      4    magic "BSHD"
//	4      1    format version (1)
//	5      1    checksum algorithm (1 = CRC32C, Castagnoli)
//	6      1    k (data shards)
//	7      1    m (parity shards)
//	8      1    shard index (0..k+m-1)
//	9      3    reserved, zero
//	12     4    block size (uint32): payload bytes of every block but the last
//	16     8    payload length (uint64): total payload bytes of this shard
//	24     36   reserved, zero
//	60     4    CRC32C of bytes 0..59 (uint32)
//	64     ...  blocks
//
// Block i starts at 64 + i*(4+blockSize):
//
//	+----------------------+------------------------------------------+
//	| CRC32C of the bytes  | block bytes: blockSize bytes, except the |
//	| that follow (uint32) | last block, which holds the rest         |
//	+----------------------+------------------------------------------+
//
// There are ceil(length/blockSize) blocks and none is empty, so a shard of
// length 0 is the header alone, and the encoded size is
// 64 + 4*ceil(length/blockSize) + length. Nothing follows the last block.
//
// For an erasure-coded object, block i is the shard's piece of stripe i:
// the block size is the codec's shard block size and the length its shard
// size, so blocks and stripes line up one to one and a stripe can be read
// or repaired without touching the others.
//
// Every later version keeps the magic, the version byte at offset 4 and the
// header checksum at offset 60, so a reader can tell a newer format
// (ErrUnsupported) from a damaged header (ErrBadHeader).
//
// # Errors
//
// A damaged or foreign header gives ErrBadMagic, ErrBadHeader or
// ErrUnsupported; a block whose checksum does not match gives ErrChecksum
// naming the block; bytes missing or left over gives ErrShort. Errors from
// the underlying reader or writer are returned wrapped.
//
// # Concurrency
//
// A Header is a plain value. A Writer is used by one goroutine at a time. A
// Reader is immutable after NewReader: any number of goroutines may call
// ReadBlock, ReadBlocks and Verify at once, provided the io.ReaderAt allows
// parallel ReadAt calls (as its contract requires) and each call has its
// own buffer.
package shardfmt
