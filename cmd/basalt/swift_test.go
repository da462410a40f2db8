package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/basaltstore/basalt/internal/testserver"
)

// Swift and Keystone against a real server: python-swiftclient's CLI with
// tempauth and with Keystone v3, and the same objects through S3.

func swiftCLI(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"swift", "/usr/bin/swift"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatalf("python-swiftclient is not installed: %s", installHint)
	return ""
}

// swiftEnv is an environment without OS_* or ST_* settings of the user.
func swiftEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") && !strings.HasPrefix(kv, "ST_") {
			env = append(env, kv)
		}
	}
	return env
}

func TestSwiftClientCLI(t *testing.T) {
	swift := swiftCLI(t)
	srv := testserver.Start(t, testserver.Options{})
	adminRun(t, srv, "project", "create", "demo")
	adminRun(t, srv, "user", "create", "dana", "--password", "dana-secret-1", "--project", "demo")
	adminRun(t, srv, "role", "add", "dana", "demo", "member")

	dir := t.TempDir()
	data := payload(21, 3<<20+17)
	if err := os.WriteFile(filepath.Join(dir, "photo.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	auths := map[string][]string{
		"tempauth": {"-A", srv.Endpoint() + "/auth/v1.0", "-U", "demo:dana", "-K", "dana-secret-1"},
		"keystone-v3": {"--auth-version", "3", "--os-auth-url", srv.Endpoint() + "/v3",
			"--os-username", "dana", "--os-password", "dana-secret-1", "--os-project-name", "demo",
			"--os-user-domain-id", "default", "--os-project-domain-id", "default"},
	}
	for name, auth := range auths {
		t.Run(name, func(t *testing.T) {
			run := func(args ...string) string {
				t.Helper()
				cmd := exec.Command(swift, append(append([]string{}, auth...), args...)...)
				cmd.Env, cmd.Dir = swiftEnv(), dir
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				if err := cmd.Run(); err != nil {
					t.Fatalf("swift %v: %v\n%s%s", args, err, out.String(), errb.String())
				}
				return out.String()
			}
			cont := "photos-" + strings.ReplaceAll(name, "-", "")
			if out := run("stat"); !strings.Contains(out, "Account: AUTH_") {
				t.Fatalf("swift stat:\n%s", out)
			}
			run("upload", cont, "photo.bin")
			if out := run("list"); !strings.Contains(out, cont) {
				t.Fatalf("swift list:\n%s", out)
			}
			if out := run("list", cont); strings.TrimSpace(out) != "photo.bin" {
				t.Fatalf("swift list %s:\n%s", cont, out)
			}
			if out := run("stat", cont, "photo.bin"); !strings.Contains(out, "Content Length: 3145745") {
				t.Fatalf("swift stat object:\n%s", out)
			}
			back := filepath.Join(dir, "back-"+name)
			run("download", cont, "photo.bin", "-o", back)
			got, err := os.ReadFile(back)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes (%v), want the %d uploaded", len(got), err, len(data))
			}
			run("delete", cont, "photo.bin")
			if out := run("list", cont); strings.TrimSpace(out) != "" {
				t.Fatalf("list after delete:\n%s", out)
			}
			// A large object in 1 MiB segments, kept in the client's
			// "<container>_segments": a dynamic manifest by default, a
			// static one with --use-slo.
			seg := []string{"upload", "--segment-size", "1048576", "--object-name", "big.bin", cont, "photo.bin"}
			if name == "keystone-v3" {
				seg = append(seg[:1], append([]string{"--use-slo"}, seg[1:]...)...)
			}
			run(seg...)
			if out := run("list", cont+"_segments"); strings.Count(out, "\n") != 4 {
				t.Fatalf("segments:\n%s", out)
			}
			run("download", cont, "big.bin", "-o", back)
			if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("downloaded large object of %d bytes (%v), want the %d uploaded", len(got), err, len(data))
			}
			run("delete", cont, "big.bin")
			if out := run("list", cont+"_segments"); strings.TrimSpace(out) != "" {
				t.Fatalf("segments left after deleting the large object:\n%s", out)
			}
			run("delete", cont)
		})
	}
}

