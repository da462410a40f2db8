package objectd

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestScrubFindsAndRepairsRot(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2, func(c *Config) { c.ScrubInterval = -1 })
	ctx := context.Background()
	if err := ts.MakeBucket(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	ts.put(t, "a", randBytes(1, 200<<10))
	ts.put(t, "b", randBytes(2, 5))
	ts.PutObject(ctx, "other", "c", bytesReader(randBytes(3, 100<<10)), 100<<10, PutOptions{})
	if corruptShards(t, ts, 1) == 0 {
		t.Fatal("nothing to corrupt on disk 1")
	}
	var seen []ScrubProgress
	p, err := ts.Scrub(ctx, ScrubOptions{Bucket: "bkt", Progress: func(p ScrubProgress) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if p.Objects != 2 || !p.Done || len(seen) != 3 {
		t.Fatalf("scrub of bkt: %+v (%d progress calls)", p, len(seen))
	}
	// Disk 1 holds a file shard of "a" (corrupted) and maybe one of
	// "other/c"; only the first is in this bucket.
	if p.Bad != 1 || p.Repaired != 1 || p.Failed != 0 {
		t.Fatalf("scrub found %d bad, repaired %d, failed %d; want 1, 1, 0", p.Bad, p.Repaired, p.Failed)
	}
	p, _ = ts.Scrub(ctx, ScrubOptions{})
	if p.Objects != 3 {
		t.Fatalf("full scrub saw %d objects", p.Objects)
	}
	p, _ = ts.Scrub(ctx, ScrubOptions{})
	if p.Bad != 0 {
		t.Fatalf("second full scrub still finds %d bad shards", p.Bad)
	}
	if p, err := ts.Scrub(ctx, ScrubOptions{Disk: ts.dirs[2]}); err != nil || p.Objects != 3 {
		t.Fatalf("scrub of one disk (in every set at 2+2 on 4 disks): %+v %v", p, err)
	}
	if _, err := ts.Scrub(ctx, ScrubOptions{Disk: "/no/such/disk"}); err == nil {
		t.Fatal("scrub of an unknown disk accepted")
	}
	st := ts.Status()
	if st.ShardsRebuilt < 1 || len(st.Disks) != 4 || st.Disks[0].State != "online" || st.Buckets != 2 {
		t.Fatalf("status: %+v", st)
	}
}

// TestScrubPace checks the rate limit in virtual time: 64 MiB at 16 MiB/s
// is due 4 s after the start.
func TestScrubPace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Store{cfg: Config{Now: time.Now}, stop: make(chan struct{})}
		start := time.Now()
		if err := s.pace(context.Background(), 16<<20, start, 64<<20); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el != 4*time.Second {
			t.Fatalf("paced for %v, want 4s", el)
		}
		if err := s.pace(context.Background(), 0, start, 1<<40); err != nil || time.Since(start) != 4*time.Second {
			t.Fatal("rate 0 must not wait")
		}
	})
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
