// Package server wires one `basalt server` process together: it checks the
// configuration, loads the root credential, opens the object store over the
// disk directories, mounts the S3 proxy with its metrics and health
// endpoints on an HTTP server, and on cancellation drains in-flight
// requests and closes the store.
//
// It holds no storage or protocol logic: that lives in objectd and proxy.
// The only processing of its own is turning the --disks arguments (paths
// and {a...b} patterns) into a list of directories.
//
// Concurrency: Run blocks until its context is cancelled or the HTTP server
// fails; a Config is a plain value.
package server
