package raftmap

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func openTestStore(t *testing.T, dir string) *store {
	t.Helper()
	s, err := openStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mkLog(i uint64) *raft.Log {
	l := &raft.Log{Index: i, Term: i/10 + 1, Type: raft.LogCommand, Data: []byte{byte(i), byte(i >> 8), 'x'}}
	if i%3 == 0 {
		l.Extensions = []byte("ext")
		l.AppendedAt = time.Unix(1700000000, int64(i)).UTC()
	}
	if i%5 == 0 {
		l.Type, l.Data = raft.LogNoop, nil
	}
	return l
}

func edges(t *testing.T, s raft.LogStore) (uint64, uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	return f, l
}

func TestLogStoreContract(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	defer s.Close()
	if f, l := edges(t, s); f != 0 || l != 0 {
		t.Fatalf("empty store: first %d last %d", f, l)
	}
	var got raft.Log
	if err := s.GetLog(1, &got); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog on empty: %v", err)
	}
	// Indices across byte boundaries: big-endian keys keep them ordered.
	idx := []uint64{1, 2, 255, 256, 257, 65535, 65536, 1 << 40}
	for _, i := range idx[:2] {
		if err := s.StoreLog(mkLog(i)); err != nil {
			t.Fatal(err)
		}
	}
	var batch []*raft.Log
	for _, i := range idx[2:] {
		batch = append(batch, mkLog(i))
	}
	if err := s.StoreLogs(batch); err != nil {
		t.Fatal(err)
	}
	if f, l := edges(t, s); f != 1 || l != 1<<40 {
		t.Fatalf("first %d last %d", f, l)
	}
	for _, i := range idx {
		if err := s.GetLog(i, &got); err != nil {
			t.Fatalf("GetLog %d: %v", i, err)
		}
		if want := mkLog(i); !reflect.DeepEqual(&got, want) {
			t.Fatalf("GetLog %d = %+v, want %+v", i, got, *want)
		}
	}
	// DeleteRange is inclusive at both ends.
	if err := s.DeleteRange(1, 255); err != nil {
		t.Fatal(err)
	}
	if f, l := edges(t, s); f != 256 || l != 1<<40 {
		t.Fatalf("after delete: first %d last %d", f, l)
	}
	for _, i := range []uint64{1, 2, 255} {
		if err := s.GetLog(i, &got); !errors.Is(err, raft.ErrLogNotFound) {
			t.Fatalf("GetLog %d after delete: %v", i, err)
		}
	}
	if err := s.DeleteRange(65536, 1<<40); err != nil {
		t.Fatal(err)
	}
	if f, l := edges(t, s); f != 256 || l != 65535 {
		t.Fatalf("after tail delete: first %d last %d", f, l)
	}
	// Overwrite (a follower replacing a conflicting suffix).
	over := mkLog(257)
	over.Term, over.Data = 99, []byte("new")
	if err := s.StoreLog(over); err != nil {
		t.Fatal(err)
	}
	if err := s.GetLog(257, &got); err != nil || got.Term != 99 || string(got.Data) != "new" {
		t.Fatalf("overwrite: %+v %v", got, err)
	}
}

func TestStableStoreContract(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	if v, err := s.Get([]byte("missing")); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Get missing = %q, %v; want empty, nil", v, err)
	}
	if v, err := s.GetUint64([]byte("missing")); err != nil || v != 0 {
		t.Fatalf("GetUint64 missing = %d, %v", v, err)
	}
	if err := s.Set([]byte("k"), []byte("value")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 1<<33+7); err != nil {
		t.Fatal(err)
	}
	// A stable key that looks like a log key does not show as a log.
	if err := s.Set(logKey(5), []byte("not a log")); err != nil {
		t.Fatal(err)
	}
	if f, l := edges(t, s); f != 0 || l != 0 {
		t.Fatalf("stable key seen as log: first %d last %d", f, l)
	}
	if err := s.Set([]byte("k"), []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUint64([]byte("k")); !errors.Is(err, ErrStore) {
		t.Fatalf("GetUint64 of a 2-byte value: %v", err)
	}
	if err := s.StoreLog(mkLog(7)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Everything survives a reopen.
	s = openTestStore(t, dir)
	defer s.Close()
	if v, err := s.Get([]byte("k")); err != nil || string(v) != "v2" {
		t.Fatalf("Get after reopen = %q, %v", v, err)
	}
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 1<<33+7 {
		t.Fatalf("GetUint64 after reopen = %d, %v", v, err)
	}
	var got raft.Log
	if err := s.GetLog(7, &got); err != nil || !reflect.DeepEqual(&got, mkLog(7)) {
		t.Fatalf("GetLog after reopen = %+v, %v", got, err)
	}
}

// TestLogStoreModel runs random operations against the store and raft's
// in-memory store and compares them after each.
func TestLogStoreModel(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	defer s.Close()
	model := raft.NewInmemStore()
	rng := rand.New(rand.NewPCG(1, 2))
	next := uint64(1)
	for step := 0; step < 300; step++ {
		switch op := rng.IntN(10); {
		case op < 6: // append a batch
			var batch []*raft.Log
			for range rng.IntN(8) + 1 {
				batch = append(batch, mkLog(next))
				next++
			}
			if err := s.StoreLogs(batch); err != nil {
				t.Fatal(err)
			}
			_ = model.StoreLogs(batch)
		case op < 8: // compact a prefix
			first, _ := model.FirstIndex()
			if first == 0 {
				continue
			}
			lo, hi := first, first+uint64(rng.IntN(5))
			if err := s.DeleteRange(lo, hi); err != nil {
				t.Fatal(err)
			}
			_ = model.DeleteRange(lo, hi)
		default: // truncate a suffix
			last, _ := model.LastIndex()
			if last < 3 {
				continue
			}
			lo := last - uint64(rng.IntN(3))
			if err := s.DeleteRange(lo, last); err != nil {
				t.Fatal(err)
			}
			_ = model.DeleteRange(lo, last)
			next = lo
		}
		mf, ml := edges(t, model)
		sf, sl := edges(t, s)
		if mf > ml { // the model keeps stale edges once empty
			mf, ml = 0, 0
		}
		if sf != mf || sl != ml {
			t.Fatalf("step %d: store first/last %d/%d, model %d/%d", step, sf, sl, mf, ml)
		}
		for i := sf; i <= sl && i != 0; i++ {
			var a, b raft.Log
			errA, errB := s.GetLog(i, &a), model.GetLog(i, &b)
			if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
				t.Fatalf("step %d: log %d: store %+v %v, model %+v %v", step, i, a, errA, b, errB)
			}
		}
	}
}

func TestLogEncodingRejectsGarbage(t *testing.T) {
	good := encodeLog(mkLog(3))
	var l raft.Log
	if err := decodeLog(good, &l); err != nil {
		t.Fatal(err)
	}
	for i := range good {
		if err := decodeLog(good[:i], &l); err == nil {
			t.Fatalf("truncated to %d bytes: decoded", i)
		}
	}
	if err := decodeLog(append(bytes.Clone(good), 0), &l); err == nil {
		t.Fatal("trailing byte: decoded")
	}
}
