package s3

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
)

// Server-side encryption (SSE-S3 and SSE-C). Every encrypted object has
// its own random 32-byte data key, wrapped with AES-256-GCM under the
// key-encryption key: the server's master key (SSE-S3) or the client's
// key (SSE-C). The body is encrypted with AES-256-CTR under the data key,
// which keeps sizes and lets any range be decrypted from its own counter.
// Each part (a single PUT is part 1) has its own initial counter block,
// SHA-256(object IV || part number)[:16], so a part decrypts from its own
// start whatever parts come before it. What is needed to decrypt is kept
// in the object's stored headers (names starting "X-Basalt-Sse-"), which
// are never sent to clients. The customer key itself is never stored:
// only an HMAC-SHA256 of it under a random per-object salt, checked on
// every read, and its MD5, which S3 reports.

// Request headers of server-side encryption.
const (
	hdrSSE        = "X-Amz-Server-Side-Encryption"
	hdrSSEKMSKey  = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	hdrSSECAlg    = "X-Amz-Server-Side-Encryption-Customer-Algorithm"
	hdrSSECKeyMD5 = "X-Amz-Server-Side-Encryption-Customer-Key-Md5"
	// The SSE-C headers are "X-Amz-" or, for a copy's source,
	// "X-Amz-Copy-Source-" followed by these.
	sseCAlg    = "Server-Side-Encryption-Customer-Algorithm"
	sseCKey    = "Server-Side-Encryption-Customer-Key"
	sseCKeyMD5 = "Server-Side-Encryption-Customer-Key-Md5"
)

// Stored headers of an encrypted object.
const (
	ssePrefix  = "X-Basalt-Sse-"
	sseKind    = "X-Basalt-Sse-Kind"    // "S3" or "C"
	sseWrapped = "X-Basalt-Sse-Key"     // base64(GCM nonce || sealed data key)
	sseIV      = "X-Basalt-Sse-Iv"      // base64 of the 16-byte object IV
	sseSalt    = "X-Basalt-Sse-Salt"    // SSE-C: base64 of the HMAC salt
	sseKeyHash = "X-Basalt-Sse-Keyhash" // SSE-C: base64 HMAC-SHA256(salt, customer key)
	sseKeyMD5  = "X-Basalt-Sse-Keymd5"  // SSE-C: the key's MD5 as the client sent it
	sseETag    = "X-Basalt-Sse-Etag"    // SSE-S3 single part: plaintext MD5 (hex)
	sseBound   = "X-Basalt-Sse-Bound"   // "1": the data key is sealed to the bucket and key (keyAAD)
)

const (
	kindS3 = "S3"
	kindC  = "C"
	// MasterKeySize is the length of Config.MasterKey.
	MasterKeySize = 32
	// encryptionSetting is the catalog setting of a bucket's default encryption.
	encryptionSetting = "encryption"
	sseAES256         = "AES256"
)

// ErrBadMasterKey is New's error for a master key of the wrong length.
var ErrBadMasterKey = errors.New("s3: the SSE master key must be 32 bytes")

// errBadWrappedKey: the stored data key does not open (corrupt headers, or a
// different master key).
var errBadWrappedKey = errors.New("s3: the object's data key cannot be unwrapped")

