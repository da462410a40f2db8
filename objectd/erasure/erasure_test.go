package erasure

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

// configs are the (k, m, blockSize) triples every round-trip test runs.
var configs = []struct{ k, m, bs int }{
	{1, 0, 7},
	{1, 1, 16},
	{1, 3, 5},
	{2, 0, 10},
	{2, 1, 64},
	{2, 2, 1},
	{3, 2, 100},
	{4, 2, 1024},
	{5, 3, 999},
	{8, 4, 4096},
	{10, 4, 1000},
	{12, 1, 13},
}

// sizesFor returns the object sizes tested for a block size.
func sizesFor(bs int) []int64 {
	b := int64(bs)
	s := []int64{0, 1, b - 1, b, b + 1, 3*b + 7, 5 * b}
	out := s[:0]
	seen := map[int64]bool{}
	for _, v := range s {
		if v >= 0 && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func mustNew(t testing.TB, k, m, bs int) *Codec {
	t.Helper()
	c, err := New(k, m, bs)
	if err != nil {
		t.Fatalf("New(%d, %d, %d): %v", k, m, bs, err)
	}
	return c
}

// encodeObject encodes obj stripe by stripe and returns, for each stripe,
// its k+m shard blocks (copied), and for each shard, its whole payload.
func encodeObject(t *testing.T, c *Codec, obj []byte) (stripes [][][]byte, shardFiles [][]byte) {
	t.Helper()
	n := c.K() + c.M()
	buf := make([][]byte, n)
	for i := range buf {
		buf[i] = make([]byte, c.ShardBlockSize())
	}
	shardFiles = make([][]byte, n)
	size := int64(len(obj))
	for s := int64(0); s < c.Stripes(size); s++ {
		sl := c.StripeLen(size, s)
		start := s * int64(c.BlockSize())
		if err := c.Encode(obj[start:start+int64(sl)], buf); err != nil {
			t.Fatalf("Encode stripe %d: %v", s, err)
		}
		blocks := make([][]byte, n)
		for i := range buf {
			if len(buf[i]) != c.ShardLen(sl) {
				t.Fatalf("stripe %d shard %d: len %d, want %d", s, i, len(buf[i]), c.ShardLen(sl))
			}
			blocks[i] = bytes.Clone(buf[i])
			shardFiles[i] = append(shardFiles[i], buf[i]...)
		}
		stripes = append(stripes, blocks)
	}
	return stripes, shardFiles
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cfg := range configs {
		c := mustNew(t, cfg.k, cfg.m, cfg.bs)
		for _, size := range sizesFor(cfg.bs) {
			t.Run(fmt.Sprintf("k%d_m%d_bs%d_size%d", cfg.k, cfg.m, cfg.bs, size), func(t *testing.T) {
				obj := randBytes(rng, int(size))
				stripes, files := encodeObject(t, c, obj)
				if got := int64(len(stripes)); got != c.Stripes(size) {
					t.Fatalf("encoded %d stripes, Stripes says %d", got, c.Stripes(size))
				}
				for i, f := range files {
					if int64(len(f)) != c.ShardSize(size) {
						t.Fatalf("shard %d has %d bytes, ShardSize says %d", i, len(f), c.ShardSize(size))
					}
				}
				var out bytes.Buffer
				var total int64
				for s, blocks := range stripes {
					sl := c.StripeLen(size, int64(s))
					total += int64(sl)
					// Data blocks are the stripe in order, then zeros.
					var cat []byte
					for _, b := range blocks[:c.K()] {
						cat = append(cat, b...)
					}
					start := s * c.BlockSize()
					if !bytes.Equal(cat[:sl], obj[start:start+sl]) {
						t.Fatalf("stripe %d: data blocks do not hold the stripe", s)
					}
					if !bytes.Equal(cat[sl:], make([]byte, len(cat)-sl)) {
						t.Fatalf("stripe %d: padding is not zero", s)
					}
					if c.K() == 1 {
						for p := 1; p < len(blocks); p++ {
							if !bytes.Equal(blocks[p], blocks[0]) {
								t.Fatalf("k=1: parity %d is not a copy of the data", p)
							}
						}
					}
					if err := c.WriteData(&out, blocks, sl, 0, sl); err != nil {
						t.Fatalf("WriteData stripe %d: %v", s, err)
					}
				}
				if total != size {
					t.Fatalf("stripe lengths add up to %d, want %d", total, size)
				}
				if !bytes.Equal(out.Bytes(), obj) {
					t.Fatalf("decoded object differs from the original")
				}
			})
		}
	}
}

// subsets calls f with every subset of {0..n-1} of exactly size r.
func subsets(n, r int, f func([]int)) {
	idx := make([]int, r)
	var rec func(start, depth int)
	rec = func(start, depth int) {
		if depth == r {
			f(idx)
			return
		}
		for i := start; i <= n-(r-depth); i++ {
			idx[depth] = i
			rec(i+1, depth+1)
		}
	}
	rec(0, 0)
}

func cloneShards(s [][]byte) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = bytes.Clone(s[i])
	}
	return out
}

func TestReconstructEveryLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, cfg := range configs {
		c := mustNew(t, cfg.k, cfg.m, cfg.bs)
		n := cfg.k + cfg.m
		for _, size := range sizesFor(cfg.bs) {
			if size == 0 {
				continue
			}
			t.Run(fmt.Sprintf("k%d_m%d_bs%d_size%d", cfg.k, cfg.m, cfg.bs, size), func(t *testing.T) {
				obj := randBytes(rng, int(size))
				stripes, _ := encodeObject(t, c, obj)
				orig := stripes[len(stripes)-1] // the last stripe is the odd-sized one
				combos := 0
				for lost := 1; lost <= cfg.m; lost++ {
					subsets(n, lost, func(missing []int) {
						combos++
						for _, dataOnly := range []bool{false, true} {
							sh := cloneShards(orig)
							for j, i := range missing {
								switch j % 3 {
								case 0:
									sh[i] = sh[i][:0] // capacity reused
								case 1:
									sh[i] = nil // must allocate
								case 2:
									sh[i] = make([]byte, 0, 1) // too small: must allocate
								}
							}
							if err := c.Reconstruct(sh, dataOnly); err != nil {
								t.Fatalf("lost %v dataOnly=%v: %v", missing, dataOnly, err)
							}
							for i := range sh {
								isLost := false
								for _, x := range missing {
									isLost = isLost || x == i
								}
								if dataOnly && isLost && i >= cfg.k {
									if len(sh[i]) != 0 {
										t.Fatalf("lost %v dataOnly: parity %d rebuilt", missing, i)
									}
									continue
								}
								if !bytes.Equal(sh[i], orig[i]) {
									t.Fatalf("lost %v dataOnly=%v: shard %d differs", missing, dataOnly, i)
								}
							}
						}
					})
				}
				// One more loss than the parity covers always fails, and
				// leaves the shards as they were.
				subsets(n, cfg.m+1, func(missing []int) {
					combos++
					sh := cloneShards(orig)
					for _, i := range missing {
						sh[i] = sh[i][:0]
					}
					for _, dataOnly := range []bool{false, true} {
						err := c.Reconstruct(sh, dataOnly)
						if !errors.Is(err, ErrTooFewShards) {
							t.Fatalf("lost %v dataOnly=%v: err %v, want ErrTooFewShards", missing, dataOnly, err)
						}
						for _, i := range missing {
							if len(sh[i]) != 0 {
								t.Fatalf("lost %v: shard %d changed on failure", missing, i)
							}
						}
					}
				})
				if combos == 0 {
					t.Fatal("no loss combination tested")
				}
			})
		}
	}
}

func TestReconstructNothingMissing(t *testing.T) {
	c := mustNew(t, 3, 2, 30)
	data := []byte("nothing is missing from this stripe")[:30]
	sh := make([][]byte, 5)
	if err := c.Encode(data, sh); err != nil {
		t.Fatal(err)
	}
	want := cloneShards(sh)
	if err := c.Reconstruct(sh, false); err != nil {
		t.Fatal(err)
	}
	for i := range sh {
		if !bytes.Equal(sh[i], want[i]) {
			t.Fatalf("shard %d changed", i)
		}
	}
	// Only parity missing, dataOnly: nothing to do, parity stays missing.
	sh[3], sh[4] = nil, nil
	if err := c.Reconstruct(sh, true); err != nil {
		t.Fatal(err)
	}
	if sh[3] != nil || sh[4] != nil {
		t.Fatal("dataOnly rebuilt parity")
	}
}

