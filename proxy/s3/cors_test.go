package s3_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7/pkg/cors"
)

const corsNotAllowed = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."

// corsRules are the rules of minio-go's functional CORS test, which
// follow what S3 answers.
var corsRules = []cors.Rule{
	{AllowedOrigin: []string{"https"}, AllowedMethod: []string{"PUT"}, AllowedHeader: []string{"*"}},
	{
		AllowedOrigin: []string{"http://www.example1.com"}, AllowedMethod: []string{"PUT"}, AllowedHeader: []string{"*"},
		ExposeHeader: []string{"x-amz-server-side-encryption", "x-amz-request-id"}, MaxAgeSeconds: 3600,
	},
	{
		AllowedOrigin: []string{"http://www.example2.com"}, AllowedMethod: []string{"POST"},
		AllowedHeader: []string{"X-My-Special-Header"}, ExposeHeader: []string{"X-AMZ-Request-ID"},
	},
	{
		AllowedOrigin: []string{"*"}, AllowedMethod: []string{"GET"}, AllowedHeader: []string{"*"},
		ExposeHeader: []string{"x-amz-request-id", "X-AMZ-server-side-encryption"}, MaxAgeSeconds: 3600,
	},
	{AllowedOrigin: []string{"http://multiplemethodstest.com"}, AllowedMethod: []string{"POST", "PUT", "DELETE"}, AllowedHeader: []string{"x-abc-*", "x-def-*"}},
	{AllowedOrigin: []string{"http://UPPERCASEEXAMPLE.com"}, AllowedMethod: []string{"DELETE"}},
	{AllowedOrigin: []string{"https://*"}, AllowedMethod: []string{"DELETE"}, AllowedHeader: []string{"x-abc-*", "x-def-*"}},
}

// unsigned sends a request without any signature, as a browser does.
func unsigned(t *testing.T, method, url string, h map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return doRaw(t, req)
}

func TestCORSConfigRoundTrip(t *testing.T) {
	e := newConfigEnv(t)
	ctx := context.Background()
	e.mkBucket("cors")

	// minio-go reports NoSuchCORSConfiguration as no configuration.
	if c, err := e.minio.GetBucketCors(ctx, "cors"); err != nil || c != nil {
		t.Fatalf("GetBucketCors before any: %v, %v", c, err)
	}
	if r := e.raw(http.MethodGet, "/cors?cors", nil, nil); r.status != 404 || r.code != "NoSuchCORSConfiguration" {
		t.Fatalf("GetBucketCors before any: %d %s", r.status, r.code)
	}
	if err := e.minio.SetBucketCors(ctx, "cors", cors.NewConfig(corsRules)); err != nil {
		t.Fatalf("SetBucketCors: %v", err)
	}
	got, err := e.minio.GetBucketCors(ctx, "cors")
	if err != nil {
		t.Fatalf("GetBucketCors: %v", err)
	}
	if len(got.CORSRules) != len(corsRules) {
		t.Fatalf("%d rules back, want %d", len(got.CORSRules), len(corsRules))
	}
	for i, r := range got.CORSRules {
		w := corsRules[i]
		if strings.Join(r.AllowedOrigin, ",") != strings.Join(w.AllowedOrigin, ",") ||
			strings.Join(r.AllowedMethod, ",") != strings.Join(w.AllowedMethod, ",") ||
			strings.Join(r.AllowedHeader, ",") != strings.Join(w.AllowedHeader, ",") ||
			strings.Join(r.ExposeHeader, ",") != strings.Join(w.ExposeHeader, ",") || r.MaxAgeSeconds != w.MaxAgeSeconds {
			t.Errorf("rule %d = %+v, want %+v", i, r, w)
		}
	}
	out, err := e.aws.GetBucketCors(ctx, &awss3.GetBucketCorsInput{Bucket: aws.String("cors")})
	if err != nil || len(out.CORSRules) != len(corsRules) || *out.CORSRules[1].MaxAgeSeconds != 3600 {
		t.Fatalf("aws GetBucketCors: %v %+v", err, out)
	}

	// What is given comes back as given: ID, empty origin, whitespace,
	// MaxAgeSeconds of 0, the case of every value.
	doc := `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule><ID>Rule &lt;1&gt;</ID>` +
		`<AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>HTTPS://Example.COM</AllowedOrigin><AllowedOrigin></AllowedOrigin>` +
		`<AllowedHeader> Content-Type </AllowedHeader><MaxAgeSeconds>0</MaxAgeSeconds><ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>`
	if r := e.raw(http.MethodPut, "/cors?cors", []byte(doc), xmlHeaders(doc)); r.status != http.StatusOK {
		t.Fatalf("PutBucketCors: %d %s %s", r.status, r.code, r.body)
	}
	r := e.raw(http.MethodGet, "/cors?cors", nil, nil)
	if want := xml.Header + doc; string(r.body) != want {
		t.Fatalf("GetBucketCors:\n%s\nwant\n%s", r.body, want)
	}

	if err := e.minio.SetBucketCors(ctx, "cors", nil); err != nil {
		t.Fatalf("SetBucketCors(nil) (delete): %v", err)
	}
	if _, err := e.aws.GetBucketCors(ctx, &awss3.GetBucketCorsInput{Bucket: aws.String("cors")}); err == nil {
		t.Fatal("GetBucketCors after delete succeeded")
	}
	if r := e.raw(http.MethodGet, "/cors?cors", nil, nil); r.status != 404 || r.code != "NoSuchCORSConfiguration" {
		t.Fatalf("GetBucketCors after delete: %d %s", r.status, r.code)
	}
	if r := e.raw(http.MethodDelete, "/cors?cors", nil, nil); r.status != http.StatusNoContent {
		t.Fatalf("DeleteBucketCors without one: %d", r.status)
	}
}

