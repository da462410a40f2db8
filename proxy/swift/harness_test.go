package swift

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// Projects and tokens of the test environment.
const (
	projA = "pa" // project alpha
	projB = "pb" // project beta

	tokAdminA  = "tok-admin-a"  // alice, admin of alpha
	tokMemberA = "tok-member-a" // mallory, member of alpha
	tokReaderA = "tok-reader-a" // rita, reader of alpha
	tokMemberB = "tok-member-b" // bob, member of beta
	tokAdminB  = "tok-admin-b"  // bea, admin of beta
	tokRoot    = "tok-root"     // the cloud admin
	tokNoScope = "tok-unscoped" // alice without a project
)

// fakeTokens validates a fixed set of tokens.
type fakeTokens struct {
	mu sync.Mutex
	m  map[string]identity.Principal
}

var errBadToken = errors.New("test: invalid token")

func (f *fakeTokens) Validate(_ context.Context, tok string) (identity.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.m[tok]
	if !ok {
		return identity.Principal{}, errBadToken
	}
	return p, nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a Server over a real store (4 disks, 2+2) and a real catalog.
type env struct {
	t     *testing.T
	s     *Server
	store *objectd.Store
	cat   *catalog.Catalog
	clock *clock
	url   string
}

// world is the store and the catalog every test shares: opening them
// costs about a second, so each test gets a fresh Server over them and
// leaves them as it found them (no buckets, no account metadata).
var world struct {
	once  sync.Once
	dir   string
	store *objectd.Store
	cat   *catalog.Catalog
	err   error
}

func TestMain(m *testing.M) {
	m.Run()
	if world.store != nil {
		world.store.Close()
	}
	if world.cat != nil {
		world.cat.Close()
	}
	if world.dir != "" {
		os.RemoveAll(world.dir)
	}
}

func openWorld() error {
	dir, err := os.MkdirTemp("", "swift-test-")
	if err != nil {
		return err
	}
	world.dir = dir
	var disks []string
	for i := 1; i <= 4; i++ {
		disks = append(disks, filepath.Join(dir, fmt.Sprintf("disk%d", i)))
	}
	world.store, err = objectd.Open(objectd.Config{Disks: disks, DataShards: 2, ParityShards: 2, BlockSize: 64 << 10, InlineThreshold: 16 << 10})
	if err != nil {
		return err
	}
	world.cat, err = catalog.OpenLocal(filepath.Join(dir, "catalog"), nil)
	if err != nil {
		return err
	}
	for _, p := range []raftmap.Project{
		{ID: projA, Name: "alpha", Domain: raftmap.DefaultDomain, Created: time.Now()},
		{ID: projB, Name: "beta", Domain: raftmap.DefaultDomain, Created: time.Now()},
	} {
		if err := world.cat.Propose(context.Background(), raftmap.PutProject{Project: p}); err != nil {
			return err
		}
	}
	return nil
}

// resetWorld removes every bucket (with its objects) and the projects'
// metadata.
func resetWorld(t *testing.T) {
	ctx := context.Background()
	buckets, err := world.store.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, bk := range buckets {
		var keys []string
		after := ""
		for {
			res, err := world.store.ListObjects(ctx, bk.Name, objectd.ListOptions{After: after, MaxKeys: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range res.Objects {
				keys = append(keys, o.Key)
			}
			if !res.IsTruncated {
				break
			}
			after = res.NextAfter
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, k := range keys {
			wg.Add(1)
			sem <- struct{}{}
			go func(k string) {
				defer wg.Done()
				defer func() { <-sem }()
				if err := world.store.DeleteObject(ctx, bk.Name, k); err != nil {
					t.Error(err)
				}
			}(k)
		}
		wg.Wait()
		if err := world.store.DeleteBucket(ctx, bk.Name); err != nil {
			t.Fatal(err)
		}
	}
	for _, bk := range world.cat.View().Buckets("") {
		if err := world.cat.DeleteBucket(ctx, bk.Name); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{projA, projB} {
		p, _ := world.cat.View().Project(id)
		var keys []string
		for k := range p.Meta {
			keys = append(keys, k)
		}
		if len(keys) > 0 {
			if err := world.cat.SetProjectMeta(ctx, id, nil, keys); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	world.once.Do(func() { world.err = openWorld() })
	if world.err != nil {
		t.Fatal(world.err)
	}
	t.Cleanup(func() { resetWorld(t) })
	pr := func(user, name, project, projectName string, roles ...string) identity.Principal {
		return identity.Principal{UserID: user, UserName: name, ProjectID: project, ProjectName: projectName, DomainID: raftmap.DefaultDomain, Roles: roles}
	}
	tokens := &fakeTokens{m: map[string]identity.Principal{
		tokAdminA:  pr("ua", "alice", projA, "alpha", "admin"),
		tokMemberA: pr("um", "mallory", projA, "alpha", "member"),
		tokReaderA: pr("ur", "rita", projA, "alpha", "reader"),
		tokMemberB: pr("ub", "bob", projB, "beta", "member"),
		tokAdminB:  pr("ubb", "bea", projB, "beta", "admin"),
		tokRoot:    {UserID: "uroot", UserName: "admin", ProjectID: "padmin", ProjectName: "admin", DomainID: raftmap.DefaultDomain, Roles: []string{"admin"}, Root: true},
		tokNoScope: {UserID: "ua", UserName: "alice", DomainID: raftmap.DefaultDomain},
	}}
	c := &clock{t: time.Now()}
	s, err := New(Config{Store: world.store, Catalog: world.cat, Tokens: tokens, Now: c.now, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, s: s, store: world.store, cat: world.cat, clock: c, url: srv.URL}
}

// resp is an answer, read whole.
type resp struct {
	status int
	header http.Header
	body   string
}

// hdr is a list of header name/value pairs.
type hdr map[string]string

// do sends a request. body nil means none; token "" means none.
func (e *env) do(method, path, token string, h hdr, body []byte) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	if req.Method != http.MethodHead && res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusNotModified {
		if cl := res.Header.Get("Content-Length"); cl != "" && cl != fmt.Sprint(len(data)) {
			e.t.Fatalf("%s %s: Content-Length %s but %d bytes", req.Method, req.URL, cl, len(data))
		}
	}
	if req.Method == http.MethodHead && len(data) != 0 {
		e.t.Fatalf("HEAD %s returned %d bytes of body", req.URL, len(data))
	}
	if res.Header.Get("X-Trans-Id") == "" || res.Header.Get("X-Trans-Id") != res.Header.Get("X-Openstack-Request-Id") {
		e.t.Fatalf("%s %s: transaction headers %q %q", req.Method, req.URL, res.Header.Get("X-Trans-Id"), res.Header.Get("X-Openstack-Request-Id"))
	}
	return resp{status: res.StatusCode, header: res.Header, body: string(data)}
}

// must checks a status.
func (e *env) must(r resp, status int, what string) resp {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("%s: status %d, want %d; body %q", what, r.status, status, r.body)
	}
	return r
}

// mkdir creates a container of project alpha (as its admin).
func (e *env) mkdir(name string, h hdr) {
	e.t.Helper()
	e.must(e.do("PUT", "/v1/AUTH_"+projA+"/"+name, tokAdminA, h, nil), http.StatusCreated, "PUT container "+name)
}

// put stores an object of project alpha (as its admin).
func (e *env) put(cont, obj string, data []byte, h hdr) resp {
	e.t.Helper()
	return e.must(e.do("PUT", "/v1/AUTH_"+projA+"/"+cont+"/"+obj, tokAdminA, h, data), http.StatusCreated, "PUT "+cont+"/"+obj)
}

// get reads an object of project alpha (as its admin).
func (e *env) get(cont, obj string, h hdr) resp {
	e.t.Helper()
	return e.do("GET", "/v1/AUTH_"+projA+"/"+cont+"/"+obj, tokAdminA, h, nil)
}

// a builds an alpha account path.
func a(rest string) string { return "/v1/AUTH_" + projA + rest }

// b builds a beta account path.
func b(rest string) string { return "/v1/AUTH_" + projB + rest }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func objStoreOpts() objectd.PutOptions { return objectd.PutOptions{ContentType: "text/plain"} }
