package swift

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func sign(digest func() hash.Hash, key, method string, expires int64, path string) []byte {
	h := hmac.New(digest, []byte(key))
	fmt.Fprintf(h, "%s\n%d\n%s", method, expires, path)
	return h.Sum(nil)
}

func tempURL(path, sig string, expires string, extra string) string {
	u := path + "?temp_url_sig=" + url.QueryEscape(sig) + "&temp_url_expires=" + expires
	if extra != "" {
		u += "&" + extra
	}
	return u
}

func TestTempURL(t *testing.T) {
	e := newEnv(t)
	e.mkdir("tmp", nil)
	e.mkdir("other", nil)
	e.put("tmp", "dir/file.pdf", []byte("pdf bytes"), hdr{"X-Object-Meta-Private": "p", "X-Object-Meta-Public-Tag": "t"})
	e.put("other", "o", []byte("other"), nil)
	e.must(e.do("POST", a(""), tokAdminA, hdr{"X-Account-Meta-Temp-URL-Key": "acctkey", "X-Account-Meta-Temp-URL-Key-2": "acctkey2"}, nil), http.StatusNoContent, "account keys")
	e.must(e.do("POST", a("/tmp"), tokAdminA, hdr{"X-Container-Meta-Temp-URL-Key": "contkey"}, nil), http.StatusNoContent, "container key")

	// Keys are hidden from non-owners.
	if r := e.do("HEAD", a(""), tokReaderA, nil, nil); r.header.Get("X-Account-Meta-Temp-Url-Key") != "" {
		t.Fatalf("account key shown to a reader: %v", r.header)
	}
	if r := e.do("HEAD", a(""), tokMemberA, nil, nil); r.header.Get("X-Account-Meta-Temp-Url-Key") != "acctkey" {
		t.Fatalf("account key not shown to the owner: %v", r.header)
	}

	path := a("/tmp/dir/file.pdf")
	exp := e.clock.now().Add(time.Hour).Unix()
	expS := strconv.FormatInt(exp, 10)
	hexSig := func(d func() hash.Hash, key, method string) string {
		return hex.EncodeToString(sign(d, key, method, exp, path))
	}

	// GET, signed several ways.
	for name, sig := range map[string]string{
		"sha1 hex":           hexSig(sha1.New, "acctkey", "GET"),
		"sha256 hex":         hexSig(sha256.New, "acctkey", "GET"),
		"sha512 hex":         hexSig(sha512.New, "acctkey", "GET"),
		"sha512 base64":      "sha512:" + base64.URLEncoding.EncodeToString(sign(sha512.New, "acctkey", "GET", exp, path)),
		"sha256 base64 std":  "sha256:" + base64.StdEncoding.EncodeToString(sign(sha256.New, "acctkey", "GET", exp, path)),
		"sha1 base64 raw":    "sha1:" + base64.RawURLEncoding.EncodeToString(sign(sha1.New, "acctkey", "GET", exp, path)),
		"second account key": hexSig(sha1.New, "acctkey2", "GET"),
		"container key":      hexSig(sha256.New, "contkey", "GET"),
	} {
		r := e.do("GET", tempURL(path, sig, expS, ""), "", nil, nil)
		if r.status != 200 || r.body != "pdf bytes" {
			t.Errorf("%s: %d %q", name, r.status, r.body)
			continue
		}
		if r.header.Get("Content-Disposition") != `attachment; filename="file.pdf"; filename*=UTF-8''file.pdf` {
			t.Errorf("%s: Content-Disposition %q", name, r.header.Get("Content-Disposition"))
		}
		if r.header.Get("Expires") != time.Unix(exp, 0).UTC().Format(http.TimeFormat) {
			t.Errorf("%s: Expires %q", name, r.header.Get("Expires"))
		}
		if r.header.Get("X-Object-Meta-Private") != "" || r.header.Get("X-Object-Meta-Public-Tag") != "t" {
			t.Errorf("%s: metadata %v", name, r.header)
		}
	}
	sig := hexSig(sha1.New, "acctkey", "GET")
	for extra, want := range map[string]string{
		"filename=My+Report+%C3%A9.pdf":        `attachment; filename="My Report %C3%A9.pdf"; filename*=UTF-8''My%20Report%20%C3%A9.pdf`,
		"inline":                               "inline",
		"inline&filename=a%2Fb%20c":            `inline; filename="a/b c"; filename*=UTF-8''a/b%20c`,
		"multipart-manifest=get&format=json&x": `attachment; filename="file.pdf"; filename*=UTF-8''file.pdf`,
	} {
		r := e.must(e.do("GET", tempURL(path, sig, expS, extra), "", nil, nil), http.StatusOK, "GET "+extra)
		if r.header.Get("Content-Disposition") != want {
			t.Errorf("%s: Content-Disposition %q, want %q", extra, r.header.Get("Content-Disposition"), want)
		}
	}
	// An ISO 8601 expiry in the URL (the signature uses the number).
	iso := time.Unix(exp, 0).UTC().Format("2006-01-02T15:04:05Z")
	e.must(e.do("GET", tempURL(path, sig, iso, ""), "", nil, nil), http.StatusOK, "ISO 8601 expiry")
	// HEAD is allowed with a GET or PUT signature.
	e.must(e.do("HEAD", tempURL(path, sig, expS, ""), "", nil, nil), http.StatusOK, "HEAD with a GET signature")
	e.must(e.do("HEAD", tempURL(path, hexSig(sha1.New, "acctkey", "PUT"), expS, ""), "", nil, nil), http.StatusOK, "HEAD with a PUT signature")

	// Refusals: 401 with Swift's body.
	refuse := func(what, method, u string, h hdr, body []byte) {
		t.Helper()
		r := e.do(method, u, "", h, body)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", what, r.status)
			return
		}
		if method != "HEAD" && r.body != "401 Unauthorized: Temp URL invalid\n" {
			t.Errorf("%s: body %q", what, r.body)
		}
	}
	refuse("PUT with a GET signature", "PUT", tempURL(path, sig, expS, ""), nil, []byte("x"))
	refuse("other object", "GET", tempURL(a("/tmp/dir/other.pdf"), sig, expS, ""), nil, nil)
	refuse("other expiry", "GET", tempURL(path, sig, strconv.FormatInt(exp+1, 10), ""), nil, nil)
	refuse("wrong key", "GET", tempURL(path, hexSig(sha1.New, "nokey", "GET"), expS, ""), nil, nil)
	refuse("bad signature length", "GET", tempURL(path, sig[:30], expS, ""), nil, nil)
	refuse("unknown digest", "GET", tempURL(path, "md5:"+base64.StdEncoding.EncodeToString(make([]byte, 16)), expS, ""), nil, nil)
	refuse("missing expiry", "GET", path+"?temp_url_sig="+sig, nil, nil)
	refuse("garbage expiry", "GET", tempURL(path, sig, "tomorrow", ""), nil, nil)
	refuse("POST", "POST", tempURL(path, hexSig(sha1.New, "acctkey", "POST"), expS, ""), nil, nil)
	refuse("DELETE", "DELETE", tempURL(path, hexSig(sha1.New, "acctkey", "DELETE"), expS, ""), nil, nil)
	cpath := a("/other/o")
	refuse("container key of another container", "GET", tempURL(cpath, hex.EncodeToString(sign(sha1.New, "contkey", "GET", exp, cpath)), expS, ""), nil, nil)
	refuse("container path", "GET", tempURL(a("/tmp"), hex.EncodeToString(sign(sha1.New, "acctkey", "GET", exp, a("/tmp"))), expS, ""), nil, nil)
	bpath := b("/tmp/dir/file.pdf")
	refuse("another account", "GET", tempURL(bpath, hex.EncodeToString(sign(sha1.New, "acctkey", "GET", exp, bpath)), expS, ""), nil, nil)

	// The account key works on the account's other containers.
	e.must(e.do("GET", tempURL(cpath, hex.EncodeToString(sign(sha1.New, "acctkey", "GET", exp, cpath)), expS, ""), "", nil, nil), http.StatusOK, "account key, other container")

	// PUT.
	ppath := a("/tmp/upload.bin")
	psig := hex.EncodeToString(sign(sha256.New, "contkey", "PUT", exp, ppath))
	r := e.must(e.do("PUT", tempURL(ppath, psig, expS, ""), "", hdr{"X-Object-Meta-Who": "guest"}, []byte("uploaded")), http.StatusCreated, "TempURL PUT")
	if r.header.Get("Etag") != md5hex([]byte("uploaded")) {
		t.Fatalf("PUT ETag %q", r.header.Get("Etag"))
	}
	if got := e.get("tmp", "upload.bin", nil); got.body != "uploaded" || got.header.Get("X-Object-Meta-Who") != "guest" {
		t.Fatalf("uploaded object %q %v", got.body, got.header)
	}
	e.must(e.do("PUT", tempURL(ppath, psig, expS, ""), "", hdr{"X-Object-Manifest": "tmp/dir"}, []byte{}), http.StatusBadRequest, "TempURL PUT of a manifest")
	refuse("GET with a PUT signature", "GET", tempURL(ppath, psig, expS, ""), nil, nil)

	// Prefix signatures.
	prefixSig := hex.EncodeToString(sign(sha1.New, "acctkey", "GET", exp, "prefix:"+a("/tmp/dir/")))
	e.must(e.do("GET", tempURL(path, prefixSig, expS, "temp_url_prefix=dir/"), "", nil, nil), http.StatusOK, "prefix signature")
	refuse("object outside the prefix", "GET", tempURL(ppath, prefixSig, expS, "temp_url_prefix=dir/"), nil, nil)
	refuse("prefix signature without the prefix", "GET", tempURL(path, prefixSig, expS, ""), nil, nil)

	// Missing object with a valid signature: 404.
	mpath := a("/tmp/missing")
	e.must(e.do("GET", tempURL(mpath, hex.EncodeToString(sign(sha1.New, "acctkey", "GET", exp, mpath)), expS, ""), "", nil, nil), http.StatusNotFound, "missing object")

	// Expiry: the injected clock.
	e.clock.advance(2 * time.Hour)
	refuse("expired", "GET", tempURL(path, sig, expS, ""), nil, nil)
	refuse("expired HEAD", "HEAD", tempURL(path, sig, expS, ""), nil, nil)
}
