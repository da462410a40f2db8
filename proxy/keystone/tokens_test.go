package keystone_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/keystone"
	"github.com/basaltstore/basalt/ring/raftmap"
)

var keystoneTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

func parseKeystoneTime(t *testing.T, s string) time.Time {
	t.Helper()
	if !keystoneTime.MatchString(s) {
		t.Fatalf("time %q is not Keystone's format", s)
	}
	v, err := time.Parse("2006-01-02T15:04:05.000000Z", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPasswordScopedByProjectID(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "alice-secret", "")
	w.assign(u, p, "member")
	w.assign(u, p, "reader")

	tok, d := w.mustToken(authBody(passwordByID(u, "alice-secret"), projectByID(p)))
	tk := d.Token
	if !slices.Equal(tk.Methods, []string{"password"}) {
		t.Errorf("methods %v", tk.Methods)
	}
	if tk.User.ID != u || tk.User.Name != w.prefix+"alice" || tk.User.Domain != (idName{"default", "Default"}) {
		t.Errorf("user %+v", tk.User)
	}
	if tk.Project == nil || tk.Project.ID != p || tk.Project.Name != w.prefix+"alpha" || tk.Project.Domain != (idName{"default", "Default"}) {
		t.Fatalf("project %+v", tk.Project)
	}
	if tk.IsDomain == nil || *tk.IsDomain {
		t.Errorf("is_domain %v", tk.IsDomain)
	}
	if !slices.Equal(tk.Roles, []idName{{"member", "member"}, {"reader", "reader"}}) {
		t.Errorf("roles %v", tk.Roles)
	}
	issued, expires := parseKeystoneTime(t, tk.IssuedAt), parseKeystoneTime(t, tk.ExpiresAt)
	if got := expires.Sub(issued); got != ttl {
		t.Errorf("lifetime %v, want %v", got, ttl)
	}
	if d := issued.Sub(w.clock.Now()); d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("issued_at %v, clock %v", issued, w.clock.Now())
	}
	if len(tk.AuditIDs) != 1 || len(tk.AuditIDs[0]) != 22 {
		t.Errorf("audit_ids %v", tk.AuditIDs)
	}
	// The catalog points at this server.
	urls := map[string]string{}
	for _, s := range tk.Catalog {
		if len(s.Endpoints) != 3 || s.ID == "" {
			t.Errorf("service %+v", s)
		}
		for _, e := range s.Endpoints {
			if e.Region != "RegionOne" || e.RegionID != "RegionOne" || e.ID == "" {
				t.Errorf("endpoint %+v", e)
			}
			urls[s.Type+"/"+s.Name+"/"+e.Interface] = e.URL
		}
	}
	for _, iface := range []string{"public", "internal", "admin"} {
		if got, want := urls["object-store/swift/"+iface], w.srv.URL+"/v1/AUTH_"+p; got != want {
			t.Errorf("swift %s endpoint %q, want %q", iface, got, want)
		}
		if got, want := urls["identity/keystone/"+iface], w.srv.URL+"/v3"; got != want {
			t.Errorf("identity %s endpoint %q, want %q", iface, got, want)
		}
	}

	pr, err := w.svc.Validate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if pr.UserID != u || pr.UserName != w.prefix+"alice" || pr.ProjectID != p || pr.ProjectName != w.prefix+"alpha" ||
		pr.DomainID != "default" || !slices.Equal(pr.Roles, []string{"member", "reader"}) || pr.Root {
		t.Errorf("principal %+v", pr)
	}
	if !pr.CanWrite() || pr.IsAdmin() {
		t.Errorf("principal rights: write %v admin %v", pr.CanWrite(), pr.IsAdmin())
	}
}

