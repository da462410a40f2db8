package disk

import (
	"hash/maphash"
	"sync"
)

// readCache keeps recently read database values of a disk (records, index
// entries, where values kept in segments lie), so that a hot object's
// reads skip badger's lookups: a GET of a small object made six of them,
// a quarter of the server's CPU. It holds what the database holds, never
// a value's bytes from a segment, which every read checks again.
//
// Every write of the disk goes through an applier, which invalidates the
// keys it wrote once its commit is visible. A reader notes its shard's
// generation before it reads the database and fills the cache only if no
// invalidation came meanwhile, so a value read before a commit is never
// cached after it.
type readCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const cacheShards = 16

type cacheShard struct {
	mu   sync.Mutex
	gen  uint64
	size int64
	max  int64
	m    map[string]cached
}

type cached struct {
	val  []byte
	meta byte
}

func (c *readCache) init(max int64) {
	c.seed = maphash.MakeSeed()
	for i := range c.shards {
		c.shards[i].max = max / cacheShards
		c.shards[i].m = map[string]cached{}
	}
}

func (c *readCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// get returns the cached value of key (shared: not to be modified).
func (c *readCache) get(key []byte) (cached, bool) {
	s := c.shard(key)
	s.mu.Lock()
	v, ok := s.m[string(key)]
	s.mu.Unlock()
	return v, ok
}

// generation returns what a reader passes to put after reading key.
func (c *readCache) generation(key []byte) uint64 {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// put caches key's value as read at generation gen, unless a write of the
// shard came since.
func (c *readCache) put(key []byte, v cached, gen uint64) {
	n := int64(len(key) + len(v.val) + 64)
	s := c.shard(key)
	if n > s.max/8 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return
	}
	if old, ok := s.m[string(key)]; ok {
		s.size -= int64(len(key) + len(old.val) + 64)
	}
	// Over budget: drop entries in the map's (random) order.
	for k, e := range s.m {
		if s.size+n <= s.max {
			break
		}
		s.size -= int64(len(k) + len(e.val) + 64)
		delete(s.m, k)
	}
	s.m[string(key)] = v
	s.size += n
}

// invalidate forgets key: it was just written.
func (c *readCache) invalidate(key []byte) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	if old, ok := s.m[string(key)]; ok {
		s.size -= int64(len(key) + len(old.val) + 64)
		delete(s.m, string(key))
	}
}
