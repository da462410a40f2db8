package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	md5simd "github.com/minio/md5-simd"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// Signed aws-chunked bodies come from minio-go's streaming signer, an
// implementation independent of this package; unsigned ones are written
// by hand.

type sha256Hasher struct{ hash.Hash }

func (sha256Hasher) Close() {}

var _ md5simd.Hasher = sha256Hasher{}

func crc32cOf(b []byte) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))))
}

// minioSigned returns the wire bytes of a PUT of data streamed with
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (64 KiB chunks), or its -TRAILER
// variant carrying the CRC32C of data when trailer is set.
func minioSigned(t testing.TB, data []byte, trailer bool) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1:9000/bucket/object%20name", io.NopCloser(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if trailer {
		req.Trailer = http.Header{"X-Amz-Checksum-Crc32c": {crc32cOf(data)}}
	}
	req = signer.StreamingSignV4(req, testAK, testSK, "", "eu-basalt-1", int64(len(data)), signTime, sha256Hasher{sha256.New()})
	return wireBytes(t, req)
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestMinioSignedChunks(t *testing.T) {
	for _, n := range []int{0, 1, 65535, 65536, 65537, 3*65536 + 7} {
		for _, trailer := range []bool{false, true} {
			data := randomBytes(n, uint64(n))
			raw := minioSigned(t, data, trailer)
			res, err := testVerifier(signTime).Verify(serverRequest(t, raw))
			if err != nil {
				t.Fatalf("n=%d trailer=%v: Verify: %v", n, trailer, err)
			}
			if res.ContentLength != int64(n) {
				t.Errorf("n=%d: ContentLength = %d", n, res.ContentLength)
			}
			got, err := readAll(t, res)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("n=%d trailer=%v: %d bytes, %v", n, trailer, len(got), err)
			}
			if trailer {
				if v := res.Trailer().Get("X-Amz-Checksum-Crc32c"); v != crc32cOf(data) {
					t.Errorf("n=%d: trailer = %q, want %q", n, v, crc32cOf(data))
				}
			}
		}
	}
}

// chunkBlocks splits a signed aws-chunked body into its chunks, each with
// header, data and CRLF.
func chunkBlocks(t testing.TB, body []byte) [][]byte {
	t.Helper()
	var blocks [][]byte
	for len(body) > 0 {
		eol := bytes.Index(body, []byte("\r\n"))
		size, ok := parseHexSize(string(body[:bytes.IndexByte(body, ';')]))
		if eol < 0 || !ok {
			t.Fatal("cannot split chunks")
		}
		end := eol + 2 + int(size) + 2
		if size == 0 {
			end = len(body)
		}
		blocks = append(blocks, body[:end])
		body = body[end:]
	}
	return blocks
}

