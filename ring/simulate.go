package ring

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SimSpec describes a cluster to place, and a change to apply to it.
type SimSpec struct {
	Regions      int    // regions (default 1); zones are dealt over them
	Zones        int    // zones (default 1); nodes are dealt over them
	Nodes        int    // nodes
	DisksPerNode int    // disks of each node
	Weight       uint32 // weight of each disk (default 100)
	Policy       Policy // the policy to place (Name defaults to "sim")
	Change       SimChange
	// Now is the clock used to time the builds (time.Now when nil).
	Now func() time.Time
}

// SimChange is a change of the simulated cluster. Op is one of:
//
//	""            no change
//	"add-node"    Count nodes (DisksPerNode disks of Weight), next zones in turn
//	"add-disk"    Count disks of Weight, on the first nodes, one each
//	"add-zone"    Count zones of Nodes/Zones nodes each
//	"remove-node" Count nodes (drain, mark out, remove)
//	"remove-disk" Count disks, spread over the cluster (drain, mark out, remove)
//	"fail-disk"   Count disks, spread over the cluster
//	"set-weight"  Count disks, spread over the cluster, to Weight
type SimChange struct {
	Op     string
	Count  int    // default 1
	Weight uint32 // for add-node, add-disk, add-zone, set-weight (default: the spec's)
}

// SimResult is the outcome of Simulate.
type SimResult struct {
	Policy      Policy
	Nodes       int
	Disks       int
	Zones       int
	Slots       int64 // partition-replicas: 2^power x width
	TableBytes  int64 // memory of the policy's table
	Before      Balance
	After       Balance // after the change (equal to Before without one)
	Movement    PolicyMovement
	BuildTime   time.Duration // first build, from nothing
	RebuildTime time.Duration // build after the change, from the first ring
	Change      SimChange
}

// ParsePolicy parses "rep:N" or "ec:K+M" into a policy.
func ParsePolicy(name, spec string, power int) (Policy, error) {
	p := Policy{Name: name, Power: power}
	kind, arg, ok := strings.Cut(spec, ":")
	bad := fmt.Errorf("%w: policy spec %q (want rep:N or ec:K+M)", ErrInvalid, spec)
	if !ok {
		return Policy{}, bad
	}
	switch kind {
	case "rep":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return Policy{}, bad
		}
		p.Replicas = n
	case "ec":
		ks, ms, ok := strings.Cut(arg, "+")
		k, err1 := strconv.Atoi(ks)
		m, err2 := strconv.Atoi(ms)
		if !ok || err1 != nil || err2 != nil {
			return Policy{}, bad
		}
		p.K, p.M = k, m
	default:
		return Policy{}, bad
	}
	if err := p.validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func simNode(i int) NodeID { return NodeID(fmt.Sprintf("n%05d", i)) }
func simZone(i int) string { return fmt.Sprintf("z%03d", i) }
func simRegion(i int) string {
	return fmt.Sprintf("r%02d", i)
}

// SimMap returns the map Simulate starts from: nodes n00000.. dealt over
// zones z000.. (zone i in region r(i mod Regions) when Regions > 1), each
// with disks <node>-d00.., and the spec's policy.
func SimMap(spec SimSpec) (*Map, error) {
	spec = spec.withDefaults()
	if spec.Nodes < 1 || spec.DisksPerNode < 1 || spec.Zones > spec.Nodes || spec.Regions > spec.Zones {
		return nil, fmt.Errorf("%w: simulation needs nodes >= zones >= regions >= 1 and disks >= 1", ErrInvalid)
	}
	if spec.Nodes*spec.DisksPerNode > 1<<20 {
		return nil, fmt.Errorf("%w: simulation of more than 2^20 disks", ErrInvalid)
	}
	m := &Map{}
	for i := 0; i < spec.Nodes; i++ {
		m.Nodes = append(m.Nodes, spec.node(i, i%spec.Zones))
		m.Disks = append(m.Disks, spec.disks(i, spec.Weight)...)
	}
	p := spec.Policy
	if p.Domain == "" {
		p.Domain = TierDisk
	}
	m.Policies = []Policy{p}
	m.canonicalize()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := m.checkPlaceable(); err != nil {
		return nil, err
	}
	return m, nil
}

