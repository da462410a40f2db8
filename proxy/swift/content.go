package swift

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/objectd"
)

// piece is a part of one stored object (or bytes in memory) read as part
// of a response.
type piece struct {
	bucket, key string
	etag        string // the ETag the object must have ("" = any)
	size        int64  // the size the object must have (-1 = any)
	off, n      int64
	data        []byte // when set, the piece is these bytes
	segment     bool   // a segment of a large object: missing or changed is 409
}

// content is an object as a client reads it: a stored object, or the
// concatenation of the segments of a large object.
type content struct {
	info  objectd.ObjectInfo // the stored object (the manifest of a large object)
	size  int64              // bytes a GET returns
	etag  string             // ETag header value (quoted for large objects)
	ctype string             // Content-Type header value
	slo   bool               // served as a static large object
	// plan returns the pieces of n bytes from off.
	plan func(off, n int64) ([]piece, error)
}

// errorsIsMissing reports a missing object or bucket.
func errorsIsMissing(err error) bool {
	return errors.Is(err, objectd.ErrNoSuchKey) || errors.Is(err, objectd.ErrNoSuchBucket)
}

func isVersionChanged(err error) bool { return errors.Is(err, errVersionChanged) }

// match is the ETag conditions compare with.
func (c *content) match() string { return trimETag(c.etag) }

// isTrue is Swift's config_true_value.
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on", "t", "y":
		return true
	}
	return false
}

func isSLO(oi objectd.ObjectInfo) bool { return isTrue(oi.Headers[hdrSLO]) }

