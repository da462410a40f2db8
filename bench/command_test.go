package bench

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/basaltstore/basalt/bench/internal/fakes3"
	"github.com/basaltstore/basalt/bench/report"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func execute(t *testing.T, lookup func(string) (string, bool), args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newCommand(lookup)
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestS3Command(t *testing.T) {
	srv := fakes3.New(fakes3.Options{AccessKey: "root-user"})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "get.json"), filepath.Join(dir, "get.html")
	stdout, stderr, err := execute(t, env(map[string]string{"BASALT_ROOT_USER": "root-user", "BASALT_ROOT_PASSWORD": "root-password"}),
		"s3", "get", "--endpoint", ts.URL, "--bucket", "cmd-bench", "--ops", "30", "--objects", "5", "--size", "1KiB-8KiB",
		"-c", "2", "--warmup", "10%", "--label", "fake", "--json", jsonPath, "--html", htmlPath, "--cleanup")
	if err != nil {
		t.Fatalf("bench s3 get: %v\nstderr:\n%s", err, stderr)
	}
	for _, want := range []string{"basalt bench s3 get", "[fake]", "p99.9", "time to first byte", "cleanup: removed 5 objects"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, want := range []string{`created bucket "cmd-bench"`, "preparing 5 objects", "wrote " + jsonPath} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	rep, err := report.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Workload != "get" || rep.Ops[0].Ops != 30 || rep.Warmup.Ops != 3 || rep.Label != "fake" || rep.Setting("size") != "1KiB-8KiB" {
		t.Fatalf("report = %+v", rep)
	}
	html, err := os.ReadFile(htmlPath)
	if err != nil || !bytes.Contains(html, []byte("<svg")) {
		t.Fatalf("html report: %v", err)
	}
	if srv.HasBucket("cmd-bench") {
		t.Error("--cleanup left the bucket it created")
	}
}

func TestCredentialsFromEnvironment(t *testing.T) {
	srv := fakes3.New(fakes3.Options{AccessKey: "aws-key"})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	vars := map[string]string{
		"AWS_ACCESS_KEY_ID": "aws-key", "AWS_SECRET_ACCESS_KEY": "aws-secret",
		"BASALT_ROOT_USER": "root-user", "BASALT_ROOT_PASSWORD": "root-password",
	}
	// The AWS variables come first.
	if _, stderr, err := execute(t, env(vars), "s3", "put", "--endpoint", ts.URL, "--ops", "3", "-q"); err != nil {
		t.Fatalf("with AWS variables: %v %s", err, stderr)
	}
	// A flag wins over both.
	_, _, err := execute(t, env(vars), "s3", "put", "--endpoint", ts.URL, "--ops", "3", "--access-key", "nobody", "-q")
	if err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Fatalf("with --access-key nobody: %v", err)
	}
	// Nothing at all: a usage error naming the ways to give keys.
	_, _, err = execute(t, env(nil), "s3", "put", "--endpoint", ts.URL, "--ops", "3")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("without keys: %v", err)
	}
}

func TestUsageErrors(t *testing.T) {
	srv := fakes3.New(fakes3.Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	keys := env(map[string]string{"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"})
	cases := [][]string{
		{"s3", "put", "--endpoint", ts.URL, "--size", "lots"},
		{"s3", "put", "--endpoint", ts.URL, "--size", "1MiB-1KiB"},
		{"s3", "mixed", "--endpoint", ts.URL, "--mix", "get=50,put=40"},
		{"s3", "get", "--endpoint", ts.URL, "--warmup", "soon"},
		{"s3", "get", "--endpoint", ts.URL, "-c", "0"},
		{"s3", "multipart", "--endpoint", ts.URL, "--part-size", "1MiB"},
		{"s3", "put", "--endpoint", ts.URL, "--json", "/no/such/folder/x.json"},
		{"ec", "--layouts", "4-2"},
		{"ec", "--shard-sizes", "big"},
		{"compare", "only-one.json"},
		{"compare", "missing-a.json", "missing-b.json"},
	}
	for _, args := range cases {
		_, _, err := execute(t, keys, args...)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
	if n := srv.Requests(); n != 0 {
		t.Fatalf("%d requests sent for bad command lines", n)
	}
}

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mibps float64) string {
		r := &report.Report{Schema: report.Schema, Tool: "basalt bench", Kind: "s3", Workload: "put", Label: "same",
			Ops: []report.Summary{{Op: "put", MiBPerSec: mibps, OpsPerSec: mibps, Latency: report.Latency{Count: 1, P50Ns: 1e7}}}}
		p := filepath.Join(dir, name)
		if err := report.WriteFile(p, r, report.WriteJSON); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := write("minio.json", 100), write("basalt.json", 250)
	stdout, _, err := execute(t, env(nil), "compare", a, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A = minio, B = basalt", "2.50x", "better"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("compare output lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _, err = execute(t, env(nil), "summary", a, b)
	if err != nil || !strings.Contains(stdout, "minio put") || !strings.Contains(stdout, "basalt put") || !strings.Contains(stdout, "250") {
		t.Fatalf("summary: %v\n%s", err, stdout)
	}
	htmlPath := filepath.Join(dir, "b.html")
	stdout, _, err = execute(t, env(nil), "show", b, "--html", htmlPath)
	if err != nil || !strings.Contains(stdout, "basalt bench s3 put") {
		t.Fatalf("show: %v\n%s", err, stdout)
	}
	if page, err := os.ReadFile(htmlPath); err != nil || !bytes.Contains(page, []byte("<!DOCTYPE html>")) {
		t.Fatalf("show --html: %v", err)
	}
	if _, _, err := execute(t, env(nil), "summary"); !errors.Is(err, ErrUsage) {
		t.Fatalf("summary without files: %v", err)
	}
}

func TestECCommand(t *testing.T) {
	stdout, _, err := execute(t, env(nil), "ec", "--layouts", "2+1", "--shard-sizes", "4KiB", "--ops", "5", "--json", "-", "-q")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.ReadJSON(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("--json - did not write JSON alone on stdout: %v\n%s", err, stdout)
	}
	if len(rep.Ops) != 3 || rep.Ops[0].Op != "encode 2+1 4KiB" {
		t.Fatalf("ops = %+v", rep.Ops)
	}
}

func TestHelp(t *testing.T) {
	stdout, _, err := execute(t, env(nil), "s3", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"put", "get", "delete", "list", "stat", "multipart", "mixed"} {
		if !strings.Contains(stdout, "  "+w+" ") {
			t.Errorf("s3 help lacks %s:\n%s", w, stdout)
		}
	}
	stdout, _, _ = execute(t, env(nil), "s3", "mixed", "--help")
	if !strings.Contains(stdout, "get=45,stat=30,put=15,delete=10") || !strings.Contains(stdout, "--cleanup") {
		t.Errorf("mixed help:\n%s", stdout)
	}
	if Command().Name() != "bench" {
		t.Error("command is not named bench")
	}
}
