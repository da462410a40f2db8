package swift

import (
	"net/http"
	"testing"
)

func TestAuthorizationByRoleAndAccount(t *testing.T) {
	e := newEnv(t)
	e.mkdir("priv", nil)
	e.put("priv", "o", []byte("secret"), nil)
	type check struct {
		method, path, token string
		status              int
	}
	for _, c := range []check{
		{"GET", a("/priv/o"), "", 401},
		{"GET", a("/priv/o"), "forged", 401},
		{"GET", a("/priv"), "", 401},
		{"HEAD", a("/priv/o"), "", 401},
		{"PUT", a("/priv/new"), "", 401},
		{"GET", a("/priv/o"), tokReaderA, 200},
		{"GET", a("/priv"), tokReaderA, 200},
		{"PUT", a("/priv/new"), tokReaderA, 403},
		{"POST", a("/priv/o"), tokReaderA, 403},
		{"DELETE", a("/priv/o"), tokReaderA, 403},
		{"GET", a("/priv/o"), tokMemberB, 403},
		{"GET", a("/priv/o"), tokAdminB, 403},
		{"PUT", a("/priv/new"), tokAdminB, 403},
		{"GET", a("/priv"), tokAdminB, 403},
		{"GET", a("/priv/o"), tokNoScope, 403},
		{"GET", b("/priv/o"), tokMemberB, 404}, // invisible from beta's account
		{"GET", b("/priv"), tokMemberB, 404},
		{"GET", a("/priv/o"), tokRoot, 200},
		{"PUT", a("/priv/rootobj"), tokRoot, 201},
		{"GET", b("/priv/o"), tokRoot, 404},
		{"PUT", a("/priv/new"), tokMemberA, 201},
		{"DELETE", a("/priv/new"), tokMemberA, 204},
		{"GET", a("/nosuch/o"), tokMemberB, 403},
		{"GET", a("/nosuch/o"), "", 401},
		{"GET", a("/nosuch/o"), tokReaderA, 404},
	} {
		var body []byte
		if c.method == "PUT" || c.method == "POST" {
			body = []byte{}
		}
		r := e.do(c.method, c.path, c.token, nil, body)
		if r.status != c.status {
			t.Errorf("%s %s as %q: %d, want %d (%q)", c.method, c.path, c.token, r.status, c.status, r.body)
		}
	}
}

func TestStorageTokenAndCrossAccountCopy(t *testing.T) {
	e := newEnv(t)
	e.mkdir("src", nil)
	e.put("src", "o", []byte("payload"), nil)
	e.must(e.do("GET", a("/src/o"), "", hdr{"X-Storage-Token": tokReaderA}, nil), http.StatusOK, "X-Storage-Token")
	e.must(e.do("PUT", b("/dst"), tokMemberB, hdr{"X-Container-Write": projA + ":um"}, nil), http.StatusCreated, "beta container writable by mallory")
	e.must(e.do("COPY", a("/src/o"), tokMemberA, hdr{"Destination": "dst/copied", "Destination-Account": "AUTH_" + projB}, nil), http.StatusCreated, "COPY to beta")
	r := e.must(e.do("GET", b("/dst/copied"), tokMemberB, nil, nil), http.StatusOK, "GET the copy in beta")
	if r.body != "payload" {
		t.Fatalf("copy %q", r.body)
	}
	e.must(e.do("COPY", a("/src/o"), tokAdminA, hdr{"Destination": "dst/copied2", "Destination-Account": "AUTH_" + projB}, nil), http.StatusForbidden, "COPY to beta by a user the ACL does not name")
	e.must(e.do("COPY", a("/src/o"), tokMemberA, hdr{"Destination": "dst/x", "Destination-Account": "bogus"}, nil), http.StatusPreconditionFailed, "bad Destination-Account")
}

