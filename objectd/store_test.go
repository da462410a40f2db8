package objectd

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/basaltstore/basalt/internal/vfs"
	"github.com/basaltstore/basalt/objectd/disk"
)

type testStore struct {
	*Store
	dirs []string
	efs  *vfs.ErrorFS
}

func openTestStore(t *testing.T, n, k, m int, tweak ...func(*Config)) *testStore {
	t.Helper()
	root := t.TempDir()
	var dirs []string
	for i := 1; i <= n; i++ {
		dirs = append(dirs, filepath.Join(root, fmt.Sprintf("disk%d", i)))
	}
	efs := vfs.NewErrorFS(vfs.Default)
	cfg := Config{Disks: dirs, DataShards: k, ParityShards: m, FS: efs, BlockSize: 64 << 10, InlineThreshold: 16 << 10}
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.MakeBucket(context.Background(), "bkt"); err != nil {
		t.Fatal(err)
	}
	return &testStore{Store: s, dirs: dirs, efs: efs}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (ts *testStore) put(t *testing.T, key string, data []byte) ObjectInfo {
	t.Helper()
	oi, err := ts.PutObject(context.Background(), "bkt", key, bytes.NewReader(data), int64(len(data)), PutOptions{ContentType: "text/plain"})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return oi
}

func (ts *testStore) get(t *testing.T, key string, off, n int64) ([]byte, error) {
	t.Helper()
	_, rc, err := ts.GetObject(context.Background(), "bkt", key, GetOptions{Offset: off, Length: n})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestPutGetSizes(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	bs := 64 << 10
	for _, size := range []int{0, 1, 100, 16<<10 - 1, 16 << 10, 16<<10 + 1, bs - 1, bs, bs + 1, 3*bs + 17, 1 << 20} {
		key := fmt.Sprintf("obj-%d", size)
		data := randBytes(uint64(size), size)
		oi := ts.put(t, key, data)
		sum := md5.Sum(data)
		if oi.ETag != hex.EncodeToString(sum[:]) || oi.Size != int64(size) {
			t.Fatalf("size %d: etag %s size %d", size, oi.ETag, oi.Size)
		}
		got, err := ts.get(t, key, 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: get mismatch (err %v, %d bytes)", size, err, len(got))
		}
		hi, err := ts.HeadObject(context.Background(), "bkt", key)
		if err != nil || hi.ETag != oi.ETag || hi.ContentType != "text/plain" {
			t.Fatalf("head: %+v %v", hi, err)
		}
		// Ranges that start and end anywhere, across stripe and shard boundaries.
		for _, rg := range [][2]int{{0, 1}, {size / 3, size / 2}, {size - 1, 1}, {bs/2 - 3, 7}, {bs - 1, 2}} {
			off, n := rg[0], rg[1]
			if off < 0 || off >= size || n <= 0 {
				continue
			}
			if off+n > size {
				n = size - off
			}
			got, err := ts.get(t, key, int64(off), int64(n))
			if err != nil || !bytes.Equal(got, data[off:off+n]) {
				t.Fatalf("size %d range %d+%d: mismatch (err %v)", size, off, n, err)
			}
		}
	}
	if _, err := ts.get(t, "obj-100", 100, 1); !errors.Is(err, ErrInvalidRange) {
		t.Fatalf("range past end: %v", err)
	}
}

func TestOverwriteDeleteAndMissing(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	ts.put(t, "k", randBytes(1, 200<<10))
	v2 := randBytes(2, 100)
	ts.put(t, "k", v2)
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("overwrite not visible: %v", err)
	}
	// The old version's shards are gone.
	for _, d := range ts.dirs {
		for _, e := range shardExtents(t, d) {
			t.Errorf("left-over shard %s in %s", e.DataID, e.Path)
		}
	}
	if err := ts.DeleteObject(ctx, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.HeadObject(ctx, "bkt", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("deleted object: %v", err)
	}
	if err := ts.DeleteObject(ctx, "bkt", "k"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := ts.HeadObject(ctx, "nope", "k"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("missing bucket: %v", err)
	}
	if _, err := ts.PutObject(ctx, "bkt", strings.Repeat("a", 1025), bytes.NewReader(nil), 0, PutOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("long key: %v", err)
	}
}

func TestBadBodies(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	data := randBytes(3, 300<<10)
	_, err := ts.PutObject(ctx, "bkt", "short", bytes.NewReader(data[:1000]), int64(len(data)), PutOptions{})
	if !errors.Is(err, ErrIncompleteBody) {
		t.Fatalf("short body: %v", err)
	}
	boom := errors.New("client went away")
	_, err = ts.PutObject(ctx, "bkt", "gone", io.MultiReader(bytes.NewReader(data[:200<<10]), errReader{boom}), int64(len(data)), PutOptions{})
	if !errors.Is(err, boom) {
		t.Fatalf("failing body: %v", err)
	}
	_, err = ts.PutObject(ctx, "bkt", "md5", bytes.NewReader(data), int64(len(data)), PutOptions{ContentMD5: make([]byte, 16)})
	if !errors.Is(err, ErrBadDigest) {
		t.Fatalf("bad md5: %v", err)
	}
	for _, k := range []string{"short", "gone", "md5"} {
		if _, err := ts.HeadObject(ctx, "bkt", k); !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("%s visible after failed put: %v", k, err)
		}
	}
	// Nothing half-written is left on any disk.
	for _, d := range ts.dirs {
		filepath.Walk(filepath.Join(d, "tmp"), func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				t.Errorf("left-over file %s", p)
			}
			return nil
		})
		for _, e := range shardExtents(t, d) {
			t.Errorf("left-over shard %s in %s", e.DataID, e.Path)
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestSurvivesMDisksFailing(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	objs := map[string][]byte{}
	for i, size := range []int{10, 20 << 10, 200<<10 + 5, 1 << 20} {
		k := fmt.Sprintf("o%d", i)
		objs[k] = randBytes(uint64(i+10), size)
		ts.put(t, k, objs[k])
	}
	// Any two disks failing every call: still byte-exact.
	for a := 0; a < 4; a++ {
		for b := a + 1; b < 4; b++ {
			ts.efs.Reset()
			for _, d := range ts.disks {
				d.Reinstate() // the previous pair may have been taken out of service
			}
			ts.efs.Inject(vfs.OnPrefix(ts.dirs[a]))
			ts.efs.Inject(vfs.OnPrefix(ts.dirs[b]))
			for k, want := range objs {
				got, err := ts.get(t, k, 0, -1)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("disks %d,%d failing: %s: %v", a, b, k, err)
				}
			}
			res, err := ts.ListObjects(context.Background(), "bkt", ListOptions{})
			if err != nil || len(res.Objects) != len(objs) {
				t.Fatalf("list with disks %d,%d failing: %d objects, %v", a, b, len(res.Objects), err)
			}
		}
	}
	// Three failing: a clear error, never wrong data.
	ts.efs.Reset()
	for _, d := range ts.disks {
		d.Reinstate()
	}
	for _, d := range ts.dirs[:3] {
		ts.efs.Inject(vfs.OnPrefix(d))
	}
	for k := range objs {
		if _, err := ts.get(t, k, 0, -1); !errors.Is(err, ErrReadQuorum) {
			t.Fatalf("3 disks failing: %s: %v", k, err)
		}
	}
	if _, err := ts.PutObject(context.Background(), "bkt", "new", bytes.NewReader([]byte("x")), 1, PutOptions{}); !errors.Is(err, ErrWriteQuorum) {
		t.Fatalf("write with 3 failing disks: %v", err)
	}
	ts.efs.Reset()
	for _, d := range ts.disks {
		d.Reinstate()
	}
	if _, err := ts.HeadObject(context.Background(), "bkt", "new"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("failed write is visible: %v", err)
	}
}

// corruptShards flips one byte in the middle of every shard on disk i,
// and reports how many it touched.
func corruptShards(t *testing.T, ts *testStore, i int) int {
	t.Helper()
	ext := shardExtents(t, ts.dirs[i])
	for _, e := range ext {
		flipByte(t, e.Path, e.Off+e.Len/2)
	}
	return len(ext)
}

// flipByte damages the byte at off of the file at p.
func flipByte(t *testing.T, p string, off int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptShardIsReconstructedAndRepaired(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	data := randBytes(7, 500<<10)
	ts.put(t, "big", data)
	set := ts.set("bkt", "big")
	// Corrupt both data shards' disks, one at a time, and read.
	for j := 0; j < 2; j++ {
		idx := -1
		for i, d := range ts.disks {
			if d == set[j] {
				idx = i
			}
		}
		if corruptShards(t, ts, idx) != 1 {
			t.Fatal("expected one shard file per disk")
		}
		got, err := ts.get(t, "big", 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read with corrupt shard %d: %v", j, err)
		}
		// The read queued a repair; healing now (again) must leave exactly
		// one shard rebuilt, whichever of the two got to it.
		if _, err := ts.healObject("bkt", "big"); err != nil {
			t.Fatalf("heal: %v", err)
		}
		if got := ts.shardsRebuilt.Load(); got != int64(j+1) {
			t.Fatalf("after corrupting %d shards, %d rebuilt", j+1, got)
		}
		if err := ts.verifyShards(set[j], mustRecord(t, ts, "big"), j); err != nil {
			t.Fatalf("shard %d not repaired: %v", j, err)
		}
	}
}

func mustRecord(t *testing.T, ts *testStore, key string) *record {
	recs, errs := ts.readRecords(ts.set("bkt", key), objectKey("bkt", key))
	r, _, err := ts.resolve(recs, errs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestListing(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	keys := []string{"a", "b/1", "b/2", "b/3/x", "c", "d/e/f", "é", "z"}
	for _, k := range keys {
		ts.put(t, k, []byte(k))
	}
	res, err := ts.ListObjects(ctx, "bkt", ListOptions{Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range res.Objects {
		got = append(got, o.Key)
	}
	if strings.Join(got, ",") != "a,c,z,é" || strings.Join(res.CommonPrefixes, ",") != "b/,d/" {
		t.Fatalf("delimiter listing: %v %v", got, res.CommonPrefixes)
	}
	res, _ = ts.ListObjects(ctx, "bkt", ListOptions{Prefix: "b/", Delimiter: "/"})
	if len(res.Objects) != 2 || strings.Join(res.CommonPrefixes, ",") != "b/3/" {
		t.Fatalf("prefix listing: %+v", res)
	}
	// Paginate one by one with After: every key exactly once, in order.
	var all []string
	after := ""
	for i := 0; i < 20; i++ {
		res, err := ts.ListObjects(ctx, "bkt", ListOptions{After: after, MaxKeys: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Objects {
			all = append(all, o.Key)
		}
		if !res.IsTruncated {
			break
		}
		after = res.NextAfter
	}
	if strings.Join(all, ",") != "a,b/1,b/2,b/3/x,c,d/e/f,z,é" {
		t.Fatalf("paginated: %v", all)
	}
	// Pages of prefixes: the prefix before the marker is not repeated.
	res, _ = ts.ListObjects(ctx, "bkt", ListOptions{Delimiter: "/", After: "b/", MaxKeys: 2})
	if len(res.Objects) != 1 || res.Objects[0].Key != "c" || strings.Join(res.CommonPrefixes, ",") != "d/" || !res.IsTruncated {
		t.Fatalf("after a prefix: %+v", res)
	}
	if err := ts.DeleteBucket(ctx, "bkt"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Fatalf("delete non-empty bucket: %v", err)
	}
}

func TestMultipart(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	id, err := ts.NewMultipartUpload(ctx, "bkt", "mp", PutOptions{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	p1 := randBytes(11, MinPartSize)
	p2 := randBytes(12, 1234)
	var cps []CompletePart
	for i, p := range [][]byte{p1, p2} {
		pi, err := ts.PutObjectPart(ctx, "bkt", "mp", id, i+1, bytes.NewReader(p), int64(len(p)), PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, CompletePart{Number: i + 1, ETag: `"` + pi.ETag + `"`})
	}
	lp, err := ts.ListParts(ctx, "bkt", "mp", id, 0, 0)
	if err != nil || len(lp.Parts) != 2 || lp.Parts[1].Size != 1234 {
		t.Fatalf("list parts: %+v %v", lp, err)
	}
	ups, _ := ts.ListMultipartUploads(ctx, "bkt", ListUploadsOptions{})
	if len(ups.Uploads) != 1 || ups.Uploads[0].UploadID != id {
		t.Fatalf("list uploads: %+v", ups)
	}
	if _, err := ts.CompleteMultipartUpload(ctx, "bkt", "mp", id, []CompletePart{cps[1], cps[0]}, PutOptions{}); !errors.Is(err, ErrInvalidPartOrder) {
		t.Fatalf("order: %v", err)
	}
	bad := []CompletePart{cps[0], {Number: 2, ETag: "0123"}}
	if _, err := ts.CompleteMultipartUpload(ctx, "bkt", "mp", id, bad, PutOptions{}); !errors.Is(err, ErrInvalidPart) {
		t.Fatalf("bad etag: %v", err)
	}
	oi, err := ts.CompleteMultipartUpload(ctx, "bkt", "mp", id, cps, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(oi.ETag, "-2") || oi.Size != int64(len(p1)+len(p2)) || oi.ContentType != "video/mp4" {
		t.Fatalf("completed: %+v", oi)
	}
	want := append(append([]byte(nil), p1...), p2...)
	got, err := ts.get(t, "mp", 0, -1)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read multipart: %v", err)
	}
	got, _ = ts.get(t, "mp", int64(len(p1))-5, 10)
	if !bytes.Equal(got, want[len(p1)-5:len(p1)+5]) {
		t.Fatal("range across parts")
	}
	if _, err := ts.ListParts(ctx, "bkt", "mp", id, 0, 0); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("upload still there: %v", err)
	}
	// Small non-last part.
	id2, _ := ts.NewMultipartUpload(ctx, "bkt", "small", PutOptions{})
	var cps2 []CompletePart
	for i := 1; i <= 2; i++ {
		pi, _ := ts.PutObjectPart(ctx, "bkt", "small", id2, i, bytes.NewReader([]byte("tiny")), 4, PutOptions{})
		cps2 = append(cps2, CompletePart{Number: i, ETag: pi.ETag})
	}
	if _, err := ts.CompleteMultipartUpload(ctx, "bkt", "small", id2, cps2, PutOptions{}); !errors.Is(err, ErrEntityTooSmall) {
		t.Fatalf("small part: %v", err)
	}
	if err := ts.AbortMultipartUpload(ctx, "bkt", "small", id2); err != nil {
		t.Fatal(err)
	}
	if err := ts.AbortMultipartUpload(ctx, "bkt", "small", id2); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("abort twice: %v", err)
	}
}

func TestRestartKeepsObjects(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	data := randBytes(5, 300<<10)
	ts.put(t, "keep", data)
	ts.Close()
	s2, err := Open(Config{Disks: ts.dirs, DataShards: 2, ParityShards: 2, BlockSize: 64 << 10, InlineThreshold: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	_, rc, err := s2.GetObject(context.Background(), "bkt", "keep", GetOptions{Length: -1})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("object changed across restart")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Disks: []string{"a", "b"}, DataShards: 0}, "at least 1"},
		{Config{Disks: []string{"a", "b"}, DataShards: 1, ParityShards: -1}, "at least 0"},
		{Config{Disks: []string{"a", "b"}, DataShards: 2, ParityShards: 1}, "need at least 3 disks"},
		{Config{Disks: []string{"a", "a"}, DataShards: 1, ParityShards: 1}, "given twice"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// TestStreamingMemoryIsBounded writes and reads a 512 MiB object and checks
// that the bytes allocated do not grow with the object: the data path
// streams stripe by stripe through pooled buffers.
func TestStreamingMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 512 MiB")
	}
	ts := openTestStore(t, 4, 2, 2, func(c *Config) { c.BlockSize = DefaultBlockSize })
	const size = 512 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := ts.PutObject(context.Background(), "bkt", "huge", &zeroReader{size}, size, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	_, rc, err := ts.GetObject(context.Background(), "bkt", "huge", GetOptions{Length: -1})
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n != size {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB for a %d MiB put+get", alloc>>10, size>>20)
	if alloc > 32<<20 {
		t.Fatalf("allocated %d MiB moving %d MiB: not bounded", alloc>>20, size>>20)
	}
}

func reopen(t *testing.T, dirs []string) *Store {
	t.Helper()
	s, err := Open(Config{Disks: dirs, DataShards: 2, ParityShards: 2, BlockSize: 64 << 10, InlineThreshold: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readAll(t *testing.T, s *Store, key string) ([]byte, error) {
	t.Helper()
	_, rc, err := s.GetObject(context.Background(), "bkt", key, GetOptions{Length: -1})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// TestReplacedDisksAreFilledBack removes two disk directories (as a
// replaced disk would be: empty), restarts, and checks that everything
// reads back, that the new disks are filled back, and that they then
// carry the data alone when the two original disks go.
func TestReplacedDisksAreFilledBack(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	objs := map[string][]byte{}
	for i, size := range []int{5, 10 << 10, 100 << 10, 300<<10 + 7} {
		k := fmt.Sprintf("o%d", i)
		objs[k] = randBytes(uint64(i+40), size)
		ts.put(t, k, objs[k])
	}
	ts.Close()
	for _, d := range ts.dirs[:2] {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	s := reopen(t, ts.dirs)
	for k, want := range objs {
		if got, err := readAll(t, s, k); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s with two disks replaced: %v", k, err)
		}
	}
	<-s.filled
	for _, d := range s.disks[:2] {
		if d.Healing() {
			t.Fatalf("%s still marked healing after fill back", d.Root())
		}
	}
	s.Close()
	for _, d := range ts.dirs[2:] {
		if err := os.RemoveAll(d); err != nil {
			t.Fatal(err)
		}
	}
	s = reopen(t, ts.dirs)
	for k, want := range objs {
		if got, err := readAll(t, s, k); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s from the filled-back disks alone: %v", k, err)
		}
	}
	res, err := s.ListObjects(context.Background(), "bkt", ListOptions{})
	if err != nil || len(res.Objects) != len(objs) {
		t.Fatalf("list from the filled-back disks: %d objects, %v", len(res.Objects), err)
	}
}

// TestTooManyDisksReplaced: with three of four disks new, the one left
// cannot answer alone: reads fail with a read-quorum error, never
// "no such key" and never wrong data.
func TestTooManyDisksReplaced(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ts.put(t, "k", randBytes(9, 200<<10))
	ts.Close()
	for _, d := range ts.dirs[:3] {
		os.RemoveAll(d)
	}
	s := reopen(t, ts.dirs)
	if _, err := s.HeadObject(context.Background(), "bkt", "k"); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("head with 3 of 4 disks replaced: %v", err)
	}
	if _, err := readAll(t, s, "k"); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("get with 3 of 4 disks replaced: %v", err)
	}
}

// TestFailingDiskIsTakenOutOfService: a disk whose I/O fails again and
// again is marked failed, readiness says so, and the store goes on at
// full speed on the others (no more calls to the failed disk).
func TestFailingDiskIsTakenOutOfService(t *testing.T) {
	failed := make(chan string, 4)
	ts := openTestStore(t, 4, 2, 2, func(c *Config) {
		c.OnDiskFailed = func(i int, path string) { failed <- fmt.Sprint(i, " ", path) }
	})
	ts.efs.Inject(vfs.OnPrefix(ts.dirs[0]))
	for i := 0; i < 20 && !ts.disks[0].Failed(); i++ {
		ts.put(t, fmt.Sprintf("k%d", i), randBytes(uint64(i), 40<<10))
	}
	if !ts.disks[0].Failed() {
		t.Fatal("disk 0 fails every call but is still in service")
	}
	if err := ts.Ready(); err != nil {
		t.Fatalf("3 of 4 disks still make a write quorum: %v", err)
	}
	if ts.diskFailures.Load() != 1 {
		t.Fatalf("disk failures counted: %d", ts.diskFailures.Load())
	}
	if got, want := <-failed, "0 "+ts.dirs[0]; got != want {
		t.Fatalf("OnDiskFailed(%s), want (%s)", got, want)
	}
	// No call reaches the failed disk any more.
	ts.efs.Reset()
	var calls atomic.Int64
	ts.efs.Inject(func(op vfs.Op, p string) bool {
		if strings.HasPrefix(p, ts.dirs[0]) {
			calls.Add(1)
		}
		return false
	})
	data := randBytes(99, 100<<10)
	ts.put(t, "after", data)
	if got, err := ts.get(t, "after", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after the disk failed: %v", err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d calls reached the failed disk", n)
	}
}

// TestRepairQueueSurvivesRestart: a write that misses a disk is queued for
// repair durably; the queue comes back after a restart and the repair
// completes then.
func TestRepairQueueSurvivesRestart(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	set := ts.set("bkt", "k")
	var victim string
	for i, d := range ts.disks {
		if d == set[3] {
			victim = ts.dirs[i]
		}
	}
	// The last disk of the object's set refuses writes (but answers reads,
	// so it is not taken out of service by one write).
	ts.efs.Inject(vfs.OnPrefix(filepath.Join(victim, "segments"), vfs.OpCreate, vfs.OpWrite))
	data := randBytes(5, 300<<10)
	ts.put(t, "k", data)
	ts.Close()

	healed := make(chan HealResult, 8)
	s, err := Open(Config{Disks: ts.dirs, DataShards: 2, ParityShards: 2, BlockSize: 64 << 10, InlineThreshold: 16 << 10,
		OnHeal: func(bucket, key string, res HealResult, err error) {
			if key == "k" && err == nil {
				healed <- res
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res := <-healed
	if !res.Complete || res.Rebuilt != 1 {
		t.Fatalf("repair after restart: %+v", res)
	}
	rec := mustRecord(t, &testStore{Store: s}, "k")
	for j, d := range s.set("bkt", "k") {
		if err := s.verifyShards(d, rec, j); err != nil {
			t.Fatalf("shard %d after repair: %v", j, err)
		}
	}
	for _, d := range s.disks {
		if v, err := d.Get(queueKey("bkt", "k")); err == nil {
			t.Fatalf("queue entry left on %s: %q", d.Root(), v)
		}
	}
}

// TestCompleteRetriedAfterCrash: a crash between CompleteMultipartUpload's
// commit and its cleanup leaves the upload behind; completing it again,
// aborting it or re-uploading a part must not take data from the object.
func TestCompleteRetriedAfterCrash(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	id, err := ts.NewMultipartUpload(ctx, "bkt", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randBytes(21, MinPartSize), randBytes(22, 1000)
	var cps []CompletePart
	for i, p := range [][]byte{p1, p2} {
		pi, err := ts.PutObjectPart(ctx, "bkt", "mp", id, i+1, bytes.NewReader(p), int64(len(p)), PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	want := append(append([]byte(nil), p1...), p2...)
	ts.crashAfterComplete = true
	if _, err := ts.CompleteMultipartUpload(ctx, "bkt", "mp", id, cps, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	ts.crashAfterComplete = false
	// The client retries the completion: same parts, a new version.
	if _, err := ts.CompleteMultipartUpload(ctx, "bkt", "mp", id, cps, PutOptions{}); err != nil {
		t.Fatalf("retried complete: %v", err)
	}
	if got, err := ts.get(t, "mp", 0, -1); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("after a retried complete: %v", err)
	}
	// And the same crash, then an abort of the left-over upload.
	id2, _ := ts.NewMultipartUpload(ctx, "bkt", "mp2", PutOptions{})
	pi, _ := ts.PutObjectPart(ctx, "bkt", "mp2", id2, 1, bytes.NewReader(p2), int64(len(p2)), PutOptions{})
	ts.crashAfterComplete = true
	if _, err := ts.CompleteMultipartUpload(ctx, "bkt", "mp2", id2, []CompletePart{{Number: 1, ETag: pi.ETag}}, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	ts.crashAfterComplete = false
	if _, err := ts.PutObjectPart(ctx, "bkt", "mp2", id2, 1, bytes.NewReader(p1[:10]), 10, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := ts.AbortMultipartUpload(ctx, "bkt", "mp2", id2); err != nil {
		t.Fatal(err)
	}
	if got, err := ts.get(t, "mp2", 0, -1); err != nil || !bytes.Equal(got, p2) {
		t.Fatalf("after re-upload and abort of the left-over upload: %v", err)
	}
}

// TestReadOutlivesOverwrite: a GET that resolved a version keeps reading
// it whole while an overwrite and a delete are acknowledged; its data goes
// when the reader is closed.
func TestReadOutlivesOverwrite(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	old := randBytes(31, 500<<10)
	ts.put(t, "k", old)
	_, rc, err := ts.GetObject(ctx, "bkt", "k", GetOptions{Length: -1})
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1000)
	if _, err := io.ReadFull(rc, first); err != nil {
		t.Fatal(err)
	}
	ts.put(t, "k", randBytes(32, 300<<10))
	if err := ts.DeleteObject(ctx, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(append(first, rest...), old) {
		t.Fatalf("reader of the old version cut short or wrong: %v (%d bytes)", err, len(first)+len(rest))
	}
	rc.Close()
	for _, d := range ts.dirs {
		for _, e := range shardExtents(t, d) {
			t.Errorf("shard %s left after the last reader closed", e.DataID)
		}
	}
}

// TestNewerVersionOnSilentDisksIsNotHidden writes a version to three of
// four disks (acknowledged: 2+2 needs three), then lets two other disks
// answer alone: one holds the new version, one the old. Neither has the
// k records a read needs, and the new one may be acknowledged (it is):
// a read, a head and a listing must say they cannot tell
// (ErrReadQuorum), not that the key does not exist, and all is back once
// the disks answer again.
func TestNewerVersionOnSilentDisksIsNotHidden(t *testing.T) {
	// The healer is parked on another key, so that it does not repair
	// the disk that missed the write before the reads below.
	park, parked := make(chan struct{}), make(chan struct{})
	ts := openTestStore(t, 4, 2, 2, func(c *Config) {
		c.OnHeal = func(_, key string, _ HealResult, _ error) {
			if key == "park" {
				close(parked)
				<-park
			}
		}
	})
	t.Cleanup(func() { close(park) })
	ts.queueHeal("bkt", "park")
	<-parked
	ctx := context.Background()
	ts.put(t, "k", randBytes(1, 40<<10))
	ts.efs.Inject(vfs.OnPrefix(ts.dirs[3]))
	v2 := randBytes(2, 40<<10)
	ts.put(t, "k", v2)
	ts.efs.Reset()
	ts.disks[3].Reinstate()

	// Disks 0 and 3 answer: disk 0 holds the new version, 3 the old.
	ts.efs.Inject(vfs.OnPrefix(ts.dirs[1]))
	ts.efs.Inject(vfs.OnPrefix(ts.dirs[2]))
	if _, err := ts.get(t, "k", 0, -1); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("get with the new version on one answering disk: %v, want ErrReadQuorum", err)
	}
	if _, err := ts.HeadObject(ctx, "bkt", "k"); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("head with the new version on one answering disk: %v, want ErrReadQuorum", err)
	}
	if res, err := ts.ListObjects(ctx, "bkt", ListOptions{}); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("list with the new version on one answering disk: %v %v, want ErrReadQuorum", res.Objects, err)
	}
	// A key written to every disk, whole on the two that answer, lists
	// and reads as ever beside it.
	ts.efs.Reset()
	for _, d := range ts.disks {
		d.Reinstate()
	}
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("get with every disk answering: %v", err)
	}
	res, err := ts.ListObjects(ctx, "bkt", ListOptions{})
	sum := md5.Sum(v2)
	if err != nil || len(res.Objects) != 1 || res.Objects[0].ETag != etagOf(sum[:]) {
		t.Fatalf("list with every disk answering: %+v %v", res.Objects, err)
	}
}

// failAfter takes n bytes, then fails every write.
type failAfter struct {
	bytes.Buffer
	n int
}

var errWriterFull = errors.New("writer full")

func (f *failAfter) Write(p []byte) (int, error) {
	if room := f.n - f.Len(); len(p) > room {
		f.Buffer.Write(p[:max(room, 0)])
		return max(room, 0), errWriterFull
	}
	return f.Buffer.Write(p)
}

// TestReaderWriteTo streams objects of several stripes, and ranges of
// them, through WriteTo (as io.Copy does) after a first Read, and checks
// the bytes, the count, and a destination that fails half way.
func TestReaderWriteTo(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	data := randBytes(7, 2*DefaultBlockSize+12345)
	ts.put(t, "k", data)
	for _, c := range []struct{ off, n int64 }{{0, -1}, {1, 2 * DefaultBlockSize}, {DefaultBlockSize - 3, 7}, {int64(len(data)) - 1, 1}} {
		_, rc, err := ts.GetObject(ctx, "bkt", "k", GetOptions{Offset: c.off, Length: c.n})
		if err != nil {
			t.Fatal(err)
		}
		want := data[c.off:]
		if c.n >= 0 {
			want = want[:c.n]
		}
		first := make([]byte, min(100, len(want)))
		if _, err := io.ReadFull(rc, first); err != nil {
			t.Fatal(err)
		}
		var rest bytes.Buffer
		n, err := rc.(io.WriterTo).WriteTo(&rest)
		rc.Close()
		if err != nil || n != int64(len(want)-len(first)) || !bytes.Equal(append(first, rest.Bytes()...), want) {
			t.Errorf("range %+v: WriteTo wrote %d (%v), bytes equal: %v", c, n, err, bytes.Equal(append(first, rest.Bytes()...), want))
		}
	}
	_, rc, err := ts.GetObject(ctx, "bkt", "k", GetOptions{Length: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	dst := &failAfter{n: DefaultBlockSize + 10}
	n, err := rc.(io.WriterTo).WriteTo(dst)
	if !errors.Is(err, errWriterFull) || n != int64(dst.n) || !bytes.Equal(dst.Bytes(), data[:dst.n]) {
		t.Errorf("failing destination: wrote %d, %v; want %d and errWriterFull", n, err, dst.n)
	}
}

// shardExtents lists the shards stored under a disk's directory.
func shardExtents(t *testing.T, dir string) []disk.Extent {
	t.Helper()
	ext, err := disk.Extents(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ext
}

// TestFailedHealIsRetried leaves an object with one readable shard of the
// k = 2 a heal needs (two shard files removed, a third unreadable for a
// while): the heal fails, and the healer tries it again on its own, which
// succeeds once the third shard reads.
func TestFailedHealIsRetried(t *testing.T) {
	type result struct {
		res HealResult
		err error
	}
	results := make(chan result, 16)
	ts := openTestStore(t, 4, 2, 2, func(c *Config) {
		c.HealRetry = time.Millisecond
		c.OnHeal = func(_, key string, res HealResult, err error) {
			if key == "k" {
				results <- result{res, err}
			}
		}
	})
	data := randBytes(3, 1<<20)
	ts.put(t, "k", data)
	for _, i := range []int{0, 1} {
		for _, e := range shardExtents(t, ts.dirs[i]) {
			if err := ts.disks[i].RemoveShard(e.DataID); err != nil {
				t.Fatal(err)
			}
		}
	}
	unreadable := shardExtents(t, ts.dirs[2])
	if len(unreadable) != 1 {
		t.Fatalf("disk 2 holds %d shards, want 1", len(unreadable))
	}
	// The segment holds that one shard only.
	ts.efs.Inject(vfs.OnPrefix(unreadable[0].Path))
	ts.queueHeal("bkt", "k")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	next := func() result {
		t.Helper()
		select {
		case r := <-results:
			return r
		case <-ctx.Done():
			t.Fatal("no heal result")
		}
		return result{}
	}
	if r := next(); !errors.Is(r.err, ErrReadQuorum) {
		t.Fatalf("first heal: %+v, %v; want ErrReadQuorum", r.res, r.err)
	}
	ts.efs.Reset()
	reinstate(ts, 2)
	r := next()
	for r.err != nil { // tries made before the shard read again
		r = next()
	}
	if !r.res.Complete || r.res.Rebuilt != 2 {
		t.Fatalf("retried heal: %+v; want complete, 2 shards rebuilt", r.res)
	}
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after the heal: %v", err)
	}
}

// TestHealRetriesBackOff checks the retry schedule of a heal that keeps
// failing: waits doubling from the base up to 10 minutes, due tasks
// batched, and the task given up after maxHealAttempts failures.
func TestHealRetriesBackOff(t *testing.T) {
	rt := newHealRetries(time.Second)
	defer rt.timer.Stop()
	now := time.Unix(1000, 0)
	a, b := healTask{"bkt", "a"}, healTask{"bkt", "b"}
	var waits []time.Duration
	for i := 1; i < maxHealAttempts; i++ {
		if !rt.failed(a, now) {
			t.Fatalf("failure %d: given up early", i)
		}
		waits = append(waits, rt.tasks[a].at.Sub(now))
		if got := rt.due(now); len(got) != 0 {
			t.Fatalf("failure %d: %v due at once", i, got)
		}
		at := rt.tasks[a].at
		if got := rt.due(at); len(got) != 1 || got[0] != a {
			t.Fatalf("failure %d: due at its time: %v", i, got)
		}
		// Queued: due again only if no result comes within a wait.
		if got := rt.due(at); len(got) != 0 {
			t.Fatalf("failure %d: due twice: %v", i, got)
		}
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second}
	if !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	if rt.failed(a, now) {
		t.Errorf("failure %d: not given up", maxHealAttempts)
	}
	if _, ok := rt.tasks[a]; ok {
		t.Error("a task given up is still scheduled")
	}
	// Two tasks due within half a base wait of each other go together.
	rt.failed(a, now)
	rt.failed(b, now.Add(500*time.Millisecond))
	if got := rt.due(now.Add(time.Second)); len(got) != 2 {
		t.Errorf("due together: %v", got)
	}
	rt.forget(a)
	rt.forget(b)
	if len(rt.tasks) != 0 {
		t.Errorf("forgotten tasks remain: %v", rt.tasks)
	}
	// Too many waiting: the next failure is given up at once.
	many := newHealRetries(time.Second)
	defer many.timer.Stop()
	for i := range maxHealRetries {
		many.failed(healTask{"bkt", fmt.Sprint(i)}, now)
	}
	if many.failed(healTask{"bkt", "one more"}, now) {
		t.Errorf("a retry scheduled beyond %d waiting", maxHealRetries)
	}
	long := newHealRetries(5 * time.Minute)
	defer long.timer.Stop()
	long.failed(a, now)
	long.failed(a, now)
	long.failed(a, now)
	if w := long.tasks[a].at.Sub(now); w != 10*time.Minute {
		t.Errorf("third wait at a 5 min base: %v, want the 10 min cap", w)
	}
}

// TestFillBackRereadsOnABadSource replaces a disk while the shard that a
// fill back reads first, trusting the records, is corrupt: the rebuild
// from it fails, the heal verifies every shard and is made again, and
// both the new disk and the corrupt shard end up whole.
func TestFillBackRereadsOnABadSource(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	data := randBytes(11, 300<<10)
	ts.put(t, "k", data)
	set := ts.set("bkt", "k")
	const replaced = 2
	first := -1 // the first source: the lowest slot on another disk
	for _, d := range set {
		if i := slices.Index(ts.disks, d); i != replaced {
			first = i
			break
		}
	}
	ts.Close()
	if n := corruptShards(t, ts, first); n != 1 {
		t.Fatalf("corrupted %d shard files on disk %d, want 1", n, first)
	}
	if err := os.RemoveAll(ts.dirs[replaced]); err != nil {
		t.Fatal(err)
	}
	s := reopen(t, ts.dirs)
	<-s.filled
	if s.disks[replaced].Healing() {
		t.Fatal("the replaced disk is still marked healing: the fill back failed")
	}
	for j, d := range s.set("bkt", "k") {
		rec, err := s.readRecord(d, objectKey("bkt", "k"))
		if err != nil || rec == nil {
			t.Fatalf("slot %d (%s): record %v, %v", j, d.Root(), rec, err)
		}
		if err := s.verifyShards(d, rec, j); err != nil {
			t.Errorf("slot %d (%s) after the fill back: %v", j, d.Root(), err)
		}
	}
	if got, err := readAll(t, s, "k"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after the fill back: %v", err)
	}
}

// valueEntry finds the entry of the value of key in the segments of the
// disk at dir (the disk keeps inline shards there): the segment's path and
// the offset of the value's first byte.
func valueEntry(t *testing.T, dir string, key []byte) (string, int64) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "segments", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range segs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// The header: "BSV1", length, name length, name at 13.
		if i := bytes.Index(b, key); i >= 13 && string(b[i-13:i-9]) == "BSV1" {
			return p, int64(i - 13 + 128)
		}
	}
	t.Fatalf("no segment of %s holds the value of %s", dir, key)
	return "", 0
}

// An inline shard that rots in its segment is read around and repaired.
func TestRottenInlineShardIsRepaired(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	data := randBytes(8, 6000)
	ts.put(t, "small", data)
	rec := mustRecord(t, ts, "small")
	if !rec.Parts[0].Inline {
		t.Fatal("a 6000-byte object is not inline")
	}
	set := ts.set("bkt", "small")
	idx := slices.Index(ts.disks, set[0])
	p, off := valueEntry(t, ts.dirs[idx], inlineKey(rec.Parts[0].DataID))
	flipByte(t, p, off+200)
	if got, err := ts.get(t, "small", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with a rotten inline shard: %v", err)
	}
	if _, err := ts.healObject("bkt", "small"); err != nil {
		t.Fatalf("heal: %v", err)
	}
	if got := ts.shardsRebuilt.Load(); got != 1 {
		t.Fatalf("%d shards rebuilt, want 1", got)
	}
	if err := ts.verifyShards(set[0], rec, 0); err != nil {
		t.Fatalf("inline shard not repaired: %v", err)
	}
}
