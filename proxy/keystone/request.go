package keystone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/basaltstore/basalt/ring/raftmap"
)

// maxBodyBytes is the largest request body read (Keystone's
// max_request_body_size).
const maxBodyBytes = 114688

// authRequest is the body of POST /v3/auth/tokens. Pointers tell a missing
// field from an empty one.
type authRequest struct {
	Auth *authBody `json:"auth"`
}

type authBody struct {
	Identity *identityReq    `json:"identity"`
	Scope    json.RawMessage `json:"scope"`
}

type identityReq struct {
	Methods  []string     `json:"methods"`
	Password *passwordReq `json:"password"`
	Token    *tokenReq    `json:"token"`
}

type passwordReq struct {
	User *userRef `json:"user"`
}

type userRef struct {
	ID       *string  `json:"id"`
	Name     *string  `json:"name"`
	Password *string  `json:"password"`
	Domain   *nameRef `json:"domain"`
}

type tokenReq struct {
	ID *string `json:"id"`
}

// nameRef names a domain by id or by name.
type nameRef struct {
	ID   *string `json:"id"`
	Name *string `json:"name"`
}

type scopeReq struct {
	Project  *projectRef     `json:"project"`
	Domain   *nameRef        `json:"domain"`
	System   json.RawMessage `json:"system"`
	Trust    json.RawMessage `json:"OS-TRUST:trust"`
	Unscoped json.RawMessage `json:"unscoped"`
}

type projectRef struct {
	ID     *string  `json:"id"`
	Name   *string  `json:"name"`
	Domain *nameRef `json:"domain"`
}

// decodeAuthRequest reads and decodes the JSON body of a token request.
func decodeAuthRequest(w http.ResponseWriter, r *http.Request) (*authBody, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
			return nil, expecting("application/json", "Content-Type header")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &apiError{
			status: http.StatusRequestEntityTooLarge,
			msg:    fmt.Sprintf("Request is too large. The request body exceeds %d bytes.", maxBodyBytes),
			err:    fmt.Errorf("%w: body over %d bytes", ErrBadRequest, maxBodyBytes),
		}
	case err != nil:
		return nil, &apiError{status: http.StatusBadRequest, msg: "The request body could not be read." + msgClientFault,
			err: fmt.Errorf("%w: read body: %w", ErrBadRequest, err)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, expecting("auth", "request body")
	}
	var req authRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, jsonError(err)
	}
	if req.Auth == nil {
		return nil, expecting("auth", "request body")
	}
	return req.Auth, nil
}

// jsonError turns a decoding error into Keystone's validation errors.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return expecting("valid JSON", "request body")
		}
		return invalidField(strings.ReplaceAll(field, ".", "/"), fmt.Sprintf("%s is not of type %s", te.Value, jsonType(te.Type.Kind().String())))
	}
	return expecting("valid JSON", "request body")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "'string'"
	case "slice", "array":
		return "'array'"
	case "struct", "map", "ptr":
		return "'object'"
	}
	return "'" + kind + "'"
}

// authenticate runs every method of the request; all must name the same
// user. It returns that user, the methods, and the token the request
// presented (method "token"), if any.
func (s *Service) authenticate(v *raftmap.View, key []byte, id *identityReq) (raftmap.User, methodSet, *claims, error) {
	if id == nil {
		return raftmap.User{}, 0, nil, expecting("identity", "auth")
	}
	if len(id.Methods) == 0 {
		return raftmap.User{}, 0, nil, expecting("methods", "identity")
	}
	var (
		user    raftmap.User
		methods methodSet
		parent  *claims
	)
	for _, m := range id.Methods {
		var (
			got raftmap.User
			err error
		)
		switch m {
		case "password":
			if methods&methodPassword != 0 {
				continue
			}
			if id.Password == nil {
				return raftmap.User{}, 0, nil, expecting("password", "identity")
			}
			got, err = s.passwordUser(v, id.Password.User)
			methods |= methodPassword
		case "token":
			if methods&methodToken != 0 {
				continue
			}
			if id.Token == nil {
				return raftmap.User{}, 0, nil, expecting("token", "identity")
			}
			if id.Token.ID == nil {
				return raftmap.User{}, 0, nil, expecting("id", "token")
			}
			var c claims
			var sub subject
			c, sub, err = s.check(v, key, *id.Token.ID)
			if err != nil {
				err = unauthorized(err)
			}
			got, parent = sub.User, &c
			methods |= methodToken
		default:
			err = unauthorizedMsg(msgBadMethod, fmt.Errorf("%w: method %q", ErrAuthFailed, m))
		}
		if err != nil {
			return raftmap.User{}, 0, nil, err
		}
		if user.ID != "" && user.ID != got.ID {
			return raftmap.User{}, 0, nil, unauthorized(fmt.Errorf("%w: methods name different users", ErrAuthFailed))
		}
		user = got
	}
	return user, methods, parent, nil
}

