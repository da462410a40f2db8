package objectd

import (
	"sync"

	"github.com/basaltstore/basalt/objectd/erasure"
)

// pools keep the large buffers of the data path, so that a request costs
// no allocation of its own size: one stripe buffer (BlockSize bytes) and
// one set of k+m shard buffers (ShardBlockSize + 4 bytes each) per request
// in flight.
type pools struct {
	stripe sync.Pool // *[]byte of BlockSize
	shards sync.Pool // *[][]byte of k+m, each 4+ShardBlockSize
}

func (p *pools) init(c *erasure.Codec) {
	bs := c.BlockSize()
	n := c.K() + c.M()
	sbs := c.ShardBlockSize() + 4
	p.stripe.New = func() any {
		b := make([]byte, bs)
		return &b
	}
	p.shards.New = func() any {
		s := make([][]byte, n)
		for i := range s {
			s[i] = make([]byte, 0, sbs)
		}
		return &s
	}
}

func (p *pools) getStripe() *[]byte   { return p.stripe.Get().(*[]byte) }
func (p *pools) putStripe(b *[]byte)  { p.stripe.Put(b) }
func (p *pools) getShards() *[][]byte { return p.shards.Get().(*[][]byte) }
func (p *pools) putShards(s *[][]byte) {
	for i := range *s {
		(*s)[i] = (*s)[i][:0]
	}
	p.shards.Put(s)
}
