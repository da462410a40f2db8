package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/basaltstore/basalt/objectd/checksum"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func crc32cOf(b []byte) string {
	v := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	return b64([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func TestChecksumsSinglePut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("sums")
	body := []byte("checksummed body")
	for _, alg := range []types.ChecksumAlgorithm{
		types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme,
		types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256,
	} {
		key := "k-" + string(alg)
		// The SDK sends the checksum as an aws-chunked trailer.
		put, err := e.aws.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: aws.String("sums"), Key: aws.String(key), Body: bytes.NewReader(body), ChecksumAlgorithm: alg,
		})
		if err != nil {
			t.Fatalf("PutObject %s: %v", alg, err)
		}
		a, _ := checksum.Parse(string(alg))
		h := a.New()
		h.Write(body)
		want := a.Encode(h.Sum(nil))
		got := map[types.ChecksumAlgorithm]*string{
			types.ChecksumAlgorithmCrc32: put.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: put.ChecksumCRC32C,
			types.ChecksumAlgorithmCrc64nvme: put.ChecksumCRC64NVME, types.ChecksumAlgorithmSha1: put.ChecksumSHA1,
			types.ChecksumAlgorithmSha256: put.ChecksumSHA256,
		}[alg]
		if aws.ToString(got) != want {
			t.Fatalf("PutObject %s returned checksum %q, want %q", alg, aws.ToString(got), want)
		}
		head, err := e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		hv := map[types.ChecksumAlgorithm]*string{
			types.ChecksumAlgorithmCrc32: head.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: head.ChecksumCRC32C,
			types.ChecksumAlgorithmCrc64nvme: head.ChecksumCRC64NVME, types.ChecksumAlgorithmSha1: head.ChecksumSHA1,
			types.ChecksumAlgorithmSha256: head.ChecksumSHA256,
		}[alg]
		if aws.ToString(hv) != want || head.ChecksumType != types.ChecksumTypeFullObject {
			t.Fatalf("HeadObject %s checksum %q type %q, want %q", alg, aws.ToString(hv), head.ChecksumType, want)
		}
		// Without checksum mode, no checksum header.
		head, err = e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key)})
		if err != nil || head.ChecksumCRC32 != nil || head.ChecksumSHA256 != nil || head.ChecksumCRC64NVME != nil {
			t.Fatalf("HeadObject without checksum mode: %+v %v", head, err)
		}
		// GetObject with checksum mode: the SDK validates the body against it.
		out, err := e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(out.Body)
		if err != nil || !bytes.Equal(b, body) {
			t.Fatalf("GetObject %s: %q %v", alg, b, err)
		}
		if out.ContentEncoding != nil {
			t.Fatalf("the aws-chunked transfer coding was stored: Content-Encoding %q", aws.ToString(out.ContentEncoding))
		}
	}
	// A checksum header that does not match.
	resp := e.raw(http.MethodPut, "/sums/bad", body, http.Header{"X-Amz-Checksum-Crc32c": {crc32cOf([]byte("other"))}})
	if resp.status != 400 || resp.code != "BadDigest" || !strings.Contains(string(resp.body), "x-amz-checksum-crc32c") {
		t.Fatalf("wrong crc32c: %d %s %s", resp.status, resp.code, resp.body)
	}
	resp = e.raw(http.MethodPut, "/sums/bad", body, http.Header{"X-Amz-Checksum-Sha256": {"not base64!"}})
	if resp.status != 400 || resp.code != "InvalidRequest" {
		t.Fatalf("malformed sha256: %d %s", resp.status, resp.code)
	}
	resp = e.raw(http.MethodPut, "/sums/good", body, http.Header{"X-Amz-Checksum-Crc32c": {crc32cOf(body)}})
	if resp.status != 200 || resp.header.Get("X-Amz-Checksum-Crc32c") != crc32cOf(body) {
		t.Fatalf("right crc32c: %d %s", resp.status, resp.body)
	}
	if _, err := e.minio.StatObject(ctx, "sums", "bad", minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
		t.Fatalf("an object with a bad checksum was stored: %v", err)
	}
	// Content-MD5.
	resp = e.raw(http.MethodPut, "/sums/md5", body, http.Header{"Content-Md5": {md5b64("other")}})
	if resp.status != 400 || resp.code != "BadDigest" {
		t.Fatalf("wrong Content-MD5: %d %s", resp.status, resp.code)
	}
	resp = e.raw(http.MethodPut, "/sums/md5", body, http.Header{"Content-Md5": {"abc"}})
	if resp.status != 400 || resp.code != "InvalidDigest" {
		t.Fatalf("malformed Content-MD5: %d %s", resp.status, resp.code)
	}
	_, err := e.aws.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("md5"), Body: bytes.NewReader(body), ContentMD5: aws.String(md5b64("other"))})
	if awsCode(err) != "BadDigest" {
		t.Fatalf("aws PutObject with a wrong Content-MD5: %v", err)
	}
	if _, err := e.aws.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("md5"), Body: bytes.NewReader(body), ContentMD5: aws.String(md5b64(string(body)))}); err != nil {
		t.Fatalf("aws PutObject with Content-MD5: %v", err)
	}
}

