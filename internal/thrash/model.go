package thrash

import (
	"sort"
	"sync"
)

// Outcome is what a client learnt of a write or delete.
type Outcome uint8

// Outcomes of a write.
const (
	// Pending: no answer yet.
	Pending Outcome = iota
	// Acked: the store acknowledged it.
	Acked
	// Failed: an error came back, or the connection broke. The write may
	// or may not have taken effect, but it is over: the store answered,
	// or the process that served it is gone.
	Failed
	// Lost: the client gave up waiting. The store may still apply the
	// write at any later time, so its value stays possible for good.
	Lost
)

func (o Outcome) String() string {
	switch o {
	case Pending:
		return "pending"
	case Acked:
		return "acked"
	case Failed:
		return "failed"
	case Lost:
		return "lost"
	}
	return "?"
}

// Write is one write or delete of a key, as the model tracks it.
type Write struct {
	Op      uint64 // operation number (in the history)
	Val     Value  // Absent for a delete
	Start   uint64 // tick when the request was about to be sent
	End     uint64 // tick when the answer came; 0 while pending
	Outcome Outcome
}

// Model holds, for each key, the writes and deletes whose value may be
// the key's current one, and answers which values a read may return.
//
// Time is a logical clock of ticks: every operation takes a tick before it
// sends its request and another once it has the answer, so "A ended before
// B started" is A.End < B.Start. A write X is superseded for a read R when
// some acknowledged write Y started after X ended and ended before R
// started: the store orders writes to a key by time, and Y came after X.
// A read may return the value of any write not superseded for it that
// started before the read ended (the key starts with an acknowledged
// "absent" at tick 0).
//
// Concurrency: a Model is safe for concurrent use.
type Model struct {
	mu     sync.Mutex
	clock  uint64
	keys   map[string][]*Write
	active map[uint64]int // start ticks of reads in flight (count)
}

// NewModel returns a model in which every key is absent.
func NewModel() *Model {
	return &Model{keys: map[string][]*Write{}, active: map[uint64]int{}}
}

// Tick advances the clock and returns the new tick.
func (m *Model) Tick() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock++
	return m.clock
}

func (m *Model) history(key string) []*Write {
	h, ok := m.keys[key]
	if !ok {
		h = []*Write{{Val: Absent, Outcome: Acked}}
		m.keys[key] = h
	}
	return h
}

// BeginWrite records a write (or, with Absent, a delete) of key about to be
// sent and returns it; EndWrite records its outcome.
func (m *Model) BeginWrite(op uint64, key string, v Value) *Write {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock++
	w := &Write{Op: op, Val: v, Start: m.clock}
	m.keys[key] = append(m.history(key), w)
	return w
}

// EndWrite records the outcome of w, a write of key.
func (m *Model) EndWrite(key string, w *Write, o Outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock++
	w.End = m.clock
	w.Outcome = o
	if o == Acked {
		m.prune(key)
	}
}

// BeginRead returns the start tick of a read; EndRead its end tick.
func (m *Model) BeginRead() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock++
	m.active[m.clock]++
	return m.clock
}

// EndRead ends the read that began at start and returns its end tick and,
// for each of keys, the values it may have returned (see Allowed), in one
// step so that no write the read may have seen is pruned before.
func (m *Model) EndRead(start uint64, keys ...string) (end uint64, allowed [][]Value) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.endRead(start, keys...)
}

func (m *Model) endRead(start uint64, keys ...string) (end uint64, allowed [][]Value) {
	m.clock++
	end = m.clock
	allowed = make([][]Value, len(keys))
	for i, k := range keys {
		allowed[i] = m.allowed(k, start, end)
	}
	if m.active[start]--; m.active[start] <= 0 {
		delete(m.active, start)
	}
	return end, allowed
}

// EndReadKey ends a read of one key like EndRead, and also reports whether
// a write or delete of the key overlapped the read (one that was not
// known to have failed).
func (m *Model) EndReadKey(start uint64, key string) (end uint64, allowed []Value, overlapped bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	end, all := m.endRead(start, key)
	for _, x := range m.keys[key] {
		if x.Outcome != Failed && x.Start < end && (x.End == 0 || x.End > start) {
			overlapped = true
		}
	}
	return end, all[0], overlapped
}

// superseded reports whether x is superseded, in h, for a read starting
// at tick at.
func superseded(h []*Write, x *Write, at uint64) bool {
	if x.Outcome == Pending || x.Outcome == Lost {
		return false
	}
	for _, y := range h {
		if y.Outcome == Acked && y.Start > x.End && y.End < at {
			return true
		}
	}
	return false
}

// Allowed returns the values a read of key that ran from tick start to
// tick end may return, the most recently started first.
func (m *Model) Allowed(key string, start, end uint64) []Value {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.allowed(key, start, end)
}

func (m *Model) allowed(key string, start, end uint64) []Value {
	h := m.history(key)
	var out []Value
	seen := map[Value]bool{}
	for i := len(h) - 1; i >= 0; i-- {
		x := h[i]
		if x.Start > end || superseded(h, x, start) || seen[x.Val] {
			continue
		}
		seen[x.Val] = true
		out = append(out, x.Val)
	}
	return out
}

// prune drops the writes of key that no read in flight or to come can
// return any more.
func (m *Model) prune(key string) {
	at := m.clock + 1
	for s := range m.active {
		if s < at {
			at = s
		}
	}
	h := m.keys[key]
	kept := h[:0]
	for _, x := range h {
		if !superseded(h, x, at) {
			kept = append(kept, x)
		}
	}
	for i := len(kept); i < len(h); i++ {
		h[i] = nil
	}
	m.keys[key] = kept
}

// Pin makes v the only value of key, as an acknowledged write would. Use it
// once no operation is in flight, after a read showed which of the allowed
// values took effect: from then on, every read must return v.
func (m *Model) Pin(key string, v Value) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock++
	m.keys[key] = []*Write{{Val: v, Start: m.clock, End: m.clock, Outcome: Acked}}
}

// Keys returns the keys the model has seen, sorted.
func (m *Model) Keys() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.keys))
	for k := range m.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Present reports whether the last write of key that ended (or the last
// one started, when none ended) put a value there: a guess of whether the
// key holds an object, used to choose overwrites.
func (m *Model) Present(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.history(key)
	var best *Write
	for _, x := range h {
		if x.Outcome == Acked && (best == nil || x.End > best.End) {
			best = x
		}
	}
	return best != nil && !best.Val.IsAbsent()
}

// SizeHint returns the size of the most recently started write of key (0
// when none): ranged reads choose their range from it.
func (m *Model) SizeHint(key string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.history(key)
	return h[len(h)-1].Val.Size
}
