package s3

import (
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/objectd/checksum"
)

// copyBuffers hold the buffers GET responses are copied through.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// errNotModified ends a GET or HEAD whose If-None-Match or
// If-Modified-Since condition says the client's copy is current.
var errNotModified = errors.New("s3: not modified")

// requestBody is the authenticated body, never nil.
func (q *request) requestBody() io.Reader {
	if q.body == nil {
		return http.NoBody
	}
	return q.body
}

// writeConditions turns the If-Match / If-None-Match headers of a write
// into an object-layer check: If-None-Match "*" fails when the key exists,
// If-Match fails when it does not hold the given entity tag.
func writeConditions(h http.Header) (func(*objectd.ObjectInfo) error, error) {
	ifMatch, ifNoneMatch := h.Get("If-Match"), h.Get("If-None-Match")
	if ifMatch == "" && ifNoneMatch == "" {
		return nil, nil
	}
	// If-None-Match: "*" refuses any current object, an entity tag (or a
	// list of them) one whose tag matches.
	anyTag := strings.TrimSpace(ifNoneMatch) == "*"
	return func(cur *objectd.ObjectInfo) error {
		if ifNoneMatch != "" && cur != nil && (anyTag || etagMatches(ifNoneMatch, clientETag(*cur))) {
			return ErrPreconditionFailed
		}
		if ifMatch != "" {
			if cur == nil {
				return ErrNoSuchKey
			}
			if !etagMatches(ifMatch, clientETag(*cur)) {
				return ErrPreconditionFailed
			}
		}
		return nil
	}, nil
}

func (q *request) putObject() error {
	h := q.r.Header
	opts, err := readObjectMeta(h)
	if err != nil {
		return err
	}
	enc, err := q.writeEncryption(h) // sse.go
	if err != nil {
		return err
	}
	if err := putTagging(h, &opts); err != nil {
		return err
	}
	if err := q.setObjectACL(h, &opts); err != nil { // acl.go
		return err
	}
	if err := q.applyObjectLock(h, &opts); err != nil { // objectlock.go
		return err
	}
	if opts.ContentMD5, err = readContentMD5(h); err != nil {
		return err
	}
	want, err := readBodyChecksum(h)
	if err != nil {
		return err
	}
	if opts.Check, err = writeConditions(h); err != nil {
		return err
	}
	size := q.auth.ContentLength
	if size < 0 {
		return ErrMissingContentLength
	}
	if size > objectd.MaxPartSize {
		return ErrEntityTooLarge
	}
	body, sum := verifiedBody(q.requestBody(), want, defaultAlgorithm(want, ""), q.auth.Trailer)
	opts.Checksum = sum
	opts.Versioning = q.versioning()
	k, err := q.newKey(enc, &opts, q.target.Bucket, q.target.Key)
	if err != nil {
		return err
	}
	rd, storeMD5 := sealBody(body, size, k, 1, opts.ContentMD5, plainETagSetter(k, opts.Headers))
	opts.ContentMD5 = storeMD5
	info, err := q.s.store.PutObject(q.ctx, q.target.Bucket, q.target.Key, rd, size, opts)
	if err != nil {
		return err
	}
	hd := q.w.Header()
	hd.Set("ETag", quote(clientETag(info)))
	setSSEResponse(hd, k)
	q.setVersionHeaders(hd, info, false)
	cs := info.Checksum
	if cs.Value == "" && sum != nil {
		cs = sum()
	}
	setChecksumHeaders(hd, cs)
	q.writeEmpty(http.StatusOK)
	return nil
}

