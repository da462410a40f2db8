package s3

import (
	"context"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
)

// The versioning actions of lifecycle rules, for versioned buckets:
// NoncurrentVersionExpiration removes a noncurrent version NoncurrentDays
// after it became noncurrent (when its successor was written), keeping the
// NewerNoncurrentVersions newest noncurrent versions of each key; and
// Expiration's ExpiredObjectDeleteMarker removes a delete marker that is
// the only version left of its key. Rules filter by prefix (tags and sizes
// do not apply to these actions in this implementation, except a size
// filter on noncurrent versions).

type noncurrentRule struct {
	prefix string
	gt, lt *int64
	days   int32
	newer  int32
}

// versionRules extracts the versioning actions of the enabled rules.
func versionRules(rules []*lifecycleRule) (nc []noncurrentRule, markerPrefixes []string) {
	for _, r := range rules {
		prefix, _, gt, lt := r.filter()
		if n := r.NoncurrentVersionExpiration; n != nil && n.NoncurrentDays != nil {
			rule := noncurrentRule{prefix: prefix, gt: gt, lt: lt, days: *n.NoncurrentDays}
			if n.NewerNoncurrentVersions != nil {
				rule.newer = *n.NewerNoncurrentVersions
			}
			nc = append(nc, rule)
		}
		if e := r.Expiration; e != nil && e.ExpiredObjectDeleteMarker != nil && *e.ExpiredObjectDeleteMarker {
			markerPrefixes = append(markerPrefixes, prefix)
		}
	}
	return nc, markerPrefixes
}

// expireVersions applies the versioning actions to one versioned bucket,
// a page of versions at a time.
func (s *Server) expireVersions(ctx context.Context, bucket string, rules []*lifecycleRule, now time.Time, rep *LifecycleReport) error {
	nc, markers := versionRules(rules)
	if len(nc) == 0 && len(markers) == 0 {
		return nil
	}
	under := func(key string, prefixes []string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(key, p) {
				return true
			}
		}
		return false
	}
	opts := objectd.ListVersionsOptions{MaxKeys: lifecyclePage}
	// The versions of the key being walked, newest first; a key's versions
	// may span pages.
	var key string
	var vers []objectd.ObjectInfo
	flush := func() error {
		if len(vers) == 0 {
			return nil
		}
		defer func() { vers = vers[:0] }()
		if len(vers) == 1 && vers[0].IsLatest && vers[0].DeleteMarker && under(key, markers) {
			if s.removeVersion(ctx, bucket, key, vers[0]) {
				rep.Expired++
			}
			return nil
		}
		for _, r := range nc {
			if !strings.HasPrefix(key, r.prefix) {
				continue
			}
			kept := int32(0)
			for i := 1; i < len(vers); i++ { // vers[0] is current (or the newest left)
				v := vers[i]
				if v.IsLatest {
					continue
				}
				if r.gt != nil && v.Size <= *r.gt || r.lt != nil && v.Size >= *r.lt {
					continue
				}
				if kept < r.newer {
					kept++
					continue
				}
				// Noncurrent since its successor was written.
				since := vers[i-1].ModTime
				if now.Sub(since) >= time.Duration(r.days)*24*time.Hour {
					if s.removeVersion(ctx, bucket, key, v) {
						rep.Expired++
					}
				}
			}
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := s.store.ListObjectVersions(ctx, bucket, opts)
		if err != nil {
			return err
		}
		for _, v := range page.Versions {
			rep.Scanned++
			if v.Key != key {
				if err := flush(); err != nil {
					return err
				}
				key = v.Key
			}
			vers = append(vers, v)
		}
		if !page.IsTruncated {
			return flush()
		}
		opts.KeyMarker, opts.VersionIDMarker = page.NextKeyMarker, page.NextVersionIDMarker
	}
}

// removeVersion deletes one version by id, unless an object lock protects
// it or it changed; it reports whether it did.
func (s *Server) removeVersion(ctx context.Context, bucket, key string, v objectd.ObjectInfo) bool {
	locked := func(cur *objectd.ObjectInfo) error {
		if cur == nil || cur.Headers[hdrLegalHold] == "ON" {
			return errChangedSince
		}
		if until, err := time.Parse(time.RFC3339, cur.Headers[hdrLockUntil]); err == nil && until.After(s.now()) {
			return errChangedSince
		}
		return nil
	}
	_, err := s.store.DeleteObjectVersion(ctx, bucket, key, objectd.DeleteOptions{VersionID: v.VersionID, CheckVersion: locked})
	return err == nil
}
