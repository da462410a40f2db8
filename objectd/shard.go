package objectd

import (
	"bytes"
	"fmt"
	"io"

	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/objectd/shardfmt"
)

// openShard opens shard j of part p of rec on d, from its inline value or
// its file, and checks that the shard's header is the one the record
// describes. The closer is nil for an inline shard.
func (s *Store) openShard(d disk.Volume, rec *record, p *partRecord, j int) (*shardfmt.Reader, io.Closer, error) {
	codec, err := s.codecFor(rec)
	if err != nil {
		return nil, nil, err
	}
	var ra io.ReaderAt
	var c io.Closer
	if p.Inline {
		b, err := d.Get(inlineKey(p.DataID))
		if err != nil {
			return nil, nil, err
		}
		ra = bytes.NewReader(b)
	} else {
		f, err := d.OpenShard(p.DataID)
		if err != nil {
			return nil, nil, err
		}
		ra, c = f, f
	}
	rd, err := shardfmt.NewReader(ra)
	if err == nil {
		h := rd.Header()
		if int(h.Index) != j || int(h.K) != rec.K || int(h.M) != rec.M || h.Length != codec.ShardSize(p.Size) {
			err = fmt.Errorf("%w: shard %d of %s has header for shard %d (%d+%d, %d bytes)", shardfmt.ErrBadHeader, j, p.DataID, h.Index, h.K, h.M, h.Length)
		}
	}
	if err != nil {
		if c != nil {
			c.Close()
		}
		return nil, nil, err
	}
	return rd, c, nil
}

// shardBytes is the size of one disk's shards of every part of rec.
func (s *Store) shardBytes(rec *record) int64 {
	codec, err := s.codecFor(rec)
	if err != nil {
		return 0
	}
	var n int64
	for _, p := range rec.Parts {
		n += codec.ShardSize(p.Size)
	}
	return n
}
