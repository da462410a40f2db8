package shardapi

import (
	"bytes"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/basaltstore/basalt/objectd/disk"
)

// optTxn is an optimistic transaction: reads go through get (and are
// recorded), writes are buffered; commit later checks the reads under
// locks and applies the writes.
type optTxn struct {
	get    func(key []byte) ([]byte, error)
	seed   map[string]txnRead // values known from a conflict answer
	reads  map[string]txnRead
	writes map[string]int // key -> index in wlist
	wlist  []txnWrite
}

func newOptTxn(get func([]byte) ([]byte, error), seed map[string]txnRead) *optTxn {
	return &optTxn{get: get, seed: seed, reads: map[string]txnRead{}, writes: map[string]int{}}
}

// Get returns the transaction's own write of key if any, else the value
// read before in this attempt, else reads it and records the read.
func (t *optTxn) Get(key []byte) ([]byte, error) {
	k := string(key)
	if i, ok := t.writes[k]; ok {
		w := t.wlist[i]
		if w.Del {
			return nil, disk.ErrNotFound
		}
		return bytes.Clone(w.V), nil
	}
	r, ok := t.reads[k]
	if !ok {
		if r, ok = t.seed[k]; !ok {
			v, err := t.get(key)
			switch {
			case err == nil:
				r = txnRead{K: bytes.Clone(key), V: v}
			case errors.Is(err, disk.ErrNotFound):
				r = txnRead{K: bytes.Clone(key), Absent: true}
			default:
				return nil, err
			}
		}
		t.reads[k] = r
	}
	if r.Absent {
		return nil, disk.ErrNotFound
	}
	return bytes.Clone(r.V), nil
}

// Set buffers a write.
func (t *optTxn) Set(key, val []byte) error {
	t.put(txnWrite{K: bytes.Clone(key), V: bytes.Clone(val)})
	return nil
}

// Delete buffers a deletion.
func (t *optTxn) Delete(key []byte) error {
	t.put(txnWrite{K: bytes.Clone(key), Del: true})
	return nil
}

func (t *optTxn) put(w txnWrite) {
	if i, ok := t.writes[string(w.K)]; ok {
		t.wlist[i] = w
		return
	}
	t.writes[string(w.K)] = len(t.wlist)
	t.wlist = append(t.wlist, w)
}

func (t *optTxn) request() txnRequest {
	req := txnRequest{Reads: make([]txnRead, 0, len(t.reads)), Writes: t.wlist}
	for _, r := range t.reads {
		req.Reads = append(req.Reads, r)
	}
	return req
}

// runOptimistic runs fn in optimistic transactions until one commits:
// commit returns errConflict (and the current values of the read keys)
// when a read changed, and fn runs again, at most maxAttempts times. An
// error of fn is returned as is; a transaction without writes commits
// nothing.
//
// A conflict answer carries the current values of the keys read, and a
// token reserving the keys for a short while: the next attempt uses both,
// so that it cannot lose again to writers that keep cutting in.
func runOptimistic(get func([]byte) ([]byte, error), commit func(txnRequest) ([]txnRead, string, error), fn func(disk.Txn) error) error {
	var seed map[string]txnRead
	var token string
	for attempt := range maxAttempts {
		if attempt >= quickRetries {
			// Still losing: pause, so that contenders spread out, and
			// read afresh (the values of the last answer are stale by
			// now). The token still goes along: a reservation of ours
			// must not hold up our own retry.
			backoff(attempt - quickRetries)
			seed = nil
		}
		t := newOptTxn(get, seed)
		if err := fn(t); err != nil {
			return err
		}
		if len(t.wlist) == 0 {
			return nil
		}
		req := t.request()
		req.Token = token
		cur, tok, err := commit(req)
		if !errors.Is(err, errConflict) {
			return err
		}
		token = tok
		seed = make(map[string]txnRead, len(cur))
		for _, r := range cur {
			seed[string(r.K)] = r
		}
	}
	return fmt.Errorf("%w: %d attempts", ErrConflict, maxAttempts)
}

// quickRetries is how many attempts follow a conflict at once, with the
// values the conflict answer carried.
const quickRetries = 8

// backoff waits a random time that grows with n, so that writers
// contending for one key spread out instead of colliding again.
func backoff(n int) {
	limit := min(time.Millisecond<<min(n, 6), 50*time.Millisecond)
	time.Sleep(rand.N(limit) + 1)
}

// keyLocks are striped mutexes over metadata keys: a transaction holds
// the stripes of all its keys while it checks its reads and applies its
// writes. A key's stripe depends on its volume too: the updates of one
// object on the node's several disks do not wait for each other.
type keyLocks struct {
	seed    maphash.Seed
	stripes [512]sync.Mutex

	// Reservations: a transaction refused for a conflict gets its
	// stripes reserved for reserveFor, so that its retry (which carries
	// the token) cannot lose again to writers that keep cutting in.
	resMu sync.Mutex
	res   map[int]*reservation
}

// reserveFor is how long a conflicting transaction's keys wait for its
// retry.
const reserveFor = 100 * time.Millisecond

type reservation struct {
	token   string
	expires time.Time
	done    chan struct{} // closed when consumed or expired
	idx     []int
}

