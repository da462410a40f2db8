package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// sseEnv is a server with a catalog (for bucket default encryption) and,
// unless masterKey is nil, an SSE-S3 master key; disks are its folders.
type sseEnv struct {
	*env
	disks []string
}

func newSSEEnv(t testing.TB, masterKey []byte) *sseEnv {
	t.Helper()
	ce := newConfigEnvWithKey(t, masterKey)
	return &sseEnv{env: ce.env, disks: ce.disks}
}

func testMasterKey() []byte { return bytes.Repeat([]byte{0x5a}, 32) }

// payload is n bytes that never repeat a 16-byte window at the same
// alignment, with marker at the start.
func payload(marker string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	copy(b, marker)
	return b
}

func ssecKey(seed byte) encrypt.ServerSide {
	k, err := encrypt.NewSSEC(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		panic(err)
	}
	return k
}

// ssecHeaders are the raw SSE-C headers of key (prefix "X-Amz-" or
// "X-Amz-Copy-Source-").
func ssecHeaders(h http.Header, prefix string, key []byte) http.Header {
	if h == nil {
		h = http.Header{}
	}
	sum := md5.Sum(key)
	h.Set(prefix+"Server-Side-Encryption-Customer-Algorithm", "AES256")
	h.Set(prefix+"Server-Side-Encryption-Customer-Key", base64.StdEncoding.EncodeToString(key))
	h.Set(prefix+"Server-Side-Encryption-Customer-Key-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	return h
}

func (e *sseEnv) get(bucket, key string, opts minio.GetObjectOptions) ([]byte, error) {
	ctx := context.Background()
	o, err := e.minio.GetObject(ctx, bucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	return io.ReadAll(o)
}

func TestSSECRoundTrip(t *testing.T) {
	e := newSSEEnv(t, testMasterKey())
	ctx := context.Background()
	e.mkBucket("bkt")
	body := payload("ssec-single", 300<<10)
	key := ssecKey(1)
	up, err := e.minio.PutObject(ctx, "bkt", "o", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{ServerSideEncryption: key})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	if up.ETag == hex.EncodeToString(sum[:]) {
		t.Errorf("SSE-C ETag is the plaintext MD5 %s", up.ETag)
	}
	got, err := e.get("bkt", "o", minio.GetObjectOptions{ServerSideEncryption: key})
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET with key: %d bytes, %v", len(got), err)
	}
	st, err := e.minio.StatObject(ctx, "bkt", "o", minio.StatObjectOptions{ServerSideEncryption: key})
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(len(body)) || st.Metadata.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") != "AES256" ||
		st.Metadata.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") == "" {
		t.Errorf("HEAD: size %d, headers %v", st.Size, st.Metadata)
	}
	for k := range st.Metadata {
		if strings.HasPrefix(strings.ToLower(k), "x-basalt") {
			t.Errorf("internal header %s sent", k)
		}
	}
	// A range from inside one block to inside another.
	opts := minio.GetObjectOptions{ServerSideEncryption: key}
	opts.SetRange(1000, 70000)
	got, err = e.get("bkt", "o", opts)
	if err != nil || !bytes.Equal(got, body[1000:70001]) {
		t.Fatalf("range: %d bytes, %v", len(got), err)
	}
	// Without the key, with a wrong key.
	r := e.raw("GET", "/bkt/o", nil, nil)
	if r.status != 400 || r.code != "InvalidRequest" {
		t.Errorf("GET without key: %d %s", r.status, r.code)
	}
	r = e.raw("HEAD", "/bkt/o", nil, nil)
	if r.status != 400 {
		t.Errorf("HEAD without key: %d", r.status)
	}
	r = e.raw("GET", "/bkt/o", nil, ssecHeaders(nil, "X-Amz-", bytes.Repeat([]byte{2}, 32)))
	if r.status != 403 || r.code != "AccessDenied" {
		t.Errorf("GET with a wrong key: %d %s", r.status, r.code)
	}
	r = e.raw("HEAD", "/bkt/o", nil, ssecHeaders(nil, "X-Amz-", bytes.Repeat([]byte{2}, 32)))
	if r.status != 403 {
		t.Errorf("HEAD with a wrong key: %d", r.status)
	}
	// GetObjectAttributes asks for the key as HEAD does.
	attrs := func(key []byte) rawResponse {
		h := http.Header{"X-Amz-Object-Attributes": {"ObjectSize"}}
		if key != nil {
			ssecHeaders(h, "X-Amz-", key)
		}
		return e.raw("GET", "/bkt/o?attributes", nil, h)
	}
	if r := attrs(nil); r.status != 400 || r.code != "InvalidRequest" {
		t.Errorf("attributes without key: %d %s", r.status, r.code)
	}
	if r := attrs(bytes.Repeat([]byte{2}, 32)); r.status != 403 || r.code != "AccessDenied" {
		t.Errorf("attributes with a wrong key: %d %s", r.status, r.code)
	}
	if r := attrs(bytes.Repeat([]byte{1}, 32)); r.status != 200 || !strings.Contains(string(r.body), "<ObjectSize>"+strconv.Itoa(len(body))+"</ObjectSize>") {
		t.Errorf("attributes with the key: %d %s", r.status, r.body)
	}
	// A key given for an object stored without encryption.
	e.put("bkt", "plain", "hello")
	r = e.raw("GET", "/bkt/plain", nil, ssecHeaders(nil, "X-Amz-", bytes.Repeat([]byte{1}, 32)))
	if r.status != 400 || r.code != "InvalidRequest" {
		t.Errorf("GET of a plain object with a key: %d %s", r.status, r.code)
	}
	// Listings show the real size.
	for o := range e.minio.ListObjects(ctx, "bkt", minio.ListObjectsOptions{}) {
		if o.Key == "o" && o.Size != int64(len(body)) {
			t.Errorf("listed size %d, want %d", o.Size, len(body))
		}
	}
}

