package thrash

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// The harness finds shards on a disk from outside the node, as a tool
// would, by the entry headers of the disk's segment files. The format is
// objectd/disk's (segment.go), read here independently:
//
//	segments/<seq in hex>   entries at 4 KiB boundaries, each:
//	  0   "BSG1" (a shard) or "BSV1" (a database value kept there)
//	  4   data length, uint64 little-endian
//	  12  name length; 13: name (the data id of a shard)
//	  124 CRC-32C (Castagnoli) of bytes 0-123
//	  128 the data (a shard: shardfmt, "BSHD" header, then blocks),
//	      padding to 4 KiB
//
// A removed entry is a hole (zeros). Values are stepped over: they are
// not shards.
const (
	entryHeader = 128
	entryAlign  = 4096
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// shard is one shard stored on a disk: its bytes are n bytes at off of
// the segment file at path.
type shard struct {
	id   string
	path string
	off  int64
	n    int64
}

// diskShards lists the shards stored on a disk, sorted by where they lie.
func diskShards(disk string) ([]shard, error) {
	dir := filepath.Join(disk, "segments")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCluster, err)
	}
	var out []shard
	for _, e := range ents {
		if _, err := strconv.ParseUint(e.Name(), 16, 64); err != nil {
			continue
		}
		got, err := segmentShards(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCluster, err)
		}
		out = append(out, got...)
	}
	slices.SortFunc(out, func(a, b shard) int {
		return cmp.Or(cmp.Compare(a.path, b.path), cmp.Compare(a.off, b.off))
	})
	return out, nil
}

func segmentShards(p string) ([]shard, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // removed meanwhile (a disk replaced)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var out []shard
	h := make([]byte, entryHeader)
	for off := int64(0); off+entryHeader <= fi.Size(); {
		// Holes (removed entries) are skipped without reading them.
		data, err := syscall.Seek(int(f.Fd()), off, 3 /* SEEK_DATA */)
		if err != nil {
			break // no data past off
		}
		if data != off {
			// Entries start on 4 KiB boundaries: the next one that can
			// hold data past the hole.
			off = max(data&^(entryAlign-1), off+entryAlign)
			continue
		}
		if _, err := f.ReadAt(h, off); err != nil {
			break
		}
		id, n, isShard, ok := parseEntryHeader(h)
		if !ok || off+entryHeader+n > fi.Size() {
			off += entryAlign
			continue
		}
		if isShard {
			out = append(out, shard{id: id, path: p, off: off + entryHeader, n: n})
		}
		off = (off + entryHeader + n + entryAlign - 1) &^ (entryAlign - 1)
	}
	return out, nil
}

// parseEntryHeader returns the name and data length of a valid entry
// header, and whether the entry is a shard.
func parseEntryHeader(h []byte) (string, int64, bool, bool) {
	if len(h) < entryHeader || (string(h[:4]) != "BSG1" && string(h[:4]) != "BSV1") ||
		binary.LittleEndian.Uint32(h[entryHeader-4:]) != crc32.Checksum(h[:entryHeader-4], castagnoli) {
		return "", 0, false, false
	}
	n, idLen := int64(binary.LittleEndian.Uint64(h[4:])), int(h[12])
	if n < 0 || idLen > entryHeader-4-13 {
		return "", 0, false, false
	}
	return string(h[13 : 13+idLen]), n, string(h[:4]) == "BSG1", true
}

// liveIn reports whether the shard is still where it was listed in f, its
// segment: its entry header is still there (a removal punches it out).
func (s shard) liveIn(f *os.File) bool {
	h := make([]byte, entryHeader)
	if _, err := f.ReadAt(h, s.off-entryHeader); err != nil {
		return false
	}
	id, n, isShard, ok := parseEntryHeader(h)
	return ok && isShard && id == s.id && n == s.n
}