func TestMinioSignedChunksDamaged(t *testing.T) {
	data := randomBytes(3*65536+7, 99)
	raw := minioSigned(t, data, false)
	head, body := splitWire(t, raw)
	blocks := chunkBlocks(t, body)
	if len(blocks) != 5 {
		t.Fatalf("%d chunks, want 5", len(blocks))
	}
	join := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	cases := []struct {
		name string
		body []byte
		want *Error
	}{
		{"chunks 1 and 2 swapped", join(blocks[1], blocks[0], blocks[2], blocks[3], blocks[4]), ErrSignatureDoesNotMatch},
		{"chunk 2 dropped", join(blocks[0], blocks[2], blocks[3], blocks[4]), ErrSignatureDoesNotMatch},
		{"chunk 1 repeated", join(blocks[0], blocks[0], blocks[1], blocks[2], blocks[3], blocks[4]), ErrSignatureDoesNotMatch},
		{"final chunk dropped", join(blocks[0], blocks[1], blocks[2], blocks[3]), ErrIncompleteBody},
		{"data after the final chunk", join(body, []byte("5\r\nhello\r\n")), ErrMalformedChunk},
		{"blank lines after the final chunk", join(body, []byte("\r\n\r\n")), nil},
		{"final CRLF missing", body[:len(body)-2], nil},
	}
	for i := range 4 {
		b := bytes.Clone(body)
		off := 0
		for _, blk := range blocks[:i] {
			off += len(blk)
		}
		hdr := bytes.Index(blocks[i], []byte("\r\n")) + 2
		b[off+hdr+(len(blocks[i])-hdr-2)/2] ^= 0x80 // a data byte in the middle of chunk i
		cases = append(cases, struct {
			name string
			body []byte
			want *Error
		}{"flipped byte in chunk " + strconv.Itoa(i+1), b, ErrSignatureDoesNotMatch})
	}
	for _, c := range cases {
		res, err := testVerifier(signTime).Verify(serverRequest(t, withBody(t, head, c.body)))
		if err != nil {
			t.Fatalf("%s: Verify: %v", c.name, err)
		}
		got, err := readAll(t, res)
		if c.want == nil {
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s: %d bytes, %v", c.name, len(got), err)
			}
			continue
		}
		wantErr(t, c.name, err, c.want)
	}

	// Cut anywhere, the body never ends cleanly.
	for cut := 0; cut < len(body)-1; cut += 1999 {
		res, err := testVerifier(signTime).Verify(serverRequest(t, append(bytes.Clone(head), body[:cut]...)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readAll(t, res); err == nil {
			t.Fatalf("cut at %d of %d: no error", cut, len(body))
		}
	}
}

func TestMinioSignedTrailerDamaged(t *testing.T) {
	data := randomBytes(100000, 5)
	raw := minioSigned(t, data, true)
	head, body := splitWire(t, raw)
	crc := crc32cOf(data)
	sigAt := bytes.Index(body, []byte("x-amz-trailer-signature:"))
	if sigAt < 0 || !bytes.Contains(body, []byte("x-amz-checksum-crc32c:"+crc)) {
		t.Fatalf("unexpected trailer layout: %q", body[len(body)-200:])
	}
	otherCRC := crc32cOf([]byte("something else"))
	cases := []struct {
		name string
		body []byte
		want *Error
	}{
		{"checksum changed", bytes.Replace(body, []byte(crc), []byte(otherCRC), 1), ErrSignatureDoesNotMatch},
		{"trailer signature changed", append(bytes.Clone(body[:sigAt+30]), append([]byte{body[sigAt+30] ^ 1}, body[sigAt+31:]...)...), ErrSignatureDoesNotMatch},
		{"trailer signature removed", body[:sigAt], ErrMalformedTrailer},
		{"undeclared trailer", bytes.Replace(body, []byte("x-amz-checksum-crc32c:"), []byte("x-amz-meta-sneaky:1\r\nx-amz-checksum-crc32c:"), 1), ErrMalformedTrailer},
		{"data after the signature", append(bytes.Clone(body[:len(body)-2]), []byte("x-amz-checksum-crc32c:"+crc+"\r\n\r\n")...), ErrMalformedTrailer},
	}
	for _, c := range cases {
		res, err := testVerifier(signTime).Verify(serverRequest(t, withBody(t, head, c.body)))
		if err != nil {
			t.Fatalf("%s: Verify: %v", c.name, err)
		}
		_, err = readAll(t, res)
		wantErr(t, c.name, err, c.want)
		if res.Trailer() != nil {
			t.Errorf("%s: trailer exposed after a failure: %v", c.name, res.Trailer())
		}
	}
}

// unsignedChunked returns a server request signed by the SDK for
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with the given aws-chunked body.
// decoded < 0 leaves out x-amz-decoded-content-length.
func unsignedChunked(t testing.TB, body string, decoded int64, trailer string) *http.Request {
	t.Helper()
	return serverRequest(t, unsignedChunkedBytes(t, body, decoded, trailer))
}

func unsignedChunkedBytes(t testing.TB, body string, decoded int64, trailer string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1:9000/bucket/key", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
	req.Header.Set("Content-Encoding", "aws-chunked")
	if decoded >= 0 {
		req.Header.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(decoded, 10))
	}
	if trailer != "" {
		req.Header.Set("X-Amz-Trailer", trailer)
	}
	err = s3Signer().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK},
		req, streamingUnsignedTrailer, "s3", "eu-basalt-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	return wireBytes(t, req)
}

