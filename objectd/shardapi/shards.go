package shardapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/basaltstore/basalt/objectd/disk"
)

// shardPath is the escaped path of a shard below the disk; an id that
// cannot be one path segment is refused here (the node judges the rest).
func shardPath(dataID string) (string, error) {
	if dataID == "" || dataID == "." || dataID == ".." || strings.ContainsAny(dataID, "/\\?#%") {
		return "", fmt.Errorf("%w: %q", disk.ErrBadDataID, dataID)
	}
	return "shards/" + url.PathEscape(dataID), nil
}

// CreateShard starts streaming a shard to the node: the returned sink's
// writes are the body of a PUT under way. Nothing becomes visible on the
// node before Commit, and nothing at all after Abort. A sink is used by
// one goroutine at a time.
func (v *Volume) CreateShard(dataID string) (disk.ShardSink, error) {
	rest, err := shardPath(dataID)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := v.newRequest(ctx, http.MethodPut, rest, "", pr)
	if err != nil {
		cancel()
		return nil, err
	}
	req.ContentLength = -1 // chunked: the end of the body is the commit signal
	s := &shardSink{pw: pw, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		resp, err := v.send(req, http.StatusNoContent)
		if err == nil {
			_ = resp.Body.Close()
		}
		s.result = err
		// The node answered (or failed) before taking the whole body:
		// writes still pending must fail instead of waiting forever.
		if err == nil {
			err = ErrSinkDone
		}
		pr.CloseWithError(err)
	}()
	return s, nil
}

type shardSink struct {
	pw       *io.PipeWriter
	cancel   context.CancelFunc
	done     chan struct{}
	result   error // set before done is closed
	finished bool
}

// Write sends p to the node.
func (s *shardSink) Write(p []byte) (int, error) {
	if s.finished {
		return 0, ErrSinkDone
	}
	return s.pw.Write(p)
}

// Commit ends the body and waits for the node to have made the shard
// durable.
func (s *shardSink) Commit() error {
	if s.finished {
		return ErrSinkDone
	}
	s.finished = true
	_ = s.pw.Close()
	<-s.done
	s.cancel()
	return s.result
}

// Abort breaks the body off, so that the node discards what it received,
// and waits for the request to end.
func (s *shardSink) Abort() {
	if s.finished {
		return
	}
	s.finished = true
	s.pw.CloseWithError(errAborted)
	s.cancel()
	<-s.done
}

// OpenShard checks with one HEAD that the shard exists (else an error
// wrapping disk.ErrNotFound) and returns a source whose ReadAt issues
// ranged GETs.
func (v *Volume) OpenShard(dataID string) (disk.ShardSource, error) {
	rest, err := shardPath(dataID)
	if err != nil {
		return nil, err
	}
	if err := v.call(http.MethodHead, rest, "", nil, []int{http.StatusOK}, nil); err != nil {
		return nil, err
	}
	return &shardSource{v: v, rest: rest}, nil
}

type shardSource struct {
	v    *Volume
	rest string
}

// ReadAt reads len(p) bytes at off; as os.File.ReadAt, fewer bytes come
// with io.EOF at the end of the shard.
func (s *shardSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("shardapi: negative offset %d", off)
	}
	n := 0
	for n < len(p) {
		want := min(len(p)-n, maxRange)
		got, err := s.readRange(p[n:n+want], off+int64(n))
		n += got
		if err != nil {
			return n, err
		}
		if got < want {
			return n, io.EOF
		}
	}
	return n, nil
}

func (s *shardSource) readRange(p []byte, off int64) (int, error) {
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), s.v.opts.Timeout)
	defer cancel()
	req, err := s.v.newRequest(ctx, http.MethodGet, s.rest, "", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+int64(len(p))-1, 10))
	resp, err := s.v.send(req, http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		return 0, nil
	}
	if resp.ContentLength < 0 || resp.ContentLength > int64(len(p)) {
		return 0, fmt.Errorf("%w: %d bytes for a range of %d", ErrProtocol, resp.ContentLength, len(p))
	}
	got, err = io.ReadFull(resp.Body, p[:resp.ContentLength])
	if err != nil {
		err = fmt.Errorf("%w: reading shard from %s: %w", ErrUnreachable, s.v.name, err)
		s.v.markDown(err)
		return got, err
	}
	return got, nil
}

// Close releases nothing: each ReadAt is its own request.
func (s *shardSource) Close() error { return nil }

// RemoveShard deletes a shard on the node; a missing one is not an error.
func (v *Volume) RemoveShard(dataID string) error {
	rest, err := shardPath(dataID)
	if err != nil {
		return err
	}
	return v.call(http.MethodDelete, rest, "", nil, []int{http.StatusNoContent}, nil)
}
