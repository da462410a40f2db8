package swift

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/basaltstore/basalt/objectd"
	"github.com/basaltstore/basalt/ring/raftmap"
)

// sloSegment is one entry of a stored SLO manifest, as Swift stores it.
type sloSegment struct {
	Name         string `json:"name"`
	Bytes        int64  `json:"bytes"`
	Hash         string `json:"hash"`
	ContentType  string `json:"content_type"`
	LastModified string `json:"last_modified"`
	Range        string `json:"range,omitempty"`
	SubSLO       bool   `json:"sub_slo,omitempty"`
}

// bounds is where the segment's bytes start in its object, and how many
// there are.
func (g sloSegment) bounds() (int64, int64) {
	if g.Range != "" {
		a, b, ok := strings.Cut(g.Range, "-")
		first, err1 := strconv.ParseInt(a, 10, 64)
		last, err2 := strconv.ParseInt(b, 10, 64)
		if ok && err1 == nil && err2 == nil && last >= first {
			return first, last - first + 1
		}
	}
	return 0, g.Bytes
}

// splitSegmentPath splits "/container/object".
func splitSegmentPath(name string) (string, string, bool) {
	c, o, ok := strings.Cut(strings.TrimLeft(name, "/"), "/")
	return c, o, ok && c != "" && o != ""
}

// sloETag is Swift's ETag of a static large object: the MD5 of its
// segments' ETags ("etag:range;" for a ranged segment).
func sloETag(segs []sloSegment) string {
	h := md5.New()
	for _, g := range segs {
		if g.Range != "" {
			io.WriteString(h, g.Hash+":"+g.Range+";")
		} else {
			io.WriteString(h, g.Hash)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sloInput is one entry of a manifest PUT.
type sloInput struct {
	path string
	etag *string
	size *int64
	rng  []rangeSpec
}

// parseSLOInput checks a manifest PUT body as Swift does and returns its
// entries; every problem found is one line of a 400 answer.
func parseSLOInput(body []byte, self string) ([]sloInput, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var any interface{}
		if json.Unmarshal(body, &any) == nil {
			return nil, failf(errBadRequest, "Manifest must be a list.")
		}
		return nil, failf(errBadRequest, "Manifest must be valid JSON.")
	}
	if len(raw) == 0 {
		return nil, failf(errBadRequest, "Manifest must have at least one segment.")
	}
	var problems []string
	out := make([]sloInput, len(raw))
	for i, item := range raw {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(item, &m); err != nil || m == nil {
			problems = append(problems, fmt.Sprintf("Index %d: not a JSON object", i))
			continue
		}
		if _, ok := m["path"]; !ok {
			if _, data := m["data"]; data {
				problems = append(problems, fmt.Sprintf("Index %d: inline data segments are not supported", i))
			} else {
				problems = append(problems, fmt.Sprintf("Index %d: expected keys to include one of 'path'", i))
			}
			continue
		}
		var extra []string
		for k := range m {
			switch k {
			case "path", "etag", "size_bytes", "range":
			default:
				extra = append(extra, strconv.Quote(k))
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			problems = append(problems, fmt.Sprintf("Index %d: extraneous keys %s", i, strings.Join(extra, ", ")))
			continue
		}
		var in sloInput
		if err := json.Unmarshal(m["path"], &in.path); err != nil {
			problems = append(problems, fmt.Sprintf("Index %d: \"path\" must be a string", i))
			continue
		}
		if e, ok := m["etag"]; ok && string(e) != "null" {
			var s string
			if err := json.Unmarshal(e, &s); err != nil {
				problems = append(problems, fmt.Sprintf("Index %d: \"etag\" must be a string or null (if provided)", i))
				continue
			}
			in.etag = &s
		}
		if !strings.Contains(strings.Trim(in.path, "/"), "/") {
			problems = append(problems, fmt.Sprintf("Index %d: path does not refer to an object. Path must be of the form /container/object.", i))
			continue
		}
		if sb, ok := m["size_bytes"]; ok && string(sb) != "null" {
			n, ok := parseSizeBytes(sb)
			if !ok {
				problems = append(problems, fmt.Sprintf("Index %d: invalid size_bytes", i))
				continue
			}
			if n < 1 && i != len(raw)-1 {
				problems = append(problems, fmt.Sprintf("Index %d: too small; each segment must be at least 1 byte.", i))
				continue
			}
			in.size = &n
		}
		if "/"+strings.TrimLeft(in.path, "/") == self {
			problems = append(problems, fmt.Sprintf("Index %d: manifest must not include itself as a segment", i))
			continue
		}
		if r, ok := m["range"]; ok && string(r) != "null" {
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				problems = append(problems, fmt.Sprintf("Index %d: invalid range", i))
				continue
			}
			if s != "" {
				specs, ok := parseRangeHeader("bytes=" + s)
				if !ok {
					problems = append(problems, fmt.Sprintf("Index %d: invalid range", i))
					continue
				}
				if len(specs) > 1 {
					problems = append(problems, fmt.Sprintf("Index %d: multiple ranges (only one allowed)", i))
					continue
				}
				if in.size != nil && len(forLength(specs, *in.size)) != 1 {
					problems = append(problems, fmt.Sprintf("Index %d: unsatisfiable range", i))
					continue
				}
				in.rng = specs
			}
		}
		out[i] = in
	}
	if len(problems) > 0 {
		return nil, failf(errBadRequest, "%s", strings.Join(problems, "\n"))
	}
	return out, nil
}

// parseSizeBytes reads size_bytes: a JSON integer or a string of one.
func parseSizeBytes(raw json.RawMessage) (int64, bool) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if v, err := n.Int64(); err == nil {
			return v, true
		}
		return 0, false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return v, err == nil
	}
	return 0, false
}

