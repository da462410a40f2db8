package swift

import (
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// checkObjectName checks the name of an object to create.
func checkObjectName(name string) error {
	if len(name) > MaxObjectNameLength {
		return failf(errBadRequest, "Object name length of %d longer than %d", len(name), MaxObjectNameLength)
	}
	return nil
}

// getObject answers GET and HEAD of an object.
func (q *request) getObject(head bool) error {
	b, err := q.container(q.cont, opRead)
	if err != nil {
		return err
	}
	manifest := q.query.Get("multipart-manifest") == "get"
	for attempt := 0; ; attempt++ {
		ct, err := q.openContent(b.Name, q.obj, manifest)
		if err != nil {
			return err
		}
		if manifest && isSLO(ct.info) && q.query.Get("format") == "raw" && !head {
			if err := q.rawManifest(ct); err != nil {
				return err
			}
		}
		q.objectHeaders(ct)
		err = q.sendContent(ct, head)
		if errors.Is(err, errVersionChanged) && !q.w.wrote && attempt < 3 {
			clearHeaders(q.w.Header())
			continue
		}
		if err != nil && !q.w.wrote && !errors.Is(err, errPreconditionFailed) && !errors.Is(err, errRangeNotSatisfiable) {
			clearHeaders(q.w.Header()) // the object's headers do not describe an error
		}
		return err
	}
}

// clearHeaders drops what a failed attempt set, keeping the transaction
// id.
func clearHeaders(h http.Header) {
	for k := range h {
		if k != "X-Trans-Id" && k != "X-Openstack-Request-Id" {
			delete(h, k)
		}
	}
}

// objectHeaders sets the headers of a GET or HEAD of ct.
func (q *request) objectHeaders(ct *content) {
	h := q.w.Header()
	oi := ct.info
	h.Set("Content-Type", ct.ctype)
	h.Set("Etag", ct.etag)
	h.Set("Last-Modified", lastModified(oi.ModTime).Format(http.TimeFormat))
	h.Set("X-Timestamp", swiftTimestamp(oi.ModTime))
	h.Set("Accept-Ranges", "bytes")
	for k, v := range oi.UserMeta {
		h.Set("X-Object-Meta-"+k, v)
	}
	for _, name := range contentHeaders {
		if v := oi.Headers[name]; v != "" {
			h.Set(name, v)
		}
	}
	for _, name := range []string{hdrDeleteAt, hdrManifest} {
		if v := oi.Headers[name]; v != "" {
			h.Set(name, v)
		}
	}
	if isSLO(oi) {
		h.Set(hdrSLO, "True")
		if ct.slo {
			h.Set("X-Manifest-Etag", oi.ETag)
		}
	}
}

// putOptions reads the metadata of a new object from the request.
func (q *request) putOptions() (objectd.PutOptions, error) {
	h := q.r.Header
	meta, err := objectUserMeta(h)
	if err != nil {
		return objectd.PutOptions{}, err
	}
	opts := objectd.PutOptions{ContentType: contentType(h, q.obj), UserMeta: meta, Headers: map[string]string{}}
	for _, name := range contentHeaders {
		if v := h.Get(name); v != "" {
			opts.Headers[name] = v
		}
	}
	at, err := deleteAt(h, q.s.now())
	if err != nil {
		return objectd.PutOptions{}, err
	}
	if at > 0 {
		opts.Headers[hdrDeleteAt] = strconv.FormatInt(at, 10)
	}
	if v := h.Get(hdrManifest); v != "" {
		if err := checkDLOManifest(v); err != nil {
			return objectd.PutOptions{}, err
		}
		opts.Headers[hdrManifest] = v
	}
	return opts, nil
}

// checkDLOManifest checks an X-Object-Manifest value: container/prefix.
func checkDLOManifest(v string) error {
	u, err := url.PathUnescape(v)
	c, _, ok := strings.Cut(strings.TrimPrefix(u, "/"), "/")
	if err != nil || !ok || c == "" {
		return failf(errBadRequest, "X-Object-Manifest must be in the format container/prefix")
	}
	return nil
}

// bodySize is the size of the request body: Content-Length, or -1 for
// a chunked body; neither is 411, too large is 413.
func (q *request) bodySize() (int64, error) {
	if len(q.r.TransferEncoding) > 0 && q.r.TransferEncoding[0] == "chunked" {
		return -1, nil
	}
	v := q.r.Header.Get("Content-Length")
	if v == "" {
		return 0, errLengthRequired
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, failf(errBadRequest, "Invalid Content-Length")
	}
	if n > q.s.lim.maxObjectSize {
		return 0, errTooLarge
	}
	return n, nil
}

// ifNoneMatch reads If-None-Match of a PUT: only "*" is allowed; it
// makes the write fail (412) when the object exists.
func (q *request) ifNoneMatch(bucket, key string, opts *objectd.PutOptions) error {
	v := q.r.Header.Get("If-None-Match")
	if v == "" {
		return nil
	}
	if strings.TrimSpace(v) != "*" {
		return failf(errBadRequest, "If-None-Match only supports *")
	}
	if oi, err := q.s.store.HeadObject(q.ctx, bucket, key); err == nil && !q.s.expired(oi) {
		return errPreconditionFailed
	}
	opts.Check = func(cur *objectd.ObjectInfo) error {
		if cur != nil && !q.s.expired(*cur) {
			return errPreconditionFailed
		}
		return nil
	}
	return nil
}

// putObject answers PUT of an object: a plain upload, a copy
// (X-Copy-From) or an SLO manifest (?multipart-manifest=put).
func (q *request) putObject() error {
	if v := q.r.Header.Get("X-Copy-From"); v != "" {
		if q.query.Get("multipart-manifest") == "put" {
			return failf(errMethodNotAllowed, "Multipart Manifest PUTs cannot be COPY requests")
		}
		return q.copyFrom(v, q.r.Header.Get("X-Copy-From-Account"), q.cont, q.obj)
	}
	b, err := q.container(q.cont, opWrite)
	if err != nil {
		return err
	}
	if err := checkObjectName(q.obj); err != nil {
		return err
	}
	if q.query.Get("multipart-manifest") == "put" {
		return q.putSLO(b)
	}
	size, err := q.bodySize()
	if err != nil {
		return err
	}
	opts, err := q.putOptions()
	if err != nil {
		return err
	}
	if v := q.r.Header.Get("Etag"); v != "" {
		sum, err := hex.DecodeString(trimETag(v))
		if err != nil || len(sum) != 16 {
			return errUnprocessable
		}
		opts.ContentMD5 = sum
	}
	if err := q.ifNoneMatch(b.Name, q.obj, &opts); err != nil {
		return err
	}
	body := io.Reader(q.r.Body)
	if size < 0 {
		sp, err := q.s.spoolBody(q.r.Body)
		if err != nil {
			return err
		}
		defer sp.Close()
		body, size = sp, sp.size
	}
	oi, err := q.s.store.PutObject(q.ctx, b.Name, q.obj, body, size, opts)
	if err != nil {
		return err
	}
	q.created(oi.ETag, oi)
	return nil
}

// created answers 201 for a stored object.
func (q *request) created(etag string, oi objectd.ObjectInfo) {
	h := q.w.Header()
	h.Set("Etag", etag)
	h.Set("Last-Modified", lastModified(oi.ModTime).Format(http.TimeFormat))
	q.sendBody(http.StatusCreated, "text/html; charset=UTF-8", nil)
}

// postObject answers POST of an object: its user metadata and content
// headers are replaced by the request's (Swift's fast POST); the data
// and large-object state stay. The store has no metadata-only write,
// so the object is rewritten onto itself, unless it changed meanwhile.
func (q *request) postObject() error {
	b, err := q.container(q.cont, opWrite)
	if err != nil {
		return err
	}
	h := q.r.Header
	meta, err := objectUserMeta(h)
	if err != nil {
		return err
	}
	at, err := deleteAt(h, q.s.now())
	if err != nil {
		return err
	}
	if v := h.Get(hdrManifest); v != "" {
		if err := checkDLOManifest(v); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		oi, rc, err := q.s.store.GetObject(q.ctx, b.Name, q.obj, objectd.GetOptions{Length: -1})
		if err != nil {
			return err
		}
		if q.s.expired(oi) {
			rc.Close()
			q.reap(b.Name, q.obj, oi)
			return errNotFound
		}
		opts := objectd.PutOptions{ContentType: oi.ContentType, UserMeta: meta, Headers: map[string]string{}}
		if v := h.Get("Content-Type"); v != "" {
			opts.ContentType = v
		}
		for _, name := range []string{hdrSLO, hdrSLOEtag, hdrSLOSize} {
			if v := oi.Headers[name]; v != "" {
				opts.Headers[name] = v
			}
		}
		for _, name := range append([]string{hdrManifest}, contentHeaders...) {
			if v := h.Get(name); v != "" {
				opts.Headers[name] = v
			}
		}
		if at > 0 {
			opts.Headers[hdrDeleteAt] = strconv.FormatInt(at, 10)
		}
		opts.Check = func(cur *objectd.ObjectInfo) error {
			if cur == nil || cur.ETag != oi.ETag || !cur.ModTime.Equal(oi.ModTime) {
				return errVersionChanged
			}
			return nil
		}
		_, err = q.s.store.PutObject(q.ctx, b.Name, q.obj, rc, oi.Size, opts)
		rc.Close()
		if errors.Is(err, errVersionChanged) && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		q.sendStatus(http.StatusAccepted)
		return nil
	}
}

// deleteObjectRequest answers DELETE of an object (with
// ?multipart-manifest=delete, of an SLO and its segments).
func (q *request) deleteObjectRequest() error {
	if q.query.Get("multipart-manifest") == "delete" {
		b, err := q.container(q.cont, opWrite)
		if err != nil {
			return err
		}
		return q.deleteSLO(b)
	}
	if err := q.deleteObject(q.cont, q.obj); err != nil {
		return err
	}
	q.sendStatus(http.StatusNoContent)
	return nil
}

// deleteObject removes an object, if the caller may; a missing object is
// 404.
func (q *request) deleteObject(cont, obj string) error {
	b, err := q.container(cont, opWrite)
	if err != nil {
		return err
	}
	return q.removeObject(b, obj)
}

func (q *request) removeObject(b raftmap.Bucket, obj string) error {
	oi, err := q.s.store.HeadObject(q.ctx, b.Name, obj)
	if err != nil {
		return err
	}
	if err := q.s.store.DeleteObject(q.ctx, b.Name, obj); err != nil {
		return err
	}
	if q.s.expired(oi) {
		return errNotFound
	}
	return nil
}
