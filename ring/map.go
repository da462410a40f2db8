package ring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps one of them.
var (
	ErrInvalid       = errors.New("ring: invalid")
	ErrDuplicate     = errors.New("ring: duplicate")
	ErrUnknown       = errors.New("ring: unknown")
	ErrUnknownPolicy = errors.New("ring: unknown policy")
	ErrUnplaceable   = errors.New("ring: policy unplaceable")
	ErrState         = errors.New("ring: wrong state")
	ErrInUse         = errors.New("ring: still holds partitions")
	ErrCorrupt       = errors.New("ring: corrupt encoding")
)

// Limits of the map and of a ring built from it.
const (
	// MaxPartitionPower is the largest partition power of a policy.
	MaxPartitionPower = 20
	// MaxWidth is the largest number of disks of one partition (n, or k+m).
	MaxWidth = 32
	// MaxSlots bounds 2^power x width for one policy: the policy's table is
	// 4 bytes a slot (64 MiB at the limit), and a build holds about twice that.
	MaxSlots = 1 << 24
	// MaxWeight is the largest disk weight.
	MaxWeight = 1 << 24
	maxIDLen  = 128
	maxAddr   = 256
)

// NodeID names a node; DiskID names a disk. Both are unique in a map.
type (
	NodeID string
	DiskID string
)

// NodeState is the state of a node.
type NodeState string

// Node states. Only the disks of an "in" node receive partitions.
const (
	NodeIn       NodeState = "in"
	NodeDraining NodeState = "draining"
)

// DiskState is the state of a disk.
type DiskState string

// Disk states. Only "in" disks (of weight > 0, on an "in" node) receive
// partitions; the ring moves every partition off the others.
//
//	in -> draining -> out -> (removed)
//	in | draining | out -> failed -> (removed)
//	draining | out -> in (restored)
const (
	DiskIn       DiskState = "in"
	DiskDraining DiskState = "draining"
	DiskOut      DiskState = "out"
	DiskFailed   DiskState = "failed"
)

// Tier is a level of the failure-domain hierarchy.
type Tier string

// Tiers, from the widest to the narrowest.
const (
	TierRegion Tier = "region"
	TierZone   Tier = "zone"
	TierNode   Tier = "node"
	TierDisk   Tier = "disk"
)

func (t Tier) level() (int, bool) {
	switch t {
	case TierRegion:
		return tierRegion, true
	case TierZone:
		return tierZone, true
	case TierNode:
		return tierNode, true
	case TierDisk, "":
		return tierDisk, true
	}
	return 0, false
}

// Node is one machine. Its zone (and the zone's region) are its failure
// domains; a zone belongs to exactly one region. Region may be empty (a
// single-region cluster).
type Node struct {
	ID      NodeID    `json:"id"`
	Address string    `json:"addr,omitempty"`
	Region  string    `json:"region,omitempty"`
	Zone    string    `json:"zone"`
	State   NodeState `json:"state"`
}

// Disk is one storage device of a node. Weight is relative (capacity in
// GB, for example): a disk receives partitions in proportion to it.
type Disk struct {
	ID     DiskID    `json:"id"`
	Node   NodeID    `json:"node"`
	Weight uint32    `json:"weight"`
	State  DiskState `json:"state"`
}

// Policy is a storage policy: n replicas, or k data + m parity shards,
// over 2^Power partitions. Domain, when set, is the tier whose domains
// must all be distinct within every partition: the policy is refused
// (unplaceable) unless the cluster has enough of them.
type Policy struct {
	Name     string `json:"name"`
	Replicas int    `json:"n,omitempty"`
	K        int    `json:"k,omitempty"`
	M        int    `json:"m,omitempty"`
	Power    int    `json:"power"`
	Domain   Tier   `json:"domain,omitempty"`
}

// Width is the number of disks of each partition: n, or k+m.
func (p Policy) Width() int {
	if p.Replicas > 0 {
		return p.Replicas
	}
	return p.K + p.M
}

// Partitions is 2^Power.
func (p Policy) Partitions() int { return 1 << p.Power }

// String is "name rep:3 power=10" or "name ec:8+4 power=18".
func (p Policy) String() string {
	s := fmt.Sprintf("%s ec:%d+%d power=%d", p.Name, p.K, p.M, p.Power)
	if p.Replicas > 0 {
		s = fmt.Sprintf("%s rep:%d power=%d", p.Name, p.Replicas, p.Power)
	}
	if p.Domain != "" && p.Domain != TierDisk {
		s += " domain=" + string(p.Domain)
	}
	return s
}

