package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

type fuzzCreds struct{}

func (fuzzCreds) SecretKey(ak string) (string, bool) { return "fuzz-secret-key", ak == "fuzzkey" }

// newFuzzServer is a Server over a real store on four temporary disks,
// holding bucket "fuzzbkt" with object "obj".
func newFuzzServer(t testing.TB) *Server {
	root := t.TempDir()
	var disks []string
	for i := range 4 {
		d := filepath.Join(root, string(rune('a'+i)))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	store, err := objectd.Open(objectd.Config{Disks: disks, DataShards: 2, ParityShards: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if err := store.MakeBucket(ctx, "fuzzbkt"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutObject(ctx, "fuzzbkt", "obj", strings.NewReader("0123456789"), 10, objectd.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: store, Verifier: &sigv4.Verifier{Creds: fuzzCreds{}}, Domains: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var fuzzMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"}

// FuzzDispatch drives the whole request path (routing, parameter and
// header parsing, XML bodies, the store) with signed requests, and checks
// that every answer is a well-formed S3 response.
func FuzzDispatch(f *testing.F) {
	seeds := []struct {
		method      uint8
		path, query string
		hname, hval string
		body        string
	}{
		{0, "/", "", "", "", ""},
		{0, "/fuzzbkt", "list-type=2&max-keys=2&delimiter=/&encoding-type=url", "", "", ""},
		{0, "/fuzzbkt", "marker=a&max-keys=-1", "", "", ""},
		{0, "/fuzzbkt", "list-type=2&continuation-token=%%%", "", "", ""},
		{0, "/fuzzbkt/obj", "", "Range", "bytes=2-4", ""},
		{0, "/fuzzbkt/obj", "", "Range", "bytes=-0", ""},
		{0, "/fuzzbkt/obj", "partNumber=1", "Range", "bytes=0-1", ""},
		{0, "/fuzzbkt/obj", "partNumber=99999", "", "", ""},
		{4, "/fuzzbkt/obj", "", "If-None-Match", "*", ""},
		{0, "/fuzzbkt/obj", "response-content-type=x", "If-Modified-Since", "Mon, 02 Jan 2006 15:04:05 GMT", ""},
		{1, "/fuzzbkt/new", "", "Content-Md5", "bad", "data"},
		{1, "/fuzzbkt/new", "", "X-Amz-Checksum-Crc32", "AAAAAA==", "data"},
		{1, "/fuzzbkt/new", "", "X-Amz-Meta-A", strings.Repeat("b", 3000), "data"},
		{1, "/fuzzbkt/copy", "", "X-Amz-Copy-Source", "fuzzbkt/obj", ""},
		{1, "/fuzzbkt/copy", "", "X-Amz-Copy-Source", "/fuzzbkt/%zz?versionId=3", ""},
		{1, "/fuzzbkt/copy", "partNumber=1&uploadId=abc", "X-Amz-Copy-Source-Range", "bytes=9-1", ""},
		{1, "/newbkt", "", "", "", "<CreateBucketConfiguration><LocationConstraint>eu</LocationConstraint></CreateBucketConfiguration>"},
		{1, "/Bad_Bucket", "", "", "", ""},
		{2, "/fuzzbkt", "delete", "Content-Md5", "1B2M2Y8AsgTpgAmY7PhCfg==", "<Delete><Object><Key>obj</Key></Object></Delete>"},
		{2, "/fuzzbkt", "delete", "X-Amz-Checksum-Crc32", "AAAAAA==", "<Delete>"},
		{2, "/fuzzbkt/mp", "uploads", "X-Amz-Checksum-Algorithm", "SHA256", ""},
		{2, "/fuzzbkt/mp", "uploadId=0123456789abcdef0123456789abcdef", "", "", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"},
		{0, "/fuzzbkt/mp", "uploadId=zz&max-parts=x", "", "", ""},
		{3, "/fuzzbkt/mp", "uploadId=", "", "", ""},
		{0, "/fuzzbkt", "uploads&max-uploads=5000", "", "", ""},
		{0, "/fuzzbkt", "versions&key-marker=a", "", "", ""},
		{0, "/fuzzbkt", "acl", "", "", ""},
		{0, "/fuzzbkt", "website&cors", "", "", ""},
		{3, "/fuzzbkt/a//b/../c/", "versionId=null", "", "", ""},
		{5, "/fuzzbkt/x", "", "", "", ""},
		{0, "/fuzzbkt/\x00", "", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.hname, s.hval, []byte(s.body))
	}
	srv := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, method uint8, path, query, hname, hval string, body []byte) {
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(m, "http://127.0.0.1:9000/", bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.URL.Path, req.URL.RawPath, req.URL.RawQuery = path, "", query
		if hname != "" {
			if !validHeaderName(hname) || strings.ContainsAny(hval, "\r\n\x00") {
				t.Skip()
			}
			req.Header.Set(hname, hval)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		req.Header.Set("X-Amz-Content-Sha256", hash)
		if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "fuzzkey", SecretAccessKey: "fuzz-secret-key"},
			req, hash, "s3", "us-east-1", time.Now()); err != nil {
			t.Skip()
		}
		w := httptest.NewRecorder()
		api := srv.Serve(w, req)
		if api == "" {
			t.Fatal("no API name")
		}
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
		if w.Header().Get("X-Amz-Request-Id") == "" {
			t.Fatal("no request id")
		}
		if w.Code >= 400 && m != http.MethodHead {
			var doc struct{ Code, Message, RequestId string }
			if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc.Code == "" || doc.RequestId == "" {
				t.Fatalf("%s %s?%s: status %d with body %q", m, path, query, w.Code, w.Body.Bytes())
			}
			if w.Code == 500 {
				t.Fatalf("%s %s?%s: internal error %q", m, path, query, w.Body.Bytes())
			}
		}
	})
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return s != "" && !strings.EqualFold(s, "Host") && !strings.EqualFold(s, "Authorization") &&
		!strings.HasPrefix(strings.ToLower(s), "x-amz-date") && !strings.EqualFold(s, "X-Amz-Content-Sha256") &&
		!strings.EqualFold(s, "Content-Length") && !strings.EqualFold(s, "Transfer-Encoding")
}

// FuzzParsers feeds arbitrary header values to the pure parsers.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=5-", "bucket/key?versionId=null", "/b/%C3%BC", `"a", W/"b"`, "*"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, s string, size int64) {
		if size < 0 {
			size = -size
		}
		if r, ok := parseRange(s); ok {
			off, n, err := r.resolve(size)
			if err == nil && (off < 0 || n <= 0 || off+n > size) {
				t.Fatalf("parseRange(%q).resolve(%d) = %d,%d", s, size, off, n)
			}
		}
		if off, n, err := parseCopySourceRange(s, size); err == nil && (off < 0 || n <= 0 || off+n > size) {
			t.Fatalf("parseCopySourceRange(%q, %d) = %d,%d", s, size, off, n)
		}
		if cs, err := parseCopySource(s); err == nil && (!validBucketName(cs.Bucket) || cs.Key == "") {
			t.Fatalf("parseCopySource(%q) = %+v", s, cs)
		}
		etagMatches(s, "abc")
		validBucketName(s)
		hostBucket(s, []string{"localhost"})
		q, _ := url.ParseQuery(s)
		parseListParams(q, true)
		readBodyChecksum(http.Header{"X-Amz-Trailer": {s}, "X-Amz-Sdk-Checksum-Algorithm": {s}})
		if dec, err := url.QueryUnescape(s3URLEncode(s)); err != nil || dec != s {
			t.Fatalf("s3URLEncode(%q) does not round-trip: %q %v", s, dec, err)
		}
	})
}
