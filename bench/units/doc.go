// Package units parses and prints the quantities a benchmark is configured
// with and reports: byte sizes ("4KiB", "1MiB", "1.5GB"), size ranges
// ("1KiB-1MiB"), durations in milliseconds or microseconds, and throughput.
//
// Binary units (KiB, MiB, GiB, TiB, and the single letters K, M, G, T) are
// powers of 1024; decimal units (KB, MB, GB, TB) are powers of 1000. Units are
// case-insensitive; a bare number is a count of bytes.
//
// Concurrency: every function is pure and safe for concurrent use.
package units