func TestReconstructErrors(t *testing.T) {
	c := mustNew(t, 3, 2, 30)
	sh := make([][]byte, 5)
	if err := c.Encode(bytes.Repeat([]byte{7}, 30), sh); err != nil {
		t.Fatal(err)
	}
	if err := c.Reconstruct(sh[:4], false); !errors.Is(err, ErrShardCount) {
		t.Fatalf("4 of 5 entries: %v, want ErrShardCount", err)
	}
	bad := cloneShards(sh)
	bad[0] = nil
	bad[2] = bad[2][:5]
	if err := c.Reconstruct(bad, false); !errors.Is(err, ErrShardSize) {
		t.Fatalf("uneven shards: %v, want ErrShardSize", err)
	}
	if err := c.Reconstruct(make([][]byte, 5), false); !errors.Is(err, ErrTooFewShards) {
		t.Fatalf("all missing: %v, want ErrTooFewShards", err)
	}
}

func TestNoParity(t *testing.T) {
	c := mustNew(t, 4, 0, 40)
	sh := make([][]byte, 4)
	data := []byte("a plain split into four equal shards..!")
	if err := c.Encode(data, sh); err != nil {
		t.Fatal(err)
	}
	if len(sh[0]) != 10 {
		t.Fatalf("shard len %d, want 10", len(sh[0]))
	}
	if err := c.Reconstruct(sh, false); err != nil {
		t.Fatalf("nothing missing: %v", err)
	}
	sh[2] = sh[2][:0]
	if err := c.Reconstruct(sh, false); !errors.Is(err, ErrTooFewShards) {
		t.Fatalf("m=0 with a lost shard: %v, want ErrTooFewShards", err)
	}
}

func TestNewParams(t *testing.T) {
	bad := []struct{ k, m, bs int }{
		{0, 2, 10}, {-1, 0, 10}, {2, -1, 10}, {255, 2, 10}, {257, 0, 10},
		{1, 256, 10}, {4, 2, 0}, {4, 2, -5}, {1 << 62, 1 << 62, 10},
	}
	for _, p := range bad {
		c, err := New(p.k, p.m, p.bs)
		if !errors.Is(err, ErrInvalidParams) || c != nil {
			t.Errorf("New(%d, %d, %d) = %v, %v; want ErrInvalidParams", p.k, p.m, p.bs, c, err)
		}
	}
	good := []struct{ k, m, bs int }{
		{1, 0, 1}, {1, 255, 1}, {255, 1, 1}, {128, 128, 1 << 20}, {256, 0, 3},
	}
	for _, p := range good {
		c, err := New(p.k, p.m, p.bs)
		if err != nil {
			t.Errorf("New(%d, %d, %d): %v", p.k, p.m, p.bs, err)
			continue
		}
		if c.K() != p.k || c.M() != p.m || c.BlockSize() != p.bs {
			t.Errorf("New(%d, %d, %d) reports %d, %d, %d", p.k, p.m, p.bs, c.K(), c.M(), c.BlockSize())
		}
	}
}