func (s SimSpec) withDefaults() SimSpec {
	s.Regions = max(s.Regions, 1)
	s.Zones = max(s.Zones, 1)
	if s.Weight == 0 {
		s.Weight = 100
	}
	if s.Policy.Name == "" {
		s.Policy.Name = "sim"
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	s.Change.Count = max(s.Change.Count, 1)
	if s.Change.Weight == 0 {
		s.Change.Weight = s.Weight
	}
	return s
}

func (s SimSpec) node(i, zone int) Node {
	region := ""
	if s.Regions > 1 {
		region = simRegion(zone % s.Regions)
	}
	return Node{ID: simNode(i), Zone: simZone(zone), Region: region, State: NodeIn}
}

func (s SimSpec) disks(node int, w uint32) []Disk {
	out := make([]Disk, s.DisksPerNode)
	for j := range out {
		out[j] = Disk{ID: DiskID(fmt.Sprintf("%s-d%02d", simNode(node), j)), Node: simNode(node), Weight: w, State: DiskIn}
	}
	return out
}

// SimCommands returns the commands of the spec's change, applied to the
// map m returned by SimMap.
func SimCommands(spec SimSpec, m *Map) ([]Command, error) {
	spec = spec.withDefaults()
	ch := spec.Change
	var cmds []Command
	spread := func(k int, n int) int { return (k*n + n/2) / ch.Count } // k-th of Count, evenly over n
	switch ch.Op {
	case "":
	case "add-node":
		for k := 0; k < ch.Count; k++ {
			i := spec.Nodes + k
			n := spec.node(i, i%spec.Zones)
			cmds = append(cmds, AddNode{ID: n.ID, Region: n.Region, Zone: n.Zone})
			for _, d := range spec.disks(i, ch.Weight) {
				cmds = append(cmds, AddDisk{ID: d.ID, Node: d.Node, Weight: d.Weight})
			}
		}
	case "add-disk":
		for k := 0; k < ch.Count; k++ {
			node := m.Nodes[k%len(m.Nodes)].ID
			cmds = append(cmds, AddDisk{ID: DiskID(fmt.Sprintf("%s-x%02d", node, k/len(m.Nodes))), Node: node, Weight: ch.Weight})
		}
	case "add-zone":
		per := max(spec.Nodes/spec.Zones, 1)
		for k := 0; k < ch.Count; k++ {
			for j := 0; j < per; j++ {
				i := spec.Nodes + k*per + j
				n := spec.node(i, spec.Zones+k)
				cmds = append(cmds, AddNode{ID: n.ID, Region: n.Region, Zone: n.Zone})
				for _, d := range spec.disks(i, ch.Weight) {
					cmds = append(cmds, AddDisk{ID: d.ID, Node: d.Node, Weight: d.Weight})
				}
			}
		}
	case "remove-node":
		for k := 0; k < ch.Count; k++ {
			n := m.Nodes[spread(k, len(m.Nodes))]
			cmds = append(cmds, DrainNode{Node: n.ID})
			for _, d := range m.Disks {
				if d.Node == n.ID {
					cmds = append(cmds, MarkOut{Disk: d.ID})
				}
			}
			cmds = append(cmds, RemoveNode{Node: n.ID})
		}
	case "remove-disk", "fail-disk", "set-weight":
		for k := 0; k < ch.Count; k++ {
			d := m.Disks[spread(k, len(m.Disks))].ID
			switch ch.Op {
			case "remove-disk":
				cmds = append(cmds, DrainDisk{Disk: d}, MarkOut{Disk: d}, RemoveDisk{Disk: d})
			case "fail-disk":
				cmds = append(cmds, FailDisk{Disk: d})
			default:
				cmds = append(cmds, SetWeight{Disk: d, Weight: ch.Weight})
			}
		}
	default:
		return nil, fmt.Errorf("%w: simulated change %q", ErrInvalid, ch.Op)
	}
	if ch.Count > len(m.Disks) {
		return nil, fmt.Errorf("%w: simulated change of %d, cluster has %d disks", ErrInvalid, ch.Count, len(m.Disks))
	}
	return cmds, nil
}

// Simulate builds the ring of the described cluster, applies the change
// through Apply, rebuilds from the first ring, and reports balance before
// and after, movement against the ideal, and the build times.
func Simulate(spec SimSpec) (SimResult, error) {
	spec = spec.withDefaults()
	m, err := SimMap(spec)
	if err != nil {
		return SimResult{}, err
	}
	res := SimResult{Policy: m.Policies[0], Change: spec.Change}
	start := spec.Now()
	r1, err := Build(nil, m)
	if err != nil {
		return SimResult{}, err
	}
	res.BuildTime = spec.Now().Sub(start)
	cmds, err := SimCommands(spec, m)
	if err != nil {
		return SimResult{}, err
	}
	m2 := m
	for _, c := range cmds {
		if m2, err = Apply(m2, c); err != nil {
			return SimResult{}, fmt.Errorf("simulated %s: %w", c.Op(), err)
		}
	}
	r2 := r1
	if len(cmds) > 0 {
		start = spec.Now()
		if r2, err = Build(r1, m2); err != nil {
			return SimResult{}, err
		}
		res.RebuildTime = spec.Now().Sub(start)
	}
	name := res.Policy.Name
	if res.Before, err = r1.Balance(name); err != nil {
		return SimResult{}, err
	}
	if res.After, err = r2.Balance(name); err != nil {
		return SimResult{}, err
	}
	res.Movement, _ = Diff(r1, r2).Policy(name)
	res.Nodes = len(m2.Nodes)
	res.Disks = len(r2.topo.disks)
	res.Zones = len(r2.topo.tiers[tierZone])
	res.Slots = int64(res.Policy.Partitions() * res.Policy.Width())
	res.TableBytes = 4 * res.Slots
	return res, nil
}

// String is a human-readable report.
func (r SimResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy      %s (%d partitions x %d = %d slots, table %.1f MiB)\n",
		r.Policy, r.Policy.Partitions(), r.Policy.Width(), r.Slots, float64(r.TableBytes)/(1<<20))
	fmt.Fprintf(&b, "cluster     %d nodes, %d disks in, %d zones\n", r.Nodes, r.Disks, r.Zones)
	fmt.Fprintf(&b, "build       %v\n", r.BuildTime.Round(time.Millisecond))
	fmt.Fprintf(&b, "balance     max over %.2f%%, max under %.2f%% of weight share (%.1f slots/disk)\n",
		r.Before.MaxOver, r.Before.MaxUnder, float64(r.Slots)/float64(max(len(r.Before.Disks), 1)))
	if r.Change.Op != "" {
		fmt.Fprintf(&b, "change      %s x%d\n", r.Change.Op, r.Change.Count)
		fmt.Fprintf(&b, "rebuild     %v\n", r.RebuildTime.Round(time.Millisecond))
		fmt.Fprintf(&b, "balance     max over %.2f%%, max under %.2f%% of weight share\n", r.After.MaxOver, r.After.MaxUnder)
		fmt.Fprintf(&b, "movement    moved %d (%.3f%% of slots), ideal %d, ratio %.3f\n",
			r.Movement.Moved, 100*float64(r.Movement.Moved)/float64(max(r.Slots, 1)), r.Movement.Ideal, r.Movement.Ratio())
	}
	return b.String()
}
