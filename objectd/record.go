package objectd

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"time"
)

// errBadRecord reports a metadata record that cannot be decoded.
var errBadRecord = errors.New("objectd: malformed metadata record")

// Record encodings: version 1 (no flags: every such record is an
// unversioned "null" version) and version 2 (a flags byte after the
// version byte).
const (
	recordVersion1 = 1
	recordVersion  = 2
)

// Flags of a version 2 record.
const (
	flagDeleteMarker = 1 << 0
	flagNull         = 1 << 1
	flagShown        = 1 << 2 // Shown is set (listings then decode it)
	flagTombstone    = 1 << 3 // the object was deleted (unversioned): see record.Tombstone
)

// partRecord is one stored part of an object: its own set of shards.
type partRecord struct {
	Number   int
	Size     int64
	ETag     string
	DataID   string // names the shard files (or the inline value)
	Inline   bool   // the shard lives in the metadata database, not a file
	ModTime  int64
	Checksum Checksum
}

// record is what each disk keeps for one object version (and, with Upload
// set, for a multipart upload or one of its parts). Every disk of the
// object's set holds a record with the same fields but its own ShardIndex.
type record struct {
	ModTime     int64 // hybrid logical timestamp, unix nanoseconds
	VersionID   string
	Size        int64
	ETag        string
	ContentType string
	Headers     map[string]string
	UserMeta    map[string]string
	Checksum    Checksum
	Multipart   bool
	K, M        int
	BlockSize   int
	ShardIndex  int // which shard of every part this disk holds
	Parts       []partRecord
	// ChecksumAlgorithm of a multipart upload.
	ChecksumAlgorithm string
	ChecksumType      string
	// DeleteMarker: this version says the object was deleted; it has no
	// data.
	DeleteMarker bool
	// Null: the version's id, as clients see it, is "null" (written while
	// the bucket was unversioned or versioning was suspended).
	Null bool
	// Label is the version's id as clients see it when it differs from
	// VersionID (the record id): an update of the metadata alone writes a
	// new record of the same version.
	Label string
	// Shown is the modification time clients see when it differs from
	// ModTime (which orders records): a metadata update keeps the
	// version's time.
	Shown int64
	// Tombstone: the object was deleted, in a bucket without versions. In
	// a cluster a delete leaves this record on the set's disks instead of
	// nothing, so that a disk that missed the delete (its node was down)
	// cannot bring the object back: the tombstone is newer. Readers treat
	// it as no object; it is never a version clients see. Tombstones are
	// reclaimed after Config.TombstoneAge.
	Tombstone bool
}

// modTime is the version's modification time as clients see it.
func (r *record) modTime() time.Time {
	if r.Shown != 0 {
		return time.Unix(0, r.Shown).UTC()
	}
	return time.Unix(0, r.ModTime).UTC()
}

// versionID is the version's id as clients see it.
func (r *record) versionID() string {
	if r.Null {
		return NullVersionID
	}
	if r.Label != "" {
		return r.Label
	}
	return r.VersionID
}

func (r *record) info(bucket, key string) ObjectInfo {
	oi := ObjectInfo{
		Bucket:       bucket,
		Key:          key,
		Size:         r.Size,
		ETag:         r.ETag,
		ContentType:  r.ContentType,
		Headers:      r.Headers,
		UserMeta:     r.UserMeta,
		ModTime:      r.modTime(),
		Checksum:     r.Checksum,
		VersionID:    r.versionID(),
		DeleteMarker: r.DeleteMarker,
		rid:          r.VersionID,
	}
	if r.Multipart {
		oi.Parts = make([]PartInfo, len(r.Parts))
		for i, p := range r.Parts {
			oi.Parts[i] = PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag, ModTime: time.Unix(0, p.ModTime).UTC(), Checksum: p.Checksum}
		}
	}
	return oi
}

// ---- encoding: a version byte then fields in order; strings and maps are
// length-prefixed with uvarints. Small and fast to decode for listings. ----

type enc struct{ b []byte }

func (e *enc) u(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i(v int64)  { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) s(v string) { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *enc) m(m map[string]string) {
	e.u(uint64(len(m)))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.s(k)
		e.s(m[k])
	}
}
func (e *enc) ck(c Checksum) { e.s(c.Algorithm); e.s(c.Value); e.s(c.Type) }

