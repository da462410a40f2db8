package s3

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/objectd/checksum"
)

const maxCompleteXMLBody = 8 << 20 // CompleteMultipartUpload: up to 10000 parts with checksums

// uploadChecksum is the checksum algorithm and type a multipart upload was
// created with ("" when none).
func uploadChecksum(u objectd.UploadInfo) (checksum.Algorithm, string) {
	a, err := checksum.Parse(u.Options.ChecksumAlgorithm)
	if err != nil || u.Options.ChecksumAlgorithm == "" {
		return "", ""
	}
	for k, v := range u.Options.Headers {
		if http.CanonicalHeaderKey(k) == internalChecksumType && v != "" {
			return a, v
		}
	}
	return a, defaultChecksumType(a)
}

func (q *request) createMultipartUpload() error {
	h := q.r.Header
	opts, err := readObjectMeta(h)
	if err != nil {
		return err
	}
	enc, err := q.writeEncryption(h) // sse.go
	if err != nil {
		return err
	}
	k, err := q.newKey(enc, &opts, q.target.Bucket, q.target.Key)
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
	var alg checksum.Algorithm
	if v := h.Get("X-Amz-Checksum-Algorithm"); v != "" {
		if alg, err = checksum.Parse(v); err != nil {
			return ErrInvalidChecksumAlgorithm
		}
	}
	typ := strings.ToUpper(strings.TrimSpace(h.Get("X-Amz-Checksum-Type")))
	switch {
	case typ != "" && alg == "":
		return ErrInvalidRequest.withMessage("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
	case alg != "" && typ == "":
		typ = defaultChecksumType(alg)
	}
	if alg != "" {
		if err := checkChecksumType(alg, typ); err != nil {
			return err
		}
		opts.ChecksumAlgorithm = string(alg)
		// The object layer learns the type through Checksum at creation;
		// a type other than the default is also kept with the upload's
		// headers so that later requests can read it back.
		ct := objectd.Checksum{Algorithm: string(alg), Type: typ}
		opts.Checksum = func() objectd.Checksum { return ct }
		if typ != defaultChecksumType(alg) {
			if opts.Headers == nil {
				opts.Headers = map[string]string{}
			}
			opts.Headers[internalChecksumType] = typ
		}
	}
	id, err := q.s.store.NewMultipartUpload(q.ctx, q.target.Bucket, q.target.Key, opts)
	if err != nil {
		return err
	}
	setSSEResponse(q.w.Header(), k)
	if alg != "" {
		q.w.Header().Set("X-Amz-Checksum-Algorithm", string(alg))
		q.w.Header().Set("X-Amz-Checksum-Type", typ)
	}
	q.writeXML(http.StatusOK, initiateMultipartUploadResult{
		Xmlns: s3Namespace, Bucket: q.target.Bucket, Key: q.target.Key, UploadID: id,
	})
	return nil
}

// upload looks up the multipart upload a request names, checking it exists
// before any body is read.
func (q *request) upload() (string, objectd.UploadInfo, error) {
	id := q.query.Get("uploadId")
	if id == "" {
		return "", objectd.UploadInfo{}, ErrNoSuchUpload
	}
	res, err := q.s.store.ListParts(q.ctx, q.target.Bucket, q.target.Key, id, 0, 1)
	if err != nil {
		return "", objectd.UploadInfo{}, err
	}
	return id, res.Upload, nil
}

// partHeaders answers an UploadPart: entity tag and checksum.
func (q *request) partDone(part objectd.PartInfo, sum func() objectd.Checksum) objectd.Checksum {
	cs := part.Checksum
	if cs.Value == "" && sum != nil {
		cs = sum()
	}
	return cs
}

func (q *request) uploadPart() error {
	n, err := parsePartNumber(q.query.Get("partNumber"))
	if err != nil {
		return err
	}
	h := q.r.Header
	md5sum, err := readContentMD5(h)
	if err != nil {
		return err
	}
	ck, err := parseCustomerKey(h, false) // sse.go
	if err != nil {
		return err
	}
	want, err := readBodyChecksum(h)
	if err != nil {
		return err
	}
	size := q.auth.ContentLength
	if size < 0 {
		return ErrMissingContentLength
	}
	if size > objectd.MaxPartSize {
		return ErrEntityTooLarge
	}
	// A part that carries its own checksum is verified and stored as it
	// is (a checksum of another algorithm than the upload's is refused at
	// completion). Only a part without one needs the upload's algorithm,
	// to compute it.
	// The upload is looked up in any case: it says how the part is
	// encrypted.
	var alg checksum.Algorithm
	id, up, err := q.upload()
	if err != nil {
		return err
	}
	if want == nil {
		alg, _ = uploadChecksum(up)
	}
	k, err := q.s.openObjectKey(up.Options.Headers, ck, q.target.Bucket, q.target.Key)
	if err != nil {
		return err
	}
	body, sum := verifiedBody(q.requestBody(), want, alg, q.auth.Trailer)
	rd, storeMD5 := sealBody(body, size, k, n, md5sum, nil)
	part, err := q.s.store.PutObjectPart(q.ctx, q.target.Bucket, q.target.Key, id, n,
		rd, size, objectd.PutOptions{ContentMD5: storeMD5, Checksum: sum})
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", quote(part.ETag))
	setSSEResponse(q.w.Header(), k)
	cs := q.partDone(part, sum)
	if cs.Value != "" {
		a, err := checksum.Parse(cs.Algorithm)
		if err == nil {
			q.w.Header().Set(a.Header(), cs.Value)
		}
	}
	q.writeEmpty(http.StatusOK)
	return nil
}

func (q *request) uploadPartCopy() error {
	n, err := parsePartNumber(q.query.Get("partNumber"))
	if err != nil {
		return err
	}
	h := q.r.Header
	src, err := parseCopySource(h.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	ck, err := parseCustomerKey(h, false) // sse.go
	if err != nil {
		return err
	}
	srcCK, err := parseCustomerKey(h, true)
	if err != nil {
		return err
	}
	id, up, err := q.upload()
	if err != nil {
		return err
	}
	k, err := q.s.openObjectKey(up.Options.Headers, ck, q.target.Bucket, q.target.Key)
	if err != nil {
		return err
	}
	conds := readConditions(h, "X-Amz-Copy-Source-")
	rangeHeader := h.Get("X-Amz-Copy-Source-Range")
	sel := func(info objectd.ObjectInfo) (int64, int64, error) {
		if conds.evaluate(clientETag(info), info.ModTime) != condOK {
			return 0, 0, ErrPreconditionFailed
		}
		if rangeHeader == "" {
			return 0, info.Size, nil
		}
		return parseCopySourceRange(rangeHeader, info.Size)
	}
	if src.VersionID != "" {
		if src.VersionID, err = checkVersionID(src.VersionID); err != nil {
			return err
		}
	}
	info, rc, off, length, err := q.fetch(src.Bucket, src.Key, src.VersionID, sel, false)
	if err != nil {
		if errors.Is(err, objectd.ErrDeleteMarker) {
			return ErrInvalidRequest.withMessage("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return q.versionErr(info, err)
	}
	if src.VersionID != "" || q.bucketVersioning(src.Bucket) != objectd.Unversioned {
		q.w.Header().Set("X-Amz-Copy-Source-Version-Id", info.VersionID)
	}
	defer rc.Close()
	srcK, err := q.s.openObjectKey(info.Headers, srcCK, src.Bucket, src.Key)
	if err != nil {
		return err
	}
	if length > objectd.MaxPartSize {
		return ErrEntityTooLarge
	}
	var plain io.Reader = rc
	if srcK != nil {
		plain = srcK.decrypt(rc, info, off)
	}
	alg, _ := uploadChecksum(up)
	body, sum := verifiedBody(plain, nil, alg, nil)
	rd, _ := sealBody(body, length, k, n, nil, nil)
	part, err := q.s.store.PutObjectPart(q.ctx, q.target.Bucket, q.target.Key, id, n,
		rd, length, objectd.PutOptions{Checksum: sum})
	if err != nil {
		return err
	}
	setSSEResponse(q.w.Header(), k)
	q.writeXML(http.StatusOK, copyPartResult{
		Xmlns: s3Namespace, ETag: quote(part.ETag), LastModified: timeXML(part.ModTime),
		checksumFields: checksumXML(q.partDone(part, sum)),
	})
	return nil
}

// allParts lists every part of an upload.
func (q *request) allParts(id string) (map[int]objectd.PartInfo, error) {
	parts := map[int]objectd.PartInfo{}
	marker := 0
	for {
		res, err := q.s.store.ListParts(q.ctx, q.target.Bucket, q.target.Key, id, marker, objectd.DefaultMaxParts)
		if err != nil {
			return nil, err
		}
		for _, p := range res.Parts {
			parts[p.Number] = p
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			return parts, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// finalChecksum computes the checksum of a completed upload from the
// checksums of its parts: composite (checksum of the checksums, "-N") or
// full-object (the parts' CRCs combined).
func finalChecksum(alg checksum.Algorithm, typ string, req []objectd.CompletePart, stored map[int]objectd.PartInfo) (objectd.Checksum, error) {
	values := make([]string, 0, len(req))
	sizes := make([]int64, 0, len(req))
	for _, p := range req {
		sp, ok := stored[p.Number]
		if !ok {
			return objectd.Checksum{}, ErrInvalidPart
		}
		if sp.Checksum.Value != "" && !strings.EqualFold(sp.Checksum.Algorithm, string(alg)) {
			return objectd.Checksum{}, ErrChecksumAlgorithmMismatch.withMessage("Part " + strconv.Itoa(p.Number) + " carries a " + sp.Checksum.Algorithm + " checksum, the upload uses " + string(alg) + ".")
		}
		if sp.Checksum.Value == "" {
			return objectd.Checksum{}, ErrInvalidPart.withMessage("Part " + strconv.Itoa(p.Number) + " has no " + string(alg) + " checksum.")
		}
		if p.Checksum.Value != "" && p.Checksum.Value != sp.Checksum.Value {
			return objectd.Checksum{}, ErrInvalidPart.withMessage("The " + string(alg) + " checksum given for part " + strconv.Itoa(p.Number) + " does not match the part's checksum.")
		}
		values = append(values, sp.Checksum.Value)
		sizes = append(sizes, sp.Size)
	}
	var v string
	var err error
	if typ == typeFullObject {
		v, err = checksum.Combine(alg, values, sizes)
	} else {
		v, err = checksum.Composite(alg, values)
	}
	if err != nil {
		return objectd.Checksum{}, err
	}
	return objectd.Checksum{Algorithm: string(alg), Value: v, Type: typ}, nil
}

// completeParts checks the parsed CompleteMultipartUpload document and
// converts it for the object layer.
func completeParts(doc completeRequest, alg checksum.Algorithm) ([]objectd.CompletePart, error) {
	if len(doc.Parts) == 0 {
		return nil, ErrMalformedXML
	}
	if len(doc.Parts) > objectd.MaxPartNumber {
		return nil, ErrMalformedXML
	}
	parts := make([]objectd.CompletePart, 0, len(doc.Parts))
	for _, p := range doc.Parts {
		if p.PartNumber < 1 || p.PartNumber > objectd.MaxPartNumber {
			return nil, ErrInvalidPart
		}
		etag := strings.Trim(strings.TrimSpace(p.ETag), `"`)
		if etag == "" {
			return nil, ErrInvalidPart
		}
		cp := objectd.CompletePart{Number: p.PartNumber, ETag: etag}
		if alg != "" {
			if v := p.value(alg); v != "" {
				cp.Checksum = objectd.Checksum{Algorithm: string(alg), Value: v}
			}
		}
		parts = append(parts, cp)
	}
	return parts, nil
}

func (q *request) completeMultipartUpload() error {
	id := q.query.Get("uploadId")
	if id == "" {
		return ErrNoSuchUpload
	}
	check, err := writeConditions(q.r.Header)
	if err != nil {
		return err
	}
	var doc completeRequest
	ok, _, err := q.readXML(maxCompleteXMLBody, &doc, false)
	if err != nil {
		return err
	}
	if !ok {
		return ErrMalformedXML
	}
	_, up, err := q.upload()
	if err != nil {
		return err
	}
	alg, typ := uploadChecksum(up)
	parts, err := completeParts(doc, alg)
	if err != nil {
		return err
	}
	opts := objectd.PutOptions{Check: check, Versioning: q.versioning()}
	var final objectd.Checksum
	if alg != "" {
		for i := 1; i < len(parts); i++ {
			if parts[i].Number <= parts[i-1].Number {
				return ErrInvalidPartOrder
			}
		}
		stored, err := q.allParts(id)
		if err != nil {
			return err
		}
		if final, err = finalChecksum(alg, typ, parts, stored); err != nil {
			return err
		}
		if v := q.r.Header.Get(alg.Header()); v != "" && v != final.Value && !strings.HasPrefix(final.Value, v+"-") {
			return checksumMismatch(alg)
		}
		opts.Checksum = func() objectd.Checksum { return final }
	}
	info, err := q.s.store.CompleteMultipartUpload(q.ctx, q.target.Bucket, q.target.Key, id, parts, opts)
	if err != nil {
		return err
	}
	q.setVersionHeaders(q.w.Header(), info, false)
	setSSEStoredResponse(q.w.Header(), info.Headers) // sse.go
	cs := info.Checksum
	if cs.Value == "" {
		cs = final
	}
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	res := completeMultipartUploadResult{
		Xmlns: s3Namespace, Location: scheme + "://" + q.r.Host + "/" + q.target.Bucket + "/" + q.target.Key,
		Bucket: q.target.Bucket, Key: q.target.Key, ETag: quote(info.ETag), checksumFields: checksumXML(cs),
	}
	if cs.Value != "" {
		res.ChecksumType = cs.Type
	}
	q.writeXML(http.StatusOK, res)
	return nil
}

func (q *request) abortMultipartUpload() error {
	id := q.query.Get("uploadId")
	if id == "" {
		return ErrNoSuchUpload
	}
	if err := q.s.store.AbortMultipartUpload(q.ctx, q.target.Bucket, q.target.Key, id); err != nil {
		return err
	}
	q.writeEmpty(http.StatusNoContent)
	return nil
}

func (q *request) listParts() error {
	id := q.query.Get("uploadId")
	if id == "" {
		return ErrNoSuchUpload
	}
	_, present := q.query["max-parts"]
	maxParts, err := parseMaxKeys(q.query.Get("max-parts"), present, objectd.DefaultMaxParts, objectd.DefaultMaxParts,
		ErrInvalidArgument.withMessage("Argument max-parts must be an integer between 0 and 2147483647."))
	if err != nil {
		return err
	}
	marker := 0
	if v := q.query.Get("part-number-marker"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < 0 {
			return ErrInvalidArgument.withMessage("Argument part-number-marker must be an integer between 0 and 2147483647.")
		}
		marker = min(m, objectd.MaxPartNumber)
	}
	ask := maxParts
	if ask == 0 {
		ask = 1
	}
	res, err := q.s.store.ListParts(q.ctx, q.target.Bucket, q.target.Key, id, marker, ask)
	if err != nil {
		return err
	}
	if maxParts == 0 {
		res.IsTruncated = len(res.Parts) > 0
		res.Parts = nil
		res.NextPartNumberMarker = marker
	}
	o := q.owner()
	alg, typ := uploadChecksum(res.Upload)
	doc := listPartsResult{
		Xmlns: s3Namespace, Bucket: q.target.Bucket, Key: q.target.Key, UploadID: id,
		Initiator: o, Owner: o, StorageClass: "STANDARD", PartNumberMarker: marker,
		MaxParts: maxParts, IsTruncated: res.IsTruncated, ChecksumAlgorithm: string(alg), ChecksumType: typ,
	}
	if res.IsTruncated {
		doc.NextPartNumberMarker = res.NextPartNumberMarker
	} else if len(res.Parts) > 0 {
		doc.NextPartNumberMarker = res.Parts[len(res.Parts)-1].Number
	}
	doc.Parts = make([]partItem, 0, len(res.Parts))
	for _, p := range res.Parts {
		doc.Parts = append(doc.Parts, partItem{
			PartNumber: p.Number, LastModified: timeXML(p.ModTime), ETag: quote(p.ETag), Size: p.Size,
			checksumFields: checksumXML(p.Checksum),
		})
	}
	q.writeXML(http.StatusOK, doc)
	return nil
}
