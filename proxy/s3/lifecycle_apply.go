package s3

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
)

// lifecyclePage is how many objects or uploads one listing call of
// ApplyLifecycle asks for: its memory is bounded by a page, whatever the
// size of a bucket.
const lifecyclePage = 1000

// LifecycleReport says what one ApplyLifecycle pass did.
type LifecycleReport struct {
	Buckets int // buckets with at least one enabled rule
	Scanned int // objects looked at
	Expired int // objects deleted by an Expiration action
	Aborted int // multipart uploads aborted by an AbortIncompleteMultipartUpload action
}

// ApplyLifecycle carries out, as of now, the lifecycle rules of every bucket
// the catalog knows: for each enabled rule, it deletes the current objects
// its filter matches (key prefix, tags, size bounds) whose age from their
// modification time is at least Expiration Days, or all of them once now is
// past Expiration Date; and it aborts the multipart uploads under the
// rule's prefix initiated at least AbortIncompleteMultipartUpload
// DaysAfterInitiation ago. Ages count whole days of 24 hours from the
// modification time (S3 rounds the expiry up to the next midnight UTC;
// Basalt does not). In versioned buckets the versioning actions apply too
// (NoncurrentVersionExpiration, ExpiredObjectDeleteMarker; see
// lifecycle_versions.go).
//
// It lists through the store a page at a time, so its memory is bounded by
// a page. A bucket whose pass fails is reported in the joined error and the
// others are still done; cancelling ctx stops the pass. It starts no
// goroutine: the caller runs it on its own schedule, one pass at a time
// (two concurrent passes are safe but do the work twice). Without a
// catalog there are no rules and it does nothing.
func (s *Server) ApplyLifecycle(ctx context.Context, now time.Time) (LifecycleReport, error) {
	var rep LifecycleReport
	if s.catalog == nil {
		return rep, nil
	}
	view := s.catalog.View()
	var errs []error
	for _, b := range view.Buckets("") {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var cfg lifecycleConfig
		ok, err := catalog.BucketSetting(view, b.Name, settingLifecycle, &cfg)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var rules []*lifecycleRule
		for i := range cfg.Rules {
			if cfg.Rules[i].Status == "Enabled" {
				rules = append(rules, &cfg.Rules[i])
			}
		}
		if !ok || len(rules) == 0 {
			continue
		}
		rep.Buckets++
		err = s.expireObjects(ctx, b.Name, rules, now, &rep)
		if err == nil {
			err = s.abortUploads(ctx, b.Name, rules, now, &rep)
		}
		if err == nil && s.versioningOf(b.Name) != objectd.Unversioned {
			err = s.expireVersions(ctx, b.Name, rules, now, &rep) // lifecycle_versions.go
		}
		if err != nil && !errors.Is(err, objectd.ErrNoSuchBucket) {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("s3: lifecycle of bucket %s: %w", b.Name, err))
		}
	}
	return rep, errors.Join(errs...)
}

// expiring is an Expiration rule reduced to what decides it.
type expiring struct {
	prefix string
	tags   []tag
	gt, lt *int64
	days   int32     // > 0: an age in days
	date   time.Time // else: a date
}

// due reports whether an object of the given modification time and size,
// under the rule's prefix, has expired at now, tags aside.
func (e expiring) due(o objectd.ObjectInfo, now time.Time) bool {
	if e.gt != nil && o.Size <= *e.gt || e.lt != nil && o.Size >= *e.lt {
		return false
	}
	if e.days > 0 {
		return now.Sub(o.ModTime) >= time.Duration(e.days)*24*time.Hour
	}
	return !now.Before(e.date)
}

