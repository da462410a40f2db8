package keystone

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/ring/raftmap"
)

// Paths served.
const (
	pathTokens   = "/v3/auth/tokens"
	pathCatalog  = "/v3/auth/catalog"
	pathProjects = "/v3/auth/projects"
)

// ServeHTTP serves the identity API: GET / and /v3 (version documents),
// POST, GET, HEAD and DELETE /v3/auth/tokens, GET /v3/auth/catalog and
// /v3/auth/projects, and Swift's tempauth handshake on GET /auth/v1.0 and
// /auth/v1. A trailing slash is ignored, as Keystone does.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Openstack-Request-Id", requestID())
	w.Header().Set("Vary", "X-Auth-Token")
	path := r.URL.Path
	for len(path) > 1 && strings.HasSuffix(path, "/") {
		path = path[:len(path)-1]
	}
	switch path {
	case "", "/":
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			writeJSON(w, r, http.StatusMultipleChoices, versionsDoc{Versions: versionList{Values: []versionBody{v3Version(r)}}})
		}
	case "/v3":
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			writeJSON(w, r, http.StatusOK, versionDoc{Version: v3Version(r)})
		}
	case pathTokens:
		switch r.Method {
		case http.MethodPost:
			s.postToken(w, r)
		case http.MethodGet, http.MethodHead:
			s.getToken(w, r)
		case http.MethodDelete:
			s.deleteToken(w, r)
		default:
			s.allow(w, r, http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete)
		}
	case pathCatalog:
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			s.getCatalog(w, r)
		}
	case pathProjects:
		if s.allow(w, r, http.MethodGet, http.MethodHead) {
			s.getProjects(w, r)
		}
	case "/auth/v1.0", "/auth/v1":
		s.serveTempAuth(w, r)
	default:
		writeJSON(w, r, http.StatusNotFound, errorDoc{Error: errorBody{Code: http.StatusNotFound, Title: http.StatusText(http.StatusNotFound), Message: msgNotFound}})
	}
}

// allow reports whether r's method is one of methods, and otherwise answers
// 405 with an Allow header.
func (s *Service) allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	s.log.Debug("keystone: method not allowed", "method", r.Method, "path", r.URL.Path)
	status := http.StatusMethodNotAllowed
	writeJSON(w, r, status, errorDoc{Error: errorBody{
		Code: status, Title: http.StatusText(status),
		Message: fmt.Sprintf("The method %s is not allowed for the requested URL.", r.Method),
	}})
	return false
}

// baseURL is the scheme and host the client used: X-Forwarded-Proto when a
// front end set it, else https for a TLS connection, else http.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		p, _, _ = strings.Cut(p, ",")
		switch p = strings.ToLower(strings.TrimSpace(p)); p {
		case "http", "https":
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}

// requestID is an OpenStack request id: "req-" and a random UUID.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "req-" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// writeJSON answers v as JSON with its Content-Length; a HEAD request gets
// the headers only.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":500,"title":"Internal Server Error","message":"` + msgInternal + `"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// postToken serves POST /v3/auth/tokens.
func (s *Service) postToken(w http.ResponseWriter, r *http.Request) {
	req, err := decodeAuthRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, key, err := s.view()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	user, methods, parent, err := s.authenticate(v, key, req.Identity)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	projectID, err := resolveScope(v, req.Scope, user)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, err := authorize(v, user.ID, projectID)
	switch {
	case errors.Is(err, ErrNoRole):
		s.writeError(w, r, forbidden(fmt.Sprintf("User %s has no access to project %s.", user.ID, projectID), err))
		return
	case err != nil:
		s.writeError(w, r, unauthorized(err))
		return
	}
	token, c, err := s.mint(key, sub, methods, parent)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Debug("keystone: token issued", "user", sub.User.ID, "project", sub.Project.ID, "methods", c.Methods.names(), "audit", c.Audit.String())
	w.Header().Set("X-Subject-Token", token)
	writeJSON(w, r, http.StatusCreated, renderToken(r, c, sub, wantCatalog(r)))
}

func wantCatalog(r *http.Request) bool {
	_, no := r.URL.Query()["nocatalog"]
	return !no
}

// caller authenticates the request's X-Auth-Token.
func (s *Service) caller(v *raftmap.View, key []byte, r *http.Request) (subject, error) {
	tok := r.Header.Get("X-Auth-Token")
	if tok == "" {
		return subject{}, unauthorized(fmt.Errorf("%w: no X-Auth-Token", ErrInvalidToken))
	}
	_, sub, err := s.check(v, key, tok)
	if err != nil {
		return subject{}, unauthorized(err)
	}
	return sub, nil
}

