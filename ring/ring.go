package ring

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Ring is the placement computed from a map: for every policy, the
// ordered disks of each partition. A Ring is immutable; its methods may be
// called from any number of goroutines.
type Ring struct {
	epoch    uint64
	topo     *topology
	policies []*policyRing // by name
	byName   map[string]*policyRing
}

type policyRing struct {
	pol   Policy
	width int
	parts int
	table []uint32 // parts*width indices into topo.disks
	share []int64  // per disk: slots it should hold, in 1/2^fpShift slot
	seed  uint64   // of the policy's name, for hand-offs
}

// Placement is where one object goes.
type Placement struct {
	Policy    string
	Partition uint32
	// Disks are the partition's disks in shard order: replica i, or shard
	// i (data shards first, then parity) lives on Disks[i].
	Disks []DiskID
	// Handoffs are the next candidates, none of them in Disks, best first:
	// disks in regions, then zones, then nodes that hold no disk of the
	// partition, then any other disk.
	Handoffs []DiskID
}

// Build computes the ring of map m. prev is the ring of the previous map
// (nil for the first): every partition-replica of prev whose disk is still
// "in" stays where it is unless a quota or a spread limit requires a move.
// Build is deterministic: the same (prev, m) give the same ring, byte for
// byte, on every machine. It refuses an invalid map, and a map in which a
// policy is unplaceable (the caller keeps its previous ring).
func Build(prev *Ring, m *Map) (*Ring, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil map", ErrInvalid)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	t := newTopology(m)
	r := &Ring{epoch: m.Epoch, topo: t, byName: make(map[string]*policyRing, len(m.Policies))}
	for _, p := range m.Policies {
		if err := t.placeable(p); err != nil {
			return nil, err
		}
		var prevTable []uint32
		if prev != nil {
			if pp := prev.byName[p.Name]; pp != nil && pp.pol.Power == p.Power && pp.width == p.Width() {
				prevTable = translate(pp.table, prev.topo, t)
			}
		}
		table, err := buildTable(t, p.Partitions(), p.Width(), prevTable)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", p.Name, err)
		}
		r.addPolicy(p, table)
	}
	return r, nil
}

// translate maps a table of from's disk indices to to's, emptying the
// slots of disks that to does not have.
func translate(table []uint32, from, to *topology) []uint32 {
	idx := make([]uint32, len(from.disks))
	for i, d := range from.disks {
		idx[i] = none
		if j, ok := to.byID[d.ID]; ok {
			idx[i] = uint32(j)
		}
	}
	out := make([]uint32, len(table))
	for i, d := range table {
		out[i] = idx[d]
	}
	return out
}

func (r *Ring) addPolicy(p Policy, table []uint32) {
	pr := &policyRing{
		pol:   p,
		width: p.Width(),
		parts: p.Partitions(),
		table: table,
		seed:  xxhash.Sum64String(p.Name),
	}
	q := r.topo.shares(pr.parts, pr.width)
	pr.share = make([]int64, len(r.topo.disks))
	for d := range pr.share {
		pr.share[d] = q[r.topo.leafOf[d]]
	}
	r.policies = append(r.policies, pr)
	r.byName[p.Name] = pr
}

// Epoch is the epoch of the map the ring was built from.
func (r *Ring) Epoch() uint64 { return r.epoch }

// Policies returns the ring's policies, by name.
func (r *Ring) Policies() []Policy {
	out := make([]Policy, len(r.policies))
	for i, p := range r.policies {
		out[i] = p.pol
	}
	return out
}

// Disks returns the disks that receive partitions, ordered by region,
// zone, node and id.
func (r *Ring) Disks() []DiskInfo { return slices.Clone(r.topo.disks) }

// Disk returns a disk of the ring.
func (r *Ring) Disk(id DiskID) (DiskInfo, bool) {
	i, ok := r.topo.byID[id]
	if !ok {
		return DiskInfo{}, false
	}
	return r.topo.disks[i], true
}

func (r *Ring) policy(name string) (*policyRing, error) {
	pr := r.byName[name]
	if pr == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPolicy, name)
	}
	return pr, nil
}

