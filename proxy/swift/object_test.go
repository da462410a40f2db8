package swift

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/basaltstore/basalt/objectd"
)

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// raw sends a request as raw bytes and returns the status line's code.
func (e *env) raw(req string) int {
	e.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		e.t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestObjectPutGetHeadDelete(t *testing.T) {
	e := newEnv(t)
	e.mkdir("ccc", nil)
	data := []byte("hello, swift")
	r := e.put("ccc", "greeting.txt", data, hdr{"X-Object-Meta-Color": "Blue", "Content-Disposition": "attachment", "Content-Encoding": "identity"})
	if r.header.Get("Etag") != md5hex(data) || r.header.Get("Last-Modified") == "" {
		t.Fatalf("PUT headers %v", r.header)
	}
	r = e.must(e.get("ccc", "greeting.txt", nil), http.StatusOK, "GET")
	if r.body != string(data) || r.header.Get("Etag") != md5hex(data) || r.header.Get("Content-Type") != "text/plain" ||
		r.header.Get("X-Object-Meta-Color") != "Blue" || r.header.Get("Content-Disposition") != "attachment" ||
		r.header.Get("Content-Encoding") != "identity" || r.header.Get("Accept-Ranges") != "bytes" || r.header.Get("X-Timestamp") == "" {
		t.Fatalf("GET %q %v", r.body, r.header)
	}
	// The same object through the store, as S3 sees it.
	oi, err := e.store.HeadObject(t.Context(), "ccc", "greeting.txt")
	if err != nil || oi.UserMeta["color"] != "Blue" || oi.ContentType != "text/plain" || oi.ETag != md5hex(data) || oi.Headers["Content-Disposition"] != "attachment" {
		t.Fatalf("store view %+v %v", oi, err)
	}
	r = e.must(e.do("HEAD", a("/ccc/greeting.txt"), tokReaderA, nil, nil), http.StatusOK, "HEAD")
	if r.header.Get("Content-Length") != strconv.Itoa(len(data)) || r.header.Get("X-Object-Meta-Color") != "Blue" {
		t.Fatalf("HEAD %v", r.header)
	}
	// Content types: given, guessed from the name, or the default.
	e.put("ccc", "noext", []byte("x"), nil)
	if ct := e.get("ccc", "noext", nil).header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Fatalf("default content type %q", ct)
	}
	e.put("ccc", "given.txt", []byte("x"), hdr{"Content-Type": "application/x-mine"})
	if ct := e.get("ccc", "given.txt", nil).header.Get("Content-Type"); ct != "application/x-mine" {
		t.Fatalf("given content type %q", ct)
	}
	e.put("ccc", "detect.html", []byte("x"), hdr{"Content-Type": "application/x-mine", "X-Detect-Content-Type": "true"})
	if ct := e.get("ccc", "detect.html", nil).header.Get("Content-Type"); ct != "text/html" {
		t.Fatalf("detected content type %q", ct)
	}
	// Names with slashes and odd characters.
	e.put("ccc", "dir/sub%20dir/%C3%BC%2520", []byte("odd"), nil)
	if r := e.get("ccc", "dir/sub%20dir/%C3%BC%2520", nil); r.body != "odd" {
		t.Fatalf("odd name: %d %q", r.status, r.body)
	}
	if _, err := e.store.HeadObject(t.Context(), "ccc", "dir/sub dir/ü%20"); err != nil {
		t.Fatalf("odd name in the store: %v", err)
	}

	// ETag check.
	r = e.must(e.do("PUT", a("/ccc/bad"), tokMemberA, hdr{"Etag": md5hex([]byte("other"))}, data), http.StatusUnprocessableEntity, "ETag mismatch")
	if !contains(r.body, "Unprocessable Entity") {
		t.Fatalf("422 body %q", r.body)
	}
	e.must(e.do("PUT", a("/ccc/good"), tokMemberA, hdr{"Etag": `"` + md5hex(data) + `"`}, data), http.StatusCreated, "quoted ETag match")
	e.must(e.do("GET", a("/ccc/bad"), tokMemberA, nil, nil), http.StatusNotFound, "nothing stored on 422")

	// If-None-Match: *.
	e.must(e.do("PUT", a("/ccc/good"), tokMemberA, hdr{"If-None-Match": "*"}, data), http.StatusPreconditionFailed, "If-None-Match on existing")
	e.must(e.do("PUT", a("/ccc/fresh"), tokMemberA, hdr{"If-None-Match": "*"}, data), http.StatusCreated, "If-None-Match on new")
	e.must(e.do("PUT", a("/ccc/fresh"), tokMemberA, hdr{"If-None-Match": "abc"}, data), http.StatusBadRequest, "If-None-Match other than *")

	// Names and metadata limits.
	r = e.must(e.do("PUT", a("/ccc/"+strings.Repeat("n", 1025)), tokMemberA, nil, data), http.StatusBadRequest, "long name")
	if !contains(r.body, "longer than 1024") {
		t.Fatalf("body %q", r.body)
	}
	e.must(e.do("PUT", a("/ccc/"+strings.Repeat("n", 1024)), tokMemberA, nil, data), http.StatusCreated, "1024-byte name")
	meta := hdr{}
	for i := 0; i < 10; i++ {
		meta[fmt.Sprintf("X-Object-Meta-K%d", i)] = strings.Repeat("v", 250)
	}
	r = e.must(e.do("PUT", a("/ccc/meta"), tokMemberA, meta, data), http.StatusBadRequest, "metadata over 2 KiB")
	if !contains(r.body, "Total metadata too large") {
		t.Fatalf("body %q", r.body)
	}
	e.must(e.do("PUT", a("/ccc/meta"), tokMemberA, hdr{"X-Object-Meta-" + strings.Repeat("k", 129): "v"}, data), http.StatusBadRequest, "long metadata name")

	// DELETE.
	e.must(e.do("DELETE", a("/ccc/greeting.txt"), tokMemberA, nil, nil), http.StatusNoContent, "DELETE")
	e.must(e.do("GET", a("/ccc/greeting.txt"), tokMemberA, nil, nil), http.StatusNotFound, "GET deleted")
	r = e.must(e.do("DELETE", a("/ccc/greeting.txt"), tokMemberA, nil, nil), http.StatusNotFound, "DELETE again")
	if !contains(r.body, "<h1>Not Found</h1>") || r.header.Get("Content-Type") != "text/html; charset=UTF-8" {
		t.Fatalf("404 body %q %v", r.body, r.header)
	}
	r = e.must(e.do("HEAD", a("/ccc/greeting.txt"), tokMemberA, nil, nil), http.StatusNotFound, "HEAD deleted")
	if r.header.Get("Content-Length") != strconv.Itoa(len(standardPage(404))) {
		t.Fatalf("HEAD 404 Content-Length %q", r.header.Get("Content-Length"))
	}
	e.must(e.do("GET", a("/nosuch/x"), tokMemberA, nil, nil), http.StatusNotFound, "GET in missing container")
	e.must(e.do("PUT", a("/nosuch/x"), tokMemberA, nil, data), http.StatusNotFound, "PUT in missing container")
	r = e.must(e.do("PATCH", a("/ccc/x"), tokMemberA, nil, nil), http.StatusMethodNotAllowed, "PATCH")
	if r.header.Get("Allow") == "" {
		t.Fatal("405 without Allow")
	}
}

