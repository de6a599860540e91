package cev

// #include "cev.h"
// #cgo noescape cev_async_send
// #cgo nocallback cev_async_send
import "C"

import (
	"sync"
	"unsafe"
)

// Async wakes its loop from another goroutine (ev_async). Any number of
// Sends before the loop gets to run coalesce into one event.
//
// Send may be called from any goroutine; everything else belongs to the
// loop's goroutine.
type Async struct {
	watcher
	mu     sync.RWMutex // Send holds it shared; Close holds it exclusively
	closed bool
}

// NewAsync creates a stopped async watcher whose events go to h.
func (l *Loop) NewAsync(h Handler) *Async {
	w := &Async{}
	w.init(l, "Async", h, w.closeC, func(token unsafe.Pointer, slot, gen C.uint32_t) unsafe.Pointer {
		return unsafe.Pointer(C.cev_async_new(token, slot, gen))
	})
	w.detach = w.markClosed
	return w
}

// markClosed makes later Sends do nothing; it waits for a Send in
// progress, which uses the loop.
func (w *Async) markClosed() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

func (w *Async) cw() *C.ev_async { return (*C.ev_async)(w.c) }

// Start starts the watcher (ev_async_start). Starting a started watcher
// does nothing.
func (w *Async) Start() {
	w.check()
	if w.cw().active != 0 {
		return
	}
	C.cev_async_start(w.loop.c, w.cw(), w.restart())
}

// Stop stops the watcher (ev_async_stop); a pending event is dropped.
func (w *Async) Stop() {
	w.check()
	if w.cw().active == 0 {
		return
	}
	C.cev_async_stop(w.loop.c, w.cw(), w.restart())
}

// Active reports whether the watcher is started.
func (w *Async) Active() bool { return w.active() }

// Send wakes the loop (ev_async_send): the watcher's handler runs in the
// loop's next iteration, even if the loop is blocked polling right now.
// Send is safe from any goroutine and returns false, doing nothing, once
// the watcher or its loop is closed.
func (w *Async) Send() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return false
	}
	C.cev_async_send(w.loop.c, w.cw())
	return true
}

// closeC runs under close: it takes the lock so that no Send is using the
// watcher or the loop while they are freed.
func (w *Async) closeC() {
	w.markClosed()
	C.cev_async_stop(w.loop.c, w.cw(), w.restart())
}

// Close stops the watcher and frees it; later Sends return false. A second
// Close does nothing.
func (w *Async) Close() { w.close() }
