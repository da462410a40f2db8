package shardapi

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/basaltstore/basalt/objectd/disk"
)

// Handler serves a node's local disks over the shard API.
type Handler struct {
	secret []byte
	vols   func(id string) (disk.Volume, bool)
	log    *slog.Logger
	locks  *keyLocks
	mux    *http.ServeMux
	now    func() time.Time
	bufs   sync.Pool // *[]byte of maxRange bytes

	conflicts atomic.Int64 // transactions refused for a changed read
}

// New returns the shard API handler of this node. Keep the *Handler when
// this node also updates its served disks' metadata itself: see Local.
// An empty secret refuses every request.
func New(secret []byte, vols func(id string) (disk.Volume, bool), log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		secret: append([]byte(nil), secret...),
		vols:   vols,
		log:    log.With("component", "shardapi"),
		locks:  newKeyLocks(),
		mux:    http.NewServeMux(),
		now:    time.Now,
	}
	h.bufs.New = func() any { b := make([]byte, maxRange); return &b }
	p := "/shard/v1/disks/{id}/"
	h.mux.HandleFunc("GET "+p+"health", h.withDisk(h.health))
	h.mux.HandleFunc("PUT "+p+"shards/{dataID}", h.withDisk(h.putShard))
	h.mux.HandleFunc("GET "+p+"shards/{dataID}", h.withDisk(h.getShard)) // and HEAD
	h.mux.HandleFunc("DELETE "+p+"shards/{dataID}", h.withDisk(h.deleteShard))
	h.mux.HandleFunc("GET "+p+"meta", h.withDisk(h.getMeta))
	h.mux.HandleFunc("POST "+p+"txn", h.withDisk(h.txn))
	h.mux.HandleFunc("POST "+p+"iter", h.withDisk(h.iter))
	h.mux.HandleFunc("GET "+p+"healing", h.withDisk(h.getHealing))
	h.mux.HandleFunc("PUT "+p+"healing", h.withDisk(h.putHealing))
	return h
}

// ServeHTTP checks the request's signature before anything else.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		h.log.Warn("shard API request refused", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		writeError(w, http.StatusUnauthorized, codeAuth, "bad or missing signature")
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) authorized(r *http.Request) bool {
	date, mac := r.Header.Get(hdrDate), r.Header.Get(hdrAuth)
	if len(h.secret) == 0 || date == "" || mac == "" {
		return false
	}
	got, err := hex.DecodeString(mac)
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(sign(h.secret, r.Method, r.URL.EscapedPath(), r.URL.RawQuery, date))
	if !hmac.Equal(got, want) {
		return false
	}
	ns, err := strconv.ParseInt(date, 10, 64)
	if err != nil {
		return false
	}
	skew := h.now().Sub(time.Unix(0, ns))
	return skew <= maxSkew && skew >= -maxSkew
}

func (h *Handler) withDisk(fn func(http.ResponseWriter, *http.Request, disk.Volume)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		vol, ok := h.vols(r.PathValue("id"))
		if !ok || vol == nil {
			writeError(w, http.StatusNotFound, codeNoSuchDisk, "no such disk")
			return
		}
		if l, ok := vol.(*localVolume); ok {
			vol = l.Volume // remote transactions take the locks themselves
		}
		// Every answer says whether the disk was being filled back when
		// the request began: a "not found" from such a disk proves
		// nothing, and the client must not judge it by a state cached
		// before the node restarted with the disk replaced.
		w.Header().Set(hdrHealing, strconv.FormatBool(vol.Healing()))
		fn(w, r, vol)
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeErrorBody(w, status, errorBody{Error: msg, Code: code})
}

