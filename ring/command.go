package ring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Command is one change of a map. Commands are values: Apply(m, c) gives
// the same result on every machine, which lets a replicated log carry them.
type Command interface {
	// Op is the command's name in its encoding ("add-node", ...).
	Op() string
	apply(m *Map) error
	voluntary() bool
}

// AddNode adds a node. Its zone is created with it, in Region; a zone
// already known must be given its own region.
type AddNode struct {
	ID      NodeID `json:"id"`
	Address string `json:"addr,omitempty"`
	Region  string `json:"region,omitempty"`
	Zone    string `json:"zone"`
}

// AddDisk adds an "in" disk to an "in" node.
type AddDisk struct {
	ID     DiskID `json:"id"`
	Node   NodeID `json:"node"`
	Weight uint32 `json:"weight"`
}

// SetWeight changes a disk's weight.
type SetWeight struct {
	Disk   DiskID `json:"disk"`
	Weight uint32 `json:"weight"`
}

// DrainDisk moves an "in" disk to "draining": the next ring moves every
// partition off it.
type DrainDisk struct {
	Disk DiskID `json:"disk"`
}

// MarkOut moves a "draining" disk to "out": its data has been moved away.
type MarkOut struct {
	Disk DiskID `json:"disk"`
}

// RestoreDisk returns a "draining", "out" or "failed" disk to "in" (a
// failed disk once it is replaced or repaired: the rebalancer and the
// repairer then fill it).
type RestoreDisk struct {
	Disk DiskID `json:"disk"`
}

// FailDisk marks a disk "failed". It records a fact, so unlike the other
// commands it is accepted even when it leaves a policy unplaceable (Build
// then refuses that map until capacity is added).
type FailDisk struct {
	Disk DiskID `json:"disk"`
}

// RemoveDisk removes an "out" or "failed" disk from the map.
type RemoveDisk struct {
	Disk DiskID `json:"disk"`
}

// DrainNode moves an "in" node and its "in" disks to "draining".
type DrainNode struct {
	Node NodeID `json:"node"`
}

// RemoveNode removes a node whose disks are all "out" or "failed", with
// those disks.
type RemoveNode struct {
	Node NodeID `json:"node"`
}

// SetAddress changes the address a node is reached at (its shard API).
// Placement does not change.
type SetAddress struct {
	Node    NodeID `json:"node"`
	Address string `json:"addr"`
}

// AddPolicy adds a storage policy; it must be placeable.
type AddPolicy struct {
	Policy Policy `json:"policy"`
}

// Op names.
func (AddNode) Op() string     { return "add-node" }
func (AddDisk) Op() string     { return "add-disk" }
func (SetWeight) Op() string   { return "set-weight" }
func (DrainDisk) Op() string   { return "drain-disk" }
func (MarkOut) Op() string     { return "out-disk" }
func (RestoreDisk) Op() string { return "restore-disk" }
func (FailDisk) Op() string    { return "fail-disk" }
func (RemoveDisk) Op() string  { return "remove-disk" }
func (DrainNode) Op() string   { return "drain-node" }
func (RemoveNode) Op() string  { return "remove-node" }
func (AddPolicy) Op() string   { return "add-policy" }
func (SetAddress) Op() string  { return "set-address" }

func (AddNode) voluntary() bool     { return true }
func (AddDisk) voluntary() bool     { return true }
func (SetWeight) voluntary() bool   { return true }
func (DrainDisk) voluntary() bool   { return true }
func (MarkOut) voluntary() bool     { return true }
func (RestoreDisk) voluntary() bool { return true }
func (FailDisk) voluntary() bool    { return false }
func (RemoveDisk) voluntary() bool  { return true }
func (DrainNode) voluntary() bool   { return true }
func (RemoveNode) voluntary() bool  { return true }
func (AddPolicy) voluntary() bool   { return true }
func (SetAddress) voluntary() bool  { return true }

