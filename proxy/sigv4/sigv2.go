package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signature Version 2: "Authorization: AWS AKID:signature", or the query
// parameters AWSAccessKeyId, Expires and Signature. See doc.go for the
// string to sign.

// v2Scheme is the Authorization scheme of Signature Version 2.
const v2Scheme = "AWS"

// v2auth is what a Signature Version 2 request says about itself.
type v2auth struct {
	presigned bool
	accessKey string
	signature string    // base64, as sent
	dates     []string  // the Date lines a client may have signed
	time      time.Time // request time; expiry when presigned
}

// Sub-resources signed in the CanonicalizedResource. Clients disagree on
// the list beyond the one AWS documents, and a client leaves out what is not
// on its own list; a request verifies if it matches either.
var (
	// minio-go (pkg/signer), also the MinIO server's list.
	subresourcesMinio = setOf("acl", "cors", "delete", "encryption", "legal-hold", "lifecycle",
		"location", "logging", "notification", "partNumber", "policy", "replication",
		"requestPayment", "response-cache-control", "response-content-disposition",
		"response-content-encoding", "response-content-language", "response-content-type",
		"response-expires", "retention", "select", "select-type", "tagging", "torrent",
		"uploadId", "uploads", "versionId", "versioning", "versions", "website")
	// AWS's documented list, as botocore (boto3, the aws CLI) extends it.
	subresourcesAWS = setOf("accelerate", "acl", "analytics", "cors", "defaultObjectAcl",
		"delete", "inventory", "lifecycle", "location", "logging", "metrics", "notification",
		"object-lock", "partNumber", "policy", "replication", "requestPayment",
		"response-cache-control", "response-content-disposition", "response-content-encoding",
		"response-content-language", "response-content-type", "response-expires", "restore",
		"select", "select-type", "storageClass", "tagging", "torrent", "uploadId", "uploads",
		"versionId", "versioning", "versions", "website")
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// parseV2Header reads the part of an Authorization header after "AWS ":
// "AccessKeyId:Signature", and the request time from x-amz-date or Date.
func parseV2Header(r *http.Request, cred string) (*v2auth, error) {
	cred = strings.TrimSpace(cred)
	i := strings.LastIndexByte(cred, ':')
	if i <= 0 || i == len(cred)-1 || strings.ContainsAny(cred, " \t") {
		return nil, ErrInvalidV2Authorization
	}
	a := &v2auth{accessKey: cred[:i], signature: cred[i+1:]}

	// With x-amz-date the Date line is empty (AWS; boto, s3cmd) or, as
	// minio-go signs, the Date header; x-amz-date is signed among the
	// x-amz-* headers either way and is the time that counts.
	date := r.Header.Get("Date")
	stamp := date
	a.dates = []string{date}
	if amz := r.Header.Get("X-Amz-Date"); amz != "" {
		stamp = amz
		a.dates = []string{""}
		if date != "" {
			a.dates = append(a.dates, date)
		}
	}
	t, ok := parseV2Time(stamp)
	if !ok {
		return nil, ErrMissingDate
	}
	a.time = t
	return a, nil
}

// parseV2Time reads an HTTP date in the forms clients send: RFC 1123 with
// "GMT" or a numeric zone ("+0000", as the AWS examples and s3cmd write
// it), RFC 850, asctime, and ISO 8601 basic as in SigV4.
func parseV2Time(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{http.TimeFormat, time.RFC1123Z, time.RFC850, time.ANSIC, iso8601} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseV2Query reads query authentication: AWSAccessKeyId, Signature and
// Expires (seconds since the epoch), each exactly once.
func parseV2Query(q url.Values) (*v2auth, error) {
	var vals [3]string
	for i, name := range []string{"AWSAccessKeyId", "Signature", "Expires"} {
		switch vs := q[name]; {
		case len(vs) == 0 || vs[0] == "":
			return nil, ErrV2QueryParams
		case len(vs) > 1:
			return nil, ErrV2QueryParams.with("Query-string authentication parameter " + name + " is repeated.")
		default:
			vals[i] = vs[0]
		}
	}
	ak, sig, expires := vals[0], vals[1], vals[2]
	secs, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || secs < 0 {
		return nil, ErrV2QueryParams.with("Invalid date (should be seconds since epoch): " + expires)
	}
	// Base64 has no spaces: a space is a "+" sent without percent-encoding.
	sig = strings.ReplaceAll(sig, " ", "+")
	return &v2auth{presigned: true, accessKey: ak, signature: sig, dates: []string{expires}, time: time.Unix(secs, 0).UTC()}, nil
}

// verifyV2 authenticates a Signature Version 2 request. Its body is passed
// through as is: Version 2 signs no payload.
func (v *Verifier) verifyV2(r *http.Request, a *v2auth) (*Result, error) {
	secret, ok := v.secret(a.accessKey)
	if !ok {
		return nil, ErrInvalidAccessKeyID
	}
	now := v.now()
	if a.presigned {
		if now.After(a.time) {
			return nil, ErrExpiredPresign
		}
	} else if d := now.Sub(a.time); d > v.skew() || d < -v.skew() {
		return nil, ErrRequestTimeTooSkewed
	}

	// Every (Date line, resource) a client may have signed is tried, in
	// constant time each, and all of them whatever the outcome.
	head := r.Method + "\n" + r.Header.Get("Content-Md5") + "\n" + r.Header.Get("Content-Type") + "\n"
	amz := canonicalAmzHeaders(r.Header)
	resources := v.canonicalResources(r)
	mac := hmac.New(sha1.New, []byte(secret))
	given := []byte(a.signature)
	match := 0
	for _, date := range a.dates {
		for _, res := range resources {
			mac.Reset()
			io.WriteString(mac, head)
			io.WriteString(mac, date)
			io.WriteString(mac, "\n")
			io.WriteString(mac, amz)
			io.WriteString(mac, res)
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
			match |= subtle.ConstantTimeCompare([]byte(want), given)
		}
	}
	if match != 1 {
		return nil, ErrSignatureDoesNotMatch
	}

	res := &Result{AccessKey: a.accessKey, Trailer: noTrailer}
	if err := buildBody(res, r, modeUnsigned, "", nil); err != nil {
		return nil, err
	}
	return res, nil
}

// canonicalAmzHeaders returns the x-amz-* headers as "name:value\n" lines:
// names in lower case and sorted, the values of a repeated header joined by
// commas, each value unfolded and trimmed (inner spaces are kept).
func canonicalAmzHeaders(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		if len(k) > len("x-amz-") && strings.EqualFold(k[:len("x-amz-")], "x-amz-") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	var names []string
	vals := make(map[string][]string, len(keys))
	for _, k := range keys {
		lk := strings.ToLower(k)
		if _, seen := vals[lk]; !seen {
			names = append(names, lk)
		}
		vals[lk] = append(vals[lk], h[k]...)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		for i, val := range vals[n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(unfold(val))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// unfold replaces each line break of a folded header value, with the
// spaces and tabs around it, by one space, and trims the value.
func unfold(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return strings.Trim(s, " \t")
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\r' && c != '\n' {
			b.WriteByte(c)
			continue
		}
		out := strings.TrimRight(b.String(), " \t")
		b.Reset()
		b.WriteString(out)
		b.WriteByte(' ')
		for i+1 < len(s) && strings.IndexByte("\r\n \t", s[i+1]) >= 0 {
			i++
		}
	}
	return strings.Trim(b.String(), " \t")
}

// canonicalResources returns the CanonicalizedResource of r, once for each
// sub-resource list that gives a different one: "/bucket" when the Host
// names it, the path as sent, then "?" and the sub-resources present,
// sorted by name, each with its decoded value when it has one.
func (v *Verifier) canonicalResources(r *http.Request) []string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if b := v.hostBucket(host); b != "" {
		path = "/" + b + path
	}

	// The first value of each sub-resource, as sent.
	var found map[string]string
	for raw := r.URL.RawQuery; raw != ""; {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, val, _ := strings.Cut(part, "=")
		k = unescape(k)
		if !subresourcesMinio[k] && !subresourcesAWS[k] {
			continue
		}
		if found == nil {
			found = make(map[string]string)
		}
		if _, dup := found[k]; !dup {
			found[k] = unescape(val)
		}
	}
	a := path + subresourceQuery(found, subresourcesMinio)
	b := path + subresourceQuery(found, subresourcesAWS)
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// subresourceQuery returns "?name[=value]&..." for the sub-resources of
// found that are in list, sorted by name; "" when there are none.
func subresourceQuery(found map[string]string, list map[string]bool) string {
	var names []string
	for k := range found {
		if list[k] {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if val := found[k]; val != "" {
			b.WriteByte('=')
			b.WriteString(val)
		}
	}
	return b.String()
}

// hostBucket returns the bucket a virtual-host-style Host names ("b" for
// "b.example.com:8080" with domain "example.com"), as it is written in the
// Host, or "" for path-style addressing. Domains match without regard to
// case, as the S3 layer matches them.
func (v *Verifier) hostBucket(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(host, ".")
	for _, d := range v.Domains {
		d = strings.TrimSuffix(d, ".")
		n := len(host) - len(d) - 1
		if d != "" && n > 0 && host[n] == '.' && strings.EqualFold(host[n+1:], d) {
			return host[:n]
		}
	}
	return ""
}
