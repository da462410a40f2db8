package objectd

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/ring"
)

// Layout is where a store that is one node of a cluster places objects:
// the ring computed from the cluster map, the storage policy new objects
// are written with, and a Volume for every disk of the ring (this node's
// own from LocalVolume, the others' reached over the shard API).
//
// Without a layout a store places objects over its local disks alone.
type Layout struct {
	Ring    *ring.Ring
	Policy  string
	Volumes map[ring.DiskID]disk.Volume
	// InContact, when set, says whether this node is in contact with the
	// cluster. When it is not (the node is cut off), the store places
	// nothing and reads nothing: every object operation fails with a
	// quorum error rather than serve what another node may have replaced.
	InContact func() bool
}

// clusterView is a Layout prepared for lookups.
type clusterView struct {
	Layout
	all  []disk.Volume // every volume, by disk id
	prev []*ring.Ring  // the rings before this one, newest first
	// parts holds each partition's primaries as volumes (nil where the
	// ring's disk has none), so that placing an object costs a hash and
	// a copy.
	parts [][]disk.Volume
	// remote is set when some volume is another node's.
	remote bool
	// placed are the volumes the ring puts partitions on (nil for a
	// disk of the ring without a volume).
	placed []disk.Volume
	// retired are the disks the kept earlier rings place on that this
	// one does not (out of service, drained, removed): they may still
	// hold records a write counted.
	retired []ring.DiskID
	// byNode are the ring's volumes by node, for telling which nodes
	// this one reaches.
	byNode map[ring.NodeID][]disk.Volume

	local   map[disk.Volume]bool // this node's own disks (never reinstated here)
	probeMu sync.Mutex
	probed  map[ring.NodeID]time.Time // when serving last asked a node seen down
}

// keptRings is how many earlier rings reads still look at while the
// rebalancer moves shards to the current one.
const keptRings = 2

// SetLayout makes the store place objects by l from now on (nil: back to
// the local disks alone). The policy's width must be the store's k+m.
// Objects written under an earlier layout stay readable where their
// shards are until the rebalancer has moved them.
func (s *Store) SetLayout(l *Layout) error {
	if l == nil {
		s.layout.Store(nil)
		return nil
	}
	var width int
	for _, p := range l.Ring.Policies() {
		if p.Name == l.Policy {
			width = p.Width()
		}
	}
	if want := s.cfg.DataShards + s.cfg.ParityShards; width != want {
		return fmt.Errorf("%w: policy %q places %d shards, the store writes %d+%d", ErrInvalidArgument, l.Policy, width, s.cfg.DataShards, s.cfg.ParityShards)
	}
	v := &clusterView{Layout: *l, local: map[disk.Volume]bool{}}
	if old := s.layout.Load(); old != nil && old.Ring.Epoch() != l.Ring.Epoch() {
		v.prev = append([]*ring.Ring{old.Ring}, old.prev...)
		if len(v.prev) > keptRings {
			v.prev = v.prev[:keptRings]
		}
	} else if old != nil {
		v.prev = old.prev
	}
	ids := make([]ring.DiskID, 0, len(l.Volumes))
	for id := range l.Volumes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		v.all = append(v.all, l.Volumes[id])
		if slices.Contains(s.disks, l.Volumes[id]) {
			v.local[l.Volumes[id]] = true
		} else {
			v.remote = true
		}
	}
	for _, r := range v.prev {
		for _, di := range r.Disks() {
			if _, in := l.Ring.Disk(di.ID); !in && !slices.Contains(v.retired, di.ID) {
				v.retired = append(v.retired, di.ID)
			}
		}
	}
	v.byNode = map[ring.NodeID][]disk.Volume{}
	for _, di := range l.Ring.Disks() {
		v.byNode[di.Node] = append(v.byNode[di.Node], l.Volumes[di.ID])
	}
	placed := map[disk.Volume]bool{}
	for part := 0; ; part++ {
		ids, err := l.Ring.Primaries(l.Policy, uint32(part))
		if err != nil {
			break
		}
		vols := make([]disk.Volume, len(ids))
		for i, id := range ids {
			vols[i] = l.Volumes[id]
			if !placed[vols[i]] {
				placed[vols[i]] = true
				v.placed = append(v.placed, vols[i])
			}
		}
		v.parts = append(v.parts, vols)
	}
	s.layout.Store(v)
	if s.cfg.Cluster {
		s.startFillBack()
	}
	s.kickRebalance()
	return nil
}

