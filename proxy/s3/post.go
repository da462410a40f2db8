package s3

import (
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/objectd/checksum"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

// Browser-based uploads (POST Object): a multipart/form-data POST to the
// bucket whose text fields carry the key, the object's headers and a
// policy signed by the owner of an access key, and whose last field is the
// file. The fields before the file are small and read whole, within
// postMaxFieldBytes; the file streams to a spool file (the store needs the
// size before the first byte, and the form only tells it at the end),
// bounded by the policy's content-length-range or objectd.MaxPartSize, and
// from there into the store.

const (
	// postMaxFieldBytes bounds the names and values of the fields before
	// the file.
	postMaxFieldBytes = 64 << 10
	// postMaxPreFileBytes bounds everything read before the file's content:
	// fields, part headers and boundaries.
	postMaxPreFileBytes = 2*postMaxFieldBytes + 8<<10
	// postSpoolPrefix names spool files.
	postSpoolPrefix = "basalt-post-"
	// v4Algorithm is the only x-amz-algorithm a POST form may use.
	v4Algorithm = "AWS4-HMAC-SHA256"
)

// errPostPreFileTooLarge is what the form reader returns when the part
// before the file goes past postMaxPreFileBytes.
var errPostPreFileTooLarge = errors.New("s3: POST form before the file too large")

// errPostSpool wraps a failure to write the spool file.
var errPostSpool = errors.New("s3: spooling POST file")

// postResponse is the document of a POST answered with status 201.
type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// preFileLimiter fails reads once n bytes have been read while limited;
// the handler lifts the limit when the file part starts.
type preFileLimiter struct {
	r       io.Reader
	n       int64
	limited bool
}

func (l *preFileLimiter) Read(p []byte) (int, error) {
	if !l.limited {
		return l.r.Read(p)
	}
	if l.n <= 0 {
		return 0, errPostPreFileTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// postObject answers a browser-based upload.
func (q *request) postObject() error {
	mt, params, err := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "multipart/form-data") {
		return ErrPostNotMultipart
	}
	if params["boundary"] == "" {
		return ErrMalformedPOSTRequest
	}
	lim := &preFileLimiter{r: q.requestBody(), n: postMaxPreFileBytes, limited: true}
	form, file, filename, err := readPostForm(multipart.NewReader(lim, params["boundary"]))
	if err != nil {
		if lim.n <= 0 {
			// The limit may cut a header line, which the multipart
			// reader then reports as malformed.
			return fmt.Errorf("%w: %w", ErrMaxPostPreDataLength, err)
		}
		return err
	}
	lim.limited = false
	form.expand(filename)

	policy, err := q.authorizePost(form)
	if err != nil {
		return err
	}
	bucket, key := q.target.Bucket, form.get("key")
	if key == "" {
		return ErrInvalidArgument.withMessage("User key must have a length greater than 0.")
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if form.has("bucket") && form.get("bucket") != bucket {
		return ErrInvalidArgument.withMessage("The bucket field does not name the bucket the form is posted to.")
	}
	h := postHeaders(form)
	opts, err := readObjectMeta(h)
	if err != nil {
		return err
	}
	if err := formTagging(form, &opts); err != nil {
		return err
	}
	if err := q.setObjectACL(h, &opts); err != nil { // acl.go: the "acl" field
		return err
	}
	if opts.ContentMD5, err = readContentMD5(h); err != nil {
		return err
	}
	want, alg, err := postChecksum(h)
	if err != nil {
		return err
	}
	if _, err := q.s.store.BucketInfo(q.ctx, bucket); err != nil {
		return err
	}

	limit := int64(objectd.MaxPartSize)
	if policy.hasRange && policy.maxLength < limit {
		limit = policy.maxLength
	}
	spool, size, err := q.spoolPostFile(file, limit)
	if err != nil {
		return err
	}
	defer spool.close()
	if size > limit {
		if policy.hasRange {
			return policy.checkLength(size)
		}
		return ErrEntityTooLarge
	}
	if err := policy.checkLength(size); err != nil {
		return err
	}

	// Encryption as the form's fields or the bucket's default say (sse.go).
	enc, err := q.writeEncryption(h)
	if err != nil {
		return err
	}
	body, sum := verifiedBody(spool.f, want, defaultAlgorithm(want, alg), nil)
	opts.Checksum = sum
	k, err := q.newKey(enc, &opts, bucket, key)
	if err != nil {
		return err
	}
	rd, storeMD5 := sealBody(body, size, k, 1, opts.ContentMD5, plainETagSetter(k, opts.Headers))
	opts.ContentMD5 = storeMD5
	info, err := q.s.store.PutObject(q.ctx, bucket, key, &exactReader{r: rd, n: size}, size, opts)
	if err != nil {
		return err
	}
	cs := info.Checksum
	if cs.Value == "" && sum != nil {
		cs = sum()
	}
	q.answerPost(form, key, clientETag(info), cs)
	return nil
}

// readPostForm reads the text fields up to the file part, which it returns
// unread with the file name the client gave.
func readPostForm(mr *multipart.Reader) (*postForm, *multipart.Part, string, error) {
	form := newPostForm()
	budget := int64(postMaxFieldBytes)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil, "", ErrIncorrectNumberOfFilesPost
		}
		if err != nil {
			return nil, nil, "", postReadError(err)
		}
		name := part.FormName()
		if name == "" {
			return nil, nil, "", ErrMalformedPOSTRequest.withMessage("The body of your POST request is not well-formed multipart/form-data: a part has no field name.")
		}
		if strings.EqualFold(name, "file") {
			_, dp, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			return form, part, dp["filename"], nil
		}
		budget -= int64(len(name))
		if budget < 0 {
			return nil, nil, "", ErrMaxPostPreDataLength
		}
		v, err := io.ReadAll(io.LimitReader(part, budget+1))
		if err != nil {
			return nil, nil, "", postReadError(err)
		}
		budget -= int64(len(v))
		if budget < 0 {
			return nil, nil, "", ErrMaxPostPreDataLength
		}
		form.add(name, string(v))
	}
}

// postReadError maps a failure to read the form: the request's own
// authentication errors and cancellation pass through, anything else is a
// malformed form.
func postReadError(err error) error {
	var se *sigv4.Error
	switch {
	case errors.Is(err, errPostPreFileTooLarge):
		return fmt.Errorf("%w: %w", ErrMaxPostPreDataLength, err)
	case errors.As(err, &se), errors.Is(err, errBodyTooShort):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %w", ErrIncompleteBody, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformedPOSTRequest, err)
}

// expand replaces ${filename} in every field but the signed ones.
func (f *postForm) expand(filename string) {
	for k, v := range f.values {
		if !exemptField(k) {
			f.values[k] = expandFilename(v, filename)
		}
	}
}

// missingPostField is S3's answer to a form without a required field.
func missingPostField(name string) *APIError {
	return ErrInvalidArgument.withMessage("Bucket POST must contain a field named '" + name + "'.  If it is specified, please check the order of the fields.")
}

// authorizePost checks the form's signature (Version 4, or Version 2) over
// its policy, then the policy against the form. A form without a signature
// is anonymous, and no bucket takes anonymous writes.
func (q *request) authorizePost(form *postForm) (*postPolicy, error) {
	if !form.has("key") {
		return nil, missingPostField("key")
	}
	v4 := form.has("x-amz-signature") || form.has("x-amz-algorithm") || form.has("x-amz-credential")
	v2 := form.has("signature") || form.has("awsaccesskeyid")
	var err error
	switch {
	case v4 && v2:
		return nil, ErrInvalidArgument.withMessage("Only one auth mechanism allowed; the form carries both a Signature Version 4 and a Version 2 signature.")
	case !v4 && !v2:
		if form.has("policy") {
			return nil, missingPostField("x-amz-signature")
		}
		return nil, ErrAccessDenied
	case !form.has("policy"):
		return nil, missingPostField("policy")
	case v4:
		err = q.verifyPostV4(form)
	default:
		err = q.verifyPostV2(form)
	}
	if err != nil {
		return nil, err
	}
	q.target.Key = form.get("key") // the object the bucket's policy is checked for
	if err := q.authorize(); err != nil {
		return nil, err
	}
	doc, err := decodePolicy(form.get("policy"))
	if err != nil {
		return nil, err
	}
	p, err := parsePostPolicy(doc)
	if err != nil {
		return nil, err
	}
	if err := p.check(q.s.now(), q.target.Bucket, form); err != nil {
		return nil, err
	}
	return p, nil
}

// verifyPostV4 checks x-amz-signature: the policy signed with the signing
// key of x-amz-credential's scope, which must be this server's region.
func (q *request) verifyPostV4(form *postForm) error {
	for _, name := range []string{"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"} {
		if !form.has(name) {
			return missingPostField(name)
		}
	}
	if form.get("x-amz-algorithm") != v4Algorithm {
		return ErrInvalidArgument.withMessage("The x-amz-algorithm field must be " + v4Algorithm + ".")
	}
	cred, ok := parsePostCredential(form.get("x-amz-credential"))
	if !ok {
		return ErrInvalidArgument.withMessage(`Error parsing the x-amz-credential field; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`)
	}
	if cred.region != q.s.region {
		return ErrInvalidArgument.withMessage("Error parsing the x-amz-credential field; the region '" + cred.region + "' is wrong; expecting '" + q.s.region + "'")
	}
	date, err := time.Parse("20060102T150405Z", form.get("x-amz-date"))
	if err != nil {
		return ErrInvalidArgument.withMessage("The x-amz-date field must be in the ISO8601 Long Format (yyyyMMdd'T'HHmmss'Z').")
	}
	if date.Format("20060102") != cred.date {
		return ErrInvalidArgument.withMessage("The date of the x-amz-credential field does not match the x-amz-date field.")
	}
	secret, ok := q.secret(cred.accessKey)
	if !ok {
		return sigv4.ErrInvalidAccessKeyID
	}
	want := postSignatureV4(secret, cred.date, cred.region, form.get("policy"))
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(form.get("x-amz-signature")))) != 1 {
		return sigv4.ErrSignatureDoesNotMatch
	}
	return nil
}