// PartitionOf returns the partition of an object under a policy of the
// given power: the top power bits of XXH64 (seed 0) of the bytes
// policy + "/" + bucket + "/" + key.
func PartitionOf(power int, policy, bucket, key string) uint32 {
	if power <= 0 {
		return 0
	}
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(policy)
	_, _ = d.WriteString("/")
	_, _ = d.WriteString(bucket)
	_, _ = d.WriteString("/")
	_, _ = d.WriteString(key)
	return uint32(d.Sum64() >> (64 - uint(power)))
}

// Partition returns the partition of an object.
func (r *Ring) Partition(policy, bucket, key string) (uint32, error) {
	pr, err := r.policy(policy)
	if err != nil {
		return 0, err
	}
	return PartitionOf(pr.pol.Power, policy, bucket, key), nil
}

// Locate returns the placement of an object: its partition, its disks in
// shard order and as many hand-offs as the policy's width (fewer when the
// ring has fewer other disks). Cost: O(width) for the disks.
func (r *Ring) Locate(policy, bucket, key string) (Placement, error) {
	pr, err := r.policy(policy)
	if err != nil {
		return Placement{}, err
	}
	part := PartitionOf(pr.pol.Power, policy, bucket, key)
	return Placement{
		Policy:    policy,
		Partition: part,
		Disks:     r.primaries(pr, part),
		Handoffs:  r.handoffs(pr, part, pr.width),
	}, nil
}

// Primaries returns the disks of a partition in shard order.
func (r *Ring) Primaries(policy string, part uint32) ([]DiskID, error) {
	pr, err := r.policy(policy)
	if err != nil {
		return nil, err
	}
	if int(part) >= pr.parts {
		return nil, fmt.Errorf("%w: partition %d of policy %s (has %d)", ErrInvalid, part, policy, pr.parts)
	}
	return r.primaries(pr, part), nil
}

// Handoffs returns up to n hand-off disks of a partition, best first.
func (r *Ring) Handoffs(policy string, part uint32, n int) ([]DiskID, error) {
	pr, err := r.policy(policy)
	if err != nil {
		return nil, err
	}
	if int(part) >= pr.parts {
		return nil, fmt.Errorf("%w: partition %d of policy %s (has %d)", ErrInvalid, part, policy, pr.parts)
	}
	return r.handoffs(pr, part, n), nil
}

// Assignment is one partition-replica: shard Index of Partition.
type Assignment struct {
	Partition uint32
	Index     int
}

// Assignments returns the partition-replicas of a policy that a disk
// holds, by partition. Cost: O(partitions x width).
func (r *Ring) Assignments(policy string, disk DiskID) ([]Assignment, error) {
	pr, err := r.policy(policy)
	if err != nil {
		return nil, err
	}
	d, ok := r.topo.byID[disk]
	if !ok {
		return nil, nil
	}
	var out []Assignment
	for s, x := range pr.table {
		if x == uint32(d) {
			out = append(out, Assignment{Partition: uint32(s / pr.width), Index: s % pr.width})
		}
	}
	return out, nil
}

func (r *Ring) primaries(pr *policyRing, part uint32) []DiskID {
	row := pr.table[int(part)*pr.width : (int(part)+1)*pr.width]
	out := make([]DiskID, len(row))
	for i, d := range row {
		out[i] = r.topo.disks[d].ID
	}
	return out
}

