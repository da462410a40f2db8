package s3_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestPresignedURLs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("pre")
	put, err := e.minio.PresignedPutObject(ctx, "pre", "k y", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, put.String(), strings.NewReader("presigned body"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d", resp.StatusCode)
	}
	get, err := e.minio.PresignedGetObject(ctx, "pre", "k y", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(get.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "presigned body" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, b)
	}
	// Tampering with the URL breaks the signature.
	resp, err = http.Get(strings.Replace(get.String(), "k%20y", "other", 1))
	if err != nil {
		t.Fatal(err)
	}
	r := readErr(t, resp)
	if r.status != 403 || r.code != "SignatureDoesNotMatch" {
		t.Fatalf("tampered presigned GET: %d %s", r.status, r.code)
	}
}

func TestClientProbes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("probe")
	e.put("probe", "a", "1")
	e.put("probe", "b/c", "2")
	v, err := e.aws.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String("probe"), Delimiter: aws.String("/")})
	if err != nil || len(v.Versions) != 1 || aws.ToString(v.Versions[0].VersionId) != "null" || !aws.ToBool(v.Versions[0].IsLatest) ||
		len(v.CommonPrefixes) != 1 {
		t.Fatalf("ListObjectVersions: %+v %v", v, err)
	}
	tags, err := e.aws.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: aws.String("probe"), Key: aws.String("a")})
	if err != nil || len(tags.TagSet) != 0 {
		t.Fatalf("GetObjectTagging: %+v %v", tags, err)
	}
	if _, err := e.aws.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: aws.String("probe"), Key: aws.String("zz")}); awsCode(err) != "NoSuchKey" {
		t.Fatalf("GetObjectTagging of a missing key: %v", err)
	}
	acl, err := e.aws.GetObjectAcl(ctx, &awss3.GetObjectAclInput{Bucket: aws.String("probe"), Key: aws.String("a")})
	if err != nil || len(acl.Grants) != 1 {
		t.Fatalf("GetObjectAcl: %+v %v", acl, err)
	}
	if _, err := e.aws.DeleteBucketCors(ctx, &awss3.DeleteBucketCorsInput{Bucket: aws.String("probe")}); err != nil {
		t.Fatalf("DeleteBucketCors: %v", err)
	}
	if _, err := e.aws.GetBucketLifecycleConfiguration(ctx, &awss3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("probe")}); awsCode(err) != "NoSuchLifecycleConfiguration" {
		t.Fatalf("GetBucketLifecycleConfiguration: %v", err)
	}
	loc, err := e.aws.GetBucketLocation(ctx, &awss3.GetBucketLocationInput{Bucket: aws.String("probe")})
	if err != nil || loc.LocationConstraint != "" {
		t.Fatalf("GetBucketLocation: %+v %v", loc, err)
	}
	// The paginated ListBuckets.
	e.mkBucket("probe2")
	e.mkBucket("other")
	lb, err := e.aws.ListBuckets(ctx, &awss3.ListBucketsInput{Prefix: aws.String("probe"), MaxBuckets: aws.Int32(1)})
	if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "probe" || aws.ToString(lb.ContinuationToken) == "" {
		t.Fatalf("ListBuckets page 1: %+v %v", lb, err)
	}
	lb, err = e.aws.ListBuckets(ctx, &awss3.ListBucketsInput{Prefix: aws.String("probe"), MaxBuckets: aws.Int32(1), ContinuationToken: lb.ContinuationToken})
	if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "probe2" || lb.ContinuationToken != nil {
		t.Fatalf("ListBuckets page 2: %+v %v", lb, err)
	}
}
