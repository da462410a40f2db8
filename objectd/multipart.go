package objectd

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd/checksum"
	"github.com/basaltstore/basalt/objectd/disk"
)

// A multipart upload is a record on each disk of the object's set, under
// u/<bucket>/<key>\x00<uploadID>; each uploaded part is a record under
// p/<uploadID>/<number> and shard files on the same disks. Completing the
// upload writes an object record that lists the parts' shard files, so no
// data is copied.

func (s *Store) readUpload(bucket, key, uploadID string) (*record, []disk.Volume, error) {
	if err := s.checkBucket(bucket); err != nil {
		return nil, nil, err
	}
	if !validUploadID(uploadID) || ValidKey(key) != nil {
		return nil, nil, ErrNoSuchUpload
	}
	// The upload's set is where its record is: in a cluster, hand-offs
	// that took it while a primary was down keep its parts too, so that
	// they all end up on one set.
	set, recs, errs := s.readSet(bucket, key, uploadKey(bucket, key, uploadID))
	up, _, err := s.resolve(recs, errs)
	if errors.Is(err, ErrNoSuchKey) {
		return nil, nil, ErrNoSuchUpload
	}
	if err != nil {
		return nil, nil, err
	}
	return up, set, nil
}

func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// NewMultipartUpload starts an upload and returns its id.
func (s *Store) NewMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	if err := s.checkBucket(bucket); err != nil {
		return "", err
	}
	algo := ""
	if opts.ChecksumAlgorithm != "" {
		a, err := checksum.Parse(opts.ChecksumAlgorithm)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalidArgument, err)
		}
		algo = string(a)
	}
	// Uploads of a key list in the order they began, as S3 lists them:
	// the id starts with the time.
	now := s.now()
	id := fmt.Sprintf("%016x", uint64(now)) + newID()[:16]
	up := &record{
		ModTime:           now,
		VersionID:         id,
		ContentType:       opts.ContentType,
		Headers:           opts.Headers,
		UserMeta:          opts.UserMeta,
		K:                 s.cfg.DataShards,
		M:                 s.cfg.ParityShards,
		BlockSize:         s.cfg.BlockSize,
		ChecksumAlgorithm: algo,
	}
	if opts.Checksum != nil {
		up.ChecksumType = opts.Checksum().Type
	}
	set := s.set(bucket, key)
	if n := s.putRecords(set, uploadKey(bucket, key, id), up, nil); n < s.writeQuorum() {
		s.deleteKeys(set, uploadKey(bucket, key, id))
		return "", fmt.Errorf("%w: upload recorded on %d disks", ErrWriteQuorum, n)
	}
	return id, nil
}

// putRecords writes rec (with each disk's shard index) at key on the slots
// of set that ok allows (all, when ok is nil); it returns how many took it.
func (s *Store) putRecords(set []disk.Volume, key []byte, rec *record, ok []bool) int {
	n := 0
	for j, d := range set {
		if d == nil || (ok != nil && !ok[j]) {
			continue
		}
		r := *rec
		r.ShardIndex = j
		val := r.marshal()
		if err := d.Update(func(t disk.Txn) error { return t.Set(key, val) }); err != nil {
			s.log.Warn("metadata write failed", "disk", d.Root(), "err", err)
			continue
		}
		n++
	}
	return n
}

