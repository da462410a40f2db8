package s3_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/s3"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

// testClock is the store's clock in configuration tests: objects and
// uploads get the times it says.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// configEnv is env with a catalog (bucket settings need one) and a store
// clock the test sets; lifecycle is a second S3 server over the same
// store and catalog, to call ApplyLifecycle on.
type configEnv struct {
	*env
	cat       *catalog.Catalog
	clock     *testClock
	lifecycle *s3.Server
	disks     []string
}

func newConfigEnv(t testing.TB) *configEnv {
	t.Helper()
	return newConfigEnvWithKey(t, nil)
}

// newConfigEnvWithKey is newConfigEnv with an SSE-S3 master key (nil:
// none).
func newConfigEnvWithKey(t testing.TB, masterKey []byte) *configEnv {
	t.Helper()
	root := t.TempDir()
	var disks []string
	for i := range 4 {
		d := filepath.Join(root, "disk"+strconv.Itoa(i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	clock := &testClock{t: time.Now().UTC()}
	store, err := objectd.Open(objectd.Config{Disks: disks, DataShards: 2, ParityShards: 2, Now: clock.Now})
	if err != nil {
		t.Fatalf("objectd.Open: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	cat, err := catalog.OpenLocal(filepath.Join(root, "catalog"), nil)
	if err != nil {
		t.Fatalf("catalog.OpenLocal: %v", err)
	}
	t.Cleanup(func() { cat.Close() })
	e := &env{t: t, store: store, reg: prometheus.NewRegistry()}
	p, err := proxy.New(proxy.Config{
		Store:       store,
		Credentials: creds{testAccessKey: testSecretKey},
		Region:      testRegion,
		Domains:     []string{"localhost"},
		Registry:    e.reg,
		Catalog:     cat,
		MasterKey:   masterKey,
	})
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	e.srv = httptest.NewServer(p.Handler())
	t.Cleanup(e.srv.Close)
	e.baseURL = e.srv.URL
	e.minio = e.minioClient(testSecretKey)
	e.aws = e.awsClient(testSecretKey, true)
	lc, err := s3.New(s3.Config{Store: store, Verifier: &sigv4.Verifier{}, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	return &configEnv{env: e, cat: cat, clock: clock, lifecycle: lc, disks: disks}
}

// xmlHeaders are the headers of a configuration upload: its MD5, which
// S3 requires.
func xmlHeaders(body string) http.Header {
	return http.Header{"Content-Md5": {md5b64(body)}, "Content-Type": {"application/xml"}}
}

// tagXML is a Tagging document of key-value pairs.
func tagXML(kv ...string) string {
	var b strings.Builder
	b.WriteString(`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>`)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("<Tag><Key>" + kv[i] + "</Key><Value>" + kv[i+1] + "</Value></Tag>")
	}
	b.WriteString("</TagSet></Tagging>")
	return b.String()
}

// objectTagMap reads an object's tags (with aws-sdk-go-v2: minio-go
// refuses tags outside ASCII).
func (e *env) objectTagMap(bucket, key string) map[string]string {
	e.t.Helper()
	out, err := e.aws.GetObjectTagging(context.Background(), &awss3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatalf("GetObjectTagging %s/%s: %v", bucket, key, err)
	}
	m := map[string]string{}
	for _, tg := range out.TagSet {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

// errMessage is the Message of an error answer, decoded.
func errMessage(r rawResponse) string {
	var doc struct{ Message string }
	_ = xml.Unmarshal(r.body, &doc)
	return doc.Message
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestTaggingObjectRoundTrip(t *testing.T) {
	e := newEnv(t) // object tags need no catalog
	ctx := context.Background()
	e.mkBucket("tags")
	e.put("tags", "obj", "hello")

	// An untagged object has an empty TagSet.
	out, err := e.aws.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("obj")})
	if err != nil {
		t.Fatalf("GetObjectTagging: %v", err)
	}
	if len(out.TagSet) != 0 {
		t.Fatalf("untagged object has tags %v", out.TagSet)
	}
	r := e.raw(http.MethodGet, "/tags/obj?tagging", nil, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "<TagSet></TagSet>") {
		t.Fatalf("raw GetObjectTagging: %d %s", r.status, r.body)
	}

	want := map[string]string{"project": "basalt", "empty": "", "with space": "k/y=+-.:@_"}
	tg, err := tags.NewTags(want, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.minio.PutObjectTagging(ctx, "tags", "obj", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	if got := e.objectTagMap("tags", "obj"); !sameMap(got, want) {
		t.Fatalf("tags = %v, want %v", got, want)
	}
	// Letters and numbers of any script are allowed.
	_, err = e.aws.PutObjectTagging(ctx, &awss3.PutObjectTaggingInput{
		Bucket: aws.String("tags"), Key: aws.String("obj"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("ключ ü"), Value: aws.String("値 ٣")}}},
	})
	if err != nil {
		t.Fatalf("aws PutObjectTagging: %v", err)
	}
	if got := e.objectTagMap("tags", "obj"); !sameMap(got, map[string]string{"ключ ü": "値 ٣"}) {
		t.Fatalf("unicode tags = %v", got)
	}
	// The same through aws-sdk-go-v2, which replaces the whole set.
	_, err = e.aws.PutObjectTagging(ctx, &awss3.PutObjectTaggingInput{
		Bucket: aws.String("tags"), Key: aws.String("obj"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}},
	})
	if err != nil {
		t.Fatalf("aws PutObjectTagging: %v", err)
	}
	out, err = e.aws.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("obj")})
	if err != nil || len(out.TagSet) != 2 || *out.TagSet[0].Key != "a" || *out.TagSet[1].Value != "2" {
		t.Fatalf("aws GetObjectTagging: %v %+v", err, out)
	}
	// GET and HEAD count the tags and do not show them.
	head, err := e.aws.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("tags"), Key: aws.String("obj")})
	if err != nil {
		t.Fatal(err)
	}
	if head.TagCount == nil || *head.TagCount != 2 {
		t.Fatalf("HEAD tag count = %v, want 2", head.TagCount)
	}
	g := e.raw(http.MethodGet, "/tags/obj", nil, nil)
	if g.header.Get("X-Amz-Tagging-Count") != "2" || g.header.Get("X-Amz-Tagging") != "" || string(g.body) != "hello" {
		t.Fatalf("GET: count %q, tagging %q, body %q", g.header.Get("X-Amz-Tagging-Count"), g.header.Get("X-Amz-Tagging"), g.body)
	}

	// Delete: the set is empty again, the object and its data unchanged.
	if err := e.minio.RemoveObjectTagging(ctx, "tags", "obj", minio.RemoveObjectTaggingOptions{}); err != nil {
		t.Fatalf("RemoveObjectTagging: %v", err)
	}
	if got := e.objectTagMap("tags", "obj"); len(got) != 0 {
		t.Fatalf("tags after delete = %v", got)
	}
	g = e.raw(http.MethodHead, "/tags/obj", nil, nil)
	if g.status != http.StatusOK || g.header.Get("X-Amz-Tagging-Count") != "" {
		t.Fatalf("HEAD after delete: %d count %q", g.status, g.header.Get("X-Amz-Tagging-Count"))
	}
	r = e.raw(http.MethodDelete, "/tags/obj?tagging", nil, nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("DeleteObjectTagging of an untagged object: %d %s", r.status, r.code)
	}

	// Tagging a missing object: NoSuchKey, nothing created.
	body := tagXML("a", "1")
	r = e.raw(http.MethodPut, "/tags/missing?tagging", []byte(body), xmlHeaders(body))
	if r.status != http.StatusNotFound || r.code != "NoSuchKey" {
		t.Fatalf("PutObjectTagging on a missing key: %d %s", r.status, r.code)
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		if r := e.raw(m, "/tags/missing?tagging", nil, nil); r.status != http.StatusNotFound || r.code != "NoSuchKey" {
			t.Fatalf("%s ?tagging on a missing key: %d %s", m, r.status, r.code)
		}
	}
}

func TestTaggingRefusals(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("refuse")
	e.put("refuse", "obj", "x")
	good := tagXML("keep", "me")
	if r := e.raw(http.MethodPut, "/refuse/obj?tagging", []byte(good), xmlHeaders(good)); r.status != http.StatusOK {
		t.Fatalf("PutObjectTagging: %d %s", r.status, r.code)
	}
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, "k"+strconv.Itoa(i), "v")
	}
	long := func(n int, s string) string { return strings.Repeat(s, n) }
	cases := []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"11 tags", tagXML(eleven...), 400, "BadRequest", "Object tags cannot be greater than 10"},
		{"key of 129", tagXML(long(129, "k"), "v"), 400, "InvalidTag", "The TagKey you have provided is invalid"},
		{"key of 129 runes", tagXML(long(129, "é"), "v"), 400, "InvalidTag", "The TagKey you have provided is invalid"},
		{"empty key", tagXML("", "v"), 400, "InvalidTag", "The TagKey you have provided is invalid"},
		{"value of 257", tagXML("k", long(257, "v")), 400, "InvalidTag", "The TagValue you have provided is invalid"},
		{"key with a bad character", tagXML("a!b", "v"), 400, "InvalidTag", "The TagKey you have provided is invalid"},
		{"value with a bad character", tagXML("k", "a&amp;b"), 400, "InvalidTag", "The TagValue you have provided is invalid"},
		{"same key twice", tagXML("k", "1", "k", "2"), 400, "InvalidTag", "Cannot provide multiple Tags with the same key"},
		{"aws: prefix", tagXML("aws:cost", "1"), 400, "InvalidTag", "Your TagKey cannot be prefixed with aws:"},
		{"AWS: prefix", tagXML("AWS:cost", "1"), 400, "InvalidTag", "Your TagKey cannot be prefixed with aws:"},
		{"not XML", "tags please", 400, "MalformedXML", ""},
		{"no TagSet", `<Tagging></Tagging>`, 400, "MalformedXML", ""},
		{"unknown element", `<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value><Extra/></Tag></TagSet></Tagging>`, 400, "MalformedXML", ""},
		{"other root", `<Tags><TagSet></TagSet></Tags>`, 400, "MalformedXML", ""},
		{"empty body", "", 400, "MalformedXML", ""},
	}
	for _, c := range cases {
		r := e.raw(http.MethodPut, "/refuse/obj?tagging", []byte(c.body), xmlHeaders(c.body))
		if r.status != c.status || r.code != c.code || !strings.Contains(errMessage(r), c.msg) {
			t.Errorf("%s: %d %s %s, want %d %s %q", c.name, r.status, r.code, r.body, c.status, c.code, c.msg)
		}
	}
	// Without Content-MD5 or a checksum: refused as S3 refuses it.
	if r := e.raw(http.MethodPut, "/refuse/obj?tagging", []byte(good), nil); r.status != 400 || r.code != "InvalidRequest" {
		t.Errorf("no Content-MD5: %d %s", r.status, r.code)
	}
	// Nothing refused was stored.
	if got := e.objectTagMap("refuse", "obj"); !sameMap(got, map[string]string{"keep": "me"}) {
		t.Fatalf("tags after refusals = %v", got)
	}

	// The limits themselves are accepted: 10 tags, keys of 128 and values
	// of 256 characters (multi-byte ones count once).
	var ten []string
	for i := range 9 {
		ten = append(ten, "k"+strconv.Itoa(i), "")
	}
	ten = append(ten, long(128, "é"), long(256, "ü"))
	body := tagXML(ten...)
	if r := e.raw(http.MethodPut, "/refuse/obj?tagging", []byte(body), xmlHeaders(body)); r.status != http.StatusOK {
		t.Fatalf("10 tags at the limits: %d %s %s", r.status, r.code, r.body)
	}
	if got := e.objectTagMap("refuse", "obj"); len(got) != 10 || got[long(128, "é")] != long(256, "ü") {
		t.Fatalf("tags at the limits = %d %v", len(got), got)
	}

	// The x-amz-tagging header of a PUT is checked the same way.
	hcases := []struct {
		name, header string
		code, msg    string
	}{
		{"same key twice", "a=1&a=2", "InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."},
		{"bad escape", "a=%zz", "InvalidArgument", "x-amz-tagging"},
		{"11 tags", "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11", "BadRequest", "Object tags cannot be greater than 10"},
		{"aws: prefix", "aws%3Ax=1", "InvalidTag", "prefixed with aws:"},
		{"long value", "a=" + long(257, "v"), "InvalidTag", "TagValue"},
	}
	for _, c := range hcases {
		r := e.raw(http.MethodPut, "/refuse/h-"+strings.ReplaceAll(c.name, " ", "-"), []byte("data"), http.Header{"X-Amz-Tagging": {c.header}})
		if r.status != 400 || r.code != c.code || !strings.Contains(errMessage(r), c.msg) {
			t.Errorf("PUT with x-amz-tagging %s: %d %s %s", c.name, r.status, r.code, r.body)
		}
		if r := e.raw(http.MethodHead, "/refuse/h-"+strings.ReplaceAll(c.name, " ", "-"), nil, nil); r.status != http.StatusNotFound {
			t.Errorf("PUT with x-amz-tagging %s stored the object: %d", c.name, r.status)
		}
	}
}

func TestTaggingOnWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mkBucket("writes")

	// PutObject: minio-go's UserTags and aws-sdk-go-v2's Tagging.
	_, err := e.minio.PutObject(ctx, "writes", "minio", strings.NewReader("m"), 1, minio.PutObjectOptions{
		UserTags: map[string]string{"from": "minio", "with space": "a b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.objectTagMap("writes", "minio"); !sameMap(got, map[string]string{"from": "minio", "with space": "a b"}) {
		t.Fatalf("minio PutObject tags = %v", got)
	}
	_, err = e.aws.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String("writes"), Key: aws.String("aws"), Body: strings.NewReader("a"),
		Tagging: aws.String("from=aws&n=1&empty="),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.objectTagMap("writes", "aws"); !sameMap(got, map[string]string{"from": "aws", "n": "1", "empty": ""}) {
		t.Fatalf("aws PutObject tags = %v", got)
	}
	st, err := e.minio.StatObject(ctx, "writes", "aws", minio.StatObjectOptions{})
	if err != nil || st.UserTagCount != 3 {
		t.Fatalf("StatObject tag count = %d (%v), want 3", st.UserTagCount, err)
	}
	// A PUT without the header has no tags, even over a tagged object.
	e.put("writes", "aws", "again")
	if got := e.objectTagMap("writes", "aws"); len(got) != 0 {
		t.Fatalf("tags after a plain overwrite = %v", got)
	}

	// CopyObject: COPY (the default) keeps the source's tags, REPLACE takes
	// x-amz-tagging or none; another directive is refused.
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("writes"), Key: aws.String("copy-default"), CopySource: aws.String("writes/minio"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.objectTagMap("writes", "copy-default"); !sameMap(got, map[string]string{"from": "minio", "with space": "a b"}) {
		t.Fatalf("copied tags = %v", got)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("writes"), Key: aws.String("copy-meta-replace"), CopySource: aws.String("writes/minio"),
		MetadataDirective: types.MetadataDirectiveReplace,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.objectTagMap("writes", "copy-meta-replace"); len(got) != 2 {
		t.Fatalf("tags of a copy replacing metadata only = %v", got)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("writes"), Key: aws.String("copy-replace"), CopySource: aws.String("writes/minio"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("new=tag"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.objectTagMap("writes", "copy-replace"); !sameMap(got, map[string]string{"new": "tag"}) {
		t.Fatalf("replaced tags = %v", got)
	}
	_, err = e.aws.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket: aws.String("writes"), Key: aws.String("copy-none"), CopySource: aws.String("writes/minio"),
		TaggingDirective: types.TaggingDirectiveReplace,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.objectTagMap("writes", "copy-none"); len(got) != 0 {
		t.Fatalf("tags of a copy replacing with none = %v", got)
	}
	r := e.raw(http.MethodPut, "/writes/copy-bad", nil, http.Header{
		"X-Amz-Copy-Source": {"/writes/minio"}, "X-Amz-Tagging-Directive": {"MERGE"},
	})
	if r.status != 400 || r.code != "InvalidArgument" || errMessage(r) != "Unknown tagging directive." {
		t.Fatalf("bad tagging directive: %d %s %s", r.status, r.code, r.body)
	}

	// Multipart: the tags given at creation are the object's at completion.
	cr, err := e.aws.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String("writes"), Key: aws.String("mp"), Tagging: aws.String("part=of&an=upload"),
	})
	if err != nil {
		t.Fatal(err)
	}
	up, err := e.aws.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: aws.String("writes"), Key: aws.String("mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
		Body: strings.NewReader("part one"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.raw(http.MethodGet, "/writes/mp?tagging", nil, nil); got.code != "NoSuchKey" {
		t.Fatalf("tags of an incomplete upload's key: %d %s", got.status, got.code)
	}
	_, err = e.aws.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String("writes"), Key: aws.String("mp"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: up.ETag, PartNumber: aws.Int32(1)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.objectTagMap("writes", "mp"); !sameMap(got, map[string]string{"part": "of", "an": "upload"}) {
		t.Fatalf("multipart tags = %v", got)
	}
	if h := e.raw(http.MethodHead, "/writes/mp", nil, nil); h.header.Get("X-Amz-Tagging-Count") != "2" {
		t.Fatalf("multipart HEAD tag count = %q", h.header.Get("X-Amz-Tagging-Count"))
	}
	r = e.raw(http.MethodPost, "/writes/mp-bad?uploads", nil, http.Header{"X-Amz-Tagging": {"aws:x=1"}})
	if r.status != 400 || r.code != "InvalidTag" {
		t.Fatalf("CreateMultipartUpload with a reserved tag: %d %s", r.status, r.code)
	}
}

func TestTaggingPostForm(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("post-tags")
	// post uploads key with a tagging field, under a policy that allows
	// any tagging.
	post := func(key, tagging string) postResult {
		fields := signedPostFields(t, "post-tags", key, `["starts-with", "$tagging", ""]`)
		fields = append(fields, formField{"tagging", tagging})
		return postForm(t, nil, e.srv.URL+"/post-tags", fields, "file", "f.txt", []byte("posted"))
	}
	r := post("tagged", tagXML("via", "post", "n", "2"))
	if r.status != http.StatusNoContent {
		t.Fatalf("POST with tagging: %d %s %s", r.status, r.code, r.body)
	}
	if got := e.objectTagMap("post-tags", "tagged"); !sameMap(got, map[string]string{"via": "post", "n": "2"}) {
		t.Fatalf("POST tags = %v", got)
	}
	r = post("bad", tagXML("aws:no", "1"))
	if r.status != 400 || r.code != "InvalidTag" {
		t.Fatalf("POST with a reserved tag: %d %s %s", r.status, r.code, r.body)
	}
	r = post("bad", "<Tagging><TagSet>")
	if r.status != 400 || r.code != "MalformedXML" {
		t.Fatalf("POST with malformed tagging: %d %s %s", r.status, r.code, r.body)
	}
	if h := e.raw(http.MethodHead, "/post-tags/bad", nil, nil); h.status != http.StatusNotFound {
		t.Fatalf("refused POST stored the object: %d", h.status)
	}
}

func TestBucketTagging(t *testing.T) {
	e := newConfigEnv(t)
	ctx := context.Background()
	e.mkBucket("btags")

	if _, err := e.minio.GetBucketTagging(ctx, "btags"); minio.ToErrorResponse(err).Code != "NoSuchTagSet" {
		t.Fatalf("GetBucketTagging before any: %v", err)
	}
	want := map[string]string{"team": "storage", "cost-center": "42", "empty": ""}
	tg, err := tags.NewTags(want, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.minio.SetBucketTagging(ctx, "btags", tg); err != nil {
		t.Fatalf("SetBucketTagging: %v", err)
	}
	got, err := e.minio.GetBucketTagging(ctx, "btags")
	if err != nil || !sameMap(got.ToMap(), want) {
		t.Fatalf("GetBucketTagging = %v, %v; want %v", got, err, want)
	}
	out, err := e.aws.GetBucketTagging(ctx, &awss3.GetBucketTaggingInput{Bucket: aws.String("btags")})
	if err != nil || len(out.TagSet) != 3 {
		t.Fatalf("aws GetBucketTagging = %+v, %v", out, err)
	}

	// Up to 50 tags; 51 is refused and leaves the set as it was.
	var fifty, fiftyOne []string
	for i := range 51 {
		kv := []string{"k" + strconv.Itoa(i), "v"}
		if i < 50 {
			fifty = append(fifty, kv...)
		}
		fiftyOne = append(fiftyOne, kv...)
	}
	body := tagXML(fiftyOne...)
	r := e.raw(http.MethodPut, "/btags?tagging", []byte(body), xmlHeaders(body))
	if r.status != 400 || r.code != "BadRequest" || errMessage(r) != "Bucket tag count cannot be greater than 50" {
		t.Fatalf("51 bucket tags: %d %s %s", r.status, r.code, r.body)
	}
	for _, bad := range []string{tagXML("aws:x", "1"), tagXML("a", "1", "a", "2"), "<Tagging/>"} {
		if r := e.raw(http.MethodPut, "/btags?tagging", []byte(bad), xmlHeaders(bad)); r.status != 400 {
			t.Fatalf("bad bucket tagging %s: %d %s", bad, r.status, r.code)
		}
	}
	if got, _ := e.minio.GetBucketTagging(ctx, "btags"); got == nil || !sameMap(got.ToMap(), want) {
		t.Fatalf("tags after refusals = %v", got)
	}
	body = tagXML(fifty...)
	if r := e.raw(http.MethodPut, "/btags?tagging", []byte(body), xmlHeaders(body)); r.status != http.StatusNoContent {
		t.Fatalf("50 bucket tags: %d %s %s", r.status, r.code, r.body)
	}
	if got, _ := e.minio.GetBucketTagging(ctx, "btags"); got == nil || len(got.ToMap()) != 50 {
		t.Fatalf("50 tags read back: %v", got)
	}

	if err := e.minio.RemoveBucketTagging(ctx, "btags"); err != nil {
		t.Fatalf("RemoveBucketTagging: %v", err)
	}
	if _, err := e.minio.GetBucketTagging(ctx, "btags"); minio.ToErrorResponse(err).Code != "NoSuchTagSet" {
		t.Fatalf("GetBucketTagging after delete: %v", err)
	}
	if r := e.raw(http.MethodDelete, "/btags?tagging", nil, nil); r.status != http.StatusNoContent {
		t.Fatalf("DeleteBucketTagging without tags: %d %s", r.status, r.code)
	}
	// Missing bucket.
	body = tagXML("a", "1")
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		if r := e.raw(m, "/nobucket?tagging", []byte(body), xmlHeaders(body)); r.status != 404 || r.code != "NoSuchBucket" {
			t.Fatalf("%s ?tagging on a missing bucket: %d %s", m, r.status, r.code)
		}
	}
	// A deleted and re-created bucket starts without tags.
	if err := e.minio.SetBucketTagging(ctx, "btags", tg); err != nil {
		t.Fatal(err)
	}
	if err := e.minio.RemoveBucket(ctx, "btags"); err != nil {
		t.Fatal(err)
	}
	e.mkBucket("btags")
	if _, err := e.minio.GetBucketTagging(ctx, "btags"); minio.ToErrorResponse(err).Code != "NoSuchTagSet" {
		t.Fatalf("GetBucketTagging of a re-created bucket: %v", err)
	}
}

// TestConfigWithoutCatalog: a server without a catalog cannot keep bucket
// settings; it says so instead of pretending.
func TestConfigWithoutCatalog(t *testing.T) {
	e := newEnv(t)
	e.mkBucket("nocat")
	docs := map[string]string{
		"tagging":   tagXML("a", "1"),
		"cors":      `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
		"lifecycle": `<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`,
	}
	notFound := map[string]string{"tagging": "NoSuchTagSet", "cors": "NoSuchCORSConfiguration", "lifecycle": "NoSuchLifecycleConfiguration"}
	for sub, body := range docs {
		if r := e.raw(http.MethodPut, "/nocat?"+sub, []byte(body), xmlHeaders(body)); r.status != http.StatusNotImplemented || r.code != "NotImplemented" {
			t.Errorf("PUT ?%s without a catalog: %d %s", sub, r.status, r.code)
		}
		if r := e.raw(http.MethodGet, "/nocat?"+sub, nil, nil); r.status != 404 || r.code != notFound[sub] {
			t.Errorf("GET ?%s without a catalog: %d %s", sub, r.status, r.code)
		}
		if r := e.raw(http.MethodDelete, "/nocat?"+sub, nil, nil); r.status != http.StatusNoContent {
			t.Errorf("DELETE ?%s without a catalog: %d %s", sub, r.status, r.code)
		}
	}
	rep, err := mustServer(t, e).ApplyLifecycle(context.Background(), time.Now())
	if err != nil || rep != (s3.LifecycleReport{}) {
		t.Fatalf("ApplyLifecycle without a catalog = %+v, %v", rep, err)
	}
}

// mustServer is an S3 server over e's store without a catalog.
func mustServer(t *testing.T, e *env) *s3.Server {
	t.Helper()
	s, err := s3.New(s3.Config{Store: e.store, Verifier: &sigv4.Verifier{}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signedPostFields are the fields of a Version 4 POST form for key in
// bucket, signed with the test credential, whose policy also holds the
// extra condition.
func signedPostFields(t testing.TB, bucket, key, extra string) []formField {
	t.Helper()
	now := time.Now().UTC()
	day := now.Format("20060102")
	cred := testAccessKey + "/" + day + "/" + testRegion + "/s3/aws4_request"
	amzDate := now.Format("20060102T150405Z")
	policy := `{"expiration": "` + now.Add(time.Hour).Format("2006-01-02T15:04:05.000Z") + `", "conditions": [` +
		`{"bucket": "` + bucket + `"}, {"key": "` + key + `"}, {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, ` +
		`{"x-amz-credential": "` + cred + `"}, {"x-amz-date": "` + amzDate + `"}, ` + extra + `]}`
	b64 := base64.StdEncoding.EncodeToString([]byte(policy))
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+testSecretKey), day)
	k = mac(k, testRegion)
	k = mac(k, "s3")
	k = mac(k, "aws4_request")
	return []formField{
		{"key", key}, {"policy", b64}, {"x-amz-algorithm", "AWS4-HMAC-SHA256"},
		{"x-amz-credential", cred}, {"x-amz-date", amzDate}, {"x-amz-signature", hex.EncodeToString(mac(k, b64))},
	}
}
