package sigv4

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

const (
	maxSignedChunk       = 16 << 20 // largest signed chunk accepted
	maxChunkLine         = 4096     // longest chunk header line
	maxTrailerSection    = 16 << 10 // bytes after the final chunk header
	maxTrailers          = 16
	trailerSignatureName = "x-amz-trailer-signature"
	chunkSignatureExt    = "chunk-signature="
)

// chunkSigner computes the chained signatures of an aws-chunked body.
type chunkSigner struct {
	key       []byte
	timestamp string
	scope     string
	seed      string // the request's signature
}

// chunk returns the signature of a chunk whose data hashes to sum.
func (s *chunkSigner) chunk(prev string, sum []byte) string {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + s.timestamp + "\n" + s.scope + "\n" + prev + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(sum)
	return hex.EncodeToString(hmacSHA256(s.key, []byte(sts)))
}

// trailer returns the signature of trailers that hash to sum.
func (s *chunkSigner) trailer(prev string, sum []byte) string {
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + s.timestamp + "\n" + s.scope + "\n" + prev + "\n" +
		hex.EncodeToString(sum)
	return hex.EncodeToString(hmacSHA256(s.key, []byte(sts)))
}

// chunkReader decodes an aws-chunked body, verifying chunk and trailer
// signatures when it has a signer.
type chunkReader struct {
	src            io.ReadCloser
	br             *bufio.Reader
	signer         *chunkSigner // nil: unsigned chunks
	expectTrailers bool
	names          []string // declared trailers, lowercase

	declared int64 // x-amz-decoded-content-length, -1 if unknown
	decoded  int64 // payload bytes delivered so far

	left    int64  // payload bytes left in the current chunk
	inChunk bool   // a chunk with data has started and not yet ended
	claimed string // signature the current chunk claims
	prev    string // signature of the previous chunk (the seed at first)
	h       hash.Hash

	trailer atomic.Pointer[http.Header]
	err     error // sticky; io.EOF once the body is complete
}

func newChunkReader(src io.ReadCloser, declared int64) *chunkReader {
	return &chunkReader{
		src:      src,
		br:       bufio.NewReaderSize(src, 32<<10),
		declared: declared,
		h:        sha256.New(),
	}
}

// setSigner makes the reader verify signatures chained from s.seed.
func (c *chunkReader) setSigner(s *chunkSigner) {
	c.signer = s
	c.prev = s.seed
}

// Trailer returns the trailers once the body has been read to io.EOF.
func (c *chunkReader) Trailer() http.Header {
	if p := c.trailer.Load(); p != nil {
		return *p
	}
	return nil
}

// Close closes the request body.
func (c *chunkReader) Close() error { return c.src.Close() }

