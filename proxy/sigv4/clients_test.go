package sigv4

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/basaltstore/basalt/objectd/checksum"
)

// End to end: real S3 clients talk to an httptest server on 127.0.0.1
// whose handler authenticates with Verify, checks the additional checksum
// (header or trailer) with the checksum package, keeps the payload and
// answers like S3.

type upload struct {
	method    string
	path      string
	accessKey string
	payload   string // x-amz-content-sha256 as sent
	data      []byte
	alg       checksum.Algorithm
	sum       string // checksum the client sent, header or trailer
}

type stub struct {
	srv     *httptest.Server
	mu      sync.Mutex
	uploads []upload
}

func newStub(t *testing.T, useTLS bool) *stub {
	t.Helper()
	s := &stub{}
	v := &Verifier{Region: "eu-basalt-1", Creds: keys{testAK: testSK}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, v) })
	if useTLS {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	if !strings.HasPrefix(s.srv.Listener.Addr().String(), "127.0.0.1:") {
		t.Fatalf("listening on %s", s.srv.Listener.Addr())
	}
	return s
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request, v *Verifier) {
	res, err := v.Verify(r)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	defer res.Body.Close()
	u := upload{method: r.Method, path: r.URL.EscapedPath(), accessKey: res.AccessKey, payload: r.Header.Get("X-Amz-Content-Sha256")}

	var body io.Reader = res.Body
	var cr *checksum.Reader
	if name := r.Header.Get("X-Amz-Trailer"); name != "" {
		alg, err := checksum.FromHeaderName(name)
		if err != nil {
			writeS3Error(w, err)
			return
		}
		u.alg = alg
		cr = checksum.NewReader(res.Body, alg, func() string {
			u.sum = res.Trailer().Get(alg.Header())
			return u.sum
		})
	} else if alg, value, err := checksum.Find(r.Header); err != nil {
		writeS3Error(w, err)
		return
	} else if alg != "" {
		u.alg, u.sum = alg, value
		cr = checksum.NewReader(res.Body, alg, func() string { return value })
	}
	if cr != nil {
		body = cr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	u.data = data
	s.mu.Lock()
	s.uploads = append(s.uploads, u)
	s.mu.Unlock()

	sum := md5.Sum(data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	if cr != nil {
		w.Header().Set(u.alg.Header(), cr.Sum())
	}
	w.WriteHeader(http.StatusOK)
}

func (s *stub) last(t *testing.T) upload {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.uploads) == 0 {
		t.Fatal("nothing reached the handler")
	}
	return s.uploads[len(s.uploads)-1]
}

func writeS3Error(w http.ResponseWriter, err error) {
	code, status, msg := "InternalError", http.StatusInternalServerError, err.Error()
	var e *Error
	switch {
	case errors.As(err, &e):
		code, status, msg = e.Code, e.Status, e.Message
	case errors.Is(err, checksum.ErrMismatch):
		code, status = "BadDigest", http.StatusBadRequest
	case errors.Is(err, checksum.ErrBadValue), errors.Is(err, checksum.ErrUnknownAlgorithm):
		code, status = "InvalidRequest", http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>%s</Message></Error>`,
		code, html.EscapeString(msg))
}

// sdkClient is configured as config.LoadDefaultConfig would: checksums
// computed whenever the operation supports them.
func sdkClient(s *stub, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "eu-basalt-1",
		Credentials:                awscreds.NewStaticCredentialsProvider(testAK, secret, ""),
		BaseEndpoint:               aws.String(s.srv.URL),
		UsePathStyle:               true,
		HTTPClient:                 s.srv.Client(),
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
}

func checksumOf(a checksum.Algorithm, data []byte) string {
	h := a.New()
	h.Write(data)
	return a.Encode(h.Sum(nil))
}

func TestAWSSDKPutObject(t *testing.T) {
	cases := []struct {
		name        string
		tls         bool
		alg         types.ChecksumAlgorithm
		size        int
		wantPayload string // x-amz-content-sha256 the client is expected to choose; "hex" for a digest
		wantAlg     checksum.Algorithm
	}{
		// Over TLS the SDK streams aws-chunked with a trailing checksum
		// (CRC32 unless told otherwise); 3 MiB also makes it send Expect.
		{"TLS default checksum", true, "", 3<<20 + 5, streamingUnsignedTrailer, checksum.CRC32},
		{"TLS CRC64NVME", true, types.ChecksumAlgorithmCrc64nvme, 200000, streamingUnsignedTrailer, checksum.CRC64NVME},
		{"TLS SHA256", true, types.ChecksumAlgorithmSha256, 70000, streamingUnsignedTrailer, checksum.SHA256},
		{"TLS CRC32C empty object", true, types.ChecksumAlgorithmCrc32c, 0, "", checksum.CRC32C},
		// Over plain HTTP it signs the payload's SHA-256 and sends the
		// checksum as a header.
		{"HTTP default", false, "", 150000, "hex", checksum.CRC32},
		{"HTTP SHA1", false, types.ChecksumAlgorithmSha1, 1000, "hex", checksum.SHA1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStub(t, c.tls)
			data := randomBytes(c.size, uint64(c.size)+1)
			in := &s3.PutObjectInput{
				Bucket: aws.String("bucket"),
				Key:    aws.String("dir/a key+with (odd) chars.bin"),
				Body:   bytes.NewReader(data),
			}
			if c.alg != "" {
				in.ChecksumAlgorithm = c.alg
			}
			out, err := sdkClient(s, testSK).PutObject(context.Background(), in)
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			u := s.last(t)
			if !bytes.Equal(u.data, data) {
				t.Fatalf("stored %d bytes, sent %d", len(u.data), len(data))
			}
			if u.accessKey != testAK || u.method != http.MethodPut || u.path != "/bucket/dir/a%20key%2Bwith%20%28odd%29%20chars.bin" {
				t.Errorf("upload = %s %s by %q", u.method, u.path, u.accessKey)
			}
			switch {
			case c.wantPayload == "hex":
				if len(u.payload) != 64 {
					t.Errorf("x-amz-content-sha256 = %q, want a digest", u.payload)
				}
			case c.wantPayload != "" && u.payload != c.wantPayload:
				t.Errorf("x-amz-content-sha256 = %q, want %q", u.payload, c.wantPayload)
			}
			if u.alg != c.wantAlg || u.sum != checksumOf(c.wantAlg, data) {
				t.Errorf("checksum %s = %q, want %s %q", u.alg, u.sum, c.wantAlg, checksumOf(c.wantAlg, data))
			}
			if md5sum := md5.Sum(data); aws.ToString(out.ETag) != `"`+hex.EncodeToString(md5sum[:])+`"` {
				t.Errorf("ETag = %s", aws.ToString(out.ETag))
			}
		})
	}
}

func TestAWSSDKWrongSecret(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		s := newStub(t, useTLS)
		_, err := sdkClient(s, "not the secret").PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("bucket"), Key: aws.String("k"), Body: bytes.NewReader([]byte("data")),
		})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "SignatureDoesNotMatch" {
			t.Errorf("tls=%v: error = %v, want SignatureDoesNotMatch", useTLS, err)
		}
	}
}

func TestAWSSDKPresigned(t *testing.T) {
	s := newStub(t, true)
	pc := s3.NewPresignClient(sdkClient(s, testSK))
	ctx := context.Background()

	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("photos/a b.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.srv.Client().Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned GET: %s", resp.Status)
	}
	if u := s.last(t); u.method != http.MethodGet || u.accessKey != testAK {
		t.Errorf("presigned GET seen as %+v", u)
	}

	data := randomBytes(50000, 3)
	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("up.bin")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, put.URL, bytes.NewReader(data))
	for k, vs := range put.SignedHeader {
		if !strings.EqualFold(k, "host") {
			req.Header[k] = vs
		}
	}
	resp, err = s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(s.last(t).data, data) {
		t.Fatalf("presigned PUT: %s", resp.Status)
	}

	// The same URL with its signature altered is refused.
	bad, _ := url.Parse(get.URL)
	q := bad.Query()
	sig := []byte(q.Get("X-Amz-Signature"))
	sig[0] ^= 1
	q.Set("X-Amz-Signature", string(sig))
	bad.RawQuery = q.Encode()
	resp, err = s.srv.Client().Get(bad.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("<Code>SignatureDoesNotMatch</Code>")) {
		t.Errorf("altered presigned URL: %s %s", resp.Status, body)
	}
}

func minioClient(t *testing.T, s *stub, secret string, useTLS, trailing bool) *minio.Client {
	t.Helper()
	mc, err := minio.New(s.srv.Listener.Addr().String(), &minio.Options{
		Creds:           miniocreds.NewStaticV4(testAK, secret, ""),
		Secure:          useTLS,
		Region:          "eu-basalt-1",
		BucketLookup:    minio.BucketLookupPath,
		Transport:       s.srv.Client().Transport,
		TrailingHeaders: trailing,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

func TestMinioPutObject(t *testing.T) {
	cases := []struct {
		name        string
		tls         bool
		trailing    bool
		checksum    minio.ChecksumType
		wantPayload string
		wantAlg     checksum.Algorithm
	}{
		{"HTTP signed chunks", false, false, minio.ChecksumNone, streamingSigned, ""},
		{"HTTP signed chunks with CRC32C trailer", false, true, minio.ChecksumCRC32C, streamingSignedTrailer, checksum.CRC32C},
		{"HTTP signed chunks with SHA256 trailer", false, true, minio.ChecksumSHA256, streamingSignedTrailer, checksum.SHA256},
		{"TLS unsigned chunks with CRC32C trailer", true, true, minio.ChecksumCRC32C, streamingUnsignedTrailer, checksum.CRC32C},
		{"TLS unsigned chunks with CRC64NVME trailer", true, true, minio.ChecksumCRC64NVME, streamingUnsignedTrailer, checksum.CRC64NVME},
		{"TLS unsigned payload", true, false, minio.ChecksumNone, unsignedPayload, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStub(t, c.tls)
			data := randomBytes(1<<20+12345, 11)
			opts := minio.PutObjectOptions{ContentType: "application/octet-stream", Checksum: c.checksum}
			info, err := minioClient(t, s, testSK, c.tls, c.trailing).PutObject(context.Background(),
				"bucket", "dir/obj name.bin", bytes.NewReader(data), int64(len(data)), opts)
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			u := s.last(t)
			if !bytes.Equal(u.data, data) {
				t.Fatalf("stored %d bytes, sent %d", len(u.data), len(data))
			}
			if u.payload != c.wantPayload {
				t.Errorf("x-amz-content-sha256 = %q, want %q", u.payload, c.wantPayload)
			}
			if u.alg != c.wantAlg || (c.wantAlg != "" && u.sum != checksumOf(c.wantAlg, data)) {
				t.Errorf("checksum %s = %q, want %s", u.alg, u.sum, c.wantAlg)
			}
			if md5sum := md5.Sum(data); info.ETag != hex.EncodeToString(md5sum[:]) {
				t.Errorf("ETag = %s", info.ETag)
			}
		})
	}
}

func TestMinioWrongSecret(t *testing.T) {
	s := newStub(t, false)
	_, err := minioClient(t, s, "not the secret", false, false).PutObject(context.Background(),
		"bucket", "k", bytes.NewReader([]byte("data")), 4, minio.PutObjectOptions{})
	if code := minio.ToErrorResponse(err).Code; code != "SignatureDoesNotMatch" {
		t.Errorf("error = %v (code %q), want SignatureDoesNotMatch", err, code)
	}
}
