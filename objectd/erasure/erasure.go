package erasure

import (
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/reedsolomon"
)

// Errors returned by the codec. Callers check them with errors.Is.
var (
	// ErrTooFewShards means fewer than k shard blocks of a stripe are present.
	ErrTooFewShards = errors.New("erasure: too few shards to reconstruct")
	// ErrInvalidParams means New was given parameters no codec can have.
	ErrInvalidParams = errors.New("erasure: invalid parameters")
	// ErrShardCount means a call was given a shard slice whose length is not k+m
	// (or, for WriteData, fewer than k).
	ErrShardCount = errors.New("erasure: wrong number of shards")
	// ErrShardSize means the present shard blocks differ in length, or are
	// shorter than the stripe needs.
	ErrShardSize = errors.New("erasure: shard blocks of wrong length")
	// ErrDataTooLarge means Encode was given more than BlockSize bytes.
	ErrDataTooLarge = errors.New("erasure: stripe larger than the block size")
	// ErrRange means WriteData was asked for bytes outside the stripe.
	ErrRange = errors.New("erasure: range outside the stripe")
)

// MaxShards is the largest k+m the codec supports (the size of GF(2^8)).
const MaxShards = 256

// DefaultBlockSize is the stripe size the store uses unless configured
// otherwise.
const DefaultBlockSize = 1 << 20

// Codec encodes stripes into shard blocks and reconstructs them. It is
// immutable and safe for concurrent use.
type Codec struct {
	k, m      int
	blockSize int
	shardBS   int
	enc       reedsolomon.Encoder
}

// New returns a codec with k data shards, m parity shards and stripes of
// blockSize bytes. It fails with an error wrapping ErrInvalidParams unless
// k >= 1, m >= 0, k+m <= MaxShards and blockSize >= 1.
func New(k, m, blockSize int) (*Codec, error) {
	switch {
	case k < 1:
		return nil, fmt.Errorf("%w: k (data shards) is %d, must be at least 1", ErrInvalidParams, k)
	case m < 0:
		return nil, fmt.Errorf("%w: m (parity shards) is %d, must not be negative", ErrInvalidParams, m)
	case k > MaxShards || m > MaxShards || k+m > MaxShards:
		return nil, fmt.Errorf("%w: k+m is %d+%d, must be at most %d", ErrInvalidParams, k, m, MaxShards)
	case blockSize < 1:
		return nil, fmt.Errorf("%w: block size is %d, must be at least 1", ErrInvalidParams, blockSize)
	}
	// One goroutine per call: the store codes many stripes at once, and
	// the library's fan-out allocates on every call.
	enc, err := reedsolomon.New(k, m, reedsolomon.WithMaxGoroutines(1))
	if err != nil {
		return nil, fmt.Errorf("%w: k=%d m=%d: %v", ErrInvalidParams, k, m, err)
	}
	c := &Codec{k: k, m: m, blockSize: blockSize, enc: enc}
	c.shardBS = c.ShardLen(blockSize)
	return c, nil
}

// K returns the number of data shards.
func (c *Codec) K() int { return c.k }

// M returns the number of parity shards.
func (c *Codec) M() int { return c.m }

// BlockSize returns the stripe size in object bytes.
func (c *Codec) BlockSize() int { return c.blockSize }

// ShardBlockSize returns the length of a shard block of a full stripe,
// ShardLen(BlockSize()).
func (c *Codec) ShardBlockSize() int { return c.shardBS }

// ShardLen returns the length of each shard block of a stripe of stripeLen
// object bytes: ceil(stripeLen/k), and 0 for stripeLen <= 0.
func (c *Codec) ShardLen(stripeLen int) int {
	if stripeLen <= 0 {
		return 0
	}
	return (stripeLen-1)/c.k + 1
}

// Stripes returns the number of stripes of an object of size bytes
// (0 for size <= 0).
func (c *Codec) Stripes(size int64) int64 {
	if size <= 0 {
		return 0
	}
	return (size-1)/int64(c.blockSize) + 1
}

// StripeLen returns the number of object bytes in stripe i of an object of
// size bytes: BlockSize for every stripe but the last, the rest for the last,
// and 0 for an i outside [0, Stripes(size)).
func (c *Codec) StripeLen(size int64, i int64) int {
	if i < 0 || i >= c.Stripes(size) {
		return 0
	}
	rest := size - i*int64(c.blockSize)
	if rest > int64(c.blockSize) {
		return c.blockSize
	}
	return int(rest)
}

// ShardSize returns the payload bytes of one shard of an object of size
// bytes: the sum of ShardLen(StripeLen(size, i)) over all stripes.
func (c *Codec) ShardSize(size int64) int64 {
	if size <= 0 {
		return 0
	}
	bs := int64(c.blockSize)
	return (size/bs)*int64(c.shardBS) + int64(c.ShardLen(int(size%bs)))
}

