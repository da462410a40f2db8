package testserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// buildTimeout bounds the one build of the binary.
const buildTimeout = 10 * time.Minute

// The binary is built once per test process and shared by every server.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary returns the path of the basalt binary built from the module that
// holds the working directory, building it on the first call.
func Binary() (string, error) {
	build.once.Do(func() {
		build.path, build.dir, build.err = buildBinary()
	})
	return build.path, build.err
}

// Main runs the tests of m and then removes the built binary; use it as
// os.Exit(testserver.Main(m)) in TestMain.
func Main(m interface{ Run() int }) int {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	return code
}

func buildBinary() (bin, dir string, err error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", "", err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", "", fmt.Errorf("testserver: go tool not found: %w", err)
	}
	dir, err = os.MkdirTemp("", "basalt-testserver-")
	if err != nil {
		return "", "", fmt.Errorf("testserver: %w", err)
	}
	bin = filepath.Join(dir, "basalt")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/basalt")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return "", "", fmt.Errorf("testserver: go build ./cmd/basalt: %w\n%s", err, out.String())
	}
	return bin, dir, nil
}

// ModuleRoot returns the folder holding go.mod, found from the working
// directory upwards.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("testserver: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testserver: no go.mod above the working directory")
		}
		dir = parent
	}
}
