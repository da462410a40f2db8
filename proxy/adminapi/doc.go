// Package adminapi is the client of Basalt's administration API (served by
// package proxy under /basalt/admin/v1/): store status and scrubs, signed
// with SigV4 and the root credential. `basalt admin` is built on it.
//
// Concurrency: a Client is safe for concurrent use.
package adminapi
