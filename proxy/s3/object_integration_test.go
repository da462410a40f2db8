package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/minio/minio-go/v7"
)

// httpStatus returns the HTTP status of an aws-sdk-go-v2 error.
func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestCopyObject(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("src")
	e.mkBucket("dst")
	_, err := e.aws.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String("src"), Key: aws.String("a b/ü"), Body: strings.NewReader("copy me"),
		ContentType: aws.String("text/x-src"), Metadata: map[string]string{"k": "v"},
	})
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("src"), Key: aws.String("a b/ü")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("src/a%20b/%C3%BC"),
	})
	if err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	if aws.ToString(out.CopyObjectResult.ETag) != aws.ToString(head.ETag) || out.CopyObjectResult.LastModified == nil {
		t.Fatalf("CopyObjectResult %+v, source ETag %s", out.CopyObjectResult, aws.ToString(head.ETag))
	}
	h2, err := e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	if err != nil || aws.ToString(h2.ContentType) != "text/x-src" || h2.Metadata["k"] != "v" {
		t.Fatalf("copied metadata: %+v %v", h2, err)
	}
	if got := e.getAll("dst", "copy"); string(got) != "copy me" {
		t.Fatalf("copied body %q", got)
	}
	// REPLACE, also onto itself.
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("/dst/copy?versionId=null"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/x-new"),
		Metadata: map[string]string{"n": "1"},
	})
	if err != nil {
		t.Fatalf("self copy with REPLACE: %v", err)
	}
	h3, err := e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	if err != nil || aws.ToString(h3.ContentType) != "text/x-new" || h3.Metadata["n"] != "1" || h3.Metadata["k"] != "" {
		t.Fatalf("replaced metadata: %+v %v", h3, err)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("dst/copy")})
	if awsCode(err) != "InvalidRequest" {
		t.Fatalf("self copy without REPLACE: %v", err)
	}
	// Conditions on the source.
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("c2"), CopySource: aws.String("src/a%20b/%C3%BC"),
		CopySourceIfMatch: aws.String(`"0123"`),
	})
	if awsCode(err) != "PreconditionFailed" {
		t.Fatalf("copy-source-if-match: %v", err)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("c2"), CopySource: aws.String("src/a%20b/%C3%BC"),
		CopySourceIfNoneMatch: head.ETag,
	})
	if awsCode(err) != "PreconditionFailed" {
		t.Fatalf("copy-source-if-none-match: %v", err)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("c2"), CopySource: aws.String("src/a%20b/%C3%BC"),
		CopySourceIfUnmodifiedSince: aws.Time(time.Now().Add(-time.Hour)),
	})
	if awsCode(err) != "PreconditionFailed" {
		t.Fatalf("copy-source-if-unmodified-since: %v", err)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("dst"), Key: aws.String("c2"), CopySource: aws.String("src/a%20b/%C3%BC"),
		CopySourceIfMatch: head.ETag, CopySourceIfModifiedSince: aws.Time(time.Now().Add(-time.Hour)),
	})
	if err != nil {
		t.Fatalf("copy with holding conditions: %v", err)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("c3"), CopySource: aws.String("src/nothing")})
	if awsCode(err) != "NoSuchKey" {
		t.Fatalf("copy of a missing source: %v", err)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("c3"), CopySource: aws.String("justbucket")})
	if awsCode(err) != "InvalidArgument" {
		t.Fatalf("copy source without key: %v", err)
	}
	// minio-go CopyObject.
	_, err = e.minio.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dst", Object: "m"}, minio.CopySrcOptions{Bucket: "src", Object: "a b/ü"})
	if err != nil {
		t.Fatalf("minio CopyObject: %v", err)
	}
}

