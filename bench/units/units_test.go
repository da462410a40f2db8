package units

import (
	"errors"
	"testing"
)

func TestParseSize(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"4096", 4096},
		{"4096B", 4096},
		{"4KiB", 4096},
		{"4kib", 4096},
		{"4K", 4096},
		{"4KB", 4000},
		{"1MiB", 1 << 20},
		{"1 MiB", 1 << 20},
		{" 1MiB ", 1 << 20},
		{"1.5MiB", 3 << 19},
		{"1MB", 1000000},
		{"2GiB", 2 << 30},
		{"1TiB", 1 << 40},
		{"1.5GB", 1500000000},
	}
	for _, c := range good {
		got, err := ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	bad := []string{"", "MiB", "-1", "1XB", "1.5", "0.3KiB", "1..2MiB", "2PiB", "99999999999999999999", "1MiB-2MiB", "abc"}
	for _, in := range bad {
		if got, err := ParseSize(in); !errors.Is(err, ErrSize) {
			t.Errorf("ParseSize(%q) = %d, %v; want ErrSize", in, got, err)
		}
	}
}

func TestParseRange(t *testing.T) {
	r, err := ParseRange("1KiB-1MiB")
	if err != nil || r != (Range{1024, 1 << 20}) || r.Fixed() {
		t.Fatalf("ParseRange = %+v, %v", r, err)
	}
	r, err = ParseRange("4KiB")
	if err != nil || r != (Range{4096, 4096}) || !r.Fixed() {
		t.Fatalf("ParseRange fixed = %+v, %v", r, err)
	}
	for _, in := range []string{"1MiB-1KiB", "-1MiB", "1MiB-", "1KiB-1MiB-2MiB", "x-y"} {
		if _, err := ParseRange(in); !errors.Is(err, ErrSize) {
			t.Errorf("ParseRange(%q) err = %v, want ErrSize", in, err)
		}
	}
	for _, in := range []string{"1KiB-1MiB", "4KiB", "1536B-3GiB", "0B"} {
		r, err := ParseRange(in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseRange(r.String())
		if err != nil || back != r {
			t.Errorf("round trip %q -> %q -> %+v, %v", in, r.String(), back, err)
		}
	}
}

func TestParseList(t *testing.T) {
	got, err := ParseList("64KiB,1MiB")
	if err != nil || len(got) != 2 || got[0] != 64<<10 || got[1] != 1<<20 {
		t.Fatalf("ParseList = %v, %v", got, err)
	}
	if _, err := ParseList("64KiB,,1MiB"); !errors.Is(err, ErrSize) {
		t.Fatalf("empty element: err = %v", err)
	}
}

func TestFormat(t *testing.T) {
	sizes := map[int64]string{0: "0B", 1023: "1023B", 1024: "1KiB", 1536: "1.5KiB", 1 << 20: "1MiB", 5 << 30: "5GiB", 1025: "1025B"}
	for n, want := range sizes {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
	durs := map[int64]string{850: "850ns", 12_345: "12.3µs", 10_200_000: "10.2ms", 1_250_000_000: "1.25s", 123_456_789: "123ms"}
	for ns, want := range durs {
		if got := FormatDuration(ns); got != want {
			t.Errorf("FormatDuration(%d) = %q, want %q", ns, got, want)
		}
	}
	if got := FormatRate(1234.56); got != "1235" {
		t.Errorf("FormatRate = %q", got)
	}
	if got := FormatRate(41.23); got != "41.2" {
		t.Errorf("FormatRate = %q", got)
	}
}
