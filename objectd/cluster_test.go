package objectd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/basaltstore/basalt/internal/vfs"
	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/ring"
)

// namedVolume stands for a disk in placement logic that only compares
// volumes; none of its methods is called.
type namedVolume struct {
	disk.Volume
	name string
}

func TestAlignSlots(t *testing.T) {
	a, b, c, d := &namedVolume{name: "a"}, &namedVolume{name: "b"}, &namedVolume{name: "c"}, &namedVolume{name: "d"}
	rec := func(idx int, mod int64) *record { return &record{VersionID: "v", ShardIndex: idx, ModTime: mod} }
	for _, tc := range []struct {
		name string
		set  []disk.Volume
		recs []*record
		want []disk.Volume // disk at each slot after alignment
		none []int         // slots left holding nothing that counts
	}{
		{"aligned stays", []disk.Volume{a, b, c, d}, []*record{rec(0, 1), rec(1, 1), rec(2, 1), rec(3, 1)}, []disk.Volume{a, b, c, d}, nil},
		{"swapped slots", []disk.Volume{a, b, c, d}, []*record{rec(1, 1), rec(0, 1), rec(2, 1), rec(3, 1)}, []disk.Volume{b, a, c, d}, nil},
		{"rotated, one missing", []disk.Volume{a, b, c, d}, []*record{rec(1, 1), rec(2, 1), nil, rec(0, 1)}, []disk.Volume{d, a, b, c}, nil},
		{"contested slot: newer wins", []disk.Volume{a, b, c, d}, []*record{rec(1, 5), rec(1, 9), rec(2, 1), rec(3, 1)}, []disk.Volume{a, b, c, d}, []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := make([]error, len(tc.set))
			set, recs, errs := alignSlots(tc.set, tc.recs, errs)
			for j := range set {
				if set[j] != tc.want[j] {
					t.Fatalf("slot %d holds %s, want %s", j, set[j].(*namedVolume).name, tc.want[j].(*namedVolume).name)
				}
				if recs[j] != nil && recs[j].ShardIndex != j {
					t.Fatalf("slot %d has the record of shard %d", j, recs[j].ShardIndex)
				}
			}
			for _, j := range tc.none {
				if recs[j] != nil || !errors.Is(errs[j], errHandoffEmpty) {
					t.Fatalf("slot %d: record %v, err %v; want nothing that counts", j, recs[j], errs[j])
				}
			}
		})
	}
}

