package raftmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/hashicorp/raft"
)

// store is raft's LogStore and StableStore on one badger database, every
// write synchronous (fsynced before it returns).
//
// Keys: log entries under "l" + index (8 bytes, big-endian, so that key
// order is index order); stable values under "s" + key. A log entry's
// value is
//
//	version (1 byte, 1) | term (uvarint) | type (1 byte)
//	| appended-at (varint, Unix nanoseconds; 0 = unset)
//	| data length (uvarint) | data | extensions length (uvarint) | extensions
//
// Stable values are stored as given; SetUint64 stores 8 bytes, big-endian.
type store struct {
	db *badger.DB
}

var (
	_ raft.LogStore    = (*store)(nil)
	_ raft.StableStore = (*store)(nil)
)

const (
	logPrefix    = 'l'
	stablePrefix = 's'
	logVersion   = 1
)

// openStore opens (or creates) the store in dir.
func openStore(dir string, log *slog.Logger) (*store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(4 << 20).
		WithIndexCacheSize(0).
		WithNumCompactors(2).
		WithNumLevelZeroTables(2).
		WithValueThreshold(64 << 10).
		WithValueLogFileSize(64 << 20).
		WithCompression(options.None).
		WithMetricsEnabled(false).
		WithLogger(badgerLogger{log})
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %v", ErrStore, dir, err)
	}
	return &store{db: db}, nil
}

// Close closes the database.
func (s *store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("%w: close: %v", ErrStore, err)
	}
	return nil
}

func logKey(index uint64) []byte {
	k := make([]byte, 9)
	k[0] = logPrefix
	binary.BigEndian.PutUint64(k[1:], index)
	return k
}

func stableKey(key []byte) []byte {
	return append([]byte{stablePrefix}, key...)
}

// edgeIndex returns the first (or last) log index, 0 when there is none.
func (s *store) edgeIndex(last bool) (uint64, error) {
	var idx uint64
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Reverse = last
		o.Prefix = []byte{logPrefix}
		it := txn.NewIterator(o)
		defer it.Close()
		seek := []byte{logPrefix}
		if last {
			seek = logKey(^uint64(0))
		}
		it.Seek(seek)
		if it.Valid() {
			idx = binary.BigEndian.Uint64(it.Item().Key()[1:])
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrStore, err)
	}
	return idx, nil
}

// FirstIndex returns the first index written, 0 for no entries.
func (s *store) FirstIndex() (uint64, error) { return s.edgeIndex(false) }

// LastIndex returns the last index written, 0 for no entries.
func (s *store) LastIndex() (uint64, error) { return s.edgeIndex(true) }

// GetLog reads the entry at index; raft.ErrLogNotFound if there is none.
func (s *store) GetLog(index uint64, out *raft.Log) error {
	return s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(logKey(index))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return raft.ErrLogNotFound
		}
		if err != nil {
			return fmt.Errorf("%w: get log %d: %v", ErrStore, index, err)
		}
		return item.Value(func(v []byte) error {
			if err := decodeLog(v, out); err != nil {
				return fmt.Errorf("%w: log %d: %v", ErrStore, index, err)
			}
			out.Index = index
			return nil
		})
	})
}

// StoreLog stores one entry.
func (s *store) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries, in one transaction where they fit in one (a
// larger batch is written in order, in several).
func (s *store) StoreLogs(logs []*raft.Log) error {
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for _, l := range logs {
		k, v := logKey(l.Index), encodeLog(l)
		err := txn.Set(k, v)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err = txn.Commit(); err != nil {
				return fmt.Errorf("%w: store logs: %v", ErrStore, err)
			}
			txn = s.db.NewTransaction(true)
			err = txn.Set(k, v)
		}
		if err != nil {
			return fmt.Errorf("%w: store log %d: %v", ErrStore, l.Index, err)
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("%w: store logs: %v", ErrStore, err)
	}
	return nil
}

// DeleteRange deletes the entries from min to max, inclusive.
func (s *store) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = []byte{logPrefix}
		it := txn.NewIterator(o)
		defer it.Close()
		end := logKey(max)
		for it.Seek(logKey(min)); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			if bytes.Compare(k, end) > 0 {
				break
			}
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: delete range: %v", ErrStore, err)
	}
	txn := s.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	for _, k := range keys {
		err := txn.Delete(k)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err = txn.Commit(); err != nil {
				return fmt.Errorf("%w: delete range: %v", ErrStore, err)
			}
			txn = s.db.NewTransaction(true)
			err = txn.Delete(k)
		}
		if err != nil {
			return fmt.Errorf("%w: delete range: %v", ErrStore, err)
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("%w: delete range: %v", ErrStore, err)
	}
	return nil
}

// Set stores a stable value.
func (s *store) Set(key, val []byte) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(stableKey(key), bytes.Clone(val))
	})
	if err != nil {
		return fmt.Errorf("%w: set %q: %v", ErrStore, key, err)
	}
	return nil
}

// Get returns a stable value, or an empty slice if the key is not set.
func (s *store) Get(key []byte) ([]byte, error) {
	var val []byte
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(stableKey(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: get %q: %v", ErrStore, key, err)
	}
	if val == nil {
		val = []byte{}
	}
	return val, nil
}

// SetUint64 stores a stable number.
func (s *store) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns a stable number, or 0 if the key is not set.
func (s *store) GetUint64(key []byte) (uint64, error) {
	v, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("%w: %q holds %d bytes, not a uint64", ErrStore, key, len(v))
}

func encodeLog(l *raft.Log) []byte {
	b := make([]byte, 0, 1+10+1+10+10+len(l.Data)+10+len(l.Extensions))
	b = append(b, logVersion)
	b = binary.AppendUvarint(b, l.Term)
	b = append(b, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	b = binary.AppendVarint(b, at)
	b = binary.AppendUvarint(b, uint64(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.AppendUvarint(b, uint64(len(l.Extensions)))
	b = append(b, l.Extensions...)
	return b
}

var errLogEncoding = errors.New("bad entry encoding")

// decodeLog decodes an entry, copying its byte fields (v belongs to the
// database).
func decodeLog(v []byte, l *raft.Log) error {
	if len(v) < 1 || v[0] != logVersion {
		return errLogEncoding
	}
	v = v[1:]
	term, n := binary.Uvarint(v)
	if n <= 0 || len(v) < n+1 {
		return errLogEncoding
	}
	typ := raft.LogType(v[n])
	v = v[n+1:]
	at, n := binary.Varint(v)
	if n <= 0 {
		return errLogEncoding
	}
	v = v[n:]
	bytesField := func() ([]byte, error) {
		size, n := binary.Uvarint(v)
		if n <= 0 || size > uint64(len(v)-n) {
			return nil, errLogEncoding
		}
		var out []byte
		if size > 0 {
			out = bytes.Clone(v[n : n+int(size)])
		}
		v = v[n+int(size):]
		return out, nil
	}
	data, err := bytesField()
	if err != nil {
		return err
	}
	ext, err := bytesField()
	if err != nil {
		return err
	}
	if len(v) != 0 {
		return errLogEncoding
	}
	*l = raft.Log{Term: term, Type: typ, Data: data, Extensions: ext}
	if at != 0 {
		l.AppendedAt = time.Unix(0, at).UTC()
	}
	return nil
}

// badgerLogger sends badger's warnings and errors to slog (badger is
// chatty at INFO).
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(fmt.Sprintf(f, a...), "component", "raft-store")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(fmt.Sprintf(f, a...), "component", "raft-store")
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}
