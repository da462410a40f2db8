package keystone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// Errors of the package. Callers check them with errors.Is.
var (
	// ErrInvalidToken: the token is forged, malformed, expired or revoked,
	// or its user or project is gone or disabled, or the user no longer
	// holds a role on its project.
	ErrInvalidToken = errors.New("keystone: invalid token")
	// ErrAuthFailed: the credentials do not authenticate an enabled user,
	// or the scope names no enabled project.
	ErrAuthFailed = errors.New("keystone: authentication failed")
	// ErrNoRole: the user holds no role on the project asked for.
	ErrNoRole = errors.New("keystone: no role on project")
	// ErrBadRequest: the request is malformed or misses a field.
	ErrBadRequest = errors.New("keystone: bad request")
	// ErrUnavailable: the catalog cannot serve the request (no catalog, no
	// token key, or a proposal failed).
	ErrUnavailable = errors.New("keystone: catalog unavailable")
)

// DefaultTokenTTL is the lifetime of a token when Config.TokenTTL is 0.
const DefaultTokenTTL = time.Hour

// minKeyLen is the shortest token key accepted from the catalog.
const minKeyLen = 16

// Config configures a Service.
type Config struct {
	Catalog  *catalog.Catalog
	TokenTTL time.Duration    // 0 = DefaultTokenTTL
	Now      func() time.Time // nil = time.Now
	Logger   *slog.Logger     // nil = discard
}

// Service issues and validates tokens and serves the identity API.
type Service struct {
	cat *catalog.Catalog
	ttl time.Duration
	now func() time.Time
	log *slog.Logger

	dummyOnce sync.Once
	dummyHash string
}

