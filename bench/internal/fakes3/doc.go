// Package fakes3 is a small in-memory S3 endpoint for testing the benchmark
// tool: it answers the requests minio-go makes for listing buckets, checking,
// creating and removing a bucket, putting, getting, heading, deleting and
// listing objects, and multipart uploads, with valid S3 XML. It keeps object
// sizes, not contents: a GET returns a fixed byte pattern of the stored size.
//
// Tests shape its behaviour per request: Options.Delay holds an object
// request for a known time before it is answered (the latency the
// benchmark must then report), and Options.Fault answers a request with an
// S3 error instead. Both see the kind of request and its sequence number,
// so a test can fail every tenth GET or slow the first twenty.
//
// Requests are checked for an access key only (the Credential of a SigV4
// Authorization header), not for a valid signature.
//
// Concurrency: a Server is an http.Handler safe for concurrent requests;
// its counters may be read at any time.
package fakes3
