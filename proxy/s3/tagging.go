package s3

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
)

// Tagging: an object's tags live in its Headers under taggingHeader, in
// the URL query form of the x-amz-tagging request header ("k1=v1&k2=v2",
// keys and values query-escaped, in the order given); they are never sent
// back as that header, only counted in x-amz-tagging-count. A bucket's
// tags are its "tagging" setting in the catalog. This file also holds the
// bucket-setting helpers CORS and lifecycle share.

// Names of the operations this file and its neighbours (cors.go,
// lifecycle.go) add.
const (
	apiPutObjectTagging      = "PutObjectTagging"
	apiPutBucketTagging      = "PutBucketTagging"
	apiDeleteBucketTagging   = "DeleteBucketTagging"
	apiPutBucketCors         = "PutBucketCors"
	apiDeleteBucketCors      = "DeleteBucketCors"
	apiPutBucketLifecycle    = "PutBucketLifecycleConfiguration"
	apiDeleteBucketLifecycle = "DeleteBucketLifecycle"
	apiPreflight             = "PreflightRequest"
)

const (
	// taggingHeader is the key of an object's tags in ObjectInfo.Headers.
	taggingHeader = "X-Amz-Tagging"
	maxObjectTags = 10
	maxBucketTags = 50
	maxTagKey     = 128 // characters
	maxTagValue   = 256 // characters
	// Names of the bucket settings in the catalog.
	settingTagging   = "tagging"
	settingCORS      = "cors"
	settingLifecycle = "lifecycle"
)

// tagChars are the characters S3 allows in tag keys and values: letters,
// numbers, white space and + - = . _ : / @.
var tagChars = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// tag is one key-value pair, in XML and in the catalog.
type tag struct {
	Key   string `xml:"Key" json:"k"`
	Value string `xml:"Value" json:"v"`
}

type tagSet struct {
	Tags []tag `xml:"Tag"`
}

// taggingDoc is the Tagging document of the tagging APIs and of a POST
// upload's "tagging" field.
type taggingDoc struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  *tagSet  `xml:"TagSet"`
}

// taggingShape is the element structure of a Tagging document.
var taggingShape = xmlShape{
	"Tagging":            {"TagSet": false},
	"Tagging/TagSet":     {"Tag": true},
	"Tagging/TagSet/Tag": {"Key": false, "Value": false},
}

// dispatchConfig runs the tagging, CORS and lifecycle operations; it
// reports false for any other operation.
func (q *request) dispatchConfig() (bool, error) {
	switch q.target.API {
	case apiGetObjectTagging:
		return true, q.getObjectTagging()
	case apiPutObjectTagging:
		return true, q.putObjectTagging()
	case apiDeleteObjectTagging:
		return true, q.deleteObjectTagging()
	case apiGetBucketTagging:
		return true, q.getBucketTagging()
	case apiPutBucketTagging:
		return true, q.putBucketTagging()
	case apiDeleteBucketTagging:
		return true, q.deleteBucketSetting(settingTagging)
	case apiGetBucketCors:
		return true, q.getBucketCors()
	case apiPutBucketCors:
		return true, q.putBucketCors()
	case apiDeleteBucketCors:
		return true, q.deleteBucketSetting(settingCORS)
	case apiGetBucketLifecycle:
		return true, q.getBucketLifecycle()
	case apiPutBucketLifecycle:
		return true, q.putBucketLifecycle()
	case apiDeleteBucketLifecycle:
		return true, q.deleteBucketSetting(settingLifecycle)
	}
	return false, nil
}

// configAPI names the PUT or DELETE of a bucket's tagging, cors or
// lifecycle subresource ("" for anything else), for route.
func configAPI(method, sub string) string {
	switch method {
	case http.MethodPut:
		switch sub {
		case "tagging":
			return apiPutBucketTagging
		case "cors":
			return apiPutBucketCors
		case "lifecycle":
			return apiPutBucketLifecycle
		}
	case http.MethodDelete:
		switch sub {
		case "tagging":
			return apiDeleteBucketTagging
		case "cors":
			return apiDeleteBucketCors
		case "lifecycle":
			return apiDeleteBucketLifecycle
		}
	}
	return ""
}

// checkTags applies S3's limits to a tag set: at most max tags (else
// tooMany), keys of 1 to 128 and values of up to 256 characters from the
// allowed set, no key starting with "aws:", no key twice.
func checkTags(tags []tag, max int, tooMany *APIError) error {
	if len(tags) > max {
		return tooMany
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if err := checkTag(t); err != nil {
			return err
		}
		if seen[t.Key] {
			return ErrDuplicateTagKey
		}
		seen[t.Key] = true
	}
	return nil
}

// checkTag checks one tag's key and value.
func checkTag(t tag) error {
	n := utf8.RuneCountInString(t.Key)
	if n == 0 || n > maxTagKey || !utf8.ValidString(t.Key) || !tagChars.MatchString(t.Key) {
		return ErrInvalidTagKey
	}
	if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
		return ErrReservedTagKey
	}
	if utf8.RuneCountInString(t.Value) > maxTagValue || !utf8.ValidString(t.Value) || !tagChars.MatchString(t.Value) {
		return ErrInvalidTagValue
	}
	return nil
}