// subjectToken authenticates the caller, then checks X-Subject-Token; the
// caller must be the token's user or an admin.
func (s *Service) subjectToken(r *http.Request, action string) (string, claims, subject, error) {
	v, key, err := s.view()
	if err != nil {
		return "", claims{}, subject{}, err
	}
	caller, err := s.caller(v, key, r)
	if err != nil {
		return "", claims{}, subject{}, err
	}
	tok := r.Header.Get("X-Subject-Token")
	if tok == "" {
		return "", claims{}, subject{}, tokenNotFound(fmt.Errorf("%w: no X-Subject-Token", ErrInvalidToken))
	}
	c, sub, err := s.check(v, key, tok)
	if err != nil {
		return "", claims{}, subject{}, tokenNotFound(err)
	}
	if caller.User.ID != sub.User.ID && !caller.principal(v).Root {
		return "", claims{}, subject{}, forbidden(msgForbidden[:len(msgForbidden)-1]+": identity:"+action+".",
			fmt.Errorf("%w: user %s may not %s a token of user %s", ErrNoRole, caller.User.ID, action, sub.User.ID))
	}
	return tok, c, sub, nil
}

// getToken serves GET and HEAD /v3/auth/tokens.
func (s *Service) getToken(w http.ResponseWriter, r *http.Request) {
	action := "validate_token"
	if r.Method == http.MethodHead {
		action = "check_token"
	}
	tok, c, sub, err := s.subjectToken(r, action)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("X-Subject-Token", tok)
	writeJSON(w, r, http.StatusOK, renderToken(r, c, sub, wantCatalog(r)))
}

// deleteToken serves DELETE /v3/auth/tokens: it revokes the token's whole
// chain, or with ?cascade=false the token alone.
func (s *Service) deleteToken(w http.ResponseWriter, r *http.Request) {
	_, c, sub, err := s.subjectToken(r, "revoke_token")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cascade := true
	if q := r.URL.Query().Get("cascade"); q != "" {
		b, err := strconv.ParseBool(q)
		if err != nil {
			s.writeError(w, r, invalidField("cascade", "expected a boolean"))
			return
		}
		cascade = b
	}
	id := c.Audit
	if cascade {
		id = c.Chain
	}
	if err := s.cat.Revoke(r.Context(), raftmap.Revocation{AuditID: id.String(), Expires: c.Expires}); err != nil {
		s.writeError(w, r, fmt.Errorf("%w: revoke: %w", ErrUnavailable, err))
		return
	}
	s.log.Info("keystone: token revoked", "user", sub.User.ID, "audit", id.String(), "cascade", cascade)
	w.WriteHeader(http.StatusNoContent)
}

// getCatalog serves GET /v3/auth/catalog: the catalog of the caller's
// project.
func (s *Service) getCatalog(w http.ResponseWriter, r *http.Request) {
	v, key, err := s.view()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, err := s.caller(v, key, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !sub.scoped() {
		s.writeError(w, r, forbidden("A project-scoped token is required to produce a service catalog.",
			fmt.Errorf("%w: unscoped token", ErrNoRole)))
		return
	}
	base := baseURL(r)
	writeJSON(w, r, http.StatusOK, catalogDoc{
		Catalog: serviceCatalog(base, sub.Project.ID),
		Links:   linksDoc{Self: base + pathCatalog},
	})
}

// getProjects serves GET /v3/auth/projects: the enabled projects on which
// the caller holds a role.
func (s *Service) getProjects(w http.ResponseWriter, r *http.Request) {
	v, key, err := s.view()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub, err := s.caller(v, key, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := baseURL(r)
	seen := map[string]bool{}
	out := []projectListItem{}
	for _, a := range v.Assignments() {
		if a.User != sub.User.ID || seen[a.Project] {
			continue
		}
		seen[a.Project] = true
		p, _, err := enabledProject(v, a.Project)
		if err != nil {
			continue
		}
		out = append(out, projectListItem{
			ID: p.ID, Name: p.Name, DomainID: p.Domain, ParentID: p.Domain, Enabled: true,
			Description: "", Tags: []string{},
			Links: linksDoc{Self: base + "/v3/projects/" + p.ID},
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, r, http.StatusOK, projectListDoc{Projects: out, Links: pageLinks{Self: base + pathProjects}})
}
