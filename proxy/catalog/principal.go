package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// AdminProjectSetting names the cluster setting that holds the ID of the
// cloud admin project: the admin role there is the right to everything.
const AdminProjectSetting = "admin-project"

// ErrNoAccess: the user or project is unknown or disabled, or the user
// holds no role on the project.
var ErrNoAccess = errors.New("catalog: no access")

// NewID returns a fresh record ID: 32 hex digits, as Keystone's.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// BootstrapAdmin creates, where missing, the cloud admin project "admin"
// and the user "admin" with password and the admin role on it, in the
// default domain, and records the project as the cloud admin project. An
// existing admin user keeps its password.
func (c *Catalog) BootstrapAdmin(ctx context.Context, password string) error {
	v := c.View()
	if _, ok := v.Setting(AdminProjectSetting); ok {
		return nil
	}
	now := c.now().UTC()
	p, ok := v.ProjectByName(raftmap.DefaultDomain, "admin")
	if !ok {
		p = raftmap.Project{ID: NewID(), Name: "admin", Domain: raftmap.DefaultDomain, Created: now}
		if err := c.Propose(ctx, raftmap.PutProject{Project: p}); err != nil {
			return fmt.Errorf("catalog: bootstrap admin: %w", err)
		}
	}
	u, ok := v.UserByName(raftmap.DefaultDomain, "admin")
	if !ok {
		hash, err := identity.HashPassword(password)
		if err != nil {
			return fmt.Errorf("catalog: bootstrap admin: %w", err)
		}
		u = raftmap.User{ID: NewID(), Name: "admin", Domain: raftmap.DefaultDomain, Password: hash, DefaultProject: p.ID, Created: now}
		if err := c.Propose(ctx, raftmap.PutUser{User: u}); err != nil {
			return fmt.Errorf("catalog: bootstrap admin: %w", err)
		}
	}
	if err := c.Propose(ctx, raftmap.Assign{Assignment: raftmap.Assignment{User: u.ID, Project: p.ID, Role: raftmap.RoleAdmin}}); err != nil {
		return fmt.Errorf("catalog: bootstrap admin: %w", err)
	}
	err := c.Propose(ctx, raftmap.PutSetting{Name: AdminProjectSetting, Value: p.ID, Once: true})
	if err != nil && !errors.Is(err, raftmap.ErrExists) {
		return fmt.Errorf("catalog: bootstrap admin: %w", err)
	}
	return nil
}

// AdminProject returns the ID of the cloud admin project ("" before
// BootstrapAdmin).
func (c *Catalog) AdminProject() string {
	s, _ := c.View().Setting(AdminProjectSetting)
	return s
}

// Principal returns who user acts as in project (project "" for an
// unscoped principal): the roles it holds there now, and Root for the
// admin role on the cloud admin project. It fails with ErrNoAccess when
// the user or the project is unknown or disabled, or when a scoped user
// holds no role on the project.
func Principal(v *raftmap.View, userID, projectID string) (identity.Principal, error) {
	u, ok := v.User(userID)
	if !ok || u.Disabled {
		return identity.Principal{}, fmt.Errorf("%w: user %s unknown or disabled", ErrNoAccess, userID)
	}
	if d, ok := v.Domain(u.Domain); !ok || d.Disabled {
		return identity.Principal{}, fmt.Errorf("%w: domain of user %s unknown or disabled", ErrNoAccess, userID)
	}
	p := identity.Principal{UserID: u.ID, UserName: u.Name, DomainID: u.Domain}
	if projectID == "" {
		return p, nil
	}
	proj, ok := v.Project(projectID)
	if !ok || proj.Disabled {
		return identity.Principal{}, fmt.Errorf("%w: project %s unknown or disabled", ErrNoAccess, projectID)
	}
	p.ProjectID, p.ProjectName = proj.ID, proj.Name
	p.Roles = v.Roles(u.ID, proj.ID)
	if len(p.Roles) == 0 {
		return identity.Principal{}, fmt.Errorf("%w: user %s has no role on project %s", ErrNoAccess, u.Name, proj.Name)
	}
	if admin, _ := v.Setting(AdminProjectSetting); admin == proj.ID && p.Has(identity.RoleAdmin) {
		p.Root = true
	}
	return p, nil
}

// KeyPrincipal returns the secret of an access key and who it acts as.
func KeyPrincipal(v *raftmap.View, accessKey string) (secret string, p identity.Principal, err error) {
	k, ok := v.Key(accessKey)
	if !ok {
		return "", identity.Principal{}, fmt.Errorf("%w: access key %s unknown", ErrNoAccess, accessKey)
	}
	p, err = Principal(v, k.User, k.Project)
	return k.Secret, p, err
}
