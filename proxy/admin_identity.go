package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/proxy/keystone"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// The identity part of the administration API. Names (of users and
// projects) are looked up in the domain given by the "domain" parameter,
// by default the default domain.
//
//	GET    identity/domains                      list domains
//	POST   identity/domains?name=N               create a domain
//	GET    identity/projects                     list projects
//	POST   identity/projects?name=N              create a project
//	DELETE identity/projects?name=N              delete a project (it must own no bucket)
//	GET    identity/users                        list users (never their password hashes)
//	POST   identity/users  {"name","password","project"}   create (or update) a user
//	DELETE identity/users?name=N                 delete a user, with its roles and keys
//	GET    identity/roles                        list role assignments
//	POST   identity/roles?user=U&project=P&role=R   give a role (admin, member, reader)
//	DELETE identity/roles?user=U&project=P&role=R   take it away
//	GET    identity/keys[?user=U]                list access keys (without secrets)
//	POST   identity/keys?user=U&project=P        make an EC2-style access key; the answer
//	                                             is the only time its secret is shown
//	DELETE identity/keys?access_key=K            delete an access key

// catalogWriteTimeout bounds how long an administration request waits for
// the catalog to commit a change.
const catalogWriteTimeout = 15 * time.Second

// ProjectInfo, UserInfo, RoleInfo and KeyInfo are the records the
// identity administration API answers with.
type (
	ProjectInfo struct {
		ID, Name, Domain string
		Disabled         bool
		Buckets          int
	}
	UserInfo struct {
		ID, Name, Domain, DefaultProject string
		Disabled                         bool
	}
	RoleInfo struct{ User, UserID, Project, ProjectID, Role string }
	KeyInfo  struct {
		AccessKey, SecretKey string `json:",omitempty"`
		User, Project        string
		Created              time.Time
	}
)