// passwordUser checks a password method's user and password. Every
// failure is the same 401.
func (s *Service) passwordUser(v *raftmap.View, ref *userRef) (raftmap.User, error) {
	if ref == nil {
		return raftmap.User{}, expecting("user", "password")
	}
	if ref.ID == nil && ref.Name == nil {
		return raftmap.User{}, invalidField("identity/password/user", "id or name must be present.")
	}
	if ref.Password == nil {
		return raftmap.User{}, expecting("password", "user")
	}
	var (
		u     raftmap.User
		found bool
	)
	if ref.ID != nil {
		u, found = v.User(*ref.ID)
	} else {
		if ref.Domain == nil {
			return raftmap.User{}, expecting("domain", "user")
		}
		d, ok, err := lookupDomain(v, ref.Domain, "identity/password/user/domain")
		if err != nil {
			return raftmap.User{}, err
		}
		if ok {
			u, found = v.UserByName(d.ID, *ref.Name)
		}
	}
	var up *raftmap.User
	if found {
		up = &u
	}
	if !s.checkPassword(up, *ref.Password) {
		return raftmap.User{}, unauthorized(fmt.Errorf("%w: unknown user or wrong password", ErrAuthFailed))
	}
	return u, nil
}

// lookupDomain finds a domain by id or name; field names the request field
// for the error when neither is given.
func lookupDomain(v *raftmap.View, ref *nameRef, field string) (raftmap.Domain, bool, error) {
	switch {
	case ref.ID != nil:
		d, ok := v.Domain(*ref.ID)
		return d, ok, nil
	case ref.Name != nil:
		d, ok := v.DomainByName(*ref.Name)
		return d, ok, nil
	}
	return raftmap.Domain{}, false, invalidField(field, "id or name must be present.")
}

// resolveScope returns the project a request asks for ("" for an unscoped
// token). Without a scope, the user's default project is used when it is
// enabled and the user holds a role there.
func resolveScope(v *raftmap.View, raw json.RawMessage, user raftmap.User) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return defaultProject(v, user), nil
	}
	if raw[0] == '"' {
		var word string
		if err := json.Unmarshal(raw, &word); err != nil || word != "unscoped" {
			return "", invalidField("scope", "the only scope given as a string is \"unscoped\".")
		}
		return "", nil
	}
	var sc scopeReq
	if err := json.Unmarshal(raw, &sc); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return "", invalidField("scope", "expected an object or \"unscoped\".")
		}
		return "", jsonError(err)
	}
	switch {
	case sc.Project != nil:
		return projectScope(v, sc.Project)
	case sc.Domain != nil || sc.System != nil || sc.Trust != nil:
		return "", unauthorizedMsg("Only project scope is supported: scope the token to a project.",
			fmt.Errorf("%w: domain, system or trust scope", ErrAuthFailed))
	case sc.Unscoped != nil:
		return "", nil
	}
	return defaultProject(v, user), nil
}

// projectScope resolves a project scope to a project id. A project that
// does not exist is refused later, by authorize.
func projectScope(v *raftmap.View, p *projectRef) (string, error) {
	if p.ID == nil && p.Name == nil {
		return "", invalidField("scope/project", "id or name must be present.")
	}
	if p.ID != nil {
		if *p.ID == "" {
			return "", invalidField("scope/project/id", "must not be empty.")
		}
		return *p.ID, nil
	}
	if p.Domain == nil {
		return "", expecting("domain", "project")
	}
	d, ok, err := lookupDomain(v, p.Domain, "scope/project/domain")
	if err != nil {
		return "", err
	}
	if !ok {
		return "", unauthorized(fmt.Errorf("%w: no such domain for the project scope", ErrAuthFailed))
	}
	proj, ok := v.ProjectByName(d.ID, *p.Name)
	if !ok {
		return "", unauthorized(fmt.Errorf("%w: no project %q in domain %s", ErrAuthFailed, *p.Name, d.ID))
	}
	return proj.ID, nil
}

// defaultProject is the user's default project when a token may be scoped
// to it, else "".
func defaultProject(v *raftmap.View, u raftmap.User) string {
	if u.DefaultProject == "" {
		return ""
	}
	if _, _, err := enabledProject(v, u.DefaultProject); err != nil {
		return ""
	}
	if len(v.Roles(u.ID, u.DefaultProject)) == 0 {
		return ""
	}
	return u.DefaultProject
}
