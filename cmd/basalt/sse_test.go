package main_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/basaltstore/basalt/internal/testserver"
)

// TestSSEAcrossRestart: objects encrypted with SSE-S3 (master key in the
// catalog) and SSE-C read back after a restart of a real server, and no
// file under the data folder holds their plaintext.
func TestSSEAcrossRestart(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	ctx := testContext(t, 2*time.Minute)
	c := minioClient(t, srv, 1)
	if err := c.MakeBucket(ctx, "secrets", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	s3Body := bytes.Repeat([]byte("sse-s3-plaintext-marker "), 4000)
	cBody := bytes.Repeat([]byte("sse-c-plaintext-marker "), 4000)
	customer, err := encrypt.NewSSEC(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, "secrets", "s3", bytes.NewReader(s3Body), int64(len(s3Body)), minio.PutObjectOptions{ServerSideEncryption: encrypt.NewSSE()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, "secrets", "c", bytes.NewReader(cBody), int64(len(cBody)), minio.PutObjectOptions{ServerSideEncryption: customer}); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	read := func(key string, sse encrypt.ServerSide) []byte {
		o, err := c.GetObject(ctx, "secrets", key, minio.GetObjectOptions{ServerSideEncryption: sse})
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		b, err := io.ReadAll(o)
		if err != nil {
			t.Fatalf("GET %s: %v", key, err)
		}
		return b
	}
	if !bytes.Equal(read("s3", nil), s3Body) || !bytes.Equal(read("c", customer), cBody) {
		t.Fatal("encrypted objects differ after a restart")
	}
	err = filepath.Walk(srv.DataDir(), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte("plaintext-marker")) {
			t.Errorf("%s holds plaintext of an encrypted object", strings.TrimPrefix(p, srv.DataDir()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
