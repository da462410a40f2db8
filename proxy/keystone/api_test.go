package keystone_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/basaltstore/basalt/ring/raftmap"
)

func TestVersionDocuments(t *testing.T) {
	w := newWorld(t)
	type version struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Updated string `json:"updated"`
		Links   []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
		MediaTypes []struct {
			Base string `json:"base"`
			Type string `json:"type"`
		} `json:"media-types"`
	}
	check := func(v version, base string) {
		t.Helper()
		if v.ID != "v3.14" || v.Status != "stable" || v.Updated == "" {
			t.Errorf("version %+v", v)
		}
		if len(v.Links) != 1 || v.Links[0].Rel != "self" || v.Links[0].Href != base+"/v3/" {
			t.Errorf("links %+v, want self %s/v3/", v.Links, base)
		}
		if len(v.MediaTypes) != 1 || v.MediaTypes[0].Type != "application/vnd.openstack.identity-v3+json" || v.MediaTypes[0].Base != "application/json" {
			t.Errorf("media types %+v", v.MediaTypes)
		}
	}
	// GET / lists the versions with 300 Multiple Choices, as Keystone.
	r := w.do(http.MethodGet, "/", "", nil)
	if r.status != http.StatusMultipleChoices {
		t.Fatalf("GET /: %d %s", r.status, r.body)
	}
	var all struct {
		Versions struct {
			Values []version `json:"values"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(r.body, &all); err != nil || len(all.Versions.Values) != 1 {
		t.Fatalf("GET /: %s (%v)", r.body, err)
	}
	check(all.Versions.Values[0], w.srv.URL)

	for _, path := range []string{"/v3", "/v3/"} {
		r = w.do(http.MethodGet, path, "", nil)
		var one struct {
			Version version `json:"version"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &one) != nil {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		check(one.Version, w.srv.URL)
	}
	// Behind a TLS front end.
	r = w.do(http.MethodGet, "/v3", "", map[string]string{"X-Forwarded-Proto": "https"})
	var one struct {
		Version version `json:"version"`
	}
	if err := json.Unmarshal(r.body, &one); err != nil {
		t.Fatal(err)
	}
	check(one.Version, "https://"+strings.TrimPrefix(w.srv.URL, "http://"))

	h := w.do(http.MethodHead, "/v3", "", nil)
	if h.status != http.StatusOK || len(h.body) != 0 || h.header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD /v3: %d %q", h.status, h.body)
	}
	r = w.do(http.MethodPost, "/v3", "{}", nil)
	expectError(t, r, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	r = w.do(http.MethodGet, "/v3/users", "", nil)
	expectError(t, r, http.StatusNotFound)
	if r.header.Get("X-Openstack-Request-Id") == "" {
		t.Error("no X-Openstack-Request-Id")
	}
}

