package ring

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Tiers of the tree, root first.
const (
	tierRoot = iota
	tierRegion
	tierZone
	tierNode
	tierDisk
	numTiers
)

// noLevel marks a count that a subtree cannot hold.
const noLevel = 255

// DiskInfo describes a disk of a ring: its id, its failure domains and its
// weight.
type DiskInfo struct {
	ID     DiskID
	Node   NodeID
	Zone   string
	Region string
	Weight uint32
}

func (a DiskInfo) compare(b DiskInfo) int {
	return cmp.Or(
		strings.Compare(a.Region, b.Region),
		strings.Compare(a.Zone, b.Zone),
		strings.Compare(string(a.Node), string(b.Node)),
		strings.Compare(string(a.ID), string(b.ID)),
	)
}

// topology is the failure-domain tree of a ring's eligible disks: root,
// regions, zones, nodes, disks. Disks are ordered by (region, zone, node,
// id) and tree nodes are numbered in preorder, so every subtree holds a
// contiguous range of disks.
type topology struct {
	disks  []DiskInfo
	byID   map[DiskID]int32
	tn     []tnode
	leafOf []int32 // disk index -> tree node
	anc    []int32 // disk index*numTiers + tier -> tree node
	leaf   []bool  // per tree node: is a disk (compact, for hot loops)
	tiers  [numTiers][]int32
}

type tnode struct {
	tier     int8
	parent   int32
	children []int32
	lo, hi   int32 // disks [lo, hi)
	weight   uint64
	cap      int32 // disks below
	name     string
	// level[c] is the spread limit for a count of c below this node: the
	// smallest L with sum over children of min(cap, L) >= c, so that no
	// child needs more than min(cap, L) of c. noLevel when c > cap.
	level [MaxWidth + 2]uint8
}

// limit is the most that child ch of a node holding c may hold.
func (t *topology) limit(n int32, c int, ch int32) int {
	l := int(t.tn[n].level[c])
	return min(l, int(t.tn[ch].cap))
}

func newTopology(m *Map) *topology {
	var ds []DiskInfo
	for _, d := range m.Disks {
		if !m.eligible(d) {
			continue
		}
		n, _ := m.Node(d.Node)
		ds = append(ds, DiskInfo{ID: d.ID, Node: d.Node, Zone: n.Zone, Region: n.Region, Weight: d.Weight})
	}
	slices.SortFunc(ds, DiskInfo.compare)
	return buildTopology(ds)
}

// buildTopology builds the tree of disks already sorted by compare.
func buildTopology(ds []DiskInfo) *topology {
	t := &topology{
		disks:  ds,
		byID:   make(map[DiskID]int32, len(ds)),
		leafOf: make([]int32, len(ds)),
		anc:    make([]int32, len(ds)*numTiers),
	}
	t.tn = append(t.tn, tnode{tier: tierRoot, parent: -1})
	var path [numTiers]int32 // current tree node at each tier
	for i, d := range ds {
		t.byID[d.ID] = int32(i)
		keys := [numTiers]string{"", d.Region, d.Zone, string(d.Node), string(d.ID)}
		start := tierDisk
		if i == 0 {
			start = tierRegion
		} else {
			p := ds[i-1]
			switch {
			case p.Region != d.Region:
				start = tierRegion
			case p.Zone != d.Zone:
				start = tierZone
			case p.Node != d.Node:
				start = tierNode
			}
		}
		for tier := start; tier < numTiers; tier++ {
			id := int32(len(t.tn))
			parent := path[tier-1]
			t.tn = append(t.tn, tnode{tier: int8(tier), parent: parent, name: keys[tier], lo: int32(i)})
			t.tn[parent].children = append(t.tn[parent].children, id)
			path[tier] = id
		}
		t.leafOf[i] = path[tierDisk]
		for tier := 0; tier < numTiers; tier++ {
			n := &t.tn[path[tier]]
			t.anc[i*numTiers+tier] = path[tier]
			n.hi = int32(i + 1)
			n.weight += uint64(d.Weight)
			n.cap++
		}
	}
	t.leaf = make([]bool, len(t.tn))
	for i := range t.tn {
		n := &t.tn[i]
		t.leaf[i] = n.tier == tierDisk
		t.tiers[n.tier] = append(t.tiers[n.tier], int32(i))
		t.fillLevels(int32(i))
	}
	return t
}

func (t *topology) fillLevels(n int32) {
	nd := &t.tn[n]
	if nd.tier == tierDisk {
		nd.level[0], nd.level[1] = 0, 1
		for c := 2; c < len(nd.level); c++ {
			nd.level[c] = noLevel
		}
		return
	}
	c, l := 0, 0
	for c < len(nd.level) {
		sum := 0
		for _, ch := range nd.children {
			sum += min(int(t.tn[ch].cap), l)
		}
		for c <= sum && c < len(nd.level) {
			nd.level[c] = uint8(l)
			c++
		}
		if sum >= int(nd.cap) {
			break
		}
		l++
	}
	for ; c < len(nd.level); c++ {
		nd.level[c] = noLevel
	}
}