func TestSSES3RoundTrip(t *testing.T) {
	e := newSSEEnv(t, testMasterKey())
	ctx := context.Background()
	e.mkBucket("bkt")
	body := payload("sses3-single", 100<<10)
	up, err := e.minio.PutObject(ctx, "bkt", "o", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{ServerSideEncryption: encrypt.NewSSE()})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(body)
	if up.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("SSE-S3 ETag %s, want the plaintext MD5", up.ETag)
	}
	got, err := e.get("bkt", "o", minio.GetObjectOptions{})
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET: %d bytes, %v", len(got), err)
	}
	out, err := e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("o")})
	if err != nil {
		t.Fatal(err)
	}
	if out.ServerSideEncryption != types.ServerSideEncryptionAes256 || strings.Trim(aws.ToString(out.ETag), `"`) != hex.EncodeToString(sum[:]) {
		t.Errorf("HEAD: sse %q etag %s", out.ServerSideEncryption, aws.ToString(out.ETag))
	}
	// If-Match with the plaintext ETag holds.
	r := e.raw("GET", "/bkt/o", nil, http.Header{"If-Match": {`"` + hex.EncodeToString(sum[:]) + `"`}, "Range": {"bytes=5-9"}})
	if r.status != 206 || !bytes.Equal(r.body, body[5:10]) {
		t.Errorf("conditional range: %d %q", r.status, r.body)
	}
	// A Content-MD5 is checked against the plaintext.
	r = e.raw("PUT", "/bkt/md5", []byte("abc"), http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}, "Content-Md5": {md5b64("abc")}})
	if r.status != 200 {
		t.Errorf("PUT with the right Content-MD5: %d %s", r.status, r.code)
	}
	r = e.raw("PUT", "/bkt/md5bad", []byte("abc"), http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}, "Content-Md5": {md5b64("abd")}})
	if r.status != 400 || r.code != "BadDigest" {
		t.Errorf("PUT with a wrong Content-MD5: %d %s", r.status, r.code)
	}
	if r := e.raw("HEAD", "/bkt/md5bad", nil, nil); r.status != 404 {
		t.Errorf("refused PUT stored something: %d", r.status)
	}
}

