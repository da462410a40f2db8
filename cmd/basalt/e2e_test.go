package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/basaltstore/basalt/internal/testserver"
)

// These tests drive the real basalt binary with real S3 clients.

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// payload returns n deterministic pseudo-random bytes for seed.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)}))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func minioClient(t testing.TB, srv *testserver.Server, retries int) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(srv.Endpoint(), "http://"), &minio.Options{
		Creds:      credentials.NewStaticV4(srv.AccessKey(), srv.SecretKey(), ""),
		Region:     "us-east-1",
		MaxRetries: retries,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func awsClient(srv *testserver.Server) *awss3.Client {
	return awss3.New(awss3.Options{
		BaseEndpoint: aws.String(srv.Endpoint()),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKey(), SecretAccessKey: srv.SecretKey()}, nil
		}),
		RetryMaxAttempts: 1,
	})
}

func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func getAll(ctx context.Context, t *testing.T, c *minio.Client, bucket, key string) []byte {
	t.Helper()
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return data
}

func TestMinioClient(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	ctx := testContext(t, 5*time.Minute)
	c := minioClient(t, srv, 3)

	if err := c.MakeBucket(ctx, "photos", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.BucketExists(ctx, "photos"); err != nil || !ok {
		t.Fatalf("BucketExists = %v, %v", ok, err)
	}

	small := payload(1, 3000)
	if _, err := c.PutObject(ctx, "photos", "a/small.txt", bytes.NewReader(small), int64(len(small)),
		minio.PutObjectOptions{ContentType: "text/plain", UserMetadata: map[string]string{"Colour": "blue"}}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(ctx, t, c, "photos", "a/small.txt"); !bytes.Equal(got, small) {
		t.Fatalf("small object read back differs (%d bytes, want %d)", len(got), len(small))
	}
	st, err := c.StatObject(ctx, "photos", "a/small.txt", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(len(small)) || st.ContentType != "text/plain" || st.UserMetadata["Colour"] != "blue" {
		t.Errorf("stat = size %d type %q meta %v", st.Size, st.ContentType, st.UserMetadata)
	}

	// 40 MiB goes through minio-go's multipart upload.
	big := payload(2, 40<<20)
	info, err := c.PutObject(ctx, "photos", "big.bin", bytes.NewReader(big), int64(len(big)),
		minio.PutObjectOptions{PartSize: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("40 MiB upload ETag %q: want a 3-part multipart ETag", info.ETag)
	}
	if got := getAll(ctx, t, c, "photos", "big.bin"); !bytes.Equal(got, big) {
		t.Fatalf("40 MiB object read back differs (%d bytes)", len(got))
	}
	// A range in the middle of the second part.
	obj, err := c.GetObject(ctx, "photos", "big.bin", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 1000)
	if _, err := obj.ReadAt(part, 20<<20); err != nil {
		t.Fatal(err)
	}
	obj.Close()
	if !bytes.Equal(part, big[20<<20:20<<20+1000]) {
		t.Error("ranged read differs")
	}

	var keys []string
	for o := range c.ListObjects(ctx, "photos", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, ",") != "a/small.txt,big.bin" {
		t.Errorf("list = %v", keys)
	}

	if err := c.RemoveObject(ctx, "photos", "a/small.txt", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StatObject(ctx, "photos", "a/small.txt", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Errorf("stat after delete: %v, want NoSuchKey", err)
	}
	if err := c.RemoveBucket(ctx, "photos"); minio.ToErrorResponse(err).Code != "BucketNotEmpty" {
		t.Errorf("remove non-empty bucket: %v, want BucketNotEmpty", err)
	}
	if err := c.RemoveObject(ctx, "photos", "big.bin", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveBucket(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
}

func TestAWSSDK(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	ctx := testContext(t, 3*time.Minute)
	c := awsClient(srv)

	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	body := payload(3, 5<<20+17)
	put, err := c.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String("docs"), Key: aws.String("report.pdf"),
		Body: bytes.NewReader(body), ContentType: aws.String("application/pdf"),
		Metadata: map[string]string{"owner": "ops"},
	})
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("docs"), Key: aws.String("report.pdf")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ContentType) != "application/pdf" ||
		head.Metadata["owner"] != "ops" || aws.ToString(head.ETag) != aws.ToString(put.ETag) {
		t.Errorf("head = length %d type %q meta %v etag %q (put %q)", aws.ToInt64(head.ContentLength),
			aws.ToString(head.ContentType), head.Metadata, aws.ToString(head.ETag), aws.ToString(put.ETag))
	}
	get, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("report.pdf")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(get.Body)
	get.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("get: %d bytes, err %v; want %d bytes equal", len(got), err, len(body))
	}
	rng, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("report.pdf"), Range: aws.String("bytes=100-199")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rng.Body)
	rng.Body.Close()
	if !bytes.Equal(got, body[100:200]) {
		t.Error("range read differs")
	}

	for i := range 3 {
		if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String(fmt.Sprintf("notes/%d.txt", i)),
			Body: strings.NewReader("note")}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("docs"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "report.pdf" ||
		len(list.CommonPrefixes) != 1 || aws.ToString(list.CommonPrefixes[0].Prefix) != "notes/" {
		t.Errorf("list with delimiter: %d objects, prefixes %v", len(list.Contents), list.CommonPrefixes)
	}

	_, err = c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("get missing key: %v, want NoSuchKey", err)
	}
	if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("docs"), Key: aws.String("report.pdf")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("docs"), Key: aws.String("report.pdf")}); err == nil {
		t.Error("head after delete succeeded")
	}
}

