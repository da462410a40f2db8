package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/basaltstore/basalt/internal/testserver"
	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/proxy"
)

const clusterSecret = "a-cluster-secret-for-tests"

// startCluster starts n servers whose catalogs form one Raft group: the
// first bootstraps it, the others join it. Raft ports are on 127.0.0.1,
// 127.0.0.2, ...
func startCluster(t *testing.T, n int, extra ...string) (nodes []*testserver.Server, raftAddrs []string) {
	t.Helper()
	first := ""
	for i := range n {
		raft, err := testserver.FreeAddr(fmt.Sprintf("127.0.0.%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, startNode(t, i+1, raft, first, extra...))
		if i == 0 {
			first = raft
		}
		raftAddrs = append(raftAddrs, raft)
	}
	return nodes, raftAddrs
}

// startNode starts node n ("n<n>") with its Raft port at raft and its
// shard API on a fixed free port of 127.0.0.<n>, joining the member at
// join unless it is empty.
func startNode(t *testing.T, n int, raft, join string, extra ...string) *testserver.Server {
	t.Helper()
	shard, err := testserver.FreeAddr(fmt.Sprintf("127.0.0.%d", n))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--node-id", fmt.Sprintf("n%d", n), "--raft-address", raft, "--shard-address", shard, "--cluster-secret", clusterSecret}
	if join != "" {
		args = append(args, "--join", join)
	}
	return testserver.Start(t, testserver.Options{Args: append(args, extra...)})
}

// shardFiles counts the shards stored on a node's disks.
func shardFiles(t *testing.T, srv *testserver.Server) int {
	t.Helper()
	disks, err := filepath.Glob(filepath.Join(srv.DataDir(), "*", "FORMAT"))
	if err != nil || len(disks) == 0 {
		t.Fatalf("no disks under %s: %v", srv.DataDir(), err)
	}
	n := 0
	for _, f := range disks {
		n += len(diskShards(t, filepath.Dir(f)))
	}
	return n
}

// diskShards lists the shards stored on one disk.
func diskShards(t *testing.T, dir string) []disk.Extent {
	t.Helper()
	ext, err := disk.Extents(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ext
}

// rebalanceAll runs a rebalance pass on every node and returns the
// shards they moved and hold for a primary that is down.
func rebalanceAll(t *testing.T, nodes []*testserver.Server) (moved, handoffs int64) {
	t.Helper()
	for _, n := range nodes {
		var st objectd.RebalanceStatus
		if err := json.Unmarshal([]byte(adminRun(t, n, "--json", "rebalance")), &st); err != nil {
			t.Fatal(err)
		}
		if st.Failed > 0 {
			t.Fatalf("rebalance on %s: %d moves failed", n.Addr(), st.Failed)
		}
		moved += st.Moved
		handoffs += st.Handoffs
	}
	return moved, handoffs
}

// settle runs rebalance rounds over every node until a round moves
// nothing and no shard waits on a hand-off, and returns what moved. The
// nodes' own passes run meanwhile, some by a ring a node had not caught up
// with yet: a few rounds may be needed, not many.
func settle(t *testing.T, nodes []*testserver.Server) int64 {
	t.Helper()
	var total int64
	for round := 1; round <= 5; round++ {
		moved, handoffs := rebalanceAll(t, nodes)
		total += moved
		if moved == 0 && handoffs == 0 {
			t.Logf("rebalance settled in %d rounds", round)
			return total
		}
	}
	t.Fatalf("rebalance still moving after 5 rounds (%d moved)", total)
	return total
}

// TestObjectsAcrossNodes runs three nodes of two disks each with a 2+2
// policy: objects written through any node are read and listed through
// every other, with their shards spread over the nodes' disks. With one
// node killed (kill -9) reads, writes and deletes go on, the writes
// landing on hand-offs; once it is back, a rebalance pass moves them home,
// after which the cluster survives the loss of another node. A fourth
// node takes its share of the shards, and everything still reads. A
// drained disk ends up empty and is marked out and removed; one whose
// node is down cannot be marked out.
func TestObjectsAcrossNodes(t *testing.T) {
	nodes, raftAddrs := startCluster(t, 3, "--disks", "disk{1...2}")
	ctx := testContext(t, 5*time.Minute)
	const bucket = "spread"
	if err := minioClient(t, nodes[0], 1).MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	model := map[string][]byte{}
	sizes := []int{0, 1 << 10, 40 << 10, 300 << 10, 2<<20 + 123}
	put := func(srv *testserver.Server, i int) {
		t.Helper()
		key := fmt.Sprintf("obj-%02d", i)
		data := payload(uint64(i)+1, sizes[i%len(sizes)])
		// Retries: the first write after a node dies may find its disks
		// still counted in (a 503), as a real client would retry.
		if _, err := minioClient(t, srv, 3).PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s through %s: %v", key, srv.Addr(), err)
		}
		model[key] = data
	}
	checkAll := func(up []*testserver.Server) {
		t.Helper()
		want := slices.Sorted(maps.Keys(model))
		for _, srv := range up {
			// Retries, as clients do: a node just restarted answers 503
			// until it hears from the Raft leader and sees the others, and
			// any node does while a new leader is elected (under a loaded
			// CI machine, heartbeats can miss and start an election).
			c := minioClient(t, srv, 10)
			var got []string
			for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
				if o.Err != nil {
					t.Fatalf("list through %s: %v", srv.Addr(), o.Err)
				}
				got = append(got, o.Key)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("list through %s:\n got %v\nwant %v", srv.Addr(), got, want)
			}
			for _, k := range want {
				if !bytes.Equal(getAll(ctx, t, c, bucket, k), model[k]) {
					t.Fatalf("%s through %s differs", k, srv.Addr())
				}
			}
		}
	}
	for i := range 20 {
		put(nodes[i%3], i)
	}
	checkAll(nodes)
	for i, n := range nodes {
		if shardFiles(t, n) == 0 {
			t.Fatalf("node %d holds no shard file", i+1)
		}
	}

	// Node 3 dies: the other two go on, on hand-offs.
	nodes[2].Kill()
	checkAll(nodes[:2])
	for i := 20; i < 26; i++ {
		put(nodes[i%2], i)
	}
	for _, k := range []string{"obj-00", "obj-01", "obj-02"} {
		if err := minioClient(t, nodes[0], 1).RemoveObject(ctx, bucket, k, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		delete(model, k)
	}
	checkAll(nodes[:2])
	if _, handoffs := rebalanceAll(t, nodes[:2]); handoffs == 0 {
		t.Fatal("no shard is held on a hand-off while node 3 is down")
	}

	// Node 3 is back: what the hand-offs hold goes home, until a pass
	// finds nothing left to move.
	nodes[2].Restart()
	moved := settle(t, nodes)
	t.Logf("shards moved home after node 3 came back: %d", moved)
	checkAll(nodes)
	// Proof that they went home: without node 1, nodes 2 and 3 still hold
	// enough of every object.
	nodes[0].Kill()
	checkAll(nodes[1:])
	nodes[0].Restart()

	// A fourth node, with the same weight per disk, joins under load:
	// about a quarter of the shards move to it, and nothing is lost.
	before := 0
	for _, n := range nodes {
		before += shardFiles(t, n)
	}
	raft4, err := testserver.FreeAddr("127.0.0.4")
	if err != nil {
		t.Fatal(err)
	}
	// Under load: a writer goes on through nodes 1 and 2 while the node
	// joins and the shards move.
	stop := make(chan struct{})
	loaded := make(chan map[string][]byte)
	go func() {
		acked := map[string][]byte{}
		defer func() { loaded <- acked }()
		c := []*minio.Client{minioClient(t, nodes[0], 5), minioClient(t, nodes[1], 5)}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key := fmt.Sprintf("load-%03d", i)
			data := payload(uint64(i)+1000, []int{2 << 10, 100 << 10}[i%2])
			if _, err := c[i%2].PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err == nil {
				acked[key] = data
			}
		}
	}()
	n4 := startNode(t, 4, raft4, raftAddrs[0], "--disks", "disk{1...2}")
	nodes = append(nodes, n4)
	settle(t, nodes)
	close(stop)
	acked := <-loaded
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged while the fourth node joined")
	}
	t.Logf("writes acknowledged while the fourth node joined: %d", len(acked))
	maps.Copy(model, acked)
	settle(t, nodes)
	on4, after := shardFiles(t, n4), 0
	for _, n := range nodes {
		after += shardFiles(t, n)
	}
	ratio := float64(on4) / float64(after)
	t.Logf("fourth node: %d of %d shard files moved to it (%.1f%%; ideal for 2 disks of 8: 25%%); %d before, %d after",
		on4, after, 100*ratio, before, after)
	// Every object of more than 16 KiB (the inline threshold) has its
	// four shard files. (A file left behind by moves that raced is
	// possible: reported, not a failure; nothing reclaims such files yet.)
	want := 0
	for _, data := range model {
		if len(data) > 16<<10 {
			want += 4
		}
	}
	if after > want {
		t.Logf("%d shard files left behind", after-want)
	}
	if after < want || ratio < 0.10 || ratio > 0.45 {
		t.Fatalf("fourth node holds %d of %d shard files (%d before, %d expected)", on4, after, before, want)
	}
	checkAll(nodes)

	// Draining a disk empties it; it can be marked out only then, and
	// removed after.
	adminRun(t, nodes[1], "disk", "drain", "n4:d1")
	settle(t, nodes)
	d1 := filepath.Join(n4.DataDir(), "disk1")
	if n := len(diskShards(t, d1)); n != 0 {
		t.Fatalf("drained disk n4:d1 still holds %d shard files", n)
	}
	adminRun(t, nodes[0], "disk", "out", "n4:d1")
	adminRun(t, nodes[0], "disk", "remove", "n4:d1")
	checkAll(nodes)
	// A disk whose emptiness cannot be checked (its node is down) is not
	// marked out; once its node is back and the rebalancer is done, it is.
	nodes[0].Kill()
	adminRun(t, nodes[1], "disk", "drain", "n1:d2")
	if _, errOut, err := basaltAdmin(t, nodes[2], rootEnv(nodes[2]), "disk", "out", "n1:d2"); err == nil || !strings.Contains(errOut, "cannot tell whether n1:d2 is empty") {
		t.Fatalf("marking out a disk of a node that is down: %v %s", err, errOut)
	}
	nodes[0].Restart()
	settle(t, nodes)
	adminRun(t, nodes[2], "disk", "out", "n1:d2")
	checkAll(nodes)
}

