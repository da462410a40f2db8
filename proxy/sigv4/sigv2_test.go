package sigv4

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

// Signature Version 2.

// The examples of AWS's "Signing and authenticating REST requests"
// (Signature Version 2) with their published signatures, made with the
// example credentials.
func TestV2AWSExamples(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC1123Z, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	auth := func(sig string) string { return "Authorization: AWS " + exampleAK + ":" + sig }
	cases := []struct {
		name    string
		domains []string
		now     time.Time
		lines   []string
	}{
		{"object GET", []string{"us-west-1.s3.amazonaws.com"}, at("Tue, 27 Mar 2007 19:36:42 +0000"), []string{
			"GET /photos/puppy.jpg HTTP/1.1",
			"Host: awsexamplebucket1.us-west-1.s3.amazonaws.com",
			"Date: Tue, 27 Mar 2007 19:36:42 +0000",
			auth("qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
		}},
		{"object PUT", []string{"s3.us-west-1.amazonaws.com"}, at("Tue, 27 Mar 2007 21:15:45 +0000"), []string{
			"PUT /photos/puppy.jpg HTTP/1.1",
			"Content-Type: image/jpeg",
			"Content-Length: 94328",
			"Host: awsexamplebucket1.s3.us-west-1.amazonaws.com",
			"Date: Tue, 27 Mar 2007 21:15:45 +0000",
			auth("iqRzw+ileNPu1fhspnRs8nOjjIA="),
		}},
		{"list", []string{"s3.us-west-1.amazonaws.com"}, at("Tue, 27 Mar 2007 19:42:41 +0000"), []string{
			"GET /?prefix=photos&max-keys=50&marker=puppy HTTP/1.1",
			"User-Agent: Mozilla/5.0",
			"Host: awsexamplebucket1.s3.us-west-1.amazonaws.com",
			"Date: Tue, 27 Mar 2007 19:42:41 +0000",
			auth("m0WP8eCtspQl5Ahe6L1SozdX9YA="),
		}},
		{"fetch acl", []string{"s3.us-west-1.amazonaws.com"}, at("Tue, 27 Mar 2007 19:44:46 +0000"), []string{
			"GET /?acl HTTP/1.1",
			"Host: awsexamplebucket1.s3.us-west-1.amazonaws.com",
			"Date: Tue, 27 Mar 2007 19:44:46 +0000",
			auth("82ZHiFIjc+WbcwFKGUVEQspPn+0="),
		}},
		// The documented example puts the bucket in the Host as a CNAME,
		// which Basalt does not route; sent path-style, the string to sign
		// and so the signature are the same.
		{"upload with metadata", []string{"s3.us-west-1.amazonaws.com"}, at("Tue, 27 Mar 2007 21:06:08 +0000"), []string{
			"PUT /static.awsexamplebucket1.net/db-backup.dat.gz HTTP/1.1",
			"User-Agent: curl/7.15.5",
			"Host: s3.us-west-1.amazonaws.com:8080",
			"Date: Tue, 27 Mar 2007 21:06:08 +0000",
			"x-amz-acl: public-read",
			"content-type: application/x-download",
			"Content-MD5: 4gJE4saaMU4BqNR0kLY+lw==",
			"X-Amz-Meta-ReviewedBy: joe@awsexamplebucket1.net",
			"X-Amz-Meta-ReviewedBy: jane@awsexamplebucket1.net",
			"X-Amz-Meta-FileChecksum: 0x02661779",
			"X-Amz-Meta-ChecksumAlgorithm: crc32",
			"Content-Disposition: attachment; filename=database.dat",
			"Content-Encoding: gzip",
			"Content-Length: 5913339",
			auth("dKZcB+bz2EPXgSdXZp9ozGeOM4I="),
		}},
		{"list all my buckets", []string{"s3.us-west-1.amazonaws.com"}, at("Wed, 28 Mar 2007 01:29:59 +0000"), []string{
			"GET / HTTP/1.1",
			"Host: s3.us-west-1.amazonaws.com",
			"Date: Wed, 28 Mar 2007 01:29:59 +0000",
			auth("qGdzdERIC03wnaRNKh6OqZehG9s="),
		}},
		{"unicode keys", nil, at("Wed, 28 Mar 2007 01:49:49 +0000"), []string{
			"GET /dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re HTTP/1.1",
			"Host: s3.us-west-1.amazonaws.com",
			"Date: Wed, 28 Mar 2007 01:49:49 +0000",
			auth("DNEZGsoieTZ92F3bUfSPQcbGmlM="),
		}},
		// The delete example with x-amz-date, signed as the page's text
		// says (the Date line empty, x-amz-date among the amz headers):
		//	DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg
		// The signature was computed from that string with Python's hmac.
		{"delete with x-amz-date", []string{"s3.us-west-1.amazonaws.com"}, at("Tue, 27 Mar 2007 21:20:26 +0000"), []string{
			"DELETE /awsexamplebucket1/photos/puppy.jpg HTTP/1.1",
			"User-Agent: dotnet",
			"Host: s3.us-west-1.amazonaws.com",
			"Date: Tue, 27 Mar 2007 21:20:27 +0000",
			"x-amz-date: Tue, 27 Mar 2007 21:20:26 +0000",
			auth("Ri1hpB1zpS9pGqR7y8kuNFCl4sE="),
		}},
		// Query string authentication; the published signature is the one
		// of the page's earlier edition, whose bucket was johnsmith.
		{"query string", []string{"s3.amazonaws.com"}, time.Unix(1175139620, 0), []string{
			"GET /photos/puppy.jpg?AWSAccessKeyId=" + exampleAK + "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620 HTTP/1.1",
			"Host: johnsmith.s3.amazonaws.com",
		}},
		{"query string, + not encoded", []string{"s3.amazonaws.com"}, time.Unix(1175139620, 0), []string{
			"GET /photos/puppy.jpg?AWSAccessKeyId=" + exampleAK + "&Signature=NpgCjnDzrM+WFzoENXmpNDUsSn8%3D&Expires=1175139620 HTTP/1.1",
			"Host: johnsmith.s3.amazonaws.com",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVerifier(c.now)
			v.Domains = c.domains
			raw := rawRequest(c.lines, "")
			res, err := v.Verify(serverRequest(t, raw))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKey != exampleAK || res.Anonymous {
				t.Errorf("Result = %+v", res)
			}
			r := serverRequest(t, raw)
			if want := r.ContentLength; res.ContentLength != want {
				t.Errorf("ContentLength = %d, want %d", res.ContentLength, want)
			}

			// The same request with one bit of its signature changed.
			bad := serverRequest(t, raw)
			if h := bad.Header.Get("Authorization"); h != "" {
				bad.Header.Set("Authorization", flipLast(h))
			} else {
				q := bad.URL.Query()
				q.Set("Signature", flipLast(q.Get("Signature")))
				bad.URL.RawQuery = q.Encode()
			}
			_, err = v.Verify(bad)
			wantErr(t, "altered signature", err, ErrSignatureDoesNotMatch)
		})
	}
}

// flipLast changes the last base64 digit before the padding.
func flipLast(s string) string {
	i := len(strings.TrimRight(s, "="))
	b := []byte(s)
	if b[i-1] == 'A' {
		b[i-1] = 'B'
	} else {
		b[i-1] = 'A'
	}
	return string(b)
}

// In the x-amz-date example the Date header is not signed: S3 ignores it.
func TestV2AmzDateIgnoresDate(t *testing.T) {
	base := []string{
		"DELETE /awsexamplebucket1/photos/puppy.jpg HTTP/1.1",
		"Host: s3.us-west-1.amazonaws.com",
		"x-amz-date: Tue, 27 Mar 2007 21:20:26 +0000",
		"Authorization: AWS " + exampleAK + ":Ri1hpB1zpS9pGqR7y8kuNFCl4sE=",
	}
	now := time.Date(2007, 3, 27, 21, 25, 0, 0, time.UTC)
	for name, extra := range map[string][]string{
		"no Date":                  nil,
		"Date of another day":      {"Date: Wed, 28 Mar 2007 21:20:27 +0000"},
		"Date that does not parse": {"Date: yesterday"},
	} {
		raw := rawRequest(append(append([]string{}, base...), extra...), "")
		if _, err := newVerifier(now).Verify(serverRequest(t, raw)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	raw := rawRequest(base, "")
	r := serverRequest(t, raw)
	r.Header.Set("X-Amz-Date", "Tue, 27 Mar 2007 21:20:27 +0000")
	_, err := newVerifier(now).Verify(r)
	wantErr(t, "x-amz-date changed", err, ErrSignatureDoesNotMatch)

	_, err = newVerifier(now.Add(20 * time.Minute)).Verify(serverRequest(t, raw))
	wantErr(t, "x-amz-date 25 minutes old", err, ErrRequestTimeTooSkewed)

	r = serverRequest(t, raw)
	r.Header.Set("X-Amz-Date", "2007-03-27 21:20:26")
	_, err = newVerifier(now).Verify(r)
	wantErr(t, "x-amz-date unparseable", err, ErrMissingDate)
}

// Requests signed by minio-go's own Signature Version 2 signer.

var v2Time = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

const v2Domain = "s3.basalt.test"

func v2Verifier(now time.Time) *Verifier {
	v := testVerifier(now)
	v.Domains = []string{"other.example", v2Domain}
	return v
}

// minioSignV2 builds a request to rawURL, sets hdr and a Date of v2Time
// unless hdr has one, and signs it with signer.SignV2. virtual says that
// the bucket is in the Host, as minio-go tells its signer.
func minioSignV2(t testing.TB, method, rawURL string, hdr http.Header, body []byte, virtual bool, ak, sk string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if req.Header.Get("Date") == "" {
		req.Header.Set("Date", v2Time.Format(http.TimeFormat))
	}
	return signer.SignV2(*req, ak, sk, virtual)
}

func TestV2MinioSigned(t *testing.T) {
	meta := http.Header{
		"Content-Type":      {"text/plain; charset=utf-8"},
		"Content-Md5":       {"XrY7u+Ae7tCTyyK7j1rNww=="},
		"X-Amz-Meta-Colour": {"deep  blue"},
		"X-Amz-Meta-Multi":  {"one", "two"},
		"X-Amz-Acl":         {"private"},
	}
	amzDate := http.Header{"X-Amz-Date": {v2Time.Add(-time.Minute).Format(http.TimeFormat)}}
	cases := []struct {
		name, method, url string
		hdr               http.Header
		virtual           bool
	}{
		{"path-style PUT object", "PUT", "http://127.0.0.1:9000/bucket/dir/some%20key%2Bplus%21%28x%29.txt", meta, false},
		{"path-style initiate upload", "POST", "http://127.0.0.1:9000/bucket/big.bin?uploads", meta, false},
		{"path-style upload part", "PUT", "http://127.0.0.1:9000/bucket/big.bin?partNumber=2&uploadId=a%2Fb%3D%3D", nil, false},
		{"path-style list buckets", "GET", "http://127.0.0.1:9000/", nil, false},
		{"path-style GET with x-amz-date", "GET", "http://127.0.0.1:9000/bucket/k", amzDate, false},
		{"virtual-host GET acl", "GET", "http://bucket." + v2Domain + ":9000/?acl", nil, true},
		{"virtual-host multi-object delete", "POST", "http://bucket." + v2Domain + ":9000/?delete", http.Header{"Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="}}, true},
		{"virtual-host list with parameters", "GET", "http://bucket." + v2Domain + "/?prefix=a%2Fb&max-keys=5&list-type=2", nil, true},
		{"virtual-host GET with response overrides", "GET", "http://bucket." + v2Domain + ":9000/a%20b.txt?response-content-type=text%2Fplain%3B%20charset%3Dutf-8&response-content-disposition=attachment%3B%20filename%3D%22x%20y.txt%22&versionId=3", nil, true},
		{"virtual-host PUT object", "PUT", "http://bucket." + v2Domain + ":9000/dir/a%20key.bin", meta, true},
		{"virtual-host complete upload", "POST", "http://bucket." + v2Domain + ":9000/big.bin?uploadId=xyz", amzDate, true},
		{"virtual-host object lock (signed by minio-go only)", "GET", "http://bucket." + v2Domain + ":9000/?object-lock", nil, true},
		{"virtual-host retention (signed by minio-go only)", "PUT", "http://bucket." + v2Domain + ":9000/k?retention&versionId=1", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte("payload of " + c.name)
			r := wire(t, minioSignV2(t, c.method, c.url, c.hdr, body, c.virtual, testAK, testSK))
			if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS "+testAK+":") {
				t.Fatalf("Authorization = %q", r.Header.Get("Authorization"))
			}
			res, err := v2Verifier(v2Time.Add(2 * time.Minute)).Verify(r)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKey != testAK || res.Anonymous || res.ContentLength != int64(len(body)) {
				t.Errorf("Result = %+v", res)
			}
			got, err := readAll(t, res)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("body = %q, %v", got, err)
			}
		})
	}
}