func (s *Store) deleteKeys(set []disk.Volume, keys ...[]byte) {
	for _, d := range set {
		if d == nil {
			continue
		}
		_ = d.Update(func(t disk.Txn) error {
			for _, k := range keys {
				if err := t.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// PutObjectPart stores one part; opts uses ContentMD5 and Checksum only.
func (s *Store) PutObjectPart(ctx context.Context, bucket, key, uploadID string, part int, r io.Reader, size int64, opts PutOptions) (PartInfo, error) {
	if part < 1 || part > MaxPartNumber {
		return PartInfo{}, fmt.Errorf("%w: part number must be between 1 and %d", ErrInvalidArgument, MaxPartNumber)
	}
	if size < 0 {
		return PartInfo{}, fmt.Errorf("%w: part size must be known", ErrInvalidArgument)
	}
	if size > MaxPartSize {
		return PartInfo{}, ErrEntityTooLarge
	}
	_, set, err := s.readUpload(bucket, key, uploadID)
	if err != nil {
		return PartInfo{}, err
	}
	w, err := s.writeData(ctx, set, r, size, false, nil)
	if err != nil {
		return PartInfo{}, err
	}
	if opts.ContentMD5 != nil && string(opts.ContentMD5) != string(w.md5) {
		s.removeData(set, w)
		return PartInfo{}, ErrBadDigest
	}
	now := s.now()
	pr := partRecord{Number: part, Size: size, ETag: etagOf(w.md5), DataID: w.dataID, ModTime: now}
	if opts.Checksum != nil {
		pr.Checksum = opts.Checksum()
	}
	rec := &record{ModTime: now, VersionID: w.dataID, Size: size, ETag: pr.ETag,
		K: s.cfg.DataShards, M: s.cfg.ParityShards, BlockSize: s.cfg.BlockSize, Parts: []partRecord{pr}}

	mu := s.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	// The upload may have been completed or aborted while the data streamed.
	if _, _, err := s.readUpload(bucket, key, uploadID); err != nil {
		s.removeData(set, w)
		return PartInfo{}, err
	}
	pkey := partKey(uploadID, part)
	olds, _ := s.readRecords(set, pkey)
	if n := s.putRecords(set, pkey, rec, w.ok); n < s.writeQuorum() {
		for j, d := range set {
			if d != nil && w.ok[j] {
				old := olds[j]
				_ = d.Update(func(t disk.Txn) error {
					if old != nil {
						return t.Set(pkey, old.marshal())
					}
					return t.Delete(pkey)
				})
			}
		}
		s.removeData(set, w)
		return PartInfo{}, fmt.Errorf("%w: part recorded on %d disks", ErrWriteQuorum, n)
	}
	// The replaced part's data goes, unless a completed object uses it (an
	// upload left behind by a crash during its completion).
	inObject := s.objectDataIDs(set, bucket, key)
	for j, d := range set {
		if d != nil && olds[j] != nil && len(olds[j].Parts) == 1 {
			if id := olds[j].Parts[0].DataID; id != w.dataID && !inObject[id] {
				s.removeDataIDUnless(d, id, false, s.unusedBy(bucket, key, id))
			}
		}
	}
	s.dropReplacedPart(bucket, key, set, pkey, w.dataID)
	return partInfo(pr), nil
}

// dropReplacedPart removes, from the key's disks beyond set, the record
// and data of a part that pkey's new upload (data newID) replaced: an
// upload while some of the set's disks were down put its part on
// hand-offs in their place, and it stays there otherwise, its data never
// reclaimed. Data a completed object uses stays (as in dropUpload). The
// caller holds the key's lock.
func (s *Store) dropReplacedPart(bucket, key string, set []disk.Volume, pkey []byte, newID string) {
	extra := s.otherDisks(bucket, key, set)
	if len(extra) == 0 {
		return
	}
	olds, _ := s.readRecords(extra, pkey)
	for j, d := range extra {
		old := olds[j]
		if d == nil || old == nil || len(old.Parts) != 1 || old.Parts[0].DataID == newID {
			continue
		}
		id := old.Parts[0].DataID
		s.deleteKeys([]disk.Volume{d}, pkey)
		s.removeDataIDUnless(d, id, false, s.unusedOn(d, bucket, key, id))
	}
}

// uploadParts returns the resolved part records of an upload, in order,
// and for each the disk that holds its shard of each slot of set (nil
// where none does). Shard j is looked for on set[j] and on extra, the
// key's disks beyond its set (otherDisks): a part uploaded while a
// primary was down went to a hand-off in its place, and stays there.
func (s *Store) uploadParts(set, extra []disk.Volume, uploadID string) ([]*record, [][]disk.Volume) {
	mi, _ := s.mergeOn(append(slices.Clone(set), extra...), partPrefix(uploadID), nil)
	defer mi.close()
	var out []*record
	var where [][]disk.Volume
	for {
		key := mi.min()
		if key == nil {
			break
		}
		// The records are the iterators' values: no second read.
		vals := mi.take(key)
		recs := make([]*record, len(set))
		errs := make([]error, len(set))
		from := make([]disk.Volume, len(set))
		for j, d := range set {
			switch v, ok := vals[d]; {
			case d == nil:
				errs[j] = errDiskOffline
			case ok:
				if recs[j], errs[j] = unmarshalRecord(v); errs[j] != nil {
					recs[j] = nil
				} else {
					from[j] = d
				}
			case d.Healing():
				errs[j] = errDiskHealing
			}
		}
		for _, d := range extra {
			v, ok := vals[d]
			if !ok {
				continue
			}
			r, err := unmarshalRecord(v)
			if err != nil || r.ShardIndex < 0 || r.ShardIndex >= len(set) {
				continue
			}
			if j := r.ShardIndex; recs[j] == nil || r.ModTime > recs[j].ModTime {
				recs[j], errs[j], from[j] = r, nil, d
			}
		}
		best, h, err := s.resolve(recs, errs)
		if err != nil {
			continue
		}
		for j := range from {
			if !h[j] {
				from[j] = nil
			}
		}
		out = append(out, best)
		where = append(where, from)
	}
	return out, where
}

// placePart makes each disk of set that is up hold its slot's shard of
// part rec, which from says where to find (see uploadParts): a shard on
// another disk, or on none, is rebuilt from the part's shards onto the
// slot's own disk. It reports the slots of set that hold it.
func (s *Store) placePart(set []disk.Volume, rec *record, from []disk.Volume) ([]bool, error) {
	have := make([]bool, len(set))
	dst := make([]disk.Volume, len(set))
	missing := false
	for j, d := range set {
		switch {
		case d == nil:
		case from[j] == d:
			have[j] = true
		default:
			dst[j], missing = d, true
		}
	}
	if !missing {
		return have, nil
	}
	if p := &rec.Parts[0]; !p.Inline {
		if _, err := s.rebuildShards(from, dst, rec, p); err != nil {
			return have, err
		}
		for j, d := range dst {
			if d != nil {
				have[j] = true
			}
		}
	}
	return have, nil
}

// ListParts lists the parts uploaded so far, after part number marker.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, marker, maxParts int) (ListPartsResult, error) {
	up, set, err := s.readUpload(bucket, key, uploadID)
	if err != nil {
		return ListPartsResult{}, err
	}
	if maxParts <= 0 || maxParts > DefaultMaxParts {
		maxParts = DefaultMaxParts
	}
	res := ListPartsResult{Upload: s.uploadInfo(key, up)}
	parts, _ := s.uploadParts(set, s.otherDisks(bucket, key, set), uploadID)
	for _, p := range parts {
		pr := p.Parts[0]
		if pr.Number <= marker {
			continue
		}
		if len(res.Parts) == maxParts {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, partInfo(pr))
		res.NextPartNumberMarker = pr.Number
	}
	return res, nil
}

func partInfo(pr partRecord) PartInfo {
	return PartInfo{Number: pr.Number, Size: pr.Size, ETag: pr.ETag, ModTime: time.Unix(0, pr.ModTime).UTC(), Checksum: pr.Checksum}
}

func (s *Store) uploadInfo(key string, up *record) UploadInfo {
	oi := up.info("", key)
	return UploadInfo{Key: key, UploadID: up.VersionID, Initiated: oi.ModTime, Options: PutOptions{
		ContentType: up.ContentType, Headers: up.Headers, UserMeta: up.UserMeta, ChecksumAlgorithm: up.ChecksumAlgorithm,
	}}
}

// AbortMultipartUpload discards an upload and its parts.
func (s *Store) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if _, _, err := s.readUpload(bucket, key, uploadID); err != nil {
		return err
	}
	return s.abortUpload(bucket, key, uploadID)
}

func (s *Store) abortUpload(bucket, key, uploadID string) error {
	mu := s.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	set, _, _ := s.readSet(bucket, key, uploadKey(bucket, key, uploadID))
	extra := s.otherDisks(bucket, key, set)
	parts, where := s.uploadParts(set, extra, uploadID)
	s.dropUpload(set, extra, bucket, key, uploadID, parts, where, nil)
	return nil
}

// dropUpload removes an upload's records and the data of its parts that
// neither keep nor the object's current records use. (A crash between a
// CompleteMultipartUpload's commit and this cleanup leaves the upload
// behind with parts the object uses; aborting or completing it again must
// not take them from the object.) A disk beyond the set (extra) that
// holds a part (where, from uploadParts) loses its data whatever keep
// says: an object's records are on its set. Callers hold the key's lock.
func (s *Store) dropUpload(set, extra []disk.Volume, bucket, key, uploadID string, parts []*record, where [][]disk.Volume, keep map[string]bool) {
	keys := [][]byte{uploadKey(bucket, key, uploadID)}
	for _, p := range parts {
		keys = append(keys, partKey(uploadID, p.Parts[0].Number))
	}
	s.deleteKeys(append(slices.Clone(set), extra...), keys...)
	for i, p := range parts {
		id := p.Parts[0].DataID
		for _, d := range where[i] {
			if d != nil && slices.Contains(extra, d) {
				s.removeDataIDUnless(d, id, false, s.unusedOn(d, bucket, key, id))
			}
		}
	}
	inObject := s.objectDataIDs(set, bucket, key)
	for _, p := range parts {
		id := p.Parts[0].DataID
		if keep[id] || inObject[id] {
			continue
		}
		for _, d := range set {
			if d != nil {
				s.removeDataIDUnless(d, id, false, s.unusedBy(bucket, key, id))
			}
		}
	}
}

func trimETag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(e, "W/")
	return strings.Trim(e, "\"")
}

// CompleteMultipartUpload joins the listed parts into the object.
// opts.Check, when set, is applied as in PutObject.
func (s *Store) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, opts PutOptions) (ObjectInfo, error) {
	up, set, err := s.readUpload(bucket, key, uploadID)
	if err != nil {
		return ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return ObjectInfo{}, fmt.Errorf("%w: no parts given", ErrInvalidPart)
	}
	extra := s.otherDisks(bucket, key, set)
	stored, where := s.uploadParts(set, extra, uploadID)
	byNum := map[int]int{}
	for i, p := range stored {
		byNum[p.Parts[0].Number] = i
	}
	rec := &record{
		VersionID:   newID(),
		ContentType: up.ContentType,
		Headers:     up.Headers,
		UserMeta:    up.UserMeta,
		Multipart:   true,
		K:           up.K,
		M:           up.M,
		BlockSize:   up.BlockSize,
	}
	ok := make([]bool, len(set))
	for j := range ok {
		ok[j] = true
	}
	md5s := md5.New()
	keep := map[string]bool{}
	var use []int // stored's index of each part given
	var sums []string
	var sizes []int64
	for i, cp := range parts {
		if i > 0 && cp.Number <= parts[i-1].Number {
			return ObjectInfo{}, ErrInvalidPartOrder
		}
	}
	for i, cp := range parts {
		idx, found := byNum[cp.Number]
		if !found {
			return ObjectInfo{}, fmt.Errorf("%w: part %d was not uploaded", ErrInvalidPart, cp.Number)
		}
		pr := stored[idx].Parts[0]
		if trimETag(cp.ETag) != pr.ETag {
			return ObjectInfo{}, fmt.Errorf("%w: part %d has ETag %q, not %q", ErrInvalidPart, cp.Number, pr.ETag, trimETag(cp.ETag))
		}
		if cp.Checksum.Value != "" && pr.Checksum.Value != "" && cp.Checksum.Value != pr.Checksum.Value {
			return ObjectInfo{}, fmt.Errorf("%w: part %d checksum does not match", ErrInvalidPart, cp.Number)
		}
		if i < len(parts)-1 && pr.Size < MinPartSize {
			return ObjectInfo{}, fmt.Errorf("%w: part %d is %d bytes", ErrEntityTooSmall, cp.Number, pr.Size)
		}
		raw, _ := hex.DecodeString(pr.ETag)
		md5s.Write(raw)
		rec.Parts = append(rec.Parts, pr)
		rec.Size += pr.Size
		keep[pr.DataID] = true
		sums = append(sums, pr.Checksum.Value)
		sizes = append(sizes, pr.Size)
		use = append(use, idx)
	}
	// Hold the parts' data, and make sure it is there: a part's files can
	// be gone (replaced by a later upload of the same part number) while
	// its record still resolves. Never acknowledge an object without its data.
	used := dataIDs(rec)
	s.acquire(used)
	defer s.release(used)
	// Every part's shard j must be on set[j], where the object's record
	// goes; a part uploaded while a primary was down has it elsewhere.
	var placeErr error
	for _, idx := range use {
		have, err := s.placePart(set, stored[idx], where[idx])
		if err != nil {
			s.log.Warn("complete: cannot place a part on its set", "bucket", bucket, "key", key, "part", stored[idx].Parts[0].Number, "err", err)
			placeErr = err
		}
		for j := range ok {
			ok[j] = ok[j] && have[j]
		}
	}
	for _, p := range rec.Parts {
		for j, d := range set {
			if !ok[j] || d == nil {
				continue
			}
			f, err := d.OpenShard(p.DataID)
			if err != nil {
				ok[j] = false
				continue
			}
			f.Close()
		}
	}
	present := 0
	for _, o := range ok {
		if o {
			present++
		}
	}
	if present < s.writeQuorum() {
		switch {
		case placeErr != nil:
			return ObjectInfo{}, fmt.Errorf("%w: the parts' data is on %d disks of the set: %w", ErrWriteQuorum, present, placeErr)
		case slices.Contains(set, nil):
			return ObjectInfo{}, fmt.Errorf("%w: the parts' data is on %d disks of the set; the others are down", ErrWriteQuorum, present)
		}
		return ObjectInfo{}, fmt.Errorf("%w: the parts' data is on only %d disks; upload the parts again", ErrInvalidPart, present)
	}
	rec.ETag = hex.EncodeToString(md5s.Sum(nil)) + "-" + strconv.Itoa(len(parts))
	if up.ChecksumAlgorithm != "" {
		rec.Checksum = s.multipartChecksum(up, sums, sizes)
	}
	w := &written{ok: ok}
	if err := s.commitObject(bucket, key, set, rec, []*written{w}, opts.Check, opts.Versioning); err != nil {
		return ObjectInfo{}, err
	}
	if s.crashAfterComplete {
		return rec.info(bucket, key), nil // fault injection: the upload is left behind
	}
	mu := s.lock(bucket, key)
	mu.Lock()
	s.dropUpload(set, extra, bucket, key, uploadID, stored, where, keep)
	mu.Unlock()
	return rec.info(bucket, key), nil
}

// multipartChecksum is the object's checksum from its parts': COMPOSITE
// (a checksum of the part checksums, "-N") or FULL_OBJECT (the CRCs
// combined), as the upload asked.
func (s *Store) multipartChecksum(up *record, sums []string, sizes []int64) Checksum {
	a, err := checksum.Parse(up.ChecksumAlgorithm)
	if err != nil {
		return Checksum{}
	}
	for _, v := range sums {
		if v == "" {
			return Checksum{}
		}
	}
	typ := up.ChecksumType
	if typ == "" {
		typ = "COMPOSITE"
		if a == checksum.CRC64NVME {
			typ = "FULL_OBJECT"
		}
	}
	var v string
	if typ == "FULL_OBJECT" {
		v, err = checksum.Combine(a, sums, sizes)
	} else {
		v, err = checksum.Composite(a, sums)
	}
	if err != nil {
		return Checksum{}
	}
	return Checksum{Algorithm: string(a), Value: v, Type: typ}
}

// ListMultipartUploads lists uploads in progress in key, then upload id, order.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error) {
	if err := s.checkBucket(bucket); err != nil {
		return ListUploadsResult{}, err
	}
	return s.listUploads(bucket, opts)
}

