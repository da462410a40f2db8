package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Names of the environment variables that set the root credential.
const (
	EnvUser     = "BASALT_ROOT_USER"
	EnvPassword = "BASALT_ROOT_PASSWORD"
)

// FileName is the name of the file, inside the directory given to Load,
// that keeps a generated root credential.
const FileName = "root.json"

// Lengths of credentials: the minimum S3 servers accept for a user-chosen
// credential, and the length of generated ones (as AWS issues them).
const (
	MinUserLen         = 3
	MinPasswordLen     = 8
	GeneratedUserLen   = 20
	GeneratedSecretLen = 40
)

// Errors returned by Load. Callers check them with errors.Is.
var (
	ErrPartialEnv   = errors.New("identity: " + EnvUser + " and " + EnvPassword + " must be set together")
	ErrShortUser    = fmt.Errorf("identity: root user must be at least %d characters", MinUserLen)
	ErrShortSecret  = fmt.Errorf("identity: root password must be at least %d characters", MinPasswordLen)
	ErrBadCharacter = errors.New("identity: root credential contains a space or control character")
	ErrCorruptFile  = errors.New("identity: root credential file is not valid")
)

// Root is the root credential. It implements the credential lookup the
// SigV4 verifier needs: SecretKey(accessKey) (secret, ok).
type Root struct {
	AccessKey       string `json:"accessKey"`
	SecretAccessKey string `json:"secretKey"`
}

// SecretKey returns the secret of accessKey, and whether accessKey is the
// root's.
func (r Root) SecretKey(accessKey string) (string, bool) {
	if r.AccessKey == "" || subtle.ConstantTimeCompare([]byte(accessKey), []byte(r.AccessKey)) != 1 {
		return "", false
	}
	return r.SecretAccessKey, true
}

// Validate checks the lengths and characters of the credential.
func (r Root) Validate() error {
	if len(r.AccessKey) < MinUserLen {
		return ErrShortUser
	}
	if len(r.SecretAccessKey) < MinPasswordLen {
		return ErrShortSecret
	}
	for _, s := range []string{r.AccessKey, r.SecretAccessKey} {
		for _, c := range s {
			if c <= ' ' || c == 0x7f {
				return ErrBadCharacter
			}
		}
	}
	return nil
}

// Load returns the root credential: from the environment (read through env,
// usually os.Getenv) when EnvUser and EnvPassword are both set, else from
// <dir>/root.json, else a new one, written to <dir>/root.json, with
// created=true. dir is created when missing.
func Load(dir string, env func(string) string) (root Root, created bool, err error) {
	user, pass := env(EnvUser), env(EnvPassword)
	switch {
	case user != "" && pass != "":
		r := Root{AccessKey: user, SecretAccessKey: pass}
		if err := r.Validate(); err != nil {
			return Root{}, false, err
		}
		return r, false, nil
	case user != "" || pass != "":
		return Root{}, false, ErrPartialEnv
	}

	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var r Root
		if err := json.Unmarshal(data, &r); err != nil {
			return Root{}, false, fmt.Errorf("%w: %s: %v", ErrCorruptFile, path, err)
		}
		if err := r.Validate(); err != nil {
			return Root{}, false, fmt.Errorf("%w: %s: %w", ErrCorruptFile, path, err)
		}
		return r, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Root{}, false, fmt.Errorf("identity: read %s: %w", path, err)
	}

	r, err := Generate()
	if err != nil {
		return Root{}, false, err
	}
	if err := writeFile(dir, r); err != nil {
		return Root{}, false, err
	}
	return r, true, nil
}

// Generate makes a new random credential: a 20-character access key of
// upper-case letters and digits and a 40-character secret of letters and
// digits, from crypto/rand.
func Generate() (Root, error) {
	const (
		upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		mixed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	)
	ak, err := randomString(upper, GeneratedUserLen)
	if err != nil {
		return Root{}, err
	}
	sk, err := randomString(mixed, GeneratedSecretLen)
	if err != nil {
		return Root{}, err
	}
	return Root{AccessKey: ak, SecretAccessKey: sk}, nil
}

// randomString draws n characters uniformly from alphabet (rejection
// sampling, so no character is more likely than another).
func randomString(alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("identity: random source: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// writeFile stores r in <dir>/root.json durably: a temporary file in dir,
// written and fsynced, renamed over the target, then dir fsynced.
func writeFile(dir string, r Root) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("identity: create %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("identity: encode: %w", err)
	}
	data = append(data, '\n')

	tmp, err := os.CreateTemp(dir, ".root-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("identity: create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("identity: chmod %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("identity: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("identity: fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("identity: close %s: %w", tmp.Name(), err)
	}
	path := filepath.Join(dir, FileName)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("identity: rename to %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("identity: open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("identity: fsync %s: %w", dir, err)
	}
	return nil
}

// ErrNoCredential: no root credential is kept in the directory.
var ErrNoCredential = errors.New("identity: no root credential kept there")

// Read returns the root credential kept in <dir>/root.json, without ever
// creating one (for clients such as `basalt admin`).
func Read(dir string) (Root, error) {
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Root{}, fmt.Errorf("%w: %s", ErrNoCredential, path)
	}
	if err != nil {
		return Root{}, fmt.Errorf("identity: read %s: %w", path, err)
	}
	var r Root
	if err := json.Unmarshal(data, &r); err != nil {
		return Root{}, fmt.Errorf("%w: %s: %v", ErrCorruptFile, path, err)
	}
	if err := r.Validate(); err != nil {
		return Root{}, fmt.Errorf("%w: %s: %w", ErrCorruptFile, path, err)
	}
	return r, nil
}
