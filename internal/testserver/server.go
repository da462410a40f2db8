package testserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The root credential given to servers through the environment, unless
// Options.GenerateCredentials is set.
const (
	RootUser     = "basalt-test-root"
	RootPassword = "basalt-test-root-secret"
)

// readyMessage is the message of the log line the server writes once its
// listener is up (text or JSON log format).
const readyMessage = "basalt server ready"

// Defaults of Options.
const (
	DefaultReadyTimeout = 2 * time.Minute
	DefaultStopTimeout  = time.Minute
	bindAttempts        = 8
)

var errAddrInUse = errors.New("testserver: address already in use")

// Options tune a server. The zero value runs `basalt server` with its
// default erasure coding on a fresh data folder.
type Options struct {
	// Args are extra arguments for `basalt server` (--data, --address and
	// --log-format are set by the harness).
	Args []string
	// Env holds extra KEY=VALUE environment entries. BASALT_* variables of
	// the test process are never passed on.
	Env []string
	// GenerateCredentials leaves BASALT_ROOT_USER/PASSWORD unset, so that
	// the server generates a root credential at its first start; the
	// harness reads it from the server's output.
	GenerateCredentials bool
	// DataDir is the data folder; default a new t.TempDir().
	DataDir string
	// ReadyTimeout bounds each start, from exec to the ready log line.
	ReadyTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	StopTimeout time.Duration
}

// Server is one basalt server process (or a sequence of them, across
// restarts) with one data folder.
type Server struct {
	t       testing.TB
	opts    Options
	bin     string
	dataDir string

	mu        sync.Mutex
	port      int
	accessKey string
	secretKey string
	stdout    strings.Builder
	stderr    strings.Builder
	logged    chan struct{} // closed and replaced at every new stderr line
	cmd       *exec.Cmd
	done      chan struct{} // closed when the current process has exited
	exitCode  int
	starts    int
}

// Start builds the binary if needed, runs `basalt server` on a free port
// and returns once it is ready. The server is stopped when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := startBinary(t, bin, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startBinary runs bin as the server.
func startBinary(t testing.TB, bin string, opts Options) (*Server, error) {
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	s := &Server{t: t, opts: opts, bin: bin, dataDir: opts.DataDir, logged: make(chan struct{})}
	if s.dataDir == "" {
		s.dataDir = t.TempDir()
	}
	if !opts.GenerateCredentials {
		s.accessKey, s.secretKey = RootUser, RootPassword
	}
	t.Cleanup(s.cleanup)
	return s, s.start()
}

// Endpoint is the server's URL, http://127.0.0.1:port.
func (s *Server) Endpoint() string { return "http://" + s.Addr() }

// Addr is the server's host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// AccessKey is the root access key.
func (s *Server) AccessKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accessKey
}

// SecretKey is the root secret key.
func (s *Server) SecretKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secretKey
}

// DataDir is the server's data folder.
func (s *Server) DataDir() string { return s.dataDir }

// Logs returns everything the server processes wrote to stderr so far,
// across restarts.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// WaitLog waits until a line of the server's stderr, from any start,
// contains substr, or ctx ends.
func (s *Server) WaitLog(ctx context.Context, substr string) error {
	_, err := s.WaitLogFrom(ctx, 0, substr)
	return err
}

// WaitLogFrom waits until a line of the server's stderr past byte offset
// from (a length of Logs taken earlier) contains substr, and returns that
// line, or ctx's error.
func (s *Server) WaitLogFrom(ctx context.Context, from int, substr string) (string, error) {
	for {
		s.mu.Lock()
		logs := s.stderr.String()
		changed := s.logged
		s.mu.Unlock()
		if i := strings.Index(logs[min(from, len(logs)):], substr); i >= 0 {
			i += min(from, len(logs))
			start := strings.LastIndexByte(logs[:i], '\n') + 1
			end := strings.IndexByte(logs[i:], '\n')
			if end < 0 {
				end = len(logs) - i
			}
			return logs[start : i+end], nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("testserver: no log line with %q: %w", substr, ctx.Err())
		}
	}
}

