package shardfmt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Reader reads and verifies the blocks of one encoded shard. It is
// immutable after NewReader; its methods may be called concurrently.
type Reader struct {
	r  io.ReaderAt
	h  Header
	nb int64
}

// sizer is implemented by readers that know their length, such as
// *bytes.Reader and *io.SectionReader.
type sizer interface{ Size() int64 }

// probeAbove is the buffer growth above which a block's last byte is read
// before the buffer is allocated, so that a header naming huge blocks over
// a short input cannot make the reader allocate gigabytes.
const probeAbove = 1 << 20

// NewReader reads and validates the header at the start of r. If r has a
// Size() int64 method (bytes.Reader, io.SectionReader), the size must be
// the header's EncodedSize, else ErrShort.
func NewReader(r io.ReaderAt) (*Reader, error) {
	var b [HeaderSize]byte
	n, err := r.ReadAt(b[:], 0)
	if n < HeaderSize {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("shardfmt: read header: %w", err)
		}
		if n >= 4 && string(b[:4]) != Magic {
			return nil, fmt.Errorf("%w: %q", ErrBadMagic, b[:4])
		}
		return nil, fmt.Errorf("%w: header truncated to %d bytes", ErrShort, n)
	}
	h, err := ParseHeader(b[:])
	if err != nil {
		return nil, err
	}
	if s, ok := r.(sizer); ok {
		if size, want := s.Size(), EncodedSize(h); size != want {
			return nil, fmt.Errorf("%w: %d bytes, header says %d", ErrShort, size, want)
		}
	}
	return &Reader{r: r, h: h, nb: h.NumBlocks()}, nil
}

// Header returns the shard's header.
func (r *Reader) Header() Header { return r.h }

// ReadBlock reads block i into buf, grown when its capacity is below
// 4+BlockLen(i), verifies the block's checksum and returns its payload, a
// sub-slice of buf (or of the grown buffer). A mismatch gives an error
// wrapping ErrChecksum that names the block; missing bytes give ErrShort;
// an i outside [0, NumBlocks) gives ErrBlockIndex.
func (r *Reader) ReadBlock(i int64, buf []byte) ([]byte, error) {
	if i < 0 || i >= r.nb {
		return nil, fmt.Errorf("%w: block %d of %d", ErrBlockIndex, i, r.nb)
	}
	p, err := r.readRange(r.h.BlockOffset(i), 4+int64(r.h.BlockLen(i)), buf, i)
	if err != nil {
		return nil, err
	}
	return verify(p, i)
}

// ReadBlocks reads blocks [first, first+n) with one ReadAt into buf (grown
// as ReadBlock does), verifies each and returns their payloads, sub-slices
// of the buffer. Errors are those of ReadBlock; the first bad block found
// is reported.
func (r *Reader) ReadBlocks(first, n int64, buf []byte) ([][]byte, error) {
	if first < 0 || n < 0 || first > r.nb || n > r.nb-first {
		return nil, fmt.Errorf("%w: blocks [%d, %d+%d) of %d", ErrBlockIndex, first, first, n, r.nb)
	}
	if n == 0 {
		return [][]byte{}, nil
	}
	last := first + n - 1
	start := r.h.BlockOffset(first)
	end := r.h.BlockOffset(last) + 4 + int64(r.h.BlockLen(last))
	p, err := r.readRange(start, end-start, buf, first)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	for j := range out {
		i := first + int64(j)
		bl := 4 + r.h.BlockLen(i)
		if out[j], err = verify(p[:bl], i); err != nil {
			return nil, err
		}
		p = p[bl:]
	}
	return out, nil
}

// Verify reads every block and checks its checksum, and checks that nothing
// follows the last block. It returns the first problem found.
func (r *Reader) Verify() error {
	size := EncodedSize(r.h)
	var probe [1]byte
	// Check the end first, so that a truncated shard fails at once.
	if size > HeaderSize {
		if n, err := r.r.ReadAt(probe[:], size-1); n != 1 {
			return r.shortOrErr(err, "last block", size-1)
		}
	}
	if n, _ := r.r.ReadAt(probe[:], size); n != 0 {
		return fmt.Errorf("%w: bytes follow the last block at offset %d", ErrShort, size)
	}
	var buf []byte
	for i := range r.nb {
		b, err := r.readRange(r.h.BlockOffset(i), 4+int64(r.h.BlockLen(i)), buf, i)
		if err != nil {
			return err
		}
		if _, err := verify(b, i); err != nil {
			return err
		}
		buf = b
	}
	return nil
}

// readRange reads size bytes at off into buf (grown if needed). block names
// the first block read, for errors.
func (r *Reader) readRange(off, size int64, buf []byte, block int64) ([]byte, error) {
	if size > math.MaxInt {
		return nil, fmt.Errorf("%w: %d bytes from block %d do not fit in memory", ErrBlockIndex, size, block)
	}
	if int64(cap(buf)) < size {
		if size > probeAbove {
			var probe [1]byte
			if n, err := r.r.ReadAt(probe[:], off+size-1); n != 1 {
				return nil, r.shortOrErr(err, fmt.Sprintf("block %d", block), off+size-1)
			}
		}
		buf = make([]byte, size)
	}
	buf = buf[:size]
	n, err := r.r.ReadAt(buf, off)
	if int64(n) < size {
		return nil, r.shortOrErr(err, fmt.Sprintf("block %d", block), off+int64(n))
	}
	return buf, nil
}

// shortOrErr classifies a failed read: end of input is ErrShort, any other
// error is the reader's own.
func (r *Reader) shortOrErr(err error, what string, at int64) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s: shard ends before offset %d of %d", ErrShort, what, at, EncodedSize(r.h))
	}
	return fmt.Errorf("shardfmt: read %s: %w", what, err)
}

// verify checks one block, p = checksum then payload, and returns the payload.
func verify(p []byte, i int64) ([]byte, error) {
	want := binary.LittleEndian.Uint32(p[:4])
	if got := checksum(p[4:]); got != want {
		return nil, fmt.Errorf("%w: block %d: stored %08x, computed %08x", ErrChecksum, i, want, got)
	}
	return p[4:], nil
}
