package shardfmt

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Writer writes one shard: the header, then its blocks in order. It is not
// safe for concurrent use.
type Writer struct {
	w    io.Writer
	h    Header
	nb   int64
	next int64
	err  error // sticky: the first failure ends the shard
	sum  [4]byte
}

// NewWriter validates h and writes its header to w. A zero Version or
// Algorithm in h means Version and CRC32C.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if h.Version == 0 {
		h.Version = Version
	}
	if h.Algorithm == 0 {
		h.Algorithm = CRC32C
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	hb := h.Marshal()
	if _, err := w.Write(hb[:]); err != nil {
		return nil, fmt.Errorf("shardfmt: write header: %w", err)
	}
	return &Writer{w: w, h: h, nb: h.NumBlocks()}, nil
}

// Header returns the header written, with defaults filled in.
func (w *Writer) Header() Header { return w.h }

// WriteBlock writes the next block: its checksum, then p. len(p) must be
// the header's BlockLen of that block (ErrBlockLen), and there must be a
// block left to write (ErrShort). A failed write ends the shard: every
// later call returns the same error.
func (w *Writer) WriteBlock(p []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.next >= w.nb {
		return fmt.Errorf("%w: block %d is past the %d blocks of a %d-byte payload", ErrShort, w.next, w.nb, w.h.Length)
	}
	if want := w.h.BlockLen(w.next); len(p) != want {
		return fmt.Errorf("%w: block %d has %d bytes, header says %d", ErrBlockLen, w.next, len(p), want)
	}
	binary.LittleEndian.PutUint32(w.sum[:], checksum(p))
	if _, err := w.w.Write(w.sum[:]); err != nil {
		w.err = fmt.Errorf("shardfmt: write block %d: %w", w.next, err)
		return w.err
	}
	if _, err := w.w.Write(p); err != nil {
		w.err = fmt.Errorf("shardfmt: write block %d: %w", w.next, err)
		return w.err
	}
	w.next++
	return nil
}

// Close reports whether the shard is complete: it returns ErrShort unless
// exactly NumBlocks blocks were written, or the error of a failed write. It
// does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.next != w.nb {
		return fmt.Errorf("%w: %d of %d blocks written", ErrShort, w.next, w.nb)
	}
	return nil
}