// Stdout returns everything the server processes wrote to stdout so far.
func (s *Server) Stdout() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stdout.String()
}

// Running reports whether the current process has not exited.
func (s *Server) Running() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Terminate sends SIGTERM and returns at once; Wait collects the exit.
func (s *Server) Terminate() {
	s.t.Helper()
	s.signal(syscall.SIGTERM)
}

// Wait waits for the process to exit, for at most StopTimeout after which
// it is killed, and returns its exit code (-1 when ended by a signal).
func (s *Server) Wait() int {
	s.t.Helper()
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return s.exitCode
	}
	timer := time.NewTimer(s.opts.StopTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.t.Errorf("testserver: server did not exit within %s of being asked; killing it", s.opts.StopTimeout)
		s.signal(syscall.SIGKILL)
		<-done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitCode
}

// Stop sends SIGTERM, waits for the process to exit (SIGKILL after
// StopTimeout) and returns its exit code.
func (s *Server) Stop() int {
	s.t.Helper()
	s.Terminate()
	return s.Wait()
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() {
	s.t.Helper()
	s.signal(syscall.SIGKILL)
	s.Wait()
}

// Restart stops the server if it runs (SIGTERM; a non-zero exit fails the
// test) and starts it again on the same data folder, on the same port
// unless another process took it meanwhile.
func (s *Server) Restart() {
	s.t.Helper()
	if s.Running() {
		if code := s.Stop(); code != 0 {
			s.t.Errorf("testserver: server exited with code %d on SIGTERM\n%s", code, tail(s.Logs(), 40))
		}
	}
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil || done == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	if err := signalGroup(cmd.Process, sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("testserver: signal %v: %v", sig, err)
	}
}

func (s *Server) cleanup() {
	if !s.Running() {
		return
	}
	if code := s.Stop(); code != 0 {
		s.t.Errorf("testserver: server exited with code %d on SIGTERM at the end of the test\n%s", code, tail(s.Logs(), 40))
	}
}

// start launches a process on the current port (a free one the first time,
// or when the current one is taken), retrying on a bind clash.
func (s *Server) start() error {
	var err error
	for attempt := 0; attempt < bindAttempts; attempt++ {
		port := s.port
		if port == 0 || attempt > 0 {
			if port, err = freePort(); err != nil {
				return err
			}
		}
		err = s.launch(port)
		if !errors.Is(err, errAddrInUse) {
			return err
		}
	}
	return fmt.Errorf("testserver: no free port after %d attempts: %w", bindAttempts, err)
}

// FreeAddr returns host:port with a port free on host (such as
// "127.0.0.2") at the time of the call, for a server's other listeners.
func FreeAddr(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("testserver: find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("testserver: %w", err)
	}
	return addr, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testserver: find a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("testserver: %w", err)
	}
	return port, nil
}

func (s *Server) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BASALT_") {
			env = append(env, kv)
		}
	}
	if !s.opts.GenerateCredentials {
		env = append(env, "BASALT_ROOT_USER="+RootUser, "BASALT_ROOT_PASSWORD="+RootPassword)
	}
	return append(env, s.opts.Env...)
}

