package proxy

import (
	"context"
	"time"
)

// admission bounds the S3 and Swift requests in flight, and with them the
// memory of the data path: each holds at most two sets of stripe and
// shard buffers (a copy reads one object while it writes another), 3 MiB
// a set at 2+2 with 1 MiB stripes. A request past the limit waits for a
// slot up to wait, then is refused with the protocol's "slow down" (S3's
// SlowDown, Swift's 503), which clients retry with backoff.
type admission struct {
	slots chan struct{}
	wait  time.Duration
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