func (p Policy) validate() error {
	if !validID(p.Name) {
		return fmt.Errorf("%w: policy name %q", ErrInvalid, p.Name)
	}
	switch {
	case p.Replicas > 0 && (p.K != 0 || p.M != 0):
		return fmt.Errorf("%w: policy %s: both replicas and k+m", ErrInvalid, p.Name)
	case p.Replicas < 0 || p.K < 0 || p.M < 0:
		return fmt.Errorf("%w: policy %s: negative count", ErrInvalid, p.Name)
	case p.Replicas == 0 && (p.K < 1 || p.M < 1):
		return fmt.Errorf("%w: policy %s: needs n >= 1, or k >= 1 and m >= 1", ErrInvalid, p.Name)
	case p.Width() > MaxWidth:
		return fmt.Errorf("%w: policy %s: width %d over %d", ErrInvalid, p.Name, p.Width(), MaxWidth)
	case p.Power < 0 || p.Power > MaxPartitionPower:
		return fmt.Errorf("%w: policy %s: power %d not in 0..%d", ErrInvalid, p.Name, p.Power, MaxPartitionPower)
	case p.Partitions()*p.Width() > MaxSlots:
		return fmt.Errorf("%w: policy %s: 2^%d x %d slots over %d", ErrInvalid, p.Name, p.Power, p.Width(), MaxSlots)
	}
	if _, ok := p.Domain.level(); !ok {
		return fmt.Errorf("%w: policy %s: domain %q", ErrInvalid, p.Name, p.Domain)
	}
	return nil
}

// Map is the cluster map: nodes, disks and policies, versioned by Epoch.
// Its slices are kept sorted by ID (policies by name); a Map is changed only
// by Apply, which returns a new one. The zero Map is an empty, valid map.
type Map struct {
	Epoch    uint64   `json:"epoch"`
	Nodes    []Node   `json:"nodes"`
	Disks    []Disk   `json:"disks"`
	Policies []Policy `json:"policies"`
}

// Clone returns a deep copy of m.
func (m *Map) Clone() *Map {
	return &Map{
		Epoch:    m.Epoch,
		Nodes:    slices.Clone(m.Nodes),
		Disks:    slices.Clone(m.Disks),
		Policies: slices.Clone(m.Policies),
	}
}

// Node returns the node with the given id.
func (m *Map) Node(id NodeID) (Node, bool) {
	i, ok := m.nodeIndex(id)
	if !ok {
		return Node{}, false
	}
	return m.Nodes[i], true
}

// Disk returns the disk with the given id.
func (m *Map) Disk(id DiskID) (Disk, bool) {
	i, ok := m.diskIndex(id)
	if !ok {
		return Disk{}, false
	}
	return m.Disks[i], true
}

// Policy returns the policy with the given name.
func (m *Map) Policy(name string) (Policy, bool) {
	i, ok := m.policyIndex(name)
	if !ok {
		return Policy{}, false
	}
	return m.Policies[i], true
}

func (m *Map) nodeIndex(id NodeID) (int, bool) {
	return slices.BinarySearchFunc(m.Nodes, id, func(n Node, id NodeID) int { return strings.Compare(string(n.ID), string(id)) })
}

func (m *Map) diskIndex(id DiskID) (int, bool) {
	return slices.BinarySearchFunc(m.Disks, id, func(d Disk, id DiskID) int { return strings.Compare(string(d.ID), string(id)) })
}

func (m *Map) policyIndex(name string) (int, bool) {
	return slices.BinarySearchFunc(m.Policies, name, func(p Policy, n string) int { return strings.Compare(p.Name, n) })
}

// eligible reports whether disk d receives partitions.
func (m *Map) eligible(d Disk) bool {
	if d.State != DiskIn || d.Weight == 0 {
		return false
	}
	n, ok := m.Node(d.Node)
	return ok && n.State == NodeIn
}

