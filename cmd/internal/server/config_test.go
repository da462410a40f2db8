package server

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExpandPattern(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"disk1", []string{"disk1"}},
		{"/srv/a", []string{"/srv/a"}},
		{"disk{1...4}", []string{"disk1", "disk2", "disk3", "disk4"}},
		{"/mnt/d{1...3}/basalt", []string{"/mnt/d1/basalt", "/mnt/d2/basalt", "/mnt/d3/basalt"}},
		{"d{0...0}", []string{"d0"}},
		{"d{08...11}", []string{"d08", "d09", "d10", "d11"}},
		{"n{1...2}/d{1...2}", []string{"n1/d1", "n1/d2", "n2/d1", "n2/d2"}},
		{"{1...2}", []string{"1", "2"}},
	}
	for _, tc := range cases {
		got, err := ExpandPattern(tc.in)
		if err != nil {
			t.Errorf("ExpandPattern(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ExpandPattern(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExpandPatternErrors(t *testing.T) {
	cases := map[string]string{
		"disk{1..4}":        "not a range",
		"disk{4...1}":       "larger than the last",
		"disk{a...d}":       "non-negative integers",
		"disk{1...4":        "unmatched '{'",
		"disk1...4}":        "unmatched '}'",
		"disk}{1...2}":      "unmatched '}'",
		"disk{-1...2}":      "non-negative integers",
		"disk{}":            "not a range",
		"d{1...5000}":       "more than 4096",
		"d{1...99}{1...99}": "more than 4096",
	}
	for in, want := range cases {
		_, err := ExpandPattern(in)
		if err == nil {
			t.Errorf("ExpandPattern(%q) succeeded, want error containing %q", in, want)
			continue
		}
		if !errors.Is(err, ErrUsage) {
			t.Errorf("ExpandPattern(%q) error %v does not match ErrUsage", in, err)
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "bad pattern") {
			t.Errorf("ExpandPattern(%q) = %q, want it to contain %q", in, err, want)
		}
	}
}

func TestDiskPaths(t *testing.T) {
	c := Default()
	c.DataDir = "/var/lib/basalt"
	got, err := c.DiskPaths()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/var/lib/basalt/disk1", "/var/lib/basalt/disk2", "/var/lib/basalt/disk3", "/var/lib/basalt/disk4"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default disks = %q, want %q", got, want)
	}

	c.Disks = []string{"/mnt/a", "b/./c", "x{1...2}"}
	got, err = c.DiskPaths()
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"/mnt/a", "/var/lib/basalt/b/c", "/var/lib/basalt/x1", "/var/lib/basalt/x2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("disks = %q, want %q", got, want)
	}

	c.Disks = []string{"d{1...2}", "d2"}
	if _, err := c.DiskPaths(); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate disk: err = %v", err)
	}
	c.Disks = []string{"", " "}
	if _, err := c.DiskPaths(); !errors.Is(err, ErrUsage) {
		t.Errorf("no disk: err = %v", err)
	}
}

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("default configuration: %v", err)
	}
	if c.DataDir != "data" || c.Address != "127.0.0.1:8080" || c.DataShards != 2 || c.ParityShards != 2 {
		t.Errorf("default = %+v", c)
	}
	disks, _ := c.DiskPaths()
	if len(disks) != 4 || disks[0] != filepath.Join("data", "disk1") {
		t.Errorf("default disks = %q", disks)
	}
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"k zero", func(c *Config) { c.DataShards = 0 }, "--ec-data=0"},
		{"m negative", func(c *Config) { c.ParityShards = -1 }, "--ec-parity=-1"},
		{"k+m over disks", func(c *Config) { c.DataShards, c.ParityShards = 3, 2 }, "need k+m=5 disks, but --disks gives 4"},
		{"bad pattern", func(c *Config) { c.Disks = []string{"disk{1..4}"} }, "bad pattern"},
		{"empty data", func(c *Config) { c.DataDir = "" }, "--data"},
		{"address no port", func(c *Config) { c.Address = "localhost" }, "--address"},
		{"address bad port", func(c *Config) { c.Address = "127.0.0.1:99999" }, "--address"},
		{"pprof bad", func(c *Config) { c.PprofAddress = "nope" }, "--pprof"},
		{"region empty", func(c *Config) { c.Region = "" }, "--region"},
		{"domain with port", func(c *Config) { c.Domains = []string{"localhost:8080"} }, "--domain"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "--log-format"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "--log-level"},
		{"shutdown timeout", func(c *Config) { c.ShutdownTimeout = 0 }, "--shutdown-timeout"},
		{"max requests negative", func(c *Config) { c.MaxRequests = -1 }, "--max-requests=-1"},
		{"request wait zero", func(c *Config) { c.RequestWait = 0 }, "--request-wait"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if !errors.Is(err, ErrUsage) {
				t.Fatalf("Validate() = %v, want an ErrUsage error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %q, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message spans several lines: %q", err)
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	c := Default()
	c.Disks = []string{"d{1...8}"}
	c.DataShards, c.ParityShards = 5, 3
	c.Address = "[::1]:0"
	c.LogFormat, c.LogLevel = "json", "debug"
	c.ShutdownTimeout = time.Second
	c.PprofAddress = "127.0.0.1:6060"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.DataShards, c.ParityShards = 1, 0
	if err := c.Validate(); err != nil {
		t.Fatalf("k=1 m=0: %v", err)
	}
}