// Encode codes one stripe. len(data) must be at most BlockSize and shards
// must have k+m entries. On return shards[i] is shards[i][:ShardLen(len(data))]:
// the data blocks hold the stripe (zero padded), the parity blocks its parity.
// Entries whose capacity is smaller than that are replaced by new slices;
// with capacity ShardBlockSize() Encode allocates no buffers. (On amd64
// without GFNI the library's AVX2 kernel puts a scratch slice back into a
// sync.Pool on each call with parity, a 24-byte allocation; with more than
// 10 data shards it takes another path that allocates twice.) data must not
// overlap any shard.
func (c *Codec) Encode(data []byte, shards [][]byte) error {
	if len(data) > c.blockSize {
		return fmt.Errorf("%w: %d bytes, block size %d", ErrDataTooLarge, len(data), c.blockSize)
	}
	if len(shards) != c.k+c.m {
		return fmt.Errorf("%w: got %d, want k+m = %d", ErrShardCount, len(shards), c.k+c.m)
	}
	sl := c.ShardLen(len(data))
	for i := range shards {
		if cap(shards[i]) < sl {
			shards[i] = make([]byte, sl)
		} else {
			shards[i] = shards[i][:sl]
		}
	}
	if sl == 0 {
		return nil
	}
	rest := data
	for i := 0; i < c.k; i++ {
		n := copy(shards[i], rest)
		rest = rest[n:]
		clear(shards[i][n:])
	}
	if c.m == 0 {
		return nil
	}
	if err := c.enc.Encode(shards); err != nil {
		return fmt.Errorf("erasure: encode: %w", err)
	}
	return nil
}

// Reconstruct rebuilds the missing blocks of one stripe in place. shards has
// k+m entries; an entry of length 0 is missing (its capacity is reused when
// it suffices, else a new slice is allocated), and all present entries must
// have the same length. Missing data blocks are always rebuilt; missing
// parity blocks are rebuilt unless dataOnly, in which case they stay empty.
// With fewer than k present it returns an error wrapping ErrTooFewShards and
// leaves shards unchanged.
func (c *Codec) Reconstruct(shards [][]byte, dataOnly bool) error {
	if len(shards) != c.k+c.m {
		return fmt.Errorf("%w: got %d, want k+m = %d", ErrShardCount, len(shards), c.k+c.m)
	}
	present, dataPresent, size := 0, 0, -1
	for i, s := range shards {
		if len(s) == 0 {
			continue
		}
		if size >= 0 && len(s) != size {
			return fmt.Errorf("%w: shard %d has %d bytes, others %d", ErrShardSize, i, len(s), size)
		}
		size = len(s)
		present++
		if i < c.k {
			dataPresent++
		}
	}
	if present < c.k {
		return fmt.Errorf("%w: %d of %d present, need %d", ErrTooFewShards, present, c.k+c.m, c.k)
	}
	if present == len(shards) || dataOnly && dataPresent == c.k {
		return nil
	}
	var err error
	if dataOnly {
		err = c.enc.ReconstructData(shards)
	} else {
		err = c.enc.Reconstruct(shards)
	}
	if errors.Is(err, reedsolomon.ErrTooFewShards) {
		return fmt.Errorf("%w: %v", ErrTooFewShards, err)
	}
	if err != nil {
		return fmt.Errorf("erasure: reconstruct: %w", err)
	}
	return nil
}

// WriteData writes bytes [off, off+n) of a stripe of stripeLen object bytes
// to w, taking them from the stripe's k data blocks (shards[0:k], each at
// least ShardLen(stripeLen) bytes long). An error of w is returned wrapped;
// a short write without one is io.ErrShortWrite.
func (c *Codec) WriteData(w io.Writer, shards [][]byte, stripeLen, off, n int) error {
	if stripeLen < 0 || stripeLen > c.blockSize {
		return fmt.Errorf("%w: stripe length %d, block size %d", ErrRange, stripeLen, c.blockSize)
	}
	if off < 0 || n < 0 || off > stripeLen || n > stripeLen-off {
		return fmt.Errorf("%w: [%d, %d+%d) of a %d-byte stripe", ErrRange, off, off, n, stripeLen)
	}
	if len(shards) < c.k {
		return fmt.Errorf("%w: got %d, need the k = %d data shards", ErrShardCount, len(shards), c.k)
	}
	if n == 0 {
		return nil
	}
	sl := c.ShardLen(stripeLen)
	i, pos := off/sl, off%sl
	for n > 0 {
		s := shards[i]
		if len(s) < sl {
			return fmt.Errorf("%w: data shard %d has %d bytes, stripe needs %d", ErrShardSize, i, len(s), sl)
		}
		chunk := min(sl-pos, n)
		written, err := w.Write(s[pos : pos+chunk])
		if err == nil && written != chunk {
			err = io.ErrShortWrite
		}
		if err != nil {
			return fmt.Errorf("erasure: write data: %w", err)
		}
		n -= chunk
		i, pos = i+1, 0
	}
	return nil
}