// launch runs one process on port and waits until it is ready, has exited,
// or ReadyTimeout has passed.
func (s *Server) launch(port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append([]string{"server", "--data", s.dataDir, "--address", addr, "--log-format", "text"}, s.opts.Args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.environ()
	cmd.SysProcAttr = sysProcAttr()
	// Once the process has exited, do not wait long for output pipes that
	// a leftover child may hold open.
	cmd.WaitDelay = 5 * time.Second

	ready := make(chan string, 1)      // the address from the ready line
	keyShown := make(chan struct{}, 1) // the access key was printed
	s.mu.Lock()
	s.starts++
	banner := fmt.Sprintf("=== testserver: start %d on %s ===\n", s.starts, addr)
	s.stderr.WriteString(banner)
	s.stdout.WriteString(banner)
	s.mu.Unlock()
	stderr := &lineWriter{onLine: func(line string) {
		s.mu.Lock()
		s.stderr.WriteString(line + "\n")
		close(s.logged)
		s.logged = make(chan struct{})
		s.mu.Unlock()
		if a, ok := readyAddress(line); ok {
			select {
			case ready <- a:
			default:
			}
		}
	}}
	stdout := &lineWriter{onLine: func(line string) {
		s.mu.Lock()
		s.stdout.WriteString(line + "\n")
		shown := s.noteCredential(line)
		s.mu.Unlock()
		if shown {
			select {
			case keyShown <- struct{}{}:
			default:
			}
		}
	}}

	cmd.Stdout, cmd.Stderr = stdout, stderr

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testserver: start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.done, s.port = cmd, done, port
	s.mu.Unlock()
	go func() {
		_ = cmd.Wait()
		stdout.flush()
		stderr.flush()
		s.mu.Lock()
		s.exitCode = cmd.ProcessState.ExitCode()
		s.mu.Unlock()
		close(done)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ReadyTimeout)
	defer cancel()
	gotReady, gotKey := false, false
	for !gotReady || !gotKey {
		select {
		case a := <-ready:
			if a != addr {
				s.signal(syscall.SIGKILL)
				<-done
				return fmt.Errorf("testserver: server reports address %q, want %q", a, addr)
			}
			gotReady = true
		case <-keyShown:
			gotKey = true
		case <-done:
			logs := s.Logs()
			if strings.Contains(logs[strings.LastIndex(logs, banner):], "address already in use") {
				return errAddrInUse
			}
			s.mu.Lock()
			code := s.exitCode
			s.mu.Unlock()
			return fmt.Errorf("testserver: server exited with code %d before it was ready\nstdout:\n%s\nstderr:\n%s",
				code, tail(s.Stdout(), 20), tail(logs, 40))
		case <-ctx.Done():
			s.signal(syscall.SIGKILL)
			<-done
			return fmt.Errorf("testserver: server not ready within %s (ready line: %v, access key shown: %v)\n%s",
				s.opts.ReadyTimeout, gotReady, gotKey, tail(s.Logs(), 40))
		}
	}
	return nil
}

// noteCredential records the root credential the server printed; it
// reports whether the credential is now complete: the access key was
// shown and, for a generated one, its secret is known too (the secret
// line follows the access key line, so waiting for the access key alone
// would race with it). Called with s.mu held.
func (s *Server) noteCredential(line string) bool {
	text := strings.TrimSpace(strings.Trim(strings.TrimSpace(line), "|"))
	if v, ok := strings.CutPrefix(text, "Secret key:"); ok && s.opts.GenerateCredentials {
		s.secretKey = strings.TrimSpace(v)
		return s.accessKey != ""
	}
	for _, prefix := range []string{"Access key:", "Root access key:"} {
		if v, ok := strings.CutPrefix(text, prefix); ok {
			if !s.opts.GenerateCredentials {
				return true
			}
			s.accessKey = strings.TrimSpace(v)
			return s.secretKey != ""
		}
	}
	return false
}

// readyAddress returns the address attribute of the ready log line, in
// the text or JSON format.
func readyAddress(line string) (string, bool) {
	if !strings.Contains(line, `msg="`+readyMessage+`"`) && !strings.Contains(line, `"msg":"`+readyMessage+`"`) {
		return "", false
	}
	for _, key := range []string{"address=", `"address":"`} {
		if i := strings.Index(line, key); i >= 0 {
			v := line[i+len(key):]
			if j := strings.IndexAny(v, ` "`); j >= 0 {
				v = v[:j]
			}
			return v, true
		}
	}
	return "", true
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lineWriter calls onLine for every complete line written to it; flush
// passes on a last line without a newline.
type lineWriter struct {
	mu      sync.Mutex
	partial []byte
	onLine  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.onLine(line)
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		line := string(w.partial)
		w.partial = nil
		w.onLine(line)
	}
}
