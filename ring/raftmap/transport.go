package raftmap

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Connection setup on the node's one TCP port (see doc.go):
//
//	C->S  "BRFT" | version (1) | client nonce (16)
//	S->C  server nonce (16) | HMAC(secret, "server" | cn | sn) (32)
//	C->S  HMAC(secret, "client" | cn | sn) (32) | channel ('R' raft, 'C' control)
//	S->C  status (1 byte: 0 accepted, 1 refused)
const (
	hsMagic       = "BRFT"
	hsVersion     = 1
	nonceLen      = 16
	macLen        = sha256.Size
	chanRaft      = 'R'
	chanControl   = 'C'
	hsTimeout     = 10 * time.Second
	maxFrame      = 16 << 20
	statusOK      = 0
	statusRefused = 1
)

func mac(secret []byte, label string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	h.Write([]byte{0})
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// clientHandshake authenticates c for channel ch and returns the
// session key of a control channel.
func clientHandshake(c net.Conn, secret []byte, ch byte) ([]byte, error) {
	cn := make([]byte, nonceLen)
	_, _ = rand.Read(cn)
	hello := append([]byte(hsMagic+string(rune(hsVersion))), cn...)
	if _, err := c.Write(hello); err != nil {
		return nil, err
	}
	buf := make([]byte, nonceLen+macLen)
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, err
	}
	sn, proof := buf[:nonceLen], buf[nonceLen:]
	if !hmac.Equal(proof, mac(secret, "server", cn, sn)) {
		return nil, fmt.Errorf("%w: %s did not prove the secret", ErrBadSecret, c.RemoteAddr())
	}
	if _, err := c.Write(append(mac(secret, "client", cn, sn), ch)); err != nil {
		return nil, err
	}
	var st [1]byte
	if _, err := io.ReadFull(c, st[:]); err != nil {
		return nil, err
	}
	if st[0] != statusOK {
		return nil, fmt.Errorf("%w: refused by %s", ErrBadSecret, c.RemoteAddr())
	}
	return mac(secret, "session", cn, sn), nil
}

// serverHandshake is the other side: it returns the channel and the
// session key.
func serverHandshake(c net.Conn, secret []byte) (byte, []byte, error) {
	hello := make([]byte, len(hsMagic)+1+nonceLen)
	if _, err := io.ReadFull(c, hello); err != nil {
		return 0, nil, err
	}
	if string(hello[:len(hsMagic)]) != hsMagic || hello[len(hsMagic)] != hsVersion {
		return 0, nil, fmt.Errorf("%w: bad hello from %s", ErrProtocol, c.RemoteAddr())
	}
	cn := hello[len(hsMagic)+1:]
	sn := make([]byte, nonceLen)
	_, _ = rand.Read(sn)
	if _, err := c.Write(append(sn, mac(secret, "server", cn, sn)...)); err != nil {
		return 0, nil, err
	}
	buf := make([]byte, macLen+1)
	if _, err := io.ReadFull(c, buf); err != nil {
		return 0, nil, err
	}
	if !hmac.Equal(buf[:macLen], mac(secret, "client", cn, sn)) {
		_, _ = c.Write([]byte{statusRefused})
		return 0, nil, fmt.Errorf("%w: %s did not prove the secret", ErrBadSecret, c.RemoteAddr())
	}
	ch := buf[macLen]
	if ch != chanRaft && ch != chanControl {
		_, _ = c.Write([]byte{statusRefused})
		return 0, nil, fmt.Errorf("%w: channel %q from %s", ErrProtocol, ch, c.RemoteAddr())
	}
	if _, err := c.Write([]byte{statusOK}); err != nil {
		return 0, nil, err
	}
	return ch, mac(secret, "session", cn, sn), nil
}

// writeFrame writes length (4 bytes, big-endian) | payload | HMAC(key,
// dir | length | payload).
func writeFrame(w io.Writer, key []byte, dir string, payload []byte) error {
	if len(payload) > maxFrame {
		return fmt.Errorf("%w: frame of %d bytes", ErrProtocol, len(payload))
	}
	hdr := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	buf := append(hdr, payload...)
	buf = append(buf, mac(key, dir, hdr, payload)...)
	_, err := w.Write(buf)
	return err
}

