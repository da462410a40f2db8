// Package sigv4 authenticates S3 requests signed with AWS Signature
// Version 4, or the older Version 2, and turns their bodies into the
// payload to store.
//
// Verify accepts the ways S3 clients sign:
//
//   - an Authorization header "AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/
//     region/s3/aws4_request, SignedHeaders=..., Signature=..." with the
//     time in X-Amz-Date (or Date), checked against MaxSkew;
//   - a presigned URL: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
//     X-Amz-Expires (at most 7 days), X-Amz-SignedHeaders, X-Amz-Signature
//     in the query;
//   - Signature Version 2: an Authorization header "AWS AKID:signature"
//     with the time in x-amz-date (or Date), checked against MaxSkew, or the
//     query parameters AWSAccessKeyId, Expires (seconds since the epoch)
//     and Signature;
//   - no authentication at all: Result.Anonymous, for the handler to allow
//     or refuse.
//
// The Version 4 canonical request is built from the request as it
// arrived: the path exactly as sent (r.URL.EscapedPath(), neither
// normalised nor encoded again, as S3 does), the query decoded and
// re-encoded with the SigV4 rules and sorted, the signed headers' values
// trimmed with inner runs of spaces collapsed, Host from r.Host. Signatures are compared in constant time.
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
// # Signature Version 2
//
// The signature is base64(HMAC-SHA1(secret, StringToSign)) with
//
//	StringToSign = method \n Content-MD5 \n Content-Type \n date \n
//	               CanonicalizedAmzHeaders CanonicalizedResource
//
// date is the Date header; with x-amz-date it is empty (as AWS documents
// and boto and s3cmd sign) or the Date header (as minio-go signs), either
// verifies, and x-amz-date is the request time; for query authentication
// it is Expires as sent. CanonicalizedAmzHeaders has one "name:value\n"
// line per x-amz-* header: the name in lower case, lines sorted, repeated
// headers' values joined by ",", each value unfolded and trimmed.
// CanonicalizedResource is "/bucket" when the Host is "bucket.<one of
// Domains>[:port]", then the path exactly as sent, then "?" and the
// sub-resources the request carries, sorted by name, "name" or
// "name=value" with the value decoded. Which query parameters are
// sub-resources depends on the client: minio-go signs acl, cors, delete,
// encryption, legal-hold, lifecycle, location, logging, notification,
// partNumber, policy, replication, requestPayment, response-*, retention,
// select, select-type, tagging, torrent, uploadId, uploads, versionId,
// versioning, versions and website; AWS's list as botocore extends it
// drops encryption, legal-hold and retention and adds accelerate,
// analytics, defaultObjectAcl, inventory, metrics, object-lock, restore and
// storageClass. A request verifies if its signature matches either. Other
// query parameters, the Host beyond the bucket, and the body are not
// signed in Version 2: Result.Body is the body as sent, ContentLength its
// Content-Length; Content-MD5 is signed, and checking the body against it
// is the handler's job. Signatures are compared in constant time.
//
// # Errors and concurrency
//
// Errors are *Error values carrying the S3 code and HTTP status; see
// errors.go.
//
// Concurrency: a Verifier is safe for concurrent use by many goroutines
// once its fields are set, and must not be copied after first use. A
// Result's Body is read by one goroutine; its Trailer function may be
// called from any goroutine.
package sigv4
