package vfs

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// Op names an operation that ErrorFS can fail.
type Op string

// Operations that can be failed.
const (
	OpCreate  Op = "create"
	OpOpen    Op = "open"
	OpWrite   Op = "write"
	OpRead    Op = "read"
	OpSync    Op = "sync"
	OpRename  Op = "rename"
	OpRemove  Op = "remove"
	OpMkdir   Op = "mkdir"
	OpReadDir Op = "readdir"
	OpStat    Op = "stat"
)

// ErrInjected is returned by operations that ErrorFS was told to fail.
var ErrInjected = errors.New("vfs: injected fault")

// Rule decides whether an operation on a path fails.
type Rule func(op Op, path string) bool

// OnPrefix fails every listed operation (all, when none is listed) on paths
// under prefix.
func OnPrefix(prefix string, ops ...Op) Rule {
	return func(op Op, path string) bool {
		if !strings.HasPrefix(path, prefix) {
			return false
		}
		if len(ops) == 0 {
			return true
		}
		for _, o := range ops {
			if o == op {
				return true
			}
		}
		return false
	}
}

// ErrorFS wraps an FS and fails operations that match any of its rules.
type ErrorFS struct {
	inner FS
	mu    sync.RWMutex
	rules []Rule
}

// NewErrorFS wraps inner.
func NewErrorFS(inner FS) *ErrorFS { return &ErrorFS{inner: inner} }

// Inject adds a rule.
func (e *ErrorFS) Inject(r Rule) {
	e.mu.Lock()
	e.rules = append(e.rules, r)
	e.mu.Unlock()
}

// Reset removes every rule.
func (e *ErrorFS) Reset() {
	e.mu.Lock()
	e.rules = nil
	e.mu.Unlock()
}

func (e *ErrorFS) fail(op Op, path string) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, r := range e.rules {
		if r(op, path) {
			return &fs.PathError{Op: string(op), Path: path, Err: ErrInjected}
		}
	}
	return nil
}

// Create implements FS.
func (e *ErrorFS) Create(name string) (File, error) {
	if err := e.fail(OpCreate, name); err != nil {
		return nil, err
	}
	f, err := e.inner.Create(name)
	if err != nil {
		return nil, err
	}
	return &errFile{File: f, fs: e}, nil
}

// Open implements FS.
func (e *ErrorFS) Open(name string) (File, error) {
	if err := e.fail(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := e.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &errFile{File: f, fs: e}, nil
}

// Rename implements FS.
func (e *ErrorFS) Rename(o, n string) error {
	if err := e.fail(OpRename, n); err != nil {
		return err
	}
	return e.inner.Rename(o, n)
}

// Remove implements FS.
func (e *ErrorFS) Remove(name string) error {
	if err := e.fail(OpRemove, name); err != nil {
		return err
	}
	return e.inner.Remove(name)
}

// RemoveAll implements FS.
func (e *ErrorFS) RemoveAll(name string) error {
	if err := e.fail(OpRemove, name); err != nil {
		return err
	}
	return e.inner.RemoveAll(name)
}

// MkdirAll implements FS.
func (e *ErrorFS) MkdirAll(name string, perm fs.FileMode) error {
	if err := e.fail(OpMkdir, name); err != nil {
		return err
	}
	return e.inner.MkdirAll(name, perm)
}

// ReadDir implements FS.
func (e *ErrorFS) ReadDir(name string) ([]os.DirEntry, error) {
	if err := e.fail(OpReadDir, name); err != nil {
		return nil, err
	}
	return e.inner.ReadDir(name)
}

// Stat implements FS.
func (e *ErrorFS) Stat(name string) (os.FileInfo, error) {
	if err := e.fail(OpStat, name); err != nil {
		return nil, err
	}
	return e.inner.Stat(name)
}

// SyncDir implements FS.
func (e *ErrorFS) SyncDir(name string) error {
	if err := e.fail(OpSync, name); err != nil {
		return err
	}
	return e.inner.SyncDir(name)
}

// OpenRW implements FS.
func (e *ErrorFS) OpenRW(name string, create bool) (RWFile, error) {
	op := OpOpen
	if create {
		op = OpCreate
	}
	if err := e.fail(op, name); err != nil {
		return nil, err
	}
	f, err := e.inner.OpenRW(name, create)
	if err != nil {
		return nil, err
	}
	return &errRWFile{errFile: errFile{File: f, fs: e}, rw: f}, nil
}

type errRWFile struct {
	errFile
	rw RWFile
}

func (f *errRWFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.fail(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.rw.WriteAt(p, off)
}

func (f *errRWFile) Writeback(off, n int64) error { return f.rw.Writeback(off, n) }

func (f *errRWFile) NextData(off int64) (int64, error) {
	if err := f.fs.fail(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.rw.NextData(off)
}

func (f *errRWFile) Punch(off, n int64) error {
	if err := f.fs.fail(OpWrite, f.Name()); err != nil {
		return err
	}
	return f.rw.Punch(off, n)
}

type errFile struct {
	File
	fs *ErrorFS
}

func (f *errFile) Write(p []byte) (int, error) {
	if err := f.fs.fail(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *errFile) Read(p []byte) (int, error) {
	if err := f.fs.fail(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Read(p)
}

func (f *errFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.fail(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *errFile) Sync() error {
	if err := f.fs.fail(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

// Checker is implemented by file systems that inject faults; storage that
// does its I/O outside the FS (an embedded database) asks it before each
// operation, so one ErrorFS governs all of a disk's I/O.
type Checker interface {
	Check(op Op, path string) error
}

// Check implements Checker.
func (e *ErrorFS) Check(op Op, path string) error { return e.fail(op, path) }

// Check asks fsys whether op on path should fail; file systems that do not
// inject faults always say no.
func Check(fsys FS, op Op, path string) error {
	if c, ok := fsys.(Checker); ok {
		return c.Check(op, path)
	}
	return nil
}