// Errors of server-side encryption, as S3 words them.
var (
	errSSECNoKey        = ErrInvalidArgument.withMessage("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
	errSSECNoAlgorithm  = ErrInvalidArgument.withMessage("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	errSSECNoMD5        = ErrInvalidArgument.withMessage("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
	errSSECBadKey       = ErrInvalidArgument.withMessage("The secret key was invalid for the specified algorithm.")
	errSSECMD5Mismatch  = ErrInvalidArgument.withMessage("The calculated MD5 hash of the key did not match the hash that was provided.")
	errSSEBadAlgorithm  = &APIError{"InvalidEncryptionAlgorithmError", http.StatusBadRequest, "The encryption request you specified is not valid. The valid value is AES256."}
	errSSEBadMethod     = ErrInvalidArgument.withMessage("The encryption method specified is not supported.")
	errSSEBoth          = ErrInvalidArgument.withMessage("Server Side Encryption with Customer provided key is incompatible with the encryption method specified.")
	errSSEKMS           = ErrNotImplemented.withMessage("Server-side encryption with AWS KMS keys (aws:kms, aws:kms:dsse) is not implemented.")
	errSSENoMasterKey   = ErrNotImplemented.withMessage("Server-side encryption with Amazon S3 managed keys (SSE-S3) is not configured on this server.")
	errSSECNeeded       = ErrInvalidRequest.withMessage("The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	errSSECNotApplies   = ErrInvalidRequest.withMessage("The encryption parameters are not applicable to this object.")
	errSSEOnRead        = ErrInvalidArgument.withMessage("x-amz-server-side-encryption header is not supported for this operation.")
	errSSEKMSKeyWithout = ErrInvalidArgument.withMessage("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
	errSSECorrupt       = ErrInternalError.withMessage("The object's encryption metadata cannot be read.")
)

// customerKey is an SSE-C key given with a request.
type customerKey struct {
	key []byte
	md5 string // base64, as given
}

// parseCustomerKey reads the SSE-C headers (of a copy's source when
// source is set); nil when there are none.
func parseCustomerKey(h http.Header, source bool) (*customerKey, error) {
	prefix := "X-Amz-"
	if source {
		prefix = "X-Amz-Copy-Source-"
	}
	alg := h.Get(prefix + sseCAlg)
	key := h.Get(prefix + sseCKey)
	sum := h.Get(prefix + sseCKeyMD5)
	if alg == "" && key == "" && sum == "" {
		return nil, nil
	}
	switch {
	case alg == "":
		return nil, errSSECNoAlgorithm
	case alg != sseAES256:
		return nil, errSSEBadAlgorithm
	case key == "":
		return nil, errSSECNoKey
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return nil, errSSECBadKey
	}
	if sum == "" {
		return nil, errSSECNoMD5
	}
	got := md5.Sum(raw)
	want, err := base64.StdEncoding.DecodeString(sum)
	if err != nil || subtle.ConstantTimeCompare(want, got[:]) != 1 {
		return nil, errSSECMD5Mismatch
	}
	return &customerKey{key: raw, md5: base64.StdEncoding.EncodeToString(got[:])}, nil
}

// sseWrite is the encryption a write asks for: kind "" (none), kindS3 or
// kindC (with the customer key).
type sseWrite struct {
	kind     string
	customer *customerKey
}

// writeEncryption reads the encryption a PUT, copy or
// CreateMultipartUpload asks for, the bucket's default applying when it
// asks for none.
func (q *request) writeEncryption(h http.Header) (sseWrite, error) {
	c, err := parseCustomerKey(h, false)
	if err != nil {
		return sseWrite{}, err
	}
	v := h.Get(hdrSSE)
	if c != nil && v != "" {
		return sseWrite{}, errSSEBoth
	}
	if h.Get(hdrSSEKMSKey) != "" && !strings.HasPrefix(v, "aws:kms") {
		return sseWrite{}, errSSEKMSKeyWithout
	}
	switch {
	case c != nil:
		return sseWrite{kind: kindC, customer: c}, nil
	case v == sseAES256:
		if q.s.masterKey == nil {
			return sseWrite{}, errSSENoMasterKey
		}
		return sseWrite{kind: kindS3}, nil
	case v == "aws:kms" || v == "aws:kms:dsse":
		return sseWrite{}, errSSEKMS
	case v != "":
		return sseWrite{}, errSSEBadMethod
	}
	if q.s.bucketEncryption(q.target.Bucket) == sseAES256 && q.s.masterKey != nil {
		return sseWrite{kind: kindS3}, nil
	}
	return sseWrite{}, nil
}

// objectKey is what encrypts or decrypts one object's bytes.
type objectKey struct {
	kind   string
	block  cipher.Block
	iv     []byte
	keyMD5 string // SSE-C
}

// newObjectKey makes a data key for a new object (or upload) bucket/key
// encrypted as w asks and records it (wrapped, sealed to the bucket and
// key) in headers; nil when w asks for no encryption.
func (s *Server) newObjectKey(w sseWrite, headers map[string]string, bucket, key string) (*objectKey, error) {
	if w.kind == "" {
		return nil, nil
	}
	dataKey := make([]byte, 32)
	iv := make([]byte, aes.BlockSize)
	rand.Read(dataKey)
	rand.Read(iv)
	kek := s.masterKey
	if w.kind == kindC {
		kek = w.customer.key
		salt := make([]byte, 32)
		rand.Read(salt)
		headers[sseSalt] = base64.StdEncoding.EncodeToString(salt)
		headers[sseKeyHash] = base64.StdEncoding.EncodeToString(keyHash(salt, w.customer.key))
		headers[sseKeyMD5] = w.customer.md5
	}
	wrapped, err := wrapKey(kek, dataKey, keyAAD(true, bucket, key))
	if err != nil {
		return nil, err
	}
	headers[sseBound] = "1"
	headers[sseKind] = w.kind
	headers[sseWrapped] = base64.StdEncoding.EncodeToString(wrapped)
	headers[sseIV] = base64.StdEncoding.EncodeToString(iv)
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, err
	}
	k := &objectKey{kind: w.kind, block: block, iv: iv}
	if w.customer != nil {
		k.keyMD5 = w.customer.md5
	}
	return k, nil
}

// openObjectKey checks the SSE-C key c (nil: none given) against the
// stored headers of object (or upload) bucket/key and returns its key;
// nil for an object stored without encryption. A data key sealed to
// another bucket or key (stored headers moved to another object) does not
// open.
func (s *Server) openObjectKey(headers map[string]string, c *customerKey, bucket, key string) (*objectKey, error) {
	aad := keyAAD(stored(headers, sseBound) == "1", bucket, key)
	kind, _ := headerValue(headers, sseKind)
	switch kind {
	case "":
		if c != nil {
			return nil, errSSECNotApplies
		}
		return nil, nil
	case kindC:
		if c == nil {
			return nil, errSSECNeeded
		}
		salt, err1 := base64.StdEncoding.DecodeString(stored(headers, sseSalt))
		sum, err2 := base64.StdEncoding.DecodeString(stored(headers, sseKeyHash))
		if err1 != nil || err2 != nil || len(salt) == 0 {
			return nil, errSSECorrupt
		}
		if !hmac.Equal(sum, keyHash(salt, c.key)) {
			return nil, ErrAccessDenied
		}
		return s.unwrapObjectKey(kind, headers, c.key, c.md5, aad)
	case kindS3:
		if c != nil {
			return nil, errSSECNotApplies
		}
		if s.masterKey == nil {
			return nil, errSSENoMasterKey
		}
		return s.unwrapObjectKey(kind, headers, s.masterKey, "", aad)
	}
	return nil, errSSECorrupt
}

func (s *Server) unwrapObjectKey(kind string, headers map[string]string, kek []byte, keyMD5 string, aad []byte) (*objectKey, error) {
	wrapped, err1 := base64.StdEncoding.DecodeString(stored(headers, sseWrapped))
	iv, err2 := base64.StdEncoding.DecodeString(stored(headers, sseIV))
	if err1 != nil || err2 != nil || len(iv) != aes.BlockSize {
		return nil, errSSECorrupt
	}
	dataKey, err := unwrapKey(kek, wrapped, aad)
	if err != nil {
		return nil, errSSECorrupt
	}
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, errSSECorrupt
	}
	return &objectKey{kind: kind, block: block, iv: iv, keyMD5: keyMD5}, nil
}

func stored(h map[string]string, name string) string {
	v, _ := headerValue(h, name)
	return v
}

func keyHash(salt, key []byte) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write(key)
	return m.Sum(nil)
}

// keyAAD is what a data key is sealed to: its object's bucket and key
// when bound, the fixed label alone for objects stored before keys were
// bound.
func keyAAD(bound bool, bucket, key string) []byte {
	aad := []byte("basalt-sse-data-key")
	if bound {
		aad = append(aad, 0)
		aad = append(aad, bucket...)
		aad = append(aad, 0)
		aad = append(aad, key...)
	}
	return aad
}

// wrapKey seals a data key under kek with AES-256-GCM, bound to aad:
// nonce || sealed.
func wrapKey(kek, dataKey, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, dataKey, aad), nil
}

