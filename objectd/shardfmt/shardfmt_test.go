package shardfmt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/basaltstore/basalt/objectd/erasure"
)

// hidden hides the Size method of a reader, as *os.File has none, so that
// checks made at read time are exercised.
type hidden struct{ r io.ReaderAt }

func (h hidden) ReadAt(p []byte, off int64) (int, error) { return h.r.ReadAt(p, off) }

func payload(seed uint64, n int64) []byte {
	r := rand.New(rand.NewPCG(seed, 99))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// encode writes a shard of payload p with header h (Length set from p).
func encode(t testing.TB, h Header, p []byte) []byte {
	t.Helper()
	h.Length = int64(len(p))
	var out bytes.Buffer
	w, err := NewWriter(&out, h)
	if err != nil {
		t.Fatalf("NewWriter(%+v): %v", h, err)
	}
	for i := range h.NumBlocks() {
		off := i * int64(h.BlockSize)
		if err := w.WriteBlock(p[off : off+int64(h.BlockLen(i))]); err != nil {
			t.Fatalf("WriteBlock %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return out.Bytes()
}

func TestHeaderLayout(t *testing.T) {
	h := Header{Version: 1, Algorithm: CRC32C, K: 8, M: 4, Index: 11, BlockSize: 0x01020304, Length: 0x0a0b0c0d0e0f1011}
	b := h.Marshal()
	want := make([]byte, 60)
	copy(want, "BSHD")
	want[4], want[5], want[6], want[7], want[8] = 1, 1, 8, 4, 11
	copy(want[12:], []byte{0x04, 0x03, 0x02, 0x01})
	copy(want[16:], []byte{0x11, 0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a})
	if !bytes.Equal(b[:60], want) {
		t.Fatalf("header bytes\n got %x\nwant %x", b[:60], want)
	}
	if got, w := binary.LittleEndian.Uint32(b[60:]), crc32.Checksum(want, crc32.MakeTable(crc32.Castagnoli)); got != w {
		t.Fatalf("header checksum %08x, want %08x", got, w)
	}
	got, err := ParseHeader(b[:])
	if err != nil || got != h {
		t.Fatalf("ParseHeader = %+v, %v; want %+v", got, err, h)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []Header{
		{Version, CRC32C, 1, 0, 0, 1, 0},
		{Version, CRC32C, 4, 2, 5, 1 << 18, 5 << 30},
		{Version, CRC32C, 255, 1, 255, math.MaxUint32, math.MaxInt64 / 2},
		{Version, CRC32C, 1, 255, 200, 7, 7},
		{Version, CRC32C, 128, 128, 0, 1 << 20, 0},
	} {
		b := h.Marshal()
		got, err := ParseHeader(b[:])
		if err != nil || got != h {
			t.Errorf("round trip of %+v: %+v, %v", h, got, err)
		}
	}
}

// fixCRC rewrites the header checksum of b after a deliberate change.
func fixCRC(b []byte) {
	binary.LittleEndian.PutUint32(b[60:64], crc32.Checksum(b[:60], crc32.MakeTable(crc32.Castagnoli)))
}

func TestParseHeaderErrors(t *testing.T) {
	good := Header{Version, CRC32C, 4, 2, 1, 4096, 100000}.Marshal()
	mod := func(f func(b []byte), fix bool) []byte {
		b := bytes.Clone(good[:])
		f(b)
		if fix {
			fixCRC(b)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"63 bytes", good[:63], ErrShort},
		{"magic", mod(func(b []byte) { b[0] = 'X' }, true), ErrBadMagic},
		{"checksum", mod(func(b []byte) { b[61] ^= 1 }, false), ErrBadHeader},
		{"field without checksum fix", mod(func(b []byte) { b[6] = 5 }, false), ErrBadHeader},
		{"version 2", mod(func(b []byte) { b[4] = 2 }, true), ErrUnsupported},
		{"version 0", mod(func(b []byte) { b[4] = 0 }, true), ErrUnsupported},
		{"algorithm 2", mod(func(b []byte) { b[5] = 2 }, true), ErrUnsupported},
		{"k 0", mod(func(b []byte) { b[6] = 0 }, true), ErrBadHeader},
		{"k+m 300", mod(func(b []byte) { b[6], b[7] = 200, 100 }, true), ErrBadHeader},
		{"index k+m", mod(func(b []byte) { b[8] = 6 }, true), ErrBadHeader},
		{"block size 0", mod(func(b []byte) { clear(b[12:16]) }, true), ErrBadHeader},
		{"length top bit", mod(func(b []byte) { b[23] = 0x80 }, true), ErrBadHeader},
		{"size overflows", mod(func(b []byte) {
			binary.LittleEndian.PutUint32(b[12:16], 1)
			binary.LittleEndian.PutUint64(b[16:24], math.MaxInt64/4)
		}, true), ErrBadHeader},
		{"reserved 9", mod(func(b []byte) { b[9] = 1 }, true), ErrBadHeader},
		{"reserved 59", mod(func(b []byte) { b[59] = 1 }, true), ErrBadHeader},
	} {
		_, err := ParseHeader(tc.b)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "shardfmt: ") {
			t.Errorf("%s: error %q lacks the package prefix", tc.name, err)
		}
	}
}

func TestGeometry(t *testing.T) {
	h := Header{Version, CRC32C, 2, 1, 0, 10, 25}
	if got := h.NumBlocks(); got != 3 {
		t.Fatalf("NumBlocks = %d", got)
	}
	for i, want := range []int{10, 10, 5} {
		if got := h.BlockLen(int64(i)); got != want {
			t.Errorf("BlockLen(%d) = %d, want %d", i, got, want)
		}
		if got, want := h.BlockOffset(int64(i)), int64(64+i*14); got != want {
			t.Errorf("BlockOffset(%d) = %d, want %d", i, got, want)
		}
	}
	if h.BlockLen(3) != 0 || h.BlockLen(-1) != 0 {
		t.Error("BlockLen outside the blocks is not 0")
	}
	if got := EncodedSize(h); got != 64+12+25 {
		t.Errorf("EncodedSize = %d", got)
	}
	for _, tc := range []struct {
		bs      uint32
		length  int64
		nb      int64
		lastLen int
	}{{10, 0, 0, 0}, {10, 1, 1, 1}, {10, 9, 1, 9}, {10, 10, 1, 10}, {10, 11, 2, 1}, {1, 5, 5, 1}} {
		h := Header{Version, CRC32C, 1, 0, 0, tc.bs, tc.length}
		if got := h.NumBlocks(); got != tc.nb {
			t.Errorf("bs %d len %d: NumBlocks %d, want %d", tc.bs, tc.length, got, tc.nb)
		}
		if got := h.BlockLen(tc.nb - 1); got != tc.lastLen {
			t.Errorf("bs %d len %d: last BlockLen %d, want %d", tc.bs, tc.length, got, tc.lastLen)
		}
	}
}

// TestStripesAlign checks that a shard written with the codec's geometry
// has one block per stripe, each the length of that stripe's shard block.
func TestStripesAlign(t *testing.T) {
	for _, cfg := range []struct{ k, m, bs int }{{4, 2, 1 << 20}, {3, 1, 1000}, {1, 0, 7}} {
		c, err := erasure.New(cfg.k, cfg.m, cfg.bs)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int64{0, 1, int64(cfg.bs) - 1, int64(cfg.bs), int64(cfg.bs) + 1, 10*int64(cfg.bs) + 3} {
			h := Header{Version, CRC32C, uint8(cfg.k), uint8(cfg.m), 0, uint32(c.ShardBlockSize()), c.ShardSize(size)}
			if h.NumBlocks() != c.Stripes(size) {
				t.Fatalf("%+v size %d: %d blocks, %d stripes", cfg, size, h.NumBlocks(), c.Stripes(size))
			}
			for i := range h.NumBlocks() {
				if h.BlockLen(i) != c.ShardLen(c.StripeLen(size, i)) {
					t.Fatalf("%+v size %d: block %d has %d bytes, stripe shard %d", cfg, size, i, h.BlockLen(i), c.ShardLen(c.StripeLen(size, i)))
				}
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, bs := range []uint32{1, 16, 4096} {
		b := int64(bs)
		for _, length := range []int64{0, 1, b - 1, b, b + 1, 7*b + 3, 20 * b} {
			if length < 0 {
				continue
			}
			t.Run(fmt.Sprintf("bs%d_len%d", bs, length), func(t *testing.T) {
				h := Header{Version, CRC32C, 3, 2, 4, bs, 0}
				p := payload(uint64(length), length)
				enc := encode(t, h, p)
				h.Length = length
				if int64(len(enc)) != EncodedSize(h) {
					t.Fatalf("encoded %d bytes, EncodedSize %d", len(enc), EncodedSize(h))
				}
				// The bytes are where the layout says.
				for i := range h.NumBlocks() {
					off := h.BlockOffset(i)
					bl := int64(h.BlockLen(i))
					blk := enc[off+4 : off+4+bl]
					if !bytes.Equal(blk, p[i*b:i*b+bl]) {
						t.Fatalf("block %d bytes not at offset %d", i, off+4)
					}
					if binary.LittleEndian.Uint32(enc[off:]) != crc32.Checksum(blk, crc32.MakeTable(crc32.Castagnoli)) {
						t.Fatalf("block %d checksum wrong", i)
					}
				}
				for _, src := range []io.ReaderAt{bytes.NewReader(enc), hidden{bytes.NewReader(enc)}} {
					r, err := NewReader(src)
					if err != nil {
						t.Fatal(err)
					}
					if r.Header() != h {
						t.Fatalf("Header() = %+v, want %+v", r.Header(), h)
					}
					if err := r.Verify(); err != nil {
						t.Fatalf("Verify: %v", err)
					}
					var got []byte
					buf := make([]byte, 0, 3) // too small at first: grown
					for i := range h.NumBlocks() {
						blk, err := r.ReadBlock(i, buf)
						if err != nil {
							t.Fatalf("ReadBlock %d: %v", i, err)
						}
						got = append(got, blk...)
						buf = blk[:0]
					}
					if !bytes.Equal(got, p) {
						t.Fatal("blocks read back differ from the payload")
					}
					nb := h.NumBlocks()
					for first := int64(0); first <= nb; first++ {
						for n := int64(0); first+n <= nb && n <= 4; n++ {
							blks, err := r.ReadBlocks(first, n, nil)
							if err != nil {
								t.Fatalf("ReadBlocks(%d, %d): %v", first, n, err)
							}
							if int64(len(blks)) != n {
								t.Fatalf("ReadBlocks(%d, %d) returned %d", first, n, len(blks))
							}
							for j, blk := range blks {
								i := first + int64(j)
								if !bytes.Equal(blk, p[i*b:i*b+int64(h.BlockLen(i))]) {
									t.Fatalf("ReadBlocks(%d, %d): block %d differs", first, n, i)
								}
							}
						}
					}
				}
			})
		}
	}
}

func TestReadBlockReusesBuffer(t *testing.T) {
	h := Header{Version, CRC32C, 1, 0, 0, 64, 0}
	enc := encode(t, h, payload(1, 200))
	r, err := NewReader(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	blk, err := r.ReadBlock(1, buf)
	if err != nil {
		t.Fatal(err)
	}
	if &blk[0] != &buf[4] {
		t.Fatal("payload is not a sub-slice of the caller's buffer")
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := r.ReadBlock(2, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ReadBlock with a large enough buffer allocates %.1f times", allocs)
	}
}

// smallShard is a shard of 4 blocks (8, 8, 8, 5 bytes), small enough to
// damage every byte of.
func smallShard(t *testing.T) (Header, []byte) {
	h := Header{Version, CRC32C, 2, 2, 3, 8, 0}
	enc := encode(t, h, payload(7, 29))
	h.Length = 29
	return h, enc
}

// blockOf returns the block whose checksum or bytes hold offset off, or -1
// for the header.
func blockOf(h Header, off int64) int64 {
	if off < HeaderSize {
		return -1
	}
	return (off - HeaderSize) / (4 + int64(h.BlockSize))
}

func TestEveryByteFlipDetected(t *testing.T) {
	h, enc := smallShard(t)
	for off := range int64(len(enc)) {
		for _, mask := range []byte{0x01, 0x80, 0xff, 0x5a} {
			bad := bytes.Clone(enc)
			bad[off] ^= mask
			r, err := NewReader(bytes.NewReader(bad))
			blk := blockOf(h, off)
			if blk < 0 {
				if err == nil {
					t.Fatalf("header byte %d ^ %#x: not detected", off, mask)
				}
				if !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrBadHeader) && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("header byte %d ^ %#x: unexpected error %v", off, mask, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("byte %d (block %d) ^ %#x: header rejected: %v", off, blk, mask, err)
			}
			for i := range h.NumBlocks() {
				_, err := r.ReadBlock(i, nil)
				if i != blk {
					if err != nil {
						t.Fatalf("byte %d in block %d: block %d fails: %v", off, blk, i, err)
					}
					continue
				}
				if !errors.Is(err, ErrChecksum) {
					t.Fatalf("byte %d (block %d) ^ %#x: ReadBlock = %v, want ErrChecksum", off, blk, mask, err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("block %d", blk)) {
					t.Fatalf("error %q does not name block %d", err, blk)
				}
			}
			if _, err := r.ReadBlocks(0, h.NumBlocks(), nil); !errors.Is(err, ErrChecksum) {
				t.Fatalf("byte %d: ReadBlocks = %v, want ErrChecksum", off, err)
			}
			if err := r.Verify(); !errors.Is(err, ErrChecksum) {
				t.Fatalf("byte %d: Verify = %v, want ErrChecksum", off, err)
			}
		}
	}
}

func TestTruncationDetected(t *testing.T) {
	h, enc := smallShard(t)
	for n := range len(enc) {
		cut := enc[:n]
		if _, err := NewReader(bytes.NewReader(cut)); !errors.Is(err, ErrShort) {
			t.Fatalf("cut to %d, sized reader: NewReader = %v, want ErrShort", n, err)
		}
		r, err := NewReader(hidden{bytes.NewReader(cut)})
		if n < HeaderSize {
			if !errors.Is(err, ErrShort) {
				t.Fatalf("cut to %d: NewReader = %v, want ErrShort", n, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut to %d: header rejected: %v", n, err)
		}
		if err := r.Verify(); !errors.Is(err, ErrShort) {
			t.Fatalf("cut to %d: Verify = %v, want ErrShort", n, err)
		}
		for i := range h.NumBlocks() {
			_, err := r.ReadBlock(i, nil)
			whole := h.BlockOffset(i)+4+int64(h.BlockLen(i)) <= int64(n)
			if whole && err != nil {
				t.Fatalf("cut to %d: intact block %d fails: %v", n, i, err)
			}
			if !whole && !errors.Is(err, ErrShort) {
				t.Fatalf("cut to %d: ReadBlock(%d) = %v, want ErrShort", n, i, err)
			}
		}
		if _, err := r.ReadBlocks(0, h.NumBlocks(), nil); !errors.Is(err, ErrShort) {
			t.Fatalf("cut to %d: ReadBlocks = %v, want ErrShort", n, err)
		}
	}
	// Bytes after the last block are also a length mismatch.
	long := append(bytes.Clone(enc), 0)
	if _, err := NewReader(bytes.NewReader(long)); !errors.Is(err, ErrShort) {
		t.Fatalf("one byte too many, sized reader: %v", err)
	}
	r, err := NewReader(hidden{bytes.NewReader(long)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(); !errors.Is(err, ErrShort) {
		t.Fatalf("one byte too many: Verify = %v, want ErrShort", err)
	}
}

func TestWriterRefusesWrongBlocks(t *testing.T) {
	h := Header{Version, CRC32C, 2, 1, 0, 8, 20} // blocks of 8, 8, 4
	var out bytes.Buffer
	w, err := NewWriter(&out, h)
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != HeaderSize {
		t.Fatalf("NewWriter wrote %d bytes", out.Len())
	}
	for _, n := range []int{0, 7, 9, 4} {
		if err := w.WriteBlock(make([]byte, n)); !errors.Is(err, ErrBlockLen) {
			t.Fatalf("first block of %d bytes: %v, want ErrBlockLen", n, err)
		}
	}
	if out.Len() != HeaderSize {
		t.Fatal("a refused block was written")
	}
	if err := w.Close(); !errors.Is(err, ErrShort) {
		t.Fatalf("Close after no blocks: %v", err)
	}
	for _, n := range []int{8, 8} {
		if err := w.WriteBlock(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{8, 3, 5} {
		if err := w.WriteBlock(make([]byte, n)); !errors.Is(err, ErrBlockLen) {
			t.Fatalf("last block of %d bytes: %v, want ErrBlockLen", n, err)
		}
	}
	if err := w.Close(); !errors.Is(err, ErrShort) {
		t.Fatalf("Close after 2 of 3 blocks: %v", err)
	}
	if err := w.WriteBlock(make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBlock(make([]byte, 4)); !errors.Is(err, ErrShort) {
		t.Fatalf("a fourth block: %v, want ErrShort", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if int64(out.Len()) != EncodedSize(h) {
		t.Fatalf("wrote %d bytes, want %d", out.Len(), EncodedSize(h))
	}

	// An empty shard is complete at once and takes no block.
	w, err = NewWriter(io.Discard, Header{Version, CRC32C, 1, 0, 0, 8, 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBlock(nil); !errors.Is(err, ErrShort) {
		t.Fatalf("block for an empty shard: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNewWriterHeader(t *testing.T) {
	var out bytes.Buffer
	if _, err := NewWriter(&out, Header{K: 2, M: 1, Index: 3, BlockSize: 8}); !errors.Is(err, ErrBadHeader) {
		t.Fatalf("index 3 of 3: %v", err)
	}
	if _, err := NewWriter(&out, Header{Version: 9, K: 1, BlockSize: 8}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("version 9: %v", err)
	}
	if out.Len() != 0 {
		t.Fatal("a refused header was written")
	}
	w, err := NewWriter(&out, Header{K: 2, M: 1, Index: 2, BlockSize: 8, Length: 3})
	if err != nil {
		t.Fatal(err)
	}
	if h := w.Header(); h.Version != Version || h.Algorithm != CRC32C {
		t.Fatalf("defaults not applied: %+v", h)
	}
	h, err := ParseHeader(out.Bytes())
	if err != nil || h != w.Header() {
		t.Fatalf("written header parses as %+v, %v", h, err)
	}
}

type failWriter struct {
	left int
	err  error
}

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n := f.left
		f.left = 0
		return n, f.err
	}
	f.left -= len(p)
	return len(p), nil
}

func TestWriterErrorsStick(t *testing.T) {
	boom := errors.New("disk full")
	if _, err := NewWriter(&failWriter{left: 10, err: boom}, Header{K: 1, BlockSize: 8, Length: 16}); !errors.Is(err, boom) {
		t.Fatalf("header write: %v", err)
	}
	w, err := NewWriter(&failWriter{left: HeaderSize + 12 + 6, err: boom}, Header{K: 1, BlockSize: 8, Length: 16})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBlock(make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBlock(make([]byte, 8)); !errors.Is(err, boom) {
		t.Fatalf("second block: %v", err)
	}
	if err := w.WriteBlock(make([]byte, 8)); !errors.Is(err, boom) {
		t.Fatalf("after a failure: %v", err)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close after a failure: %v", err)
	}
}

type errReaderAt struct {
	r   io.ReaderAt
	at  int64
	err error
}

func (e errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > e.at {
		return 0, e.err
	}
	return e.r.ReadAt(p, off)
}

func TestReaderErrorsPassThrough(t *testing.T) {
	h, enc := smallShard(t)
	eio := errors.New("input/output error")
	if _, err := NewReader(errReaderAt{bytes.NewReader(enc), 0, eio}); !errors.Is(err, eio) || errors.Is(err, ErrShort) {
		t.Fatalf("header read: %v", err)
	}
	r, err := NewReader(errReaderAt{bytes.NewReader(enc), h.BlockOffset(2), eio})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadBlock(1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadBlock(2, nil); !errors.Is(err, eio) || errors.Is(err, ErrShort) {
		t.Fatalf("block read: %v", err)
	}
	if err := r.Verify(); !errors.Is(err, eio) {
		t.Fatalf("Verify: %v", err)
	}
}

func TestBlockIndexRange(t *testing.T) {
	h, enc := smallShard(t)
	r, err := NewReader(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	nb := h.NumBlocks()
	for _, i := range []int64{-1, nb, nb + 1, math.MaxInt64} {
		if _, err := r.ReadBlock(i, nil); !errors.Is(err, ErrBlockIndex) {
			t.Errorf("ReadBlock(%d): %v", i, err)
		}
	}
	for _, c := range [][2]int64{{-1, 1}, {0, nb + 1}, {nb, 1}, {1, -1}, {2, math.MaxInt64}, {nb + 1, 0}} {
		if _, err := r.ReadBlocks(c[0], c[1], nil); !errors.Is(err, ErrBlockIndex) {
			t.Errorf("ReadBlocks(%d, %d): %v", c[0], c[1], err)
		}
	}
}

// TestHugeHeaderSmallInput checks that a header claiming huge blocks over a
// short input is refused without allocating the blocks.
func TestHugeHeaderSmallInput(t *testing.T) {
	h := Header{Version, CRC32C, 1, 0, 0, math.MaxUint32, 1 << 50}
	hb := h.Marshal()
	r, err := NewReader(hidden{bytes.NewReader(append(hb[:], make([]byte, 100)...))})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err1 := r.ReadBlock(0, nil)
	_, err2 := r.ReadBlocks(0, 1000, nil)
	err3 := r.Verify()
	runtime.ReadMemStats(&after)
	for i, err := range []error{err1, err2, err3} {
		if !errors.Is(err, ErrShort) {
			t.Errorf("call %d: %v, want ErrShort", i, err)
		}
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
		t.Fatalf("refusing a short shard allocated %d bytes", grown)
	}
}

func TestConcurrentReads(t *testing.T) {
	h := Header{Version, CRC32C, 4, 2, 0, 1000, 0}
	p := payload(3, 50_000)
	enc := encode(t, h, p)
	r, err := NewReader(bytes.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range r.Header().NumBlocks() {
				j := (i + int64(g)*7) % r.Header().NumBlocks()
				blk, err := r.ReadBlock(j, buf)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(blk, p[j*1000:j*1000+int64(len(blk))]) {
					errs <- fmt.Errorf("goroutine %d: block %d differs", g, j)
					return
				}
				buf = blk[:0]
			}
			if err := r.Verify(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
