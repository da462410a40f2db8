package disk

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/basaltstore/basalt/internal/vfs"
)

// valueRig is one journaled disk keeping the values under "v/" in
// segments, on a file system that can lose power.
type valueRig struct {
	t     *testing.T
	root  string
	jdir  string
	cfs   *vfs.CrashFS
	d     *Disk
	j     *Journal
	sbyte int64
}

func newValueRig(t *testing.T, segmentBytes int64) *valueRig {
	base := t.TempDir()
	r := &valueRig{t: t, root: filepath.Join(base, "d"), jdir: filepath.Join(base, "journal"), sbyte: segmentBytes}
	r.open()
	t.Cleanup(func() {
		if r.j != nil {
			r.j.Close()
		}
		if r.d != nil {
			r.d.Close()
		}
	})
	return r
}

func (r *valueRig) open() {
	r.t.Helper()
	r.cfs = vfs.NewCrashFS(vfs.Default)
	d, err := Open(r.root, r.cfs, Options{Journaled: true, SegmentValues: []byte("v/"), SegmentBytes: r.sbyte})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := ReplayJournals(r.cfs, []string{r.jdir}, []*Disk{d}, nil); err != nil {
		r.t.Fatal(err)
	}
	j, err := OpenJournal(r.jdir, r.cfs, []*Disk{d}, JournalOptions{CheckpointEvery: time.Hour})
	if err != nil {
		r.t.Fatal(err)
	}
	r.d, r.j = d, j
}

// crash loses power: what was not synced is gone, except the database's
// own writes (CrashFS takes them as durable at once, the worst case here:
// keys pointing at value bytes that never reached the disk). Then the
// disk opens again and replays its journal.
func (r *valueRig) crash() {
	r.t.Helper()
	r.cfs.CrashAt(1)
	halt(r.j, []*Disk{r.d})
	r.d.segs.close()
	if err := r.cfs.Settle(); err != nil {
		r.t.Fatal(err)
	}
	r.j, r.d = nil, nil
	r.open()
}

func value(i int) string {
	return fmt.Sprintf("%05d:", i) + strings.Repeat(string(rune('a'+i%26)), 2100+i*37%3000)
}

func wantValue(t *testing.T, d *Disk, key, v string) {
	t.Helper()
	got, err := d.Get([]byte(key))
	if v == "" {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: got %d bytes, %v; want not found", key, len(got), err)
		}
		return
	}
	if err != nil || string(got) != v {
		t.Fatalf("%s: got %.20q (%d bytes), %v; want %.20q (%d bytes)", key, got, len(got), err, v, len(v))
	}
}

