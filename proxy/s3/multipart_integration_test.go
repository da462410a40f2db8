package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

const mib = 1 << 20

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (e *env) getAll(bucket, key string) []byte {
	e.t.Helper()
	out, err := e.aws.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		e.t.Fatalf("reading %s/%s: %v", bucket, key, err)
	}
	return b
}

func TestMultipartAWS(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("mpu")
	src := randomBytes(7*mib, 1)
	e.put("mpu", "source", string(src))

	cr, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("big"), ContentType: aws.String("application/x-test"),
		Metadata: map[string]string{"origin": "multipart"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.UploadId
	part1 := randomBytes(5*mib, 2)
	up1, err := e.aws.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader(part1),
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(part1)
	if aws.ToString(up1.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("part ETag %s", aws.ToString(up1.ETag))
	}
	// Part 2 copies bytes 1 MiB .. 6 MiB-1 of the source.
	cp, err := e.aws.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
		Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id, PartNumber: aws.Int32(2),
		CopySource: aws.String("mpu/source"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", mib, 6*mib-1)),
	})
	if err != nil {
		t.Fatal(err)
	}
	part3 := []byte("tail")
	up3, err := e.aws.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id, PartNumber: aws.Int32(3), Body: bytes.NewReader(part3),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Range beyond the source, bad syntax, bad part numbers.
	_, err = e.aws.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
		Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id, PartNumber: aws.Int32(4),
		CopySource: aws.String("mpu/source"), CopySourceRange: aws.String("bytes=0-99999999"),
	})
	if awsCode(err) != "InvalidRange" {
		t.Fatalf("copy range beyond source: %v", err)
	}
	_, err = e.aws.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
		Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id, PartNumber: aws.Int32(4),
		CopySource: aws.String("mpu/source"), CopySourceRange: aws.String("bytes=5-1"),
	})
	if awsCode(err) != "InvalidArgument" {
		t.Fatalf("bad copy range: %v", err)
	}
	for _, n := range []int32{0, 10001} {
		_, err = e.aws.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id, PartNumber: aws.Int32(n), Body: strings.NewReader("x"),
		})
		if awsCode(err) != "InvalidArgument" {
			t.Fatalf("part number %d: %v", n, err)
		}
	}
	_, err = e.aws.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String("0123456789abcdef0123456789abcdef"), PartNumber: aws.Int32(1), Body: strings.NewReader("x"),
	})
	if awsCode(err) != "NoSuchUpload" {
		t.Fatalf("unknown upload: %v", err)
	}

	lp, err := e.aws.ListParts(ctx, &awss3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id, MaxParts: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" || aws.ToInt64(lp.Parts[1].Size) != 5*mib {
		t.Fatalf("ListParts page 1: %+v", lp)
	}
	lp, err = e.aws.ListParts(ctx, &awss3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id, PartNumberMarker: aws.String("2")})
	if err != nil || len(lp.Parts) != 1 || aws.ToInt32(lp.Parts[0].PartNumber) != 3 || aws.ToBool(lp.IsTruncated) {
		t.Fatalf("ListParts page 2: %+v %v", lp, err)
	}
	lu, err := e.aws.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) || aws.ToString(lu.Uploads[0].Key) != "big" {
		t.Fatalf("ListMultipartUploads: %+v %v", lu, err)
	}

	complete := func(parts ...types.CompletedPart) error {
		_, err := e.aws.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		return err
	}
	p1 := types.CompletedPart{PartNumber: aws.Int32(1), ETag: up1.ETag}
	p2 := types.CompletedPart{PartNumber: aws.Int32(2), ETag: cp.CopyPartResult.ETag}
	p3 := types.CompletedPart{PartNumber: aws.Int32(3), ETag: up3.ETag}
	if err := complete(p1, types.CompletedPart{PartNumber: aws.Int32(2), ETag: aws.String(`"00000000000000000000000000000000"`)}, p3); awsCode(err) != "InvalidPart" {
		t.Fatalf("wrong ETag: %v", err)
	}
	if err := complete(p2, p1, p3); awsCode(err) != "InvalidPartOrder" {
		t.Fatalf("wrong order: %v", err)
	}
	if err := complete(p1, p3, types.CompletedPart{PartNumber: aws.Int32(4), ETag: up3.ETag}); awsCode(err) != "EntityTooSmall" && awsCode(err) != "InvalidPart" {
		t.Fatalf("small middle part: %v", err)
	}
	if err := complete(p1, p3, p2); awsCode(err) != "InvalidPartOrder" {
		t.Fatalf("order 1,3,2: %v", err)
	}
	if err := complete(); awsCode(err) != "MalformedXML" {
		t.Fatalf("no parts: %v", err)
	}
	if err := complete(p1, p2, p3); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	want := append(append(append([]byte{}, part1...), src[mib:6*mib]...), part3...)
	if got := e.getAll("mpu", "big"); !bytes.Equal(got, want) {
		t.Fatalf("completed object differs: %d bytes, want %d", len(got), len(want))
	}
	head, err := e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big")})
	if err != nil || !strings.HasSuffix(aws.ToString(head.ETag), `-3"`) || aws.ToString(head.ContentType) != "application/x-test" || head.Metadata["origin"] != "multipart" {
		t.Fatalf("HeadObject: %+v %v", head, err)
	}
	// Read part 2 alone.
	out, err := e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), PartNumber: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	if !bytes.Equal(got, src[mib:6*mib]) || aws.ToInt32(out.PartsCount) != 3 {
		t.Fatalf("GET partNumber=2: %d bytes, parts count %d", len(got), aws.ToInt32(out.PartsCount))
	}
	_, err = e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), PartNumber: aws.Int32(4)})
	if awsCode(err) != "InvalidPartNumber" {
		t.Fatalf("GET partNumber=4: %v", err)
	}
	if err := complete(p1, p2, p3); awsCode(err) != "NoSuchUpload" {
		t.Fatalf("complete twice: %v", err)
	}

	// Abort.
	cr2, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("aborted")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("aborted"), UploadId: cr2.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.ListParts(ctx, &awss3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("aborted"), UploadId: cr2.UploadId})
	if awsCode(err) != "NoSuchUpload" {
		t.Fatalf("ListParts after abort: %v", err)
	}
}

