package checksum

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// Check values of the catalogue of CRC parameters for the input
// "123456789", and FIPS 180 examples for "abc".
func TestKnownVectors(t *testing.T) {
	crc32be := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	crc64be := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		a    Algorithm
		in   string
		want []byte
	}{
		{CRC32, "123456789", crc32be(0xCBF43926)},
		{CRC32C, "123456789", crc32be(0xE3069283)},
		{CRC64NVME, "123456789", crc64be(0xAE8B14860A799888)},
		{SHA1, "abc", unhex("a9993e364706816aba3e25717850c26c9cd0d89d")},
		{SHA256, "abc", unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")},
		{MD5, "abc", unhex("900150983cd24fb0d6963f7d28e17f72")},
		{SHA512, "abc", unhex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")},
		{XXHASH64, "abc", unhex("44bc2cf5ad770999")},
		{XXHASH3, "abc", unhex("78af5f94892f3950")},
		{CRC32, "", crc32be(0)},
		{CRC64NVME, "", crc64be(0)},
	}
	for _, c := range cases {
		h := c.a.New()
		io.WriteString(h, c.in)
		got := h.Sum(nil)
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s(%q) = %x, want %x", c.a, c.in, got, c.want)
		}
		if len(got) != c.a.Size() {
			t.Errorf("%s digest has %d bytes, Size says %d", c.a, len(got), c.a.Size())
		}
		enc := c.a.Encode(got)
		if enc != base64.StdEncoding.EncodeToString(c.want) || !c.a.Valid(enc) {
			t.Errorf("%s encoding %q not valid", c.a, enc)
		}
	}
}

// Values published by AWS: the CRC32C trailer of the chunked-upload example
// (66560 bytes of 'a'), and the SHA256 trailer in the SDK's aws-chunked
// example for "Hello world".
func TestAWSPublishedValues(t *testing.T) {
	h := CRC32C.New()
	h.Write(bytes.Repeat([]byte{'a'}, 66560))
	if got := CRC32C.Encode(h.Sum(nil)); got != "sOO8/Q==" {
		t.Errorf("CRC32C of 66560 'a' = %s, want sOO8/Q==", got)
	}
	h = SHA256.New()
	io.WriteString(h, "Hello world")
	if got := SHA256.Encode(h.Sum(nil)); got != "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=" {
		t.Errorf("SHA256 of Hello world = %s", got)
	}
}

func TestParseAndHeader(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Algorithm
	}{
		{"crc32c", CRC32C}, {"CRC32C", CRC32C}, {"Crc32", CRC32},
		{"crc64nvme", CRC64NVME}, {"sha1", SHA1}, {"SHA256", SHA256},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "blake3", "crc", "sha-256", "crc32c "} {
		if _, err := Parse(bad); !errors.Is(err, ErrUnknownAlgorithm) {
			t.Errorf("Parse(%q) error = %v, want ErrUnknownAlgorithm", bad, err)
		}
	}
	wantHeaders := map[Algorithm]string{
		CRC32: "X-Amz-Checksum-Crc32", CRC32C: "X-Amz-Checksum-Crc32c",
		CRC64NVME: "X-Amz-Checksum-Crc64nvme", SHA1: "X-Amz-Checksum-Sha1",
		SHA256: "X-Amz-Checksum-Sha256", MD5: "X-Amz-Checksum-Md5", SHA512: "X-Amz-Checksum-Sha512",
		XXHASH64: "X-Amz-Checksum-Xxhash64", XXHASH3: "X-Amz-Checksum-Xxhash3", XXHASH128: "X-Amz-Checksum-Xxhash128",
	}
	if len(All()) != len(wantHeaders) {
		t.Fatalf("All() has %d algorithms, want %d", len(All()), len(wantHeaders))
	}
	for _, a := range All() {
		if got := a.Header(); got != wantHeaders[a] {
			t.Errorf("%s.Header() = %q, want %q", a, got, wantHeaders[a])
		}
		back, err := FromHeaderName(strings.ToLower(a.Header()))
		if err != nil || back != a {
			t.Errorf("FromHeaderName(%q) = %q, %v", a.Header(), back, err)
		}
	}
	for _, bad := range []string{"x-amz-checksum-", "x-amz-checksum-type", "content-md5", "x-amz-checksum"} {
		if _, err := FromHeaderName(bad); !errors.Is(err, ErrUnknownAlgorithm) {
			t.Errorf("FromHeaderName(%q) error = %v", bad, err)
		}
	}
	if Algorithm("BLAKE3").New() != nil || Algorithm("BLAKE3").Valid("AAAAAA==") {
		t.Error("unknown algorithm has a hash or accepts values")
	}
}