// startFillBack starts the fill back of this node's new or replaced disks,
// once.
func (s *Store) startFillBack() {
	s.fillOnce.Do(func() {
		s.wg.Add(1)
		go s.fillBack()
	})
}

// Epoch is the ring epoch of the layout in use (0 without one).
func (s *Store) Epoch() uint64 {
	if v := s.layout.Load(); v != nil {
		return v.Ring.Epoch()
	}
	return 0
}

// FreshDisks are the indices (in Config.Disks) of the local disks this
// Open formatted: new disks, or replaced ones.
func (s *Store) FreshDisks() []int {
	var out []int
	for i, f := range s.fresh {
		if f {
			out = append(out, i)
		}
	}
	return out
}

// MarkReplaced marks local disk i as a replaced one: until it is filled
// back, its "not found" answers do not count. On one node a fresh disk
// among old ones is marked so by Open; in a cluster only the cluster map
// knows that a fresh disk had held data (its id was in the map before).
// Call it before the first SetLayout, which starts the fill back.
func (s *Store) MarkReplaced(i int) error {
	d := s.LocalVolume(i)
	if d == nil {
		return fmt.Errorf("%w: no local disk %d", ErrInvalidArgument, i)
	}
	if d.Healing() {
		return nil
	}
	s.log.Info("replaced disk: filling it back", "disk", s.cfg.Disks[i])
	return d.SetHealing(true)
}

// LocalVolume is this node's disk i (in Config.Disks order), or nil when
// it is offline.
func (s *Store) LocalVolume(i int) disk.Volume {
	if i < 0 || i >= len(s.disks) {
		return nil
	}
	return s.disks[i]
}

// placeOn returns the disks of an object by the ring, in shard order. A
// primary that is down is replaced by the first hand-off that is up, so
// that a write keeps its full width and a read looks where the write
// went; the rebalancer moves such shards home later.
func (s *Store) placeOn(v *clusterView, bucket, key string) []disk.Volume {
	w := s.cfg.DataShards + s.cfg.ParityShards
	out := make([]disk.Volume, w)
	if v.serving() != nil {
		return out
	}
	part, err := v.Ring.Partition(v.Policy, bucket, key)
	if err != nil || int(part) >= len(v.parts) {
		s.log.Warn("placement failed", "bucket", bucket, "key", key, "err", err)
		return out
	}
	down := false
	for i, d := range v.parts[part] {
		if i < w && d != nil && !d.Failed() {
			out[i] = d
		} else if i < w {
			down = true
		}
	}
	if !down {
		return out
	}
	hs, _ := v.Ring.Handoffs(v.Policy, part, w)
	next := 0
	for i := range out {
		for out[i] == nil && next < len(hs) {
			if d := v.Volumes[hs[next]]; d != nil && !d.Failed() {
				out[i] = d
			}
			next++
		}
	}
	return out
}

// primaries returns the disks the ring names for an object, without
// hand-offs (nil where the ring's disk has no volume).
func (s *Store) primaries(v *clusterView, bucket, key string) []disk.Volume {
	part, err := v.Ring.Partition(v.Policy, bucket, key)
	if err != nil || int(part) >= len(v.parts) {
		return nil
	}
	return v.parts[part]
}

// DiskRecords counts, up to limit, the object records (versions and
// tombstones) the ring's disk id holds, wherever its node is: a drained
// disk is empty when this is 0.
func (s *Store) DiskRecords(id ring.DiskID, limit int) (int, error) {
	v := s.layout.Load()
	if v == nil {
		return 0, fmt.Errorf("%w: no ring yet", ErrInvalidArgument)
	}
	d := v.Volumes[id]
	if d == nil {
		return 0, fmt.Errorf("%w: disk %s has no volume in this node's layout", ErrInvalidArgument, id)
	}
	n := 0
	for _, prefix := range []string{"o/", "v/"} {
		it, err := d.NewIterator([]byte(prefix), nil, false)
		if err != nil {
			return 0, err
		}
		for ; it.Valid() && n < limit; it.Next() {
			n++
		}
		it.Close()
	}
	return n, nil
}

