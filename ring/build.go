package ring

import (
	"fmt"
	"slices"
)

// none marks an empty slot during a build.
const none = ^uint32(0)

// builder computes one policy's table. It is single-threaded; every
// choice is made by integer comparisons, ties broken by index and near
// ties by a jitter that is a hash of the partition, so the result is a
// function of its inputs only.
type builder struct {
	t     *topology
	parts int
	width int
	table []uint32   // parts*width disk indices
	share []int64    // per tree node, in 1/2^fpShift slot
	asg   []int64    // per tree node: slots held now
	def   []int64    // per tree node: share - asg<<fpShift
	heaps [][]int32  // per tree node: its children, most wanted first
	hpos  []int32    // per tree node: its position in its parent's heap
	idx   [][]uint32 // per disk: its slots (phase B; may hold stale entries)
	midx  [][]uint32 // per disk: its slots moved in this build (idem)
	mcnt  []int32    // per tree node: slots moved in this build below it
	moved []uint64   // bitset of slots whose disk changed in this build
	part  uint64     // partition being placed by fill
	err   error

	// scratch
	cur           []int32
	removes       []int32
	adds          []int32
	frontier      []int32
	cv            []int32 // per tree node: replicas of the current row below it
	touched       []int32 // tree nodes whose cv may be non-zero
	xs            [numTiers][]int
	grp           [numTiers][]group
	pick          [numTiers][]int32
	tgt           [numTiers][]int
	dfc           [numTiers][]int64
	exh           []int32 // per tree node: disks below with nothing left to try (pull)
	exhTouched    []int32
	cursor        []int32 // per disk: next index in idx to try (pull)
	cursorTouched []int32
}

type group struct {
	child  int32
	lo, hi int
}

// deficit is how far n is below its share, in 1/2^fpShift slot.
func (b *builder) deficit(n int32) int64 { return b.def[n] }

// over reports whether n holds more than its share rounded up; under,
// less than rounded down.
func (b *builder) over(n int32) bool  { return b.asg[n] > ceilFP(b.share[n]) }
func (b *builder) under(n int32) bool { return b.asg[n] < floorFP(b.share[n]) }

// buildTable places one policy on t, starting from prev (the policy's
// previous table, already translated to t's disk indices, or nil).
func buildTable(t *topology, parts, width int, prev []uint32) ([]uint32, error) {
	b := newBuilder(t, parts, width, prev)
	b.fill()
	b.balance()
	if b.err != nil {
		return nil, b.err
	}
	for _, d := range b.table {
		if d == none {
			return nil, fmt.Errorf("%w: a partition could not be filled", ErrUnplaceable)
		}
	}
	return b.table, nil
}

func newBuilder(t *topology, parts, width int, prev []uint32) *builder {
	b := &builder{
		t:     t,
		parts: parts,
		width: width,
		share: t.shares(parts, width),
		asg:   make([]int64, len(t.tn)),
		heaps: make([][]int32, len(t.tn)),
		hpos:  make([]int32, len(t.tn)),
		cv:    make([]int32, len(t.tn)),
		mcnt:  make([]int32, len(t.tn)),
		moved: make([]uint64, (parts*width+63)/64),
	}
	b.table = prev
	if b.table == nil {
		b.table = make([]uint32, parts*width)
		for i := range b.table {
			b.table[i] = none
		}
	}
	b.count()
	b.initHeaps()
	return b
}

// fill is phase A: every partition in turn.
func (b *builder) fill() {
	for p := 0; p < b.parts && b.err == nil; p++ {
		b.part = uint64(p)
		b.placePartition(p)
	}
}

// jitter is a pseudo-random amount below one slot, fixed by the partition
// being placed and a tree node. Added to deficits when choosing where a
// new replica goes, it breaks ties differently for every partition, so
// that which disks share a partition is not a regular pattern (which would
// leave few partitions movable later), while the choice stays within one
// slot of the neediest.
func (b *builder) jitter(x int32) int64 {
	return int64(mix64(b.part*0x9e3779b97f4a7c15^uint64(x)) & (1<<fpShift - 1))
}

