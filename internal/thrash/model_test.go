package thrash

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// step is one action of a model script: a write begins or ends, or a read
// begins or ends (and must allow exactly want).
type step struct {
	do   string // "w+", "w-", "r+", "r-"
	name string // which write or read
	val  int    // w+: value number (0: delete)
	out  Outcome
	want []int // r-: allowed value numbers, any order (0: absent)
}

func TestModelAllowed(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"never written", []step{
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{0}},
		}},
		{"acknowledged write", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Acked},
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{1}},
		}},
		{"read concurrent with a write", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Acked},
			{do: "r+", name: "r"},
			{do: "w+", name: "b", val: 2},
			{do: "r-", name: "r", want: []int{1, 2}},
			{do: "w-", name: "b", out: Acked},
			{do: "r+", name: "r2"}, {do: "r-", name: "r2", want: []int{2}},
		}},
		{"write acknowledged during the read", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Acked},
			{do: "r+", name: "r"},
			{do: "w+", name: "b", val: 2}, {do: "w-", name: "b", out: Acked},
			{do: "r-", name: "r", want: []int{1, 2}},
		}},
		{"concurrent writes both acknowledged", []step{
			{do: "w+", name: "a", val: 1}, {do: "w+", name: "b", val: 2},
			{do: "w-", name: "a", out: Acked}, {do: "w-", name: "b", out: Acked},
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{1, 2}},
		}},
		{"failed write may or may not have happened", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Acked},
			{do: "w+", name: "b", val: 2}, {do: "w-", name: "b", out: Failed},
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{1, 2}},
		}},
		{"failed write superseded by a later acknowledged one", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Failed},
			{do: "w+", name: "b", val: 2}, {do: "w-", name: "b", out: Acked},
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{2}},
		}},
		{"lost write stays possible", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Lost},
			{do: "w+", name: "b", val: 2}, {do: "w-", name: "b", out: Acked},
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{1, 2}},
		}},
		{"acknowledged delete", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Acked},
			{do: "w+", name: "d", val: 0}, {do: "w-", name: "d", out: Acked},
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{0}},
		}},
		{"failed delete", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Acked},
			{do: "w+", name: "d", val: 0}, {do: "w-", name: "d", out: Failed},
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{0, 1}},
		}},
		{"write during the read", []step{
			{do: "r+", name: "r"},
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Acked},
			// r ends after a was acknowledged: a overlapped it.
			{do: "r-", name: "r", want: []int{0, 1}},
		}},
		{"a long read keeps what a later prune would drop", []step{
			{do: "w+", name: "a", val: 1}, {do: "w-", name: "a", out: Acked},
			{do: "r+", name: "slow"},
			{do: "w+", name: "b", val: 2}, {do: "w-", name: "b", out: Acked},
			{do: "w+", name: "c", val: 3}, {do: "w-", name: "c", out: Acked},
			{do: "w+", name: "d", val: 4}, {do: "w-", name: "d", out: Acked},
			{do: "r-", name: "slow", want: []int{1, 2, 3, 4}},
			{do: "r+", name: "r"}, {do: "r-", name: "r", want: []int{4}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewModel()
			vals := map[int]Value{0: Absent}
			writes := map[string]*Write{}
			reads := map[string]uint64{}
			for i, s := range tc.steps {
				switch s.do {
				case "w+":
					v := Absent
					if s.val != 0 {
						v = Value{ID: uint64(s.val), Size: int64(s.val)}
						vals[s.val] = v
					}
					writes[s.name] = m.BeginWrite(uint64(i), "k", v)
				case "w-":
					m.EndWrite("k", writes[s.name], s.out)
				case "r+":
					reads[s.name] = m.BeginRead()
				case "r-":
					_, got := m.EndRead(reads[s.name], "k")
					var want []Value
					for _, n := range s.want {
						want = append(want, vals[n])
					}
					if !sameValues(got[0], want) {
						t.Fatalf("step %d (%s %s): allowed %v, want %v", i, s.do, s.name, got[0], want)
					}
				}
			}
		})
	}
}

func sameValues(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for _, v := range b {
		if !slices.Contains(a, v) {
			return false
		}
	}
	return true
}