func (r *record) marshal() []byte {
	e := enc{b: make([]byte, 0, 256)}
	var flags byte
	if r.DeleteMarker {
		flags |= flagDeleteMarker
	}
	if r.Null {
		flags |= flagNull
	}
	if r.Shown != 0 {
		flags |= flagShown
	}
	if r.Tombstone {
		flags |= flagTombstone
	}
	e.b = append(e.b, recordVersion, flags)
	e.i(r.ModTime)
	e.s(r.VersionID)
	e.i(r.Size)
	e.s(r.ETag)
	e.u(uint64(r.K))
	e.u(uint64(r.M))
	e.s(r.ContentType)
	e.m(r.Headers)
	e.m(r.UserMeta)
	e.ck(r.Checksum)
	e.bool(r.Multipart)
	e.u(uint64(r.BlockSize))
	e.u(uint64(r.ShardIndex))
	e.s(r.ChecksumAlgorithm)
	e.s(r.ChecksumType)
	e.u(uint64(len(r.Parts)))
	for _, p := range r.Parts {
		e.u(uint64(p.Number))
		e.i(p.Size)
		e.s(p.ETag)
		e.s(p.DataID)
		e.bool(p.Inline)
		e.i(p.ModTime)
		e.ck(p.Checksum)
	}
	e.s(r.Label)
	e.i(r.Shown)
	return e.b
}

type dec struct {
	b   []byte
	err error
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}
func (d *dec) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}
func (d *dec) n(max uint64) int {
	v := d.u()
	if v > max {
		d.err = errBadRecord
		return 0
	}
	return int(v)
}
func (d *dec) s() string {
	l := d.u()
	if d.err != nil {
		return ""
	}
	if l > uint64(len(d.b)) {
		d.err = errBadRecord
		return ""
	}
	v := string(d.b[:l])
	d.b = d.b[l:]
	return v
}
func (d *dec) bool() bool {
	if d.err != nil || len(d.b) < 1 {
		d.err = errBadRecord
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}
func (d *dec) m() map[string]string {
	l := d.n(1 << 16)
	if l == 0 || d.err != nil {
		return nil
	}
	m := make(map[string]string, l)
	for j := 0; j < l && d.err == nil; j++ {
		k := d.s()
		m[k] = d.s()
	}
	return m
}
func (d *dec) ck() Checksum { return Checksum{Algorithm: d.s(), Value: d.s(), Type: d.s()} }

func unmarshalRecord(b []byte) (*record, error) {
	flags, body, ok := recordBody(b)
	if !ok {
		return nil, errBadRecord
	}
	d := dec{b: body}
	r := &record{DeleteMarker: flags&flagDeleteMarker != 0, Null: flags&flagNull != 0, Tombstone: flags&flagTombstone != 0}
	r.ModTime = d.i()
	r.VersionID = d.s()
	r.Size = d.i()
	r.ETag = d.s()
	r.K = d.n(256)
	r.M = d.n(256)
	r.ContentType = d.s()
	r.Headers = d.m()
	r.UserMeta = d.m()
	r.Checksum = d.ck()
	r.Multipart = d.bool()
	r.BlockSize = d.n(math.MaxInt32)
	r.ShardIndex = d.n(256)
	r.ChecksumAlgorithm = d.s()
	r.ChecksumType = d.s()
	np := d.n(MaxPartNumber)
	if d.err == nil && np > 0 {
		r.Parts = make([]partRecord, np)
		for j := range r.Parts {
			p := &r.Parts[j]
			p.Number = d.n(MaxPartNumber)
			p.Size = d.i()
			p.ETag = d.s()
			p.DataID = d.s()
			p.Inline = d.bool()
			p.ModTime = d.i()
			p.Checksum = d.ck()
		}
	}
	if b[0] == recordVersion { // version 2 ends with the label and shown time
		r.Label = d.s()
		r.Shown = d.i()
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}

// summary is the head of a record: what a listing needs, read without
// allocating (VersionID and ETag alias the record's bytes).
type summary struct {
	ModTime      int64
	VersionID    []byte
	Size         int64
	ETag         []byte
	K            int
	DeleteMarker bool
	Tombstone    bool
	Shown        int64 // the record's Shown time, when set
}

// recordBody returns an encoded record's flags and the bytes of its
// fields, for either encoding version.
func recordBody(b []byte) (flags byte, body []byte, ok bool) {
	switch {
	case len(b) >= 1 && b[0] == recordVersion1:
		return flagNull, b[1:], true
	case len(b) >= 2 && b[0] == recordVersion:
		return b[1], b[2:], true
	}
	return 0, nil, false
}

// peekSummary decodes the first fields of an encoded record.
func peekSummary(b []byte) (summary, bool) {
	var s summary
	whole := b
	flags, b, ok := recordBody(b)
	if !ok {
		return s, false
	}
	s.DeleteMarker = flags&flagDeleteMarker != 0
	s.Tombstone = flags&flagTombstone != 0
	if flags&flagShown != 0 {
		// Rare (objects whose metadata was updated): decode it all.
		if r, err := unmarshalRecord(whole); err == nil {
			s.Shown = r.Shown
		}
	}
	varint := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	uvarint := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	bytesField := func() []byte {
		l := uvarint()
		if !ok || l > uint64(len(b)) {
			ok = false
			return nil
		}
		out := b[:l]
		b = b[l:]
		return out
	}
	s.ModTime = varint()
	s.VersionID = bytesField()
	s.Size = varint()
	s.ETag = bytesField()
	k := uvarint()
	if !ok || k > 256 {
		return s, false
	}
	s.K = int(k)
	return s, true
}