func unwrapKey(kek, wrapped, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < g.NonceSize() {
		return nil, errBadWrappedKey
	}
	out, err := g.Open(nil, wrapped[:g.NonceSize()], wrapped[g.NonceSize():], aad)
	if err != nil || len(out) != 32 {
		return nil, errBadWrappedKey
	}
	return out, nil
}

// stream is the CTR key stream of part at byte offset off of that part.
func (k *objectKey) stream(part int, off int64) cipher.Stream {
	var b [aes.BlockSize + 4]byte
	copy(b[:], k.iv)
	binary.BigEndian.PutUint32(b[aes.BlockSize:], uint32(part))
	sum := sha256.Sum256(b[:])
	ctr := sum[:aes.BlockSize]
	// Add the block index to the 128-bit big-endian counter.
	hi := binary.BigEndian.Uint64(ctr[:8])
	lo := binary.BigEndian.Uint64(ctr[8:])
	n := uint64(off / aes.BlockSize)
	if lo+n < lo {
		hi++
	}
	lo += n
	binary.BigEndian.PutUint64(ctr[:8], hi)
	binary.BigEndian.PutUint64(ctr[8:], lo)
	s := cipher.NewCTR(k.block, ctr)
	if skip := off % aes.BlockSize; skip > 0 {
		var tmp [aes.BlockSize]byte
		s.XORKeyStream(tmp[:skip], tmp[:skip])
	}
	return s
}

