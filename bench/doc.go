// Package bench is "basalt bench", the benchmark storage operators run
// against Basalt or any other S3 endpoint, and against this machine's
// erasure coding. It provides the command tree, which the basalt binary
// mounts with root.AddCommand(bench.Command()):
//
//	basalt bench s3 put|get|delete|list|stat|multipart|mixed [flags]
//	basalt bench compare A.json B.json
//	basalt bench summary FILE.json...
//	basalt bench show FILE.json [--html FILE]
//	basalt bench ec [flags]
//
// The work is done by subpackages that need no command line: s3bench (the
// S3 load generator), ecbench (erasure-code throughput), measure (per
// operation samples and their statistics) and report (table, JSON, HTML
// with charts, comparison). Errors in the command line or configuration
// match ErrUsage, so that the binary can exit with its usage status.
//
// Concurrency: Command returns a new tree on every call; a tree runs one
// command at a time. The command stops cleanly when its context (from
// cobra's ExecuteContext) is cancelled, and still prints and writes what
// was measured.
package bench
