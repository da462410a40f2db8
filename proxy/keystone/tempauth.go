package keystone

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/ring/raftmap"
)

// tempAuthDenied is the body of Swift's 401.
const tempAuthDenied = "<html><h1>Unauthorized</h1><p>This server could not verify that you are authorized to access the document you requested.</p></html>"

// serveTempAuth serves Swift's tempauth handshake: GET /auth/v1.0 with
// X-Auth-User "project:user" (or X-Storage-User) and X-Auth-Key (or
// X-Storage-Pass), user and project in the default domain. It answers 200
// with X-Auth-Token, X-Storage-Token, X-Storage-Url and
// X-Auth-Token-Expires, or 401 whatever went wrong.
func (s *Service) serveTempAuth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.plain(w, r, http.StatusMethodNotAllowed, "<html><h1>Method Not Allowed</h1><p>The method is not allowed for this resource.</p></html>")
		return
	}
	v, key, err := s.view()
	if err != nil {
		s.log.Warn("keystone: tempauth unavailable", "err", err)
		s.plain(w, r, http.StatusServiceUnavailable, "<html><h1>Service Unavailable</h1><p>The server is currently unavailable. Please try again at a later time.</p></html>")
		return
	}
	sub, err := s.tempAuthSubject(v, r)
	if err != nil {
		s.log.Info("keystone: tempauth refused", "remote", r.RemoteAddr, "err", err)
		s.plain(w, r, http.StatusUnauthorized, tempAuthDenied)
		return
	}
	token, c, err := s.mint(key, sub, methodPassword, nil)
	if err != nil {
		s.log.Warn("keystone: tempauth cannot sign", "err", err)
		s.plain(w, r, http.StatusServiceUnavailable, "<html><h1>Service Unavailable</h1><p>The server is currently unavailable. Please try again at a later time.</p></html>")
		return
	}
	s.log.Debug("keystone: tempauth token issued", "user", sub.User.ID, "project", sub.Project.ID, "audit", c.Audit.String())
	h := w.Header()
	h.Set("X-Auth-Token", token)
	h.Set("X-Storage-Token", token)
	h.Set("X-Storage-Url", baseURL(r)+"/v1/AUTH_"+sub.Project.ID)
	h.Set("X-Auth-Token-Expires", strconv.FormatInt(expiresIn(c.Issued, c.Expires), 10))
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// tempAuthSubject authenticates a tempauth request.
func (s *Service) tempAuthSubject(v *raftmap.View, r *http.Request) (subject, error) {
	account := r.Header.Get("X-Auth-User")
	if account == "" {
		account = r.Header.Get("X-Storage-User")
	}
	pw := r.Header.Get("X-Auth-Key")
	if pw == "" {
		pw = r.Header.Get("X-Storage-Pass")
	}
	projectName, userName, ok := strings.Cut(account, ":")
	if !ok || projectName == "" || userName == "" || pw == "" {
		return subject{}, fmt.Errorf("%w: tempauth needs X-Auth-User project:user and X-Auth-Key", ErrAuthFailed)
	}
	var up *raftmap.User
	if u, ok := v.UserByName(raftmap.DefaultDomain, userName); ok {
		up = &u
	}
	if !s.checkPassword(up, pw) {
		return subject{}, fmt.Errorf("%w: unknown user or wrong password", ErrAuthFailed)
	}
	p, ok := v.ProjectByName(raftmap.DefaultDomain, projectName)
	if !ok {
		return subject{}, fmt.Errorf("%w: no project %q in the default domain", ErrAuthFailed, projectName)
	}
	return authorize(v, up.ID, p.ID)
}

// plain answers a Swift-style HTML status body.
func (s *Service) plain(w http.ResponseWriter, r *http.Request, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}
