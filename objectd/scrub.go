package objectd

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/basaltstore/basalt/objectd/disk"
)

// ScrubOptions select what a scrub reads.
type ScrubOptions struct {
	// Bucket limits the scrub to one bucket ("" for all).
	Bucket string
	// Disk limits it to objects with a shard on the disk at this path.
	Disk string
	// Rate is the most bytes of shards read per second (0: no limit), so
	// that client traffic keeps priority.
	Rate int64
	// Progress, when set, is called after every object.
	Progress func(ScrubProgress)
}

// ScrubProgress counts what a scrub has done so far.
type ScrubProgress struct {
	Started  time.Time `json:"started"`
	Objects  int64     `json:"objects"`
	Bytes    int64     `json:"bytes"`    // shard bytes read and verified
	Bad      int64     `json:"bad"`      // shards found missing or corrupt
	Repaired int64     `json:"repaired"` // shards rebuilt
	Failed   int64     `json:"failed"`   // objects that could not be checked or repaired
	Bucket   string    `json:"bucket,omitempty"`
	Key      string    `json:"key,omitempty"`
	Done     bool      `json:"done"`
}

// Scrub reads every shard of every object selected, verifies every block
// checksum, and rebuilds what is missing or corrupt. It runs until done or
// ctx ends.
func (s *Store) Scrub(ctx context.Context, opts ScrubOptions) (ScrubProgress, error) {
	p := ScrubProgress{Started: s.cfg.Now()}
	var target disk.Volume
	if opts.Disk != "" {
		for i, path := range s.cfg.Disks {
			if path == opts.Disk {
				target = s.disks[i]
			}
		}
		if target == nil {
			return p, ErrInvalidArgument
		}
	}
	err := s.eachObject(ctx, opts.Bucket, func(bucket string, o ObjectInfo) error {
		if target != nil && !contains(s.set(bucket, o.Key), target) {
			return nil
		}
		res, err := s.healObject(bucket, o.Key)
		p.Objects++
		p.Bucket, p.Key = bucket, o.Key
		if err != nil {
			p.Failed++
			s.log.Warn("scrub: object not checked", "bucket", bucket, "key", o.Key, "err", err)
		}
		p.Bytes += o.Size * int64(s.cfg.DataShards+s.cfg.ParityShards) / int64(s.cfg.DataShards)
		p.Bad += int64(res.Rebuilt)
		p.Repaired += int64(res.Rebuilt)
		if opts.Progress != nil {
			opts.Progress(p)
		}
		return s.pace(ctx, opts.Rate, p.Started, p.Bytes)
	})
	if err != nil {
		return p, err
	}
	p.Done = true
	if opts.Progress != nil {
		opts.Progress(p)
	}
	return p, nil
}

func contains(set []disk.Volume, d disk.Volume) bool {
	for _, x := range set {
		if x == d {
			return true
		}
	}
	return false
}

// pace waits until reading done bytes since start keeps within rate.
func (s *Store) pace(ctx context.Context, rate int64, start time.Time, done int64) error {
	if rate <= 0 {
		return nil
	}
	due := start.Add(time.Duration(float64(done) / float64(rate) * float64(time.Second)))
	wait := due.Sub(s.cfg.Now())
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stop:
		return context.Canceled
	}
}

// scrubLoop scrubs everything every ScrubInterval at ScrubRate. The start
// of the last complete pass is kept on the disks, so restarts do not
// reset the schedule.
func (s *Store) scrubLoop() {
	defer s.wg.Done()
	ctx, cancel := s.stopContext()
	defer cancel()
	for {
		next := s.lastScrub().Add(s.cfg.ScrubInterval)
		if wait := next.Sub(s.cfg.Now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.stop:
				t.Stop()
				return
			}
		}
		s.scrubMu.Lock()
		s.scrubRunning = true
		s.scrubMu.Unlock()
		p, err := s.Scrub(ctx, ScrubOptions{Rate: s.cfg.ScrubRate, Progress: func(p ScrubProgress) {
			s.scrubMu.Lock()
			s.scrubLast = p
			s.scrubMu.Unlock()
		}})
		s.scrubMu.Lock()
		s.scrubRunning = false
		s.scrubMu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("scrub pass failed", "err", err)
			continue
		}
		s.setLastScrub(p.Started)
		s.log.Info("scrub pass done", "objects", p.Objects, "bytes", p.Bytes, "bad", p.Bad, "repaired", p.Repaired, "failed", p.Failed)
		s.reclaim()
	}
}

// reclaim gives back the space of the local disks' segments that no
// shard index names (disk.Reclaim): at start, once the journals are
// replayed, and after each scrub pass.
func (s *Store) reclaim() {
	for _, d := range s.local {
		if d == nil || d.Failed() {
			continue
		}
		r, err := d.Reclaim(s.stop)
		if err != nil {
			s.log.Warn("segment reclaim failed", "disk", d.Root(), "err", err)
			continue
		}
		if r.Bytes > 0 || r.Removed > 0 {
			s.log.Info("segments reclaimed", "disk", d.Root(), "segments", r.Segments, "bytes", r.Bytes, "removed", r.Removed)
		}
	}
}

var lastScrubKey = []byte("s/last-scrub")

func (s *Store) lastScrub() time.Time {
	var last int64
	for _, d := range s.localOnline() {
		if b, err := d.Get(lastScrubKey); err == nil {
			if v, n := binary.Varint(b); n > 0 && v > last {
				last = v
			}
		}
	}
	return time.Unix(0, last)
}

func (s *Store) setLastScrub(t time.Time) {
	v := binary.AppendVarint(nil, t.UnixNano())
	for _, d := range s.localOnline() {
		s.note(d, d.Update(func(tx disk.Txn) error { return tx.Set(lastScrubKey, v) }))
	}
}

// eachObject calls fn for every object of bucket (of every bucket when
// bucket is ""), a listing page at a time, until fn or the listing fails
// or ctx ends.
func (s *Store) eachObject(ctx context.Context, bucket string, fn func(bucket string, o ObjectInfo) error) error {
	buckets, _ := s.ListBuckets(ctx)
	if s.layout.Load() != nil {
		buckets = s.clusterBuckets()
	}
	for _, b := range buckets {
		if bucket != "" && b.Name != bucket {
			continue
		}
		after := ""
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			res, err := s.listObjects(b.Name, ListOptions{After: after, MaxKeys: 1000, markers: true, tombstones: true})
			if err != nil {
				return err
			}
			for _, o := range res.Objects {
				if err := fn(b.Name, o); err != nil {
					return err
				}
			}
			if !res.IsTruncated {
				break
			}
			after = res.NextAfter
		}
	}
	return nil
}

// stopContext is a context that ends when the store closes.
func (s *Store) stopContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