// fetch gets an object's info and a reader of the selected bytes, the range
// being resolved against the object's size. sel returns the offset and
// length to read given the info; nil selects the whole object. Since the
// size is only known from a first look, the object is read again if it
// changed in between.
func (q *request) fetch(bucket, key, vid string, sel func(objectd.ObjectInfo) (int64, int64, error), head bool) (objectd.ObjectInfo, io.ReadCloser, int64, int64, error) {
	if sel == nil {
		if head {
			info, err := q.s.store.HeadObjectVersion(q.ctx, bucket, key, vid)
			return info, nil, 0, info.Size, err
		}
		info, rc, err := q.s.store.GetObject(q.ctx, bucket, key, objectd.GetOptions{Offset: 0, Length: -1, VersionID: vid})
		return info, rc, 0, info.Size, err
	}
	for attempt := 0; ; attempt++ {
		info, err := q.s.store.HeadObjectVersion(q.ctx, bucket, key, vid)
		if err != nil {
			return info, nil, 0, 0, err
		}
		q.w.haveSize, q.w.objectSize = true, info.Size
		off, n, err := sel(info)
		if err != nil {
			return info, nil, 0, 0, err
		}
		if head {
			return info, nil, off, n, nil
		}
		got, rc, err := q.s.store.GetObject(q.ctx, bucket, key, objectd.GetOptions{Offset: off, Length: n, VersionID: vid})
		if err != nil {
			return got, nil, 0, 0, err
		}
		if got.ETag == info.ETag && got.ModTime.Equal(info.ModTime) && got.Size == info.Size {
			return got, rc, off, n, nil
		}
		rc.Close()
		if attempt == 2 {
			return got, nil, 0, 0, ErrServiceUnavailable.withMessage("The object changed while it was being read. Please retry.")
		}
	}
}

// partRange is the offset and length of part n of an object.
func partRange(info objectd.ObjectInfo, n int) (int64, int64, error) {
	if len(info.Parts) == 0 {
		if n != 1 {
			return 0, 0, ErrInvalidPartNumber
		}
		return 0, info.Size, nil
	}
	if n > len(info.Parts) {
		return 0, 0, ErrInvalidPartNumber
	}
	var off int64
	for _, p := range info.Parts[:n-1] {
		off += p.Size
	}
	return off, info.Parts[n-1].Size, nil
}

// getObject answers GetObject, or HeadObject when head is set.
func (q *request) getObject(head bool) error {
	h := q.r.Header
	if err := refuseSSEOnRead(h); err != nil { // sse.go
		return err
	}
	ck, err := parseCustomerKey(h, false)
	if err != nil {
		return err
	}
	conds := readConditions(h, "")
	rangeHeader := h.Get("Range")
	rng, hasRange := parseRange(rangeHeader)
	partNumber := 0
	if _, ok := q.query["partNumber"]; ok {
		n, err := parsePartNumber(q.query.Get("partNumber"))
		if err != nil {
			return err
		}
		if rangeHeader != "" {
			return ErrRangeAndPartNumber
		}
		partNumber = n
	}
	// Conditions come before the range: a failed precondition is answered
	// even when the range is not satisfiable.
	checkConds := func(info objectd.ObjectInfo) error {
		switch conds.evaluate(clientETag(info), info.ModTime) {
		case condPreconditionFailed:
			return ErrPreconditionFailed
		case condNotModified:
			return errNotModified
		}
		return nil
	}
	var sel func(objectd.ObjectInfo) (int64, int64, error)
	switch {
	case partNumber > 0:
		sel = func(info objectd.ObjectInfo) (int64, int64, error) {
			if err := checkConds(info); err != nil {
				return 0, 0, err
			}
			return partRange(info, partNumber)
		}
	case hasRange:
		sel = func(info objectd.ObjectInfo) (int64, int64, error) {
			if err := checkConds(info); err != nil {
				return 0, 0, err
			}
			return rng.resolve(info.Size)
		}
	}
	vid, _ := q.versionID() // checked in run
	info, rc, off, n, err := q.fetch(q.target.Bucket, q.target.Key, vid, sel, head)
	if err == nil && sel == nil {
		err = checkConds(info)
	}
	hd := q.w.Header()
	if rc != nil {
		defer rc.Close()
	}
	if errors.Is(err, errNotModified) {
		hd.Set("ETag", quote(clientETag(info)))
		hd.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
		q.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err != nil {
		return q.versionErr(info, err) // versioning.go
	}
	k, err := q.s.openObjectKey(info.Headers, ck, q.target.Bucket, q.target.Key) // sse.go
	if err != nil {
		return err
	}
	setObjectHeaders(hd, info)
	setSSEResponse(hd, k)
	_, asked := q.query["versionId"]
	q.setVersionHeaders(hd, info, asked)
	if partNumber == 0 {
		hd.Del("X-Amz-Mp-Parts-Count")
	}
	applyResponseOverrides(hd, q.query)
	checksumMode := strings.EqualFold(h.Get("X-Amz-Checksum-Mode"), "ENABLED")
	status := http.StatusOK
	switch {
	case partNumber > 0:
		if checksumMode && len(info.Parts) >= partNumber {
			setChecksumHeaders(hd, info.Parts[partNumber-1].Checksum)
		} else if checksumMode && len(info.Parts) == 0 {
			setChecksumHeaders(hd, info.Checksum)
		}
		if info.Size > 0 {
			status = http.StatusPartialContent
			hd.Set("Content-Range", "bytes "+itoa(off)+"-"+itoa(off+n-1)+"/"+itoa(info.Size))
		}
	case hasRange:
		status = http.StatusPartialContent
		hd.Set("Content-Range", "bytes "+itoa(off)+"-"+itoa(off+n-1)+"/"+itoa(info.Size))
	default:
		if checksumMode {
			setChecksumHeaders(hd, info.Checksum)
		}
	}
	hd.Set("Content-Length", itoa(n))
	q.w.WriteHeader(status)
	if head || rc == nil {
		return nil
	}
	var written int64
	if wt, ok := rc.(io.WriterTo); ok && k == nil {
		// The store's reader writes its shards' blocks straight to the
		// connection: no copy through a buffer here.
		written, err = wt.WriteTo(&cappedWriter{w: q.w, left: n})
	} else {
		bp := copyBuffers.Get().(*[]byte)
		defer copyBuffers.Put(bp)
		var body io.Reader = rc
		if k != nil {
			body = k.decrypt(rc, info, off)
		}
		written, err = io.CopyBuffer(q.w, io.LimitReader(body, n), *bp)
	}
	if err != nil || written != n {
		// The status line is out: the short body (Content-Length is set)
		// makes the connection close, which the client sees as an error.
		q.s.log.Warn("s3: GET body cut short", "bucket", q.target.Bucket, "key", q.target.Key,
			"request_id", q.id, "written", written, "want", n, "err", err)
	}
	return nil
}

// cappedWriter passes at most left bytes to w, failing a write beyond
// them: a body never outgrows its Content-Length.
type cappedWriter struct {
	w    io.Writer
	left int64
}

var errResponseTooLong = errors.New("s3: response body longer than its Content-Length")

func (c *cappedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		n, err := c.w.Write(p[:c.left])
		c.left -= int64(n)
		if err == nil {
			err = errResponseTooLong
		}
		return n, err
	}
	n, err := c.w.Write(p)
	c.left -= int64(n)
	return n, err
}