// multipartUpload uploads parts of body with aws-sdk-go-v2, each request
// carrying its SSE headers.
func multipartUpload(t *testing.T, e *sseEnv, bucket, key string, body []byte, partSize int, ssec []byte, sses3 bool) {
	t.Helper()
	ctx := context.Background()
	var alg, k, kmd5 *string
	if ssec != nil {
		sum := md5.Sum(ssec)
		alg, k, kmd5 = aws.String("AES256"), aws.String(base64.StdEncoding.EncodeToString(ssec)), aws.String(base64.StdEncoding.EncodeToString(sum[:]))
	}
	in := &awss3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key, SSECustomerAlgorithm: alg, SSECustomerKey: k, SSECustomerKeyMD5: kmd5}
	if sses3 {
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	}
	cr, err := e.aws.CreateMultipartUpload(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for n, off := int32(1), 0; off < len(body); n, off = n+1, off+partSize {
		end := min(off+partSize, len(body))
		pr, err := e.aws.UploadPart(ctx, &awss3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: cr.UploadId, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(body[off:end]), SSECustomerAlgorithm: alg, SSECustomerKey: k, SSECustomerKeyMD5: kmd5})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", n, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: pr.ETag})
	}
	res, err := e.aws.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
	if sses3 && res.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("complete: sse %q", res.ServerSideEncryption)
	}
}

func TestSSEMultipartRanges(t *testing.T) {
	e := newSSEEnv(t, testMasterKey())
	ctx := context.Background()
	e.mkBucket("bkt")
	const part = 5 << 20
	body := payload("multipart-marker", 2*part+12345)
	ckey := bytes.Repeat([]byte{7}, 32)
	multipartUpload(t, e, "bkt", "c", body, part, ckey, false)
	multipartUpload(t, e, "bkt", "s", body, part, nil, true)
	sc, _ := encrypt.NewSSEC(ckey)
	for _, tc := range []struct {
		key string
		sse encrypt.ServerSide
	}{{"c", sc}, {"s", nil}} {
		got, err := e.get("bkt", tc.key, minio.GetObjectOptions{ServerSideEncryption: tc.sse})
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s: whole object: %d bytes, %v", tc.key, len(got), err)
		}
		for _, rg := range [][2]int64{{part - 5, part + 5}, {part - 1, 2*part + 3}, {3, 17}, {2*part + 100, int64(len(body)) - 1}} {
			opts := minio.GetObjectOptions{ServerSideEncryption: tc.sse}
			opts.SetRange(rg[0], rg[1])
			got, err := e.get("bkt", tc.key, opts)
			if err != nil || !bytes.Equal(got, body[rg[0]:rg[1]+1]) {
				t.Errorf("%s: range %v: %d bytes, %v", tc.key, rg, len(got), err)
			}
		}
		opts := minio.GetObjectOptions{ServerSideEncryption: tc.sse, PartNumber: 2}
		got, err = e.get("bkt", tc.key, opts)
		if err != nil || !bytes.Equal(got, body[part:2*part]) {
			t.Errorf("%s: part 2: %d bytes, %v", tc.key, len(got), err)
		}
	}
	// A part without the upload's key is refused.
	cr, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("x"),
		SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(base64.StdEncoding.EncodeToString(ckey)),
		SSECustomerKeyMD5: aws.String(md5b64(string(ckey)))})
	if err != nil {
		t.Fatal(err)
	}
	r := e.raw("PUT", "/bkt/x?partNumber=1&uploadId="+aws.ToString(cr.UploadId), []byte("part"), nil)
	if r.status != 400 || r.code != "InvalidRequest" {
		t.Errorf("part without key: %d %s", r.status, r.code)
	}
	r = e.raw("PUT", "/bkt/x?partNumber=1&uploadId="+aws.ToString(cr.UploadId), []byte("part"), ssecHeaders(nil, "X-Amz-", bytes.Repeat([]byte{8}, 32)))
	if r.status != 403 || r.code != "AccessDenied" {
		t.Errorf("part with another key: %d %s", r.status, r.code)
	}
}

