package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/basaltstore/basalt/internal/testserver"
)

// Smoke tests with the clients people use from a shell: the aws CLI and
// boto3. `make test` installs both when they are missing.

const installHint = "run `make test`, which installs the test dependencies (scripts/install-test-deps.sh)"

func awsCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("the aws CLI is not installed: %s", installHint)
	}
	return p
}

// clientEnv is an environment with the server's credential and no user
// configuration of the aws tools.
func clientEnv(t *testing.T, srv *testserver.Server) []string {
	cfg := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "BASALT_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+srv.AccessKey(),
		"AWS_SECRET_ACCESS_KEY="+srv.SecretKey(),
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(cfg, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(cfg, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"BASALT_ENDPOINT="+srv.Endpoint(),
	)
}

func TestAWSCLI(t *testing.T) {
	aws := awsCLI(t)
	srv := testserver.Start(t, testserver.Options{})
	env := clientEnv(t, srv)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(aws, append([]string{"--endpoint-url", srv.Endpoint()}, args...)...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws %s: %v\nstdout:\n%s\nstderr:\n%s\nserver log:\n%s", strings.Join(args, " "), err,
				out.String(), errb.String(), srv.Logs())
		}
		t.Logf("aws %s (%s)", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		return out.String()
	}

	work := t.TempDir()
	run("s3", "mb", "s3://cli-bucket")

	// 70 MiB: above the CLI's multipart threshold (8 MiB), so it goes in parts.
	big := payload(10, 70<<20)
	bigPath := filepath.Join(work, "big.bin")
	if err := os.WriteFile(bigPath, big, 0o600); err != nil {
		t.Fatal(err)
	}
	run("s3", "cp", bigPath, "s3://cli-bucket/big.bin")
	head := run("s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin")
	if !strings.Contains(head, `-9\"`) {
		t.Errorf("70 MiB upload: want a 9-part multipart ETag (8 MiB parts):\n%s", head)
	}
	ls := run("s3", "ls", "s3://cli-bucket")
	if !strings.Contains(ls, fmt.Sprint(len(big))+" big.bin") {
		t.Errorf("ls lacks big.bin of %d bytes:\n%s", len(big), ls)
	}

	src := filepath.Join(work, "site")
	files := map[string][]byte{}
	for i := range 25 {
		rel := fmt.Sprintf("d%d/page-%02d.html", i%3, i)
		files[rel] = payload(uint64(100+i), 100+i*37)
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, files[rel], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run("s3", "sync", src, "s3://cli-bucket/site")
	rec := run("s3", "ls", "--recursive", "s3://cli-bucket/site/")
	for rel := range files {
		if !strings.Contains(rec, "site/"+rel) {
			t.Errorf("recursive ls lacks site/%s", rel)
		}
	}
	// A second sync has nothing to do.
	if out := run("s3", "sync", src, "s3://cli-bucket/site"); strings.Contains(out, "upload:") {
		t.Errorf("second sync uploaded again:\n%s", out)
	}

	back := filepath.Join(work, "back.bin")
	run("s3", "cp", "s3://cli-bucket/big.bin", back)
	got, err := os.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatalf("70 MiB file copied back differs (%d bytes)", len(got))
	}
	dst := filepath.Join(work, "site-back")
	run("s3", "sync", "s3://cli-bucket/site", dst)
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("synced back %s: %v, equal %v", rel, err, bytes.Equal(got, want))
		}
	}

	run("s3", "rm", "--recursive", "s3://cli-bucket")
	if out := run("s3", "ls", "--recursive", "s3://cli-bucket"); strings.TrimSpace(out) != "" {
		t.Errorf("bucket not empty after rm --recursive:\n%s", out)
	}
	run("s3", "rb", "s3://cli-bucket")
	if out := run("s3", "ls"); strings.Contains(out, "cli-bucket") {
		t.Errorf("bucket still listed after rb:\n%s", out)
	}
}

// pythonWithBoto3 returns a python3 interpreter that can import boto3.
func pythonWithBoto3(t *testing.T) string {
	t.Helper()
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		p, err := exec.LookPath(cand)
		if err != nil {
			continue
		}
		if exec.Command(p, "-c", "import boto3").Run() == nil {
			return p
		}
	}
	t.Fatalf("no python3 with boto3: %s", installHint)
	return ""
}

func TestBoto3(t *testing.T) {
	py := pythonWithBoto3(t)
	srv := testserver.Start(t, testserver.Options{})
	script, err := filepath.Abs(filepath.Join("testdata", "boto3_smoke.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script)
	cmd.Env = clientEnv(t, srv)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 smoke script: %v\n%s\nserver log:\n%s", err, out, srv.Logs())
	}
	if !strings.Contains(string(out), "boto3 smoke: ok") {
		t.Fatalf("boto3 smoke script did not finish:\n%s", out)
	}
	t.Logf("%s", out)
}