// balance is phase B: every inner tree node, top down.
func (b *builder) balance() {
	if b.err != nil || b.balanced() {
		return
	}
	b.index()
	b.exh = make([]int32, len(b.t.tn))
	b.cursor = make([]int32, len(b.t.disks))
	for n := range b.t.tn {
		if len(b.t.tn[n].children) > 1 {
			b.balanceAt(int32(n))
		}
	}
	b.idx, b.midx = nil, nil
}

// count sets asg from the table.
func (b *builder) count() {
	t := b.t
	for _, d := range b.table {
		if d != none {
			b.asg[t.leafOf[d]]++
		}
	}
	for i := len(t.tn) - 1; i > 0; i-- {
		b.asg[t.tn[i].parent] += b.asg[i]
	}
	b.def = make([]int64, len(t.tn))
	for i := range b.def {
		b.def[i] = b.share[i] - b.asg[i]<<fpShift
	}
}

func (b *builder) setMoved(s int)     { b.moved[s/64] |= 1 << (s % 64) }
func (b *builder) isMoved(s int) bool { return b.moved[s/64]&(1<<(s%64)) != 0 }

// movedPath adds delta to the moved-slot counts of disk d and its
// ancestors.
func (b *builder) movedPath(d int32, delta int32) {
	for tier := 0; tier < numTiers; tier++ {
		b.mcnt[b.t.anc[int(d)*numTiers+tier]] += delta
	}
}

func (b *builder) balanced() bool {
	for i := range b.asg {
		if b.over(int32(i)) || b.under(int32(i)) {
			return false
		}
	}
	return true
}

// --- heaps of children by deficit ---

func (b *builder) hless(x, y int32) bool {
	dx, dy := b.def[x], b.def[y]
	if dx != dy {
		return dx > dy
	}
	return x < y
}

func (b *builder) initHeaps() {
	for i := range b.t.tn {
		ch := b.t.tn[i].children
		if len(ch) == 0 {
			continue
		}
		h := slices.Clone(ch)
		b.heaps[i] = h
		for j, x := range h {
			b.hpos[x] = int32(j)
		}
		for j := len(h)/2 - 1; j >= 0; j-- {
			b.hdown(int32(i), j)
		}
	}
}

func (b *builder) hswap(p int32, i, j int) {
	h := b.heaps[p]
	h[i], h[j] = h[j], h[i]
	b.hpos[h[i]] = int32(i)
	b.hpos[h[j]] = int32(j)
}

func (b *builder) hup(p int32, i int) bool {
	h := b.heaps[p]
	moved := false
	for i > 0 {
		parent := (i - 1) / 2
		if !b.hless(h[i], h[parent]) {
			break
		}
		b.hswap(p, i, parent)
		i = parent
		moved = true
	}
	return moved
}

func (b *builder) hdown(p int32, i int) {
	h := b.heaps[p]
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		best := l
		if r := l + 1; r < n && b.hless(h[r], h[l]) {
			best = r
		}
		if !b.hless(h[best], h[i]) {
			return
		}
		b.hswap(p, i, best)
		i = best
	}
}

func (b *builder) hfix(p int32, i int) {
	if !b.hup(p, i) {
		b.hdown(p, i)
	}
}

func (b *builder) hpop(p int32) int32 {
	h := b.heaps[p]
	x := h[0]
	last := len(h) - 1
	b.hswap(p, 0, last)
	b.heaps[p] = h[:last]
	if last > 0 {
		b.hdown(p, 0)
	}
	return x
}

func (b *builder) hpush(p int32, x int32) {
	b.heaps[p] = append(b.heaps[p], x)
	i := len(b.heaps[p]) - 1
	b.hpos[x] = int32(i)
	b.hup(p, i)
}

