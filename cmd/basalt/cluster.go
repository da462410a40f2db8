package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/basaltstore/basalt/proxy"
	"github.com/basaltstore/basalt/proxy/adminapi"
	"github.com/basaltstore/basalt/ring"
)

// newClusterCmds returns `basalt admin ring show`, and `node`, `disk` and
// `policy`, which read and change the cluster map through any node.
func newClusterCmds(stdout io.Writer, f *adminFlags, client func() (*adminapi.Client, error)) (show *cobra.Command, cmds []*cobra.Command) {
	get := func(cmd *cobra.Command) (proxy.RingInfo, error) {
		var info proxy.RingInfo
		c, err := client()
		if err != nil {
			return info, err
		}
		return info, c.Call(cmd.Context(), http.MethodGet, "ring", nil, nil, &info)
	}
	change := func(cmd *cobra.Command, rc ring.Command) error {
		c, err := client()
		if err != nil {
			return err
		}
		body, err := ring.EncodeCommand(rc)
		if err != nil {
			return err
		}
		var out struct{ Epoch uint64 }
		if err := c.Call(cmd.Context(), http.MethodPost, "ring", nil, json.RawMessage(body), &out); err != nil {
			return err
		}
		if f.jsonOut {
			return json.NewEncoder(stdout).Encode(out)
		}
		fmt.Fprintf(stdout, "%s: done, cluster map epoch %d\n", rc.Op(), out.Epoch)
		return nil
	}
	table := func(header string, rows func(w io.Writer)) error {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, header)
		rows(w)
		return w.Flush()
	}
	nodesTable := func(info proxy.RingInfo) error {
		voters := map[string]string{}
		for _, m := range info.Members {
			voters[m.ID] = map[bool]string{true: "voter", false: "storage"}[m.Voter]
		}
		return table("NODE\tZONE\tSTATE\tADDRESS\tRAFT", func(w io.Writer) {
			for _, n := range info.Map.Nodes {
				role := voters[string(n.ID)]
				if string(n.ID) == info.Leader {
					role += " (leader)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", n.ID, n.Zone, n.State, n.Address, role)
			}
		})
	}
	disksTable := func(info proxy.RingInfo) error {
		slots := map[ring.DiskID]int64{}
		for _, b := range info.Balance {
			for _, d := range b.Disks {
				slots[d.Disk] += d.Slots
			}
		}
		return table("DISK\tNODE\tSTATE\tWEIGHT\tPARTITIONS", func(w io.Writer) {
			for _, d := range info.Map.Disks {
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\n", d.ID, d.Node, d.State, d.Weight, slots[d.ID])
			}
		})
	}
	listCmd := func(use, short string, print func(proxy.RingInfo) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			info, err := get(cmd)
			if err != nil {
				return err
			}
			if f.jsonOut {
				return json.NewEncoder(stdout).Encode(info)
			}
			return print(info)
		}}
	}
	one := func(use, short string, mk func(id string) ring.Command) *cobra.Command {
		return &cobra.Command{Use: use + " ID", Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
			return change(cmd, mk(a[0]))
		}}
	}
	group := func(use, short string, subs ...*cobra.Command) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Args: noArgs, RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
		c.AddCommand(subs...)
		return c
	}

	show = listCmd("show", "Show the cluster map: nodes, disks, policies, the balance of each policy's ring", func(info proxy.RingInfo) error {
		fmt.Fprintf(stdout, "cluster map epoch %d, Raft leader %s\n\n", info.Map.Epoch, info.Leader)
		if err := nodesTable(info); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		if err := disksTable(info); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		for _, p := range info.Map.Policies {
			fmt.Fprintf(stdout, "policy %s: %s, %d partitions\n", p.Name, scheme(p), p.Partitions())
		}
		for _, b := range info.Balance {
			fmt.Fprintf(stdout, "ring %s: %d slots, max over %.2f%%, max under %.2f%%\n", b.Policy, b.Slots, b.MaxOver, b.MaxUnder)
		}
		if info.BuildError != "" {
			fmt.Fprintf(stdout, "no ring can be built: %s\n", info.BuildError)
		}
		return nil
	})

	nodeRemove := &cobra.Command{Use: "remove ID", Short: "Remove a node whose disks are all out or failed, and its Raft membership", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
		if err := change(cmd, ring.RemoveNode{Node: ring.NodeID(a[0])}); err != nil {
			return err
		}
		c, err := client()
		if err != nil {
			return err
		}
		return c.Call(cmd.Context(), http.MethodDelete, "ring/member", url.Values{"id": {a[0]}}, nil, nil)
	}}
	var nodeZone, nodeRegion, nodeAddr string
	nodeAdd := &cobra.Command{Use: "add ID", Short: "Add a node to the cluster map ahead of its start (a node started with --join adds itself)", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
		return change(cmd, ring.AddNode{ID: ring.NodeID(a[0]), Zone: nodeZone, Region: nodeRegion, Address: nodeAddr})
	}}
	nodeAdd.Flags().StringVar(&nodeZone, "zone", "zone1", "the node's failure domain")
	nodeAdd.Flags().StringVar(&nodeRegion, "region", "", "the zone's region, if any")
	nodeAdd.Flags().StringVar(&nodeAddr, "address", "", "its shard API address (the node records its own at start)")
	var diskWeight uint32
	diskAdd := &cobra.Command{Use: "add NODE:dN", Short: "Add a disk of a node to the cluster map (a node adds its own disks at start)", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
		id := ring.DiskID(a[0])
		node, _, ok := strings.Cut(a[0], ":")
		if !ok || node == "" {
			return flagError{fmt.Errorf("disk id %q: want NODE:dN, for example n4:d1", a[0])}
		}
		return change(cmd, ring.AddDisk{ID: id, Node: ring.NodeID(node), Weight: diskWeight})
	}}
	diskAdd.Flags().Uint32Var(&diskWeight, "weight", 100, "relative weight (capacity in GiB, for instance)")
	node := group("node", "List, add, drain and remove nodes (a node also adds itself: basalt server --join)",
		listCmd("list", "List the nodes of the cluster map", nodesTable),
		nodeAdd,
		one("drain", "Drain a node: the ring moves every partition off its disks", func(id string) ring.Command { return ring.DrainNode{Node: ring.NodeID(id)} }),
		nodeRemove,
	)
	disk := group("disk", "List, add, drain, mark out, fail, restore and remove disks (a node also adds its own disks)",
		listCmd("list", "List the disks of the cluster map", disksTable),
		diskAdd,
		one("drain", "Drain a disk: the ring moves every partition off it", func(id string) ring.Command { return ring.DrainDisk{Disk: ring.DiskID(id)} }),
		one("fail", "Mark a disk failed: its partitions are rebuilt elsewhere", func(id string) ring.Command { return ring.FailDisk{Disk: ring.DiskID(id)} }),
		one("out", "Mark a drained disk out, once the rebalancer has moved everything off it (refused before)", func(id string) ring.Command { return ring.MarkOut{Disk: ring.DiskID(id)} }),
		one("restore", "Return a draining, out or failed (replaced) disk to service", func(id string) ring.Command { return ring.RestoreDisk{Disk: ring.DiskID(id)} }),
		one("remove", "Remove an out or failed disk from the map", func(id string) ring.Command { return ring.RemoveDisk{Disk: ring.DiskID(id)} }),
	)
	var spec string
	var power int
	add := &cobra.Command{Use: "add NAME", Short: "Add a storage policy (it must be placeable on the cluster)", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, a []string) error {
		p, err := ring.ParsePolicy(a[0], spec, power)
		if err != nil {
			return flagError{err}
		}
		return change(cmd, ring.AddPolicy{Policy: p})
	}}
	add.Flags().StringVar(&spec, "spec", "ec:2+2", "rep:N (N replicas) or ec:K+M (K data + M parity shards)")
	add.Flags().IntVar(&power, "power", 10, "partition power: 2^power partitions")
	policy := group("policy", "List and add storage policies",
		listCmd("list", "List the storage policies", func(info proxy.RingInfo) error {
			return table("POLICY\tSCHEME\tPARTITIONS", func(w io.Writer) {
				for _, p := range info.Map.Policies {
					fmt.Fprintf(w, "%s\t%s\t%d\n", p.Name, scheme(p), p.Partitions())
				}
			})
		}),
		add,
	)
	return show, []*cobra.Command{node, disk, policy}
}

// scheme names a policy's redundancy as ParsePolicy reads it.
func scheme(p ring.Policy) string {
	if p.Replicas > 0 {
		return fmt.Sprintf("rep:%d", p.Replicas)
	}
	return fmt.Sprintf("ec:%d+%d", p.K, p.M)
}
