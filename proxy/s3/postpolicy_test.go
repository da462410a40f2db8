package s3

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// awsPostExamplePolicy is the policy of AWS's "Example: Browser-Based
// Upload using HTTP POST (Using AWS Signature Version 4)", with its CRLF
// line ends, and awsPostExampleSignature its published signature under
// the example credentials.
const (
	awsPostExamplePolicy = "{ \"expiration\": \"2015-12-30T12:00:00.000Z\",\r\n" +
		"  \"conditions\": [\r\n" +
		"    {\"bucket\": \"sigv4examplebucket\"},\r\n" +
		"    [\"starts-with\", \"$key\", \"user/user1/\"],\r\n" +
		"    {\"acl\": \"public-read\"},\r\n" +
		"    {\"success_action_redirect\": \"http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html\"},\r\n" +
		"    [\"starts-with\", \"$Content-Type\", \"image/\"],\r\n" +
		"    {\"x-amz-meta-uuid\": \"14365123651274\"},\r\n" +
		"    {\"x-amz-server-side-encryption\": \"AES256\"},\r\n" +
		"    [\"starts-with\", \"$x-amz-meta-tag\", \"\"],\r\n" +
		"\r\n" +
		"    {\"x-amz-credential\": \"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request\"},\r\n" +
		"    {\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\"},\r\n" +
		"    {\"x-amz-date\": \"20151229T000000Z\" }\r\n" +
		"  ]\r\n" +
		"}"
	awsPostExampleSignature = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
	awsExampleSecret        = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// awsExampleForm is the form of AWS's example, its file named "pic.jpg".
func awsExampleForm() *postForm {
	f := newPostForm()
	for _, kv := range [][2]string{
		{"key", "user/user1/${filename}"},
		{"acl", "public-read"},
		{"success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},
		{"Content-Type", "image/jpeg"},
		{"x-amz-meta-uuid", "14365123651274"},
		{"x-amz-server-side-encryption", "AES256"},
		{"X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
		{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
		{"X-Amz-Date", "20151229T000000Z"},
		{"x-amz-meta-tag", ""},
		{"Policy", base64.StdEncoding.EncodeToString([]byte(awsPostExamplePolicy))},
		{"X-Amz-Signature", awsPostExampleSignature},
	} {
		f.add(kv[0], kv[1])
	}
	f.expand("C:\\Users\\me\\pic.jpg")
	return f
}

func TestPostSignatureV4AWSExample(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte(awsPostExamplePolicy))
	if got := postSignatureV4(awsExampleSecret, "20151229", "us-east-1", b64); got != awsPostExampleSignature {
		t.Fatalf("signature = %s, want %s", got, awsPostExampleSignature)
	}
	if got := postSignatureV4(awsExampleSecret, "20151230", "us-east-1", b64); got == awsPostExampleSignature {
		t.Fatal("another date gives the same signature")
	}
}

func TestPostSignatureV2(t *testing.T) {
	// HMAC-SHA1 of "policy" under "secret", base64 (as openssl dgst -sha1 -hmac computes it).
	if got, want := postSignatureV2("secret", "policy"), "DQYKsMXInaBeQ2OuQ0nMglptC1c="; got != want {
		t.Fatalf("v2 signature = %s, want %s", got, want)
	}
}

func TestPostPolicyAWSExample(t *testing.T) {
	p, err := parsePostPolicy([]byte(awsPostExamplePolicy))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2015, 12, 30, 12, 0, 0, 0, time.UTC); !p.expiration.Equal(want) {
		t.Errorf("expiration = %v", p.expiration)
	}
	if len(p.conditions) != 11 || p.hasRange {
		t.Fatalf("conditions = %d, range %v", len(p.conditions), p.hasRange)
	}
	form := awsExampleForm()
	if got := form.get("key"); got != "user/user1/pic.jpg" {
		t.Errorf("expanded key = %q", got)
	}
	before := time.Date(2015, 12, 29, 10, 0, 0, 0, time.UTC)
	if err := p.check(before, "sigv4examplebucket", form); err != nil {
		t.Fatalf("AWS example refused: %v", err)
	}
	// The bucket condition is about the bucket addressed, not a field.
	if err := p.check(before, "otherbucket", form); !isDenied(err, `Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]`) {
		t.Errorf("other bucket: %v", err)
	}
	after := time.Date(2015, 12, 30, 12, 0, 0, 0, time.UTC)
	if err := p.check(after, "sigv4examplebucket", form); !isDenied(err, "Policy expired.") {
		t.Errorf("at expiry: %v", err)
	}
}

// isDenied reports whether err is AccessDenied "Invalid according to
// Policy: <msg>".
func isDenied(err error, msg string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == "AccessDenied" && ae.Status == 403 &&
		ae.Message == "Invalid according to Policy: "+msg
}

func policyOf(t *testing.T, conds string) *postPolicy {
	t.Helper()
	p, err := parsePostPolicy([]byte(`{"expiration":"2030-01-01T00:00:00.000Z","conditions":[` + conds + `]}`))
	if err != nil {
		t.Fatalf("parse %s: %v", conds, err)
	}
	return p
}

func formOf(kv ...string) *postForm {
	f := newPostForm()
	for i := 0; i+1 < len(kv); i += 2 {
		f.add(kv[i], kv[i+1])
	}
	return f
}

var policyNow = time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)

func TestPostPolicyConditions(t *testing.T) {
	cases := []struct {
		name  string
		conds string
		form  *postForm
		deny  string // "" when allowed
	}{
		{"eq", `["eq","$key","a/b"]`, formOf("key", "a/b"), ""},
		{"eq mismatch", `["eq","$key","a/b"]`, formOf("key", "a/c"), `Policy Condition failed: ["eq", "$key", "a/b"]`},
		{"eq is case-sensitive in the value", `["eq","$key","A"]`, formOf("key", "a"), `Policy Condition failed: ["eq", "$key", "A"]`},
		{"field names ignore case", `["eq","$Content-Type","text/plain"]`, formOf("content-type", "text/plain"), ""},
		{"operator ignores case", `["EQ","$key","k"]`, formOf("key", "k"), ""},
		{"simple condition", `{"key":"k"}`, formOf("key", "k"), ""},
		{"simple condition with $", `{"$key":"k"}`, formOf("key", "k"), ""},
		{"simple condition mismatch", `{"acl":"public-read"}`, formOf("key", "k", "acl", "private"), `Policy Condition failed: ["eq", "$acl", "public-read"]`},
		{"starts-with", `["starts-with","$key","user/"]`, formOf("key", "user/x"), ""},
		{"starts-with mismatch", `["starts-with","$key","user/"]`, formOf("key", "other/x"), `Policy Condition failed: ["starts-with", "$key", "user/"]`},
		{"starts-with empty allows anything", `["starts-with","$key",""]`, formOf("key", "anything"), ""},
		{"starts-with empty allows an absent field", `["starts-with","$x-amz-meta-a",""]`, formOf(), ""},
		{"eq on an absent field", `["eq","$x-amz-meta-a","v"]`, formOf(), `Policy Condition failed: ["eq", "$x-amz-meta-a", "v"]`},
		{"content-type list", `["starts-with","$Content-Type","image/"]`, formOf("Content-Type", "image/png, image/jpeg"), ""},
		{"content-type list one off", `["starts-with","$Content-Type","image/"]`, formOf("Content-Type", "image/png,text/plain"), `Policy Condition failed: ["starts-with", "$Content-Type", "image/"]`},
		{"repeated field joined by commas", `["eq","$x-amz-meta-tag","Ninja,Stallman"]`, formOf("x-amz-meta-tag", "Ninja", "x-amz-meta-tag", "Stallman"), ""},
		{"quotes escaped in the message", `["eq","$key","a\"b"]`, formOf("key", "ab"), `Policy Condition failed: ["eq", "$key", "a\"b"]`},
		{"extra field", `["eq","$key","k"]`, formOf("key", "k", "Content-Type", "text/plain"), "Extra input fields: Content-Type"},
		{"extra field is the first uncovered", `["eq","$key","k"]`, formOf("key", "k", "acl", "private", "x-amz-meta-a", "1"), "Extra input fields: acl"},
		{"bucket field needs a condition", `["eq","$key","k"]`, formOf("key", "k", "bucket", "b"), "Extra input fields: bucket"},
		{"exempt fields", `["eq","$key","k"]`, formOf("key", "k", "policy", "p", "x-amz-signature", "s", "file", "f", "x-ignore-filename", "a.txt", "X-Ignore-Other", "1", "AWSAccessKeyId", "ak", "signature", "s"), ""},
		{"two conditions on one field", `["starts-with","$key","a/"],["eq","$key","a/b"]`, formOf("key", "a/b"), ""},
		{"two conditions, second fails", `["starts-with","$key","a/"],["eq","$key","a/c"]`, formOf("key", "a/b"), `Policy Condition failed: ["eq", "$key", "a/c"]`},
		{"content-length-range covers no field", `["eq","$key","k"],["content-length-range",1,10]`, formOf("key", "k"), ""},
	}
	for _, c := range cases {
		p := policyOf(t, c.conds)
		err := p.check(policyNow, "bkt", c.form)
		switch {
		case c.deny == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.deny != "" && !isDenied(err, c.deny):
			t.Errorf("%s: err = %v, want AccessDenied %q", c.name, err, c.deny)
		}
	}
}

func TestPostPolicyBucket(t *testing.T) {
	for _, conds := range []string{`{"bucket":"bkt"}`, `["eq","$bucket","bkt"]`, `["starts-with","$bucket","bk"]`} {
		p := policyOf(t, conds)
		if err := p.check(policyNow, "bkt", formOf("bucket", "bkt")); err != nil {
			t.Errorf("%s: %v", conds, err)
		}
		if err := p.check(policyNow, "other", formOf("bucket", "bkt")); err == nil {
			t.Errorf("%s: another addressed bucket was allowed", conds)
		}
	}
}

func TestPostPolicyExpiration(t *testing.T) {
	for _, exp := range []string{"2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00Z", "2020-01-01T01:00:00+01:00"} {
		p, err := parsePostPolicy([]byte(`{"expiration":"` + exp + `","conditions":[]}`))
		if err != nil {
			t.Fatalf("%s: %v", exp, err)
		}
		at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := p.check(at.Add(-time.Millisecond), "b", formOf()); err != nil {
			t.Errorf("%s: refused just before expiry: %v", exp, err)
		}
		if err := p.check(at, "b", formOf()); !isDenied(err, "Policy expired.") {
			t.Errorf("%s: at expiry: %v", exp, err)
		}
		if err := p.check(at.Add(time.Hour), "b", formOf()); !isDenied(err, "Policy expired.") {
			t.Errorf("%s: after expiry: %v", exp, err)
		}
	}
}

func TestPostPolicyContentLengthRange(t *testing.T) {
	cases := []struct {
		conds   string
		size    int64
		code    string // "" when accepted
		min     int64
		max     int64
		noRange bool
	}{
		{`["content-length-range",10,100]`, 10, "", 10, 100, false},
		{`["content-length-range",10,100]`, 100, "", 10, 100, false},
		{`["content-length-range",10,100]`, 9, "EntityTooSmall", 10, 100, false},
		{`["content-length-range",10,100]`, 101, "EntityTooLarge", 10, 100, false},
		{`["content-length-range","0","5"]`, 5, "", 0, 5, false},
		{`["content-length-range", 0, 5],["content-length-range", 2, 9]`, 1, "EntityTooSmall", 2, 5, false},
		{`["content-length-range", 0, 5],["content-length-range", 2, 9]`, 6, "EntityTooLarge", 2, 5, false},
		{`["CONTENT-LENGTH-RANGE", 0, 0]`, 0, "", 0, 0, false},
		{`["eq","$key","k"]`, 1 << 40, "", 0, 0, true},
	}
	for _, c := range cases {
		p := policyOf(t, c.conds)
		if p.hasRange == c.noRange || (!c.noRange && (p.minLength != c.min || p.maxLength != c.max)) {
			t.Errorf("%s: range %v %d..%d", c.conds, p.hasRange, p.minLength, p.maxLength)
		}
		err := p.checkLength(c.size)
		got := ""
		if err != nil {
			got = toAPIError(err).Code
		}
		if got != c.code {
			t.Errorf("%s size %d: %v, want %q", c.conds, c.size, err, c.code)
		}
	}
}

func TestPostPolicyInvalid(t *testing.T) {
	cases := map[string]string{
		``:                                     "Invalid JSON.",
		`[]`:                                   "Invalid JSON.",
		`null`:                                 "Invalid JSON.",
		`{"expiration":"2030-01-01T00:00:00Z"`: "Invalid JSON.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[]} x`: "Invalid JSON.",
		`{"conditions":[]}`:                                                                   "Policy missing expiration.",
		`{"expiration":"tomorrow","conditions":[]}`:                                           "Invalid 'expiration' value: 'tomorrow'",
		`{"expiration":20300101,"conditions":[]}`:                                             "Invalid 'expiration' value: must be a string.",
		`{"expiration":"2030-01-01T00:00:00Z"}`:                                               "Policy missing conditions.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":{}}`:                               "Invalid 'conditions' value: must be a List.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":null}`:                             "Invalid 'conditions' value: must be a List.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":"1","b":"2"}]}`:              "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[{}]}`:                             "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":1}]}`:                        "Invalid Simple-Condition: value must be a string.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":["key"]}`:                          "Invalid Condition: must be a List or a Simple-Condition.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$key"]]}`:                  "Invalid Condition: wrong number of arguments.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["like","$key","a"]]}`:            "Invalid Condition: unknown operation 'like'.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[[1,"$key","a"]]}`:                 "Invalid Condition: the operation must be a string.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","key","a"]]}`:               "Invalid Condition: the field must start with '$'.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$","a"]]}`:                 "Invalid Condition: the field must start with '$'.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","$key",5]]}`:                "Invalid Condition: the field and the value must be strings.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",1,"x"]]}`: "Invalid content-length-range: the bounds must be non-negative integers.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",-1,5]]}`:  "Invalid content-length-range: the bounds must be non-negative integers.",
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",1.5,5]]}`: "Invalid content-length-range: the bounds must be non-negative integers.",
	}
	for doc, msg := range cases {
		_, err := parsePostPolicy([]byte(doc))
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != "InvalidPolicyDocument" || ae.Status != 400 || ae.Message != "Invalid Policy: "+msg {
			t.Errorf("%s: err = %v, want InvalidPolicyDocument %q", doc, err, msg)
		}
	}
	if _, err := decodePolicy("not base64!"); toAPIError(err).Code != "InvalidPolicyDocument" {
		t.Errorf("bad base64: %v", err)
	}
	// Line breaks inside the base64 text, as some encoders write it, are fine.
	b64 := base64.StdEncoding.EncodeToString([]byte(awsPostExamplePolicy))
	if doc, err := decodePolicy(b64[:40] + "\r\n" + b64[40:]); err != nil || string(doc) != awsPostExamplePolicy {
		t.Errorf("base64 with a line break: %v", err)
	}
}