// encrypt wraps the plaintext r of part (from its start).
func (k *objectKey) encrypt(r io.Reader, part int) io.Reader {
	return &cipher.StreamReader{S: k.stream(part, 0), R: r}
}

// decryptReader decrypts the bytes of an object from offset pos on,
// switching key streams at part boundaries.
type decryptReader struct {
	r     io.Reader
	k     *objectKey
	parts []objectd.PartInfo
	pos   int64 // offset in the object of the next byte
	cur   cipher.Stream
	end   int64 // end (exclusive) of the current part
}

// decrypt wraps r, which reads info's stored bytes from offset off.
func (k *objectKey) decrypt(r io.Reader, info objectd.ObjectInfo, off int64) io.Reader {
	parts := info.Parts
	if len(parts) == 0 {
		parts = []objectd.PartInfo{{Number: 1, Size: info.Size}}
	}
	return &decryptReader{r: r, k: k, parts: parts, pos: off}
}

func (d *decryptReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if d.cur == nil || d.pos >= d.end {
		var start int64
		found := false
		for _, pt := range d.parts {
			if d.pos < start+pt.Size {
				d.cur = d.k.stream(pt.Number, d.pos-start)
				d.end = start + pt.Size
				found = true
				break
			}
			start += pt.Size
		}
		if !found {
			// Past the last part: only EOF (or an error) can follow.
			n, err := d.r.Read(p[:0])
			if err == nil && n == 0 {
				err = io.EOF
			}
			return 0, err
		}
	}
	if rem := d.end - d.pos; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := d.r.Read(p)
	d.cur.XORKeyStream(p[:n], p[:n])
	d.pos += int64(n)
	return n, err
}

// plainReader hashes the plaintext of a write: at EOF it checks the
// expected MD5 (Content-MD5) and hands the sum to done.
type plainReader struct {
	r    io.Reader
	h    hash.Hash
	want []byte
	done func(sum []byte)
}

func (p *plainReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.h.Write(b[:n])
	if err == io.EOF && p.h != nil {
		sum := p.h.Sum(nil)
		if p.want != nil && subtle.ConstantTimeCompare(sum, p.want) != 1 {
			return n, objectd.ErrBadDigest
		}
		if p.done != nil {
			p.done(sum)
			p.done = nil
		}
	}
	return n, err
}

// sealBody prepares the body of a write of exactly size bytes: with k set,
// it hashes the plaintext (checking contentMD5 and calling done with the
// MD5) and encrypts it as part; it returns the reader for the store and
// the Content-MD5 the store is to check (nil when checked here).
func sealBody(body io.Reader, size int64, k *objectKey, part int, contentMD5 []byte, done func([]byte)) (io.Reader, []byte) {
	if k == nil {
		return &exactReader{r: body, n: size}, contentMD5
	}
	pr := &plainReader{r: body, h: md5.New(), want: contentMD5, done: done}
	return k.encrypt(&exactReader{r: pr, n: size}, part), nil
}

// setSSEResponse adds the encryption headers S3 sends back for an object
// encrypted with k.
func setSSEResponse(h http.Header, k *objectKey) {
	if k == nil {
		return
	}
	switch k.kind {
	case kindS3:
		h.Set(hdrSSE, sseAES256)
	case kindC:
		h.Set(hdrSSECAlg, sseAES256)
		h.Set(hdrSSECKeyMD5, k.keyMD5)
	}
}

// setSSEStoredResponse adds the encryption headers of an object from its
// stored headers, without opening its key.
func setSSEStoredResponse(h http.Header, headers map[string]string) {
	switch stored(headers, sseKind) {
	case kindS3:
		h.Set(hdrSSE, sseAES256)
	case kindC:
		h.Set(hdrSSECAlg, sseAES256)
		h.Set(hdrSSECKeyMD5, stored(headers, sseKeyMD5))
	}
}

// isSSEHeader reports whether a stored header is encryption state.
func isSSEHeader(name string) bool {
	return len(name) >= len(ssePrefix) && strings.EqualFold(name[:len(ssePrefix)], ssePrefix)
}

// encryptedInfo reports whether an object is stored encrypted.
func encryptedInfo(info objectd.ObjectInfo) bool {
	for k := range info.Headers {
		if isSSEHeader(k) {
			return true
		}
	}
	return false
}

