package shardapi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/basaltstore/basalt/internal/vfs"
	"github.com/basaltstore/basalt/objectd/disk"
)

var secret = []byte("cluster secret for tests")

// node is one server of the shard API on a real loopback socket.
type node struct {
	h     *Handler
	disks map[string]*disk.Disk
	addr  string
	srv   *http.Server
	done  chan struct{}
}

func newNode(t testing.TB, ndisks int) *node {
	t.Helper()
	n := &node{disks: map[string]*disk.Disk{}}
	for range ndisks {
		d, err := disk.Open(t.TempDir(), vfs.Default, disk.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		n.disks[d.ID()] = d
	}
	n.h = New(secret, func(id string) (disk.Volume, bool) {
		d, ok := n.disks[id]
		return d, ok
	}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.addr = ln.Addr().String()
	n.serve(ln)
	t.Cleanup(n.stop)
	return n
}

func (n *node) serve(ln net.Listener) {
	n.srv = &http.Server{Handler: n.h}
	n.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		_ = srv.Serve(ln)
		close(done)
	}(n.srv, n.done)
}

// stop closes the listener and every connection, and waits.
func (n *node) stop() {
	_ = n.srv.Close()
	<-n.done
}

// restart serves again on the same address.
func (n *node) restart(t *testing.T) {
	ln, err := net.Listen("tcp", n.addr)
	if err != nil {
		t.Fatal(err)
	}
	n.serve(ln)
}

func (n *node) url() string { return "http://" + n.addr }

func (n *node) first() *disk.Disk {
	for _, d := range n.disks {
		return d
	}
	return nil
}

func dial(n *node, d *disk.Disk, opts Options) *Volume {
	return Dial(n.url(), d.ID(), "node:"+d.Root(), secret, opts)
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func writeShard(t *testing.T, v disk.Volume, id string, data []byte) {
	t.Helper()
	w, err := v.CreateShard(id)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 100_000 {
		if _, err := w.Write(data[off:min(off+100_000, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func TestShardRoundTrip(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	v := dial(n, d, Options{})
	if v.ID() != d.ID() || v.Root() != "node:"+d.Root() {
		t.Fatalf("ID/Root = %q/%q", v.ID(), v.Root())
	}
	data := randBytes(2*maxRange+12345, 7)
	writeShard(t, v, "00ab1234", data)

	// The node's own disk has it byte-exact.
	local, err := d.OpenShard("00ab1234")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if _, err := local.ReadAt(got, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	local.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("local copy differs")
	}

	src, err := v.OpenShard("00ab1234")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, c := range []struct {
		off, n int
	}{{0, 1}, {0, 4096}, {1, maxRange}, {maxRange - 10, 20}, {100, 2*maxRange + 1000}, {0, len(data)}, {len(data) - 1, 1}} {
		buf := make([]byte, c.n)
		k, err := src.ReadAt(buf, int64(c.off))
		if err != nil || k != c.n || !bytes.Equal(buf, data[c.off:c.off+c.n]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v (equal %v)", c.n, c.off, k, err, bytes.Equal(buf[:k], data[c.off:c.off+k]))
		}
	}
	// Short reads at the end: io.EOF, like os.File.
	buf := make([]byte, 100)
	if k, err := src.ReadAt(buf, int64(len(data)-40)); k != 40 || err != io.EOF || !bytes.Equal(buf[:40], data[len(data)-40:]) {
		t.Fatalf("tail ReadAt = %d, %v", k, err)
	}
	if k, err := src.ReadAt(buf, int64(len(data))); k != 0 || err != io.EOF {
		t.Fatalf("ReadAt at end = %d, %v", k, err)
	}
	if k, err := src.ReadAt(buf, int64(len(data)+5000)); k != 0 || err != io.EOF {
		t.Fatalf("ReadAt past end = %d, %v", k, err)
	}

	if err := v.RemoveShard("00ab1234"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenShard("00ab1234"); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("OpenShard after remove: %v", err)
	}
	if _, err := d.OpenShard("00ab1234"); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("local OpenShard after remove: %v", err)
	}
	if err := v.RemoveShard("00ab1234"); err != nil {
		t.Fatalf("removing a missing shard: %v", err)
	}
	// The source of a removed shard says so.
	if _, err := src.ReadAt(buf, 0); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("ReadAt of a removed shard: %v", err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyShard(t *testing.T) {
	n := newNode(t, 1)
	v := dial(n, n.first(), Options{})
	writeShard(t, v, "0000", nil)
	src, err := v.OpenShard("0000")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := src.ReadAt(make([]byte, 10), 0); k != 0 || err != io.EOF {
		t.Fatalf("ReadAt of empty shard = %d, %v", k, err)
	}
}

func TestAbortLeavesNoShard(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	v := dial(n, d, Options{})
	data := randBytes(3*maxRange, 3)

	w, err := v.CreateShard("abcd0001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:maxRange+777]); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if _, err := w.Write(data[:10]); !errors.Is(err, ErrSinkDone) {
		t.Fatalf("write after abort: %v", err)
	}
	if err := w.Commit(); !errors.Is(err, ErrSinkDone) {
		t.Fatalf("commit after abort: %v", err)
	}
	if _, err := v.OpenShard("abcd0001"); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("remote OpenShard after abort: %v", err)
	}
	if _, err := d.OpenShard("abcd0001"); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("local OpenShard after abort: %v", err)
	}
	// Abort before any byte.
	w, err = v.CreateShard("abcd0002")
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if _, err := d.OpenShard("abcd0002"); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("OpenShard after empty abort: %v", err)
	}
	// A shard streamed in full is whole. (Another name: the node may
	// still be discarding the aborted upload.)
	writeShard(t, v, "abcd0003", data)
	src, err := v.OpenShard("abcd0003")
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{0, 1, maxRange - 1, maxRange + 776, 2*maxRange + 3} {
		buf := make([]byte, 5000)
		k, err := src.ReadAt(buf, int64(off))
		if err != nil || k != 5000 || !bytes.Equal(buf, data[off:off+5000]) {
			t.Fatalf("ReadAt %d: %d, %v", off, k, err)
		}
	}
	// An abort is not a failure of the node.
	if v.Failed() {
		t.Fatal("abort marked the volume down")
	}
}

func TestMetadata(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	v := dial(n, d, Options{})

	if _, err := v.Get([]byte("o/a")); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	err := v.Update(func(tx disk.Txn) error {
		if err := tx.Set([]byte("o/a"), []byte("one")); err != nil {
			return err
		}
		if err := tx.Set([]byte("o/b"), []byte{}); err != nil {
			return err
		}
		if err := tx.Set([]byte("o/c"), []byte("gone soon")); err != nil {
			return err
		}
		// Reads see the transaction's own writes.
		if got, err := tx.Get([]byte("o/a")); err != nil || string(got) != "one" {
			return fmt.Errorf("own write: %q, %v", got, err)
		}
		if err := tx.Delete([]byte("o/c")); err != nil {
			return err
		}
		if _, err := tx.Get([]byte("o/c")); !errors.Is(err, disk.ErrNotFound) {
			return fmt.Errorf("own delete: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"o/a": "one", "o/b": ""} {
		for _, vol := range []disk.Volume{v, d} {
			got, err := vol.Get([]byte(k))
			if err != nil || string(got) != want {
				t.Fatalf("%T Get %s = %q, %v", vol, k, got, err)
			}
		}
	}
	if _, err := d.Get([]byte("o/c")); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("o/c: %v", err)
	}

	// An error of fn is returned and nothing is written.
	boom := errors.New("boom")
	if err := v.Update(func(tx disk.Txn) error {
		_ = tx.Set([]byte("o/a"), []byte("two"))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Update with failing fn: %v", err)
	}
	if got, _ := d.Get([]byte("o/a")); string(got) != "one" {
		t.Fatalf("o/a after failed fn = %q", got)
	}

	// Deleting through a transaction; reading a missing key records its
	// absence.
	if err := v.Update(func(tx disk.Txn) error {
		if _, err := tx.Get([]byte("o/new")); !errors.Is(err, disk.ErrNotFound) {
			return fmt.Errorf("o/new: %v", err)
		}
		_ = tx.Set([]byte("o/new"), []byte("x"))
		return tx.Delete([]byte("o/a"))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get([]byte("o/a")); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("o/a after delete: %v", err)
	}

	// A transaction whose read changed before the commit runs again.
	runs := 0
	if err := v.Update(func(tx disk.Txn) error {
		runs++
		cur, err := tx.Get([]byte("o/new"))
		if err != nil {
			return err
		}
		if runs == 1 {
			// A concurrent writer on the node itself.
			if err := d.Update(func(lt disk.Txn) error { return lt.Set([]byte("o/new"), []byte("y")) }); err != nil {
				return err
			}
		}
		return tx.Set([]byte("o/new"), append(cur, '!'))
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Get([]byte("o/new")); runs != 2 || string(got) != "y!" {
		t.Fatalf("after conflict: runs %d, value %q", runs, got)
	}

	// A key that changes on every attempt ends in ErrConflict.
	i := 0
	err = v.Update(func(tx disk.Txn) error {
		if _, err := tx.Get([]byte("o/hot")); err != nil && !errors.Is(err, disk.ErrNotFound) {
			return err
		}
		i++
		if err := d.Update(func(lt disk.Txn) error { return lt.Set([]byte("o/hot"), []byte(strconv.Itoa(i))) }); err != nil {
			return err
		}
		return tx.Set([]byte("o/hot"), []byte("mine"))
	})
	if !errors.Is(err, ErrConflict) || i != maxAttempts {
		t.Fatalf("always conflicting: %v after %d runs", err, i)
	}
}

// counter increments the 8-byte counter at key in tx.
func counter(key []byte) func(disk.Txn) error {
	return func(tx disk.Txn) error {
		var n uint64
		cur, err := tx.Get(key)
		switch {
		case errors.Is(err, disk.ErrNotFound):
		case err != nil:
			return err
		default:
			n = binary.BigEndian.Uint64(cur)
		}
		return tx.Set(key, binary.BigEndian.AppendUint64(nil, n+1))
	}
}

func TestConcurrentIncrements(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	// Two client nodes, each a Volume shared by four goroutines (as a
	// store shares one), and two updaters on the serving node itself.
	client := NewClient(Options{})
	vols := []*Volume{
		Dial(n.url(), d.ID(), "n", secret, Options{Client: client}),
		Dial(n.url(), d.ID(), "n", secret, Options{}),
	}
	key := []byte("c/counter")
	const remote, local, each = 8, 2, 50
	var wg sync.WaitGroup
	errs := make(chan error, remote+local)
	for g := range remote + local {
		var vol disk.Volume
		if g < remote {
			vol = vols[g%2]
		} else {
			vol = n.h.Local(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := vol.Update(counter(key)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := d.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	if c := binary.BigEndian.Uint64(got); c != (remote+local)*each {
		t.Fatalf("counter = %d, want %d", c, (remote+local)*each)
	}
	// The count is exact although transactions did conflict and retry.
	if n.h.conflicts.Load() == 0 {
		t.Fatal("no transaction conflicted: the test proves nothing")
	}
	t.Logf("%d conflicts retried", n.h.conflicts.Load())
}

func TestIteratorMatchesLocal(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	v := dial(n, d, Options{PageSize: 64})
	if err := d.Update(func(tx disk.Txn) error {
		for i := range 1000 {
			if err := tx.Set(fmt.Appendf(nil, "k/%05d", i), fmt.Appendf(nil, "value %d", i*i)); err != nil {
				return err
			}
		}
		for _, k := range []string{"j/x", "k", "l/", "l/0"} {
			if err := tx.Set([]byte(k), []byte("outside")); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	type kv struct{ k, v string }
	walk := func(it disk.Iter, seek []byte, max int) []kv {
		var out []kv
		if seek != nil {
			it.Seek(seek)
		}
		for ; it.Valid() && len(out) < max; it.Next() {
			val, err := it.Value(nil)
			if err != nil {
				t.Fatal(err)
			}
			var viewed []byte
			if err := it.View(func(b []byte) error { viewed = append(viewed, b...); return nil }); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(val, viewed) {
				t.Fatalf("Value %q != View %q", val, viewed)
			}
			out = append(out, kv{string(it.Key()), string(val)})
		}
		return out
	}
	cases := []struct {
		prefix, start, seek string
		max                 int
	}{
		{"k/", "", "", 5000},
		{"k/", "k/00500", "", 5000},
		{"k/", "", "k/00937", 5000},
		{"k/", "k/00100", "k/00200x", 130},
		{"k/0099", "", "", 5000},
		{"k/", "", "k/99999", 5000},
		{"k/", "", "", 64}, // stops exactly at a page end
		{"", "", "", 5000},
		{"m/", "", "", 5000},
	}
	for _, c := range cases {
		opt := func(s string) []byte {
			if s == "" {
				return nil
			}
			return []byte(s)
		}
		li, err := d.NewIterator([]byte(c.prefix), opt(c.start), false)
		if err != nil {
			t.Fatal(err)
		}
		want := walk(li, opt(c.seek), c.max)
		li.Close()
		ri, err := v.NewIterator([]byte(c.prefix), opt(c.start), false)
		if err != nil {
			t.Fatal(err)
		}
		got := walk(ri, opt(c.seek), c.max)
		if ri.(*Iter).Err() != nil {
			t.Fatal(ri.(*Iter).Err())
		}
		ri.Close()
		if len(got) != len(want) {
			t.Fatalf("%+v: %d keys remote, %d local", c, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%+v: item %d = %v, want %v", c, i, got[i], want[i])
			}
		}
	}
	// The full walk really spans several pages and every key.
	ri, _ := v.NewIterator([]byte("k/"), nil, true)
	if all := walk(ri, nil, 5000); len(all) != 1000 || all[999].k != "k/00999" {
		t.Fatalf("full walk: %d keys", len(all))
	}
}

func TestAuthRefused(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	bad := Dial(n.url(), d.ID(), "bad", []byte("wrong secret"), Options{})
	if err := bad.Update(func(tx disk.Txn) error { return tx.Set([]byte("a/x"), []byte("1")) }); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong secret Update: %v", err)
	}
	w, err := bad.CreateShard("abab")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("data"))
	if err := w.Commit(); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong secret Commit: %v", err)
	}
	if err := bad.SetHealing(true); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong secret SetHealing: %v", err)
	}
	if bad.Failed() {
		t.Fatal("a refusal marked the volume down")
	}

	// Hand-made requests: no auth at all, and a correctly signed one
	// with a stale date.
	path := pathPrefix + d.ID() + "/healing"
	send := func(date string, mac string) int {
		req, _ := http.NewRequest(http.MethodPut, n.url()+path, bytes.NewReader([]byte("true")))
		if date != "" {
			req.Header.Set(hdrDate, date)
			req.Header.Set(hdrAuth, mac)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send("", ""); code != http.StatusUnauthorized {
		t.Fatalf("no auth: %d", code)
	}
	stale := strconv.FormatInt(time.Now().Add(-6*time.Minute).UnixNano(), 10)
	if code := send(stale, sign(secret, http.MethodPut, path, "", stale)); code != http.StatusUnauthorized {
		t.Fatalf("stale date: %d", code)
	}
	future := strconv.FormatInt(time.Now().Add(6*time.Minute).UnixNano(), 10)
	if code := send(future, sign(secret, http.MethodPut, path, "", future)); code != http.StatusUnauthorized {
		t.Fatalf("future date: %d", code)
	}
	now := strconv.FormatInt(time.Now().UnixNano(), 10)
	if code := send(now, sign(secret, http.MethodPut, path, "x=1", now)); code != http.StatusUnauthorized {
		t.Fatalf("MAC over another query: %d", code)
	}
	if code := send(now, "zz"+sign(secret, http.MethodPut, path, "", now)); code != http.StatusUnauthorized {
		t.Fatalf("malformed MAC: %d", code)
	}

	// Nothing changed.
	if _, err := d.Get([]byte("a/x")); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("a/x: %v", err)
	}
	if _, err := d.OpenShard("abab"); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("shard abab: %v", err)
	}
	if d.Healing() {
		t.Fatal("healing was set")
	}
	// The control: the same hand-made request, signed now, goes through.
	if code := send(now, sign(secret, http.MethodPut, path, "", now)); code != http.StatusNoContent || !d.Healing() {
		t.Fatalf("signed request: %d, healing %v", code, d.Healing())
	}
}

// clock is a test clock moved by hand.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock() *clock               { c := &clock{}; c.ns.Store(time.Now().UnixNano()); return c }

func TestFailedAndBack(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	clk := newClock()
	v := dial(n, d, Options{Now: clk.now, RetryAfter: time.Minute})
	if err := v.Update(func(tx disk.Txn) error { return tx.Set([]byte("f/k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if v.Failed() {
		t.Fatal("failed while up")
	}

	n.stop()
	if _, err := v.Get([]byte("f/k")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Get with the node down: %v", err)
	}
	if !v.Failed() {
		t.Fatal("not Failed after a refused connection")
	}
	if v.NoteIO(errors.New("anything")) {
		t.Fatal("NoteIO reported a failure")
	}
	n.restart(t)
	// Still down for RetryAfter: calls fail at once without asking.
	if _, err := v.Get([]byte("f/k")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Get within RetryAfter: %v", err)
	}
	if _, err := v.CreateShard("ffff"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("CreateShard within RetryAfter: %v", err)
	}
	clk.add(time.Minute)
	if v.Failed() {
		t.Fatal("still Failed after RetryAfter")
	}
	if got, err := v.Get([]byte("f/k")); err != nil || string(got) != "v" {
		t.Fatalf("Get after the node is back: %q, %v", got, err)
	}
	if err := v.Healthy(); err != nil {
		t.Fatal(err)
	}

	// NoteIO of an unreachable error marks it down; Reinstate clears it.
	v.NoteIO(fmt.Errorf("wrapped: %w", ErrUnreachable))
	if !v.Failed() {
		t.Fatal("NoteIO(ErrUnreachable) did not mark it down")
	}
	v.Reinstate()
	if v.Failed() {
		t.Fatal("Failed after Reinstate")
	}

	// A closed disk: 503, down.
	d.Close()
	if err := v.Healthy(); !errors.Is(err, disk.ErrClosed) {
		t.Fatalf("Healthy of a closed disk: %v", err)
	}
	if !v.Failed() {
		t.Fatal("closed disk not Failed")
	}
	clk.add(time.Minute)
	if _, err := v.Get([]byte("f/k")); !errors.Is(err, disk.ErrClosed) || !v.Failed() {
		t.Fatalf("Get of a closed disk: %v, failed %v", err, v.Failed())
	}
}

func TestTimeoutMarksDown(t *testing.T) {
	// A node that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	release := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })}
	go srv.Serve(ln)
	defer srv.Close()
	defer close(release)
	v := Dial("http://"+ln.Addr().String(), "abcd", "slow", secret, Options{Timeout: 50 * time.Millisecond})
	if _, err := v.Get([]byte("x")); !errors.Is(err, ErrUnreachable) || !v.Failed() {
		t.Fatalf("timeout: %v, failed %v", err, v.Failed())
	}
}

func TestUnknownDisk(t *testing.T) {
	n := newNode(t, 1)
	v := Dial(n.url(), "0123456789abcdef", "nobody", secret, Options{})
	checks := map[string]error{}
	_, checks["Get"] = v.Get([]byte("k"))
	_, checks["OpenShard"] = v.OpenShard("abcd")
	checks["RemoveShard"] = v.RemoveShard("abcd")
	checks["Healthy"] = v.Healthy()
	checks["Update"] = v.Update(func(tx disk.Txn) error { return tx.Set([]byte("k"), nil) })
	_, checks["NewIterator"] = v.NewIterator(nil, nil, false)
	checks["SetHealing"] = v.SetHealing(true)
	w, err := v.CreateShard("abcd")
	if err != nil {
		t.Fatal(err)
	}
	checks["Commit"] = w.Commit()
	for name, err := range checks {
		if !errors.Is(err, ErrNoSuchDisk) || errors.Is(err, disk.ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if v.Failed() {
		t.Fatal("an unknown disk marked the volume down")
	}
}

func TestBadDataID(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	v := dial(n, d, Options{})
	for _, id := range []string{"XYZW", "ab", "../../FORMAT", "ab/cd", ""} {
		if _, err := v.OpenShard(id); !errors.Is(err, disk.ErrBadDataID) {
			t.Errorf("OpenShard(%q): %v", id, err)
		}
		if err := v.RemoveShard(id); !errors.Is(err, disk.ErrBadDataID) {
			t.Errorf("RemoveShard(%q): %v", id, err)
		}
		w, err := v.CreateShard(id)
		if err == nil {
			_, _ = w.Write(randBytes(300_000, 1))
			err = w.Commit()
		}
		if !errors.Is(err, disk.ErrBadDataID) {
			t.Errorf("CreateShard(%q): %v", id, err)
		}
	}
	if v.Failed() {
		t.Fatal("bad ids marked the volume down")
	}
}

func TestHealing(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	v := dial(n, d, Options{})
	if v.Healing() {
		t.Fatal("fresh disk healing")
	}
	if err := v.SetHealing(true); err != nil {
		t.Fatal(err)
	}
	if !d.Healing() || !v.Healing() {
		t.Fatalf("after SetHealing(true): local %v remote %v", d.Healing(), v.Healing())
	}
	// Changed on the node: a health check refreshes the cached value.
	if err := d.SetHealing(false); err != nil {
		t.Fatal(err)
	}
	if !v.Healing() {
		t.Fatal("cache refreshed without a health check")
	}
	if err := v.Healthy(); err != nil {
		t.Fatal(err)
	}
	if v.Healing() {
		t.Fatal("health check did not refresh Healing")
	}
	// A volume that never reached its node counts as healing.
	n.stop()
	if !dial(n, d, Options{}).Healing() {
		t.Fatal("unknown healing state of an unreachable disk reported false")
	}
}

func TestMultipleDisksAndNoAuthSecret(t *testing.T) {
	n := newNode(t, 2)
	var vols []*Volume
	for _, d := range n.disks {
		vols = append(vols, dial(n, d, Options{}))
	}
	for i, v := range vols {
		if err := v.Update(func(tx disk.Txn) error { return tx.Set([]byte("which"), []byte{byte(i)}) }); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range vols {
		if got, err := n.disks[v.ID()].Get([]byte("which")); err != nil || !bytes.Equal(got, []byte{byte(i)}) {
			t.Fatalf("disk %d: %v, %v", i, got, err)
		}
	}
	// A handler without a secret refuses everything, even unsigned-for.
	h := New(nil, func(string) (disk.Volume, bool) { return n.first(), true }, nil)
	req, _ := http.NewRequest(http.MethodGet, "/shard/v1/disks/x/health", nil)
	date := strconv.FormatInt(time.Now().UnixNano(), 10)
	req.Header.Set(hdrDate, date)
	req.Header.Set(hdrAuth, sign(nil, http.MethodGet, "/shard/v1/disks/x/health", "", date))
	rw := &recorder{h: http.Header{}}
	h.ServeHTTP(rw, req)
	if rw.code != http.StatusUnauthorized {
		t.Fatalf("empty secret: %d", rw.code)
	}
}

type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(c int)           { r.code = c }

// A value the remote disk finds rotten comes back as disk.ErrCorrupt (rot
// to repair), not as a failure of the node.
func TestRottenValueCrossesAsCorrupt(t *testing.T) {
	n := newNode(t, 0)
	root := t.TempDir()
	d, err := disk.Open(root, vfs.Default, disk.Options{Journaled: true, SegmentValues: []byte("i/")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	n.disks[d.ID()] = d
	v := dial(n, d, Options{})
	val := bytes.Repeat([]byte("inline shard "), 200)
	if err := v.Update(func(tx disk.Txn) error { return tx.Set([]byte("i/abcd"), val) }); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get([]byte("i/abcd")); err != nil || !bytes.Equal(got, val) {
		t.Fatalf("Get: %d bytes, %v", len(got), err)
	}
	// The value is the first entry of the disk's only segment.
	segs, err := filepath.Glob(filepath.Join(root, "segments", "*"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v, %v", segs, err)
	}
	f, err := os.OpenFile(segs[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, 128+100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := v.Get([]byte("i/abcd")); !errors.Is(err, disk.ErrCorrupt) {
		t.Fatalf("rotten value: %v, want disk.ErrCorrupt", err)
	}
	if v.Failed() {
		t.Fatal("rot marked the volume down")
	}
}

// A node that restarts with its disk being filled back says so in every
// answer: a "not found" from that disk must not be taken for absence
// because the client cached "not healing" before the restart.
func TestHealingStateRidesEveryAnswer(t *testing.T) {
	n := newNode(t, 1)
	d := n.first()
	v := dial(n, d, Options{})
	if err := v.Healthy(); err != nil || v.Healing() {
		t.Fatalf("before: %v, healing %v", err, v.Healing())
	}
	n.stop()
	if _, err := v.Get([]byte("o/x")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("node down: %v", err)
	}
	if err := d.SetHealing(true); err != nil { // the replaced disk, filling back
		t.Fatal(err)
	}
	n.restart(t)
	v.Reinstate()
	if _, err := v.Get([]byte("o/x")); !errors.Is(err, disk.ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	if !v.Healing() {
		t.Fatal("a disk being filled back answered not found, and the client says it is not healing")
	}
}