// parseTagging decodes a Tagging document and checks its tags.
func parseTagging(data []byte, max int, tooMany *APIError) ([]tag, error) {
	if !checkShape(data, "Tagging", taggingShape) {
		return nil, ErrMalformedXML
	}
	var doc taggingDoc
	if err := xml.Unmarshal(data, &doc); err != nil || doc.TagSet == nil {
		return nil, ErrMalformedXML
	}
	if err := checkTags(doc.TagSet.Tags, max, tooMany); err != nil {
		return nil, err
	}
	return doc.TagSet.Tags, nil
}

// readTagging reads and checks the Tagging document of a request body.
func (q *request) readTagging(max int, tooMany *APIError) ([]tag, error) {
	if err := q.requireBodyChecksum(); err != nil {
		return nil, err
	}
	data, err := q.readSmallBody(maxSmallXMLBody)
	if err != nil {
		return nil, err
	}
	return parseTagging(data, max, tooMany)
}

// requireBodyChecksum refuses a configuration upload that carries neither
// Content-MD5 nor an additional checksum, as S3 does.
func (q *request) requireBodyChecksum() error {
	if _, ok := q.r.Header["Content-Md5"]; ok {
		return nil
	}
	want, err := readBodyChecksum(q.r.Header)
	if err != nil {
		return err
	}
	if want == nil {
		return ErrMissingContentMD5
	}
	return nil
}

// encodeTags writes tags in the URL query form kept with an object.
func encodeTags(tags []tag) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(t.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(t.Value))
	}
	return b.String()
}

// decodeTags reads the URL query form of an x-amz-tagging header (or of
// an object's stored tags), keeping the order; a malformed escape or a
// key given twice is ErrInvalidTaggingHeader.
func decodeTags(s string) ([]tag, error) {
	var tags []tag
	seen := map[string]bool{}
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, ErrInvalidTaggingHeader
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, ErrInvalidTaggingHeader
		}
		if seen[key] {
			return nil, ErrInvalidTaggingHeader
		}
		seen[key] = true
		tags = append(tags, tag{Key: key, Value: value})
	}
	return tags, nil
}

