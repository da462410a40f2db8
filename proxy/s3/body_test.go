package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/objectd/checksum"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

func sumOf(a checksum.Algorithm, data string) string {
	h := a.New()
	h.Write([]byte(data))
	return a.Encode(h.Sum(nil))
}

func TestReadBodyChecksum(t *testing.T) {
	good := sumOf(checksum.CRC32C, "x")
	cases := []struct {
		name    string
		h       http.Header
		alg     checksum.Algorithm
		trailer bool
		code    string
	}{
		{"none", http.Header{}, "", false, ""},
		{"header", http.Header{"X-Amz-Checksum-Crc32c": {good}}, checksum.CRC32C, false, ""},
		{"trailer", http.Header{"X-Amz-Trailer": {"x-amz-checksum-sha256"}}, checksum.SHA256, true, ""},
		{"sdk + trailer", http.Header{"X-Amz-Trailer": {"x-amz-checksum-crc32"}, "X-Amz-Sdk-Checksum-Algorithm": {"crc32"}}, checksum.CRC32, true, ""},
		{"sdk alone", http.Header{"X-Amz-Sdk-Checksum-Algorithm": {"CRC32"}}, "", false, "InvalidRequest"},
		{"sdk unknown", http.Header{"X-Amz-Sdk-Checksum-Algorithm": {"MD5"}}, "", false, "InvalidRequest"},
		{"sdk differs", http.Header{"X-Amz-Checksum-Crc32c": {good}, "X-Amz-Sdk-Checksum-Algorithm": {"SHA1"}}, "", false, "InvalidRequest"},
		{"two headers", http.Header{"X-Amz-Checksum-Crc32c": {good}, "X-Amz-Checksum-Sha1": {sumOf(checksum.SHA1, "x")}}, "", false, "InvalidRequest"},
		{"header + trailer", http.Header{"X-Amz-Checksum-Crc32c": {good}, "X-Amz-Trailer": {"x-amz-checksum-crc32c"}}, "", false, "InvalidRequest"},
		{"malformed", http.Header{"X-Amz-Checksum-Crc32c": {"zz"}}, "", false, "InvalidRequest"},
		{"unknown trailer", http.Header{"X-Amz-Trailer": {"x-amz-checksum-blake3"}}, "", false, "InvalidRequest"},
		{"other trailer", http.Header{"X-Amz-Trailer": {"x-amz-meta-foo"}}, "", false, ""},
		{"type and mode are no checksums", http.Header{"X-Amz-Checksum-Type": {"FULL_OBJECT"}, "X-Amz-Checksum-Mode": {"ENABLED"}}, "", false, ""},
	}
	for _, c := range cases {
		bc, err := readBodyChecksum(c.h)
		code := ""
		if err != nil {
			code = toAPIError(err).Code
		}
		if code != c.code {
			t.Errorf("%s: error %v, want code %q", c.name, err, c.code)
			continue
		}
		if err != nil {
			continue
		}
		if (bc == nil) != (c.alg == "") || (bc != nil && (bc.Alg != c.alg || bc.Trailer != c.trailer)) {
			t.Errorf("%s: %+v", c.name, bc)
		}
	}
}