func TestUnsignedChunkFraming(t *testing.T) {
	const crcHello = "NhCmhg==" // CRC32 of "hello"
	const tr = "x-amz-checksum-crc32:" + crcHello
	cases := []struct {
		name     string
		body     string
		decoded  int64
		trailer  string
		data     string // expected payload when want is nil
		want     *Error
		verifyTo *Error // error from Verify itself
	}{
		{name: "as aws-sdk-go-v2 writes it", body: "5\r\nhello\r\n0\r\n" + tr + "\r\n\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", data: "hello"},
		{name: "as minio-go writes it", body: "5\r\nhello\r\n0\r\n" + tr + "\n\r\n\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", data: "hello"},
		{name: "without the last CRLF", body: "5\r\nhello\r\n0\r\n" + tr + "\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", data: "hello"},
		{name: "without any line end", body: "5\r\nhello\r\n0\r\n" + tr, decoded: 5, trailer: "x-amz-checksum-crc32", data: "hello"},
		{name: "several chunks, extension, upper-case hex", body: "3;ext=1\r\nhel\r\n2\r\nlo\r\nA\r\n0123456789\r\n0\r\n" + tr + "\r\n\r\n", decoded: 15, trailer: "x-amz-checksum-crc32", data: "hello0123456789"},
		{name: "no decoded length", body: "5\r\nhello\r\n0\r\n" + tr + "\r\n\r\n", decoded: -1, trailer: "x-amz-checksum-crc32", data: "hello"},
		{name: "no trailer declared or sent", body: "5\r\nhello\r\n0\r\n\r\n", decoded: 5, data: "hello"},
		{name: "empty payload", body: "0\r\n" + tr + "\r\n\r\n", decoded: 0, trailer: "x-amz-checksum-crc32", data: ""},
		{name: "size not hex", body: "g\r\nhello\r\n0\r\n\r\n", decoded: 5, want: ErrMalformedChunk},
		{name: "negative size", body: "-5\r\nhello\r\n0\r\n\r\n", decoded: 5, want: ErrMalformedChunk},
		{name: "empty size", body: "\r\nhello\r\n0\r\n\r\n", decoded: 5, want: ErrMalformedChunk},
		{name: "size of 16 digits", body: "0000000000000005\r\nhello\r\n0\r\n\r\n", decoded: 5, want: ErrMalformedChunk},
		{name: "more data than declared", body: "6\r\nhello!\r\n0\r\n\r\n", decoded: 5, want: ErrMalformedChunk},
		{name: "less data than declared", body: "5\r\nhello\r\n0\r\n\r\n", decoded: 10, want: ErrIncompleteBody},
		{name: "CRLF after data missing", body: "5\r\nhelloXX0\r\n\r\n", decoded: 5, want: ErrMalformedChunk},
		{name: "bare LF after size", body: "5\nhello\r\n0\r\n\r\n", decoded: 5, want: ErrMalformedChunk},
		{name: "size line too long", body: strings.Repeat("0", 5000) + "5\r\nhello\r\n0\r\n\r\n", decoded: 5, want: ErrMalformedChunk},
		{name: "body ends inside data", body: "5\r\nhel", decoded: 5, want: ErrIncompleteBody},
		{name: "body ends after data", body: "5\r\nhello\r\n", decoded: 5, want: ErrIncompleteBody},
		{name: "huge size, no data", body: "fffffffffffffff\r\nhello", decoded: -1, want: ErrIncompleteBody},
		{name: "undeclared trailer", body: "5\r\nhello\r\n0\r\nx-amz-checksum-sha1:qvTGHdzF6KLavt4PO0gs2a6pQ00=\r\n\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", want: ErrMalformedTrailer},
		{name: "declared trailer missing", body: "5\r\nhello\r\n0\r\n\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", want: ErrMalformedTrailer},
		{name: "trailer without colon", body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32\r\n\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", want: ErrMalformedTrailer},
		{name: "trailer repeated", body: "5\r\nhello\r\n0\r\n" + tr + "\r\n" + tr + "\r\n\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", want: ErrMalformedTrailer},
		{name: "trailer signature in unsigned payload", body: "5\r\nhello\r\n0\r\n" + tr + "\r\nx-amz-trailer-signature:" + strings.Repeat("0", 64) + "\r\n\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", want: ErrMalformedTrailer},
		{name: "trailers too long", body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + strings.Repeat("A", 20000) + "\r\n\r\n", decoded: 5, trailer: "x-amz-checksum-crc32", want: ErrMalformedTrailer},
		{name: "trailer without declaration", body: "5\r\nhello\r\n0\r\n" + tr + "\r\n\r\n", decoded: 5, want: ErrMalformedTrailer},
		{name: "bad decoded length", body: "5\r\nhello\r\n0\r\n\r\n", decoded: -1, trailer: "x-amz-checksum-crc32", verifyTo: ErrInvalidDecodedLength},
		{name: "bad trailer name", body: "5\r\nhello\r\n0\r\n\r\n", decoded: 5, trailer: "x-amz-trailer-signature", verifyTo: ErrMalformedTrailer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := unsignedChunked(t, c.body, c.decoded, c.trailer)
			if c.name == "bad decoded length" {
				r = unsignedChunkedWithHeader(t, c.body, "X-Amz-Decoded-Content-Length", "five")
			}
			res, err := testVerifier(signTime).Verify(r)
			if c.verifyTo != nil {
				wantErr(t, "Verify", err, c.verifyTo)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if want := c.decoded; res.ContentLength != want {
				t.Errorf("ContentLength = %d, want %d", res.ContentLength, want)
			}
			got, err := readAll(t, res)
			if c.want != nil {
				wantErr(t, c.name, err, c.want)
				return
			}
			if err != nil || string(got) != c.data {
				t.Fatalf("payload = %q, %v; want %q", got, err, c.data)
			}
			if c.trailer != "" && res.Trailer().Get("X-Amz-Checksum-Crc32") != crcHello {
				t.Errorf("trailer = %v", res.Trailer())
			}
		})
	}
}

func unsignedChunkedWithHeader(t testing.TB, body, name, value string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1:9000/bucket/key", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
	req.Header.Set(name, value)
	if err := s3Signer().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK},
		req, streamingUnsignedTrailer, "s3", "eu-basalt-1", signTime); err != nil {
		t.Fatal(err)
	}
	return wire(t, req)
}

