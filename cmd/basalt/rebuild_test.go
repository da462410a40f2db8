package main_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/basaltstore/basalt/objectd/disk"
)

// BenchmarkClusterFillBack measures how fast a cluster rebuilds a
// replaced disk: three nodes of two disks each (real processes behind
// relays, 2+2), 96 objects of 1 MiB, then, each round, one node stopped,
// one of its disks emptied and the node started again. The fill back
// heals every object with a shard on the empty disk, reading the other
// shards from the other nodes. Reported: the rebuild rate in MiB of
// shard files written to the disk per second of fill back (from the
// node's "filling back disks" line to its "disks filled back" line), and
// the objects healed per second.
func BenchmarkClusterFillBack(b *testing.B) {
	const objects, size = 96, 1 << 20
	c := startRelayCluster(b, 3, 2)
	cl := minioClient(b, c.servers[0], 3)
	ctx := context.Background()
	if err := cl.MakeBucket(ctx, "rebuild", minio.MakeBucketOptions{}); err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	var wg sync.WaitGroup
	errs := make(chan error, objects)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < objects; i += 4 {
				_, err := cl.PutObject(ctx, "rebuild", fmt.Sprintf("obj-%03d", i), bytes.NewReader(data), size, minio.PutObjectOptions{})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}

	var rebuilt int64
	var filling time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		srv := c.servers[i%len(c.servers)]
		dir := filepath.Join(srv.DataDir(), "disk1")
		if code := srv.Stop(); code != 0 {
			b.Fatalf("node %d exited with %d on SIGTERM", i%len(c.servers)+1, code)
		}
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		from := len(srv.Logs())
		srv.Restart()
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		start, err := srv.WaitLogFrom(wctx, from, `msg="filling back disks"`)
		if err == nil {
			var end string
			end, err = srv.WaitLogFrom(wctx, from, `msg="disks filled back"`)
			if err == nil {
				var d time.Duration
				d, err = logSpan(start, end)
				filling += d
			}
		}
		cancel()
		if err != nil {
			b.Fatalf("%v\n%s", err, srv.Logs()[from:])
		}
		n, err := shardBytes(dir)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("%s holds no shard after its fill back", dir)
		}
		rebuilt += n
	}
	b.StopTimer()
	b.ReportMetric(float64(rebuilt)/(1<<20)/filling.Seconds(), "MiB/s")
}

// logSpan returns the time between two log lines' time= attributes.
func logSpan(from, to string) (time.Duration, error) {
	at := func(line string) (time.Time, error) {
		i := strings.Index(line, "time=")
		if i < 0 {
			return time.Time{}, fmt.Errorf("no time in %q", line)
		}
		f := strings.Fields(line[i+len("time="):])
		if len(f) == 0 {
			return time.Time{}, fmt.Errorf("no time in %q", line)
		}
		return time.Parse(time.RFC3339Nano, f[0])
	}
	a, err := at(from)
	if err != nil {
		return 0, err
	}
	z, err := at(to)
	if err != nil {
		return 0, err
	}
	return z.Sub(a), nil
}

// shardBytes sums the sizes of the shards stored on a disk.
func shardBytes(dir string) (int64, error) {
	ext, err := disk.Extents(dir)
	var n int64
	for _, e := range ext {
		n += e.Len
	}
	return n, err
}
