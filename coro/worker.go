package coro

import (
	"iter"
	"runtime/debug"
)

// maxIdleWorkers bounds the runtime coroutines a hub keeps for reuse.
const maxIdleWorkers = 1024

// worker is a runtime coroutine (iter.Pull) that runs one Coroutine after
// another. Creating an iter.Pull coroutine costs a goroutine and several
// allocations, about half of a Spawn+Join; a finished worker waits in its
// hub's pool for the next Spawn instead of ending.
type worker struct {
	next  func() (struct{}, bool)
	stop  func()
	c     *Coroutine // the coroutine it runs now; nil while idle
	ended bool       // the last coroutine's fn returned (vs. parked)
}

func newWorker() *worker {
	w := &worker{}
	w.next, w.stop = iter.Pull(w.loop)
	return w
}

// loop is the iterator body: run the assigned coroutine, report its end by
// yielding with ended set, then wait (suspended) to be given the next one.
func (w *worker) loop(yield func(struct{}) bool) {
	for {
		c := w.c
		c.yield = yield
		c.run()
		w.ended = true
		if !yield(struct{}{}) {
			return // the hub stopped the worker
		}
	}
}

// run calls the coroutine's fn, keeping the stack of a panic in the panic
// value: iter.Pull re-raises the panic in the hub's goroutine, where the
// stack would be lost.
func (c *Coroutine) run() {
	if c.hub.monitor != nil {
		c.gid.Store(goroutineID())
	}
	defer func() {
		if r := recover(); r != nil {
			panic(&PanicError{Value: r, Coroutine: c.String(), Stack: debug.Stack()})
		}
	}()
	c.err = c.fn(c.ctx)
}

// getWorker takes an idle worker, or makes one.
func (h *Hub) getWorker() *worker {
	if n := len(h.idle); n > 0 {
		w := h.idle[n-1]
		h.idle[n-1] = nil
		h.idle = h.idle[:n-1]
		return w
	}
	return newWorker()
}

// putWorker keeps a worker whose coroutine is done (or never started) for
// the next Spawn, or ends it when the pool is full.
func (h *Hub) putWorker(w *worker) {
	w.c, w.ended = nil, false
	if len(h.idle) < maxIdleWorkers && !h.ended() {
		h.idle = append(h.idle, w)
		return
	}
	w.stop()
}

// stopWorkers ends every idle worker (when the hub ends).
func (h *Hub) stopWorkers() {
	for _, w := range h.idle {
		w.stop()
	}
	h.idle = nil
}