// Each part of a minio-go signed request, changed after signing, and what
// Verify must say about it.
func TestV2MinioSignedTampered(t *testing.T) {
	const target = "http://bucket." + v2Domain + ":9000/dir/some%20key%2Bplus.txt?partNumber=2&uploadId=a%2Fb%3D%3D"
	body := []byte("the payload of a part")
	now := v2Time.Add(3 * time.Minute)
	type opts struct {
		ak, sk  string
		at      time.Time
		virtual bool
	}
	setHost := func(h string) func(r *http.Request) { return func(r *http.Request) { r.Host = h } }
	setHeader := func(k, v string) func(r *http.Request) { return func(r *http.Request) { r.Header.Set(k, v) } }
	delHeader := func(k string) func(r *http.Request) { return func(r *http.Request) { r.Header.Del(k) } }

	cases := []struct {
		name     string
		opts     func(*opts)
		modify   func(r *http.Request)
		verifier func(v *Verifier)
		want     *Error // nil: accepted
	}{
		{name: "untouched"},
		{name: "method", modify: func(r *http.Request) { r.Method = http.MethodPost }, want: ErrSignatureDoesNotMatch},
		{name: "Content-MD5 changed", modify: setHeader("Content-Md5", "1B2M2Y8AsgTpgAmY7PhCfg=="), want: ErrSignatureDoesNotMatch},
		{name: "Content-MD5 removed", modify: delHeader("Content-Md5"), want: ErrSignatureDoesNotMatch},
		{name: "Content-Type changed", modify: setHeader("Content-Type", "text/html"), want: ErrSignatureDoesNotMatch},
		{name: "Content-Type removed", modify: delHeader("Content-Type"), want: ErrSignatureDoesNotMatch},
		{name: "Date a second later", modify: setHeader("Date", v2Time.Add(time.Second).Format(http.TimeFormat)), want: ErrSignatureDoesNotMatch},
		{name: "Date removed", modify: delHeader("Date"), want: ErrMissingDate},
		{name: "Date unparseable", modify: setHeader("Date", "2025-03-14T15:09:26Z"), want: ErrMissingDate},
		{name: "x-amz-date added", modify: setHeader("X-Amz-Date", v2Time.Format(http.TimeFormat)), want: ErrSignatureDoesNotMatch},
		{name: "metadata value", modify: setHeader("X-Amz-Meta-Colour", "red"), want: ErrSignatureDoesNotMatch},
		{name: "metadata value with outer spaces", modify: setHeader("X-Amz-Meta-Colour", "  deep  blue \t")},
		{name: "metadata value with other inner spacing", modify: setHeader("X-Amz-Meta-Colour", "deep blue"), want: ErrSignatureDoesNotMatch},
		{name: "metadata name in other case", modify: func(r *http.Request) {
			v := r.Header["X-Amz-Meta-Colour"]
			delete(r.Header, "X-Amz-Meta-Colour")
			r.Header["x-amz-meta-COLOUR"] = v
		}},
		{name: "repeated values reordered", modify: func(r *http.Request) { r.Header["X-Amz-Meta-Multi"] = []string{"two", "one"} }, want: ErrSignatureDoesNotMatch},
		{name: "repeated values as one", modify: func(r *http.Request) { r.Header["X-Amz-Meta-Multi"] = []string{"one,two"} }},
		{name: "x-amz header added", modify: setHeader("X-Amz-Meta-Extra", "1"), want: ErrSignatureDoesNotMatch},
		{name: "x-amz header removed", modify: delHeader("X-Amz-Acl"), want: ErrSignatureDoesNotMatch},
		{name: "other header added", modify: setHeader("X-Forwarded-For", "10.0.0.1")},
		{name: "Content-Disposition added", modify: setHeader("Content-Disposition", "attachment")},
		{name: "path", modify: func(r *http.Request) { setPath(t, r, "/dir/some%20key%2Bplus.txu") }, want: ErrSignatureDoesNotMatch},
		{name: "path decoded form", modify: func(r *http.Request) { setPath(t, r, "/dir/some%20key+plus.txt") }, want: ErrSignatureDoesNotMatch},
		{name: "bucket in Host", modify: setHost("bucket2." + v2Domain + ":9000"), want: ErrSignatureDoesNotMatch},
		{name: "Host in other case", modify: setHost("bucket.S3.Basalt.Test:9000")},
		{name: "Host port", modify: setHost("bucket." + v2Domain + ":9001")},
		{name: "Host without bucket", modify: setHost(v2Domain + ":9000"), want: ErrSignatureDoesNotMatch},
		{name: "verifier without the domain", verifier: func(v *Verifier) { v.Domains = nil }, want: ErrSignatureDoesNotMatch},
		{name: "same request path-style", opts: func(o *opts) { o.virtual = false }},
		{name: "sub-resource value", modify: func(r *http.Request) { setQuery(r, "partNumber=3&uploadId=a%2Fb%3D%3D") }, want: ErrSignatureDoesNotMatch},
		{name: "sub-resource value encoded otherwise", modify: func(r *http.Request) { setQuery(r, "partNumber=%32&uploadId=a/b%3d%3d") }},
		{name: "sub-resource added", modify: func(r *http.Request) { setQuery(r, r.URL.RawQuery+"&acl") }, want: ErrSignatureDoesNotMatch},
		{name: "sub-resource removed", modify: func(r *http.Request) { setQuery(r, "partNumber=2") }, want: ErrSignatureDoesNotMatch},
		{name: "sub-resources reordered", modify: func(r *http.Request) { setQuery(r, "uploadId=a%2Fb%3D%3D&partNumber=2") }},
		{name: "other query parameter added", modify: func(r *http.Request) { setQuery(r, r.URL.RawQuery+"&x-id=UploadPart") }},
		{name: "signature altered", modify: func(r *http.Request) { r.Header.Set("Authorization", flipLast(r.Header.Get("Authorization"))) }, want: ErrSignatureDoesNotMatch},
		{name: "signature truncated", modify: func(r *http.Request) {
			h := r.Header.Get("Authorization")
			r.Header.Set("Authorization", h[:len(h)-2])
		}, want: ErrSignatureDoesNotMatch},
		{name: "wrong secret", opts: func(o *opts) { o.sk = testSK + "x" }, want: ErrSignatureDoesNotMatch},
		{name: "unknown access key", opts: func(o *opts) { o.ak = "AKIDNOBODY" }, want: ErrInvalidAccessKeyID},
		{name: "signed 20 minutes ago", opts: func(o *opts) { o.at = now.Add(-20 * time.Minute) }, want: ErrRequestTimeTooSkewed},
		{name: "signed 20 minutes ahead", opts: func(o *opts) { o.at = now.Add(20 * time.Minute) }, want: ErrRequestTimeTooSkewed},
		{name: "signed 14 minutes ago", opts: func(o *opts) { o.at = now.Add(-14 * time.Minute) }},
		{name: "query authentication too", modify: func(r *http.Request) { setQuery(r, r.URL.RawQuery+"&Signature=abc") }, want: ErrMultipleAuth},
		{name: "authorization removed", modify: delHeader("Authorization")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := opts{ak: testAK, sk: testSK, at: v2Time, virtual: true}
			if c.opts != nil {
				c.opts(&o)
			}
			hdr := http.Header{
				"Date":              {o.at.Format(http.TimeFormat)},
				"Content-Type":      {"application/octet-stream"},
				"Content-Md5":       {"XrY7u+Ae7tCTyyK7j1rNww=="},
				"X-Amz-Meta-Colour": {"deep  blue"},
				"X-Amz-Meta-Multi":  {"one", "two"},
				"X-Amz-Acl":         {"private"},
			}
			u := target
			if !o.virtual {
				u = "http://" + v2Domain + ":9000/bucket/dir/some%20key%2Bplus.txt?partNumber=2&uploadId=a%2Fb%3D%3D"
			}
			r := wire(t, minioSignV2(t, http.MethodPut, u, hdr, body, o.virtual, o.ak, o.sk))
			if c.modify != nil {
				c.modify(r)
			}
			v := v2Verifier(now)
			if c.verifier != nil {
				c.verifier(v)
			}
			res, err := v.Verify(r)
			if c.want != nil {
				wantErr(t, c.name, err, c.want)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.name == "authorization removed" {
				if !res.Anonymous || res.AccessKey != "" {
					t.Errorf("want anonymous, got %+v", res)
				}
			} else if res.AccessKey != testAK {
				t.Errorf("AccessKey = %q", res.AccessKey)
			}
			got, err := readAll(t, res)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("body = %q, %v", got, err)
			}
		})
	}
}