func TestObjectUploadBodies(t *testing.T) {
	e := newEnv(t)
	e.mkdir("ccc", nil)
	e.s.lim.spoolMemory = 1000

	chunked := func(name string, data []byte) resp {
		t.Helper()
		req, err := http.NewRequest("PUT", e.url+a("/ccc/"+name), io.MultiReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.Header.Set("X-Auth-Token", tokMemberA)
		return e.send(req)
	}
	for _, n := range []int{0, 10, 1000, 1001, 100_000} {
		data := bytes.Repeat([]byte{byte(n)}, n)
		r := e.must(chunked(fmt.Sprintf("chunked-%d", n), data), http.StatusCreated, "chunked PUT")
		if r.header.Get("Etag") != md5hex(data) {
			t.Fatalf("chunked %d: ETag %s", n, r.header.Get("Etag"))
		}
		got := e.must(e.get("ccc", fmt.Sprintf("chunked-%d", n), nil), http.StatusOK, "GET chunked")
		if got.body != string(data) {
			t.Fatalf("chunked %d: read back %d bytes", n, len(got.body))
		}
	}
	// Neither Content-Length nor chunked: 411.
	host := strings.TrimPrefix(e.url, "http://")
	if st := e.raw("PUT " + a("/ccc/nolength") + " HTTP/1.1\r\nHost: " + host + "\r\nX-Auth-Token: " + tokMemberA + "\r\nConnection: close\r\n\r\n"); st != http.StatusLengthRequired {
		t.Fatalf("no length: %d", st)
	}
	// Larger than the object size limit: 413, before the body.
	if st := e.raw("PUT " + a("/ccc/huge") + " HTTP/1.1\r\nHost: " + host + "\r\nX-Auth-Token: " + tokMemberA + "\r\nContent-Length: 5497558138881\r\nConnection: close\r\n\r\n"); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", st)
	}
	e.s.lim.maxObjectSize = 5000
	e.must(chunked("over", make([]byte, 5001)), http.StatusRequestEntityTooLarge, "chunked over the limit")
	e.s.lim.spoolMemory = 10000
	e.must(chunked("over", make([]byte, 5001)), http.StatusRequestEntityTooLarge, "chunked over the limit, in memory")
	e.must(chunked("at", make([]byte, 5000)), http.StatusCreated, "chunked at the limit")
	e.must(e.do("GET", a("/ccc/over"), tokMemberA, nil, nil), http.StatusNotFound, "nothing stored on 413")
}

