package objectd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/basaltstore/basalt/internal/vfs"
	"github.com/basaltstore/basalt/objectd/disk"
)

func (ts *testStore) putV(t *testing.T, key string, data []byte, mode Versioning) ObjectInfo {
	t.Helper()
	oi, err := ts.PutObject(context.Background(), "bkt", key, bytes.NewReader(data), int64(len(data)), PutOptions{Versioning: mode})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return oi
}

func (ts *testStore) getV(t *testing.T, key, vid string) ([]byte, ObjectInfo, error) {
	t.Helper()
	oi, rc, err := ts.GetObject(context.Background(), "bkt", key, GetOptions{Length: -1, VersionID: vid})
	if err != nil {
		return nil, oi, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return b, oi, err
}

func (ts *testStore) versions(t *testing.T, prefix string) []string {
	t.Helper()
	res, err := ts.ListObjectVersions(context.Background(), "bkt", ListVersionsOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range res.Versions {
		s := v.Key + "@" + v.VersionID
		if v.DeleteMarker {
			s += "(marker)"
		}
		if v.IsLatest {
			s += "*"
		}
		out = append(out, s)
	}
	return out
}

func shardFileCount(t *testing.T, ts *testStore) int {
	t.Helper()
	n := 0
	for _, d := range ts.dirs {
		n += len(shardExtents(t, d))
	}
	return n
}

func TestVersioningEnabled(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	v1data, v2data := randBytes(1, 100<<10), randBytes(2, 5)
	v1 := ts.putV(t, "k", v1data, VersioningEnabled)
	v2 := ts.putV(t, "k", v2data, VersioningEnabled)
	if v1.VersionID == NullVersionID || v1.VersionID == v2.VersionID {
		t.Fatalf("version ids %q %q", v1.VersionID, v2.VersionID)
	}
	if got, _, err := ts.getV(t, "k", ""); err != nil || !bytes.Equal(got, v2data) {
		t.Fatalf("current: %v", err)
	}
	if got, oi, err := ts.getV(t, "k", v1.VersionID); err != nil || !bytes.Equal(got, v1data) || oi.VersionID != v1.VersionID {
		t.Fatalf("v1 by id: %v", err)
	}
	if _, _, err := ts.getV(t, "k", "nope"); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("unknown version: %v", err)
	}
	want := []string{"k@" + v2.VersionID + "*", "k@" + v1.VersionID}
	if got := ts.versions(t, ""); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("versions %v, want %v", got, want)
	}

	// A delete makes a marker: the key is gone from GET and LIST, its
	// versions stay.
	del, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{Versioning: VersioningEnabled})
	if err != nil || !del.DeleteMarker || del.VersionID == "" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, oi, err := ts.getV(t, "k", ""); !errors.Is(err, ErrNoSuchKey) || !oi.DeleteMarker || oi.VersionID != del.VersionID {
		t.Fatalf("GET after delete: %+v %v", oi, err)
	}
	if oi, err := ts.HeadObject(ctx, "bkt", "k"); !errors.Is(err, ErrNoSuchKey) || !oi.DeleteMarker {
		t.Fatalf("HEAD after delete: %+v %v", oi, err)
	}
	if _, err := ts.HeadObjectVersion(ctx, "bkt", "k", del.VersionID); !errors.Is(err, ErrDeleteMarker) {
		t.Fatalf("HEAD of the marker by id: %v", err)
	}
	if res, _ := ts.ListObjects(ctx, "bkt", ListOptions{}); len(res.Objects) != 0 {
		t.Fatalf("listed after delete: %+v", res.Objects)
	}
	if got := ts.versions(t, ""); len(got) != 3 || got[0] != "k@"+del.VersionID+"(marker)*" {
		t.Fatalf("versions after delete: %v", got)
	}
	if got, _, err := ts.getV(t, "k", v1.VersionID); err != nil || !bytes.Equal(got, v1data) {
		t.Fatalf("v1 after delete: %v", err)
	}
	if err := ts.DeleteBucket(ctx, "bkt"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Fatalf("delete of a bucket with versions: %v", err)
	}

	// Removing the marker by id brings v2 back.
	if r, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{VersionID: del.VersionID}); err != nil || !r.DeleteMarker {
		t.Fatalf("delete marker by id: %+v %v", r, err)
	}
	if got, _, err := ts.getV(t, "k", ""); err != nil || !bytes.Equal(got, v2data) {
		t.Fatalf("current after removing the marker: %v", err)
	}
	// Removing the current version by id promotes v1, and v1's shard
	// files are still there while v2's (inline) go.
	files := shardFileCount(t, ts)
	if _, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{VersionID: v2.VersionID}); err != nil {
		t.Fatal(err)
	}
	if got, oi, err := ts.getV(t, "k", ""); err != nil || !bytes.Equal(got, v1data) || oi.VersionID != v1.VersionID {
		t.Fatalf("current after removing v2: %v", err)
	}
	if shardFileCount(t, ts) != files {
		t.Fatal("removing an inline version removed shard files")
	}
	// Removing the last version removes the key and its data.
	if _, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{VersionID: v1.VersionID}); err != nil {
		t.Fatal(err)
	}
	if got := ts.versions(t, ""); len(got) != 0 {
		t.Fatalf("versions after removing all: %v", got)
	}
	if n := shardFileCount(t, ts); n != 0 {
		t.Fatalf("%d shard files left after every version went", n)
	}
	// A version that does not exist: nothing, no error.
	if _, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{VersionID: "gone"}); err != nil {
		t.Fatal(err)
	}
	if err := ts.DeleteBucket(ctx, "bkt"); err != nil {
		t.Fatalf("delete of the emptied bucket: %v", err)
	}
}

