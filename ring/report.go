package ring

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// DiskBalance is one disk's load under one policy.
type DiskBalance struct {
	Disk   DiskID
	Weight uint32
	Slots  int64 // partition-replicas held
	// WeightShare is all slots x weight / total weight.
	WeightShare float64
	// Target is what the builder aims for: the weight share within the
	// spread limits (equal to WeightShare where no limit binds). A built
	// ring holds Target rounded down or up wherever the limits allow.
	Target float64
	Over   float64 // percent above WeightShare (negative: below)
}

// Balance is how evenly a policy's partition-replicas follow disk weight.
type Balance struct {
	Policy   string
	Slots    int64
	Disks    []DiskBalance // in ring order
	MaxOver  float64       // percent: the most a disk holds above its WeightShare
	MaxUnder float64       // percent: the most a disk holds below its WeightShare
	// OffTarget is the largest distance, in slots, of a disk from its
	// Target rounded down or up: 0 when the builder met every target.
	OffTarget int64
}

// Balance reports the load of every disk under a policy.
func (r *Ring) Balance(policy string) (Balance, error) {
	pr, err := r.policy(policy)
	if err != nil {
		return Balance{}, err
	}
	t := r.topo
	counts := make([]int64, len(t.disks))
	for _, d := range pr.table {
		counts[d]++
	}
	total := float64(t.tn[0].weight)
	bal := Balance{Policy: policy, Slots: int64(len(pr.table)), Disks: make([]DiskBalance, len(t.disks))}
	for i, d := range t.disks {
		ws := float64(len(pr.table)) * float64(d.Weight) / total
		over := 100 * (float64(counts[i]) - ws) / ws
		bal.Disks[i] = DiskBalance{
			Disk: d.ID, Weight: d.Weight, Slots: counts[i], WeightShare: ws,
			Target: float64(pr.share[i]) / (1 << fpShift), Over: over,
		}
		bal.MaxOver = math.Max(bal.MaxOver, over)
		bal.MaxUnder = math.Max(bal.MaxUnder, -over)
		bal.OffTarget = max(bal.OffTarget, floorFP(pr.share[i])-counts[i], counts[i]-ceilFP(pr.share[i]))
	}
	return bal, nil
}

// DiskMovement is one disk's share of a ring change.
type DiskMovement struct {
	Disk   DiskID
	Before int64 // slots held in the old ring
	After  int64 // slots held in the new ring
	In     int64 // slots moved onto the disk
	Out    int64 // slots moved off the disk
}

// PolicyMovement is what a ring change moves under one policy.
type PolicyMovement struct {
	Policy string
	Slots  int64 // partition-replicas of the policy
	Moved  int64 // partition-replicas whose disk changed
	// Ideal is the least any ring must move so that every disk holds its
	// new target rounded down or up: the larger of what disks hold above
	// their target rounded up (all of it for a disk no longer in the ring)
	// and what they lack below their target rounded down. Adding one disk
	// of weight w to total W gives about Slots*w/(W+w); removing one gives
	// what it held.
	Ideal int64
	Disks []DiskMovement // disks of either ring with Before, After, In or Out non-zero, by id
}

// Ratio is Moved/Ideal (1 when both are 0; +Inf when only Ideal is 0).
func (m PolicyMovement) Ratio() float64 {
	switch {
	case m.Moved == 0 && m.Ideal == 0:
		return 1
	case m.Ideal == 0:
		return math.Inf(1)
	}
	return float64(m.Moved) / float64(m.Ideal)
}

// Movement is what changes between two rings.
type Movement struct {
	From, To uint64 // epochs
	// Policies present in both rings, by name. A policy whose partition
	// power or width changed moves every slot.
	Policies []PolicyMovement
}

// Policy returns the movement of one policy.
func (m Movement) Policy(name string) (PolicyMovement, bool) {
	for _, p := range m.Policies {
		if p.Policy == name {
			return p, true
		}
	}
	return PolicyMovement{}, false
}