// bump adds delta slots to a leaf and its ancestors.
func (b *builder) bump(leaf int32, delta int64) {
	t := b.t
	for n := leaf; n >= 0; {
		b.asg[n] += delta
		b.def[n] -= delta << fpShift
		parent := t.tn[n].parent
		if parent >= 0 {
			b.hfix(parent, int(b.hpos[n]))
		}
		n = parent
	}
}

// Ways topChildren skips children.
const (
	skipGroups  = iota // children listed in the groups
	skipCounted        // children holding a replica of the counted row
	skipFull           // skipCounted, and children at their share rounded up
)

// topChildren appends to out the k most wanted children of n, skipping
// some as mode says. With jit, it takes the k best by deficit plus jitter
// among the k+jitterPool most wanted. It walks the heap best first
// without changing it.
func (b *builder) topChildren(n int32, k int, out []int32, mode int, gs []group, jit bool) []int32 {
	h := b.heaps[n]
	want := k
	if jit {
		want = k + jitterPool
	}
	base := len(out)
	fr := b.frontier[:0]
	if len(h) > 0 {
		fr = append(fr, 0)
	}
	for found := 0; found < want && len(fr) > 0; {
		bi := 0
		for i := 1; i < len(fr); i++ {
			if b.hless(h[fr[i]], h[fr[bi]]) {
				bi = i
			}
		}
		pos := fr[bi]
		fr[bi] = fr[len(fr)-1]
		fr = fr[:len(fr)-1]
		if c := 2*pos + 1; c < int32(len(h)) {
			fr = append(fr, c)
			if c+1 < int32(len(h)) {
				fr = append(fr, c+1)
			}
		}
		x := h[pos]
		skip := false
		if mode == skipGroups {
			for _, g := range gs {
				if g.child == x {
					skip = true
					break
				}
			}
		} else {
			skip = b.cv[x] > 0 || (mode == skipFull && b.asg[x] >= ceilFP(b.share[x]))
		}
		if !skip {
			out = append(out, x)
			found++
		}
	}
	b.frontier = fr
	if jit && len(out)-base > k {
		// Insertion sort by deficit plus jitter, best first.
		c := out[base:]
		var keys [MaxWidth + jitterPool]int64
		for i, x := range c {
			keys[i] = b.def[x] + b.jitter(x)
			for j := i; j > 0 && (keys[j] > keys[j-1] || (keys[j] == keys[j-1] && c[j] < c[j-1])); j-- {
				keys[j], keys[j-1] = keys[j-1], keys[j]
				c[j], c[j-1] = c[j-1], c[j]
			}
		}
		out = out[:base+k]
	}
	return out
}

// jitterPool is how many more candidates than needed the fill considers.
const jitterPool = 3

// --- phase A: fill and spread each partition ---

// placePartition empties the slots that break the spread limits and fills
// every empty slot, keeping as many replicas where they are as it can.
func (b *builder) placePartition(p int) {
	t := b.t
	row := b.table[p*b.width : (p+1)*b.width]
	cur := b.cur[:0]
	for j, d := range row {
		if d == none {
			continue
		}
		leaf := t.leafOf[d]
		if slices.Contains(cur, leaf) {
			row[j] = none // a duplicate: keep the first
			b.bump(leaf, -1)
			continue
		}
		cur = append(cur, leaf)
	}
	slices.Sort(cur)
	b.cur = cur
	if len(cur) == b.width {
		b.countRow(row)
		if b.spreadRowOK() {
			return
		}
	}
	b.removes, b.adds = b.removes[:0], b.adds[:0]
	b.plan(0, b.width, cur)
	for _, leaf := range b.removes {
		d := uint32(t.tn[leaf].lo)
		j := slices.Index(row, d)
		if j < 0 {
			b.err = fmt.Errorf("%w: internal: removed replica not in row", ErrUnplaceable)
			return
		}
		row[j] = none
		b.bump(leaf, -1)
	}
	j := 0
	for _, leaf := range b.adds {
		for j < len(row) && row[j] != none {
			j++
		}
		if j == len(row) {
			b.err = fmt.Errorf("%w: internal: more replicas than slots", ErrUnplaceable)
			return
		}
		row[j] = uint32(t.tn[leaf].lo)
		b.bump(leaf, +1)
		b.setMoved(p*b.width + j)
		b.movedPath(t.tn[leaf].lo, 1)
	}
}