func TestContainerACLs(t *testing.T) {
	e := newEnv(t)
	e.mkdir("shared", nil)
	e.put("shared", "o", []byte("data"), hdr{"X-Object-Meta-Public-Note": "hi"})

	set := func(read, write string) {
		t.Helper()
		e.must(e.do("POST", a("/shared"), tokAdminA, hdr{"X-Container-Read": read, "X-Container-Write": write}, nil), http.StatusNoContent, "set ACLs")
	}
	status := func(method, path, token string, h hdr, body []byte) int {
		t.Helper()
		return e.do(method, path, token, h, body).status
	}

	// Bob of beta, by project and user id.
	set("pb:ub", "")
	if s := status("GET", a("/shared/o"), tokMemberB, nil, nil); s != 200 {
		t.Fatalf("read ACL pb:ub: %d", s)
	}
	if s := status("GET", b("/shared/o"), tokMemberB, nil, nil); s != 200 {
		t.Fatalf("read ACL through bob's own account: %d", s)
	}
	if s := status("GET", a("/shared"), tokMemberB, nil, nil); s != 200 {
		t.Fatalf("listing with the read ACL: %d", s)
	}
	if s := status("GET", a("/shared/o"), tokAdminB, nil, nil); s != 403 {
		t.Fatalf("another beta user: %d", s)
	}
	if s := status("PUT", a("/shared/bob"), tokMemberB, nil, []byte("x")); s != 403 {
		t.Fatalf("write without the write ACL: %d", s)
	}
	if s := status("GET", a("/shared/o"), "", nil, nil); s != 401 {
		t.Fatalf("anonymous: %d", s)
	}
	// ACLs are only shown to the owner.
	if r := e.do("HEAD", a("/shared"), tokMemberB, nil, nil); r.header.Get("X-Container-Read") != "" {
		t.Fatalf("ACL shown to a grantee: %v", r.header)
	}
	if r := e.do("HEAD", a("/shared"), tokMemberA, nil, nil); r.header.Get("X-Container-Read") != "pb:ub" {
		t.Fatalf("ACL not shown to the owner: %v", r.header)
	}
	if r := e.do("HEAD", a("/shared"), tokReaderA, nil, nil); r.status != 204 || r.header.Get("X-Container-Read") != "" {
		t.Fatalf("ACL shown to the owner's reader: %v", r.header)
	}
	// Wildcards and names.
	for _, acl := range []string{"pb:*", "*:ub", "beta:bob", "*:*"} {
		set(acl, "")
		if s := status("GET", a("/shared/o"), tokMemberB, nil, nil); s != 200 {
			t.Errorf("read ACL %s: %d", acl, s)
		}
	}
	set("pb:someone", "")
	if s := status("GET", a("/shared/o"), tokMemberB, nil, nil); s != 403 {
		t.Fatalf("read ACL for another user: %d", s)
	}
	// Unscoped tokens match no identity.
	set("*:ua", "")
	if s := status("GET", a("/shared/o"), tokNoScope, nil, nil); s != 403 {
		t.Fatalf("unscoped token through an ACL: %d", s)
	}

	// Write ACL.
	e.must(e.do("POST", a("/shared"), tokAdminA, hdr{"X-Remove-Container-Read": "x", "X-Container-Write": "pb:ub"}, nil), http.StatusNoContent, "write ACL")
	if s := status("PUT", a("/shared/bob"), tokMemberB, nil, []byte("x")); s != 201 {
		t.Fatalf("write ACL PUT: %d", s)
	}
	if s := status("DELETE", a("/shared/bob"), tokMemberB, nil, nil); s != 204 {
		t.Fatalf("write ACL DELETE: %d", s)
	}
	if s := status("GET", a("/shared/o"), tokMemberB, nil, nil); s != 403 {
		t.Fatalf("read with only the write ACL: %d", s)
	}
	if s := status("POST", a("/shared"), tokMemberB, hdr{"X-Container-Meta-X": "y"}, nil); s != 403 {
		t.Fatalf("container POST with the write ACL: %d", s)
	}
	if s := status("DELETE", a("/shared"), tokMemberB, nil, nil); s != 403 {
		t.Fatalf("container DELETE with the write ACL: %d", s)
	}
	// A role name grants the owning project's users only.
	set("", "reader")
	if s := status("PUT", a("/shared/rita"), tokReaderA, nil, []byte("x")); s != 201 {
		t.Fatalf("role ACL for alpha's reader: %d", s)
	}
	e.must(e.do("POST", a("/shared"), tokAdminA, hdr{"X-Container-Write": "member"}, nil), http.StatusNoContent, "write ACL member")
	if s := status("PUT", a("/shared/bob2"), tokMemberB, nil, []byte("x")); s != 403 {
		t.Fatalf("role ACL for another project's member: %d", s)
	}

	// Referrers.
	set(".r:*", "")
	e.must(e.do("POST", a("/shared"), tokAdminA, hdr{"X-Remove-Container-Write": "x"}, nil), http.StatusNoContent, "drop write ACL")
	r := e.must(e.do("GET", a("/shared/o"), "", nil, nil), http.StatusOK, "public object")
	if r.body != "data" {
		t.Fatalf("public read %q", r.body)
	}
	if s := status("GET", a("/shared"), "", nil, nil); s != 401 {
		t.Fatalf("public listing without .rlistings: %d", s)
	}
	if s := status("GET", b("/shared/o"), "", nil, nil); s != 401 {
		t.Fatalf("public object through another account: %d", s)
	}
	if s := status("PUT", a("/shared/anon"), "", nil, []byte("x")); s != 401 {
		t.Fatalf("anonymous write to a public container: %d", s)
	}
	if s := status("GET", a("/shared/o"), tokMemberB, nil, nil); s != 200 {
		t.Fatalf("public object with a token of another project: %d", s)
	}
	set(".r:*,.rlistings", "")
	if r := e.must(e.do("GET", a("/shared"), "", nil, nil), http.StatusOK, "public listing"); r.body != "o\nrita\n" {
		t.Fatalf("public listing %q", r.body)
	}
	set(".r:.example.com,.r:-bad.example.com", "")
	for ref, want := range map[string]int{"http://www.example.com/page": 200, "http://bad.example.com/": 401, "http://other.org/": 401, "": 401} {
		h := hdr{}
		if ref != "" {
			h["Referer"] = ref
		}
		if s := status("GET", a("/shared/o"), "", h, nil); s != want {
			t.Errorf("Referer %q: %d, want %d", ref, s, want)
		}
	}
	// ACL syntax.
	for acl, want := range map[string]string{
		".r:*.example.com":     ".r:.example.com",
		".referrer:*":          ".r:*",
		" pb:ub , .rlistings ": "pb:ub,.rlistings",
	} {
		set(acl, "")
		if r := e.do("HEAD", a("/shared"), tokAdminA, nil, nil); r.header.Get("X-Container-Read") != want {
			t.Errorf("ACL %q stored as %q, want %q", acl, r.header.Get("X-Container-Read"), want)
		}
	}
	for _, h := range []hdr{{"X-Container-Write": ".r:*"}, {"X-Container-Read": ".x:foo"}, {"X-Container-Read": ".r:"}} {
		e.must(e.do("POST", a("/shared"), tokAdminA, h, nil), http.StatusBadRequest, "bad ACL")
	}
}
