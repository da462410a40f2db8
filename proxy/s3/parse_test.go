package s3

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestValidBucketName(t *testing.T) {
	cases := map[string]bool{
		"abc": true, "my-bucket.example": true, "a1b2c3": true, "123": true, strings.Repeat("a", 63): true,
		"ab": false, strings.Repeat("a", 64): false, "Abc": false, "a_b": false, "-abc": false, "abc-": false,
		".abc": false, "abc.": false, "a..b": false, "192.168.1.1": false, "1.2.3.4": false, "1.2.3.4.5": true,
		"xn--abc": false, "sthree-x": false, "amzn-s3-demo-x": false, "abc-s3alias": false, "abc--ol-s3": false,
		"abc.mrap": false, "abc--x-s3": false, "abc--table-s3": false, "a b": false, "ab/c": false, "": false,
		"ünï": false,
	}
	for name, want := range cases {
		if got := validBucketName(name); got != want {
			t.Errorf("validBucketName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCheckKey(t *testing.T) {
	if err := checkKey(strings.Repeat("k", 1024)); err != nil {
		t.Errorf("1024-byte key: %v", err)
	}
	if err := checkKey(strings.Repeat("k", 1025)); err != ErrKeyTooLong {
		t.Errorf("1025-byte key: %v", err)
	}
	if err := checkKey("bad\xffutf8"); toAPIError(err).Code != "InvalidArgument" {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestResolve(t *testing.T) {
	domains := []string{"localhost", "s3.example.com"}
	cases := []struct {
		method, target, host string
		header               http.Header
		bucket, key, api     string
	}{
		{"GET", "/", "127.0.0.1:9000", nil, "", "", apiListBuckets},
		{"PUT", "/", "127.0.0.1:9000", nil, "", "", apiUnknown},
		{"PUT", "/b", "127.0.0.1", nil, "b", "", apiCreateBucket},
		{"PUT", "/b/", "127.0.0.1", nil, "b", "", apiCreateBucket},
		{"GET", "/b", "h", nil, "b", "", apiListObjects},
		{"GET", "/b?list-type=2", "h", nil, "b", "", apiListObjectsV2},
		{"GET", "/b?location", "h", nil, "b", "", apiGetBucketLocation},
		{"GET", "/b?uploads", "h", nil, "b", "", apiListMultipartUploads},
		{"GET", "/b?versioning", "h", nil, "b", "", apiGetBucketVersioning},
		{"GET", "/b?analytics", "h", nil, "b", "", apiNotImplemented},
		{"GET", "/b?policy&cors", "h", nil, "b", "", apiNotImplemented},
		{"HEAD", "/b", "h", nil, "b", "", apiHeadBucket},
		{"DELETE", "/b", "h", nil, "b", "", apiDeleteBucket},
		{"DELETE", "/b?cors", "h", nil, "b", "", apiDeleteBucketCors},
		{"POST", "/b?delete", "h", nil, "b", "", apiDeleteObjects},
		{"POST", "/b", "h", nil, "b", "", apiPostObject},
		{"POST", "/b/", "h", nil, "b", "", apiPostObject},
		{"POST", "/", "b.localhost:8080", nil, "b", "", apiPostObject},
		{"POST", "/b?uploads", "h", nil, "b", "", apiNotImplemented},
		{"PUT", "/b/k", "h", nil, "b", "k", apiPutObject},
		{"PUT", "/b/k?x-id=PutObject", "h", nil, "b", "k", apiPutObject},
		{"PUT", "/b/k", "h", http.Header{"X-Amz-Copy-Source": {"a/b"}}, "b", "k", apiCopyObject},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "h", nil, "b", "k", apiUploadPart},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "h", http.Header{"X-Amz-Copy-Source": {"a/b"}}, "b", "k", apiUploadPartCopy},
		{"PUT", "/b/k?tagging", "h", nil, "b", "k", apiPutObjectTagging},
		{"GET", "/b/k", "h", nil, "b", "k", apiGetObject},
		{"GET", "/b/k?partNumber=2", "h", nil, "b", "k", apiGetObject},
		{"GET", "/b/k?uploadId=u", "h", nil, "b", "k", apiListParts},
		{"GET", "/b/k?acl", "h", nil, "b", "k", apiGetObjectACL},
		{"GET", "/b/k?tagging", "h", nil, "b", "k", apiGetObjectTagging},
		{"GET", "/b/k?attributes", "h", nil, "b", "k", apiGetObjectAttributes},
		{"HEAD", "/b/k", "h", nil, "b", "k", apiHeadObject},
		{"DELETE", "/b/k", "h", nil, "b", "k", apiDeleteObject},
		{"DELETE", "/b/k?uploadId=u", "h", nil, "b", "k", apiAbortMultipartUpload},
		{"POST", "/b/k?uploads", "h", nil, "b", "k", apiCreateMultipartUpload},
		{"POST", "/b/k?uploadId=u", "h", nil, "b", "k", apiCompleteMultipartUpload},
		{"POST", "/b/k?select&select-type=2", "h", nil, "b", "k", apiNotImplemented},
		{"PATCH", "/b/k", "h", nil, "b", "k", apiUnknown},
		{"GET", "/b/a//b/../c/", "h", nil, "b", "a//b/../c/", apiGetObject},
		{"GET", "/b//", "h", nil, "b", "/", apiGetObject},
		// Virtual-host style.
		{"GET", "/", "b.localhost:8080", nil, "b", "", apiListObjects},
		{"GET", "/k/x", "my.bucket.s3.example.com", nil, "my.bucket", "k/x", apiGetObject},
		{"GET", "/", "B.LOCALHOST.", nil, "b", "", apiListObjects},
		{"GET", "/", "localhost:8080", nil, "", "", apiListBuckets},
		{"GET", "/x/y", "other.example.org", nil, "x", "y", apiGetObject},
	}
	for _, c := range cases {
		u, err := url.Parse(c.target)
		if err != nil {
			t.Fatal(err)
		}
		h := c.header
		if h == nil {
			h = http.Header{}
		}
		got := resolve(c.method, u.Path, c.host, u.Query(), h, domains)
		if got.Bucket != c.bucket || got.Key != c.key || got.API != c.api {
			t.Errorf("%s %s (host %s) = %+v, want %s %q %q", c.method, c.target, c.host, got, c.api, c.bucket, c.key)
		}
	}
}

func TestParseRange(t *testing.T) {
	const size = 100
	cases := []struct {
		h           string
		ok          bool
		off, length int64
		unsat       bool
	}{
		{"bytes=0-9", true, 0, 10, false},
		{"bytes=10-", true, 10, 90, false},
		{"bytes=-10", true, 90, 10, false},
		{"bytes=-1000", true, 0, 100, false},
		{"bytes=90-1000", true, 90, 10, false},
		{"bytes=99-99", true, 99, 1, false},
		{"bytes=100-", true, 0, 0, true},
		{"bytes=100-200", true, 0, 0, true},
		{"bytes=-0", true, 0, 0, true},
		{" bytes = 1-2", false, 0, 0, false},
		{"bytes=5-1", false, 0, 0, false},
		{"bytes=0-1,3-4", false, 0, 0, false},
		{"items=0-1", false, 0, 0, false},
		{"bytes=a-b", false, 0, 0, false},
		{"bytes=-", false, 0, 0, false},
		{"bytes=+1-2", false, 0, 0, false},
		{"bytes=1", false, 0, 0, false},
		{"bytes=99999999999999999999-", false, 0, 0, false},
		{"", false, 0, 0, false},
	}
	for _, c := range cases {
		r, ok := parseRange(c.h)
		if ok != c.ok {
			t.Errorf("parseRange(%q) ok = %v, want %v", c.h, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		off, n, err := r.resolve(size)
		if c.unsat {
			if err != ErrInvalidRange {
				t.Errorf("%q: resolve = %d,%d,%v, want InvalidRange", c.h, off, n, err)
			}
			continue
		}
		if err != nil || off != c.off || n != c.length {
			t.Errorf("%q: resolve = %d,%d,%v, want %d,%d", c.h, off, n, err, c.off, c.length)
		}
	}
	// Any range of an empty object is unsatisfiable.
	for _, h := range []string{"bytes=0-", "bytes=-1", "bytes=0-0"} {
		r, _ := parseRange(h)
		if _, _, err := r.resolve(0); err != ErrInvalidRange {
			t.Errorf("%q of an empty object: %v", h, err)
		}
	}
}

func TestParseCopySourceRange(t *testing.T) {
	cases := []struct {
		h           string
		off, length int64
		code        string
	}{
		{"bytes=0-9", 0, 10, ""},
		{"bytes=5-5", 5, 1, ""},
		{"bytes=0-99", 0, 100, ""},
		{"bytes=0-100", 0, 0, "InvalidRange"},
		{"bytes=5-1", 0, 0, "InvalidArgument"},
		{"bytes=5-", 0, 0, "InvalidArgument"},
		{"bytes=-5", 0, 0, "InvalidArgument"},
		{"0-5", 0, 0, "InvalidArgument"},
		{"bytes=a-b", 0, 0, "InvalidArgument"},
	}
	for _, c := range cases {
		off, n, err := parseCopySourceRange(c.h, 100)
		code := ""
		if err != nil {
			code = toAPIError(err).Code
		}
		if code != c.code || (err == nil && (off != c.off || n != c.length)) {
			t.Errorf("parseCopySourceRange(%q) = %d,%d,%v", c.h, off, n, err)
		}
	}
}

func TestConditions(t *testing.T) {
	mod := time.Date(2025, 3, 1, 12, 0, 0, 500e6, time.UTC)
	before, at, after := mod.Add(-time.Hour), mod.Truncate(time.Second), mod.Add(time.Hour)
	const etag = "abc123"
	cases := []struct {
		name string
		c    conditions
		want conditionResult
	}{
		{"none", conditions{}, condOK},
		{"if-match", conditions{IfMatch: `"abc123"`}, condOK},
		{"if-match unquoted", conditions{IfMatch: `abc123`}, condOK},
		{"if-match list", conditions{IfMatch: `"x", "abc123"`}, condOK},
		{"if-match weak", conditions{IfMatch: `W/"abc123"`}, condOK},
		{"if-match star", conditions{IfMatch: "*"}, condOK},
		{"if-match miss", conditions{IfMatch: `"x"`}, condPreconditionFailed},
		{"if-none-match hit", conditions{IfNoneMatch: `"abc123"`}, condNotModified},
		{"if-none-match star", conditions{IfNoneMatch: `*`}, condNotModified},
		{"if-none-match miss", conditions{IfNoneMatch: `"x"`}, condOK},
		{"ims before", conditions{IfModifiedSince: before}, condOK},
		{"ims at", conditions{IfModifiedSince: at}, condNotModified},
		{"ims after", conditions{IfModifiedSince: after}, condNotModified},
		{"ius before", conditions{IfUnmodifiedSince: before}, condPreconditionFailed},
		{"ius at", conditions{IfUnmodifiedSince: at}, condOK},
		{"if-match wins over ius", conditions{IfMatch: `"abc123"`, IfUnmodifiedSince: before}, condOK},
		{"if-none-match wins over ims", conditions{IfNoneMatch: `"abc123"`, IfModifiedSince: before}, condNotModified},
		{"if-none-match miss ignores ims", conditions{IfNoneMatch: `"x"`, IfModifiedSince: after}, condOK},
		{"412 before 304", conditions{IfMatch: `"x"`, IfNoneMatch: `"abc123"`}, condPreconditionFailed},
	}
	for _, c := range cases {
		if got := c.c.evaluate(etag, mod); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	h := http.Header{}
	h.Set("X-Amz-Copy-Source-If-Match", `"e"`)
	h.Set("X-Amz-Copy-Source-If-Modified-Since", mod.Format(http.TimeFormat))
	h.Set("If-Unmodified-Since", "not a date")
	c := readConditions(h, "X-Amz-Copy-Source-")
	if c.IfMatch != `"e"` || !c.IfModifiedSince.Equal(at) {
		t.Errorf("readConditions copy-source = %+v", c)
	}
	if c := readConditions(h, ""); !c.IfUnmodifiedSince.IsZero() || c.IfMatch != "" {
		t.Errorf("unparseable date not ignored: %+v", c)
	}
}

func TestParseCopySource(t *testing.T) {
	cases := []struct {
		h, bucket, key, code string
	}{
		{"bucket/key", "bucket", "key", ""},
		{"/bucket/dir/key", "bucket", "dir/key", ""},
		{"bucket/a%20b/%C3%BC%3Fx", "bucket", "a b/ü?x", ""},
		{"bucket/key?versionId=null", "bucket", "key", ""},
		{"bucket/key?versionId=3", "bucket", "key", ""},
		{"bucket", "", "", "InvalidArgument"},
		{"bucket/", "", "", "InvalidArgument"},
		{"/", "", "", "InvalidArgument"},
		{"", "", "", "InvalidArgument"},
		{"Bad_Bucket/key", "", "", "InvalidBucketName"},
		{"bucket/%zz", "", "", "InvalidArgument"},
		{"bucket/" + strings.Repeat("k", 1025), "", "", "KeyTooLongError"},
	}
	for _, c := range cases {
		cs, err := parseCopySource(c.h)
		code := ""
		if err != nil {
			code = toAPIError(err).Code
		}
		if code != c.code || cs.Bucket != c.bucket || cs.Key != c.key {
			t.Errorf("parseCopySource(%q) = %+v, %v", c.h, cs, err)
		}
	}
}

func TestParseListParams(t *testing.T) {
	q := func(s string) url.Values { v, _ := url.ParseQuery(s); return v }
	p, err := parseListParams(q("prefix=a/&delimiter=/&marker=a/b&max-keys=5&encoding-type=url"), false)
	if err != nil || p.Prefix != "a/" || p.Delimiter != "/" || p.After != "a/b" || p.MaxKeys != 5 || !p.EncodeURL {
		t.Errorf("v1 params %+v %v", p, err)
	}
	p, err = parseListParams(q("list-type=2&start-after=m&max-keys=5000&fetch-owner=true"), true)
	if err != nil || p.After != "m" || p.MaxKeys != 1000 || !p.FetchOwner {
		t.Errorf("v2 params %+v %v", p, err)
	}
	tok := encodeToken("k/é")
	p, err = parseListParams(q("list-type=2&start-after=m&continuation-token="+url.QueryEscape(tok)), true)
	if err != nil || p.After != "k/é" || p.Token != tok || p.StartAfter != "m" {
		t.Errorf("continuation token %+v %v", p, err)
	}
	p, err = parseListParams(q(""), true)
	if err != nil || p.MaxKeys != 1000 || p.After != "" {
		t.Errorf("defaults %+v %v", p, err)
	}
	p, err = parseListParams(q("max-keys=0"), true)
	if err != nil || p.MaxKeys != 0 {
		t.Errorf("max-keys=0 %+v %v", p, err)
	}
	for _, bad := range []string{"max-keys=-1", "max-keys=x", "max-keys=", "encoding-type=gzip", "list-type=2&continuation-token=", "continuation-token=%21%21"} {
		if _, err := parseListParams(q(bad), true); toAPIError(err).Code != "InvalidArgument" {
			t.Errorf("%s: %v", bad, err)
		}
	}
	for v, want := range map[string]int{"1": 1, "10000": 10000, "0": 0, "x": 0, "10001": 0, "-3": 0} {
		n, err := parsePartNumber(v)
		if (want == 0) != (err != nil) || n != want {
			t.Errorf("parsePartNumber(%q) = %d, %v", v, n, err)
		}
	}
}

func TestS3URLEncode(t *testing.T) {
	cases := map[string]string{
		"plain/key.txt": "plain/key.txt",
		"a b":           "a+b",
		"a+b%c":         "a%2Bb%25c",
		"ü":             "%C3%BC",
		"x\ny":          "x%0Ay",
		"~*-_":          "%7E*-_",
	}
	for in, want := range cases {
		got := s3URLEncode(in)
		if got != want {
			t.Errorf("s3URLEncode(%q) = %q, want %q", in, got, want)
		}
		if back, err := url.QueryUnescape(got); err != nil || back != in {
			t.Errorf("QueryUnescape(%q) = %q, %v", got, back, err)
		}
	}
}
