package s3_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

// TestObjectLockWithClients: a bucket made with object lock is versioned
// and cannot be suspended; default retention applies to new versions;
// retention and legal hold protect a version from deletion by id (a
// governance lock yields to the bypass header, a compliance lock to
// nothing and cannot be shortened); a delete without version id still
// makes a marker; buckets without lock refuse lock headers.
func TestObjectLockWithClients(t *testing.T) {
	ce := newConfigEnv(t)
	e := ce.env
	ctx := context.Background()
	if err := e.minio.MakeBucket(ctx, "locked", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	if cfg, err := e.minio.GetBucketVersioning(ctx, "locked"); err != nil || cfg.Status != "Enabled" {
		t.Fatalf("versioning of a lock bucket: %+v %v", cfg, err)
	}
	if err := e.minio.SuspendVersioning(ctx, "locked"); minio.ToErrorResponse(err).Code != "InvalidBucketState" {
		t.Fatalf("suspending a lock bucket: %v", err)
	}
	enabled, mode, validity, unit, err := e.minio.GetObjectLockConfig(ctx, "locked")
	if err != nil || enabled != "Enabled" || mode != nil || validity != nil || unit != nil {
		t.Fatalf("lock configuration: %v %v %v %v %v", enabled, mode, validity, unit, err)
	}
	gov, days := minio.Governance, uint(1)
	dayUnit := minio.Days
	if err := e.minio.SetObjectLockConfig(ctx, "locked", &gov, &days, &dayUnit); err != nil {
		t.Fatal(err)
	}
	// Default retention: governance for a day.
	v1 := e.put("locked", "doc", "first")
	st, err := e.minio.StatObject(ctx, "locked", "doc", minio.StatObjectOptions{VersionID: v1.VersionID})
	if err != nil || st.Metadata.Get("X-Amz-Object-Lock-Mode") != "GOVERNANCE" {
		t.Fatalf("default retention: %v %v", st.Metadata, err)
	}
	if err := e.minio.RemoveObject(ctx, "locked", "doc", minio.RemoveObjectOptions{VersionID: v1.VersionID}); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("delete of a governed version: %v", err)
	}
	// Without a version id: a delete marker, allowed.
	if err := e.minio.RemoveObject(ctx, "locked", "doc", minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("delete (marker) in a lock bucket: %v", err)
	}
	// Compliance retention on a new version: cannot be shortened nor
	// bypassed.
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	comp := minio.Compliance
	info, err := e.minio.PutObject(ctx, "locked", "contract", strings.NewReader("signed"), 6,
		minio.PutObjectOptions{Mode: comp, RetainUntilDate: until})
	if err != nil {
		t.Fatal(err)
	}
	shorter := until.Add(-time.Hour)
	err = e.minio.PutObjectRetention(ctx, "locked", "contract", minio.PutObjectRetentionOptions{VersionID: info.VersionID, Mode: &comp, RetainUntilDate: &shorter})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("shortening a compliance lock: %v", err)
	}
	_, err = e.aws.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("contract"),
		VersionId: aws.String(info.VersionID), BypassGovernanceRetention: aws.Bool(true)})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("bypassing a compliance lock: %v", err)
	}
	m, u, err := e.minio.GetObjectRetention(ctx, "locked", "contract", info.VersionID)
	if err != nil || *m != minio.Compliance || !u.Equal(until) {
		t.Fatalf("retention: %v %v %v", m, u, err)
	}
	// Legal hold on v1: even the bypass does not delete it.
	on := minio.LegalHoldEnabled
	if err := e.minio.PutObjectLegalHold(ctx, "locked", "doc", minio.PutObjectLegalHoldOptions{VersionID: v1.VersionID, Status: &on}); err != nil {
		t.Fatal(err)
	}
	_, err = e.aws.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("doc"),
		VersionId: aws.String(v1.VersionID), BypassGovernanceRetention: aws.Bool(true)})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("delete of a held version: %v", err)
	}
	off := minio.LegalHoldDisabled
	if err := e.minio.PutObjectLegalHold(ctx, "locked", "doc", minio.PutObjectLegalHoldOptions{VersionID: v1.VersionID, Status: &off}); err != nil {
		t.Fatal(err)
	}
	// Governance yields to the bypass header.
	_, err = e.aws.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("doc"),
		VersionId: aws.String(v1.VersionID), BypassGovernanceRetention: aws.Bool(true)})
	if err != nil {
		t.Fatalf("bypassing governance: %v", err)
	}
	// DeleteObjects by version obeys the locks too.
	out, err := e.aws.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: aws.String("locked"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("contract"), VersionId: aws.String(info.VersionID)}}}})
	if err != nil || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Fatalf("DeleteObjects of a locked version: %+v %v", out, err)
	}

	// A bucket without lock refuses lock headers and lock calls.
	e.mkBucket("plain")
	_, err = e.minio.PutObject(ctx, "plain", "x", strings.NewReader("x"), 1, minio.PutObjectOptions{Mode: comp, RetainUntilDate: until})
	if minio.ToErrorResponse(err).Code != "InvalidRequest" {
		t.Fatalf("lock headers on a plain bucket: %v", err)
	}
	if _, _, _, _, err := e.minio.GetObjectLockConfig(ctx, "plain"); minio.ToErrorResponse(err).Code != "ObjectLockConfigurationNotFoundError" {
		t.Fatalf("lock configuration of a plain bucket: %v", err)
	}
	// A retention date in the past, a default with both days and years.
	past := time.Now().Add(-time.Hour)
	if err := e.minio.PutObjectRetention(ctx, "locked", "contract", minio.PutObjectRetentionOptions{VersionID: info.VersionID, Mode: &comp, RetainUntilDate: &past}); minio.ToErrorResponse(err).Code != "InvalidArgument" {
		t.Fatalf("retention in the past: %v", err)
	}
	r := e.raw("PUT", "/locked?object-lock", []byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>`), nil)
	if r.status != 400 {
		t.Fatalf("days and years: %d %s", r.status, r.body)
	}
}