func TestReadContentMD5(t *testing.T) {
	sum := md5.Sum([]byte("x"))
	ok := base64.StdEncoding.EncodeToString(sum[:])
	if b, err := readContentMD5(http.Header{"Content-Md5": {ok}}); err != nil || !bytes.Equal(b, sum[:]) {
		t.Errorf("valid: %x %v", b, err)
	}
	if b, err := readContentMD5(http.Header{}); err != nil || b != nil {
		t.Errorf("absent: %x %v", b, err)
	}
	for _, bad := range []string{"", "abc", base64.StdEncoding.EncodeToString([]byte("short")), "!!!!"} {
		if _, err := readContentMD5(http.Header{"Content-Md5": {bad}}); err != ErrInvalidDigest {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestVerifiedBody(t *testing.T) {
	data := "some body bytes"
	read := func(r io.Reader) error { _, err := io.ReadAll(r); return err }
	// Header value, right and wrong.
	r, sum := verifiedBody(strings.NewReader(data), &bodyChecksum{Alg: checksum.SHA256, Value: sumOf(checksum.SHA256, data)}, "", nil)
	if err := read(r); err != nil || sum().Value != sumOf(checksum.SHA256, data) || sum().Type != typeFullObject {
		t.Fatalf("right header value: %v %+v", err, sum())
	}
	r, _ = verifiedBody(strings.NewReader(data), &bodyChecksum{Alg: checksum.SHA256, Value: sumOf(checksum.SHA256, "other")}, "", nil)
	err := read(r)
	if ae := toAPIError(err); ae.Code != "BadDigest" || !strings.Contains(ae.Message, "x-amz-checksum-sha256") {
		t.Fatalf("wrong header value: %v -> %+v", err, ae)
	}
	// Trailer value, known only at EOF.
	trailer := http.Header{}
	r, _ = verifiedBody(strings.NewReader(data), &bodyChecksum{Alg: checksum.CRC32, Trailer: true}, "", func() http.Header { return trailer })
	trailer.Set("X-Amz-Checksum-Crc32", sumOf(checksum.CRC32, "nope"))
	if ae := toAPIError(read(r)); ae.Code != "BadDigest" {
		t.Fatalf("wrong trailer: %+v", ae)
	}
	trailer.Set("X-Amz-Checksum-Crc32", "###")
	r, _ = verifiedBody(strings.NewReader(data), &bodyChecksum{Alg: checksum.CRC32, Trailer: true}, "", func() http.Header { return trailer })
	if ae := toAPIError(read(r)); ae.Code != "InvalidRequest" {
		t.Fatalf("malformed trailer: %+v", ae)
	}
	// Compute only.
	r, sum = verifiedBody(strings.NewReader(data), nil, checksum.CRC64NVME, nil)
	if err := read(r); err != nil || sum().Value != sumOf(checksum.CRC64NVME, data) {
		t.Fatalf("compute only: %v %+v", err, sum())
	}
	// Nothing.
	r0 := strings.NewReader(data)
	if r, sum := verifiedBody(r0, nil, "", nil); r != io.Reader(r0) || sum != nil {
		t.Fatal("no checksum should pass the reader through")
	}
}

func TestExactReader(t *testing.T) {
	read := func(src io.Reader, n int64) (string, error) {
		b, err := io.ReadAll(&exactReader{r: src, n: n})
		return string(b), err
	}
	if s, err := read(strings.NewReader("hello"), 5); err != nil || s != "hello" {
		t.Errorf("exact: %q %v", s, err)
	}
	if s, err := read(iotest.OneByteReader(strings.NewReader("hello")), 5); err != nil || s != "hello" {
		t.Errorf("one byte at a time: %q %v", s, err)
	}
	if _, err := read(strings.NewReader("hel"), 5); !errors.Is(err, errBodyTooShort) || toAPIError(err).Code != "IncompleteBody" {
		t.Errorf("short: %v", err)
	}
	if _, err := read(io.MultiReader(strings.NewReader("hel"), iotest.ErrReader(io.ErrUnexpectedEOF)), 5); toAPIError(err).Code != "IncompleteBody" {
		t.Errorf("unexpected EOF: %v", err)
	}
	if _, err := read(strings.NewReader("hello!"), 5); !errors.Is(err, errBodyTooLong) {
		t.Errorf("long: %v", err)
	}
	// The EOF check of the source runs: an error at EOF surfaces.
	boom := errors.New("verification failed at EOF")
	if _, err := read(io.MultiReader(strings.NewReader("hello"), iotest.ErrReader(boom)), 5); !errors.Is(err, boom) {
		t.Errorf("error at EOF: %v", err)
	}
	if s, err := read(strings.NewReader(""), 0); err != nil || s != "" {
		t.Errorf("empty: %q %v", s, err)
	}
}

func TestReadObjectMeta(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Encoding", "aws-chunked, gzip")
	h.Set("Cache-Control", "no-cache")
	h.Set("Expires", "Thu, 01 Dec 1994 16:00:00 GMT")
	h.Set("Content-Disposition", "inline")
	h.Set("Content-Language", "fr")
	h.Set("X-Amz-Meta-Color", "blue")
	h.Add("X-Amz-Meta-Multi", "a")
	h.Add("X-Amz-Meta-Multi", "b")
	opts, err := readObjectMeta(h)
	if err != nil {
		t.Fatal(err)
	}
	if opts.ContentType != "binary/octet-stream" {
		t.Errorf("default content type %q", opts.ContentType)
	}
	want := map[string]string{"Content-Encoding": "gzip", "Cache-Control": "no-cache", "Expires": "Thu, 01 Dec 1994 16:00:00 GMT",
		"Content-Disposition": "inline", "Content-Language": "fr"}
	if fmt.Sprint(opts.Headers) != fmt.Sprint(want) {
		t.Errorf("headers %v", opts.Headers)
	}
	if opts.UserMeta["color"] != "blue" || opts.UserMeta["multi"] != "a,b" || len(opts.UserMeta) != 2 {
		t.Errorf("user meta %v", opts.UserMeta)
	}
	h = http.Header{"Content-Encoding": {"aws-chunked"}}
	if opts, _ := readObjectMeta(h); opts.Headers["Content-Encoding"] != "" {
		t.Errorf("aws-chunked alone kept: %v", opts.Headers)
	}
	// 2 KiB of user metadata, counting names and values.
	h = http.Header{}
	h.Set("X-Amz-Meta-K", strings.Repeat("v", 2047))
	if _, err := readObjectMeta(h); err != nil {
		t.Errorf("2048 bytes of metadata: %v", err)
	}
	h.Set("X-Amz-Meta-K2", "v")
	if _, err := readObjectMeta(h); err != ErrMetadataTooLarge {
		t.Errorf("2051 bytes of metadata: %v", err)
	}
	// Encryption state is never sent back.
	hidden := http.Header{}
	setObjectHeaders(hidden, objectd.ObjectInfo{ETag: "e", Headers: map[string]string{sseKind: kindS3, sseWrapped: "k", sseETag: "plain"}})
	if hidden.Get(sseKind) != "" || hidden.Get(sseWrapped) != "" || hidden.Get("ETag") != `"plain"` {
		t.Errorf("SSE headers out: %v", hidden)
	}
	// Headers back out.
	out := http.Header{}
	setObjectHeaders(out, objectd.ObjectInfo{ETag: "e", Headers: map[string]string{"Cache-Control": "x", internalChecksumType: "FULL_OBJECT"},
		UserMeta: map[string]string{"color": "blue"}})
	if out.Get("ETag") != `"e"` || out.Get("Content-Type") != "binary/octet-stream" || out.Get("Cache-Control") != "x" ||
		len(out["x-amz-meta-color"]) != 1 || out["x-amz-meta-color"][0] != "blue" || out.Get(internalChecksumType) != "" {
		t.Errorf("object headers %v", out)
	}
}

func TestToAPIError(t *testing.T) {
	cases := []struct {
		err    error
		code   string
		status int
	}{
		{objectd.ErrNoSuchBucket, "NoSuchBucket", 404},
		{fmt.Errorf("wrapped: %w", objectd.ErrBucketExists), "BucketAlreadyOwnedByYou", 409},
		{objectd.ErrBucketNotEmpty, "BucketNotEmpty", 409},
		{objectd.ErrNoSuchKey, "NoSuchKey", 404},
		{objectd.ErrNoSuchUpload, "NoSuchUpload", 404},
		{objectd.ErrInvalidPart, "InvalidPart", 400},
		{objectd.ErrInvalidPartOrder, "InvalidPartOrder", 400},
		{objectd.ErrEntityTooSmall, "EntityTooSmall", 400},
		{objectd.ErrEntityTooLarge, "EntityTooLarge", 400},
		{objectd.ErrBadDigest, "BadDigest", 400},
		{objectd.ErrIncompleteBody, "IncompleteBody", 400},
		{objectd.ErrInvalidRange, "InvalidRange", 416},
		{objectd.ErrWriteQuorum, "ServiceUnavailable", 503},
		{fmt.Errorf("x: %w", objectd.ErrReadQuorum), "ServiceUnavailable", 503},
		{objectd.ErrInvalidArgument, "InvalidArgument", 400},
		{objectd.ErrPreconditionFailed, "PreconditionFailed", 412},
		{sigv4.ErrSignatureDoesNotMatch, "SignatureDoesNotMatch", 403},
		{fmt.Errorf("body: %w", sigv4.ErrContentSHA256Mismatch), "XAmzContentSHA256Mismatch", 400},
		{sigv4.ErrInvalidAccessKeyID, "InvalidAccessKeyId", 403},
		{sigv4.ErrRequestTimeTooSkewed, "RequestTimeTooSkewed", 403},
		{&checksumError{alg: checksum.SHA1, err: checksum.ErrMismatch}, "BadDigest", 400},
		{&checksumError{alg: checksum.SHA1, err: checksum.ErrBadValue}, "InvalidRequest", 400},
		{context.Canceled, "RequestCanceled", 499},
		{errBodyTooShort, "IncompleteBody", 400},
		{ErrMalformedXML, "MalformedXML", 400},
		{errors.New("disk on fire"), "InternalError", 500},
	}
	for _, c := range cases {
		ae := toAPIError(c.err)
		if ae.Code != c.code || ae.Status != c.status || ae.Message == "" {
			t.Errorf("toAPIError(%v) = %+v, want %s %d", c.err, ae, c.code, c.status)
		}
	}
}

func TestXMLDocuments(t *testing.T) {
	// CompleteMultipartUpload as the SDKs send it, namespace included.
	const complete = `<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part><ETag>"aaa"</ETag><PartNumber>1</PartNumber><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part>
  <Part><PartNumber>2</PartNumber><ETag>bbb</ETag></Part>
</CompleteMultipartUpload>`
	var doc completeRequest
	if err := xml.Unmarshal([]byte(complete), &doc); err != nil {
		t.Fatal(err)
	}
	parts, err := completeParts(doc, checksum.CRC32C)
	if err != nil || len(parts) != 2 || parts[0].ETag != "aaa" || parts[1].ETag != "bbb" || parts[0].Checksum.Value != "AAAAAA==" || parts[1].Checksum.Value != "" {
		t.Fatalf("complete parts %+v %v", parts, err)
	}
	for _, bad := range []string{
		`<CompleteMultipartUpload></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`,
	} {
		var d completeRequest
		if err := xml.Unmarshal([]byte(bad), &d); err != nil {
			t.Fatal(err)
		}
		if _, err := completeParts(d, ""); err == nil {
			t.Errorf("completeParts accepted %s", bad)
		}
	}
	var other completeRequest
	if err := xml.Unmarshal([]byte(`<Delete/>`), &other); err == nil {
		t.Error("a <Delete> document parsed as CompleteMultipartUpload")
	}
	const del = `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>null</VersionId></Object></Delete>`
	var d deleteRequest
	if err := xml.Unmarshal([]byte(del), &d); err != nil || !d.Quiet || len(d.Objects) != 2 || d.Objects[0].Key != "a&b" || d.Objects[1].VersionID != "null" {
		t.Fatalf("delete request %+v %v", d, err)
	}
	// Responses quote ETags and carry the namespace.
	b, _ := xml.Marshal(copyObjectResult{Xmlns: s3Namespace, ETag: quote("e"), LastModified: "t", checksumFields: checksumFields{ChecksumSHA256: "s"}})
	if string(b) != `<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>&#34;e&#34;</ETag><LastModified>t</LastModified><ChecksumSHA256>s</ChecksumSHA256></CopyObjectResult>` {
		t.Errorf("CopyObjectResult: %s", b)
	}
}

func TestFinalChecksum(t *testing.T) {
	p1, p2 := "first part", "second"
	stored := map[int]objectd.PartInfo{
		1: {Number: 1, Size: int64(len(p1)), Checksum: objectd.Checksum{Algorithm: "CRC32C", Value: sumOf(checksum.CRC32C, p1)}},
		2: {Number: 2, Size: int64(len(p2)), Checksum: objectd.Checksum{Algorithm: "CRC32C", Value: sumOf(checksum.CRC32C, p2)}},
		3: {Number: 3, Size: 1},
	}
	req := []objectd.CompletePart{{Number: 1}, {Number: 2}}
	full, err := finalChecksum(checksum.CRC32C, typeFullObject, req, stored)
	if err != nil || full.Value != sumOf(checksum.CRC32C, p1+p2) || full.Type != typeFullObject {
		t.Errorf("full object: %+v %v", full, err)
	}
	comp, err := finalChecksum(checksum.CRC32C, typeComposite, req, stored)
	want, _ := checksum.Composite(checksum.CRC32C, []string{stored[1].Checksum.Value, stored[2].Checksum.Value})
	if err != nil || comp.Value != want || !strings.HasSuffix(comp.Value, "-2") {
		t.Errorf("composite: %+v %v", comp, err)
	}
	if _, err := finalChecksum(checksum.CRC32C, typeComposite, []objectd.CompletePart{{Number: 4}}, stored); toAPIError(err).Code != "InvalidPart" {
		t.Errorf("missing part: %v", err)
	}
	if _, err := finalChecksum(checksum.CRC32C, typeComposite, []objectd.CompletePart{{Number: 3}}, stored); toAPIError(err).Code != "InvalidPart" {
		t.Errorf("part without checksum: %v", err)
	}
	bad := []objectd.CompletePart{{Number: 1, Checksum: objectd.Checksum{Value: sumOf(checksum.CRC32C, "x")}}}
	if _, err := finalChecksum(checksum.CRC32C, typeComposite, bad, stored); toAPIError(err).Code != "InvalidPart" {
		t.Errorf("mismatching part checksum: %v", err)
	}
	for _, c := range []struct {
		a    checksum.Algorithm
		typ  string
		code string
	}{
		{checksum.SHA256, typeComposite, ""}, {checksum.SHA256, typeFullObject, "InvalidRequest"},
		{checksum.CRC64NVME, typeComposite, "InvalidRequest"}, {checksum.CRC64NVME, typeFullObject, ""},
		{checksum.CRC32, typeFullObject, ""}, {checksum.CRC32, "BOTH", "InvalidRequest"},
	} {
		err := checkChecksumType(c.a, c.typ)
		code := ""
		if err != nil {
			code = toAPIError(err).Code
		}
		if code != c.code {
			t.Errorf("checkChecksumType(%s, %s) = %v", c.a, c.typ, err)
		}
	}
}