// minio-go signs the Date header even when the request has x-amz-date; S3
// (and boto, s3cmd) sign an empty Date line then. Both verify, and the time
// that counts is x-amz-date's.
func TestV2MinioAmzDate(t *testing.T) {
	now := v2Time.Add(time.Minute)
	sign := func(amz time.Time) *http.Request {
		return wire(t, minioSignV2(t, http.MethodGet, "http://127.0.0.1:9000/bucket/k", http.Header{
			"X-Amz-Date": {amz.Format(http.TimeFormat)},
		}, nil, false, testAK, testSK))
	}
	if _, err := v2Verifier(now).Verify(sign(v2Time)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	r := sign(v2Time)
	r.Header.Del("Date")
	_, err := v2Verifier(now).Verify(r)
	wantErr(t, "signed Date removed", err, ErrSignatureDoesNotMatch)

	r = sign(v2Time)
	r.Header.Set("X-Amz-Date", v2Time.Add(time.Second).Format(http.TimeFormat))
	_, err = v2Verifier(now).Verify(r)
	wantErr(t, "x-amz-date changed", err, ErrSignatureDoesNotMatch)

	// Date is current, x-amz-date is not.
	_, err = v2Verifier(now).Verify(sign(v2Time.Add(-20 * time.Minute)))
	wantErr(t, "old x-amz-date", err, ErrRequestTimeTooSkewed)
}

// minioPresignV2 presigns with signer.PreSignV2 and returns the request as
// the server sees it and the Expires it carries.
func minioPresignV2(t testing.TB, method, rawURL string, hdr http.Header, body []byte, virtual bool, ak, sk string, expires int64) (*http.Request, time.Time) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	signed := signer.PreSignV2(*req, ak, sk, expires, virtual)
	// PreSignV2 leaves the Expires it signed in a header; a browser
	// following the URL does not send it.
	signed.Header.Del("Expires")
	exp, err := strconv.ParseInt(signed.URL.Query().Get("Expires"), 10, 64)
	if err != nil {
		t.Fatalf("Expires in %s: %v", signed.URL, err)
	}
	return wire(t, signed), time.Unix(exp, 0)
}