func TestMalformedRequests(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	good := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"` + u + `","password":"pw-alice1"}}}}}`
	if r := w.do(http.MethodPost, "/v3/auth/tokens", good, nil); r.status != http.StatusCreated {
		t.Fatalf("good body refused: %d %s", r.status, r.body)
	}
	bad400 := map[string]string{
		"empty":                   "",
		"not JSON":                "{",
		"trailing garbage":        good + "x",
		"array":                   "[]",
		"string":                  `"auth"`,
		"auth not object":         `{"auth":"x"}`,
		"no auth":                 `{"other":{}}`,
		"no identity":             `{"auth":{}}`,
		"no methods":              `{"auth":{"identity":{}}}`,
		"empty methods":           `{"auth":{"identity":{"methods":[]}}}`,
		"methods not array":       `{"auth":{"identity":{"methods":"password"}}}`,
		"password missing":        `{"auth":{"identity":{"methods":["password"]}}}`,
		"password without user":   `{"auth":{"identity":{"methods":["password"],"password":{}}}}`,
		"user without id, name":   `{"auth":{"identity":{"methods":["password"],"password":{"user":{"password":"x"}}}}}`,
		"user without password":   `{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"` + u + `"}}}}}`,
		"name without domain":     `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","password":"x"}}}}}`,
		"domain without id/name":  `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"a","password":"x","domain":{}}}}}}`,
		"password not string":     `{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"a","password":7}}}}}`,
		"token without id":        `{"auth":{"identity":{"methods":["token"],"token":{}}}}`,
		"token missing":           `{"auth":{"identity":{"methods":["token"]}}}`,
		"project without id":      strings.Replace(good, `}}}}}`, `}}},"scope":{"project":{}}}}`, 1),
		"project name, no domain": strings.Replace(good, `}}}}}`, `}}},"scope":{"project":{"name":"x"}}}}`, 1),
		"project empty id":        strings.Replace(good, `}}}}}`, `}}},"scope":{"project":{"id":""}}}}`, 1),
		"scope other string":      strings.Replace(good, `}}}}}`, `}}},"scope":"everything"}}`, 1),
		"scope number":            strings.Replace(good, `}}}}}`, `}}},"scope":5}}`, 1),
	}
	for name, body := range bad400 {
		r := w.do(http.MethodPost, "/v3/auth/tokens", body, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.status, r.body)
			continue
		}
		expectError(t, r, http.StatusBadRequest)
	}
	// Sanity: the scope replacements above do produce the intended bodies.
	scoped := strings.Replace(good, `}}}}}`, `}}},"scope":{"project":{"id":"`+p+`"}}}}`, 1)
	if r := w.do(http.MethodPost, "/v3/auth/tokens", scoped, nil); r.status != http.StatusCreated {
		t.Fatalf("scoped good body refused: %d %s", r.status, r.body)
	}
	// A body that is not JSON by its type: 400, as Keystone's JSON check.
	r := w.do(http.MethodPost, "/v3/auth/tokens", good, map[string]string{"Content-Type": "text/plain"})
	expectError(t, r, http.StatusBadRequest)
	// Too large.
	r = w.do(http.MethodPost, "/v3/auth/tokens", `{"auth":{"x":"`+strings.Repeat("a", 200000)+`"}}`, nil)
	expectError(t, r, http.StatusRequestEntityTooLarge)
	// An unsupported method is 401.
	r = w.do(http.MethodPost, "/v3/auth/tokens", `{"auth":{"identity":{"methods":["totp"],"totp":{}}}}`, nil)
	if e := expectError(t, r, http.StatusUnauthorized); !strings.Contains(e.Error.Message, "unsupported method") {
		t.Errorf("message %q", e.Error.Message)
	}
	// Methods not offered on the path.
	r = w.do(http.MethodPut, "/v3/auth/tokens", good, nil)
	expectError(t, r, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "GET, HEAD, POST, DELETE" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
}

func TestCatalogAndProjects(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	q := w.project(raftmap.DefaultDomain, "beta")
	off := w.project(raftmap.DefaultDomain, "gamma")
	w.project(raftmap.DefaultDomain, "delta")
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	w.assign(u, p, "reader")
	w.assign(u, q, "reader")
	w.assign(u, off, "reader")
	w.propose(raftmap.PutProject{Project: raftmap.Project{ID: off, Name: w.prefix + "gamma", Domain: "default", Disabled: true}})
	scoped, unscoped := w.issue(u, p), w.issue(u, "")

	r := w.do(http.MethodGet, "/v3/auth/catalog", "", map[string]string{"X-Auth-Token": scoped})
	var cat struct {
		Catalog []service `json:"catalog"`
		Links   struct {
			Self string `json:"self"`
		} `json:"links"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &cat) != nil {
		t.Fatalf("catalog: %d %s", r.status, r.body)
	}
	if len(cat.Catalog) != 2 || cat.Catalog[0].Type != "object-store" || cat.Catalog[0].Endpoints[0].URL != w.srv.URL+"/v1/AUTH_"+p ||
		cat.Links.Self != w.srv.URL+"/v3/auth/catalog" {
		t.Errorf("catalog %s", r.body)
	}
	r = w.do(http.MethodGet, "/v3/auth/catalog", "", map[string]string{"X-Auth-Token": unscoped})
	expectError(t, r, http.StatusForbidden)
	r = w.do(http.MethodGet, "/v3/auth/catalog", "", nil)
	expectError(t, r, http.StatusUnauthorized)

	r = w.do(http.MethodGet, "/v3/auth/projects", "", map[string]string{"X-Auth-Token": unscoped})
	var list struct {
		Projects []struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			DomainID string `json:"domain_id"`
			Enabled  bool   `json:"enabled"`
			Links    struct {
				Self string `json:"self"`
			} `json:"links"`
		} `json:"projects"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &list) != nil {
		t.Fatalf("projects: %d %s", r.status, r.body)
	}
	var ids []string
	for _, x := range list.Projects {
		ids = append(ids, x.ID)
		if x.DomainID != "default" || !x.Enabled || x.Links.Self != w.srv.URL+"/v3/projects/"+x.ID {
			t.Errorf("project %+v", x)
		}
	}
	if strings.Join(ids, ",") != p+","+q {
		t.Errorf("projects %v, want %s,%s", ids, p, q)
	}
	r = w.do(http.MethodGet, "/v3/auth/projects", "", map[string]string{"X-Auth-Token": "nope"})
	expectError(t, r, http.StatusUnauthorized)
}

