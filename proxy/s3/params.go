package s3

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/objectd"
)

// copySource is the parsed x-amz-copy-source header.
type copySource struct {
	Bucket, Key, VersionID string
}

// parseCopySource parses x-amz-copy-source: "bucket/key" or "/bucket/key",
// URL-encoded, optionally followed by "?versionId=...", which is ignored:
// buckets are not versioned, the current object is the only version.
func parseCopySource(h string) (copySource, error) {
	raw, query, _ := strings.Cut(h, "?")
	var cs copySource
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return cs, ErrInvalidCopySource
		}
		cs.VersionID = q.Get("versionId")
	}
	p, err := url.PathUnescape(raw)
	if err != nil {
		return cs, ErrInvalidCopySource
	}
	p = strings.TrimPrefix(p, "/")
	b, k, ok := strings.Cut(p, "/")
	if !ok || b == "" || k == "" {
		return cs, ErrInvalidCopySource
	}
	if !validBucketName(b) {
		return cs, ErrInvalidBucketName
	}
	if err := checkKey(k); err != nil {
		return cs, err
	}
	cs.Bucket, cs.Key = b, k
	return cs, nil
}

// parseMaxKeys parses a max-keys style parameter: absent gives def; a
// negative or non-numeric value is an error; values above limit are clamped.
func parseMaxKeys(v string, present bool, def, limit int, bad *APIError) (int, error) {
	if !present {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > 2147483647 {
		return 0, bad
	}
	return int(min(n, int64(limit))), nil
}

// parseEncodingType accepts "" or "url" (case-insensitive).
func parseEncodingType(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "":
		return false, nil
	case "url":
		return true, nil
	}
	return false, ErrInvalidEncodingType
}

// listParams are the parameters of ListObjects v1 and v2.
type listParams struct {
	V2         bool
	Prefix     string
	Delimiter  string
	Marker     string // v1
	StartAfter string // v2
	Token      string // v2: raw continuation-token as given
	After      string // the key listing starts after
	MaxKeys    int
	EncodeURL  bool
	FetchOwner bool
}

// parseListParams reads the listing parameters from a query.
func parseListParams(q url.Values, v2 bool) (listParams, error) {
	p := listParams{V2: v2, Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter")}
	var err error
	_, present := q["max-keys"]
	if p.MaxKeys, err = parseMaxKeys(q.Get("max-keys"), present, objectd.DefaultMaxKeys, objectd.DefaultMaxKeys, ErrInvalidMaxKeys); err != nil {
		return p, err
	}
	if p.EncodeURL, err = parseEncodingType(q.Get("encoding-type")); err != nil {
		return p, err
	}
	if !v2 {
		p.Marker = q.Get("marker")
		p.After = p.Marker
		return p, nil
	}
	p.StartAfter = q.Get("start-after")
	p.After = p.StartAfter
	p.FetchOwner = strings.EqualFold(q.Get("fetch-owner"), "true")
	if _, ok := q["continuation-token"]; ok {
		p.Token = q.Get("continuation-token")
		after, err := decodeToken(p.Token)
		if err != nil {
			return p, err
		}
		p.After = after
	}
	return p, nil
}

// encodeToken makes the opaque continuation token for a key.
func encodeToken(key string) string { return base64.StdEncoding.EncodeToString([]byte(key)) }

// decodeToken reverses encodeToken.
func decodeToken(tok string) (string, error) {
	if tok == "" {
		return "", ErrInvalidContinuationToken
	}
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return "", ErrInvalidContinuationToken
	}
	return string(b), nil
}

// parsePartNumber parses a partNumber parameter: an integer from 1 to 10000.
func parsePartNumber(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > objectd.MaxPartNumber {
		return 0, ErrInvalidPartNumberArg
	}
	return n, nil
}

// s3URLEncode encodes a key or prefix for encoding-type=url responses the
// way S3 does: everything but letters, digits and "-_.*/" is percent-encoded,
// and a space becomes "+".
func s3URLEncode(s string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '*', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
