package identity

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadFromEnv(t *testing.T) {
	dir := t.TempDir()
	r, created, err := Load(dir, envOf(map[string]string{EnvUser: "admin", EnvPassword: "password1"}))
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true for a credential from the environment")
	}
	if r.AccessKey != "admin" || r.SecretAccessKey != "password1" {
		t.Errorf("root = %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("environment credential was written to disk: stat err = %v", err)
	}
}

func TestLoadEnvErrors(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want error
	}{
		{"user only", map[string]string{EnvUser: "admin"}, ErrPartialEnv},
		{"password only", map[string]string{EnvPassword: "password1"}, ErrPartialEnv},
		{"short user", map[string]string{EnvUser: "ab", EnvPassword: "password1"}, ErrShortUser},
		{"short password", map[string]string{EnvUser: "admin", EnvPassword: "1234567"}, ErrShortSecret},
		{"space", map[string]string{EnvUser: "ad min", EnvPassword: "password1"}, ErrBadCharacter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load(t.TempDir(), envOf(tc.env))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestLoadGeneratesOnceAndKeeps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "identity")
	r1, created, err := Load(dir, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("created = false on first load")
	}
	if !regexp.MustCompile(`^[A-Z0-9]{20}$`).MatchString(r1.AccessKey) {
		t.Errorf("access key %q is not 20 upper-case letters or digits", r1.AccessKey)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(r1.SecretAccessKey) {
		t.Errorf("secret %q is not 40 letters or digits", r1.SecretAccessKey)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("root.json mode = %o, want 600", perm)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only %s (temporary file left behind?)", len(entries), FileName)
	}

	r2, created, err := Load(dir, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("created = true on second load")
	}
	if r2 != r1 {
		t.Errorf("second load = %+v, want %+v", r2, r1)
	}

	// The environment wins over the file, and leaves it alone.
	r3, _, err := Load(dir, envOf(map[string]string{EnvUser: "other", EnvPassword: "password2"}))
	if err != nil {
		t.Fatal(err)
	}
	if r3.AccessKey != "other" {
		t.Errorf("environment did not take precedence: %+v", r3)
	}
	r4, _, err := Load(dir, envOf(nil))
	if err != nil || r4 != r1 {
		t.Errorf("file changed after an environment load: %+v, %v", r4, err)
	}
}

func TestGenerateDiffers(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessKey == b.AccessKey || a.SecretAccessKey == b.SecretAccessKey {
		t.Errorf("two generated credentials share a part: %+v %+v", a, b)
	}
}

func TestLoadCorruptFile(t *testing.T) {
	for name, content := range map[string]string{
		"not json":     "{nope",
		"empty fields": `{"accessKey":"","secretKey":""}`,
		"short secret": `{"accessKey":"ABCDEFGH","secretKey":"short"}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, created, err := Load(dir, envOf(nil))
			if !errors.Is(err, ErrCorruptFile) {
				t.Fatalf("err = %v, want ErrCorruptFile", err)
			}
			if created {
				t.Error("a corrupt file was replaced by a new credential")
			}
		})
	}
}

func TestLoadUnreadableDir(t *testing.T) {
	// A regular file where the directory should be: no credential can be
	// kept, and Load must say so rather than hand out one it cannot keep.
	parent := t.TempDir()
	blocker := filepath.Join(parent, "identity")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(blocker, envOf(nil)); err == nil {
		t.Fatal("Load succeeded with a file in place of its directory")
	}
}

func TestSecretKey(t *testing.T) {
	r := Root{AccessKey: "AKEXAMPLE", SecretAccessKey: "secret-secret"}
	if s, ok := r.SecretKey("AKEXAMPLE"); !ok || s != "secret-secret" {
		t.Errorf("SecretKey(root) = %q, %v", s, ok)
	}
	for _, ak := range []string{"", "akexample", "AKEXAMPLE2", "AKEXAMPL"} {
		if s, ok := r.SecretKey(ak); ok || s != "" {
			t.Errorf("SecretKey(%q) = %q, %v; want not found", ak, s, ok)
		}
	}
	if _, ok := (Root{}).SecretKey(""); ok {
		t.Error("an empty Root matched an empty access key")
	}
}
