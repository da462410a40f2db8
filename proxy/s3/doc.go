// Package s3 answers the Amazon S3 REST API over Basalt's object layer
// (*objectd.Store): service, bucket, object and multipart operations, with
// S3's XML documents, headers and error codes, so that the usual clients
// (aws CLI, boto3, minio-go, aws-sdk-go-v2, rclone) work unchanged.
//
// Every request is authenticated with SigV4 (package proxy/sigv4), then
// authorized: the bucket owner's project by role, others (and anonymous,
// unsigned requests) as the bucket's policy and the bucket's and
// object's ACLs grant, within its public access block and ownership
// controls (access.go). Requests are addressed
// path-style ("/bucket/key") or virtual-host-style ("bucket.<domain>/key").
// Object bodies stream from the client to the store and from the store to
// the client and are never held in memory; Content-MD5 and the additional
// checksums (x-amz-checksum-*, in headers or aws-chunked trailers) are
// verified as the body passes. Only small XML request documents are read
// whole, up to a fixed size.
//
// Browser-based uploads (POST Object: a multipart/form-data POST to the
// bucket) are authenticated by the form instead: a POST policy document
// signed with Signature Version 4 (x-amz-signature) or 2 (signature),
// whose expiry, conditions and content-length-range the form must meet,
// every field being covered by a condition. The text fields before the
// file are read whole, up to 64 KiB; the file streams to a spool file in
// Config.SpoolDir, unlinked at once, because the store needs an object's
// size before its first byte and the form only tells it at the end.
//
// Bucket configurations (tagging, CORS, lifecycle) are settings of the
// bucket's catalog record; an object's tags are kept in its stored headers.
// CORS preflights (OPTIONS) are answered unauthenticated, from the bucket's
// rules (cors.go). ApplyLifecycle carries out the lifecycle rules when its
// caller asks, a listing page at a time (lifecycle_apply.go).
//
// Server-side encryption (sse.go): SSE-C (the client's key, never stored;
// a salted HMAC of it checks every read) and SSE-S3 (Config.MasterKey),
// per request or as the bucket's default. Bodies are encrypted here,
// before the store sees them, with AES-256-CTR under a random per-object
// data key wrapped with AES-256-GCM; sizes are kept, and ranges and parts
// decrypt from their own counter. CTR gives no integrity of its own: the
// store's per-block CRC32C catches corruption of the stored ciphertext.
// SSE-C is accepted over plain HTTP, which AWS refuses: behind a
// TLS-terminating proxy the server cannot tell.
//
// Concurrency: a Server holds only its configuration; Serve and
// ApplyLifecycle may be called from any number of goroutines at once.
package s3
