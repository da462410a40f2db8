package ring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"
)

// TestApplyRefuses: every refusal wraps its sentinel and leaves the input
// map untouched.
func TestApplyRefuses(t *testing.T) {
	base := cluster(t, 3, 2, 2, 100, Policy{Name: "r3", Replicas: 3, Power: 4, Domain: TierZone})
	base = mustApply(t, base, AddNode{ID: "lone", Zone: "z1", Address: "127.0.0.9:7000"}, DrainDisk{Disk: "z2n1d1"})
	before, _ := base.Encode()
	for _, c := range []struct {
		cmd  Command
		want error
	}{
		{AddNode{ID: "z1n1", Zone: "z1"}, ErrDuplicate},
		{AddNode{ID: "x", Zone: "z1", Address: "127.0.0.9:7000"}, ErrDuplicate},
		{AddNode{ID: "x", Zone: "z1", Region: "eu"}, ErrInvalid},
		{AddNode{ID: "", Zone: "z1"}, ErrInvalid},
		{AddNode{ID: "x", Zone: "bad zone"}, ErrInvalid},
		{AddDisk{ID: "z1n1d1", Node: "z1n1", Weight: 1}, ErrDuplicate},
		{AddDisk{ID: "x", Node: "nowhere", Weight: 1}, ErrUnknown},
		{AddDisk{ID: "x", Node: "z1n1", Weight: MaxWeight + 1}, ErrInvalid},
		{SetWeight{Disk: "nope", Weight: 1}, ErrUnknown},
		{DrainDisk{Disk: "z2n1d1"}, ErrState},
		{DrainDisk{Disk: "nope"}, ErrUnknown},
		{MarkOut{Disk: "z1n1d1"}, ErrState},
		{RestoreDisk{Disk: "z1n1d1"}, ErrState},
		{RemoveDisk{Disk: "z1n1d1"}, ErrInUse},
		{RemoveDisk{Disk: "z2n1d1"}, ErrInUse},
		{RemoveDisk{Disk: "nope"}, ErrUnknown},
		{RemoveNode{Node: "z1n1"}, ErrInUse},
		{RemoveNode{Node: "nope"}, ErrUnknown},
		{DrainNode{Node: "nope"}, ErrUnknown},
		// z2 has one disk left in: draining it would leave r3 two zones.
		{DrainDisk{Disk: "z2n1d2"}, nil},
		{AddPolicy{Policy: Policy{Name: "r3", Replicas: 1}}, ErrDuplicate},
		{AddPolicy{Policy: Policy{Name: "r4z", Replicas: 4, Domain: TierZone}}, ErrUnplaceable},
		{AddPolicy{Policy: Policy{Name: "r13", Replicas: 13}}, ErrUnplaceable},
		{AddPolicy{Policy: Policy{Name: "w", K: 30, M: 3}}, ErrInvalid},
		{AddPolicy{Policy: Policy{Name: "big", K: 16, M: 4, Power: 20}}, ErrInvalid},
		{AddPolicy{Policy: Policy{Name: "dom", Replicas: 2, Domain: "rack"}}, ErrInvalid},
		{AddPolicy{Policy: Policy{Name: "bad name", Replicas: 2}}, ErrInvalid},
		{nil, ErrInvalid},
	} {
		m, err := Apply(base, c.cmd)
		if c.want == nil {
			if err != nil {
				t.Errorf("%v: %v", c.cmd, err)
			}
			continue
		}
		if !errors.Is(err, c.want) || m != nil {
			t.Errorf("%#v: got %v, want %v", c.cmd, err, c.want)
		}
	}
	after, _ := base.Encode()
	if !bytes.Equal(before, after) {
		t.Fatal("a refused command changed the map")
	}
	// Draining the last "in" disk of zone z2 is refused.
	m := mustApply(t, base, DrainDisk{Disk: "z2n2d1"}, DrainDisk{Disk: "z2n2d2"})
	if _, err := Apply(m, DrainDisk{Disk: "z2n1d2"}); !errors.Is(err, ErrUnplaceable) {
		t.Fatalf("draining the last disk of a zone: %v", err)
	}
	if _, err := Apply(m, DrainNode{Node: "z2n1"}); !errors.Is(err, ErrUnplaceable) {
		t.Fatalf("draining the last node of a zone: %v", err)
	}
	if _, err := Apply(m, SetWeight{Disk: "z2n1d2", Weight: 0}); !errors.Is(err, ErrUnplaceable) {
		t.Fatalf("weight 0 on the last disk of a zone: %v", err)
	}
	// But failing it is accepted, and Build refuses the result.
	m = mustApply(t, m, FailDisk{Disk: "z2n1d2"})
	if _, err := Build(nil, m); !errors.Is(err, ErrUnplaceable) {
		t.Fatalf("Build of an unplaceable map: %v", err)
	}
	// While unplaceable, nothing may take more disks out; cleaning up
	// (marking out, removing the failed disk) is accepted.
	if _, err := Apply(m, DrainDisk{Disk: "z1n1d1"}); !errors.Is(err, ErrUnplaceable) {
		t.Fatalf("draining while unplaceable: %v", err)
	}
	m = mustApply(t, m, MarkOut{Disk: "z2n2d1"}, RemoveDisk{Disk: "z2n2d1"}, RemoveDisk{Disk: "z2n1d2"})
	// Adding capacity is accepted while a policy is unplaceable.
	m = mustApply(t, m, AddDisk{ID: "z2n1d9", Node: "z2n1", Weight: 100})
	if _, err := Build(nil, m); err != nil {
		t.Fatal(err)
	}
}

