// Package testserver runs the real basalt binary for tests: it builds
// ./cmd/basalt once per test process, starts `basalt server` on a free
// 127.0.0.1 port with its own data folder and a fixed root credential, waits
// for the "basalt server ready" log line (never by sleeping), and stops it
// when the test ends.
//
//	func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }
//
//	func TestPut(t *testing.T) {
//		srv := testserver.Start(t, testserver.Options{})
//		client := s3Client(srv.Endpoint(), srv.AccessKey(), srv.SecretKey())
//		...
//		srv.Kill()    // SIGKILL, as a crash
//		srv.Restart() // same data folder, same port when free
//	}
//
// Main removes the built binary at the end of the test process; tests that
// do not use it leave one temporary folder behind.
//
// Concurrency: a Server's methods may be called from several goroutines, but
// Stop, Kill and Restart are meant for the test's own goroutine. Several
// servers may run at once.
package testserver
