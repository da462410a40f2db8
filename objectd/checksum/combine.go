package checksum

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Composite returns the COMPOSITE checksum of a multipart object: the base64
// of the algorithm's digest over the concatenated raw digests of the parts,
// in part order, followed by "-N" where N is the number of parts. It works
// for every algorithm. Each part value must be valid for a.
func Composite(a Algorithm, partValues []string) (string, error) {
	h := a.New()
	if h == nil {
		return "", fmt.Errorf("%w: %q", ErrUnknownAlgorithm, string(a))
	}
	if len(partValues) == 0 {
		return "", fmt.Errorf("%w: composite checksum of no parts", ErrBadValue)
	}
	for i, v := range partValues {
		raw, err := a.decode(v)
		if err != nil {
			return "", fmt.Errorf("part %d: %w", i+1, err)
		}
		h.Write(raw)
	}
	return a.Encode(h.Sum(nil)) + "-" + strconv.Itoa(len(partValues)), nil
}

// Combine returns the FULL_OBJECT checksum of the concatenation of parts
// whose checksums are partValues and whose lengths in bytes are partSizes:
// the value a single pass over the whole object would give. It is defined
// for the CRCs only (CRC32, CRC32C, CRC64NVME); any other algorithm gives
// ErrUnknownAlgorithm. No parts give the checksum of the empty object.
func Combine(a Algorithm, partValues []string, partSizes []int64) (string, error) {
	if !a.isCRC() {
		return "", fmt.Errorf("%w: %s cannot be combined", ErrUnknownAlgorithm, a)
	}
	if len(partValues) != len(partSizes) {
		return "", fmt.Errorf("%w: %d part checksums for %d part sizes", ErrBadValue, len(partValues), len(partSizes))
	}
	spec := specOf(a)
	var crc uint64 // the CRC of the empty string is 0 for all three
	for i, v := range partValues {
		raw, err := a.decode(v)
		if err != nil {
			return "", fmt.Errorf("part %d: %w", i+1, err)
		}
		if partSizes[i] < 0 {
			return "", fmt.Errorf("%w: part %d has negative size %d", ErrBadValue, i+1, partSizes[i])
		}
		var part uint64
		if spec.width == 32 {
			part = uint64(binary.BigEndian.Uint32(raw))
		} else {
			part = binary.BigEndian.Uint64(raw)
		}
		crc = spec.combine(crc, part, partSizes[i])
	}
	out := make([]byte, spec.width/8)
	if spec.width == 32 {
		binary.BigEndian.PutUint32(out, uint32(crc))
	} else {
		binary.BigEndian.PutUint64(out, crc)
	}
	return a.Encode(out), nil
}

// crcSpec describes a reflected CRC with all-ones initial value and final
// xor, which is what CRC32, CRC32C and CRC64NVME are. Polynomials are in
// reflected form: bit width-1 is the coefficient of x^0.
//
// The combination follows the method of zlib's crc32_combine: for such a
// CRC, crc(A||B) = crc(A)·x^(8·len(B)) mod P  xor  crc(B), the all-ones
// initial value and final xor cancelling out. x^(8·n) mod P is computed by
// square-and-multiply over a table of x^(2^k) mod P.
type crcSpec struct {
	width uint
	poly  uint64
	x2n   [72]uint64 // x2n[k] = x^(2^k) mod P; 8·n < 2^66 needs k <= 66
}

var (
	specCRC32     = newCRCSpec(32, 0xedb88320)
	specCRC32C    = newCRCSpec(32, 0x82f63b78)
	specCRC64NVME = newCRCSpec(64, 0x9a6c9329ac4bc9b5)
)

func specOf(a Algorithm) *crcSpec {
	switch a {
	case CRC32:
		return specCRC32
	case CRC32C:
		return specCRC32C
	}
	return specCRC64NVME
}

func newCRCSpec(width uint, poly uint64) *crcSpec {
	s := &crcSpec{width: width, poly: poly}
	p := s.one() >> 1 // x^1
	s.x2n[0] = p
	for k := 1; k < len(s.x2n); k++ {
		p = s.multmodp(p, p)
		s.x2n[k] = p
	}
	return s
}

// one is the polynomial 1 (x^0) in reflected form.
func (s *crcSpec) one() uint64 { return 1 << (s.width - 1) }

// multmodp returns a(x)·b(x) mod P.
func (s *crcSpec) multmodp(a, b uint64) uint64 {
	var p uint64
	for m := s.one(); m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		if b&1 != 0 {
			b = b>>1 ^ s.poly
		} else {
			b >>= 1
		}
	}
	return p
}

// xpow8n returns x^(8·n) mod P.
func (s *crcSpec) xpow8n(n int64) uint64 {
	p := s.one()
	for k := 3; n != 0; k++ {
		if n&1 != 0 {
			p = s.multmodp(s.x2n[k], p)
		}
		n >>= 1
	}
	return p
}

// combine returns the CRC of A||B from crc(A), crc(B) and len(B).
func (s *crcSpec) combine(crcA, crcB uint64, lenB int64) uint64 {
	return s.multmodp(s.xpow8n(lenB), crcA) ^ crcB
}