// segmentHead is what a manifest PUT learns of a segment.
type segmentHead struct {
	status int // non-zero: the segment cannot be used (404)
	size   int64
	etag   string
	ctype  string
	mod    time.Time
	slo    bool
}

// headSegment looks a segment up: the caller must be allowed to read its
// container (403 otherwise).
func (q *request) headSegment(c, o string) (segmentHead, error) {
	if _, err := q.segmentContainer(c, opRead); err != nil {
		if errors.Is(err, errNotFound) {
			return segmentHead{status: http.StatusNotFound}, nil
		}
		return segmentHead{}, err
	}
	oi, err := q.s.store.HeadObject(q.ctx, c, o)
	if errors.Is(err, objectd.ErrNoSuchKey) || errors.Is(err, objectd.ErrNoSuchBucket) || errors.Is(err, objectd.ErrInvalidArgument) {
		return segmentHead{status: http.StatusNotFound}, nil
	}
	if err != nil {
		return segmentHead{}, err
	}
	if q.s.expired(oi) {
		return segmentHead{status: http.StatusNotFound}, nil
	}
	hd := segmentHead{size: oi.Size, etag: oi.ETag, ctype: oi.ContentType, mod: oi.ModTime}
	if isSLO(oi) {
		hd.slo = true
		hd.etag = oi.Headers[hdrSLOEtag]
		if n, err := strconv.ParseInt(oi.Headers[hdrSLOSize], 10, 64); err == nil {
			hd.size = n
		}
	}
	return hd, nil
}

