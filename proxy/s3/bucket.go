package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/basaltstore/basalt/objectd"
)

// Size limits of XML request bodies.
const (
	maxSmallXMLBody  = 64 << 10 // CreateBucketConfiguration and other small documents
	maxDeleteXMLBody = 4 << 20  // DeleteObjects: up to 1000 keys of up to 1024 bytes
	maxDeleteKeys    = 1000
)

// dispatch runs the handler of the resolved operation.
func (q *request) dispatch() error {
	if done, err := q.dispatchConfig(); done { // tagging, CORS, lifecycle (tagging.go)
		return err
	}
	if done, err := q.dispatchAccess(); done { // policy, ACLs, public access block, ownership (access.go)
		return err
	}
	switch q.target.API {
	case apiListBuckets:
		return q.listBuckets()
	case apiCreateBucket:
		return q.createBucket()
	case apiDeleteBucket:
		return q.deleteBucket()
	case apiHeadBucket:
		return q.headBucket()
	case apiGetBucketLocation:
		return q.getBucketLocation()
	case apiListObjects:
		return q.listObjects(false)
	case apiListObjectsV2:
		return q.listObjects(true)
	case apiListObjectVersions:
		return q.listVersions() // versioning.go
	case apiListMultipartUploads:
		return q.listMultipartUploads()
	case apiDeleteObjects:
		return q.deleteObjects()
	case apiGetBucketVersioning:
		return q.getBucketVersioning()
	case apiPutBucketVersioning:
		return q.putBucketVersioning()
	case apiGetBucketEncryption:
		return q.getBucketEncryption() // sse.go
	case apiPutBucketEncryption:
		return q.putBucketEncryption()
	case apiDeleteBucketEncryption:
		return q.deleteBucketEncryption()
	case apiGetObjectLockConfig:
		return q.getObjectLockConfig() // objectlock.go
	case apiPutObjectLockConfig:
		return q.putObjectLockConfig()
	case apiPutObjectRetention:
		return q.putObjectRetention()
	case apiGetObjectRetention:
		return q.getObjectRetention()
	case apiPutObjectLegalHold:
		return q.putObjectLegalHold()
	case apiGetObjectLegalHold:
		return q.getObjectLegalHold()
	case apiGetObjectAttributes:
		return q.getObjectAttributes() // attributes.go
	case apiGetBucketWebsite:
		return q.bucketErr(ErrNoSuchWebsite)
	case apiGetBucketReplication:
		return q.bucketErr(ErrNoSuchReplication)
	case apiGetBucketNotification:
		return q.bucketDoc(emptyConfig{XMLName: xml.Name{Local: "NotificationConfiguration"}, Xmlns: s3Namespace})
	case apiGetBucketLogging:
		return q.bucketDoc(emptyConfig{XMLName: xml.Name{Local: "BucketLoggingStatus"}, Xmlns: s3Namespace})
	case apiGetBucketAccelerate:
		return q.bucketDoc(emptyConfig{XMLName: xml.Name{Local: "AccelerateConfiguration"}, Xmlns: s3Namespace})
	case apiGetBucketRequestPayment:
		return q.bucketDoc(requestPaymentConfiguration{Xmlns: s3Namespace, Payer: "BucketOwner"})
	case apiDeleteBucketSubresource:
		if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
			return err
		}
		q.writeEmpty(http.StatusNoContent)
		return nil
	case apiPutObject:
		return q.putObject()
	case apiGetObject:
		return q.getObject(false)
	case apiHeadObject:
		return q.getObject(true)
	case apiDeleteObject:
		return q.deleteObject()
	case apiCopyObject:
		return q.copyObject()
	case apiCreateMultipartUpload:
		return q.createMultipartUpload()
	case apiUploadPart:
		return q.uploadPart()
	case apiUploadPartCopy:
		return q.uploadPartCopy()
	case apiCompleteMultipartUpload:
		return q.completeMultipartUpload()
	case apiAbortMultipartUpload:
		return q.abortMultipartUpload()
	case apiListParts:
		return q.listParts()
	}
	return ErrNotImplemented
}