func TestCredentialsPersistAcrossRestart(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{GenerateCredentials: true})
	ctx := testContext(t, 3*time.Minute)
	ak, sk := srv.AccessKey(), srv.SecretKey()
	if len(ak) != 20 || len(sk) != 40 {
		t.Fatalf("generated credential %q/%q: want 20 and 40 characters", ak, sk)
	}
	fi, err := os.Stat(filepath.Join(srv.DataDir(), "identity", "root.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("root.json mode %o, want 600", fi.Mode().Perm())
	}
	c := minioClient(t, srv, 3)
	if err := c.MakeBucket(ctx, "keep", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	data := payload(4, 300<<10)
	if _, err := c.PutObject(ctx, "keep", "obj", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}

	srv.Restart()
	if srv.AccessKey() != ak {
		t.Errorf("access key after restart %q, want %q", srv.AccessKey(), ak)
	}
	out := srv.Stdout()
	second := out[strings.LastIndex(out, "=== testserver: start"):]
	if strings.Contains(second, sk) {
		t.Errorf("the secret was printed again at the second start:\n%s", second)
	}
	if strings.Count(out, sk) != 1 {
		t.Errorf("the secret was printed %d times, want once", strings.Count(out, sk))
	}

	c = minioClient(t, srv, 3)
	if got := getAll(ctx, t, c, "keep", "obj"); !bytes.Equal(got, data) {
		t.Fatal("object differs after restart")
	}
	// A wrong secret is refused.
	bad, err := minio.New(strings.TrimPrefix(srv.Endpoint(), "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(ak, sk+"x", ""), Region: "us-east-1", MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.BucketExists(ctx, "keep"); err == nil {
		t.Error("a wrong secret was accepted")
	}
}

func TestOperationalEndpoints(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Args: []string{"--pprof", "127.0.0.1:0"}})
	ctx := testContext(t, time.Minute)
	c := minioClient(t, srv, 3)
	if err := c.MakeBucket(ctx, "metrics-bucket", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]string{
		"/health/live":  {"ok"},
		"/health/ready": {"ready"},
		"/metrics": {"basalt_build_info", "go_goroutines", "process_resident_memory_bytes",
			"basalt_s3_requests_total"},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.Endpoint()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				t.Errorf("GET %s: body lacks %q", path, w)
			}
		}
	}

	// Profiles are served on their own address, not on the S3 one.
	logs := srv.Logs()
	i := strings.Index(logs, `msg="pprof listening" address=`)
	if i < 0 {
		t.Fatalf("no pprof address logged:\n%s", logs)
	}
	addr := strings.Fields(logs[i+len(`msg="pprof listening" address=`):])[0]
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("pprof: status %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.Endpoint() + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("pprof answered on the S3 address")
	}
}

func TestBadFlagsExit(t *testing.T) {
	bin, err := testserver.Binary()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ec-data", "0"}, "--ec-data=0: the number of data shards k must be at least 1"},
		{[]string{"--ec-data", "3", "--ec-parity", "2"}, "need k+m=5 disks, but --disks gives 4"},
		{[]string{"--disks", "d{1...8}", "--ec-data", "6", "--ec-parity", "3"}, "need k+m=9 disks, but --disks gives 8"},
		{[]string{"--disks", "disk{1..4}"}, "bad pattern"},
		{[]string{"--log-format", "xml"}, "--log-format"},
	} {
		dir := t.TempDir()
		cmd := exec.Command(bin, append([]string{"server", "--data", dir, "--address", "127.0.0.1:0"}, tc.args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: err %v, want exit code 2", tc.args, err)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, stderr.String(), tc.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%v: a refused configuration wrote to the data folder", tc.args)
		}
	}
}

