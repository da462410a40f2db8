package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/basaltstore/basalt/internal/vfs"
)

// journalRig is disks sharing one journal, with a way to lose what their
// databases did not sync, as a power cut would.
type journalRig struct {
	t     *testing.T
	roots []string
	dir   string
	disks []*Disk
	j     *Journal
	snaps []string // copies of each database taken at snapshot
}

func newJournalRig(t *testing.T, n int) *journalRig {
	t.Helper()
	base := t.TempDir()
	r := &journalRig{t: t, dir: filepath.Join(base, "journal")}
	for i := range n {
		r.roots = append(r.roots, filepath.Join(base, fmt.Sprintf("d%d", i)))
	}
	r.open()
	t.Cleanup(func() {
		if r.j != nil {
			r.j.Close()
		}
		for _, d := range r.disks {
			d.Close()
		}
	})
	return r
}

func (r *journalRig) open() {
	r.t.Helper()
	r.disks = nil
	for _, root := range r.roots {
		d, err := Open(root, vfs.Default, Options{Journaled: true})
		if err != nil {
			r.t.Fatal(err)
		}
		r.disks = append(r.disks, d)
	}
	if err := ReplayJournals(vfs.Default, []string{r.dir}, r.disks, nil); err != nil {
		r.t.Fatal(err)
	}
	j, err := OpenJournal(r.dir, vfs.Default, r.disks, JournalOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	r.j = j
}

// snapshot copies each database as it is now: what a power cut from now
// on would leave of it at worst, once its state is synced.
func (r *journalRig) snapshot() {
	r.t.Helper()
	r.snaps = nil
	for _, d := range r.disks {
		if err := d.syncMeta(); err != nil {
			r.t.Fatal(err)
		}
		dst := r.t.TempDir()
		if err := os.CopyFS(dst, os.DirFS(d.metaPath())); err != nil {
			r.t.Fatal(err)
		}
		r.snaps = append(r.snaps, dst)
	}
}

// halt stops the journal without a checkpoint and closes the databases.
func (r *journalRig) halt() {
	halt(r.j, r.disks)
	r.j = nil
}

// halt stops j without a checkpoint and closes its disks' databases, as a
// crash would leave them.
func halt(j *Journal, disks []*Disk) {
	close(j.stop)
	<-j.done
	j.f.Close()
	for _, d := range disks {
		d.journal.Store(nil)
		d.db.Close()
		d.db = nil
	}
}

// cut stops everything without a checkpoint, puts the databases back to
// the snapshot, and opens again: only the journal carries what came after.
func (r *journalRig) cut() {
	r.t.Helper()
	r.halt()
	for i, d := range r.disks {
		if err := os.RemoveAll(d.metaPath()); err != nil {
			r.t.Fatal(err)
		}
		if err := os.CopyFS(d.metaPath(), os.DirFS(r.snaps[i])); err != nil {
			r.t.Fatal(err)
		}
	}
	r.open()
}

func set(t *testing.T, d *Disk, k, v string) {
	t.Helper()
	if err := d.Update(func(tx Txn) error { return tx.Set([]byte(k), []byte(v)) }); err != nil {
		t.Fatal(err)
	}
}

func want(t *testing.T, d *Disk, k, v string) {
	t.Helper()
	got, err := d.Get([]byte(k))
	if v == "" {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: got %q, %v; want not found", k, got, err)
		}
		return
	}
	if err != nil || string(got) != v {
		t.Fatalf("%s: got %q, %v; want %q", k, got, err, v)
	}
}

func TestJournalReplaysWhatTheDatabaseLost(t *testing.T) {
	r := newJournalRig(t, 2)
	a, b := r.disks[0], r.disks[1]
	set(t, a, "k1", "v1")
	set(t, a, "gone", "x")
	if err := r.j.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	r.snapshot()
	set(t, a, "k1", "v2")
	set(t, b, "k2", "b2")
	if err := a.Update(func(tx Txn) error { return tx.Delete([]byte("gone")) }); err != nil {
		t.Fatal(err)
	}
	r.cut()
	a, b = r.disks[0], r.disks[1]
	want(t, a, "k1", "v2")
	want(t, a, "gone", "")
	want(t, b, "k2", "b2")
	want(t, b, "k1", "") // each record goes to its own disk only
	// Replay ends with a checkpoint: the segments are gone, and the state
	// holds without them.
	segs, err := listSegments(vfs.Default, r.dir)
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments after replay: %v, %v (want the one new segment)", segs, err)
	}
}