// keystoneToken gets a project-scoped token by password.
func keystoneToken(t *testing.T, srv *testserver.Server, user, password, project string) (token, storageURL string) {
	t.Helper()
	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"` + user +
		`","domain":{"id":"default"},"password":"` + password + `"}}},"scope":{"project":{"name":"` + project +
		`","domain":{"id":"default"}}}}}`
	resp, err := http.Post(srv.Endpoint()+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Token struct {
			Catalog []struct {
				Type      string
				Endpoints []struct{ Interface, URL string }
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v3/auth/tokens: %d %v", resp.StatusCode, err)
	}
	for _, s := range doc.Token.Catalog {
		for _, e := range s.Endpoints {
			if s.Type == "object-store" && e.Interface == "public" {
				storageURL = e.URL
			}
		}
	}
	return resp.Header.Get("X-Subject-Token"), storageURL
}

func swiftDo(t *testing.T, method, url, token string, body []byte, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestSwiftAndS3ShareObjects: an object written through Swift is read
// through S3 with the same project's key, metadata included, and the
// reverse; another project's token reaches neither.
func TestSwiftAndS3ShareObjects(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s3c := tenant(t, srv, "shared", "sam", "member")
	adminRun(t, srv, "user", "create", "sam", "--password", "sam-secret-1", "--project", "shared")
	tenant(t, srv, "other", "olga", "member")
	adminRun(t, srv, "user", "create", "olga", "--password", "olga-secret-1", "--project", "other")

	token, storage := keystoneToken(t, srv, "sam", "sam-secret-1", "shared")
	if token == "" || !strings.Contains(storage, "/v1/AUTH_") {
		t.Fatalf("token %q, storage URL %q", token, storage)
	}
	if r := swiftDo(t, http.MethodPut, storage+"/mixed", token, nil, nil); r.StatusCode != http.StatusCreated {
		t.Fatalf("PUT container: %d", r.StatusCode)
	}
	r := swiftDo(t, http.MethodPut, storage+"/mixed/from-swift.txt", token, []byte("written by swift"),
		map[string]string{"X-Object-Meta-Color": "blue", "Content-Type": "text/plain"})
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("PUT object: %d", r.StatusCode)
	}
	obj, err := s3c.GetObject(ctx, "mixed", "from-swift.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(obj)
	if err != nil || string(b) != "written by swift" {
		t.Fatalf("S3 GET of a Swift object: %q %v", b, err)
	}
	st, _ := obj.Stat()
	if st.UserMetadata["Color"] != "blue" || st.ContentType != "text/plain" {
		t.Fatalf("S3 sees metadata %v, type %q", st.UserMetadata, st.ContentType)
	}
	if _, err := s3c.PutObject(ctx, "mixed", "from-s3.txt", strings.NewReader("written by s3"), 13,
		minio.PutObjectOptions{UserMetadata: map[string]string{"Shape": "round"}}); err != nil {
		t.Fatal(err)
	}
	r = swiftDo(t, http.MethodGet, storage+"/mixed/from-s3.txt", token, nil, nil)
	b, _ = io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK || string(b) != "written by s3" || r.Header.Get("X-Object-Meta-Shape") != "round" {
		t.Fatalf("Swift GET of an S3 object: %d %q %v", r.StatusCode, b, r.Header)
	}
	r = swiftDo(t, http.MethodGet, storage+"/mixed?format=json", token, nil, nil)
	var listing []struct{ Name string }
	if err := json.NewDecoder(r.Body).Decode(&listing); err != nil || len(listing) != 2 {
		t.Fatalf("container listing: %+v %v", listing, err)
	}

	// Another project's token: its own account works, this one does not.
	otherToken, otherStorage := keystoneToken(t, srv, "olga", "olga-secret-1", "other")
	if r := swiftDo(t, http.MethodGet, otherStorage, otherToken, nil, nil); r.StatusCode/100 != 2 {
		t.Fatalf("own account: %d", r.StatusCode)
	}
	for _, u := range []string{storage, storage + "/mixed", storage + "/mixed/from-s3.txt"} {
		if r := swiftDo(t, http.MethodGet, u, otherToken, nil, nil); r.StatusCode != http.StatusForbidden {
			t.Fatalf("GET %s with another project's token: %d", u, r.StatusCode)
		}
	}
	// Another project's account path with its own token, to a container of
	// this one: not found there, and not listed.
	if r := swiftDo(t, http.MethodGet, otherStorage+"/mixed/from-s3.txt", otherToken, nil, nil); r.StatusCode == http.StatusOK {
		t.Fatal("a container of one project is reachable through another's account")
	}
	if r := swiftDo(t, http.MethodGet, storage, "forged"+token, nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged token: %d", r.StatusCode)
	}
	// Tokens are checked after a restart too (the key is in the catalog).
	srv.Restart()
	if r := swiftDo(t, http.MethodGet, storage+"/mixed/from-swift.txt", token, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("token after restart: %d", r.StatusCode)
	}
	// Revoked: refused.
	if r := swiftDo(t, http.MethodDelete, srv.Endpoint()+"/v3/auth/tokens", token, nil, map[string]string{"X-Subject-Token": token}); r.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", r.StatusCode)
	}
	if r := swiftDo(t, http.MethodGet, storage, token, nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", r.StatusCode)
	}
}

// TestDomainsKeepNamesApart: a domain made with `basalt admin domain`
// holds its own projects and users; Keystone finds them by the domain's
// name, and the same names elsewhere are other records.
func TestDomainsKeepNamesApart(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	adminRun(t, srv, "domain", "create", "eng")
	adminRun(t, srv, "project", "create", "web", "--domain", "eng")
	adminRun(t, srv, "user", "create", "ann", "--password", "ann-secret-1", "--project", "web", "--domain", "eng")
	adminRun(t, srv, "role", "add", "ann", "web", "member", "--domain", "eng")
	if out := adminRun(t, srv, "domain", "list"); !strings.Contains(out, "eng") || !strings.Contains(out, "Default") {
		t.Fatalf("domain list:\n%s", out)
	}
	token := func(domain string) int {
		body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"ann","domain":{"name":"` + domain +
			`"},"password":"ann-secret-1"}}},"scope":{"project":{"name":"web","domain":{"name":"` + domain + `"}}}}}`
		resp, err := http.Post(srv.Endpoint()+"/v3/auth/tokens", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := token("eng"); got != http.StatusCreated {
		t.Fatalf("token in domain eng: %d", got)
	}
	if got := token("Default"); got != http.StatusUnauthorized {
		t.Fatalf("the same names in the default domain: %d", got)
	}
	if _, errOut, err := basaltAdmin(t, srv, rootEnv(srv), "domain", "create", "eng"); err == nil || !strings.Contains(errOut, "exists") {
		t.Fatalf("a second domain eng: %v %s", err, errOut)
	}
}
