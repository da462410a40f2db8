package shardfmt

import (
	"bytes"
	"io"
	"testing"
)

const (
	benchShard = 64 << 20
	benchBlock = 512 << 10
)

func benchHeader() Header {
	return Header{Version, CRC32C, 4, 2, 0, benchBlock, benchShard}
}

// BenchmarkWrite writes a 64 MiB shard in 512 KiB blocks to io.Discard:
// the format's own cost, checksums included.
func BenchmarkWrite(b *testing.B) {
	h := benchHeader()
	p := payload(1, benchShard)
	b.SetBytes(benchShard)
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWriter(io.Discard, h)
		if err != nil {
			b.Fatal(err)
		}
		for i := range h.NumBlocks() {
			if err := w.WriteBlock(p[i*benchBlock : (i+1)*benchBlock]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadBlock reads and verifies every block of a 64 MiB shard held
// in memory, one ReadBlock per block into a reused buffer.
func BenchmarkReadBlock(b *testing.B) {
	r := benchReader(b)
	buf := make([]byte, 4+benchBlock)
	b.SetBytes(benchShard)
	b.ReportAllocs()
	for b.Loop() {
		for i := range r.Header().NumBlocks() {
			if _, err := r.ReadBlock(i, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReadBlocks reads and verifies a 64 MiB shard 16 blocks (8 MiB)
// per ReadAt.
func BenchmarkReadBlocks(b *testing.B) {
	r := benchReader(b)
	const per = 16
	buf := make([]byte, per*(4+benchBlock))
	b.SetBytes(benchShard)
	b.ReportAllocs()
	for b.Loop() {
		for i := int64(0); i < r.Header().NumBlocks(); i += per {
			if _, err := r.ReadBlocks(i, per, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkVerify runs the scrubber's check over a 64 MiB shard.
func BenchmarkVerify(b *testing.B) {
	r := benchReader(b)
	b.SetBytes(benchShard)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchReader(b *testing.B) *Reader {
	enc := encode(b, benchHeader(), payload(2, benchShard))
	r, err := NewReader(bytes.NewReader(enc))
	if err != nil {
		b.Fatal(err)
	}
	return r
}
