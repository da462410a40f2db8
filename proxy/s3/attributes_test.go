package s3_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

func TestGetObjectAttributes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("attrs")
	if _, err := e.aws.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("attrs"), Key: aws.String("k"),
		Body: strings.NewReader("hello attributes"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}); err != nil {
		t.Fatal(err)
	}
	out, err := e.aws.GetObjectAttributes(ctx, &awss3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("k"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectSize, types.ObjectAttributesStorageClass}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ETag) == "" || strings.Contains(aws.ToString(out.ETag), `"`) || aws.ToInt64(out.ObjectSize) != 16 ||
		out.StorageClass != types.StorageClassStandard || out.Checksum == nil || aws.ToString(out.Checksum.ChecksumCRC32C) == "" {
		t.Fatalf("attributes: %+v", out)
	}
	// minio-go's call, with the parts of a multipart object.
	data := strings.Repeat("p", 6<<20)
	if _, err := e.minio.PutObject(ctx, "attrs", "mp", strings.NewReader(data), int64(len(data)), minio.PutObjectOptions{PartSize: 5 << 20}); err != nil {
		t.Fatal(err)
	}
	attrs, err := e.minio.GetObjectAttributes(ctx, "attrs", "mp", minio.ObjectAttributesOptions{})
	if err != nil || attrs.ObjectSize != len(data) || attrs.ObjectParts.PartsCount != 2 || len(attrs.ObjectParts.Parts) != 2 {
		t.Fatalf("minio-go attributes: %+v %v", attrs, err)
	}
	attrs, err = e.minio.GetObjectAttributes(ctx, "attrs", "mp", minio.ObjectAttributesOptions{MaxParts: 1, PartNumberMarker: 1})
	if err != nil || len(attrs.ObjectParts.Parts) != 1 || attrs.ObjectParts.Parts[0].PartNumber != 2 {
		t.Fatalf("second page of parts: %+v %v", attrs.ObjectParts, err)
	}
	// Refusals: no attribute asked, an unknown one, a missing key.
	if r := e.raw("GET", "/attrs/k?attributes", nil, nil); r.status != 400 || r.code != "InvalidArgument" {
		t.Fatalf("no attributes: %d %s", r.status, r.code)
	}
	h := map[string][]string{"X-Amz-Object-Attributes": {"Colour"}}
	if r := e.raw("GET", "/attrs/k?attributes", nil, h); r.status != 400 {
		t.Fatalf("unknown attribute: %d %s", r.status, r.code)
	}
	if _, err := e.minio.GetObjectAttributes(ctx, "attrs", "missing", minio.ObjectAttributesOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Fatalf("missing key: %v", err)
	}
}