func TestJournalKeepsEveryAcknowledgedUpdate(t *testing.T) {
	r := newJournalRig(t, 3)
	r.snapshot() // empty databases: everything must come from the journal
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				d := r.disks[(g+i)%len(r.disks)]
				k := fmt.Sprintf("g%d-%d", g, i)
				if err := d.Update(func(tx Txn) error { return tx.Set([]byte(k), []byte(k)) }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	r.cut()
	for g := range 16 {
		for i := range 50 {
			k := fmt.Sprintf("g%d-%d", g, i)
			want(t, r.disks[(g+i)%len(r.disks)], k, k)
		}
	}
}

func TestJournalTornTailIsIgnored(t *testing.T) {
	r := newJournalRig(t, 1)
	r.snapshot()
	set(t, r.disks[0], "a", "1")
	set(t, r.disks[0], "b", "2")
	// A crash in the middle of an append: half a record, and a whole one
	// whose bytes did not all reach the disk.
	p := filepath.Join(r.dir, segmentName(r.j.seg))
	half := encodeRecord(r.disks[0].ID(), []journalOp{{key: []byte("c"), val: []byte("3")}})
	bad := encodeRecord(r.disks[0].ID(), []journalOp{{key: []byte("d"), val: []byte("4")}})
	bad[len(bad)-1] ^= 0xff
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(bad)
	f.Write(half[:len(half)/2])
	f.Close()
	r.cut()
	want(t, r.disks[0], "a", "1")
	want(t, r.disks[0], "b", "2")
	want(t, r.disks[0], "d", "")
	want(t, r.disks[0], "c", "")
}

func TestJournalDropsRecordsOfReplacedDisks(t *testing.T) {
	r := newJournalRig(t, 2)
	r.snapshot()
	set(t, r.disks[0], "k", "old disk")
	set(t, r.disks[1], "k", "kept")
	// Disk 0 is replaced by an empty one (a new identity) before the
	// journal is replayed: its records must not land on the new disk.
	r.halt()
	if err := os.RemoveAll(r.roots[0]); err != nil {
		t.Fatal(err)
	}
	r.open()
	if !r.disks[0].Fresh {
		t.Fatal("replaced disk not fresh")
	}
	want(t, r.disks[0], "k", "")
	want(t, r.disks[1], "k", "kept")
}

func TestJournalFailureRefusesUpdates(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.Default)
	base := t.TempDir()
	d, err := Open(filepath.Join(base, "d"), efs, Options{Journaled: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	jdir := filepath.Join(base, "journal")
	j, err := OpenJournal(jdir, efs, []*Disk{d}, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	set(t, d, "before", "1")
	efs.Inject(vfs.OnPrefix(jdir, vfs.OpSync))
	err = d.Update(func(tx Txn) error { return tx.Set([]byte("during"), []byte("2")) })
	if err == nil {
		t.Fatal("update acknowledged although the journal could not sync")
	}
	want(t, d, "during", "") // not committed, so not visible
	efs.Reset()
	// The segment that failed takes nothing more until a checkpoint
	// starts the next one (the failure asks the journal's loop for one,
	// which may come first).
	seg := func() uint64 {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.seg
	}
	failed := seg()
	err = d.Update(func(tx Txn) error { return tx.Set([]byte("after"), []byte("3")) })
	if err == nil && seg() == failed {
		t.Fatal("update taken into a segment whose tail is unknown")
	}
	if err := j.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	set(t, d, "after", "3")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(func(tx Txn) error { return tx.Set([]byte("late"), []byte("4")) }); !errors.Is(err, ErrJournalClosed) {
		t.Fatalf("update after the journal closed: %v", err)
	}
}

func TestDecodeRecordRefusesGarbage(t *testing.T) {
	good := encodeRecord("disk", []journalOp{{key: []byte("k"), val: []byte("v")}, {key: []byte("x"), del: true}})
	id, ops, err := decodeRecord(good[recordHeader:])
	if err != nil || id != "disk" || len(ops) != 2 || string(ops[0].val) != "v" || !ops[1].del {
		t.Fatalf("round trip: %q %+v %v", id, ops, err)
	}
	body := good[recordHeader:]
	for cut := range len(body) {
		if _, _, err := decodeRecord(body[:cut]); err == nil {
			t.Fatalf("record cut at %d of %d decoded", cut, len(body))
		}
	}
	bad := append([]byte{}, body...)
	bad[0] = 99
	if _, _, err := decodeRecord(bad); err == nil {
		t.Fatal("unknown version decoded")
	}
}

func TestJournalCheckpointSkipsAFailedDisk(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.Default)
	base := t.TempDir()
	var disks []*Disk
	for _, n := range []string{"a", "b"} {
		d, err := Open(filepath.Join(base, n), efs, Options{Journaled: true})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		disks = append(disks, d)
	}
	j, err := OpenJournal(filepath.Join(base, "journal"), efs, disks, JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	set(t, disks[1], "k", "v")
	efs.Inject(vfs.OnPrefix(disks[0].Root()))
	if err := j.Checkpoint(); err == nil {
		t.Fatal("checkpoint with a disk failing every call succeeded while it was in service")
	}
	for range FailAfter {
		disks[0].NoteIO(vfs.ErrInjected)
	}
	if !disks[0].Failed() {
		t.Fatal("disk not failed")
	}
	// Out of service, it no longer holds the others back.
	if err := j.Checkpoint(); err != nil {
		t.Fatalf("checkpoint with the failing disk out of service: %v", err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	want(t, disks[1], "k", "v")
}

// A shard's location is recorded without a sync of its own: the journal
// record of the next update of its disk carries it. A record naming the
// shard is always such an update, so a shard any record names survives a
// power cut, and so does its removal.
func TestJournalCarriesTheShardIndex(t *testing.T) {
	r := newJournalRig(t, 2)
	a := r.disks[0]
	commit(t, a, "ff00", "before")
	if err := r.j.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	r.snapshot()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				id := fmt.Sprintf("ff%02x%02x", g, i)
				commit(t, a, id, id)
				set(t, a, "rec-"+id, id)
			}
		})
	}
	wg.Wait()
	if err := a.RemoveShard("ff00"); err != nil {
		t.Fatal(err)
	}
	set(t, a, "rec-ff00", "")
	r.cut()
	a = r.disks[0]
	for g := range 8 {
		for i := range 10 {
			id := fmt.Sprintf("ff%02x%02x", g, i)
			want(t, a, "rec-"+id, id)
			wantShard(t, a, id, id)
		}
	}
	if _, err := a.OpenShard("ff00"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed shard back after the cut: %v", err)
	}
}
