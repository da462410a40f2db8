// Package vfs is the file system seam of Basalt: every disk access of the
// storage core goes through an FS, so that tests can fail writes, fsyncs and
// reads on one disk, or corrupt bytes, without touching the code under test.
//
// Default is the operating system's file system. ErrorFS (errorfs.go) wraps
// any FS and injects errors by operation and path.
//
// Concurrency: implementations are safe for concurrent use.
package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// File is an open file.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Closer
	Sync() error
	Stat() (os.FileInfo, error)
	Name() string
}

// RWFile is an open file written at offsets: an append-only segment,
// written by one writer at a time and read by many.
type RWFile interface {
	File
	io.WriterAt
	// Punch frees the bytes [off, off+n): they read as zeros from then
	// on, the file's size unchanged.
	Punch(off, n int64) error
	// Writeback starts writing the bytes [off, off+n) to the device and
	// returns without waiting: a hint, so that a later Sync has less
	// left to do. It makes nothing durable.
	Writeback(off, n int64) error
	// NextData returns the first offset at or after off that is not in a
	// hole, or io.EOF when there is none.
	NextData(off int64) (int64, error)
}

// FS is the set of file system operations the storage core uses.
type FS interface {
	// Create creates (or truncates) a file for writing.
	Create(name string) (File, error)
	// Open opens a file for reading.
	Open(name string) (File, error)
	// OpenRW opens a file for reading and writing at offsets, creating it
	// (empty) when create is set and it does not exist.
	OpenRW(name string, create bool) (RWFile, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	RemoveAll(name string) error
	MkdirAll(name string, perm fs.FileMode) error
	ReadDir(name string) ([]os.DirEntry, error)
	Stat(name string) (os.FileInfo, error)
	// SyncDir fsyncs a directory, making renames and creations in it durable.
	SyncDir(name string) error
}

// Default is the operating system's file system.
var Default FS = osFS{}

type osFS struct{}

func (osFS) Create(name string) (File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}
func (osFS) Open(name string) (File, error)               { return os.Open(name) }
func (osFS) Rename(o, n string) error                     { return os.Rename(o, n) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                  { return os.RemoveAll(name) }
func (osFS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }
func (osFS) ReadDir(name string) ([]os.DirEntry, error)   { return os.ReadDir(name) }
func (osFS) Stat(name string) (os.FileInfo, error)        { return os.Stat(name) }
func (osFS) SyncDir(name string) error {
	d, err := os.Open(filepath.Clean(name))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (osFS) OpenRW(name string, create bool) (RWFile, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(name, flag, 0o644)
	if err != nil {
		return nil, err
	}
	return osRWFile{f}, nil
}

type osRWFile struct{ *os.File }

func (f osRWFile) Writeback(off, n int64) error {
	return unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

func (f osRWFile) NextData(off int64) (int64, error) {
	return NextData(f.File, off)
}

// NextData returns the first offset at or after off of f that is not in
// a hole (SEEK_DATA), or io.EOF when there is none. It moves f's offset.
func NextData(f *os.File, off int64) (int64, error) {
	n, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return 0, io.EOF
	}
	return n, err
}

func (f osRWFile) Punch(off, n int64) error {
	if n <= 0 {
		return nil
	}
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}
