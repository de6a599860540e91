package cev

// #include "cev.h"
import "C"

import (
	"fmt"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
)

// watcher is the Go half of every watcher type: its slot in the loop's
// table, its current generation and its handler. The C half (ev_io, ...)
// is C memory: libev keeps pointers to it, which Go memory must not be.
type watcher struct {
	loop    *Loop
	slot    uint32
	gen     uint32
	handler Handler
	token   unsafe.Pointer // go-pointer token in the C watcher's data
	c       unsafe.Pointer // the C watcher; nil once closed
	stop    func()         // stops the C watcher (type specific)
	detach  func()         // before the loop is destroyed under it (Async)
	kind    string
}

// init gives w its slot, generation and token, then its C half, made by
// newC (one of the cev_*_new functions), and stop, which stops it.
func (w *watcher) init(l *Loop, kind string, h Handler, stop func(),
	newC func(token unsafe.Pointer, slot, gen C.uint32_t) unsafe.Pointer) {
	if h == nil {
		panic("cev: nil Handler")
	}
	w.handler = h
	w.kind = kind
	w.stop = stop
	l.add(w)
	w.token = pointer.Save(w)
	w.c = newC(w.token, C.uint32_t(w.slot), C.uint32_t(w.gen))
	if w.c == nil {
		l.remove(w)
		pointer.Unref(w.token)
		panic("cev: out of memory")
	}
}

func (w *watcher) check() {
	if w.c == nil {
		panic(fmt.Sprintf("cev: use of closed %s", w.kind))
	}
}

// restart hands out a new generation: events recorded before it are stale.
func (w *watcher) restart() C.uint32_t {
	w.gen = w.loop.nextGen()
	return C.uint32_t(w.gen)
}

// close stops the watcher, frees its C memory and its token, and gives its
// slot back. Closing twice is a no-op.
func (w *watcher) close() {
	if w.c == nil {
		return
	}
	w.stop()
	w.loop.remove(w)
	w.free()
}

// free releases the C watcher and the token. The watcher must be stopped,
// or its loop destroyed.
func (w *watcher) free() {
	C.cev_watcher_free(w.c)
	w.c = nil
	pointer.Unref(w.token)
	w.token = nil
}

// verifyToken checks that the go-pointer token in the C watcher still maps
// back to this watcher (cev_verify builds only).
func (w *watcher) verifyToken() {
	if got, _ := pointer.Restore(w.token).(*watcher); got != w {
		panic("cev: watcher token does not map back to its watcher")
	}
	if (*C.ev_watcher)(w.c).data != w.token {
		panic("cev: C watcher lost its token")
	}
}

// active reads ev_is_active from the C watcher: no cgo call.
func (w *watcher) active() bool {
	return w.c != nil && (*C.ev_watcher)(w.c).active != 0
}
