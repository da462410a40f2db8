package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// ErrCrashed is returned by every operation of a CrashFS after its crash.
var ErrCrashed = errors.New("vfs: crashed")

// CrashFS simulates a machine that loses power. It counts the mutating
// operations (create, write, sync, rename, remove, mkdir, directory sync,
// and the writes of an embedded database, which ask Check with OpWrite);
// armed with CrashAt(n), the n-th of them and every operation after it
// fail with ErrCrashed, as if the machine stopped there. Settle then
// leaves on disk only what a real crash would keep:
//
//   - a file's bytes written after its last Sync are cut off (all of
//     them, for a file never synced);
//   - a creation or a rename not followed by a SyncDir of its directory is
//     undone (the file is removed, or renamed back).
//
// Directories made by MkdirAll and removals are taken as durable at once:
// a removal that a crash would undo only leaves an orphan file behind,
// which storage must tolerate anyway. An embedded database's own writes
// are durable when its call returns (it syncs them itself).
type CrashFS struct {
	inner FS

	mu      sync.Mutex
	ops     int
	crashAt int // 0: not armed
	crashed bool
	synced  map[string]int64   // size at the last Sync, by path; -1 never synced
	pending map[string][]event // by directory: not yet made durable by SyncDir
}

type event struct {
	rename   bool
	from, to string // from is empty for a creation
}

// NewCrashFS wraps inner.
func NewCrashFS(inner FS) *CrashFS {
	return &CrashFS{inner: inner, synced: map[string]int64{}, pending: map[string][]event{}}
}

// CrashAt arms the crash: the n-th mutating operation from now (n >= 1)
// fails, and everything after it.
func (c *CrashFS) CrashAt(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.crashAt = c.ops + n
}

// Ops returns how many mutating operations ran (or were refused) so far.
func (c *CrashFS) Ops() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops
}

// Crashed reports whether the crash happened.
func (c *CrashFS) Crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}

// mutate counts one mutating operation and says whether it may run.
func (c *CrashFS) mutate() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return ErrCrashed
	}
	c.ops++
	if c.crashAt > 0 && c.ops >= c.crashAt {
		c.crashed = true
		return ErrCrashed
	}
	return nil
}

func (c *CrashFS) alive() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return ErrCrashed
	}
	return nil
}

// Settle undoes what the crash would lose (see the type's comment). It
// runs after the crash, before the files are used again.
func (c *CrashFS) Settle() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, evs := range c.pending {
		for i := len(evs) - 1; i >= 0; i-- {
			e := evs[i]
			if e.rename {
				if err := c.inner.Rename(e.to, e.from); err != nil && !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, err)
				}
				if s, ok := c.synced[e.to]; ok {
					delete(c.synced, e.to)
					c.synced[e.from] = s
				}
				continue
			}
			if err := c.inner.Remove(e.to); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			delete(c.synced, e.to)
		}
	}
	c.pending = map[string][]event{}
	for path, size := range c.synced {
		fi, err := c.inner.Stat(path)
		if err != nil {
			continue
		}
		if size < 0 {
			size = 0
		}
		if fi.Size() > size {
			if err := os.Truncate(path, size); err != nil {
				errs = append(errs, err)
			}
		}
	}
	c.synced = map[string]int64{}
	return errors.Join(errs...)
}

// Check implements Checker: a database write is a mutating operation.
func (c *CrashFS) Check(op Op, path string) error {
	if op == OpWrite {
		return c.mutate()
	}
	if err := c.alive(); err != nil {
		return err
	}
	return Check(c.inner, op, path)
}