func TestChecksumsMultipart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("sums")
	p1, p2 := randomBytes(5*mib, 10), randomBytes(1234, 11)
	for _, c := range []struct {
		alg types.ChecksumAlgorithm
		typ types.ChecksumType
	}{
		{types.ChecksumAlgorithmSha256, types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmCrc32c, ""},
		{types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject},
		{types.ChecksumAlgorithmCrc64nvme, ""},
	} {
		key := "mp-" + string(c.alg)
		cr, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
			Bucket: aws.String("sums"), Key: aws.String(key), ChecksumAlgorithm: c.alg, ChecksumType: c.typ,
		})
		if err != nil {
			t.Fatalf("%s: create: %v", c.alg, err)
		}
		a, _ := checksum.Parse(string(c.alg))
		var values []string
		var parts []types.CompletedPart
		for i, data := range [][]byte{p1, p2} {
			up, err := e.aws.UploadPart(ctx, &awss3.UploadPartInput{
				Bucket: aws.String("sums"), Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)),
				Body: bytes.NewReader(data), ChecksumAlgorithm: c.alg,
			})
			if err != nil {
				t.Fatalf("%s: part %d: %v", c.alg, i+1, err)
			}
			h := a.New()
			h.Write(data)
			values = append(values, a.Encode(h.Sum(nil)))
			parts = append(parts, types.CompletedPart{
				PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag,
				ChecksumCRC32: up.ChecksumCRC32, ChecksumCRC32C: up.ChecksumCRC32C, ChecksumCRC64NVME: up.ChecksumCRC64NVME,
				ChecksumSHA1: up.ChecksumSHA1, ChecksumSHA256: up.ChecksumSHA256,
			})
		}
		out, err := e.aws.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket: aws.String("sums"), Key: aws.String(key), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if err != nil {
			t.Fatalf("%s: complete: %v", c.alg, err)
		}
		typ := c.typ
		if typ == "" {
			typ = types.ChecksumTypeComposite
			if c.alg == types.ChecksumAlgorithmCrc64nvme {
				typ = types.ChecksumTypeFullObject
			}
		}
		var want string
		if typ == types.ChecksumTypeFullObject {
			h := a.New()
			h.Write(p1)
			h.Write(p2)
			want = a.Encode(h.Sum(nil))
		} else {
			want, _ = checksum.Composite(a, values)
		}
		got := aws.ToString(out.ChecksumCRC32) + aws.ToString(out.ChecksumCRC32C) + aws.ToString(out.ChecksumCRC64NVME) +
			aws.ToString(out.ChecksumSHA1) + aws.ToString(out.ChecksumSHA256)
		if got != want || out.ChecksumType != typ {
			t.Fatalf("%s: complete checksum %q type %q, want %q %q", c.alg, got, out.ChecksumType, want, typ)
		}
		head, err := e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		hv := aws.ToString(head.ChecksumCRC32) + aws.ToString(head.ChecksumCRC32C) + aws.ToString(head.ChecksumCRC64NVME) +
			aws.ToString(head.ChecksumSHA1) + aws.ToString(head.ChecksumSHA256)
		if hv != want || head.ChecksumType != typ {
			t.Fatalf("%s: head checksum %q type %q, want %q", c.alg, hv, head.ChecksumType, want)
		}
		// The SDK validates full-object checksums of a whole GET.
		o, err := e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(o.Body); err != nil || len(b) != len(p1)+len(p2) {
			t.Fatalf("%s: GET: %d bytes, %v", c.alg, len(b), err)
		}
	}
	// A part whose checksum algorithm is not the upload's.
	cr, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String("sums"), Key: aws.String("mixed"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		t.Fatal(err)
	}
	up, err := e.aws.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: aws.String("sums"), Key: aws.String("mixed"), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
		Body: bytes.NewReader(p2), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String("sums"), Key: aws.String("mixed"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}},
	})
	if awsCode(err) != "InvalidRequest" {
		t.Fatalf("completing with a part of another algorithm: %v", err)
	}
	// A part sent without a checksum gets one computed with the upload's algorithm.
	resp := e.raw(http.MethodPut, "/sums/mixed?partNumber=2&uploadId="+aws.ToString(cr.UploadId), p2, nil)
	if resp.status != 200 || resp.header.Get("X-Amz-Checksum-Sha256") != sumSHA256(p2) {
		t.Fatalf("part without checksum: %d %v", resp.status, resp.header)
	}
	_, err = e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String("sums"), Key: aws.String("x"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumType: types.ChecksumTypeFullObject,
	})
	if awsCode(err) != "InvalidRequest" {
		t.Fatalf("SHA256 FULL_OBJECT: %v", err)
	}
	// minio-go's default multipart upload (CRC32C checksums).
	data := append(append([]byte{}, p1...), p2...)
	if _, err := e.minio.PutObject(ctx, "sums", "minio-mp", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{PartSize: 5 * mib}); err != nil {
		t.Fatalf("minio multipart: %v", err)
	}
	sum := sha256.Sum256(e.getAll("sums", "minio-mp"))
	if want := sha256.Sum256(data); sum != want {
		t.Fatal("minio multipart object differs")
	}
}

func sumSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return b64(s[:])
}

// TestTrailingChecksumsMinioGo drives minio-go with trailing checksums, as
// its own functional suite does: parts stream as aws-chunked bodies with
// a CRC32C trailer, and CompleteMultipartUpload carries the expected
// FULL_OBJECT CRC32C of the whole object in x-amz-checksum-crc32c (the
// checksum of the object, not of the XML body). Every newer algorithm
// minio-go offers goes through a single PUT the same way.
func TestTrailingChecksumsMinioGo(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("trail")
	c, err := minio.New(e.host(), &minio.Options{
		Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: testRegion,
		BucketLookup: minio.BucketLookupPath, TrailingHeaders: true, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := bytes.Repeat([]byte("basalt-trailer-"), 800_000) // ~12 MiB: three parts
	info, err := c.PutObject(ctx, "trail", "full", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		DisableContentSha256: true, PartSize: 5 << 20, Checksum: minio.ChecksumFullObjectCRC32C,
	})
	if err != nil {
		t.Fatalf("multipart with FULL_OBJECT CRC32C: %v", err)
	}
	if info.ChecksumCRC32C != crc32cOf(data) {
		t.Fatalf("object CRC32C %q, want %q", info.ChecksumCRC32C, crc32cOf(data))
	}
	for _, cs := range []minio.ChecksumType{minio.ChecksumMD5, minio.ChecksumSHA512, minio.ChecksumXXHash64, minio.ChecksumXXHash3, minio.ChecksumXXHash128, minio.ChecksumCRC64NVME} {
		body := []byte("checksummed by " + cs.String())
		h := cs.Hasher()
		h.Write(body)
		want := b64(h.Sum(nil))
		_, err := c.PutObject(ctx, "trail", cs.String(), bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
			DisableMultipart: true, Checksum: cs,
		})
		if err != nil {
			t.Fatalf("%s: %v", cs, err)
		}
		// A wrong value is refused.
		bad := cs.Hasher()
		_, err = c.PutObject(ctx, "trail", cs.String()+"-bad", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
			DisableMultipart: true, UserMetadata: map[string]string{cs.Key(): b64(bad.Sum(nil))},
		})
		if minio.ToErrorResponse(err).Code != "BadDigest" {
			t.Fatalf("%s with a wrong value: %v", cs, err)
		}
		st, err := c.StatObject(ctx, "trail", cs.String(), minio.StatObjectOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		got := map[minio.ChecksumType]string{
			minio.ChecksumCRC64NVME: st.ChecksumCRC64NVME, minio.ChecksumMD5: st.ChecksumMD5,
			minio.ChecksumSHA512: st.ChecksumSHA512, minio.ChecksumXXHash64: st.ChecksumXXHash64,
			minio.ChecksumXXHash3: st.ChecksumXXHash3, minio.ChecksumXXHash128: st.ChecksumXXHash128,
		}[cs]
		if got != want {
			t.Fatalf("%s stored %q, want %q", cs, got, want)
		}
	}
}

