package testserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests here drive the harness with small shell scripts standing in for
// the server, so that its start, readiness, retry and stop logic is tested
// on its own; the tests of cmd/basalt drive it with the real binary.
// A script gets the same arguments as basalt: server --data D --address A ...

// readyScript prints the access key and the ready line, then waits for
// SIGTERM and exits 0.
const readyScript = `#!/bin/sh
addr=$5
trap 'echo "stopping" >&2; exit 0' TERM
echo "Root access key: $BASALT_ROOT_USER"
echo "time=2026-01-01T00:00:00Z level=INFO msg=\"basalt server ready\" address=$addr disks=4" >&2
while :; do sleep 60 >/dev/null 2>&1 & wait $!; done
`

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-basalt")
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartStopRestart(t *testing.T) {
	s, err := startBinary(t, script(t, readyScript), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Running() {
		t.Fatal("not running after Start")
	}
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") || s.Endpoint() == "http://127.0.0.1:0" {
		t.Errorf("endpoint = %q", s.Endpoint())
	}
	if s.AccessKey() != RootUser || s.SecretKey() != RootPassword {
		t.Errorf("credential = %q/%q", s.AccessKey(), s.SecretKey())
	}
	if !strings.Contains(s.Stdout(), "Root access key: "+RootUser) {
		t.Errorf("the fixed credential did not reach the server: stdout %q", s.Stdout())
	}
	addr := s.Addr()
	s.Restart()
	if s.Addr() != addr {
		t.Errorf("restart moved the server from %s to %s with the port free", addr, s.Addr())
	}
	if n := strings.Count(s.Logs(), "basalt server ready"); n != 2 {
		t.Errorf("logs hold %d ready lines, want 2:\n%s", n, s.Logs())
	}
	s.Terminate()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.WaitLog(ctx, "stopping"); err != nil {
		t.Fatal(err)
	}
	if code := s.Wait(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if err := s.WaitLog(short, "never written"); err == nil {
		t.Error("WaitLog found a line that was never written")
	}
	if s.Running() {
		t.Error("running after Stop")
	}
	if !strings.Contains(s.Logs(), "stopping") {
		t.Errorf("SIGTERM not delivered: %s", s.Logs())
	}
}

func TestKill(t *testing.T) {
	s, err := startBinary(t, script(t, readyScript), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if s.Running() {
		t.Fatal("running after Kill")
	}
	if code := s.Wait(); code != -1 {
		t.Errorf("exit code after SIGKILL = %d, want -1", code)
	}
	if strings.Contains(s.Logs(), "stopping") {
		t.Error("Kill ran the SIGTERM handler")
	}
	s.Restart()
	if !s.Running() {
		t.Fatal("not running after Restart from a kill")
	}
}

func TestEnvironment(t *testing.T) {
	t.Setenv("BASALT_EC_DATA", "9") // must not leak into the server
	const env = `#!/bin/sh
trap 'exit 0' TERM
echo "Root access key: x"
echo "ec=${BASALT_EC_DATA:-unset} extra=$EXTRA data=$3" >&2
echo "msg=\"basalt server ready\" address=$5" >&2
while :; do sleep 60 >/dev/null 2>&1 & wait $!; done
`
	s, err := startBinary(t, script(t, env), Options{Env: []string{"EXTRA=yes"}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("ec=unset extra=yes data=%s", s.DataDir())
	if !strings.Contains(s.Logs(), want) {
		t.Errorf("logs lack %q:\n%s", want, s.Logs())
	}
}

func TestGeneratedCredentials(t *testing.T) {
	const gen = `#!/bin/sh
trap 'exit 0' TERM
if [ -n "$BASALT_ROOT_USER$BASALT_ROOT_PASSWORD" ]; then echo "credential env set" >&2; exit 1; fi
if [ -f "$3/seen" ]; then
	echo "Root access key: AKGENERATED"
else
	touch "$3/seen"
	echo "+--------------------------------+"
	echo "|   Access key: AKGENERATED      |"
	echo "|   Secret key: SECRETGENERATED  |"
	echo "+--------------------------------+"
fi
echo "msg=\"basalt server ready\" address=$5" >&2
while :; do sleep 60 >/dev/null 2>&1 & wait $!; done
`
	s, err := startBinary(t, script(t, gen), Options{GenerateCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.AccessKey() != "AKGENERATED" || s.SecretKey() != "SECRETGENERATED" {
		t.Fatalf("credential = %q/%q", s.AccessKey(), s.SecretKey())
	}
	s.Restart()
	if s.AccessKey() != "AKGENERATED" || s.SecretKey() != "SECRETGENERATED" {
		t.Fatalf("after restart credential = %q/%q", s.AccessKey(), s.SecretKey())
	}
}

func TestExitBeforeReady(t *testing.T) {
	const fail = `#!/bin/sh
echo "basalt: --ec-data=0: the number of data shards k must be at least 1" >&2
exit 2
`
	_, err := startBinary(t, script(t, fail), Options{})
	if err == nil {
		t.Fatal("start succeeded for a server that exits")
	}
	for _, want := range []string{"code 2", "--ec-data=0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestRetryOnBindClash(t *testing.T) {
	// The first two launches report a clash; the third starts.
	const clash = `#!/bin/sh
trap 'exit 0' TERM
n=$(cat "$3/tries" 2>/dev/null || echo 0)
echo $((n+1)) > "$3/tries"
if [ "$n" -lt 2 ]; then
	echo "basalt: server: listen: listen tcp $5: bind: address already in use" >&2
	exit 1
fi
echo "Root access key: x"
echo "msg=\"basalt server ready\" address=$5" >&2
while :; do sleep 60 >/dev/null 2>&1 & wait $!; done
`
	s, err := startBinary(t, script(t, clash), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tries, err := os.ReadFile(filepath.Join(s.DataDir(), "tries"))
	if err != nil || strings.TrimSpace(string(tries)) != "3" {
		t.Errorf("tries = %q, %v; want 3", tries, err)
	}
	if n := strings.Count(s.Logs(), "=== testserver: start"); n != 3 {
		t.Errorf("%d starts logged, want 3", n)
	}
}

func TestReadyTimeout(t *testing.T) {
	const hang = `#!/bin/sh
echo "Root access key: x"
while :; do sleep 60 >/dev/null 2>&1 & wait $!; done
`
	start := time.Now()
	_, err := startBinary(t, script(t, hang), Options{ReadyTimeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "not ready within") {
		t.Fatalf("err = %v, want a readiness timeout", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("timeout of 300ms took %s", time.Since(start))
	}
}

func TestWrongAddressReported(t *testing.T) {
	const wrong = `#!/bin/sh
echo "Root access key: x"
echo "msg=\"basalt server ready\" address=127.0.0.1:1" >&2
while :; do sleep 60 >/dev/null 2>&1 & wait $!; done
`
	_, err := startBinary(t, script(t, wrong), Options{})
	if err == nil || !strings.Contains(err.Error(), "reports address") {
		t.Fatalf("err = %v, want an address mismatch", err)
	}
}

// recorder is a testing.TB that records errors instead of failing.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestStopKillsAfterTimeout(t *testing.T) {
	const stubborn = `#!/bin/sh
trap '' TERM
echo "Root access key: x"
echo "msg=\"basalt server ready\" address=$5" >&2
while :; do sleep 60 >/dev/null 2>&1 & wait $!; done
`
	rec := &recorder{TB: t}
	s, err := startBinary(rec, script(t, stubborn), Options{StopTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if code := s.Stop(); code != -1 {
		t.Errorf("exit code = %d, want -1 (killed)", code)
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "did not exit") {
		t.Errorf("errors reported = %q, want one about the server not exiting", rec.errs)
	}
}

func TestReadyAddress(t *testing.T) {
	for line, want := range map[string]string{
		`time=x level=INFO msg="basalt server ready" address=127.0.0.1:9000 disks=4`:         "127.0.0.1:9000",
		`{"time":"x","level":"INFO","msg":"basalt server ready","address":"127.0.0.1:9001"}`: "127.0.0.1:9001",
	} {
		got, ok := readyAddress(line)
		if !ok || got != want {
			t.Errorf("readyAddress(%q) = %q, %v; want %q", line, got, ok, want)
		}
	}
	if _, ok := readyAddress(`msg="basalt server stopped" address=x`); ok {
		t.Error("another message taken as ready")
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(data), "module github.com/basaltstore/basalt") {
		t.Fatalf("module root %s: go.mod %q, %v", root, data, err)
	}
}
