package shardapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/basaltstore/basalt/objectd/disk"
)

// Get reads one metadata key on the node (disk.ErrNotFound if absent).
func (v *Volume) Get(key []byte) ([]byte, error) {
	var val []byte
	q := "key=" + base64.RawURLEncoding.EncodeToString(key)
	err := v.call(http.MethodGet, "meta", q, nil, []int{http.StatusOK}, func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		val = b
		return err
	})
	if err != nil {
		return nil, err
	}
	return val, nil
}

// Update runs fn in a remote transaction: fn's reads come from its own
// writes, else from the node (and are recorded); its writes are
// buffered. The reads and writes are then sent together, and the node
// applies the writes only if every read still holds; when one changed fn
// runs again (at most 32 times, then ErrConflict), its keys reserved
// for it on the node for a short while. An error of fn is
// returned and nothing is sent; a transaction without writes sends
// nothing.
func (v *Volume) Update(fn func(disk.Txn) error) error {
	return runOptimistic(v.Get, v.commitTxn, fn)
}

// commitTxn posts a transaction; a conflict answer is errConflict with
// the current values of the read keys and the reservation token.
func (v *Volume) commitTxn(req txnRequest) ([]txnRead, string, error) {
	var body errorBody
	err := v.call(http.MethodPost, "txn", "", jsonBody(req), []int{http.StatusNoContent, http.StatusConflict}, func(resp *http.Response) error {
		if resp.StatusCode == http.StatusNoContent {
			return nil
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		return errConflict
	})
	return body.Reads, body.Token, err
}

// NewIterator walks the node's keys with prefix from start, a page at a
// time (Options.PageSize keys). The first page is fetched here, so an
// unreachable node is an error now. Remote pages always carry the values
// (prefetch is a hint for local disks): a round trip per value would cost
// far more. The iterator is used by one goroutine at a time.
func (v *Volume) NewIterator(prefix, start []byte, prefetch bool) (disk.Iter, error) {
	it := &Iter{v: v, prefix: bytes.Clone(prefix)}
	if err := it.fetch(start); err != nil {
		return nil, err
	}
	return it, nil
}

// Iter is a remote iterator. A page that cannot be fetched ends the
// iteration early: Err says so.
type Iter struct {
	v      *Volume
	prefix []byte
	items  []iterItem
	i      int
	more   bool
	err    error
}

var _ disk.Iter = (*Iter)(nil)

func (it *Iter) fetch(start []byte) error {
	if bytes.Compare(start, it.prefix) < 0 {
		start = it.prefix
	}
	req := iterRequest{Prefix: it.prefix, Start: start, Limit: it.v.opts.PageSize, Values: true}
	var resp iterResponse
	err := it.v.call(http.MethodPost, "iter", "", jsonBody(req), []int{http.StatusOK}, func(r *http.Response) error {
		return json.NewDecoder(r.Body).Decode(&resp)
	})
	it.items, it.i = nil, 0
	if err != nil {
		it.more, it.err = false, err
		return err
	}
	for _, item := range resp.Items {
		if !bytes.HasPrefix(item.K, it.prefix) || bytes.Compare(item.K, start) < 0 {
			it.err = fmt.Errorf("%w: key %q outside the range asked", ErrProtocol, item.K)
			it.more = false
			return it.err
		}
	}
	it.items, it.more, it.err = resp.Items, resp.More, nil
	return nil
}

// Valid reports whether the iterator is at a key.
func (it *Iter) Valid() bool { return it.i < len(it.items) }

// Key is the current key, valid until Next or Seek.
func (it *Iter) Key() []byte { return it.items[it.i].K }

// Value copies the current value into buf.
func (it *Iter) Value(buf []byte) ([]byte, error) {
	return append(buf[:0], it.items[it.i].V...), nil
}

// View calls fn with the current value.
func (it *Iter) View(fn func(val []byte) error) error { return fn(it.items[it.i].V) }

// Next advances, fetching the next page past the end of this one.
func (it *Iter) Next() {
	if it.i >= len(it.items) {
		return
	}
	it.i++
	if it.i == len(it.items) && it.more {
		last := it.items[len(it.items)-1].K
		if err := it.fetch(append(bytes.Clone(last), 0)); err != nil {
			it.v.opts.Logger.Warn("remote listing cut short", "disk", it.v.name, "err", err)
		}
	}
}

// Seek moves to the first key >= key within the prefix (a key before the
// prefix means its first key).
func (it *Iter) Seek(key []byte) {
	if err := it.fetch(key); err != nil {
		it.v.opts.Logger.Warn("remote listing cut short", "disk", it.v.name, "err", err)
	}
}

// Err is the error that ended the iteration early, if any.
func (it *Iter) Err() error { return it.err }

// Close releases nothing: the node holds no state between pages.
func (it *Iter) Close() { it.items = nil }
