package objectd

import (
	"errors"
	"testing"

	"github.com/basaltstore/basalt/objectd/disk"
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
