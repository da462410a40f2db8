// Package measure records the operations of a benchmark run and turns them
// into a report's figures.
//
// Each worker goroutine owns one Recorder and appends one compact Sample per
// operation: start and duration as nanoseconds on the monotonic clock,
// time to first byte, payload bytes, the kind of operation, whether it fell
// in the warm-up, and an index into the recorder's table of error kinds. A
// sample holds no pointer, so a million operations cost 40 MB and nothing
// for the garbage collector to scan. Build merges the recorders after the
// run: percentiles are exact (nearest rank over the sorted samples), rates
// are per second of the measured window, the timeline counts operations by
// the second they ended in, and every error is counted by kind, warm-up
// errors separately.
//
// Concurrency: a Recorder belongs to one goroutine; Build must run after
// every goroutine has stopped recording. The functions are pure.
package measure
