package proxy

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"
)

// admission bounds the S3 and Swift requests in flight, and with them the
// memory of the data path: each holds at most two sets of stripe and
// shard buffers (a copy reads one object while it writes another), 3 MiB
// a set at 2+2 with 1 MiB stripes. A request past the limit waits for a
// slot up to wait, then is refused with the protocol's "slow down" (S3's
// SlowDown, Swift's 503), which clients retry with backoff.
type admission struct {
	slots   chan struct{}
	wait    time.Duration
	entered func() // tests: called once a request holds a slot
}

func newAdmission(max int, wait time.Duration) *admission {
	if max <= 0 {
		return nil
	}
	return &admission{slots: make(chan struct{}, max), wait: wait}
}

// enter takes a slot: true when taken (leave gives it back), false when
// none freed within the wait or the client went away.
func (a *admission) enter(ctx context.Context) bool {
	if !a.take(ctx) {
		return false
	}
	if a.entered != nil {
		a.entered()
	}
	return true
}

func (a *admission) take(ctx context.Context) bool {
	select {
	case a.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (a *admission) leave() { <-a.slots }

// A refused request's body, up to refusedDrain bytes read within
// refusedDrainTime, is read and dropped before the answer. Closing the
// connection with the body unread would reset it under a client still
// sending, which then sees a broken connection instead of the refusal;
// drained, the client reads the refusal and keeps its connection (a
// longer body still closes it). A client that waits for "100 Continue"
// has sent no body: none is asked for.
const (
	refusedDrain     = 8 << 20
	refusedDrainTime = 2 * time.Second
)

func drainRefused(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 ||
		strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(refusedDrainTime))
	_, err := io.CopyN(io.Discard, r.Body, refusedDrain)
	_ = rc.SetReadDeadline(time.Time{})
	if err == io.EOF {
		// All read: the answer goes out as to a request without a body,
		// on a connection that stays open.
		r.Body, r.ContentLength = http.NoBody, 0
	}
}
