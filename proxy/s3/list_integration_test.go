package s3_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

var listKeys = []string{
	"a/1", "a/2", "a/b/3", "b/4", "c", "d e/5", "d e/6", "z+%/7",
}

func fillList(t *testing.T, e *env) {
	e.mkBucket("list")
	for _, k := range listKeys {
		e.put("list", k, "x")
	}
}

func TestListObjectsV2Pagination(t *testing.T) {
	e := newEnv(t)
	fillList(t, e)
	ctx := context.Background()
	// Flat listing, two keys a page.
	var got []string
	p := awss3.NewListObjectsV2Paginator(e.aws, &awss3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if int(aws.ToInt32(out.KeyCount)) != len(out.Contents) {
			t.Fatalf("KeyCount %d with %d contents", aws.ToInt32(out.KeyCount), len(out.Contents))
		}
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
			if aws.ToString(o.ETag) == "" || !strings.HasPrefix(aws.ToString(o.ETag), `"`) || aws.ToInt64(o.Size) != 1 {
				t.Fatalf("object %+v", o)
			}
		}
	}
	if !slices.Equal(got, listKeys) || pages != 4 {
		t.Fatalf("paged listing = %v in %d pages", got, pages)
	}
	// Delimiter, with common prefixes counted in KeyCount and pages.
	var keys, prefixes []string
	p = awss3.NewListObjectsV2Paginator(e.aws, &awss3.ListObjectsV2Input{Bucket: aws.String("list"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
	}
	if !slices.Equal(keys, []string{"c"}) || !slices.Equal(prefixes, []string{"a/", "b/", "d e/", "z+%/"}) {
		t.Fatalf("delimited listing: keys %v prefixes %v", keys, prefixes)
	}
	// Prefix + delimiter + start-after, URL-encoded.
	out, err := e.aws.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket: aws.String("list"), Prefix: aws.String("a/"), Delimiter: aws.String("/"),
		StartAfter: aws.String("a/1"), EncodingType: types.EncodingTypeUrl, FetchOwner: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "a/2" || out.Contents[0].Owner == nil {
		t.Fatalf("start-after listing %+v", out.Contents)
	}
	if len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "a/b/" {
		t.Fatalf("start-after prefixes %+v", out.CommonPrefixes)
	}
	out, err = e.aws.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket: aws.String("list"), Prefix: aws.String("z+%"), EncodingType: types.EncodingTypeUrl,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 1 {
		t.Fatalf("encoded listing %+v", out.Contents)
	}
	if k, _ := url.QueryUnescape(aws.ToString(out.Contents[0].Key)); k != "z+%/7" || aws.ToString(out.Contents[0].Key) == "z+%/7" {
		t.Fatalf("encoded key %q", aws.ToString(out.Contents[0].Key))
	}
	// max-keys=0 and bad parameters.
	out, err = e.aws.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(0)})
	if err != nil || len(out.Contents) != 0 || aws.ToBool(out.IsTruncated) {
		t.Fatalf("max-keys=0: %+v %v", out, err)
	}
	_, err = e.aws.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("list"), MaxKeys: aws.Int32(-1)})
	if awsCode(err) != "InvalidArgument" {
		t.Fatalf("max-keys=-1: %v", err)
	}
	_, err = e.aws.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("list"), ContinuationToken: aws.String("!!notbase64")})
	if awsCode(err) != "InvalidArgument" {
		t.Fatalf("bad token: %v", err)
	}
	_, err = e.aws.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("nolist")})
	if awsCode(err) != "NoSuchBucket" {
		t.Fatalf("missing bucket: %v", err)
	}
}

func TestListObjectsV1(t *testing.T) {
	e := newEnv(t)
	fillList(t, e)
	ctx := context.Background()
	var got []string
	marker := ""
	for range 10 {
		out, err := e.aws.ListObjects(ctx, &awss3.ListObjectsInput{Bucket: aws.String("list"), Marker: aws.String(marker), MaxKeys: aws.Int32(3), Delimiter: aws.String("/")})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
			if o.Owner == nil {
				t.Fatal("v1 listing without Owner")
			}
		}
		for _, cp := range out.CommonPrefixes {
			got = append(got, aws.ToString(cp.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		if aws.ToString(out.NextMarker) == "" {
			t.Fatal("truncated v1 listing with a delimiter has no NextMarker")
		}
		marker = aws.ToString(out.NextMarker)
	}
	want := []string{"a/", "b/", "c", "d e/", "z+%/"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("v1 listing %v, want %v", got, want)
	}
	// minio-go lists with v1 when asked, URL-encoded.
	var mk []string
	for o := range e.minio.ListObjects(ctx, "list", minio.ListObjectsOptions{Recursive: true, UseV1: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		mk = append(mk, o.Key)
	}
	if !slices.Equal(mk, listKeys) {
		t.Fatalf("minio v1 listing %v", mk)
	}
	_, err := e.aws.ListObjects(ctx, &awss3.ListObjectsInput{Bucket: aws.String("list"), EncodingType: "gzip"})
	if awsCode(err) != "InvalidArgument" {
		t.Fatalf("bad encoding-type: %v", err)
	}
}

func TestListManyObjectsMinio(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("many")
	var want []string
	for i := range 1100 {
		k := fmt.Sprintf("obj/%05d", i)
		want = append(want, k)
	}
	// Fill through the store directly: the subject here is listing.
	for _, k := range want {
		if _, err := e.store.PutObject(ctx, "many", k, strings.NewReader(""), 0, objectPutOptions()); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for o := range e.minio.ListObjects(ctx, "many", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got = append(got, o.Key)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d keys, want %d", len(got), len(want))
	}
	out, err := e.aws.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("many"), MaxKeys: aws.Int32(5000)})
	if err != nil || len(out.Contents) != 1000 || !aws.ToBool(out.IsTruncated) || aws.ToInt32(out.MaxKeys) != 1000 {
		t.Fatalf("max-keys clamp: %d contents, truncated %v, max %d, %v", len(out.Contents), aws.ToBool(out.IsTruncated), aws.ToInt32(out.MaxKeys), err)
	}
}

// TestListWithMetadata: minio-go's WithMetadata listing (MinIO's
// metadata=true extension) carries each object's user metadata.
func TestListWithMetadata(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("meta")
	c := e.minioClient(testSecretKey)
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if _, err := c.PutObject(ctx, "meta", k, strings.NewReader(k), 1, minio.PutObjectOptions{UserMetadata: map[string]string{"Marker": "m-" + k}}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for o := range c.ListObjects(ctx, "meta", minio.ListObjectsOptions{WithMetadata: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.UserMetadataStripped["Marker"] != "m-"+o.Key {
			t.Fatalf("%s: metadata %v", o.Key, o.UserMetadataStripped)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("listed %d objects", n)
	}
	for o := range c.ListObjects(ctx, "meta", minio.ListObjectsOptions{Recursive: true}) {
		if len(o.UserMetadataStripped) != 0 {
			t.Fatalf("metadata without asking: %v", o.UserMetadataStripped)
		}
	}
}
