package objectd

import (
	"errors"
	"time"
)

// Errors returned by the Store. Callers check them with errors.Is.
var (
	ErrNoSuchBucket       = errors.New("objectd: no such bucket")
	ErrBucketExists       = errors.New("objectd: bucket already exists")
	ErrBucketNotEmpty     = errors.New("objectd: bucket not empty")
	ErrNoSuchKey          = errors.New("objectd: no such key")
	ErrNoSuchUpload       = errors.New("objectd: no such upload")
	ErrInvalidPart        = errors.New("objectd: invalid part")
	ErrInvalidPartOrder   = errors.New("objectd: parts not in ascending order")
	ErrEntityTooSmall     = errors.New("objectd: part smaller than the minimum")
	ErrEntityTooLarge     = errors.New("objectd: object larger than the maximum")
	ErrBadDigest          = errors.New("objectd: content MD5 does not match")
	ErrIncompleteBody     = errors.New("objectd: body shorter than its length")
	ErrInvalidRange       = errors.New("objectd: range not satisfiable")
	ErrWriteQuorum        = errors.New("objectd: write quorum not reached")
	ErrReadQuorum         = errors.New("objectd: read quorum not reached")
	ErrInvalidArgument    = errors.New("objectd: invalid argument")
	ErrPreconditionFailed = errors.New("objectd: precondition failed")
)

// Limits of the object layer, as S3 states them.
const (
	MaxObjectSize     = 5 << 40 // 5 TiB
	MaxPartSize       = 5 << 30 // 5 GiB
	MinPartSize       = 5 << 20 // 5 MiB, for every part but the last
	MaxPartNumber     = 10000
	MaxKeyLength      = 1024
	MaxUserMetaBytes  = 2 << 10 // 2 KiB of user metadata, as S3
	DefaultMaxKeys    = 1000
	DefaultMaxUploads = 1000
	DefaultMaxParts   = 1000
)

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name    string
	Created time.Time
}

// Checksum is an additional checksum of an object or part, as S3 names it:
// Algorithm is one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256; Value is the
// base64 of the digest (with a "-N" suffix for a composite multipart value);
// Type is FULL_OBJECT or COMPOSITE.
type Checksum struct {
	Algorithm string
	Value     string
	Type      string
}

// PartInfo describes one part of an object or of a multipart upload.
type PartInfo struct {
	Number   int
	Size     int64
	ETag     string // quoted-free hex MD5 of the part
	ModTime  time.Time
	Checksum Checksum
}

// ObjectInfo is what HEAD returns: everything but the bytes.
type ObjectInfo struct {
	Bucket      string
	Key         string
	Size        int64
	ETag        string // without quotes; "hex-N" for multipart objects
	ContentType string
	// Headers holds the other standard headers stored with the object
	// (Content-Encoding, Content-Disposition, Content-Language,
	// Cache-Control, Expires), by canonical header name.
	Headers map[string]string
	// UserMeta holds x-amz-meta-* values keyed by the lowercase name
	// without the prefix.
	UserMeta map[string]string
	ModTime  time.Time
	Parts    []PartInfo // set for multipart objects
	Checksum Checksum   // zero when none was given
	// VersionID names this version of the object as clients see it:
	// "null" for a version written while the bucket was unversioned or
	// versioning was suspended.
	VersionID string
	// DeleteMarker: this version is a delete marker (listings of
	// versions, and the error of a GET whose current version is one).
	DeleteMarker bool
	// IsLatest: this version is the current one (listings of versions).
	IsLatest bool
	// rid is the version's record id, unique even among "null" versions.
	rid string
}

// PutOptions are the settings of a PUT (or of a multipart upload, given at
// its creation).
type PutOptions struct {
	ContentType string
	Headers     map[string]string
	UserMeta    map[string]string
	// ContentMD5, when set, is the expected raw MD5 of the body; a mismatch
	// fails the write with ErrBadDigest and nothing is stored.
	ContentMD5 []byte
	// Checksum, when set, is called after the body has been read to EOF and
	// before the write commits; it returns the additional checksum to store.
	// The body reader is expected to have verified it (returning an error
	// instead of io.EOF on mismatch).
	Checksum func() Checksum
	// ChecksumAlgorithm names the algorithm of a multipart upload.
	ChecksumAlgorithm string
	// Versioning is the bucket's versioning state: whether the write
	// replaces the current version or keeps it as a noncurrent one.
	Versioning Versioning
	// Check, when set, is called with the current version of the object
	// (nil when there is none) just before the write commits, under the
	// object's lock; an error aborts the write.
	Check func(current *ObjectInfo) error
}

// GetOptions select a part of an object.
type GetOptions struct {
	// Offset and Length select a range; Length < 0 means to the end.
	Offset int64
	Length int64
	// PartNumber, when > 0, selects one part of a multipart object (or the
	// whole object as part 1 of a single-part one).
	PartNumber int
	// VersionID selects a version ("null" included); empty: the current
	// one.
	VersionID string
}

// ListOptions are the parameters of a listing.
type ListOptions struct {
	Prefix    string
	Delimiter string
	// After lists only keys (and common prefixes) strictly after it.
	After   string
	MaxKeys int
	// markers lists keys whose current version is a delete marker too
	// (the store's own walks: scrub, fill-back).
	markers bool
	// tombstones lists keys whose current record is a tombstone too (the
	// healer's walks: a tombstone must reach every disk of its set).
	tombstones bool
}

// ListResult is one page of a listing.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// NextAfter is the last key or prefix returned, to pass as After.
	NextAfter string
}

// UploadInfo describes a multipart upload in progress.
type UploadInfo struct {
	Key       string
	UploadID  string
	Initiated time.Time
	Options   PutOptions
}

// ListUploadsOptions are the parameters of ListMultipartUploads.
type ListUploadsOptions struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	MaxUploads     int
}

// ListUploadsResult is one page of uploads.
type ListUploadsResult struct {
	Uploads            []UploadInfo
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// ListPartsResult is one page of parts.
type ListPartsResult struct {
	Upload               UploadInfo
	Parts                []PartInfo
	IsTruncated          bool
	NextPartNumberMarker int
}

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number   int
	ETag     string // with or without quotes
	Checksum Checksum
}