func TestVersioningSuspendedAndNullVersions(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	// Written before versioning: the null version.
	ts.putV(t, "k", []byte("null-1"), Unversioned)
	v1 := ts.putV(t, "k", []byte("v1"), VersioningEnabled)
	if got, _, err := ts.getV(t, "k", NullVersionID); err != nil || string(got) != "null-1" {
		t.Fatalf("the unversioned object as version null: %q %v", got, err)
	}
	// Suspended: a new null version replaces the old null one (here
	// noncurrent), and keeps v1.
	n2 := ts.putV(t, "k", []byte("null-2"), VersioningSuspended)
	if n2.VersionID != NullVersionID {
		t.Fatalf("suspended write got version %q", n2.VersionID)
	}
	want := fmt.Sprint([]string{"k@null*", "k@" + v1.VersionID})
	if got := ts.versions(t, ""); fmt.Sprint(got) != want {
		t.Fatalf("versions %v, want %s", got, want)
	}
	ts.putV(t, "k", []byte("null-3"), VersioningSuspended)
	if got := ts.versions(t, ""); fmt.Sprint(got) != want {
		t.Fatalf("versions after a second null write %v, want %s", got, want)
	}
	if got, _, _ := ts.getV(t, "k", NullVersionID); string(got) != "null-3" {
		t.Fatalf("null version %q", got)
	}
	// A suspended delete: a null marker replaces the null version.
	d, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{Versioning: VersioningSuspended})
	if err != nil || d.VersionID != NullVersionID || !d.DeleteMarker {
		t.Fatalf("suspended delete: %+v %v", d, err)
	}
	if got := ts.versions(t, ""); fmt.Sprint(got) != fmt.Sprint([]string{"k@null(marker)*", "k@" + v1.VersionID}) {
		t.Fatalf("versions after suspended delete %v", got)
	}
	if got, _, err := ts.getV(t, "k", v1.VersionID); err != nil || string(got) != "v1" {
		t.Fatalf("v1: %v", err)
	}
}