func TestParsePostCredential(t *testing.T) {
	good := map[string]postCredential{
		"AKID/20151229/us-east-1/s3/aws4_request":        {"AKID", "20151229", "us-east-1"},
		"a/b/c/20151229/eu-west-1/s3/aws4_request":       {"a/b/c", "20151229", "eu-west-1"},
		"basaltadmin/20300101/us-east-1/s3/aws4_request": {"basaltadmin", "20300101", "us-east-1"},
	}
	for s, want := range good {
		if got, ok := parsePostCredential(s); !ok || got != want {
			t.Errorf("%s: %+v %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "AKID", "AKID/20151229/us-east-1/s3", "AKID/2015122/us-east-1/s3/aws4_request",
		"AKID/20151229/us-east-1/ec2/aws4_request", "AKID/20151229/us-east-1/s3/aws4", "/20151229/us-east-1/s3/aws4_request",
		"AKID/20151229//s3/aws4_request", "AKID/20151332/us-east-1/s3/aws4_request"} {
		if got, ok := parsePostCredential(s); ok {
			t.Errorf("%q accepted as %+v", s, got)
		}
	}
}

func TestExpandFilename(t *testing.T) {
	cases := [][3]string{
		{"user/${filename}", "pic.jpg", "user/pic.jpg"},
		{"user/${filename}", "/home/me/pic.jpg", "user/pic.jpg"},
		{"user/${filename}", `C:\Program Files\directory1\file.txt`, "user/file.txt"},
		{"user/${filename}", "", "user/"},
		{"${filename}/${filename}", "a", "a/a"},
		{"plain", "a", "plain"},
		{"${file}", "a", "${file}"},
	}
	for _, c := range cases {
		if got := expandFilename(c[0], c[1]); got != c[2] {
			t.Errorf("expandFilename(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	// Every field is expanded, the signed ones are not.
	f := formOf("key", "k/${filename}", "x-amz-meta-name", "${filename}", "policy", "${filename}", "x-amz-signature", "${filename}")
	f.expand("f.txt")
	if f.get("key") != "k/f.txt" || f.get("x-amz-meta-name") != "f.txt" || f.get("policy") != "${filename}" || f.get("x-amz-signature") != "${filename}" {
		t.Errorf("expand: %v", f.values)
	}
}

func TestPostHeaders(t *testing.T) {
	f := formOf("key", "k", "Content-Type", "text/plain", "x-amz-meta-Color", "blue", "cache-control", "no-cache",
		"policy", "p", "x-amz-signature", "s", "x-ignore-a", "1")
	h := postHeaders(f)
	if h.Get("Content-Type") != "text/plain" || h.Get("X-Amz-Meta-Color") != "blue" || h.Get("Cache-Control") != "no-cache" {
		t.Errorf("headers: %v", h)
	}
	for _, k := range []string{"Policy", "X-Amz-Signature", "X-Ignore-A"} {
		if _, ok := h[k]; ok {
			t.Errorf("%s copied into the headers", k)
		}
	}
	opts, err := readObjectMeta(h)
	if err != nil || opts.ContentType != "text/plain" || opts.UserMeta["color"] != "blue" || opts.Headers["Cache-Control"] != "no-cache" {
		t.Errorf("readObjectMeta: %+v %v", opts, err)
	}
}

func TestPostChecksumFields(t *testing.T) {
	want, alg, err := postChecksum(postHeaders(formOf("x-amz-checksum-algorithm", "crc32c", "x-amz-checksum-crc32c", "yZRlqg==")))
	if err != nil || want == nil || want.Value != "yZRlqg==" || alg != "CRC32C" {
		t.Errorf("matching algorithm: %+v %q %v", want, alg, err)
	}
	if _, alg, err := postChecksum(postHeaders(formOf("x-amz-checksum-algorithm", "SHA256"))); err != nil || alg != "SHA256" {
		t.Errorf("algorithm alone: %q %v", alg, err)
	}
	if _, _, err := postChecksum(postHeaders(formOf("x-amz-checksum-algorithm", "SHA256", "x-amz-checksum-crc32c", "yZRlqg=="))); toAPIError(err).Code != "InvalidRequest" {
		t.Errorf("disagreeing algorithm: %v", err)
	}
	if _, _, err := postChecksum(postHeaders(formOf("x-amz-checksum-algorithm", "ROT13"))); toAPIError(err).Code != "InvalidRequest" {
		t.Errorf("unknown algorithm: %v", err)
	}
	if _, _, err := postChecksum(postHeaders(formOf("x-amz-checksum-crc32c", "nope"))); toAPIError(err).Code != "InvalidRequest" {
		t.Errorf("bad value: %v", err)
	}
}

func TestRedirectURL(t *testing.T) {
	u, ok := redirectURL("https://example.com/done?x=1", "b", "a/b c", "abc")
	if !ok || !strings.HasPrefix(u, "https://example.com/done?") ||
		!strings.Contains(u, "bucket=b") || !strings.Contains(u, "key=a%2Fb+c") || !strings.Contains(u, "etag=%22abc%22") || !strings.Contains(u, "x=1") {
		t.Errorf("redirect = %q %v", u, ok)
	}
	for _, bad := range []string{"", "/relative", "not a url", "http://%zz"} {
		if _, ok := redirectURL(bad, "b", "k", "e"); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzPostPolicy feeds arbitrary documents and forms to the policy core:
// it must never panic, and an accepted document's checks must be
// deterministic.
func FuzzPostPolicy(f *testing.F) {
	f.Add([]byte(awsPostExamplePolicy), "key", "user/user1/x", int64(5))
	f.Add([]byte(`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",1,2],{"a":"b"}]}`), "a", "b", int64(3))
	f.Add([]byte(`{"expiration":"2030-01-01T00:00:00Z","conditions":[["starts-with","$Content-Type","a"]]}`), "Content-Type", "a,b", int64(0))
	f.Fuzz(func(t *testing.T, doc []byte, name, value string, size int64) {
		p, err := parsePostPolicy(doc)
		if err != nil {
			if toAPIError(err).Code != "InvalidPolicyDocument" {
				t.Fatalf("parse error %v", err)
			}
			return
		}
		form := formOf(name, value)
		form.expand(value)
		e1 := p.check(policyNow, "bkt", form)
		e2 := p.check(policyNow, "bkt", form)
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("check not deterministic: %v, %v", e1, e2)
		}
		if e1 != nil && toAPIError(e1).Code != "AccessDenied" {
			t.Fatalf("check error %v", e1)
		}
		if err := p.checkLength(size); err != nil {
			if c := toAPIError(err).Code; c != "EntityTooLarge" && c != "EntityTooSmall" {
				t.Fatalf("checkLength error %v", err)
			}
		}
	})
}