// Values under the prefix, from 2 KiB, go to a segment and read back
// through every way of reading; smaller ones and other keys stay in the
// database; a deleted value's entry is punched.
func TestValuesKeptInSegments(t *testing.T) {
	r := newValueRig(t, 0)
	d := r.d
	big, small := value(1), "short"
	if err := d.Update(func(t Txn) error {
		return errors.Join(t.Set([]byte("v/big"), []byte(big)), t.Set([]byte("v/small"), []byte(small)),
			t.Set([]byte("w/big"), []byte(big)), t.Set([]byte("v/2047"), make([]byte, 2047)),
			t.Set([]byte("v/2048"), make([]byte, 2048)))
	}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"v/big": true, "v/small": false, "w/big": false, "v/2047": false, "v/2048": true} {
		if _, ok, err := d.valueLocation([]byte(key)); err != nil || ok != want {
			t.Fatalf("%s kept in a segment: %v (%v), want %v", key, ok, err, want)
		}
	}
	wantValue(t, d, "v/big", big)
	wantValue(t, d, "v/small", small)
	wantValue(t, d, "w/big", big)
	// An update reads the value back, as does an iterator.
	if err := d.Update(func(tx Txn) error {
		got, err := tx.Get([]byte("v/big"))
		if err != nil || string(got) != big {
			t.Errorf("read in an update: %d bytes, %v", len(got), err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	it, err := d.NewIterator([]byte("v/"), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for ; it.Valid(); it.Next() {
		v, err := it.Value(nil)
		if err != nil {
			t.Fatal(err)
		}
		var viewed []byte
		if err := it.View(func(b []byte) error { viewed = bytes.Clone(b); return nil }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(v, viewed) {
			t.Fatalf("%s: Value and View differ", it.Key())
		}
		seen = append(seen, string(it.Key())+"="+fmt.Sprint(len(v)))
	}
	it.Close()
	if got := strings.Join(seen, " "); got != fmt.Sprintf("v/2047=2047 v/2048=2048 v/big=%d v/small=5", len(big)) {
		t.Fatalf("iterated %s", got)
	}
	// The delete frees the entry's blocks.
	l, _, _ := d.valueLocation([]byte("v/big"))
	if err := d.Update(func(t Txn) error { return t.Delete([]byte("v/big")) }); err != nil {
		t.Fatal(err)
	}
	wantValue(t, d, "v/big", "")
	if _, err := d.readValue([]byte("v/big"), l); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("deleted value's entry still readable: %v", err)
	}
}

// Writing a key again frees the entry of the value it replaces, once the
// batch is committed: a repair that writes an inline shard again leaves
// nothing behind. An update that fails keeps the value it would have
// replaced.
func TestValueWrittenAgainFreesItsEntry(t *testing.T) {
	r := newValueRig(t, 0)
	d := r.d
	set := func(v string) error {
		return d.Update(func(t Txn) error { return t.Set([]byte("v/k"), []byte(v)) })
	}
	first, second := value(1), value(2)
	if err := set(first); err != nil {
		t.Fatal(err)
	}
	l1, ok, err := d.valueLocation([]byte("v/k"))
	if err != nil || !ok {
		t.Fatalf("first value not in a segment: %v", err)
	}
	if err := set(second); err != nil {
		t.Fatal(err)
	}
	wantValue(t, d, "v/k", second)
	if _, err := d.readValue([]byte("v/k"), l1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("replaced value's entry still readable: %v", err)
	}
	l2, _, _ := d.valueLocation([]byte("v/k"))

	// A failed update keeps the value it would have replaced.
	boom := errors.New("boom")
	if err := d.Update(func(t Txn) error {
		if err := t.Set([]byte("v/k"), []byte(value(3))); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failed batch: %v", err)
	}
	wantValue(t, d, "v/k", second)
	if got, err := d.readValue([]byte("v/k"), l2); err != nil || string(got) != second {
		t.Fatalf("value kept after a failed batch: %d bytes, %v", len(got), err)
	}

	// A small value moves the key into the database and frees the entry.
	if err := set("small"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, d, "v/k", "small")
	if _, err := d.readValue([]byte("v/k"), l2); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("entry of a value replaced by a small one still readable: %v", err)
	}
}

// A batch's values are staged: a later update of the same batch reads
// them, a set or delete later in the batch wins, and only the live ones
// are written.
func TestBatchReadsItsStagedValues(t *testing.T) {
	r := newValueRig(t, 0)
	d := r.d
	txn := d.db.NewTransactionAt(math.MaxUint64, true)
	defer txn.Discard()
	a := &applier{d: d, txn: txn}
	read := localTxn{txn, d, a}
	one, two := value(2), value(3)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.Set([]byte("v/a"), []byte(one)))
	must(a.Set([]byte("v/b"), []byte(one)))
	must(a.Set([]byte("v/b"), []byte(two)))
	must(a.Set([]byte("v/c"), []byte(one)))
	must(a.Delete([]byte("v/c")))
	for key, want := range map[string]string{"v/a": one, "v/b": two} {
		if got, err := read.Get([]byte(key)); err != nil || string(got) != want {
			t.Fatalf("%s in the batch: %d bytes, %v", key, len(got), err)
		}
	}
	if _, err := read.Get([]byte("v/c")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted in the batch, read %v", err)
	}
	must(a.flush())
	if len(a.written) != 2 {
		t.Fatalf("%d values written, want 2", len(a.written))
	}
	must(txn.CommitAt(d.ts.Add(1), nil))
	a.done(true)
	wantValue(t, d, "v/a", one)
	wantValue(t, d, "v/b", two)
	wantValue(t, d, "v/c", "")
}

// Acknowledged values survive a power cut wherever it falls relative to
// the checkpoints, deletes stay deleted, and Reclaim then removes the
// segments left without a live value, without touching a live one.
func TestValuesSurviveAPowerCut(t *testing.T) {
	r := newValueRig(t, 256<<10) // small segments: several get sealed
	want := map[string]string{}
	var mu sync.Mutex
	write := func(from, to, gen int) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := from + g; i < to; i += 4 {
					k, v := fmt.Sprintf("v/%04d", i), value(i+gen)
					if err := r.d.Update(func(t Txn) error { return t.Set([]byte(k), []byte(v)) }); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					want[k] = v
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	del := func(keys ...int) {
		for _, i := range keys {
			k := fmt.Sprintf("v/%04d", i)
			if err := r.d.Update(func(t Txn) error { return t.Delete([]byte(k)) }); err != nil {
				t.Fatal(err)
			}
			want[k] = ""
		}
	}
	write(0, 120, 0)
	del(3, 50)
	if err := r.j.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	// Only in the journal from here: the value bytes are lost in the
	// cut, the overwritten values' old entries are not.
	write(10, 20, 1000)
	write(120, 240, 0)
	del(7, 130)
	r.crash()
	check := func() {
		t.Helper()
		for k, v := range want {
			wantValue(t, r.d, k, v)
		}
	}
	check()
	// Writes go on after the replay; a second cut with no checkpoint at
	// all in between.
	write(240, 300, 0)
	del(0, 250)
	r.crash()
	check()
	rec, err := r.d.Reclaim(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Overwrites, deletes and the replays punched their old entries at
	// once; the segments they emptied are Reclaim's to remove.
	if rec.Removed == 0 {
		t.Fatalf("reclaim after the cuts freed %+v: want the emptied segments removed", rec)
	}
	check()
	if err := r.j.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	r.crash()
	check()
}

// A value whose bytes rot is refused as corrupt, not returned.
func TestRottenValueIsRefused(t *testing.T) {
	r := newValueRig(t, 0)
	v := value(4)
	if err := r.d.Update(func(t Txn) error { return t.Set([]byte("v/x"), []byte(v)) }); err != nil {
		t.Fatal(err)
	}
	l, ok, err := r.d.valueLocation([]byte("v/x"))
	if err != nil || !ok {
		t.Fatalf("location: %v %v", ok, err)
	}
	f, err := os.OpenFile(filepath.Join(r.root, segmentsDir, dataSegmentName(l.seq)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("X"), l.off+100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := r.d.Get([]byte("v/x")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("rotten value read: %v, want ErrCorrupt", err)
	}
}
