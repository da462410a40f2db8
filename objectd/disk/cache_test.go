package disk

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/basaltstore/basalt/internal/vfs"
)

// A read fills the cache, a write makes it forget, a read that started
// before a write does not fill it afterwards, and the budget holds.
func TestReadCacheGenerationsAndBudget(t *testing.T) {
	var c readCache
	c.init(16 * 4096) // 4 KiB a shard
	k := []byte("o/b/k")
	gen := c.generation(k)
	c.put(k, cached{val: []byte("v1")}, gen)
	if v, ok := c.get(k); !ok || string(v.val) != "v1" {
		t.Fatalf("after put: %q %v", v.val, ok)
	}
	// A reader notes the generation, a write comes, the reader puts what
	// it read before the write: not kept.
	gen = c.generation(k)
	c.invalidate(k)
	if _, ok := c.get(k); ok {
		t.Fatal("invalidated key still cached")
	}
	c.put(k, cached{val: []byte("stale")}, gen)
	if v, ok := c.get(k); ok {
		t.Fatalf("a read older than the write was cached: %q", v.val)
	}
	// Budget: many entries of one shard never exceed it.
	for i := range 1000 {
		key := []byte("k" + strconv.Itoa(i))
		c.put(key, cached{val: make([]byte, 100)}, c.generation(key))
	}
	for i := range c.shards {
		s := &c.shards[i]
		var n int64
		for k, e := range s.m {
			n += int64(len(k) + len(e.val) + 64)
		}
		if n != s.size || s.size > s.max {
			t.Fatalf("shard %d: %d bytes counted, %d held, budget %d", i, s.size, n, s.max)
		}
	}
	// An entry too large for the cache is not kept.
	big := []byte("big")
	c.put(big, cached{val: make([]byte, 4096)}, c.generation(big))
	if _, ok := c.get(big); ok {
		t.Fatal("an entry larger than an eighth of a shard was cached")
	}
}

// Readers racing a writer of the same keys never read a value older than
// the last write acknowledged before their read began, through the cache
// or not; values kept in segments included.
func TestReadCacheNeverServesAnOverwrittenValue(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "d"), vfs.Default, Options{Journaled: true, SegmentValues: []byte("v/")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	keys := []string{"o/a", "o/b", "v/a"} // v/a: in a segment (padded past 2 KiB)
	pad := fmt.Sprintf("%02100d", 0)
	var acked [3]atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ki := (i + r) % len(keys)
				floor := acked[ki].Load()
				v, err := d.Get([]byte(keys[ki]))
				if err != nil {
					if floor == 0 {
						continue
					}
					t.Errorf("%s: %v after write %d was acknowledged", keys[ki], err, floor)
					return
				}
				n, _ := strconv.ParseInt(string(v[:min(len(v), 12)]), 10, 64)
				if n < floor {
					t.Errorf("%s: read write %d after write %d was acknowledged", keys[ki], n, floor)
					return
				}
			}
		})
	}
	for n := int64(1); n <= 600; n++ {
		ki := int(n) % len(keys)
		val := fmt.Sprintf("%012d", n)
		if keys[ki][0] == 'v' {
			val += pad
		}
		if err := d.Update(func(t Txn) error { return t.Set([]byte(keys[ki]), []byte(val)) }); err != nil {
			t.Fatal(err)
		}
		acked[ki].Store(n)
	}
	close(stop)
	wg.Wait()
}
