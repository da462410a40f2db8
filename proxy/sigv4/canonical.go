package sigv4

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// canonicalRequest returns
//
//	method \n path \n query \n headers ("name:value\n" each) \n signed-header-list \n payload-hash
func canonicalRequest(r *http.Request, a *auth) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, a.presigned))
	b.WriteByte('\n')
	for _, name := range a.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(a.payloadHash)
	return b.String()
}

// canonicalQuery decodes the raw query and encodes every name and value
// again with the SigV4 rules (only A-Z a-z 0-9 - _ . ~ left as they are),
// sorted by name then value. X-Amz-Signature is left out of a presigned
// request's query.
func canonicalQuery(raw string, presigned bool) string {
	type pair struct{ k, v string }
	var pairs []pair
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescape(k), unescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{uriEncode(k), uriEncode(v)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// unescape decodes a query component; one that is not valid
// percent-encoding is kept as sent.
func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// uriEncode percent-encodes every byte but the unreserved characters, with
// upper-case hex, as SigV4 requires.
func uriEncode(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}

// canonicalHeaderValue returns the values of a signed header joined by
// commas, each trimmed and with runs of spaces collapsed. Host comes from
// r.Host; Content-Length and Transfer-Encoding, which net/http may move out
// of r.Header, from their fields when the header is absent.
func canonicalHeaderValue(r *http.Request, name string) string {
	if name == "host" {
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return trimAll(host)
	}
	vals := r.Header.Values(name)
	if len(vals) == 0 {
		switch name {
		case "content-length":
			if r.ContentLength >= 0 {
				return strconv.FormatInt(r.ContentLength, 10)
			}
		case "transfer-encoding":
			return strings.Join(r.TransferEncoding, ",")
		}
		return ""
	}
	if len(vals) == 1 {
		return trimAll(vals[0])
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = trimAll(v)
	}
	return strings.Join(out, ",")
}

// trimAll trims s and collapses each inner run of spaces to one space.
func trimAll(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
