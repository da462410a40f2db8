package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/basaltstore/basalt/internal/vfs"
)

// FaultInjectionEnv, set to 1 in a server's environment, lets a test make
// one of its disks start failing while it runs: while a disk's directory
// holds FaultMarker, every file system operation of the store on that
// disk fails, as on a dying drive. Nothing else changes; the variable is
// for test harnesses (the thrasher), not for operators.
const FaultInjectionEnv = "BASALT_FAULT_INJECTION"

// FaultMarker is the file that makes a disk fail (see FaultInjectionEnv).
const FaultMarker = "FAIL-IO"

// faultFS returns the file system the store uses when fault injection is
// on: the operating system's, failing on the disks marked. It watches the
// markers until ctx ends.
func faultFS(ctx context.Context, disks []string) vfs.FS {
	efs := vfs.NewErrorFS(vfs.Default)
	failing := make([]atomic.Bool, len(disks))
	efs.Inject(func(_ vfs.Op, path string) bool {
		for i, d := range disks {
			if failing[i].Load() && (path == d || strings.HasPrefix(path, d+string(filepath.Separator))) {
				return true
			}
		}
		return false
	})
	check := func() {
		for i, d := range disks {
			_, err := os.Stat(filepath.Join(d, FaultMarker))
			failing[i].Store(err == nil)
		}
	}
	check()
	go every(ctx, 100*time.Millisecond, check)
	return efs
}

// every calls fn each period until ctx ends.
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
