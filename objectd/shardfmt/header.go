package shardfmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// HeaderSize is the size of the encoded header in bytes.
const HeaderSize = 64

// Version is the format version this package writes and reads.
const Version = 1

// Magic is the first four bytes of every shard.
const Magic = "BSHD"

// MaxShards is the largest k+m a header may describe.
const MaxShards = 256

// Algorithm identifies the block checksum.
type Algorithm uint8

// CRC32C is CRC-32 with the Castagnoli polynomial, hardware accelerated on
// amd64 and arm64.
const CRC32C Algorithm = 1

// String returns the algorithm's name.
func (a Algorithm) String() string {
	if a == CRC32C {
		return "CRC32C"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// Errors of the format. Callers check them with errors.Is.
var (
	// ErrBadMagic means the bytes do not start with "BSHD": not a shard.
	ErrBadMagic = errors.New("shardfmt: bad magic, not a shard")
	// ErrBadHeader means the header checksum does not match or a field is
	// invalid.
	ErrBadHeader = errors.New("shardfmt: bad header")
	// ErrUnsupported means the version or checksum algorithm is unknown.
	ErrUnsupported = errors.New("shardfmt: unsupported version or algorithm")
	// ErrChecksum means a block's checksum does not match its bytes.
	ErrChecksum = errors.New("shardfmt: checksum mismatch")
	// ErrShort means the payload is shorter or longer than the header says,
	// or the encoded shard is truncated.
	ErrShort = errors.New("shardfmt: payload length does not match header")
	// ErrBlockLen means WriteBlock was given a block of the wrong length.
	ErrBlockLen = errors.New("shardfmt: block length does not match header")
	// ErrBlockIndex means a block index outside [0, NumBlocks) was asked for.
	ErrBlockIndex = errors.New("shardfmt: block index out of range")
)

// castagnoli is the CRC-32C table; crc32 uses the CPU's instruction with it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

// Header describes one shard. It is written at the start of the shard.
type Header struct {
	Version   uint8     // format version, Version
	Algorithm Algorithm // block checksum, CRC32C
	K, M      uint8     // data and parity shards of the object
	Index     uint8     // this shard's index, 0..K+M-1
	BlockSize uint32    // payload bytes of every block but the last
	Length    int64     // payload bytes of this shard
}

// Marshal encodes the header as the format lays it out, with its checksum.
// It encodes the fields as they are; Validate tells whether they make a
// header that ParseHeader accepts.
func (h Header) Marshal() [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[0:4], Magic)
	b[4] = h.Version
	b[5] = uint8(h.Algorithm)
	b[6] = h.K
	b[7] = h.M
	b[8] = h.Index
	binary.LittleEndian.PutUint32(b[12:16], h.BlockSize)
	binary.LittleEndian.PutUint64(b[16:24], uint64(h.Length))
	binary.LittleEndian.PutUint32(b[60:64], checksum(b[:60]))
	return b
}

// ParseHeader decodes and validates the first HeaderSize bytes of b. Fewer
// bytes give ErrShort; then, in order, a wrong magic gives ErrBadMagic, a
// header checksum mismatch ErrBadHeader, an unknown version or algorithm
// ErrUnsupported, and an invalid field or nonzero reserved byte ErrBadHeader.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: header needs %d bytes, have %d", ErrShort, HeaderSize, len(b))
	}
	b = b[:HeaderSize]
	if string(b[0:4]) != Magic {
		return Header{}, fmt.Errorf("%w: %q", ErrBadMagic, b[0:4])
	}
	if got, want := binary.LittleEndian.Uint32(b[60:64]), checksum(b[:60]); got != want {
		return Header{}, fmt.Errorf("%w: header checksum %08x, computed %08x", ErrBadHeader, got, want)
	}
	length := binary.LittleEndian.Uint64(b[16:24])
	if length > math.MaxInt64 {
		return Header{}, fmt.Errorf("%w: payload length %d", ErrBadHeader, length)
	}
	h := Header{
		Version:   b[4],
		Algorithm: Algorithm(b[5]),
		K:         b[6],
		M:         b[7],
		Index:     b[8],
		BlockSize: binary.LittleEndian.Uint32(b[12:16]),
		Length:    int64(length),
	}
	if err := h.Validate(); err != nil {
		return Header{}, err
	}
	if !allZero(b[9:12]) || !allZero(b[24:60]) {
		return Header{}, fmt.Errorf("%w: reserved bytes are not zero", ErrBadHeader)
	}
	return h, nil
}

func allZero(p []byte) bool {
	return len(bytes.TrimLeft(p, "\x00")) == 0
}

// Validate reports whether h describes a shard this package can write and
// read: version and algorithm known (else ErrUnsupported), K >= 1,
// K+M <= MaxShards, Index < K+M, BlockSize >= 1, Length >= 0 and an encoded
// size that fits in an int64 (else ErrBadHeader).
func (h Header) Validate() error {
	switch {
	case h.Version != Version:
		return fmt.Errorf("%w: version %d, this build reads %d", ErrUnsupported, h.Version, Version)
	case h.Algorithm != CRC32C:
		return fmt.Errorf("%w: checksum algorithm %d", ErrUnsupported, uint8(h.Algorithm))
	case h.K < 1:
		return fmt.Errorf("%w: k is 0", ErrBadHeader)
	case int(h.K)+int(h.M) > MaxShards:
		return fmt.Errorf("%w: k+m is %d+%d, more than %d", ErrBadHeader, h.K, h.M, MaxShards)
	case int(h.Index) >= int(h.K)+int(h.M):
		return fmt.Errorf("%w: shard index %d of k+m = %d", ErrBadHeader, h.Index, int(h.K)+int(h.M))
	case h.BlockSize < 1:
		return fmt.Errorf("%w: block size is 0", ErrBadHeader)
	case h.Length < 0:
		return fmt.Errorf("%w: payload length %d", ErrBadHeader, h.Length)
	}
	// EncodedSize = HeaderSize + 4*NumBlocks + Length must not overflow.
	if nb := h.NumBlocks(); nb > (math.MaxInt64-HeaderSize-h.Length)/4 {
		return fmt.Errorf("%w: payload length %d is too large", ErrBadHeader, h.Length)
	}
	return nil
}

// NumBlocks returns the number of blocks: ceil(Length/BlockSize), 0 for an
// empty shard (or a header with no block size).
func (h Header) NumBlocks() int64 {
	if h.Length <= 0 || h.BlockSize == 0 {
		return 0
	}
	return (h.Length-1)/int64(h.BlockSize) + 1
}

// BlockLen returns the payload bytes of block i: BlockSize for every block
// but the last, the rest of the payload for the last, and 0 for an i
// outside [0, NumBlocks).
func (h Header) BlockLen(i int64) int {
	nb := h.NumBlocks()
	if i < 0 || i >= nb {
		return 0
	}
	if i < nb-1 {
		return int(h.BlockSize)
	}
	return int(h.Length - (nb-1)*int64(h.BlockSize))
}

// BlockOffset returns the offset of block i (of its checksum) from the
// start of the shard: HeaderSize + i*(4+BlockSize). It does not check i;
// for i = NumBlocks() it is where one more block would start, which equals
// EncodedSize only when the last block is full.
func (h Header) BlockOffset(i int64) int64 {
	return HeaderSize + i*(4+int64(h.BlockSize))
}

// EncodedSize returns the size of the encoded shard:
// HeaderSize + 4*NumBlocks + Length.
func EncodedSize(h Header) int64 {
	return HeaderSize + 4*h.NumBlocks() + h.Length
}