// headerValue looks a stored header up by name, whatever its case.
func headerValue(h map[string]string, name string) (string, bool) {
	if v, ok := h[name]; ok {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// setStoredTags sets (or, for no tags, removes) the tags in an object's
// stored headers, which may be nil.
func setStoredTags(h map[string]string, tags []tag) map[string]string {
	for k := range h {
		if strings.EqualFold(k, taggingHeader) {
			delete(h, k)
		}
	}
	if len(tags) == 0 {
		return h
	}
	if h == nil {
		h = map[string]string{}
	}
	h[taggingHeader] = encodeTags(tags)
	return h
}

// objectTags are the tags stored with an object.
func objectTags(info objectd.ObjectInfo) []tag {
	v, ok := headerValue(info.Headers, taggingHeader)
	if !ok {
		return nil
	}
	tags, _ := decodeTags(v)
	return tags
}

// setTagCount writes x-amz-tagging-count on a GET or HEAD response when
// the object has tags.
func setTagCount(h http.Header, info objectd.ObjectInfo) {
	if n := len(objectTags(info)); n > 0 {
		h.Set("X-Amz-Tagging-Count", strconv.Itoa(n))
	}
}

// headerTags reads and checks the x-amz-tagging header of a write; ok is
// false when the header is absent.
func headerTags(h http.Header) ([]tag, bool, error) {
	vs, ok := h["X-Amz-Tagging"]
	if !ok {
		return nil, false, nil
	}
	tags, err := decodeTags(strings.Join(vs, "&"))
	if err != nil {
		return nil, true, err
	}
	if err := checkTags(tags, maxObjectTags, ErrTooManyObjectTags); err != nil {
		return nil, true, err
	}
	return tags, true, nil
}

// putTagging applies the x-amz-tagging header of a PutObject or
// CreateMultipartUpload to the object's options (a multipart upload keeps
// them until it completes).
func putTagging(h http.Header, opts *objectd.PutOptions) error {
	tags, ok, err := headerTags(h)
	if err != nil || !ok {
		return err
	}
	opts.Headers = setStoredTags(opts.Headers, tags)
	return nil
}

// copyTagging applies x-amz-tagging-directive to a copy: COPY (the
// default) keeps the source's tags, REPLACE takes those of x-amz-tagging
// (none when it is absent).
func copyTagging(h http.Header, src objectd.ObjectInfo, opts *objectd.PutOptions) error {
	switch strings.ToUpper(strings.TrimSpace(h.Get("X-Amz-Tagging-Directive"))) {
	case "", "COPY":
		opts.Headers = setStoredTags(opts.Headers, objectTags(src))
	case "REPLACE":
		tags, _, err := headerTags(h)
		if err != nil {
			return err
		}
		opts.Headers = setStoredTags(opts.Headers, tags)
	default:
		return ErrInvalidTaggingDirective
	}
	return nil
}

// formTagging applies a POST upload's "tagging" field, a Tagging
// document, to the object's options.
func formTagging(form *postForm, opts *objectd.PutOptions) error {
	if !form.has("tagging") {
		return nil
	}
	tags, err := parseTagging([]byte(form.get("tagging")), maxObjectTags, ErrTooManyObjectTags)
	if err != nil {
		return err
	}
	opts.Headers = setStoredTags(opts.Headers, tags)
	return nil
}

// writeTagging answers with a Tagging document.
func (q *request) writeTagging(tags []tag) {
	q.writeXML(http.StatusOK, taggingDoc{Xmlns: s3Namespace, TagSet: &tagSet{Tags: tags}})
}

func (q *request) getObjectTagging() error {
	info, err := q.s.store.HeadObject(q.ctx, q.target.Bucket, q.target.Key)
	if err != nil {
		return err
	}
	q.writeTagging(objectTags(info))
	return nil
}

func (q *request) putObjectTagging() error {
	tags, err := q.readTagging(maxObjectTags, ErrTooManyObjectTags)
	if err != nil {
		return err
	}
	_, err = q.s.store.UpdateObject(q.ctx, q.target.Bucket, q.target.Key, func(oi *objectd.ObjectInfo) error {
		oi.Headers = setStoredTags(oi.Headers, tags)
		return nil
	})
	if err != nil {
		return err
	}
	q.writeEmpty(http.StatusOK)
	return nil
}

func (q *request) deleteObjectTagging() error {
	info, err := q.s.store.HeadObject(q.ctx, q.target.Bucket, q.target.Key)
	if err != nil {
		return err
	}
	if _, ok := headerValue(info.Headers, taggingHeader); ok {
		_, err = q.s.store.UpdateObject(q.ctx, q.target.Bucket, q.target.Key, func(oi *objectd.ObjectInfo) error {
			oi.Headers = setStoredTags(oi.Headers, nil)
			return nil
		})
		if err != nil {
			return err
		}
	}
	q.writeEmpty(http.StatusNoContent)
	return nil
}

func (q *request) getBucketTagging() error {
	var tags []tag
	ok, err := q.setting(settingTagging, &tags)
	if err != nil {
		return err
	}
	if !ok || len(tags) == 0 {
		return ErrNoSuchTagSet
	}
	q.writeTagging(tags)
	return nil
}

func (q *request) putBucketTagging() error {
	if err := q.canStoreSettings(); err != nil {
		return err
	}
	tags, err := q.readTagging(maxBucketTags, ErrTooManyBucketTags)
	if err != nil {
		return err
	}
	if len(tags) == 0 {
		return q.storeSetting(settingTagging, nil, http.StatusNoContent)
	}
	return q.storeSetting(settingTagging, tags, http.StatusNoContent)
}

// canStoreSettings checks, before a configuration is read, that the
// bucket exists and that there is a catalog to keep its settings.
func (q *request) canStoreSettings() error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	if q.s.catalog == nil {
		return ErrNoSettingsStore
	}
	return nil
}

// setting decodes the bucket's named setting into out once the bucket is
// known to exist; ok is false when it has none (or there is no catalog).
func (q *request) setting(name string, out any) (bool, error) {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return false, err
	}
	if q.s.catalog == nil {
		return false, nil
	}
	return catalog.BucketSetting(q.s.catalog.View(), q.target.Bucket, name, out)
}

// storeSetting sets the bucket's named setting (nil removes it) and
// answers with status and no body.
func (q *request) storeSetting(name string, value any, status int) error {
	if err := q.setBucketSetting(name, value); err != nil { // access.go
		return err
	}
	q.writeEmpty(status)
	return nil
}

// xmlShape describes the element structure of a configuration document:
// for each element path ("Root/Child"), the names of the children it may
// hold and whether each may repeat. An element without an entry holds
// text only.
type xmlShape map[string]map[string]bool

// checkShape reports whether data is one root element that follows
// shape: no unknown element, no repeated single element, no element in a
// text element, no text beside elements, no document type declaration.
// Namespaces are ignored, as S3 ignores them.
func checkShape(data []byte, root string, shape xmlShape) bool {
	d := xml.NewDecoder(bytes.NewReader(data))
	type open struct {
		path string
		seen map[string]bool
	}
	var stack []open
	done := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return done && len(stack) == 0
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if len(stack) == 0 {
				if done || name != root {
					return false
				}
				stack = append(stack, open{path: root, seen: map[string]bool{}})
				continue
			}
			top := stack[len(stack)-1]
			children := shape[top.path]
			repeat, ok := children[name]
			if !ok || (!repeat && top.seen[name]) {
				return false
			}
			top.seen[name] = true
			stack = append(stack, open{path: top.path + "/" + name, seen: map[string]bool{}})
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				done = true
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
			if len(stack) == 0 || shape[stack[len(stack)-1].path] != nil {
				return false
			}
		case xml.Directive:
			return false
		}
	}
}