func (q *request) deleteObject() error {
	return q.deleteVersioned() // versioning.go
}

// copyChecksum picks the checksum to compute for a copy: the algorithm the
// request names, else the source's own full-object algorithm (whose value
// then also verifies the bytes read).
func copyChecksum(h http.Header, src objectd.ObjectInfo) (checksum.Algorithm, *bodyChecksum, error) {
	if v := h.Get("X-Amz-Checksum-Algorithm"); v != "" {
		a, err := checksum.Parse(v)
		if err != nil {
			return "", nil, ErrInvalidChecksumAlgorithm
		}
		if string(a) == src.Checksum.Algorithm && src.Checksum.Type == typeFullObject && a.Valid(src.Checksum.Value) {
			return a, &bodyChecksum{Alg: a, Value: src.Checksum.Value}, nil
		}
		return a, nil, nil
	}
	// The copy keeps the source's algorithm, as a FULL_OBJECT checksum: a
	// full-object value is verified on the way, a composite one (of a
	// multipart source) is computed afresh over the whole object.
	a, err := checksum.Parse(src.Checksum.Algorithm)
	if err != nil {
		return "", nil, nil
	}
	if (src.Checksum.Type == typeFullObject || (src.Checksum.Type == "" && len(src.Parts) == 0)) && a.Valid(src.Checksum.Value) {
		return a, &bodyChecksum{Alg: a, Value: src.Checksum.Value}, nil
	}
	return a, nil, nil
}

// sourceMD5 is the raw MD5 of a single-part object, from its entity tag.
func sourceMD5(info objectd.ObjectInfo) []byte {
	if len(info.Parts) > 0 || len(info.ETag) != 32 {
		return nil
	}
	b, err := hex.DecodeString(info.ETag)
	if err != nil {
		return nil
	}
	return b
}

