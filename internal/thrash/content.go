package thrash

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
)

// Value is one version of an object's content, or its absence. The bytes
// are never kept: byte o of a value is a pure function of (ID, o), so any
// range can be regenerated to check a ranged read, and the SHA-256 of the
// whole checks a full one.
type Value struct {
	ID   uint64 // 0: the key holds no object (never written, or deleted)
	Size int64
	Sum  [32]byte // SHA-256 of the content
}

// Absent is the value of a key that holds no object.
var Absent = Value{}

// IsAbsent reports whether v is the absence of an object.
func (v Value) IsAbsent() bool { return v.ID == 0 }

func (v Value) String() string {
	if v.IsAbsent() {
		return "absent"
	}
	return fmt.Sprintf("v%016x(%dB,sha256:%s)", v.ID, v.Size, hex.EncodeToString(v.Sum[:4]))
}

// newValue describes the content of id at size bytes.
func newValue(id uint64, size int64) Value {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	for off := int64(0); off < size; {
		n := int64(len(buf))
		if size-off < n {
			n = size - off
		}
		fillContent(buf[:n], id, off)
		h.Write(buf[:n])
		off += n
	}
	v := Value{ID: id, Size: size}
	copy(v.Sum[:], h.Sum(nil))
	return v
}

// mix is splitmix64's finaliser: a fast bijective scrambler.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// fillContent writes bytes [off, off+len(p)) of value id into p.
func fillContent(p []byte, id uint64, off int64) {
	base := mix(id)
	var w [8]byte
	i := 0
	for i < len(p) {
		pos := off + int64(i)
		word := uint64(pos >> 3)
		binary.LittleEndian.PutUint64(w[:], mix(base^word*0xd6e8feb86659fd93))
		in := int(pos & 7)
		n := copy(p[i:], w[in:])
		i += n
	}
}

// contentReader streams a value's bytes [off, end); it implements
// io.ReadSeeker so that a client may rewind it to retry a request.
type contentReader struct {
	id                uint64
	start, pos, limit int64
}

func newContentReader(id uint64, off, n int64) *contentReader {
	return &contentReader{id: id, start: off, pos: off, limit: off + n}
}

func (r *contentReader) Read(p []byte) (int, error) {
	if r.pos >= r.limit {
		return 0, io.EOF
	}
	if rem := r.limit - r.pos; int64(len(p)) > rem {
		p = p[:rem]
	}
	fillContent(p, r.id, r.pos)
	r.pos += int64(len(p))
	return len(p), nil
}

func (r *contentReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = r.start + offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.limit + offset
	default:
		return 0, fmt.Errorf("%w: whence %d", errSeek, whence)
	}
	if abs < r.start {
		return 0, fmt.Errorf("%w: before the start", errSeek)
	}
	r.pos = abs
	return abs - r.start, nil
}
