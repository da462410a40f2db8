package disk

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/basaltstore/basalt/internal/vfs"
)

func TestFormatPersistsAndTmpIsCleaned(t *testing.T) {
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
	if left := tmpFiles(root); len(left) != 0 {
		t.Fatalf("crash leftovers not cleaned: %v", left)
	}
	if _, err := d.OpenShard("abcd0001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("uncommitted shard visible: %v", err)
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
	w, _ := d.CreateShard("aa01")
	w.Write([]byte("hello"))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	f, err := d.OpenShard("aa01")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 5)
	f.ReadAt(b, 0)
	f.Close()
	if string(b) != "hello" {
		t.Fatalf("read %q", b)
	}
	w, _ = d.CreateShard("aa02")
	w.Write([]byte("x"))
	w.Abort()
	if _, err := d.OpenShard("aa02"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("aborted shard visible: %v", err)
	}
	// A failing fsync: Commit fails and leaves nothing behind.
	efs.Inject(vfs.OnPrefix(filepath.Join(root, "shards"), vfs.OpSync))
	w, _ = d.CreateShard("aa03")
	w.Write([]byte("y"))
	if err := w.Commit(); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("commit with failing fsync: %v", err)
	}
	if _, err := d.OpenShard("aa03"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("shard visible after failed commit: %v", err)
	}
	if left := tmpFiles(root); len(left) != 0 {
		t.Fatalf("temporary file left after failed commit: %v", left)
	}
	// Metadata faults go through the same FS.
	efs.Reset()
	efs.Inject(vfs.OnPrefix(filepath.Join(root, "meta"), vfs.OpWrite))
	if err := d.Update(func(t Txn) error { return t.Set([]byte("k"), []byte("v")) }); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("metadata write with fault: %v", err)
	}
	efs.Reset()
	if err := d.Update(func(t Txn) error { return t.Set([]byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("get: %q %v", v, err)
	}
	if _, err := d.CreateShard("../../etc"); !errors.Is(err, ErrBadDataID) {
		t.Fatalf("bad data id: %v", err)
	}
}

// tmpFiles lists shard files still being written (or left by a crash).
func tmpFiles(root string) []string {
	var out []string
	filepath.Walk(filepath.Join(root, "shards"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, tmpSuffix) {
			out = append(out, p)
		}
		return nil
	})
	return out
}