// ringedStore opens a store of six disks laid out as a ring of three
// nodes of two disks each, with a 2+2 policy "ec"; byID gives the store's
// disk index of each ring disk.
func ringedStore(t *testing.T) (*testStore, *ring.Map, *ring.Ring, map[ring.DiskID]int) {
	t.Helper()
	ts := openTestStore(t, 6, 2, 2)
	m := &ring.Map{}
	var err error
	for n := 1; n <= 3; n++ {
		node := ring.NodeID(fmt.Sprintf("n%d", n))
		if m, err = ring.Apply(m, ring.AddNode{ID: node, Zone: "z"}); err != nil {
			t.Fatal(err)
		}
		for d := 1; d <= 2; d++ {
			if m, err = ring.Apply(m, ring.AddDisk{ID: ring.DiskID(fmt.Sprintf("%sd%d", node, d)), Node: node, Weight: 100}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if m, err = ring.Apply(m, ring.AddPolicy{Policy: ring.Policy{Name: "ec", K: 2, M: 2, Power: 4}}); err != nil {
		t.Fatal(err)
	}
	rg := setRing(t, ts, nil, m)
	byID := map[ring.DiskID]int{}
	for i, d := range m.Disks {
		byID[d.ID] = i
	}
	return ts, m, rg, byID
}

// placement returns the store disk indexes of key's primaries, in slot
// order, and of its first two hand-offs.
func placement(t *testing.T, rg *ring.Ring, byID map[ring.DiskID]int, key string) (prim, hand []int) {
	t.Helper()
	pl, err := rg.Locate("ec", "bkt", key)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range pl.Disks {
		prim = append(prim, byID[id])
	}
	for _, id := range pl.Handoffs[:2] {
		hand = append(hand, byID[id])
	}
	return prim, hand
}

// takeOutOfService records enough I/O errors on disk i for the store to
// take it out of service.
func takeOutOfService(ts *testStore, i int) {
	for range disk.FailAfter {
		ts.disks[i].(*disk.Disk).NoteIO(errors.New("failing"))
	}
}

// reinstate returns disks to service.
func reinstate(ts *testStore, disks ...int) {
	for _, i := range disks {
		ts.disks[i].Reinstate()
	}
}

// setRing builds the ring of m (after prev) and lays the store out by it.
func setRing(t *testing.T, ts *testStore, prev *ring.Ring, m *ring.Map) *ring.Ring {
	t.Helper()
	rg, err := ring.Build(prev, m)
	if err != nil {
		t.Fatal(err)
	}
	vols := map[ring.DiskID]disk.Volume{}
	for i, d := range m.Disks {
		vols[d.ID] = ts.disks[i]
	}
	if err := ts.SetLayout(&Layout{Ring: rg, Policy: "ec", Volumes: vols}); err != nil {
		t.Fatal(err)
	}
	return rg
}

// TestCutOffReaderSeesNoStaleVersion lays one store's six disks out as a
// ring of three nodes of two disks (2+2) and plays both sides of a
// network cut on one key. The majority side, which sees two of the key's
// primaries down, overwrites it onto the other two primaries and two
// hand-offs (acknowledged: three slots). The cut-off side, which has not
// yet noticed the cut, sees only those two primaries, holding the old
// version (k records: readable by count), while the primaries and
// hand-offs that took the new one do not answer. It must refuse the read
// (ErrReadQuorum), not serve the old version; once they answer, the new
// version reads back.
func TestCutOffReaderSeesNoStaleVersion(t *testing.T) {
	ts, _, rg, byID := ringedStore(t)
	prim, hand := placement(t, rg, byID, "k")
	ts.put(t, "k", randBytes(1, 40<<10))

	// The majority side: primaries 2 and 3 are down (taken out of
	// service), so the overwrite goes to primaries 0, 1 and the hand-offs.
	for _, i := range prim[2:] {
		takeOutOfService(ts, i)
	}
	v2 := randBytes(2, 40<<10)
	ts.put(t, "k", v2)
	reinstate(ts, prim[2:]...)

	// The cut-off side: primaries 0, 1 and the hand-offs do not answer
	// (not yet taken out of service).
	for _, i := range append(prim[:2:2], hand...) {
		ts.efs.Inject(vfs.OnPrefix(ts.dirs[i]))
	}
	if got, err := ts.get(t, "k", 0, -1); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("read on the cut-off side: %d bytes, %v; want ErrReadQuorum", len(got), err)
	}
	if _, err := ts.HeadObject(context.Background(), "bkt", "k"); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("head on the cut-off side: %v; want ErrReadQuorum", err)
	}
	ts.efs.Reset()
	for _, d := range ts.disks {
		d.(*disk.Disk).Reinstate()
	}
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("read once every disk answers: %v", err)
	}
}

// TestFailedDiskCountsAsSilent writes a version to three of a key's four
// primaries (the fourth failing), then takes the first out of the ring
// (failed: a new ring puts an empty disk in its slot) while the second
// does not answer. One record of the version is in sight, one is on the
// failed disk, one on the silent disk: it may be (it is) acknowledged, so
// a read and a listing refuse (ErrReadQuorum) rather than answer with no
// such key, and the version reads back once the silent disk answers.
func TestFailedDiskCountsAsSilent(t *testing.T) {
	ts, m, rg, byID := ringedStore(t)
	ctx := context.Background()
	prim, _ := placement(t, rg, byID, "k")
	ts.put(t, "k", randBytes(1, 40<<10))
	ts.efs.Inject(vfs.OnPrefix(ts.dirs[prim[3]]))
	v2 := randBytes(2, 40<<10)
	ts.put(t, "k", v2)
	ts.efs.Reset()
	reinstate(ts, prim[3])

	// The first primary fails: out of the ring, out of service.
	m, err := ring.Apply(m, ring.FailDisk{Disk: m.Disks[prim[0]].ID})
	if err != nil {
		t.Fatal(err)
	}
	takeOutOfService(ts, prim[0])
	setRing(t, ts, rg, m)
	// The second does not answer.
	ts.efs.Inject(vfs.OnPrefix(ts.dirs[prim[1]]))
	if got, err := ts.get(t, "k", 0, -1); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("read with one record in sight: %d bytes, %v; want ErrReadQuorum", len(got), err)
	}
	if res, err := ts.ListObjects(ctx, "bkt", ListOptions{}); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("list with one record in sight: %v %v; want ErrReadQuorum", res.Objects, err)
	}
	ts.efs.Reset()
	reinstate(ts, prim[1])
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("read once the silent disk answers: %v", err)
	}
}