// Create implements FS.
func (c *CrashFS) Create(name string) (File, error) {
	if err := c.mutate(); err != nil {
		return nil, err
	}
	f, err := c.inner.Create(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.synced[name] = -1
	dir := filepath.Dir(name)
	c.pending[dir] = append(c.pending[dir], event{to: name})
	c.mu.Unlock()
	return &crashFile{File: f, fs: c, path: name}, nil
}

// Open implements FS.
func (c *CrashFS) Open(name string) (File, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	f, err := c.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &crashFile{File: f, fs: c, path: name}, nil
}

// OpenRW implements FS. Bytes written past the size at the file's last
// Sync are cut off by a crash; a punched hole is durable at once, as a
// removal is.
func (c *CrashFS) OpenRW(name string, create bool) (RWFile, error) {
	if create {
		if err := c.mutate(); err != nil {
			return nil, err
		}
	} else if err := c.alive(); err != nil {
		return nil, err
	}
	_, statErr := c.inner.Stat(name)
	f, err := c.inner.OpenRW(name, create)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, ok := c.synced[name]; !ok {
		if statErr != nil {
			c.synced[name] = -1
			dir := filepath.Dir(name)
			c.pending[dir] = append(c.pending[dir], event{to: name})
		} else if fi, err := f.Stat(); err == nil {
			c.synced[name] = fi.Size()
		}
	}
	c.mu.Unlock()
	return &crashRWFile{crashFile: crashFile{File: f, fs: c, path: name}, rw: f}, nil
}

type crashRWFile struct {
	crashFile
	rw RWFile
}

func (f *crashRWFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.mutate(); err != nil {
		return 0, err
	}
	return f.rw.WriteAt(p, off)
}

// Writeback implements RWFile: a hint, which makes nothing durable.
func (f *crashRWFile) Writeback(off, n int64) error {
	if err := f.fs.alive(); err != nil {
		return err
	}
	return f.rw.Writeback(off, n)
}

func (f *crashRWFile) NextData(off int64) (int64, error) {
	if err := f.fs.alive(); err != nil {
		return 0, err
	}
	return f.rw.NextData(off)
}

func (f *crashRWFile) Punch(off, n int64) error {
	if err := f.fs.mutate(); err != nil {
		return err
	}
	return f.rw.Punch(off, n)
}

// Rename implements FS.
func (c *CrashFS) Rename(o, n string) error {
	if err := c.mutate(); err != nil {
		return err
	}
	if err := c.inner.Rename(o, n); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.synced[o]; ok {
		delete(c.synced, o)
		c.synced[n] = s
	}
	dir := filepath.Dir(n)
	c.pending[dir] = append(c.pending[dir], event{rename: true, from: o, to: n})
	return nil
}

// Remove implements FS.
func (c *CrashFS) Remove(name string) error {
	if err := c.mutate(); err != nil {
		return err
	}
	return c.inner.Remove(name)
}

// RemoveAll implements FS.
func (c *CrashFS) RemoveAll(name string) error {
	if err := c.mutate(); err != nil {
		return err
	}
	return c.inner.RemoveAll(name)
}

// MkdirAll implements FS.
func (c *CrashFS) MkdirAll(name string, perm fs.FileMode) error {
	if err := c.mutate(); err != nil {
		return err
	}
	return c.inner.MkdirAll(name, perm)
}

// ReadDir implements FS.
func (c *CrashFS) ReadDir(name string) ([]os.DirEntry, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	return c.inner.ReadDir(name)
}

// Stat implements FS.
func (c *CrashFS) Stat(name string) (os.FileInfo, error) {
	if err := c.alive(); err != nil {
		return nil, err
	}
	return c.inner.Stat(name)
}

// SyncDir implements FS: what was created or renamed into the directory
// is durable from now on.
func (c *CrashFS) SyncDir(name string) error {
	if err := c.mutate(); err != nil {
		return err
	}
	if err := c.inner.SyncDir(name); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, filepath.Clean(name))
	return nil
}

type crashFile struct {
	File
	fs   *CrashFS
	path string
}

func (f *crashFile) Write(p []byte) (int, error) {
	if err := f.fs.mutate(); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *crashFile) Read(p []byte) (int, error) {
	if err := f.fs.alive(); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *crashFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.alive(); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *crashFile) Sync() error {
	if err := f.fs.mutate(); err != nil {
		return err
	}
	if err := f.File.Sync(); err != nil {
		return err
	}
	fi, err := f.File.Stat()
	if err != nil {
		return err
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if _, ok := f.fs.synced[f.path]; ok {
		f.fs.synced[f.path] = fi.Size()
	}
	return nil
}
