package swift

import (
	"net/url"
	"slices"
	"strings"

	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// op is what a request does to a container, for authorization.
type op int

const (
	opRead  op = iota // read an object
	opList            // list or read the metadata of a container
	opWrite           // create, change or delete an object
	opAdmin           // create, change or delete a container; change an account
)

// caller is who a request comes from.
type caller struct {
	p       *identity.Principal // nil: no token
	temp    *tempScope          // set when a TempURL authorized the request
	referer string
}

// tempScope is what a TempURL signature grants: every operation on the
// containers of account (or only on container, for a container key).
type tempScope struct {
	account, container string
}

// authenticate finds the caller: a TempURL, a token, or nobody.
func (q *request) authenticate() error {
	q.caller.referer = q.r.Referer()
	if q.query.Has("temp_url_sig") || q.query.Has("temp_url_expires") {
		return q.authenticateTempURL()
	}
	tok := q.r.Header.Get("X-Auth-Token")
	if tok == "" {
		tok = q.r.Header.Get("X-Storage-Token")
	}
	if tok == "" {
		return nil
	}
	p, err := q.s.tokens.Validate(q.ctx, tok)
	if err != nil {
		return errUnauthorized
	}
	q.caller.p = &p
	return nil
}

// deny is the refusal for the caller: 401 without a token (or for a
// TempURL), 403 for a token without the right.
func (c caller) deny() error {
	if c.p == nil {
		return errUnauthorized
	}
	return errForbidden
}

// ownerRight reports whether the caller acts for account acct (its
// token's project, or root) with a role that allows o.
func (c caller) ownerRight(acct string, o op) bool {
	if c.p == nil {
		return false
	}
	if !c.p.Root && (c.p.ProjectID == "" || c.p.ProjectID != acct) {
		return false
	}
	if o == opRead || o == opList {
		return c.p.CanRead()
	}
	return c.p.CanWrite()
}

// allowed reports whether the caller may do o on container b, which
// belongs to account b.Owner.
func (c caller) allowed(v *raftmap.View, b raftmap.Bucket, o op) bool {
	if c.ownerRight(b.Owner, o) {
		return true
	}
	if c.temp != nil {
		return c.temp.account == b.Owner && (c.temp.container == "" || c.temp.container == b.Name)
	}
	return c.aclAllows(v, b, o)
}

// aclAllows evaluates the container's ACLs (X-Container-Read for reads
// and listings, X-Container-Write for object writes) as Swift's v1 ACLs
// under Keystone: "<project>:<user>" with ids or "*" (and names in the
// default domain), ".r:<referrer>" for anyone (".rlistings" for
// listings too), and bare role names for users of the owning project.
func (c caller) aclAllows(v *raftmap.View, b raftmap.Bucket, o op) bool {
	var acl string
	switch o {
	case opRead, opList:
		acl = b.Meta["x-container-read"]
	case opWrite:
		acl = b.Meta["x-container-write"]
	default:
		return false
	}
	if acl == "" {
		return false
	}
	referrers, groups := parseACL(acl)
	if c.p != nil && c.p.ProjectID != "" {
		names := c.p.DomainID == raftmap.DefaultDomain
		if names {
			if owner, ok := v.Project(b.Owner); !ok || owner.Domain != raftmap.DefaultDomain {
				names = false
			}
		}
		projects := []string{c.p.ProjectID, "*"}
		users := []string{c.p.UserID, "*"}
		if names {
			projects = append(projects, c.p.ProjectName)
			users = append(users, c.p.UserName)
		}
		for _, p := range projects {
			for _, u := range users {
				if slices.Contains(groups, p+":"+u) {
					return true
				}
			}
		}
	}
	if (o == opRead || o == opList) && referrerAllowed(c.referer, referrers) {
		if o == opRead || slices.Contains(groups, ".rlistings") {
			return true
		}
	}
	if c.p != nil && c.p.ProjectID == b.Owner {
		for _, role := range c.p.Roles {
			for _, g := range groups {
				if strings.EqualFold(g, role) {
					return true
				}
			}
		}
	}
	return false
}

// account returns the project of the request's account, if the caller
// may do o on the account itself.
func (q *request) account(o op) (raftmap.Project, error) {
	if !q.caller.ownerRight(q.acct, o) {
		return raftmap.Project{}, q.caller.deny()
	}
	p, ok := q.s.cat.View().Project(q.acct)
	if !ok && q.s.cat.Sync(q.ctx) == nil {
		p, ok = q.s.cat.View().Project(q.acct)
	}
	if !ok {
		return raftmap.Project{}, errNotFound
	}
	return p, nil
}

// bucket looks a container's record up; on a miss it first catches up
// with the catalog's leader, so that a container created through another
// node is seen (read-after-write across the cluster).
func (q *request) bucket(name string) (*raftmap.View, raftmap.Bucket, bool) {
	v := q.s.cat.View()
	b, ok := v.Bucket(name)
	if !ok && q.s.cat.Sync(q.ctx) == nil {
		v = q.s.cat.View()
		b, ok = v.Bucket(name)
	}
	return v, b, ok
}

// container returns container name, addressed in the request's account,
// if the caller may do o on it. Container names are global: a container
// of another project is invisible (404) from this account unless an ACL
// grants the caller o on it.
func (q *request) container(name string, o op) (raftmap.Bucket, error) {
	v, b, ok := q.bucket(name)
	if ok && b.Owner == q.acct {
		if q.caller.allowed(v, b, o) {
			return b, nil
		}
		return raftmap.Bucket{}, q.caller.deny()
	}
	if ok && q.caller.p != nil && q.caller.p.ProjectID == q.acct && q.caller.aclAllows(v, b, o) {
		return b, nil // another project's container, through the caller's own account
	}
	if q.caller.ownerRight(q.acct, o) || (q.caller.temp != nil && q.caller.temp.account == q.acct) {
		return raftmap.Bucket{}, errNotFound
	}
	return raftmap.Bucket{}, q.caller.deny()
}

// segmentContainer returns the container of a large object's segment,
// which the caller must be allowed to read (403 otherwise, 404 when it
// does not exist).
func (q *request) segmentContainer(name string, o op) (raftmap.Bucket, error) {
	v, b, ok := q.bucket(name)
	if !ok {
		return raftmap.Bucket{}, errNotFound
	}
	if !q.caller.allowed(v, b, o) {
		return raftmap.Bucket{}, failf(errForbidden, "Access to segment container %q denied", name)
	}
	return b, nil
}

// parseACL splits an ACL into referrer designations (".r:" removed) and
// the other entries.
func parseACL(acl string) (referrers, groups []string) {
	for _, v := range strings.Split(acl, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if r, ok := strings.CutPrefix(v, ".r:"); ok {
			referrers = append(referrers, r)
		} else {
			groups = append(groups, v)
		}
	}
	return referrers, groups
}

// cleanACL checks and normalises an ACL header value as Swift does
// (".ref:", ".referer:" and ".referrer:" become ".r:"; "*.example.com"
// becomes ".example.com"); referrers are refused in write ACLs.
func cleanACL(write bool, value string) (string, error) {
	var out []string
	for _, raw := range strings.Split(value, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		first, second, ok := strings.Cut(raw, ":")
		if !ok {
			out = append(out, raw)
			continue
		}
		first, second = strings.TrimSpace(first), strings.TrimSpace(second)
		if first == "" || !strings.HasPrefix(first, ".") {
			out = append(out, raw)
			continue
		}
		switch first {
		case ".r", ".ref", ".referer", ".referrer":
		default:
			return "", failf(errBadRequest, "Unknown designator %q in ACL: %q", first, raw)
		}
		if write {
			return "", failf(errBadRequest, "Referrers not allowed in write ACL: %q", raw)
		}
		negate := strings.HasPrefix(second, "-")
		if negate {
			second = strings.TrimSpace(second[1:])
		}
		if second != "*" && strings.HasPrefix(second, "*") {
			second = strings.TrimSpace(second[1:])
		}
		if second == "" || second == "." {
			return "", failf(errBadRequest, "No host/domain value after referrer designation in ACL: %q", raw)
		}
		if negate {
			second = "-" + second
		}
		out = append(out, ".r:"+second)
	}
	return strings.Join(out, ","), nil
}

// referrerAllowed applies referrer designations to a Referer header:
// "*" any, "host" exactly, ".domain" any host under it, "-..." denies.
func referrerAllowed(referer string, acl []string) bool {
	allow := false
	host := "unknown"
	if u, err := url.Parse(referer); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	for _, m := range acl {
		if d, ok := strings.CutPrefix(m, "-"); ok {
			if d == host || (strings.HasPrefix(d, ".") && strings.HasSuffix(host, d)) {
				allow = false
			}
			continue
		}
		if m == "*" || m == host || (strings.HasPrefix(m, ".") && strings.HasSuffix(host, m)) {
			allow = true
		}
	}
	return allow
}
