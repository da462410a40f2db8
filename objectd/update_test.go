package objectd

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/basaltstore/basalt/internal/vfs"
)

func TestUpdateObjectChangesMetadataAndKeepsData(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	for _, size := range []int{100, 300 << 10} { // inline, and in shard files
		key := "obj"
		data := randBytes(uint64(size), size)
		before := ts.put(t, key, data)
		after, err := ts.UpdateObject(ctx, "bkt", key, func(oi *ObjectInfo) error {
			if oi.rid != before.rid || oi.ContentType != "text/plain" {
				t.Fatalf("fn sees %+v", oi)
			}
			oi.ContentType = "image/png"
			oi.UserMeta = map[string]string{"color": "blue"}
			oi.Headers = map[string]string{"X-Amz-Tagging": "a=1"}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if after.rid == before.rid || after.ETag != before.ETag || after.Size != before.Size || !after.ModTime.Equal(before.ModTime) {
			t.Fatalf("after update %+v, before %+v", after, before)
		}
		head, err := ts.HeadObject(ctx, "bkt", key)
		if err != nil || head.ContentType != "image/png" || head.UserMeta["color"] != "blue" || head.Headers["X-Amz-Tagging"] != "a=1" {
			t.Fatalf("HEAD after update: %+v %v", head, err)
		}
		if got, err := ts.get(t, key, 0, -1); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("data after update: %v", err)
		}
		if res, _ := ts.ListObjects(ctx, "bkt", ListOptions{}); len(res.Objects) != 1 || !res.Objects[0].ModTime.Equal(before.ModTime) {
			t.Fatalf("listed after update: %+v (modified %v)", res.Objects, before.ModTime)
		}
		// An error from fn changes nothing.
		stop := errors.New("no")
		if _, err := ts.UpdateObject(ctx, "bkt", key, func(*ObjectInfo) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("fn's error: %v", err)
		}
		if h, _ := ts.HeadObject(ctx, "bkt", key); h.rid != after.rid {
			t.Fatal("a refused update changed the object")
		}
		// Too much user metadata is refused.
		_, err = ts.UpdateObject(ctx, "bkt", key, func(oi *ObjectInfo) error {
			oi.UserMeta = map[string]string{"big": string(make([]byte, MaxUserMetaBytes))}
			return nil
		})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("oversized metadata: %v", err)
		}
		// After the update, an overwrite and a delete still clean up: the
		// data is read from the new version and then gone with it.
		ts.put(t, key, []byte("new"))
		if got, err := ts.get(t, key, 0, -1); err != nil || string(got) != "new" {
			t.Fatalf("overwrite after update: %q %v", got, err)
		}
	}
	if _, err := ts.UpdateObject(ctx, "bkt", "missing", func(*ObjectInfo) error { return nil }); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("update of a missing key: %v", err)
	}
}

// TestUpdateObjectWithDisksFailing: with m disks failing the update
// commits on the rest; with more it fails and the old version stays.
func TestUpdateObjectWithDisksFailing(t *testing.T) {
	ts := openTestStore(t, 4, 2, 2)
	ctx := context.Background()
	data := randBytes(7, 200<<10)
	ts.put(t, "k", data)
	set := ts.set("bkt", "k")
	var dirs []string
	for i, d := range ts.disks {
		for _, sd := range set {
			if sd == d {
				dirs = append(dirs, ts.dirs[i])
			}
		}
	}
	ts.efs.Inject(vfs.OnPrefix(dirs[0]))
	if _, err := ts.UpdateObject(ctx, "bkt", "k", func(oi *ObjectInfo) error { oi.ContentType = "a/b"; return nil }); err != nil {
		t.Fatalf("update with one disk failing: %v", err)
	}
	ts.efs.Inject(vfs.OnPrefix(dirs[1]))
	ts.efs.Inject(vfs.OnPrefix(dirs[2]))
	if _, err := ts.UpdateObject(ctx, "bkt", "k", func(oi *ObjectInfo) error { oi.ContentType = "c/d"; return nil }); err == nil {
		t.Fatal("update with three disks failing succeeded")
	}
	ts.efs.Reset()
	for _, d := range ts.disks {
		d.Reinstate()
	}
	h, err := ts.HeadObject(ctx, "bkt", "k")
	if err != nil || h.ContentType != "a/b" {
		t.Fatalf("after a failed update: %+v %v", h, err)
	}
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("data: %v", err)
	}
}
