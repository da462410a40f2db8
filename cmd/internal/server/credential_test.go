package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/basaltstore/basalt/proxy/identity"
)

func TestShowCredential(t *testing.T) {
	root := identity.Root{AccessKey: "AKIAEXAMPLEEXAMPLE12", SecretAccessKey: strings.Repeat("s", 40)}

	var first bytes.Buffer
	showCredential(&first, root, true, "data/identity/root.json")
	out := first.String()
	for _, want := range []string{"Access key: " + root.AccessKey, "Secret key: " + root.SecretAccessKey, "data/identity/root.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("first start output lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "+-") || lines[0] != lines[len(lines)-1] {
		t.Errorf("credential not boxed:\n%s", out)
	}
	for _, l := range lines {
		if len(l) != len(lines[0]) {
			t.Errorf("box line %q has width %d, want %d", l, len(l), len(lines[0]))
		}
	}

	var later bytes.Buffer
	showCredential(&later, root, false, "data/identity/root.json")
	if strings.Contains(later.String(), root.SecretAccessKey) {
		t.Errorf("later start printed the secret: %q", later.String())
	}
	if !strings.Contains(later.String(), root.AccessKey) {
		t.Errorf("later start did not print the access key: %q", later.String())
	}
}

func TestInside(t *testing.T) {
	for _, tc := range []struct {
		dir, path string
		want      bool
	}{
		{"data", "data/disk1", true},
		{"data", "data", true},
		{"/srv/data", "/srv/data/a/b", true},
		{"/srv/data", "/srv/database", false},
		{"/srv/data", "/mnt/d1", false},
		{"data", "../x", false},
	} {
		if got := inside(tc.dir, tc.path); got != tc.want {
			t.Errorf("inside(%q, %q) = %v, want %v", tc.dir, tc.path, got, tc.want)
		}
	}
}
