package main_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/basaltstore/basalt/internal/testserver"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "basalt test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: with --tls-cert and --tls-key the server speaks HTTPS only; a
// client trusting the certificate stores and reads (SSE-C included), and a
// bad key pair is refused at start with exit status 2.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	srv := testserver.Start(t, testserver.Options{Args: []string{"--tls-cert", certFile, "--tls-key", keyFile}})
	ctx := testContext(t, time.Minute)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	c, err := minio.New(srv.Addr(), &minio.Options{
		Creds: credentials.NewStaticV4(srv.AccessKey(), srv.SecretKey(), ""), Secure: true, Transport: tr, Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeBucket(ctx, "tls", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	sse, _ := encrypt.NewSSEC(bytes.Repeat([]byte{3}, 32))
	body := []byte("over https, with a customer key")
	if _, err := c.PutObject(ctx, "tls", "k", bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{ServerSideEncryption: sse}); err != nil {
		t.Fatal(err)
	}
	o, err := c.GetObject(ctx, "tls", "k", minio.GetObjectOptions{ServerSideEncryption: sse})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	o.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET over HTTPS: %q %v", got, err)
	}
	// Plain HTTP to the HTTPS port gets no S3 answer.
	resp, err := http.Get("http://" + srv.Addr() + "/health/live")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("plain HTTP answered %d %q", resp.StatusCode, b)
		}
	}
	bin, err := testserver.Binary()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "server", "--data", t.TempDir(), "--address", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", certFile)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "--tls-cert") {
		t.Fatalf("a bad key pair: %v %s", err, out)
	}
}