// verifyPostV2 checks the Version 2 signature field: the policy signed
// with HMAC-SHA1 under the secret of AWSAccessKeyId.
func (q *request) verifyPostV2(form *postForm) error {
	for _, name := range []string{"AWSAccessKeyId", "signature"} {
		if !form.has(name) {
			return missingPostField(name)
		}
	}
	secret, ok := q.secret(form.get("awsaccesskeyid"))
	if !ok {
		return sigv4.ErrInvalidAccessKeyID
	}
	want := postSignatureV2(secret, form.get("policy"))
	if subtle.ConstantTimeCompare([]byte(want), []byte(form.get("signature"))) != 1 {
		return sigv4.ErrSignatureDoesNotMatch
	}
	return nil
}

// secret looks an access key up in the verifier's credential store.
func (q *request) secret(accessKey string) (string, bool) {
	if q.s.verifier.Creds == nil || accessKey == "" {
		return "", false
	}
	secret, ok := q.s.verifier.Creds.SecretKey(accessKey)
	if ok {
		// The form's key is who the upload acts as.
		q.auth.AccessKey = accessKey
	}
	return secret, ok
}

// postHeaders turns the form's fields into the request headers a PUT
// would have carried, for the parsers PutObject uses.
func postHeaders(form *postForm) http.Header {
	h := http.Header{}
	for _, name := range form.names {
		lower := strings.ToLower(name)
		if exemptField(lower) {
			continue
		}
		h[http.CanonicalHeaderKey(lower)] = []string{form.values[lower]}
	}
	return h
}

