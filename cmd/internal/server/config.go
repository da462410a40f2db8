package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrUsage marks an error in the configuration given by the user (flags,
// environment). Commands exit with status 2 on it.
var ErrUsage = errors.New("server: invalid configuration")

// usageError is a configuration error whose text is meant for the user as
// is; it matches ErrUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Config is the configuration of `basalt server`. Field comments name the
// flag that sets each.
type Config struct {
	DataDir         string        // --data: folder of the server's own files, and the base of relative disk paths
	Disks           []string      // --disks: disk directories or {a...b} patterns
	DataShards      int           // --ec-data: k
	ParityShards    int           // --ec-parity: m
	Address         string        // --address: host:port of the S3 endpoint
	Region          string        // --region: the region the server answers for
	Domains         []string      // --domain: domains for virtual-host-style requests
	LogFormat       string        // --log-format: text or json
	LogLevel        string        // --log-level: debug, info, warn or error
	ShutdownTimeout time.Duration // --shutdown-timeout: how long to drain requests
	PprofAddress    string        // --pprof: host:port for /debug/pprof, empty for none
	NodeID          string        // --node-id: this node's id in the cluster; empty: generated once and kept
	RaftAddress     string        // --raft-address: host:port of the catalog's Raft port (shared with the control channel)
	RaftAdvertise   string        // --raft-advertise: address the other nodes reach the Raft port at; empty: --raft-address
	Join            string        // --join: Raft address of a member of the cluster to join; empty: start (or keep) a cluster
	Role            string        // --role: voter (carries a Raft vote) or storage
	Zone            string        // --zone: this node's failure domain in the cluster map
	TLSCert         string        // --tls-cert: PEM certificate (chain) to serve HTTPS with; empty: HTTP
	TLSKey          string        // --tls-key: PEM private key of --tls-cert
	LifecycleEvery  time.Duration // --lifecycle-interval: how often buckets' lifecycle rules are applied; 0: never
	MemoryLimitMiB  int           // --memory-limit: soft limit of the Go heap in MiB (GOMEMLIMIT wins when set); 0: none
	MaxRequests     int           // --max-requests: S3 and Swift requests served at once; 0: no bound
	RequestWait     time.Duration // --request-wait: how long a request past --max-requests waits before "slow down"
	ClusterSecret   string        // --cluster-secret: secret every node shares; empty: generated once and kept (single machine)
	ShardAddress    string        // --shard-address: host:port of the internal shard API the other nodes reach this node's disks at
	ShardAdvertise  string        // --shard-advertise: address the other nodes reach the shard API at; empty: the listener's
	RebalanceMiBps  float64       // --rebalance-rate: MiB/s the rebalancer moves shards at; 0: no limit
	SSEMasterKey    string        // --sse-master-key-file: file of 64 hex digits; empty: the catalog's, generated once
}

// Default returns the single-machine default: four disk directories under
// ./data, erasure coding 2+2, S3 on 127.0.0.1:8080.
func Default() Config {
	return Config{
		DataDir:         "data",
		Disks:           []string{"disk{1...4}"},
		DataShards:      2,
		ParityShards:    2,
		Address:         "127.0.0.1:8080",
		Region:          "us-east-1",
		Domains:         []string{"localhost"},
		LogFormat:       "text",
		LogLevel:        "info",
		ShutdownTimeout: 30 * time.Second,
		RaftAddress:     "127.0.0.1:0",
		ShardAddress:    "127.0.0.1:0",
		RebalanceMiBps:  64,
		Role:            "voter",
		Zone:            "zone1",
		LifecycleEvery:  time.Hour,
		MemoryLimitMiB:  512,
		MaxRequests:     64,
		RequestWait:     10 * time.Second,
	}
}

// Clustered reports whether this node is meant to be one of many (it
// joins a cluster, or shares a given cluster secret): it may then have
// fewer disks than k+m, the other shards going to other nodes.
func (c Config) Clustered() bool { return c.Join != "" || c.ClusterSecret != "" }

// Validate checks the configuration. Its errors match ErrUsage and read as
// one line for the user.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return usagef("--data must not be empty")
	}
	disks, err := c.DiskPaths()
	if err != nil {
		return err
	}
	if c.DataShards < 1 {
		return usagef("--ec-data=%d: the number of data shards k must be at least 1", c.DataShards)
	}
	if c.ParityShards < 0 {
		return usagef("--ec-parity=%d: the number of parity shards m must be at least 0", c.ParityShards)
	}
	if c.DataShards+c.ParityShards > len(disks) && !c.Clustered() {
		return usagef("--ec-data=%d --ec-parity=%d need k+m=%d disks, but --disks gives %d",
			c.DataShards, c.ParityShards, c.DataShards+c.ParityShards, len(disks))
	}
	if err := checkAddress("--address", c.Address); err != nil {
		return err
	}
	if c.PprofAddress != "" {
		if err := checkAddress("--pprof", c.PprofAddress); err != nil {
			return err
		}
	}
	if err := checkAddress("--raft-address", c.RaftAddress); err != nil {
		return err
	}
	if err := checkAddress("--shard-address", c.ShardAddress); err != nil {
		return err
	}
	if c.ShardAdvertise != "" {
		if err := checkAddress("--shard-advertise", c.ShardAdvertise); err != nil {
			return err
		}
	}
	if c.Join != "" {
		if err := checkAddress("--join", c.Join); err != nil {
			return err
		}
		if strings.HasSuffix(c.RaftAddress, ":0") && c.RaftAdvertise == "" {
			return usagef("--join needs a fixed --raft-address (or --raft-advertise) that the other nodes can reach")
		}
		if c.ClusterSecret == "" {
			return usagef("--join needs --cluster-secret: the secret the cluster's nodes share")
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if c.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			return usagef("--tls-cert/--tls-key: %v", err)
		}
	}
	if c.RebalanceMiBps < 0 {
		return usagef("--rebalance-rate=%g: MiB/s, 0 for no limit", c.RebalanceMiBps)
	}
	if c.MemoryLimitMiB < 0 {
		return usagef("--memory-limit=%d: MiB, 0 for none", c.MemoryLimitMiB)
	}
	if c.MaxRequests < 0 {
		return usagef("--max-requests=%d: requests, 0 for no bound", c.MaxRequests)
	}
	if c.RequestWait <= 0 {
		return usagef("--request-wait=%s: must be positive", c.RequestWait)
	}
	if c.LifecycleEvery < 0 {
		return usagef("--lifecycle-interval=%s: must be 0 (never) or positive", c.LifecycleEvery)
	}
	if c.Zone == "" || strings.ContainsAny(c.Zone, " /") {
		return usagef("--zone=%q: want a name such as rack1 or eu-west-1a", c.Zone)
	}
	if c.Role != "voter" && c.Role != "storage" {
		return usagef("--role=%q: want voter or storage", c.Role)
	}
	if c.ClusterSecret != "" && len(c.ClusterSecret) < 16 {
		return usagef("--cluster-secret: at least 16 characters")
	}
	if c.Region == "" {
		return usagef("--region must not be empty")
	}
	for _, d := range c.Domains {
		if d == "" || strings.ContainsAny(d, "/: ") {
			return usagef("--domain=%q: want a domain name such as s3.example.com", d)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return usagef("--log-format=%q: want text or json", c.LogFormat)
	}
	if _, err := c.level(); err != nil {
		return err
	}
	if c.ShutdownTimeout <= 0 {
		return usagef("--shutdown-timeout=%s: must be positive", c.ShutdownTimeout)
	}
	return nil
}

func checkAddress(flag, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("%s=%q: want host:port, such as 127.0.0.1:8080", flag, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usagef("%s=%q: port must be a number from 0 to 65535", flag, addr)
	}
	return nil
}

func (c Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, usagef("--log-level=%q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// DiskPaths expands the --disks arguments into the list of disk
// directories: each argument may be a path or contain {a...b} patterns
// (see ExpandPattern); relative paths are taken under DataDir. The list
// must not be empty nor name a directory twice.
func (c Config) DiskPaths() ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	for _, arg := range c.Disks {
		arg = strings.TrimSpace(arg)
		if arg == "" {
			continue
		}
		paths, err := ExpandPattern(arg)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if !filepath.IsAbs(p) {
				p = filepath.Join(c.DataDir, p)
			}
			p = filepath.Clean(p)
			if seen[p] {
				return nil, usagef("--disks names %s twice", p)
			}
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, usagef("--disks names no disk directory")
	}
	return out, nil
}
