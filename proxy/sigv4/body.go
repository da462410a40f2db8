package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// mode is how the payload is carried, from x-amz-content-sha256.
type mode int

const (
	modeUnsigned              mode = iota // UNSIGNED-PAYLOAD, or anonymous without the header
	modeSHA256                            // hex digest of the whole body
	modeSignedChunks                      // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	modeSignedChunksTrailer               // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	modeUnsignedChunksTrailer             // STREAMING-UNSIGNED-PAYLOAD-TRAILER
)

func payloadMode(hash string) (mode, error) {
	switch hash {
	case unsignedPayload:
		return modeUnsigned, nil
	case streamingSigned:
		return modeSignedChunks, nil
	case streamingSignedTrailer:
		return modeSignedChunksTrailer, nil
	case streamingUnsignedTrailer:
		return modeUnsignedChunksTrailer, nil
	}
	if strings.HasPrefix(hash, streamingECDSAPrefix) {
		return 0, ErrUnsupportedSignature
	}
	if len(hash) == 2*sha256.Size {
		if _, err := hex.DecodeString(hash); err == nil {
			return modeSHA256, nil
		}
	}
	return 0, ErrInvalidContentSHA256
}

// buildBody fills res.Body, res.ContentLength and res.Trailer for mode.
// signer is nil for anonymous requests, which cannot carry signed chunks.
func buildBody(res *Result, r *http.Request, m mode, hash string, signer *chunkSigner) error {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	res.ContentLength = r.ContentLength
	if res.ContentLength < 0 {
		res.ContentLength = -1
	}
	switch m {
	case modeUnsigned:
		res.Body = &plainReader{src: body}
		return nil
	case modeSHA256:
		want, _ := hex.DecodeString(hash)
		res.Body = &sha256Reader{plainReader: plainReader{src: body}, h: sha256.New(), want: want}
		return nil
	}

	// aws-chunked.
	declared := int64(-1)
	if d := r.Header.Get("X-Amz-Decoded-Content-Length"); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 {
			return ErrInvalidDecodedLength
		}
		declared = n
	}
	names, err := trailerNames(r.Header.Values("X-Amz-Trailer"))
	if err != nil {
		return err
	}
	cr := newChunkReader(body, declared)
	switch m {
	case modeSignedChunks:
		cr.setSigner(signer)
	case modeSignedChunksTrailer:
		cr.setSigner(signer)
		cr.expectTrailers, cr.names = true, names
	case modeUnsignedChunksTrailer:
		cr.expectTrailers, cr.names = true, names
	}
	res.Body = cr
	res.ContentLength = declared
	res.Trailer = cr.Trailer
	return nil
}

// trailerNames reads x-amz-trailer: comma-separated header names.
func trailerNames(values []string) ([]string, error) {
	var names []string
	for _, v := range values {
		for _, n := range strings.Split(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				continue
			}
			if !isToken(n) || n == trailerSignatureName || len(names) >= maxTrailers {
				return nil, ErrMalformedTrailer.with("x-amz-trailer names an invalid trailer: " + strconv.Quote(n))
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names, nil
}

// incomplete maps a body that ended before its Content-Length to
// ErrIncompleteBody; other errors pass through.
func incomplete(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrIncompleteBody
	}
	return err
}

// plainReader passes the body through.
type plainReader struct {
	src io.ReadCloser
	err error
}

func (p *plainReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.src.Read(b)
	if err != nil {
		p.err = incomplete(err)
	}
	return n, p.err
}

func (p *plainReader) Close() error { return p.src.Close() }

// sha256Reader passes the body through and checks its SHA-256 at EOF.
type sha256Reader struct {
	plainReader
	h    hash.Hash
	want []byte
}

func (s *sha256Reader) Read(b []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.src.Read(b)
	s.h.Write(b[:n])
	if err == io.EOF && subtle.ConstantTimeCompare(s.h.Sum(nil), s.want) != 1 {
		err = ErrContentSHA256Mismatch
	}
	if err != nil {
		s.err = incomplete(err)
	}
	return n, s.err
}