func writeErrorBody(w http.ResponseWriter, status int, body errorBody) {
	w.Header().Set(hdrError, body.Code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// fail answers a disk error with its status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, disk.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, err.Error())
	case errors.Is(err, disk.ErrCorrupt):
		writeError(w, http.StatusInternalServerError, codeCorrupt, err.Error())
	case errors.Is(err, disk.ErrBadDataID):
		writeError(w, http.StatusBadRequest, codeBadDataID, err.Error())
	case errors.Is(err, disk.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, codeClosed, err.Error())
	default:
		h.log.Warn("shard API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, codeInternal, err.Error())
	}
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	w.Header().Set(hdrHealing, strconv.FormatBool(vol.Healing()))
	if err := vol.Healthy(); err != nil {
		code := codeUnhealthy
		if errors.Is(err, disk.ErrClosed) {
			code = codeClosed
		}
		writeError(w, http.StatusServiceUnavailable, code, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// putShard streams the body into a new shard, committed only when the
// body ended cleanly.
func (h *Handler) putShard(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	sink, err := vol.CreateShard(r.PathValue("dataID"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := io.Copy(sink, r.Body); err != nil {
		sink.Abort()
		h.log.Debug("shard upload broken, discarded", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusBadRequest, codeBadRequest, "body broken: "+err.Error())
		return
	}
	if err := sink.Commit(); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// getShard answers HEAD (does the shard exist) and ranged GETs.
func (h *Handler) getShard(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	var off, n int64
	if r.Method == http.MethodGet {
		var ok bool
		if off, n, ok = parseRange(r.Header.Get("Range")); !ok {
			writeError(w, http.StatusBadRequest, codeBadRequest, "need Range: bytes=a-b, at most 1 MiB")
			return
		}
	}
	src, err := vol.OpenShard(r.PathValue("dataID"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer src.Close()
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	bp := h.bufs.Get().(*[]byte)
	defer h.bufs.Put(bp)
	buf := (*bp)[:n]
	got, err := src.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		h.fail(w, r, err)
		return
	}
	if got == 0 {
		writeError(w, http.StatusRequestedRangeNotSatisfiable, codeBadRequest, "range starts at or past the end")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(got))
	w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+int64(got)-1, 10)+"/*")
	w.WriteHeader(http.StatusPartialContent)
	_, _ = w.Write(buf[:got])
}

// parseRange parses "bytes=a-b" (b inclusive) into an offset and a length
// of at most maxRange.
func parseRange(s string) (off, n int64, ok bool) {
	spec, found := strings.CutPrefix(s, "bytes=")
	if !found {
		return 0, 0, false
	}
	as, bs, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.ParseInt(as, 10, 64)
	b, err2 := strconv.ParseInt(bs, 10, 64)
	if err1 != nil || err2 != nil || a < 0 || b < a || b-a >= maxRange {
		return 0, 0, false
	}
	return a, b - a + 1, true
}

func (h *Handler) deleteShard(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	if err := vol.RemoveShard(r.PathValue("dataID")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func decodeKey(s string) ([]byte, bool) {
	k, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return k, err == nil && len(k) > 0
}

func (h *Handler) getMeta(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	key, ok := decodeKey(r.URL.Query().Get("key"))
	if !ok {
		writeError(w, http.StatusBadRequest, codeBadRequest, "key: want non-empty base64url")
		return
	}
	v, err := vol.Get(key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(v)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(v)
}

func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, into any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(into); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

func (h *Handler) txn(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	var req txnRequest
	if !decodeJSON(w, r, maxTxnBody, &req) {
		return
	}
	for _, rd := range req.Reads {
		if len(rd.K) == 0 {
			writeError(w, http.StatusBadRequest, codeBadRequest, "empty key")
			return
		}
	}
	for _, wr := range req.Writes {
		if len(wr.K) == 0 {
			writeError(w, http.StatusBadRequest, codeBadRequest, "empty key")
			return
		}
	}
	cur, token, err := h.locks.apply(vol, req, true)
	if errors.Is(err, errConflict) {
		h.conflicts.Add(1)
		writeErrorBody(w, http.StatusConflict, errorBody{Error: "a read key changed", Code: codeConflict, Reads: cur, Token: token})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) iter(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	var req iterRequest
	if !decodeJSON(w, r, maxSmallBody, &req) {
		return
	}
	limit := req.Limit
	if limit <= 0 {
		limit = defaultPage
	}
	limit = min(limit, maxPage)
	it, err := vol.NewIterator(req.Prefix, req.Start, req.Values)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer it.Close()
	resp := iterResponse{Items: []iterItem{}}
	for ; it.Valid(); it.Next() {
		if len(resp.Items) == limit {
			resp.More = true
			break
		}
		item := iterItem{K: append([]byte(nil), it.Key()...)}
		if req.Values {
			if item.V, err = it.Value(nil); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		resp.Items = append(resp.Items, item)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (h *Handler) getHealing(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, strconv.FormatBool(vol.Healing()))
}

func (h *Handler) putHealing(w http.ResponseWriter, r *http.Request, vol disk.Volume) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 16))
	on, perr := strconv.ParseBool(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, `body: want "true" or "false"`)
		return
	}
	if err := vol.SetHealing(on); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// localVolume is a served disk as this node's own code should use it:
// its Update is an optimistic transaction committed under the same key
// locks as remote ones, so that local and remote read-modify-writes of
// one key never interleave.
type localVolume struct {
	disk.Volume
	h *Handler
}

// Local wraps a disk this handler serves for this node's own use. A
// local Update straight on the disk does not take the handler's key
// locks, so a remote transaction's check-and-write may interleave with
// it; through Local it does not. Local returns v itself if already
// wrapped.
func (h *Handler) Local(v disk.Volume) disk.Volume {
	if l, ok := v.(*localVolume); ok && l.h == h {
		return v
	}
	return &localVolume{Volume: v, h: h}
}

// Update runs fn optimistically (reads from the disk, writes buffered)
// and commits under the key locks if nothing it read has changed. After
// a conflict fn runs again while this goroutine holds the locks of the
// keys it used, so that the retry cannot lose again unless fn turns to
// other keys.
func (l *localVolume) Update(fn func(disk.Txn) error) error {
	var held *lockSet
	defer func() { held.unlock() }()
	for range maxAttempts {
		t := newOptTxn(l.Volume.Get, nil)
		if err := fn(t); err != nil {
			return err
		}
		if len(t.wlist) == 0 {
			return nil
		}
		req := t.request()
		if held != nil && !held.covers(req) {
			held.unlock()
			held = nil
		}
		var err error
		if held != nil {
			_, err = applyHeld(l.Volume, req)
		} else {
			_, _, err = l.h.locks.apply(l.Volume, req, false)
		}
		if !errors.Is(err, errConflict) {
			return err
		}
		l.h.conflicts.Add(1)
		if held == nil {
			held = l.h.locks.lock(l.Volume.ID(), req)
		}
	}
	return fmt.Errorf("%w: %d attempts", ErrConflict, maxAttempts)
}