// TestHealKeepsNewerVersionOnHandoffs overwrites a key while three of its
// four primaries are down: the new version goes to the one primary up and
// to two hand-offs (three slots, acknowledged), and the other primaries
// keep the old one. Once they are back, the key's primaries hold the old
// version on k disks and the new one on one: a heal must take the new
// version from the hand-offs, as a read does, and never write the old
// version over the new one.
func TestHealKeepsNewerVersionOnHandoffs(t *testing.T) {
	ts, _, rg, byID := ringedStore(t)
	prim, _ := placement(t, rg, byID, "k")
	ts.put(t, "k", randBytes(1, 40<<10))
	for _, i := range prim[1:] {
		takeOutOfService(ts, i)
	}
	v2 := randBytes(2, 40<<10)
	ts.put(t, "k", v2)
	reinstate(ts, prim[1:]...)
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("read before the heal: %d bytes, %v; want the new version", len(got), err)
	}
	if err := ts.HealObject("bkt", "k"); err != nil {
		t.Fatalf("heal: %v", err)
	}
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("read after the heal: %d bytes, %v; want the new version", len(got), err)
	}
	// The heal made the primary that was down and is no hand-off's slot
	// whole with the new version.
	want, err := ts.readRecord(ts.disks[prim[0]], objectKey("bkt", "k"))
	if err != nil || want == nil {
		t.Fatalf("record on the primary that took the write: %v, %v", want, err)
	}
	got, err := ts.readRecord(ts.disks[prim[3]], objectKey("bkt", "k"))
	if err != nil || got == nil || got.VersionID != want.VersionID {
		t.Errorf("last primary after the heal: %+v, %v; want version %s", got, err, want.VersionID)
	}
}

// partWhileDown uploads part n of upload id of "mp" while the disks down
// are out of service (its shards go to hand-offs in their place), then
// puts them back.
func partWhileDown(t *testing.T, ts *testStore, id string, n int, data []byte, down []int) PartInfo {
	t.Helper()
	for _, i := range down {
		takeOutOfService(ts, i)
	}
	defer reinstate(ts, down...)
	pi, err := ts.PutObjectPart(context.Background(), "bkt", "mp", id, n, bytes.NewReader(data), int64(len(data)), PutOptions{})
	if err != nil {
		t.Fatalf("part %d with disks %v down: %v", n, down, err)
	}
	return pi
}

