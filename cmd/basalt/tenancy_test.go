package main_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/basaltstore/basalt/internal/testserver"
	"github.com/basaltstore/basalt/proxy"
)

// tenant makes project, a user with role on it, and an access key, through
// `basalt admin`, and returns a minio-go client signing with the key.
func tenant(t *testing.T, srv *testserver.Server, project, user, role string) *minio.Client {
	t.Helper()
	adminRun(t, srv, "project", "create", project)
	adminRun(t, srv, "user", "create", user, "--password", "pw-"+user, "--project", project)
	adminRun(t, srv, "role", "add", user, project, role)
	var k proxy.KeyInfo
	if err := json.Unmarshal([]byte(adminRun(t, srv, "--json", "key", "create", user, project)), &k); err != nil {
		t.Fatal(err)
	}
	if len(k.AccessKey) != 20 || len(k.SecretKey) != 40 {
		t.Fatalf("key = %+v", k)
	}
	c, err := minio.New(strings.TrimPrefix(srv.Endpoint(), "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(k.AccessKey, k.SecretKey, ""), Region: "us-east-1", MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rootEnv(srv *testserver.Server) []string {
	return []string{"BASALT_ROOT_USER=" + srv.AccessKey(), "BASALT_ROOT_PASSWORD=" + srv.SecretKey()}
}

func adminRun(t *testing.T, srv *testserver.Server, args ...string) string {
	t.Helper()
	out, errOut, err := basaltAdmin(t, srv, rootEnv(srv), args...)
	if err != nil {
		t.Fatalf("basalt admin %v: %v\n%s", args, err, errOut)
	}
	return out
}

// TestProjectsSeeOnlyTheirBuckets: access keys of two projects, made with
// `basalt admin`, each see and reach only their own project's buckets; a
// reader cannot write; the root credential sees every bucket; a deleted
// key stops working; and all of it survives a restart.
func TestProjectsSeeOnlyTheirBuckets(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	ctx := testContext(t, 2*time.Minute)
	alpha := tenant(t, srv, "alpha", "alice", "member")
	beta := tenant(t, srv, "beta", "bob", "member")
	betaReader := tenant(t, srv, "gamma", "carol", "member")   // a member of gamma ...
	adminRun(t, srv, "role", "add", "carol", "beta", "reader") // ... and a reader of beta
	var ks []proxy.KeyInfo
	_ = json.Unmarshal([]byte(adminRun(t, srv, "--json", "key", "list", "--user", "carol")), &ks)
	if len(ks) != 1 {
		t.Fatalf("carol's keys: %+v", ks)
	}

	for c, b := range map[*minio.Client]string{alpha: "alpha-photos", beta: "beta-logs"} {
		if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(ctx, b, "k", bytes.NewReader([]byte(b)), int64(len(b)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	code := func(err error) string { return minio.ToErrorResponse(err).Code }
	names := func(c *minio.Client) string {
		bs, err := c.ListBuckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range bs {
			out = append(out, b.Name)
		}
		return strings.Join(out, ",")
	}
	check := func() {
		t.Helper()
		if got := names(alpha); got != "alpha-photos" {
			t.Fatalf("alpha lists %q", got)
		}
		if got := names(beta); got != "beta-logs" {
			t.Fatalf("beta lists %q", got)
		}
		if got := names(minioClient(t, srv, 1)); got != "alpha-photos,beta-logs" {
			t.Fatalf("root lists %q", got)
		}
		if _, err := alpha.StatObject(ctx, "beta-logs", "k", minio.StatObjectOptions{}); err == nil {
			t.Fatal("alpha reads beta's object")
		}
		if _, err := alpha.PutObject(ctx, "beta-logs", "x", bytes.NewReader(nil), 0, minio.PutObjectOptions{}); code(err) != "AccessDenied" {
			t.Fatalf("alpha writes into beta's bucket: %v", err)
		}
		src := minio.CopySrcOptions{Bucket: "beta-logs", Object: "k"}
		if _, err := alpha.CopyObject(ctx, minio.CopyDestOptions{Bucket: "alpha-photos", Object: "stolen"}, src); code(err) != "AccessDenied" {
			t.Fatalf("alpha copies out of beta's bucket: %v", err)
		}
		if err := alpha.MakeBucket(ctx, "beta-logs", minio.MakeBucketOptions{}); code(err) != "BucketAlreadyExists" {
			t.Fatalf("alpha makes beta's bucket: %v", err)
		}
		if err := beta.MakeBucket(ctx, "beta-logs", minio.MakeBucketOptions{}); code(err) != "BucketAlreadyOwnedByYou" {
			t.Fatalf("beta makes its own bucket again: %v", err)
		}
	}
	check()

	// carol's key acts in gamma: beta's bucket is not hers through it.
	if _, err := betaReader.StatObject(ctx, "beta-logs", "k", minio.StatObjectOptions{}); code(err) != "AccessDenied" {
		t.Fatalf("a key of gamma reads beta's bucket: %v", err)
	}
	// A reader of beta with a key in beta reads and cannot write.
	var k proxy.KeyInfo
	if err := json.Unmarshal([]byte(adminRun(t, srv, "--json", "key", "create", "carol", "beta")), &k); err != nil {
		t.Fatal(err)
	}
	reader, _ := minio.New(strings.TrimPrefix(srv.Endpoint(), "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(k.AccessKey, k.SecretKey, ""), Region: "us-east-1", MaxRetries: 1,
	})
	if _, err := reader.StatObject(ctx, "beta-logs", "k", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("beta's reader cannot read: %v", err)
	}
	if err := reader.RemoveObject(ctx, "beta-logs", "k", minio.RemoveObjectOptions{}); code(err) != "AccessDenied" {
		t.Fatalf("beta's reader deletes: %v", err)
	}
	// A project key is no key to the administration API.
	if _, _, err := basaltAdmin(t, srv, []string{"BASALT_ROOT_USER=" + k.AccessKey, "BASALT_ROOT_PASSWORD=" + k.SecretKey}, "project", "list"); err == nil {
		t.Fatal("a project's key used the administration API")
	}
	// A deleted key stops working at once.
	adminRun(t, srv, "key", "delete", k.AccessKey)
	if _, err := reader.ListBuckets(ctx); code(err) != "InvalidAccessKeyId" {
		t.Fatalf("a deleted key still works: %v", err)
	}
	// A project that owns a bucket cannot be deleted.
	if _, errOut, err := basaltAdmin(t, srv, rootEnv(srv), "project", "delete", "beta"); err == nil || !strings.Contains(errOut, "owns bucket") {
		t.Fatalf("deleting a project with a bucket: %v %s", err, errOut)
	}

	srv.Restart()
	check()
}