func TestRangesAndConditions(t *testing.T) {
	e := newEnv(t)
	e.mkdir("ccc", nil)
	data := []byte("0123456789abcdefghij")
	e.put("ccc", "o", data, hdr{"Content-Type": "text/x-digits"})
	etag := md5hex(data)
	cases := []struct {
		rng    string
		status int
		body   string
		cr     string
	}{
		{"bytes=0-3", 206, "0123", "bytes 0-3/20"},
		{"bytes=18-", 206, "ij", "bytes 18-19/20"},
		{"bytes=-3", 206, "hij", "bytes 17-19/20"},
		{"bytes=5-100", 206, "56789abcdefghij", "bytes 5-19/20"},
		{"bytes=-100", 206, string(data), "bytes 0-19/20"},
		{"bytes=20-", 416, "", "bytes */20"},
		{"bytes=-0", 416, "", "bytes */20"},
		{"bytes=5-2", 200, string(data), ""},
		{"items=0-1", 200, string(data), ""},
		{"bytes=x-y", 200, string(data), ""},
	}
	for _, c := range cases {
		r := e.get("ccc", "o", hdr{"Range": c.rng})
		if r.status != c.status || (c.status != 416 && r.body != c.body) || r.header.Get("Content-Range") != c.cr {
			t.Errorf("Range %s: %d %q %q", c.rng, r.status, r.body, r.header.Get("Content-Range"))
		}
	}
	// Several ranges: multipart/byteranges.
	r := e.must(e.get("ccc", "o", hdr{"Range": "bytes=0-1,-2,5-6"}), http.StatusPartialContent, "multi-range")
	mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("multi-range type %q", r.header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(r.body), params["boundary"])
	want := []struct{ body, cr string }{{"01", "bytes 0-1/20"}, {"ij", "bytes 18-19/20"}, {"56", "bytes 5-6/20"}}
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if i != len(want) {
				t.Fatalf("%d parts", i)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if string(b) != want[i].body || p.Header.Get("Content-Range") != want[i].cr || p.Header.Get("Content-Type") != "text/x-digits" {
			t.Fatalf("part %d: %q %v", i, b, p.Header)
		}
	}
	hr := e.must(e.do("HEAD", a("/ccc/o"), tokMemberA, hdr{"Range": "bytes=0-1,-2,5-6"}, nil), http.StatusPartialContent, "multi-range HEAD")
	if hr.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
		t.Fatalf("multi-range HEAD length %s, GET body %d", hr.header.Get("Content-Length"), len(r.body))
	}

	// Conditions.
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, c := range []struct {
		h      hdr
		status int
	}{
		{hdr{"If-Match": etag}, 200},
		{hdr{"If-Match": `"` + etag + `"`}, 200},
		{hdr{"If-Match": "*"}, 200},
		{hdr{"If-Match": "nope"}, 412},
		{hdr{"If-None-Match": etag}, 304},
		{hdr{"If-None-Match": "nope, " + `"` + etag + `"`}, 304},
		{hdr{"If-None-Match": "nope"}, 200},
		{hdr{"If-Modified-Since": future}, 304},
		{hdr{"If-Modified-Since": past}, 200},
		{hdr{"If-Unmodified-Since": past}, 412},
		{hdr{"If-Unmodified-Since": future}, 200},
		{hdr{"If-None-Match": "nope", "If-Modified-Since": future}, 200},
	} {
		r := e.get("ccc", "o", c.h)
		if r.status != c.status {
			t.Errorf("%v: %d, want %d", c.h, r.status, c.status)
		}
		if c.status == 412 && !contains(r.body, "Precondition Failed") {
			t.Errorf("412 body %q", r.body)
		}
		if c.status != 200 && r.header.Get("Etag") != etag {
			t.Errorf("%v: %d without the ETag", c.h, r.status)
		}
	}
}