// plan decides where the partition's c replicas below tree node n go. cur
// holds the partition's current leaves below n, sorted. Leaves to empty
// are appended to b.removes, leaves to fill to b.adds.
func (b *builder) plan(n int32, c int, cur []int32) {
	t := b.t
	if t.leaf[n] {
		switch {
		case c == 0:
			b.removes = append(b.removes, cur...)
		case len(cur) == 0:
			b.adds = append(b.adds, n)
		default:
			b.removes = append(b.removes, cur[1:]...)
		}
		return
	}
	if c == 0 {
		b.removes = append(b.removes, cur...)
		return
	}
	nd := &t.tn[n]
	depth := nd.tier
	ct := int(nd.tier) + 1
	gs := b.grp[depth][:0]
	for i := 0; i < len(cur); {
		ch := t.anc[int(t.tn[cur[i]].lo)*numTiers+ct]
		j := i + 1
		for j < len(cur) && t.anc[int(t.tn[cur[j]].lo)*numTiers+ct] == ch {
			j++
		}
		gs = append(gs, group{child: ch, lo: i, hi: j})
		i = j
	}
	b.grp[depth] = gs
	level := int(nd.level[c])
	if level <= 1 {
		// Every child holds at most one: keep the most wanted of the
		// children that hold some, then add the most wanted others.
		if len(gs) > c {
			slices.SortFunc(gs, func(x, y group) int {
				if b.hless(x.child, y.child) {
					return -1
				}
				return 1
			})
		}
		kept := min(len(gs), c)
		for _, g := range gs[kept:] {
			b.removes = append(b.removes, cur[g.lo:g.hi]...)
		}
		for _, g := range gs[:kept] {
			b.plan(g.child, 1, cur[g.lo:g.hi])
		}
		if need := c - kept; need > 0 {
			picks := b.topChildren(n, need, b.pick[depth][:0], skipGroups, gs[:kept], true)
			b.pick[depth] = picks
			for _, ch := range picks {
				b.plan(ch, 1, nil)
			}
		}
		return
	}
	// Fewer children than replicas: give each child a count within its
	// limit, keeping current replicas first, then by deficit.
	chs := nd.children
	tg := b.tgt[depth][:0]
	df := b.dfc[depth][:0]
	x := b.xs[depth][:0]
	sum := 0
	gi := 0
	for _, ch := range chs {
		have := 0
		if gi < len(gs) && gs[gi].child == ch {
			have = gs[gi].hi - gs[gi].lo
			gi++
		}
		keep := min(have, t.limit(n, c, ch))
		x = append(x, have)
		tg = append(tg, keep)
		df = append(df, b.deficit(ch))
		sum += keep
	}
	for ; sum > c; sum-- {
		k := -1
		for i := range chs {
			if tg[i] > 0 && (k < 0 || df[i] < df[k]) {
				k = i
			}
		}
		tg[k]--
		df[k]++
	}
	if sum < c {
		for i, ch := range chs {
			df[i] += b.jitter(ch)
		}
	}
	for ; sum < c; sum++ {
		k := -1
		for i, ch := range chs {
			if tg[i] < t.limit(n, c, ch) && (k < 0 || df[i] > df[k]) {
				k = i
			}
		}
		if k < 0 {
			b.err = fmt.Errorf("%w: internal: no room below %s", ErrUnplaceable, nd.name)
			return
		}
		tg[k]++
		df[k]--
	}
	b.tgt[depth], b.dfc[depth], b.xs[depth] = tg, df, x
	gi = 0
	for i, ch := range chs {
		var sub []int32
		if x[i] > 0 {
			sub = cur[gs[gi].lo:gs[gi].hi]
			gi++
		}
		if tg[i] > 0 || len(sub) > 0 {
			b.plan(ch, b.tgt[depth][i], sub)
		}
	}
}

