package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/basaltstore/basalt/bench"
	"github.com/basaltstore/basalt/cmd/internal/server"
)

// version is set at link time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// run executes the command line and returns the process exit status.
func run(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// After the first signal, restore the default action, so that a second
	// one ends the process at once.
	context.AfterFunc(ctx, stop)

	root := newRootCmd(stdout, stderr, lookupEnv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, server.ErrUsage), errors.Is(err, errFlags), errors.Is(err, bench.ErrUsage):
		fmt.Fprintf(stderr, "basalt: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "basalt: %v\n", err)
		return 1
	}
}

// errFlags marks errors in the command line itself (unknown flag, bad
// value), which exit with status 2 like configuration errors.
var errFlags = errors.New("bad command line")

type flagError struct{ err error }

func (e flagError) Error() string        { return e.err.Error() }
func (e flagError) Unwrap() error        { return e.err }
func (e flagError) Is(target error) bool { return target == errFlags }

func newRootCmd(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	root := &cobra.Command{
		Use:   "basalt",
		Short: "Basalt: erasure-coded object storage with an S3 API",
		Long: `Basalt stores objects erasure-coded across disk directories and serves
them over the S3 API.

Start a server on this machine with "basalt server"; see "basalt server --help".`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          noArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError{err} })
	root.AddCommand(newServerCmd(stdout, stderr, lookupEnv), newAdminCmd(stdout, stderr, lookupEnv), newVersionCmd(stdout), bench.Command())
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}

// noArgs refuses positional arguments as a command-line error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return flagError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
	}
	return nil
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of basalt",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(stdout, "basalt %s %s %s/%s\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

