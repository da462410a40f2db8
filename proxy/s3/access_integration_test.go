package s3_test

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

// TestAccessAnonymousPolicy: a policy grants anonymous GetObject on a
// prefix; anonymous GET and HEAD work there and nowhere else, anonymous
// writes and listings stay refused, and deleting the policy takes it back.
func TestAccessAnonymousPolicy(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	e.mkBucket("alice", "site", nil)
	e.put("alice", "site", "public/index.html", "hello", nil)
	e.put("alice", "site", "private/secret", "s3cr3t", nil)

	// No policy: everything anonymous is refused.
	e.want("anonymous GET before", e.do("", "GET", "/site/public/index.html", nil, nil), 403, "AccessDenied")
	if _, err := e.aws("alice").GetBucketPolicy(ctx, &awss3.GetBucketPolicyInput{Bucket: aws.String("site")}); awsCode(err) != "NoSuchBucketPolicy" {
		t.Fatalf("GetBucketPolicy before: %v", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"pub","Effect":"Allow","Principal":"*",` +
		`"Action":"s3:GetObject","Resource":"arn:aws:s3:::site/public/*"}]}`
	if err := e.setPolicy("alice", "site", policy); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	out, err := e.aws("alice").GetBucketPolicy(ctx, &awss3.GetBucketPolicyInput{Bucket: aws.String("site")})
	if err != nil || aws.ToString(out.Policy) != policy {
		t.Fatalf("GetBucketPolicy: %v %q", err, aws.ToString(out.Policy))
	}
	st, err := e.aws("alice").GetBucketPolicyStatus(ctx, &awss3.GetBucketPolicyStatusInput{Bucket: aws.String("site")})
	if err != nil || !aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Fatalf("GetBucketPolicyStatus: %+v %v", st, err)
	}
	// minio-go sees the same policy.
	if got, err := e.minio("alice").GetBucketPolicy(ctx, "site"); err != nil || got != policy {
		t.Fatalf("minio GetBucketPolicy: %q %v", got, err)
	}

	r := e.do("", "GET", "/site/public/index.html", nil, nil)
	if r.status != 200 || string(r.body) != "hello" {
		t.Fatalf("anonymous GET on the prefix: %d %s", r.status, r.body)
	}
	if r.header.Get("X-Amz-Acl") != "" {
		t.Fatalf("GET shows the ACL header")
	}
	got, err := e.anonAWS().GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("site"), Key: aws.String("public/index.html")})
	if err != nil {
		t.Fatalf("anonymous aws GetObject: %v", err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("anonymous aws GetObject: %q", b)
	}
	e.want("anonymous HEAD on the prefix", e.do("", "HEAD", "/site/public/index.html", nil, nil), 200, "")
	e.want("anonymous GET elsewhere", e.do("", "GET", "/site/private/secret", nil, nil), 403, "AccessDenied")
	// A missing key is not told to who may not list the bucket.
	e.want("anonymous GET of a missing key", e.do("", "GET", "/site/public/none", nil, nil), 403, "AccessDenied")
	e.want("anonymous PUT on the prefix", e.do("", "PUT", "/site/public/new", []byte("x"), nil), 403, "AccessDenied")
	e.want("anonymous DELETE", e.do("", "DELETE", "/site/public/index.html", nil, nil), 403, "AccessDenied")
	e.want("anonymous list", e.do("", "GET", "/site", nil, nil), 403, "AccessDenied")
	e.want("anonymous ListBuckets", e.do("", "GET", "/", nil, nil), 403, "AccessDenied")
	e.want("anonymous GetBucketPolicy", e.do("", "GET", "/site?policy", nil, nil), 403, "AccessDenied")
	e.want("anonymous CreateBucket", e.do("", "PUT", "/anon-bucket", nil, nil), 403, "AccessDenied")
	if _, err := e.anonAWS().PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("site"), Key: aws.String("public/x"),
		Body: strings.NewReader("x")}); statusOf(err) != 403 {
		t.Fatalf("anonymous aws PutObject: %v", err)
	}
	// Another project is not the owner: the policy's "*" is all it gets.
	e.want("bob GET on the prefix", e.do("bob", "GET", "/site/public/index.html", nil, nil), 200, "")
	e.want("bob GET elsewhere", e.do("bob", "GET", "/site/private/secret", nil, nil), 403, "AccessDenied")
	e.want("bob GetBucketPolicy", e.do("bob", "GET", "/site?policy", nil, nil), 403, "AccessDenied")

	// Granting ListBucket too makes a missing key NoSuchKey.
	withList := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
		`"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::site/public/*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::site"}]}`
	if err := e.minio("alice").SetBucketPolicy(ctx, "site", withList); err != nil {
		t.Fatalf("minio SetBucketPolicy: %v", err)
	}
	e.want("anonymous GET of a missing key, listable", e.do("", "GET", "/site/public/none", nil, nil), 404, "NoSuchKey")
	e.want("anonymous list, granted", e.do("", "GET", "/site?list-type=2", nil, nil), 200, "")

	// Removing the policy (minio-go: an empty policy) withdraws it.
	if err := e.minio("alice").SetBucketPolicy(ctx, "site", ""); err != nil {
		t.Fatalf("minio SetBucketPolicy(\"\"): %v", err)
	}
	e.want("anonymous GET after delete", e.do("", "GET", "/site/public/index.html", nil, nil), 403, "AccessDenied")
	if _, err := e.aws("alice").DeleteBucketPolicy(ctx, &awss3.DeleteBucketPolicyInput{Bucket: aws.String("site")}); err != nil {
		t.Fatalf("DeleteBucketPolicy without a policy: %v", err)
	}
	if _, err := e.aws("alice").GetBucketPolicyStatus(ctx, &awss3.GetBucketPolicyStatusInput{Bucket: aws.String("site")}); awsCode(err) != "NoSuchBucketPolicy" {
		t.Fatalf("GetBucketPolicyStatus without a policy: %v", err)
	}
}

// TestAccessDenyMember: an explicit Deny holds against members of the
// owner project, but not against the root, and the project's admins can
// always remove the policy.
func TestAccessDenyMember(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	e.mkBucket("alice", "team", nil)
	e.put("alice", "team", "doc", "d", nil)
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::pa:user/al2"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::team/*"},` +
		`{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::team/doc"}]}`
	if err := e.setPolicy("alice", "team", policy); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	e.want("alice GET", e.do("alice", "GET", "/team/doc", nil, nil), 200, "")
	e.want("al2 GET (denied)", e.do("al2", "GET", "/team/doc", nil, nil), 403, "AccessDenied")
	e.want("al2 PUT (denied)", e.do("al2", "PUT", "/team/other", []byte("x"), nil), 403, "AccessDenied")
	e.want("al2 list (not denied)", e.do("al2", "GET", "/team", nil, nil), 200, "")
	// minio-go's GetObject is lazy: the refusal comes with the first read.
	obj, err := e.minio("al2").GetObject(ctx, "team", "doc", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(obj); minioCode(err) != "AccessDenied" {
		t.Fatalf("al2 minio GetObject: %v", err)
	}
	e.want("alice DELETE (denied to all)", e.do("alice", "DELETE", "/team/doc", nil, nil), 403, "AccessDenied")
	e.want("root DELETE (never denied)", e.do("root", "DELETE", "/team/doc", nil, nil), 204, "")
	e.want("root GET policy", e.do("root", "GET", "/team?policy", nil, nil), 200, "")

	// A policy that denies everything to everyone: the members are out,
	// the admin may still read and delete the policy, the root anything.
	lockout := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::team","arn:aws:s3:::team/*"]}]}`
	if err := e.setPolicy("alice", "team", lockout); err != nil {
		t.Fatalf("PutBucketPolicy lockout: %v", err)
	}
	e.want("alice list (locked out)", e.do("alice", "GET", "/team", nil, nil), 403, "AccessDenied")
	e.want("alice GetBucketPolicy (locked out)", e.do("alice", "GET", "/team?policy", nil, nil), 403, "AccessDenied")
	e.want("ada GetBucketPolicy", e.do("ada", "GET", "/team?policy", nil, nil), 200, "")
	e.want("root list", e.do("root", "GET", "/team", nil, nil), 200, "")
	if _, err := e.aws("ada").DeleteBucketPolicy(ctx, &awss3.DeleteBucketPolicyInput{Bucket: aws.String("team")}); err != nil {
		t.Fatalf("ada DeleteBucketPolicy: %v", err)
	}
	e.want("alice list after", e.do("alice", "GET", "/team", nil, nil), 200, "")
}

// TestAccessCrossProject: a policy grants another project's user, then
// the whole project; roles still bound what a key may do; only the owner
// project manages the policy.
func TestAccessCrossProject(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	e.mkBucket("alice", "share", nil)
	e.put("alice", "share", "a", "A", nil)
	e.mkBucket("bob", "bobs", nil)

	e.want("bob GET before", e.do("bob", "GET", "/share/a", nil, nil), 403, "AccessDenied")
	e.want("bob list before", e.do("bob", "GET", "/share", nil, nil), 403, "AccessDenied")
	if _, err := e.aws("bob").HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String("share")}); statusOf(err) != 403 {
		t.Fatalf("bob HeadBucket before: %v", err)
	}
	// Unknown principals are refused when the policy is put.
	bad := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:user/nobody"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::share/*"}]}`
	if err := e.setPolicy("alice", "share", bad); awsCode(err) != "MalformedPolicy" {
		t.Fatalf("policy naming an unknown user: %v", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:user/bob"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::share/*"},` +
		`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::pb:user/bob"]},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::share"}]}`
	if err := e.setPolicy("alice", "share", policy); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	if _, err := e.aws("bob").HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String("share")}); err != nil {
		t.Fatalf("bob HeadBucket: %v", err)
	}
	list, err := e.aws("bob").ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("share")})
	if err != nil || len(list.Contents) != 1 {
		t.Fatalf("bob ListObjectsV2: %+v %v", list, err)
	}
	e.want("bob GET", e.do("bob", "GET", "/share/a", nil, nil), 200, "")
	if _, err := e.minio("bob").PutObject(ctx, "share", "from-bob", strings.NewReader("B"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("bob minio PutObject: %v", err)
	}
	e.want("bob DELETE (not granted)", e.do("bob", "DELETE", "/share/a", nil, nil), 403, "AccessDenied")
	e.want("bob GetBucketPolicy (owner only)", e.do("bob", "GET", "/share?policy", nil, nil), 403, "AccessDenied")
	e.want("bob PutBucketPolicy (owner only)", e.do("bob", "PUT", "/share?policy", []byte(policy), nil), 403, "AccessDenied")
	e.want("bea GET (other user)", e.do("bea", "GET", "/share/a", nil, nil), 403, "AccessDenied")
	// bob owns what he wrote: he may read its ACL although the policy does not say so.
	e.want("bob GetObjectAcl of his object", e.do("bob", "GET", "/share/from-bob?acl", nil, nil), 200, "")
	e.want("bob GetObjectAcl of alice's", e.do("bob", "GET", "/share/a?acl", nil, nil), 403, "AccessDenied")
	// The owner project still has everything, including bob's object.
	e.want("alice GET of bob's object", e.do("alice", "GET", "/share/from-bob", nil, nil), 200, "")

	// The whole project: bea too, but not rita of alpha... who owns it anyway.
	whole := strings.ReplaceAll(policy, "arn:aws:iam::pb:user/bob", "arn:aws:iam::pb:root")
	if err := e.setPolicy("alice", "share", whole); err != nil {
		t.Fatalf("PutBucketPolicy (project): %v", err)
	}
	e.want("bea GET (project grant)", e.do("bea", "GET", "/share/a", nil, nil), 200, "")
	// A copy needs GetObject on the source: granted here, to bob's own bucket.
	e.want("bob copy from share", e.do("bob", "PUT", "/bobs/copy", nil, hdr("X-Amz-Copy-Source", "/share/a")), 200, "")
	e.want("alice copy into bobs", e.do("alice", "PUT", "/share/c2", nil, hdr("X-Amz-Copy-Source", "/bobs/copy")), 403, "AccessDenied")

	// Roles bound a key everywhere: rita (reader of alpha) may read, not write.
	e.want("rita GET", e.do("rita", "GET", "/share/a", nil, nil), 200, "")
	e.want("rita PUT", e.do("rita", "PUT", "/share/r", []byte("r"), nil), 403, "AccessDenied")

	// DeleteObjects is decided key by key.
	perKey := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:root"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::share/from-*"}]}`
	if err := e.setPolicy("alice", "share", perKey); err != nil {
		t.Fatalf("PutBucketPolicy (delete): %v", err)
	}
	del, err := e.aws("bob").DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: aws.String("share"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("from-bob")}, {Key: aws.String("a")}},
	}})
	if err != nil || len(del.Deleted) != 1 || aws.ToString(del.Deleted[0].Key) != "from-bob" ||
		len(del.Errors) != 1 || aws.ToString(del.Errors[0].Code) != "AccessDenied" {
		t.Fatalf("bob DeleteObjects: %+v %v", del, err)
	}
	e.want("a survives", e.do("alice", "HEAD", "/share/a", nil, nil), 200, "")
}

// TestAccessConditions: aws:SourceIp and s3:prefix conditions.
func TestAccessConditions(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	e.mkBucket("alice", "cond", nil)
	e.put("alice", "cond", "docs/a", "a", nil)
	e.put("alice", "cond", "other/b", "b", nil)

	// The test clients connect from 127.0.0.1.
	ipPolicy := func(block string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` +
			`"Resource":"arn:aws:s3:::cond/*","Condition":{"IpAddress":{"aws:SourceIp":"` + block + `"}}}]}`
	}
	if err := e.setPolicy("alice", "cond", ipPolicy("127.0.0.0/8")); err != nil {
		t.Fatal(err)
	}
	e.want("anonymous from 127/8", e.do("", "GET", "/cond/docs/a", nil, nil), 200, "")
	st, err := e.aws("alice").GetBucketPolicyStatus(ctx, &awss3.GetBucketPolicyStatusInput{Bucket: aws.String("cond")})
	if err != nil || aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Fatalf("a policy bound to a CIDR block is public: %+v %v", st, err)
	}
	if err := e.setPolicy("alice", "cond", ipPolicy("10.0.0.0/8")); err != nil {
		t.Fatal(err)
	}
	e.want("anonymous from outside 10/8", e.do("", "GET", "/cond/docs/a", nil, nil), 403, "AccessDenied")
	// A Deny outside a network holds against the owner's members.
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::cond","arn:aws:s3:::cond/*"],` +
		`"Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}}]}`
	if err := e.setPolicy("alice", "cond", deny); err != nil {
		t.Fatal(err)
	}
	e.want("alice from outside the networks", e.do("alice", "GET", "/cond/docs/a", nil, nil), 403, "AccessDenied")
	if _, err := e.aws("ada").DeleteBucketPolicy(ctx, &awss3.DeleteBucketPolicyInput{Bucket: aws.String("cond")}); err != nil {
		t.Fatal(err)
	}
	deny = strings.Replace(deny, `"10.0.0.0/8"`, `"127.0.0.1/32"`, 1)
	if err := e.setPolicy("alice", "cond", deny); err != nil {
		t.Fatal(err)
	}
	e.want("alice from inside", e.do("alice", "GET", "/cond/docs/a", nil, nil), 200, "")

	// s3:prefix: bob may list docs/ only.
	prefix := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::pb:user/bob"},` +
		`"Action":"s3:ListBucket","Resource":"arn:aws:s3:::cond","Condition":{"StringEquals":{"s3:prefix":"docs/"}}}]}`
	if err := e.setPolicy("alice", "cond", prefix); err != nil {
		t.Fatal(err)
	}
	out, err := e.aws("bob").ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("cond"), Prefix: aws.String("docs/")})
	if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "docs/a" {
		t.Fatalf("bob lists docs/: %+v %v", out, err)
	}
	if _, err := e.aws("bob").ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("cond")}); awsCode(err) != "AccessDenied" {
		t.Fatalf("bob lists without a prefix: %v", err)
	}
	if _, err := e.aws("bob").ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("cond"), Prefix: aws.String("other/")}); awsCode(err) != "AccessDenied" {
		t.Fatalf("bob lists other/: %v", err)
	}
	e.want("bob v1 list of docs/", e.do("bob", "GET", "/cond?prefix=docs/", nil, nil), 200, "")
	// A condition key S3 only knows for listings is refused on GetObject.
	badKey := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",` +
		`"Resource":"arn:aws:s3:::cond/*","Condition":{"StringEquals":{"s3:prefix":"docs/"}}}]}`
	if err := e.setPolicy("alice", "cond", badKey); awsCode(err) != "MalformedPolicy" {
		t.Fatalf("s3:prefix on GetObject: %v", err)
	}
}

// TestAccessMalformedPolicy: every malformed policy is MalformedPolicy
// with S3's message, and nothing is stored.
func TestAccessMalformedPolicy(t *testing.T) {
	e := newAccessEnv(t)
	e.mkBucket("alice", "mal", nil)
	good := `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::mal/*"}`
	wrap := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	cases := []struct{ name, doc, msg string }{
		{"not json", `{"Version":"2012-10-17",`, "This policy contains invalid Json"},
		{"array", `[` + good + `]`, "Policies must be valid JSON and the first byte must be '{'"},
		{"no statement", `{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{"empty statement", `{"Version":"2012-10-17","Statement":[]}`, "Could not parse the policy: Statement is empty!"},
		{"bad version", `{"Version":"1999-01-01","Statement":[` + good + `]}`, "The policy must contain a valid version string"},
		{"bad effect", wrap(strings.Replace(good, `"Allow"`, `"allow"`, 1)), "Invalid effect: allow"},
		{"no principal", wrap(strings.Replace(good, `"Principal":"*",`, ``, 1)), "Missing required field Principal"},
		{"bad principal", wrap(strings.Replace(good, `"*"`, `{"AWS":"arn:aws:iam::nope:root"}`, 1)), "Invalid principal in policy"},
		{"bad action", wrap(strings.Replace(good, "s3:GetObject", "ec2:RunInstances", 1)), "Policy has invalid action"},
		{"other bucket", wrap(strings.Replace(good, "arn:aws:s3:::mal/*", "arn:aws:s3:::other/*", 1)), "Policy has invalid resource"},
		{"mismatch", wrap(strings.Replace(good, "arn:aws:s3:::mal/*", "arn:aws:s3:::mal", 1)), "Action does not apply to any resource(s) in statement"},
		{"bad condition", wrap(strings.Replace(good, `}`, `,"Condition":{"StringMaybe":{"aws:username":"x"}}}`, 1)), "Invalid Condition type : StringMaybe"},
		{"bad key", wrap(strings.Replace(good, `}`, `,"Condition":{"StringEquals":{"x:y":"z"}}}`, 1)), "Policy has an invalid condition key"},
		{"unknown field", wrap(strings.Replace(good, `"Effect"`, `"Efect":"x","Effect"`, 1)), "Unknown field Efect"},
	}
	for _, c := range cases {
		r := e.do("alice", "PUT", "/mal?policy", []byte(c.doc), nil)
		var doc struct{ Code, Message string }
		_ = xml.Unmarshal(r.body, &doc)
		if r.status != 400 || doc.Code != "MalformedPolicy" || doc.Message != c.msg {
			t.Errorf("%s: %d %s %q, want 400 MalformedPolicy %q", c.name, r.status, doc.Code, doc.Message, c.msg)
		}
		e.want(c.name+": nothing stored", e.do("alice", "GET", "/mal?policy", nil, nil), 404, "NoSuchBucketPolicy")
	}
	// Through aws-sdk-go-v2 too.
	if err := e.setPolicy("alice", "mal", `{"Version":"2012-10-17","Statement":[`+strings.Replace(good, "mal/*", "elsewhere/*", 1)+`]}`); awsCode(err) != "MalformedPolicy" || statusOf(err) != 400 {
		t.Fatalf("aws PutBucketPolicy of a foreign resource: %v", err)
	}
	e.want("nothing stored", e.do("alice", "GET", "/mal?policy", nil, nil), 404, "NoSuchBucketPolicy")
	// On a missing bucket, NoSuchBucket.
	e.want("missing bucket", e.do("root", "PUT", "/nobucket?policy", []byte(wrap(good)), nil), 404, "NoSuchBucket")
}

// TestAccessCannedACLs: canned ACLs on buckets and objects, on create,
// PUT, copy, multipart and Put*Acl, and x-amz-grant-* headers.
func TestAccessCannedACLs(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	// A public-read bucket may be listed by anyone, its objects are still private.
	if _, err := e.aws("alice").CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("pubr"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatalf("CreateBucket public-read: %v", err)
	}
	e.put("alice", "pubr", "private", "p", nil)
	e.want("anonymous list of a public-read bucket", e.do("", "GET", "/pubr", nil, nil), 200, "")
	e.want("anonymous GET of a private object", e.do("", "GET", "/pubr/private", nil, nil), 403, "AccessDenied")
	e.want("anonymous PUT to a public-read bucket", e.do("", "PUT", "/pubr/x", []byte("x"), nil), 403, "AccessDenied")
	acl, err := e.aws("alice").GetBucketAcl(ctx, &awss3.GetBucketAclInput{Bucket: aws.String("pubr")})
	if err != nil || aws.ToString(acl.Owner.ID) != projA || aws.ToString(acl.Owner.DisplayName) != "alpha" || len(acl.Grants) != 2 ||
		acl.Grants[1].Grantee.Type != types.TypeGroup || aws.ToString(acl.Grants[1].Grantee.URI) != "http://acs.amazonaws.com/groups/global/AllUsers" ||
		acl.Grants[1].Permission != types.PermissionRead {
		t.Fatalf("GetBucketAcl: %+v %v", acl, err)
	}

	// The requester's canonical ID is its project's, the one grants name.
	lb, err := e.aws("alice").ListBuckets(ctx, &awss3.ListBucketsInput{})
	if err != nil || aws.ToString(lb.Owner.ID) != projA || len(lb.Buckets) != 1 {
		t.Fatalf("ListBuckets: %+v %v", lb, err)
	}

	// A public-read object, with aws-sdk-go-v2.
	e.mkBucket("alice", "objs", nil)
	if _, err := e.aws("alice").PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("pub"),
		Body: strings.NewReader("public"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
		t.Fatalf("PutObject public-read: %v", err)
	}
	r := e.do("", "GET", "/objs/pub", nil, nil)
	if r.status != 200 || string(r.body) != "public" || r.header.Get("X-Amz-Acl") != "" || r.header.Get("X-Basalt-Acl") != "" {
		t.Fatalf("anonymous GET of a public-read object: %d %s %v", r.status, r.body, r.header)
	}
	e.want("anonymous list of a private bucket", e.do("", "GET", "/objs", nil, nil), 403, "AccessDenied")
	oacl, err := e.aws("alice").GetObjectAcl(ctx, &awss3.GetObjectAclInput{Bucket: aws.String("objs"), Key: aws.String("pub")})
	if err != nil || len(oacl.Grants) != 2 || oacl.Grants[0].Permission != types.PermissionFullControl ||
		aws.ToString(oacl.Grants[0].Grantee.ID) != projA || aws.ToString(oacl.Grants[1].Grantee.URI) != "http://acs.amazonaws.com/groups/global/AllUsers" {
		t.Fatalf("GetObjectAcl: %+v %v", oacl, err)
	}
	// minio-go's reading of it.
	info, err := e.minio("alice").GetObjectACL(ctx, "objs", "pub")
	if err != nil || info.Metadata.Get("X-Amz-Acl") != "public-read" {
		t.Fatalf("minio GetObjectACL: %v %v", info, err)
	}
	// Back to private with PutObjectAcl.
	if _, err := e.aws("alice").PutObjectAcl(ctx, &awss3.PutObjectAclInput{Bucket: aws.String("objs"), Key: aws.String("pub"),
		ACL: types.ObjectCannedACLPrivate}); err != nil {
		t.Fatalf("PutObjectAcl private: %v", err)
	}
	e.want("anonymous GET after private", e.do("", "GET", "/objs/pub", nil, nil), 403, "AccessDenied")
	if r := e.do("alice", "GET", "/objs/pub", nil, nil); r.status != 200 || string(r.body) != "public" {
		t.Fatalf("data after PutObjectAcl: %d %s", r.status, r.body)
	}

	// authenticated-read: any signed key, not the anonymous.
	e.put("alice", "objs", "auth", "a", hdr("X-Amz-Acl", "authenticated-read"))
	e.want("anonymous GET authenticated-read", e.do("", "GET", "/objs/auth", nil, nil), 403, "AccessDenied")
	e.want("bob GET authenticated-read", e.do("bob", "GET", "/objs/auth", nil, nil), 200, "")
	// A grant to a project by header.
	e.put("alice", "objs", "forb", "b", hdr("X-Amz-Grant-Read", `id="pb"`))
	e.want("bob GET granted", e.do("bob", "GET", "/objs/forb", nil, nil), 200, "")
	e.want("bob HEAD granted", e.do("bob", "HEAD", "/objs/forb", nil, nil), 200, "")
	e.want("bob GetObjectAcl (no READ_ACP)", e.do("bob", "GET", "/objs/forb?acl", nil, nil), 403, "AccessDenied")
	e.want("anonymous GET granted to pb", e.do("", "GET", "/objs/forb", nil, nil), 403, "AccessDenied")
	// PutObjectAcl with an AccessControlPolicy document: AllUsers READ.
	doc := `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>pa</ID></Owner><AccessControlList>` +
		`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>pa</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
		`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>` +
		`</AccessControlList></AccessControlPolicy>`
	e.want("PutObjectAcl with a document", e.do("alice", "PUT", "/objs/forb?acl", []byte(doc), nil), 200, "")
	e.want("anonymous GET after the document", e.do("", "GET", "/objs/forb", nil, nil), 200, "")
	e.want("bob GET through AllUsers", e.do("bob", "GET", "/objs/forb", nil, nil), 200, "")

	// Refusals.
	e.want("canned and grant", e.do("alice", "PUT", "/objs/x", []byte("x"), hdr("X-Amz-Acl", "public-read", "X-Amz-Grant-Read", `id="pb"`)), 400, "InvalidRequest")
	e.want("unknown canned", e.do("alice", "PUT", "/objs/x", []byte("x"), hdr("X-Amz-Acl", "world-writable")), 400, "InvalidArgument")
	e.want("unknown id", e.do("alice", "PUT", "/objs/x", []byte("x"), hdr("X-Amz-Grant-Read", `id="nosuchproject"`)), 400, "InvalidArgument")
	e.want("email grantee", e.do("alice", "PUT", "/objs/x", []byte("x"), hdr("X-Amz-Grant-Read", `emailAddress="a@b.c"`)), 400, "UnresolvableGrantByEmailAddress")
	e.want("bad group", e.do("alice", "PUT", "/objs/x", []byte("x"), hdr("X-Amz-Grant-Read", `uri="http://example.com/all"`)), 400, "InvalidArgument")
	e.want("malformed ACL document", e.do("alice", "PUT", "/objs/forb?acl", []byte("<AccessControlPolicy><Owner>"), nil), 400, "MalformedACLError")
	e.want("headers and document", e.do("alice", "PUT", "/objs/forb?acl", []byte(doc), hdr("X-Amz-Acl", "private")), 400, "UnexpectedContent")
	e.want("no x stored", e.do("alice", "HEAD", "/objs/x", nil, nil), 404, "")

	// A copy does not take the source's ACL; the copy request's own does.
	e.put("alice", "objs", "src", "s", hdr("X-Amz-Acl", "public-read"))
	e.want("copy", e.do("alice", "PUT", "/objs/dst", nil, hdr("X-Amz-Copy-Source", "/objs/src")), 200, "")
	e.want("anonymous GET of the copy", e.do("", "GET", "/objs/dst", nil, nil), 403, "AccessDenied")
	e.want("copy public", e.do("alice", "PUT", "/objs/dst2", nil, hdr("X-Amz-Copy-Source", "/objs/src", "X-Amz-Acl", "public-read")), 200, "")
	e.want("anonymous GET of the public copy", e.do("", "GET", "/objs/dst2", nil, nil), 200, "")

	// Multipart: the ACL given at creation is the object's.
	mc := e.aws("alice")
	cr, err := mc.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("objs"), Key: aws.String("mp"), ACL: types.ObjectCannedACLPublicRead})
	if err != nil {
		t.Fatal(err)
	}
	part, err := mc.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String("objs"), Key: aws.String("mp"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("multi")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mc.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String("objs"), Key: aws.String("mp"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("", "GET", "/objs/mp", nil, nil); r.status != 200 || string(r.body) != "multi" {
		t.Fatalf("anonymous GET of a public-read multipart object: %d %s", r.status, r.body)
	}

	// PutBucketAcl: public-read-write lets the anonymous write; back to private.
	if _, err := e.aws("alice").PutBucketAcl(ctx, &awss3.PutBucketAclInput{Bucket: aws.String("objs"), ACL: types.BucketCannedACLPublicReadWrite}); err != nil {
		t.Fatalf("PutBucketAcl: %v", err)
	}
	e.want("anonymous PUT to a public-read-write bucket", e.do("", "PUT", "/objs/anon", []byte("z"), nil), 200, "")
	e.want("anonymous object is the bucket owner's", e.do("alice", "GET", "/objs/anon", nil, nil), 200, "")
	if _, err := e.aws("alice").PutBucketAcl(ctx, &awss3.PutBucketAclInput{Bucket: aws.String("objs"), ACL: types.BucketCannedACLPrivate}); err != nil {
		t.Fatalf("PutBucketAcl private: %v", err)
	}
	e.want("anonymous PUT after private", e.do("", "PUT", "/objs/anon2", []byte("z"), nil), 403, "AccessDenied")
	acl, err = e.aws("alice").GetBucketAcl(ctx, &awss3.GetBucketAclInput{Bucket: aws.String("objs")})
	if err != nil || len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl {
		t.Fatalf("GetBucketAcl after private: %+v %v", acl, err)
	}
	// bob may change the ACL only with WRITE_ACP.
	e.want("bob PutBucketAcl", e.do("bob", "PUT", "/objs?acl", nil, hdr("X-Amz-Acl", "public-read")), 403, "AccessDenied")
	e.want("alice grants bob WRITE_ACP", e.do("alice", "PUT", "/objs?acl", nil, hdr("X-Amz-Grant-Write-Acp", `id="pb"`, "X-Amz-Grant-Full-Control", `id="pa"`)), 200, "")
	e.want("bob PutBucketAcl with WRITE_ACP", e.do("bob", "PUT", "/objs?acl", nil, hdr("X-Amz-Acl", "public-read")), 200, "")
	e.want("bob GetBucketAcl without READ_ACP", e.do("bob", "GET", "/objs?acl", nil, nil), 403, "AccessDenied")
}

// TestAccessPublicAccessBlock: the four settings, and the configuration
// round trip.
func TestAccessPublicAccessBlock(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	c := e.aws("alice")
	e.mkBucket("alice", "pab", nil)
	e.put("alice", "pab", "open", "o", hdr("X-Amz-Acl", "public-read"))
	if _, err := c.GetPublicAccessBlock(ctx, &awss3.GetPublicAccessBlockInput{Bucket: aws.String("pab")}); awsCode(err) != "NoSuchPublicAccessBlockConfiguration" {
		t.Fatalf("GetPublicAccessBlock before: %v", err)
	}
	put := func(cfg types.PublicAccessBlockConfiguration) {
		t.Helper()
		if _, err := c.PutPublicAccessBlock(ctx, &awss3.PutPublicAccessBlockInput{Bucket: aws.String("pab"), PublicAccessBlockConfiguration: &cfg}); err != nil {
			t.Fatalf("PutPublicAccessBlock: %v", err)
		}
	}
	put(types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true)})
	got, err := c.GetPublicAccessBlock(ctx, &awss3.GetPublicAccessBlockInput{Bucket: aws.String("pab")})
	if err != nil || !aws.ToBool(got.PublicAccessBlockConfiguration.BlockPublicAcls) || !aws.ToBool(got.PublicAccessBlockConfiguration.BlockPublicPolicy) ||
		aws.ToBool(got.PublicAccessBlockConfiguration.IgnorePublicAcls) || aws.ToBool(got.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Fatalf("GetPublicAccessBlock: %+v %v", got, err)
	}
	// BlockPublicAcls: public ACLs refused, private ones accepted; old ones stay.
	e.want("PUT public-read blocked", e.do("alice", "PUT", "/pab/k", []byte("k"), hdr("X-Amz-Acl", "public-read")), 403, "AccessDenied")
	e.want("PUT authenticated-read blocked", e.do("alice", "PUT", "/pab/k", []byte("k"), hdr("X-Amz-Grant-Read", `uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"`)), 403, "AccessDenied")
	e.want("PUT private", e.do("alice", "PUT", "/pab/k", []byte("k"), hdr("X-Amz-Acl", "private")), 200, "")
	if _, err := c.PutBucketAcl(ctx, &awss3.PutBucketAclInput{Bucket: aws.String("pab"), ACL: types.BucketCannedACLPublicRead}); awsCode(err) != "AccessDenied" {
		t.Fatalf("PutBucketAcl public-read blocked: %v", err)
	}
	e.want("PutObjectAcl public blocked", e.do("alice", "PUT", "/pab/k?acl", nil, hdr("X-Amz-Acl", "public-read-write")), 403, "AccessDenied")
	e.want("old public ACL still works", e.do("", "GET", "/pab/open", nil, nil), 200, "")
	// BlockPublicPolicy: a public policy is refused, a bound one accepted.
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pab/*"}]}`
	if err := e.setPolicy("alice", "pab", public); awsCode(err) != "AccessDenied" {
		t.Fatalf("public policy under BlockPublicPolicy: %v", err)
	}
	e.want("nothing stored", e.do("alice", "GET", "/pab?policy", nil, nil), 404, "NoSuchBucketPolicy")
	toBob := strings.Replace(public, `"*"`, `{"AWS":"arn:aws:iam::pb:user/bob"}`, 1)
	if err := e.setPolicy("alice", "pab", toBob); err != nil {
		t.Fatalf("non-public policy under BlockPublicPolicy: %v", err)
	}
	e.want("bob GET by policy", e.do("bob", "GET", "/pab/k", nil, nil), 200, "")

	// IgnorePublicAcls: existing public ACLs stop counting.
	put(types.PublicAccessBlockConfiguration{IgnorePublicAcls: aws.Bool(true)})
	e.want("public ACL ignored", e.do("", "GET", "/pab/open", nil, nil), 403, "AccessDenied")
	// RestrictPublicBuckets: a public policy only serves the owner project.
	if err := e.setPolicy("alice", "pab", public); err != nil {
		t.Fatalf("public policy without BlockPublicPolicy: %v", err)
	}
	e.want("public policy, anonymous", e.do("", "GET", "/pab/k", nil, nil), 200, "")
	put(types.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true)})
	e.want("restricted, anonymous", e.do("", "GET", "/pab/k", nil, nil), 403, "AccessDenied")
	e.want("restricted, bob", e.do("bob", "GET", "/pab/k", nil, nil), 403, "AccessDenied")
	e.want("restricted, owner", e.do("al2", "GET", "/pab/k", nil, nil), 200, "")
	e.want("restricted, public ACL still counts", e.do("", "GET", "/pab/open", nil, nil), 200, "")

	if _, err := c.DeletePublicAccessBlock(ctx, &awss3.DeletePublicAccessBlockInput{Bucket: aws.String("pab")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPublicAccessBlock(ctx, &awss3.GetPublicAccessBlockInput{Bucket: aws.String("pab")}); awsCode(err) != "NoSuchPublicAccessBlockConfiguration" {
		t.Fatalf("GetPublicAccessBlock after delete: %v", err)
	}
	e.want("anonymous after delete", e.do("", "GET", "/pab/k", nil, nil), 200, "")
	e.want("bob may not read the block", e.do("bob", "GET", "/pab?publicAccessBlock", nil, nil), 403, "AccessDenied")
	e.want("malformed block", e.do("alice", "PUT", "/pab?publicAccessBlock", []byte("<Nope/>"), nil), 400, "MalformedXML")
}

// TestAccessOwnershipControls: BucketOwnerEnforced disables ACLs.
func TestAccessOwnershipControls(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	c := e.aws("alice")
	e.mkBucket("alice", "own", nil)
	e.put("alice", "own", "open", "o", hdr("X-Amz-Acl", "public-read"))
	if _, err := c.GetBucketOwnershipControls(ctx, &awss3.GetBucketOwnershipControlsInput{Bucket: aws.String("own")}); awsCode(err) != "OwnershipControlsNotFoundError" {
		t.Fatalf("GetBucketOwnershipControls before: %v", err)
	}
	set := func(o types.ObjectOwnership) error {
		_, err := c.PutBucketOwnershipControls(ctx, &awss3.PutBucketOwnershipControlsInput{Bucket: aws.String("own"),
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: o}}}})
		return err
	}
	if err := set(types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatalf("PutBucketOwnershipControls: %v", err)
	}
	got, err := c.GetBucketOwnershipControls(ctx, &awss3.GetBucketOwnershipControlsInput{Bucket: aws.String("own")})
	if err != nil || len(got.OwnershipControls.Rules) != 1 || got.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
		t.Fatalf("GetBucketOwnershipControls: %+v %v", got, err)
	}
	e.want("PUT public-read", e.do("alice", "PUT", "/own/k", []byte("k"), hdr("X-Amz-Acl", "public-read")), 400, "AccessControlListNotSupported")
	e.want("PUT grant", e.do("alice", "PUT", "/own/k", []byte("k"), hdr("X-Amz-Grant-Read", `id="pb"`)), 400, "AccessControlListNotSupported")
	e.want("PUT bucket-owner-full-control", e.do("alice", "PUT", "/own/k", []byte("k"), hdr("X-Amz-Acl", "bucket-owner-full-control")), 200, "")
	if _, err := c.PutBucketAcl(ctx, &awss3.PutBucketAclInput{Bucket: aws.String("own"), ACL: types.BucketCannedACLPublicRead}); awsCode(err) != "AccessControlListNotSupported" || statusOf(err) != 400 {
		t.Fatalf("PutBucketAcl under BucketOwnerEnforced: %v", err)
	}
	e.want("PutObjectAcl", e.do("alice", "PUT", "/own/k?acl", nil, hdr("X-Amz-Acl", "public-read")), 400, "AccessControlListNotSupported")
	e.want("old public ACL disabled", e.do("", "GET", "/own/open", nil, nil), 403, "AccessDenied")
	oacl, err := c.GetObjectAcl(ctx, &awss3.GetObjectAclInput{Bucket: aws.String("own"), Key: aws.String("open")})
	if err != nil || len(oacl.Grants) != 1 || oacl.Grants[0].Permission != types.PermissionFullControl {
		t.Fatalf("GetObjectAcl under BucketOwnerEnforced: %+v %v", oacl, err)
	}
	// Back to ObjectWriter: ACLs work again.
	if err := set(types.ObjectOwnershipObjectWriter); err != nil {
		t.Fatal(err)
	}
	e.want("old public ACL again", e.do("", "GET", "/own/open", nil, nil), 200, "")
	// A public bucket ACL forbids BucketOwnerEnforced.
	if _, err := c.PutBucketAcl(ctx, &awss3.PutBucketAclInput{Bucket: aws.String("own"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if err := set(types.ObjectOwnershipBucketOwnerEnforced); awsCode(err) != "InvalidBucketAclWithObjectOwnership" {
		t.Fatalf("BucketOwnerEnforced over a public bucket ACL: %v", err)
	}
	if _, err := c.DeleteBucketOwnershipControls(ctx, &awss3.DeleteBucketOwnershipControlsInput{Bucket: aws.String("own")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketOwnershipControls(ctx, &awss3.GetBucketOwnershipControlsInput{Bucket: aws.String("own")}); awsCode(err) != "OwnershipControlsNotFoundError" {
		t.Fatalf("GetBucketOwnershipControls after delete: %v", err)
	}
	// On CreateBucket.
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("own2"), ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced,
		ACL: types.BucketCannedACLPublicRead}); awsCode(err) != "InvalidBucketAclWithObjectOwnership" {
		t.Fatalf("CreateBucket public-read with BucketOwnerEnforced: %v", err)
	}
	e.want("no bucket made", e.do("alice", "HEAD", "/own2", nil, nil), 404, "")
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("own2"), ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}); err != nil {
		t.Fatal(err)
	}
	e.want("PUT public-read in own2", e.do("alice", "PUT", "/own2/k", []byte("k"), hdr("X-Amz-Acl", "public-read")), 400, "AccessControlListNotSupported")
	e.want("malformed controls", e.do("alice", "PUT", "/own2?ownershipControls", []byte(
		`<OwnershipControls><Rule><ObjectOwnership>Everyone</ObjectOwnership></Rule></OwnershipControls>`), nil), 400, "MalformedXML")
}

// TestAccessWithoutCatalog: a single-tenant server keeps object ACLs (in
// the objects) but has nowhere to keep bucket settings.
func TestAccessWithoutCatalog(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("solo")
	e.put("solo", "k", "v")
	r := e.raw("PUT", "/solo/pub", []byte("p"), hdr("X-Amz-Acl", "public-read"))
	if r.status != 200 {
		t.Fatalf("PUT public-read: %d %s", r.status, r.body)
	}
	resp, err := http.Get(e.srv.URL + "/solo/pub")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "p" {
		t.Fatalf("anonymous GET of a public-read object: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Get(e.srv.URL + "/solo/k")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("anonymous GET of a private object: %d", resp.StatusCode)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::solo/*"}]}`
	if r := e.raw("PUT", "/solo?policy", []byte(policy), nil); r.status != 501 || r.code != "NotImplemented" {
		t.Fatalf("PutBucketPolicy without a catalog: %d %s", r.status, r.code)
	}
	if r := e.raw("GET", "/solo?policy", nil, nil); r.status != 404 || r.code != "NoSuchBucketPolicy" {
		t.Fatalf("GetBucketPolicy without a catalog: %d %s", r.status, r.code)
	}
	if r := e.raw("PUT", "/solo2", nil, hdr("X-Amz-Acl", "public-read")); r.status != 501 {
		t.Fatalf("CreateBucket public-read without a catalog: %d %s", r.status, r.code)
	}
	acl, err := e.aws.GetObjectAcl(context.Background(), &awss3.GetObjectAclInput{Bucket: aws.String("solo"), Key: aws.String("pub")})
	if err != nil || len(acl.Grants) != 2 || aws.ToString(acl.Owner.DisplayName) != testAccessKey {
		t.Fatalf("GetObjectAcl: %+v %v", acl, err)
	}
}
