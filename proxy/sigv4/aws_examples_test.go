package sigv4

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// The worked examples of the AWS documentation, with their published
// signatures: "Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk", "Authenticating Requests: Using
// Query Parameters", "... Transferring Payload in Multiple Chunks" and
// "Signature calculations for trailing headers".

func rawRequest(lines []string, body string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n" + body)
}

func authHeader(signed, sig string) string {
	return "Authorization: AWS4-HMAC-SHA256 Credential=" + exampleAK + "/20130524/us-east-1/s3/aws4_request," +
		"SignedHeaders=" + signed + ",Signature=" + sig
}

func TestAWSSingleChunkExamples(t *testing.T) {
	cases := []struct {
		name string
		raw  []byte
		body string
	}{
		{"GET Object with Range", rawRequest([]string{
			"GET /test.txt HTTP/1.1",
			"Host: examplebucket.s3.amazonaws.com",
			authHeader("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
			"Range: bytes=0-9",
			"x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"x-amz-date: 20130524T000000Z",
		}, ""), ""},
		{"PUT Object with an encoded name and Date", rawRequest([]string{
			"PUT /test%24file.text HTTP/1.1",
			"Host: examplebucket.s3.amazonaws.com",
			"Date: Fri, 24 May 2013 00:00:00 GMT",
			authHeader("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
			"x-amz-date: 20130524T000000Z",
			"x-amz-storage-class: REDUCED_REDUNDANCY",
			"x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
			"Content-Length: 21",
		}, "Welcome to Amazon S3."), "Welcome to Amazon S3."},
		{"GET Bucket lifecycle (valueless parameter)", rawRequest([]string{
			"GET /?lifecycle HTTP/1.1",
			"Host: examplebucket.s3.amazonaws.com",
			authHeader("host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
			"x-amz-date: 20130524T000000Z",
			"x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		}, ""), ""},
		{"GET Bucket (parameters to sort)", rawRequest([]string{
			"GET /?max-keys=2&prefix=J HTTP/1.1",
			"Host: examplebucket.s3.amazonaws.com",
			authHeader("host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
			"x-amz-date: 20130524T000000Z",
			"x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		}, ""), ""},
		{"presigned GET", rawRequest([]string{
			"GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
				"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
				"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 HTTP/1.1",
			"Host: examplebucket.s3.amazonaws.com",
		}, ""), ""},
	}
	v := newVerifier(exampleTime)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := v.Verify(serverRequest(t, c.raw))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKey != exampleAK || res.Anonymous {
				t.Errorf("AccessKey = %q Anonymous = %v", res.AccessKey, res.Anonymous)
			}
			body, err := readAll(t, res)
			if err != nil || string(body) != c.body {
				t.Errorf("body = %q, %v; want %q", body, err, c.body)
			}

			// Any one byte of the signature changed must be refused.
			for _, at := range []int{0, 31, 63} {
				bad := bytes.Clone(c.raw)
				i := bytes.Index(bad, []byte("Signature=")) + len("Signature=") + at
				if bad[i] == '0' {
					bad[i] = '1'
				} else {
					bad[i] = '0'
				}
				_, err = v.Verify(serverRequest(t, bad))
				wantErr(t, "tampered signature", err, ErrSignatureDoesNotMatch)
			}
		})
	}
}

// awsChunkedExample is the request of the chunked upload example: 65536
// and 1024 bytes of 'a' in two signed chunks and a final empty chunk.
func awsChunkedExample(sigs [3]string, trailer bool) []byte {
	var body bytes.Buffer
	body.WriteString("10000;chunk-signature=" + sigs[0] + "\r\n")
	body.Write(bytes.Repeat([]byte{'a'}, 65536))
	body.WriteString("\r\n400;chunk-signature=" + sigs[1] + "\r\n")
	body.Write(bytes.Repeat([]byte{'a'}, 1024))
	body.WriteString("\r\n0;chunk-signature=" + sigs[2] + "\r\n")
	lines := []string{
		"PUT /examplebucket/chunkObject.txt HTTP/1.1",
		"Host: s3.amazonaws.com",
		"x-amz-date: 20130524T000000Z",
		"x-amz-storage-class: REDUCED_REDUNDANCY",
		"Content-Encoding: aws-chunked",
		"x-amz-decoded-content-length: 66560",
	}
	if trailer {
		body.WriteString("x-amz-checksum-crc32c:sOO8/Q==\r\n")
		body.WriteString("x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n")
		lines = append(lines,
			authHeader("content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
				"106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"),
			"x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
			"x-amz-trailer: x-amz-checksum-crc32c",
		)
	} else {
		body.WriteString("\r\n")
		lines = append(lines,
			authHeader("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
				"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
			"x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
		)
	}
	lines = append(lines, "Content-Length: "+strconv.Itoa(body.Len()))
	return rawRequest(lines, body.String())
}

var (
	exampleChunkSigs = [3]string{
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	}
	exampleTrailerChunkSigs = [3]string{
		"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
		"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
		"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
	}
)

func TestAWSChunkedExample(t *testing.T) {
	raw := awsChunkedExample(exampleChunkSigs, false)
	if !bytes.Contains(raw, []byte("Content-Length: 66824\r\n")) {
		t.Fatal("the example body is not the documented 66824 bytes")
	}
	v := newVerifier(exampleTime)
	res, err := v.Verify(serverRequest(t, raw))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.ContentLength != 66560 {
		t.Errorf("ContentLength = %d, want 66560", res.ContentLength)
	}
	body, err := readAll(t, res)
	if err != nil || !bytes.Equal(body, bytes.Repeat([]byte{'a'}, 66560)) {
		t.Fatalf("body: %d bytes, %v", len(body), err)
	}
	if tr := res.Trailer(); len(tr) != 0 {
		t.Errorf("Trailer = %v, want none", tr)
	}
}

func TestAWSTrailerExample(t *testing.T) {
	v := newVerifier(exampleTime)
	res, err := v.Verify(serverRequest(t, awsChunkedExample(exampleTrailerChunkSigs, true)))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Trailer() != nil {
		t.Error("trailer visible before the body was read")
	}
	body, err := readAll(t, res)
	if err != nil || len(body) != 66560 {
		t.Fatalf("body: %d bytes, %v", len(body), err)
	}
	if got := res.Trailer().Get("X-Amz-Checksum-Crc32c"); got != "sOO8/Q==" {
		t.Errorf("trailer x-amz-checksum-crc32c = %q, want sOO8/Q==", got)
	}

	// The trailer value is covered by the trailer signature.
	bad := bytes.Replace(awsChunkedExample(exampleTrailerChunkSigs, true), []byte("sOO8/Q=="), []byte("sOO8/A=="), 1)
	res, err = v.Verify(serverRequest(t, bad))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	_, err = readAll(t, res)
	wantErr(t, "changed trailer", err, ErrSignatureDoesNotMatch)
}

// Damage to the documented chunked body, each expected to fail with a
// precise error and never to end in a clean io.EOF.
func TestAWSChunkedExampleDamaged(t *testing.T) {
	good := awsChunkedExample(exampleChunkSigs, false)
	_, goodBody := splitWire(t, good)
	firstData := bytes.Index(goodBody, []byte("\r\n")) + 2 // start of chunk 1 data

	flip := func(at int) []byte {
		raw := bytes.Clone(good)
		head, _ := splitWire(t, raw)
		raw[len(head)+at] ^= 0x01
		return raw
	}
	cases := []struct {
		name string
		raw  []byte
		want *Error
		// maxData bounds the bytes handed out before the error.
		maxData int
	}{
		{"flipped byte in chunk 1", flip(firstData + 1000), ErrSignatureDoesNotMatch, 65536},
		{"flipped byte in chunk 2", flip(firstData + 65536 + 2 + 86 + 10), ErrSignatureDoesNotMatch, 66560},
		{"wrong chunk 2 signature", bytes.Replace(good, []byte(exampleChunkSigs[1]), []byte(exampleChunkSigs[0]), 1), ErrSignatureDoesNotMatch, 66560},
		{"wrong final signature", bytes.Replace(good, []byte(exampleChunkSigs[2]), []byte(exampleChunkSigs[1]), 1), ErrSignatureDoesNotMatch, 66560},
		{"seed of the trailer example", awsChunkedExampleWithSigs(t, good, exampleTrailerChunkSigs), ErrSignatureDoesNotMatch, 65536},
		{"chunk 1 size changed", bytes.Replace(good, []byte("\r\n10000;"), []byte("\r\n0fff0;"), 1), ErrMalformedChunk, 65536},
		{"CRLF after data missing", flip(firstData + 65536), ErrMalformedChunk, 65536},
		{"no chunk-signature", bytes.Replace(good, []byte("400;chunk-signature="), []byte("400;chunk-signaturX="), 1), ErrMalformedChunk, 65536},
	}
	v := newVerifier(exampleTime)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := v.Verify(serverRequest(t, c.raw))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			data, err := readAll(t, res)
			wantErr(t, c.name, err, c.want)
			if len(data) > c.maxData {
				t.Errorf("%d bytes handed out before the error, want at most %d", len(data), c.maxData)
			}
		})
	}

	// Truncations anywhere: the body stops short of its Content-Length.
	for _, cut := range []int{0, 1, 40, 88, 89, 5000, firstData + 65536, firstData + 65537, len(goodBody) - 90, len(goodBody) - 2, len(goodBody) - 1} {
		head, _ := splitWire(t, good)
		raw := good[:len(head)+cut]
		res, err := v.Verify(serverRequest(t, raw))
		if err != nil {
			t.Fatalf("cut %d: Verify: %v", cut, err)
		}
		_, err = readAll(t, res)
		if err == nil || err == io.EOF {
			t.Fatalf("cut at %d: read ended cleanly", cut)
		}
		wantErr(t, "cut at "+strconv.Itoa(cut), err, ErrIncompleteBody)
	}
}

// awsChunkedExampleWithSigs puts other chunk signatures into the example.
func awsChunkedExampleWithSigs(t *testing.T, raw []byte, sigs [3]string) []byte {
	t.Helper()
	out := bytes.Clone(raw)
	for i := range sigs {
		out = bytes.Replace(out, []byte(exampleChunkSigs[i]), []byte(sigs[i]), 1)
	}
	if bytes.Equal(out, raw) {
		t.Fatal("no signature replaced")
	}
	return out
}

// Reading the example one byte at a time, from a body that also yields one
// byte at a time, gives the same result.
func TestAWSChunkedExampleByteAtATime(t *testing.T) {
	for _, trailer := range []bool{false, true} {
		sigs := exampleChunkSigs
		if trailer {
			sigs = exampleTrailerChunkSigs
		}
		r := serverRequest(t, awsChunkedExample(sigs, trailer))
		r.Body = io.NopCloser(oneByteReader{r.Body})
		res, err := newVerifier(exampleTime).Verify(r)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		p := make([]byte, 1)
		for {
			n, err := res.Body.Read(p)
			got = append(got, p[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("trailer=%v: after %d bytes: %v", trailer, len(got), err)
			}
		}
		if len(got) != 66560 || bytes.Count(got, []byte{'a'}) != 66560 {
			t.Errorf("trailer=%v: got %d bytes", trailer, len(got))
		}
		if trailer && res.Trailer().Get("x-amz-checksum-crc32c") != "sOO8/Q==" {
			t.Errorf("trailer lost: %v", res.Trailer())
		}
		// io.EOF is sticky.
		if n, err := res.Body.Read(p); n != 0 || !errors.Is(err, io.EOF) {
			t.Errorf("Read after EOF = %d, %v", n, err)
		}
	}
}

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}