func TestObjectPostCopyAndExpiry(t *testing.T) {
	e := newEnv(t)
	e.mkdir("ccc", nil)
	data := []byte("some data")
	e.put("ccc", "o", data, hdr{"X-Object-Meta-Old": "1", "Content-Type": "text/a", "Content-Language": "fr"})
	e.must(e.do("POST", a("/ccc/o"), tokMemberA, hdr{"X-Object-Meta-New": "2", "Content-Type": "text/b"}, nil), http.StatusAccepted, "POST")
	r := e.get("ccc", "o", nil)
	if r.body != string(data) || r.header.Get("X-Object-Meta-Old") != "" || r.header.Get("X-Object-Meta-New") != "2" || r.header.Get("Content-Type") != "text/b" || r.header.Get("Content-Language") != "" || r.header.Get("Etag") != md5hex(data) {
		t.Fatalf("after POST: %q %v", r.body, r.header)
	}
	e.must(e.do("POST", a("/ccc/o"), tokReaderA, hdr{"X-Object-Meta-New": "3"}, nil), http.StatusForbidden, "reader POSTs")
	e.must(e.do("POST", a("/ccc/missing"), tokMemberA, hdr{"X-Object-Meta-New": "3"}, nil), http.StatusNotFound, "POST missing")

	// Copies: PUT with X-Copy-From, and COPY with Destination.
	r = e.must(e.do("PUT", a("/ccc/copy1"), tokMemberA, hdr{"X-Copy-From": "ccc/o", "X-Object-Meta-Extra": "x"}, nil), http.StatusCreated, "X-Copy-From")
	if r.header.Get("X-Copied-From") != "ccc/o" || r.header.Get("X-Copied-From-Last-Modified") == "" || r.header.Get("Etag") != md5hex(data) {
		t.Fatalf("copy headers %v", r.header)
	}
	r = e.get("ccc", "copy1", nil)
	if r.body != string(data) || r.header.Get("X-Object-Meta-New") != "2" || r.header.Get("X-Object-Meta-Extra") != "x" || r.header.Get("Content-Type") != "text/b" {
		t.Fatalf("copy %q %v", r.body, r.header)
	}
	e.mkdir("ddd", nil)
	e.must(e.do("COPY", a("/ccc/o"), tokMemberA, hdr{"Destination": "/ddd/copy2", "X-Fresh-Metadata": "true"}, nil), http.StatusCreated, "COPY")
	r = e.must(e.do("GET", a("/ddd/copy2"), tokMemberA, nil, nil), http.StatusOK, "GET copy2")
	if r.body != string(data) || r.header.Get("X-Object-Meta-New") != "" {
		t.Fatalf("fresh copy %q %v", r.body, r.header)
	}
	e.must(e.do("COPY", a("/ccc/o"), tokMemberA, nil, nil), http.StatusPreconditionFailed, "COPY without Destination")
	e.must(e.do("PUT", a("/ccc/x"), tokMemberA, hdr{"X-Copy-From": "nocontainer"}, nil), http.StatusPreconditionFailed, "bad X-Copy-From")
	e.must(e.do("PUT", a("/ccc/x"), tokMemberA, hdr{"X-Copy-From": "ccc/missing"}, nil), http.StatusNotFound, "copy of a missing object")
	e.must(e.do("PUT", a("/ccc/x"), tokMemberA, hdr{"X-Copy-From": "ccc/o"}, []byte("body")), http.StatusBadRequest, "copy with a body")
	e.must(e.do("PUT", b("/bcc"), tokMemberB, nil, nil), http.StatusCreated, "beta container")
	e.must(e.do("PUT", b("/bcc/secret"), tokMemberB, nil, []byte("s")), http.StatusCreated, "beta object")
	e.must(e.do("PUT", a("/ccc/stolen"), tokMemberA, hdr{"X-Copy-From": "bcc/secret", "X-Copy-From-Account": "AUTH_" + projB}, nil), http.StatusForbidden, "copy from another project")
	e.must(e.do("PUT", a("/ccc/stolen"), tokMemberA, hdr{"X-Copy-From": "bcc/secret"}, nil), http.StatusNotFound, "copy from another project's container through one's own account")
	e.must(e.do("COPY", a("/ccc/o"), tokReaderA, hdr{"Destination": "ccc/r"}, nil), http.StatusForbidden, "reader copies")

	// Expiry.
	e.must(e.do("PUT", a("/ccc/e"), tokMemberA, hdr{"X-Delete-At": "1000"}, data), http.StatusBadRequest, "X-Delete-At in the past")
	e.must(e.do("PUT", a("/ccc/e"), tokMemberA, hdr{"X-Delete-At": "soon"}, data), http.StatusBadRequest, "non-integer X-Delete-At")
	e.must(e.do("PUT", a("/ccc/e"), tokMemberA, hdr{"X-Delete-After": "-1"}, data), http.StatusBadRequest, "negative X-Delete-After")
	e.must(e.do("PUT", a("/ccc/e"), tokMemberA, hdr{"X-Delete-After": "60"}, data), http.StatusCreated, "X-Delete-After")
	r = e.must(e.get("ccc", "e", nil), http.StatusOK, "GET before expiry")
	at, _ := strconv.ParseInt(r.header.Get("X-Delete-At"), 10, 64)
	if want := e.clock.now().Unix() + 60; at < want-1 || at > want {
		t.Fatalf("X-Delete-At %d, want about %d", at, want)
	}
	e.must(e.do("PUT", a("/ccc/e2"), tokMemberA, hdr{"X-Delete-At": strconv.FormatInt(at+60, 10)}, data), http.StatusCreated, "X-Delete-At")
	e.clock.advance(61 * time.Second)
	e.must(e.get("ccc", "e", nil), http.StatusNotFound, "GET after expiry")
	if _, err := e.store.HeadObject(t.Context(), "ccc", "e"); !errors.Is(err, objectd.ErrNoSuchKey) {
		t.Fatalf("expired object still stored: %v", err)
	}
	e.must(e.do("HEAD", a("/ccc/e2"), tokMemberA, nil, nil), http.StatusOK, "HEAD before its expiry")
	e.must(e.do("POST", a("/ccc/e2"), tokMemberA, hdr{"X-Delete-After": "600"}, nil), http.StatusAccepted, "POST X-Delete-After")
	e.clock.advance(120 * time.Second)
	e.must(e.do("HEAD", a("/ccc/e2"), tokMemberA, nil, nil), http.StatusOK, "HEAD after the old expiry")
	e.clock.advance(600 * time.Second)
	e.must(e.do("DELETE", a("/ccc/e2"), tokMemberA, nil, nil), http.StatusNotFound, "DELETE after expiry")
}
