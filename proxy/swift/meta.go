package swift

import (
	"fmt"
	"math"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
)

// Names of the Swift-only system metadata kept in an object's
// objectd Headers.
const (
	hdrDeleteAt = "X-Delete-At"
	hdrManifest = "X-Object-Manifest"
	hdrSLO      = "X-Static-Large-Object"
	hdrSLOEtag  = "X-Object-Sysmeta-Slo-Etag"
	hdrSLOSize  = "X-Object-Sysmeta-Slo-Size"
)

// contentHeaders are the standard headers stored with an object (the
// same set S3 keeps).
var contentHeaders = []string{"Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires"}

// checkMeta checks user metadata (names without their prefix) against
// the limits: name and value lengths, count, and total size.
func checkMeta(prefix string, meta map[string]string) error {
	size := 0
	for k, v := range meta {
		if k == "" {
			return failf(errBadRequest, "Metadata name cannot be empty")
		}
		if len(k) > MaxMetaNameLength {
			return failf(errBadRequest, "Metadata name too long: %s%s", prefix, k)
		}
		if len(v) > MaxMetaValueLength {
			return failf(errBadRequest, "Metadata value longer than %d: %s%s", MaxMetaValueLength, prefix, k)
		}
		size += len(k) + len(v)
	}
	if len(meta) > MaxMetaCount {
		return failf(errBadRequest, "Too many metadata items; max %d", MaxMetaCount)
	}
	if size > MaxMetaOverallSize {
		return failf(errBadRequest, "Total metadata too large; max %d", MaxMetaOverallSize)
	}
	return nil
}

// metaUpdate reads the changes a PUT or POST makes to the metadata of an
// account or container (kind "account" or "container"):
// X-<Kind>-Meta-Foo sets "x-<kind>-meta-foo" (an empty value removes
// it), X-Remove-<Kind>-Meta-Foo removes it. For containers the ACLs
// X-Container-Read and X-Container-Write are checked and set the same
// way. The result, applied to current, must stay within the limits.
func metaUpdate(h http.Header, kind string, current map[string]string) (set map[string]string, remove []string, err error) {
	prefix := "x-" + kind + "-meta-"
	rmPrefix := "x-remove-" + kind + "-meta-"
	set = map[string]string{}
	for name, vs := range h {
		lower := strings.ToLower(name)
		value := strings.TrimSpace(strings.Join(vs, ","))
		switch {
		case strings.HasPrefix(lower, prefix):
			if value == "" {
				remove = append(remove, lower)
			} else {
				set[lower] = value
			}
		case strings.HasPrefix(lower, rmPrefix):
			remove = append(remove, prefix+lower[len(rmPrefix):])
		case kind == "container" && (lower == "x-container-read" || lower == "x-container-write"):
			clean, err := cleanACL(lower == "x-container-write", value)
			if err != nil {
				return nil, nil, err
			}
			if clean == "" {
				remove = append(remove, lower)
			} else {
				set[lower] = clean
			}
		case kind == "container" && (lower == "x-remove-container-read" || lower == "x-remove-container-write"):
			remove = append(remove, "x-container-"+lower[len("x-remove-container-"):])
		}
	}
	for _, k := range remove {
		delete(set, k)
	}
	after := map[string]string{}
	for k, v := range current {
		if strings.HasPrefix(k, prefix) {
			after[k[len(prefix):]] = v
		}
	}
	for _, k := range remove {
		delete(after, strings.TrimPrefix(k, prefix))
	}
	for k, v := range set {
		if strings.HasPrefix(k, prefix) {
			after[k[len(prefix):]] = v
		}
	}
	if err := checkMeta("X-"+strings.ToUpper(kind[:1])+kind[1:]+"-Meta-", after); err != nil {
		return nil, nil, err
	}
	sort.Strings(remove)
	return set, remove, nil
}

// writeMetaHeaders sends stored account or container metadata as
// headers; private entries (TempURL keys, ACLs) only to owners.
func writeMetaHeaders(h http.Header, meta map[string]string, owner bool) {
	for k, v := range meta {
		if !owner && (strings.Contains(k, "-meta-temp-url-key") || k == "x-container-read" || k == "x-container-write") {
			continue
		}
		h.Set(k, v)
	}
}

// objectUserMeta reads X-Object-Meta-* (names lowercased, without the
// prefix; empty values are dropped, as Swift does).
func objectUserMeta(h http.Header) (map[string]string, error) {
	meta := map[string]string{}
	for name, vs := range h {
		k, ok := strings.CutPrefix(strings.ToLower(name), "x-object-meta-")
		if !ok {
			continue
		}
		v := strings.TrimSpace(strings.Join(vs, ","))
		if v == "" {
			continue
		}
		meta[k] = v
	}
	if err := checkMeta("X-Object-Meta-", meta); err != nil {
		return nil, err
	}
	if len(meta) == 0 {
		return nil, nil
	}
	return meta, nil
}

// contentType is the Content-Type of a new object: the request's, or,
// when absent (or with X-Detect-Content-Type: true), guessed from the
// name's extension, else application/octet-stream.
func contentType(h http.Header, name string) string {
	ct := h.Get("Content-Type")
	if ct != "" && !strings.EqualFold(h.Get("X-Detect-Content-Type"), "true") {
		return ct
	}
	if g := mime.TypeByExtension(path.Ext(name)); g != "" {
		if t, _, err := mime.ParseMediaType(g); err == nil {
			return t
		}
	}
	return "application/octet-stream"
}

// deleteAt reads X-Delete-At or X-Delete-After into the unix time the
// object expires (0 for none).
func deleteAt(h http.Header, now time.Time) (int64, error) {
	at := int64(0)
	if v := h.Get("X-Delete-After"); v != "" {
		after, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, failf(errBadRequest, "Non-integer X-Delete-After")
		}
		if after < 0 {
			return 0, failf(errBadRequest, "X-Delete-After in past")
		}
		at = int64(math.Floor(float64(now.UnixNano())/1e9)) + after
	} else if v := h.Get(hdrDeleteAt); v != "" {
		t, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
			return 0, failf(errBadRequest, "Non-integer X-Delete-At")
		}
		at = int64(min(max(t, 0), 9999999999))
	} else {
		return 0, nil
	}
	if !now.Before(time.Unix(at, 0)) {
		return 0, failf(errBadRequest, "X-Delete-At in past")
	}
	return at, nil
}

// expired reports whether an object is past its X-Delete-At.
func (s *Server) expired(oi objectd.ObjectInfo) bool {
	v := oi.Headers[hdrDeleteAt]
	if v == "" {
		return false
	}
	at, err := strconv.ParseInt(v, 10, 64)
	return err == nil && !s.now().Before(time.Unix(at, 0))
}

// swiftTimestamp is Swift's X-Timestamp form of t: seconds with five
// decimals, zero-padded to 16 characters.
func swiftTimestamp(t time.Time) string {
	return fmt.Sprintf("%016.05f", float64(t.UnixNano())/1e9)
}

// lastModified is the Last-Modified of t: Swift rounds up to the second.
func lastModified(t time.Time) time.Time {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return time.Unix(s, 0).UTC()
}

// listingTime is the last_modified of listings: microseconds, no zone.
func listingTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000")
}

// trimETag removes the quotes (and a weak marker) of an ETag.
func trimETag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(e, "W/")
	return strings.Trim(e, `"`)
}