// countFiles counts the regular files under dir whose path match accepts
// (every one, when match is nil).
func countFiles(t *testing.T, dir string, match func(path string) bool) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (match == nil || match(p)) {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
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
	if !ok || n.Zone != "rack7" || n.Address == "" || n.Address == srv.Addr() || len(info.Map.Disks) != 4 || len(info.Map.Policies) != 1 {
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
	// A node and its disk can be added ahead of the node's start; a disk
	// id that names no node, or an unknown one, is refused.
	adminRun(t, srv, "node", "add", "later", "--zone", "rack8")
	if _, errOut, err := basaltAdmin(t, srv, rootEnv(srv), "disk", "add", "nodeless"); err == nil || !strings.Contains(errOut, "NODE:dN") {
		t.Fatalf("disk add without a node: %v %s", err, errOut)
	}
	if _, errOut, err := basaltAdmin(t, srv, rootEnv(srv), "disk", "add", "nobody:d1"); err == nil || !strings.Contains(errOut, "unknown") {
		t.Fatalf("disk add on an unknown node: %v %s", err, errOut)
	}
	adminRun(t, srv, "disk", "add", "later:d1", "--weight", "50")
	if err := json.Unmarshal([]byte(adminRun(t, srv, "--json", "ring", "show")), &info); err != nil {
		t.Fatal(err)
	}
	if n, ok := info.Map.Node("later"); !ok || n.Zone != "rack8" {
		t.Fatalf("added node: %+v %v", n, ok)
	}
	if d, ok := info.Map.Disk("later:d1"); !ok || d.Weight != 50 || d.Node != "later" {
		t.Fatalf("added disk: %+v %v", d, ok)
	}
}

// TestNodeCutOff cuts one node of three off the network with relays in
// front of every node's Raft and shard ports (nodes reach each other only
// through them): the majority goes on taking catalog and object writes;
// the cut-off node refuses catalog writes and answers bucket lists with
// 503, never a stale list; once the network is back it catches up and
// serves every object, those written while it was away included.
func TestNodeCutOff(t *testing.T) {
	relayed := startRelayCluster(t, 3, 2)
	nodes := relayed.servers
	ctx := testContext(t, 3*time.Minute)
	const bucket = "cut"
	if err := minioClient(t, nodes[0], 1).MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	model := map[string][]byte{}
	put := func(srv *testserver.Server, i int) {
		t.Helper()
		key := fmt.Sprintf("obj-%02d", i)
		data := payload(uint64(i)+100, []int{3 << 10, 200 << 10}[i%2])
		// Retries: for about a second after the cut the others do not
		// write on hand-offs yet (shardapi.Options.HoldDown); clients retry.
		if _, err := minioClient(t, srv, 10).PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s through %s: %v", key, srv.Addr(), err)
		}
		model[key] = data
	}
	for i := range 8 {
		put(nodes[i%3], i)
	}

	// Cut node 3 off: the relays in front of nodes 1 and 2 drop what comes
	// from 127.0.0.3, node 3's drop what comes from the others.
	if err := relayed.Cut(2); err != nil {
		t.Fatal(err)
	}

	// The majority goes on.
	adminRun(t, nodes[1], "project", "create", "made-during-the-cut")
	if err := minioClient(t, nodes[1], 5).MakeBucket(ctx, "made-during-the-cut", minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("bucket made on the majority side: %v", err)
	}
	for i := 8; i < 16; i++ {
		put(nodes[i%2], i)
	}
	// obj-00 is overwritten on the majority side: the cut-off node, whose
	// own disks still hold the old version, answers 503, not that version.
	put(nodes[0], 0+16)
	model["obj-00"] = model["obj-16"]
	if _, err := minioClient(t, nodes[0], 5).CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: "obj-00"},
		minio.CopySrcOptions{Bucket: bucket, Object: "obj-16"}); err != nil {
		t.Fatalf("overwrite of obj-00 on the majority side: %v", err)
	}
	if _, err := minioClient(t, nodes[2], 1).StatObject(ctx, bucket, "obj-00", minio.StatObjectOptions{}); minio.ToErrorResponse(err).StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("HEAD of an object overwritten elsewhere, on the cut-off node: %v", err)
	}
	// The cut-off node refuses catalog writes and never lists buckets it
	// cannot know are current.
	if _, errOut, err := basaltAdmin(t, nodes[2], rootEnv(nodes[2]), "project", "create", "on-the-cut-side"); err == nil {
		t.Fatalf("a catalog write on the cut-off node succeeded: %s", errOut)
	}
	if _, err := minioClient(t, nodes[2], 1).ListBuckets(ctx); minio.ToErrorResponse(err).StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("bucket list on the cut-off node: %v", err)
	}

	// The network is back: node 3 catches up (its bucket list, which
	// waits for the leader's word, has the new bucket) and serves every
	// object.
	if err := relayed.Heal(2); err != nil {
		t.Fatal(err)
	}
	buckets, err := minioClient(t, nodes[2], 10).ListBuckets(ctx)
	if err != nil {
		t.Fatalf("bucket list on node 3 after the cut: %v", err)
	}
	if !slices.ContainsFunc(buckets, func(b minio.BucketInfo) bool { return b.Name == "made-during-the-cut" }) {
		t.Fatalf("node 3 lists %v after the cut, without the bucket made during it", buckets)
	}
	settle(t, nodes)
	c3 := minioClient(t, nodes[2], 3)
	for k, data := range model {
		if !bytes.Equal(getAll(ctx, t, c3, bucket, k), data) {
			t.Fatalf("%s through node 3 after the cut differs", k)
		}
	}
	var ps []proxy.ProjectInfo
	if err := json.Unmarshal([]byte(adminRun(t, nodes[2], "--json", "project", "list")), &ps); err != nil ||
		!slices.ContainsFunc(ps, func(p proxy.ProjectInfo) bool { return p.Name == "made-during-the-cut" }) {
		t.Fatalf("node 3's projects after the cut: %+v %v", ps, err)
	}
}
