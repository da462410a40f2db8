package s3

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/objectd/checksum"
)

// Checksum types as S3 names them.
const (
	typeFullObject = "FULL_OBJECT"
	typeComposite  = "COMPOSITE"
)

// lowerHeader is the lowercase header name of an algorithm's checksum
// ("x-amz-checksum-crc32c"), as S3 writes it in messages.
func lowerHeader(a checksum.Algorithm) string { return strings.ToLower(a.Header()) }

// checksumError tags a checksum failure with its algorithm, so that the
// answer can name the header.
type checksumError struct {
	alg checksum.Algorithm
	err error
}

func (e *checksumError) Error() string { return "s3: " + string(e.alg) + ": " + e.err.Error() }
func (e *checksumError) Unwrap() error { return e.err }

// bodyChecksum is the additional checksum a request announces for its body.
type bodyChecksum struct {
	Alg     checksum.Algorithm
	Value   string // from the header; "" when it comes as a trailer
	Trailer bool
}

// readBodyChecksum finds the additional checksum of a request body from
// x-amz-checksum-* headers, x-amz-trailer and x-amz-sdk-checksum-algorithm.
// It returns nil when the request carries none.
func readBodyChecksum(h http.Header) (*bodyChecksum, error) {
	var found *bodyChecksum
	for _, a := range checksum.All() {
		v := h.Get(a.Header())
		if v == "" {
			continue
		}
		if found != nil {
			return nil, ErrMultipleChecksums
		}
		if !a.Valid(v) {
			return nil, invalidChecksumValue(a)
		}
		found = &bodyChecksum{Alg: a, Value: v}
	}
	for _, tr := range h.Values("X-Amz-Trailer") {
		for _, name := range strings.Split(tr, ",") {
			name = strings.TrimSpace(name)
			if !strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") {
				continue
			}
			a, err := checksum.Parse(name[len("x-amz-checksum-"):])
			if err != nil {
				return nil, ErrInvalidChecksumAlgorithm
			}
			if found != nil {
				return nil, ErrMultipleChecksums
			}
			found = &bodyChecksum{Alg: a, Trailer: true}
		}
	}
	if sdk := h.Get("X-Amz-Sdk-Checksum-Algorithm"); sdk != "" {
		a, err := checksum.Parse(sdk)
		if err != nil {
			return nil, ErrInvalidChecksumAlgorithm
		}
		if found == nil {
			return nil, ErrMissingChecksum
		}
		if found.Alg != a {
			return nil, ErrMultipleChecksums
		}
	}
	return found, nil
}

// readContentMD5 decodes Content-MD5: nil when absent, InvalidDigest when
// it is not the base64 of 16 bytes.
func readContentMD5(h http.Header) ([]byte, error) {
	vs, ok := h["Content-Md5"]
	if !ok {
		return nil, nil
	}
	if len(vs) != 1 {
		return nil, ErrInvalidDigest
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(vs[0]))
	if err != nil || len(b) != md5.Size {
		return nil, ErrInvalidDigest
	}
	return b, nil
}

// defaultAlgorithm is the checksum a new object gets when the request
// names none: CRC64NVME over the whole object, as S3 computes for every
// new object since it made integrity checking the default.
func defaultAlgorithm(want *bodyChecksum, alg checksum.Algorithm) checksum.Algorithm {
	if want == nil && alg == "" {
		return checksum.CRC64NVME
	}
	return alg
}

// verifiedBody wraps a request body so that the announced checksum is
// verified at EOF (a mismatch is an error instead of io.EOF) and returns
// the function to pass as PutOptions.Checksum. With want nil but alg set,
// the checksum is only computed. With neither, it returns r and nil.
func verifiedBody(r io.Reader, want *bodyChecksum, alg checksum.Algorithm, trailer func() http.Header) (io.Reader, func() objectd.Checksum) {
	if want == nil && alg == "" {
		return r, nil
	}
	if want == nil {
		cr := &computingReader{r: r, h: alg.New()}
		return cr, func() objectd.Checksum {
			return objectd.Checksum{Algorithm: string(alg), Value: alg.Encode(cr.h.Sum(nil)), Type: typeFullObject}
		}
	}
	expected := func() string { return want.Value }
	if want.Trailer {
		expected = func() string {
			if trailer == nil {
				return ""
			}
			return trailer().Get(want.Alg.Header())
		}
	}
	vr := checksum.NewReader(r, want.Alg, expected)
	return &taggingReader{r: vr, alg: want.Alg}, func() objectd.Checksum {
		return objectd.Checksum{Algorithm: string(want.Alg), Value: vr.Sum(), Type: typeFullObject}
	}
}

