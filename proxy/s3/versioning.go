package s3

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/proxy/catalog"
)

// Versioning: a bucket's state (never configured, Enabled, Suspended) is
// the catalog setting "versioning"; the store keeps the versions
// (objectd.Versioning). Without a catalog every bucket is unversioned.

// versioningSetting is the catalog setting of a bucket's versioning.
const versioningSetting = "versioning"

type versioningConfig struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

// versioning returns the versioning state of the request's bucket.
func (q *request) versioning() objectd.Versioning {
	return q.bucketVersioning(q.target.Bucket)
}

func (q *request) bucketVersioning(bucket string) objectd.Versioning {
	return q.s.versioningOf(bucket)
}

// versioningOf returns a bucket's versioning state.
func (s *Server) versioningOf(bucket string) objectd.Versioning {
	if s.catalog == nil {
		return objectd.Unversioned
	}
	var status string
	if ok, err := catalog.BucketSetting(s.catalog.View(), bucket, versioningSetting, &status); !ok || err != nil {
		return objectd.Unversioned
	}
	switch status {
	case "Enabled":
		return objectd.VersioningEnabled
	case "Suspended":
		return objectd.VersioningSuspended
	}
	return objectd.Unversioned
}

func (q *request) getBucketVersioning() error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	doc := versioningConfig{Xmlns: s3Namespace}
	switch q.versioning() {
	case objectd.VersioningEnabled:
		doc.Status = "Enabled"
	case objectd.VersioningSuspended:
		doc.Status = "Suspended"
	}
	q.writeXML(http.StatusOK, doc)
	return nil
}

func (q *request) putBucketVersioning() error {
	if _, err := q.s.store.BucketInfo(q.ctx, q.target.Bucket); err != nil {
		return err
	}
	if q.s.catalog == nil {
		return ErrNotImplemented
	}
	var doc versioningConfig
	if _, _, err := q.readXMLBody(maxSmallXMLBody, &doc); err != nil {
		return err
	}
	if doc.Status != "Enabled" && doc.Status != "Suspended" {
		return ErrMalformedXML
	}
	if doc.MfaDelete == "Enabled" {
		return ErrInvalidArgument.withMessage("MFA delete is not supported.")
	}
	if doc.MfaDelete != "" && doc.MfaDelete != "Disabled" {
		return ErrMalformedXML
	}
	if _, locked := q.s.lockConfig(q.target.Bucket); locked && doc.Status != "Enabled" {
		return errLockState
	}
	if err := q.setBucketSetting(versioningSetting, doc.Status); err != nil {
		return err
	}
	q.writeEmpty(http.StatusOK)
	return nil
}

// versionID returns the request's versionId parameter, checked: an id
// that names no version (the store's are "null" and 32 hex digits) is
// NoSuchVersion when it is used; one that cannot be an id at all (empty,
// too long, control characters) is refused here.
func (q *request) versionID() (string, error) {
	v, ok := q.query["versionId"]
	if !ok {
		return "", nil
	}
	return checkVersionID(v[0])
}

func checkVersionID(v string) (string, error) {
	if v == "" || len(v) > 1024 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", ErrInvalidArgument.withMessage("Invalid version id specified")
	}
	return v, nil
}

// setVersionHeaders adds x-amz-version-id (when the bucket is or was
// versioned, or a version was asked for) and x-amz-delete-marker.
func (q *request) setVersionHeaders(h http.Header, info objectd.ObjectInfo, asked bool) {
	if info.VersionID != "" && (asked || q.versioning() != objectd.Unversioned) {
		h.Set("X-Amz-Version-Id", info.VersionID)
	}
	if info.DeleteMarker {
		h.Set("X-Amz-Delete-Marker", "true")
	}
}

// versionErr turns a store error about a version into S3's, with the
// headers S3 sends alongside.
func (q *request) versionErr(info objectd.ObjectInfo, err error) error {
	switch {
	case errors.Is(err, objectd.ErrDeleteMarker):
		q.setVersionHeaders(q.w.Header(), info, true)
		q.w.Header().Set("Allow", "DELETE")
		return ErrMethodNotAllowed
	case errors.Is(err, objectd.ErrNoSuchKey) && info.DeleteMarker:
		q.setVersionHeaders(q.w.Header(), info, true)
		return err
	case errors.Is(err, objectd.ErrNoSuchVersion):
		return ErrNoSuchVersion
	}
	return err
}