func TestV2MinioPresigned(t *testing.T) {
	cases := []struct {
		name, method, url string
		hdr               http.Header
		virtual           bool
	}{
		{"path-style GET with response override", "GET", "http://127.0.0.1:9000/bucket/photos/a%20b.jpg?response-content-type=image%2Fjpeg", nil, false},
		{"virtual-host GET version", "GET", "http://bucket." + v2Domain + ":9000/photos/a%20b.jpg?versionId=v%2B1", nil, true},
		{"path-style PUT with content type and metadata", "PUT", "http://127.0.0.1:9000/bucket/up.bin", http.Header{
			"Content-Type": {"application/x-tar"}, "X-Amz-Meta-Owner": {"ops"},
		}, false},
		{"virtual-host upload part", "PUT", "http://bucket." + v2Domain + "/big.bin?partNumber=7&uploadId=u1", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte("presigned " + c.name)
			if c.method == http.MethodGet {
				body = nil
			}
			r, expires := minioPresignV2(t, c.method, c.url, c.hdr, body, c.virtual, testAK, testSK, 3600)
			if r.Header.Get("Authorization") != "" || !r.URL.Query().Has("AWSAccessKeyId") {
				t.Fatalf("not query-authenticated: %s", r.URL)
			}
			res, err := v2Verifier(expires.Add(-time.Minute)).Verify(r)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := readAll(t, res)
			if err != nil || !bytes.Equal(got, body) || res.AccessKey != testAK {
				t.Errorf("body = %q, %v; Result %+v", got, err, res)
			}

			// Used exactly at Expires it still works; a second later it
			// has expired.
			if _, err := v2Verifier(expires).Verify(r); err != nil {
				t.Errorf("at Expires: %v", err)
			}
			_, err = v2Verifier(expires.Add(time.Second)).Verify(r)
			wantErr(t, "after Expires", err, ErrExpiredPresign)
		})
	}
}

