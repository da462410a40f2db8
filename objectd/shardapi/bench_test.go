package shardapi

import (
	"fmt"
	"testing"
)

// BenchmarkShardPut1MiB streams 1 MiB shards over loopback to a real disk
// (each committed with fsync).
func BenchmarkShardPut1MiB(b *testing.B) {
	n := newNode(b, 1)
	v := Dial(n.url(), n.first().ID(), "bench", secret, Options{})
	data := randBytes(1<<20, 9)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		w, err := v.CreateShard(fmt.Sprintf("%08x", i))
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < len(data); off += 64 << 10 {
			if _, err := w.Write(data[off : off+64<<10]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShardGet1MiB reads a 1 MiB shard with one ranged GET.
func BenchmarkShardGet1MiB(b *testing.B) {
	n := newNode(b, 1)
	v := Dial(n.url(), n.first().ID(), "bench", secret, Options{})
	data := randBytes(1<<20, 9)
	w, err := v.CreateShard("beef0001")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		b.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	src, err := v.OpenShard("beef0001")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, len(data))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if k, err := src.ReadAt(buf, 0); err != nil || k != len(buf) {
			b.Fatal(k, err)
		}
	}
}
