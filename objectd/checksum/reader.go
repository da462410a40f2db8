package checksum

import (
	"crypto/subtle"
	"fmt"
	"hash"
	"io"
)

// Reader passes a stream through unchanged while hashing it, and checks the
// result when the stream ends. Create one with NewReader.
type Reader struct {
	r        io.Reader
	alg      Algorithm
	h        hash.Hash
	expected func() string
	n        int64
	err      error // sticky: once set, every Read returns it
}

// NewReader returns a Reader over r computing algorithm a. When r returns
// io.EOF the Reader calls expected, so the value may become known late (a
// trailer that follows the body), and compares it with what it computed: on
// a mismatch Read returns an error wrapping ErrMismatch instead of io.EOF,
// and on a value that is not valid for a, one wrapping ErrBadValue. When
// expected is nil or returns "", nothing is compared and the Reader only
// computes Sum. An unknown algorithm makes the first Read fail with
// ErrUnknownAlgorithm.
func NewReader(r io.Reader, a Algorithm, expected func() string) *Reader {
	cr := &Reader{r: r, alg: a, h: a.New(), expected: expected}
	if cr.h == nil {
		cr.err = fmt.Errorf("%w: %q", ErrUnknownAlgorithm, string(a))
	}
	return cr
}

// Read implements io.Reader.
func (cr *Reader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	n, err := cr.r.Read(p)
	if n > 0 {
		cr.h.Write(p[:n])
		cr.n += int64(n)
	}
	if err == io.EOF {
		err = cr.check()
	}
	if err != nil {
		cr.err = err
	}
	return n, err
}

// check compares the computed digest with the expected value at the end of
// the stream and returns io.EOF when they agree.
func (cr *Reader) check() error {
	if cr.expected == nil {
		return io.EOF
	}
	want := cr.expected()
	if want == "" {
		return io.EOF
	}
	raw, err := cr.alg.decode(want)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(raw, cr.h.Sum(nil)) != 1 {
		return fmt.Errorf("%w: %s: expected %s, computed %s", ErrMismatch, cr.alg, want, cr.Sum())
	}
	return io.EOF
}

// Sum returns the base64 checksum of the bytes read so far; after io.EOF it
// is the checksum of the whole stream.
func (cr *Reader) Sum() string {
	if cr.h == nil {
		return ""
	}
	return cr.alg.Encode(cr.h.Sum(nil))
}

// Algorithm returns the algorithm the Reader computes.
func (cr *Reader) Algorithm() Algorithm { return cr.alg }

// N returns the number of bytes read so far.
func (cr *Reader) N() int64 { return cr.n }
