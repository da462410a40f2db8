package keystone

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// Constants of the documents served.
const (
	apiVersion  = "v3.14"
	apiUpdated  = "2020-04-07T00:00:00Z"
	mediaTypeV3 = "application/vnd.openstack.identity-v3+json"
	// timeFormat is Keystone's: ISO 8601, microseconds, Z.
	timeFormat = "2006-01-02T15:04:05.000000Z"
	region     = "RegionOne"
)

type versionsDoc struct {
	Versions versionList `json:"versions"`
}

type versionList struct {
	Values []versionBody `json:"values"`
}

type versionDoc struct {
	Version versionBody `json:"version"`
}

type versionBody struct {
	ID         string      `json:"id"`
	Status     string      `json:"status"`
	Updated    string      `json:"updated"`
	Links      []linkBody  `json:"links"`
	MediaTypes []mediaType `json:"media-types"`
}

type linkBody struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

type mediaType struct {
	Base string `json:"base"`
	Type string `json:"type"`
}

func v3Version(r *http.Request) versionBody {
	return versionBody{
		ID:         apiVersion,
		Status:     "stable",
		Updated:    apiUpdated,
		Links:      []linkBody{{Rel: "self", Href: baseURL(r) + "/v3/"}},
		MediaTypes: []mediaType{{Base: "application/json", Type: mediaTypeV3}},
	}
}

type tokenDoc struct {
	Token tokenBody `json:"token"`
}

type tokenBody struct {
	Methods   []string     `json:"methods"`
	User      userDoc      `json:"user"`
	Project   *projectDoc  `json:"project,omitempty"`
	IsDomain  *bool        `json:"is_domain,omitempty"`
	Roles     []roleDoc    `json:"roles,omitempty"`
	IssuedAt  string       `json:"issued_at"`
	ExpiresAt string       `json:"expires_at"`
	AuditIDs  []string     `json:"audit_ids"`
	Catalog   []serviceDoc `json:"catalog,omitempty"`
}

type userDoc struct {
	ID                string    `json:"id"`
	Name              string    `json:"name"`
	Domain            domainDoc `json:"domain"`
	PasswordExpiresAt *string   `json:"password_expires_at"`
}

type domainDoc struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type projectDoc struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Domain domainDoc `json:"domain"`
}

// roleDoc is a role; roles are known by name, which is also their id.
type roleDoc struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type serviceDoc struct {
	Type      string        `json:"type"`
	Name      string        `json:"name"`
	ID        string        `json:"id"`
	Endpoints []endpointDoc `json:"endpoints"`
}

type endpointDoc struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
}

type catalogDoc struct {
	Catalog []serviceDoc `json:"catalog"`
	Links   linksDoc     `json:"links"`
}

type linksDoc struct {
	Self string `json:"self"`
}

type pageLinks struct {
	Self     string  `json:"self"`
	Previous *string `json:"previous"`
	Next     *string `json:"next"`
}

type projectListDoc struct {
	Projects []projectListItem `json:"projects"`
	Links    pageLinks         `json:"links"`
}

type projectListItem struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	DomainID    string   `json:"domain_id"`
	ParentID    string   `json:"parent_id"`
	Enabled     bool     `json:"enabled"`
	IsDomain    bool     `json:"is_domain"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Links       linksDoc `json:"links"`
}

// renderToken is the token document of POST and GET /v3/auth/tokens. An
// unscoped token has no project, roles or catalog, as in Keystone.
func renderToken(r *http.Request, c claims, sub subject, withCatalog bool) tokenDoc {
	t := tokenBody{
		Methods: c.Methods.names(),
		User: userDoc{
			ID: sub.User.ID, Name: sub.User.Name,
			Domain: domainDoc{ID: sub.UserDomain.ID, Name: sub.UserDomain.Name},
		},
		IssuedAt:  c.Issued.UTC().Format(timeFormat),
		ExpiresAt: c.Expires.UTC().Format(timeFormat),
		AuditIDs:  c.auditIDs(),
	}
	if sub.scoped() {
		isDomain := false
		t.IsDomain = &isDomain
		t.Project = &projectDoc{
			ID: sub.Project.ID, Name: sub.Project.Name,
			Domain: domainDoc{ID: sub.ProjectDomain.ID, Name: sub.ProjectDomain.Name},
		}
		for _, role := range sub.Roles {
			t.Roles = append(t.Roles, roleDoc{ID: role, Name: role})
		}
		if withCatalog {
			t.Catalog = serviceCatalog(baseURL(r), sub.Project.ID)
		}
	}
	return tokenDoc{Token: t}
}

// stableID is a fixed id for a catalog entry, the same on every node.
func stableID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// serviceCatalog lists the services a project-scoped token reaches: Swift
// at base/v1/AUTH_<project> and this identity service at base/v3.
func serviceCatalog(base, projectID string) []serviceDoc {
	service := func(typ, name, url string) serviceDoc {
		s := serviceDoc{Type: typ, Name: name, ID: stableID("service", typ)}
		for _, iface := range []string{"public", "internal", "admin"} {
			s.Endpoints = append(s.Endpoints, endpointDoc{
				ID: stableID("endpoint", typ, iface), Interface: iface,
				Region: region, RegionID: region, URL: url,
			})
		}
		return s
	}
	return []serviceDoc{
		service("object-store", "swift", base+"/v1/AUTH_"+projectID),
		service("identity", "keystone", base+"/v3"),
	}
}

// expiresIn is the whole number of seconds from now to t, at least 0.
func expiresIn(now, t time.Time) int64 {
	d := t.Sub(now)
	if d < 0 {
		return 0
	}
	return int64(d / time.Second)
}
