package keystone_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/proxy/keystone"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// The catalog is shared by the tests of the package (a one-voter Raft group
// takes a moment to elect itself); every test makes its own projects and
// users, with ids and names prefixed by the test's name.
var shared struct {
	once sync.Once
	dir  string
	cat  *catalog.Catalog
	err  error
}

func TestMain(m *testing.M) {
	identity.PasswordCost = 4 // bcrypt's minimum: the tests hash many passwords
	m.Run()
	if shared.cat != nil {
		_ = shared.cat.Close()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
}

func sharedCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "keystone-test-")
		if shared.err != nil {
			return
		}
		shared.cat, shared.err = catalog.OpenLocal(shared.dir, nil)
	})
	if shared.err != nil {
		t.Fatalf("open catalog: %v", shared.err)
	}
	return shared.cat
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const ttl = time.Hour

type world struct {
	t      testing.TB
	cat    *catalog.Catalog
	clock  *clock
	svc    *keystone.Service
	srv    *httptest.Server
	prefix string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	cat := sharedCatalog(t)
	// Revocations are kept by the catalog's own clock, so the test clock
	// starts at the real time and only moves forward.
	clk := &clock{t: time.Now()}
	svc := keystone.New(keystone.Config{Catalog: cat, TokenTTL: ttl, Now: clk.Now})
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	prefix := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "-"
	return &world{t: t, cat: cat, clock: clk, svc: svc, srv: srv, prefix: prefix}
}

func (w *world) propose(cmd raftmap.Command) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.cat.Propose(ctx, cmd); err != nil {
		w.t.Fatalf("propose %s: %v", cmd.Op(), err)
	}
}

// domain creates a domain and returns its id; its name is prefix+name.
func (w *world) domain(name string) string {
	id := w.prefix + "d-" + name
	w.propose(raftmap.PutDomain{Domain: raftmap.Domain{ID: id, Name: w.prefix + name}})
	return id
}

// project creates a project in domain and returns its id ("p-" + name);
// its name is prefix+name.
func (w *world) project(domain, name string) string {
	id := w.prefix + "p-" + name
	w.propose(raftmap.PutProject{Project: raftmap.Project{ID: id, Name: w.prefix + name, Domain: domain}})
	return id
}

// user creates a user with a password and returns its id.
func (w *world) user(domain, name, password, defaultProject string) string {
	w.t.Helper()
	h, err := identity.HashPassword(password)
	if err != nil {
		w.t.Fatal(err)
	}
	id := w.prefix + "u-" + name
	w.propose(raftmap.PutUser{User: raftmap.User{ID: id, Name: w.prefix + name, Domain: domain, Password: h, DefaultProject: defaultProject}})
	return id
}

func (w *world) assign(user, project, role string) {
	w.propose(raftmap.Assign{Assignment: raftmap.Assignment{User: user, Project: project, Role: role}})
}

func (w *world) unassign(user, project, role string) {
	w.propose(raftmap.Unassign{Assignment: raftmap.Assignment{User: user, Project: project, Role: role}})
}

// issue makes a token through the Go API.
func (w *world) issue(user, project string) string {
	w.t.Helper()
	tok, _, _, err := w.svc.Issue(context.Background(), user, project)
	if err != nil {
		w.t.Fatalf("Issue(%s, %s): %v", user, project, err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (w *world) do(method, path, body string, hdr map[string]string) response {
	w.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// post asks for a token; body is marshalled to JSON.
func (w *world) post(body any) response {
	w.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.do(http.MethodPost, "/v3/auth/tokens", string(b), nil)
}

// mustToken posts body and expects 201.
func (w *world) mustToken(body any) (string, tokenDoc) {
	w.t.Helper()
	r := w.post(body)
	if r.status != http.StatusCreated {
		w.t.Fatalf("POST /v3/auth/tokens: %d %s", r.status, r.body)
	}
	tok := r.header.Get("X-Subject-Token")
	if tok == "" {
		w.t.Fatal("no X-Subject-Token")
	}
	return tok, decodeToken(w.t, r.body)
}

func decodeToken(t testing.TB, b []byte) tokenDoc {
	t.Helper()
	var d tokenDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("token document %s: %v", b, err)
	}
	return d
}

// The documents, as a client reads them.
type tokenDoc struct {
	Token struct {
		Methods []string `json:"methods"`
		User    struct {
			ID                string  `json:"id"`
			Name              string  `json:"name"`
			Domain            idName  `json:"domain"`
			PasswordExpiresAt *string `json:"password_expires_at"`
		} `json:"user"`
		Project *struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Domain idName `json:"domain"`
		} `json:"project"`
		IsDomain  *bool     `json:"is_domain"`
		Roles     []idName  `json:"roles"`
		IssuedAt  string    `json:"issued_at"`
		ExpiresAt string    `json:"expires_at"`
		AuditIDs  []string  `json:"audit_ids"`
		Catalog   []service `json:"catalog"`
	} `json:"token"`
}

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type service struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	ID        string `json:"id"`
	Endpoints []struct {
		ID        string `json:"id"`
		Interface string `json:"interface"`
		Region    string `json:"region"`
		RegionID  string `json:"region_id"`
		URL       string `json:"url"`
	} `json:"endpoints"`
}

type errorDoc struct {
	Error struct {
		Code    int    `json:"code"`
		Title   string `json:"title"`
		Message string `json:"message"`
	} `json:"error"`
}

// expectError checks a Keystone error answer.
func expectError(t *testing.T, r response, status int) errorDoc {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var d errorDoc
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if d.Error.Code != status || d.Error.Title != http.StatusText(status) || d.Error.Message == "" {
		t.Fatalf("error document %+v for status %d", d, status)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type %q", got)
	}
	return d
}

// Request bodies.
type obj = map[string]any

func passwordByID(id, pw string) obj {
	return obj{"methods": []string{"password"}, "password": obj{"user": obj{"id": id, "password": pw}}}
}

func passwordByName(name, domainKey, domain, pw string) obj {
	return obj{"methods": []string{"password"}, "password": obj{"user": obj{
		"name": name, "password": pw, "domain": obj{domainKey: domain}}}}
}

func tokenMethod(tok string) obj {
	return obj{"methods": []string{"token"}, "token": obj{"id": tok}}
}

func authBody(identity obj, scope any) obj {
	a := obj{"identity": identity}
	if scope != nil {
		a["scope"] = scope
	}
	return obj{"auth": a}
}

func projectByID(id string) obj { return obj{"project": obj{"id": id}} }

// newWorldWithOwnCatalog is a world on a catalog of its own (so with its
// own token key), using the given prefix for ids.
func newWorldWithOwnCatalog(t *testing.T, prefix string) *world {
	t.Helper()
	cat, err := catalog.OpenLocal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cat.Close() })
	clk := &clock{t: time.Now()}
	svc := keystone.New(keystone.Config{Catalog: cat, TokenTTL: ttl, Now: clk.Now})
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return &world{t: t, cat: cat, clock: clk, svc: svc, srv: srv, prefix: prefix}
}

func httptestServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func doURL(t *testing.T, method, url string, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}