func TestPasswordScopedByNames(t *testing.T) {
	w := newWorld(t)
	dom := w.domain("corp")
	p := w.project(dom, "web")
	u := w.user(dom, "erin", "erin-secret", "")
	w.assign(u, p, "admin")

	// User by name in a domain given by name, project by name in a domain
	// given by id.
	_, d := w.mustToken(authBody(
		passwordByName(w.prefix+"erin", "name", w.prefix+"corp", "erin-secret"),
		obj{"project": obj{"name": w.prefix + "web", "domain": obj{"id": dom}}}))
	if d.Token.User.ID != u || d.Token.User.Domain != (idName{dom, w.prefix + "corp"}) {
		t.Errorf("user %+v", d.Token.User)
	}
	if d.Token.Project == nil || d.Token.Project.ID != p || d.Token.Project.Domain != (idName{dom, w.prefix + "corp"}) {
		t.Errorf("project %+v", d.Token.Project)
	}
	// And the other way round.
	_, d = w.mustToken(authBody(
		passwordByName(w.prefix+"erin", "id", dom, "erin-secret"),
		obj{"project": obj{"name": w.prefix + "web", "domain": obj{"name": w.prefix + "corp"}}}))
	if d.Token.Project == nil || d.Token.Project.ID != p || !slices.Equal(d.Token.Roles, []idName{{"admin", "admin"}}) {
		t.Errorf("token %+v", d.Token)
	}
	// The same name in another domain is another user.
	r := w.post(authBody(passwordByName(w.prefix+"erin", "id", "default", "erin-secret"), nil))
	expectError(t, r, http.StatusUnauthorized)
	// A project name that does not exist in the domain.
	r = w.post(authBody(passwordByName(w.prefix+"erin", "id", dom, "erin-secret"),
		obj{"project": obj{"name": w.prefix + "web", "domain": obj{"id": "default"}}}))
	expectError(t, r, http.StatusUnauthorized)
}

func TestNoCatalog(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "reader")
	b, _ := json.Marshal(authBody(passwordByID(u, "pw-alice1"), projectByID(p)))
	r := w.do(http.MethodPost, "/v3/auth/tokens?nocatalog", string(b), nil)
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["token"]["catalog"]; ok {
		t.Errorf("catalog present with ?nocatalog: %s", r.body)
	}
	if _, ok := raw["token"]["roles"]; !ok {
		t.Errorf("roles missing: %s", r.body)
	}
	// GET with nocatalog too.
	tok := r.header.Get("X-Subject-Token")
	g := w.do(http.MethodGet, "/v3/auth/tokens?nocatalog", "", map[string]string{"X-Auth-Token": tok, "X-Subject-Token": tok})
	if g.status != http.StatusOK || strings.Contains(string(g.body), `"catalog"`) {
		t.Errorf("GET ?nocatalog: %d %s", g.status, g.body)
	}
}

func TestUnscopedAndDefaultProject(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "home")
	plain := w.user(raftmap.DefaultDomain, "plain", "pw-plain1", "")
	homed := w.user(raftmap.DefaultDomain, "homed", "pw-homed1", p)
	w.assign(plain, p, "member")
	w.assign(homed, p, "member")

	// No scope and no default project: unscoped, without project, roles or
	// catalog.
	tok, d := w.mustToken(authBody(passwordByID(plain, "pw-plain1"), nil))
	if d.Token.Project != nil || d.Token.Roles != nil || d.Token.Catalog != nil || d.Token.IsDomain != nil {
		t.Errorf("unscoped token %+v", d.Token)
	}
	pr, err := w.svc.Validate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if pr.UserID != plain || pr.ProjectID != "" || len(pr.Roles) != 0 || pr.CanRead() {
		t.Errorf("unscoped principal %+v", pr)
	}

	// No scope with a default project: scoped to it, as Keystone does.
	_, d = w.mustToken(authBody(passwordByID(homed, "pw-homed1"), nil))
	if d.Token.Project == nil || d.Token.Project.ID != p {
		t.Errorf("default project not used: %+v", d.Token.Project)
	}
	// An explicit "unscoped" wins, in both spellings.
	for _, scope := range []any{"unscoped", obj{"unscoped": obj{}}} {
		_, d = w.mustToken(authBody(passwordByID(homed, "pw-homed1"), scope))
		if d.Token.Project != nil {
			t.Errorf("scope %v: scoped to %+v", scope, d.Token.Project)
		}
	}
	// A default project without a role gives an unscoped token.
	w.unassign(homed, p, "member")
	_, d = w.mustToken(authBody(passwordByID(homed, "pw-homed1"), nil))
	if d.Token.Project != nil {
		t.Errorf("default project without a role: scoped to %+v", d.Token.Project)
	}
	// Domain scope is not offered.
	r := w.post(authBody(passwordByID(plain, "pw-plain1"), obj{"domain": obj{"id": "default"}}))
	expectError(t, r, http.StatusUnauthorized)
}

