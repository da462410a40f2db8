package disk

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/basaltstore/basalt/internal/vfs"
)

func TestFormatPersistsAndUncommittedShardsStayInvisible(t *testing.T) {
	root := filepath.Join(t.TempDir(), "d1")
	d, err := Open(root, vfs.Default, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Fresh || d.ID() == "" {
		t.Fatalf("new disk: fresh=%v id=%q", d.Fresh, d.ID())
	}
	id := d.ID()
	w, err := d.CreateShard("abcd0001")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("half"))
	// Crash: the writer is never committed; the disk is closed and reopened.
	d.Close()
	d, err = Open(root, vfs.Default, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Fresh || d.ID() != id {
		t.Fatalf("reopened disk: fresh=%v id=%q want %q", d.Fresh, d.ID(), id)
	}
	if _, err := d.OpenShard("abcd0001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("uncommitted shard visible: %v", err)
	}
	if ext := extents(t, root); len(ext) != 0 {
		t.Fatalf("uncommitted shard has an entry: %v", ext)
	}
}

func TestShardCommitAbortAndFaults(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.Default)
	root := filepath.Join(t.TempDir(), "d1")
	d, err := Open(root, efs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	commit(t, d, "aa01", "hello")
	wantShard(t, d, "aa01", "hello")
	w, _ := d.CreateShard("aa02")
	w.Write([]byte("x"))
	w.Abort()
	if _, err := d.OpenShard("aa02"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("aborted shard visible: %v", err)
	}
	// A failing fsync: Commit fails and leaves nothing behind.
	efs.Inject(vfs.OnPrefix(filepath.Join(root, segmentsDir), vfs.OpSync))
	w, _ = d.CreateShard("aa03")
	w.Write([]byte("y"))
	if err := w.Commit(); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("commit with failing fsync: %v", err)
	}
	if _, err := d.OpenShard("aa03"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("shard visible after failed commit: %v", err)
	}
	efs.Reset()
	if got := extentIDs(t, root); !slices.Equal(got, []string{"aa01"}) {
		t.Fatalf("entries after an abort and a failed commit: %v, want only aa01", got)
	}
	// Metadata faults go through the same FS.
	efs.Inject(vfs.OnPrefix(filepath.Join(root, "meta"), vfs.OpWrite))
	if err := d.Update(func(t Txn) error { return t.Set([]byte("k"), []byte("v")) }); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("metadata write with fault: %v", err)
	}
	// The index is metadata: a shard whose location cannot be recorded
	// is not committed.
	w, _ = d.CreateShard("aa04")
	w.Write([]byte("z"))
	if err := w.Commit(); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("commit with failing index write: %v", err)
	}
	efs.Reset()
	if _, err := d.OpenShard("aa04"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("shard visible after failed index write: %v", err)
	}
	if err := d.Update(func(t Txn) error { return t.Set([]byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("get: %q %v", v, err)
	}
	if _, err := d.CreateShard("../../etc"); !errors.Is(err, ErrBadDataID) {
		t.Fatalf("bad data id: %v", err)
	}
	wantShard(t, d, "aa01", "hello")
}

func TestRemovedShardFreesItsBlocks(t *testing.T) {
	root := filepath.Join(t.TempDir(), "d1")
	d, err := Open(root, vfs.Default, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	big := strings.Repeat("b", 1<<20)
	commit(t, d, "bb01", big)
	commit(t, d, "bb02", "small")
	before := allocatedUnder(t, root)
	if err := d.RemoveShard("bb01"); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveShard("bb01"); err != nil {
		t.Fatalf("removing a removed shard: %v", err)
	}
	if _, err := d.OpenShard("bb01"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed shard readable: %v", err)
	}
	if after := allocatedUnder(t, root); before-after < 1<<20 {
		t.Fatalf("removal freed %d bytes of %d allocated, want at least 1 MiB", before-after, before)
	}
	wantShard(t, d, "bb02", "small")
	if got := extentIDs(t, root); !slices.Equal(got, []string{"bb02"}) {
		t.Fatalf("entries after removal: %v", got)
	}
	// Written again (a heal), the shard's earlier entry goes.
	commit(t, d, "bb02", "healed")
	wantShard(t, d, "bb02", "healed")
	if got := extentIDs(t, root); !slices.Equal(got, []string{"bb02"}) {
		t.Fatalf("entries after a rewrite: %v", got)
	}
}

func TestConcurrentWritersAndSealedSegments(t *testing.T) {
	root := filepath.Join(t.TempDir(), "d1")
	d, err := Open(root, vfs.Default, Options{SegmentBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 20
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("cc%02x%02x", g, i)
				w, err := d.CreateShard(id)
				if err != nil {
					t.Error(err)
					return
				}
				// Written in pieces, as the erasure writer does.
				for range 3 {
					w.Write([]byte(strings.Repeat(id, 1000)))
				}
				if i%5 == 4 {
					w.Abort()
					continue
				}
				if err := w.Commit(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	check := func(d *Disk) {
		t.Helper()
		for g := range writers {
			for i := range each {
				id := fmt.Sprintf("cc%02x%02x", g, i)
				if i%5 == 4 {
					if _, err := d.OpenShard(id); !errors.Is(err, ErrNotFound) {
						t.Fatalf("%s aborted but readable: %v", id, err)
					}
					continue
				}
				wantShard(t, d, id, strings.Repeat(id, 3000))
			}
		}
	}
	check(d)
	if n := len(extents(t, root)); n != writers*each*4/5 {
		t.Fatalf("%d entries, want %d", n, writers*each*4/5)
	}
	segs, _ := os.ReadDir(filepath.Join(root, segmentsDir))
	if len(segs) < 2 {
		t.Fatalf("%d segments: none was sealed at 64 KiB", len(segs))
	}
	// Reopened, every shard reads back, and new entries go to a new segment.
	d.Close()
	d, err = Open(root, vfs.Default, Options{SegmentBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	check(d)
	commit(t, d, "dd01", "after")
	segs2, _ := os.ReadDir(filepath.Join(root, segmentsDir))
	if len(segs2) != len(segs)+1 {
		t.Fatalf("segments after reopen and a write: %d, want %d", len(segs2), len(segs)+1)
	}
	wantShard(t, d, "dd01", "after")
}

func TestLegacyShardFilesAreReadAndRemoved(t *testing.T) {
	root := filepath.Join(t.TempDir(), "d1")
	dir := filepath.Join(root, legacyDir, "ee")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ee01"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(dir, "ee02"+tmpSuffix), []byte("torn"), 0o644)
	d, err := Open(root, vfs.Default, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	wantShard(t, d, "ee01", "old")
	if _, err := os.Stat(filepath.Join(dir, "ee02"+tmpSuffix)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("interrupted write left: %v", err)
	}
	if got := extentIDs(t, root); !slices.Equal(got, []string{"ee01"}) {
		t.Fatalf("extents: %v", got)
	}
	if err := d.RemoveShard("ee01"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.OpenShard("ee01"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed legacy shard readable: %v", err)
	}
}

func commit(t *testing.T, d *Disk, id, data string) {
	t.Helper()
	w, err := d.CreateShard(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func wantShard(t *testing.T, d *Disk, id, data string) {
	t.Helper()
	f, err := d.OpenShard(id)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	defer f.Close()
	b := make([]byte, len(data)+1)
	n, err := f.ReadAt(b, 0)
	if n != len(data) || !errors.Is(err, io.EOF) || string(b[:n]) != data {
		t.Fatalf("%s: read %d bytes (%v), want %d", id, n, err, len(data))
	}
}

func extents(t *testing.T, root string) []Extent {
	t.Helper()
	ext, err := Extents(root)
	if err != nil {
		t.Fatal(err)
	}
	return ext
}

func extentIDs(t *testing.T, root string) []string {
	var ids []string
	for _, e := range extents(t, root) {
		ids = append(ids, e.DataID)
	}
	slices.Sort(ids)
	return ids
}

// allocated is the bytes the disk's segments take on the file system.
func allocatedUnder(t *testing.T, root string) int64 {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, segmentsDir))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += allocated(fi)
	}
	return n
}

// What a crash leaves in segments (an entry cut before its header, one
// whose index entry was lost) and segments whose entries are all removed
// are given back by Reclaim; live shards stay readable, and the segments
// this run appends to are left alone.
func TestReclaimFreesWhatNoIndexNames(t *testing.T) {
	root := filepath.Join(t.TempDir(), "d1")
	opts := Options{SegmentBytes: 1 << 20}
	d, err := Open(root, vfs.Default, opts)
	if err != nil {
		t.Fatal(err)
	}
	half := strings.Repeat("h", 300<<10)
	// Segment 0: a live shard, an orphan (its index entry lost), another
	// live shard, then a shard cut before its commit.
	commit(t, d, "aa01", half)
	commit(t, d, "aa02", half)
	if err := d.Update(func(t Txn) error { return t.Delete(indexKey("aa02")) }); err != nil {
		t.Fatal(err)
	}
	commit(t, d, "aa03", half)
	w, _ := d.CreateShard("aa04")
	w.Write([]byte(half))
	// Segment 1 (held by the writer above, so commits go to a new one):
	// removed entries only.
	commit(t, d, "bb01", half)
	commit(t, d, "bb02", half)
	for _, id := range []string{"bb01", "bb02"} {
		if err := d.RemoveShard(id); err != nil {
			t.Fatal(err)
		}
	}
	d.Close() // the crash: aa04 was never committed
	d, err = Open(root, vfs.Default, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	commit(t, d, "cc01", "this run's")
	before := allocatedUnder(t, root)
	r, err := d.Reclaim(nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Segments != 2 || r.Removed != 1 || r.Bytes < 600<<10 {
		t.Fatalf("reclaim %+v: want 2 segments scanned, 1 removed, at least 600 KiB freed", r)
	}
	wantShard(t, d, "aa01", half)
	wantShard(t, d, "aa03", half)
	wantShard(t, d, "cc01", "this run's")
	if got := extentIDs(t, root); !slices.Equal(got, []string{"aa01", "aa03", "cc01"}) {
		t.Fatalf("entries after reclaim: %v", got)
	}
	// What stays allocated is the live entries: two of 300 KiB and one
	// small one, in 4 KiB blocks.
	after := allocatedUnder(t, root)
	if live := 2*alignUp(entryHeader+300<<10) + entryAlign; after > live || before-after < 600<<10 {
		t.Fatalf("allocated %d before, %d after reclaim; want at most %d (the live entries)", before, after, live)
	}
	segs, _ := os.ReadDir(filepath.Join(root, segmentsDir))
	if len(segs) != 2 {
		t.Fatalf("%d segments left, want 2 (one with live entries, this run's)", len(segs))
	}
	// A second pass finds nothing more to remove.
	if r, err := d.Reclaim(nil); err != nil || r.Removed != 0 || r.Bytes != 0 {
		t.Fatalf("second pass: %+v, %v; want nothing freed", r, err)
	}
	wantShard(t, d, "aa03", half)
}
