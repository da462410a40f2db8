package shardfmt

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReader feeds arbitrary bytes to NewReader, ReadBlock, ReadBlocks and
// Verify. None may panic, every error must be one of the package's, and a
// shard that Verify accepts must read back, block by block, exactly Length
// payload bytes. fixCRC repairs the header checksum so that mutated fields
// get past it; hideSize withholds the input's length from the reader.
func FuzzReader(f *testing.F) {
	for _, seed := range []struct {
		h Header
		n int
	}{
		{Header{Version, CRC32C, 1, 0, 0, 8, 0}, 0},
		{Header{Version, CRC32C, 2, 2, 3, 8, 0}, 29},
		{Header{Version, CRC32C, 4, 2, 5, 16, 0}, 16},
		{Header{Version, CRC32C, 3, 1, 0, 1, 0}, 5},
	} {
		enc := encode(f, seed.h, payload(uint64(seed.n), int64(seed.n)))
		f.Add(enc, false, false)
		f.Add(enc, true, true)
		f.Add(enc[:len(enc)-1], false, true)
	}
	f.Add([]byte("BSHD"), false, false)
	f.Add([]byte{}, true, true)

	f.Fuzz(func(t *testing.T, data []byte, fix, hideSize bool) {
		data = bytes.Clone(data)
		if fix && len(data) >= HeaderSize {
			fixCRC(data)
		}
		var src interface {
			ReadAt([]byte, int64) (int, error)
		} = bytes.NewReader(data)
		if hideSize {
			src = hidden{src}
		}
		r, err := NewReader(src)
		if err != nil {
			if !isFormatError(err) {
				t.Fatalf("NewReader: foreign error %v", err)
			}
			return
		}
		h := r.Header()
		if h.Validate() != nil {
			t.Fatalf("NewReader accepted an invalid header %+v", h)
		}
		nb := min(h.NumBlocks(), 64)
		var total int64
		good := true
		for i := range nb {
			blk, err := r.ReadBlock(i, nil)
			if err != nil {
				if !isFormatError(err) {
					t.Fatalf("ReadBlock(%d): foreign error %v", i, err)
				}
				good = false
				continue
			}
			if len(blk) != h.BlockLen(i) {
				t.Fatalf("ReadBlock(%d) returned %d bytes, BlockLen %d", i, len(blk), h.BlockLen(i))
			}
			total += int64(len(blk))
		}
		if _, err := r.ReadBlocks(0, nb, nil); err != nil && !isFormatError(err) {
			t.Fatalf("ReadBlocks: foreign error %v", err)
		}
		verr := r.Verify()
		if verr != nil && !isFormatError(verr) {
			t.Fatalf("Verify: foreign error %v", verr)
		}
		if verr == nil {
			if !good || nb != h.NumBlocks() || total != h.Length || int64(len(data)) != EncodedSize(h) {
				t.Fatalf("Verify accepted a shard that does not read back: %+v, %d bytes", h, len(data))
			}
		}
	})
}

func isFormatError(err error) bool {
	for _, e := range []error{ErrBadMagic, ErrBadHeader, ErrUnsupported, ErrChecksum, ErrShort, ErrBlockIndex} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