func TestModelPrunes(t *testing.T) {
	m := NewModel()
	for i := 1; i <= 100; i++ {
		w := m.BeginWrite(uint64(i), "k", Value{ID: uint64(i), Size: 1})
		m.EndWrite("k", w, Acked)
	}
	if n := len(m.keys["k"]); n != 1 {
		t.Errorf("after 100 sequential acknowledged writes the model keeps %d, want 1", n)
	}
	// A write that may still land is never dropped.
	lost := m.BeginWrite(101, "k", Value{ID: 101, Size: 1})
	m.EndWrite("k", lost, Lost)
	for i := 102; i <= 110; i++ {
		w := m.BeginWrite(uint64(i), "k", Value{ID: uint64(i), Size: 1})
		m.EndWrite("k", w, Acked)
	}
	r := m.BeginRead()
	_, got := m.EndRead(r, "k")
	if !sameValues(got[0], []Value{{ID: 101, Size: 1}, {ID: 110, Size: 1}}) {
		t.Errorf("allowed %v, want the lost write and the last one", got[0])
	}
}

func TestModelPinAndOverlap(t *testing.T) {
	m := NewModel()
	w := m.BeginWrite(1, "k", Value{ID: 1, Size: 1})
	m.EndWrite("k", w, Failed)
	m.Pin("k", Absent)
	r := m.BeginRead()
	_, allowed, overlapped := m.EndReadKey(r, "k")
	if !sameValues(allowed, []Value{Absent}) || overlapped {
		t.Errorf("after Pin: allowed %v overlapped %v, want only absent, no overlap", allowed, overlapped)
	}
	r = m.BeginRead()
	w = m.BeginWrite(2, "k", Value{ID: 2, Size: 2})
	_, _, overlapped = m.EndReadKey(r, "k")
	m.EndWrite("k", w, Acked)
	if !overlapped {
		t.Error("a write in flight during a read is not reported as overlapping")
	}
	if !m.Present("k") || m.SizeHint("k") != 2 {
		t.Errorf("Present %v SizeHint %d after an acknowledged write of 2 bytes", m.Present("k"), m.SizeHint("k"))
	}
	if got := m.Keys(); !slices.Equal(got, []string{"k"}) {
		t.Errorf("Keys = %v", got)
	}
}

func TestModelConcurrent(t *testing.T) {
	m := NewModel()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				w := m.BeginWrite(uint64(i), "k", Value{ID: uint64(g*1000 + i + 1), Size: 1})
				r := m.BeginRead()
				_, got := m.EndRead(r, "k")
				if !slices.Contains(got[0], w.Val) {
					t.Errorf("a read during a write does not allow its value")
					return
				}
				m.EndWrite("k", w, Acked)
			}
		}()
	}
	wg.Wait()
}

func TestContent(t *testing.T) {
	const size = 300<<10 + 7
	whole := make([]byte, size)
	fillContent(whole, 42, 0)
	v := newValue(42, size)
	if v.Sum != sha256.Sum256(whole) || v.Size != size {
		t.Fatal("newValue's sum is not the SHA-256 of the content")
	}
	for _, r := range [][2]int{{0, 1}, {1, 9}, {7, 8}, {8, 16}, {1000, 70001}, {size - 3, size}} {
		part := make([]byte, r[1]-r[0])
		fillContent(part, 42, int64(r[0]))
		if !bytes.Equal(part, whole[r[0]:r[1]]) {
			t.Errorf("bytes %d-%d differ from the same range of the whole", r[0], r[1])
		}
	}
	other := make([]byte, 64)
	fillContent(other, 43, 0)
	if bytes.Equal(other, whole[:64]) {
		t.Error("two values have the same content")
	}
	cr := newContentReader(42, 1000, 5000)
	got, err := io.ReadAll(cr)
	if err != nil || !bytes.Equal(got, whole[1000:6000]) {
		t.Fatalf("contentReader: %d bytes, %v", len(got), err)
	}
	if n, err := cr.Seek(10, io.SeekStart); err != nil || n != 10 {
		t.Fatalf("Seek = %d, %v", n, err)
	}
	got, _ = io.ReadAll(cr)
	if !bytes.Equal(got, whole[1010:6000]) {
		t.Error("contentReader after a seek reads the wrong bytes")
	}
	if _, err := cr.Seek(-1, io.SeekStart); !errors.Is(err, errSeek) {
		t.Errorf("seek before the start: %v", err)
	}
}