func TestSSECopyBetweenKinds(t *testing.T) {
	e := newSSEEnv(t, testMasterKey())
	ctx := context.Background()
	e.mkBucket("bkt")
	body := payload("copy-marker", 200<<10)
	k1, k2 := ssecKey(1), ssecKey(2)
	if _, err := e.minio.PutObject(ctx, "bkt", "plain", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		src, dst     string
		srcSSE, dSSE encrypt.ServerSide
	}{
		{"plain", "c1", nil, k1},
		{"c1", "c2", k1, k2},
		{"c2", "s3", k2, encrypt.NewSSE()},
		{"s3", "plain2", nil, nil},
		{"s3", "c3", nil, k1},
	}
	for _, s := range steps {
		src := minio.CopySrcOptions{Bucket: "bkt", Object: s.src}
		if s.srcSSE != nil {
			src.Encryption = s.srcSSE
		}
		dst := minio.CopyDestOptions{Bucket: "bkt", Object: s.dst, Encryption: s.dSSE}
		if _, err := e.minio.CopyObject(ctx, dst, src); err != nil {
			t.Fatalf("copy %s -> %s: %v", s.src, s.dst, err)
		}
		var rd encrypt.ServerSide
		if s.dSSE != nil && s.dSSE.Type() == encrypt.SSEC {
			rd = s.dSSE
		}
		got, err := e.get("bkt", s.dst, minio.GetObjectOptions{ServerSideEncryption: rd})
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s: %d bytes, %v", s.dst, len(got), err)
		}
	}
	st, err := e.minio.StatObject(ctx, "bkt", "plain2", minio.StatObjectOptions{})
	if err != nil || st.Metadata.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Errorf("copy to plain: %v %v", err, st.Metadata)
	}
	// A copy of an SSE-C source without its key is refused.
	r := e.raw("PUT", "/bkt/nokey", nil, http.Header{"X-Amz-Copy-Source": {"/bkt/c1"}})
	if r.status != 400 || r.code != "InvalidRequest" {
		t.Errorf("copy without source key: %d %s", r.status, r.code)
	}
	// Re-encrypting an object in place is allowed.
	r = e.raw("PUT", "/bkt/plain", nil, http.Header{"X-Amz-Copy-Source": {"/bkt/plain"}, "X-Amz-Server-Side-Encryption": {"AES256"}})
	if r.status != 200 {
		t.Errorf("copy to itself with SSE: %d %s", r.status, r.code)
	}
	// UploadPartCopy: ranges of an SSE-C source into an SSE-S3 upload.
	cr, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"),
		ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		t.Fatal(err)
	}
	key1 := bytes.Repeat([]byte{1}, 32)
	var parts []types.CompletedPart
	ranges := [][2]int{{0, 5<<20 - 1}, {5 << 20, len(body) - 1}}
	big := payload("big-copy-source", 6<<20)
	if _, err := e.minio.PutObject(ctx, "bkt", "bigc", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{ServerSideEncryption: k1}); err != nil {
		t.Fatal(err)
	}
	ranges[1][1] = len(big) - 1
	for i, rg := range ranges {
		sum := md5.Sum(key1)
		out, err := e.aws.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String("bkt/bigc"),
			CopySourceRange:                aws.String("bytes=" + strconv.Itoa(rg[0]) + "-" + strconv.Itoa(rg[1])),
			CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: aws.String(base64.StdEncoding.EncodeToString(key1)),
			CopySourceSSECustomerKeyMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
		if err != nil {
			t.Fatalf("UploadPartCopy %d: %v", i+1, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	if _, err := e.aws.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"),
		UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.get("bkt", "mp", minio.GetObjectOptions{})
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("part copies: %d bytes, %v", len(got), err)
	}
}

func TestBucketDefaultEncryption(t *testing.T) {
	e := newSSEEnv(t, testMasterKey())
	ctx := context.Background()
	e.mkBucket("bkt")
	if _, err := e.aws.GetBucketEncryption(ctx, &awss3.GetBucketEncryptionInput{Bucket: aws.String("bkt")}); err == nil ||
		!strings.Contains(err.Error(), "ServerSideEncryptionConfigurationNotFoundError") {
		t.Fatalf("GetBucketEncryption before any: %v", err)
	}
	_, err := e.aws.PutBucketEncryption(ctx, &awss3.PutBucketEncryptionInput{Bucket: aws.String("bkt"),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.aws.GetBucketEncryption(ctx, &awss3.GetBucketEncryptionInput{Bucket: aws.String("bkt")})
	if err != nil || len(out.ServerSideEncryptionConfiguration.Rules) != 1 ||
		out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
		t.Fatalf("GetBucketEncryption: %+v %v", out, err)
	}
	e.put("bkt", "o", "default-encrypted-marker")
	st, err := e.minio.StatObject(ctx, "bkt", "o", minio.StatObjectOptions{})
	if err != nil || st.Metadata.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Errorf("object under the default: %v %v", err, st.Metadata)
	}
	// A browser POST upload gets the default too.
	target, fields := presignPost(t, e.minio, basicPolicy(t, "bkt", "posted"))
	if r := postForm(t, http.DefaultClient, target, fields, "file", "f.txt", []byte("posted-and-encrypted")); r.status/100 != 2 {
		t.Fatalf("POST upload: %d", r.status)
	}
	st, err = e.minio.StatObject(ctx, "bkt", "posted", minio.StatObjectOptions{})
	if err != nil || st.Metadata.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Errorf("POSTed object under the default: %v %v", err, st.Metadata)
	}
	if got, err := e.get("bkt", "posted", minio.GetObjectOptions{}); err != nil || string(got) != "posted-and-encrypted" {
		t.Errorf("GET of the POSTed object: %q %v", got, err)
	}
	if got, err := e.get("bkt", "o", minio.GetObjectOptions{}); err != nil || string(got) != "default-encrypted-marker" {
		t.Errorf("GET: %q %v", got, err)
	}
	// A KMS default is not implemented.
	r := e.raw("PUT", "/bkt?encryption", []byte(`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`),
		xmlHeaders(`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`))
	if r.status != 501 {
		t.Errorf("KMS default: %d %s", r.status, r.code)
	}
	if _, err := e.aws.DeleteBucketEncryption(ctx, &awss3.DeleteBucketEncryptionInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.GetBucketEncryption(ctx, &awss3.GetBucketEncryptionInput{Bucket: aws.String("bkt")}); err == nil {
		t.Error("GetBucketEncryption after delete succeeded")
	}
	e.put("bkt", "p", "plain")
	st, err = e.minio.StatObject(ctx, "bkt", "p", minio.StatObjectOptions{})
	if err != nil || st.Metadata.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Errorf("object after delete: %v %v", err, st.Metadata)
	}
}

