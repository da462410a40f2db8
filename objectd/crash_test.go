package objectd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/basaltstore/basalt/internal/vfs"
)

// Crash consistency: a machine that stops at any point of a PUT, a
// multipart completion or a DELETE (between any two writes, fsyncs,
// renames and metadata updates, as vfs.CrashFS simulates it) comes back
// with the object as it was before or as the operation left it, whole:
// never partial, never unreadable; and an operation that was acknowledged
// is there.

type crashScenario struct {
	name string
	// before runs without a crash; op is the operation crashed into.
	before func(s *Store) error
	op     func(s *Store) error
	// states are the acceptable contents of key "k" after a restart
	// (nil: no such key); the first is the one an acknowledged op leaves.
	states [][]byte
}

func crashStore(t *testing.T, dirs []string, fsys vfs.FS) *Store {
	t.Helper()
	s, err := Open(Config{Disks: dirs, DataShards: 2, ParityShards: 2, FS: fsys, BlockSize: 64 << 10,
		InlineThreshold: 16 << 10, ScrubInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCrashConsistency(t *testing.T) {
	ctx := context.Background()
	// One stripe of 64 KiB blocks at 2+2 each: shard files, not inline.
	old, big, small := randBytes(1, 100<<10), randBytes(2, 120<<10+7), []byte("small and inline")
	// Inline, with shards large enough for the disks to keep them in
	// segment files rather than in their databases.
	seg, seg2 := randBytes(5, 6000), randBytes(6, 5000)
	put := func(data []byte, mode Versioning) func(s *Store) error {
		return func(s *Store) error {
			_, err := s.PutObject(ctx, "bkt", "k", bytes.NewReader(data), int64(len(data)), PutOptions{Versioning: mode})
			return err
		}
	}
	part1, part2 := randBytes(3, MinPartSize), randBytes(4, 1000)
	var uploadID string
	var etags [2]string
	scenarios := []crashScenario{
		{name: "put large over large", before: put(old, Unversioned), op: put(big, Unversioned), states: [][]byte{big, old}},
		{name: "put inline over large", before: put(old, Unversioned), op: put(small, Unversioned), states: [][]byte{small, old}},
		{name: "put new key", op: put(small, Unversioned), states: [][]byte{small, nil}},
		{name: "put inline in segments over inline", before: put(seg, Unversioned), op: put(seg2, Unversioned), states: [][]byte{seg2, seg}},
		{name: "delete inline in segments", before: put(seg, Unversioned), op: func(s *Store) error { return s.DeleteObject(ctx, "bkt", "k") }, states: [][]byte{nil, seg}},
		{name: "delete", before: put(old, Unversioned), op: func(s *Store) error { return s.DeleteObject(ctx, "bkt", "k") }, states: [][]byte{nil, old}},
		{name: "versioned put", before: put(old, VersioningEnabled), op: put(big, VersioningEnabled), states: [][]byte{big, old}},
		{name: "complete multipart", before: func(s *Store) error {
			if err := put(old, Unversioned)(s); err != nil {
				return err
			}
			id, err := s.NewMultipartUpload(ctx, "bkt", "k", PutOptions{})
			if err != nil {
				return err
			}
			uploadID = id
			for i, p := range [][]byte{part1, part2} {
				pi, err := s.PutObjectPart(ctx, "bkt", "k", id, i+1, bytes.NewReader(p), int64(len(p)), PutOptions{})
				if err != nil {
					return err
				}
				etags[i] = pi.ETag
			}
			return nil
		}, op: func(s *Store) error {
			_, err := s.CompleteMultipartUpload(ctx, "bkt", "k", uploadID, []CompletePart{{Number: 1, ETag: etags[0]}, {Number: 2, ETag: etags[1]}}, PutOptions{})
			return err
		}, states: [][]byte{append(append([]byte(nil), part1...), part2...), old}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			for n := 1; ; n++ {
				root := t.TempDir()
				var dirs []string
				for i := 1; i <= 4; i++ {
					dirs = append(dirs, filepath.Join(root, fmt.Sprintf("disk%d", i)))
				}
				cfs := vfs.NewCrashFS(vfs.Default)
				s := crashStore(t, dirs, cfs)
				if err := s.MakeBucket(ctx, "bkt"); err != nil {
					t.Fatal(err)
				}
				if sc.before != nil {
					if err := sc.before(s); err != nil {
						t.Fatal(err)
					}
				}
				cfs.CrashAt(n)
				err := sc.op(s)
				crashed := cfs.Crashed()
				_ = s.Close()
				if err := cfs.Settle(); err != nil {
					t.Fatal(err)
				}
				s2 := crashStore(t, dirs, vfs.Default)
				got, gerr := readAll(t, s2, "k")
				ok := false
				for i, st := range sc.states {
					if err == nil && i > 0 {
						break // acknowledged: only the new state will do
					}
					if st == nil && errors.Is(gerr, ErrNoSuchKey) || st != nil && gerr == nil && bytes.Equal(got, st) {
						ok = true
					}
				}
				if !ok {
					t.Fatalf("crash at operation %d (op error %v): read %d bytes, %v", n, err, len(got), gerr)
				}
				res, lerr := s2.ListObjects(ctx, "bkt", ListOptions{})
				if lerr != nil || (len(res.Objects) == 1) != (gerr == nil) {
					t.Fatalf("crash at operation %d: listing %+v %v disagrees with GET %v", n, res.Objects, lerr, gerr)
				}
				s2.Close()
				if !crashed {
					if n == 1 {
						t.Fatal("the operation wrote nothing")
					}
					t.Logf("%d crash points", n-1)
					return // the operation ran to its end before operation n
				}
			}
		})
	}
}
