package s3

import (
	"errors"
	"net/http"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// Tenancy: with a catalog configured, every access key acts for one
// project. Its requests see and reach only the buckets its project owns
// (the root credential and the cloud admin see every bucket); reading
// needs any role on the project, changing anything needs member or admin.
// Bucket names are one namespace across the cluster, as in S3 and as
// Swift containers share it: a name another project holds answers
// BucketAlreadyExists. Without a catalog, every signed request acts as
// the root credential.

// principal resolves who the verified request acts as.
func (q *request) principal() (identity.Principal, error) {
	if q.s.principal == nil {
		return identity.Principal{Root: true}, nil
	}
	p, err := q.s.principal(q.auth.AccessKey)
	if err != nil {
		return identity.Principal{}, ErrAccessDenied
	}
	return p, nil
}

// authorize checks that the request's principal may do what it asks to
// the bucket it names (and the source bucket of a copy).
func (q *request) authorize() error {
	p, err := q.principal()
	if err != nil {
		return err
	}
	q.who = p
	if q.s.catalog == nil || p.Root {
		return nil
	}
	write := q.r.Method != http.MethodGet && q.r.Method != http.MethodHead
	if write && !p.CanWrite() || !p.CanRead() {
		return ErrAccessDenied
	}
	if q.target.Bucket == "" || q.target.API == apiCreateBucket {
		return nil
	}
	v := q.s.catalog.View()
	if err := q.reach(v, q.target.Bucket); err != nil {
		return err
	}
	if h := q.r.Header.Get("X-Amz-Copy-Source"); h != "" && write {
		if cs, err := parseCopySource(h); err == nil {
			return q.reach(v, cs.Bucket)
		}
	}
	return nil
}

// reach refuses a bucket that another project owns; an unknown bucket is
// left for the store to answer NoSuchBucket.
func (q *request) reach(v *raftmap.View, bucket string) error {
	b, ok := v.Bucket(bucket)
	if ok && b.Owner != q.who.ProjectID {
		return ErrAccessDenied
	}
	return nil
}

// bucketList returns the buckets listed to the request's principal: with
// a catalog, the catalog's records (the same on every node) of its
// project, or all for the root; else the store's.
func (q *request) bucketList() ([]objectd.BucketInfo, error) {
	if q.s.catalog == nil {
		return q.s.store.ListBuckets(q.ctx)
	}
	owner := q.who.ProjectID
	if q.who.Root {
		owner = ""
	}
	var out []objectd.BucketInfo
	for _, b := range q.s.catalog.View().Buckets(owner) {
		if owner == "" || b.Owner == owner {
			out = append(out, objectd.BucketInfo{Name: b.Name, Created: b.Created})
		}
	}
	return out, nil
}

// makeBucket records the bucket in the catalog, owned by the principal's
// project (the cloud admin project for the root credential), then makes
// it in the store.
func (q *request) makeBucket() error {
	if q.s.catalog == nil {
		return q.s.store.MakeBucket(q.ctx, q.target.Bucket)
	}
	owner := q.who.ProjectID
	if q.who.Root && owner == "" {
		owner = q.s.catalog.AdminProject()
	}
	name := q.target.Bucket
	if err := q.s.catalog.CreateBucket(q.ctx, name, owner); err != nil {
		if !errors.Is(err, raftmap.ErrBucketExists) {
			return err
		}
		if b, _ := q.s.catalog.View().Bucket(name); b.Owner != owner {
			return ErrBucketAlreadyExists
		}
		return ErrBucketAlreadyOwnedByYou
	}
	if err := q.s.store.MakeBucket(q.ctx, name); err != nil && !errors.Is(err, objectd.ErrBucketExists) {
		_ = q.s.catalog.DeleteBucket(q.ctx, name)
		return err
	}
	return nil
}

// dropBucket removes an empty bucket from the store, then its record.
func (q *request) dropBucket() error {
	if err := q.s.store.DeleteBucket(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	if q.s.catalog == nil {
		return nil
	}
	if err := q.s.catalog.DeleteBucket(q.ctx, q.target.Bucket); err != nil && !errors.Is(err, raftmap.ErrNoSuchBucket) {
		return err
	}
	return nil
}
