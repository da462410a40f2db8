package objectd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"testing"
)

func benchStore(b *testing.B) *testStore {
	root := b.TempDir()
	var dirs []string
	for i := 1; i <= 4; i++ {
		dirs = append(dirs, fmt.Sprintf("%s/disk%d", root, i))
	}
	s, err := Open(Config{Disks: dirs, DataShards: 2, ParityShards: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.MakeBucket(context.Background(), "bkt"); err != nil {
		b.Fatal(err)
	}
	return &testStore{Store: s, dirs: dirs}
}

func benchPut(b *testing.B, size int) {
	ts := benchStore(b)
	data := randBytes(1, size)
	var n atomic.Int64
	b.SetBytes(int64(size))
	b.SetParallelism(4) // 4 x GOMAXPROCS writers: concurrent clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("obj-%d", n.Add(1))
			if _, err := ts.PutObject(context.Background(), "bkt", k, bytes.NewReader(data), int64(size), PutOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchGet(b *testing.B, size int) {
	ts := benchStore(b)
	data := randBytes(1, size)
	const objects = 64
	for i := 0; i < objects; i++ {
		if _, err := ts.PutObject(context.Background(), "bkt", fmt.Sprintf("obj-%d", i), bytes.NewReader(data), int64(size), PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.SetBytes(int64(size))
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("obj-%d", n.Add(1)%objects)
			_, rc, err := ts.GetObject(context.Background(), "bkt", k, GetOptions{Length: -1})
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, rc)
			rc.Close()
		}
	})
}

func BenchmarkPut4KiB(b *testing.B) { benchPut(b, 4<<10) }
func BenchmarkPut1MiB(b *testing.B) { benchPut(b, 1<<20) }
func BenchmarkGet4KiB(b *testing.B) { benchGet(b, 4<<10) }
func BenchmarkGet1MiB(b *testing.B) { benchGet(b, 1<<20) }

func BenchmarkList1000(b *testing.B) {
	ts := benchStore(b)
	for i := 0; i < 2000; i++ {
		if _, err := ts.PutObject(context.Background(), "bkt", fmt.Sprintf("obj-%06d", i), bytes.NewReader(nil), 0, PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := ts.ListObjects(context.Background(), "bkt", ListOptions{MaxKeys: 1000})
		if err != nil || len(res.Objects) != 1000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkFillBack measures the rebuild rate of a replaced disk: 256
// objects of 1 MiB on 4 disks (2+2), then, each round, one disk emptied
// and the store reopened, timed until its fill back ends. The bytes per
// round are the object bytes the disk holds a shard of (1/k of each
// object: what is rebuilt onto it; k times that is read to do it), so
// MB/s is the rebuild rate in shard bytes written to the new disk.
func BenchmarkFillBack(b *testing.B) {
	const objects, size = 256, 1 << 20
	ts := benchStore(b)
	data := randBytes(7, size)
	for i := 0; i < objects; i++ {
		if _, err := ts.PutObject(context.Background(), "bkt", fmt.Sprintf("obj-%d", i), bytes.NewReader(data), size, PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	ts.Close()
	b.SetBytes(objects * size / 2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := os.RemoveAll(ts.dirs[i%len(ts.dirs)]); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s, err := Open(Config{Disks: ts.dirs, DataShards: 2, ParityShards: 2})
		if err != nil {
			b.Fatal(err)
		}
		<-s.filled
		b.StopTimer()
		d := s.disks[i%len(ts.dirs)]
		healing := d.Healing()
		s.Close()
		if healing {
			b.Fatalf("%s still being filled back", d.Root())
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(objects*b.N)/b.Elapsed().Seconds(), "objects/s")
}
