package vfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// write makes dir/name through c as storage does: temporary file, write,
// sync, rename, and (when syncDir) a sync of the directory.
func write(t *testing.T, c *CrashFS, dir, name, data string, syncFile, syncDir bool) error {
	t.Helper()
	f, err := c.Create(filepath.Join(dir, name+".tmp"))
	if err != nil {
		return err
	}
	if _, err := f.Write([]byte(data)); err != nil {
		return err
	}
	if syncFile {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	f.Close()
	if err := c.Rename(filepath.Join(dir, name+".tmp"), filepath.Join(dir, name)); err != nil {
		return err
	}
	if syncDir {
		return c.SyncDir(dir)
	}
	return nil
}

func TestCrashFSKeepsOnlyWhatWasMadeDurable(t *testing.T) {
	dir := t.TempDir()
	c := NewCrashFS(Default)
	if err := write(t, c, dir, "durable", "all of it", true, true); err != nil {
		t.Fatal(err)
	}
	if err := write(t, c, dir, "notsynced", "lost bytes", false, true); err != nil {
		t.Fatal(err)
	}
	if err := write(t, c, dir, "norename", "synced but not its directory", true, false); err != nil {
		t.Fatal(err)
	}
	c.CrashAt(1)
	if err := write(t, c, dir, "crashed", "never", true, true); !errors.Is(err, ErrCrashed) {
		t.Fatalf("write after the crash point: %v", err)
	}
	if _, err := c.Open(filepath.Join(dir, "durable")); !errors.Is(err, ErrCrashed) {
		t.Fatalf("open after the crash: %v", err)
	}
	if err := c.Settle(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		got[e.Name()] = string(b)
	}
	want := map[string]string{"durable": "all of it", "notsynced": ""}
	if len(got) != len(want) || got["durable"] != want["durable"] || got["notsynced"] != "" {
		t.Fatalf("after the crash: %q, want %q", got, want)
	}
}

func TestCrashFSCountsMutatingOperations(t *testing.T) {
	dir := t.TempDir()
	c := NewCrashFS(Default)
	if err := write(t, c, dir, "a", "x", true, true); err != nil {
		t.Fatal(err)
	}
	// create, write, sync, rename, syncdir
	if c.Ops() != 5 {
		t.Fatalf("%d operations counted", c.Ops())
	}
	if err := c.Check(OpWrite, "meta"); err != nil || c.Ops() != 6 {
		t.Fatalf("a database write: %v, %d operations", err, c.Ops())
	}
	if err := c.Check(OpRead, "meta"); err != nil || c.Ops() != 6 {
		t.Fatalf("a database read: %v, %d operations", err, c.Ops())
	}
	for n := 1; n <= 5; n++ {
		d := t.TempDir()
		c := NewCrashFS(Default)
		c.CrashAt(n)
		err := write(t, c, d, "a", "x", true, true)
		if !errors.Is(err, ErrCrashed) || !c.Crashed() {
			t.Fatalf("crash at %d: %v", n, err)
		}
		if err := c.Settle(); err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Fatalf("crash at operation %d left %v", n, entries)
		}
	}
}

// A file written at offsets (a segment) keeps what its last Sync covered;
// one whose creation was never made durable is gone; punched holes stay.
func TestCrashFSSegmentFiles(t *testing.T) {
	dir := t.TempDir()
	c := NewCrashFS(Default)
	seg, err := c.OpenRW(filepath.Join(dir, "seg"), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := seg.WriteAt([]byte("entry-one"), 0); err != nil {
		t.Fatal(err)
	}
	if err := seg.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := seg.Punch(0, 4096); err != nil {
		t.Fatal(err)
	}
	if _, err := seg.WriteAt([]byte("not synced"), 9); err != nil {
		t.Fatal(err)
	}
	lost, err := c.OpenRW(filepath.Join(dir, "lost"), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lost.WriteAt([]byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if err := lost.Sync(); err != nil {
		t.Fatal(err)
	}
	c.CrashAt(1)
	if _, err := seg.WriteAt([]byte("late"), 0); !errors.Is(err, ErrCrashed) {
		t.Fatalf("write after the crash: %v", err)
	}
	seg.Close()
	lost.Close()
	if err := c.Settle(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "seg"))
	if err != nil || string(b) != "\x00\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Fatalf("segment after the crash: %q, %v; want the 9 synced bytes, punched to zeros", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lost")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file whose directory was never synced survived: %v", err)
	}
}
