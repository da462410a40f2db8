package s3

import (
	"net/http"
	"strings"
	"time"
)

// conditions are the preconditions of a GET, HEAD or copy request.
type conditions struct {
	IfMatch, IfNoneMatch               string // raw header values, "" when absent
	IfModifiedSince, IfUnmodifiedSince time.Time
}

// readConditions reads the four conditional headers, with the prefix
// "X-Amz-Copy-Source-" for a copy source. Dates that do not parse are
// ignored, as S3 ignores them.
func readConditions(h http.Header, prefix string) conditions {
	c := conditions{
		IfMatch:     h.Get(prefix + "If-Match"),
		IfNoneMatch: h.Get(prefix + "If-None-Match"),
	}
	// An absent header is not parsed: ParseTime tries three layouts, each
	// failing with an allocated error.
	if v := h.Get(prefix + "If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil {
			c.IfModifiedSince = t
		}
	}
	if v := h.Get(prefix + "If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil {
			c.IfUnmodifiedSince = t
		}
	}
	return c
}

// conditionResult is the outcome of evaluating conditions.
type conditionResult int

const (
	condOK                 conditionResult = iota
	condPreconditionFailed                 // 412
	condNotModified                        // 304 (412 for a copy source)
)

// evaluate applies S3's precedence: If-Match, else If-Unmodified-Since,
// decides 412; then If-None-Match, else If-Modified-Since, decides 304.
// When If-Match holds, If-Unmodified-Since is not consulted; when
// If-None-Match is present, If-Modified-Since is not consulted.
func (c conditions) evaluate(etag string, modTime time.Time) conditionResult {
	mod := modTime.UTC().Truncate(time.Second)
	if c.IfMatch != "" {
		if !etagMatches(c.IfMatch, etag) {
			return condPreconditionFailed
		}
	} else if !c.IfUnmodifiedSince.IsZero() && mod.After(c.IfUnmodifiedSince) {
		return condPreconditionFailed
	}
	if c.IfNoneMatch != "" {
		if etagMatches(c.IfNoneMatch, etag) {
			return condNotModified
		}
	} else if !c.IfModifiedSince.IsZero() && !mod.After(c.IfModifiedSince) {
		return condNotModified
	}
	return condOK
}

// etagMatches reports whether the comma-separated list of entity tags in h
// names etag (given without quotes). "*" matches any entity tag; weak tags
// and missing quotes are tolerated.
func etagMatches(h, etag string) bool {
	for _, t := range strings.Split(h, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		if strings.Trim(t, `"`) == etag && etag != "" {
			return true
		}
	}
	return false
}