// serving says whether this node may place and read objects: it must be
// in contact with the Raft leader, and reach (see at least one disk of)
// a majority of the ring's nodes, itself included. A node cut off, or
// just back from a cut and not yet seeing the others again, could
// otherwise answer from its own disks what the others have replaced on
// hand-offs standing in for them.
func (v *clusterView) serving() error {
	if v.InContact != nil && !v.InContact() {
		return fmt.Errorf("%w: this node is cut off from the cluster", ErrReadQuorum)
	}
	if len(v.byNode) < 2 {
		return nil
	}
	reached := v.reached(false)
	if 2*reached <= len(v.byNode) {
		// The others may be back since they were last seen down: ask
		// them now rather than refuse until the next probe.
		reached = v.reached(true)
	}
	if 2*reached <= len(v.byNode) {
		return fmt.Errorf("%w: this node reaches %d of the cluster's %d nodes", ErrReadQuorum, reached, len(v.byNode))
	}
	return nil
}

// reachProbeEvery bounds how often serving asks a node seen down whether
// it is back.
const reachProbeEvery = 200 * time.Millisecond

// reached counts the nodes with a disk in service; with ask, a node whose
// disks all seem down is first asked (one disk's health, at most every
// reachProbeEvery), which brings its disks back when it answers.
func (v *clusterView) reached(ask bool) int {
	n := 0
	for node, vols := range v.byNode {
		up := slices.ContainsFunc(vols, func(d disk.Volume) bool { return d != nil && !d.Failed() })
		if !up && ask && len(vols) > 0 && vols[0] != nil && !v.local[vols[0]] && v.mayProbe(node) && vols[0].Healthy() == nil {
			for _, d := range vols {
				if d != nil {
					d.Reinstate()
				}
			}
			up = true
		}
		if up {
			n++
		}
	}
	return n
}

// reprobe asks each node whose disks all look down whether it is back
// (at most every reachProbeEvery, see reached), and reports whether one
// was: its disks then count again. A node is seen down for up to a
// health probe's interval after it restarted; a listing, which must hear
// from all but m disks, and a read that cannot tell the version to serve
// ask again before they refuse.
func (s *Store) reprobe() bool {
	v := s.layout.Load()
	if v == nil || v.serving() != nil {
		return false
	}
	before := v.reached(false)
	return v.reached(true) > before
}

func (v *clusterView) mayProbe(node ring.NodeID) bool {
	v.probeMu.Lock()
	defer v.probeMu.Unlock()
	if time.Since(v.probed[node]) < reachProbeEvery {
		return false
	}
	if v.probed == nil {
		v.probed = map[ring.NodeID]time.Time{}
	}
	v.probed[node] = time.Now()
	return true
}

// listQuorum refuses a listing that could miss keys: in a cluster, when
// more than m of the disks the ring places on are down (or this node is
// cut off), some object may have fewer than k records on the disks that
// answer, and a listing would leave it out as if it did not exist.
func (s *Store) listQuorum() error {
	v := s.layout.Load()
	if v == nil {
		return nil
	}
	if err := v.serving(); err != nil {
		return err
	}
	down := 0
	for _, d := range v.placed {
		if d == nil || d.Failed() {
			down++
		}
	}
	if down > s.cfg.ParityShards {
		return fmt.Errorf("%w: %d of the ring's %d disks are down, more than %d", ErrReadQuorum, down, len(v.placed), s.cfg.ParityShards)
	}
	return nil
}