// hasTags reports whether every tag of want is among have.
func hasTags(have, want []tag) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// scanPrefixes reduces a set of key prefixes to those not under another,
// so that listing each once visits every key under any exactly once.
func scanPrefixes(prefixes []string) []string {
	sort.Strings(prefixes)
	var out []string
	for _, p := range prefixes {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// expireObjects deletes the bucket's current objects that an Expiration
// rule has made due.
func (s *Server) expireObjects(ctx context.Context, bucket string, rules []*lifecycleRule, now time.Time, rep *LifecycleReport) error {
	var exps []expiring
	var prefixes []string
	for _, r := range rules {
		e := r.Expiration
		if e == nil || (e.Days == nil && e.Date == nil) {
			continue
		}
		x := expiring{}
		x.prefix, x.tags, x.gt, x.lt = r.filter()
		if e.Days != nil {
			x.days = *e.Days
		} else {
			t, err := parseLifecycleDate(*e.Date)
			if err != nil {
				continue // refused when stored; not expected
			}
			x.date = t
		}
		exps = append(exps, x)
		prefixes = append(prefixes, x.prefix)
	}
	for _, p := range scanPrefixes(prefixes) {
		after := ""
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			res, err := s.store.ListObjects(ctx, bucket, objectd.ListOptions{Prefix: p, After: after, MaxKeys: lifecyclePage})
			if err != nil {
				return err
			}
			for _, o := range res.Objects {
				rep.Scanned++
				done, err := s.expireObject(ctx, bucket, o, exps, now)
				if err != nil {
					return err
				}
				if done {
					rep.Expired++
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

// errChangedSince: the object changed between the look and the delete.
var errChangedSince = errors.New("s3: object changed since it was looked at")

// expireObject deletes o if a rule has made it due, and reports whether
// it did. The object is looked at again just before the delete: one
// written since it was listed is left alone.
func (s *Server) expireObject(ctx context.Context, bucket string, o objectd.ObjectInfo, exps []expiring, now time.Time) (bool, error) {
	var cur *objectd.ObjectInfo
	for _, e := range exps {
		if !strings.HasPrefix(o.Key, e.prefix) || !e.due(o, now) {
			continue
		}
		if cur == nil {
			info, err := s.store.HeadObject(ctx, bucket, o.Key)
			if errors.Is(err, objectd.ErrNoSuchKey) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if !info.ModTime.Equal(o.ModTime) || info.ETag != o.ETag {
				return false, nil
			}
			cur = &info
		}
		if !hasTags(objectTags(*cur), e.tags) {
			continue
		}
		// The delete happens only if the object is still the version
		// looked at: a PUT landing meanwhile is left alone.
		seen := *cur
		unchanged := func(now *objectd.ObjectInfo) error {
			if now == nil || now.VersionID != seen.VersionID || !now.ModTime.Equal(seen.ModTime) || now.ETag != seen.ETag {
				return errChangedSince
			}
			return nil
		}
		// In a versioned bucket the expiry is a delete marker.
		_, err := s.store.DeleteObjectVersion(ctx, bucket, o.Key, objectd.DeleteOptions{Check: unchanged, Versioning: s.versioningOf(bucket)})
		if errors.Is(err, errChangedSince) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// abortUploads aborts the bucket's multipart uploads that an
// AbortIncompleteMultipartUpload rule has made due.
func (s *Server) abortUploads(ctx context.Context, bucket string, rules []*lifecycleRule, now time.Time, rep *LifecycleReport) error {
	type aborting struct {
		prefix string
		days   int32
	}
	var abs []aborting
	var prefixes []string
	for _, r := range rules {
		a := r.AbortIncompleteMultipartUpload
		if a == nil || a.DaysAfterInitiation == nil {
			continue
		}
		p, _, _, _ := r.filter()
		abs = append(abs, aborting{prefix: p, days: *a.DaysAfterInitiation})
		prefixes = append(prefixes, p)
	}
	for _, p := range scanPrefixes(prefixes) {
		opts := objectd.ListUploadsOptions{Prefix: p, MaxUploads: lifecyclePage}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			res, err := s.store.ListMultipartUploads(ctx, bucket, opts)
			if err != nil {
				return err
			}
			for _, u := range res.Uploads {
				for _, a := range abs {
					if !strings.HasPrefix(u.Key, a.prefix) || now.Sub(u.Initiated) < time.Duration(a.days)*24*time.Hour {
						continue
					}
					err := s.store.AbortMultipartUpload(ctx, bucket, u.Key, u.UploadID)
					if err != nil && !errors.Is(err, objectd.ErrNoSuchUpload) {
						return err
					}
					if err == nil {
						rep.Aborted++
					}
					break
				}
			}
			if !res.IsTruncated {
				break
			}
			opts.KeyMarker, opts.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
		}
	}
	return nil
}
