// Package report holds the result of a benchmark run and shows it: as a
// table for people, as JSON that carries every figure (and reads back), as a
// self-contained HTML page with inline SVG charts (throughput per second,
// latency histogram and CDF, throughput by operation), and as a side-by-side
// comparison of two runs with the ratio of each figure.
//
// A Report is plain data. Its latencies are integer nanoseconds, its
// throughputs are per second of the measured window, and its timeline has
// one entry per second of the run, warm-up included and flagged, so that a
// chart can show how the store behaved while warming up.
//
// Concurrency: a Report is a value; the functions of this package read it
// and never keep it, and are safe for concurrent use on distinct writers.
package report