func TestSIGTERMDrainsInFlightUpload(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	ctx := testContext(t, 3*time.Minute)
	c := minioClient(t, srv, 1)
	if err := c.MakeBucket(ctx, "drain", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}

	data := payload(5, 8<<20)
	pr, pw := io.Pipe()
	uploaded := make(chan error, 1)
	go func() {
		_, err := c.PutObject(ctx, "drain", "upload", pr, int64(len(data)), minio.PutObjectOptions{DisableMultipart: true})
		uploaded <- err
	}()
	// Send the first half, and wait until the server counts the request as
	// in flight: the signal then surely finds it running.
	if _, err := pw.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	waitInFlight(ctx, t, srv)

	srv.Terminate()
	if err := srv.WaitLog(ctx, "listener closed"); err != nil {
		t.Fatal(err)
	}
	// The listener is closed: new connections are refused.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := fresh.Get(srv.Endpoint() + "/health/live"); err == nil {
		t.Error("a new connection was accepted after SIGTERM")
	}
	if _, err := pw.Write(data[len(data)/2:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if err := <-uploaded; err != nil {
		t.Fatalf("upload in flight at SIGTERM failed: %v", err)
	}
	if code := srv.Wait(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, srv.Logs())
	}

	srv.Restart()
	c = minioClient(t, srv, 3)
	if got := getAll(ctx, t, c, "drain", "upload"); !bytes.Equal(got, data) {
		t.Fatal("object uploaded during shutdown differs after restart")
	}
}

// waitInFlight waits until the server's metrics show an S3 request in
// flight. Each round is a real request, so the loop advances with the
// server, not with a timer.
func waitInFlight(ctx context.Context, t *testing.T, srv *testserver.Server) {
	t.Helper()
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.Endpoint()+"/metrics", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "basalt_s3_requests_in_flight ") && strings.TrimPrefix(line, "basalt_s3_requests_in_flight ") != "0" {
				return
			}
		}
	}
	t.Fatal("no request in flight before the deadline")
}

func TestKill9DuringPutStorm(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	ctx := testContext(t, 5*time.Minute)
	c := minioClient(t, srv, 1)
	if err := c.MakeBucket(ctx, "storm", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}

	const writers = 8
	const killAfter = 40 // acknowledged PUTs before the kill
	type ack struct {
		key string
		sum [32]byte
	}
	var (
		mu        sync.Mutex
		acked     []ack
		attempted = make(map[string][32]byte)
		count     atomic.Int64
		killNow   = make(chan struct{})
		killOnce  sync.Once
		wg        sync.WaitGroup
	)
	stormCtx, stopStorm := context.WithCancel(ctx)
	defer stopStorm()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; stormCtx.Err() == nil; i++ {
				size := 1 + rng.IntN(64<<10) // small: kept inline
				if i%2 == 1 {
					size = 1<<20 + rng.IntN(2<<20) // 1-3 MiB: erasure-coded shards
				}
				key := fmt.Sprintf("w%d/obj-%04d", w, i)
				data := payload(uint64(w)<<32|uint64(i), size)
				sum := sha256.Sum256(data)
				mu.Lock()
				attempted[key] = sum
				mu.Unlock()
				_, err := c.PutObject(stormCtx, "storm", key, bytes.NewReader(data), int64(size), minio.PutObjectOptions{})
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, ack{key, sum})
				mu.Unlock()
				if count.Add(1) >= killAfter {
					killOnce.Do(func() { close(killNow) })
				}
			}
		}()
	}
	select {
	case <-killNow:
	case <-ctx.Done():
		t.Fatal("the storm did not reach its count before the deadline")
	}
	srv.Kill()
	stopStorm()
	wg.Wait()

	srv.Restart()
	c = minioClient(t, srv, 3)
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < killAfter {
		t.Fatalf("only %d acknowledged PUTs", len(acked))
	}
	for _, a := range acked {
		got := getAll(ctx, t, c, "storm", a.key)
		if sha256.Sum256(got) != a.sum {
			t.Errorf("acknowledged %s reads back different bytes (%d bytes)", a.key, len(got))
		}
	}
	// Whatever else is there must be a whole object as it was sent.
	n := 0
	for o := range c.ListObjects(ctx, "storm", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
		want, ok := attempted[o.Key]
		if !ok {
			t.Errorf("listed key %q was never written", o.Key)
			continue
		}
		if sha256.Sum256(getAll(ctx, t, c, "storm", o.Key)) != want {
			t.Errorf("%s (not acknowledged) is present but not as sent", o.Key)
		}
	}
	if n < len(acked) {
		t.Errorf("listing shows %d objects, fewer than the %d acknowledged", n, len(acked))
	}
	t.Logf("%d PUTs acknowledged before kill -9, %d objects after restart", len(acked), n)
}