func TestValid(t *testing.T) {
	cases := []struct {
		a     Algorithm
		value string
		ok    bool
	}{
		{CRC32, "yZRlqg==", true},
		{CRC32, "yZRlqg", false},        // no padding
		{CRC32, "yZRlqh==", false},      // non-zero padding bits
		{CRC32, "yZRlqgAA", false},      // 6 bytes
		{CRC32, "", false},              // empty
		{CRC32C, "AAAAAAAAAAA=", false}, // 8 bytes for a 4-byte digest
		{CRC64NVME, "AAAAAAAAAAA=", true},
		{CRC64NVME, "AAAAAA==", false},
		{SHA1, base64.StdEncoding.EncodeToString(make([]byte, 20)), true},
		{SHA1, base64.StdEncoding.EncodeToString(make([]byte, 32)), false},
		{SHA256, base64.StdEncoding.EncodeToString(make([]byte, 32)), true},
		{SHA256, "!" + base64.StdEncoding.EncodeToString(make([]byte, 32))[1:], false},
	}
	for _, c := range cases {
		if got := c.a.Valid(c.value); got != c.ok {
			t.Errorf("%s.Valid(%q) = %v, want %v", c.a, c.value, got, c.ok)
		}
	}
}

func TestFind(t *testing.T) {
	h := http.Header{}
	if a, v, err := Find(h); a != "" || v != "" || err != nil {
		t.Fatalf("Find(empty) = %q %q %v", a, v, err)
	}
	h.Set("X-Amz-Checksum-Type", "FULL_OBJECT")
	h.Set("X-Amz-Checksum-Algorithm", "CRC32C")
	h.Set("x-amz-checksum-crc32c", "sOO8/Q==")
	a, v, err := Find(h)
	if a != CRC32C || v != "sOO8/Q==" || err != nil {
		t.Fatalf("Find = %q %q %v", a, v, err)
	}
	h.Set("x-amz-checksum-sha1", base64.StdEncoding.EncodeToString(make([]byte, 20)))
	if _, _, err := Find(h); !errors.Is(err, ErrBadValue) {
		t.Fatalf("two checksums: err = %v, want ErrBadValue", err)
	}
	h.Del("x-amz-checksum-sha1")
	h.Set("x-amz-checksum-crc32c", "not base64")
	if _, _, err := Find(h); !errors.Is(err, ErrBadValue) {
		t.Fatalf("bad value: err = %v, want ErrBadValue", err)
	}
}

func sumOf(a Algorithm, b []byte) string {
	h := a.New()
	h.Write(b)
	return a.Encode(h.Sum(nil))
}

func TestReader(t *testing.T) {
	data := bytes.Repeat([]byte("basalt "), 10000)
	for _, a := range All() {
		want := sumOf(a, data)

		// Matching value, read in odd-sized pieces.
		r := NewReader(iotest.HalfReader(bytes.NewReader(data)), a, func() string { return want })
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: ReadAll err = %v, %d bytes", a, err, len(got))
		}
		if r.Sum() != want || r.N() != int64(len(data)) || r.Algorithm() != a {
			t.Errorf("%s: Sum = %s N = %d, want %s %d", a, r.Sum(), r.N(), want, len(data))
		}

		// The expected value is only known once the data has been read,
		// as with a trailer: it must be asked for at EOF, not before.
		var late string
		r = NewReader(bytes.NewReader(data), a, func() string { return late })
		buf := make([]byte, len(data))
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
		late = want
		if n, err := r.Read(buf); n != 0 || err != io.EOF {
			t.Errorf("%s: late value: Read = %d, %v; want 0, EOF", a, n, err)
		}

		// One flipped byte.
		bad := bytes.Clone(data)
		bad[len(bad)/2] ^= 1
		r = NewReader(bytes.NewReader(bad), a, func() string { return want })
		_, err = io.ReadAll(r)
		if !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: flipped byte: err = %v, want ErrMismatch", a, err)
		}
		// The error is sticky.
		if _, err2 := r.Read(buf); !errors.Is(err2, ErrMismatch) {
			t.Errorf("%s: second Read after mismatch: %v", a, err2)
		}

		// A value of the wrong shape.
		r = NewReader(bytes.NewReader(data), a, func() string { return "%%%" })
		if _, err := io.ReadAll(r); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: bad expected value: err = %v, want ErrBadValue", a, err)
		}

		// No expected value: compute only.
		for _, exp := range []func() string{nil, func() string { return "" }} {
			r = NewReader(bytes.NewReader(data), a, exp)
			if _, err := io.ReadAll(r); err != nil || r.Sum() != want {
				t.Errorf("%s: compute only: err = %v sum = %s", a, err, r.Sum())
			}
		}
	}

	// Errors of the underlying reader pass through unchanged.
	boom := errors.New("boom")
	r := NewReader(iotest.ErrReader(boom), CRC32, func() string { return "AAAAAA==" })
	if _, err := r.Read(make([]byte, 8)); err != boom {
		t.Errorf("underlying error = %v, want boom", err)
	}
	r = NewReader(bytes.NewReader(data), "BLAKE3", nil)
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("unknown algorithm: %v", err)
	}
}

func TestCombineEqualsWholeForRandomSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		for trial := 0; trial < 40; trial++ {
			n := rng.IntN(len(data) + 1)
			whole := data[:n]
			// Random cut points, duplicates allowed so empty parts occur.
			cuts := []int{0, n}
			for range rng.IntN(12) {
				cuts = append(cuts, rng.IntN(n+1))
			}
			slices.Sort(cuts)
			var values []string
			var sizes []int64
			for i := 1; i < len(cuts); i++ {
				part := whole[cuts[i-1]:cuts[i]]
				values = append(values, sumOf(a, part))
				sizes = append(sizes, int64(len(part)))
			}
			got, err := Combine(a, values, sizes)
			if err != nil {
				t.Fatalf("%s: Combine: %v", a, err)
			}
			if want := sumOf(a, whole); got != want {
				t.Fatalf("%s: %d bytes cut at %v: Combine = %s, whole = %s", a, n, cuts, got, want)
			}
		}
		// No parts: the empty object.
		if got, err := Combine(a, nil, nil); err != nil || got != sumOf(a, nil) {
			t.Errorf("%s: Combine of no parts = %s, %v", a, got, err)
		}
	}
}

// A large zero-filled part exercises the high powers of x without needing
// gigabytes of data: the CRC of n zero bytes is computed by streaming, and
// Combine must reproduce crc(prefix || zeros) from crc(prefix) and n.
func TestCombineLongParts(t *testing.T) {
	zeros := make([]byte, 1<<16)
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		h := a.New()
		h.Write([]byte("prefix"))
		prefix := a.Encode(h.Sum(nil))
		z := a.New()
		const n = 300 << 16 // 19.6 MB
		for i := 0; i < n>>16; i++ {
			h.Write(zeros)
			z.Write(zeros)
		}
		got, err := Combine(a, []string{prefix, a.Encode(z.Sum(nil))}, []int64{6, n})
		if err != nil || got != a.Encode(h.Sum(nil)) {
			t.Errorf("%s: got %s, %v; want %s", a, got, err, a.Encode(h.Sum(nil)))
		}
	}
}

func TestCombineErrors(t *testing.T) {
	if _, err := Combine(SHA256, nil, nil); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("SHA256: %v", err)
	}
	if _, err := Combine(SHA1, nil, nil); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("SHA1: %v", err)
	}
	if _, err := Combine(CRC32, []string{"AAAAAA=="}, nil); !errors.Is(err, ErrBadValue) {
		t.Errorf("length mismatch: %v", err)
	}
	if _, err := Combine(CRC32, []string{"AAAAAAAAAAA="}, []int64{1}); !errors.Is(err, ErrBadValue) {
		t.Errorf("wrong digest size: %v", err)
	}
	if _, err := Combine(CRC32, []string{"AAAAAA=="}, []int64{-1}); !errors.Is(err, ErrBadValue) {
		t.Errorf("negative size: %v", err)
	}
}

func TestComposite(t *testing.T) {
	parts := [][]byte{[]byte("first part"), bytes.Repeat([]byte("x"), 5000), []byte("3")}
	for _, a := range All() {
		var values []string
		outer := a.New()
		for _, p := range parts {
			h := a.New()
			h.Write(p)
			d := h.Sum(nil)
			values = append(values, a.Encode(d))
			outer.Write(d)
		}
		got, err := Composite(a, values)
		if err != nil {
			t.Fatal(err)
		}
		if want := a.Encode(outer.Sum(nil)) + "-3"; got != want {
			t.Errorf("%s: Composite = %s, want %s", a, got, want)
		}
		// The composite is not the checksum of the whole object.
		if strings.TrimSuffix(got, "-3") == sumOf(a, bytes.Join(parts, nil)) {
			t.Errorf("%s: composite equals full-object checksum", a)
		}
	}
	// A fixed value, computed independently: CRC32 over the big-endian
	// bytes of the two part CRCs of "a" and "b".
	got, err := Composite(CRC32, []string{sumOf(CRC32, []byte("a")), sumOf(CRC32, []byte("b"))})
	if err != nil {
		t.Fatal(err)
	}
	// crc32("a") = e8b7be43, crc32("b") = 71beeff9; crc32 of those 8 bytes:
	var raw []byte
	raw = binary.BigEndian.AppendUint32(raw, 0xe8b7be43)
	raw = binary.BigEndian.AppendUint32(raw, 0x71beeff9)
	if want := sumOf(CRC32, raw) + "-2"; got != want {
		t.Errorf("Composite(CRC32, a, b) = %s, want %s", got, want)
	}
	if _, err := Composite(CRC32, nil); !errors.Is(err, ErrBadValue) {
		t.Errorf("no parts: %v", err)
	}
	if _, err := Composite(CRC32, []string{"bad"}); !errors.Is(err, ErrBadValue) {
		t.Errorf("bad part: %v", err)
	}
	if _, err := Composite("BLAKE3", []string{"AAAAAA=="}); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("unknown: %v", err)
	}
}

func BenchmarkCombine(b *testing.B) {
	values := make([]string, 10000)
	sizes := make([]int64, len(values))
	for i := range values {
		values[i] = CRC64NVME.Encode(binary.BigEndian.AppendUint64(nil, uint64(i)*0x9e3779b97f4a7c15))
		sizes[i] = 5 << 20
	}
	for b.Loop() {
		if _, err := Combine(CRC64NVME, values, sizes); err != nil {
			b.Fatal(err)
		}
	}
}