// Read implements io.Reader.
func (c *chunkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for c.left == 0 {
		if c.inChunk {
			if err := c.endChunk(); err != nil {
				return 0, c.fail(err)
			}
		}
		final, err := c.nextChunk()
		if err != nil {
			return 0, c.fail(err)
		}
		if final {
			if err := c.finish(); err != nil {
				return 0, c.fail(err)
			}
			c.err = io.EOF
			return 0, io.EOF
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	if n > 0 {
		if c.signer != nil {
			c.h.Write(p[:n])
		}
		c.left -= int64(n)
		c.decoded += int64(n)
	}
	if err != nil {
		if err == io.EOF {
			err = ErrIncompleteBody
		}
		return n, c.fail(incomplete(err))
	}
	if c.left == 0 {
		// Check the chunk now, so that its bytes are not followed by a
		// clean Read if they were forged.
		if err := c.endChunk(); err != nil {
			return n, c.fail(err)
		}
	}
	return n, nil
}

func (c *chunkReader) fail(err error) error {
	c.err = err
	return err
}

// nextChunk reads a chunk header. final is true for the zero-size chunk.
func (c *chunkReader) nextChunk() (final bool, err error) {
	line, err := c.readChunkLine()
	if err != nil {
		return false, err
	}
	sizeField, ext, hasExt := strings.Cut(line, ";")
	size, ok := parseHexSize(sizeField)
	if !ok {
		return false, ErrMalformedChunk.with("The chunk size " + strconv.Quote(sizeField) + " is not valid.")
	}
	if c.signer != nil {
		if !hasExt || !strings.HasPrefix(ext, chunkSignatureExt) {
			return false, ErrMalformedChunk.with("A chunk header has no chunk-signature.")
		}
		c.claimed = ext[len(chunkSignatureExt):]
		if size > maxSignedChunk {
			return false, ErrMalformedChunk.with("A signed chunk is larger than 16 MiB.")
		}
	}
	if c.declared >= 0 && size > c.declared-c.decoded {
		return false, ErrMalformedChunk.with("The chunks carry more data than x-amz-decoded-content-length.")
	}
	if size == 0 {
		if c.signer != nil {
			empty := sha256.Sum256(nil)
			if err := c.verify(empty[:]); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	c.left, c.inChunk = size, true
	c.h.Reset()
	return false, nil
}

// endChunk consumes the CRLF after a chunk's data and checks its signature.
func (c *chunkReader) endChunk() error {
	c.inChunk = false
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		if err == io.EOF {
			return ErrIncompleteBody
		}
		return incomplete(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return ErrMalformedChunk.with("A chunk's data is not followed by CRLF.")
	}
	if c.signer != nil {
		return c.verify(c.h.Sum(nil))
	}
	return nil
}

// verify checks the claimed signature of the chunk whose data hashes to sum.
func (c *chunkReader) verify(sum []byte) error {
	want := c.signer.chunk(c.prev, sum)
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.claimed)) != 1 {
		return ErrSignatureDoesNotMatch.with("The chunk signature we calculated does not match the chunk signature you provided.")
	}
	c.prev = want
	return nil
}

// readChunkLine reads a CRLF-terminated chunk header line.
func (c *chunkReader) readChunkLine() (string, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull || len(line) > maxChunkLine:
		return "", ErrMalformedChunk.with("A chunk header line is too long.")
	case err == io.EOF:
		return "", ErrIncompleteBody
	case err != nil:
		return "", incomplete(err)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", ErrMalformedChunk.with("A chunk header line does not end in CRLF.")
	}
	return string(line[:len(line)-2]), nil
}

// parseHexSize parses 1 to 15 hex digits.
func parseHexSize(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// finish runs after the final chunk: it checks the decoded length, reads
// what follows to the end of the body and, for trailer payloads, parses and
// verifies the trailers.
func (c *chunkReader) finish() error {
	if c.declared >= 0 && c.decoded != c.declared {
		return ErrIncompleteBody.with("The chunks carry less data than x-amz-decoded-content-length.")
	}
	var (
		hdr      http.Header
		signed   []byte // trailers as "name:value\n", the signed form
		sigSeen  bool
		budget   = maxTrailerSection
		nLines   int
		declared = len(c.names)
	)
	for {
		line, eof, err := c.readTrailerLine(&budget)
		if err != nil {
			return err
		}
		if eof {
			break
		}
		if line == "" {
			continue
		}
		if !c.expectTrailers {
			return ErrMalformedChunk.with("Data follows the final chunk.")
		}
		if sigSeen {
			return ErrMalformedTrailer.with("Data follows x-amz-trailer-signature.")
		}
		if nLines++; nLines > maxTrailers+1 {
			return ErrMalformedTrailer.with("Too many trailers.")
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if !ok || !isToken(name) {
			return ErrMalformedTrailer.with("A trailer line is not name:value.")
		}
		if name == trailerSignatureName {
			if c.signer == nil {
				return ErrMalformedTrailer.with("An unsigned payload carries x-amz-trailer-signature.")
			}
			sum := sha256.Sum256(signed)
			want := c.signer.trailer(c.prev, sum[:])
			if subtle.ConstantTimeCompare([]byte(want), []byte(value)) != 1 {
				return ErrSignatureDoesNotMatch.with("The trailer signature we calculated does not match the signature you provided.")
			}
			sigSeen = true
			continue
		}
		if !slices.Contains(c.names, name) {
			return ErrMalformedTrailer.with("The trailer " + name + " was not declared in x-amz-trailer.")
		}
		if hdr == nil {
			hdr = make(http.Header, declared)
		}
		if _, dup := hdr[http.CanonicalHeaderKey(name)]; dup {
			return ErrMalformedTrailer.with("The trailer " + name + " is repeated.")
		}
		hdr.Set(name, value)
		signed = append(signed, name+":"+value+"\n"...)
	}
	if c.expectTrailers {
		if c.signer != nil && !sigSeen {
			return ErrMalformedTrailer.with("The trailers carry no x-amz-trailer-signature.")
		}
		if len(hdr) != declared {
			return ErrMalformedTrailer.with("A trailer declared in x-amz-trailer is missing.")
		}
	}
	c.trailer.Store(&hdr)
	return nil
}

// readTrailerLine reads one line after the final chunk; the line ends in
// "\n" or "\r\n", or at the end of the body. eof reports a clean end of
// the body with nothing left.
func (c *chunkReader) readTrailerLine(budget *int) (line string, eof bool, err error) {
	b, err := c.br.ReadSlice('\n')
	*budget -= len(b)
	if *budget < 0 || err == bufio.ErrBufferFull {
		return "", false, ErrMalformedTrailer.with("The trailers are too long.")
	}
	if err == io.EOF {
		if len(b) == 0 {
			return "", true, nil
		}
	} else if err != nil {
		return "", false, incomplete(err)
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, false, nil
}