// mix64 is the finalizer of SplitMix64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// handoffs lists up to n disks outside the partition's primaries, by
// decreasing independence from them: first one disk in each region that
// holds no disk of the partition yet, then in each such zone, then in
// each such node (nodes taken round-robin over zones), then any remaining
// disk. Where to start in each list, and which disk of a fresh domain,
// follow a hash of (policy, partition), so hand-off load spreads evenly.
func (r *Ring) handoffs(pr *policyRing, part uint32, n int) []DiskID {
	t := r.topo
	row := pr.table[int(part)*pr.width : (int(part)+1)*pr.width]
	n = min(n, len(t.disks)-len(row))
	if n <= 0 {
		return nil
	}
	seed := mix64(pr.seed ^ uint64(part)*0x9e3779b97f4a7c15)
	used := make([]int32, 0, (len(row)+n)*numTiers)
	mark := func(d uint32) {
		for tier := tierRegion; tier < numTiers; tier++ {
			used = append(used, t.anc[int(d)*numTiers+tier])
		}
	}
	isUsed := func(x int32) bool { return slices.Contains(used, x) }
	for _, d := range row {
		mark(d)
	}
	rot := func(x int32, k int) int { return int(mix64(seed^uint64(x)*0xff51afd7ed558ccd) % uint64(k)) }
	out := make([]DiskID, 0, n)
	take := func(x int32) { // one disk of the fresh subtree x
		for t.tn[x].tier != tierDisk {
			ch := t.tn[x].children
			x = ch[rot(x, len(ch))]
		}
		d := uint32(t.tn[x].lo)
		mark(d)
		out = append(out, t.disks[d].ID)
	}
	for _, tier := range []int{tierRegion, tierZone} {
		list := t.tiers[tier]
		start := rot(int32(-1-tier), len(list))
		for i := 0; i < len(list) && len(out) < n; i++ {
			if x := list[(start+i)%len(list)]; !isUsed(x) {
				take(x)
			}
		}
	}
	// Nodes, round-robin over zones.
	zones := t.tiers[tierZone]
	zstart := rot(-1-tierNode, len(zones))
	for k, more := 0, true; more && len(out) < n; k++ {
		more = false
		for i := 0; i < len(zones) && len(out) < n; i++ {
			z := zones[(zstart+i)%len(zones)]
			nodes := t.tn[z].children
			if k >= len(nodes) {
				continue
			}
			more = true
			if x := nodes[(rot(z, len(nodes))+k)%len(nodes)]; !isUsed(x) {
				take(x)
			}
		}
	}
	// Any disk left.
	start := rot(-1-tierDisk, len(t.disks))
	for i := 0; i < len(t.disks) && len(out) < n; i++ {
		d := uint32((start + i) % len(t.disks))
		if !isUsed(t.leafOf[d]) {
			mark(d)
			out = append(out, t.disks[d].ID)
		}
	}
	return out
}

// --- binary encoding ---

var ringMagic = [4]byte{'B', 'R', 'N', 'G'}

const ringVersion = 1

