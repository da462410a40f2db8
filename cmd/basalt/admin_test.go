package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/basaltstore/basalt/internal/testserver"
	"github.com/basaltstore/basalt/objectd"
)

// basaltAdmin runs `basalt admin ARGS` against srv.
func basaltAdmin(t testing.TB, srv *testserver.Server, env []string, args ...string) (string, string, error) {
	t.Helper()
	bin, err := testserver.Binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"admin", "--endpoint", srv.Endpoint()}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// TestAdminScrubFindsRotAndStatusReportsIt flips a byte in a shard file
// on disk, scrubs through `basalt admin scrub`, and reads the outcome in
// `basalt admin status --json` and /metrics.
func TestAdminScrubFindsRotAndStatusReportsIt(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	ctx := testContext(t, 2*time.Minute)
	c := minioClient(t, srv, 1)
	if err := c.MakeBucket(ctx, "scrubbed", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	data := payload(11, 3<<20)
	if _, err := c.PutObject(ctx, "scrubbed", "big", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	// Flip one byte past the header of the one shard of disk 2.
	shards := diskShards(t, filepath.Join(srv.DataDir(), "disk2"))
	if len(shards) != 1 {
		t.Fatalf("want one shard on disk2, found %v", shards)
	}
	f, err := os.OpenFile(shards[0].Path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	at := shards[0].Off + shards[0].Len/2
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	_, err = f.WriteAt(b, at)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"BASALT_ROOT_USER=" + srv.AccessKey(), "BASALT_ROOT_PASSWORD=" + srv.SecretKey()}
	out, errOut, err := basaltAdmin(t, srv, env, "scrub", "--bucket", "scrubbed")
	if err != nil {
		t.Fatalf("admin scrub: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "scrubbed 1 objects") || !strings.Contains(out, "1 bad shards found, 1 repaired") {
		t.Fatalf("admin scrub said: %q", out)
	}
	out, errOut, err = basaltAdmin(t, srv, env, "status", "--json")
	if err != nil {
		t.Fatalf("admin status: %v\n%s", err, errOut)
	}
	var st objectd.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out)
	}
	if st.K != 2 || st.M != 2 || len(st.Disks) != 4 || st.ShardsRebuilt < 1 || st.Buckets != 1 {
		t.Fatalf("status: %+v", st)
	}
	for _, d := range st.Disks {
		if d.State != "online" {
			t.Fatalf("disk %s is %s", d.Path, d.State)
		}
	}
	// The repaired object reads back whole.
	if got := getAll(ctx, t, c, "scrubbed", "big"); !bytes.Equal(got, data) {
		t.Fatal("object differs after the scrub's repair")
	}
	// Wrong credentials are refused with the S3 code.
	_, errOut, err = basaltAdmin(t, srv, []string{"BASALT_ROOT_USER=" + srv.AccessKey(), "BASALT_ROOT_PASSWORD=wrong-secret-123"}, "status")
	if err == nil || !strings.Contains(errOut, "SignatureDoesNotMatch") {
		t.Fatalf("wrong secret: %v %q", err, errOut)
	}
	// A bucket that is not there: a clear message.
	_, errOut, err = basaltAdmin(t, srv, env, "scrub", "--bucket", "nope")
	if err == nil || !strings.Contains(errOut, "NoSuchBucket") {
		t.Fatalf("scrub of a missing bucket: %v %q", err, errOut)
	}
}
