package swift

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TempURL keys, as lowercased metadata names of the account and the
// container.
var (
	accountTempKeys   = []string{"x-account-meta-temp-url-key", "x-account-meta-temp-url-key-2"}
	containerTempKeys = []string{"x-container-meta-temp-url-key", "x-container-meta-temp-url-key-2"}
)

// tempURLMethods are the methods a TempURL may be signed for.
var tempURLMethods = []string{http.MethodGet, http.MethodHead, http.MethodPut}

// tempURLDigests are the HMAC digests accepted.
var tempURLDigests = []string{"sha1", "sha256", "sha512"}

// tempInfo holds the parameters of an authorized TempURL request that
// shape its response.
type tempInfo struct {
	expires  int64
	filename string
	inline   bool
}

// authenticateTempURL checks temp_url_sig and temp_url_expires (and
// temp_url_prefix) against the account's and the container's keys, as
// Swift's tempurl middleware: HMAC of "METHOD\nEXPIRES\nPATH" with
// SHA-1, SHA-256 or SHA-512, hex or "<digest>:<base64>". Anything wrong
// is 401.
func (q *request) authenticateTempURL() error {
	q.temp = &tempInfo{} // the 401 body is the TempURL one from here on
	sig, expStr := q.query.Get("temp_url_sig"), q.query.Get("temp_url_expires")
	method := q.r.Method
	if sig == "" || expStr == "" || !slices.Contains(tempURLMethods, method) || q.version != "v1" {
		return errUnauthorized
	}
	if q.cont == "" || strings.Trim(q.obj, "/") == "" {
		return errUnauthorized
	}
	expires, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil {
		t, perr := time.Parse("2006-01-02T15:04:05Z", expStr)
		if perr != nil {
			return errUnauthorized
		}
		expires = t.Unix()
	}
	if expires < q.s.now().Unix() {
		return errUnauthorized
	}
	digest, mac, ok := parseTempSig(sig)
	if !ok {
		return errUnauthorized
	}
	target := "/v1/" + q.acctSeg + "/" + q.cont + "/" + q.obj
	prefix, hasPrefix := q.query["temp_url_prefix"]
	if hasPrefix {
		if !strings.HasPrefix(q.obj, prefix[0]) {
			return errUnauthorized
		}
		target = "prefix:/v1/" + q.acctSeg + "/" + q.cont + "/" + prefix[0]
	}
	v := q.s.cat.View()
	type scopedKey struct {
		key       string
		container string // "" for an account key
	}
	var keys []scopedKey
	if p, ok := v.Project(q.acct); ok {
		for _, k := range accountTempKeys {
			if val := p.Meta[k]; val != "" {
				keys = append(keys, scopedKey{val, ""})
			}
		}
	}
	if b, ok := v.Bucket(q.cont); ok && b.Owner == q.acct {
		for _, k := range containerTempKeys {
			if val := b.Meta[k]; val != "" {
				keys = append(keys, scopedKey{val, q.cont})
			}
		}
	}
	methods := []string{method}
	if method == http.MethodHead {
		methods = []string{http.MethodHead, http.MethodGet, http.MethodPost, http.MethodPut}
	}
	var scope *tempScope
	for _, m := range methods {
		msg := m + "\n" + strconv.FormatInt(expires, 10) + "\n" + target
		for _, k := range keys {
			h := hmac.New(digest, []byte(k.key))
			h.Write([]byte(msg))
			if hmac.Equal(h.Sum(nil), mac) && scope == nil {
				scope = &tempScope{account: q.acct, container: k.container}
			}
		}
	}
	if scope == nil {
		return errUnauthorized
	}
	if method != http.MethodGet && method != http.MethodHead && q.r.Header.Get("X-Object-Manifest") != "" {
		return failf(errBadRequest, "The header 'X-Object-Manifest' is not allowed in this tempurl")
	}
	q.caller = caller{temp: scope, referer: q.caller.referer}
	q.temp.expires = expires
	q.temp.filename = q.query.Get("filename")
	q.temp.inline = q.query.Has("inline")
	// A TempURL request is served with no other query parameters, as in
	// Swift (no multipart-manifest, no listing parameters).
	q.query = url.Values{}
	q.w.onHeader = q.tempURLHeaders
	return nil
}

// parseTempSig returns the digest and the raw MAC of a signature: hex
// (its length names the digest) or "<digest>:<base64>".
func parseTempSig(sig string) (func() hash.Hash, []byte, bool) {
	digests := map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}
	if name, b64, ok := strings.Cut(sig, ":"); ok {
		d, known := digests[name]
		if !known {
			return nil, nil, false
		}
		if strings.ContainsAny(b64, "-_") && !strings.ContainsAny(b64, "+/") {
			b64 = strings.NewReplacer("-", "+", "_", "/").Replace(b64)
		}
		mac, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
		if err != nil || len(mac) != d().Size() {
			return nil, nil, false
		}
		return d, mac, true
	}
	mac, err := hex.DecodeString(sig)
	if err != nil {
		return nil, nil, false
	}
	switch len(mac) {
	case sha1.Size:
		return sha1.New, mac, true
	case sha256.Size:
		return sha256.New, mac, true
	case sha512.Size:
		return sha512.New, mac, true
	}
	return nil, nil, false
}

// tempURLHeaders adjusts the response of a TempURL request: user
// metadata is hidden (but X-Object-Meta-Public-*), and a successful GET
// or HEAD says how to save the object (Content-Disposition) and until
// when the URL works (Expires).
func (q *request) tempURLHeaders(status int, h http.Header) {
	for name := range h {
		if strings.HasPrefix(name, "X-Object-Meta-") && !strings.HasPrefix(name, "X-Object-Meta-Public-") {
			delete(h, name)
		}
	}
	if (q.r.Method != http.MethodGet && q.r.Method != http.MethodHead) || status/100 != 2 {
		return
	}
	existing := h.Get("Content-Disposition")
	var disposition string
	switch {
	case q.temp.inline && q.temp.filename != "":
		disposition = dispositionFormat("inline", q.temp.filename)
	case q.temp.inline:
		disposition = "inline"
	case q.temp.filename != "":
		disposition = dispositionFormat("attachment", q.temp.filename)
	case existing != "":
		disposition = existing
	default:
		disposition = dispositionFormat("attachment", path.Base(strings.TrimRight(q.r.URL.Path, "/")))
	}
	h.Set("Content-Disposition", strings.ReplaceAll(disposition, "\n", "%0A"))
	h.Set("Expires", time.Unix(q.temp.expires, 0).UTC().Format(http.TimeFormat))
}

// dispositionFormat is `type; filename="name"; filename*=UTF-8”name`
// with the name percent-encoded as RFC 6266 and 5987 ask.
func dispositionFormat(typ, name string) string {
	return typ + `; filename="` + pyQuote(name, " /") + `"; filename*=UTF-8''` + pyQuote(name, "/")
}

// pyQuote percent-encodes s except letters, digits, "_.-~" and safe, as
// Python's urllib quote.
func pyQuote(s, safe string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~", c) >= 0 || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}
