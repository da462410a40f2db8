package ring

import (
	"fmt"
	"testing"
)

// benchMap is nodes x disks dealt over zones, with policy "ec84" (ec 8+4)
// at the given power.
func benchMap(tb testing.TB, nodes, disks, zones, power int) *Map {
	tb.Helper()
	p, err := ParsePolicy("ec84", "ec:8+4", power)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := SimMap(SimSpec{Zones: zones, Nodes: nodes, DisksPerNode: disks, Policy: p})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

var benchSizes = []struct{ nodes, disks, zones, power int }{
	{100, 12, 10, 14},
	{100, 12, 10, 16},
	{1000, 12, 10, 18},
}

// BenchmarkBuild is a first build, from nothing.
func BenchmarkBuild(b *testing.B) {
	for _, c := range benchSizes {
		m := benchMap(b, c.nodes, c.disks, c.zones, c.power)
		b.Run(fmt.Sprintf("%dx%d/p%d", c.nodes, c.disks, c.power), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(nil, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRebuild is a build after adding one node of 12 disks; it
// reports the movement ratio.
func BenchmarkRebuild(b *testing.B) {
	for _, c := range benchSizes {
		m := benchMap(b, c.nodes, c.disks, c.zones, c.power)
		r0 := mustBuild(b, nil, m)
		m2 := mustApply(b, m, AddNode{ID: "extra", Zone: "z000"})
		for d := 0; d < c.disks; d++ {
			m2 = mustApply(b, m2, AddDisk{ID: DiskID(fmt.Sprintf("extra-d%02d", d)), Node: "extra", Weight: 100})
		}
		b.Run(fmt.Sprintf("%dx%d/p%d", c.nodes, c.disks, c.power), func(b *testing.B) {
			var r *Ring
			for b.Loop() {
				r = mustBuild(b, r0, m2)
			}
			pm, _ := Diff(r0, r).Policy("ec84")
			b.ReportMetric(pm.Ratio(), "moved/ideal")
		})
	}
}

func BenchmarkLocate(b *testing.B) {
	r := mustBuild(b, nil, benchMap(b, 100, 12, 10, 14))
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("object-%d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.Locate("ec84", "bucket", keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSimulate reports the figures of the documentation: balance
// (percent over and under weight share), movement against the ideal, and
// build times, for ec 8+4 on 10 zones. One iteration is a whole
// simulation: run with -benchtime 1x.
func BenchmarkSimulate(b *testing.B) {
	for _, c := range []struct {
		nodes, power int
		op           string
	}{
		{100, 14, "add-node"},
		{100, 16, "add-node"},
		{100, 16, "remove-disk"},
		{1000, 18, "add-node"},
		{1000, 18, "remove-disk"},
		{1000, 19, "add-node"},
		{1000, 20, "add-node"},
		{1000, 20, "remove-disk"},
	} {
		b.Run(fmt.Sprintf("%dx12/p%d/%s", c.nodes, c.power, c.op), func(b *testing.B) {
			p, _ := ParsePolicy("ec84", "ec:8+4", c.power)
			var res SimResult
			for b.Loop() {
				var err error
				res, err = Simulate(SimSpec{Zones: 10, Nodes: c.nodes, DisksPerNode: 12, Policy: p, Change: SimChange{Op: c.op}})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(res.Before.MaxOver, "over%")
			b.ReportMetric(res.Before.MaxUnder, "under%")
			b.ReportMetric(res.After.MaxOver, "over-after%")
			b.ReportMetric(res.Movement.Ratio(), "moved/ideal")
			b.ReportMetric(res.BuildTime.Seconds(), "build-s")
			b.ReportMetric(res.RebuildTime.Seconds(), "rebuild-s")
		})
	}
}
