// Package keystone is Basalt's identity front end: the subset of the
// OpenStack Identity API v3 that clients need to obtain and check tokens
// (version documents, POST/GET/HEAD/DELETE /v3/auth/tokens,
// /v3/auth/catalog, /v3/auth/projects), Swift's tempauth handshake
// (GET /auth/v1.0), and Validate, which turns a token into an
// identity.Principal for the Swift API and the rest of the proxy.
//
// Users, projects, domains and role assignments live in the replicated
// catalog (proxy/catalog); this package keeps no state of its own.
//
// # Tokens
//
// A token is self-contained and signed, so that every proxy node validates
// it without a round trip and it survives restarts. It is the unpadded
// base64url encoding of:
//
//	+---------+---------+--------------+--------------+-----------+-----------+
//	| version | methods | issued       | expires      | audit id  | chain id  |
//	| 1 byte  | 1 byte  | 8 bytes, BE  | 8 bytes, BE  | 16 bytes  | 16 bytes  |
//	+---------+---------+--------------+--------------+-----------+-----------+
//	| user id length | user id | project id length | project id | MAC      |
//	| 2 bytes, BE    | n bytes | 2 bytes, BE       | m bytes    | 32 bytes |
//	+----------------+---------+-------------------+------------+----------+
//
// version is 1. methods is a bit set of the authentication methods behind
// the token (1 password, 2 token). issued and expires are Unix times in
// microseconds. The audit id is 16 random bytes; the chain id is the audit
// id of the token the chain started from (equal to the audit id for a token
// made from a password). An empty project id makes an unscoped token. MAC
// is HMAC-SHA256 over every preceding byte, keyed with a key derived from
// the catalog's token key (catalog.TokenKey) and a fixed label.
//
// Validation checks, in order: the encoding and the MAC, expiry, the
// revocations recorded in the catalog (the token's audit id and its chain
// id), then the catalog's current records: the user and its domain exist
// and are enabled, and for a scoped token the project and its domain exist
// and are enabled and the user still holds at least one role there. Roles
// are read from the catalog at every validation, so a change of roles takes
// effect at once. A token made from another token (method "token") keeps
// its parent's expiry and chain id. DELETE /v3/auth/tokens revokes the
// whole chain (Keystone's cascade) unless ?cascade=false, which revokes the
// one token.
//
// Authentication failures never tell an unknown user from a wrong password
// or a disabled account: all give the same 401, and the password check runs
// against a dummy hash when the user does not exist (or has no password).
//
// As in Keystone: a body whose Content-Type is not JSON is refused with
// 400 (Keystone's JSON body check, not 415); a method other than those of
// a path gets 405 with Allow; GET / answers 300 Multiple Choices. A request
// with no scope is scoped to the user's default project when that project
// is enabled and the user holds a role there, else unscoped; "scope":
// "unscoped" always gives an unscoped token. Only project scope exists:
// domain, system and trust scopes are refused with 401. A caller may
// check or revoke its own tokens; checking or revoking another user's needs
// the admin role on the caller's project.
//
// A Principal's DomainID is the user's domain. Role ids are role names.
//
// Concurrency: a Service is safe for concurrent use. Its only state after
// New is the dummy password hash, made once under a sync.Once; everything
// else is read from the catalog's immutable views at each request.
package keystone