// placeable explains why p cannot be placed, or returns nil.
func (t *topology) placeable(p Policy) error {
	w := p.Width()
	if len(t.disks) < w {
		return fmt.Errorf("%w: policy %s needs %d disks, %d are in", ErrUnplaceable, p.Name, w, len(t.disks))
	}
	dom, _ := p.Domain.level()
	if dom == tierDisk {
		return nil
	}
	if n := len(t.tiers[dom]); n < w {
		return fmt.Errorf("%w: policy %s needs %d distinct %ss, the cluster has %d", ErrUnplaceable, p.Name, w, p.Domain, n)
	}
	// The most a tree node may hold, top down.
	most := make([]int, len(t.tn))
	most[0] = w
	for i := range t.tn {
		nd := &t.tn[i]
		if int(nd.tier) == dom && most[i] > 1 {
			return fmt.Errorf("%w: policy %s needs %d distinct %ss: %s %s may have to hold %d of a partition (the spread goes region, zone, node, disk)",
				ErrUnplaceable, p.Name, w, p.Domain, p.Domain, nd.name, most[i])
		}
		for _, ch := range nd.children {
			most[ch] = t.limit(int32(i), most[i], ch)
		}
	}
	return nil
}

// fpShift is the fixed-point scale of shares: a share is in 1/2^20 slot.
const fpShift = 20

// shares returns, for every tree node, the number of slots of a policy of
// the given partitions and width that it should hold, in 1/2^fpShift
// slot: the total in proportion to weight within the spread limits (water
// filling), split exactly (the children of a node add up to it).
func (t *topology) shares(parts, width int) []int64 {
	q := make([]int64, len(t.tn))
	if len(t.disks) == 0 {
		return q
	}
	unit := int64(parts) << fpShift
	q[0] = int64(width) * unit
	for i := range t.tn {
		nd := &t.tn[i]
		if len(nd.children) == 0 {
			continue
		}
		// The node holds at most ceil(q/parts) of a partition.
		most := int((q[i] + unit - 1) / unit)
		ws := make([]uint64, len(nd.children))
		hs := make([]int64, len(nd.children))
		for j, ch := range nd.children {
			ws[j] = t.tn[ch].weight
			hs[j] = unit * int64(t.limit(int32(i), most, ch))
		}
		for j, v := range apportion(q[i], ws, hs) {
			q[nd.children[j]] = v
		}
	}
	return q
}

// floorFP and ceilFP round a share to whole slots.
func floorFP(s int64) int64 { return s >> fpShift }
func ceilFP(s int64) int64  { return (s + 1<<fpShift - 1) >> fpShift }

// apportion splits total into integers x_i <= hi_i in proportion to w_i:
// x_i is clamp(lambda*w_i, 0, hi_i) with the lambda that makes the sum
// exact, rounded by largest remainder (ties to the lower index). Exact
// rational arithmetic: no floating point, so every machine agrees. It
// requires w_i > 0 and sum hi_i >= total.
func apportion(total int64, w []uint64, hi []int64) []int64 {
	n := len(w)
	out := make([]int64, n)
	if n == 0 || total <= 0 {
		return out
	}
	capped := make([]bool, n)
	// Iteratively cap the items whose proportional share exceeds hi: the
	// share of the others only grows, so each round caps at least one item
	// or ends.
	for {
		var free, capSum big.Int
		for i := range w {
			if capped[i] {
				capSum.Add(&capSum, big.NewInt(hi[i]))
			} else {
				free.Add(&free, new(big.Int).SetUint64(w[i]))
			}
		}
		rest := new(big.Int).Sub(big.NewInt(total), &capSum)
		if free.Sign() == 0 {
			break
		}
		changed := false
		for i := range w {
			if capped[i] {
				continue
			}
			// rest*w_i/free > hi_i ?
			lhs := new(big.Int).Mul(rest, new(big.Int).SetUint64(w[i]))
			rhs := new(big.Int).Mul(big.NewInt(hi[i]), &free)
			if lhs.Cmp(rhs) > 0 {
				capped[i] = true
				changed = true
			}
		}
		if changed {
			continue
		}
		// Floors and remainders of the free items.
		rems := make([]*big.Int, n)
		var used int64
		for i := range w {
			if capped[i] {
				out[i] = hi[i]
				used += hi[i]
				continue
			}
			num := new(big.Int).Mul(rest, new(big.Int).SetUint64(w[i]))
			quo, rem := new(big.Int).QuoRem(num, &free, new(big.Int))
			out[i] = quo.Int64()
			used += out[i]
			rems[i] = rem
		}
		left := total - used
		if left > 0 {
			idx := make([]int, 0, n)
			for i := range w {
				if !capped[i] && rems[i].Sign() > 0 {
					idx = append(idx, i)
				}
			}
			slices.SortStableFunc(idx, func(a, b int) int { return rems[b].Cmp(rems[a]) })
			for _, i := range idx[:min(int(left), len(idx))] {
				out[i]++
			}
		}
		return out
	}
	for i := range out {
		out[i] = hi[i]
	}
	return out
}
