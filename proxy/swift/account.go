package swift

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/basaltstore/basalt/ring/raftmap"
)

// accountItem is a container of a JSON account listing.
type accountItem struct {
	Name         string `json:"name"`
	Count        int64  `json:"count"`
	Bytes        int64  `json:"bytes"`
	LastModified string `json:"last_modified"`
}

// catalogSyncTimeout bounds how long a listing waits to hear the catalog's
// majority.
const catalogSyncTimeout = 5 * time.Second

// getAccount answers GET (the container listing) and HEAD of an
// account. Counts and bytes are computed by listing every container.
func (q *request) getAccount(head bool) error {
	proj, err := q.account(opList)
	if err != nil {
		return err
	}
	p, err := q.readListParams(false)
	if err != nil {
		return err
	}
	// The container list is the catalog's as of now: a node cut off from
	// the catalog's majority answers 503 rather than a list that may be
	// stale.
	sctx, cancel := context.WithTimeout(q.ctx, catalogSyncTimeout)
	defer cancel()
	if err := q.s.cat.Sync(sctx); err != nil {
		return failf(errUnavailable, "The container list cannot be read now: %v", err)
	}
	buckets := q.s.cat.View().Buckets(q.acct)
	per := make(map[string]stats, len(buckets))
	var total stats
	for _, b := range buckets {
		st, err := q.s.containerStats(q.ctx, b.Name)
		if err != nil {
			return err
		}
		per[b.Name] = st
		total.count += st.count
		total.bytes += st.bytes
	}
	h := q.w.Header()
	h.Set("X-Account-Container-Count", strconv.Itoa(len(buckets)))
	h.Set("X-Account-Object-Count", strconv.FormatInt(total.count, 10))
	h.Set("X-Account-Bytes-Used", strconv.FormatInt(total.bytes, 10))
	h.Set("X-Timestamp", swiftTimestamp(proj.Created))
	h.Set("X-Put-Timestamp", swiftTimestamp(proj.Created))
	writeMetaHeaders(h, proj.Meta, q.caller.ownerRight(q.acct, opAdmin))
	if head {
		h.Set("Content-Type", p.format+"; charset=utf-8")
		q.sendStatus(http.StatusNoContent)
		return nil
	}
	entries, err := selectEntries(p, func(after string, fn func(listEntry) bool) error {
		last := ""
		for _, b := range buckets {
			if b.Name <= after || !strings.HasPrefix(b.Name, p.prefix) {
				continue
			}
			name, sub := b.Name, false
			if p.delimiter != "" {
				if i := strings.Index(b.Name[len(p.prefix):], p.delimiter); i >= 0 {
					name, sub = b.Name[:len(p.prefix)+i+1], true
					if name == last || name <= after {
						continue
					}
				}
			}
			last = name
			if !fn(listEntry{name: name, subdir: sub}) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	q.sendListing(p.format, accountListing(p.format, q.acctSeg, entries, buckets, per))
	return nil
}

// accountListing renders an account listing.
func accountListing(format, account string, entries []listEntry, buckets []raftmap.Bucket, per map[string]stats) []byte {
	created := make(map[string]string, len(buckets))
	for _, b := range buckets {
		created[b.Name] = listingTime(b.Created)
	}
	var sb strings.Builder
	switch format {
	case "application/json":
		items := make([]any, len(entries))
		for i, e := range entries {
			if e.subdir {
				items[i] = map[string]string{"subdir": e.name}
				continue
			}
			st := per[e.name]
			items[i] = accountItem{Name: e.name, Count: st.count, Bytes: st.bytes, LastModified: created[e.name]}
		}
		data, _ := json.Marshal(items)
		return data
	case "application/xml", "text/xml":
		sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		sb.WriteString(`<account name="` + xmlEscape(account) + "\">\n")
		for _, e := range entries {
			if e.subdir {
				sb.WriteString(`<subdir name="` + xmlEscape(e.name) + "\" />\n")
				continue
			}
			st := per[e.name]
			sb.WriteString("<container><name>" + xmlEscape(e.name) + "</name><count>" + strconv.FormatInt(st.count, 10) + "</count><bytes>" +
				strconv.FormatInt(st.bytes, 10) + "</bytes><last_modified>" + created[e.name] + "</last_modified></container>\n")
		}
		sb.WriteString("</account>")
		return []byte(sb.String())
	}
	for _, e := range entries {
		sb.WriteString(e.name + "\n")
	}
	return []byte(sb.String())
}

// postAccount answers POST of an account: X-Account-Meta-* set (empty
// removes), X-Remove-Account-Meta-* remove.
func (q *request) postAccount() error {
	proj, err := q.account(opAdmin)
	if err != nil {
		return err
	}
	set, remove, err := metaUpdate(q.r.Header, "account", proj.Meta)
	if err != nil {
		return err
	}
	if len(set) > 0 || len(remove) > 0 {
		if err := q.s.cat.SetProjectMeta(q.ctx, q.acct, set, remove); err != nil {
			return err
		}
	}
	q.sendStatus(http.StatusNoContent)
	return nil
}