func TestCORSConfigRefusals(t *testing.T) {
	e := newConfigEnv(t)
	e.mkBucket("corsbad")
	const minimal = `<AllowedOrigin>https://example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>`
	conf := func(rules ...string) string {
		s := `<CORSConfiguration>`
		for _, r := range rules {
			s += "<CORSRule>" + r + "</CORSRule>"
		}
		return s + `</CORSConfiguration>`
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = minimal
	}
	malformed := map[string]string{
		"no rule":              conf(),
		"101 rules":            conf(many...),
		"rule without origin":  conf(`<AllowedMethod>GET</AllowedMethod>`),
		"rule without method":  conf(`<AllowedOrigin>*</AllowedOrigin>`),
		"unknown element":      conf(minimal + `<AllowedHeaders>*</AllowedHeaders>`),
		"negative max age":     conf(minimal + `<MaxAgeSeconds>-1</MaxAgeSeconds>`),
		"max age over 32 bits": conf(minimal + `<MaxAgeSeconds>2147483648</MaxAgeSeconds>`),
		"max age twice":        conf(minimal + `<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>`),
		"ID of 256":            conf(minimal + `<ID>` + strings.Repeat("a", 256) + `</ID>`),
		"not XML":              "cors please",
		"other root":           `<CORSRules><CORSRule>` + minimal + `</CORSRule></CORSRules>`,
	}
	for name, body := range malformed {
		if r := e.raw(http.MethodPut, "/corsbad?cors", []byte(body), xmlHeaders(body)); r.status != 400 || r.code != "MalformedXML" {
			t.Errorf("%s: %d %s %s", name, r.status, r.code, r.body)
		}
	}
	invalid := []struct{ name, body, msg string }{
		{"method PATCH", conf(`<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PATCH</AllowedMethod>`),
			"Found unsupported HTTP method in CORS config. Unsupported method is PATCH"},
		{"method get", conf(`<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>`),
			"Found unsupported HTTP method in CORS config. Unsupported method is get"},
		{"two wildcards in origin", conf(`<AllowedOrigin>https://*.example.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>`),
			`AllowedOrigin "https://*.example.*" can not have more than one wildcard.`},
		{"two wildcards in header", conf(minimal + `<AllowedHeader>x-*-meta-*</AllowedHeader>`),
			`AllowedHeader "x-*-meta-*" can not have more than one wildcard.`},
		{"wildcard expose header", conf(minimal, minimal+`<ExposeHeader>x-amz-*</ExposeHeader>`),
			`ExposeHeader "x-amz-*" contains wildcard. We currently do not support wildcard for ExposeHeader.`},
	}
	for _, c := range invalid {
		r := e.raw(http.MethodPut, "/corsbad?cors", []byte(c.body), xmlHeaders(c.body))
		if r.status != 400 || r.code != "InvalidRequest" || !strings.Contains(string(r.body), c.msg) {
			t.Errorf("%s: %d %s %s", c.name, r.status, r.code, r.body)
		}
	}
	if r := e.raw(http.MethodGet, "/corsbad?cors", nil, nil); r.code != "NoSuchCORSConfiguration" {
		t.Fatalf("a refused configuration was stored: %d %s", r.status, r.code)
	}
	ok := conf(minimal)
	if r := e.raw(http.MethodPut, "/corsbad?cors", []byte(ok), nil); r.status != 400 || r.code != "InvalidRequest" {
		t.Errorf("no Content-MD5: %d %s", r.status, r.code)
	}
	hundred := conf(many[:100]...)
	if r := e.raw(http.MethodPut, "/corsbad?cors", []byte(hundred), xmlHeaders(hundred)); r.status != http.StatusOK {
		t.Errorf("100 rules: %d %s %s", r.status, r.code, r.body)
	}
	if r := e.raw(http.MethodPut, "/nosuchbucket?cors", []byte(ok), xmlHeaders(ok)); r.status != 404 || r.code != "NoSuchBucket" {
		t.Errorf("PutBucketCors on a missing bucket: %d %s", r.status, r.code)
	}
}