// openContent looks an object up and describes what a GET returns: with
// manifest set, the stored object itself even when it is a manifest.
// An object past its X-Delete-At is removed and reported missing.
func (q *request) openContent(bucket, key string, manifest bool) (*content, error) {
	oi, err := q.s.store.HeadObject(q.ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	if q.s.expired(oi) {
		q.reap(bucket, key, oi)
		return nil, objectd.ErrNoSuchKey
	}
	switch {
	case !manifest && isSLO(oi):
		return q.sloContent(bucket, key, oi)
	case !manifest && oi.Headers[hdrManifest] != "":
		return q.dloContent(oi)
	}
	ct := &content{info: oi, size: oi.Size, etag: oi.ETag, ctype: oi.ContentType}
	if ct.ctype == "" {
		ct.ctype = "application/octet-stream"
	}
	if manifest && isSLO(oi) {
		ct.ctype = "application/json; charset=utf-8"
	}
	ct.plan = func(off, n int64) ([]piece, error) {
		if n <= 0 {
			return nil, nil
		}
		return []piece{{bucket: bucket, key: key, etag: oi.ETag, size: oi.Size, off: off, n: n}}, nil
	}
	return ct, nil
}

// reap removes an expired object, unless it changed since it was seen.
func (q *request) reap(bucket, key string, seen objectd.ObjectInfo) {
	cur, err := q.s.store.HeadObject(q.ctx, bucket, key)
	if err != nil || cur.ETag != seen.ETag || !cur.ModTime.Equal(seen.ModTime) {
		return
	}
	if err := q.s.store.DeleteObject(q.ctx, bucket, key); err != nil {
		q.s.log.Warn("swift: removing an expired object", "bucket", bucket, "key", key, "err", err)
	}
}

// pieceReader reads pieces in order, opening each stored object when it
// is reached and checking it is still the version the plan was made of.
type pieceReader struct {
	ctx    context.Context
	store  *objectd.Store
	pieces []piece
	i      int
	cur    io.ReadCloser
}

func newPieceReader(ctx context.Context, store *objectd.Store, pieces []piece) *pieceReader {
	return &pieceReader{ctx: ctx, store: store, pieces: pieces}
}

// open opens the current piece.
func (p *pieceReader) open() error {
	pc := p.pieces[p.i]
	if pc.data != nil {
		p.cur = io.NopCloser(bytes.NewReader(pc.data[pc.off : pc.off+pc.n]))
		return nil
	}
	oi, rc, err := p.store.GetObject(p.ctx, pc.bucket, pc.key, objectd.GetOptions{Offset: pc.off, Length: pc.n})
	if err != nil {
		if pc.segment && (errors.Is(err, objectd.ErrNoSuchKey) || errors.Is(err, objectd.ErrNoSuchBucket)) {
			return failf(errConflict, "Segment /%s/%s is missing", pc.bucket, pc.key)
		}
		return err
	}
	if (pc.etag != "" && oi.ETag != pc.etag) || (pc.size >= 0 && oi.Size != pc.size) {
		rc.Close()
		if pc.segment {
			return failf(errConflict, "Segment /%s/%s changed: ETag %s, %d bytes; the manifest says %s, %d bytes", pc.bucket, pc.key, oi.ETag, oi.Size, pc.etag, pc.size)
		}
		return errVersionChanged
	}
	p.cur = rc
	return nil
}

// prime opens the first piece, so that a missing or changed one is
// reported before the response starts.
func (p *pieceReader) prime() error {
	if len(p.pieces) == 0 || p.cur != nil {
		return nil
	}
	return p.open()
}

func (p *pieceReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if p.i >= len(p.pieces) {
				return 0, io.EOF
			}
			if err := p.open(); err != nil {
				return 0, err
			}
		}
		n, err := p.cur.Read(b)
		if err == io.EOF {
			p.cur.Close()
			p.cur = nil
			p.i++
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// WriteTo copies every piece to w, letting each stored object's reader
// write directly.
func (p *pieceReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for p.i < len(p.pieces) {
		if p.cur == nil {
			if err := p.open(); err != nil {
				return total, err
			}
		}
		n, err := io.Copy(w, p.cur)
		total += n
		if err != nil {
			return total, err
		}
		if n != p.pieces[p.i].n {
			return total, fmt.Errorf("%w: /%s/%s gave %d of %d bytes", errInternal, p.pieces[p.i].bucket, p.pieces[p.i].key, n, p.pieces[p.i].n)
		}
		p.cur.Close()
		p.cur = nil
		p.i++
	}
	return total, nil
}

func (p *pieceReader) Close() error {
	if p.cur != nil {
		err := p.cur.Close()
		p.cur = nil
		return err
	}
	return nil
}

// sendContent answers a GET or HEAD of ct: conditions, then the whole
// object, one range (206) or several (206, multipart/byteranges). The
// object's headers are already set.
func (q *request) sendContent(ct *content, head bool) error {
	h := q.w.Header()
	switch checkConditions(q.r, ct.match(), lastModified(ct.info.ModTime)) {
	case http.StatusNotModified:
		h.Del("Content-Type")
		q.w.WriteHeader(http.StatusNotModified)
		return nil
	case http.StatusPreconditionFailed:
		return errPreconditionFailed
	}
	var ranges []byteRange
	if specs, ok := parseRangeHeader(q.r.Header.Get("Range")); ok {
		ranges = forLength(specs, ct.size)
		if len(ranges) == 0 {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", ct.size))
			return errRangeNotSatisfiable
		}
	}
	switch len(ranges) {
	case 0:
		return q.sendPieces(ct, http.StatusOK, 0, ct.size, head)
	case 1:
		r := ranges[0]
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", r.first, r.last, ct.size))
		return q.sendPieces(ct, http.StatusPartialContent, r.first, r.length(), head)
	}
	return q.sendMultiRange(ct, ranges, head)
}

// sendPieces sends n bytes of ct from off with status.
func (q *request) sendPieces(ct *content, status int, off, n int64, head bool) error {
	h := q.w.Header()
	if head {
		h.Set("Content-Length", strconv.FormatInt(n, 10))
		q.w.WriteHeader(status)
		return nil
	}
	pieces, err := ct.plan(off, n)
	if err != nil {
		return err
	}
	pr := newPieceReader(q.ctx, q.s.store, pieces)
	defer pr.Close()
	if err := pr.prime(); err != nil {
		return err
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	q.w.WriteHeader(status)
	_, err = io.Copy(q.w, pr)
	return err
}

// sendMultiRange sends several ranges as multipart/byteranges.
func (q *request) sendMultiRange(ct *content, ranges []byteRange, head bool) error {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	boundary := hex.EncodeToString(b)
	heads := make([]string, len(ranges))
	total := int64(0)
	for i, r := range ranges {
		heads[i] = fmt.Sprintf("--%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n", boundary, ct.ctype, r.first, r.last, ct.size)
		total += int64(len(heads[i])) + r.length() + 2
	}
	tail := "--" + boundary + "--"
	total += int64(len(tail))
	h := q.w.Header()
	h.Set("Content-Type", "multipart/byteranges;boundary="+boundary)
	h.Set("Content-Length", strconv.FormatInt(total, 10))
	if head {
		q.w.WriteHeader(http.StatusPartialContent)
		return nil
	}
	plans := make([][]piece, len(ranges))
	for i, r := range ranges {
		p, err := ct.plan(r.first, r.length())
		if err != nil {
			return err
		}
		plans[i] = p
	}
	first := newPieceReader(q.ctx, q.s.store, plans[0])
	if err := first.prime(); err != nil {
		first.Close()
		return err
	}
	q.w.WriteHeader(http.StatusPartialContent)
	for i := range ranges {
		pr := first
		if i > 0 {
			pr = newPieceReader(q.ctx, q.s.store, plans[i])
		}
		if _, err := io.WriteString(q.w, heads[i]); err != nil {
			pr.Close()
			return err
		}
		_, err := io.Copy(q.w, pr)
		pr.Close()
		if err != nil {
			return err
		}
		if _, err := io.WriteString(q.w, "\r\n"); err != nil {
			return err
		}
	}
	_, err := io.WriteString(q.w, tail)
	return err
}
