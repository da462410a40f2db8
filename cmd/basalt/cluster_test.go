package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/basaltstore/basalt/internal/testserver"
	"github.com/basaltstore/basalt/proxy"
)

const clusterSecret = "a-cluster-secret-for-tests"

// startCluster starts n servers whose catalogs form one Raft group: the
// first bootstraps it, the others join it. Raft ports are on 127.0.0.1,
// 127.0.0.2, ...
func startCluster(t *testing.T, n int) (nodes []*testserver.Server, raftAddrs []string) {
	t.Helper()
	first := ""
	for i := range n {
		raft, err := testserver.FreeAddr(fmt.Sprintf("127.0.0.%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"--node-id", fmt.Sprintf("n%d", i+1), "--raft-address", raft, "--cluster-secret", clusterSecret}
		if i == 0 {
			first = raft
		} else {
			args = append(args, "--join", first)
		}
		nodes = append(nodes, testserver.Start(t, testserver.Options{Args: args}))
		raftAddrs = append(raftAddrs, raft)
	}
	return nodes, raftAddrs
}

// TestCatalogAcrossNodes runs three servers with one catalog: identity
// made through one node is there on the others, a token issued by one
// is accepted by another, kill -9 of the first node (the Raft leader)
// leaves a group that still takes catalog writes, and a node started with
// the wrong cluster secret is refused.
func TestCatalogAcrossNodes(t *testing.T) {
	nodes, raftAddrs := startCluster(t, 3)
	adminRun(t, nodes[1], "project", "create", "shared")
	adminRun(t, nodes[2], "user", "create", "una", "--password", "una-secret-1", "--project", "shared")
	adminRun(t, nodes[0], "role", "add", "una", "shared", "member")
	for i, n := range nodes {
		var ps []proxy.ProjectInfo
		if err := json.Unmarshal([]byte(adminRun(t, n, "--json", "project", "list")), &ps); err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 { // admin and shared
			t.Fatalf("node %d lists projects %+v", i+1, ps)
		}
	}

	// A token from node 2 works on node 3: the key is the catalog's.
	token, storage := keystoneToken(t, nodes[1], "una", "una-secret-1", "shared")
	account := nodes[2].Endpoint() + storage[strings.Index(storage, "/v1/"):]
	if r := swiftDo(t, http.MethodHead, account, token, nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("HEAD account on another node: %d", r.StatusCode)
	}
	// A bucket made through one node is listed by the others.
	if r := swiftDo(t, http.MethodPut, account+"/everywhere", token, nil, nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("PUT container: %d", r.StatusCode)
	}
	if r := swiftDo(t, http.MethodGet, nodes[0].Endpoint()+storage[strings.Index(storage, "/v1/"):], token, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("GET account on node 1: %d", r.StatusCode)
	} else if b := new(bytes.Buffer); func() bool { _, _ = b.ReadFrom(r.Body); return strings.TrimSpace(b.String()) != "everywhere" }() {
		t.Fatalf("node 1 lists %q", b.String())
	}

	// The cluster map holds every node and its four disks, and one ring
	// over the twelve, read through any node.
	var info proxy.RingInfo
	if err := json.Unmarshal([]byte(adminRun(t, nodes[2], "--json", "ring", "show")), &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Map.Nodes) != 3 || len(info.Map.Disks) != 12 || len(info.Balance) != 1 || info.BuildError != "" || len(info.Members) != 3 {
		t.Fatalf("cluster map: %d nodes, %d disks, balance %+v, %q, members %+v", len(info.Map.Nodes), len(info.Map.Disks), info.Balance, info.BuildError, info.Members)
	}
	if b := info.Balance[0]; b.MaxOver > 5 || b.MaxUnder > 5 {
		t.Fatalf("ring balance over %.2f%% under %.2f%%", b.MaxOver, b.MaxUnder)
	}
	// Draining a node leaves eight disks for a 2+2 policy: accepted; its
	// removal before its disks are out is refused, and changes nothing.
	adminRun(t, nodes[0], "node", "drain", "n3")
	if _, errOut, err := basaltAdmin(t, nodes[0], rootEnv(nodes[0]), "node", "remove", "n3"); err == nil || !strings.Contains(errOut, "refused") {
		t.Fatalf("removing a draining node: %v %s", err, errOut)
	}
	if err := json.Unmarshal([]byte(adminRun(t, nodes[1], "--json", "ring", "show")), &info); err != nil {
		t.Fatal(err)
	}
	if n, ok := info.Map.Node("n3"); !ok || n.State != "draining" {
		t.Fatalf("n3 after drain and a refused removal: %+v %v", n, ok)
	}
	// A change naming an unknown node is refused.
	if _, errOut, err := basaltAdmin(t, nodes[0], rootEnv(nodes[0]), "node", "drain", "n-unknown"); err == nil || !strings.Contains(errOut, "unknown") {
		t.Fatalf("draining an unknown node: %v %s", err, errOut)
	}

	// kill -9 of node 1, which bootstrapped the group (and leads it unless an
	// election moved the lead): the
	// survivors elect a leader and catalog writes go on.
	nodes[0].Kill()
	start := time.Now()
	adminRun(t, nodes[1], "project", "create", "after-failover")
	t.Logf("first catalog write after kill -9 of the leader: %s", time.Since(start).Round(time.Millisecond))
	var ps []proxy.ProjectInfo
	if err := json.Unmarshal([]byte(adminRun(t, nodes[2], "--json", "project", "list")), &ps); err != nil || len(ps) != 3 {
		t.Fatalf("node 3 after failover: %+v %v", ps, err)
	}
	// Node 1 comes back and catches up (the administration API's lists
	// are read after a Raft barrier).
	nodes[0].Restart()
	if err := json.Unmarshal([]byte(adminRun(t, nodes[0], "--json", "project", "list")), &ps); err != nil || len(ps) != 3 {
		t.Fatalf("node 1 after its restart: %+v %v", ps, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Nodes 1 and 2 gone: node 3 alone is a minority. It refuses catalog
	// writes and answers bucket and container lists with 503 rather than a
	// list that may be stale; once the others are back it serves again.
	nodes[0].Kill()
	nodes[1].Kill()
	if _, errOut, err := basaltAdmin(t, nodes[2], rootEnv(nodes[2]), "project", "create", "in-the-minority"); err == nil {
		t.Fatalf("a catalog write on a minority node succeeded: %s", errOut)
	}
	if _, err := minioClient(t, nodes[2], 1).ListBuckets(ctx); minio.ToErrorResponse(err).StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("S3 bucket list on a minority node: %v", err)
	}
	minorityAccount := nodes[2].Endpoint() + storage[strings.Index(storage, "/v1/"):]
	if r := swiftDo(t, http.MethodGet, minorityAccount, token, nil, nil); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("Swift container list on a minority node: %d", r.StatusCode)
	}
	nodes[0].Restart()
	nodes[1].Restart()
	if _, err := minioClient(t, nodes[2], 1).ListBuckets(ctx); err != nil {
		t.Fatalf("S3 bucket list after the majority is back: %v", err)
	}
	if r := swiftDo(t, http.MethodGet, minorityAccount, token, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("Swift container list after the majority is back: %d", r.StatusCode)
	}

	// A node with the wrong secret is refused, with a clear message.
	bin, err := testserver.Binary()
	if err != nil {
		t.Fatal(err)
	}
	raft, _ := testserver.FreeAddr("127.0.0.4")
	joinTo := raftAddrs[1]
	jctx, jcancel := context.WithTimeout(context.Background(), time.Minute)
	defer jcancel()
	cmd := exec.CommandContext(jctx, bin, "server", "--data", t.TempDir(), "--address", "127.0.0.1:0",
		"--raft-address", raft, "--join", joinTo, "--cluster-secret", "not-the-cluster-secret")
	cmd.Env = rootEnv(nodes[1])
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "secret") {
		t.Fatalf("join with a wrong secret: %v\n%s", err, out)
	}
}

// TestClusterMapOfOneServer: a single server registers itself and its
// disks with a 2+2 default policy; draining a disk it needs is refused
// with the reason; a policy can be added; removing the one Raft voter is
// refused.
func TestClusterMapOfOneServer(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Args: []string{"--node-id", "solo", "--zone", "rack7"}})
	var info proxy.RingInfo
	if err := json.Unmarshal([]byte(adminRun(t, srv, "--json", "ring", "show")), &info); err != nil {
		t.Fatal(err)
	}
	n, ok := info.Map.Node("solo")
	if !ok || n.Zone != "rack7" || n.Address != srv.Addr() || len(info.Map.Disks) != 4 || len(info.Map.Policies) != 1 {
		t.Fatalf("map of one server: %+v", info.Map)
	}
	if p := info.Map.Policies[0]; p.Name != "default" || p.K != 2 || p.M != 2 {
		t.Fatalf("default policy %+v", p)
	}
	_, errOut, err := basaltAdmin(t, srv, rootEnv(srv), "disk", "drain", "solo:d4")
	if err == nil || !strings.Contains(errOut, "unplaceable") {
		t.Fatalf("draining a disk the policy needs: %v %s", err, errOut)
	}
	if out := adminRun(t, srv, "policy", "add", "mirror", "--spec", "rep:2"); !strings.Contains(out, "epoch") {
		t.Fatalf("policy add: %s", out)
	}
	if out := adminRun(t, srv, "policy", "list"); !strings.Contains(out, "mirror") || !strings.Contains(out, "rep:2") {
		t.Fatalf("policy list:\n%s", out)
	}
	_, errOut, err = basaltAdmin(t, srv, rootEnv(srv), "node", "remove", "solo")
	if err == nil || !strings.Contains(errOut, "refused") {
		t.Fatalf("removing the only node: %v %s", err, errOut)
	}
	// A restart registers nothing twice.
	epoch := info.Map.Epoch + 1 // the policy added above
	srv.Restart()
	if err := json.Unmarshal([]byte(adminRun(t, srv, "--json", "ring", "show")), &info); err != nil || info.Map.Epoch != epoch {
		t.Fatalf("epoch after restart %d, want %d (%v)", info.Map.Epoch, epoch, err)
	}
}
