package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/basaltstore/basalt/ring"
)

// newRingCmd is `basalt admin ring`: ring tools that need no server.
func newRingCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ring",
		Short: "Placement ring tools",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var spec ring.SimSpec
	var policy string
	var power int
	var jsonOut bool
	sim := &cobra.Command{
		Use:   "simulate",
		Short: "Build a ring for a described cluster; print balance, movement for a change, and build times",
		Long: `Build a placement ring for a described cluster and print how evenly it
spreads the partitions over the disks (by weight), how many partition
replicas a change moves compared with the ideal, and how long each build took.

  basalt admin ring simulate --nodes 1000 --disks-per-node 12 --zones 10 --policy ec:8+4 --power 18 --change add-node`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := ring.ParsePolicy("sim", policy, power)
			if err != nil {
				return flagError{err}
			}
			spec.Policy = p
			if spec.Change.Op == "none" {
				spec.Change.Op = ""
			}
			res, err := ring.Simulate(spec)
			if err != nil {
				return err
			}
			if jsonOut {
				return json.NewEncoder(stdout).Encode(res)
			}
			fmt.Fprint(stdout, res.String())
			return nil
		},
	}
	f := sim.Flags()
	f.IntVar(&spec.Regions, "regions", 1, "regions")
	f.IntVar(&spec.Zones, "zones", 10, "zones (failure domains), nodes are dealt over them")
	f.IntVar(&spec.Nodes, "nodes", 100, "nodes")
	f.IntVar(&spec.DisksPerNode, "disks-per-node", 12, "disks on each node")
	f.Uint32Var(&spec.Weight, "weight", 100, "weight of each disk")
	f.StringVar(&policy, "policy", "ec:8+4", "storage policy: ec:K+M or rep:N")
	f.IntVar(&power, "power", 16, "partition power: 2^power partitions")
	f.StringVar(&spec.Change.Op, "change", "add-node", "change to simulate: add-node, add-disk, add-zone, remove-node, remove-disk, fail-disk, set-weight, or none")
	f.IntVar(&spec.Change.Count, "count", 1, "how many nodes, disks or zones the change touches")
	f.BoolVar(&jsonOut, "json", false, "print JSON")
	cmd.AddCommand(sim)
	return cmd
}
