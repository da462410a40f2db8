package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"net/http"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/minio/crc64nvme"
	"github.com/zeebo/xxh3"
)

// Algorithm names an S3 additional checksum algorithm, spelled as S3 spells
// it in x-amz-checksum-algorithm ("CRC32C").
type Algorithm string

// The algorithms S3 accepts.
const (
	CRC32     Algorithm = "CRC32"
	CRC32C    Algorithm = "CRC32C"
	CRC64NVME Algorithm = "CRC64NVME"
	SHA1      Algorithm = "SHA1"
	SHA256    Algorithm = "SHA256"
	// The algorithms S3 added later; current SDKs offer them.
	MD5       Algorithm = "MD5"
	SHA512    Algorithm = "SHA512"
	XXHASH64  Algorithm = "XXHASH64"
	XXHASH3   Algorithm = "XXHASH3"
	XXHASH128 Algorithm = "XXHASH128"
)

// Errors of this package; returned errors wrap them and are matched with
// errors.Is.
var (
	// ErrUnknownAlgorithm: the name is not one of the algorithms above, or
	// the operation does not apply to the algorithm.
	ErrUnknownAlgorithm = errors.New("checksum: unknown algorithm")
	// ErrMismatch: the data does not have the checksum it was said to have.
	ErrMismatch = errors.New("checksum: mismatch")
	// ErrBadValue: a checksum value is not the base64 of a digest of the
	// algorithm's length, or a request carries conflicting checksums.
	ErrBadValue = errors.New("checksum: bad value")
)

const headerPrefix = "x-amz-checksum-"

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	b64        = base64.StdEncoding.Strict()
)

// All returns every algorithm, in a fixed order.
func All() []Algorithm {
	return []Algorithm{CRC32, CRC32C, CRC64NVME, SHA1, SHA256, MD5, SHA512, XXHASH64, XXHASH3, XXHASH128}
}

// Parse returns the algorithm named by name, ignoring case ("crc32c" and
// "CRC32C" are the same).
func Parse(name string) (Algorithm, error) {
	for _, a := range All() {
		if strings.EqualFold(name, string(a)) {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownAlgorithm, name)
}

// FromHeaderName returns the algorithm whose checksum header (or trailer) is
// name, ignoring case: "x-amz-checksum-crc32c" gives CRC32C. It is the
// inverse of Header and serves to read x-amz-trailer.
func FromHeaderName(name string) (Algorithm, error) {
	name = strings.TrimSpace(name)
	if len(name) <= len(headerPrefix) || !strings.EqualFold(name[:len(headerPrefix)], headerPrefix) {
		return "", fmt.Errorf("%w: header %q", ErrUnknownAlgorithm, name)
	}
	return Parse(name[len(headerPrefix):])
}

// Find returns the one x-amz-checksum-<algorithm> header of h and its value.
// It returns ("", "", nil) when h has none, and an error wrapping ErrBadValue
// when it has several, or when the value is not valid for the algorithm.
// Headers of the same prefix that name no algorithm (x-amz-checksum-type,
// x-amz-checksum-mode, x-amz-checksum-algorithm) are not checksums and are
// ignored.
func Find(h http.Header) (Algorithm, string, error) {
	var (
		found Algorithm
		value string
	)
	for _, a := range All() {
		vs := h.Values(a.Header())
		if len(vs) == 0 {
			continue
		}
		if found != "" || len(vs) > 1 {
			return "", "", fmt.Errorf("%w: more than one checksum header", ErrBadValue)
		}
		if !a.Valid(vs[0]) {
			return "", "", fmt.Errorf("%w: %s %q", ErrBadValue, a.Header(), vs[0])
		}
		found, value = a, vs[0]
	}
	return found, value, nil
}

// Size returns the digest length in bytes, or 0 for an unknown algorithm.
func (a Algorithm) Size() int {
	switch a {
	case CRC32, CRC32C:
		return 4
	case CRC64NVME:
		return 8
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	case MD5:
		return md5.Size
	case SHA512:
		return sha512.Size
	case XXHASH64, XXHASH3:
		return 8
	case XXHASH128:
		return 16
	}
	return 0
}

// New returns a fresh hash for the algorithm; its Sum is the big-endian
// digest S3 encodes. It returns nil for an unknown algorithm.
func (a Algorithm) New() hash.Hash {
	switch a {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoli)
	case CRC64NVME:
		return crc64nvme.New()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case MD5:
		return md5.New()
	case SHA512:
		return sha512.New()
	case XXHASH64:
		return xxhash.New()
	case XXHASH3:
		return xxh3.New()
	case XXHASH128:
		return xxh3.New128()
	}
	return nil
}

// Header returns the canonical name of the request and response header
// carrying this checksum, e.g. "X-Amz-Checksum-Crc32c".
func (a Algorithm) Header() string {
	return http.CanonicalHeaderKey(headerPrefix + strings.ToLower(string(a)))
}

// Encode returns the wire form of a raw digest: standard base64.
func (a Algorithm) Encode(sum []byte) string {
	return base64.StdEncoding.EncodeToString(sum)
}

// Valid reports whether value is the canonical base64 of a digest of the
// algorithm's length.
func (a Algorithm) Valid(value string) bool {
	_, err := a.decode(value)
	return err == nil
}

// decode returns the raw digest of a wire value.
func (a Algorithm) decode(value string) ([]byte, error) {
	n := a.Size()
	if n == 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAlgorithm, string(a))
	}
	if len(value) != b64.EncodedLen(n) {
		return nil, fmt.Errorf("%w: %s value %q has the wrong length", ErrBadValue, a, value)
	}
	raw, err := b64.DecodeString(value)
	if err != nil || len(raw) != n {
		return nil, fmt.Errorf("%w: %s value %q is not base64 of %d bytes", ErrBadValue, a, value, n)
	}
	return raw, nil
}

// isCRC reports whether a is one of the CRCs that Combine supports.
func (a Algorithm) isCRC() bool {
	return a == CRC32 || a == CRC32C || a == CRC64NVME
}
