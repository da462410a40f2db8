package objectd

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/basaltstore/basalt/objectd/disk"
)

// ValidBucketName checks a bucket name against S3's rules.
func ValidBucketName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w: bucket name %q %s", ErrInvalidArgument, name, why) }
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may hold only lowercase letters, digits, '.' and '-'")
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return bad("must not hold adjacent periods or a period beside a hyphen")
	}
	if net.ParseIP(name) != nil {
		return bad("must not be an IP address")
	}
	if name == "basalt" {
		return bad("is reserved for the administration API")
	}
	if strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-") || strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3") {
		return bad("uses a reserved prefix or suffix")
	}
	return nil
}

// MaxContainerNameLen is the longest bucket name the store keeps: Swift's
// limit for container names.
const MaxContainerNameLen = 256

// ValidContainerName checks a bucket name against the store's own rule,
// which Swift container names follow: 1 to 256 bytes of UTF-8 without '/'
// or control characters, and not "basalt". S3's stricter rule
// (ValidBucketName) applies to buckets made through S3; a bucket whose
// name only this rule allows is reached through Swift.
func ValidContainerName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w: container name %q %s", ErrInvalidArgument, name, why) }
	if name == "" || len(name) > MaxContainerNameLen {
		return bad(fmt.Sprintf("must be 1 to %d bytes long", MaxContainerNameLen))
	}
	if !utf8.ValidString(name) {
		return bad("must be UTF-8")
	}
	for _, r := range name {
		if r == '/' || r < 0x20 || r == 0x7f {
			return bad("must not hold '/' or control characters")
		}
	}
	if name == "basalt" {
		return bad("is reserved for the administration API")
	}
	return nil
}

func (s *Store) loadBuckets() error {
	count := map[string]int{}
	created := map[string]int64{}
	have := make([]map[string]bool, len(s.disks))
	for i, d := range s.disks {
		if d == nil {
			continue
		}
		have[i] = map[string]bool{}
		it, err := d.NewIterator([]byte("b/"), nil, true)
		if err != nil {
			s.log.Warn("cannot read buckets", "disk", d.Root(), "err", err)
			continue
		}
		for ; it.Valid(); it.Next() {
			name := string(it.Key()[2:])
			v, err := it.Value(nil)
			if err != nil {
				continue
			}
			t, _ := binary.Varint(v)
			count[name]++
			have[i][name] = true
			if c, ok := created[name]; !ok || t < c {
				created[name] = t
			}
		}
		it.Close()
	}
	// A bucket exists when k disks say so; disks being filled back do not
	// know yet. With fewer than k disks holding data, any of them is
	// believed, so that objects answer with a read-quorum error rather
	// than their bucket seeming gone.
	need := s.cfg.DataShards
	old := 0
	for _, d := range s.disks {
		if d != nil && !d.Healing() {
			old++
		}
	}
	if old < need {
		need = 1
	}
	for name, c := range count {
		if c < need {
			continue
		}
		s.buckets[name] = BucketInfo{Name: name, Created: time.Unix(0, created[name]).UTC()}
		// Give the bucket back to disks that lack it (new or replaced disks).
		for i, d := range s.disks {
			if d != nil && !have[i][name] {
				val := binary.AppendVarint(nil, created[name])
				_ = d.Update(func(t disk.Txn) error { return t.Set(bucketKey(name), val) })
			}
		}
	}
	return nil
}

func (s *Store) checkBucket(bucket string) error {
	s.adoptBucket(bucket)
	s.bucketMu.RLock()
	_, ok := s.buckets[bucket]
	s.bucketMu.RUnlock()
	if !ok {
		return ErrNoSuchBucket
	}
	return nil
}

// adoptBucket learns, in a cluster, of a bucket another node made: it is
// known when k of the disks that answer hold its record. Without a layout
// every bucket is known from the start.
func (s *Store) adoptBucket(bucket string) {
	if s.layout.Load() == nil {
		return
	}
	s.bucketMu.RLock()
	_, ok := s.buckets[bucket]
	s.bucketMu.RUnlock()
	if ok {
		return
	}
	n := 0
	var created int64
	for _, d := range s.online() {
		if v, err := d.Get(bucketKey(bucket)); err == nil {
			n++
			if t, k := binary.Varint(v); k > 0 && (created == 0 || t < created) {
				created = t
			}
		}
		if n >= s.cfg.DataShards {
			break
		}
	}
	if n < s.cfg.DataShards {
		return
	}
	s.bucketMu.Lock()
	if _, ok := s.buckets[bucket]; !ok {
		s.buckets[bucket] = BucketInfo{Name: bucket, Created: time.Unix(0, created).UTC()}
	}
	s.bucketMu.Unlock()
}