// owner is the owner reported for everything: the requester's project,
// or without a catalog the authenticated key.
func (q *request) owner() owner {
	if o, ok := q.projectOwner(); ok { // with a catalog: the project (acl.go)
		return o
	}
	ak := ""
	if q.auth != nil {
		ak = q.auth.AccessKey
	}
	sum := sha256.Sum256([]byte(ak))
	return owner{ID: hex.EncodeToString(sum[:]), DisplayName: ak}
}

// bucketDoc answers with doc once the bucket is known to exist.
func (q *request) bucketDoc(doc any) error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	q.writeXML(http.StatusOK, doc)
	return nil
}

// bucketErr answers with e once the bucket is known to exist.
func (q *request) bucketErr(e *APIError) error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	return e
}

// readXMLBody reads a small XML request body (at most limit bytes) into v.
// An empty body leaves v alone and returns false. The body's Content-MD5
// and additional checksum, when given, are verified.
func (q *request) readXMLBody(limit int64, v any) (bool, []byte, error) {
	return q.readXML(limit, v, true)
}

// readXML is readXMLBody; with bodyChecksum false an x-amz-checksum-*
// header is not taken as the body's checksum (CompleteMultipartUpload,
// where it is the expected checksum of the whole object).
func (q *request) readXML(limit int64, v any, checkBody bool) (bool, []byte, error) {
	data, err := q.readSmallBodyChecked(limit, checkBody)
	if err != nil {
		return false, nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return false, data, nil
	}
	if err := xml.Unmarshal(data, v); err != nil {
		return false, data, ErrMalformedXML
	}
	return true, data, nil
}

// readSmallBody reads the whole request body when it is at most limit
// bytes, verifying Content-MD5 and x-amz-checksum-* if present.
func (q *request) readSmallBody(limit int64) ([]byte, error) {
	return q.readSmallBodyChecked(limit, true)
}

func (q *request) readSmallBodyChecked(limit int64, checkBody bool) ([]byte, error) {
	if q.body == nil {
		return nil, nil
	}
	if q.auth.ContentLength > limit {
		return nil, ErrMalformedXML.withMessage("The XML you provided was larger than the maximum of " + strconv.FormatInt(limit, 10) + " bytes allowed.")
	}
	wantMD5, err := readContentMD5(q.r.Header)
	if err != nil {
		return nil, err
	}
	var want *bodyChecksum
	if checkBody {
		if want, err = readBodyChecksum(q.r.Header); err != nil {
			return nil, err
		}
	}
	r, _ := verifiedBody(q.body, want, "", q.auth.Trailer)
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, ErrMalformedXML.withMessage("The XML you provided was larger than the maximum of " + strconv.FormatInt(limit, 10) + " bytes allowed.")
	}
	if wantMD5 != nil {
		sum := md5.Sum(data)
		if !bytes.Equal(sum[:], wantMD5) {
			return nil, ErrBadDigest
		}
	}
	return data, nil
}

func (q *request) listBuckets() error {
	buckets, err := q.bucketList()
	if err != nil {
		return err
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].Name < buckets[j].Name })
	prefix := q.query.Get("prefix")
	_, present := q.query["max-buckets"]
	maxBuckets, err := parseMaxKeys(q.query.Get("max-buckets"), present, 10000, 10000,
		ErrInvalidArgument.withMessage("Argument max-buckets must be an integer between 1 and 10000."))
	if err != nil {
		return err
	}
	if present && maxBuckets == 0 {
		return ErrInvalidArgument.withMessage("Argument max-buckets must be an integer between 1 and 10000.")
	}
	after := ""
	if _, ok := q.query["continuation-token"]; ok {
		if after, err = decodeToken(q.query.Get("continuation-token")); err != nil {
			return err
		}
	}
	res := listAllMyBucketsResult{Xmlns: s3Namespace, Owner: q.owner(), Prefix: prefix}
	res.Buckets = []bucketItem{}
	for _, b := range buckets {
		if !strings.HasPrefix(b.Name, prefix) || (after != "" && b.Name <= after) {
			continue
		}
		if len(res.Buckets) == maxBuckets {
			res.ContinuationToken = encodeToken(res.Buckets[len(res.Buckets)-1].Name)
			break
		}
		res.Buckets = append(res.Buckets, bucketItem{Name: b.Name, CreationDate: timeXML(b.Created), BucketRegion: q.s.region})
	}
	q.writeXML(http.StatusOK, res)
	return nil
}

