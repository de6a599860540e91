package coro

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

// SetBlockingReport turns on a watchdog, like gevent's monitor thread: when
// one coroutine holds the hub (runs without reaching a wait point) for
// longer than threshold, a report naming it, with its stack, is written to
// w. Each hold is reported once. It must be called before Run; a threshold
// <= 0 turns the report off (the default). Reports cost the hub a clock
// read per switch while on.
func (h *Hub) SetBlockingReport(threshold time.Duration, w io.Writer) {
	if h.state.Load() != hubNew {
		panic("coro: SetBlockingReport after Run")
	}
	if threshold <= 0 || w == nil {
		h.monitor = nil
		return
	}
	h.monitor = &monitor{threshold: threshold, w: w}
}

type monitor struct {
	threshold time.Duration
	w         io.Writer
	cur       atomic.Pointer[Coroutine]
	since     atomic.Int64 // unix nanoseconds when cur was resumed
	stopc     chan struct{}
	done      chan struct{}
}

func (m *monitor) enter(c *Coroutine) {
	m.since.Store(time.Now().UnixNano())
	m.cur.Store(c)
}

func (m *monitor) leave() { m.cur.Store(nil) }

func (m *monitor) start() {
	m.stopc = make(chan struct{})
	m.done = make(chan struct{})
	go m.watch()
}

func (m *monitor) stop() {
	close(m.stopc)
	<-m.done
}

func (m *monitor) watch() {
	defer close(m.done)
	tick := m.threshold / 4
	if tick < time.Millisecond {
		tick = time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var lastC *Coroutine
	var lastSince int64
	for {
		select {
		case <-m.stopc:
			return
		case <-t.C:
		}
		c := m.cur.Load()
		since := m.since.Load()
		if c == nil || (c == lastC && since == lastSince) {
			continue
		}
		held := time.Duration(time.Now().UnixNano() - since)
		if held < m.threshold {
			continue
		}
		lastC, lastSince = c, since
		fmt.Fprintf(m.w, "coro: %v has held the hub for %v (blocking report threshold %v)\n%s\n",
			c, held.Round(time.Millisecond), m.threshold, stackOf(c.gid.Load()))
	}
}

// stackOf returns the stack of goroutine gid (a coroutine runs on a
// goroutine of its own), or a note that it was not found.
func stackOf(gid uint64) string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	prefix := []byte("goroutine " + strconv.FormatUint(gid, 10) + " [")
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.HasPrefix(g, prefix) {
			return string(g)
		}
	}
	return "(stack not found)"
}

// goroutineID returns the id of the calling goroutine, as runtime.Stack
// prints it. Only the blocking report uses it, to find a coroutine's stack.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
		return id
	}
	return 0
}
