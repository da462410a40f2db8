// Package lint checks Basalt's house rules over the source tree, as tests
// rather than a wiki page:
//
//   - imports go one way (Layering): ring imports no other Basalt folder;
//     objectd only ring and internal; blockd and proxy only objectd, ring and
//     internal; computed and netd no storage package; internal only itself;
//     nothing imports cmd or bench;
//   - gin is imported only under proxy/, hashicorp/raft only under ring/,
//     libvirt only under computed/ (Confined);
//   - every package has a package doc comment;
//   - no time.Sleep in a _test.go file;
//   - no log.Fatal, log.Panic, os.Exit or panic outside cmd/ and tests; a
//     panic is allowed where the same line carries an `// invariant:` comment;
//   - every file is gofmt-formatted.
//
// Check parses the files of an fs.FS with go/parser (no build, no external
// tool), so that each rule can be shown to fail on a synthetic tree. The
// test of this package runs Check over the repository.
//
// Concurrency: Check has no shared state; it may run concurrently.
package lint