func (q *request) createBucket() error {
	lock := strings.EqualFold(q.r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true")
	if lock && q.s.catalog == nil {
		return ErrObjectLockNotImplemented
	}
	var cfg createBucketConfiguration
	if _, _, err := q.readXMLBody(maxSmallXMLBody, &cfg); err != nil {
		return err
	}
	// Any well-formed location is accepted: a single Basalt region serves
	// every bucket, and clients pick region names freely (as with other
	// S3-compatible servers). Garbage is still refused.
	if lc := strings.TrimSpace(cfg.LocationConstraint); lc != "" && !validRegionName(lc) {
		return ErrInvalidLocationConstraint
	}
	if err := q.makeBucket(); err != nil {
		return err
	}
	if lock {
		if err := q.enableObjectLock(); err != nil {
			return err
		}
	}
	q.w.Header().Set("Location", "/"+q.target.Bucket)
	q.writeEmpty(http.StatusOK)
	return nil
}

func (q *request) deleteBucket() error {
	if err := q.dropBucket(); err != nil {
		return err
	}
	q.writeEmpty(http.StatusNoContent)
	return nil
}

func (q *request) headBucket() error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	q.w.Header().Set("X-Amz-Bucket-Region", q.s.region)
	q.w.Header().Set("X-Amz-Access-Point-Alias", "false")
	q.writeEmpty(http.StatusOK)
	return nil
}

func (q *request) getBucketLocation() error {
	region := q.s.region
	if region == "us-east-1" {
		region = "" // S3 reports the original region as an empty constraint
	}
	return q.bucketDoc(locationConstraint{Xmlns: s3Namespace, Region: region})
}

// list runs a listing, answering an empty page for max-keys=0 as S3 does.
func (q *request) list(opts objectd.ListOptions) (objectd.ListResult, error) {
	if opts.MaxKeys == 0 {
		_, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket)
		return objectd.ListResult{}, err
	}
	return q.s.store.ListObjects(q.ctx, q.target.Bucket, opts)
}

