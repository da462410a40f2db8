package swift

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// byteRange is an inclusive range of bytes [first, last].
type byteRange struct{ first, last int64 }

func (r byteRange) length() int64 { return r.last - r.first + 1 }

// maxRanges is how many ranges one request may ask for; more and the
// Range header is ignored, as Swift does.
const maxRanges = 50

// rangeSpec is one parsed range: first-last, first-, or -suffix.
type rangeSpec struct {
	first, last int64 // -1 when absent
}

// parseRangeHeader parses "bytes=a-b,c-,-n". ok is false for a header
// that is absent or malformed: it is then ignored.
func parseRangeHeader(v string) ([]rangeSpec, bool) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok {
		return nil, false
	}
	var out []rangeSpec
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		a, b, ok := strings.Cut(part, "-")
		if !ok {
			return nil, false
		}
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		rs := rangeSpec{first: -1, last: -1}
		if a != "" {
			n, err := strconv.ParseInt(a, 10, 64)
			if err != nil || n < 0 {
				return nil, false
			}
			rs.first = n
		}
		if b != "" {
			n, err := strconv.ParseInt(b, 10, 64)
			if err != nil || n < 0 {
				return nil, false
			}
			rs.last = n
		}
		if rs.first < 0 && rs.last < 0 || rs.first >= 0 && rs.last >= 0 && rs.last < rs.first {
			return nil, false
		}
		out = append(out, rs)
	}
	if len(out) == 0 || len(out) > maxRanges {
		return nil, false
	}
	return out, true
}

// forLength resolves the ranges against an object of size bytes; ranges
// that start past the end are dropped, and none left means 416.
func forLength(specs []rangeSpec, size int64) []byteRange {
	var out []byteRange
	for _, rs := range specs {
		switch {
		case rs.first < 0: // suffix
			if rs.last == 0 || size == 0 {
				continue
			}
			out = append(out, byteRange{max(0, size-rs.last), size - 1})
		case rs.first >= size:
			continue
		case rs.last < 0 || rs.last >= size:
			out = append(out, byteRange{rs.first, size - 1})
		default:
			out = append(out, byteRange{rs.first, rs.last})
		}
	}
	return out
}

// etagMatches reports whether an If-Match / If-None-Match list names
// etag (or is "*").
func etagMatches(list, etag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || (v != "" && trimETag(v) == etag) {
			return true
		}
	}
	return false
}

// checkConditions applies If-Match, If-Unmodified-Since, If-None-Match
// and If-Modified-Since (RFC 7232, section 6) to an object's ETag and
// Last-Modified; it returns 0 or the status to answer (304 or 412).
func checkConditions(r *http.Request, etag string, modified time.Time) int {
	h := r.Header
	if v := h.Get("If-Match"); v != "" {
		if !etagMatches(v, etag) {
			return http.StatusPreconditionFailed
		}
	} else if v := h.Get("If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && modified.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	if v := h.Get("If-None-Match"); v != "" {
		if etagMatches(v, etag) {
			if get {
				return http.StatusNotModified
			}
			return http.StatusPreconditionFailed
		}
	} else if v := h.Get("If-Modified-Since"); v != "" && get {
		if t, err := http.ParseTime(v); err == nil && !modified.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}