func TestV2PresignedTampered(t *testing.T) {
	r0, expires := minioPresignV2(t, http.MethodGet, "http://bucket."+v2Domain+":9000/k?response-content-type=image%2Fpng",
		http.Header{"X-Amz-Meta-A": {"1"}}, nil, true, testAK, testSK, 600)
	now := expires.Add(-5 * time.Minute)
	query := func(f func(q url.Values)) func(r *http.Request) {
		return func(r *http.Request) {
			q := r.URL.Query()
			f(q)
			r.URL.RawQuery = q.Encode()
		}
	}
	cases := []struct {
		name   string
		modify func(r *http.Request)
		want   *Error
	}{
		{"untouched", nil, nil},
		{"Expires extended", query(func(q url.Values) { q.Set("Expires", strconv.FormatInt(expires.Unix()+3600, 10)) }), ErrSignatureDoesNotMatch},
		{"Expires with a leading zero", query(func(q url.Values) { q.Set("Expires", "0"+q.Get("Expires")) }), ErrSignatureDoesNotMatch},
		{"Expires not a number", query(func(q url.Values) { q.Set("Expires", "tomorrow") }), ErrV2QueryParams},
		{"Expires missing", query(func(q url.Values) { q.Del("Expires") }), ErrV2QueryParams},
		{"Signature missing", query(func(q url.Values) { q.Del("Signature") }), ErrV2QueryParams},
		{"AWSAccessKeyId missing", query(func(q url.Values) { q.Del("AWSAccessKeyId") }), ErrV2QueryParams},
		{"AWSAccessKeyId repeated", query(func(q url.Values) { q.Add("AWSAccessKeyId", testAK) }), ErrV2QueryParams},
		{"unknown access key", query(func(q url.Values) { q.Set("AWSAccessKeyId", "AKIDNOBODY") }), ErrInvalidAccessKeyID},
		{"signature altered", query(func(q url.Values) { q.Set("Signature", flipLast(q.Get("Signature"))) }), ErrSignatureDoesNotMatch},
		{"sub-resource value", query(func(q url.Values) { q.Set("response-content-type", "text/html") }), ErrSignatureDoesNotMatch},
		{"sub-resource added", query(func(q url.Values) { q.Set("acl", "") }), ErrSignatureDoesNotMatch},
		{"other parameter added", query(func(q url.Values) { q.Set("x-id", "GetObject") }), nil},
		{"signed header removed", func(r *http.Request) { r.Header.Del("X-Amz-Meta-A") }, ErrSignatureDoesNotMatch},
		{"Date header added", func(r *http.Request) { r.Header.Set("Date", "Mon, 01 Jan 2024 00:00:00 GMT") }, nil},
		{"method", func(r *http.Request) { r.Method = http.MethodDelete }, ErrSignatureDoesNotMatch},
		{"path", func(r *http.Request) { setPath(t, r, "/k2") }, ErrSignatureDoesNotMatch},
		{"bucket in Host", func(r *http.Request) { r.Host = "other." + v2Domain }, ErrSignatureDoesNotMatch},
		{"Authorization header too", func(r *http.Request) { r.Header.Set("Authorization", "AWS "+testAK+":abc") }, ErrMultipleAuth},
		{"SigV4 query too", query(func(q url.Values) { q.Set("X-Amz-Signature", "00") }), ErrMultipleAuth},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := r0.Clone(r0.Context())
			r.Body = http.NoBody
			if c.modify != nil {
				c.modify(r)
			}
			_, err := v2Verifier(now).Verify(r)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			wantErr(t, c.name, err, c.want)
		})
	}
}