// clientETag is the entity tag clients see for an object: the plaintext MD5
// of a single-part SSE-S3 object, else the store's.
func clientETag(info objectd.ObjectInfo) string {
	if v := stored(info.Headers, sseETag); v != "" {
		return v
	}
	return info.ETag
}

// withClientETag returns info with its entity tag as clients see it.
func withClientETag(info objectd.ObjectInfo) objectd.ObjectInfo {
	info.ETag = clientETag(info)
	return info
}

// refuseSSEOnRead fails a GET or HEAD that names SSE-S3 or SSE-KMS: S3
// takes those headers only on writes.
func refuseSSEOnRead(h http.Header) error {
	if h.Get(hdrSSE) != "" || h.Get(hdrSSEKMSKey) != "" {
		return errSSEOnRead
	}
	return nil
}

// Bucket default encryption.

type encryptionConfig struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionConfiguration"`
	Xmlns   string           `xml:"xmlns,attr,omitempty"`
	Rules   []encryptionRule `xml:"Rule"`
}

type encryptionRule struct {
	Default *struct {
		SSEAlgorithm   string `xml:"SSEAlgorithm"`
		KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
	} `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled *bool `xml:"BucketKeyEnabled,omitempty"`
}

// bucketEncryption is a bucket's default algorithm ("" for none).
func (s *Server) bucketEncryption(bucket string) string {
	if s.catalog == nil {
		return ""
	}
	var alg string
	if ok, err := catalog.BucketSetting(s.catalog.View(), bucket, encryptionSetting, &alg); !ok || err != nil {
		return ""
	}
	return alg
}

func (q *request) getBucketEncryption() error {
	var alg string
	ok, err := q.setting(encryptionSetting, &alg)
	if err != nil {
		return err
	}
	if !ok || alg == "" {
		return ErrNoSuchEncryption
	}
	doc := encryptionConfig{Xmlns: s3Namespace, Rules: []encryptionRule{{}}}
	doc.Rules[0].Default = &struct {
		SSEAlgorithm   string `xml:"SSEAlgorithm"`
		KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
	}{SSEAlgorithm: alg}
	f := false
	doc.Rules[0].BucketKeyEnabled = &f
	q.writeXML(http.StatusOK, doc)
	return nil
}

func (q *request) putBucketEncryption() error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	var doc encryptionConfig
	ok, _, err := q.readXMLBody(maxSmallXMLBody, &doc)
	if err != nil {
		return err
	}
	if !ok || len(doc.Rules) != 1 || doc.Rules[0].Default == nil {
		return ErrMalformedXML
	}
	switch doc.Rules[0].Default.SSEAlgorithm {
	case sseAES256:
	case "aws:kms", "aws:kms:dsse":
		return errSSEKMS
	default:
		return ErrMalformedXML
	}
	if doc.Rules[0].Default.KMSMasterKeyID != "" {
		return ErrInvalidArgument.withMessage("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
	}
	if q.s.masterKey == nil {
		return errSSENoMasterKey
	}
	return q.storeSetting(encryptionSetting, sseAES256, http.StatusOK)
}

func (q *request) deleteBucketEncryption() error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	if q.s.catalog == nil {
		q.writeEmpty(http.StatusNoContent)
		return nil
	}
	return q.storeSetting(encryptionSetting, nil, http.StatusNoContent)
}

// plaintextETag is the hex form of an MD5.
func plaintextETag(sum []byte) string { return hex.EncodeToString(sum) }

// newKey makes the data key of a new object (or upload) bucket/key as enc
// asks, recording it in opts.Headers; nil when enc asks for no encryption.
func (q *request) newKey(enc sseWrite, opts *objectd.PutOptions, bucket, key string) (*objectKey, error) {
	if enc.kind == "" {
		return nil, nil
	}
	for k := range opts.Headers {
		if isSSEHeader(k) {
			delete(opts.Headers, k)
		}
	}
	if opts.Headers == nil {
		opts.Headers = map[string]string{}
	}
	return q.s.newObjectKey(enc, opts.Headers, bucket, key)
}

// plainETagSetter returns what records the plaintext MD5 of a single-part
// SSE-S3 object as its entity tag (S3 reports it; for SSE-C it does not).
func plainETagSetter(k *objectKey, headers map[string]string) func([]byte) {
	if k == nil || k.kind != kindS3 {
		return nil
	}
	return func(sum []byte) { headers[sseETag] = plaintextETag(sum) }
}