func TestListObjectVersionsPages(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	var all []string
	for _, k := range []string{"a", "b/1", "b/2", "c"} {
		var ids []string
		for i := 0; i < 3; i++ {
			ids = append(ids, ts.putV(t, k, []byte(k), VersioningEnabled).VersionID)
		}
		for i := 2; i >= 0; i-- {
			all = append(all, k+"@"+ids[i])
		}
	}
	// Pages of every size give every version once, in order.
	for _, size := range []int{1, 2, 3, 5, 1000} {
		var got []string
		opts := ListVersionsOptions{MaxKeys: size}
		for pages := 0; ; pages++ {
			res, err := ts.ListObjectVersions(ctx, "bkt", opts)
			if err != nil || pages > 20 {
				t.Fatalf("page size %d: %v", size, err)
			}
			for _, v := range res.Versions {
				got = append(got, v.Key+"@"+v.VersionID)
			}
			if !res.IsTruncated {
				break
			}
			opts.KeyMarker, opts.VersionIDMarker = res.NextKeyMarker, res.NextVersionIDMarker
		}
		if fmt.Sprint(got) != fmt.Sprint(all) {
			t.Fatalf("page size %d:\n%v\nwant\n%v", size, got, all)
		}
	}
	res, err := ts.ListObjectVersions(ctx, "bkt", ListVersionsOptions{Delimiter: "/"})
	if err != nil || len(res.Versions) != 6 || fmt.Sprint(res.CommonPrefixes) != "[b/]" {
		t.Fatalf("with a delimiter: %d versions, prefixes %v, %v", len(res.Versions), res.CommonPrefixes, err)
	}
}

// TestNoncurrentVersionsAreHealed: a noncurrent version missing from a
// disk is rebuilt there by the healer.
func TestNoncurrentVersionsAreHealed(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	old := randBytes(3, 300<<10)
	v1 := ts.putV(t, "k", old, VersioningEnabled)
	ts.putV(t, "k", []byte("new"), VersioningEnabled)
	// Remove v1's record and shard files from one disk of the set.
	set := ts.set("bkt", "k")
	vs, err := ts.noncurrent(set, "bkt", "k")
	if err != nil || len(vs) != 1 {
		t.Fatalf("noncurrent: %v %v", vs, err)
	}
	var victim string
	for i, d := range ts.disks {
		if d == set[0] {
			victim = ts.dirs[i]
		}
	}
	if err := set[0].Update(func(tx disk.Txn) error { return tx.Delete(vs[0].rkey) }); err != nil {
		t.Fatal(err)
	}
	id := vs[0].best.Parts[0].DataID
	removed := 0
	for _, e := range shardExtents(t, victim) {
		if e.DataID == id {
			if err := set[0].RemoveShard(id); err != nil {
				t.Fatal(err)
			}
			removed++
		}
	}
	if removed != 1 {
		t.Fatalf("removed %d shards of v1", removed)
	}
	res, err := ts.healObject("bkt", "k")
	if err != nil || !res.Complete || res.Rebuilt != 1 {
		t.Fatalf("heal: %+v %v", res, err)
	}
	if vs, _ := ts.noncurrent(set, "bkt", "k"); len(vs) != 1 || vs[0].recs[0] == nil {
		t.Fatal("the record of v1 was not put back")
	}
	// Read v1 with two other disks failing: the rebuilt shard is needed.
	for i, d := range ts.disks {
		if d == set[1] || d == set[2] {
			ts.efs.Inject(vfs.OnPrefix(ts.dirs[i]))
		}
	}
	if got, _, err := ts.getV(t, "k", v1.VersionID); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("v1 after heal: %v", err)
	}
	_ = ctx
}

// TestUpdateObjectKeepsTheVersion: a metadata update in a versioned bucket
// rewrites the current version in place: same id, no new version, and the
// data shared with nothing else survives.
func TestUpdateObjectKeepsTheVersion(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	data := randBytes(4, 200<<10)
	v1 := ts.putV(t, "k", []byte("old"), VersioningEnabled)
	v2 := ts.putV(t, "k", data, VersioningEnabled)
	up, err := ts.UpdateObject(ctx, "bkt", "k", func(oi *ObjectInfo) error {
		oi.Headers = map[string]string{"X-Amz-Tagging": "x=y"}
		return nil
	})
	if err != nil || up.VersionID != v2.VersionID {
		t.Fatalf("update: %+v %v", up, err)
	}
	if got := ts.versions(t, ""); fmt.Sprint(got) != fmt.Sprint([]string{"k@" + v2.VersionID + "*", "k@" + v1.VersionID}) {
		t.Fatalf("versions after update: %v", got)
	}
	got, oi, err := ts.getV(t, "k", v2.VersionID)
	if err != nil || !bytes.Equal(got, data) || oi.Headers["X-Amz-Tagging"] != "x=y" {
		t.Fatalf("v2 after update: %+v %v", oi, err)
	}
}