// TestUploadSpanningAnOutageCompletes uploads the first part of a
// multipart upload while two of the key's primaries are down (its shards
// go to the hand-offs in their place) and the second once they are back
// (to the primaries). No disk of those two slots then holds both parts;
// completing must still succeed, with the object readable from its
// primaries alone, and leave no part data on the hand-offs.
func TestUploadSpanningAnOutageCompletes(t *testing.T) {
	ts, _, rg, byID := ringedStore(t)
	ctx := context.Background()
	prim, hand := placement(t, rg, byID, "mp")
	id, err := ts.NewMultipartUpload(ctx, "bkt", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randBytes(1, MinPartSize), randBytes(2, 300<<10)
	pi1 := partWhileDown(t, ts, id, 1, p1, prim[2:])
	pi2, err := ts.PutObjectPart(ctx, "bkt", "mp", id, 2, bytes.NewReader(p2), int64(len(p2)), PutOptions{})
	if err != nil {
		t.Fatalf("part 2: %v", err)
	}
	lp, err := ts.ListParts(ctx, "bkt", "mp", id, 0, 0)
	if err != nil || len(lp.Parts) != 2 {
		t.Fatalf("list parts: %+v, %v; want both parts", lp.Parts, err)
	}
	if _, err := ts.CompleteMultipartUpload(ctx, "bkt", "mp", id, []CompletePart{{Number: 1, ETag: pi1.ETag}, {Number: 2, ETag: pi2.ETag}}, PutOptions{}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	// The hand-offs do not answer: the primaries alone hold the object.
	for _, i := range hand {
		ts.efs.Inject(vfs.OnPrefix(ts.dirs[i]))
	}
	want := append(slices.Clone(p1), p2...)
	if got, err := ts.get(t, "mp", 0, -1); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read from the primaries: %d bytes, %v; want %d", len(got), err, len(want))
	}
	ts.efs.Reset()
	for _, i := range hand {
		reinstate(ts, i)
		if n := len(shardExtents(t, ts.dirs[i])); n != 0 {
			t.Errorf("hand-off %d keeps %d shards after the completion", i, n)
		}
	}
}

// TestPartUploadedAgainLeavesNothingOnHandoffs uploads a part while two
// of the key's primaries are down (its shards and records go to the
// hand-offs in their place), then the same part again once they are
// back: the replaced part's data and records go from the hand-offs too,
// at once, and the upload completes with the new part.
func TestPartUploadedAgainLeavesNothingOnHandoffs(t *testing.T) {
	ts, _, rg, byID := ringedStore(t)
	ctx := context.Background()
	prim, hand := placement(t, rg, byID, "mp")
	id, err := ts.NewMultipartUpload(ctx, "bkt", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	partWhileDown(t, ts, id, 1, randBytes(1, 300<<10), prim[2:])
	onHandoffs := 0
	for _, i := range hand {
		onHandoffs += len(shardExtents(t, ts.dirs[i]))
	}
	if onHandoffs == 0 {
		t.Fatal("no shard of the part on the hand-offs: the test does not test anything")
	}
	p1 := randBytes(2, 300<<10)
	pi, err := ts.PutObjectPart(ctx, "bkt", "mp", id, 1, bytes.NewReader(p1), int64(len(p1)), PutOptions{})
	if err != nil {
		t.Fatalf("part uploaded again: %v", err)
	}
	for _, i := range hand {
		if n := len(shardExtents(t, ts.dirs[i])); n != 0 {
			t.Errorf("hand-off %d keeps %d shards of the replaced part", i, n)
		}
		if rec, err := ts.readRecord(ts.disks[i], partKey(id, 1)); rec != nil {
			t.Errorf("hand-off %d keeps the replaced part's record (%v)", i, err)
		}
	}
	if _, err := ts.CompleteMultipartUpload(ctx, "bkt", "mp", id, []CompletePart{{Number: 1, ETag: pi.ETag}}, PutOptions{}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if got, err := ts.get(t, "mp", 0, -1); err != nil || !bytes.Equal(got, p1) {
		t.Fatalf("read: %d bytes, %v; want the part uploaded again", len(got), err)
	}
}

// TestDownHandoffCountsAsSilent overwrites a key while one primary is
// down and another fails the write: the new version goes to two primaries
// and the first hand-off (three slots, acknowledged). A reader that then
// sees that hand-off down, and another primary down too (its stand-in,
// the second hand-off, holds nothing), finds the old version on two
// primaries and the new one on one. The hand-off it did not ask may hold
// the rest of the new version: the read must refuse (ErrReadQuorum), not
// serve the old version; once the disks are back, the new one reads.
func TestDownHandoffCountsAsSilent(t *testing.T) {
	ts, _, rg, byID := ringedStore(t)
	prim, hand := placement(t, rg, byID, "k")
	ts.put(t, "k", randBytes(1, 40<<10))
	takeOutOfService(ts, prim[3])
	ts.efs.Inject(vfs.OnPrefix(ts.dirs[prim[1]]))
	v2 := randBytes(2, 40<<10)
	ts.put(t, "k", v2)
	ts.efs.Reset()
	reinstate(ts, prim[1], prim[3])

	// The reader's view: the first hand-off and the third primary down.
	takeOutOfService(ts, hand[0])
	takeOutOfService(ts, prim[2])
	if got, err := ts.get(t, "k", 0, -1); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("read with the hand-off that took the write down: %d bytes (new version: %v), %v; want ErrReadQuorum",
			len(got), bytes.Equal(got, v2), err)
	}
	reinstate(ts, hand[0], prim[2])
	if got, err := ts.get(t, "k", 0, -1); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("read once every disk answers: %v", err)
	}
}

// seenDown is a disk of another node that this node sees down (its node
// restarted, and no health probe has reached it since) until it is asked
// again: it answers the probe (Healthy) and comes back on Reinstate.
type seenDown struct {
	disk.Volume
	down atomic.Bool
}

func (d *seenDown) Failed() bool { return d.down.Load() || d.Volume.Failed() }
func (d *seenDown) Reinstate() {
	d.down.Store(false)
	d.Volume.Reinstate()
}

// TestListingAsksNodesSeenDownAgain lists a ring of three nodes while
// one disk of node 2 is out of service and both disks of node 3 look
// down, though node 3 is back: three disks of six missing, more than m.
// The listing asks node 3 again before it refuses, and lists everything.
func TestListingAsksNodesSeenDownAgain(t *testing.T) {
	ts, m, rg, _ := ringedStore(t)
	ctx := context.Background()
	for i := range 8 {
		ts.put(t, fmt.Sprintf("k%d", i), randBytes(uint64(i), 1<<10))
	}
	vols := map[ring.DiskID]disk.Volume{}
	var node3 []*seenDown
	for i, d := range m.Disks {
		vols[d.ID] = ts.disks[i]
		if d.Node == "n3" {
			sd := &seenDown{Volume: ts.disks[i]}
			sd.down.Store(true)
			node3 = append(node3, sd)
			vols[d.ID] = sd
		}
	}
	if err := ts.SetLayout(&Layout{Ring: rg, Policy: "ec", Volumes: vols}); err != nil {
		t.Fatal(err)
	}
	takeOutOfService(ts, 2) // n2's first disk
	res, err := ts.ListObjects(ctx, "bkt", ListOptions{})
	if err != nil || len(res.Objects) != 8 {
		t.Fatalf("listing with node 3 seen down: %d objects, %v; want 8", len(res.Objects), err)
	}
	for _, d := range node3 {
		if d.Failed() {
			t.Errorf("%s still seen down after the listing", d.Root())
		}
	}
}

// TestReadAsksNodesSeenDownAgain reads an object two of whose four disks
// are node 3's, which looks down though it is back, while a third disk
// of its set is out of service: one record answers, too few to tell
// whether a newer version was acknowledged. The read asks node 3 again
// before it refuses, and serves the object.
func TestReadAsksNodesSeenDownAgain(t *testing.T) {
	ts, m, rg, byID := ringedStore(t)
	var key string
	var prim []int
	for i := 0; key == ""; i++ {
		k := fmt.Sprintf("k%d", i)
		p, _ := placement(t, rg, byID, k)
		on3 := 0
		for _, j := range p {
			if m.Disks[j].Node == "n3" {
				on3++
			}
		}
		if on3 == 2 {
			key, prim = k, p
		}
	}
	data := randBytes(9, 100<<10)
	ts.put(t, key, data)
	vols := map[ring.DiskID]disk.Volume{}
	for i, d := range m.Disks {
		vols[d.ID] = ts.disks[i]
		if d.Node == "n3" {
			sd := &seenDown{Volume: ts.disks[i]}
			sd.down.Store(true)
			vols[d.ID] = sd
		}
	}
	if err := ts.SetLayout(&Layout{Ring: rg, Policy: "ec", Volumes: vols}); err != nil {
		t.Fatal(err)
	}
	for _, j := range prim {
		if m.Disks[j].Node != "n3" {
			takeOutOfService(ts, j)
			break
		}
	}
	if got, err := ts.get(t, key, 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with node 3 seen down: %d bytes, %v; want the %d written", len(got), err, len(data))
	}
}