// Apply returns the map that results from applying c to m, with its epoch
// one higher. m is never changed. A command that is malformed, names an
// unknown or duplicate id, finds an object in the wrong state, or (except
// FailDisk) would make a placeable policy unplaceable is refused with an
// error and no map.
func Apply(m *Map, c Command) (*Map, error) {
	if m == nil {
		m = &Map{}
	}
	if c == nil {
		return nil, fmt.Errorf("%w: nil command", ErrInvalid)
	}
	n := m.Clone()
	if err := c.apply(n); err != nil {
		return nil, err
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	if c.voluntary() {
		if err := placeableKept(m, n); err != nil {
			return nil, err
		}
	}
	n.Epoch = m.Epoch + 1
	return n, nil
}

// placeableKept refuses n when a policy of n is unplaceable and it was
// placeable in m (or is new), or when it was not but n has fewer disks
// in: a voluntary change may leave an unplaceable policy as it is (marking
// out, removing failed disks), never make it worse.
func placeableKept(m, n *Map) error {
	if len(n.Policies) == 0 {
		return nil
	}
	tn := newTopology(n)
	var tm *topology
	for _, p := range n.Policies {
		err := tn.placeable(p)
		if err == nil {
			continue
		}
		if _, existed := m.Policy(p.Name); !existed {
			return err
		}
		if tm == nil {
			tm = newTopology(m)
		}
		if tm.placeable(p) == nil || len(tn.disks) < len(tm.disks) {
			return err
		}
	}
	return nil
}

func (c AddNode) apply(m *Map) error {
	if _, ok := m.Node(c.ID); ok {
		return fmt.Errorf("%w: node id %q", ErrDuplicate, c.ID)
	}
	for _, n := range m.Nodes {
		if n.Zone == c.Zone && n.Region != c.Region {
			return fmt.Errorf("%w: zone %s is in region %q, not %q", ErrInvalid, c.Zone, n.Region, c.Region)
		}
	}
	i, _ := m.nodeIndex(c.ID)
	m.Nodes = slices.Insert(m.Nodes, i, Node{ID: c.ID, Address: c.Address, Region: c.Region, Zone: c.Zone, State: NodeIn})
	return nil
}

func (c AddDisk) apply(m *Map) error {
	if _, ok := m.Disk(c.ID); ok {
		return fmt.Errorf("%w: disk id %q", ErrDuplicate, c.ID)
	}
	n, ok := m.Node(c.Node)
	if !ok {
		return fmt.Errorf("%w: node %q for disk %s", ErrUnknown, c.Node, c.ID)
	}
	if n.State != NodeIn {
		return fmt.Errorf("%w: node %s is %s: no new disks", ErrState, n.ID, n.State)
	}
	i, _ := m.diskIndex(c.ID)
	m.Disks = slices.Insert(m.Disks, i, Disk{ID: c.ID, Node: c.Node, Weight: c.Weight, State: DiskIn})
	return nil
}

func (m *Map) mustDisk(id DiskID) (*Disk, error) {
	i, ok := m.diskIndex(id)
	if !ok {
		return nil, fmt.Errorf("%w: disk %q", ErrUnknown, id)
	}
	return &m.Disks[i], nil
}

func (c SetWeight) apply(m *Map) error {
	d, err := m.mustDisk(c.Disk)
	if err != nil {
		return err
	}
	d.Weight = c.Weight
	return nil
}

func (c DrainDisk) apply(m *Map) error {
	d, err := m.mustDisk(c.Disk)
	if err != nil {
		return err
	}
	if d.State != DiskIn {
		return fmt.Errorf("%w: disk %s is %s, not in", ErrState, d.ID, d.State)
	}
	d.State = DiskDraining
	return nil
}

func (c MarkOut) apply(m *Map) error {
	d, err := m.mustDisk(c.Disk)
	if err != nil {
		return err
	}
	if d.State != DiskDraining {
		return fmt.Errorf("%w: disk %s is %s, not draining", ErrState, d.ID, d.State)
	}
	d.State = DiskOut
	return nil
}

func (c RestoreDisk) apply(m *Map) error {
	d, err := m.mustDisk(c.Disk)
	if err != nil {
		return err
	}
	if d.State != DiskDraining && d.State != DiskOut && d.State != DiskFailed {
		return fmt.Errorf("%w: disk %s is %s, not draining, out or failed", ErrState, d.ID, d.State)
	}
	if n, _ := m.Node(d.Node); n.State != NodeIn {
		return fmt.Errorf("%w: node %s of disk %s is %s", ErrState, n.ID, d.ID, n.State)
	}
	d.State = DiskIn
	return nil
}

func (c FailDisk) apply(m *Map) error {
	d, err := m.mustDisk(c.Disk)
	if err != nil {
		return err
	}
	if d.State == DiskFailed {
		return fmt.Errorf("%w: disk %s is already failed", ErrState, d.ID)
	}
	d.State = DiskFailed
	return nil
}

func (c RemoveDisk) apply(m *Map) error {
	i, ok := m.diskIndex(c.Disk)
	if !ok {
		return fmt.Errorf("%w: disk %q", ErrUnknown, c.Disk)
	}
	switch d := m.Disks[i]; d.State {
	case DiskOut, DiskFailed:
	case DiskIn:
		return fmt.Errorf("%w: disk %s is in; drain it, then mark it out", ErrInUse, d.ID)
	default:
		return fmt.Errorf("%w: disk %s is draining; mark it out once its data has moved", ErrInUse, d.ID)
	}
	m.Disks = slices.Delete(m.Disks, i, i+1)
	return nil
}

func (c DrainNode) apply(m *Map) error {
	i, ok := m.nodeIndex(c.Node)
	if !ok {
		return fmt.Errorf("%w: node %q", ErrUnknown, c.Node)
	}
	if m.Nodes[i].State != NodeIn {
		return fmt.Errorf("%w: node %s is %s, not in", ErrState, c.Node, m.Nodes[i].State)
	}
	m.Nodes[i].State = NodeDraining
	for j := range m.Disks {
		if m.Disks[j].Node == c.Node && m.Disks[j].State == DiskIn {
			m.Disks[j].State = DiskDraining
		}
	}
	return nil
}

func (c RemoveNode) apply(m *Map) error {
	i, ok := m.nodeIndex(c.Node)
	if !ok {
		return fmt.Errorf("%w: node %q", ErrUnknown, c.Node)
	}
	for _, d := range m.Disks {
		if d.Node == c.Node && d.State != DiskOut && d.State != DiskFailed {
			return fmt.Errorf("%w: node %s: disk %s is %s; drain the node, then mark its disks out", ErrInUse, c.Node, d.ID, d.State)
		}
	}
	m.Disks = slices.DeleteFunc(m.Disks, func(d Disk) bool { return d.Node == c.Node })
	m.Nodes = slices.Delete(m.Nodes, i, i+1)
	return nil
}

func (c SetAddress) apply(m *Map) error {
	i, ok := m.nodeIndex(c.Node)
	if !ok {
		return fmt.Errorf("%w: node %q", ErrUnknown, c.Node)
	}
	m.Nodes[i].Address = c.Address
	return nil
}

func (c AddPolicy) apply(m *Map) error {
	if err := c.Policy.validate(); err != nil {
		return err
	}
	if _, ok := m.Policy(c.Policy.Name); ok {
		return fmt.Errorf("%w: policy %q", ErrDuplicate, c.Policy.Name)
	}
	p := c.Policy
	if p.Domain == "" {
		p.Domain = TierDisk
	}
	i, _ := m.policyIndex(p.Name)
	m.Policies = slices.Insert(m.Policies, i, p)
	return nil
}

type commandEnvelope struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args"`
}

