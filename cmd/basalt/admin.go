package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/adminapi"
	"github.com/basaltstore/basalt/proxy/identity"
)

// adminFlags are shared by every `basalt admin` command.
type adminFlags struct {
	endpoint string
	data     string
	jsonOut  bool
}

func newAdminCmd(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	env := func(k string) string { v, _ := lookupEnv(k); return v }
	f := &adminFlags{endpoint: "http://127.0.0.1:8080", data: "./data"}
	if v := env("BASALT_ENDPOINT"); v != "" {
		f.endpoint = v
	}
	if v := env("BASALT_DATA"); v != "" {
		f.data = v
	}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer a running cluster: status, scrub, ring, nodes, disks, policies, identity",
		Long: `Administer a running basalt server over its administration API.

Credentials: BASALT_ROOT_USER and BASALT_ROOT_PASSWORD, else
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else the root credential kept
under --data (identity/root.json) on this machine.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.endpoint, "endpoint", f.endpoint, "server URL (env BASALT_ENDPOINT)")
	pf.StringVar(&f.data, "data", f.data, "data folder holding the root credential, when none is in the environment (env BASALT_DATA)")
	pf.BoolVar(&f.jsonOut, "json", false, "print JSON instead of a table")

	client := func() (*adminapi.Client, error) {
		ak, sk := env("BASALT_ROOT_USER"), env("BASALT_ROOT_PASSWORD")
		if ak == "" || sk == "" {
			ak, sk = env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")
		}
		if ak == "" || sk == "" {
			root, err := identity.Read(filepath.Join(f.data, "identity"))
			if err != nil {
				return nil, fmt.Errorf("no credentials: set BASALT_ROOT_USER and BASALT_ROOT_PASSWORD (%w)", err)
			}
			ak, sk = root.AccessKey, root.SecretAccessKey
		}
		ep := f.endpoint
		if !strings.Contains(ep, "://") {
			ep = "http://" + ep
		}
		return &adminapi.Client{Endpoint: ep, AccessKey: ak, SecretKey: sk}, nil
	}

	status := &cobra.Command{
		Use:   "status",
		Short: "Show disks, the repair queue and rate, and the scrubber",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if f.jsonOut {
				return json.NewEncoder(stdout).Encode(st)
			}
			printStatus(stdout, st)
			return nil
		},
	}

	rebalance := &cobra.Command{
		Use:   "rebalance",
		Short: "Move the shards this node holds that the ring places elsewhere, now, and show what moved",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			st, err := c.Rebalance(cmd.Context())
			if err != nil {
				return err
			}
			if f.jsonOut {
				return json.NewEncoder(stdout).Encode(st)
			}
			fmt.Fprintf(stdout, "epoch %d: moved %d of %d misplaced shards (%.1f MiB), %d failed, %d held for a primary that is down\n",
				st.Epoch, st.Moved, st.Misplaced, float64(st.MovedBytes)/(1<<20), st.Failed, st.Handoffs)
			return nil
		},
	}

	var req adminapi.ScrubRequest
	var rateMiB float64
	scrub := &cobra.Command{
		Use:   "scrub",
		Short: "Read and verify every shard now (all, one bucket or one disk), repairing what is bad",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			req.Rate = int64(rateMiB * (1 << 20))
			final, err := c.Scrub(cmd.Context(), req, func(p objectd.ScrubProgress) {
				if !f.jsonOut {
					fmt.Fprintf(stderr, "\rscrub: %d objects, %.1f MiB verified, %d bad, %d repaired, %d failed   ",
						p.Objects, float64(p.Bytes)/(1<<20), p.Bad, p.Repaired, p.Failed)
				}
			})
			if !f.jsonOut {
				fmt.Fprintln(stderr)
			}
			if err != nil {
				return err
			}
			if f.jsonOut {
				return json.NewEncoder(stdout).Encode(final)
			}
			fmt.Fprintf(stdout, "scrubbed %d objects (%.1f MiB of shards) in %s: %d bad shards found, %d repaired, %d objects failed\n",
				final.Objects, float64(final.Bytes)/(1<<20), time.Since(final.Started).Round(time.Millisecond), final.Bad, final.Repaired, final.Failed)
			return nil
		},
	}
	scrub.Flags().StringVar(&req.Bucket, "bucket", "", "only this bucket")
	scrub.Flags().StringVar(&req.Disk, "disk", "", "only objects with a shard on this disk (its path as the server knows it)")
	scrub.Flags().Float64Var(&rateMiB, "rate", 0, "at most this many MiB of shards read per second (0: no limit)")
	ringCmd := newRingCmd(stdout)
	show, clusterCmds := newClusterCmds(stdout, f, client)
	ringCmd.AddCommand(show)
	cmd.AddCommand(status, scrub, rebalance, ringCmd)
	cmd.AddCommand(clusterCmds...)
	cmd.AddCommand(newIdentityCmds(stdout, f, client)...)
	return cmd
}

func printStatus(w io.Writer, st objectd.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "erasure code\t%d+%d\n", st.K, st.M)
	fmt.Fprintf(tw, "buckets\t%d\n", st.Buckets)
	fmt.Fprintf(tw, "repair queue\t%d objects\n", st.RepairQueue)
	fmt.Fprintf(tw, "repaired since start\t%d shards, %.1f MiB\n", st.ShardsRebuilt, float64(st.BytesRebuilt)/(1<<20))
	eta := "-"
	if st.RepairEstimate > 0 {
		eta = st.RepairEstimate.Round(time.Second).String()
	}
	fmt.Fprintf(tw, "repair rate\t%.1f MiB/s (estimate to empty the queue: %s)\n", st.RepairRate/(1<<20), eta)
	fmt.Fprintf(tw, "disks taken out of service\t%d\n", st.DiskFailures)
	sc := st.Scrub
	state := "idle"
	if sc.Running {
		state = "running"
	}
	last := "never"
	if sc.LastPass.Unix() > 0 {
		last = sc.LastPass.Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "scrub\t%s, every %s at %.0f MiB/s, last complete pass started %s\n", state, sc.Interval, float64(sc.Rate)/(1<<20), last)
	if sc.Current.Objects > 0 {
		fmt.Fprintf(tw, "scrub progress\t%d objects, %.1f MiB, %d bad, %d repaired\n", sc.Current.Objects, float64(sc.Current.Bytes)/(1<<20), sc.Current.Bad, sc.Current.Repaired)
	}
	if st.Epoch > 0 {
		rb := st.Rebalance
		state := "idle"
		if rb.Running {
			state = "moving"
		}
		eta := "-"
		if rb.Estimate > 0 {
			eta = rb.Estimate.Round(time.Second).String()
		}
		fmt.Fprintf(tw, "ring epoch\t%d\n", st.Epoch)
		fmt.Fprintf(tw, "rebalance\t%s (epoch %d): %d of %d misplaced shards moved, %.1f of %.1f MiB, %d failed, at most %.0f MiB/s, estimate %s\n",
			state, rb.Epoch, rb.Moved, rb.Misplaced, float64(rb.MovedBytes)/(1<<20), float64(rb.MisplacedBytes)/(1<<20), rb.Failed, float64(rb.Rate)/(1<<20), eta)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DISK\tSTATE\tID")
	for _, d := range st.Disks {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Path, d.State, d.ID)
	}
	tw.Flush()
}