// putSLO answers PUT ?multipart-manifest=put: every segment is checked
// (exists, readable by the caller, ETag, size, range, at least one byte
// but the last), then the manifest is stored as the object, marked
// X-Static-Large-Object.
func (q *request) putSLO(b raftmap.Bucket) error {
	size, err := q.bodySize()
	if errors.Is(err, errTooLarge) || size > q.s.lim.maxManifestSize {
		return failf(errTooLarge, "Manifest File > %d bytes", q.s.lim.maxManifestSize)
	}
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(q.r.Body, q.s.lim.maxManifestSize+1))
	if err != nil {
		return fmt.Errorf("%w: %v", errClientDisconnect, err)
	}
	if int64(len(body)) > q.s.lim.maxManifestSize {
		return failf(errTooLarge, "Manifest File > %d bytes", q.s.lim.maxManifestSize)
	}
	inputs, err := parseSLOInput(body, "/"+b.Name+"/"+q.obj)
	if err != nil {
		return err
	}
	if len(inputs) > q.s.lim.maxSegments {
		return failf(errTooLarge, "Number of object-backed segments must be <= %d", q.s.lim.maxSegments)
	}
	opts, err := q.putOptions()
	if err != nil {
		return err
	}
	heads := map[string]segmentHead{}
	var problems [][2]string
	segs := make([]sloSegment, len(inputs))
	total := int64(0)
	for i, in := range inputs {
		path := "/" + strings.TrimLeft(in.path, "/")
		hd, seen := heads[path]
		if !seen {
			c, o, _ := splitSegmentPath(path)
			if hd, err = q.headSegment(c, o); err != nil {
				return err
			}
			heads[path] = hd
		}
		quoted := pyQuote(path, "/")
		if hd.status != 0 {
			problems = append(problems, [2]string{quoted, statusLine(hd.status)})
			continue
		}
		length, rng := hd.size, ""
		if in.rng != nil {
			rs := forLength(in.rng, hd.size)
			switch {
			case len(rs) == 0:
				problems = append(problems, [2]string{quoted, "Unsatisfiable Range"})
				continue
			case rs[0].first == 0 && rs[0].last == hd.size-1:
			default:
				rng = fmt.Sprintf("%d-%d", rs[0].first, rs[0].last)
				length = rs[0].length()
			}
		}
		if length < 1 && i != len(inputs)-1 {
			problems = append(problems, [2]string{quoted, "Too small; each segment must be at least 1 byte."})
		}
		if in.size != nil && *in.size != hd.size {
			problems = append(problems, [2]string{quoted, "Size Mismatch"})
		}
		if in.etag != nil && trimETag(*in.etag) != hd.etag {
			problems = append(problems, [2]string{quoted, "Etag Mismatch"})
		}
		segs[i] = sloSegment{Name: path, Bytes: hd.size, Hash: hd.etag, ContentType: hd.ctype, LastModified: listingTime(hd.mod), Range: rng, SubSLO: hd.slo}
		total += length
	}
	if len(problems) > 0 {
		format := bestMatch(q.r.Header.Get("Accept"), bulkFormats)
		if format == "" {
			format = "text/plain"
		}
		q.sendBody(http.StatusBadRequest, format, bulkBody(format, nil, problems, "upload"))
		return nil
	}
	etag := sloETag(segs)
	if want := trimETag(q.r.Header.Get("Etag")); want != "" && want != etag {
		return errUnprocessable
	}
	data, err := json.Marshal(segs)
	if err != nil {
		return fmt.Errorf("%w: %v", errInternal, err)
	}
	delete(opts.Headers, hdrManifest)
	opts.Headers[hdrSLO] = "True"
	opts.Headers[hdrSLOEtag] = etag
	opts.Headers[hdrSLOSize] = strconv.FormatInt(total, 10)
	if err := q.ifNoneMatch(b.Name, q.obj, &opts); err != nil {
		return err
	}
	oi, err := q.s.store.PutObject(q.ctx, b.Name, q.obj, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return err
	}
	q.created(`"`+etag+`"`, oi)
	return nil
}

