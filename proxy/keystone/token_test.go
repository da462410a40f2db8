package keystone

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

var testKey = bytes.Repeat([]byte{7}, 32)

func sampleClaims() claims {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)
	return claims{
		Methods: methodPassword | methodToken,
		Issued:  t0,
		Expires: t0.Add(time.Hour),
		Audit:   auditID{1, 2, 3},
		Chain:   auditID{4, 5, 6},
		User:    "u-1",
		Project: "p-1",
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	for name, mod := range map[string]func(*claims){
		"scoped":   func(*claims) {},
		"unscoped": func(c *claims) { c.Project = "" },
		"longest ids": func(c *claims) {
			c.User = strings.Repeat("u", maxIDLen)
			c.Project = strings.Repeat("p", maxIDLen)
		},
		"unicode ids": func(c *claims) { c.User, c.Project = "ユーザー", "projet é" },
		"password":    func(c *claims) { c.Methods = methodPassword },
	} {
		c := sampleClaims()
		mod(&c)
		tok, err := c.seal(testKey)
		if err != nil {
			t.Fatalf("%s: seal: %v", name, err)
		}
		if len(tok) > maxTokenChars {
			t.Errorf("%s: %d characters, limit %d", name, len(tok), maxTokenChars)
		}
		got, err := openToken(testKey, tok)
		if err != nil {
			t.Fatalf("%s: open: %v", name, err)
		}
		if !got.Issued.Equal(c.Issued) || !got.Expires.Equal(c.Expires) {
			t.Errorf("%s: times %v %v, want %v %v", name, got.Issued, got.Expires, c.Issued, c.Expires)
		}
		got.Issued, got.Expires = c.Issued, c.Expires
		if got != c {
			t.Errorf("%s: %+v, want %+v", name, got, c)
		}
	}
}

func TestSealRefusesBadIDs(t *testing.T) {
	for name, mod := range map[string]func(*claims){
		"no user":         func(c *claims) { c.User = "" },
		"long user":       func(c *claims) { c.User = strings.Repeat("u", maxIDLen+1) },
		"long project id": func(c *claims) { c.Project = strings.Repeat("p", maxIDLen+1) },
	} {
		c := sampleClaims()
		mod(&c)
		if _, err := c.seal(testKey); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestOpenRefusesOtherKey(t *testing.T) {
	tok, err := sampleClaims().seal(testKey)
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte{8}, 32)
	if _, err := openToken(other, tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("other key: %v", err)
	}
	// The raw catalog key is not the signing key: a MAC made with it
	// directly does not verify.
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	body := raw[:len(raw)-macLen]
	h := hmac.New(sha256.New, testKey)
	h.Write(body)
	if _, err := openToken(testKey, base64.RawURLEncoding.EncodeToString(h.Sum(body))); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("MAC with the undiverted key accepted: %v", err)
	}
}

// signRaw signs arbitrary bytes as a token, to reach the layout checks
// behind the signature.
func signRaw(body []byte) string {
	h := hmac.New(sha256.New, macKey(testKey))
	h.Write(body)
	return base64.RawURLEncoding.EncodeToString(h.Sum(bytes.Clone(body)))
}

func TestOpenChecksLayoutBehindSignature(t *testing.T) {
	tok, err := sampleClaims().seal(testKey)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	good := raw[:len(raw)-macLen]
	if _, err := openToken(testKey, signRaw(good)); err != nil {
		t.Fatalf("re-signed good body: %v", err)
	}
	userLenAt := fixedLen
	for name, mutate := range map[string]func([]byte) []byte{
		"version 2":        func(b []byte) []byte { b[0] = 2; return b },
		"no methods":       func(b []byte) []byte { b[1] = 0; return b },
		"unknown method":   func(b []byte) []byte { b[1] = 0x80 | 1; return b },
		"user length 0":    func(b []byte) []byte { binary.BigEndian.PutUint16(b[userLenAt:], 0); return b },
		"user overflows":   func(b []byte) []byte { binary.BigEndian.PutUint16(b[userLenAt:], 0xffff); return b },
		"trailing byte":    func(b []byte) []byte { return append(b, 0) },
		"project cut":      func(b []byte) []byte { return b[:len(b)-1] },
		"no project field": func(b []byte) []byte { return b[:userLenAt+2+3] },
	} {
		b := mutate(bytes.Clone(good))
		if _, err := openToken(testKey, signRaw(b)); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMethodNames(t *testing.T) {
	for m, want := range map[methodSet]string{
		methodPassword:               "password",
		methodToken:                  "token",
		methodPassword | methodToken: "token,password",
	} {
		if got := strings.Join(m.names(), ","); got != want {
			t.Errorf("%d: %s, want %s", m, got, want)
		}
	}
}

func FuzzOpenToken(f *testing.F) {
	tok, err := sampleClaims().seal(testKey)
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	f.Add(tok, []byte(nil))
	f.Add("", raw[:len(raw)-macLen])
	f.Add("AAAA", []byte{1, 1})
	f.Fuzz(func(t *testing.T, text string, body []byte) {
		// Arbitrary text, and arbitrary bodies under a valid signature:
		// never a panic, and whatever opens seals back to the same token.
		for _, candidate := range []string{text, signRaw(body)} {
			c, err := openToken(testKey, candidate)
			if err != nil {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("error %v does not wrap ErrInvalidToken", err)
				}
				continue
			}
			again, err := c.seal(testKey)
			if err != nil {
				t.Fatalf("opened claims do not seal: %v", err)
			}
			if again != candidate {
				t.Fatalf("token %q re-seals as %q", candidate, again)
			}
		}
	})
}

func TestUnknownUserStillPaysForAPasswordCheck(t *testing.T) {
	s := New(Config{})
	if s.checkPassword(nil, "anything") {
		t.Fatal("a missing user authenticated")
	}
	if !strings.HasPrefix(s.dummyHash, "$2") {
		t.Fatalf("no bcrypt dummy hash was made: %q", s.dummyHash)
	}
}
