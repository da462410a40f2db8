package s3bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// newTransport returns the HTTP transport of a run: no proxy, no
// compression, and enough idle connections for every worker to keep its
// own.
func newTransport(cfg Config, secure bool) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConns:          2*cfg.Concurrency + 16,
		MaxIdleConnsPerHost:   2*cfg.Concurrency + 16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 10 * time.Second,
		DisableCompression:    true,
		WriteBufferSize:       64 << 10,
		ReadBufferSize:        64 << 10,
	}
	if secure {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.Insecure} // #nosec G402 -- only when asked for
	}
	return t
}

// newClient returns a minio-go client over rt that never retries: a
// benchmark must count every failure where it happened.
func newClient(cfg Config, host string, secure bool, rt http.RoundTripper) (*minio.Client, error) {
	lookup := minio.BucketLookupAuto
	switch cfg.Lookup {
	case "path":
		lookup = minio.BucketLookupPath
	case "virtual", "dns":
		lookup = minio.BucketLookupDNS
	}
	c, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Transport:    rt,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   1,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint %q: %v", ErrConfig, cfg.Endpoint, err)
	}
	return c, nil
}

// boundTransport ties every request to a context besides its own, so that
// cancelling the run cuts short even the requests minio-go issues without
// a context (listing pages).
type boundTransport struct {
	base http.RoundTripper
	ctx  context.Context
}

func (t *boundTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.ctx, cancel)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		if t.ctx.Err() != nil {
			return nil, t.ctx.Err()
		}
		return nil, err
	}
	resp.Body = &boundBody{ReadCloser: resp.Body, release: func() { stop(); cancel() }}
	return resp, nil
}

type boundBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *boundBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// errShortBody marks a GET whose body was not the object's size.
var errShortBody = errors.New("body shorter or longer than the object")

// errNoObject marks an operation that found no object to work on.
var errNoObject = errors.New("no object left to read or delete")

// classify names the kind of a failed operation's error, for counting.
// Kinds are short and stable ("500 InternalError", "timeout",
// "connection refused"); the message is kept as an example.
func classify(err error) (kind, example string) {
	example = err.Error()
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.StatusCode != 0 {
		code := er.Code
		if code == "" {
			code = http.StatusText(er.StatusCode)
		}
		return fmt.Sprintf("%d %s", er.StatusCode, code), er.Message
	}
	var netErr net.Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, errShortBody):
		return "wrong body length", example
	case errors.Is(err, errNoObject):
		return "no object available", example
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", example
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", example
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", example
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe", example
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed early", example
	case errors.As(err, &dnsErr):
		return "name resolution", example
	case errors.As(err, &certErr):
		return "tls certificate", example
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout", example
	case errors.As(err, &er) && er.Code != "":
		return er.Code, er.Message
	}
	return "other error", example
}
