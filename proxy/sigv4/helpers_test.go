package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The example credentials of the AWS documentation.
const (
	exampleAK = "AKIAIOSFODNN7EXAMPLE"
	exampleSK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// keys is a CredentialStore backed by a map.
type keys map[string]string

func (k keys) SecretKey(ak string) (string, bool) {
	s, ok := k[ak]
	return s, ok
}

// exampleTime is the instant of every AWS documentation example.
var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

// newVerifier returns a Verifier for us-east-1 with the example
// credentials and a clock stopped at now.
func newVerifier(now time.Time) *Verifier {
	return &Verifier{
		Region: "us-east-1",
		Creds:  keys{exampleAK: exampleSK},
		Now:    func() time.Time { return now },
	}
}

// serverRequest parses a raw HTTP/1.1 request the way net/http's server
// does, so that tests see what a handler would see.
func serverRequest(t testing.TB, raw []byte) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("parsing request: %v", err)
	}
	return r
}

// wire serializes a client request (as a client would send it) and parses
// it back as a server request.
func wire(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	return serverRequest(t, wireBytes(t, req))
}

func wireBytes(t testing.TB, req *http.Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatalf("writing request: %v", err)
	}
	return buf.Bytes()
}

// splitWire separates the head (through the blank line) from the body.
func splitWire(t testing.TB, raw []byte) (head, body []byte) {
	t.Helper()
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatal("no end of headers")
	}
	return raw[:i+4], raw[i+4:]
}

// withBody replaces the body of a serialized request, fixing Content-Length.
func withBody(t testing.TB, raw, body []byte) []byte {
	t.Helper()
	head, _ := splitWire(t, raw)
	lines := strings.Split(string(head), "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.ToLower(l), "content-length:") {
			lines[i] = "Content-Length: " + strconv.Itoa(len(body))
		}
	}
	return append([]byte(strings.Join(lines, "\r\n")), body...)
}

// readAll reads a Result body to the end.
func readAll(t testing.TB, res *Result) ([]byte, error) {
	t.Helper()
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	return data, err
}

// wantErr fails unless err is, or derives from, want.
func wantErr(t testing.TB, what string, err error, want *Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %s (%s)", what, err, want.Code, want.Message)
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != want.Code || e.Status != want.Status {
		t.Errorf("%s: error %v does not carry code %s status %d", what, err, want.Code, want.Status)
	}
}