func TestMultipartMinio(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("mpu")
	data := randomBytes(12*mib+123, 3)
	info, err := e.minio.PutObject(ctx, "mpu", "obj", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{PartSize: 5 * mib})
	if err != nil {
		t.Fatalf("multipart PutObject: %v", err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Fatalf("ETag %q of a 3-part object", info.ETag)
	}
	obj, err := e.minio.GetObject(ctx, "mpu", "obj", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GetObject: %d bytes, %v", len(got), err)
	}
	// Unknown size: minio streams parts of its own size.
	info, err = e.minio.PutObject(ctx, "mpu", "stream", bytes.NewReader(data), -1, minio.PutObjectOptions{PartSize: 5 * mib})
	if err != nil {
		t.Fatalf("streaming PutObject: %v", err)
	}
	if got := e.getAll("mpu", "stream"); !bytes.Equal(got, data) {
		t.Fatal("streamed object differs")
	}
	// ComposeObject uses UploadPartCopy.
	_, err = e.minio.ComposeObject(ctx, minio.CopyDestOptions{Bucket: "mpu", Object: "composed"},
		minio.CopySrcOptions{Bucket: "mpu", Object: "obj", MatchRange: true, Start: 0, End: 5*mib - 1},
		minio.CopySrcOptions{Bucket: "mpu", Object: "obj", MatchRange: true, Start: 10 * mib, End: 12*mib - 1})
	if err != nil {
		t.Fatalf("ComposeObject: %v", err)
	}
	want := append(append([]byte{}, data[:5*mib]...), data[10*mib:12*mib]...)
	if got := e.getAll("mpu", "composed"); !bytes.Equal(got, want) {
		t.Fatal("composed object differs")
	}
}
