package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// Projects and users of the access tests. Project "pa" (alpha): alice and
// al2 are members, rita a reader, ada an admin. Project "pb" (beta): bob
// and bea are members.
const (
	projA = "pa"
	projB = "pb"
)

// accessUser is a user with an access key acting in one project.
type accessUser struct {
	name, project, role, key, secret string
}

var accessUsers = []accessUser{
	{"alice", projA, raftmap.RoleMember, "AKALICE", "alice-secret-key"},
	{"al2", projA, raftmap.RoleMember, "AKAL2", "al2-secret-key"},
	{"rita", projA, raftmap.RoleReader, "AKRITA", "rita-secret-key"},
	{"ada", projA, raftmap.RoleAdmin, "AKADA", "ada-secret-key"},
	{"bob", projB, raftmap.RoleMember, "AKBOB", "bob-secret-key"},
	{"bea", projB, raftmap.RoleMember, "AKBEA", "bea-secret-key"},
}

// accessEnv is a proxy over a real store and a real one-node catalog,
// with the projects and users above. The harness's root credential is
// the root.
type accessEnv struct {
	t     *testing.T
	store *objectd.Store
	cat   *catalog.Catalog
	srv   *httptest.Server
	users map[string]accessUser
}

func newAccessEnv(t *testing.T) *accessEnv {
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
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cat, err := catalog.OpenLocal(filepath.Join(root, "catalog"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	ctx := context.Background()
	propose := func(c raftmap.Command) {
		t.Helper()
		if err := cat.Propose(ctx, c); err != nil {
			t.Fatalf("propose %T: %v", c, err)
		}
	}
	now := time.Now()
	for _, p := range []raftmap.Project{
		{ID: projA, Name: "alpha", Domain: raftmap.DefaultDomain, Created: now},
		{ID: projB, Name: "beta", Domain: raftmap.DefaultDomain, Created: now},
	} {
		propose(raftmap.PutProject{Project: p})
	}
	e := &accessEnv{t: t, store: store, cat: cat, users: map[string]accessUser{}}
	for _, u := range accessUsers {
		id := "u-" + u.name
		propose(raftmap.PutUser{User: raftmap.User{ID: id, Name: u.name, Domain: raftmap.DefaultDomain, Created: now}})
		propose(raftmap.Assign{Assignment: raftmap.Assignment{User: id, Project: u.project, Role: u.role}})
		propose(raftmap.PutKey{Key: raftmap.Key{AccessKey: u.key, Secret: u.secret, User: id, Project: u.project, Created: now}})
		e.users[u.name] = u
	}
	p, err := proxy.New(proxy.Config{
		Store: store, Credentials: creds{testAccessKey: testSecretKey}, Region: testRegion,
		Domains: []string{"localhost"}, Catalog: cat,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(p.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// cred returns the access key and secret of a user ("root" for the root).
func (e *accessEnv) cred(user string) (string, string) {
	if user == "root" {
		return testAccessKey, testSecretKey
	}
	u, ok := e.users[user]
	if !ok {
		e.t.Fatalf("no user %s", user)
	}
	return u.key, u.secret
}

func (e *accessEnv) aws(user string) *awss3.Client {
	ak, sk := e.cred(user)
	return awss3.New(awss3.Options{
		Region: testRegion, Credentials: awscreds.NewStaticCredentialsProvider(ak, sk, ""),
		BaseEndpoint: aws.String(e.srv.URL), UsePathStyle: true, Retryer: aws.NopRetryer{},
	})
}

// anonAWS is an aws-sdk-go-v2 client that signs nothing.
func (e *accessEnv) anonAWS() *awss3.Client {
	return awss3.New(awss3.Options{
		Region: testRegion, Credentials: aws.AnonymousCredentials{},
		BaseEndpoint: aws.String(e.srv.URL), UsePathStyle: true, Retryer: aws.NopRetryer{},
	})
}

func (e *accessEnv) minio(user string) *minio.Client {
	ak, sk := e.cred(user)
	c, err := minio.New(strings.TrimPrefix(e.srv.URL, "http://"), &minio.Options{
		Creds: miniocreds.NewStaticV4(ak, sk, ""), Region: testRegion, BucketLookup: minio.BucketLookupPath, MaxRetries: 1,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// do sends a request signed by user ("" for anonymous) and returns the
// answer with its S3 error code.
func (e *accessEnv) do(user, method, pathQuery string, body []byte, h http.Header) rawResponse {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+pathQuery, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if user != "" {
		ak, sk := e.cred(user)
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])
		req.Header.Set("X-Amz-Content-Sha256", hash)
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk},
			req, hash, "s3", testRegion, time.Now()); err != nil {
			e.t.Fatal(err)
		}
	}
	return doRaw(e.t, req)
}

// want checks a response's status and code.
func (e *accessEnv) want(what string, r rawResponse, status int, code string) {
	e.t.Helper()
	if r.status != status || r.code != code {
		e.t.Fatalf("%s: %d %s (%s), want %d %s", what, r.status, r.code, r.body, status, code)
	}
}

// mkBucket creates a bucket as user, with extra headers.
func (e *accessEnv) mkBucket(user, bucket string, h http.Header) {
	e.t.Helper()
	e.want("create "+bucket, e.do(user, http.MethodPut, "/"+bucket, nil, h), 200, "")
}

// put stores an object as user, with extra headers.
func (e *accessEnv) put(user, bucket, key, body string, h http.Header) {
	e.t.Helper()
	e.want("put "+bucket+"/"+key, e.do(user, http.MethodPut, "/"+bucket+"/"+key, []byte(body), h), 200, "")
}

// setPolicy puts a bucket policy as user with aws-sdk-go-v2.
func (e *accessEnv) setPolicy(user, bucket, policy string) error {
	_, err := e.aws(user).PutBucketPolicy(context.Background(), &awss3.PutBucketPolicyInput{
		Bucket: aws.String(bucket), Policy: aws.String(policy),
	})
	return err
}

// statusOf is the HTTP status of an aws-sdk-go-v2 error (0 for none).
func statusOf(err error) int {
	var re interface{ HTTPStatusCode() int }
	if err != nil && errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}