// TestCopyKeepsChecksumAlgorithm: the copy of an object with a checksum
// carries a FULL_OBJECT checksum of the same algorithm over the whole
// object, also when the source's was a composite of its parts.
func TestCopyKeepsChecksumAlgorithm(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("cpy")
	c, err := minio.New(e.host(), &minio.Options{
		Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: testRegion,
		BucketLookup: minio.BucketLookupPath, TrailingHeaders: true, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := bytes.Repeat([]byte("copy-checksum-"), 900_000) // ~12 MiB: 3 parts
	for _, cs := range []minio.ChecksumType{minio.ChecksumSHA256, minio.ChecksumCRC32C, minio.ChecksumMD5} {
		if _, err := c.PutObject(ctx, "cpy", cs.String(), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
			PartSize: 5 << 20, Checksum: cs, DisableContentSha256: true,
		}); err != nil {
			t.Fatalf("%s: %v", cs, err)
		}
		if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "cpy", Object: cs.String() + "-copy"},
			minio.CopySrcOptions{Bucket: "cpy", Object: cs.String()}); err != nil {
			t.Fatalf("copy %s: %v", cs, err)
		}
		st, err := c.StatObject(ctx, "cpy", cs.String()+"-copy", minio.StatObjectOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		h := cs.Hasher()
		h.Write(data)
		want := b64(h.Sum(nil))
		got := map[minio.ChecksumType]string{minio.ChecksumSHA256: st.ChecksumSHA256, minio.ChecksumCRC32C: st.ChecksumCRC32C, minio.ChecksumMD5: st.ChecksumMD5}[cs]
		if got != want || st.ChecksumMode != "FULL_OBJECT" {
			t.Fatalf("copy of %s: checksum %q type %q, want %q FULL_OBJECT", cs, got, st.ChecksumMode, want)
		}
	}
}

// TestDefaultChecksumIsCRC64NVME: an object stored without any checksum
// gets a FULL_OBJECT CRC64NVME, as S3 gives every new object; so does a
// copy of it that asks for none.
func TestDefaultChecksumIsCRC64NVME(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("dflt")
	c := e.minioClient(testSecretKey)
	ctx := context.Background()
	data := []byte("no checksum was asked for")
	if _, err := c.PutObject(ctx, "dflt", "plain", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{DisableMultipart: true, DisableContentSha256: true}); err != nil {
		t.Fatal(err)
	}
	h := minio.ChecksumCRC64NVME.Hasher()
	h.Write(data)
	want := b64(h.Sum(nil))
	for _, key := range []string{"plain", "copied"} {
		if key == "copied" {
			if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: "dflt", Object: key}, minio.CopySrcOptions{Bucket: "dflt", Object: "plain"}); err != nil {
				t.Fatal(err)
			}
		}
		st, err := c.StatObject(ctx, "dflt", key, minio.StatObjectOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		if st.ChecksumCRC64NVME != want || st.ChecksumMode != "FULL_OBJECT" {
			t.Fatalf("%s: CRC64NVME %q type %q, want %q FULL_OBJECT", key, st.ChecksumCRC64NVME, st.ChecksumMode, want)
		}
	}
}