// --- per-row counts and spread check ---

// countRow sets b.cv to the number of the row's replicas below each tree
// node.
func (b *builder) countRow(row []uint32) {
	for _, n := range b.touched {
		b.cv[n] = 0
	}
	b.touched = b.touched[:0]
	for _, d := range row {
		if d != none {
			b.addPath(int32(d), 1)
		}
	}
}

// addPath adds delta to the counts of disk d and its ancestors.
func (b *builder) addPath(d int32, delta int32) {
	for tier := 0; tier < numTiers; tier++ {
		n := b.t.anc[int(d)*numTiers+tier]
		if b.cv[n] == 0 {
			b.touched = append(b.touched, n)
		}
		b.cv[n] += delta
	}
}

// spreadRowOK reports whether the counted row keeps every spread limit.
func (b *builder) spreadRowOK() bool {
	t := b.t
	for _, x := range b.touched {
		if p := t.tn[x].parent; p >= 0 && b.cv[x] > 0 && int(b.cv[x]) > t.limit(p, int(b.cv[p]), x) {
			return false
		}
	}
	return true
}

// spreadOK checks that no child of n holds more than its limit.
func (b *builder) spreadOK(n int32) bool {
	t := b.t
	c := int(b.cv[n])
	for _, x := range b.touched {
		if t.tn[x].parent == n && b.cv[x] > 0 && int(b.cv[x]) > t.limit(n, c, x) {
			return false
		}
	}
	return true
}

// --- phase B: move slots from children over quota to children under ---

func (b *builder) index() {
	t := b.t
	counts := make([]int, len(t.disks))
	for _, d := range b.table {
		counts[d]++
	}
	backing := make([]uint32, len(b.table))
	b.idx = make([][]uint32, len(t.disks))
	off := 0
	for d, c := range counts {
		b.idx[d] = backing[off : off : off+c]
		off += c
	}
	b.midx = make([][]uint32, len(t.disks))
	for s, d := range b.table {
		b.idx[d] = append(b.idx[d], uint32(s))
		if b.isMoved(s) {
			b.midx[d] = append(b.midx[d], uint32(s))
		}
	}
}

// balanceAt moves slots between the children of n until each holds its
// share rounded down or up, or no move keeps the spread limits. A move
// goes from a child over its share rounded up to one below its share
// rounded up, or from one above its share rounded down to one under it:
// each move brings one child closer to its range and takes none out.
func (b *builder) balanceAt(n int32) {
	chs := b.t.tn[n].children
	stuck := make([]bool, len(chs))
	var froms []int32
	for {
		// The neediest child that may still receive.
		bi := -1
		for k, ch := range chs {
			if stuck[k] || b.asg[ch] >= ceilFP(b.share[ch]) {
				continue
			}
			if bi < 0 || b.hless(ch, chs[bi]) {
				bi = k
			}
		}
		if bi < 0 {
			return
		}
		to := chs[bi]
		toUnder := b.under(to)
		froms = froms[:0]
		for _, ch := range chs {
			if b.over(ch) || (toUnder && b.asg[ch] > floorFP(b.share[ch])) {
				froms = append(froms, ch)
			}
		}
		if len(froms) == 0 {
			if !toUnder {
				return // nobody over: done
			}
			stuck[bi] = true
			continue
		}
		slices.SortFunc(froms, func(x, y int32) int {
			if b.hless(y, x) {
				return -1
			}
			return 1
		})
		var moved int64
		for phase := 0; phase < numPulls && moved == 0; phase++ {
			for _, from := range froms {
				moved += b.pull(n, from, to, phase)
				if moved > 0 {
					break
				}
			}
		}
		if moved == 0 {
			stuck[bi] = true
		}
	}
}