// deleteVersioned answers DeleteObject in every versioning state.
func (q *request) deleteVersioned() error {
	vid, err := q.versionID()
	if err != nil {
		return err
	}
	res, err := q.s.store.DeleteObjectVersion(q.ctx, q.target.Bucket, q.target.Key,
		objectd.DeleteOptions{VersionID: vid, Versioning: q.versioning(), CheckVersion: q.lockRefuses})
	if err != nil && !errors.Is(err, objectd.ErrNoSuchKey) {
		return err
	}
	h := q.w.Header()
	if res.VersionID != "" {
		h.Set("X-Amz-Version-Id", res.VersionID)
	}
	if res.DeleteMarker {
		h.Set("X-Amz-Delete-Marker", "true")
	}
	q.writeEmpty(http.StatusNoContent)
	return nil
}

// versionEntry is one <Version> or <DeleteMarker> of ListVersionsResult,
// in the order of the listing.
type versionEntry struct {
	XMLName      xml.Name
	Key          string `xml:"Key"`
	VersionID    string `xml:"VersionId"`
	IsLatest     bool   `xml:"IsLatest"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag,omitempty"`
	Size         *int64 `xml:"Size,omitempty"`
	StorageClass string `xml:"StorageClass,omitempty"`
	Owner        owner  `xml:"Owner"`
}

type listVersionsDoc struct {
	XMLName             xml.Name       `xml:"ListVersionsResult"`
	Xmlns               string         `xml:"xmlns,attr"`
	Name                string         `xml:"Name"`
	Prefix              string         `xml:"Prefix"`
	KeyMarker           string         `xml:"KeyMarker"`
	VersionIDMarker     string         `xml:"VersionIdMarker"`
	NextKeyMarker       string         `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int            `xml:"MaxKeys"`
	Delimiter           string         `xml:"Delimiter,omitempty"`
	IsTruncated         bool           `xml:"IsTruncated"`
	Entries             []versionEntry // Version and DeleteMarker elements
	CommonPrefixes      []commonPrefix `xml:"CommonPrefixes"`
	EncodingType        string         `xml:"EncodingType,omitempty"`
}

func (q *request) listVersions() error {
	p, err := parseListParams(q.query, false)
	if err != nil {
		return err
	}
	keyMarker, vidMarker := q.query.Get("key-marker"), q.query.Get("version-id-marker")
	if vidMarker != "" {
		if keyMarker == "" {
			return ErrInvalidArgument.withMessage("A version-id marker cannot be specified without a key marker.")
		}
		if _, err := checkVersionID(vidMarker); err != nil {
			return err
		}
	}
	res, err := q.s.store.ListObjectVersions(q.ctx, q.target.Bucket, objectd.ListVersionsOptions{
		Prefix: p.Prefix, Delimiter: p.Delimiter, KeyMarker: keyMarker, VersionIDMarker: vidMarker, MaxKeys: p.MaxKeys,
	})
	if err != nil {
		return err
	}
	enc := func(s string) string { return s }
	doc := listVersionsDoc{
		Xmlns: s3Namespace, Name: q.target.Bucket, MaxKeys: p.MaxKeys, IsTruncated: res.IsTruncated,
		VersionIDMarker: vidMarker,
	}
	if p.EncodeURL {
		enc, doc.EncodingType = s3URLEncode, "url"
	}
	doc.Prefix, doc.KeyMarker, doc.Delimiter = enc(p.Prefix), enc(keyMarker), enc(p.Delimiter)
	o := q.owner()
	doc.Entries = make([]versionEntry, 0, len(res.Versions))
	for _, v := range res.Versions {
		e := versionEntry{
			XMLName: xml.Name{Local: "Version"}, Key: enc(v.Key), VersionID: v.VersionID, IsLatest: v.IsLatest,
			LastModified: timeXML(v.ModTime), Owner: o,
		}
		if v.DeleteMarker {
			e.XMLName.Local = "DeleteMarker"
		} else {
			size := v.Size
			e.ETag, e.Size, e.StorageClass = quote(clientETag(v)), &size, "STANDARD"
		}
		doc.Entries = append(doc.Entries, e)
	}
	for _, cp := range res.CommonPrefixes {
		doc.CommonPrefixes = append(doc.CommonPrefixes, commonPrefix{Prefix: enc(cp)})
	}
	if res.IsTruncated {
		doc.NextKeyMarker = enc(res.NextKeyMarker)
		doc.NextVersionIDMarker = res.NextVersionIDMarker
	}
	q.writeXML(http.StatusOK, doc)
	return nil
}