// New returns a Service. A nil Catalog gives a Service that answers every
// request with ErrUnavailable (503 over HTTP).
func New(cfg Config) *Service {
	s := &Service{cat: cfg.Catalog, ttl: cfg.TokenTTL, now: cfg.Now, log: cfg.Logger}
	if s.ttl <= 0 {
		s.ttl = DefaultTokenTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// view returns the catalog's current state and token key.
func (s *Service) view() (*raftmap.View, []byte, error) {
	if s.cat == nil {
		return nil, nil, fmt.Errorf("%w: no catalog", ErrUnavailable)
	}
	key := s.cat.TokenKey()
	if len(key) < minKeyLen {
		return nil, nil, fmt.Errorf("%w: no token key", ErrUnavailable)
	}
	v := s.cat.View()
	if v == nil {
		return nil, nil, fmt.Errorf("%w: no view", ErrUnavailable)
	}
	return v, key, nil
}

// subject is what a token or a request authenticates: a user, and for a
// scoped token a project with the roles the user holds there.
type subject struct {
	User          raftmap.User
	UserDomain    raftmap.Domain
	Project       raftmap.Project // zero ID when unscoped
	ProjectDomain raftmap.Domain
	Roles         []string
}

func (sub subject) scoped() bool { return sub.Project.ID != "" }

// principal is who sub acts as; the admin role on the cloud admin project
// is the right to everything (Root).
func (sub subject) principal(v *raftmap.View) identity.Principal {
	admin, _ := v.Setting(catalog.AdminProjectSetting)
	return identity.Principal{
		Root:        sub.scoped() && sub.Project.ID == admin && slices.Contains(sub.Roles, identity.RoleAdmin),
		UserID:      sub.User.ID,
		UserName:    sub.User.Name,
		ProjectID:   sub.Project.ID,
		ProjectName: sub.Project.Name,
		DomainID:    sub.User.Domain,
		Roles:       append([]string(nil), sub.Roles...),
	}
}

// enabledUser looks up an enabled user in an enabled domain.
func enabledUser(v *raftmap.View, userID string) (raftmap.User, raftmap.Domain, error) {
	u, ok := v.User(userID)
	if !ok || u.Disabled {
		return raftmap.User{}, raftmap.Domain{}, fmt.Errorf("%w: user unknown or disabled", ErrAuthFailed)
	}
	d, ok := v.Domain(u.Domain)
	if !ok || d.Disabled {
		return raftmap.User{}, raftmap.Domain{}, fmt.Errorf("%w: domain of the user unknown or disabled", ErrAuthFailed)
	}
	return u, d, nil
}

// enabledProject looks up an enabled project in an enabled domain.
func enabledProject(v *raftmap.View, projectID string) (raftmap.Project, raftmap.Domain, error) {
	p, ok := v.Project(projectID)
	if !ok || p.Disabled {
		return raftmap.Project{}, raftmap.Domain{}, fmt.Errorf("%w: project unknown or disabled", ErrAuthFailed)
	}
	d, ok := v.Domain(p.Domain)
	if !ok || d.Disabled {
		return raftmap.Project{}, raftmap.Domain{}, fmt.Errorf("%w: domain of the project unknown or disabled", ErrAuthFailed)
	}
	return p, d, nil
}

// authorize resolves a user and, when projectID is not empty, a project on
// which the user must hold a role. Errors wrap ErrAuthFailed or ErrNoRole.
func authorize(v *raftmap.View, userID, projectID string) (subject, error) {
	var sub subject
	var err error
	if sub.User, sub.UserDomain, err = enabledUser(v, userID); err != nil {
		return subject{}, err
	}
	if projectID == "" {
		return sub, nil
	}
	if sub.Project, sub.ProjectDomain, err = enabledProject(v, projectID); err != nil {
		return subject{}, err
	}
	sub.Roles = v.Roles(userID, projectID)
	if len(sub.Roles) == 0 {
		return subject{}, fmt.Errorf("%w: user %s has no role on project %s", ErrNoRole, userID, projectID)
	}
	return sub, nil
}

// check validates a token against the clock and the catalog.
func (s *Service) check(v *raftmap.View, key []byte, token string) (claims, subject, error) {
	c, err := openToken(key, token)
	if err != nil {
		return claims{}, subject{}, err
	}
	if !s.now().Before(c.Expires) {
		return claims{}, subject{}, fmt.Errorf("%w: expired at %s", ErrInvalidToken, c.Expires.Format(time.RFC3339))
	}
	if v.Revoked(c.Audit.String(), c.User, c.Issued) || (c.Chain != c.Audit && v.Revoked(c.Chain.String(), c.User, c.Issued)) {
		return claims{}, subject{}, fmt.Errorf("%w: revoked", ErrInvalidToken)
	}
	sub, err := authorize(v, c.User, c.Project)
	if err != nil {
		return claims{}, subject{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return c, sub, nil
}

// Validate checks a token and returns the principal it stands for, with
// the roles the user holds in the token's project now. An unscoped token
// gives a principal without project or roles. Every refusal of the token
// wraps ErrInvalidToken; a catalog that cannot serve wraps ErrUnavailable.
func (s *Service) Validate(ctx context.Context, token string) (identity.Principal, error) {
	if err := ctx.Err(); err != nil {
		return identity.Principal{}, err
	}
	v, key, err := s.view()
	if err != nil {
		return identity.Principal{}, err
	}
	_, sub, err := s.check(v, key, token)
	if err != nil {
		return identity.Principal{}, err
	}
	return sub.principal(v), nil
}

// Issue makes a token for userID, scoped to projectID ("" for an unscoped
// token), authenticated by password, valid for the configured TTL. The
// user must be enabled, and hold a role on the project (ErrNoRole);
// otherwise the error wraps ErrAuthFailed.
func (s *Service) Issue(ctx context.Context, userID, projectID string) (string, identity.Principal, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return "", identity.Principal{}, time.Time{}, err
	}
	v, key, err := s.view()
	if err != nil {
		return "", identity.Principal{}, time.Time{}, err
	}
	sub, err := authorize(v, userID, projectID)
	if err != nil {
		return "", identity.Principal{}, time.Time{}, err
	}
	token, c, err := s.mint(key, sub, methodPassword, nil)
	if err != nil {
		return "", identity.Principal{}, time.Time{}, err
	}
	return token, sub.principal(v), c.Expires, nil
}

// mint signs a new token for sub. A token made from a parent token keeps
// the parent's expiry and chain id (as Keystone does), so that every token
// of a chain expires together and one revocation of the chain, kept until
// then, covers them all.
func (s *Service) mint(key []byte, sub subject, methods methodSet, parent *claims) (string, claims, error) {
	audit, err := newAuditID()
	if err != nil {
		return "", claims{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	c := claims{
		Methods: methods,
		Issued:  now,
		Expires: now.Add(s.ttl),
		Audit:   audit,
		Chain:   audit,
		User:    sub.User.ID,
		Project: sub.Project.ID,
	}
	if parent != nil {
		c.Methods |= parent.Methods
		c.Chain = parent.Chain
		c.Expires = parent.Expires
	}
	token, err := c.seal(key)
	if err != nil {
		return "", claims{}, err
	}
	return token, c, nil
}

// checkPassword compares pw with the user's hash; for a missing user (or
// one without a password) it runs the same comparison against a dummy hash
// so that both cases take the same time.
func (s *Service) checkPassword(u *raftmap.User, pw string) bool {
	if u != nil && u.Password != "" {
		return identity.CheckPassword(u.Password, pw)
	}
	s.dummyOnce.Do(func() {
		h, err := identity.HashPassword("basalt keystone dummy password")
		if err != nil {
			s.log.Warn("keystone: cannot make the dummy password hash", "err", err)
			return
		}
		s.dummyHash = h
	})
	if s.dummyHash != "" {
		identity.CheckPassword(s.dummyHash, pw)
	}
	return false
}
