package s3_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
)

// awsCode returns the S3 error code of an aws-sdk-go-v2 error.
func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// minioCode returns the S3 error code of a minio-go error.
func minioCode(err error) string { return minio.ToErrorResponse(err).Code }

func TestBucketLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("alpha")
	if err := e.minio.MakeBucket(ctx, "alpha", minio.MakeBucketOptions{}); minioCode(err) != "BucketAlreadyOwnedByYou" {
		t.Fatalf("second MakeBucket: %v", err)
	}
	if _, err := e.aws.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("beta")}); err != nil {
		t.Fatalf("aws CreateBucket: %v", err)
	}
	list, err := e.aws.ListBuckets(ctx, &awss3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if strings.Join(names, ",") != "alpha,beta" {
		t.Fatalf("ListBuckets = %v", names)
	}
	head, err := e.aws.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String("alpha")})
	if err != nil || aws.ToString(head.BucketRegion) != testRegion {
		t.Fatalf("HeadBucket = %+v, %v", head, err)
	}
	loc, err := e.minio.GetBucketLocation(ctx, "alpha")
	if err != nil || loc != testRegion {
		t.Fatalf("GetBucketLocation = %q, %v", loc, err)
	}
	if ok, err := e.minio.BucketExists(ctx, "nothere"); ok || err != nil {
		t.Fatalf("BucketExists(nothere) = %v, %v", ok, err)
	}
	e.put("alpha", "k", "v")
	if err := e.minio.RemoveBucket(ctx, "alpha"); minioCode(err) != "BucketNotEmpty" {
		t.Fatalf("RemoveBucket non-empty: %v", err)
	}
	if err := e.minio.RemoveObject(ctx, "alpha", "k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.minio.RemoveBucket(ctx, "alpha"); err != nil {
		t.Fatalf("RemoveBucket: %v", err)
	}
	if _, err := e.aws.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String("alpha")}); err == nil {
		t.Fatal("HeadBucket of a removed bucket succeeded")
	}
	if _, err := e.aws.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String("alpha")}); awsCode(err) != "NoSuchBucket" {
		t.Fatalf("DeleteBucket missing: %v", err)
	}
	for _, bad := range []string{"Upper", "ab", "a..b", "192.168.1.1", "xn--abc", "bucket-s3alias", "-dash"} {
		_, err := e.aws.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bad)})
		if awsCode(err) != "InvalidBucketName" {
			t.Errorf("CreateBucket(%q) = %v, want InvalidBucketName", bad, err)
		}
	}
	// Any region name is taken as a location (one region serves all);
	// malformed ones are refused.
	_, err = e.aws.CreateBucket(ctx, &awss3.CreateBucketInput{
		Bucket:                    aws.String("gamma"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1},
	})
	if err != nil {
		t.Fatalf("CreateBucket eu-west-1: %v", err)
	}
	_, err = e.aws.CreateBucket(ctx, &awss3.CreateBucketInput{
		Bucket:                    aws.String("delta"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu west<1>"},
	})
	if awsCode(err) != "InvalidLocationConstraint" {
		t.Fatalf("CreateBucket with a malformed location: %v", err)
	}
}

func TestPutGetObject(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("data")
	keys := []string{"plain", "dir/sub/file.txt", "a//b", "../up", "trailing/", "sp ace+plus%pct", "ünïcødé/日本語", "q?x=1&y#frag"}
	for i, k := range keys {
		body := strings.Repeat(k, i+1)
		info, err := e.minio.PutObject(ctx, "data", k, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{
			ContentType:  "text/plain",
			UserMetadata: map[string]string{"color": "blue"},
			CacheControl: "max-age=60",
		})
		if err != nil {
			t.Fatalf("PutObject %q: %v", k, err)
		}
		obj, err := e.minio.GetObject(ctx, "data", k, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		if err != nil || string(got) != body {
			t.Fatalf("GetObject %q = %q, %v", k, got, err)
		}
		st, err := e.minio.StatObject(ctx, "data", k, minio.StatObjectOptions{})
		if err != nil {
			t.Fatalf("StatObject %q: %v", k, err)
		}
		if st.ETag != info.ETag || st.ContentType != "text/plain" || st.UserMetadata["Color"] != "blue" || st.Size != int64(len(body)) {
			t.Fatalf("StatObject %q = %+v (put etag %s)", k, st, info.ETag)
		}
		if st.Metadata.Get("Cache-Control") != "max-age=60" {
			t.Fatalf("Cache-Control = %q", st.Metadata.Get("Cache-Control"))
		}
	}
	out, err := e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("plain"), Range: aws.String("bytes=1-3")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	if string(got) != "lai" || aws.ToString(out.ContentRange) != "bytes 1-3/5" {
		t.Fatalf("range GET = %q %q", got, aws.ToString(out.ContentRange))
	}
	_, err = e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("plain"), Range: aws.String("bytes=10-")})
	if awsCode(err) != "InvalidRange" {
		t.Fatalf("unsatisfiable range: %v", err)
	}
	_, err = e.aws.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("GetObject missing: %v", err)
	}
	if _, err := e.aws.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("data"), Key: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.aws.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("data"), Key: aws.String("plain")}); err != nil {
		t.Fatalf("DeleteObject of a missing key: %v", err)
	}
	if _, err := e.minio.StatObject(ctx, "data", "plain", minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
		t.Fatalf("StatObject after delete: %v", err)
	}
}