func (p *Proxy) adminIdentity(w http.ResponseWriter, r *http.Request, what string) {
	cat := p.keys.cat
	if cat == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "NoCatalog", "message": "this server keeps no catalog"})
		return
	}
	if r.Method == http.MethodGet {
		// Lists answer with every change acknowledged before them, or not
		// at all on a node cut off from the majority.
		sctx, cancel := context.WithTimeout(r.Context(), catalogWriteTimeout)
		defer cancel()
		if err := cat.Sync(sctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "CatalogUnavailable", "message": err.Error()})
			return
		}
	}
	q := r.URL.Query()
	v := cat.View()
	domain := q.Get("domain")
	if domain == "" {
		domain = raftmap.DefaultDomain
	} else if d, ok := v.DomainByName(domain); ok {
		domain = d.ID
	}
	fail := func(status int, code, msg string) {
		writeJSON(w, status, map[string]string{"error": code, "message": msg})
	}
	failErr := func(err error) {
		switch {
		case errors.Is(err, raftmap.ErrExists), errors.Is(err, raftmap.ErrNotEmpty):
			fail(http.StatusConflict, "Conflict", err.Error())
		case errors.Is(err, raftmap.ErrBadCommand), errors.Is(err, identity.ErrPasswordTooLong):
			fail(http.StatusBadRequest, "InvalidArgument", err.Error())
		case errors.Is(err, raftmap.ErrNotFound), errors.Is(err, raftmap.ErrNoSuchKey),
			errors.Is(err, raftmap.ErrNoSuchUser), errors.Is(err, raftmap.ErrNoSuchProject):
			fail(http.StatusNotFound, "NotFound", err.Error())
		default:
			fail(http.StatusServiceUnavailable, "CatalogUnavailable", err.Error())
		}
	}
	project := func(name string) (raftmap.Project, bool) {
		if pr, ok := v.ProjectByName(domain, name); ok {
			return pr, true
		}
		pr, ok := v.Project(name)
		if !ok {
			fail(http.StatusNotFound, "NoSuchProject", "no project "+name)
		}
		return pr, ok
	}
	user := func(name string) (raftmap.User, bool) {
		if u, ok := v.UserByName(domain, name); ok {
			return u, true
		}
		u, ok := v.User(name)
		if !ok {
			fail(http.StatusNotFound, "NoSuchUser", "no user "+name)
		}
		return u, ok
	}
	// A node cut off from the catalog's majority answers, instead of
	// waiting for a leader forever.
	ctx, cancel := context.WithTimeout(r.Context(), catalogWriteTimeout)
	defer cancel()
	now := time.Now().UTC()
	switch what + " " + r.Method {
	case "domains GET":
		writeJSON(w, http.StatusOK, v.Domains())
	case "domains POST":
		d := raftmap.Domain{ID: catalog.NewID(), Name: q.Get("name"), Created: now}
		if err := cat.Propose(ctx, raftmap.PutDomain{Domain: d}); err != nil {
			failErr(err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	case "projects GET":
		out := []ProjectInfo{}
		for _, pr := range v.Projects() {
			out = append(out, ProjectInfo{ID: pr.ID, Name: pr.Name, Domain: pr.Domain, Disabled: pr.Disabled, Buckets: len(v.Buckets(pr.ID))})
		}
		writeJSON(w, http.StatusOK, out)
	case "projects POST":
		pr := raftmap.Project{ID: catalog.NewID(), Name: q.Get("name"), Domain: domain, Created: now}
		if err := cat.Propose(ctx, raftmap.PutProject{Project: pr}); err != nil {
			failErr(err)
			return
		}
		writeJSON(w, http.StatusOK, ProjectInfo{ID: pr.ID, Name: pr.Name, Domain: pr.Domain})
	case "projects DELETE":
		pr, ok := project(q.Get("name"))
		if !ok {
			return
		}
		if pr.ID == cat.AdminProject() {
			fail(http.StatusConflict, "Conflict", "the cloud admin project cannot be deleted")
			return
		}
		if err := cat.Propose(ctx, raftmap.DeleteProject{ID: pr.ID}); err != nil {
			failErr(err)
			return
		}
		writeJSON(w, http.StatusOK, ProjectInfo{ID: pr.ID, Name: pr.Name, Domain: pr.Domain})
	case "users GET":
		out := []UserInfo{}
		for _, u := range v.Users() {
			out = append(out, UserInfo{ID: u.ID, Name: u.Name, Domain: u.Domain, DefaultProject: u.DefaultProject, Disabled: u.Disabled})
		}
		writeJSON(w, http.StatusOK, out)
	case "users POST":
		var in struct{ Name, Password, Project string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
			fail(http.StatusBadRequest, "MalformedJSON", err.Error())
			return
		}
		if in.Password == "" {
			fail(http.StatusBadRequest, "InvalidArgument", "a user needs a password")
			return
		}
		u := raftmap.User{ID: catalog.NewID(), Name: in.Name, Domain: domain, Created: now}
		if old, ok := v.UserByName(domain, in.Name); ok {
			u = old
		}
		if in.Project != "" {
			pr, ok := project(in.Project)
			if !ok {
				return
			}
			u.DefaultProject = pr.ID
		}
		hash, err := identity.HashPassword(in.Password)
		if err != nil {
			failErr(err)
			return
		}
		u.Password = hash
		if err := cat.Propose(ctx, raftmap.PutUser{User: u}); err != nil {
			failErr(err)
			return
		}
		if u.Created.Before(now) {
			// A new password ends the tokens issued with the old one.
			rev := raftmap.Revocation{User: u.ID, IssuedBefore: now.Truncate(time.Microsecond), Expires: now.Add(keystone.DefaultTokenTTL)}
			if err := cat.Revoke(ctx, rev); err != nil {
				failErr(err)
				return
			}
		}
		writeJSON(w, http.StatusOK, UserInfo{ID: u.ID, Name: u.Name, Domain: u.Domain, DefaultProject: u.DefaultProject})
	case "users DELETE":
		u, ok := user(q.Get("name"))
		if !ok {
			return
		}
		if err := cat.Propose(ctx, raftmap.DeleteUser{ID: u.ID}); err != nil {
			failErr(err)
			return
		}
		writeJSON(w, http.StatusOK, UserInfo{ID: u.ID, Name: u.Name, Domain: u.Domain})
	case "roles GET":
		out := []RoleInfo{}
		for _, a := range v.Assignments() {
			u, _ := v.User(a.User)
			pr, _ := v.Project(a.Project)
			out = append(out, RoleInfo{User: u.Name, UserID: a.User, Project: pr.Name, ProjectID: a.Project, Role: a.Role})
		}
		writeJSON(w, http.StatusOK, out)
	case "roles POST", "roles DELETE":
		u, ok := user(q.Get("user"))
		if !ok {
			return
		}
		pr, ok := project(q.Get("project"))
		if !ok {
			return
		}
		a := raftmap.Assignment{User: u.ID, Project: pr.ID, Role: strings.ToLower(q.Get("role"))}
		var cmd raftmap.Command = raftmap.Assign{Assignment: a}
		if r.Method == http.MethodDelete {
			cmd = raftmap.Unassign{Assignment: a}
		}
		if err := cat.Propose(ctx, cmd); err != nil {
			failErr(err)
			return
		}
		writeJSON(w, http.StatusOK, RoleInfo{User: u.Name, UserID: u.ID, Project: pr.Name, ProjectID: pr.ID, Role: a.Role})
	case "keys GET":
		uid := ""
		if name := q.Get("user"); name != "" {
			u, ok := user(name)
			if !ok {
				return
			}
			uid = u.ID
		}
		out := []KeyInfo{}
		for _, k := range v.Keys(uid) {
			u, _ := v.User(k.User)
			pr, _ := v.Project(k.Project)
			out = append(out, KeyInfo{AccessKey: k.AccessKey, User: u.Name, Project: pr.Name, Created: k.Created})
		}
		writeJSON(w, http.StatusOK, out)
	case "keys POST":
		u, ok := user(q.Get("user"))
		if !ok {
			return
		}
		pr, ok := project(q.Get("project"))
		if !ok {
			return
		}
		if len(v.Roles(u.ID, pr.ID)) == 0 {
			fail(http.StatusConflict, "NoRole", "user "+u.Name+" holds no role on project "+pr.Name+": give one first")
			return
		}
		access, secret, err := newKeyPair()
		if err != nil {
			failErr(err)
			return
		}
		k := raftmap.Key{AccessKey: access, Secret: secret, User: u.ID, Project: pr.ID, Created: now}
		if err := cat.Propose(ctx, raftmap.PutKey{Key: k}); err != nil {
			failErr(err)
			return
		}
		writeJSON(w, http.StatusOK, KeyInfo{AccessKey: access, SecretKey: secret, User: u.Name, Project: pr.Name, Created: now})
	case "keys DELETE":
		if err := cat.Propose(ctx, raftmap.DeleteKey{AccessKey: q.Get("access_key")}); err != nil {
			failErr(err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"AccessKey": q.Get("access_key")})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "NoSuchOperation", "message": r.Method + " " + r.URL.Path})
	}
}

// newKeyPair makes an access key (20 upper-case letters and digits, as
// AWS's) and a secret (40 characters).
func newKeyPair() (string, string, error) {
	g, err := identity.Generate()
	if err != nil {
		return "", "", err
	}
	return g.AccessKey, g.SecretAccessKey, nil
}