func TestV2MalformedAuthorization(t *testing.T) {
	for _, value := range []string{
		"AWS",
		"AWS ",
		"AWS " + testAK,
		"AWS " + testAK + ":",
		"AWS :c2lnbmF0dXJl",
		"AWS " + testAK + " :c2lnbmF0dXJl",
	} {
		r := wire(t, minioSignV2(t, http.MethodGet, "http://127.0.0.1:9000/bucket/k", nil, nil, false, testAK, testSK))
		r.Header.Set("Authorization", value)
		_, err := v2Verifier(v2Time).Verify(r)
		wantErr(t, value, err, ErrInvalidV2Authorization)
	}
}

func TestV2HostBucket(t *testing.T) {
	v := &Verifier{Domains: []string{"", "s3.example.com.", "LocalHost"}}
	for host, want := range map[string]string{
		"b.s3.example.com":         "b",
		"b.s3.example.com:9000":    "b",
		"b.s3.example.com.":        "b",
		"my.dotted.s3.example.com": "my.dotted",
		"Bucket.S3.Example.COM":    "Bucket",
		"b.localhost:80":           "b",
		"s3.example.com":           "",
		".s3.example.com":          "",
		"bs3.example.com":          "",
		"localhost:9000":           "",
		"127.0.0.1:9000":           "",
		"[::1]:9000":               "",
		"":                         "",
	} {
		if got := v.hostBucket(host); got != want {
			t.Errorf("hostBucket(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestV2CanonicalAmzHeaders(t *testing.T) {
	h := http.Header{
		"X-Amz-Meta-B": {" two ", "three"},
		"X-Amz-Meta-A": {"folded\r\n   value", "tab\tinside"},
		"x-amz-meta-b": {"four"}, // not canonical, merged after X-Amz-Meta-B
		"X-Amz-Date":   {"Fri, 14 Mar 2025 15:09:26 GMT"},
		"X-Amzn-Trace": {"not signed"},
		"Content-Type": {"not signed either"},
		"X-Amz-":       {"no name"},
	}
	want := "x-amz-date:Fri, 14 Mar 2025 15:09:26 GMT\n" +
		"x-amz-meta-a:folded value,tab\tinside\n" +
		"x-amz-meta-b:two,three,four\n"
	if got := canonicalAmzHeaders(h); got != want {
		t.Errorf("canonicalAmzHeaders =\n%q\nwant\n%q", got, want)
	}
	if got := canonicalAmzHeaders(http.Header{"Host": {"x"}}); got != "" {
		t.Errorf("no amz headers: %q", got)
	}
}

func TestV2CanonicalResource(t *testing.T) {
	v := &Verifier{Domains: []string{v2Domain}}
	cases := []struct {
		host, uri string
		want      []string
	}{
		{"127.0.0.1", "/", []string{"/"}},
		{"b." + v2Domain, "/", []string{"/b/"}},
		{"b." + v2Domain, "/k?acl", []string{"/b/k?acl"}},
		{"b." + v2Domain, "/k?acl=", []string{"/b/k?acl"}},
		{"127.0.0.1", "/b/k%2Bx?versionId=a%2Bb&acl&max-keys=3&acl=2", []string{"/b/k%2Bx?acl&versionId=a+b"}},
		{"127.0.0.1", "/b/k?uploads&uploadId=1&versions&versioning", []string{"/b/k?uploadId=1&uploads&versioning&versions"}},
		{"127.0.0.1", "/b/k?response-content-type=a%2Fb&response-expires=x+y", []string{"/b/k?response-content-type=a/b&response-expires=x y"}},
		// Only the lists of some clients name these: both ways verify.
		{"127.0.0.1", "/b?object-lock", []string{"/b", "/b?object-lock"}},
		{"127.0.0.1", "/b/k?retention&versionId=1", []string{"/b/k?retention&versionId=1", "/b/k?versionId=1"}},
		{"127.0.0.1", "/b/k?restore&encryption", []string{"/b/k?encryption", "/b/k?restore"}},
	}
	for _, c := range cases {
		r := serverRequest(t, []byte("GET "+c.uri+" HTTP/1.1\r\nHost: "+c.host+"\r\n\r\n"))
		got := v.canonicalResources(r)
		if strings.Join(got, " | ") != strings.Join(c.want, " | ") {
			t.Errorf("%s%s: %q, want %q", c.host, c.uri, got, c.want)
		}
	}
}

func TestV2ParseTime(t *testing.T) {
	want := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	for _, s := range []string{
		"Fri, 14 Mar 2025 15:09:26 GMT",
		"Fri, 14 Mar 2025 15:09:26 +0000",
		"Fri, 14 Mar 2025 17:09:26 +0200",
		"Friday, 14-Mar-25 15:09:26 GMT",
		"Fri Mar 14 15:09:26 2025",
		"20250314T150926Z",
	} {
		if got, ok := parseV2Time(s); !ok || !got.Equal(want) {
			t.Errorf("parseV2Time(%q) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "yesterday", "2025-03-14T15:09:26Z", "1741964966"} {
		if _, ok := parseV2Time(s); ok {
			t.Errorf("parseV2Time(%q) accepted", s)
		}
	}
}

// Verify never panics on a Signature Version 2 request, whatever its
// Authorization, dates, Host, path, query and x-amz-* headers.
func FuzzVerifyV2(f *testing.F) {
	f.Add("AWS "+testAK+":c2lnbmF0dXJl", v2Time.Format(http.TimeFormat), "", "bucket."+v2Domain+":9000", "/k%20x", "acl&partNumber=1", " a\r\n b ")
	f.Add("AWS :", "", "Fri, 14 Mar 2025 15:09:26 +0000", "[::1]:80", "", "AWSAccessKeyId=x&Signature=y&Expires=-1", "")
	f.Add("", "", "", ".", "//", "AWSAccessKeyId="+testAK+"&Signature=a+b&Expires=99999999999&versionId=%zz", "\n")
	f.Fuzz(func(t *testing.T, authz, date, amzDate, host, path, query, meta string) {
		r := &http.Request{
			Method: http.MethodPut,
			Host:   host,
			URL:    &url.URL{Path: path, RawQuery: query},
			Header: http.Header{},
			Body:   http.NoBody,
		}
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		r.Header.Set("Date", date)
		r.Header.Set("X-Amz-Date", amzDate)
		r.Header.Set("X-Amz-Meta-M", meta)
		res, err := v2Verifier(v2Time).Verify(r)
		if err == nil {
			res.Body.Close()
		}
	})
}
