package testserver

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Relay is a TCP relay in front of one address, for cutting a node off
// the network: nodes are told to reach the node at the relay (its
// advertised addresses), and Block makes the relay drop the connections
// of chosen source IPs, existing and new, until Unblock. Nodes dial from
// the IP they listen on, so a relay tells them apart by source.
type Relay struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	blocked map[string]bool
	conns   map[net.Conn]string // client side -> its source IP
	wg      sync.WaitGroup
}

// StartRelay listens on a free port of host and forwards every
// connection to target. It stops when the test ends.
func StartRelay(t testing.TB, host, target string) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("testserver: relay: %v", err)
	}
	r := &Relay{ln: ln, target: target, blocked: map[string]bool{}, conns: map[net.Conn]string{}}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(r.close)
	return r
}

// Addr is the relay's address.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Block drops every connection from the given source IPs, and refuses
// new ones, until Unblock.
func (r *Relay) Block(ips ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ip := range ips {
		r.blocked[ip] = true
	}
	for c, ip := range r.conns {
		if r.blocked[ip] {
			_ = c.Close()
		}
	}
}

// Unblock lets every source through again.
func (r *Relay) Unblock() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.blocked)
}

func (r *Relay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		ip, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		r.mu.Lock()
		if r.blocked[ip] {
			r.mu.Unlock()
			_ = c.Close()
			continue
		}
		r.conns[c] = ip
		r.mu.Unlock()
		r.wg.Add(1)
		go r.pipe(c)
	}
}

// pipe forwards one connection both ways until either side ends or the
// relay drops it.
func (r *Relay) pipe(c net.Conn) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		_ = c.Close()
	}()
	up, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		// A dropped connection ends the copy with an error: nothing to
		// report, both sides are closed.
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
}

func (r *Relay) close() {
	_ = r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
