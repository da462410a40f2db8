package disk

import "io"

// Volume is a disk as the object layer sees it: a local Disk, or a disk of
// another node reached over the internal shard API. Every method is safe
// for concurrent use.
type Volume interface {
	// ID is the disk's identity, written in its FORMAT file when it was
	// formatted.
	ID() string
	// Root names the disk for people: its path, or node and path.
	Root() string
	// Healthy reports whether the disk answers now.
	Healthy() error
	// Failed reports whether the disk was taken out of service.
	Failed() bool
	// NoteIO records the outcome of an I/O and reports whether the disk
	// has just been taken out of service by a run of errors.
	NoteIO(err error) (failedNow bool)
	// Reinstate puts a failed disk back in service.
	Reinstate()
	// Healing reports whether the disk is being filled back, so that its
	// "not found" answers do not count.
	Healing() bool
	SetHealing(on bool) error
	Close() error

	CreateShard(dataID string) (ShardSink, error)
	OpenShard(dataID string) (ShardSource, error)
	RemoveShard(dataID string) error

	// Update runs fn in a read-write transaction of the disk's metadata
	// and commits it durably. fn may run more than once (a remote
	// transaction that met a concurrent change is retried): it must have
	// no effect outside the transaction.
	Update(fn func(Txn) error) error
	Get(key []byte) ([]byte, error)
	NewIterator(prefix, start []byte, prefetch bool) (Iter, error)
}

// ShardSink receives one shard file; Commit makes it durable under its
// name, Abort discards it.
type ShardSink interface {
	io.Writer
	Commit() error
	Abort()
}

// ShardSource reads one committed shard file.
type ShardSource interface {
	io.ReaderAt
	io.Closer
}

// Txn is a metadata transaction.
type Txn interface {
	// Get returns a copy of the value at key, or ErrNotFound.
	Get(key []byte) ([]byte, error)
	Set(key, val []byte) error
	Delete(key []byte) error
}

// Iter walks metadata keys in order within a prefix.
type Iter interface {
	Valid() bool
	// Key is the current key, valid until Next.
	Key() []byte
	// Value copies the current value into buf.
	Value(buf []byte) ([]byte, error)
	// View calls fn with the current value, valid only during the call.
	View(fn func(val []byte) error) error
	Next()
	// Seek moves to the first key >= key.
	Seek(key []byte)
	Close()
}

var _ Volume = (*Disk)(nil)