func TestTempAuth(t *testing.T) {
	w := newWorld(t)
	p := w.project(raftmap.DefaultDomain, "alpha")
	w.project(raftmap.DefaultDomain, "beta") // alice holds no role there
	u := w.user(raftmap.DefaultDomain, "alice", "pw-alice1", "")
	w.assign(u, p, "member")
	account := w.prefix + "alpha:" + w.prefix + "alice"

	for _, tc := range []struct {
		path string
		hdr  map[string]string
	}{
		{"/auth/v1.0", map[string]string{"X-Auth-User": account, "X-Auth-Key": "pw-alice1"}},
		{"/auth/v1.0/", map[string]string{"X-Storage-User": account, "X-Storage-Pass": "pw-alice1"}},
		{"/auth/v1", map[string]string{"X-Auth-User": account, "X-Storage-Pass": "pw-alice1"}},
	} {
		r := w.do(http.MethodGet, tc.path, "", tc.hdr)
		if r.status != http.StatusOK || len(r.body) != 0 {
			t.Fatalf("%s: %d %s", tc.path, r.status, r.body)
		}
		tok := r.header.Get("X-Auth-Token")
		if tok == "" || r.header.Get("X-Storage-Token") != tok {
			t.Fatalf("tokens %q %q", tok, r.header.Get("X-Storage-Token"))
		}
		if got, want := r.header.Get("X-Storage-Url"), w.srv.URL+"/v1/AUTH_"+p; got != want {
			t.Errorf("X-Storage-Url %q, want %q", got, want)
		}
		if exp, err := strconv.Atoi(r.header.Get("X-Auth-Token-Expires")); err != nil || exp != int(ttl.Seconds()) {
			t.Errorf("X-Auth-Token-Expires %q", r.header.Get("X-Auth-Token-Expires"))
		}
		pr, err := w.svc.Validate(context.Background(), tok)
		if err != nil || pr.UserID != u || pr.ProjectID != p || !pr.CanWrite() {
			t.Errorf("tempauth token: %+v, %v", pr, err)
		}
	}
	r := w.do(http.MethodGet, "/auth/v1.0", "", map[string]string{"X-Auth-User": account, "X-Auth-Key": "pw-alice1", "X-Forwarded-Proto": "https"})
	if got := r.header.Get("X-Storage-Url"); !strings.HasPrefix(got, "https://") {
		t.Errorf("X-Storage-Url behind TLS %q", got)
	}

	var first string
	for name, hdr := range map[string]map[string]string{
		"wrong key":       {"X-Auth-User": account, "X-Auth-Key": "pw-alice2"},
		"unknown user":    {"X-Auth-User": w.prefix + "alpha:" + w.prefix + "nobody", "X-Auth-Key": "pw-alice1"},
		"unknown project": {"X-Auth-User": w.prefix + "nothing:" + w.prefix + "alice", "X-Auth-Key": "pw-alice1"},
		"no role":         {"X-Auth-User": w.prefix + "beta:" + w.prefix + "alice", "X-Auth-Key": "pw-alice1"},
		"no colon":        {"X-Auth-User": w.prefix + "alice", "X-Auth-Key": "pw-alice1"},
		"no key":          {"X-Auth-User": account},
		"nothing":         {},
		"empty project":   {"X-Auth-User": ":" + w.prefix + "alice", "X-Auth-Key": "pw-alice1"},
	} {
		r := w.do(http.MethodGet, "/auth/v1.0", "", hdr)
		if r.status != http.StatusUnauthorized || r.header.Get("X-Auth-Token") != "" {
			t.Errorf("%s: %d, token %q", name, r.status, r.header.Get("X-Auth-Token"))
		}
		if first == "" {
			first = string(r.body)
		} else if string(r.body) != first {
			t.Errorf("%s: body %q differs from %q", name, r.body, first)
		}
	}
	r = w.do(http.MethodPost, "/auth/v1.0", "", map[string]string{"X-Auth-User": account, "X-Auth-Key": "pw-alice1"})
	if r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST tempauth: %d", r.status)
	}
}