func TestDeleteObjects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("del")
	for i := range 5 {
		e.put("del", fmt.Sprintf("k%d", i), "x")
	}
	out, err := e.aws.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
		Bucket: aws.String("del"),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("k0")}, {Key: aws.String("k1")}, {Key: aws.String("absent")}}},
	})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	slices.Sort(deleted)
	if !slices.Equal(deleted, []string{"absent", "k0", "k1"}) || len(out.Errors) != 0 {
		t.Fatalf("Deleted %v Errors %+v", deleted, out.Errors)
	}
	out, err = e.aws.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
		Bucket: aws.String("del"),
		Delete: &types.Delete{Quiet: aws.Bool(true), Objects: []types.ObjectIdentifier{{Key: aws.String("k2")}, {Key: aws.String(strings.Repeat("x", 1025))}}},
	})
	if err != nil {
		t.Fatalf("quiet DeleteObjects: %v", err)
	}
	if len(out.Deleted) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "KeyTooLongError" {
		t.Fatalf("quiet: Deleted %+v Errors %+v", out.Deleted, out.Errors)
	}
	// minio-go sends Content-MD5.
	ch := make(chan minio.ObjectInfo, 2)
	ch <- minio.ObjectInfo{Key: "k3"}
	ch <- minio.ObjectInfo{Key: "k4"}
	close(ch)
	for res := range e.minio.RemoveObjects(ctx, "del", ch, minio.RemoveObjectsOptions{}) {
		t.Fatalf("RemoveObjects error: %+v", res)
	}
	var left []string
	for o := range e.minio.ListObjects(ctx, "del", minio.ListObjectsOptions{Recursive: true}) {
		left = append(left, o.Key)
	}
	if len(left) != 0 {
		t.Fatalf("left after deletes: %v", left)
	}
	// Too many keys.
	var many []types.ObjectIdentifier
	for i := range 1001 {
		many = append(many, types.ObjectIdentifier{Key: aws.String(fmt.Sprint(i))})
	}
	_, err = e.aws.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: aws.String("del"), Delete: &types.Delete{Objects: many}})
	if awsCode(err) != "MalformedXML" {
		t.Fatalf("1001 keys: %v", err)
	}
	// No Content-MD5 and no checksum.
	resp := e.raw(http.MethodPost, "/del?delete", []byte("<Delete><Object><Key>a</Key></Object></Delete>"), nil)
	if resp.status != 400 || resp.code != "InvalidRequest" {
		t.Fatalf("DeleteObjects without Content-MD5: %d %s", resp.status, resp.code)
	}
	resp = e.raw(http.MethodPost, "/del?delete", []byte("<Delete><Object><Key>a</Key></Object>"), http.Header{"Content-Md5": {md5b64("<Delete><Object><Key>a</Key></Object>")}})
	if resp.status != 400 || resp.code != "MalformedXML" {
		t.Fatalf("DeleteObjects with broken XML: %d %s", resp.status, resp.code)
	}
	resp = e.raw(http.MethodPost, "/del?delete", []byte("<Delete><Object><Key>a</Key></Object></Delete>"), http.Header{"Content-Md5": {md5b64("other")}})
	if resp.status != 400 || resp.code != "BadDigest" {
		t.Fatalf("DeleteObjects with a wrong Content-MD5: %d %s", resp.status, resp.code)
	}
}

