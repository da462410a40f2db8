// Package s3bench is the S3 load generator of "basalt bench s3": it drives
// any S3 endpoint with put, get, delete, list, stat, multipart or mixed
// operations from a number of concurrent workers, and measures each
// operation on the monotonic clock.
//
// A run goes through four steps:
//
//  1. Validate the Config: every setting is checked before anything is sent.
//  2. Preflight, with a short timeout: check that the endpoint answers, that
//     it accepts the keys, and that the bucket exists (it is created unless
//     NoCreate is set). A failure here is one clear error: ErrUnreachable,
//     ErrCredentials, ErrNoBucket or ErrPreflight.
//  3. Prepare the objects that get, stat, list, delete and mixed read, under
//     a prefix unique to the run (not measured).
//  4. Measure: workers issue operations back to back until the duration or
//     the operation count is reached. Operations that start during the
//     warm-up are recorded but left out of the figures. A live progress line
//     goes to the progress writer.
//
// Cancelling the context stops the run: operations in flight are cut short
// and counted as aborted, the figures measured so far are returned with
// ErrInterrupted, and the objects of the run are removed if Cleanup is set.
//
// The client is minio-go with retries turned off, so that every failed
// request is counted, by kind, where it happened.
//
// Concurrency: Run may be called from several goroutines with distinct
// configs; each run owns its workers, and a Config is a value.
package s3bench
