package objectd

import (
	"context"
	"errors"
	"io"
)

var errTODO = errors.New("objectd: not yet built")

// Store is the object layer over a set of disks. (Skeleton: bodies follow.)
type Store struct{}

func (s *Store) MakeBucket(ctx context.Context, bucket string) error  { return errTODO }
func (s *Store) DeleteBucket(ctx context.Context, bucket string) error { return errTODO }
func (s *Store) BucketInfo(ctx context.Context, bucket string) (BucketInfo, error) {
	return BucketInfo{}, errTODO
}
func (s *Store) ListBuckets(ctx context.Context) ([]BucketInfo, error) { return nil, errTODO }

// PutObject stores size bytes read from r (size must be known, >= 0).
func (s *Store) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	return ObjectInfo{}, errTODO
}

// GetObject returns the object's info and a reader of the selected bytes.
// The reader must be closed. Conditions can be checked on the info before
// reading: nothing is read from disk until the first Read.
func (s *Store) GetObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, io.ReadCloser, error) {
	return ObjectInfo{}, nil, errTODO
}
func (s *Store) HeadObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	return ObjectInfo{}, errTODO
}

// DeleteObject removes an object; removing a missing key is not an error.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error { return errTODO }
func (s *Store) ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error) {
	return ListResult{}, errTODO
}
func (s *Store) NewMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (string, error) {
	return "", errTODO
}

// PutObjectPart stores one part; opts uses ContentMD5 and Checksum only.
func (s *Store) PutObjectPart(ctx context.Context, bucket, key, uploadID string, part int, r io.Reader, size int64, opts PutOptions) (PartInfo, error) {
	return PartInfo{}, errTODO
}
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, marker, maxParts int) (ListPartsResult, error) {
	return ListPartsResult{}, errTODO
}
func (s *Store) ListMultipartUploads(ctx context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error) {
	return ListUploadsResult{}, errTODO
}
func (s *Store) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	return errTODO
}

// CompleteMultipartUpload joins the listed parts into the object.
// opts.Check, when set, is applied as in PutObject.
func (s *Store) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, opts PutOptions) (ObjectInfo, error) {
	return ObjectInfo{}, errTODO
}
