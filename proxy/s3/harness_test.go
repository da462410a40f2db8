package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gin-gonic/gin"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy"
)

const (
	testAccessKey = "basaltadmin"
	testSecretKey = "basalt-secret-key-for-tests"
	testRegion    = "us-east-1"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// creds is a fixed credential store.
type creds map[string]string

func (c creds) SecretKey(ak string) (string, bool) { s, ok := c[ak]; return s, ok }

// env is a proxy over a real store on four temporary disks (k=2, m=2),
// served on 127.0.0.1.
type env struct {
	t       testing.TB
	store   *objectd.Store
	srv     *httptest.Server
	reg     *prometheus.Registry
	minio   *minio.Client
	aws     *awss3.Client
	ready   error
	baseURL string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	root := t.TempDir()
	var disks []string
	for i := range 4 {
		d := filepath.Join(root, "disk"+string(rune('0'+i)))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	store, err := objectd.Open(objectd.Config{Disks: disks, DataShards: 2, ParityShards: 2})
	if err != nil {
		t.Fatalf("objectd.Open: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{t: t, store: store, reg: prometheus.NewRegistry()}
	p, err := proxy.New(proxy.Config{
		Store:       store,
		Credentials: creds{testAccessKey: testSecretKey},
		Region:      testRegion,
		Domains:     []string{"localhost"},
		Registry:    e.reg,
		Ready:       func() error { return e.ready },
	})
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	e.srv = httptest.NewServer(p.Handler())
	t.Cleanup(e.srv.Close)
	e.baseURL = e.srv.URL
	e.minio = e.minioClient(testSecretKey)
	e.aws = e.awsClient(testSecretKey, true)
	return e
}

func (e *env) host() string { return strings.TrimPrefix(e.srv.URL, "http://") }

func (e *env) minioClient(secret string) *minio.Client {
	e.t.Helper()
	c, err := minio.New(e.host(), &minio.Options{
		Creds:        miniocreds.NewStaticV4(testAccessKey, secret, ""),
		Secure:       false,
		Region:       testRegion,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// awsClient returns an aws-sdk-go-v2 client. With pathStyle false it
// addresses buckets virtual-host style ("b.localhost:port"), every
// connection going to the test server whatever the host name.
func (e *env) awsClient(secret string, pathStyle bool, opts ...func(*awss3.Options)) *awss3.Client {
	endpoint := e.srv.URL
	hc := &http.Client{}
	if !pathStyle {
		endpoint = strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1)
		addr := e.host()
		hc.Transport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	}
	o := awss3.Options{
		Region:       testRegion,
		Credentials:  awscreds.NewStaticCredentialsProvider(testAccessKey, secret, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: pathStyle,
		Retryer:      aws.NopRetryer{},
		HTTPClient:   hc,
	}
	return awss3.New(o, opts...)
}

func (e *env) mkBucket(name string) {
	e.t.Helper()
	if err := e.minio.MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		e.t.Fatalf("MakeBucket %s: %v", name, err)
	}
}

func (e *env) put(bucket, key, body string) minio.UploadInfo {
	e.t.Helper()
	info, err := e.minio.PutObject(context.Background(), bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
	if err != nil {
		e.t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return info
}

func objectPutOptions() objectd.PutOptions {
	return objectd.PutOptions{ContentType: "binary/octet-stream"}
}

// rawResponse is what raw returns.
type rawResponse struct {
	status int
	code   string
	header http.Header
	body   []byte
}

// raw sends a request signed with the test credential (payload hash
// included) and decodes an S3 error body when there is one.
func (e *env) raw(method, pathQuery string, body []byte, h http.Header) rawResponse {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+pathQuery, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	signRequest(e.t, req, body, testSecretKey)
	return doRaw(e.t, req)
}

func doRaw(t testing.TB, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
	var doc struct {
		Code string `xml:"Code"`
	}
	if resp.StatusCode >= 300 && xml.Unmarshal(b, &doc) == nil {
		out.code = doc.Code
	}
	return out
}

// signRequest signs req with SigV4 as the SDKs do.
func signRequest(t testing.TB, req *http.Request, body []byte, secret string) {
	t.Helper()
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: secret},
		req, hash, "s3", testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

func md5b64(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}