// postChecksum reads the additional checksum of the file: an
// x-amz-checksum-<algorithm> field to verify, and x-amz-checksum-algorithm
// to compute (and, with a value, to agree with it).
func postChecksum(h http.Header) (*bodyChecksum, checksum.Algorithm, error) {
	want, err := readBodyChecksum(h)
	if err != nil {
		return nil, "", err
	}
	v := h.Get("X-Amz-Checksum-Algorithm")
	if v == "" {
		return want, "", nil
	}
	a, err := checksum.Parse(v)
	if err != nil {
		return nil, "", ErrInvalidChecksumAlgorithm
	}
	if want != nil && want.Alg != a {
		return nil, "", ErrInvalidRequest.withMessage("Value for x-amz-checksum-algorithm does not match the " + lowerHeader(want.Alg) + " field.")
	}
	return want, a, nil
}

// postSpool is the spool file of one upload.
type postSpool struct {
	f       *os.File
	removed bool
}

func (s *postSpool) close() {
	s.f.Close()
	if !s.removed {
		os.Remove(s.f.Name())
	}
}

// spoolPostFile copies the file part, up to limit+1 bytes, to a new spool
// file and returns it rewound with the number of bytes copied (limit+1
// means the file is larger than limit). The file is unlinked at once where
// the system allows it, so that nothing is left behind whatever happens.
func (q *request) spoolPostFile(part io.Reader, limit int64) (*postSpool, int64, error) {
	f, err := os.CreateTemp(q.s.spoolDir, postSpoolPrefix+"*")
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errPostSpool, err)
	}
	s := &postSpool{f: f, removed: os.Remove(f.Name()) == nil}
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	src := io.LimitReader(part, limit+1)
	var n int64
	for {
		m, rerr := src.Read(buf)
		if m > 0 {
			if _, werr := f.Write(buf[:m]); werr != nil {
				s.close()
				return nil, 0, fmt.Errorf("%w: %w", errPostSpool, werr)
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			s.close()
			return nil, 0, postReadError(rerr)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		s.close()
		return nil, 0, fmt.Errorf("%w: %w", errPostSpool, err)
	}
	return s, n, nil
}

// answerPost writes the answer to a stored upload: a 303 to
// success_action_redirect (or redirect) when it is a URL, else the status
// success_action_status asks for (200, 201 with a PostResponse document,
// or 204 by default).
func (q *request) answerPost(form *postForm, key, etag string, cs objectd.Checksum) {
	bucket := q.target.Bucket
	loc := q.objectURL(key)
	h := q.w.Header()
	h.Set("ETag", quote(etag))
	h.Set("Location", loc)
	setChecksumHeaders(h, cs)
	redirect := form.get("success_action_redirect")
	if redirect == "" {
		redirect = form.get("redirect")
	}
	if u, ok := redirectURL(redirect, bucket, key, etag); ok {
		h.Set("Location", u)
		q.writeEmpty(http.StatusSeeOther)
		return
	}
	switch strings.TrimSpace(form.get("success_action_status")) {
	case "200":
		q.writeEmpty(http.StatusOK)
	case "201":
		q.writeXML(http.StatusCreated, postResponse{Location: loc, Bucket: bucket, Key: key, ETag: quote(etag)})
	default:
		q.writeEmpty(http.StatusNoContent)
	}
}

// redirectURL is success_action_redirect with bucket, key and etag added
// to its query; false when the field is empty or not an absolute URL, in
// which case S3 ignores it.
func redirectURL(raw, bucket, key, etag string) (string, bool) {
	if raw == "" {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", false
	}
	v := u.Query()
	v.Set("bucket", bucket)
	v.Set("key", key)
	v.Set("etag", quote(etag))
	u.RawQuery = v.Encode()
	return u.String(), true
}

// objectURL is the URL of an object of the request's bucket, addressed the
// way the request addressed the bucket.
func (q *request) objectURL(key string) string {
	scheme := "http"
	if q.r.TLS != nil || strings.EqualFold(q.r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	path := "/" + strings.Join(segs, "/")
	if hostBucket(q.r.Host, q.s.domains) == "" {
		path = "/" + q.target.Bucket + path
	}
	return scheme + "://" + q.r.Host + path
}