// listAnswered returns how many disks that could hold a key did not
// answer a listing with what they hold (down, unreadable, or being filled
// back): in a cluster the disks the ring places on, else this store's. In
// a cluster it refuses the listing when more than m did not: some key
// could then be missing.
func (s *Store) listAnswered(mi *mergeIter) (int, error) {
	answered := map[disk.Volume]bool{}
	for _, d := range mi.disks {
		if !d.Healing() {
			answered[d] = true
		}
	}
	v := s.layout.Load()
	if v == nil {
		missing := 0
		for _, d := range s.disks {
			if d == nil || !answered[d] {
				missing++
			}
		}
		return missing, nil
	}
	missing := 0
	for _, d := range v.placed {
		if !answered[d] {
			missing++
		}
	}
	// A retired disk that did not answer is missing too.
	for _, id := range v.retired {
		if d := v.Volumes[id]; d == nil || !answered[d] {
			missing++
		}
	}
	if missing > s.cfg.ParityShards {
		return missing, fmt.Errorf("%w: %d of the ring's %d disks did not answer the listing", ErrReadQuorum, missing, len(v.placed))
	}
	return missing, nil
}

// localOnline returns this node's disks in service.
func (s *Store) localOnline() []disk.Volume {
	var out []disk.Volume
	for _, d := range s.disks {
		if d != nil && !d.Failed() {
			out = append(out, d)
		}
	}
	return out
}

// readSet reads the records at okey of an object's set and, in a cluster,
// widens the set when it does not hold the version on every slot (see
// widen). Reads, deletes and version changes start here, so that they
// find and act on shards wherever a hand-off or an earlier ring put them.
func (s *Store) readSet(bucket, key string, okey []byte) ([]disk.Volume, []*record, []error) {
	set := s.set(bucket, key)
	recs, errs := s.readRecords(set, okey)
	v := s.layout.Load()
	if v == nil {
		return set, recs, errs
	}
	set, recs, errs = alignSlots(set, recs, errs)
	// A hand-off standing in for a primary that is down holds only what
	// was written while it stood in: its "not found" proves nothing, and
	// does not count towards a read quorum (else a node that sees the
	// others down would take its own hand-offs' silence for absence).
	if prim := s.primaries(v, bucket, key); len(prim) == len(set) {
		for j, d := range set {
			if d != nil && !slices.Contains(prim, d) && recs[j] == nil && errs[j] == nil {
				errs[j] = errHandoffEmpty
			}
		}
	}
	if oneVersion(recs) {
		return set, recs, errs
	}
	set, recs, errs, silent := s.widen(bucket, key, okey, set, recs, errs)
	if silent > 0 {
		// Hand-offs that did not answer may hold records in place of
		// slots that did: see unseenNewer.
		unanswered := silent
		for _, err := range errs {
			if err != nil {
				unanswered++
			}
		}
		if err := s.unseenNewer(recs, unanswered, readable(recs)); err != nil {
			for j := range errs {
				recs[j], errs[j] = nil, err
			}
		}
	}
	return set, recs, errs
}

// alignSlots puts each disk of a set at the slot of the shard its record
// holds, when records name other slots than their disks' (a ring change
// that swapped slots among the same disks, not yet rebalanced, or data
// placed by an earlier placement): reads then take shard j from the disk
// that has it. For a slot two records claim, the newer wins; a disk left
// over goes to a free slot as holding nothing that counts.
func alignSlots(set []disk.Volume, recs []*record, errs []error) ([]disk.Volume, []*record, []error) {
	n := len(set)
	aligned := true
	for j, r := range recs {
		if r != nil && r.ShardIndex != j {
			aligned = false
			break
		}
	}
	if aligned {
		return set, recs, errs
	}
	order := make([]int, n)
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch ra, rb := recs[a], recs[b]; {
		case ra == nil && rb == nil:
			return 0
		case ra == nil:
			return 1
		case rb == nil:
			return -1
		default:
			return cmp.Compare(rb.ModTime, ra.ModTime)
		}
	})
	ns, nr, ne := make([]disk.Volume, n), make([]*record, n), make([]error, n)
	taken, used := make([]bool, n), make([]bool, n)
	for _, j := range order {
		r := recs[j]
		if r == nil || r.ShardIndex < 0 || r.ShardIndex >= n || taken[r.ShardIndex] {
			continue
		}
		i := r.ShardIndex
		ns[i], nr[i], ne[i] = set[j], r, errs[j]
		taken[i], used[j] = true, true
	}
	free := 0
	for j := range set {
		if used[j] {
			continue
		}
		for free < n && taken[free] {
			free++
		}
		if free == n {
			break
		}
		ns[free], nr[free], ne[free] = set[j], recs[j], errs[j]
		if nr[free] != nil && nr[free].ShardIndex != free {
			nr[free], ne[free] = nil, errHandoffEmpty
		}
		taken[free] = true
	}
	return ns, nr, ne
}

