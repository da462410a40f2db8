package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/basaltstore/basalt/proxy/s3"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

// postResult is the answer to a form POST.
type postResult struct {
	status  int
	code    string
	message string
	header  http.Header
	body    []byte
}

// formField is one text field of a form, in the order it is sent.
type formField struct{ name, value string }

// fieldsOf turns minio-go's form data into fields, in the map's (random)
// order, as minio-go's functional suite writes them.
func fieldsOf(m map[string]string) []formField {
	var out []formField
	for k, v := range m {
		out = append(out, formField{k, v})
	}
	return out
}

// withField returns fields with name set to value (added when absent).
func withField(fields []formField, name, value string) []formField {
	out := append([]formField(nil), fields...)
	for i := range out {
		if out[i].name == name {
			out[i].value = value
			return out
		}
	}
	return append(out, formField{name, value})
}

// withoutField returns fields without name.
func withoutField(fields []formField, name string) []formField {
	var out []formField
	for _, f := range fields {
		if f.name != name {
			out = append(out, f)
		}
	}
	return out
}

// noFile, as the file field's name, leaves the file out of the form.
const noFile = "\x00none"

// postForm sends fields and then the file, as multipart/form-data, the
// way a browser (and minio-go's functional suite) does.
func postForm(t testing.TB, client *http.Client, target string, fields []formField, fileField, fileName string, file []byte) postResult {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := w.WriteField(f.name, f.value); err != nil {
			t.Fatal(err)
		}
	}
	if fileField != noFile {
		fw, err := w.CreateFormFile(fileField, fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	w.Close()
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return doPost(t, client, req)
}

func doPost(t testing.TB, client *http.Client, req *http.Request) postResult {
	t.Helper()
	if client == nil {
		client = noRedirects
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := postResult{status: resp.StatusCode, header: resp.Header, body: b}
	var doc struct{ Code, Message string }
	if resp.StatusCode >= 400 && xml.Unmarshal(b, &doc) == nil {
		out.code, out.message = doc.Code, doc.Message
	}
	return out
}

// noRedirects is a client that hands redirects back instead of following
// them.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// presignPost signs p with c and returns the URL and form fields.
func presignPost(t testing.TB, c *minio.Client, p *minio.PostPolicy) (string, []formField) {
	t.Helper()
	u, data, err := c.PresignedPostPolicy(context.Background(), p)
	if err != nil {
		t.Fatalf("PresignedPostPolicy: %v", err)
	}
	return u.String(), fieldsOf(data)
}

// basicPolicy allows key into bucket for an hour, any size up to 1 MiB.
func basicPolicy(t testing.TB, bucket, key string) *minio.PostPolicy {
	t.Helper()
	p := minio.NewPostPolicy()
	must(t, p.SetBucket(bucket))
	must(t, p.SetKey(key))
	must(t, p.SetExpires(time.Now().UTC().Add(time.Hour)))
	must(t, p.SetContentLengthRange(0, 1<<20))
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randomData(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// readBack returns an object's bytes and info through minio-go.
func (e *env) readBack(bucket, key string, opts minio.GetObjectOptions) ([]byte, minio.ObjectInfo) {
	e.t.Helper()
	o, err := e.minio.GetObject(context.Background(), bucket, key, opts)
	if err != nil {
		e.t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer o.Close()
	st, err := o.Stat()
	if err != nil {
		e.t.Fatalf("Stat %s/%s: %v", bucket, key, err)
	}
	b, err := io.ReadAll(o)
	if err != nil {
		e.t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b, st
}

// absent fails the test when bucket/key exists.
func (e *env) absent(bucket, key string) {
	e.t.Helper()
	_, err := e.minio.StatObject(context.Background(), bucket, key, minio.StatObjectOptions{})
	if minio.ToErrorResponse(err).Code != "NoSuchKey" {
		e.t.Fatalf("%s/%s after a refused upload: %v", bucket, key, err)
	}
}

func wantRefusal(t *testing.T, what string, r postResult, status int, code, msgPart string) {
	t.Helper()
	if r.status != status || r.code != code || !strings.Contains(r.message, msgPart) {
		t.Fatalf("%s: %d %s %q, want %d %s containing %q (body %s)", what, r.status, r.code, r.message, status, code, msgPart, r.body)
	}
}

// TestPostPolicyMinioFunctional is minio-go's testPresignedPostPolicy: a
// 33 KiB file with content type, user metadata, content encoding and a
// CRC32C checksum, all bound by the policy.
func TestPostPolicyMinioFunctional(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-functional"
	e.mkBucket(bucket)
	data := randomData(33<<10, 1)
	object, metaKey, metaValue := "object-Name_1.bin", "userMetaKey", "meta value 1"

	p := minio.NewPostPolicy()
	must(t, p.SetBucket(bucket))
	must(t, p.SetKey(object))
	must(t, p.SetExpires(time.Now().UTC().AddDate(0, 0, 10)))
	must(t, p.SetContentType("binary/octet-stream"))
	must(t, p.SetContentLengthRange(10, 1024*1024))
	must(t, p.SetUserMetadata(metaKey, metaValue))
	must(t, p.SetContentEncoding("gzip"))
	sum := minio.ChecksumCRC32C.ChecksumBytes(data)
	must(t, p.SetChecksum(sum))
	target, fields := presignPost(t, e.minio, p)

	r := postForm(t, nil, target, fields, "file", "/tmp/PresignedPostPolicyTest123", data)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("POST: %d %s %s", r.status, r.code, r.body)
	}
	if want := e.srv.URL + "/" + bucket + "/" + object; r.header.Get("Location") != want {
		t.Errorf("Location = %q, want %q", r.header.Get("Location"), want)
	}
	if got := r.header.Get("ETag"); got != `"`+md5hex(data)+`"` {
		t.Errorf("ETag = %q", got)
	}
	if got := r.header.Get("X-Amz-Checksum-Crc32c"); got != sum.Encoded() {
		t.Errorf("checksum header = %q, want %q", got, sum.Encoded())
	}

	got, st := e.readBack(bucket, object, minio.GetObjectOptions{Checksum: true})
	if !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes differ from the %d posted", len(got), len(data))
	}
	if st.ChecksumCRC32C != sum.Encoded() {
		t.Errorf("stored checksum %q, want %q", st.ChecksumCRC32C, sum.Encoded())
	}
	if st.ContentType != "binary/octet-stream" || st.Metadata.Get("Content-Encoding") != "gzip" ||
		st.Metadata.Get("X-Amz-Meta-"+metaKey) != metaValue || st.ETag != md5hex(data) {
		t.Errorf("stored info: type %q, headers %v, etag %s", st.ContentType, st.Metadata, st.ETag)
	}
}

// TestPostPolicyMinioWrongFile is minio-go's
// testPresignedPostPolicyWrongFile: the checksum field no longer matches
// the policy's, and S3 names the failed condition.
func TestPostPolicyMinioWrongFile(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-wrongfile"
	e.mkBucket(bucket)
	p := basicPolicy(t, bucket, "obj")
	must(t, p.SetContentLengthRange(10, 1024*1024))
	must(t, p.SetUserMetadata("user1", "v1"))
	allowed := minio.ChecksumCRC32C.ChecksumBytes([]byte{0x01, 0x02, 0x03})
	must(t, p.SetChecksum(allowed))
	target, fields := presignPost(t, e.minio, p)

	data := randomData(10<<10, 2)
	other := minio.ChecksumCRC32C.ChecksumBytes(data)
	fields = withField(fields, "x-amz-checksum-crc32c", other.Encoded())
	r := postForm(t, nil, target, fields, "file", "datafile-10-kB", data)
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	// The check minio-go's suite makes: quotes removed, the condition named.
	body := strings.ReplaceAll(string(r.body), `"`, "")
	if want := "Policy Condition failed: [eq, $x-amz-checksum-crc32c, " + allowed.Encoded(); !strings.Contains(body, want) {
		t.Fatalf("body %s does not contain %q", r.body, want)
	}
	e.absent(bucket, "obj")
}

// TestPostPolicyMinioEmptyFileName is minio-go's
// testPresignedPostPolicyEmptyFileName: a file part with no field name.
func TestPostPolicyMinioEmptyFileName(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-emptyname"
	e.mkBucket(bucket)
	target, fields := presignPost(t, e.minio, basicPolicy(t, bucket, "obj"))
	r := postForm(t, nil, target, fields, "", "/tmp/file", []byte("0123456789abc"))
	wantRefusal(t, "empty field name", r, http.StatusBadRequest, "MalformedPOSTRequest", "")
	e.absent(bucket, "obj")
}

// TestPostObjectChecksumMismatch: the fields agree with the policy, the
// file does not agree with the checksum.
func TestPostObjectChecksumMismatch(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-baddigest"
	e.mkBucket(bucket)
	p := basicPolicy(t, bucket, "obj")
	must(t, p.SetChecksum(minio.ChecksumSHA256.ChecksumBytes([]byte("the expected bytes"))))
	target, fields := presignPost(t, e.minio, p)
	r := postForm(t, nil, target, fields, "file", "f", []byte("some other bytes!!"))
	wantRefusal(t, "checksum mismatch", r, http.StatusBadRequest, "BadDigest", "x-amz-checksum-sha256")
	e.absent(bucket, "obj")

	// The same file with the right bytes goes in, and the checksum is kept.
	r = postForm(t, nil, target, fields, "file", "f", []byte("the expected bytes"))
	if r.status != http.StatusNoContent {
		t.Fatalf("right bytes: %d %s", r.status, r.body)
	}
	_, st := e.readBack(bucket, "obj", minio.GetObjectOptions{Checksum: true})
	if st.ChecksumSHA256 != minio.ChecksumSHA256.ChecksumBytes([]byte("the expected bytes")).Encoded() {
		t.Errorf("stored checksum %q", st.ChecksumSHA256)
	}
}

// TestPostObjectStatusAndFilename: success_action_status 201 answers with
// a PostResponse document; ${filename} takes the client's file name.
func TestPostObjectStatusAndFilename(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-status"
	e.mkBucket(bucket)
	p := minio.NewPostPolicy()
	must(t, p.SetBucket(bucket))
	must(t, p.SetKeyStartsWith("uploads/"))
	must(t, p.SetExpires(time.Now().UTC().Add(time.Hour)))
	must(t, p.SetSuccessStatusAction("201"))
	must(t, p.SetContentTypeStartsWith("text/"))
	target, fields := presignPost(t, e.minio, p)
	fields = withField(fields, "key", "uploads/${filename}")
	fields = withField(fields, "Content-Type", "text/plain; charset=utf-8")
	data := []byte("quarterly numbers\n")

	r := postForm(t, nil, target, fields, "file", `C:\Users\me\report.txt`, data)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	var doc struct {
		XMLName                     xml.Name `xml:"PostResponse"`
		Location, Bucket, Key, ETag string
	}
	if err := xml.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("PostResponse %s: %v", r.body, err)
	}
	wantLoc := e.srv.URL + "/" + bucket + "/uploads/report.txt"
	if doc.Bucket != bucket || doc.Key != "uploads/report.txt" || doc.ETag != `"`+md5hex(data)+`"` || doc.Location != wantLoc {
		t.Errorf("PostResponse = %+v", doc)
	}
	got, st := e.readBack(bucket, "uploads/report.txt", minio.GetObjectOptions{})
	if !bytes.Equal(got, data) || st.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("stored %q as %q", got, st.ContentType)
	}

	// The key must still start with "uploads/" once expanded.
	r = postForm(t, nil, target, withField(fields, "key", "${filename}"), "file", "uploads-report.txt", data)
	wantRefusal(t, "key outside the prefix", r, http.StatusForbidden, "AccessDenied", `Policy Condition failed: ["starts-with", "$key", "uploads/"]`)
	e.absent(bucket, "uploads-report.txt")

	// 200 is an empty 200.
	p = basicPolicy(t, bucket, "two-hundred")
	must(t, p.SetSuccessStatusAction("200"))
	target, fields = presignPost(t, e.minio, p)
	r = postForm(t, nil, target, fields, "file", "f", data)
	if r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("ETag") == "" {
		t.Fatalf("success_action_status 200: %d %q", r.status, r.body)
	}
}

// TestPostObjectRedirect: success_action_redirect answers 303 to the URL
// with bucket, key and etag added.
func TestPostObjectRedirect(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-redirect"
	e.mkBucket(bucket)
	p := basicPolicy(t, bucket, "a b/c")
	must(t, p.SetSuccessActionRedirect("http://127.0.0.1:1/done?from=form"))
	target, fields := presignPost(t, e.minio, p)
	data := []byte("redirected")
	r := postForm(t, nil, target, fields, "file", "f", data)
	if r.status != http.StatusSeeOther {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "127.0.0.1:1" || u.Path != "/done" || q.Get("from") != "form" || q.Get("bucket") != bucket ||
		q.Get("key") != "a b/c" || q.Get("etag") != `"`+md5hex(data)+`"` {
		t.Errorf("Location = %s", u)
	}
	if got, _ := e.readBack(bucket, "a b/c", minio.GetObjectOptions{}); !bytes.Equal(got, data) {
		t.Errorf("stored %q", got)
	}
}

// TestPostObjectContentLengthRange: the file's size against the policy's
// content-length-range, bounds included.
func TestPostObjectContentLengthRange(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-length"
	e.mkBucket(bucket)
	for _, c := range []struct {
		size int
		code string
	}{{9, "EntityTooSmall"}, {10, ""}, {100, ""}, {101, "EntityTooLarge"}, {64 << 10, "EntityTooLarge"}} {
		key := fmt.Sprintf("size-%d", c.size)
		p := basicPolicy(t, bucket, key)
		must(t, p.SetContentLengthRange(10, 100))
		target, fields := presignPost(t, e.minio, p)
		data := randomData(c.size, int64(c.size))
		r := postForm(t, nil, target, fields, "file", "f", data)
		if c.code == "" {
			if r.status != http.StatusNoContent {
				t.Fatalf("%d bytes: %d %s", c.size, r.status, r.body)
			}
			if got, _ := e.readBack(bucket, key, minio.GetObjectOptions{}); !bytes.Equal(got, data) {
				t.Fatalf("%d bytes: stored differ", c.size)
			}
			continue
		}
		wantRefusal(t, key, r, http.StatusBadRequest, c.code, "")
		e.absent(bucket, key)
	}
}

// TestPostObjectLarge: a file larger than the inline threshold and than
// one copy buffer goes through the spool into the erasure-coded store.
func TestPostObjectLarge(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-large"
	e.mkBucket(bucket)
	p := basicPolicy(t, bucket, "big")
	must(t, p.SetContentLengthRange(1, 8<<20))
	target, fields := presignPost(t, e.minio, p)
	data := randomData(3<<20+12345, 3)
	r := postForm(t, nil, target, fields, "file", "big.bin", data)
	if r.status != http.StatusNoContent {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	got, st := e.readBack(bucket, "big", minio.GetObjectOptions{})
	if !bytes.Equal(got, data) || st.Size != int64(len(data)) || st.ETag != md5hex(data) {
		t.Fatalf("stored %d bytes, etag %s", len(got), st.ETag)
	}
}

// TestPostObjectRefusals: expiry, tampering, wrong credentials, extra and
// missing fields.
func TestPostObjectRefusals(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-refuse"
	e.mkBucket(bucket)
	data := []byte("0123456789")
	target, fields := presignPost(t, e.minio, basicPolicy(t, bucket, "obj"))

	t.Run("expired", func(t *testing.T) {
		p := basicPolicy(t, bucket, "obj")
		must(t, p.SetExpires(time.Now().UTC().Add(-time.Minute)))
		target, fields := presignPost(t, e.minio, p)
		r := postForm(t, nil, target, fields, "file", "f", data)
		wantRefusal(t, "expired", r, http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy expired.")
	})
	t.Run("tampered key", func(t *testing.T) {
		r := postForm(t, nil, target, withField(fields, "key", "other"), "file", "f", data)
		wantRefusal(t, "tampered key", r, http.StatusForbidden, "AccessDenied", `Invalid according to Policy: Policy Condition failed: ["eq", "$key", "obj"]`)
		e.absent(bucket, "other")
	})
	t.Run("tampered policy", func(t *testing.T) {
		var pol string
		for _, f := range fields {
			if f.name == "policy" {
				pol = f.value
			}
		}
		doc, err := base64.StdEncoding.DecodeString(pol)
		if err != nil {
			t.Fatal(err)
		}
		forged := strings.Replace(string(doc), `["eq","$key","obj"]`, `["starts-with","$key",""]`, 1)
		if forged == string(doc) {
			t.Fatalf("policy %s has no key condition", doc)
		}
		r := postForm(t, nil, target, withField(withField(fields, "policy", base64.StdEncoding.EncodeToString([]byte(forged))), "key", "forged"), "file", "f", data)
		wantRefusal(t, "tampered policy", r, http.StatusForbidden, "SignatureDoesNotMatch", "")
		e.absent(bucket, "forged")
	})
	t.Run("tampered signature", func(t *testing.T) {
		r := postForm(t, nil, target, withField(fields, "x-amz-signature", strings.Repeat("0", 64)), "file", "f", data)
		wantRefusal(t, "tampered signature", r, http.StatusForbidden, "SignatureDoesNotMatch", "")
	})
	t.Run("wrong secret", func(t *testing.T) {
		target, fields := presignPost(t, e.minioClient("not-the-secret"), basicPolicy(t, bucket, "obj"))
		r := postForm(t, nil, target, fields, "file", "f", data)
		wantRefusal(t, "wrong secret", r, http.StatusForbidden, "SignatureDoesNotMatch", "")
	})
	t.Run("unknown access key", func(t *testing.T) {
		c, err := minio.New(e.host(), &minio.Options{Creds: miniocreds.NewStaticV4("nobody", testSecretKey, ""), Region: testRegion})
		must(t, err)
		target, fields := presignPost(t, c, basicPolicy(t, bucket, "obj"))
		r := postForm(t, nil, target, fields, "file", "f", data)
		wantRefusal(t, "unknown key", r, http.StatusForbidden, "InvalidAccessKeyId", "")
	})
	t.Run("other region", func(t *testing.T) {
		c, err := minio.New(e.host(), &minio.Options{Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: "eu-west-1"})
		must(t, err)
		target, fields := presignPost(t, c, basicPolicy(t, bucket, "obj"))
		r := postForm(t, nil, target, fields, "file", "f", data)
		wantRefusal(t, "other region", r, http.StatusBadRequest, "InvalidArgument", "the region 'eu-west-1' is wrong")
	})
	t.Run("extra field", func(t *testing.T) {
		r := postForm(t, nil, target, append(fields, formField{"x-amz-meta-extra", "1"}), "file", "f", data)
		wantRefusal(t, "extra field", r, http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-extra")
	})
	t.Run("x-ignore field", func(t *testing.T) {
		r := postForm(t, nil, target, append(fields, formField{"x-ignore-flash-filename", "a.txt"}), "file", "f", data)
		if r.status != http.StatusNoContent {
			t.Fatalf("x-ignore- field: %d %s", r.status, r.body)
		}
	})
	t.Run("fields after the file are ignored", func(t *testing.T) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, f := range fields {
			w.WriteField(f.name, f.value)
		}
		fw, _ := w.CreateFormFile("file", "f")
		fw.Write([]byte("first file"))
		w.WriteField("x-amz-meta-late", "1")
		fw, _ = w.CreateFormFile("file", "g")
		fw.Write([]byte("second file"))
		w.Close()
		req, _ := http.NewRequest(http.MethodPost, target, &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		if r := doPost(t, nil, req); r.status != http.StatusNoContent {
			t.Fatalf("status %d %s", r.status, r.body)
		}
		got, st := e.readBack(bucket, "obj", minio.GetObjectOptions{})
		if string(got) != "first file" || st.Metadata.Get("X-Amz-Meta-Late") != "" {
			t.Fatalf("stored %q, %v", got, st.Metadata)
		}
	})
	t.Run("no file", func(t *testing.T) {
		r := postForm(t, nil, target, fields, noFile, "", nil)
		wantRefusal(t, "no file", r, http.StatusBadRequest, "IncorrectNumberOfFilesInPostRequest", "exactly one file")
	})
	t.Run("no key", func(t *testing.T) {
		r := postForm(t, nil, target, withoutField(fields, "key"), "file", "f", data)
		wantRefusal(t, "no key", r, http.StatusBadRequest, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
	})
	t.Run("no signature", func(t *testing.T) {
		r := postForm(t, nil, target, withoutField(fields, "x-amz-signature"), "file", "f", data)
		wantRefusal(t, "no signature", r, http.StatusBadRequest, "InvalidArgument", "'x-amz-signature'")
	})
	t.Run("anonymous", func(t *testing.T) {
		r := postForm(t, nil, target, []formField{{"key", "anon"}}, "file", "f", data)
		wantRefusal(t, "anonymous", r, http.StatusForbidden, "AccessDenied", "")
		e.absent(bucket, "anon")
	})
	t.Run("fields too large", func(t *testing.T) {
		r := postForm(t, nil, target, append(fields, formField{"x-ignore-pad", strings.Repeat("p", 70<<10)}), "file", "f", data)
		wantRefusal(t, "large fields", r, http.StatusBadRequest, "MaxPostPreDataLengthExceededError", "")
		var many []formField
		for i := range 5000 {
			many = append(many, formField{fmt.Sprintf("x-ignore-%d", i), ""})
		}
		r = postForm(t, nil, target, append(many, fields...), "file", "f", data)
		wantRefusal(t, "many fields", r, http.StatusBadRequest, "MaxPostPreDataLengthExceededError", "")
	})
	t.Run("not a form", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader("key=obj"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := doPost(t, nil, req)
		wantRefusal(t, "urlencoded", r, http.StatusPreconditionFailed, "PreconditionFailed", "multipart/form-data")
	})
	t.Run("truncated body", func(t *testing.T) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, f := range fields {
			w.WriteField(f.name, f.value)
		}
		fw, _ := w.CreateFormFile("file", "f")
		fw.Write(data)
		// No closing boundary: the file never ends.
		req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(buf.Bytes()))
		req.Header.Set("Content-Type", w.FormDataContentType())
		r := doPost(t, nil, req)
		if r.status != http.StatusBadRequest || (r.code != "IncompleteBody" && r.code != "MalformedPOSTRequest") {
			t.Fatalf("truncated: %d %s %s", r.status, r.code, r.body)
		}
	})
	t.Run("no such bucket", func(t *testing.T) {
		target, fields := presignPost(t, e.minio, basicPolicy(t, "post-nosuch", "obj"))
		r := postForm(t, nil, target, fields, "file", "f", data)
		wantRefusal(t, "no bucket", r, http.StatusNotFound, "NoSuchBucket", "")
	})
	t.Run("bucket field names another bucket", func(t *testing.T) {
		other := strings.Replace(target, "/"+bucket+"/", "/post-refuse-other/", 1)
		e.mkBucket("post-refuse-other")
		r := postForm(t, nil, other, fields, "file", "f", data)
		wantRefusal(t, "posted elsewhere", r, http.StatusForbidden, "AccessDenied", `["eq", "$bucket", "post-refuse"]`)
		e.absent("post-refuse-other", "obj")
	})
}

// TestPostObjectSigV2: minio-go's Signature Version 2 form (AWSAccessKeyId
// and an HMAC-SHA1 signature).
func TestPostObjectSigV2(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-sigv2"
	e.mkBucket(bucket)
	v2 := func(secret string) *minio.Client {
		c, err := minio.New(e.host(), &minio.Options{Creds: miniocreds.NewStaticV2(testAccessKey, secret, ""), Region: testRegion})
		must(t, err)
		return c
	}
	p := basicPolicy(t, bucket, "v2-object")
	must(t, p.SetUserMetadata("via", "v2"))
	target, fields := presignPost(t, v2(testSecretKey), p)
	names := map[string]bool{}
	for _, f := range fields {
		names[f.name] = true
	}
	if !names["AWSAccessKeyId"] || !names["signature"] || names["x-amz-signature"] {
		t.Fatalf("not a Version 2 form: %v", names)
	}
	data := []byte("signed the old way")
	r := postForm(t, nil, target, fields, "file", "f", data)
	if r.status != http.StatusNoContent {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	got, st := e.readBack(bucket, "v2-object", minio.GetObjectOptions{})
	if !bytes.Equal(got, data) || st.Metadata.Get("X-Amz-Meta-Via") != "v2" {
		t.Errorf("stored %q %v", got, st.Metadata)
	}

	target, fields = presignPost(t, v2("wrong secret"), basicPolicy(t, bucket, "v2-bad"))
	r = postForm(t, nil, target, fields, "file", "f", data)
	wantRefusal(t, "v2 wrong secret", r, http.StatusForbidden, "SignatureDoesNotMatch", "")
	e.absent(bucket, "v2-bad")
}

// TestPostObjectVirtualHost: the form posted to "bucket.localhost:port/",
// as minio-go builds it with DNS bucket lookup.
func TestPostObjectVirtualHost(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-vhost"
	e.mkBucket(bucket)
	addr := e.host()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	endpoint := strings.Replace(addr, "127.0.0.1", "localhost", 1)
	c, err := minio.New(endpoint, &minio.Options{
		Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: testRegion,
		BucketLookup: minio.BucketLookupDNS, Transport: tr,
	})
	must(t, err)
	target, fields := presignPost(t, c, basicPolicy(t, bucket, "dir/vhost-object"))
	if want := "http://" + bucket + "." + endpoint + "/"; target != want {
		t.Fatalf("URL %s, want %s", target, want)
	}
	data := []byte("virtual host")
	r := postForm(t, &http.Client{Transport: tr, Timeout: 30 * time.Second}, target, fields, "file", "f", data)
	if r.status != http.StatusNoContent {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	if want := "http://" + bucket + "." + endpoint + "/dir/vhost-object"; r.header.Get("Location") != want {
		t.Errorf("Location = %q, want %q", r.header.Get("Location"), want)
	}
	if got, _ := e.readBack(bucket, "dir/vhost-object", minio.GetObjectOptions{}); !bytes.Equal(got, data) {
		t.Errorf("stored %q", got)
	}
}

// TestPostObjectSpoolLeavesNothing: the spool directory is empty after
// uploads that succeed and uploads that are refused mid-file.
func TestPostObjectSpoolLeavesNothing(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-spool"
	e.mkBucket(bucket)
	spool := t.TempDir()
	srv, err := s3.New(s3.Config{
		Store:    e.store,
		Verifier: &sigv4.Verifier{Region: testRegion, Creds: creds{testAccessKey: testSecretKey}},
		Region:   testRegion,
		SpoolDir: spool,
	})
	must(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := minio.New(strings.TrimPrefix(hs.URL, "http://"), &minio.Options{
		Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: testRegion,
	})
	must(t, err)
	p := basicPolicy(t, bucket, "spooled")
	must(t, p.SetContentLengthRange(1, 200<<10))
	must(t, p.SetChecksum(minio.ChecksumCRC32.ChecksumBytes(randomData(100<<10, 4))))
	target, fields := presignPost(t, c, p)

	for _, c := range []struct {
		data   []byte
		status int
	}{
		{randomData(100<<10, 4), http.StatusNoContent},
		{randomData(300<<10, 5), http.StatusBadRequest}, // too large
		{randomData(100<<10, 6), http.StatusBadRequest}, // bad checksum
	} {
		r := postForm(t, nil, target, fields, "file", "f", c.data)
		if r.status != c.status {
			t.Fatalf("status %d %s, want %d", r.status, r.body, c.status)
		}
		left, err := os.ReadDir(spool)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 0 {
			t.Fatalf("spool holds %d files after an upload", len(left))
		}
	}
	got, _ := e.readBack(bucket, "spooled", minio.GetObjectOptions{})
	if !bytes.Equal(got, randomData(100<<10, 4)) {
		t.Fatal("stored object is not the accepted upload")
	}
}

// TestPostObjectKeepsConnection: a browser upload that succeeds leaves
// the connection open for the next request.
func TestPostObjectKeepsConnection(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-keepalive"
	e.mkBucket(bucket)
	target, fields := presignPost(t, e.minio, basicPolicy(t, bucket, "obj"))
	u, err := url.Parse(target)
	must(t, err)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		w.WriteField(f.name, f.value)
	}
	fw, _ := w.CreateFormFile("file", "f")
	fw.Write([]byte("kept alive"))
	w.WriteField("x-ignore-after", "fields after the file are read off and ignored")
	w.Close()
	conn, err := net.Dial("tcp", e.host())
	must(t, err)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		u.Path, u.Host, w.FormDataContentType(), buf.Len())
	_, err = conn.Write(buf.Bytes())
	must(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Close {
		t.Fatalf("POST: %d, close %v", resp.StatusCode, resp.Close)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/"+bucket+"/obj", nil)
	signRequest(t, req, nil, testSecretKey)
	must(t, req.Write(conn))
	resp, err = http.ReadResponse(br, req)
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "kept alive" {
		t.Fatalf("GET on the same connection: %d %q", resp.StatusCode, body)
	}
}

// TestRefusedUploadKeepsConnectionInSync: after an upload refused before
// its body was read, the connection either closes or carries the next
// request as a request, never the rest of the refused body.
func TestRefusedUploadKeepsConnectionInSync(t *testing.T) {
	e := newEnv(t)
	const bucket = "post-conn"
	e.mkBucket(bucket)
	target, fields := presignPost(t, e.minio, basicPolicy(t, bucket, "obj"))
	u, err := url.Parse(target)
	must(t, err)
	for _, pad := range []int{10 << 10, 100 << 10, 600 << 10} {
		// The fields come first and are too large: the server answers
		// after reading a part of the body.
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("x-ignore-pad", strings.Repeat("p", 70<<10))
		for i := 0; buf.Len() < pad; i++ {
			w.WriteField(fmt.Sprintf("x-ignore-%d", i), strings.Repeat("q", 100))
		}
		for _, f := range fields {
			w.WriteField(f.name, f.value)
		}
		fw, _ := w.CreateFormFile("file", "f")
		fw.Write([]byte("data"))
		w.Close()

		conn, err := net.Dial("tcp", e.host())
		must(t, err)
		// A bound on the whole exchange, so that a server that stops
		// reading cannot hang the test.
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			u.Path, u.Host, w.FormDataContentType(), buf.Len())
		wrote := make(chan error, 1)
		go func() {
			_, err := conn.Write(append([]byte(head), buf.Bytes()...))
			wrote <- err
		}()
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		must(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("pad %d: status %d", pad, resp.StatusCode)
		}
		werr := <-wrote
		if resp.Close || werr != nil {
			conn.Close()
			continue
		}
		// Kept open: the next request must be answered as one.
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/"+bucket+"?location", nil)
		signRequest(t, req, nil, testSecretKey)
		if err := req.Write(conn); err != nil {
			t.Fatalf("pad %d: connection kept open, yet the next request cannot be sent: %v", pad, err)
		}
		if resp, err = http.ReadResponse(br, req); err != nil {
			t.Fatalf("pad %d: connection kept open, yet the next request gets no answer: %v", pad, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("LocationConstraint")) {
			t.Fatalf("pad %d: next request on the connection got %d %s", pad, resp.StatusCode, body)
		}
	}
}
