package identity

import (
	"errors"
	"slices"

	"golang.org/x/crypto/bcrypt"
)

// Role names, as the catalog assigns them on projects.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleReader = "reader"
)

// Principal is who a request acts as: a user scoped to a project, with the
// roles the user holds there, or the root credential.
type Principal struct {
	UserID, UserName       string
	ProjectID, ProjectName string
	DomainID               string
	// Roles are the roles the user holds on ProjectID, sorted.
	Roles []string
	// Root marks the root credential: every right on everything.
	Root bool
}

// Has reports whether the principal holds role on its project.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// IsAdmin reports the root credential or the admin role.
func (p Principal) IsAdmin() bool { return p.Root || p.Has(RoleAdmin) }

// CanWrite reports a right to change its project's data: admin or member.
func (p Principal) CanWrite() bool { return p.IsAdmin() || p.Has(RoleMember) }

// CanRead reports a right to read its project's data: any role.
func (p Principal) CanRead() bool { return p.CanWrite() || p.Has(RoleReader) }

// PasswordCost is bcrypt's cost for new password hashes (2^cost rounds;
// about 50 ms at 10 on a current core).
var PasswordCost = 10

// ErrPasswordTooLong: bcrypt reads at most 72 bytes; longer passwords are
// refused rather than silently cut.
var ErrPasswordTooLong = errors.New("identity: password longer than 72 bytes")

// HashPassword hashes a password with bcrypt, a deliberately slow key
// derivation function. The result names its algorithm and cost.
func HashPassword(pw string) (string, error) {
	if len(pw) > 72 {
		return "", ErrPasswordTooLong
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
	return string(h), err
}

// CheckPassword reports whether pw matches hash, in time that does not
// depend on where they differ.
func CheckPassword(hash, pw string) bool {
	if hash == "" || len(pw) > 72 {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
