package ring

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

const stepDuration = 250 * time.Millisecond

// fakeClock returns a clock that moves stepDuration at every reading.
func fakeClock() func() time.Time {
	now := time.Unix(0, 0)
	return func() time.Time {
		now = now.Add(stepDuration)
		return now
	}
}

// cluster returns a map of zones x nodes x disks (weight w), ids z1, z1n1,
// z1n1d1, with the given policies added through Apply.
func cluster(t testing.TB, zones, nodes, disks int, w uint32, pols ...Policy) *Map {
	t.Helper()
	m := &Map{}
	var err error
	for z := 1; z <= zones; z++ {
		for n := 1; n <= nodes; n++ {
			node := NodeID(fmt.Sprintf("z%dn%d", z, n))
			if m, err = Apply(m, AddNode{ID: node, Zone: fmt.Sprintf("z%d", z)}); err != nil {
				t.Fatal(err)
			}
			for d := 1; d <= disks; d++ {
				if m, err = Apply(m, AddDisk{ID: DiskID(fmt.Sprintf("%sd%d", node, d)), Node: node, Weight: w}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, p := range pols {
		if m, err = Apply(m, AddPolicy{Policy: p}); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func mustApply(t testing.TB, m *Map, cmds ...Command) *Map {
	t.Helper()
	for _, c := range cmds {
		var err error
		if m, err = Apply(m, c); err != nil {
			t.Fatalf("%s: %v", c.Op(), err)
		}
	}
	return m
}

func mustBuild(t testing.TB, prev *Ring, m *Map) *Ring {
	t.Helper()
	r, err := Build(prev, m)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ringBytes(t testing.TB, r *Ring) []byte {
	t.Helper()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomMap is a random cluster: 1-2 regions, 1-7 zones, 1-5 nodes per
// zone, 1-5 disks per node, weights from a small set, and one or two
// policies that fit.
func randomMap(t testing.TB, rng *rand.Rand) *Map {
	t.Helper()
	m := &Map{}
	regions := 1 + rng.IntN(2)
	zones := 1 + rng.IntN(7)
	weights := []uint32{50, 100, 100, 100, 200, 400}
	for z := 0; z < zones; z++ {
		region := ""
		if regions > 1 {
			region = fmt.Sprintf("r%d", z%regions)
		}
		for n := 0; n < 1+rng.IntN(5); n++ {
			node := NodeID(fmt.Sprintf("z%dn%d", z, n))
			m = mustApply(t, m, AddNode{ID: node, Zone: fmt.Sprintf("z%d", z), Region: region})
			for d := 0; d < 1+rng.IntN(5); d++ {
				m = mustApply(t, m, AddDisk{ID: DiskID(fmt.Sprintf("%sd%d", node, d)), Node: node, Weight: weights[rng.IntN(len(weights))]})
			}
		}
	}
	n := len(m.Disks)
	for i := 0; i < 1+rng.IntN(2); i++ {
		p := Policy{Name: fmt.Sprintf("p%d", i), Power: 6 + rng.IntN(5)}
		if rng.IntN(2) == 0 {
			p.Replicas = 1 + rng.IntN(min(n, 4))
		} else {
			p.K = 1 + rng.IntN(max(1, min(n-1, 8)))
			p.M = 1 + rng.IntN(max(1, min(n-p.K, 4)))
		}
		if p.Width() <= n {
			m = mustApply(t, m, AddPolicy{Policy: p})
		}
	}
	return m
}

// TestSpreadRandom: on random clusters every partition has distinct "in"
// disks and keeps the spread limits (checked from the map alone), before
// and after random changes.
func TestSpreadRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 40; i++ {
		m := randomMap(t, rng)
		r := mustBuild(t, nil, m)
		if err := checkRing(r, m); err != nil {
			t.Fatalf("map %d: %v", i, err)
		}
		// Drain a random disk if allowed, and fail another.
		d := m.Disks[rng.IntN(len(m.Disks))].ID
		if m2, err := Apply(m, DrainDisk{Disk: d}); err == nil {
			m = m2
		} else if !errors.Is(err, ErrUnplaceable) {
			t.Fatalf("drain: %v", err)
		}
		m = mustApply(t, m, FailDisk{Disk: m.Disks[rng.IntN(len(m.Disks))].ID})
		r2, err := Build(r, m)
		if errors.Is(err, ErrUnplaceable) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := checkRing(r2, m); err != nil {
			t.Fatalf("map %d after change: %v", i, err)
		}
	}
}

// TestSpreadDistinct: zones >= width gives distinct zones; otherwise
// nodes >= width gives distinct nodes (uniform clusters).
func TestSpreadDistinct(t *testing.T) {
	for _, c := range []struct {
		zones, nodes, disks int
		p                   Policy
		tier                int
	}{
		{12, 2, 2, Policy{Name: "p", K: 8, M: 4, Power: 10}, tierZone},
		{10, 2, 2, Policy{Name: "p", K: 6, M: 3, Power: 10}, tierZone},
		{3, 4, 3, Policy{Name: "p", K: 8, M: 4, Power: 10}, tierNode},
		{4, 2, 3, Policy{Name: "p", K: 4, M: 2, Power: 10}, tierNode},
		{1, 1, 12, Policy{Name: "p", K: 8, M: 4, Power: 10}, tierDisk},
		{5, 3, 2, Policy{Name: "p", Replicas: 3, Power: 12}, tierZone},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d/%s", c.zones, c.nodes, c.disks, c.p), func(t *testing.T) {
			m := cluster(t, c.zones, c.nodes, c.disks, 100, c.p)
			r := mustBuild(t, nil, m)
			for part := 0; part < c.p.Partitions(); part++ {
				ds, _ := r.Primaries("p", uint32(part))
				seen := map[string]bool{}
				for _, d := range ds {
					info, _ := r.Disk(d)
					key := map[int]string{tierZone: info.Zone, tierNode: string(info.Node), tierDisk: string(info.ID)}[c.tier]
					if seen[key] {
						t.Fatalf("partition %d: %v shares %q", part, ds, key)
					}
					seen[key] = true
				}
			}
		})
	}
	// 10 zones, width 12: at most 2 in a zone, and every zone used.
	m := cluster(t, 10, 3, 2, 100, Policy{Name: "p", K: 8, M: 4, Power: 10})
	r := mustBuild(t, nil, m)
	for part := 0; part < 1<<10; part++ {
		ds, _ := r.Primaries("p", uint32(part))
		zones := map[string]int{}
		for _, d := range ds {
			info, _ := r.Disk(d)
			zones[info.Zone]++
			if zones[info.Zone] > 2 {
				t.Fatalf("partition %d: 3 disks in %s", part, info.Zone)
			}
		}
	}
}

// TestBalance: partition-replicas follow weight within one slot where no
// spread limit binds, and within the figures of the documentation.
func TestBalance(t *testing.T) {
	for _, c := range []struct {
		name                  string
		m                     *Map
		maxOver, maxUnder     float64
		weightIsTargetForDisk bool
	}{
		{"100x12 ec8+4 p14", benchMap(t, 100, 12, 10, 14), 0.5, 1.0, true},
		{"100x12 ec8+4 p16", benchMap(t, 100, 12, 10, 16), 0.2, 0.2, true},
		{"40x6 rep3 p14", cluster(t, 8, 5, 6, 100, Policy{Name: "r", Replicas: 3, Power: 14}), 0.5, 0.5, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustBuild(t, nil, c.m)
			for _, p := range r.Policies() {
				b, _ := r.Balance(p.Name)
				t.Logf("%s: max over %.2f%%, max under %.2f%%, %.1f slots/disk", p.Name, b.MaxOver, b.MaxUnder, float64(b.Slots)/float64(len(b.Disks)))
				if b.OffTarget != 0 || b.MaxOver > c.maxOver || b.MaxUnder > c.maxUnder {
					t.Fatalf("%s: off target %d, over %.2f%%, under %.2f%%", p.Name, b.OffTarget, b.MaxOver, b.MaxUnder)
				}
			}
		})
	}
	// Mixed weights: 6 zones x 8 nodes x 4 disks of weight 100..400, three
	// replicas. No zone reaches a third of the weight, so no limit binds:
	// every disk holds its weight share rounded down or up.
	rng := rand.New(rand.NewPCG(3, 4))
	m := cluster(t, 6, 8, 4, 100, Policy{Name: "r", Replicas: 3, Power: 14})
	for _, d := range m.Disks {
		m = mustApply(t, m, SetWeight{Disk: d.ID, Weight: uint32(100 * (1 + rng.IntN(4)))})
	}
	r := mustBuild(t, nil, m)
	b, _ := r.Balance("r")
	t.Logf("mixed weights: max over %.2f%%, max under %.2f%%", b.MaxOver, b.MaxUnder)
	for _, d := range b.Disks {
		if diff := float64(d.Slots) - d.WeightShare; diff >= 1 || diff <= -1 {
			t.Fatalf("%s: %d slots for a weight share of %.2f", d.Disk, d.Slots, d.WeightShare)
		}
	}
}

// TestDeterminism: the same inputs give the same bytes, whatever the
// goroutine, and whether prev comes from memory or from its encoding.
func TestDeterminism(t *testing.T) {
	m := cluster(t, 5, 4, 3, 100, Policy{Name: "ec", K: 4, M: 2, Power: 10}, Policy{Name: "r3", Replicas: 3, Power: 9})
	m = mustApply(t, m, SetWeight{Disk: "z2n2d2", Weight: 300})
	r1 := mustBuild(t, nil, m)
	want := ringBytes(t, r1)
	if got := ringBytes(t, mustBuild(t, nil, m)); !bytes.Equal(got, want) {
		t.Fatal("two builds differ")
	}
	var wg sync.WaitGroup
	results := make([][]byte, 6)
	for i := range results {
		wg.Go(func() {
			r, err := Build(nil, m)
			if err == nil {
				results[i], err = r.MarshalBinary()
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i, b := range results {
		if !bytes.Equal(b, want) {
			t.Fatalf("concurrent build %d differs", i)
		}
	}
	// The next ring, from prev in memory and from prev decoded, and from
	// a map that went through its encoding.
	m2 := mustApply(t, m, AddNode{ID: "new", Zone: "z3"}, AddDisk{ID: "new-d1", Node: "new", Weight: 100}, DrainDisk{Disk: "z1n1d1"})
	a := ringBytes(t, mustBuild(t, r1, m2))
	dec, err := DecodeRing(want)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m2.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m2d, err := DecodeMap(enc)
	if err != nil {
		t.Fatal(err)
	}
	if b := ringBytes(t, mustBuild(t, dec, m2d)); !bytes.Equal(a, b) {
		t.Fatal("build from a decoded ring and map differs")
	}
}

// TestGolden pins the bytes of one ring: a change to placement, hashing
// or the encoding shows here, and a machine that computes another ring
// from the same map fails here.
func TestGolden(t *testing.T) {
	m := cluster(t, 4, 3, 2, 100, Policy{Name: "ec", K: 2, M: 2, Power: 8}, Policy{Name: "r2", Replicas: 2, Power: 6})
	m = mustApply(t, m, SetWeight{Disk: "z1n1d1", Weight: 250}, DrainDisk{Disk: "z4n3d2"})
	r := mustBuild(t, nil, m)
	sum := sha256.Sum256(ringBytes(t, r))
	const want = "4437d31c8ffe88dd34a76a88fd35bdf8d492f37d716866aa8909019b7fdf0bfd"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("ring sha256 %s, want %s", got, want)
	}
}

// TestPartitionOf pins the hash: the top bits of XXH64 of
// "policy/bucket/key".
func TestPartitionOf(t *testing.T) {
	for _, c := range []struct {
		power               int
		policy, bucket, key string
		want                uint32
	}{
		{0, "std", "b", "k", 0},
		{8, "std", "photos", "cat.jpg", 161},
		{20, "std", "photos", "cat.jpg", 662291},
		{20, "std", "photos", "dog.jpg", 1030767},
		{16, "ec84", "a", "", 16916},
	} {
		if got := PartitionOf(c.power, c.policy, c.bucket, c.key); got != c.want {
			t.Errorf("PartitionOf(%d, %q, %q, %q) = %d, want %d", c.power, c.policy, c.bucket, c.key, got, c.want)
		}
	}
	// The top 8 bits of a 20-bit partition are the 8-bit partition.
	if a, b := PartitionOf(20, "std", "photos", "cat.jpg"), PartitionOf(8, "std", "photos", "cat.jpg"); a>>12 != b {
		t.Errorf("power 20 gives %d, power 8 gives %d", a, b)
	}
}

// movementCase changes a base map and checks the movement against the
// ideal.
func TestMovement(t *testing.T) {
	base := cluster(t, 8, 5, 6, 100, Policy{Name: "ec", K: 4, M: 2, Power: 14})
	r0 := mustBuild(t, nil, base)
	for _, c := range []struct {
		name  string
		cmds  []Command
		limit float64
	}{
		{"add disk", []Command{AddDisk{ID: "z3n2d9", Node: "z3n2", Weight: 100}}, 1.2},
		{"add heavy disk", []Command{AddDisk{ID: "z3n2d9", Node: "z3n2", Weight: 400}}, 1.2},
		{"add node", []Command{AddNode{ID: "z5n9", Zone: "z5"}, AddDisk{ID: "z5n9d1", Node: "z5n9", Weight: 100},
			AddDisk{ID: "z5n9d2", Node: "z5n9", Weight: 100}, AddDisk{ID: "z5n9d3", Node: "z5n9", Weight: 100}}, 1.2},
		{"add zone", []Command{AddNode{ID: "z9n1", Zone: "z9"}, AddDisk{ID: "z9n1d1", Node: "z9n1", Weight: 100},
			AddNode{ID: "z9n2", Zone: "z9"}, AddDisk{ID: "z9n2d1", Node: "z9n2", Weight: 100}}, 1.2},
		{"remove disk", []Command{DrainDisk{Disk: "z2n3d4"}, MarkOut{Disk: "z2n3d4"}, RemoveDisk{Disk: "z2n3d4"}}, 1.01},
		{"fail disk", []Command{FailDisk{Disk: "z7n1d1"}}, 1.01},
		{"drain node", []Command{DrainNode{Node: "z6n4"}}, 1.2},
		{"raise weight", []Command{SetWeight{Disk: "z1n1d1", Weight: 200}}, 1.2},
		{"lower weight", []Command{SetWeight{Disk: "z1n1d1", Weight: 50}}, 1.2},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mustApply(t, base, c.cmds...)
			r := mustBuild(t, r0, m)
			if err := checkRing(r, m); err != nil {
				t.Fatal(err)
			}
			pm, _ := Diff(r0, r).Policy("ec")
			t.Log(pm)
			if pm.Ideal == 0 || pm.Moved < pm.Ideal || pm.Ratio() > c.limit {
				t.Fatalf("moved %d, ideal %d: ratio %.3f over %.2f", pm.Moved, pm.Ideal, pm.Ratio(), c.limit)
			}
			if b, _ := r.Balance("ec"); b.OffTarget != 0 {
				t.Fatalf("off target by %d", b.OffTarget)
			}
		})
	}
}

// TestRemoveMovesOnlyItsOwn: draining a disk moves the slots it held and
// (for rounding) at most 1% more; the drained disk ends up empty.
func TestRemoveMovesOnlyItsOwn(t *testing.T) {
	m := cluster(t, 6, 4, 4, 100, Policy{Name: "ec", K: 3, M: 2, Power: 13})
	r0 := mustBuild(t, nil, m)
	held, _ := r0.Assignments("ec", "z4n2d3")
	m = mustApply(t, m, DrainDisk{Disk: "z4n2d3"})
	r := mustBuild(t, r0, m)
	if _, ok := r.Disk("z4n2d3"); ok {
		t.Fatal("a draining disk is still in the ring")
	}
	if a, _ := r.Assignments("ec", "z4n2d3"); len(a) != 0 {
		t.Fatalf("drained disk holds %d slots", len(a))
	}
	pm, _ := Diff(r0, r).Policy("ec")
	var others int64
	for _, d := range pm.Disks {
		switch {
		case d.Disk == "z4n2d3" && d.Out != int64(len(held)):
			t.Fatalf("the drained disk gave %d of %d", d.Out, len(held))
		case d.Disk != "z4n2d3":
			others += d.Out
		}
	}
	t.Logf("%s; other disks gave %d", pm, others)
	if others > int64(len(held))/100 || pm.Moved != int64(len(held))+others {
		t.Fatalf("moved %d, the disk held %d, others gave %d", pm.Moved, len(held), others)
	}
	moves, err := Moves(r0, r, "ec")
	if err != nil || int64(len(moves)) != pm.Moved {
		t.Fatalf("Moves: %d moves, %v; Diff says %d", len(moves), err, pm.Moved)
	}
	for _, mv := range moves {
		ds, _ := r.Primaries("ec", mv.Partition)
		old, _ := r0.Primaries("ec", mv.Partition)
		if old[mv.Index] != mv.From || ds[mv.Index] != mv.To {
			t.Fatalf("move %+v: partition was %v, is %v", mv, old, ds)
		}
	}
	if _, err := Moves(r0, r, "x"); !errors.Is(err, ErrUnknownPolicy) {
		t.Fatal(err)
	}
	// Shard positions never change for the slots that stay.
	for _, a := range held {
		ds, _ := r.Primaries("ec", a.Partition)
		old, _ := r0.Primaries("ec", a.Partition)
		for i := range ds {
			if i != a.Index && ds[i] != old[i] {
				t.Fatalf("partition %d: shard %d moved from %s to %s", a.Partition, i, old[i], ds[i])
			}
		}
	}
}

// TestHandoffs: hand-offs are distinct, outside the primaries, and the
// first ones are in zones, then nodes, that hold none of the partition.
func TestHandoffs(t *testing.T) {
	m := cluster(t, 5, 3, 2, 100, Policy{Name: "r3", Replicas: 3, Power: 8})
	r := mustBuild(t, nil, m)
	firstZones := map[string]int{}
	for part := uint32(0); part < 256; part++ {
		ds, _ := r.Primaries("r3", part)
		ho, err := r.Handoffs("r3", part, 6)
		if err != nil {
			t.Fatal(err)
		}
		if len(ho) != 6 {
			t.Fatalf("partition %d: %d hand-offs", part, len(ho))
		}
		seen := map[DiskID]bool{}
		zones := map[string]bool{}
		nodes := map[NodeID]bool{}
		for _, d := range ds {
			seen[d] = true
			info, _ := r.Disk(d)
			zones[info.Zone], nodes[info.Node] = true, true
		}
		for i, d := range ho {
			if seen[d] {
				t.Fatalf("partition %d: hand-off %s repeats %v", part, d, append(ds, ho...))
			}
			seen[d] = true
			info, _ := r.Disk(d)
			switch {
			case i < 2 && zones[info.Zone]:
				t.Fatalf("partition %d: hand-off %d in used zone %s", part, i, info.Zone)
			case i >= 2 && i < 5 && nodes[info.Node]:
				t.Fatalf("partition %d: hand-off %d on used node %s", part, i, info.Node)
			}
			zones[info.Zone], nodes[info.Node] = true, true
		}
		i, _ := r.Disk(ho[0])
		firstZones[i.Zone]++
	}
	if len(firstZones) != 5 {
		t.Fatalf("first hand-offs in zones %v, want all five", firstZones)
	}
	pl, err := r.Locate("r3", "b", "k")
	if err != nil || len(pl.Disks) != 3 || len(pl.Handoffs) != 3 {
		t.Fatalf("Locate: %+v, %v", pl, err)
	}
	// A ring of exactly width disks has none.
	small := mustBuild(t, nil, cluster(t, 1, 1, 3, 100, Policy{Name: "r3", Replicas: 3, Power: 2}))
	if ho, _ := small.Handoffs("r3", 1, 3); len(ho) != 0 {
		t.Fatalf("hand-offs %v", ho)
	}
}

func TestApportion(t *testing.T) {
	for _, c := range []struct {
		total int64
		w     []uint64
		hi    []int64
		want  []int64
	}{
		{10, []uint64{1, 1}, []int64{10, 10}, []int64{5, 5}},
		{10, []uint64{1, 1, 1}, []int64{10, 10, 10}, []int64{4, 3, 3}},
		{10, []uint64{8, 1, 1}, []int64{4, 10, 10}, []int64{4, 3, 3}},
		{12, []uint64{1, 2, 3}, []int64{12, 12, 12}, []int64{2, 4, 6}},
		{7, []uint64{100, 1}, []int64{3, 10}, []int64{3, 4}},
		{0, []uint64{1}, []int64{5}, []int64{0}},
	} {
		got := apportion(c.total, c.w, c.hi)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("apportion(%d, %v, %v) = %v, want %v", c.total, c.w, c.hi, got, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 200; i++ {
		n := 1 + rng.IntN(20)
		w := make([]uint64, n)
		hi := make([]int64, n)
		var sumHi int64
		for j := range w {
			w[j] = 1 + rng.Uint64N(1<<24)
			hi[j] = rng.Int64N(1 << 30)
			sumHi += hi[j]
		}
		total := rng.Int64N(sumHi + 1)
		got := apportion(total, w, hi)
		var sum int64
		for j, x := range got {
			if x < 0 || x > hi[j] {
				t.Fatalf("item %d: %d outside 0..%d", j, x, hi[j])
			}
			sum += x
		}
		if sum != total {
			t.Fatalf("sum %d, want %d", sum, total)
		}
	}
}

func TestSimulate(t *testing.T) {
	p, err := ParsePolicy("ec", "ec:4+2", 12)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Simulate(SimSpec{Zones: 6, Nodes: 24, DisksPerNode: 4, Policy: p, Change: SimChange{Op: "add-node"}, Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Disks != 25*4 || res.Zones != 6 || res.Slots != 6<<12 {
		t.Fatalf("result %+v", res)
	}
	if res.BuildTime != stepDuration || res.RebuildTime != stepDuration {
		t.Fatalf("build times %v, %v", res.BuildTime, res.RebuildTime)
	}
	if res.Movement.Ratio() > 1.2 || res.After.OffTarget != 0 {
		t.Fatalf("movement %v, off target %d", res.Movement, res.After.OffTarget)
	}
	t.Log("\n" + res.String())
	for _, op := range []string{"add-disk", "add-zone", "remove-node", "remove-disk", "fail-disk", "set-weight", ""} {
		if _, err := Simulate(SimSpec{Zones: 6, Nodes: 12, DisksPerNode: 2, Policy: p, Change: SimChange{Op: op, Count: 2}, Now: fakeClock()}); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	for _, bad := range []SimSpec{
		{Zones: 6, Nodes: 3, DisksPerNode: 2, Policy: p},
		{Zones: 1, Nodes: 1, DisksPerNode: 2, Policy: p},
		{Zones: 2, Nodes: 4, DisksPerNode: 2, Policy: p, Change: SimChange{Op: "explode"}},
	} {
		if _, err := Simulate(bad); err == nil {
			t.Fatalf("%+v: no error", bad)
		}
	}
	for _, s := range []string{"rep:0", "ec:4", "ec:a+b", "raid:5", "rep"} {
		if _, err := ParsePolicy("x", s, 4); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePolicy(%q): %v", s, err)
		}
	}
}

func TestRingAPI(t *testing.T) {
	m := cluster(t, 2, 2, 2, 100, Policy{Name: "r2", Replicas: 2, Power: 4})
	m = mustApply(t, m, DrainDisk{Disk: "z1n1d1"})
	r := mustBuild(t, nil, m)
	if r.Epoch() != m.Epoch || len(r.Policies()) != 1 || len(r.Disks()) != 7 {
		t.Fatalf("epoch %d, policies %v, %d disks", r.Epoch(), r.Policies(), len(r.Disks()))
	}
	if _, ok := r.Disk("z1n1d1"); ok {
		t.Fatal("draining disk in the ring")
	}
	if d, ok := r.Disk("z2n2d2"); !ok || d.Zone != "z2" || d.Node != "z2n2" || d.Weight != 100 {
		t.Fatalf("disk %+v", d)
	}
	var total int
	for _, d := range r.Disks() {
		a, err := r.Assignments("r2", d.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range a {
			ds, _ := r.Primaries("r2", x.Partition)
			if ds[x.Index] != d.ID {
				t.Fatalf("assignment %+v of %s: partition has %v", x, d.ID, ds)
			}
		}
		total += len(a)
	}
	if total != 2<<4 {
		t.Fatalf("%d assignments", total)
	}
	part, _ := r.Partition("r2", "b", "k")
	if pl, _ := r.Locate("r2", "b", "k"); pl.Partition != part || part != PartitionOf(4, "r2", "b", "k") {
		t.Fatalf("partition %d, Locate %+v", part, pl)
	}
	for _, err := range []error{
		func() error { _, err := r.Locate("x", "b", "k"); return err }(),
		func() error { _, err := r.Partition("x", "b", "k"); return err }(),
		func() error { _, err := r.Primaries("x", 0); return err }(),
		func() error { _, err := r.Handoffs("x", 0, 1); return err }(),
		func() error { _, err := r.Assignments("x", "z2n2d2"); return err }(),
		func() error { _, err := r.Balance("x"); return err }(),
	} {
		if !errors.Is(err, ErrUnknownPolicy) {
			t.Fatalf("unknown policy: %v", err)
		}
	}
	if _, err := r.Handoffs("r2", 16, 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("partition out of range: %v", err)
	}
	if mv := Diff(nil, r); len(mv.Policies) != 0 {
		t.Fatal("Diff with a nil ring")
	}
	if _, ok := Diff(r, r).Policy("x"); ok {
		t.Fatal("movement of an unknown policy")
	}
	if pm, _ := Diff(r, r).Policy("r2"); pm.Moved != 0 || pm.Ideal != 0 || pm.Ratio() != 1 {
		t.Fatalf("self diff %+v", pm)
	}
	if _, err := Build(nil, nil); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := Apply(nil, AddNode{ID: "a", Zone: "z"}); err != nil {
		t.Fatal(err)
	}
}