// canonicalize sorts the slices of m into their canonical order.
func (m *Map) canonicalize() {
	slices.SortFunc(m.Nodes, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	slices.SortFunc(m.Disks, func(a, b Disk) int { return strings.Compare(string(a.ID), string(b.ID)) })
	slices.SortFunc(m.Policies, func(a, b Policy) int { return strings.Compare(a.Name, b.Name) })
}

// Validate checks the structure of m: ids well formed and unique, every
// disk on a known node, every zone in one region, states and weights in
// range, policies well formed. It does not check placeability (see
// Placeable): a failed disk may leave a policy unplaceable in a valid map.
func (m *Map) Validate() error {
	zoneRegion := make(map[string]string)
	addrs := make(map[string]NodeID)
	for i, n := range m.Nodes {
		if !validID(string(n.ID)) {
			return fmt.Errorf("%w: node id %q", ErrInvalid, n.ID)
		}
		if i > 0 && m.Nodes[i-1].ID >= n.ID {
			if m.Nodes[i-1].ID == n.ID {
				return fmt.Errorf("%w: node id %q", ErrDuplicate, n.ID)
			}
			return fmt.Errorf("%w: nodes not sorted at %q", ErrInvalid, n.ID)
		}
		if !validID(n.Zone) {
			return fmt.Errorf("%w: node %s: zone %q", ErrInvalid, n.ID, n.Zone)
		}
		if n.Region != "" && !validID(n.Region) {
			return fmt.Errorf("%w: node %s: region %q", ErrInvalid, n.ID, n.Region)
		}
		if r, ok := zoneRegion[n.Zone]; ok && r != n.Region {
			return fmt.Errorf("%w: zone %s is in region %q and %q", ErrInvalid, n.Zone, r, n.Region)
		}
		zoneRegion[n.Zone] = n.Region
		if len(n.Address) > maxAddr || strings.ContainsAny(n.Address, " \t\r\n") {
			return fmt.Errorf("%w: node %s: address %q", ErrInvalid, n.ID, n.Address)
		}
		if n.Address != "" {
			if other, ok := addrs[n.Address]; ok {
				return fmt.Errorf("%w: address %s of node %s and %s", ErrDuplicate, n.Address, other, n.ID)
			}
			addrs[n.Address] = n.ID
		}
		if n.State != NodeIn && n.State != NodeDraining {
			return fmt.Errorf("%w: node %s: state %q", ErrInvalid, n.ID, n.State)
		}
	}
	for i, d := range m.Disks {
		if !validID(string(d.ID)) {
			return fmt.Errorf("%w: disk id %q", ErrInvalid, d.ID)
		}
		if i > 0 && m.Disks[i-1].ID >= d.ID {
			if m.Disks[i-1].ID == d.ID {
				return fmt.Errorf("%w: disk id %q", ErrDuplicate, d.ID)
			}
			return fmt.Errorf("%w: disks not sorted at %q", ErrInvalid, d.ID)
		}
		if _, ok := m.nodeIndex(d.Node); !ok {
			return fmt.Errorf("%w: disk %s on unknown node %q", ErrUnknown, d.ID, d.Node)
		}
		if d.Weight > MaxWeight {
			return fmt.Errorf("%w: disk %s: weight %d over %d", ErrInvalid, d.ID, d.Weight, MaxWeight)
		}
		switch d.State {
		case DiskIn, DiskDraining, DiskOut, DiskFailed:
		default:
			return fmt.Errorf("%w: disk %s: state %q", ErrInvalid, d.ID, d.State)
		}
	}
	for i, p := range m.Policies {
		if err := p.validate(); err != nil {
			return err
		}
		if i > 0 && m.Policies[i-1].Name >= p.Name {
			if m.Policies[i-1].Name == p.Name {
				return fmt.Errorf("%w: policy %q", ErrDuplicate, p.Name)
			}
			return fmt.Errorf("%w: policies not sorted at %q", ErrInvalid, p.Name)
		}
	}
	return nil
}

// Placeable reports whether policy p can be placed on m's eligible disks:
// at least width of them, and, when p.Domain is set, a spread in which no
// domain of that tier holds two disks of one partition. The error wraps
// ErrUnplaceable and says what is missing.
func (m *Map) Placeable(p Policy) error {
	return newTopology(m).placeable(p)
}

// checkPlaceable checks every policy of m.
func (m *Map) checkPlaceable() error {
	if len(m.Policies) == 0 {
		return nil
	}
	t := newTopology(m)
	for _, p := range m.Policies {
		if err := t.placeable(p); err != nil {
			return err
		}
	}
	return nil
}

// Encode returns the canonical JSON encoding of m: the same map gives the
// same bytes on every machine.
func (m *Map) Encode() ([]byte, error) {
	c := m.Clone()
	c.canonicalize()
	if c.Nodes == nil {
		c.Nodes = []Node{}
	}
	if c.Disks == nil {
		c.Disks = []Disk{}
	}
	if c.Policies == nil {
		c.Policies = []Policy{}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return b, nil
}

// DecodeMap decodes and validates a map encoded by Encode. Unknown fields
// are refused; slices are put into canonical order before validation.
func DecodeMap(b []byte) (*Map, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Map
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: map: %v", ErrCorrupt, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: map: trailing data", ErrCorrupt)
	}
	// Empty lists decode as nil, as in a map built by Apply.
	if len(m.Nodes) == 0 {
		m.Nodes = nil
	}
	if len(m.Disks) == 0 {
		m.Disks = nil
	}
	if len(m.Policies) == 0 {
		m.Policies = nil
	}
	m.canonicalize()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// validID accepts 1..128 bytes of [A-Za-z0-9._:-].
func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
