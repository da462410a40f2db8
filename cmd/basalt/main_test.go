package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// runArgs runs the command line in-process with the given environment.
func runArgs(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = run(args, &out, &errb, lookup)
	return code, out.String(), errb.String()
}

// The cases below are refused before the server touches the disk or the
// network, so they run in-process.
func TestConfigurationErrors(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"k zero", nil, []string{"--ec-data", "0"}, "--ec-data=0: the number of data shards k must be at least 1"},
		{"m negative", nil, []string{"--ec-parity=-1"}, "--ec-parity=-1"},
		{"k+m over disks", nil, []string{"--ec-data", "3", "--ec-parity", "2"}, "need k+m=5 disks, but --disks gives 4"},
		{"bad pattern", nil, []string{"--disks", "disk{1..4}"}, "bad pattern"},
		{"reversed pattern", nil, []string{"--disks", "disk{4...1}"}, "bad pattern"},
		{"unknown flag", nil, []string{"--bogus"}, "unknown flag: --bogus"},
		{"not a number", nil, []string{"--ec-data", "x"}, `invalid argument "x" for "--ec-data"`},
		{"bad duration", nil, []string{"--shutdown-timeout", "soon"}, "--shutdown-timeout"},
		{"positional argument", nil, []string{"extra"}, "unknown command"},
		{"env k zero", map[string]string{"BASALT_EC_DATA": "0"}, nil, "--ec-data=0"},
		{"env not a number", map[string]string{"BASALT_EC_PARITY": "two"}, nil, `BASALT_EC_PARITY="two"`},
		{"env disks list", map[string]string{"BASALT_DISKS": "a,b"}, []string{"--ec-data", "2", "--ec-parity", "1"}, "need k+m=3 disks, but --disks gives 2"},
		{"flag beats env", map[string]string{"BASALT_EC_DATA": "0", "BASALT_LOG_FORMAT": "xml"}, []string{"--ec-data", "1"}, `--log-format="xml"`},
		{"partial root credential", map[string]string{"BASALT_ROOT_USER": "admin"}, []string{"--data", "@DATA@"}, "BASALT_ROOT_PASSWORD must be set together"},
		{"short root password", map[string]string{"BASALT_ROOT_USER": "admin", "BASALT_ROOT_PASSWORD": "short"}, []string{"--data", "@DATA@"}, "at least 8 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"server"}
			data := t.TempDir()
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "@DATA@", data))
			}
			if tc.name == "positional argument" {
				args = []string{"extra"}
			}
			code, stdout, stderr := runArgs(t, tc.env, args...)
			if code != 2 {
				t.Errorf("exit code = %d, want 2 (stderr %q)", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.want)
			}
			if !strings.HasPrefix(stderr, "basalt: ") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line starting with \"basalt: \": %q", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if entries, _ := os.ReadDir(data); len(entries) != 0 {
				t.Errorf("a refused configuration wrote %d entries to the data folder", len(entries))
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runArgs(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "basalt ") || !strings.Contains(stdout, "go1.") {
		t.Errorf("version: code %d, stdout %q", code, stdout)
	}
}

func TestHelpNamesEveryFlagAndItsVariable(t *testing.T) {
	code, stdout, _ := runArgs(t, nil, "server", "--help")
	if code != 0 {
		t.Fatalf("help exit code %d", code)
	}
	for _, flag := range []string{"data", "disks", "ec-data", "ec-parity", "address", "region", "domain",
		"log-format", "log-level", "shutdown-timeout", "pprof"} {
		if !strings.Contains(stdout, "--"+flag+" ") {
			t.Errorf("help lacks --%s", flag)
		}
		if !strings.Contains(stdout, "["+envName(flag)+"]") {
			t.Errorf("help lacks %s", envName(flag))
		}
	}
	for _, want := range []string{"BASALT_ROOT_USER", "BASALT_ROOT_PASSWORD", "/metrics", "/health/ready", "disk{1...4}"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{"data": "BASALT_DATA", "ec-parity": "BASALT_EC_PARITY", "shutdown-timeout": "BASALT_SHUTDOWN_TIMEOUT"} {
		if got := envName(flag); got != want {
			t.Errorf("envName(%q) = %q, want %q", flag, got, want)
		}
	}
}

func TestRingSimulate(t *testing.T) {
	var out, errOut bytes.Buffer
	env := func(string) (string, bool) { return "", false }
	code := run([]string{"admin", "ring", "simulate", "--nodes", "20", "--disks-per-node", "4", "--zones", "4",
		"--policy", "ec:2+2", "--power", "10", "--change", "add-node"}, &out, &errOut, env)
	if code != 0 || !strings.Contains(out.String(), "movement") || !strings.Contains(out.String(), "ratio") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"admin", "ring", "simulate", "--policy", "ec:two"}, &out, &errOut, env); code != 2 || !strings.Contains(errOut.String(), "policy spec") {
		t.Fatalf("bad policy: exit %d, %q", code, errOut.String())
	}
}