func TestApplyLifecycle(t *testing.T) {
	m := cluster(t, 2, 2, 2, 100, Policy{Name: "r2", Replicas: 2, Power: 4})
	e := m.Epoch
	m = mustApply(t, m, DrainNode{Node: "z1n1"})
	if n, _ := m.Node("z1n1"); n.State != NodeDraining {
		t.Fatalf("node %+v", n)
	}
	for _, id := range []DiskID{"z1n1d1", "z1n1d2"} {
		if d, _ := m.Disk(id); d.State != DiskDraining {
			t.Fatalf("disk %+v", d)
		}
	}
	if _, err := Apply(m, AddDisk{ID: "x", Node: "z1n1", Weight: 1}); !errors.Is(err, ErrState) {
		t.Fatalf("disk on a draining node: %v", err)
	}
	if _, err := Apply(m, RestoreDisk{Disk: "z1n1d1"}); !errors.Is(err, ErrState) {
		t.Fatalf("restore on a draining node: %v", err)
	}
	m = mustApply(t, m, MarkOut{Disk: "z1n1d1"}, FailDisk{Disk: "z1n1d2"}, RemoveNode{Node: "z1n1"})
	if _, ok := m.Node("z1n1"); ok {
		t.Fatal("node still there")
	}
	if _, ok := m.Disk("z1n1d1"); ok {
		t.Fatal("disk of a removed node still there")
	}
	if m.Epoch != e+4 {
		t.Fatalf("epoch %d, want %d", m.Epoch, e+4)
	}
	m = mustApply(t, m, DrainDisk{Disk: "z2n1d1"}, RestoreDisk{Disk: "z2n1d1"})
	// A failed disk, replaced, goes back in.
	m = mustApply(t, m, FailDisk{Disk: "z2n1d1"}, RestoreDisk{Disk: "z2n1d1"})
	if d, _ := m.Disk("z2n1d1"); d.State != DiskIn {
		t.Fatalf("failed disk restored: %+v", d)
	}
	if d, _ := m.Disk("z2n1d1"); d.State != DiskIn {
		t.Fatalf("restored disk %+v", d)
	}
}

func TestMapEncoding(t *testing.T) {
	m := cluster(t, 2, 2, 2, 100, Policy{Name: "ec", K: 2, M: 1, Power: 5, Domain: TierNode})
	m = mustApply(t, m, AddNode{ID: "a", Zone: "z9", Region: "eu", Address: "127.0.0.5:9000"}, FailDisk{Disk: "z1n1d1"})
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeMap(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n%+v\n%+v", got, m)
	}
	// Out of order input is put in order; the encoding is canonical.
	shuffled := m.Clone()
	shuffled.Nodes[0], shuffled.Nodes[1] = shuffled.Nodes[1], shuffled.Nodes[0]
	b2, _ := shuffled.Encode()
	if !bytes.Equal(b, b2) {
		t.Fatal("encoding depends on slice order")
	}
	if _, err := (&Map{}).Encode(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		want error
	}{
		{`{"epoch":1,"nodes":[],"disks":[],"policies":[],"extra":1}`, ErrCorrupt},
		{`{"epoch":1`, ErrCorrupt},
		{`{"epoch":1} {}`, ErrCorrupt},
		{`{"nodes":[{"id":"a","zone":"z","state":"in"},{"id":"a","zone":"z","state":"in"}]}`, ErrDuplicate},
		{`{"nodes":[{"id":"a","zone":"z","state":"up"}]}`, ErrInvalid},
		{`{"disks":[{"id":"d","node":"n","weight":1,"state":"in"}]}`, ErrUnknown},
		{`{"nodes":[{"id":"a","zone":"z","state":"in"}],"disks":[{"id":"d","node":"a","weight":1,"state":"lost"}]}`, ErrInvalid},
		{`{"policies":[{"name":"p","n":2,"power":99}]}`, ErrInvalid},
	} {
		if _, err := DecodeMap([]byte(c.in)); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.in, err, c.want)
		}
	}
}

