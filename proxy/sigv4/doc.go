// Package sigv4 authenticates S3 requests signed with AWS Signature
// Version 4 and turns their bodies into the payload to store.
//
// Verify accepts the three ways S3 clients sign:
//
//   - an Authorization header "AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/
//     region/s3/aws4_request, SignedHeaders=..., Signature=..." with the
//     time in X-Amz-Date (or Date), checked against MaxSkew;
//   - a presigned URL: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
//     X-Amz-Expires (at most 7 days), X-Amz-SignedHeaders, X-Amz-Signature
//     in the query;
//   - no authentication at all: Result.Anonymous, for the handler to allow
//     or refuse.
//
// The canonical request is built from the request as it arrived: the path
// exactly as sent (r.URL.EscapedPath(), neither normalised nor encoded
// again, as S3 does), the query decoded and re-encoded with the SigV4 rules
// and sorted, the signed headers' values trimmed with inner runs of spaces
// collapsed, Host from r.Host. Signatures are compared in constant time.
// Signing keys are derived once per (secret, day, region) and kept in a
// small bounded cache.
//
// The payload is named by x-amz-content-sha256 and is never read into
// memory; Result.Body streams it:
//
//	UNSIGNED-PAYLOAD                   the body as is
//	<64 hex digits>                    the body; SHA-256 checked at EOF
//	STREAMING-AWS4-HMAC-SHA256-PAYLOAD aws-chunked; each chunk's signature
//	                                   checked, chained from the seed
//	STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
//	                                   the same, then trailers whose
//	                                   x-amz-trailer-signature is checked
//	STREAMING-UNSIGNED-PAYLOAD-TRAILER aws-chunked without signatures, then
//	                                   trailers
//
// aws-chunked framing, as it arrives in the HTTP body:
//
//	<hex size>[;chunk-signature=<64 hex>]\r\n<size bytes>\r\n   repeated
//	0[;chunk-signature=<64 hex>]\r\n                           last chunk
//	<name>:<value>\r\n ... [x-amz-trailer-signature:<64 hex>\r\n]  trailers
//	\r\n
//
// A chunk's signature is HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" +
// time + "\n" + scope + "\n" + previous signature + "\n" + SHA-256("") +
// "\n" + SHA-256(chunk data)), the first previous signature being the
// request's own (the seed). The trailer signature is HMAC(signing key,
// "AWS4-HMAC-SHA256-TRAILER\n" + time + "\n" + scope + "\n" + last chunk's
// signature + "\n" + SHA-256 of the trailers as "name:value\n" lines).
// Trailer lines ending in a bare \n and blank lines between trailers, as
// some clients write them, are accepted.
//
// Chunk data is handed to the reader as it arrives and hashed on the way;
// a chunk's signature is checked as soon as its last byte is read, so a
// forged or damaged chunk makes Read fail before the body reaches io.EOF.
// Callers must therefore treat any error from Body as fatal to the whole
// upload and store nothing of it. Signed chunks are limited to 16 MiB;
// unsigned chunks only by x-amz-decoded-content-length (some clients send
// the whole object as one chunk), so no chunk size causes an allocation.
//
// Errors are *Error values carrying the S3 code and HTTP status; see
// errors.go.
//
// Concurrency: a Verifier is safe for concurrent use by many goroutines
// once its fields are set, and must not be copied after first use. A
// Result's Body is read by one goroutine; its Trailer function may be
// called from any goroutine.
package sigv4