func (s *Store) listUploads(bucket string, opts ListUploadsOptions) (ListUploadsResult, error) {
	max := opts.MaxUploads
	if max <= 0 {
		max = DefaultMaxUploads
	}
	base := uploadPrefix(bucket)
	prefix := append(append([]byte(nil), base...), opts.Prefix...)
	start := prefix
	if opts.KeyMarker != "" {
		if opts.UploadIDMarker != "" {
			start = append([]byte(nil), uploadKey(bucket, opts.KeyMarker, opts.UploadIDMarker+"\x00")...)
		} else {
			start = append(append(append([]byte(nil), base...), opts.KeyMarker...), 1)
		}
	}
	if err := s.listQuorum(); err != nil {
		return ListUploadsResult{}, err
	}
	mi, _ := s.mergeOn(s.online(), prefix, start)
	defer mi.close()
	var res ListUploadsResult
	for {
		k := mi.min()
		if k == nil {
			break
		}
		rest := string(k[len(base):])
		i := strings.LastIndexByte(rest, 0)
		if i < 0 {
			mi.take(k)
			continue
		}
		name, id := rest[:i], rest[i+1:]
		if opts.Delimiter != "" {
			if j := strings.Index(name[len(opts.Prefix):], opts.Delimiter); j >= 0 {
				cp := name[:len(opts.Prefix)+j+len(opts.Delimiter)]
				mi.seek(after(append(append([]byte(nil), base...), cp...)))
				if cp <= opts.KeyMarker {
					continue
				}
				if len(res.Uploads)+len(res.CommonPrefixes) == max {
					res.IsTruncated = true
					break
				}
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.NextKeyMarker, res.NextUploadIDMarker = cp, ""
				continue
			}
		}
		rec := s.resolveValues(mi.take(k))
		if rec == nil {
			continue
		}
		if len(res.Uploads)+len(res.CommonPrefixes) == max {
			res.IsTruncated = true
			break
		}
		res.Uploads = append(res.Uploads, s.uploadInfo(name, rec))
		res.NextKeyMarker, res.NextUploadIDMarker = name, id
	}
	return res, nil
}