func TestDeck(t *testing.T) {
	d := newDeck(rngFor(7, 1), Faults{Kill: 2, Flip: 1, Replace: 1})
	for round := 0; round < 3; round++ {
		counts := map[string]int{}
		for i := 0; i < 4; i++ {
			counts[d.deal()]++
		}
		if counts[FaultKill] != 2 || counts[FaultFlip] != 1 || counts[FaultReplace] != 1 {
			t.Errorf("deck %d dealt %v", round, counts)
		}
	}
	a, b := newDeck(rngFor(9, 1), Faults{Kill: 3, Flip: 3, Replace: 1}), newDeck(rngFor(9, 1), Faults{Kill: 3, Flip: 3, Replace: 1})
	for i := 0; i < 20; i++ {
		if x, y := a.deal(), b.deal(); x != y {
			t.Fatalf("deal %d differs for one seed: %s, %s", i, x, y)
		}
	}
	if k := newDeck(rngFor(1, 1), Faults{}).deal(); k != "" {
		t.Errorf("an empty deck dealt %q", k)
	}
}

func TestDiskShardsAndFlip(t *testing.T) {
	disk := t.TempDir()
	dir := filepath.Join(disk, "segments")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte{0x5a}, 4096)
	// Segment 1: ab01, a removed entry (a hole), ab02; segment 2: ab04,
	// a shard of only its header, then a torn entry (no valid header).
	seg1, seg2 := filepath.Join(dir, "0000000000000001"), filepath.Join(dir, "0000000000000002")
	writeEntry(t, seg1, 0, "ab01", content)
	writeEntry(t, seg1, 2*entryAlign, "ab03", content)
	writeEntry(t, seg1, 4*entryAlign, "ab02", content)
	punch(t, seg1, 2*entryAlign, 2*entryAlign)
	writeEntry(t, seg2, 0, "ab04", content[:shardHeaderSize])
	f, _ := os.OpenFile(seg2, os.O_RDWR, 0)
	f.WriteAt([]byte("BSG1 torn"), entryAlign)
	f.Close()
	os.WriteFile(filepath.Join(dir, "not-a-segment"), content, 0o644)

	got, err := diskShards(disk)
	if err != nil {
		t.Fatal(err)
	}
	want := []shard{
		{"ab01", seg1, entryHeader, 4096},
		{"ab02", seg1, 4*entryAlign + entryHeader, 4096},
		{"ab04", seg2, entryHeader, shardHeaderSize},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("diskShards = %v, want %v", got, want)
	}
	before, _ := os.ReadFile(seg1)
	off, was, now, err := flipByte(rngFor(3, 3), got[0])
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(seg1)
	diff := 0
	for i := range after {
		if after[i] != before[i] {
			diff++
			if int64(i) != entryHeader+off || off < shardHeaderSize || off >= 4096 || was != 0x5a || now != after[i] {
				t.Errorf("byte %d changed (reported shard offset %d, %#x -> %#x)", i, off, was, now)
			}
		}
	}
	if diff != 1 {
		t.Errorf("%d bytes changed, want 1", diff)
	}
	if off, _, _, err := flipByte(rngFor(3, 3), got[2]); err != nil || off != -1 {
		t.Errorf("a shard of only a header: offset %d, %v; want it left alone", off, err)
	}
	punch(t, seg1, 4*entryAlign, 2*entryAlign)
	if _, _, _, err := flipByte(rngFor(3, 3), got[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("flip of a removed shard: %v", err)
	}
}

// writeEntry writes a segment entry as objectd/disk does.
func writeEntry(t *testing.T, path string, off int64, id string, data []byte) {
	t.Helper()
	h := make([]byte, entryHeader)
	copy(h, "BSG1")
	binary.LittleEndian.PutUint64(h[4:], uint64(len(data)))
	h[12] = byte(len(id))
	copy(h[13:], id)
	binary.LittleEndian.PutUint32(h[entryHeader-4:], crc32.Checksum(h[:entryHeader-4], castagnoli))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(append(h, data...), off); err != nil {
		t.Fatal(err)
	}
}