// oneVersion reports whether every slot holds a record of one version.
func oneVersion(recs []*record) bool {
	for _, r := range recs {
		if r == nil || r.VersionID != recs[0].VersionID {
			return false
		}
	}
	return len(recs) > 0
}

// widen looks for an object's records beyond its placement: on the disks
// the previous rings placed it on (until the rebalancer has moved it), and
// on the ring's hand-offs (where a write went while a primary was down).
// A record found there with shard index j takes slot j when the slot's
// own disk holds nothing, or an older version. silent counts the disks
// looked at that did not answer.
func (s *Store) widen(bucket, key string, okey []byte, set []disk.Volume, recs []*record, errs []error) (_ []disk.Volume, _ []*record, _ []error, silent int) {
	v := s.layout.Load()
	if v.serving() != nil {
		return set, recs, errs, 0 // a node that does not serve reads nothing
	}
	// A disk an earlier ring placed the key on that is gone (see beyond)
	// is silent, as is a disk beyond the set that does not answer.
	cands, silent := s.beyond(v, bucket, key, set)
	if len(cands) == 0 {
		return set, recs, errs, silent
	}
	crecs, cerrs := s.readRecords(cands, okey)
	for _, err := range cerrs {
		if err != nil {
			silent++
		}
	}
	set, recs, errs = slices.Clone(set), slices.Clone(recs), slices.Clone(errs)
	for c, r := range crecs {
		if r == nil || r.ShardIndex < 0 || r.ShardIndex >= len(set) {
			continue
		}
		j := r.ShardIndex
		if recs[j] == nil || r.ModTime > recs[j].ModTime {
			set[j], recs[j], errs[j] = cands[c], r, nil
		}
	}
	return set, recs, errs, silent
}

// beyond returns the disks beyond an object's set that may hold its
// records: those an earlier ring placed it on (until the rebalancer has
// moved it) and the ring's first hand-offs (where a write went while a
// primary was down), each once and in service. gone counts those that are
// down (an earlier ring's disk out of service and not among the current
// ring's primaries for it, or a hand-off seen down): they cannot answer
// but may hold records a write counted.
func (s *Store) beyond(v *clusterView, bucket, key string, set []disk.Volume) (cands []disk.Volume, gone int) {
	seen := map[disk.Volume]bool{}
	for _, d := range set {
		seen[d] = true
	}
	pl, plErr := v.Ring.Locate(v.Policy, bucket, key)
	goneIDs := map[ring.DiskID]bool{}
	for _, r := range v.prev {
		prev, err := r.Locate(v.Policy, bucket, key)
		if err != nil {
			continue
		}
		for _, id := range prev.Disks {
			if plErr == nil && slices.Contains(pl.Disks, id) {
				continue
			}
			d := v.Volumes[id]
			if d == nil || d.Failed() {
				goneIDs[id] = true
			} else if !seen[d] {
				seen[d] = true
				cands = append(cands, d)
			}
		}
	}
	if plErr == nil {
		// A hand-off that is down may have taken records for a slot from
		// a writer that saw it up: it is silent too.
		for _, id := range pl.Handoffs[:min(len(pl.Handoffs), len(set))] {
			switch d := v.Volumes[id]; {
			case d != nil && seen[d]:
			case d == nil || d.Failed():
				goneIDs[id] = true
			default:
				seen[d] = true
				cands = append(cands, d)
			}
		}
	}
	return cands, len(goneIDs)
}

// otherDisks is beyond for the current layout (none on a single machine,
// or on a node that does not serve).
func (s *Store) otherDisks(bucket, key string, set []disk.Volume) []disk.Volume {
	v := s.layout.Load()
	if v == nil || v.serving() != nil {
		return nil
	}
	cands, _ := s.beyond(v, bucket, key, set)
	return cands
}
