// Package proxy is Basalt's front door: one HTTP handler that answers the
// S3 API (package proxy/s3) over the object layer, plus the operational
// endpoints every daemon has on the same port: /metrics (Prometheus text),
// /health/live and /health/ready.
//
// The operational endpoints answer only an anonymous GET or HEAD (no
// Authorization header, no X-Amz-Signature query parameter) of exactly
// their path; anything else is an S3 request, so a bucket may be named
// "metrics" or "health".
//
// Requests are dispatched through gin's catch-all route with every path
// rewriting turned off: S3 keys may hold "//", "..", a trailing "/",
// percent-encoded bytes and any Unicode, and reach the S3 layer unchanged.
//
// Concurrency: New builds a Proxy once; its Handler serves any number of
// requests at the same time. The Proxy keeps no per-request state beyond
// the Prometheus collectors, which are safe for concurrent use.
package proxy
