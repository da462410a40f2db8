package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/basaltstore/basalt/objectd"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

type creds struct{}

func (creds) SecretKey(ak string) (string, bool) { return "proxy-test-secret", ak == "proxykey" }

func openStore(t *testing.T) *objectd.Store {
	t.Helper()
	root := t.TempDir()
	var disks []string
	for i := range 4 {
		d := filepath.Join(root, string(rune('a'+i)))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	s, err := objectd.Open(objectd.Config{Disks: disks, DataShards: 2, ParityShards: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{Credentials: creds{}}); !errors.Is(err, ErrNoStore) {
		t.Errorf("no store: %v", err)
	}
	store := openStore(t)
	if _, err := New(Config{Store: store}); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("no credentials: %v", err)
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Store: store, Credentials: creds{}, Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Store: store, Credentials: creds{}, Registry: reg}); err == nil {
		t.Error("a second proxy on the same registry registered its metrics twice")
	}
}

type response struct {
	status int
	code   string
	body   string
	header http.Header
}

func do(t *testing.T, h http.Handler, req *http.Request) response {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	r := response{status: w.Code, body: string(b), header: w.Header()}
	var doc struct{ Code string }
	if xml.Unmarshal(b, &doc) == nil {
		r.code = doc.Code
	}
	return r
}

func sign(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	sum := sha256.Sum256(nil)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "proxykey", SecretAccessKey: "proxy-test-secret"},
		req, hash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestOperationalEndpoints(t *testing.T) {
	var readyErr error
	p, err := New(Config{Store: openStore(t), Credentials: creds{}, Ready: func() error { return readyErr }})
	if err != nil {
		t.Fatal(err)
	}
	h := p.Handler()
	get := func(method, target string) response {
		return do(t, h, httptest.NewRequest(method, target, nil))
	}
	if r := get("GET", "/health/live"); r.status != 200 || r.body != "ok\n" {
		t.Errorf("live: %+v", r)
	}
	if r := get("HEAD", "/health/live"); r.status != 200 || r.body != "" {
		t.Errorf("HEAD live: %+v", r)
	}
	if r := get("GET", "/health/ready"); r.status != 200 {
		t.Errorf("ready: %+v", r)
	}
	readyErr = errors.New("2 of 4 disks offline")
	if r := get("GET", "/health/ready"); r.status != 503 || !strings.Contains(r.body, "2 of 4 disks offline") {
		t.Errorf("not ready: %+v", r)
	}
	// A request to /metrics is S3 once it is signed, or not a GET/HEAD.
	get("GET", "/health/live")
	r := get("GET", "/metrics")
	if r.status != 200 || !strings.Contains(r.body, "basalt_s3_requests_in_flight") {
		t.Fatalf("/metrics: %d %.200s", r.status, r.body)
	}
	if r := do(t, h, sign(t, httptest.NewRequest("GET", "/metrics", nil))); r.status != 404 || r.code != "NoSuchBucket" {
		t.Errorf("signed GET /metrics: %+v", r)
	}
	if r := get("GET", "/metrics?X-Amz-Signature=abc"); r.status < 400 || r.code == "" {
		t.Errorf("presigned-looking GET /metrics: %+v", r)
	}
	if r := get("POST", "/health/live"); r.status != 403 || r.code != "AccessDenied" {
		t.Errorf("POST /health/live: %+v", r)
	}
	if r := get("GET", "/health/live/"); r.status != 403 || r.code != "AccessDenied" {
		t.Errorf("GET /health/live/: %+v", r)
	}
	// Paths reach S3 unchanged: no redirect, no cleaning.
	for _, target := range []string{"/bucket//a/../b/", "/bucket/a%2F..%2Fb", "/Bucket/"} {
		r := do(t, h, sign(t, httptest.NewRequest("GET", target, nil)))
		if r.status == 301 || r.status == 307 || r.code == "" {
			t.Errorf("GET %s: %+v", target, r)
		}
	}
	// Metrics count S3 requests by API and status.
	r = get("GET", "/metrics")
	for _, want := range []string{
		`basalt_s3_requests_total{api="ListObjects",code="404"} 1`,
		`basalt_s3_requests_total{api="GetObject",code="404"} 2`,
		`basalt_s3_requests_total{api="ListObjects",code="400"} 2`,
		`basalt_s3_requests_total{api="GetObject",code="403"} 1`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %q in\n%s", want, r.body)
		}
	}
}

func TestRecoveredPanicAnswersInternalError(t *testing.T) {
	p, err := New(Config{Store: openStore(t), Credentials: creds{}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("GET", "/b/k", nil)
	p.recovered(c, "boom")
	var doc struct{ Code string }
	if w.Code != 500 || xml.Unmarshal(w.Body.Bytes(), &doc) != nil || doc.Code != "InternalError" {
		t.Fatalf("recovered: %d %q", w.Code, w.Body.String())
	}
}