func (q *request) listObjects(v2 bool) error {
	p, err := parseListParams(q.query, v2)
	if err != nil {
		return err
	}
	res, err := q.list(objectd.ListOptions{Prefix: p.Prefix, Delimiter: p.Delimiter, After: p.After, MaxKeys: p.MaxKeys})
	if err != nil {
		return err
	}
	enc := func(s string) string { return s }
	encodingType := ""
	if p.EncodeURL {
		enc, encodingType = s3URLEncode, "url"
	}
	var ownerPtr *owner
	if !v2 || p.FetchOwner {
		o := q.owner()
		ownerPtr = &o
	}
	// metadata=true is MinIO's listing extension (minio-go's WithMetadata):
	// each entry carries its user metadata.
	withMeta := q.query.Get("metadata") == "true"
	contents := make([]objectItem, 0, len(res.Objects))
	for _, o := range res.Objects {
		item := objectItem{
			Key: enc(o.Key), LastModified: timeXML(o.ModTime), ETag: quote(clientETag(o)),
			Size: o.Size, StorageClass: "STANDARD", Owner: ownerPtr,
		}
		if o.Checksum.Algorithm != "" {
			item.ChecksumAlgorithm = []string{o.Checksum.Algorithm}
			item.ChecksumType = o.Checksum.Type
		}
		if withMeta {
			item.UserMetadata = q.listedMetadata(o.Key)
		}
		contents = append(contents, item)
	}
	prefixes := make([]commonPrefix, 0, len(res.CommonPrefixes))
	for _, cp := range res.CommonPrefixes {
		prefixes = append(prefixes, commonPrefix{Prefix: enc(cp)})
	}
	if !v2 {
		doc := listBucketResultV1{
			Xmlns: s3Namespace, Name: q.target.Bucket, Prefix: enc(p.Prefix), Marker: enc(p.Marker),
			MaxKeys: p.MaxKeys, Delimiter: enc(p.Delimiter), IsTruncated: res.IsTruncated,
			Contents: contents, CommonPrefixes: prefixes, EncodingType: encodingType,
		}
		if res.IsTruncated && p.Delimiter != "" {
			doc.NextMarker = enc(res.NextAfter)
		}
		q.writeXML(http.StatusOK, doc)
		return nil
	}
	doc := listBucketResultV2{
		Xmlns: s3Namespace, Name: q.target.Bucket, Prefix: enc(p.Prefix), ContinuationToken: p.Token,
		StartAfter: enc(p.StartAfter), KeyCount: len(contents) + len(prefixes), MaxKeys: p.MaxKeys,
		Delimiter: enc(p.Delimiter), IsTruncated: res.IsTruncated, Contents: contents,
		CommonPrefixes: prefixes, EncodingType: encodingType,
	}
	if res.IsTruncated {
		doc.NextContinuationToken = encodeToken(res.NextAfter)
	}
	q.writeXML(http.StatusOK, doc)
	return nil
}

// listObjectVersions lists the current objects as the only ("null")
// version of each, which is what S3 shows for an unversioned bucket.
func (q *request) listMultipartUploads() error {
	_, present := q.query["max-uploads"]
	maxUploads, err := parseMaxKeys(q.query.Get("max-uploads"), present, objectd.DefaultMaxUploads, objectd.DefaultMaxUploads,
		ErrInvalidArgument.withMessage("Argument max-uploads must be an integer between 0 and 2147483647."))
	if err != nil {
		return err
	}
	encodeURL, err := parseEncodingType(q.query.Get("encoding-type"))
	if err != nil {
		return err
	}
	opts := objectd.ListUploadsOptions{
		Prefix: q.query.Get("prefix"), Delimiter: q.query.Get("delimiter"),
		KeyMarker: q.query.Get("key-marker"), UploadIDMarker: q.query.Get("upload-id-marker"),
		MaxUploads: maxUploads,
	}
	var res objectd.ListUploadsResult
	if maxUploads == 0 {
		_, err = q.s.store.BucketInfo(q.ctx, q.target.Bucket)
	} else {
		res, err = q.s.store.ListMultipartUploads(q.ctx, q.target.Bucket, opts)
	}
	if err != nil {
		return err
	}
	enc := func(s string) string { return s }
	doc := listMultipartUploadsResult{
		Xmlns: s3Namespace, Bucket: q.target.Bucket, UploadIDMarker: opts.UploadIDMarker,
		MaxUploads: maxUploads, IsTruncated: res.IsTruncated,
	}
	if encodeURL {
		enc, doc.EncodingType = s3URLEncode, "url"
	}
	doc.KeyMarker, doc.Prefix, doc.Delimiter = enc(opts.KeyMarker), enc(opts.Prefix), enc(opts.Delimiter)
	if res.IsTruncated {
		doc.NextKeyMarker, doc.NextUploadIDMarker = enc(res.NextKeyMarker), res.NextUploadIDMarker
	}
	doc.Uploads = make([]uploadItem, 0, len(res.Uploads))
	for _, u := range res.Uploads {
		alg, typ := uploadChecksum(u)
		doc.Uploads = append(doc.Uploads, uploadItem{
			Key: enc(u.Key), UploadID: u.UploadID,
			Initiated: timeXML(u.Initiated), ChecksumAlgorithm: string(alg), ChecksumType: typ,
		})
	}
	for _, cp := range res.CommonPrefixes {
		doc.CommonPrefixes = append(doc.CommonPrefixes, commonPrefix{Prefix: enc(cp)})
	}
	q.writeXML(http.StatusOK, doc)
	return nil
}