func TestSSERefusals(t *testing.T) {
	e := newSSEEnv(t, testMasterKey())
	e.mkBucket("bkt")
	key := bytes.Repeat([]byte{3}, 32)
	short := bytes.Repeat([]byte{3}, 16)
	wrongMD5 := ssecHeaders(nil, "X-Amz-", key)
	wrongMD5.Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", md5b64("other"))
	noMD5 := ssecHeaders(nil, "X-Amz-", key)
	noMD5.Del("X-Amz-Server-Side-Encryption-Customer-Key-Md5")
	noKey := ssecHeaders(nil, "X-Amz-", key)
	noKey.Del("X-Amz-Server-Side-Encryption-Customer-Key")
	badAlg := ssecHeaders(nil, "X-Amz-", key)
	badAlg.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES128")
	both := ssecHeaders(nil, "X-Amz-", key)
	both.Set("X-Amz-Server-Side-Encryption", "AES256")
	for _, tc := range []struct {
		name   string
		h      http.Header
		status int
		code   string
	}{
		{"short key", ssecHeaders(nil, "X-Amz-", short), 400, "InvalidArgument"},
		{"MD5 mismatch", wrongMD5, 400, "InvalidArgument"},
		{"no MD5", noMD5, 400, "InvalidArgument"},
		{"no key", noKey, 400, "InvalidArgument"},
		{"SSE-C algorithm", badAlg, 400, "InvalidEncryptionAlgorithmError"},
		{"SSE-C and SSE-S3", both, 400, "InvalidArgument"},
		{"unknown SSE", http.Header{"X-Amz-Server-Side-Encryption": {"AES512"}}, 400, "InvalidArgument"},
		{"KMS", http.Header{"X-Amz-Server-Side-Encryption": {"aws:kms"}}, 501, "NotImplemented"},
	} {
		r := e.raw("PUT", "/bkt/refused", []byte("refused-body"), tc.h)
		if r.status != tc.status || r.code != tc.code {
			t.Errorf("%s: PUT %d %s, want %d %s", tc.name, r.status, r.code, tc.status, tc.code)
		}
		r = e.raw("POST", "/bkt/refused-mp?uploads", nil, tc.h)
		if r.status != tc.status || r.code != tc.code {
			t.Errorf("%s: CreateMultipartUpload %d %s, want %d %s", tc.name, r.status, r.code, tc.status, tc.code)
		}
	}
	if r := e.raw("HEAD", "/bkt/refused", nil, nil); r.status != 404 {
		t.Errorf("a refused PUT stored the object: %d", r.status)
	}
	r := e.raw("GET", "/bkt?uploads", nil, nil)
	if bytes.Contains(r.body, []byte("refused-mp")) {
		t.Errorf("a refused CreateMultipartUpload left an upload: %s", r.body)
	}
	// SSE-S3 on a GET is refused.
	e.put("bkt", "p", "x")
	if r := e.raw("GET", "/bkt/p", nil, http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}}); r.status != 400 {
		t.Errorf("GET with x-amz-server-side-encryption: %d", r.status)
	}
}