// TestCORSPreflight follows minio-go's functional CORS test and S3's
// recorded answers.
func TestCORSPreflight(t *testing.T) {
	e := newConfigEnv(t)
	ctx := context.Background()
	e.mkBucket("pre")
	e.put("pre", "obj", "contents")
	objURL, bucketURL := e.srv.URL+"/pre/obj", e.srv.URL+"/pre/"

	// Before any configuration.
	r := unsigned(t, http.MethodOptions, objURL, map[string]string{"Origin": "http://a.com", "Access-Control-Request-Method": "GET"})
	if r.status != 403 || r.code != "AccessForbidden" || !strings.Contains(string(r.body), "CORSResponse: CORS is not enabled for this bucket.") ||
		!strings.Contains(string(r.body), "<Method>GET</Method><ResourceType>BUCKET</ResourceType>") {
		t.Fatalf("preflight without configuration: %d %s %s", r.status, r.code, r.body)
	}
	r = unsigned(t, http.MethodOptions, e.srv.URL+"/nobucket/obj", map[string]string{"Origin": "http://a.com", "Access-Control-Request-Method": "GET"})
	if r.status != 403 || r.code != "AccessForbidden" || !strings.Contains(string(r.body), "CORSResponse: Bucket not found") {
		t.Fatalf("preflight to a missing bucket: %d %s %s", r.status, r.code, r.body)
	}
	if err := e.minio.SetBucketCors(ctx, "pre", cors.NewConfig(corsRules)); err != nil {
		t.Fatal(err)
	}

	type hdrs = map[string]string
	cases := []struct {
		name    string
		url     string
		req     hdrs
		status  int
		want    hdrs // "" means absent
		errCode string
		errMsg  string
	}{
		{"object matches example1", objURL,
			hdrs{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-another-header,x-could-be-anything"},
			200, hdrs{"Access-Control-Allow-Origin": "http://www.example1.com", "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "x-another-header, x-could-be-anything", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Max-Age": "3600", "Access-Control-Expose-Headers": "x-amz-server-side-encryption, x-amz-request-id",
				"Content-Length": "0", "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}, "", ""},
		{"bucket matches example1", bucketURL,
			hdrs{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT"},
			200, hdrs{"Access-Control-Allow-Origin": "http://www.example1.com", "Access-Control-Allow-Headers": ""}, "", ""},
		{"allowed header case is folded", objURL,
			hdrs{"Origin": "http://www.example2.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-My-Special-Header"},
			200, hdrs{"Access-Control-Allow-Headers": "x-my-special-header", "Access-Control-Max-Age": ""}, "", ""},
		{"wildcard origin rule answers *", objURL,
			hdrs{"Origin": "http://www.couldbeanything.com", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-custom-header"},
			200, hdrs{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Methods": "GET"}, "", ""},
		{"all of the rule's methods", objURL,
			hdrs{"Origin": "http://multiplemethodstest.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-abc-1"},
			200, hdrs{"Access-Control-Allow-Methods": "POST, PUT, DELETE", "Access-Control-Allow-Headers": "x-abc-1"}, "", ""},
		{"https wildcard origin", objURL,
			hdrs{"Origin": "https://www.secureexample.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-abc-1,x-abc-second,x-def-1"},
			200, hdrs{"Access-Control-Allow-Origin": "https://www.secureexample.com", "Access-Control-Allow-Headers": "x-abc-1, x-abc-second, x-def-1"}, "", ""},
		{"origin case matters (match)", objURL,
			hdrs{"Origin": "http://UPPERCASEEXAMPLE.com", "Access-Control-Request-Method": "DELETE"},
			200, hdrs{"Access-Control-Allow-Origin": "http://UPPERCASEEXAMPLE.com"}, "", ""},
		{"origin case matters (no match)", objURL,
			hdrs{"Origin": "http://uppercaseexample.com", "Access-Control-Request-Method": "DELETE"},
			403, nil, "AccessForbidden", corsNotAllowed},
		{"rule without AllowedHeader allows none", objURL,
			hdrs{"Origin": "http://UPPERCASEEXAMPLE.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-unknown-1"},
			403, nil, "AccessForbidden", "<Method>DELETE</Method><ResourceType>OBJECT</ResourceType>"},
		{"header not allowed", objURL,
			hdrs{"Origin": "https://www.secureexample.com", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-abc-1,x-does-not-match"},
			403, nil, "AccessForbidden", corsNotAllowed},
		{"no rule for the method", objURL,
			hdrs{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "POST"},
			403, hdrs{"Access-Control-Allow-Origin": ""}, "AccessForbidden", corsNotAllowed},
		{"literal https is no pattern", objURL,
			hdrs{"Origin": "https://www.securebutdoesnotmatch.com", "Access-Control-Request-Method": "PUT"},
			403, nil, "AccessForbidden", corsNotAllowed},
		{"bucket resource type", bucketURL,
			hdrs{"Origin": "http://nowhere.com", "Access-Control-Request-Method": "PUT"},
			403, nil, "AccessForbidden", "<ResourceType>BUCKET</ResourceType>"},
		{"no origin", objURL, hdrs{"Access-Control-Request-Method": "GET"},
			400, nil, "BadRequest", "Insufficient information. Origin request header needed."},
		{"no method", objURL, hdrs{"Origin": "http://www.example1.com"},
			400, nil, "BadRequest", "Invalid Access-Control-Request-Method: null"},
		{"method PATCH", objURL, hdrs{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PATCH"},
			400, nil, "BadRequest", "Invalid Access-Control-Request-Method: PATCH"},
	}
	for _, c := range cases {
		r := unsigned(t, http.MethodOptions, c.url, c.req)
		if r.status != c.status || r.code != c.errCode || !strings.Contains(string(r.body), c.errMsg) {
			t.Errorf("%s: %d %s %s, want %d %s %q", c.name, r.status, r.code, r.body, c.status, c.errCode, c.errMsg)
			continue
		}
		for k, v := range c.want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, v)
			}
		}
	}
	// A signed preflight is answered the same way.
	r = e.raw(http.MethodOptions, "/pre/obj", nil, http.Header{"Origin": {"http://www.example1.com"}, "Access-Control-Request-Method": {"PUT"}})
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "http://www.example1.com" {
		t.Fatalf("signed preflight: %d %s", r.status, r.body)
	}
}

// TestCORSActualRequests: a request with an Origin gets the headers of
// the matching rule (none without a match), also on errors.
func TestCORSActualRequests(t *testing.T) {
	e := newConfigEnv(t)
	e.mkBucket("act")
	e.put("act", "obj", "contents")
	if err := e.minio.SetBucketCors(context.Background(), "act", cors.NewConfig(corsRules)); err != nil {
		t.Fatal(err)
	}
	corsNames := []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Access-Control-Max-Age", "Vary"}
	none := func(name string, r rawResponse) {
		t.Helper()
		for _, k := range corsNames {
			if v := r.header.Get(k); v != "" {
				t.Errorf("%s: %s = %q, want none", name, k, v)
			}
		}
	}
	cases := []struct {
		name, method, path string
		req                map[string]string
		status             int
		want               map[string]string
	}{
		{"GET matches the * rule", "GET", "/act/obj", map[string]string{"Origin": "http://www.example1.com"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "", "Access-Control-Allow-Headers": "",
				"Access-Control-Expose-Headers": "x-amz-request-id, X-AMZ-server-side-encryption", "Access-Control-Allow-Methods": "GET",
				"Access-Control-Max-Age": "3600", "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"}},
		{"request method header decides", "GET", "/act/obj",
			map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-another-header"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "http://www.example1.com", "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Headers": ""}},
		{"PUT matches example1", "PUT", "/act/put", map[string]string{"Origin": "http://www.example1.com", "X-Could-Be-Anything": "v"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "http://www.example1.com", "Access-Control-Expose-Headers": "x-amz-server-side-encryption, x-amz-request-id"}},
		{"error answers carry them", "GET", "/act/missing", map[string]string{"Origin": "http://anyone.com"}, 404,
			map[string]string{"Access-Control-Allow-Origin": "*"}},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c.req {
			h.Set(k, v)
		}
		r := e.raw(c.method, c.path, nil, h)
		if r.status != c.status {
			t.Errorf("%s: status %d %s", c.name, r.status, r.code)
			continue
		}
		for k, v := range c.want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, v)
			}
		}
	}
	for _, c := range []struct {
		name, method string
		req          map[string]string
	}{
		{"HEAD from an origin no rule allows", "HEAD", map[string]string{"Origin": "http://www.nomatchingdomainfound.com"}},
		{"method header with no rule", "GET", map[string]string{"Origin": "http://www.example1.com", "Access-Control-Request-Method": "DELETE"}},
		{"header not allowed", "GET", map[string]string{"Origin": "http://www.example2.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-other"}},
		{"no Origin", "GET", nil},
	} {
		h := http.Header{}
		for k, v := range c.req {
			h.Set(k, v)
		}
		r := e.raw(c.method, "/act/obj", nil, h)
		if r.status != 200 {
			t.Errorf("%s: status %d", c.name, r.status)
		}
		none(c.name, r)
	}
	// A bucket without configuration: nothing.
	e.mkBucket("plain")
	e.put("plain", "obj", "x")
	none("bucket without CORS", e.raw("GET", "/plain/obj", nil, http.Header{"Origin": {"http://www.example1.com"}}))

	// The body of a CORS-shaped GET is the object.
	r := e.raw("GET", "/act/obj", nil, http.Header{"Origin": {"http://x.com"}})
	if string(r.body) != "contents" {
		t.Fatalf("body %q", r.body)
	}
}