func (q *request) deleteObjects() error {
	if _, ok := q.r.Header["Content-Md5"]; !ok {
		if want, err := readBodyChecksum(q.r.Header); err != nil {
			return err
		} else if want == nil {
			return ErrMissingContentMD5
		}
	}
	var req deleteRequest
	ok, _, err := q.readXMLBody(maxDeleteXMLBody, &req)
	if err != nil {
		return err
	}
	if !ok || len(req.Objects) == 0 {
		return ErrMalformedXML
	}
	if len(req.Objects) > maxDeleteKeys {
		return ErrTooManyKeys
	}
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	errs := make([]error, len(req.Objects))
	results := make([]objectd.DeleteResult, len(req.Objects))
	versioning := q.versioning()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, o := range req.Objects {
		if err := checkKey(o.Key); err != nil {
			errs[i] = err
			continue
		}
		if err := q.authorizeKey(o.Key, "s3:DeleteObject"); err != nil {
			errs[i] = err
			continue
		}
		if o.Key == "" {
			errs[i] = ErrInvalidArgument.withMessage("The key of an object to delete must not be empty.")
			continue
		}
		if o.VersionID != "" {
			if _, err := checkVersionID(o.VersionID); err != nil {
				errs[i] = err
				continue
			}
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, key, vid string) {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = q.s.store.DeleteObjectVersion(q.ctx, q.target.Bucket, key,
				objectd.DeleteOptions{VersionID: vid, Versioning: versioning, CheckVersion: q.lockRefuses})
		}(i, o.Key, o.VersionID)
	}
	wg.Wait()
	res := deleteResult{Xmlns: s3Namespace}
	for i, o := range req.Objects {
		if errs[i] != nil && !errors.Is(errs[i], objectd.ErrNoSuchKey) {
			ae := toAPIError(errs[i])
			res.Errors = append(res.Errors, deleteError{Key: o.Key, VersionID: o.VersionID, Code: ae.Code, Message: ae.Message})
			continue
		}
		if !req.Quiet {
			d := deletedObject{Key: o.Key, VersionID: o.VersionID}
			if r := results[i]; r.DeleteMarker {
				d.DeleteMarker = true
				if o.VersionID == "" {
					d.DeleteMarkerVersionID = r.VersionID
				}
			}
			res.Deleted = append(res.Deleted, d)
		}
	}
	q.writeXML(http.StatusOK, res)
	return nil
}

// validRegionName accepts names shaped like AWS regions ("eu-central-1",
// "us-gov-west-1") or a single word ("EU", "default").
func validRegionName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// listedMetadata is an object's user metadata for a listing entry, as
// X-Amz-Meta-<name> elements; names that are not XML names are left out.
func (q *request) listedMetadata(key string) []metaEntry {
	info, err := q.s.store.HeadObject(q.ctx, q.target.Bucket, key)
	if err != nil || len(info.UserMeta) == 0 {
		return nil
	}
	names := make([]string, 0, len(info.UserMeta))
	for k := range info.UserMeta {
		if xmlName(k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	out := make([]metaEntry, len(names))
	for i, k := range names {
		out[i] = metaEntry{Name: "X-Amz-Meta-" + k, Value: info.UserMeta[k]}
	}
	return out
}

// xmlName reports whether "X-Amz-Meta-"+s is a safe XML element name.
func xmlName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}
