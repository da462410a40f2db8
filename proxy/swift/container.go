package swift

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// stats are the object count and bytes of a container.
type stats struct{ count, bytes int64 }

// containerStats counts a container's objects and bytes by listing it
// whole (the store keeps no counters yet): O(objects).
func (s *Server) containerStats(ctx context.Context, bucket string) (stats, error) {
	var st stats
	err := s.scan(ctx, bucket, "", "", "", func(e listEntry) bool {
		st.count++
		st.bytes += e.obj.Size
		return true
	})
	if errors.Is(err, objectd.ErrNoSuchBucket) {
		err = nil
	}
	return st, err
}

// isOwner reports whether the caller manages container b (may see its
// ACLs and TempURL keys).
func (q *request) isOwner(b raftmap.Bucket) bool {
	return q.caller.ownerRight(b.Owner, opAdmin)
}

// containerHeaders sets the headers of a container HEAD or GET.
func (q *request) containerHeaders(b raftmap.Bucket, st stats) {
	h := q.w.Header()
	h.Set("X-Container-Object-Count", strconv.FormatInt(st.count, 10))
	h.Set("X-Container-Bytes-Used", strconv.FormatInt(st.bytes, 10))
	h.Set("X-Timestamp", swiftTimestamp(b.Created))
	h.Set("X-Put-Timestamp", swiftTimestamp(b.Created))
	h.Set("X-Storage-Policy", "default")
	h.Set("Last-Modified", lastModified(b.Created).Format(http.TimeFormat))
	writeMetaHeaders(h, b.Meta, q.isOwner(b))
}

// getContainer answers GET (a listing) and HEAD of a container.
func (q *request) getContainer(head bool) error {
	b, err := q.container(q.cont, opList)
	if err != nil {
		return err
	}
	p, err := q.readListParams(true)
	if err != nil {
		return err
	}
	st, err := q.s.containerStats(q.ctx, b.Name)
	if err != nil {
		return err
	}
	if _, err := q.s.store.BucketInfo(q.ctx, b.Name); err != nil {
		return err
	}
	q.containerHeaders(b, st)
	if head {
		q.w.Header().Set("Content-Type", p.format+"; charset=utf-8")
		q.sendStatus(http.StatusNoContent)
		return nil
	}
	entries, err := selectEntries(p, func(after string, fn func(listEntry) bool) error {
		return q.s.scan(q.ctx, b.Name, p.prefix, p.delimiter, after, fn)
	})
	if err != nil {
		return err
	}
	if p.format != "text/plain" {
		if entries, err = q.s.describe(q.ctx, b.Name, entries); err != nil {
			return err
		}
	}
	q.sendListing(p.format, containerListing(p.format, b.Name, entries))
	return nil
}

// putContainer answers PUT of a container: 201 when created, 202 when
// the caller's project already has it (its metadata is updated), 409
// when another project has the name. Names follow objectd.ValidContainerName
// (Swift's rule); only those that also follow S3's are reachable through S3.
func (q *request) putContainer() error {
	if _, err := q.account(opAdmin); err != nil {
		return err
	}
	if err := objectd.ValidContainerName(q.cont); err != nil {
		why := strings.TrimPrefix(err.Error(), fmt.Sprintf("%s: container name %q ", objectd.ErrInvalidArgument, q.cont))
		return failf(errBadRequest, "Container name %q is not valid: it %s", q.cont, why)
	}
	_, b, exists := q.bucket(q.cont)
	set, remove, err := metaUpdate(q.r.Header, "container", b.Meta)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if exists && b.Owner != q.acct {
		return failf(errConflict, "Container name %q is taken by another account; container names are global", q.cont)
	}
	if !exists {
		err := q.s.cat.CreateBucket(q.ctx, q.cont, q.acct)
		switch {
		case errors.Is(err, raftmap.ErrBucketExists):
			if b, ok := q.s.cat.View().Bucket(q.cont); !ok || b.Owner != q.acct {
				return failf(errConflict, "Container name %q is taken by another account; container names are global", q.cont)
			}
		case err != nil:
			return err
		default:
			status = http.StatusCreated
		}
	}
	if err := q.s.store.MakeBucket(q.ctx, q.cont); err != nil && !errors.Is(err, objectd.ErrBucketExists) {
		return err
	}
	if len(set) > 0 || len(remove) > 0 {
		if err := q.s.cat.SetBucketMeta(q.ctx, q.cont, set, remove); err != nil {
			return err
		}
	}
	q.sendStatus(status)
	return nil
}

// postContainer answers POST of a container: its metadata and ACLs.
func (q *request) postContainer() error {
	b, err := q.container(q.cont, opAdmin)
	if err != nil {
		return err
	}
	set, remove, err := metaUpdate(q.r.Header, "container", b.Meta)
	if err != nil {
		return err
	}
	if len(set) > 0 || len(remove) > 0 {
		if err := q.s.cat.SetBucketMeta(q.ctx, b.Name, set, remove); err != nil {
			return err
		}
	}
	q.sendStatus(http.StatusNoContent)
	return nil
}

// deleteContainerRequest answers DELETE of a container.
func (q *request) deleteContainerRequest() error {
	if err := q.deleteContainer(q.cont); err != nil {
		return err
	}
	q.sendStatus(http.StatusNoContent)
	return nil
}

// deleteContainer removes an empty container: its bucket, then its
// record (409 while it holds objects).
func (q *request) deleteContainer(name string) error {
	b, err := q.container(name, opAdmin)
	if err != nil {
		return err
	}
	err = q.s.store.DeleteBucket(q.ctx, b.Name)
	if errors.Is(err, objectd.ErrBucketNotEmpty) {
		return errConflict
	}
	if err != nil && !errors.Is(err, objectd.ErrNoSuchBucket) {
		return err
	}
	if err := q.s.cat.DeleteBucket(q.ctx, b.Name); err != nil {
		if errors.Is(err, raftmap.ErrNoSuchBucket) {
			return errNotFound
		}
		return err
	}
	return nil
}
