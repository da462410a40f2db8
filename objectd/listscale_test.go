package objectd

import (
	"context"
	"fmt"
	"testing"

	"github.com/basaltstore/basalt/objectd/disk"
)

// fillRecords writes n empty-object records straight into every disk's
// metadata (no shards: size 0), in large transactions, to build big
// buckets quickly for the listing benchmark.
func fillRecords(b *testing.B, s *Store, bucket string, n int) {
	const batch = 4000
	for start := 0; start < n; start += batch {
		for j, d := range s.disks {
			err := d.Update(func(t disk.Txn) error {
				for i := start; i < start+batch && i < n; i++ {
					r := record{ModTime: int64(i + 1), VersionID: fmt.Sprintf("%032x", i), ETag: "d41d8cd98f00b204e9800998ecf8427e",
						K: 2, M: 2, BlockSize: DefaultBlockSize, ShardIndex: j}
					if err := t.Set(objectKey(bucket, fmt.Sprintf("obj-%09d", i)), r.marshal()); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkListPage shows that a page of 1000 keys costs about the same
// in a bucket of 10,000, 100,000 and 1,000,000 objects, from the start and
// from the middle of the bucket. The 10,000 records are still in the
// databases' memtables; the larger buckets are read from their tables.
func BenchmarkListPage(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			ts := benchStore(b)
			fillRecords(b, ts.Store, "bkt", n)
			for _, from := range []string{"", fmt.Sprintf("obj-%09d", n/2)} {
				name := "start"
				if from != "" {
					name = "middle"
				}
				b.Run(name, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						res, err := ts.ListObjects(context.Background(), "bkt", ListOptions{After: from, MaxKeys: 1000})
						if err != nil || len(res.Objects) != 1000 {
							b.Fatalf("%d objects, %v", len(res.Objects), err)
						}
					}
				})
			}
		})
	}
}