// zeros is an endless source of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A client may send a whole object as one unsigned chunk; it streams
// through in constant memory.
func TestLargeUnsignedChunkStreams(t *testing.T) {
	const n = 48 << 20
	head := strconv.FormatInt(n, 16) + "\r\n"
	tail := "\r\n0\r\n\r\n"
	r := unsignedChunked(t, "", n, "")
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader(head), io.LimitReader(zeros{}, n), strings.NewReader(tail)))
	r.ContentLength = int64(len(head) + n + len(tail))

	res, err := testVerifier(signTime).Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	copied, err := io.CopyBuffer(io.Discard, res.Body, make([]byte, 64<<10))
	runtime.ReadMemStats(&after)
	if err != nil || copied != n {
		t.Fatalf("copied %d, %v", copied, err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("streaming %d MiB allocated %d bytes", n>>20, grew)
	}
}

// Signed chunks are limited to 16 MiB, refused from their header alone.
func TestSignedChunkLimit(t *testing.T) {
	raw := minioSigned(t, []byte("x"), false)
	head, _ := splitWire(t, raw)
	body := strconv.FormatInt(maxSignedChunk+1, 16) + ";chunk-signature=" + strings.Repeat("0", 64) + "\r\n"
	res, err := testVerifier(signTime).Verify(serverRequest(t, withBody(t, head, []byte(body))))
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(t, res)
	wantErr(t, "oversized signed chunk", err, ErrMalformedChunk)

	// With no declared length either, the header alone is refused.
	cr := newChunkReader(io.NopCloser(strings.NewReader(body)), -1)
	cr.setSigner(&chunkSigner{key: make([]byte, 32), timestamp: "t", scope: "s", seed: "x"})
	_, err = io.ReadAll(cr)
	wantErr(t, "oversized signed chunk, unknown length", err, ErrMalformedChunk)
}

func TestAnonymous(t *testing.T) {
	mk := func(hash, body string) *http.Request {
		req, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1:9000/public/k", strings.NewReader(body))
		if hash != "" {
			req.Header.Set("X-Amz-Content-Sha256", hash)
		}
		return wire(t, req)
	}
	v := testVerifier(signTime)

	res, err := v.Verify(mk("", "anything"))
	if err != nil || !res.Anonymous || res.AccessKey != "" {
		t.Fatalf("no auth: %+v, %v", res, err)
	}
	if got, err := readAll(t, res); err != nil || string(got) != "anything" {
		t.Errorf("body %q, %v", got, err)
	}

	// minio-go sends anonymous uploads as unsigned aws-chunked with a trailer.
	r := mk(streamingUnsignedTrailer, "3\r\nabc\r\n0\r\nx-amz-checksum-crc32c:"+crc32cOf([]byte("abc"))+"\r\n\r\n")
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
	res, err = v.Verify(r)
	if err != nil || !res.Anonymous {
		t.Fatalf("anonymous chunked: %v", err)
	}
	if got, err := readAll(t, res); err != nil || string(got) != "abc" || res.Trailer().Get("x-amz-checksum-crc32c") != crc32cOf([]byte("abc")) {
		t.Errorf("anonymous chunked: %q, %v, %v", got, err, res.Trailer())
	}

	sum := sha256.Sum256([]byte("exact"))
	res, err = v.Verify(mk(hex.EncodeToString(sum[:]), "exakt"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(t, res)
	wantErr(t, "anonymous hex mismatch", err, ErrContentSHA256Mismatch)

	_, err = v.Verify(mk(streamingSigned, "0;chunk-signature=00\r\n\r\n"))
	wantErr(t, "anonymous signed streaming", err, ErrAccessDenied)
	_, err = v.Verify(mk("garbage", ""))
	wantErr(t, "anonymous bad hash", err, ErrInvalidContentSHA256)
}

// Whatever the bytes, decoding never panics and never ends cleanly with
// more or less payload than declared.
func FuzzChunkReader(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), int64(5))
	f.Add([]byte("3;a=b\r\nabc\r\n0\r\n\r\n"), int64(-1))
	f.Add([]byte("fffffffffffffff\r\n"), int64(-1))
	f.Fuzz(func(t *testing.T, body []byte, declared int64) {
		if declared < -1 {
			declared = -1
		}
		cr := newChunkReader(io.NopCloser(bytes.NewReader(body)), declared)
		cr.expectTrailers, cr.names = true, []string{"x-amz-checksum-crc32"}
		got, err := io.ReadAll(cr)
		if err == nil && declared >= 0 && int64(len(got)) != declared {
			t.Fatalf("clean end with %d bytes, declared %d", len(got), declared)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
		}
	})
}
