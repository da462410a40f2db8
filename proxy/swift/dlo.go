package swift

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/basaltstore/basalt/objectd"
)

// dloContent describes a GET of a dynamic large object: the objects of
// the container named by X-Object-Manifest ("container/prefix") whose
// names start with the prefix, in name order, each read as stored
// (segments are not followed as manifests). The caller must be allowed
// to list that container. Its ETag is the quoted MD5 of the segments'
// ETags.
func (q *request) dloContent(oi objectd.ObjectInfo) (*content, error) {
	v, err := url.PathUnescape(oi.Headers[hdrManifest])
	if err != nil {
		v = oi.Headers[hdrManifest]
	}
	c, prefix, _ := strings.Cut(strings.TrimPrefix(v, "/"), "/")
	var segs []objectd.ObjectInfo
	if _, err := q.segmentContainer(c, opList); err != nil && !errors.Is(err, errNotFound) {
		return nil, err
	} else if err == nil {
		err := q.s.scan(q.ctx, c, prefix, "", "", func(e listEntry) bool {
			segs = append(segs, e.obj)
			return true
		})
		if err != nil && !errors.Is(err, objectd.ErrNoSuchBucket) {
			return nil, err
		}
	}
	h := md5.New()
	size := int64(0)
	for _, s := range segs {
		io.WriteString(h, s.ETag)
		size += s.Size
	}
	ct := &content{info: oi, size: size, etag: `"` + hex.EncodeToString(h.Sum(nil)) + `"`, ctype: oi.ContentType}
	if ct.ctype == "" {
		ct.ctype = "application/octet-stream"
	}
	ct.plan = func(off, n int64) ([]piece, error) {
		var out []piece
		for _, s := range segs {
			if n <= 0 {
				break
			}
			if off >= s.Size {
				off -= s.Size
				continue
			}
			take := min(s.Size-off, n)
			out = append(out, piece{bucket: c, key: s.Key, etag: s.ETag, size: s.Size, off: off, n: take, segment: true})
			off = 0
			n -= take
		}
		return out, nil
	}
	return ct, nil
}