// MarshalBinary encodes the ring (layout in the package documentation).
// The same ring always gives the same bytes.
func (r *Ring) MarshalBinary() ([]byte, error) {
	size := 64
	for _, pr := range r.policies {
		size += 32 + 4*len(pr.table)
	}
	b := make([]byte, 0, size+64*len(r.topo.disks))
	b = append(b, ringMagic[:]...)
	b = append(b, ringVersion)
	b = binary.AppendUvarint(b, r.epoch)
	b = binary.AppendUvarint(b, uint64(len(r.topo.disks)))
	for _, d := range r.topo.disks {
		b = appendString(b, string(d.ID))
		b = appendString(b, string(d.Node))
		b = appendString(b, d.Zone)
		b = appendString(b, d.Region)
		b = binary.AppendUvarint(b, uint64(d.Weight))
	}
	b = binary.AppendUvarint(b, uint64(len(r.policies)))
	for _, pr := range r.policies {
		p := pr.pol
		b = appendString(b, p.Name)
		b = binary.AppendUvarint(b, uint64(p.Replicas))
		b = binary.AppendUvarint(b, uint64(p.K))
		b = binary.AppendUvarint(b, uint64(p.M))
		b = binary.AppendUvarint(b, uint64(p.Power))
		b = appendString(b, string(p.Domain))
		for _, d := range pr.table {
			b = binary.LittleEndian.AppendUint32(b, d)
		}
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return b, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint(max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.err = fmt.Errorf("%w: ring: bad integer", ErrCorrupt)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint(maxIDLen)
	if r.err != nil {
		return ""
	}
	if uint64(len(r.b)) < n {
		r.err = fmt.Errorf("%w: ring: short string", ErrCorrupt)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// DecodeRing decodes a ring encoded by MarshalBinary, checking its
// checksum and that every table entry names a disk of the ring and every
// partition has distinct disks.
func DecodeRing(b []byte) (*Ring, error) {
	if len(b) < len(ringMagic)+1+4 || [4]byte(b[:4]) != ringMagic {
		return nil, fmt.Errorf("%w: ring: bad magic", ErrCorrupt)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: ring: checksum mismatch", ErrCorrupt)
	}
	if body[4] != ringVersion {
		return nil, fmt.Errorf("%w: ring: version %d", ErrCorrupt, body[4])
	}
	rd := &reader{b: body[5:]}
	epoch := rd.uvarint(^uint64(0))
	nd := rd.uvarint(uint64(len(rd.b)))
	ds := make([]DiskInfo, 0, nd)
	for i := uint64(0); i < nd && rd.err == nil; i++ {
		d := DiskInfo{ID: DiskID(rd.string()), Node: NodeID(rd.string()), Zone: rd.string(), Region: rd.string()}
		d.Weight = uint32(rd.uvarint(MaxWeight))
		if rd.err == nil && (!validID(string(d.ID)) || !validID(string(d.Node)) || !validID(d.Zone) ||
			(d.Region != "" && !validID(d.Region)) || d.Weight == 0) {
			rd.err = fmt.Errorf("%w: ring: bad disk %q", ErrCorrupt, d.ID)
		}
		if rd.err == nil && len(ds) > 0 && ds[len(ds)-1].compare(d) >= 0 {
			rd.err = fmt.Errorf("%w: ring: disks out of order at %q", ErrCorrupt, d.ID)
		}
		ds = append(ds, d)
	}
	if rd.err != nil {
		return nil, rd.err
	}
	seen := make(map[DiskID]bool, len(ds))
	for _, d := range ds {
		if seen[d.ID] {
			return nil, fmt.Errorf("%w: ring: duplicate disk %q", ErrCorrupt, d.ID)
		}
		seen[d.ID] = true
	}
	r := &Ring{epoch: epoch, topo: buildTopology(ds), byName: map[string]*policyRing{}}
	np := rd.uvarint(uint64(len(rd.b)))
	for i := uint64(0); i < np && rd.err == nil; i++ {
		p := Policy{Name: rd.string()}
		p.Replicas = int(rd.uvarint(MaxWidth))
		p.K = int(rd.uvarint(MaxWidth))
		p.M = int(rd.uvarint(MaxWidth))
		p.Power = int(rd.uvarint(MaxPartitionPower))
		p.Domain = Tier(rd.string())
		if rd.err != nil {
			break
		}
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("%w: ring: %v", ErrCorrupt, err)
		}
		if len(r.policies) > 0 && r.policies[len(r.policies)-1].pol.Name >= p.Name {
			return nil, fmt.Errorf("%w: ring: policies out of order at %q", ErrCorrupt, p.Name)
		}
		w, parts := p.Width(), p.Partitions()
		if len(ds) < w {
			return nil, fmt.Errorf("%w: ring: policy %s wider than the ring", ErrCorrupt, p.Name)
		}
		if len(rd.b) < 4*parts*w {
			return nil, fmt.Errorf("%w: ring: short table", ErrCorrupt)
		}
		table := make([]uint32, parts*w)
		for s := range table {
			table[s] = binary.LittleEndian.Uint32(rd.b[4*s:])
			if table[s] >= uint32(len(ds)) {
				return nil, fmt.Errorf("%w: ring: table entry %d out of range", ErrCorrupt, table[s])
			}
		}
		rd.b = rd.b[4*parts*w:]
		for part := 0; part < parts; part++ {
			row := table[part*w : (part+1)*w]
			for j := 1; j < w; j++ {
				if slices.Contains(row[:j], row[j]) {
					return nil, fmt.Errorf("%w: ring: partition %d of %s holds a disk twice", ErrCorrupt, part, p.Name)
				}
			}
		}
		r.addPolicy(p, table)
	}
	if rd.err != nil {
		return nil, rd.err
	}
	if len(rd.b) != 0 {
		return nil, fmt.Errorf("%w: ring: trailing bytes", ErrCorrupt)
	}
	return r, nil
}
