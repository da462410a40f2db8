package keystone

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// Token layout parameters (see the package comment).
const (
	tokenVersion = 1
	auditLen     = 16
	macLen       = sha256.Size
	maxIDLen     = 1024
	fixedLen     = 1 + 1 + 8 + 8 + auditLen + auditLen
	minTokenLen  = fixedLen + 2 + 2 + macLen
	// maxTokenChars bounds the text accepted for decoding.
	maxTokenChars = (minTokenLen+2*maxIDLen)*4/3 + 4
)

// macLabel separates the key that signs tokens from other uses of the
// catalog's token key.
const macLabel = "basalt keystone token v1"

// methodSet is the set of authentication methods behind a token.
type methodSet uint8

const (
	methodPassword methodSet = 1 << iota
	methodToken
	allMethods = methodPassword | methodToken
)

// names lists the methods as Keystone does: the latest first.
func (m methodSet) names() []string {
	out := []string{}
	if m&methodToken != 0 {
		out = append(out, "token")
	}
	if m&methodPassword != 0 {
		out = append(out, "password")
	}
	return out
}

type auditID [auditLen]byte

func (a auditID) String() string { return base64.RawURLEncoding.EncodeToString(a[:]) }

func newAuditID() (auditID, error) {
	var a auditID
	if _, err := rand.Read(a[:]); err != nil {
		return a, fmt.Errorf("%w: random source: %w", ErrUnavailable, err)
	}
	return a, nil
}

// claims are the contents of a token.
type claims struct {
	Methods methodSet
	Issued  time.Time
	Expires time.Time
	Audit   auditID
	Chain   auditID
	User    string
	Project string // "" for an unscoped token
}

// auditIDs lists the token's audit ids as Keystone does: its own, then the
// chain's when it differs.
func (c claims) auditIDs() []string {
	if c.Chain == c.Audit {
		return []string{c.Audit.String()}
	}
	return []string{c.Audit.String(), c.Chain.String()}
}

// macKey derives the signing key from the catalog's token key.
func macKey(key []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(macLabel))
	return h.Sum(nil)
}

// seal encodes and signs c with the catalog's token key.
func (c claims) seal(key []byte) (string, error) {
	if len(c.User) == 0 || len(c.User) > maxIDLen || len(c.Project) > maxIDLen {
		return "", fmt.Errorf("%w: user or project id of %d/%d bytes", ErrBadRequest, len(c.User), len(c.Project))
	}
	b := make([]byte, 0, minTokenLen+len(c.User)+len(c.Project))
	b = append(b, tokenVersion, byte(c.Methods))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Issued.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Expires.UnixMicro()))
	b = append(b, c.Audit[:]...)
	b = append(b, c.Chain[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.User)))
	b = append(b, c.User...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Project)))
	b = append(b, c.Project...)
	h := hmac.New(sha256.New, macKey(key))
	h.Write(b)
	b = h.Sum(b)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// openToken checks a token's encoding and signature and returns its
// claims. It does not check expiry or the catalog. Every failure wraps
// ErrInvalidToken.
func openToken(key []byte, token string) (claims, error) {
	var c claims
	if len(token) < minTokenLen*4/3 || len(token) > maxTokenChars {
		return c, fmt.Errorf("%w: length %d", ErrInvalidToken, len(token))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return c, fmt.Errorf("%w: not base64url", ErrInvalidToken)
	}
	if len(b) < minTokenLen {
		return c, fmt.Errorf("%w: %d bytes", ErrInvalidToken, len(b))
	}
	body, mac := b[:len(b)-macLen], b[len(b)-macLen:]
	h := hmac.New(sha256.New, macKey(key))
	h.Write(body)
	if !hmac.Equal(h.Sum(nil), mac) {
		return c, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	// The signature is ours: the layout below was written by seal, but it
	// is still checked so that a key shared with another format cannot
	// make this code misread bytes.
	if body[0] != tokenVersion {
		return c, fmt.Errorf("%w: version %d", ErrInvalidToken, body[0])
	}
	c.Methods = methodSet(body[1])
	if c.Methods == 0 || c.Methods&^allMethods != 0 {
		return c, fmt.Errorf("%w: methods %#x", ErrInvalidToken, body[1])
	}
	c.Issued = time.UnixMicro(int64(binary.BigEndian.Uint64(body[2:10]))).UTC()
	c.Expires = time.UnixMicro(int64(binary.BigEndian.Uint64(body[10:18]))).UTC()
	copy(c.Audit[:], body[18:18+auditLen])
	copy(c.Chain[:], body[18+auditLen:fixedLen])
	rest := body[fixedLen:]
	user, rest, ok := lengthPrefixed(rest)
	if !ok || len(user) == 0 {
		return c, fmt.Errorf("%w: bad user id", ErrInvalidToken)
	}
	project, rest, ok := lengthPrefixed(rest)
	if !ok || len(rest) != 0 {
		return c, fmt.Errorf("%w: bad project id", ErrInvalidToken)
	}
	c.User, c.Project = string(user), string(project)
	return c, nil
}

// lengthPrefixed splits a 2-byte big-endian length and that many bytes off
// b.
func lengthPrefixed(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if n > len(b) || n > maxIDLen {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}