// computingReader hashes what passes through it.
type computingReader struct {
	r io.Reader
	h hash.Hash
}

func (c *computingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	return n, err
}

// taggingReader turns checksum errors into *checksumError.
type taggingReader struct {
	r   io.Reader
	alg checksum.Algorithm
}

func (t *taggingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && (errors.Is(err, checksum.ErrMismatch) || errors.Is(err, checksum.ErrBadValue)) {
		err = &checksumError{alg: t.alg, err: err}
	}
	return n, err
}

// errBodyTooShort is what exactReader returns when the body ends early.
var errBodyTooShort = errors.New("s3: body shorter than its length")

// errBodyTooLong is what exactReader returns when the body goes on past its length.
var errBodyTooLong = errors.New("s3: body longer than its length")

// exactReader delivers exactly n bytes of r and then makes sure r is at EOF,
// so that checks done at EOF (payload hash, checksum trailers) always run.
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		var probe [1]byte
		for {
			n, err := e.r.Read(probe[:])
			if n > 0 {
				return 0, errBodyTooLong
			}
			if err == io.EOF {
				return 0, io.EOF
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	if err == io.EOF {
		if e.n > 0 {
			return n, errBodyTooShort
		}
		return n, nil
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return n, errors.Join(errBodyTooShort, err)
	}
	return n, err
}

// setChecksumHeaders adds x-amz-checksum-<alg> and x-amz-checksum-type for c.
func setChecksumHeaders(h http.Header, c objectd.Checksum) {
	if c.Value == "" {
		return
	}
	a, err := checksum.Parse(c.Algorithm)
	if err != nil {
		return
	}
	h.Set(a.Header(), c.Value)
	if c.Type != "" {
		h.Set("X-Amz-Checksum-Type", c.Type)
	}
}

// checksumXML fills the Checksum* elements for c.
func checksumXML(c objectd.Checksum) checksumFields {
	var f checksumFields
	a, err := checksum.Parse(c.Algorithm)
	if err != nil || c.Value == "" {
		return f
	}
	if p := f.field(a); p != nil {
		*p = c.Value
	}
	return f
}

// value returns the element for algorithm a.
func (f checksumFields) value(a checksum.Algorithm) string {
	if p := f.field(a); p != nil {
		return *p
	}
	return ""
}

// field is the element that holds algorithm a's value (nil for none).
func (f *checksumFields) field(a checksum.Algorithm) *string {
	switch a {
	case checksum.CRC32:
		return &f.ChecksumCRC32
	case checksum.CRC32C:
		return &f.ChecksumCRC32C
	case checksum.CRC64NVME:
		return &f.ChecksumCRC64NVME
	case checksum.SHA1:
		return &f.ChecksumSHA1
	case checksum.SHA256:
		return &f.ChecksumSHA256
	case checksum.MD5:
		return &f.ChecksumMD5
	case checksum.SHA512:
		return &f.ChecksumSHA512
	case checksum.XXHASH64:
		return &f.ChecksumXXHASH64
	case checksum.XXHASH3:
		return &f.ChecksumXXHASH3
	case checksum.XXHASH128:
		return &f.ChecksumXXHASH128
	}
	return nil
}

// defaultChecksumType is the type S3 uses for an algorithm when the request
// names none: FULL_OBJECT for CRC64NVME, COMPOSITE for the others.
func defaultChecksumType(a checksum.Algorithm) string {
	if a == checksum.CRC64NVME {
		return typeFullObject
	}
	return typeComposite
}

// checkChecksumType validates an algorithm/type pair as S3 does: only the
// CRCs combine into a FULL_OBJECT value, and CRC64NVME only combines.
func checkChecksumType(a checksum.Algorithm, t string) error {
	switch t {
	case typeFullObject:
		if a != checksum.CRC32 && a != checksum.CRC32C && a != checksum.CRC64NVME {
			return ErrChecksumTypeUnsupported
		}
	case typeComposite:
		if a == checksum.CRC64NVME {
			return ErrChecksumTypeUnsupported
		}
	default:
		return ErrInvalidChecksumType
	}
	return nil
}