func TestTokenMethod(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	q := w.project(raftmap.DefaultDomain, "beta")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	w.assign(u, q, "reader")

	unscoped, ud := w.mustToken(authBody(passwordByID(u, "pw-alice1"), nil))
	w.clock.Advance(10 * time.Minute)

	scoped, sd := w.mustToken(authBody(tokenMethod(unscoped), projectByID(p)))
	if !slices.Equal(sd.Token.Methods, []string{"token", "password"}) {
		t.Errorf("methods %v", sd.Token.Methods)
	}
	if sd.Token.Project == nil || sd.Token.Project.ID != p {
		t.Fatalf("project %+v", sd.Token.Project)
	}
	// The expiry is the parent's, never later.
	if sd.Token.ExpiresAt != ud.Token.ExpiresAt {
		t.Errorf("expires_at %s, parent's %s", sd.Token.ExpiresAt, ud.Token.ExpiresAt)
	}
	if parseKeystoneTime(t, sd.Token.IssuedAt).Sub(parseKeystoneTime(t, ud.Token.IssuedAt)) != 10*time.Minute {
		t.Errorf("issued_at %s, parent's %s", sd.Token.IssuedAt, ud.Token.IssuedAt)
	}
	if len(sd.Token.AuditIDs) != 2 || sd.Token.AuditIDs[1] != ud.Token.AuditIDs[0] || sd.Token.AuditIDs[0] == ud.Token.AuditIDs[0] {
		t.Errorf("audit_ids %v, parent's %v", sd.Token.AuditIDs, ud.Token.AuditIDs)
	}
	// Rescoping a scoped token to another project.
	rescoped, rd := w.mustToken(authBody(tokenMethod(scoped), projectByID(q)))
	if rd.Token.Project == nil || rd.Token.Project.ID != q || !slices.Equal(rd.Token.Roles, []idName{{"reader", "reader"}}) {
		t.Errorf("rescoped %+v", rd.Token)
	}
	if rd.Token.ExpiresAt != ud.Token.ExpiresAt || rd.Token.AuditIDs[1] != ud.Token.AuditIDs[0] {
		t.Errorf("rescoped expiry %s audit %v", rd.Token.ExpiresAt, rd.Token.AuditIDs)
	}

	// Revoking one token alone (cascade=false) leaves its chain.
	r := w.do(http.MethodDelete, "/v3/auth/tokens?cascade=false", "", map[string]string{"X-Auth-Token": unscoped, "X-Subject-Token": rescoped})
	if r.status != http.StatusNoContent {
		t.Fatalf("DELETE cascade=false: %d %s", r.status, r.body)
	}
	for tok, valid := range map[string]bool{unscoped: true, scoped: true, rescoped: false} {
		_, err := w.svc.Validate(context.Background(), tok)
		if valid != (err == nil) {
			t.Errorf("after revoking one: valid=%v, err %v", valid, err)
		}
	}
	// Revoking a derived token revokes its whole chain, as Keystone does.
	r = w.do(http.MethodDelete, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": scoped, "X-Subject-Token": scoped})
	if r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	for _, tok := range []string{unscoped, scoped} {
		if _, err := w.svc.Validate(context.Background(), tok); !errors.Is(err, keystone.ErrInvalidToken) {
			t.Errorf("chain token still valid: %v", err)
		}
	}
	// A revoked token cannot make new ones.
	r = w.post(authBody(tokenMethod(unscoped), projectByID(p)))
	expectError(t, r, http.StatusUnauthorized)

	// A token of another user in the same request: refused.
	v := w.user(raftmap.DefaultDomain, "victor", "pw-victor", "")
	vt := w.issue(v, "")
	r = w.post(authBody(obj{"methods": []string{"password", "token"},
		"password": obj{"user": obj{"id": u, "password": "pw-alice1"}}, "token": obj{"id": vt}}, nil))
	expectError(t, r, http.StatusUnauthorized)
	// Both methods for the same user: fine.
	fresh := w.issue(u, "")
	_, bd := w.mustToken(authBody(obj{"methods": []string{"password", "token"},
		"password": obj{"user": obj{"id": u, "password": "pw-alice1"}}, "token": obj{"id": fresh}}, projectByID(p)))
	if !slices.Equal(bd.Token.Methods, []string{"token", "password"}) {
		t.Errorf("methods %v", bd.Token.Methods)
	}
}

func TestValidateOverHTTP(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	alice := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	bob := w.user(raftmap.DefaultDomain, "bob", "pw-bob123", "")
	root := w.user(raftmap.DefaultDomain, "root", "pw-root12", "")
	cloud := w.project(raftmap.DefaultDomain, "cloud-admin")
	w.assign(alice, p, "member")
	w.assign(alice, cloud, "reader")
	w.assign(bob, p, "reader")
	w.assign(bob, cloud, "admin")
	w.assign(root, cloud, "admin")
	// The admin role on the cloud admin project is the right to check
	// anyone's tokens; the admin role on another project is not.
	if err := w.cat.Propose(context.Background(), raftmap.PutSetting{Name: catalog.AdminProjectSetting, Value: cloud}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.cat.Propose(context.Background(), raftmap.PutSetting{Name: catalog.AdminProjectSetting, Value: ""})
	})
	at, bt, rt := w.issue(alice, p), w.issue(bob, p), w.issue(root, cloud)
	if pr, err := w.svc.Validate(context.Background(), rt); err != nil || !pr.Root {
		t.Fatalf("the cloud admin's principal = %+v, %v; want Root", pr, err)
	}
	if pr, err := w.svc.Validate(context.Background(), bt); err != nil || pr.Root || pr.IsAdmin() {
		t.Fatalf("a reader's principal = %+v, %v", pr, err)
	}

	// A user checks its own token: GET gives the document, HEAD the
	// headers.
	r := w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": at, "X-Subject-Token": at})
	if r.status != http.StatusOK || r.header.Get("X-Subject-Token") != at {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	d := decodeToken(t, r.body)
	if d.Token.User.ID != alice || !slices.Equal(d.Token.Roles, []idName{{"member", "member"}}) || d.Token.Catalog == nil {
		t.Errorf("GET document %+v", d.Token)
	}
	h := w.do(http.MethodHead, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": at, "X-Subject-Token": at})
	if h.status != http.StatusOK || len(h.body) != 0 || h.header.Get("X-Subject-Token") != at {
		t.Errorf("HEAD: %d %q", h.status, h.body)
	}
	// Roles shown are those held now.
	w.assign(alice, p, "admin")
	r = w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": at, "X-Subject-Token": at})
	if d := decodeToken(t, r.body); !slices.Equal(d.Token.Roles, []idName{{"admin", "admin"}, {"member", "member"}}) {
		t.Errorf("roles after a new assignment: %v", d.Token.Roles)
	}
	w.unassign(alice, p, "admin")

	// Another user's token: only an admin may check it.
	r = w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": bt, "X-Subject-Token": at})
	expectError(t, r, http.StatusForbidden)
	r = w.do(http.MethodDelete, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": bt, "X-Subject-Token": at})
	expectError(t, r, http.StatusForbidden)
	r = w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": rt, "X-Subject-Token": at})
	if r.status != http.StatusOK || decodeToken(t, r.body).Token.User.ID != alice {
		t.Errorf("admin GET: %d %s", r.status, r.body)
	}
	// A bad caller is 401 with Keystone's WWW-Authenticate; a bad subject
	// is 404.
	for _, caller := range []string{"", "garbage", at[:len(at)-2]} {
		r = w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": caller, "X-Subject-Token": at})
		expectError(t, r, http.StatusUnauthorized)
		if got, want := r.header.Get("WWW-Authenticate"), `Keystone uri="`+w.srv.URL+`"`; got != want {
			t.Errorf("WWW-Authenticate %q, want %q", got, want)
		}
	}
	for _, subject := range []string{"", "garbage", at[:len(at)-2]} {
		r = w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": rt, "X-Subject-Token": subject})
		if e := expectError(t, r, http.StatusNotFound); e.Error.Message != "Could not find token." {
			t.Errorf("message %q", e.Error.Message)
		}
		r = w.do(http.MethodHead, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": rt, "X-Subject-Token": subject})
		if r.status != http.StatusNotFound || len(r.body) != 0 {
			t.Errorf("HEAD bad subject: %d %q", r.status, r.body)
		}
	}
}

func TestRevokeThenValidateFails(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	tok, _ := w.mustToken(authBody(passwordByID(u, "pw-alice1"), projectByID(p)))
	other := w.issue(u, p)

	r := w.do(http.MethodDelete, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": tok, "X-Subject-Token": tok})
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if _, err := w.svc.Validate(context.Background(), tok); !errors.Is(err, keystone.ErrInvalidToken) {
		t.Errorf("Validate after revoke: %v", err)
	}
	r = w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": other, "X-Subject-Token": tok})
	expectError(t, r, http.StatusNotFound)
	r = w.do(http.MethodDelete, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": other, "X-Subject-Token": tok})
	expectError(t, r, http.StatusNotFound)
	// The user's other tokens are untouched.
	if _, err := w.svc.Validate(context.Background(), other); err != nil {
		t.Errorf("other token: %v", err)
	}
	// A revocation holds on a restarted service (it lives in the catalog).
	again := keystone.New(keystone.Config{Catalog: w.cat, Now: w.clock.Now})
	if _, err := again.Validate(context.Background(), tok); !errors.Is(err, keystone.ErrInvalidToken) {
		t.Errorf("new service accepts a revoked token: %v", err)
	}
	if _, err := again.Validate(context.Background(), other); err != nil {
		t.Errorf("new service refuses a good token: %v", err)
	}
	r = w.do(http.MethodDelete, "/v3/auth/tokens?cascade=maybe", "", map[string]string{"X-Auth-Token": other, "X-Subject-Token": other})
	expectError(t, r, http.StatusBadRequest)
}

func TestExpired(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	tok, exp := func() (string, time.Time) {
		tok, _, exp, err := w.svc.Issue(context.Background(), u, p)
		if err != nil {
			t.Fatal(err)
		}
		return tok, exp
	}()
	if !exp.Equal(w.clock.Now().Truncate(time.Microsecond).Add(ttl)) {
		t.Errorf("expires %v, now %v", exp, w.clock.Now())
	}
	w.clock.Advance(ttl - time.Second)
	if _, err := w.svc.Validate(context.Background(), tok); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	w.clock.Advance(time.Second)
	if _, err := w.svc.Validate(context.Background(), tok); !errors.Is(err, keystone.ErrInvalidToken) {
		t.Fatalf("at expiry: %v", err)
	}
	fresh := w.issue(u, p)
	r := w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": fresh, "X-Subject-Token": tok})
	expectError(t, r, http.StatusNotFound)
	r = w.do(http.MethodGet, "/v3/auth/tokens", "", map[string]string{"X-Auth-Token": tok, "X-Subject-Token": fresh})
	expectError(t, r, http.StatusUnauthorized)
	r = w.post(authBody(tokenMethod(tok), projectByID(p)))
	expectError(t, r, http.StatusUnauthorized)
}

func TestForged(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "reader")
	tok := w.issue(u, p)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("token is not base64url: %v", err)
	}
	// Every flipped bit of every byte is caught.
	for i := range raw {
		for bit := range 8 {
			b := slices.Clone(raw)
			b[i] ^= 1 << bit
			if _, err := w.svc.Validate(context.Background(), base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, keystone.ErrInvalidToken) {
				t.Fatalf("byte %d bit %d flipped: %v", i, bit, err)
			}
		}
	}
	for name, bad := range map[string]string{
		"empty": "", "short": tok[:20], "truncated": tok[:len(tok)-1], "extended": tok + "AA",
		"padded": tok + "=", "std alphabet": strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+/",
		"huge": strings.Repeat("A", 1<<16), "spaces": " " + tok,
	} {
		if _, err := w.svc.Validate(context.Background(), bad); !errors.Is(err, keystone.ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A token signed with another catalog's key, for the same ids.
	other := newWorldWithOwnCatalog(t, w.prefix)
	op := other.project(raftmap.DefaultDomain, "alpha")
	ou := other.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	other.assign(ou, op, "reader")
	if op != p || ou != u {
		t.Fatalf("ids differ: %s %s / %s %s", op, ou, p, u)
	}
	foreign := other.issue(ou, op)
	if _, err := other.svc.Validate(context.Background(), foreign); err != nil {
		t.Fatalf("foreign token on its own catalog: %v", err)
	}
	if _, err := w.svc.Validate(context.Background(), foreign); !errors.Is(err, keystone.ErrInvalidToken) {
		t.Errorf("token of another key accepted: %v", err)
	}
	if _, err := w.svc.Validate(context.Background(), tok); err != nil {
		t.Errorf("good token: %v", err)
	}
}

func TestWrongPasswordAndUnknownUserLookAlike(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	off := w.user(raftmap.DefaultDomain, "off", "pw-off123", "")
	w.assign(u, p, "member")
	w.assign(off, p, "member")
	w.propose(raftmap.PutUser{User: func() raftmap.User {
		x, _ := w.cat.View().User(off)
		x.Disabled = true
		return x
	}()})

	cases := map[string]any{
		"wrong password":       authBody(passwordByID(u, "pw-wrong"), projectByID(p)),
		"unknown id":           authBody(passwordByID(w.prefix+"nobody", "pw-alice1"), projectByID(p)),
		"unknown name":         authBody(passwordByName(w.prefix+"nobody", "id", "default", "pw-alice1"), projectByID(p)),
		"unknown domain":       authBody(passwordByName(w.prefix+"alice", "name", "Nowhere", "pw-alice1"), projectByID(p)),
		"wrong password, name": authBody(passwordByName(w.prefix+"alice", "name", "Default", "pw-alice2"), nil),
		"empty password":       authBody(passwordByID(u, ""), nil),
		"disabled user":        authBody(passwordByID(off, "pw-off123"), projectByID(p)),
	}
	var first []byte
	for name, body := range cases {
		r := w.post(body)
		expectError(t, r, http.StatusUnauthorized)
		if first == nil {
			first = r.body
		} else if string(r.body) != string(first) {
			t.Errorf("%s: body %s differs from %s", name, r.body, first)
		}
		if r.header.Get("X-Subject-Token") != "" {
			t.Errorf("%s: a token was issued", name)
		}
	}
	if _, _, _, err := w.svc.Issue(context.Background(), w.prefix+"nobody", ""); !errors.Is(err, keystone.ErrAuthFailed) {
		t.Errorf("Issue for an unknown user: %v", err)
	}
}

func TestNoRoleOnProjectIs403(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	q := w.project(raftmap.DefaultDomain, "beta")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, q, "member")
	r := w.post(authBody(passwordByID(u, "pw-alice1"), projectByID(p)))
	expectError(t, r, http.StatusForbidden)
	if r.header.Get("X-Subject-Token") != "" {
		t.Error("a token was issued")
	}
	if _, _, _, err := w.svc.Issue(context.Background(), u, p); !errors.Is(err, keystone.ErrNoRole) {
		t.Errorf("Issue without a role: %v", err)
	}
	// An unknown or disabled project is 401.
	r = w.post(authBody(passwordByID(u, "pw-alice1"), projectByID(w.prefix+"p-nothing")))
	expectError(t, r, http.StatusUnauthorized)
	w.propose(raftmap.PutProject{Project: raftmap.Project{ID: q, Name: w.prefix + "beta", Domain: "default", Disabled: true}})
	r = w.post(authBody(passwordByID(u, "pw-alice1"), projectByID(q)))
	expectError(t, r, http.StatusUnauthorized)
}

func TestRoleChangesTakeEffectAtOnce(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	tok := w.issue(u, p)
	unscoped := w.issue(u, "")

	w.assign(u, p, "reader")
	w.unassign(u, p, "member")
	pr, err := w.svc.Validate(context.Background(), tok)
	if err != nil || !slices.Equal(pr.Roles, []string{"reader"}) || pr.CanWrite() || !pr.CanRead() {
		t.Fatalf("after member -> reader: %+v, %v", pr, err)
	}
	w.unassign(u, p, "reader")
	if _, err := w.svc.Validate(context.Background(), tok); !errors.Is(err, keystone.ErrInvalidToken) {
		t.Fatalf("after every role is removed: %v", err)
	}
	// An unscoped token does not depend on roles.
	if _, err := w.svc.Validate(context.Background(), unscoped); err != nil {
		t.Errorf("unscoped token: %v", err)
	}
	// Given a role back, the same token works again (it was never revoked).
	w.assign(u, p, "admin")
	if pr, err := w.svc.Validate(context.Background(), tok); err != nil || !pr.IsAdmin() {
		t.Errorf("after admin is given: %+v, %v", pr, err)
	}
}

func TestDisabledOrDeletedRecordsInvalidateTokens(t *testing.T) {
	w := newWorld(t)
	dom := w.domain("corp")
	p := w.project(dom, "alpha")
	u := w.user(dom, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	valid := func() error { _, err := w.svc.Validate(context.Background(), w.issue(u, p)); return err }
	if err := valid(); err != nil {
		t.Fatal(err)
	}
	check := func(what string, tok string) {
		t.Helper()
		if _, err := w.svc.Validate(context.Background(), tok); !errors.Is(err, keystone.ErrInvalidToken) {
			t.Errorf("%s: token still valid (%v)", what, err)
		}
	}
	uRec, _ := w.cat.View().User(u)
	pRec, _ := w.cat.View().Project(p)
	dRec, _ := w.cat.View().Domain(dom)

	tok := w.issue(u, p)
	uRec.Disabled = true
	w.propose(raftmap.PutUser{User: uRec})
	check("disabled user", tok)
	r := w.post(authBody(passwordByID(u, "pw-alice1"), nil))
	expectError(t, r, http.StatusUnauthorized)
	uRec.Disabled = false
	w.propose(raftmap.PutUser{User: uRec})
	if _, err := w.svc.Validate(context.Background(), tok); err != nil {
		t.Errorf("re-enabled user: %v", err)
	}

	pRec.Disabled = true
	w.propose(raftmap.PutProject{Project: pRec})
	check("disabled project", tok)
	pRec.Disabled = false
	w.propose(raftmap.PutProject{Project: pRec})

	dRec.Disabled = true
	w.propose(raftmap.PutDomain{Domain: dRec})
	check("disabled domain", tok)
	dRec.Disabled = false
	w.propose(raftmap.PutDomain{Domain: dRec})
	if _, err := w.svc.Validate(context.Background(), tok); err != nil {
		t.Errorf("re-enabled domain: %v", err)
	}

	w.propose(raftmap.DeleteUser{ID: u})
	check("deleted user", tok)
}

func TestIssueAndValidateErrors(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.svc.Validate(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Validate: %v", err)
	}
	none := keystone.New(keystone.Config{})
	if _, err := none.Validate(context.Background(), "x"); !errors.Is(err, keystone.ErrUnavailable) {
		t.Errorf("no catalog: %v", err)
	}
	if _, _, _, err := none.Issue(context.Background(), "u", ""); !errors.Is(err, keystone.ErrUnavailable) {
		t.Errorf("no catalog: %v", err)
	}
	srv := httptestServer(t, none)
	r := doURL(t, http.MethodGet, srv+"/v3/auth/tokens", map[string]string{"X-Auth-Token": "a", "X-Subject-Token": "b"})
	expectError(t, r, http.StatusServiceUnavailable)
}

func BenchmarkValidate(b *testing.B) {
	w := newWorld(b)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	tok := w.issue(u, p)
	for b.Loop() {
		if _, err := w.svc.Validate(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