// canGive reports whether from may give one slot to to.
func (b *builder) canGive(from, to int32) bool {
	if b.asg[to] >= ceilFP(b.share[to]) {
		return false
	}
	return b.over(from) || (b.under(to) && b.asg[from] > floorFP(b.share[from]))
}

// Phases of pull, best first. A strict move lands on a disk within one
// slot of the neediest at every level; a clean move keeps every tree node
// on both paths within its rounded share; a move of a slot already moved
// in this build costs no extra movement.
const (
	pullMovedStrict = iota
	pullStrict
	pullMovedClean
	pullClean
	pullAny
	numPulls
)

// pull moves slots from disks below from to disks below to (both children
// of n) while from may give and to may take, in the given phase. Each
// move takes from the most over disk of the most over node (and so on
// down from from), chosen again after every move.
func (b *builder) pull(n, from, to int32, phase int) int64 {
	t := b.t
	clean := phase != pullAny
	strict := phase == pullMovedStrict || phase == pullStrict
	onlyMoved := phase == pullMovedStrict || phase == pullMovedClean
	defer b.resetPull()
	var moved int64
	for b.canGive(from, to) {
		d := b.pickSource(from, clean, strict, onlyMoved)
		if d < 0 {
			break
		}
		list := b.idx[d]
		if onlyMoved {
			list = b.midx[d]
		}
		ok := false
		for i := int(b.cursor[d]); i < len(list); i++ {
			s := list[i]
			if b.table[s] != uint32(d) {
				continue
			}
			if b.tryMove(s, d, to, n, clean, strict) {
				b.cursor[d] = int32(i + 1)
				ok = true
				break
			}
		}
		if ok {
			moved++
			continue
		}
		b.cursor[d] = int32(len(list))
		b.exhaust(t.leafOf[d], 1)
	}
	return moved
}

// exhaust records k more disks below x (x included) with nothing left to
// try in this pull.
func (b *builder) exhaust(x int32, k int32) {
	for ; x >= 0; x = b.t.tn[x].parent {
		if b.exh[x] == 0 {
			b.exhTouched = append(b.exhTouched, x)
		}
		b.exh[x] += k
	}
}

func (b *builder) resetPull() {
	for _, x := range b.exhTouched {
		b.exh[x] = 0
		if b.t.tn[x].tier == tierDisk {
			b.cursor[b.t.tn[x].lo] = 0
		}
	}
	b.exhTouched = b.exhTouched[:0]
	for _, d := range b.cursorTouched {
		b.cursor[d] = 0
	}
	b.cursorTouched = b.cursorTouched[:0]
}

// mayGive reports whether tree node x may give a slot in this phase.
func (b *builder) mayGive(x int32, clean, strict, onlyMoved bool) bool {
	if b.exh[x] >= b.t.tn[x].cap || (onlyMoved && b.mcnt[x] == 0) {
		return false
	}
	if !clean {
		return true
	}
	return b.asg[x] > floorFP(b.share[x]) && (!strict || b.deficit(x) < 0)
}