func newKeyLocks() *keyLocks {
	return &keyLocks{seed: maphash.MakeSeed(), res: map[int]*reservation{}}
}

// lockSet is a set of locked stripes.
type lockSet struct {
	l     *keyLocks
	volID string
	idx   []int // sorted, distinct
}

func (l *keyLocks) stripesOf(volID string, req txnRequest) []int {
	idx := make([]int, 0, len(req.Reads)+len(req.Writes))
	salt := maphash.String(l.seed, volID)
	stripe := func(k []byte) int {
		return int((maphash.Bytes(l.seed, k) ^ salt) % uint64(len(l.stripes)))
	}
	for _, r := range req.Reads {
		idx = append(idx, stripe(r.K))
	}
	for _, w := range req.Writes {
		idx = append(idx, stripe(w.K))
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// lock locks the stripes of all keys of req in ascending order, so that
// two holders never wait for each other. A stripe reserved for another
// token makes it let go and wait until the reservation is consumed or
// expires; its own token's reservations are consumed.
func (l *keyLocks) lock(volID string, req txnRequest) *lockSet {
	s := &lockSet{l: l, volID: volID, idx: l.stripesOf(volID, req)}
	for {
		for _, i := range s.idx {
			l.stripes[i].Lock()
		}
		other := l.claim(s.idx, req.Token)
		if other == nil {
			return s
		}
		s.unlock()
		t := time.NewTimer(time.Until(other.expires))
		select {
		case <-other.done:
		case <-t.C:
		}
		t.Stop()
	}
}

// claim returns a live reservation of another token on one of the
// stripes idx, or nil after consuming token's own reservations there.
func (l *keyLocks) claim(idx []int, token string) *reservation {
	l.resMu.Lock()
	defer l.resMu.Unlock()
	now := time.Now()
	for _, i := range idx {
		r := l.res[i]
		if r == nil {
			continue
		}
		if now.After(r.expires) {
			l.drop(r)
			continue
		}
		if r.token != token {
			return r
		}
	}
	for _, i := range idx {
		if r := l.res[i]; r != nil && r.token == token {
			l.drop(r)
		}
	}
	return nil
}

func (l *keyLocks) drop(r *reservation) {
	for _, i := range r.idx {
		if l.res[i] == r {
			delete(l.res, i)
		}
	}
	close(r.done)
}

// reserve reserves the held stripes that no one else has reserved for
// the retry of a transaction that just conflicted, and returns the token
// ("" when none could be).
func (l *keyLocks) reserve(held *lockSet) string {
	l.resMu.Lock()
	defer l.resMu.Unlock()
	var free []int
	for _, i := range held.idx {
		if l.res[i] == nil {
			free = append(free, i)
		}
	}
	if len(free) == 0 {
		return ""
	}
	var b [16]byte
	_, _ = crand.Read(b[:])
	r := &reservation{token: hex.EncodeToString(b[:]), expires: time.Now().Add(reserveFor), done: make(chan struct{}), idx: free}
	for _, i := range free {
		l.res[i] = r
	}
	return r.token
}

// covers reports whether every key of req is in a held stripe.
func (s *lockSet) covers(req txnRequest) bool {
	for _, i := range s.l.stripesOf(s.volID, req) {
		if _, found := slices.BinarySearch(s.idx, i); !found {
			return false
		}
	}
	return true
}

// unlock releases the stripes; a nil set holds nothing.
func (s *lockSet) unlock() {
	if s == nil {
		return
	}
	for _, i := range slices.Backward(s.idx) {
		s.l.stripes[i].Unlock()
	}
}

// apply commits req on vol under the stripes of its keys: see applyHeld.
// On a conflict, with reserve, the stripes are reserved for the retry
// and the token returned.
func (l *keyLocks) apply(vol disk.Volume, req txnRequest, reserve bool) (cur []txnRead, token string, err error) {
	held := l.lock(vol.ID(), req)
	defer held.unlock()
	cur, err = applyHeld(vol, req)
	if errors.Is(err, errConflict) && reserve {
		token = l.reserve(held)
	}
	return cur, token, err
}

// applyHeld commits req on vol if every read still holds, the caller
// holding the stripes of its keys: a local Update re-reads each read key
// and compares value or absence. On a difference it returns errConflict
// and the current values of all read keys.
func applyHeld(vol disk.Volume, req txnRequest) ([]txnRead, error) {
	var cur []txnRead
	err := vol.Update(func(t disk.Txn) error {
		cur = cur[:0]
		changed := false
		for _, r := range req.Reads {
			v, err := t.Get(r.K)
			switch {
			case errors.Is(err, disk.ErrNotFound):
				cur = append(cur, txnRead{K: r.K, Absent: true})
				changed = changed || !r.Absent
			case err != nil:
				return err
			default:
				cur = append(cur, txnRead{K: r.K, V: v})
				changed = changed || r.Absent || !bytes.Equal(v, r.V)
			}
		}
		if changed {
			return errConflict
		}
		for _, w := range req.Writes {
			var err error
			if w.Del {
				err = t.Delete(w.K)
			} else {
				err = t.Set(w.K, w.V)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errConflict) {
		return cur, errConflict
	}
	return nil, err
}