func allCommands() []Command {
	return []Command{
		AddNode{ID: "n", Address: "127.0.0.1:1", Region: "r", Zone: "z"},
		AddDisk{ID: "d", Node: "n", Weight: 7},
		SetWeight{Disk: "d", Weight: 9},
		DrainDisk{Disk: "d"},
		MarkOut{Disk: "d"},
		RestoreDisk{Disk: "d"},
		FailDisk{Disk: "d"},
		RemoveDisk{Disk: "d"},
		DrainNode{Node: "n"},
		RemoveNode{Node: "n"},
		AddPolicy{Policy: Policy{Name: "p", K: 4, M: 2, Power: 10, Domain: TierZone}},
	}
}

func TestCommandEncoding(t *testing.T) {
	for _, c := range allCommands() {
		b, err := EncodeCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeCommand(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip of %s: %#v", b, got)
		}
	}
	if _, err := EncodeCommand(nil); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	for _, in := range []string{``, `{}`, `{"op":"add-node"}`, `{"op":"add-node","args":{"id":1}}`, `{"op":"nope","args":{}}`, `[]`} {
		if _, err := DecodeCommand([]byte(in)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestRingEncoding(t *testing.T) {
	m := cluster(t, 3, 2, 2, 100, Policy{Name: "ec", K: 2, M: 1, Power: 6}, Policy{Name: "r2", Replicas: 2, Power: 3, Domain: TierNode})
	m = mustApply(t, m, AddNode{ID: "eu1", Zone: "eu-z", Region: "eu"}, AddDisk{ID: "eu1d", Node: "eu1", Weight: 300})
	r := mustBuild(t, nil, m)
	b := ringBytes(t, r)
	got, err := DecodeRing(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ringBytes(t, got), b) || got.Epoch() != m.Epoch {
		t.Fatal("round trip differs")
	}
	wb, _ := r.Balance("ec")
	gb, _ := got.Balance("ec")
	if !reflect.DeepEqual(wb, gb) {
		t.Fatal("decoded ring reports another balance")
	}
	pw, _ := r.Locate("r2", "b", "k")
	pg, _ := got.Locate("r2", "b", "k")
	if !reflect.DeepEqual(pw, pg) {
		t.Fatalf("Locate: %+v vs %+v", pw, pg)
	}
	// Any flipped bit, any truncation: refused.
	for i := 0; i < len(b); i += 7 {
		c := bytes.Clone(b)
		c[i] ^= 0x10
		if _, err := DecodeRing(c); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d: %v", i, err)
		}
	}
	for _, n := range []int{0, 3, 8, len(b) / 2, len(b) - 1} {
		if _, err := DecodeRing(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	// A table entry out of range, with a valid checksum: refused.
	bad := bytes.Clone(b[:len(b)-4])
	binary.LittleEndian.PutUint32(bad[len(bad)-4:], 1000)
	if _, err := DecodeRing(withCRC(bad)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("entry out of range: %v", err)
	}
	// A partition holding a disk twice: refused.
	dup := bytes.Clone(b[:len(b)-4])
	copy(dup[len(dup)-4:], dup[len(dup)-8:len(dup)-4])
	if _, err := DecodeRing(withCRC(dup)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("disk twice: %v", err)
	}
}

func withCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func FuzzDecodeRing(f *testing.F) {
	m := cluster(f, 2, 2, 2, 100, Policy{Name: "ec", K: 2, M: 1, Power: 3})
	r := mustBuild(f, nil, m)
	b := ringBytes(f, r)
	f.Add(b)
	f.Add(b[:20])
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := DecodeRing(in)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		out := ringBytes(t, r)
		if !bytes.Equal(out, in) {
			t.Fatal("a decoded ring encodes differently")
		}
		for _, p := range r.Policies() {
			if _, err := r.Locate(p.Name, "b", "k"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzDecodeMap(f *testing.F) {
	b, _ := cluster(f, 2, 1, 2, 100, Policy{Name: "r2", Replicas: 2, Power: 3}).Encode()
	f.Add(b)
	f.Add([]byte(`{"nodes":[{"id":"a","zone":"z","state":"in"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := DecodeMap(in)
		if err != nil {
			return
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := DecodeMap(enc)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decoding: %v", err)
		}
		// Building a valid map never panics; it may refuse.
		if _, err := Build(nil, m); err != nil && !errors.Is(err, ErrUnplaceable) {
			t.Fatalf("Build: %v", err)
		}
	})
}

func FuzzDecodeCommand(f *testing.F) {
	for _, c := range allCommands() {
		b, _ := EncodeCommand(c)
		f.Add(b)
	}
	m := cluster(f, 2, 2, 2, 100, Policy{Name: "r2", Replicas: 2, Power: 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := DecodeCommand(in)
		if err != nil {
			return
		}
		m2, err := Apply(m, c)
		if err != nil {
			return
		}
		if err := m2.Validate(); err != nil {
			t.Fatalf("Apply produced an invalid map: %v", err)
		}
		if m2.Epoch != m.Epoch+1 {
			t.Fatal("epoch not bumped")
		}
	})
}
