package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// BenchmarkVerifyHeader measures authenticating a header-signed request
// (canonical request, string to sign, one HMAC with a cached key).
func BenchmarkVerifyHeader(b *testing.B) {
	raw := wireBytes(b, sdkRequest(b, defaultSignOpts(), nil))
	r := serverRequest(b, raw)
	v := testVerifier(signTime)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyV2Header measures authenticating a virtual-host request
// signed with Signature Version 2 with metadata and sub-resources.
func BenchmarkVerifyV2Header(b *testing.B) {
	hdr := http.Header{"Content-Type": {"text/plain"}, "X-Amz-Meta-A": {"1"}, "X-Amz-Acl": {"private"}}
	raw := wireBytes(b, minioSignV2(b, http.MethodPut, "http://bucket."+v2Domain+"/k?partNumber=2&uploadId=u", hdr, nil, true, testAK, testSK))
	r := serverRequest(b, raw)
	v := v2Verifier(v2Time)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkBody(b *testing.B, raw []byte) {
	_, body := splitWire(b, raw)
	r := serverRequest(b, raw)
	v := testVerifier(signTime)
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		res, err := v.Verify(r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, res.Body, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignedChunks decodes 8 MiB sent as 64 KiB signed chunks.
func BenchmarkSignedChunks(b *testing.B) {
	benchmarkBody(b, minioSigned(b, randomBytes(8<<20, 1), true))
}

// BenchmarkUnsignedChunks decodes 8 MiB sent as one unsigned chunk.
func BenchmarkUnsignedChunks(b *testing.B) {
	data := randomBytes(8<<20, 2)
	body := "800000\r\n" + string(data) + "\r\n0\r\nx-amz-checksum-crc32c:" + crc32cOf(data) + "\r\n\r\n"
	benchmarkBody(b, unsignedChunkedBytes(b, body, int64(len(data)), "x-amz-checksum-crc32c"))
}

// BenchmarkSHA256Payload checks an 8 MiB body against x-amz-content-sha256.
func BenchmarkSHA256Payload(b *testing.B) {
	benchmarkBody(b, wireBytes(b, sdkRequest(b, defaultSignOpts(), randomBytes(8<<20, 3))))
}