// clusterBuckets lists the buckets recorded on any disk of the cluster
// (one made through another node included), by name. A disk that missed a
// bucket's removal may still name it: walking it finds nothing.
func (s *Store) clusterBuckets() []BucketInfo {
	seen := map[string]bool{}
	for _, d := range s.online() {
		it, err := d.NewIterator([]byte("b/"), nil, true)
		if err != nil {
			continue
		}
		for ; it.Valid(); it.Next() {
			seen[string(it.Key()[2:])] = true
		}
		it.Close()
	}
	out := make([]BucketInfo, 0, len(seen))
	for _, name := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, BucketInfo{Name: name})
	}
	return out
}

// forAllDisks runs fn on every online disk and returns how many succeeded.
func (s *Store) forAllDisks(fn func(d disk.Volume) error) int {
	n := 0
	for _, d := range s.online() {
		if err := fn(d); err != nil {
			s.log.Warn("disk operation failed", "disk", d.Root(), "err", err)
			continue
		}
		n++
	}
	return n
}

// MakeBucket creates a bucket; its name must pass ValidContainerName.
func (s *Store) MakeBucket(ctx context.Context, bucket string) error {
	if err := ValidContainerName(bucket); err != nil {
		return err
	}
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	if _, ok := s.buckets[bucket]; ok {
		return ErrBucketExists
	}
	now := s.now()
	val := binary.AppendVarint(nil, now)
	n := s.forAllDisks(func(d disk.Volume) error {
		return d.Update(func(t disk.Txn) error { return t.Set(bucketKey(bucket), val) })
	})
	if n < s.writeQuorum() {
		s.forAllDisks(func(d disk.Volume) error {
			return d.Update(func(t disk.Txn) error { return t.Delete(bucketKey(bucket)) })
		})
		return fmt.Errorf("%w: bucket recorded on %d disks", ErrWriteQuorum, n)
	}
	s.buckets[bucket] = BucketInfo{Name: bucket, Created: time.Unix(0, now).UTC()}
	return nil
}

// DeleteBucket removes an empty bucket, aborting its multipart uploads.
func (s *Store) DeleteBucket(ctx context.Context, bucket string) error {
	s.adoptBucket(bucket)
	s.bucketMu.Lock()
	defer s.bucketMu.Unlock()
	if _, ok := s.buckets[bucket]; !ok {
		return ErrNoSuchBucket
	}
	// Delete markers count: a key with any version keeps the bucket.
	res, err := s.listObjects(bucket, ListOptions{MaxKeys: 1, markers: true})
	if err != nil {
		return err
	}
	if len(res.Objects) > 0 {
		return ErrBucketNotEmpty
	}
	ups, err := s.listUploads(bucket, ListUploadsOptions{MaxUploads: 100000})
	if err == nil {
		for _, u := range ups.Uploads {
			_ = s.abortUpload(bucket, u.Key, u.UploadID)
		}
	}
	n := s.forAllDisks(func(d disk.Volume) error {
		return d.Update(func(t disk.Txn) error { return t.Delete(bucketKey(bucket)) })
	})
	if n < s.writeQuorum() {
		return fmt.Errorf("%w: bucket removed from %d disks", ErrWriteQuorum, n)
	}
	delete(s.buckets, bucket)
	return nil
}

// BucketInfo describes one bucket.
func (s *Store) BucketInfo(ctx context.Context, bucket string) (BucketInfo, error) {
	s.adoptBucket(bucket)
	s.bucketMu.RLock()
	defer s.bucketMu.RUnlock()
	b, ok := s.buckets[bucket]
	if !ok {
		return BucketInfo{}, ErrNoSuchBucket
	}
	return b, nil
}

// ListBuckets lists every bucket by name.
func (s *Store) ListBuckets(ctx context.Context) ([]BucketInfo, error) {
	s.bucketMu.RLock()
	out := make([]BucketInfo, 0, len(s.buckets))
	for _, b := range s.buckets {
		out = append(out, b)
	}
	s.bucketMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