func readFrame(r io.Reader, key []byte, dir string) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("%w: frame of %d bytes", ErrProtocol, n)
	}
	buf := make([]byte, int(n)+macLen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	payload, sum := buf[:n], buf[n:]
	if !hmac.Equal(sum, mac(key, dir, hdr[:], payload)) {
		return nil, fmt.Errorf("%w: message authentication failed", ErrBadSecret)
	}
	return payload, nil
}

// mux serves the node's port: it authenticates every connection, hands
// raft connections to raft's NetworkTransport (as its StreamLayer) and
// control connections to the node.
type mux struct {
	ln        net.Listener
	advertise net.Addr
	// from is the local address connections to other nodes are made
	// from: the listener's IP when it is a specific one (so a node talks
	// from the address it is known by), nil for any.
	from    *net.TCPAddr
	secret  []byte
	log     *slog.Logger
	control func(c net.Conn, key []byte)

	raftConns chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

var _ raft.StreamLayer = (*mux)(nil)

func newMux(ln net.Listener, advertise net.Addr, secret []byte, log *slog.Logger) *mux {
	var from *net.TCPAddr
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		from = &net.TCPAddr{IP: a.IP}
	}
	return &mux{
		ln: ln, advertise: advertise, secret: secret, log: log, from: from,
		raftConns: make(chan net.Conn),
		closed:    make(chan struct{}),
		conns:     map[net.Conn]struct{}{},
	}
}

// serve accepts connections until Close; control is set before.
func (m *mux) serve() {
	defer m.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				m.log.Warn("raft port: accept", "err", err)
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-m.closed:
				t.Stop()
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		tc, ok := m.track(c)
		if !ok {
			return
		}
		m.wg.Add(1)
		go m.handle(tc)
	}
}

// track records c so that Close can close it.
func (m *mux) track(c net.Conn) (net.Conn, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-m.closed:
		_ = c.Close()
		return nil, false
	default:
	}
	m.conns[c] = struct{}{}
	return &trackedConn{Conn: c, m: m}, true
}

type trackedConn struct {
	net.Conn
	m    *mux
	once sync.Once
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		t.m.mu.Lock()
		delete(t.m.conns, t.Conn)
		t.m.mu.Unlock()
	})
	return t.Conn.Close()
}

func (m *mux) handle(c net.Conn) {
	defer m.wg.Done()
	_ = c.SetDeadline(time.Now().Add(hsTimeout))
	ch, key, err := serverHandshake(c, m.secret)
	if err != nil {
		if errors.Is(err, ErrBadSecret) || errors.Is(err, ErrProtocol) {
			m.log.Warn("raft port: connection refused", "remote", c.RemoteAddr().String(), "err", err)
		}
		_ = c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	switch ch {
	case chanRaft:
		select {
		case m.raftConns <- c:
		case <-m.closed:
			_ = c.Close()
		}
	case chanControl:
		m.control(c, key)
		_ = c.Close()
	}
}

// Accept returns the next authenticated raft connection.
func (m *mux) Accept() (net.Conn, error) {
	select {
	case c := <-m.raftConns:
		return c, nil
	case <-m.closed:
		return nil, net.ErrClosed
	}
}

// Close stops the listener and closes every connection; it waits for the
// connection handlers.
func (m *mux) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		close(m.closed)
		conns := make([]net.Conn, 0, len(m.conns))
		for c := range m.conns {
			conns = append(conns, c)
		}
		m.mu.Unlock()
		_ = m.ln.Close()
		for _, c := range conns {
			_ = c.Close()
		}
		m.wg.Wait()
	})
	return nil
}

// Addr is the advertised address.
func (m *mux) Addr() net.Addr { return m.advertise }

// Dial opens an authenticated raft connection.
func (m *mux) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, _, err := dialChannel(string(addr), m.secret, chanRaft, time.Now().Add(timeout), m.from)
	return c, err
}

// dialChannel connects to addr (from the local address from, when not
// nil) and authenticates for channel ch.
func dialChannel(addr string, secret []byte, ch byte, deadline time.Time, from *net.TCPAddr) (net.Conn, []byte, error) {
	d := net.Dialer{Deadline: deadline}
	if from != nil {
		d.LocalAddr = from
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	_ = c.SetDeadline(deadline)
	key, err := clientHandshake(c, secret, ch)
	if err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return c, key, nil
}
