package proxy

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signUnsigned signs req with an unsigned payload, so that its body can
// stream.
func signUnsigned(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "proxykey", SecretAccessKey: "proxy-test-secret"},
		req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func newReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Past --max-requests a request waits for a slot, and when none frees in
// time it gets S3's SlowDown; the requests in flight are not disturbed,
// and once they end the next one is served.
func TestRequestsPastTheLimitSlowDown(t *testing.T) {
	p, err := New(Config{Store: openStore(t), Credentials: creds{}, MaxRequests: 2, RequestWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{}, 8)
	p.admit.entered = func() { entered <- struct{}{} }
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	call := func(req *http.Request) (int, string, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, "", ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var doc struct{ Code string }
		_ = xml.Unmarshal(b, &doc)
		return resp.StatusCode, doc.Code, string(b)
	}
	if st, code, _ := call(sign(t, newReq(t, "PUT", srv.URL+"/bkt"))); st != 200 {
		t.Fatalf("create bucket: %d %s", st, code)
	}
	<-entered
	// Two uploads take both slots; they wait for the rest of their
	// bodies, which a failing test cuts short before the server closes.
	body := "0123456789"
	type upload struct {
		w    *io.PipeWriter
		done chan int
	}
	var ups []upload
	defer func() {
		for _, u := range ups {
			u.w.CloseWithError(io.ErrUnexpectedEOF)
		}
	}()
	for _, key := range []string{"k1", "k2"} {
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("PUT", srv.URL+"/bkt/"+key, pr)
		req.ContentLength = int64(len(body))
		signUnsigned(t, req)
		u := upload{w: pw, done: make(chan int, 1)}
		go func() {
			st, _, _ := call(req)
			u.done <- st
		}()
		ups = append(ups, u)
		if _, err := pw.Write([]byte(body[:1])); err != nil {
			t.Fatal(err)
		}
		<-entered
	}
	st, code, _ := call(sign(t, newReq(t, "GET", srv.URL+"/bkt?list-type=2")))
	if st != http.StatusServiceUnavailable || code != "SlowDown" {
		t.Fatalf("third request with both slots taken: %d %s, want 503 SlowDown", st, code)
	}
	for _, u := range ups {
		if _, err := u.w.Write([]byte(body[1:])); err != nil {
			t.Fatal(err)
		}
		u.w.Close()
		if st := <-u.done; st != 200 {
			t.Fatalf("upload in flight answered %d", st)
		}
	}
	st, code, got := call(sign(t, newReq(t, "GET", srv.URL+"/bkt/k2")))
	if st != 200 || got != body {
		t.Fatalf("after the uploads: %d %s %q", st, code, got)
	}
	// The refusal is counted.
	_, _, metrics := call(newReq(t, "GET", srv.URL+"/metrics"))
	if !strings.Contains(metrics, "basalt_s3_requests_refused_total 1") {
		t.Fatal("refused request not counted in basalt_s3_requests_refused_total")
	}
}

// A client that goes away while its request waits for a slot gets only a
// 499 status, no SlowDown body, and is not counted as refused; one still
// there is.
func TestClientGoneWhileWaitingIsNotRefused(t *testing.T) {
	p, err := New(Config{Store: openStore(t), Credentials: creds{}, MaxRequests: 1, RequestWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !p.admit.enter(context.Background()) { // the only slot, held
		t.Fatal("first slot not taken")
	}
	defer p.admit.leave()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	p.Handler().ServeHTTP(w, sign(t, httptest.NewRequest("GET", "/bkt?list-type=2", nil)).WithContext(ctx))
	if w.Body.Len() != 0 || w.Code != 499 {
		t.Fatalf("gone client answered %d %q", w.Code, w.Body.String())
	}
	refused := func() string {
		w := httptest.NewRecorder()
		p.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		for _, l := range strings.Split(w.Body.String(), "\n") {
			if strings.HasPrefix(l, "basalt_s3_requests_refused_total ") {
				return strings.TrimPrefix(l, "basalt_s3_requests_refused_total ")
			}
		}
		return "missing"
	}
	if got := refused(); got != "0" {
		t.Fatalf("gone client counted as refused (%s)", got)
	}
	p.admit.wait = time.Millisecond
	w = httptest.NewRecorder()
	p.Handler().ServeHTTP(w, sign(t, httptest.NewRequest("GET", "/bkt?list-type=2", nil)))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "SlowDown") {
		t.Fatalf("waiting client: %d %q", w.Code, w.Body.String())
	}
	if got := refused(); got != "1" {
		t.Fatalf("refusals counted %s, want 1", got)
	}
}

// A refused upload's body is read and dropped before the refusal: the
// client gets SlowDown and keeps its connection, where a close with 4 MiB
// unread would reset it under the client. A client that waits for "100
// Continue" gets the refusal without sending its body.
func TestRefusedUploadKeepsItsConnection(t *testing.T) {
	p, err := New(Config{Store: openStore(t), Credentials: creds{}, MaxRequests: 1, RequestWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	if !p.admit.enter(context.Background()) { // the only slot, held
		t.Fatal("slot not taken")
	}
	defer p.admit.leave()
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	var reused []bool
	put := func(expect bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("PUT", srv.URL+"/bkt/big", bytes.NewReader(make([]byte, 4<<20)))
		if expect {
			req.Header.Set("Expect", "100-continue")
		}
		signUnsigned(t, req)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) },
		}))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("refused upload: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var doc struct{ Code string }
		_ = xml.Unmarshal(b, &doc)
		return resp.StatusCode, doc.Code
	}
	for i := range 2 {
		if st, code := put(false); st != http.StatusServiceUnavailable || code != "SlowDown" {
			t.Fatalf("upload %d: %d %s, want 503 SlowDown", i, st, code)
		}
	}
	if len(reused) != 2 || !reused[1] {
		t.Fatalf("connections reused %v: the refused upload's connection was closed", reused)
	}
	if st, code := put(true); st != http.StatusServiceUnavailable || code != "SlowDown" {
		t.Fatalf("upload waiting for 100 Continue: %d %s, want 503 SlowDown", st, code)
	}
}
