package ring

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the scripts of testdata/*.txt. Regenerate their
// expected output with: go test ./ring -run TestDataDriven -rewrite
//
// Commands (arguments key=value):
//
//	add-node id= zone= [region=] [addr=]
//	add-disk id= node= weight=
//	add-cluster zones= nodes= disks= [weight=] [regions= | region=] [prefix=]
//	    nodes per zone; ids <prefix>z1, <prefix>z1n1, <prefix>z1n1d1;
//	    zone i in region r<(i-1) mod regions + 1>, or all in region
//	add-policy name= (n= | k= m=) power= [domain=]
//	set-weight disk= weight=
//	drain (disk= | node=) | out disk= | restore disk= | fail disk=
//	remove (disk= | node=)
//	cmd <json>                 apply an encoded command
//	build                      build from the current ring; keeps it on error
//	locate policy= bucket= key=
//	partition policy= part=
//	check                      spread and distinctness invariants
//	show map | show balance [policy=] [disks] | show movement [disks]
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &harness{m: &Map{}}
		datadriven.RunTest(t, path, h.run)
	})
}

type harness struct {
	m    *Map
	prev *Ring // ring before the last successful build
	r    *Ring
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	args := map[string]string{}
	var flags []string
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 0 {
			flags = append(flags, a.Key)
			continue
		}
		args[a.Key] = a.Vals[0]
	}
	has := func(f string) bool {
		for _, x := range flags {
			if x == f {
				return true
			}
		}
		return false
	}
	num := func(k string, def int) int {
		v, ok := args[k]
		if !ok {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s: %s=%q is not a number", d.Pos, k, v)
		}
		return n
	}
	apply := func(cmds ...Command) string {
		m := h.m
		for _, c := range cmds {
			var err error
			if m, err = Apply(m, c); err != nil {
				return "error: " + err.Error() + "\n"
			}
		}
		h.m = m
		return fmt.Sprintf("epoch %d\n", m.Epoch)
	}
	switch d.Cmd {
	case "add-node":
		return apply(AddNode{ID: NodeID(args["id"]), Zone: args["zone"], Region: args["region"], Address: args["addr"]})
	case "add-disk":
		return apply(AddDisk{ID: DiskID(args["id"]), Node: NodeID(args["node"]), Weight: uint32(num("weight", 100))})
	case "add-cluster":
		var cmds []Command
		regions := num("regions", 0)
		pre := args["prefix"]
		for z := 1; z <= num("zones", 1); z++ {
			zone := fmt.Sprintf("%sz%d", pre, z)
			region := args["region"]
			if regions > 0 {
				region = fmt.Sprintf("r%d", (z-1)%regions+1)
			}
			for n := 1; n <= num("nodes", 1); n++ {
				node := NodeID(fmt.Sprintf("%sn%d", zone, n))
				cmds = append(cmds, AddNode{ID: node, Zone: zone, Region: region})
				for k := 1; k <= num("disks", 1); k++ {
					cmds = append(cmds, AddDisk{ID: DiskID(fmt.Sprintf("%sd%d", node, k)), Node: node, Weight: uint32(num("weight", 100))})
				}
			}
		}
		return apply(cmds...)
	case "add-policy":
		return apply(AddPolicy{Policy: Policy{Name: args["name"], Replicas: num("n", 0), K: num("k", 0), M: num("m", 0),
			Power: num("power", 0), Domain: Tier(args["domain"])}})
	case "set-weight":
		return apply(SetWeight{Disk: DiskID(args["disk"]), Weight: uint32(num("weight", 0))})
	case "drain":
		if n, ok := args["node"]; ok {
			return apply(DrainNode{Node: NodeID(n)})
		}
		return apply(DrainDisk{Disk: DiskID(args["disk"])})
	case "out":
		return apply(MarkOut{Disk: DiskID(args["disk"])})
	case "restore":
		return apply(RestoreDisk{Disk: DiskID(args["disk"])})
	case "fail":
		return apply(FailDisk{Disk: DiskID(args["disk"])})
	case "remove":
		if n, ok := args["node"]; ok {
			return apply(RemoveNode{Node: NodeID(n)})
		}
		return apply(RemoveDisk{Disk: DiskID(args["disk"])})
	case "cmd":
		c, err := DecodeCommand([]byte(strings.TrimSpace(d.Input)))
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return apply(c)
	case "build":
		r, err := Build(h.r, h.m)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		h.prev, h.r = h.r, r
		var b strings.Builder
		fmt.Fprintf(&b, "ring epoch %d: %d disks in\n", r.Epoch(), len(r.Disks()))
		for _, p := range r.Policies() {
			bal, _ := r.Balance(p.Name)
			fmt.Fprintf(&b, "%s: max over %.2f%%, max under %.2f%%, off target %d\n", p, bal.MaxOver, bal.MaxUnder, bal.OffTarget)
		}
		if h.prev != nil {
			for _, pm := range Diff(h.prev, r).Policies {
				fmt.Fprintf(&b, "%s\n", pm)
			}
		}
		return b.String()
	case "locate":
		if h.r == nil {
			return "error: no ring\n"
		}
		pl, err := h.r.Locate(args["policy"], args["bucket"], args["key"])
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		return fmt.Sprintf("partition %d: %s\nhandoffs: %s\n", pl.Partition, joinIDs(pl.Disks), joinIDs(pl.Handoffs))
	case "partition":
		ds, err := h.r.Primaries(args["policy"], uint32(num("part", 0)))
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		ho, _ := h.r.Handoffs(args["policy"], uint32(num("part", 0)), 4)
		return fmt.Sprintf("%s\nhandoffs: %s\n", joinIDs(ds), joinIDs(ho))
	case "check":
		if err := checkRing(h.r, h.m); err != nil {
			return "error: " + err.Error() + "\n"
		}
		return "ok\n"
	case "show":
		switch {
		case has("map"):
			return showMap(h.m)
		case has("balance"):
			return showBalance(h.r, args["policy"], has("disks"))
		case has("movement"):
			if h.prev == nil {
				return "no previous ring\n"
			}
			return showMovement(Diff(h.prev, h.r), has("disks"))
		}
	}
	t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	return ""
}

func joinIDs(ids []DiskID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, " ")
}

func showMap(m *Map) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d\n", m.Epoch)
	for _, n := range m.Nodes {
		fmt.Fprintf(&b, "node %s region=%q zone=%s %s", n.ID, n.Region, n.Zone, n.State)
		for _, d := range m.Disks {
			if d.Node == n.ID {
				fmt.Fprintf(&b, " %s:%d:%s", d.ID, d.Weight, d.State)
			}
		}
		b.WriteString("\n")
	}
	for _, p := range m.Policies {
		fmt.Fprintf(&b, "policy %s\n", p)
	}
	return b.String()
}

func showBalance(r *Ring, policy string, disks bool) string {
	if r == nil {
		return "no ring\n"
	}
	var b strings.Builder
	for _, p := range r.Policies() {
		if policy != "" && p.Name != policy {
			continue
		}
		bal, _ := r.Balance(p.Name)
		fmt.Fprintf(&b, "%s: %d slots on %d disks: max over %.2f%%, max under %.2f%%, off target %d\n",
			p.Name, bal.Slots, len(bal.Disks), bal.MaxOver, bal.MaxUnder, bal.OffTarget)
		if disks {
			for _, d := range bal.Disks {
				fmt.Fprintf(&b, "  %-10s w=%-4d slots=%-5d target=%-8.2f %+.2f%%\n", d.Disk, d.Weight, d.Slots, d.Target, d.Over)
			}
		}
	}
	return b.String()
}

func showMovement(mv Movement, disks bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d -> %d\n", mv.From, mv.To)
	for _, pm := range mv.Policies {
		fmt.Fprintf(&b, "%s\n", pm)
		if disks {
			for _, d := range pm.Disks {
				if d.In != 0 || d.Out != 0 {
					fmt.Fprintf(&b, "  %-10s %5d -> %-5d in %-4d out %d\n", d.Disk, d.Before, d.After, d.In, d.Out)
				}
			}
		}
	}
	return b.String()
}

// checkRing verifies, independently of the builder, that every partition
// of every policy of r has distinct disks, all in, and that no region,
// zone or node holds more of a partition than the widest spread allows,
// computed from the map alone.
func checkRing(r *Ring, m *Map) error {
	if r == nil {
		return fmt.Errorf("no ring")
	}
	type info struct{ node, zone, region string }
	in := map[DiskID]info{}
	caps := map[string]int{} // "r:"+region, "z:"+zone, "n:"+node -> disks in
	children := map[string]map[string]bool{}
	for _, d := range m.Disks {
		if !m.eligible(d) {
			continue
		}
		n, _ := m.Node(d.Node)
		in[d.ID] = info{string(d.Node), n.Zone, n.Region}
		for _, k := range []string{"root", "r:" + n.Region, "z:" + n.Zone, "n:" + string(n.ID)} {
			caps[k]++
		}
		add := func(parent, child string) {
			if children[parent] == nil {
				children[parent] = map[string]bool{}
			}
			children[parent][child] = true
		}
		add("root", "r:"+n.Region)
		add("r:"+n.Region, "z:"+n.Zone)
		add("z:"+n.Zone, "n:"+string(n.ID))
	}
	// limit: the most any child of parent may hold when parent holds c.
	limit := func(parent string, c int) int {
		for l := 0; ; l++ {
			sum := 0
			for ch := range children[parent] {
				sum += min(caps[ch], l)
			}
			if sum >= c {
				return l
			}
		}
	}
	for _, p := range r.Policies() {
		for part := 0; part < p.Partitions(); part++ {
			ds, err := r.Primaries(p.Name, uint32(part))
			if err != nil {
				return err
			}
			count := map[string]int{}
			seen := map[DiskID]bool{}
			for _, d := range ds {
				i, ok := in[d]
				if !ok {
					return fmt.Errorf("%s partition %d: disk %s is not in", p.Name, part, d)
				}
				if seen[d] {
					return fmt.Errorf("%s partition %d: disk %s twice", p.Name, part, d)
				}
				seen[d] = true
				count["root"]++
				count["r:"+i.region]++
				count["z:"+i.zone]++
				count["n:"+i.node]++
			}
			for parent, chs := range children {
				c := count[parent]
				if c == 0 {
					continue
				}
				l := limit(parent, c)
				for ch := range chs {
					if count[ch] > min(caps[ch], l) {
						return fmt.Errorf("%s partition %d: %s holds %d of %d below %s (limit %d)", p.Name, part, ch, count[ch], c, parent, l)
					}
				}
			}
		}
	}
	return nil
}