func TestConditionalGet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("cond")
	info := e.put("cond", "k", "hello")
	etag := `"` + info.ETag + `"`
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	cases := []struct {
		name string
		in   awss3.GetObjectInput
		want int
	}{
		{"if-match ok", awss3.GetObjectInput{IfMatch: aws.String(etag)}, 200},
		{"if-match star", awss3.GetObjectInput{IfMatch: aws.String("*")}, 200},
		{"if-match fail", awss3.GetObjectInput{IfMatch: aws.String(`"nope"`)}, 412},
		{"if-none-match hit", awss3.GetObjectInput{IfNoneMatch: aws.String(etag)}, 304},
		{"if-none-match miss", awss3.GetObjectInput{IfNoneMatch: aws.String(`"nope"`)}, 200},
		{"if-modified-since past", awss3.GetObjectInput{IfModifiedSince: aws.Time(past)}, 200},
		{"if-modified-since future", awss3.GetObjectInput{IfModifiedSince: aws.Time(future)}, 304},
		{"if-unmodified-since past", awss3.GetObjectInput{IfUnmodifiedSince: aws.Time(past)}, 412},
		{"if-unmodified-since future", awss3.GetObjectInput{IfUnmodifiedSince: aws.Time(future)}, 200},
		// S3's precedence: If-Match holding overrides If-Unmodified-Since failing,
		// If-None-Match failing wins over If-Modified-Since holding.
		{"if-match + if-unmodified-since", awss3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: aws.Time(past)}, 200},
		{"if-none-match + if-modified-since", awss3.GetObjectInput{IfNoneMatch: aws.String(etag), IfModifiedSince: aws.Time(past)}, 304},
		{"if-match fail + range", awss3.GetObjectInput{IfMatch: aws.String(`"x"`), Range: aws.String("bytes=100-")}, 412},
		{"range + if-none-match", awss3.GetObjectInput{IfNoneMatch: aws.String(etag), Range: aws.String("bytes=1-2")}, 304},
	}
	for _, c := range cases {
		in := c.in
		in.Bucket, in.Key = aws.String("cond"), aws.String("k")
		out, err := e.aws.GetObject(ctx, &in)
		status := 200
		if err != nil {
			status = httpStatus(err)
		} else {
			out.Body.Close()
		}
		if status != c.want {
			t.Errorf("%s: status %d (%v), want %d", c.name, status, err, c.want)
		}
		hin := awss3.HeadObjectInput{Bucket: in.Bucket, Key: in.Key, IfMatch: in.IfMatch, IfNoneMatch: in.IfNoneMatch,
			IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince, Range: in.Range}
		_, err = e.aws.HeadObject(ctx, &hin)
		status = 200
		if err != nil {
			status = httpStatus(err)
		}
		if status != c.want {
			t.Errorf("%s (HEAD): status %d (%v), want %d", c.name, status, err, c.want)
		}
	}
	// Conditional writes.
	_, err := e.aws.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
	if httpStatus(err) != 412 {
		t.Fatalf("PUT If-None-Match * on an existing key: %v", err)
	}
	_, err = e.aws.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String("new"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
	if err != nil {
		t.Fatalf("PUT If-None-Match * on a new key: %v", err)
	}
	// response-* overrides.
	out, err := e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"),
		ResponseContentType: aws.String("text/override"), ResponseContentDisposition: aws.String("attachment; filename=x"),
		ResponseCacheControl: aws.String("no-cache")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if aws.ToString(out.ContentType) != "text/override" || aws.ToString(out.ContentDisposition) != "attachment; filename=x" || aws.ToString(out.CacheControl) != "no-cache" {
		t.Fatalf("overrides: %q %q %q", aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition), aws.ToString(out.CacheControl))
	}
	// Multiple ranges are ignored, as S3 does.
	out, err = e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Range: aws.String("bytes=0-1,3-4")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	if string(b) != "hello" || out.ContentRange != nil {
		t.Fatalf("multi-range GET = %q, %v", b, out.ContentRange)
	}
	// Suffix range.
	out, err = e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), Range: aws.String("bytes=-3")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(out.Body)
	if !bytes.Equal(b, []byte("llo")) || aws.ToString(out.ContentRange) != "bytes 2-4/5" {
		t.Fatalf("suffix range = %q %q", b, aws.ToString(out.ContentRange))
	}
}

// TestConditionalWriteWithEntityTags: If-None-Match with an entity tag
// refuses a write over an object with that tag and allows others; If-Match
// on a missing key is NoSuchKey, as AWS answers.
func TestConditionalWriteWithEntityTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("cond")
	first := e.put("cond", "k", "one")
	opts := minio.PutObjectOptions{}
	opts.SetMatchETagExcept(first.ETag)
	if _, err := e.minio.PutObject(ctx, "cond", "k", strings.NewReader("two"), 3, opts); minio.ToErrorResponse(err).Code != "PreconditionFailed" {
		t.Fatalf("If-None-Match with the current tag: %v", err)
	}
	opts = minio.PutObjectOptions{}
	opts.SetMatchETagExcept("0123456789abcdef0123456789abcdef")
	if _, err := e.minio.PutObject(ctx, "cond", "k", strings.NewReader("two"), 3, opts); err != nil {
		t.Fatalf("If-None-Match with another tag: %v", err)
	}
	opts = minio.PutObjectOptions{}
	opts.SetMatchETag("some-etag")
	if _, err := e.minio.PutObject(ctx, "cond", "missing", strings.NewReader("x"), 1, opts); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Fatalf("If-Match on a missing key: %v", err)
	}
}
