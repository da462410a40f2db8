package swift

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/objectd"
)

// splitCopyPath reads "container/object" (with or without a leading
// slash, percent-encoded) from X-Copy-From or Destination.
func splitCopyPath(header, v string) (string, string, error) {
	u, err := url.PathUnescape(v)
	if err != nil {
		u = v
	}
	c, o, ok := strings.Cut(strings.TrimPrefix(u, "/"), "/")
	if !ok || c == "" || o == "" {
		return "", "", failf(errPreconditionFailed, "%s header must be of the form <container name>/<object name>", header)
	}
	return c, o, nil
}

// accountOf reads an account header value ("AUTH_<project>") or, when
// empty, the request's account.
func (q *request) accountOf(v string) (string, error) {
	if v == "" {
		return q.acct, nil
	}
	u, _ := url.PathUnescape(v)
	id, ok := strings.CutPrefix(u, "AUTH_")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", failf(errPreconditionFailed, "Account name must be of the form AUTH_<project id>")
	}
	return id, nil
}

// copyMethod answers COPY: the object is copied to Destination (in
// Destination-Account, default this one).
func (q *request) copyMethod() error {
	dest := q.r.Header.Get("Destination")
	if dest == "" {
		return failf(errPreconditionFailed, "You must specify a Destination header")
	}
	dc, do, err := splitCopyPath("Destination", dest)
	if err != nil {
		return err
	}
	dacct, err := q.accountOf(q.r.Header.Get("Destination-Account"))
	if err != nil {
		return err
	}
	src := "/" + q.cont + "/" + q.obj
	srcAcct := q.acctSeg
	q.acct, q.acctSeg = dacct, "AUTH_"+dacct
	return q.copyFrom(url.PathEscape(src), srcAcct, dc, do)
}

// copyFrom writes object dc/do (in the request's account) as a copy of
// the X-Copy-From source: a large object is copied as its concatenated
// content unless ?multipart-manifest=get asks for the manifest itself.
// Metadata: the source's, overridden by the request's, or only the
// request's with X-Fresh-Metadata: true.
func (q *request) copyFrom(source, sourceAccount, dc, do string) error {
	sc, so, err := splitCopyPath("X-Copy-From", source)
	if err != nil {
		return err
	}
	if q.r.ContentLength > 0 || len(q.r.TransferEncoding) > 0 {
		return failf(errBadRequest, "Copy requests require a zero byte body")
	}
	sacct, err := q.accountOf(sourceAccount)
	if err != nil {
		return err
	}
	if err := checkObjectName(do); err != nil {
		return err
	}
	dacct := q.acct
	q.acct = sacct
	sb, err := q.container(sc, opRead)
	q.acct = dacct
	if err != nil {
		return err
	}
	db, err := q.container(dc, opWrite)
	if err != nil {
		return err
	}
	manifest := q.query.Get("multipart-manifest") == "get"
	h := q.r.Header
	for attempt := 0; ; attempt++ {
		ct, err := q.openContent(sb.Name, so, manifest)
		if err != nil {
			return err
		}
		src := ct.info
		opts := objectd.PutOptions{Headers: map[string]string{}}
		if !isTrue(h.Get("X-Fresh-Metadata")) {
			opts.ContentType = src.ContentType
			opts.UserMeta = map[string]string{}
			for k, v := range src.UserMeta {
				opts.UserMeta[k] = v
			}
			for _, name := range contentHeaders {
				if v := src.Headers[name]; v != "" {
					opts.Headers[name] = v
				}
			}
		}
		if manifest {
			for _, name := range []string{hdrSLO, hdrSLOEtag, hdrSLOSize, hdrManifest} {
				if v := src.Headers[name]; v != "" {
					opts.Headers[name] = v
				}
			}
		}
		meta, err := objectUserMeta(h)
		if err != nil {
			return err
		}
		for k, v := range meta {
			if opts.UserMeta == nil {
				opts.UserMeta = map[string]string{}
			}
			opts.UserMeta[k] = v
		}
		if err := checkMeta("X-Object-Meta-", opts.UserMeta); err != nil {
			return err
		}
		if v := h.Get("Content-Type"); v != "" {
			opts.ContentType = v
		}
		if opts.ContentType == "" {
			opts.ContentType = contentType(http.Header{}, do)
		}
		for _, name := range contentHeaders {
			if v := h.Get(name); v != "" {
				opts.Headers[name] = v
			}
		}
		at, err := deleteAt(h, q.s.now())
		if err != nil {
			return err
		}
		if at > 0 {
			opts.Headers[hdrDeleteAt] = strconv.FormatInt(at, 10)
		}
		if v := h.Get(hdrManifest); v != "" {
			if err := checkDLOManifest(v); err != nil {
				return err
			}
			opts.Headers[hdrManifest] = v
		}
		if ct.size > q.s.lim.maxObjectSize {
			return errTooLarge
		}
		if err := q.ifNoneMatch(db.Name, do, &opts); err != nil {
			return err
		}
		pieces, err := ct.plan(0, ct.size)
		if err != nil {
			return err
		}
		pr := newPieceReader(q.ctx, q.s.store, pieces)
		if err := pr.prime(); err != nil {
			pr.Close()
			if isVersionChanged(err) && attempt < 3 {
				continue
			}
			return err
		}
		oi, err := q.s.store.PutObject(q.ctx, db.Name, do, pr, ct.size, opts)
		pr.Close()
		if isVersionChanged(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return err
		}
		rh := q.w.Header()
		rh.Set("X-Copied-From", url.PathEscape(sc)+"/"+pathEscape(so))
		rh.Set("X-Copied-From-Account", url.PathEscape("AUTH_"+sacct))
		rh.Set("X-Copied-From-Last-Modified", lastModified(src.ModTime).Format(http.TimeFormat))
		q.created(oi.ETag, oi)
		return nil
	}
}

// pathEscape percent-encodes an object name, keeping its slashes.
func pathEscape(s string) string {
	parts := strings.Split(s, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
