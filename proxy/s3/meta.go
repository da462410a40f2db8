package s3

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/objectd"
)

const defaultContentType = "binary/octet-stream"

// storedHeaders are the standard headers kept with an object.
var storedHeaders = [...]string{"Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires"}

// internalChecksumType is the key under which a multipart upload records
// the checksum type it was created with; it is never sent back as a header.
const internalChecksumType = "X-Amz-Checksum-Type"

// readObjectMeta reads the content headers and x-amz-meta-* headers of a
// PUT, copy with REPLACE, or CreateMultipartUpload.
func readObjectMeta(h http.Header) (objectd.PutOptions, error) {
	if sc := h.Get("X-Amz-Storage-Class"); sc != "" && !storageClasses[sc] {
		return objectd.PutOptions{}, ErrInvalidStorageClass
	}
	opts := objectd.PutOptions{ContentType: h.Get("Content-Type")}
	if opts.ContentType == "" {
		opts.ContentType = defaultContentType
	}
	for _, name := range storedHeaders {
		v := h.Get(name)
		if name == "Content-Encoding" {
			v = stripAWSChunked(v)
		}
		if v == "" {
			continue
		}
		if opts.Headers == nil {
			opts.Headers = map[string]string{}
		}
		opts.Headers[name] = v
	}
	size := 0
	for name, vs := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, "x-amz-meta-") {
			continue
		}
		k := lower[len("x-amz-meta-"):]
		v := strings.Join(vs, ",")
		size += len(k) + len(v)
		if opts.UserMeta == nil {
			opts.UserMeta = map[string]string{}
		}
		opts.UserMeta[k] = v
	}
	if size > objectd.MaxUserMetaBytes {
		return opts, ErrMetadataTooLarge
	}
	return opts, nil
}

// stripAWSChunked removes the "aws-chunked" coding from a Content-Encoding
// list: it describes the transfer, not the stored object.
func stripAWSChunked(v string) string {
	if v == "" {
		return ""
	}
	var keep []string
	for _, c := range strings.Split(v, ",") {
		c = strings.TrimSpace(c)
		if c == "" || strings.EqualFold(c, "aws-chunked") {
			continue
		}
		keep = append(keep, c)
	}
	return strings.Join(keep, ",")
}

// setObjectHeaders writes the headers describing an object on a GET or
// HEAD response (everything but Content-Length and Content-Range).
func setObjectHeaders(h http.Header, info objectd.ObjectInfo) {
	ct := info.ContentType
	if ct == "" {
		ct = defaultContentType
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", quote(clientETag(info)))
	h.Set("Last-Modified", info.ModTime.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	for name, v := range info.Headers {
		if k := http.CanonicalHeaderKey(name); k == internalChecksumType || k == taggingHeader || aclHeader(k) || isSSEHeader(k) {
			continue
		}
		h.Set(name, v)
	}
	setTagCount(h, info)
	keys := make([]string, 0, len(info.UserMeta))
	for k := range info.UserMeta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// S3 sends user metadata names in lower case, as they were
		// stored; clients such as boto3 hand the names on verbatim.
		h["x-amz-meta-"+k] = []string{info.UserMeta[k]}
	}
	if len(info.Parts) > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(len(info.Parts)))
	}
}

// responseOverrides are the query parameters of a GET that replace response
// headers, and the header each one sets.
var responseOverrides = [...][2]string{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

// applyResponseOverrides sets the headers named by response-* parameters.
func applyResponseOverrides(h http.Header, q url.Values) {
	for _, o := range responseOverrides {
		if v := q.Get(o[0]); v != "" {
			h.Set(o[1], v)
		}
	}
}

// optionsFromInfo turns an object's stored settings back into PutOptions,
// for a copy that keeps the source metadata.
func optionsFromInfo(info objectd.ObjectInfo) objectd.PutOptions {
	opts := objectd.PutOptions{ContentType: info.ContentType}
	if len(info.Headers) > 0 {
		opts.Headers = make(map[string]string, len(info.Headers))
		for k, v := range info.Headers {
			if http.CanonicalHeaderKey(k) == internalChecksumType || isSSEHeader(k) {
				continue
			}
			opts.Headers[k] = v
		}
	}
	if len(info.UserMeta) > 0 {
		opts.UserMeta = make(map[string]string, len(info.UserMeta))
		for k, v := range info.UserMeta {
			opts.UserMeta[k] = v
		}
	}
	return opts
}

// storageClasses are the names S3 accepts in x-amz-storage-class. Basalt
// keeps every object the same way (erasure coded, online), so all of them
// are stored as STANDARD; an unknown name is refused as S3 refuses it.
var storageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "OUTPOSTS": true,
	"GLACIER_IR": true, "SNOW": true, "EXPRESS_ONEZONE": true,
}