// TestConditionalDelete: a delete whose check refuses the current version
// changes nothing, in each versioning mode.
func TestConditionalDelete(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	refuse := errors.New("changed")
	for _, mode := range []Versioning{Unversioned, VersioningEnabled} {
		put := ts.putV(t, "k", []byte("data"), mode)
		for _, opts := range []DeleteOptions{{Versioning: mode}, {VersionID: put.VersionID}} {
			opts.Check = func(cur *ObjectInfo) error {
				if cur == nil || cur.ETag != put.ETag {
					t.Fatalf("check sees %+v", cur)
				}
				return refuse
			}
			if _, err := ts.DeleteObjectVersion(ctx, "bkt", "k", opts); !errors.Is(err, refuse) {
				t.Fatalf("mode %d, %+v: %v", mode, opts, err)
			}
			if got, _, err := ts.getV(t, "k", ""); err != nil || string(got) != "data" {
				t.Fatalf("after a refused delete: %q %v", got, err)
			}
		}
		ok := func(*ObjectInfo) error { return nil }
		if _, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{Versioning: mode, Check: ok}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ts.getV(t, "k", ""); !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("after an accepted delete: %v", err)
		}
	}
}

// TestUpdateNoncurrentVersionAndCheckVersion: a noncurrent version's
// metadata is rewritten in place (same id, same order); a delete by id
// that CheckVersion refuses changes nothing.
func TestUpdateNoncurrentVersionAndCheckVersion(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	data := randBytes(5, 150<<10)
	v1 := ts.putV(t, "k", data, VersioningEnabled)
	v2 := ts.putV(t, "k", []byte("two"), VersioningEnabled)
	up, err := ts.UpdateObjectVersion(ctx, "bkt", "k", v1.VersionID, func(oi *ObjectInfo) error {
		oi.Headers = map[string]string{"X-Amz-Object-Lock-Legal-Hold": "ON"}
		return nil
	})
	if err != nil || up.VersionID != v1.VersionID || !up.ModTime.Equal(v1.ModTime) {
		t.Fatalf("update of v1: %+v %v", up, err)
	}
	if got := ts.versions(t, ""); fmt.Sprint(got) != fmt.Sprint([]string{"k@" + v2.VersionID + "*", "k@" + v1.VersionID}) {
		t.Fatalf("versions after the update: %v", got)
	}
	got, oi, err := ts.getV(t, "k", v1.VersionID)
	if err != nil || !bytes.Equal(got, data) || oi.Headers["X-Amz-Object-Lock-Legal-Hold"] != "ON" {
		t.Fatalf("v1 after the update: %+v %v", oi, err)
	}
	held := errors.New("held")
	refuse := func(v *ObjectInfo) error {
		if v.Headers["X-Amz-Object-Lock-Legal-Hold"] == "ON" {
			return held
		}
		return nil
	}
	if _, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{VersionID: v1.VersionID, CheckVersion: refuse}); !errors.Is(err, held) {
		t.Fatalf("delete of a held version: %v", err)
	}
	if _, err := ts.DeleteObjectVersion(ctx, "bkt", "k", DeleteOptions{VersionID: v2.VersionID, CheckVersion: refuse}); err != nil {
		t.Fatalf("delete of a free version: %v", err)
	}
	if got := ts.versions(t, ""); fmt.Sprint(got) != fmt.Sprint([]string{"k@" + v1.VersionID + "*"}) {
		t.Fatalf("versions at the end: %v", got)
	}
	if _, err := ts.UpdateObjectVersion(ctx, "bkt", "k", "0123456789abcdef0123456789abcdef", func(*ObjectInfo) error { return nil }); !errors.Is(err, ErrNoSuchVersion) {
		t.Fatalf("update of an unknown version: %v", err)
	}
}
