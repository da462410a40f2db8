// Package identity holds the root credential of a single Basalt server: the
// one access key and secret that may sign S3 requests until users and keys
// move into the replicated catalog.
//
// Load takes the credential from BASALT_ROOT_USER and BASALT_ROOT_PASSWORD
// when both are set, else from <dir>/root.json, else generates one with
// crypto/rand and writes it there atomically (temporary file, fsync, rename,
// directory fsync) with mode 0600, reporting created=true so that the caller
// can show it once.
//
// Concurrency: Root is an immutable value, safe for concurrent use. Load is
// not meant to run concurrently with itself on the same directory.
package identity