// EncodeCommand encodes c as JSON: {"op":"add-node","args":{...}}.
func EncodeCommand(c Command) ([]byte, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil command", ErrInvalid)
	}
	args, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return json.Marshal(commandEnvelope{Op: c.Op(), Args: args})
}

// DecodeCommand decodes a command encoded by EncodeCommand.
func DecodeCommand(b []byte) (Command, error) {
	var env commandEnvelope
	if err := strictJSON(b, &env); err != nil {
		return nil, fmt.Errorf("%w: command: %v", ErrCorrupt, err)
	}
	var c Command
	var err error
	decode := func(v Command) {
		err = strictJSON(env.Args, v)
		c = derefCommand(v)
	}
	switch env.Op {
	case "add-node":
		decode(&AddNode{})
	case "add-disk":
		decode(&AddDisk{})
	case "set-weight":
		decode(&SetWeight{})
	case "drain-disk":
		decode(&DrainDisk{})
	case "out-disk":
		decode(&MarkOut{})
	case "restore-disk":
		decode(&RestoreDisk{})
	case "fail-disk":
		decode(&FailDisk{})
	case "remove-disk":
		decode(&RemoveDisk{})
	case "drain-node":
		decode(&DrainNode{})
	case "remove-node":
		decode(&RemoveNode{})
	case "add-policy":
		decode(&AddPolicy{})
	case "set-address":
		decode(&SetAddress{})
	default:
		return nil, fmt.Errorf("%w: command op %q", ErrCorrupt, env.Op)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: command %s: %v", ErrCorrupt, env.Op, err)
	}
	return c, nil
}

func derefCommand(v Command) Command {
	switch c := v.(type) {
	case *AddNode:
		return *c
	case *AddDisk:
		return *c
	case *SetWeight:
		return *c
	case *DrainDisk:
		return *c
	case *MarkOut:
		return *c
	case *RestoreDisk:
		return *c
	case *FailDisk:
		return *c
	case *RemoveDisk:
		return *c
	case *DrainNode:
		return *c
	case *RemoveNode:
		return *c
	case *AddPolicy:
		return *c
	case *SetAddress:
		return *c
	}
	return v
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}
