package proxy

import (
	"github.com/basaltstore/basalt/proxy/catalog"
	"github.com/basaltstore/basalt/proxy/identity"
	"github.com/basaltstore/basalt/proxy/sigv4"
)

// keyring resolves the access keys of signed requests: the root
// credential first, then the catalog's access keys, whose user and
// project must be enabled and whose user must hold a role on the project.
type keyring struct {
	root sigv4.CredentialStore
	cat  *catalog.Catalog // nil: the root credential only
}

// SecretKey implements sigv4.CredentialStore.
func (k keyring) SecretKey(accessKey string) (string, bool) {
	if s, ok := k.root.SecretKey(accessKey); ok {
		return s, true
	}
	if k.cat == nil {
		return "", false
	}
	s, _, err := catalog.KeyPrincipal(k.cat.View(), accessKey)
	return s, err == nil
}

// principal returns who a verified access key acts as.
func (k keyring) principal(accessKey string) (identity.Principal, error) {
	if _, ok := k.root.SecretKey(accessKey); ok {
		return identity.Principal{UserName: "root", Root: true}, nil
	}
	if k.cat == nil {
		return identity.Principal{}, catalog.ErrNoAccess
	}
	_, p, err := catalog.KeyPrincipal(k.cat.View(), accessKey)
	return p, err
}
