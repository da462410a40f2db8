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

// TestVersioningWithClients drives bucket versioning through minio-go and
// aws-sdk-go-v2: versions on PUT, GET/HEAD by version id, delete markers,
// removal by version id, ListObjectVersions, copy from a version,
// DeleteObjects with versions, suspension and null versions, and the
// refusals.
func TestVersioningWithClients(t *testing.T) {
	ce := newConfigEnv(t)
	e := ce.env
	ctx := context.Background()
	e.mkBucket("ver")
	// Unversioned until configured.
	cfg, err := e.minio.GetBucketVersioning(ctx, "ver")
	if err != nil || cfg.Status != "" {
		t.Fatalf("versioning of a new bucket: %+v %v", cfg, err)
	}
	before := e.put("ver", "k", "written before versioning")
	if before.VersionID != "" {
		t.Fatalf("an unversioned PUT answered version %q", before.VersionID)
	}
	if err := e.minio.EnableVersioning(ctx, "ver"); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := e.minio.GetBucketVersioning(ctx, "ver"); cfg.Status != "Enabled" {
		t.Fatalf("status %q", cfg.Status)
	}
	v1 := e.put("ver", "k", "version one")
	v2 := e.put("ver", "k", "version two")
	if v1.VersionID == "" || v2.VersionID == "" || v1.VersionID == v2.VersionID {
		t.Fatalf("version ids %q %q", v1.VersionID, v2.VersionID)
	}
	read := func(vid string) (string, error) {
		o, err := e.minio.GetObject(ctx, "ver", "k", minio.GetObjectOptions{VersionID: vid})
		if err != nil {
			return "", err
		}
		defer o.Close()
		b, err := io.ReadAll(o)
		return string(b), err
	}
	for vid, want := range map[string]string{"": "version two", v1.VersionID: "version one", "null": "written before versioning"} {
		if got, err := read(vid); err != nil || got != want {
			t.Fatalf("GET version %q: %q %v", vid, got, err)
		}
	}
	st, err := e.minio.StatObject(ctx, "ver", "k", minio.StatObjectOptions{VersionID: v1.VersionID})
	if err != nil || st.VersionID != v1.VersionID {
		t.Fatalf("HEAD v1: %+v %v", st, err)
	}
	if _, err := read("0123456789abcdef0123456789abcdef"); minio.ToErrorResponse(err).Code != "NoSuchVersion" {
		t.Fatalf("GET of an unknown version: %v", err)
	}
	if _, err := read("8d6e1b7a-0000-4000-8000-000000000000"); minio.ToErrorResponse(err).Code != "NoSuchVersion" {
		t.Fatalf("GET of a version id of another shape: %v", err)
	}

	// A delete makes a marker; GET answers NoSuchKey with the marker's
	// headers; the marker by id answers 405.
	out, err := e.aws.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("ver"), Key: aws.String("k")})
	if err != nil || !aws.ToBool(out.DeleteMarker) || aws.ToString(out.VersionId) == "" {
		t.Fatalf("delete: %+v %v", out, err)
	}
	marker := aws.ToString(out.VersionId)
	if _, err := read(""); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Fatalf("GET after delete: %v", err)
	}
	r := e.raw("GET", "/ver/k", nil, nil)
	if r.status != 404 || r.header.Get("X-Amz-Delete-Marker") != "true" || r.header.Get("X-Amz-Version-Id") != marker {
		t.Fatalf("GET of a deleted key: %d %v", r.status, r.header)
	}
	r = e.raw("GET", "/ver/k?versionId="+marker, nil, nil)
	if r.status != 405 || !strings.Contains(string(r.body), "MethodNotAllowed") {
		t.Fatalf("GET of the marker by id: %d %s", r.status, r.body)
	}
	objs := 0
	for o := range e.minio.ListObjects(ctx, "ver", minio.ListObjectsOptions{}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		objs++
	}
	if objs != 0 {
		t.Fatalf("%d objects listed after the delete", objs)
	}
	lv, err := e.aws.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String("ver")})
	if err != nil || len(lv.Versions) != 3 || len(lv.DeleteMarkers) != 1 || !aws.ToBool(lv.DeleteMarkers[0].IsLatest) {
		t.Fatalf("ListObjectVersions: %+v %v", lv, err)
	}
	if aws.ToString(lv.Versions[0].VersionId) != v2.VersionID || aws.ToString(lv.Versions[2].VersionId) != "null" {
		t.Fatalf("versions out of order: %v, %v, %v", aws.ToString(lv.Versions[0].VersionId), aws.ToString(lv.Versions[1].VersionId), aws.ToString(lv.Versions[2].VersionId))
	}
	// minio-go's listing of versions sees the same.
	n := 0
	for o := range e.minio.ListObjects(ctx, "ver", minio.ListObjectsOptions{WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	if n != 4 {
		t.Fatalf("minio-go lists %d versions", n)
	}

	// Copy from an old version restores it as a new version.
	ci, err := e.minio.CopyObject(ctx, minio.CopyDestOptions{Bucket: "ver", Object: "k"},
		minio.CopySrcOptions{Bucket: "ver", Object: "k", VersionID: v1.VersionID})
	if err != nil || ci.VersionID == "" {
		t.Fatalf("copy from v1: %+v %v", ci, err)
	}
	if got, _ := read(""); got != "version one" {
		t.Fatalf("after restoring v1: %q", got)
	}

	// Removing versions by id: the marker, then v2.
	if err := e.minio.RemoveObject(ctx, "ver", "k", minio.RemoveObjectOptions{VersionID: v2.VersionID}); err != nil {
		t.Fatal(err)
	}
	if _, err := read(v2.VersionID); minio.ToErrorResponse(err).Code != "NoSuchVersion" {
		t.Fatalf("v2 after its removal: %v", err)
	}
	// DeleteObjects with version ids removes exactly those.
	dout, err := e.aws.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: aws.String("ver"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("k"), VersionId: aws.String(marker)},
		{Key: aws.String("k"), VersionId: aws.String("null")},
	}}})
	if err != nil || len(dout.Deleted) != 2 || len(dout.Errors) != 0 {
		t.Fatalf("DeleteObjects: %+v %v", dout, err)
	}
	if _, err := read("null"); minio.ToErrorResponse(err).Code != "NoSuchVersion" {
		t.Fatalf("null version after its removal: %v", err)
	}

	// Suspended: PUTs make the null version, replacing it.
	if err := e.minio.SuspendVersioning(ctx, "ver"); err != nil {
		t.Fatal(err)
	}
	e.put("ver", "k", "null one")
	s2 := e.put("ver", "k", "null two")
	if s2.VersionID != "null" {
		t.Fatalf("suspended PUT answered version %q", s2.VersionID)
	}
	lv, _ = e.aws.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String("ver")})
	nulls := 0
	for _, v := range lv.Versions {
		if aws.ToString(v.VersionId) == "null" {
			nulls++
		}
	}
	if nulls != 1 {
		t.Fatalf("%d null versions after two suspended PUTs", nulls)
	}

	// Refusals.
	for _, body := range []string{
		`<VersioningConfiguration><Status>On</Status></VersioningConfiguration>`,
		`<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`,
		`not xml`,
	} {
		r := e.raw("PUT", "/ver?versioning", []byte(body), nil)
		if r.status != 400 {
			t.Fatalf("PUT versioning %s: %d %s", body, r.status, r.body)
		}
	}
	if cfg, _ := e.minio.GetBucketVersioning(ctx, "ver"); cfg.Status != "Suspended" {
		t.Fatalf("a refused configuration changed the status to %q", cfg.Status)
	}
	// A bucket with versions left is not empty.
	var apiErr smithy.APIError
	if _, err := e.aws.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String("ver")}); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "BucketNotEmpty" {
		t.Fatalf("delete of a bucket with versions: %v", err)
	}
}