// Diff reports the partition-replicas that move from ring old to ring new,
// per policy and per disk, with the ideal. A nil ring has no policies.
func Diff(old, new *Ring) Movement {
	if old == nil || new == nil {
		return Movement{}
	}
	mv := Movement{From: old.epoch, To: new.epoch}
	// Disks of both rings, by id.
	ids := make(map[DiskID]int)
	var all []DiskID
	for _, r := range []*Ring{old, new} {
		for _, d := range r.topo.disks {
			if _, ok := ids[d.ID]; !ok {
				ids[d.ID] = len(all)
				all = append(all, d.ID)
			}
		}
	}
	oldIdx := make([]int, len(old.topo.disks))
	for i, d := range old.topo.disks {
		oldIdx[i] = ids[d.ID]
	}
	newIdx := make([]int, len(new.topo.disks))
	for i, d := range new.topo.disks {
		newIdx[i] = ids[d.ID]
	}
	for _, np := range new.policies {
		op := old.byName[np.pol.Name]
		if op == nil {
			continue
		}
		pm := PolicyMovement{Policy: np.pol.Name, Slots: int64(len(np.table))}
		per := make([]DiskMovement, len(all))
		share := make([]int64, len(all))
		for i, q := range np.share {
			share[newIdx[i]] = q
		}
		same := op.width == np.width && op.parts == np.parts
		for _, d := range op.table {
			per[oldIdx[d]].Before++
		}
		for s, d := range np.table {
			a := newIdx[d]
			per[a].After++
			if same {
				if b := oldIdx[op.table[s]]; b != a {
					per[a].In++
					per[b].Out++
					pm.Moved++
				}
			}
		}
		if !same {
			pm.Moved = pm.Slots
			for i := range per {
				per[i].In, per[i].Out = per[i].After, per[i].Before
			}
		}
		var give, take int64
		for i := range per {
			give += max(0, per[i].Before-ceilFP(share[i]))
			take += max(0, floorFP(share[i])-per[i].Before)
		}
		pm.Ideal = max(give, take)
		for _, i := range sortedIDs(all) {
			p := per[i]
			if p.Before != 0 || p.After != 0 || p.In != 0 || p.Out != 0 {
				p.Disk = all[i]
				pm.Disks = append(pm.Disks, p)
			}
		}
		mv.Policies = append(mv.Policies, pm)
	}
	return mv
}

// sortedIDs returns the indices of ids in id order.
func sortedIDs(ids []DiskID) []int {
	out := make([]int, len(ids))
	for i := range out {
		out[i] = i
	}
	slices.SortFunc(out, func(a, b int) int { return strings.Compare(string(ids[a]), string(ids[b])) })
	return out
}

// String is a one-line summary.
func (m PolicyMovement) String() string {
	return fmt.Sprintf("%s: moved %d of %d (%.2f%%), ideal %d, ratio %.3f",
		m.Policy, m.Moved, m.Slots, 100*float64(m.Moved)/float64(max(m.Slots, 1)), m.Ideal, m.Ratio())
}

// Move is one partition-replica that changes disk between two rings.
type Move struct {
	Partition uint32
	Index     int // shard or replica position
	From, To  DiskID
}

// Moves lists, by partition and position, the partition-replicas of a
// policy whose disk differs between ring old and ring new: what a
// rebalancer copies (or rebuilds, when From is gone). Both rings must have
// the policy with the same power and width.
func Moves(old, new *Ring, policy string) ([]Move, error) {
	if old == nil || new == nil {
		return nil, fmt.Errorf("%w: nil ring", ErrInvalid)
	}
	op, err := old.policy(policy)
	if err != nil {
		return nil, err
	}
	np, err := new.policy(policy)
	if err != nil {
		return nil, err
	}
	if op.width != np.width || op.parts != np.parts {
		return nil, fmt.Errorf("%w: policy %s changed shape: every slot moves", ErrInvalid, policy)
	}
	var out []Move
	for s, d := range np.table {
		from, to := old.topo.disks[op.table[s]].ID, new.topo.disks[d].ID
		if from != to {
			out = append(out, Move{Partition: uint32(s / np.width), Index: s % np.width, From: from, To: to})
		}
	}
	return out, nil
}
