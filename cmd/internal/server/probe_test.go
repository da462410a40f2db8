package server

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/basaltstore/basalt/internal/vfs"
	"github.com/basaltstore/basalt/objectd/disk"
	"github.com/basaltstore/basalt/objectd/shardapi"
	"github.com/basaltstore/basalt/ring"
)

// fakeClock is the volumes' time, moved by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// A node that went away and came back has every disk used again at the
// next probe, also the disks marked down less than HoldDown before:
// before, such a disk was not asked (it was not Failed yet), became
// Failed a moment later and stayed down for RetryAfter, its node up.
func TestProbeBringsBackEveryDisk(t *testing.T) {
	secret := []byte("probe-secret")
	disks := map[string]*disk.Disk{}
	for range 2 {
		d, err := disk.Open(t.TempDir(), vfs.Default, disk.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		disks[d.ID()] = d
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := shardapi.New(secret, func(id string) (disk.Volume, bool) {
		d, ok := disks[id]
		return d, ok
	}, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	serve := func(ln net.Listener) (stop func()) {
		srv := &http.Server{Handler: h}
		done := make(chan struct{})
		go func() { _ = srv.Serve(ln); close(done) }()
		return func() { _ = srv.Close(); <-done }
	}
	stop := serve(ln)
	defer func() { stop() }()

	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	opts := shardapi.Options{Now: clock.Now, HoldDown: time.Second, RetryAfter: 2 * time.Second, Logger: log}
	s := newShardService("n1", secret, nil, log)
	for id := range disks {
		s.remote[ring.DiskID(id)] = remoteVol{addr: addr, v: shardapi.Dial("http://"+addr, id, id, secret, opts)}
	}
	failed := func() (n int) {
		for _, rv := range s.remote {
			if rv.v.Failed() {
				n++
			}
		}
		return n
	}

	s.probeOnce()
	if n := failed(); n != 0 {
		t.Fatalf("%d disks down with their node up", n)
	}
	// The node goes away: a reset, not a refused connection, so the
	// hold-down applies. The first disk's probe fails, the second is
	// marked down with it.
	stop()
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	resets := make(chan struct{})
	go func() {
		defer close(resets)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	s.probeOnce()
	ln.Close()
	<-resets

	// It comes back just under HoldDown later: the next probe must clear
	// both disks, whichever answers for the node.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	stop = serve(ln)
	clock.add(999 * time.Millisecond)
	s.probeOnce()
	clock.add(2 * time.Millisecond)
	if n := failed(); n != 0 {
		t.Fatalf("%d disks still down after their node answered a probe", n)
	}
}