// pickSource returns the disk below from to take a slot from next: the
// most over child at every tier that may give, or -1.
func (b *builder) pickSource(from int32, clean, strict, onlyMoved bool) int32 {
	t := b.t
	for b.exh[from] < t.tn[from].cap {
		m := from
		for t.tn[m].tier != tierDisk {
			best := int32(-1)
			for _, ch := range t.tn[m].children {
				if b.mayGive(ch, clean, strict, onlyMoved) && (best < 0 || b.hless(best, ch)) {
					best = ch
				}
			}
			if best < 0 {
				break
			}
			m = best
		}
		if t.tn[m].tier == tierDisk {
			d := t.tn[m].lo
			if b.cursor[d] == 0 {
				b.cursorTouched = append(b.cursorTouched, d)
			}
			return d
		}
		// Nothing below m may give: count its remaining disks as done.
		b.exhaust(m, t.tn[m].cap-b.exh[m])
	}
	return -1
}

// tryMove moves slot s from disk d to the most wanted disk below to that
// keeps every spread limit, if there is one. lca is the parent of to and
// of d's ancestor. A clean move also leaves every tree node on d's path
// at or above its share rounded down, and goes only through tree nodes
// below their share rounded up, so that it needs no correction later; a
// strict one takes only from tree nodes above their share and lands
// within one slot of the neediest disk.
func (b *builder) tryMove(s uint32, d int32, to, lca int32, clean, strict bool) bool {
	t := b.t
	if clean {
		for tier := int(t.tn[lca].tier) + 1; tier < numTiers; tier++ {
			x := t.anc[int(d)*numTiers+tier]
			if b.asg[x] <= floorFP(b.share[x]) || (strict && b.deficit(x) >= 0) {
				return false
			}
		}
	}
	p := int(s) / b.width
	row := b.table[p*b.width : (p+1)*b.width]
	b.countRow(row)
	b.addPath(d, -1)
	m := to
	for t.tn[m].tier != tierDisk {
		after := int(b.cv[m]) + 1
		ch := b.pickChild(m, after, clean, strict)
		if ch < 0 {
			return false
		}
		m = ch
	}
	if b.cv[m] != 0 {
		return false
	}
	e := t.tn[m].lo
	b.addPath(e, 1)
	if !b.spreadOK(lca) {
		return false
	}
	for tier := int(t.tn[lca].tier) + 1; tier < tierDisk; tier++ {
		if !b.spreadOK(t.anc[int(d)*numTiers+tier]) || !b.spreadOK(t.anc[int(e)*numTiers+tier]) {
			return false
		}
	}
	row[int(s)%b.width] = uint32(e)
	if b.isMoved(int(s)) {
		b.movedPath(d, -1)
	}
	b.setMoved(int(s))
	b.movedPath(e, 1)
	b.bump(t.leafOf[d], -1)
	b.bump(m, +1)
	b.idx[e] = append(b.idx[e], s)
	b.midx[e] = append(b.midx[e], s)
	return true
}

// pickChild returns the most wanted child of m that may take one more
// replica when m holds after (and, if clean, is below its share rounded
// up; if strict, is within one slot of the neediest child), or -1.
func (b *builder) pickChild(m int32, after int, clean, strict bool) int32 {
	t := b.t
	nd := &t.tn[m]
	if after >= len(nd.level) || nd.level[after] == noLevel {
		return -1
	}
	best := int32(-1)
	if nd.level[after] <= 1 {
		mode := skipCounted
		if clean {
			mode = skipFull
		}
		out := b.topChildren(m, 1, b.pick[0][:0], mode, nil, false)
		b.pick[0] = out
		if len(out) > 0 {
			best = out[0]
		}
		if strict && best >= 0 && b.deficit(best) < b.deficit(b.heaps[m][0])-1<<fpShift {
			return -1
		}
		return best
	}
	var top int64
	for i, ch := range nd.children {
		if i == 0 || b.deficit(ch) > top {
			top = b.deficit(ch)
		}
		if clean && b.asg[ch] >= ceilFP(b.share[ch]) {
			continue
		}
		if int(b.cv[ch]) < t.limit(m, after, ch) && (best < 0 || b.hless(ch, best)) {
			best = ch
		}
	}
	if strict && best >= 0 && b.deficit(best) < top-1<<fpShift {
		return -1
	}
	return best
}