func TestGeometry(t *testing.T) {
	c := mustNew(t, 4, 2, 10)
	if got := c.ShardBlockSize(); got != 3 {
		t.Fatalf("ShardBlockSize = %d, want 3", got)
	}
	for _, tc := range []struct{ in, want int }{{-1, 0}, {0, 0}, {1, 1}, {4, 1}, {5, 2}, {8, 2}, {9, 3}, {10, 3}} {
		if got := c.ShardLen(tc.in); got != tc.want {
			t.Errorf("ShardLen(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		size, stripes, shard int64
		lens                 []int
	}{
		{0, 0, 0, nil},
		{1, 1, 1, []int{1}},
		{9, 1, 3, []int{9}},
		{10, 1, 3, []int{10}},
		{11, 2, 4, []int{10, 1}},
		{25, 3, 8, []int{10, 10, 5}},
		{30, 3, 9, []int{10, 10, 10}},
	} {
		if got := c.Stripes(tc.size); got != tc.stripes {
			t.Errorf("Stripes(%d) = %d, want %d", tc.size, got, tc.stripes)
		}
		if got := c.ShardSize(tc.size); got != tc.shard {
			t.Errorf("ShardSize(%d) = %d, want %d", tc.size, got, tc.shard)
		}
		for i, want := range tc.lens {
			if got := c.StripeLen(tc.size, int64(i)); got != want {
				t.Errorf("StripeLen(%d, %d) = %d, want %d", tc.size, i, got, want)
			}
		}
		if got := c.StripeLen(tc.size, tc.stripes); got != 0 {
			t.Errorf("StripeLen(%d, %d) past the end = %d", tc.size, tc.stripes, got)
		}
		if got := c.StripeLen(tc.size, -1); got != 0 {
			t.Errorf("StripeLen(%d, -1) = %d", tc.size, got)
		}
	}
	// Large objects do not overflow.
	big := mustNew(t, 8, 4, 1<<20)
	const size = 5 << 40
	if got := big.Stripes(size); got != 5<<20 {
		t.Errorf("Stripes(5 TiB) = %d", got)
	}
	if got := big.ShardSize(size); got != (5<<20)*(1<<17) {
		t.Errorf("ShardSize(5 TiB) = %d", got)
	}
}

func TestEncodeErrorsAndBuffers(t *testing.T) {
	c := mustNew(t, 2, 1, 8)
	if err := c.Encode(make([]byte, 9), make([][]byte, 3)); !errors.Is(err, ErrDataTooLarge) {
		t.Fatalf("9 bytes into an 8-byte block: %v", err)
	}
	if err := c.Encode(make([]byte, 8), make([][]byte, 2)); !errors.Is(err, ErrShardCount) {
		t.Fatalf("2 shards for 2+1: %v", err)
	}
	// Stale bytes in reused buffers do not leak into the padding.
	sh := [][]byte{
		bytes.Repeat([]byte{0xff}, 4), bytes.Repeat([]byte{0xff}, 4), bytes.Repeat([]byte{0xff}, 4),
	}
	if err := c.Encode([]byte{1, 2, 3}, sh); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sh[0], []byte{1, 2}) || !bytes.Equal(sh[1], []byte{3, 0}) {
		t.Fatalf("data shards %v %v", sh[0], sh[1])
	}
	// Buffers that are too small are replaced; empty data gives empty shards.
	sh = [][]byte{nil, make([]byte, 0, 1), nil}
	if err := c.Encode([]byte{1, 2, 3, 4, 5}, sh); err != nil {
		t.Fatal(err)
	}
	for i := range sh {
		if len(sh[i]) != 3 {
			t.Fatalf("shard %d len %d", i, len(sh[i]))
		}
	}
	if err := c.Encode(nil, sh); err != nil {
		t.Fatal(err)
	}
	for i := range sh {
		if len(sh[i]) != 0 {
			t.Fatalf("empty stripe: shard %d len %d", i, len(sh[i]))
		}
	}
}

// TestEncodeDoesNotAllocate checks that Encode allocates no shard buffers
// when the caller's have capacity: it may allocate no more than the
// library's own Encode does on the same shards. (On amd64 without GFNI the
// library's AVX2 kernel boxes a scratch slice into a sync.Pool once per
// call, and the race detector's build allocates more.) Without parity the
// library is not called and nothing may be allocated.
func TestEncodeDoesNotAllocate(t *testing.T) {
	for _, cfg := range []struct{ k, m int }{{2, 2}, {4, 2}, {8, 4}, {4, 0}, {1, 2}, {10, 4}, {20, 4}} {
		c := mustNew(t, cfg.k, cfg.m, 1<<20)
		data := randBytes(rand.New(rand.NewPCG(5, 6)), 1<<20)
		sh := make([][]byte, cfg.k+cfg.m)
		for i := range sh {
			sh[i] = make([]byte, c.ShardBlockSize())
		}
		for _, n := range []int{1 << 20, 1000, 1} {
			if err := c.Encode(data[:n], sh); err != nil {
				t.Fatal(err)
			}
			library := 0.0
			if cfg.m > 0 {
				library = testing.AllocsPerRun(5, func() {
					if err := c.enc.Encode(sh); err != nil {
						t.Fatal(err)
					}
				})
			}
			ours := testing.AllocsPerRun(5, func() {
				if err := c.Encode(data[:n], sh); err != nil {
					t.Fatal(err)
				}
			})
			if ours > library {
				t.Errorf("%d+%d, %d bytes: Encode allocates %.1f times per call, the library alone %.1f",
					cfg.k, cfg.m, n, ours, library)
			}
		}
	}
}

// TestParityGolden pins the coding matrix: shards written by one release
// must be reconstructable by the next, so a change of the library's matrix
// must not pass unnoticed.
func TestParityGolden(t *testing.T) {
	c := mustNew(t, 4, 2, 1<<10)
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i*7 + i/256)
	}
	sh := make([][]byte, 6)
	if err := c.Encode(data, sh); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(sh[4])
	h.Write(sh[5])
	const want = "6c477583d3209635c05311bd52b21c2144d8b26860d11564f71f11e9e2276c3b"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("parity digest %s, want %s", got, want)
	}
}

func TestWriteDataWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, cfg := range []struct{ k, m, bs int }{{1, 0, 40}, {3, 1, 40}, {4, 2, 37}, {7, 2, 64}} {
		c := mustNew(t, cfg.k, cfg.m, cfg.bs)
		for _, sl := range []int{1, cfg.bs / 2, cfg.bs - 1, cfg.bs} {
			data := randBytes(rng, sl)
			sh := make([][]byte, cfg.k+cfg.m)
			if err := c.Encode(data, sh); err != nil {
				t.Fatal(err)
			}
			for off := 0; off <= sl; off++ {
				for n := 0; off+n <= sl; n++ {
					var out bytes.Buffer
					if err := c.WriteData(&out, sh, sl, off, n); err != nil {
						t.Fatalf("k=%d sl=%d [%d,+%d): %v", cfg.k, sl, off, n, err)
					}
					if !bytes.Equal(out.Bytes(), data[off:off+n]) {
						t.Fatalf("k=%d sl=%d [%d,+%d): wrong bytes", cfg.k, sl, off, n)
					}
				}
			}
			// Only the data shards are needed.
			var out bytes.Buffer
			if err := c.WriteData(&out, sh[:cfg.k], sl, 0, sl); err != nil || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("data shards only: %v", err)
			}
		}
	}
	// A large stripe, random windows.
	c := mustNew(t, 6, 3, 1<<20)
	data := randBytes(rng, 1<<20-3)
	sh := make([][]byte, 9)
	if err := c.Encode(data, sh); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		off := rng.IntN(len(data) + 1)
		n := rng.IntN(len(data) - off + 1)
		var out bytes.Buffer
		if err := c.WriteData(&out, sh, len(data), off, n); err != nil || !bytes.Equal(out.Bytes(), data[off:off+n]) {
			t.Fatalf("[%d,+%d): %v", off, n, err)
		}
	}
}

type limitWriter struct {
	left int
	err  error
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) <= w.left {
		w.left -= len(p)
		return len(p), nil
	}
	n := w.left
	w.left = 0
	return n, w.err
}

func TestWriteDataErrors(t *testing.T) {
	c := mustNew(t, 3, 1, 30)
	sh := make([][]byte, 4)
	if err := c.Encode(bytes.Repeat([]byte{1}, 30), sh); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sl, off, n int }{
		{30, 0, 31}, {30, 31, 0}, {30, -1, 2}, {30, 2, -1}, {31, 0, 1}, {-1, 0, 0}, {30, 29, 2},
	} {
		if err := c.WriteData(io.Discard, sh, tc.sl, tc.off, tc.n); !errors.Is(err, ErrRange) {
			t.Errorf("stripe %d [%d,+%d): %v, want ErrRange", tc.sl, tc.off, tc.n, err)
		}
	}
	if err := c.WriteData(io.Discard, sh[:2], 30, 0, 1); !errors.Is(err, ErrShardCount) {
		t.Errorf("2 data shards of 3: %v", err)
	}
	short := cloneShards(sh)
	short[1] = short[1][:3]
	if err := c.WriteData(io.Discard, short, 30, 0, 30); !errors.Is(err, ErrShardSize) {
		t.Errorf("short data shard: %v", err)
	}
	boom := errors.New("disk on fire")
	if err := c.WriteData(&limitWriter{left: 15, err: boom}, sh, 30, 0, 30); !errors.Is(err, boom) {
		t.Errorf("writer error: %v", err)
	}
	if err := c.WriteData(&limitWriter{left: 15}, sh, 30, 0, 30); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("silent short write: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := mustNew(t, 4, 2, 4096)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			sh := make([][]byte, 6)
			for range 50 {
				data := randBytes(rng, 1+rng.IntN(4096))
				if err := c.Encode(data, sh); err != nil {
					errs <- err
					return
				}
				lost1, lost2 := rng.IntN(6), rng.IntN(6)
				sh[lost1], sh[lost2] = sh[lost1][:0], sh[lost2][:0]
				if err := c.Reconstruct(sh, false); err != nil {
					errs <- err
					return
				}
				var out bytes.Buffer
				if err := c.WriteData(&out, sh, len(data), 0, len(data)); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(out.Bytes(), data) {
					errs <- fmt.Errorf("goroutine %d: round trip differs", g)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