func TestSSEWithoutMasterKey(t *testing.T) {
	e := newSSEEnv(t, nil)
	e.mkBucket("bkt")
	r := e.raw("PUT", "/bkt/o", []byte("x"), http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}})
	if r.status != 501 || r.code != "NotImplemented" {
		t.Errorf("SSE-S3 without a master key: %d %s", r.status, r.code)
	}
	doc := `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`
	if r := e.raw("PUT", "/bkt?encryption", []byte(doc), xmlHeaders(doc)); r.status != 501 {
		t.Errorf("bucket default without a master key: %d %s", r.status, r.code)
	}
	key := bytes.Repeat([]byte{4}, 32)
	if r := e.raw("PUT", "/bkt/c", []byte("ssec"), ssecHeaders(nil, "X-Amz-", key)); r.status != 200 {
		t.Fatalf("SSE-C without a master key: %d %s", r.status, r.code)
	}
	if r := e.raw("GET", "/bkt/c", nil, ssecHeaders(nil, "X-Amz-", key)); r.status != 200 || string(r.body) != "ssec" {
		t.Errorf("GET: %d %q", r.status, r.body)
	}
}

// TestSSENoPlaintextOnDisk: no file under the disks holds the marker of an
// encrypted object (small ones kept inline in records included), while the
// marker of a plain object is found, so that the search is shown to work.
func TestSSENoPlaintextOnDisk(t *testing.T) {
	e := newSSEEnv(t, testMasterKey())
	ctx := context.Background()
	e.mkBucket("bkt")
	markers := map[string]bool{}
	put := func(key, marker string, size int, sse encrypt.ServerSide) {
		body := payload(marker, size)
		if _, err := e.minio.PutObject(ctx, "bkt", key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{ServerSideEncryption: sse}); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []int{64, 200 << 10} {
		n := strconv.Itoa(size)
		put("c"+n, "SECRET-SSEC-MARKER-"+n, size, ssecKey(9))
		put("s"+n, "SECRET-SSES3-MARKER-"+n, size, encrypt.NewSSE())
		markers["SECRET-SSEC-MARKER-"+n] = false
		markers["SECRET-SSES3-MARKER-"+n] = false
	}
	mp := payload("SECRET-MULTIPART-MARKER", 6<<20)
	copy(mp[5<<20:], "SECRET-MULTIPART-PART2")
	multipartUpload(t, e, "bkt", "mp", mp, 5<<20, nil, true)
	markers["SECRET-MULTIPART-MARKER"] = false
	markers["SECRET-MULTIPART-PART2"] = false
	put("plain", "VISIBLE-PLAIN-MARKER", 200<<10, nil)
	plainSeen := false
	for _, d := range e.disks {
		err := filepath.WalkDir(d, func(path string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			for m := range markers {
				if bytes.Contains(b, []byte(m)) {
					markers[m] = true
					t.Errorf("%s holds %s", path, m)
				}
			}
			if bytes.Contains(b, []byte("VISIBLE-PLAIN-MARKER")) {
				plainSeen = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !plainSeen {
		t.Error("the plain object's marker was not found on disk: the search does not work")
	}
}