// punch frees n bytes at off of the file at path, as a removal does.
func punch(t *testing.T, path string, off, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Fallocate(int(f.Fd()), 0x01|0x02 /* KEEP_SIZE|PUNCH_HOLE */, off, n); err != nil {
		t.Fatal(err)
	}
}

// logNode is a Node whose log a test writes.
type logNode struct {
	mu   sync.Mutex
	logs strings.Builder
	Node
}

func (n *logNode) Logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.logs.String()
}

func (n *logNode) write(line string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.logs.WriteString(line + "\n")
}

func TestWaitLog(t *testing.T) {
	n := &logNode{}
	n.write(`level=INFO msg="disks filled back" objects=3`)
	from := len(n.Logs())
	found := make(chan string, 1)
	go func() {
		line, err := waitLog(context.Background(), n, from, msgFilledBack, msgFillIncomplete)
		if err != nil {
			line = err.Error()
		}
		found <- line
	}()
	n.write(`level=INFO msg="filling back disks" disks=1`)
	n.write(`level=WARN msg="fill back incomplete; retried at next start" failed=1`)
	if line := <-found; !strings.Contains(line, "failed=1") {
		t.Errorf("waitLog returned %q, want the line after the offset", line)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := waitLog(ctx, n, len(n.Logs()), msgFilledBack); !errors.Is(err, context.Canceled) {
		t.Errorf("waitLog with a cancelled context: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"clients":    func(c *Config) { c.Clients = -1 },
		"every":      func(c *Config) { c.Faults.Every = -1 },
		"weights":    func(c *Config) { c.Faults.Kill = -1 },
		"min rounds": func(c *Config) { c.Faults.MinRounds = 3 },
		"parity":     func(c *Config) { c.Parity = -1 },
		"mix":        func(c *Config) { c.Mix = map[string]int{"copy": 1} },
	} {
		c := Config{}
		mod(&c)
		c.setDefaults()
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
	}
	c := Config{Faults: Faults{Kill: 1, MinRounds: 2}}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("a usable config: %v", err)
	}
}

func TestParseMixAndFaults(t *testing.T) {
	m, err := ParseMix(" multipart=6, get=4 ")
	if err != nil || len(m) != 2 || m[OpMultipart] != 6 || m[OpGet] != 4 {
		t.Fatalf("ParseMix = %v, %v", m, err)
	}
	for _, bad := range []string{"", "bogus=1", "get", "get=x", "get=-1", "get=0"} {
		if _, err := ParseMix(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseMix(%q) = %v, want ErrConfig", bad, err)
		}
	}
	f := Faults{Every: 100, Kill: 2, Flip: 2, Replace: 1}
	if err := ParseFaults("every=8,kill=1,flip=0,rounds=3", &f); err != nil {
		t.Fatal(err)
	}
	if want := (Faults{Every: 8, Kill: 1, Flip: 0, Replace: 1, MinRounds: 3}); f != want {
		t.Errorf("ParseFaults = %+v, want %+v", f, want)
	}
	if err := ParseFaults("kill=1,partition=2", &f); !errors.Is(err, ErrConfig) || f.Kill != 1 {
		t.Errorf("ParseFaults of an unknown fault: %v (and the faults were changed: %+v)", err, f)
	}
}

func TestOpMix(t *testing.T) {
	x := newOpMix(map[string]int{OpGet: 3, OpPut: 1, OpList: 0})
	counts := map[string]int{}
	rng := rngFor(5, 5)
	for i := 0; i < 4000; i++ {
		counts[x.pick(rng)]++
	}
	if counts[OpList] != 0 || counts[OpGet] < 2700 || counts[OpGet] > 3300 || counts[OpPut] < 700 {
		t.Errorf("4000 picks of get:3 put:1 list:0 gave %v", counts)
	}
	a, b := newOpMix(DefaultMix()), newOpMix(DefaultMix())
	ra, rb := rngFor(11, 2), rngFor(11, 2)
	for i := 0; i < 100; i++ {
		if x, y := a.pick(ra), b.pick(rb); x != y {
			t.Fatalf("pick %d differs for one seed: %s, %s", i, x, y)
		}
	}
}
