package raftmap

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// The identity records of the catalog: domains hold projects and users;
// users hold roles on projects (assignments) and access keys; a
// revocation withdraws tokens before they expire. Records are keyed by
// ID; names are unique within a domain.

// DefaultDomain is the ID of the domain created when a catalog is
// bootstrapped.
const DefaultDomain = "default"

// Roles a user can hold on a project.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleReader = "reader"
)

// Domain is a namespace of projects and users.
type Domain struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Disabled bool      `json:"disabled,omitempty"`
	Created  time.Time `json:"created"`
}

// Project owns buckets; Meta holds its account metadata as Swift sees it
// (lowercased header names, "x-account-meta-temp-url-key", ...).
type Project struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Domain   string            `json:"domain"`
	Disabled bool              `json:"disabled,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
	Created  time.Time         `json:"created"`
}

// User is a person or service. Password is a self-describing hash (never
// the password itself).
type User struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Domain         string    `json:"domain"`
	Password       string    `json:"password,omitempty"`
	DefaultProject string    `json:"default_project,omitempty"`
	Disabled       bool      `json:"disabled,omitempty"`
	Created        time.Time `json:"created"`
}

// Assignment gives User the Role on Project.
type Assignment struct {
	User    string `json:"user"`
	Project string `json:"project"`
	Role    string `json:"role"`
}

func (a Assignment) key() string { return a.User + "\x00" + a.Project + "\x00" + a.Role }

// Key is an access key: it authenticates S3 requests as User, in Project.
type Key struct {
	AccessKey string    `json:"access_key"`
	Secret    string    `json:"secret"`
	User      string    `json:"user"`
	Project   string    `json:"project,omitempty"`
	Created   time.Time `json:"created"`
}

// Revocation withdraws tokens: with AuditID, that one token; without it,
// every token of User issued before IssuedBefore. It is kept until
// Expires, when every token it covers has expired anyway.
type Revocation struct {
	AuditID      string    `json:"audit_id,omitempty"`
	User         string    `json:"user,omitempty"`
	IssuedBefore time.Time `json:"issued_before,omitzero"`
	Expires      time.Time `json:"expires"`
}

func (r Revocation) key() string {
	if r.AuditID != "" {
		return "t\x00" + r.AuditID
	}
	return "u\x00" + r.User + "\x00" + r.IssuedBefore.UTC().Format(time.RFC3339Nano)
}

// PutDomain creates or replaces a domain.
type PutDomain struct {
	Domain Domain `json:"domain"`
}

// PutProject creates or replaces a project; its domain must exist.
type PutProject struct {
	Project Project `json:"project"`
}

// DeleteProject removes a project with its assignments and access keys;
// refused (ErrNotEmpty) while it owns buckets.
type DeleteProject struct {
	ID string `json:"id"`
}

// PutUser creates or replaces a user; its domain (and default project, if
// named) must exist.
type PutUser struct {
	User User `json:"user"`
}

// DeleteUser removes a user with its assignments and access keys.
type DeleteUser struct {
	ID string `json:"id"`
}

// Assign gives a user a role on a project.
type Assign struct {
	Assignment Assignment `json:"assignment"`
}

// Unassign takes a role away; refused (ErrNotFound) if not held.
type Unassign struct {
	Assignment Assignment `json:"assignment"`
}

// PutKey creates or replaces an access key; its user (and project, if
// named) must exist.
type PutKey struct {
	Key Key `json:"key"`
}

// DeleteKey removes an access key; refused (ErrNoSuchKey) if unknown.
type DeleteKey struct {
	AccessKey string `json:"access_key"`
}

// Revoke records a revocation and forgets those that expired before Now
// (set by the proposer).
type Revoke struct {
	Revocation Revocation `json:"revocation"`
	Now        time.Time  `json:"now"`
}

// SetMeta changes the metadata of a bucket or (exactly one of them) a
// project: Set adds or replaces entries, Remove deletes them.
type SetMeta struct {
	Bucket  string            `json:"bucket,omitempty"`
	Project string            `json:"project,omitempty"`
	Set     map[string]string `json:"set,omitempty"`
	Remove  []string          `json:"remove,omitempty"`
}

// PutSetting sets a cluster-wide setting (such as the token signing key);
// refused (ErrExists) when Once is set and the setting exists.
type PutSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Once  bool   `json:"once,omitempty"`
}

// Op names.
func (PutDomain) Op() string     { return "put-domain" }
func (PutProject) Op() string    { return "put-project" }
func (DeleteProject) Op() string { return "delete-project" }
func (PutUser) Op() string       { return "put-user" }
func (DeleteUser) Op() string    { return "delete-user" }
func (Assign) Op() string        { return "assign" }
func (Unassign) Op() string      { return "unassign" }
func (PutKey) Op() string        { return "put-key" }
func (DeleteKey) Op() string     { return "delete-key" }
func (Revoke) Op() string        { return "revoke" }
func (SetMeta) Op() string       { return "set-meta" }
func (PutSetting) Op() string    { return "put-setting" }

func decodeAs[C Command](b []byte) (Command, error) {
	var v C
	err := strictJSON(b, &v)
	return v, err
}

var identityOps = map[string]func([]byte) (Command, error){
	"put-domain":     decodeAs[PutDomain],
	"put-project":    decodeAs[PutProject],
	"delete-project": decodeAs[DeleteProject],
	"put-user":       decodeAs[PutUser],
	"delete-user":    decodeAs[DeleteUser],
	"assign":         decodeAs[Assign],
	"unassign":       decodeAs[Unassign],
	"put-key":        decodeAs[PutKey],
	"delete-key":     decodeAs[DeleteKey],
	"revoke":         decodeAs[Revoke],
	"set-meta":       decodeAs[SetMeta],
	"put-setting":    decodeAs[PutSetting],

	"set-bucket-setting": decodeAs[SetBucketSetting],
}

const (
	maxMetaBytes = 64 << 10
	maxSetting   = 4 << 10
)

func checkMeta(m map[string]string) error {
	n := 0
	for k, v := range m {
		if !validName(k) {
			return fmt.Errorf("metadata name %q", k)
		}
		n += len(k) + len(v)
	}
	if n > maxMetaBytes {
		return fmt.Errorf("metadata of %d bytes (at most %d)", n, maxMetaBytes)
	}
	return nil
}

func (c PutDomain) apply(s *state) error {
	d := c.Domain
	if !validName(d.ID) || !validName(d.Name) {
		return fmt.Errorf("%w: domain %q (%q)", ErrBadCommand, d.ID, d.Name)
	}
	for _, o := range s.domains {
		if o.Name == d.Name && o.ID != d.ID {
			return fmt.Errorf("%w: domain name %q", ErrExists, d.Name)
		}
	}
	s.domains[d.ID] = d
	return nil
}

func (c PutProject) apply(s *state) error {
	p := c.Project
	if !validName(p.ID) || !validName(p.Name) {
		return fmt.Errorf("%w: project %q (%q)", ErrBadCommand, p.ID, p.Name)
	}
	if err := checkMeta(p.Meta); err != nil {
		return fmt.Errorf("%w: project %s: %w", ErrBadCommand, p.Name, err)
	}
	if _, ok := s.domains[p.Domain]; !ok {
		return fmt.Errorf("%w: %q (domain of project %s)", ErrNoSuchDomain, p.Domain, p.Name)
	}
	for _, o := range s.projects {
		if o.Domain == p.Domain && o.Name == p.Name && o.ID != p.ID {
			return fmt.Errorf("%w: project %q in domain %s", ErrExists, p.Name, p.Domain)
		}
	}
	s.projects[p.ID] = p
	return nil
}

func (c DeleteProject) apply(s *state) error {
	if _, ok := s.projects[c.ID]; !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchProject, c.ID)
	}
	for _, b := range s.buckets {
		if b.Owner == c.ID {
			return fmt.Errorf("%w: project %s owns bucket %s", ErrNotEmpty, c.ID, b.Name)
		}
	}
	delete(s.projects, c.ID)
	maps.DeleteFunc(s.assignments, func(_ string, a Assignment) bool { return a.Project == c.ID })
	maps.DeleteFunc(s.keys, func(_ string, k Key) bool { return k.Project == c.ID })
	return nil
}

func (c PutUser) apply(s *state) error {
	u := c.User
	if !validName(u.ID) || !validName(u.Name) || len(u.Password) > maxNameLen {
		return fmt.Errorf("%w: user %q (%q)", ErrBadCommand, u.ID, u.Name)
	}
	if _, ok := s.domains[u.Domain]; !ok {
		return fmt.Errorf("%w: %q (domain of user %s)", ErrNoSuchDomain, u.Domain, u.Name)
	}
	if _, ok := s.projects[u.DefaultProject]; u.DefaultProject != "" && !ok {
		return fmt.Errorf("%w: %q (default project of user %s)", ErrNoSuchProject, u.DefaultProject, u.Name)
	}
	for _, o := range s.users {
		if o.Domain == u.Domain && o.Name == u.Name && o.ID != u.ID {
			return fmt.Errorf("%w: user %q in domain %s", ErrExists, u.Name, u.Domain)
		}
	}
	s.users[u.ID] = u
	return nil
}

func (c DeleteUser) apply(s *state) error {
	if _, ok := s.users[c.ID]; !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchUser, c.ID)
	}
	delete(s.users, c.ID)
	maps.DeleteFunc(s.assignments, func(_ string, a Assignment) bool { return a.User == c.ID })
	maps.DeleteFunc(s.keys, func(_ string, k Key) bool { return k.User == c.ID })
	return nil
}

func validRole(r string) bool { return r == RoleAdmin || r == RoleMember || r == RoleReader }

func (c Assign) apply(s *state) error {
	a := c.Assignment
	if !validRole(a.Role) {
		return fmt.Errorf("%w: role %q (admin, member or reader)", ErrBadCommand, a.Role)
	}
	if _, ok := s.users[a.User]; !ok {
		return fmt.Errorf("%w: %q", ErrNoSuchUser, a.User)
	}
	if _, ok := s.projects[a.Project]; !ok {
		return fmt.Errorf("%w: %q", ErrNoSuchProject, a.Project)
	}
	s.assignments[a.key()] = a
	return nil
}

func (c Unassign) apply(s *state) error {
	if _, ok := s.assignments[c.Assignment.key()]; !ok {
		a := c.Assignment
		return fmt.Errorf("%w: user %s has no role %s on project %s", ErrNotFound, a.User, a.Role, a.Project)
	}
	delete(s.assignments, c.Assignment.key())
	return nil
}

func (c PutKey) apply(s *state) error {
	k := c.Key
	if !validName(k.AccessKey) || k.Secret == "" || len(k.Secret) > maxNameLen || len(k.Project) > maxNameLen {
		return fmt.Errorf("%w: access key %q", ErrBadCommand, k.AccessKey)
	}
	if _, ok := s.users[k.User]; !ok {
		return fmt.Errorf("%w: %q (access key %s)", ErrNoSuchUser, k.User, k.AccessKey)
	}
	if _, ok := s.projects[k.Project]; k.Project != "" && !ok {
		return fmt.Errorf("%w: %q (access key %s)", ErrNoSuchProject, k.Project, k.AccessKey)
	}
	s.keys[k.AccessKey] = k
	return nil
}

func (c DeleteKey) apply(s *state) error {
	if _, ok := s.keys[c.AccessKey]; !ok {
		return fmt.Errorf("%w: %s", ErrNoSuchKey, c.AccessKey)
	}
	delete(s.keys, c.AccessKey)
	return nil
}

func (c Revoke) apply(s *state) error {
	r := c.Revocation
	if (r.AuditID == "") == (r.User == "") || len(r.AuditID) > maxNameLen || len(r.User) > maxNameLen {
		return fmt.Errorf("%w: a revocation names one token or one user", ErrBadCommand)
	}
	maps.DeleteFunc(s.revocations, func(_ string, o Revocation) bool { return o.Expires.Before(c.Now) })
	if !r.Expires.Before(c.Now) {
		s.revocations[r.key()] = r
	}
	return nil
}

func (c SetMeta) apply(s *state) error {
	if (c.Bucket == "") == (c.Project == "") {
		return fmt.Errorf("%w: metadata of one bucket or one project", ErrBadCommand)
	}
	var cur map[string]string
	if c.Bucket != "" {
		b, ok := s.buckets[c.Bucket]
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoSuchBucket, c.Bucket)
		}
		cur = b.Meta
	} else {
		p, ok := s.projects[c.Project]
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoSuchProject, c.Project)
		}
		cur = p.Meta
	}
	next := maps.Clone(cur)
	if next == nil {
		next = map[string]string{}
	}
	for _, k := range c.Remove {
		delete(next, k)
	}
	maps.Copy(next, c.Set)
	if err := checkMeta(next); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCommand, err)
	}
	if len(next) == 0 {
		next = nil
	}
	if c.Bucket != "" {
		b := s.buckets[c.Bucket]
		b.Meta = next
		s.buckets[c.Bucket] = b
	} else {
		p := s.projects[c.Project]
		p.Meta = next
		s.projects[c.Project] = p
	}
	return nil
}

func (c PutSetting) apply(s *state) error {
	if !validName(c.Name) || len(c.Value) > maxSetting {
		return fmt.Errorf("%w: setting %q", ErrBadCommand, c.Name)
	}
	if _, ok := s.settings[c.Name]; ok && c.Once {
		return fmt.Errorf("%w: setting %s", ErrExists, c.Name)
	}
	s.settings[c.Name] = c.Value
	return nil
}

// View is a consistent, immutable view of the catalog as this node has
// applied it. Its methods return copies.
type View struct{ st *state }

// Index is the index of the last command the view includes.
func (v *View) Index() uint64 { return v.st.index }

// Domain returns a domain by ID.
func (v *View) Domain(id string) (Domain, bool) { d, ok := v.st.domains[id]; return d, ok }

// DomainByName returns a domain by name.
func (v *View) DomainByName(name string) (Domain, bool) {
	for _, d := range v.st.domains {
		if d.Name == name {
			return d, true
		}
	}
	return Domain{}, false
}

// Domains lists the domains by ID.
func (v *View) Domains() []Domain { return sortedValues(v.st.domains) }

// Project returns a project by ID.
func (v *View) Project(id string) (Project, bool) {
	p, ok := v.st.projects[id]
	p.Meta = maps.Clone(p.Meta)
	return p, ok
}

// ProjectByName returns a project by domain ID and name.
func (v *View) ProjectByName(domain, name string) (Project, bool) {
	for _, p := range v.st.projects {
		if p.Domain == domain && p.Name == name {
			p.Meta = maps.Clone(p.Meta)
			return p, true
		}
	}
	return Project{}, false
}

// Projects lists the projects by ID.
func (v *View) Projects() []Project {
	out := sortedValues(v.st.projects)
	for i := range out {
		out[i].Meta = maps.Clone(out[i].Meta)
	}
	return out
}

// User returns a user by ID.
func (v *View) User(id string) (User, bool) { u, ok := v.st.users[id]; return u, ok }

// UserByName returns a user by domain ID and name.
func (v *View) UserByName(domain, name string) (User, bool) {
	for _, u := range v.st.users {
		if u.Domain == domain && u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// Users lists the users by ID.
func (v *View) Users() []User { return sortedValues(v.st.users) }

// Roles lists, sorted, the roles user holds on project.
func (v *View) Roles(user, project string) []string {
	var out []string
	for _, a := range v.st.assignments {
		if a.User == user && a.Project == project {
			out = append(out, a.Role)
		}
	}
	slices.Sort(out)
	return out
}

// Assignments lists every assignment, sorted by user, project and role.
func (v *View) Assignments() []Assignment { return sortedValues(v.st.assignments) }

// Key returns an access key.
func (v *View) Key(access string) (Key, bool) { k, ok := v.st.keys[access]; return k, ok }

// Keys lists the access keys of a user ("" for every key), by access key.
func (v *View) Keys(user string) []Key {
	out := sortedValues(v.st.keys)
	if user != "" {
		out = slices.DeleteFunc(out, func(k Key) bool { return k.User != user })
	}
	return out
}

// Bucket returns a bucket's record.
func (v *View) Bucket(name string) (Bucket, bool) {
	b, ok := v.st.buckets[name]
	return cloneBucket(b), ok
}

// Buckets lists the buckets of owner ("" for all), by name.
func (v *View) Buckets(owner string) []Bucket {
	out := sortedValues(v.st.buckets)
	if owner != "" {
		out = slices.DeleteFunc(out, func(b Bucket) bool { return b.Owner != owner })
	}
	for i := range out {
		out[i] = cloneBucket(out[i])
	}
	return out
}

// Revoked reports whether a token with audit id auditID, of user, issued
// at issued, has been revoked.
func (v *View) Revoked(auditID, user string, issued time.Time) bool {
	if _, ok := v.st.revocations["t\x00"+auditID]; ok && auditID != "" {
		return true
	}
	for _, r := range v.st.revocations {
		if r.AuditID == "" && r.User == user && issued.Before(r.IssuedBefore) {
			return true
		}
	}
	return false
}

// Setting returns a cluster-wide setting.
func (v *View) Setting(name string) (string, bool) { s, ok := v.st.settings[name]; return s, ok }

// marshalIdentity is part of the snapshot encoding.
type identitySnapshot struct {
	Domains     []Domain     `json:"domains,omitempty"`
	Projects    []Project    `json:"projects,omitempty"`
	Assignments []Assignment `json:"assignments,omitempty"`
	Revocations []Revocation `json:"revocations,omitempty"`
	Settings    []setting    `json:"settings,omitempty"`
}

type setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (s *state) identitySnapshot() identitySnapshot {
	out := identitySnapshot{
		Domains:     sortedValues(s.domains),
		Projects:    sortedValues(s.projects),
		Assignments: sortedValues(s.assignments),
		Revocations: sortedValues(s.revocations),
	}
	for _, k := range slices.Sorted(maps.Keys(s.settings)) {
		out.Settings = append(out.Settings, setting{k, s.settings[k]})
	}
	return out
}

func (s *state) restoreIdentity(f identitySnapshot) {
	for _, d := range f.Domains {
		s.domains[d.ID] = d
	}
	for _, p := range f.Projects {
		s.projects[p.ID] = p
	}
	for _, a := range f.Assignments {
		s.assignments[a.key()] = a
	}
	for _, r := range f.Revocations {
		s.revocations[r.key()] = r
	}
	for _, st := range f.Settings {
		s.settings[st.Name] = st.Value
	}
}
