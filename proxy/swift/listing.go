package swift

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/basaltstore/basalt/objectd"
)

// listEntry is one entry of a container listing: an object or, with a
// delimiter, a subdirectory (a name prefix ending in the delimiter).
type listEntry struct {
	name   string
	subdir bool
	obj    objectd.ObjectInfo
}

// scan calls fn for the entries of bucket whose names start with prefix
// and sort after after, in name order, until fn returns false; one
// store listing page at a time.
func (s *Server) scan(ctx context.Context, bucket, prefix, delim, after string, fn func(listEntry) bool) error {
	for {
		res, err := s.store.ListObjects(ctx, bucket, objectd.ListOptions{Prefix: prefix, Delimiter: delim, After: after, MaxKeys: objectd.DefaultMaxKeys})
		if err != nil {
			return err
		}
		entries := make([]listEntry, 0, len(res.Objects)+len(res.CommonPrefixes))
		for _, o := range res.Objects {
			entries = append(entries, listEntry{name: o.Key, obj: o})
		}
		for _, p := range res.CommonPrefixes {
			entries = append(entries, listEntry{name: p, subdir: true})
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
		for _, e := range entries {
			if !fn(e) {
				return nil
			}
		}
		if !res.IsTruncated || res.NextAfter == "" || res.NextAfter <= after {
			return nil
		}
		after = res.NextAfter
	}
}

// listParams are the parameters of an account or container listing.
type listParams struct {
	limit             int
	marker, endMarker string
	prefix, delimiter string
	reverse           bool
	path              string
	hasPath           bool
	format            string // text/plain, application/json, application/xml, text/xml
}

// listFormats are the content types of listings, in Swift's order of
// preference.
var listFormats = []string{"text/plain", "application/json", "application/xml", "text/xml"}

// bulkFormats are the content types of bulk-delete and manifest reports.
var bulkFormats = listFormats

// readListParams reads limit, marker, end_marker, prefix, delimiter,
// reverse, path and the format (?format= or Accept).
func (q *request) readListParams(container bool) (listParams, error) {
	v := q.query
	p := listParams{limit: ListingLimit, marker: v.Get("marker"), endMarker: v.Get("end_marker"), prefix: v.Get("prefix"), delimiter: v.Get("delimiter")}
	if l := v.Get("limit"); l != "" && strings.Trim(l, "0123456789") == "" {
		n, err := strconv.Atoi(l)
		if err != nil || n > ListingLimit {
			return p, failf(errPreconditionFailed, "Maximum limit is %d", ListingLimit)
		}
		p.limit = n
	}
	if p.delimiter != "" && (len(p.delimiter) > 1 || p.delimiter[0] > 254) {
		return p, failf(errPreconditionFailed, "Bad delimiter")
	}
	p.reverse = isTrue(v.Get("reverse"))
	if container && v.Has("path") {
		p.hasPath = true
		p.path = v.Get("path")
		p.prefix = ""
		if p.path != "" {
			p.path = strings.TrimRight(p.path, "/") + "/"
			p.prefix = p.path
		}
		p.delimiter = "/"
	}
	accept := q.r.Header.Get("Accept")
	if f := v.Get("format"); f != "" {
		switch strings.ToLower(f) {
		case "json":
			accept = "application/json"
		case "xml":
			accept = "application/xml"
		default:
			accept = "text/plain"
		}
	}
	p.format = bestMatch(accept, listFormats)
	if p.format == "" {
		return p, errNotAcceptable
	}
	return p, nil
}

// selectEntries applies marker, end_marker, limit and reverse to a
// stream of entries in name order: forward it stops at end_marker or
// limit; reversed it keeps the last limit entries before marker (and
// after end_marker), in reverse order. start is where the stream must
// begin (after).
func selectEntries(p listParams, stream func(after string, fn func(listEntry) bool) error) ([]listEntry, error) {
	if p.limit == 0 {
		return nil, nil
	}
	if !p.reverse {
		var out []listEntry
		err := stream(p.marker, func(e listEntry) bool {
			if p.endMarker != "" && e.name >= p.endMarker {
				return false
			}
			if p.hasPath && (e.subdir || e.name == p.path) {
				return true
			}
			out = append(out, e)
			return len(out) < p.limit
		})
		return out, err
	}
	ring := make([]listEntry, 0, min(p.limit, 1024))
	next := 0
	err := stream(p.endMarker, func(e listEntry) bool {
		if p.marker != "" && e.name >= p.marker {
			return false
		}
		if p.hasPath && (e.subdir || e.name == p.path) {
			return true
		}
		if len(ring) < p.limit {
			ring = append(ring, e)
		} else {
			ring[next] = e
			next = (next + 1) % p.limit
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]listEntry, 0, len(ring))
	for i := len(ring) - 1; i >= 0; i-- {
		out = append(out, ring[(next+i)%len(ring)])
	}
	return out, nil
}

// containerItem is an object of a JSON container listing.
type containerItem struct {
	Name         string `json:"name,omitempty"`
	Hash         string `json:"hash,omitempty"`
	Bytes        int64  `json:"bytes"`
	ContentType  string `json:"content_type,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	SLOEtag      string `json:"slo_etag,omitempty"`
}

// describe fills the listing details of objects (content type, and the
// size and ETag of large objects), which the store's listing does not
// carry: a HEAD each, several at a time. Objects gone meanwhile are
// dropped.
func (s *Server) describe(ctx context.Context, bucket string, entries []listEntry) ([]listEntry, error) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	gone := make([]bool, len(entries))
	var mu sync.Mutex
	var firstErr error
	for i := range entries {
		if entries[i].subdir {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			oi, err := s.store.HeadObject(ctx, bucket, entries[i].name)
			if err != nil {
				if errorsIsMissing(err) {
					gone[i] = true
					return
				}
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			entries[i].obj = oi
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := entries[:0]
	for i, e := range entries {
		if !gone[i] {
			out = append(out, e)
		}
	}
	return out, nil
}

// item is the JSON listing entry of an object.
func item(o objectd.ObjectInfo) containerItem {
	it := containerItem{Name: o.Key, Hash: o.ETag, Bytes: o.Size, ContentType: o.ContentType, LastModified: listingTime(o.ModTime)}
	if it.ContentType == "" {
		it.ContentType = "application/octet-stream"
	}
	if isSLO(o) {
		if n, err := strconv.ParseInt(o.Headers[hdrSLOSize], 10, 64); err == nil {
			it.Bytes = n
		}
		if e := o.Headers[hdrSLOEtag]; e != "" {
			it.SLOEtag = `"` + e + `"`
		}
	}
	return it
}

// containerListing renders a container listing.
func containerListing(format, name string, entries []listEntry) []byte {
	var b strings.Builder
	switch format {
	case "application/json":
		items := make([]any, len(entries))
		for i, e := range entries {
			if e.subdir {
				items[i] = map[string]string{"subdir": e.name}
			} else {
				items[i] = item(e.obj)
			}
		}
		data, _ := json.Marshal(items)
		return data
	case "application/xml", "text/xml":
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		b.WriteString(`<container name="` + xmlEscape(name) + `">`)
		for _, e := range entries {
			if e.subdir {
				b.WriteString(`<subdir name="` + xmlEscape(e.name) + `"><name>` + xmlEscape(e.name) + `</name></subdir>`)
				continue
			}
			it := item(e.obj)
			b.WriteString("<object><name>" + xmlEscape(it.Name) + "</name><hash>" + it.Hash + "</hash><bytes>" + strconv.FormatInt(it.Bytes, 10) +
				"</bytes><content_type>" + xmlEscape(it.ContentType) + "</content_type><last_modified>" + it.LastModified + "</last_modified></object>")
		}
		b.WriteString("</container>")
		return []byte(b.String())
	}
	for _, e := range entries {
		b.WriteString(e.name + "\n")
	}
	return []byte(b.String())
}

// xmlEscape escapes text for XML content and attributes.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// sendListing answers a listing: 204 for an empty text listing (as
// Swift), else 200 with the body in format.
func (q *request) sendListing(format string, body []byte) {
	if len(body) == 0 {
		q.w.Header().Set("Content-Type", format+"; charset=utf-8")
		q.sendStatus(http.StatusNoContent)
		return
	}
	q.sendBody(http.StatusOK, format+"; charset=utf-8", body)
}

// bestMatch picks the offer the Accept header prefers (the earliest of
// equal quality); no header means the first offer, no match "".
func bestMatch(accept string, offers []string) string {
	if strings.TrimSpace(accept) == "" {
		return offers[0]
	}
	best, bestQ := "", 0.0
	for _, offer := range offers {
		if q := quality(accept, offer); q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

// quality is the q value the most specific media range of accept that
// matches offer gives it.
func quality(accept, offer string) float64 {
	otype, osub, _ := strings.Cut(offer, "/")
	spec, q := -1, 0.0
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		qv := 1.0
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			if strings.TrimSpace(k) == "q" {
				if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					qv = n
				}
			}
		}
		t, sub, _ := strings.Cut(mt, "/")
		s := -1
		switch {
		case t == "*" && sub == "*":
			s = 0
		case t == otype && sub == "*":
			s = 1
		case t == otype && sub == osub:
			s = 2
		}
		if s > spec {
			spec, q = s, qv
		}
	}
	return q
}