func (q *request) copyObject() error {
	h := q.r.Header
	src, err := parseCopySource(h.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	directive := strings.ToUpper(strings.TrimSpace(h.Get("X-Amz-Metadata-Directive")))
	switch directive {
	case "":
		directive = "COPY"
	case "COPY", "REPLACE":
	default:
		return ErrInvalidMetadataDirective
	}
	enc, err := q.writeEncryption(h) // sse.go
	if err != nil {
		return err
	}
	srcCK, err := parseCustomerKey(h, true)
	if err != nil {
		return err
	}
	// A copy onto itself must change something: its metadata, the
	// version it copies, or its encryption (checked once the source is
	// known: decrypting in place changes it too).
	explicitSSE := h.Get(hdrSSE) != "" || h.Get(hdrSSECAlg) != ""
	onItself := src.Bucket == q.target.Bucket && src.Key == q.target.Key && directive != "REPLACE" && src.VersionID == "" && !explicitSSE
	var opts objectd.PutOptions
	if directive == "REPLACE" {
		if opts, err = readObjectMeta(h); err != nil {
			return err
		}
	}
	if opts.Check, err = writeConditions(h); err != nil {
		return err
	}
	conds := readConditions(h, "X-Amz-Copy-Source-")
	if src.VersionID != "" {
		if src.VersionID, err = checkVersionID(src.VersionID); err != nil {
			return err
		}
	}
	info, rc, err := q.s.store.GetObject(q.ctx, src.Bucket, src.Key, objectd.GetOptions{Offset: 0, Length: -1, VersionID: src.VersionID})
	if err != nil {
		if errors.Is(err, objectd.ErrDeleteMarker) {
			return ErrInvalidRequest.withMessage("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return q.versionErr(info, err)
	}
	defer rc.Close()
	if onItself && !encryptedInfo(info) {
		return ErrCopyToItself
	}
	srcK, err := q.s.openObjectKey(info.Headers, srcCK, src.Bucket, src.Key)
	if err != nil {
		return err
	}
	if src.VersionID != "" || q.bucketVersioning(src.Bucket) != objectd.Unversioned {
		q.w.Header().Set("X-Amz-Copy-Source-Version-Id", info.VersionID)
	}
	if conds.evaluate(clientETag(info), info.ModTime) != condOK {
		return ErrPreconditionFailed
	}
	if info.Size > objectd.MaxPartSize {
		return ErrCopySourceTooLarge
	}
	if directive == "COPY" {
		check := opts.Check
		opts = optionsFromInfo(info)
		opts.Check = check
	}
	if err := copyTagging(h, info, &opts); err != nil {
		return err
	}
	if err := q.setObjectACL(h, &opts); err != nil { // acl.go: the source's ACL is not copied
		return err
	}
	if err := q.applyObjectLock(h, &opts); err != nil { // nor its lock
		return err
	}
	alg, want, err := copyChecksum(h, info)
	if err != nil {
		return err
	}
	var plain io.Reader = rc
	if srcK != nil {
		plain = srcK.decrypt(rc, info, 0)
	}
	body, sum := verifiedBody(plain, want, defaultAlgorithm(want, alg), nil)
	opts.Checksum = sum
	if srcK == nil || srcK.kind == kindS3 {
		opts.ContentMD5 = sourceMD5(withClientETag(info))
	}
	opts.Versioning = q.versioning()
	k, err := q.newKey(enc, &opts, q.target.Bucket, q.target.Key)
	if err != nil {
		return err
	}
	rd, storeMD5 := sealBody(body, info.Size, k, 1, opts.ContentMD5, plainETagSetter(k, opts.Headers))
	opts.ContentMD5 = storeMD5
	out, err := q.s.store.PutObject(q.ctx, q.target.Bucket, q.target.Key, rd, info.Size, opts)
	if err != nil {
		return err
	}
	q.setVersionHeaders(q.w.Header(), out, false)
	setSSEResponse(q.w.Header(), k)
	cs := out.Checksum
	if cs.Value == "" && sum != nil {
		cs = sum()
	}
	doc := copyObjectResult{
		Xmlns: s3Namespace, ETag: quote(clientETag(out)), LastModified: timeXML(out.ModTime),
		checksumFields: checksumXML(cs),
	}
	if cs.Value != "" {
		doc.ChecksumType = cs.Type
	}
	q.writeXML(http.StatusOK, doc)
	return nil
}
