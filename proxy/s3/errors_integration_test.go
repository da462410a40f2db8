package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

func TestErrorResponses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("errs")

	// Wrong secret.
	bad := e.awsClient("wrong-secret", true)
	_, err := bad.ListBuckets(ctx, &awss3.ListBucketsInput{})
	if awsCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret (aws): %v", err)
	}
	_, err = e.minioClient("wrong-secret").ListBuckets(ctx)
	if minioCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret (minio): %v", err)
	}
	// Anonymous.
	resp, err := http.Get(e.srv.URL + "/errs/k")
	if err != nil {
		t.Fatal(err)
	}
	r := readErr(t, resp)
	if r.status != 403 || r.code != "AccessDenied" {
		t.Fatalf("anonymous GET: %d %s", r.status, r.code)
	}
	// Full error document.
	resp2 := e.raw(http.MethodGet, "/errs/missing/key", nil, nil)
	var doc struct {
		Code, Message, Key, Resource, RequestId, HostId string
	}
	if err := xml.Unmarshal(resp2.body, &doc); err != nil {
		t.Fatalf("error body %q: %v", resp2.body, err)
	}
	if resp2.status != 404 || doc.Code != "NoSuchKey" || doc.Key != "missing/key" || doc.Resource != "/errs/missing/key" ||
		doc.RequestId == "" || doc.RequestId != resp2.header.Get("X-Amz-Request-Id") || doc.Message == "" {
		t.Fatalf("NoSuchKey document: %d %+v", resp2.status, doc)
	}
	for _, h := range []string{"X-Amz-Request-Id", "X-Amz-Id-2", "Date"} {
		if resp2.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if resp2.header.Get("Server") != "Basalt" {
		t.Errorf("Server header %q", resp2.header.Get("Server"))
	}
	// HEAD errors carry no body.
	head := e.raw(http.MethodHead, "/errs/missing", nil, nil)
	if head.status != 404 || len(head.body) != 0 {
		t.Fatalf("HEAD missing: %d %q", head.status, head.body)
	}
	// Key too long, metadata too large.
	_, err = e.aws.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("errs"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	if awsCode(err) != "KeyTooLongError" {
		t.Fatalf("long key: %v", err)
	}
	_, err = e.aws.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("errs"), Key: aws.String("meta"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"big": strings.Repeat("v", 2100)}})
	if awsCode(err) != "MetadataTooLarge" {
		t.Fatalf("large metadata: %v", err)
	}
	// Put into a missing bucket.
	_, err = e.aws.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if awsCode(err) != "NoSuchBucket" {
		t.Fatalf("put into missing bucket: %v", err)
	}
	// Unimplemented subresource, stub subresources.
	if r := e.raw(http.MethodPut, "/errs?website", nil, nil); r.status != 501 || r.code != "NotImplemented" {
		t.Fatalf("PUT ?website: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodGet, "/errs/k?torrent", nil, nil); r.status != 501 || r.code != "NotImplemented" {
		t.Fatalf("GET ?torrent: %d %s", r.status, r.code)
	}
	for sub, code := range map[string]string{
		"policy": "NoSuchBucketPolicy", "tagging": "NoSuchTagSet", "cors": "NoSuchCORSConfiguration",
		"lifecycle": "NoSuchLifecycleConfiguration", "encryption": "ServerSideEncryptionConfigurationNotFoundError",
		"object-lock": "ObjectLockConfigurationNotFoundError",
	} {
		if r := e.raw(http.MethodGet, "/errs?"+sub, nil, nil); r.status != 404 || r.code != code {
			t.Errorf("GET ?%s: %d %s, want %s", sub, r.status, r.code, code)
		}
	}
	v, err := e.aws.GetBucketVersioning(ctx, &awss3.GetBucketVersioningInput{Bucket: aws.String("errs")})
	if err != nil || v.Status != "" {
		t.Fatalf("GetBucketVersioning: %+v %v", v, err)
	}
	acl, err := e.aws.GetBucketAcl(ctx, &awss3.GetBucketAclInput{Bucket: aws.String("errs")})
	if err != nil || len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl || aws.ToString(acl.Owner.DisplayName) != testAccessKey {
		t.Fatalf("GetBucketAcl: %+v %v", acl, err)
	}
	if _, err := e.minio.GetBucketPolicy(ctx, "errs"); err != nil {
		t.Fatalf("minio GetBucketPolicy (empty policy expected): %v", err)
	}
	if r := e.raw(http.MethodGet, "/errs?policy", nil, nil); r.status != 404 {
		t.Fatal("policy")
	}
	if r := e.raw(http.MethodGet, "/nobucket?versioning", nil, nil); r.code != "NoSuchBucket" {
		t.Fatalf("versioning of a missing bucket: %s", r.code)
	}
	if r := e.raw(http.MethodPatch, "/errs/k", nil, nil); r.status != 405 || r.code != "MethodNotAllowed" {
		t.Fatalf("PATCH: %d %s", r.status, r.code)
	}
	// CreateBucket with malformed configuration.
	if r := e.raw(http.MethodPut, "/newbucket", []byte("<CreateBucketConfiguration><LocationConstraint>"), nil); r.code != "MalformedXML" {
		t.Fatalf("broken CreateBucketConfiguration: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodPut, "/newbucket", []byte("<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>"), nil); r.status != 200 {
		t.Fatalf("CreateBucketConfiguration us-east-1: %d %s", r.status, r.body)
	}
	// Version ids that name no version, and one that cannot be an id.
	if r := e.raw(http.MethodGet, "/errs/k?versionId=abc", nil, nil); r.status != 404 || r.code != "NoSuchVersion" {
		t.Fatalf("versionId=abc: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodGet, "/errs/k?versionId=", nil, nil); r.status != 400 || r.code != "InvalidArgument" {
		t.Fatalf("empty versionId: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodGet, "/errs/k?versionId=0123456789abcdef0123456789abcdef", nil, nil); r.status != 404 || r.code != "NoSuchVersion" {
		t.Fatalf("unknown versionId: %d %s", r.status, r.code)
	}
}

func TestMultipartErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("mperr")
	cr, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("mperr"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i := range 2 {
		up, err := e.aws.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String("mperr"), Key: aws.String("k"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: strings.NewReader("small part")})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
	}
	complete := func(ps ...types.CompletedPart) error {
		_, err := e.aws.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String("mperr"), Key: aws.String("k"),
			UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: ps}})
		return err
	}
	if err := complete(parts...); awsCode(err) != "EntityTooSmall" {
		t.Fatalf("small first part: %v", err)
	}
	if err := complete(types.CompletedPart{PartNumber: aws.Int32(7), ETag: parts[1].ETag}); awsCode(err) != "InvalidPart" {
		t.Fatalf("missing part: %v", err)
	}
	// One small part alone is fine.
	if err := complete(parts[0]); err != nil {
		t.Fatalf("single small part: %v", err)
	}
	path := fmt.Sprintf("/mperr/k?uploadId=%s", aws.ToString(cr.UploadId))
	if r := e.raw(http.MethodPost, path, []byte("<CompleteMultipartUpload><Part>"), nil); r.code != "MalformedXML" && r.code != "NoSuchUpload" {
		t.Fatalf("broken complete XML: %d %s", r.status, r.code)
	}
	cr2, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("mperr"), Key: aws.String("k2")})
	if err != nil {
		t.Fatal(err)
	}
	path = fmt.Sprintf("/mperr/k2?uploadId=%s", aws.ToString(cr2.UploadId))
	if r := e.raw(http.MethodPost, path, []byte("<CompleteMultipartUpload><Part>"), nil); r.code != "MalformedXML" {
		t.Fatalf("broken complete XML: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodPost, path, []byte("<Other/>"), nil); r.code != "MalformedXML" {
		t.Fatalf("wrong root element: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodPost, path, []byte(""), nil); r.code != "MalformedXML" {
		t.Fatalf("empty complete: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodGet, path+"&max-parts=abc", nil, nil); r.code != "InvalidArgument" {
		t.Fatalf("max-parts=abc: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodDelete, "/mperr/k2?uploadId=ffffffffffffffffffffffffffffffff", nil, nil); r.status != 404 || r.code != "NoSuchUpload" {
		t.Fatalf("abort unknown upload: %d %s", r.status, r.code)
	}
}

// TestBodyLengthErrors sends requests by hand over a connection: a length
// over 5 GiB, a body shorter than its length, and no length at all.
func TestBodyLengthErrors(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("len")
	send := func(contentLength string, body string, closeEarly bool) rawResponse {
		req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/len/obj", nil)
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
			req, "UNSIGNED-PAYLOAD", "s3", testRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
		conn, err := net.Dial("tcp", e.host())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var b bytes.Buffer
		fmt.Fprintf(&b, "PUT /len/obj HTTP/1.1\r\nHost: %s\r\n", e.host())
		for k, vs := range req.Header {
			for _, v := range vs {
				fmt.Fprintf(&b, "%s: %s\r\n", k, v)
			}
		}
		if contentLength != "" {
			fmt.Fprintf(&b, "Content-Length: %s\r\n", contentLength)
		} else {
			b.WriteString("Transfer-Encoding: chunked\r\n")
		}
		b.WriteString("\r\n")
		b.WriteString(body)
		if _, err := conn.Write(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		if closeEarly {
			conn.(*net.TCPConn).CloseWrite()
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			t.Fatal(err)
		}
		return readErr(t, resp)
	}
	if r := send("6442450944", "", false); r.status != 400 || r.code != "EntityTooLarge" {
		t.Fatalf("6 GiB PUT: %d %s", r.status, r.code)
	}
	if r := send("100", "only a few bytes", true); r.status != 400 || r.code != "IncompleteBody" {
		t.Fatalf("short body: %d %s", r.status, r.code)
	}
	if r := send("", "5\r\nhello\r\n0\r\n\r\n", false); r.status != 411 || r.code != "MissingContentLength" {
		t.Fatalf("no length: %d %s", r.status, r.code)
	}
	if _, err := e.minio.StatObject(context.Background(), "len", "obj", minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
		t.Fatalf("a failed PUT left an object: %v", err)
	}
}

func readErr(t *testing.T, resp *http.Response) rawResponse {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
	var doc struct{ Code string }
	if xml.Unmarshal(b, &doc) == nil {
		out.code = doc.Code
	}
	return out
}

func TestVirtualHostStyle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	vh := e.awsClient(testSecretKey, false)
	if _, err := vh.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatalf("CreateBucket (virtual host): %v", err)
	}
	if _, err := vh.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir//k"), Body: strings.NewReader("vh")}); err != nil {
		t.Fatalf("PutObject (virtual host): %v", err)
	}
	out, err := vh.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("vhost")})
	if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "dir//k" {
		t.Fatalf("ListObjectsV2 (virtual host): %+v %v", out, err)
	}
	// The same object path-style.
	if got := e.getAll("vhost", "dir//k"); string(got) != "vh" {
		t.Fatalf("path-style read of a virtual-host write: %q", got)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	get := func(path string) (int, string) {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/health/live"); code != 200 {
		t.Fatalf("/health/live = %d", code)
	}
	if code, _ := get("/health/ready"); code != 200 {
		t.Fatalf("/health/ready = %d", code)
	}
	e.ready = fmt.Errorf("disks missing")
	if code, body := get("/health/ready"); code != 503 || !strings.Contains(body, "disks missing") {
		t.Fatalf("/health/ready not ready = %d %q", code, body)
	}
	e.ready = nil
	// A bucket named "metrics" is S3 when the request is signed.
	e.mkBucket("metrics")
	e.put("metrics", "k", "v")
	if got := e.getAll("metrics", "k"); string(got) != "v" {
		t.Fatalf("object in bucket metrics: %q", got)
	}
	ctx := context.Background()
	if _, err := e.aws.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("metrics")}); err != nil {
		t.Fatalf("listing bucket metrics: %v", err)
	}
	_, _ = e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("metrics"), Key: aws.String("absent")})
	code, body := get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`basalt_s3_requests_total{api="PutObject",code="200"} 1`,
		`basalt_s3_requests_total{api="GetObject",code="404"} 1`,
		`basalt_s3_requests_total{api="ListObjectsV2",code="200"} 1`,
		`basalt_s3_request_duration_seconds_count{api="GetObject"} 2`,
		`basalt_s3_requests_in_flight 0`,
		`basalt_s3_received_bytes_total{api="PutObject"}`,
		`basalt_s3_sent_bytes_total{api="GetObject"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Other paths anonymous are S3 (AccessDenied), not health.
	if code, _ := get("/health"); code != 403 {
		t.Fatalf("/health = %d", code)
	}
}
