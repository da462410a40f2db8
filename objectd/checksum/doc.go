// Package checksum implements S3's additional object checksums: the
// algorithms a client may name in x-amz-checksum-* headers and trailers
// (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), their wire encoding, a reader
// that verifies a stream against a value known only at its end, and the two
// ways S3 derives a multipart object's checksum from its parts: COMPOSITE
// (a checksum of the parts' checksums, suffixed "-N") and FULL_OBJECT (the
// CRC of the whole object, combined arithmetically from the parts' CRCs and
// lengths without reading the data again).
//
// Wire encoding: a checksum value is the standard base64 (with padding) of
// the digest's bytes, big-endian for the CRCs: 4 bytes for CRC32 and
// CRC32C, 8 for CRC64NVME, 20 for SHA1, 32 for SHA256. A COMPOSITE value
// appends "-N", N being the number of parts.
//
// Concurrency: functions and Algorithm methods are pure and safe for
// concurrent use. A Reader, like the hash.Hash values New returns, belongs
// to one goroutine at a time.
package checksum
