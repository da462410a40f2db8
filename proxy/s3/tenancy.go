package s3

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// Tenancy: with a catalog configured, every access key acts for one
// project. Its project owns the buckets it creates; other projects reach
// them only as the bucket's policy and ACLs allow (access.go), and the
// anonymous only what they grant to everyone. Reading needs any role on
// the project, changing anything needs member or admin, wherever the key
// goes. The root credential and the cloud admin see and reach every
// bucket. Bucket names are one namespace across the cluster, as in S3 and
// as Swift containers share it: a name another project holds answers
// BucketAlreadyExists. Without a catalog, every signed request acts as
// the root credential, and the anonymous get what object ACLs grant.

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

// authorize checks that the request's principal (or the anonymous) may do
// what it asks to the bucket or object it names, and to the source of a
// copy.
func (q *request) authorize() error {
	if q.anonymous() {
		q.who = identity.Principal{}
	} else {
		p, err := q.principal()
		if err != nil {
			return err
		}
		q.who = p
	}
	if q.who.Root {
		return nil
	}
	if q.r.Method == http.MethodOptions {
		return nil // a CORS preflight carries no credentials: the bucket's CORS rules decide
	}
	write := q.r.Method != http.MethodGet && q.r.Method != http.MethodHead
	if !q.anonymous() && (write && !q.who.CanWrite() || !q.who.CanRead()) {
		return ErrAccessDenied
	}
	if q.target.Bucket == "" || q.target.API == apiCreateBucket {
		if q.anonymous() {
			return ErrAccessDenied
		}
		return nil
	}
	object := q.target.Key != ""
	action := iamAction(q.r.Method, object, q.query)
	if action != "" || q.target.API != apiDeleteObjects {
		// DeleteObjects is decided key by key (authorizeKey).
		if err := q.allowed(q.target.Bucket, q.target.Key, action); err != nil {
			return err
		}
	}
	if !object || q.r.Method != http.MethodPut && q.target.API != apiCreateMultipartUpload {
		return nil
	}
	if h := q.r.Header.Get("X-Amz-Copy-Source"); h != "" && q.r.Method == http.MethodPut {
		if cs, err := parseCopySource(h); err == nil {
			if err := q.allowed(cs.Bucket, cs.Key, "s3:GetObject"); err != nil {
				return err
			}
		}
	}
	if hasACLHeaders(q.r.Header) {
		// The writer owns what it writes and may set its ACL, unless the
		// policy denies it.
		return q.denied(q.target.Bucket, q.target.Key, "s3:PutObjectAcl")
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
	// The list is the catalog's as of now: a node cut off from the
	// catalog's majority answers 503 rather than a list that may be stale.
	sctx, cancel := context.WithTimeout(q.ctx, 5*time.Second)
	defer cancel()
	if err := q.s.catalog.Sync(sctx); err != nil {
		return nil, ErrServiceUnavailable.withMessage("The bucket list cannot be read now: the catalog cannot reach its majority.")
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
	acl, ownership, err := q.createBucketAccess()
	if err != nil {
		return err
	}
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
	return q.storeCreateBucketAccess(acl, ownership)
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
