package raftmap

import (
	"bytes"
	"errors"
	"net"
	"testing"
)

type hsResult struct {
	ch  byte
	key []byte
	err error
}

// handshake runs both sides over a pipe.
func handshake(t *testing.T, clientSecret, serverSecret []byte, ch byte) (client, server hsResult) {
	t.Helper()
	c, s := net.Pipe()
	done := make(chan hsResult, 1)
	go func() {
		ch, key, err := serverHandshake(s, serverSecret)
		_ = s.Close()
		done <- hsResult{ch, key, err}
	}()
	key, err := clientHandshake(c, clientSecret, ch)
	_ = c.Close()
	return hsResult{ch, key, err}, <-done
}

func TestHandshake(t *testing.T) {
	other := []byte("another-cluster-secret-xx")
	c, s := handshake(t, testSecret, testSecret, chanControl)
	if c.err != nil || s.err != nil || s.ch != chanControl || !bytes.Equal(c.key, s.key) || len(c.key) != macLen {
		t.Fatalf("good handshake: client %+v server %+v", c, s)
	}
	c2, _ := handshake(t, testSecret, testSecret, chanControl)
	if bytes.Equal(c.key, c2.key) {
		t.Fatal("two connections got the same session key")
	}
	// The client finds out from the server's proof; the server from the
	// client's.
	c, s = handshake(t, other, testSecret, chanRaft)
	if !errors.Is(c.err, ErrBadSecret) {
		t.Fatalf("client with wrong secret: %v", c.err)
	}
	if s.err == nil {
		t.Fatal("server accepted a client with the wrong secret")
	}
	// A bad channel byte is refused.
	c, s = handshake(t, testSecret, testSecret, 'X')
	if !errors.Is(s.err, ErrProtocol) || c.err == nil {
		t.Fatalf("bad channel: client %v server %v", c.err, s.err)
	}
}

func TestHandshakeServerRefusesForgedProof(t *testing.T) {
	c, s := net.Pipe()
	done := make(chan error, 1)
	go func() {
		_, _, err := serverHandshake(s, testSecret)
		done <- err
	}()
	_, _ = c.Write(append([]byte(hsMagic+"\x01"), make([]byte, nonceLen)...))
	buf := make([]byte, nonceLen+macLen)
	_, _ = c.Read(buf)
	// A client that does not know the secret sends a made-up proof.
	_, _ = c.Write(append(make([]byte, macLen), chanRaft))
	st := make([]byte, 1)
	if _, err := c.Read(st); err != nil || st[0] != statusRefused {
		t.Fatalf("status %v, %v", st, err)
	}
	if err := <-done; !errors.Is(err, ErrBadSecret) {
		t.Fatalf("server: %v", err)
	}
	_ = c.Close()

	// Not this protocol at all.
	c, s = net.Pipe()
	go func() {
		_, _, err := serverHandshake(s, testSecret)
		done <- err
	}()
	go func() { _, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: basalt\r\n\r\n")) }()
	err := <-done
	_ = c.Close()
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("http on the port: %v", err)
	}
}

func TestFrames(t *testing.T) {
	key := mac(testSecret, "session", []byte("a"), []byte("b"))
	var buf bytes.Buffer
	if err := writeFrame(&buf, key, "req", []byte(`{"op":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	frame := bytes.Clone(buf.Bytes())
	got, err := readFrame(bytes.NewReader(frame), key, "req")
	if err != nil || string(got) != `{"op":"ping"}` {
		t.Fatalf("read %q, %v", got, err)
	}
	// The direction is part of the MAC: a request cannot pass as a response.
	if _, err := readFrame(bytes.NewReader(frame), key, "resp"); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("reflected frame: %v", err)
	}
	// Another connection's key does not verify it.
	if _, err := readFrame(bytes.NewReader(frame), mac(testSecret, "session", []byte("c"), []byte("d")), "req"); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("replayed frame: %v", err)
	}
	// Any flipped bit is caught.
	for i := 4; i < len(frame); i++ {
		bad := bytes.Clone(frame)
		bad[i] ^= 1
		if _, err := readFrame(bytes.NewReader(bad), key, "req"); !errors.Is(err, ErrBadSecret) {
			t.Fatalf("bit flip at %d: %v", i, err)
		}
	}
	// An oversized length is refused before reading.
	if _, err := readFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff}), key, "req"); !errors.Is(err, ErrProtocol) {
		t.Fatalf("huge frame: %v", err)
	}
}