func versionString() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// envName is the environment variable that sets a flag.
func envName(flag string) string {
	return "BASALT_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func newServerCmd(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cobra.Command {
	cfg := server.Default()
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the storage core and the S3 endpoint on this machine",
		Long: `Run the storage core and the S3 endpoint on this machine.

With no flags, the server keeps its files under ./data, stores objects
erasure-coded with 2 data and 2 parity shards across four disk directories
./data/disk1 ... ./data/disk4, and serves S3 on http://127.0.0.1:8080.

Every flag can also be set with the environment variable named after it in
brackets; a flag on the command line wins over the environment.

Root credential: set BASALT_ROOT_USER (3 characters or more) and
BASALT_ROOT_PASSWORD (8 characters or more) together, or let the server
generate one at its first start: it is printed once and kept in
<data>/identity/root.json. Later starts print only the access key.

Besides S3, the endpoint serves /metrics (Prometheus), /health/live and
/health/ready. SIGTERM or SIGINT stops accepting connections, lets requests
in flight finish (up to --shutdown-timeout) and closes the store.`,
		Example: `  basalt server
  basalt server --data /srv/basalt --disks /mnt/d{1...8}/basalt --ec-data 5 --ec-parity 3
  BASALT_ADDRESS=0.0.0.0:9000 basalt server --log-format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), lookupEnv); err != nil {
				return err
			}
			getenv := func(k string) string { v, _ := lookupEnv(k); return v }
			return server.Run(cmd.Context(), cfg, server.Process{
				Stdout:  stdout,
				Stderr:  stderr,
				Getenv:  getenv,
				Version: versionString(),
			})
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&cfg.DataDir, "data", cfg.DataDir,
		"folder of the server's files (root credential, and disk directories given as relative paths)")
	f.StringSliceVar(&cfg.Disks, "disks", cfg.Disks,
		"disk directories, comma separated or repeated; a pattern such as disk{1...8} or /mnt/d{1...4}/basalt names several; relative paths are under --data")
	f.IntVar(&cfg.DataShards, "ec-data", cfg.DataShards,
		"erasure coding: data shards k per object (k >= 1)")
	f.IntVar(&cfg.ParityShards, "ec-parity", cfg.ParityShards,
		"erasure coding: parity shards m per object (m >= 0, k+m <= number of disks); objects survive the loss of m disks")
	f.StringVar(&cfg.Address, "address", cfg.Address,
		"host:port of the S3 endpoint (port 0 picks a free one)")
	f.StringVar(&cfg.Region, "region", cfg.Region,
		"region the server answers for in signatures and bucket locations")
	f.StringSliceVar(&cfg.Domains, "domain", cfg.Domains,
		"domains for virtual-host-style requests (bucket.domain), comma separated or repeated")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat,
		"log format on stderr: text or json")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel,
		"lowest level logged: debug, info, warn or error")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout,
		"on SIGTERM or SIGINT, how long to let requests in flight finish")
	f.StringVar(&cfg.PprofAddress, "pprof", cfg.PprofAddress,
		"host:port to serve Go profiles on /debug/pprof/ (off when empty)")
	f.StringVar(&cfg.NodeID, "node-id", cfg.NodeID,
		"this node's id in the cluster (letters, digits, . _ : -); empty: generated at the first start and kept")
	f.StringVar(&cfg.RaftAddress, "raft-address", cfg.RaftAddress,
		"host:port of this node's catalog (Raft) port; port 0 picks a free one, fine for a single machine")
	f.StringVar(&cfg.RaftAdvertise, "raft-advertise", cfg.RaftAdvertise,
		"address the other nodes reach the Raft port at (default: --raft-address)")
	f.StringVar(&cfg.Join, "join", cfg.Join,
		"Raft address of a node of an existing cluster to join (needs --cluster-secret)")
	f.StringVar(&cfg.Role, "role", cfg.Role,
		"voter: carries a vote in the catalog's Raft group (run 3 or 5); storage: receives the catalog without a vote")
	f.DurationVar(&cfg.LifecycleEvery, "lifecycle-interval", cfg.LifecycleEvery,
		"how often the buckets' lifecycle rules (expiration, aborting old uploads) are applied; 0: never")
	f.StringVar(&cfg.SSEMasterKey, "sse-master-key-file", cfg.SSEMasterKey,
		"file holding the SSE-S3 master key (64 hex digits); empty: one kept in the catalog, generated once, the same on every node")
	f.IntVar(&cfg.MemoryLimitMiB, "memory-limit", cfg.MemoryLimitMiB,
		"soft limit of the Go heap in MiB: the collector works harder near it (GOMEMLIMIT, when set, wins); 0: none")
	f.IntVar(&cfg.MaxRequests, "max-requests", cfg.MaxRequests,
		"S3 and Swift requests served at once; more wait up to --request-wait, then get \"slow down\" (503). Bounds the data path's memory: 3 MiB a request at 2+2, twice that for a copy; 0: no bound")
	f.DurationVar(&cfg.RequestWait, "request-wait", cfg.RequestWait,
		"how long a request past --max-requests waits for a slot")
	f.StringVar(&cfg.TLSCert, "tls-cert", cfg.TLSCert,
		"PEM certificate (chain) to serve HTTPS with (with --tls-key); empty: plain HTTP")
	f.StringVar(&cfg.TLSKey, "tls-key", cfg.TLSKey,
		"PEM private key of --tls-cert")
	f.StringVar(&cfg.Zone, "zone", cfg.Zone,
		"this node's failure domain (rack, room, availability zone): the ring spreads each object's shards over zones first")
	f.StringVar(&cfg.ShardAddress, "shard-address", cfg.ShardAddress,
		"host:port of this node's internal shard API (the other nodes reach its disks there; authenticated with the cluster secret); port 0 picks a free one, recorded in the cluster map at each start")
	f.Float64Var(&cfg.RebalanceMiBps, "rebalance-rate", cfg.RebalanceMiBps,
		"MiB/s the rebalancer moves shards at after a ring change, so that client traffic keeps priority; 0: no limit")
	f.StringVar(&cfg.ShardAdvertise, "shard-advertise", cfg.ShardAdvertise,
		"address the other nodes reach the shard API at (default: the address --shard-address listens on)")
	f.StringVar(&cfg.ClusterSecret, "cluster-secret", cfg.ClusterSecret,
		"secret shared by every node of the cluster (16+ characters); empty: generated at the first start and kept")
	f.VisitAll(func(fl *pflag.Flag) {
		fl.Usage += " [" + envName(fl.Name) + "]"
	})
	return cmd
}

// applyEnv sets every flag not given on the command line from its
// environment variable, when that is set and not empty.
func applyEnv(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed {
			return
		}
		name := envName(fl.Name)
		v, ok := lookupEnv(name)
		if !ok || v == "" {
			return
		}
		if serr := fl.Value.Set(v); serr != nil {
			err = flagError{fmt.Errorf("%s=%q: %w", name, v, serr)}
		}
	})
	return err
}
