package erasure

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

const benchStripe = 1 << 20

var benchConfigs = []struct{ k, m int }{{2, 2}, {4, 2}, {8, 4}}

func benchCodec(b *testing.B, k, m int) (*Codec, []byte, [][]byte) {
	c := mustNew(b, k, m, benchStripe)
	data := randBytes(rand.New(rand.NewPCG(11, 12)), benchStripe)
	sh := make([][]byte, k+m)
	for i := range sh {
		sh[i] = make([]byte, c.ShardBlockSize())
	}
	if err := c.Encode(data, sh); err != nil {
		b.Fatal(err)
	}
	return c, data, sh
}

// BenchmarkMemcopy copies one stripe: the machine's memory bandwidth, to
// read the codec's figures against.
func BenchmarkMemcopy(b *testing.B) {
	src := randBytes(rand.New(rand.NewPCG(11, 12)), benchStripe)
	dst := make([]byte, benchStripe)
	b.SetBytes(benchStripe)
	b.ReportAllocs()
	for b.Loop() {
		copy(dst, src)
	}
}

// BenchmarkEncode encodes one 1 MiB stripe (split into data blocks, then
// parity); throughput counts object bytes.
func BenchmarkEncode(b *testing.B) {
	for _, cfg := range benchConfigs {
		b.Run(fmt.Sprintf("%d+%d", cfg.k, cfg.m), func(b *testing.B) {
			c, data, sh := benchCodec(b, cfg.k, cfg.m)
			b.SetBytes(benchStripe)
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Encode(data, sh); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReconstruct rebuilds the data blocks of one 1 MiB stripe after
// losing one, or m, data shards; throughput counts object bytes.
func BenchmarkReconstruct(b *testing.B) {
	for _, cfg := range benchConfigs {
		for _, lost := range []int{1, cfg.m} {
			b.Run(fmt.Sprintf("%d+%d/lost%d", cfg.k, cfg.m, lost), func(b *testing.B) {
				c, _, sh := benchCodec(b, cfg.k, cfg.m)
				b.SetBytes(benchStripe)
				b.ReportAllocs()
				for b.Loop() {
					for i := range lost {
						sh[i] = sh[i][:0]
					}
					if err := c.Reconstruct(sh, true); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
