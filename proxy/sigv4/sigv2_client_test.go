package sigv4

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// End to end: a minio-go client configured for Signature Version 2 talks to
// an httptest server on 127.0.0.1 whose handler authenticates with Verify
// and answers like a very small S3, path-style and virtual-host-style.

type v2stub struct {
	srv *httptest.Server
	v   *Verifier

	mu      sync.Mutex
	objects map[string][]byte         // "bucket/key"
	parts   map[string]map[int][]byte // upload ID -> parts
	auth    []string                  // "METHOD bucket/key?query: scheme" of each request
	vhosts  int                       // requests naming their bucket in Host
}

func newV2Stub(t *testing.T) *v2stub {
	t.Helper()
	s := &v2stub{
		v:       &Verifier{Creds: keys{testAK: testSK}, Domains: []string{v2Domain}},
		objects: map[string][]byte{},
		parts:   map[string]map[int][]byte{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	if !strings.HasPrefix(s.srv.Listener.Addr().String(), "127.0.0.1:") {
		t.Fatalf("listening on %s", s.srv.Listener.Addr())
	}
	return s
}

func (s *v2stub) serve(w http.ResponseWriter, r *http.Request) {
	res, err := s.v.Verify(r)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	defer res.Body.Close()
	if res.Anonymous {
		writeS3Error(w, ErrAccessDenied)
		return
	}
	data, err := io.ReadAll(res.Body)
	if err != nil {
		writeS3Error(w, err)
		return
	}
	if m := r.Header.Get("Content-Md5"); m != "" {
		if sum := md5.Sum(data); m != b64(sum[:]) {
			writeS3Error(w, ErrInvalidDigest)
			return
		}
	}

	bucket := s.v.hostBucket(r.Host)
	key := strings.TrimPrefix(r.URL.Path, "/")
	vhost := bucket != ""
	if !vhost {
		bucket, key, _ = strings.Cut(key, "/")
	}
	q := r.URL.Query()
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if q.Has("AWSAccessKeyId") {
		scheme = "query"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = append(s.auth, r.Method+" "+bucket+"/"+key+"?"+r.URL.RawQuery+": "+scheme)
	if vhost {
		s.vhosts++
	}

	name := bucket + "/" + key
	switch {
	case key == "" && r.Method == http.MethodPut:
	case key == "" && r.Method == http.MethodPost && q.Has("delete"):
		var req struct {
			Objects []struct{ Key string } `xml:"Object"`
		}
		if err := xml.Unmarshal(data, &req); err != nil {
			writeS3Error(w, err)
			return
		}
		var b strings.Builder
		b.WriteString("<DeleteResult>")
		for _, o := range req.Objects {
			delete(s.objects, bucket+"/"+o.Key)
			fmt.Fprintf(&b, "<Deleted><Key>%s</Key></Deleted>", xmlText(o.Key))
		}
		b.WriteString("</DeleteResult>")
		io.WriteString(w, b.String())
	case r.Method == http.MethodPost && q.Has("uploads"):
		id := "upload-" + strconv.Itoa(len(s.parts)+1)
		s.parts[id] = map[int][]byte{}
		fmt.Fprintf(w, "<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>",
			bucket, xmlText(key), id)
	case r.Method == http.MethodPut && q.Has("partNumber"):
		n, _ := strconv.Atoi(q.Get("partNumber"))
		s.parts[q.Get("uploadId")][n] = data
		w.Header().Set("ETag", etag(data))
	case r.Method == http.MethodPost && q.Has("uploadId"):
		parts := s.parts[q.Get("uploadId")]
		nums := make([]int, 0, len(parts))
		for n := range parts {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		var all []byte
		for _, n := range nums {
			all = append(all, parts[n]...)
		}
		s.objects[name] = all
		fmt.Fprintf(w, "<CompleteMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><ETag>%s</ETag></CompleteMultipartUploadResult>",
			bucket, xmlText(key), xmlText(etag(all)))
	case r.Method == http.MethodPut:
		s.objects[name] = data
		w.Header().Set("ETag", etag(data))
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		obj, ok := s.objects[name]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		h := w.Header()
		h.Set("Content-Length", strconv.Itoa(len(obj)))
		h.Set("ETag", etag(obj))
		h.Set("Last-Modified", time.Unix(0, 0).UTC().Format(http.TimeFormat))
		h.Set("Content-Type", "application/octet-stream")
		if ct := q.Get("response-content-type"); ct != "" {
			h.Set("Content-Type", ct)
		}
		if r.Method == http.MethodGet {
			w.Write(obj)
		}
	case r.Method == http.MethodDelete:
		delete(s.objects, name)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotImplemented)
	}
}

func (s *v2stub) schemes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

func (s *v2stub) object(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.objects[name]
	return data, ok
}

func etag(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// v2Client returns a minio-go client that signs with Signature Version 2.
// Virtual-host style goes to "<bucket>.s3.basalt.test:<port>", dialled at
// the stub's address.
func v2Client(t *testing.T, s *v2stub, secret string, virtual bool) (*minio.Client, http.RoundTripper) {
	t.Helper()
	addr := s.srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	endpoint, lookup := addr, minio.BucketLookupPath
	if virtual {
		endpoint, lookup = v2Domain+":"+port, minio.BucketLookupDNS
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	mc, err := minio.New(endpoint, &minio.Options{
		Creds:        miniocreds.NewStaticV2(testAK, secret, ""),
		Region:       "us-east-1",
		BucketLookup: lookup,
		Transport:    tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mc, tr
}

func TestV2MinioClient(t *testing.T) {
	for _, virtual := range []bool{false, true} {
		t.Run(map[bool]string{false: "path-style", true: "virtual-host"}[virtual], func(t *testing.T) {
			s := newV2Stub(t)
			mc, tr := v2Client(t, s, testSK, virtual)
			ctx := context.Background()
			const bucket, key = "photos", "dir/a key+(1) ü.txt"

			if err := mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
				t.Fatalf("MakeBucket: %v", err)
			}

			data := randomBytes(300000, 21)
			_, err := mc.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
				ContentType:    "text/plain",
				UserMetadata:   map[string]string{"Colour": "deep  blue", "Owner": "ops"},
				SendContentMd5: true,
			})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if got, _ := s.object(bucket + "/" + key); !bytes.Equal(got, data) {
				t.Fatalf("stored %d bytes, sent %d", len(got), len(data))
			}

			obj, err := mc.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			got, err := io.ReadAll(obj)
			obj.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("GetObject read %d bytes, %v", len(got), err)
			}
			if info, err := mc.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); err != nil || info.Size != int64(len(data)) {
				t.Fatalf("StatObject: %+v, %v", info, err)
			}

			// Multipart: ?uploads, ?partNumber=N&uploadId=..., ?uploadId=...
			core := &minio.Core{Client: mc}
			id, err := core.NewMultipartUpload(ctx, bucket, "big.bin", minio.PutObjectOptions{ContentType: "application/x-tar"})
			if err != nil {
				t.Fatalf("NewMultipartUpload: %v", err)
			}
			p1, p2 := randomBytes(70000, 22), randomBytes(1000, 23)
			var parts []minio.CompletePart
			for i, p := range [][]byte{p1, p2} {
				op, err := core.PutObjectPart(ctx, bucket, "big.bin", id, i+1, bytes.NewReader(p), int64(len(p)), minio.PutObjectPartOptions{})
				if err != nil {
					t.Fatalf("PutObjectPart %d: %v", i+1, err)
				}
				parts = append(parts, minio.CompletePart{PartNumber: i + 1, ETag: op.ETag})
			}
			if _, err := core.CompleteMultipartUpload(ctx, bucket, "big.bin", id, parts, minio.PutObjectOptions{}); err != nil {
				t.Fatalf("CompleteMultipartUpload: %v", err)
			}
			if got, _ := s.object(bucket + "/big.bin"); !bytes.Equal(got, append(append([]byte{}, p1...), p2...)) {
				t.Fatalf("multipart object has %d bytes", len(got))
			}

			// A presigned GET with a response override.
			u, err := mc.PresignedGetObject(ctx, bucket, key, time.Hour, url.Values{"response-content-type": {"application/json"}})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Transport: tr}).Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || !bytes.Equal(body, data) {
				t.Fatalf("presigned GET: %s, %q, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(body))
			}

			// Multi-object delete: ?delete with a Content-MD5.
			ch := make(chan minio.ObjectInfo, 2)
			ch <- minio.ObjectInfo{Key: key}
			ch <- minio.ObjectInfo{Key: "big.bin"}
			close(ch)
			for e := range mc.RemoveObjects(ctx, bucket, ch, minio.RemoveObjectsOptions{}) {
				t.Errorf("RemoveObjects: %s: %v", e.ObjectName, e.Err)
			}
			if _, ok := s.object(bucket + "/" + key); ok {
				t.Error("object still there after RemoveObjects")
			}

			// Every request was signed with Signature Version 2, the
			// sub-resources were there, and the bucket where expected.
			seen := strings.Join(s.schemes(), "\n")
			for _, want := range []string{
				"PUT photos/?: AWS",
				"POST photos/big.bin?uploads=: AWS",
				"PUT photos/big.bin?partNumber=2&uploadId=upload-1: AWS",
				"POST photos/big.bin?uploadId=upload-1: AWS",
				"POST photos/?delete=: AWS",
			} {
				if !strings.Contains(seen, want) {
					t.Errorf("no request %q among\n%s", want, seen)
				}
			}
			for _, line := range s.schemes() {
				if !strings.HasSuffix(line, ": AWS") && !strings.HasSuffix(line, ": query") {
					t.Errorf("not Signature Version 2: %s", line)
				}
			}
			if strings.Count(seen, ": query") != 1 {
				t.Errorf("want one query-authenticated request:\n%s", seen)
			}
			s.mu.Lock()
			vhosts, all := s.vhosts, len(s.auth)
			s.mu.Unlock()
			// minio-go creates buckets path-style whatever its lookup.
			if want := map[bool]int{false: 0, true: all - 1}[virtual]; vhosts != want {
				t.Errorf("%d of %d requests named the bucket in Host, want %d", vhosts, all, want)
			}

			// The same client with a wrong secret is refused.
			bad, _ := v2Client(t, s, "not the secret", virtual)
			_, err = bad.PutObject(ctx, bucket, "k", bytes.NewReader([]byte("data")), 4, minio.PutObjectOptions{})
			if code := minio.ToErrorResponse(err).Code; code != "SignatureDoesNotMatch" {
				t.Errorf("wrong secret: error = %v (code %q), want SignatureDoesNotMatch", err, code)
			}
		})
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