// readManifest reads the segments of the SLO manifest bucket/key. With
// want set, the manifest must still be that version (else
// errVersionChanged).
func (q *request) readManifest(bucket, key, want string) ([]sloSegment, error) {
	oi, rc, err := q.s.store.GetObject(q.ctx, bucket, key, objectd.GetOptions{Length: -1})
	if err != nil {
		if want != "" && (errors.Is(err, objectd.ErrNoSuchKey) || errors.Is(err, objectd.ErrNoSuchBucket)) {
			return nil, errVersionChanged
		}
		if errors.Is(err, objectd.ErrNoSuchKey) || errors.Is(err, objectd.ErrNoSuchBucket) {
			return nil, failf(errConflict, "Sub-manifest /%s/%s is missing", bucket, key)
		}
		return nil, err
	}
	defer rc.Close()
	if want != "" && oi.ETag != want {
		return nil, errVersionChanged
	}
	if !isSLO(oi) {
		return nil, failf(errConflict, "/%s/%s is not an SLO manifest", bucket, key)
	}
	if oi.Size > 4*q.s.lim.maxManifestSize {
		return nil, fmt.Errorf("%w: manifest /%s/%s is %d bytes", errInternal, bucket, key, oi.Size)
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	var segs []sloSegment
	if err := json.Unmarshal(data, &segs); err != nil {
		return nil, fmt.Errorf("%w: Unable to load SLO manifest /%s/%s: %v", errInternal, bucket, key, err)
	}
	return segs, nil
}

// sloContent describes a GET of a static large object.
func (q *request) sloContent(bucket, key string, oi objectd.ObjectInfo) (*content, error) {
	var segs []sloSegment
	load := func() ([]sloSegment, error) {
		if segs != nil {
			return segs, nil
		}
		s, err := q.readManifest(bucket, key, oi.ETag)
		segs = s
		return s, err
	}
	size, err := strconv.ParseInt(oi.Headers[hdrSLOSize], 10, 64)
	etag := oi.Headers[hdrSLOEtag]
	if err != nil || etag == "" {
		s, err := load()
		if err != nil {
			return nil, err
		}
		size = 0
		for _, g := range s {
			_, n := g.bounds()
			size += n
		}
		etag = sloETag(s)
	}
	ct := &content{info: oi, size: size, etag: `"` + etag + `"`, ctype: oi.ContentType, slo: true}
	if ct.ctype == "" {
		ct.ctype = "application/octet-stream"
	}
	ct.plan = func(off, n int64) ([]piece, error) {
		s, err := load()
		if err != nil {
			return nil, err
		}
		var out []piece
		err = q.planSLO(s, 1, off, n, &out, map[string]error{})
		return out, err
	}
	return ct, nil
}

// planSLO appends the pieces of n bytes from off of the concatenation of
// segs, following nested manifests to MaxSLODepth levels. The caller
// must be allowed to read every segment's container.
func (q *request) planSLO(segs []sloSegment, depth int, off, n int64, out *[]piece, access map[string]error) error {
	for _, g := range segs {
		if n <= 0 {
			break
		}
		start, length := g.bounds()
		if off >= length {
			off -= length
			continue
		}
		take := min(length-off, n)
		c, o, ok := splitSegmentPath(g.Name)
		if !ok {
			return fmt.Errorf("%w: bad segment name %q in a manifest", errInternal, g.Name)
		}
		err, seen := access[c]
		if !seen {
			_, err = q.segmentContainer(c, opRead)
			access[c] = err
		}
		if errors.Is(err, errNotFound) {
			return failf(errConflict, "Segment container %q is missing", c)
		}
		if err != nil {
			return err
		}
		if g.SubSLO {
			if depth >= MaxSLODepth {
				return failf(errConflict, "Max recursion depth exceeded")
			}
			sub, err := q.readManifest(c, o, "")
			if err != nil {
				return err
			}
			if err := q.planSLO(sub, depth+1, start+off, take, out, access); err != nil {
				return err
			}
		} else {
			if len(*out) >= maxPlannedSegments {
				return failf(errConflict, "More than %d segments to read", maxPlannedSegments)
			}
			*out = append(*out, piece{bucket: c, key: o, etag: g.Hash, size: g.Bytes, off: start + off, n: take, segment: true})
		}
		off = 0
		n -= take
	}
	return nil
}

// rawManifest makes ct (a manifest read with multipart-manifest=get)
// return the manifest in the form it was put (format=raw): path, etag,
// size_bytes, range.
func (q *request) rawManifest(ct *content) error {
	segs, err := q.readManifest(ct.info.Bucket, ct.info.Key, ct.info.ETag)
	if err != nil {
		return err
	}
	type rawSegment struct {
		Etag      string `json:"etag"`
		Path      string `json:"path"`
		Range     string `json:"range,omitempty"`
		SizeBytes int64  `json:"size_bytes"`
	}
	raw := make([]rawSegment, len(segs))
	for i, g := range segs {
		raw[i] = rawSegment{Etag: g.Hash, Path: g.Name, Range: g.Range, SizeBytes: g.Bytes}
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", errInternal, err)
	}
	ct.size = int64(len(data))
	ct.plan = func(off, n int64) ([]piece, error) {
		if n <= 0 {
			return nil, nil
		}
		return []piece{{data: data, off: off, n: n}}, nil
	}
	return nil
}

// deleteSLO answers DELETE ?multipart-manifest=delete: the segments
// (nested manifests' too) are deleted, then the manifest; the answer is
// a bulk-delete report.
func (q *request) deleteSLO(b raftmap.Bucket) error {
	format := bestMatch(q.r.Header.Get("Accept"), bulkFormats)
	if format == "" {
		format = "text/plain"
	}
	type item struct {
		name   string
		sub    bool
		status int
		msg    string
	}
	rep := newBulkReport()
	queue := []item{{name: "/" + b.Name + "/" + q.obj, sub: true}}
	var todo []item
	for len(queue) > 0 {
		if len(queue) > q.s.lim.maxSegments*10 {
			rep.abort(failf(errBadRequest, "Too many buffered slo segments to delete."))
			break
		}
		it := queue[0]
		queue = queue[1:]
		if !it.sub {
			todo = append(todo, it)
			continue
		}
		segs, err := q.manifestToDelete(it.name)
		if err != nil {
			it.status, it.msg = statusFor(err), detailOf(err)
		}
		for _, g := range segs {
			queue = append(queue, item{name: g.Name, sub: g.SubSLO})
		}
		it.sub = false
		queue = append(queue, it)
	}
	if !rep.aborted {
		for _, it := range todo {
			if it.status == http.StatusNotFound {
				rep.notFound++
				continue
			}
			if it.status != 0 {
				rep.failed = append(rep.failed, [2]string{pyQuote(it.name, "/"), it.msg})
				continue
			}
			c, o, _ := splitSegmentPath(it.name)
			var err error
			if sb, cerr := q.segmentContainer(c, opWrite); cerr != nil {
				err = cerr
			} else {
				err = q.removeObject(sb, o)
			}
			rep.add(it.name, err)
		}
	}
	rep.finish()
	q.sendBody(http.StatusOK, format, rep.body(format))
	return nil
}

// manifestToDelete reads the segments of a manifest to delete.
func (q *request) manifestToDelete(name string) ([]sloSegment, error) {
	c, o, ok := splitSegmentPath(name)
	if !ok {
		return nil, failf(errBadRequest, "Invalid SLO manifest path")
	}
	if _, err := q.segmentContainer(c, opRead); err != nil {
		if errors.Is(err, errNotFound) {
			return nil, failf(errNotFound, "SLO manifest not found")
		}
		return nil, err
	}
	oi, rc, err := q.s.store.GetObject(q.ctx, c, o, objectd.GetOptions{Length: -1})
	if errors.Is(err, objectd.ErrNoSuchKey) || errors.Is(err, objectd.ErrNoSuchBucket) {
		return nil, failf(errNotFound, "SLO manifest not found")
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if !isSLO(oi) {
		return nil, failf(errBadRequest, "Not an SLO manifest")
	}
	data, err := io.ReadAll(io.LimitReader(rc, 4*q.s.lim.maxManifestSize))
	if err != nil {
		return nil, err
	}
	var segs []sloSegment
	if err := json.Unmarshal(data, &segs); err != nil {
		return nil, failf(errInternal, "Unable to load SLO manifest")
	}
	return segs, nil
}

// detailOf is the message of an error for a report line.
func detailOf(err error) string {
	var de *detailError
	if errors.As(err, &de) {
		return de.msg
	}
	return statusLine(statusFor(err))
}
