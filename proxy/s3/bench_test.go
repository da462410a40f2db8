package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// unsignedRequest builds a header-signed request with an unsigned payload,
// as clients over TLS send large bodies.
func unsignedRequest(b *testing.B, method, url string, body []byte) *http.Request {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey},
		req, "UNSIGNED-PAYLOAD", "s3", testRegion, time.Now()); err != nil {
		b.Fatal(err)
	}
	return req
}

// BenchmarkPutGet measures PUT and GET of whole objects through the proxy
// (HTTP on 127.0.0.1, SigV4, the store on four temporary disks, k=2 m=2).
func BenchmarkPutGet(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20, 16 << 20} {
		data := randomBytes(size, uint64(size))
		b.Run(fmt.Sprintf("PUT/%dKiB", size>>10), func(b *testing.B) {
			e := newEnv(b)
			e.mkBucket("bench")
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				resp, err := http.DefaultClient.Do(unsignedRequest(b, http.MethodPut, fmt.Sprintf("%s/bench/k%d", e.srv.URL, i%64), data))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("PUT: %d", resp.StatusCode)
				}
			}
		})
		b.Run(fmt.Sprintf("GET/%dKiB", size>>10), func(b *testing.B) {
			e := newEnv(b)
			e.mkBucket("bench")
			e.put("bench", "k", string(data))
			b.SetBytes(int64(size))
			for b.Loop() {
				resp, err := http.DefaultClient.Do(unsignedRequest(b, http.MethodGet, e.srv.URL+"/bench/k", nil))
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n != int64(size) {
					b.Fatalf("GET: %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}
