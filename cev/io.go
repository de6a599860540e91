package cev

// #include "cev.h"
// #cgo noescape cev_io_start
// #cgo nocallback cev_io_start
// #cgo noescape cev_io_stop
// #cgo nocallback cev_io_stop
import "C"

import "unsafe"

// IO watches a file descriptor for readability and writability (ev_io).
// It belongs to its loop's goroutine.
type IO struct {
	watcher
}

// NewIO creates a stopped io watcher whose events go to h (ev_init).
func (l *Loop) NewIO(h Handler) *IO {
	w := &IO{}
	w.init(l, "IO", h, w.stopC, func(token unsafe.Pointer, slot, gen C.uint32_t) unsafe.Pointer {
		return unsafe.Pointer(C.cev_io_new(token, slot, gen))
	})
	return w
}

func (w *IO) cw() *C.ev_io { return (*C.ev_io)(w.c) }

// Start watches fd for events, a mask of [Read] and [Write] (ev_io_set and
// ev_io_start). A watcher already watching the same fd and mask is left
// as it is, with any event it has pending; otherwise it is re-armed, and
// events it had pending are dropped.
func (w *IO) Start(fd int, events Events) {
	w.check()
	if fd < 0 {
		panic("cev: IO.Start with a negative fd")
	}
	events &= Read | Write
	if events == 0 {
		panic("cev: IO.Start with neither Read nor Write")
	}
	c := w.cw()
	if c.active != 0 && int(c.fd) == fd && Events(c.events)&(Read|Write) == events {
		return // armed as asked: no cgo call
	}
	C.cev_io_start(w.loop.c, c, C.int(fd), C.int(events), w.restart())
}

// Stop stops the watcher (ev_io_stop); an event it had pending is dropped.
// Stopping a stopped watcher does nothing.
func (w *IO) Stop() {
	w.check()
	if w.cw().active == 0 {
		return
	}
	w.stopC()
}

func (w *IO) stopC() { C.cev_io_stop(w.loop.c, w.cw(), w.restart()) }

// Active reports whether the watcher is started (ev_is_active).
func (w *IO) Active() bool { return w.active() }

// Fd returns the fd of the last Start.
func (w *IO) Fd() int {
	w.check()
	return int(w.cw().fd)
}

// Events returns the mask of the last Start.
func (w *IO) Events() Events {
	w.check()
	return Events(w.cw().events) & (Read | Write)
}

// Close stops the watcher and frees it. The fd is not closed: stop or close
// the watcher before closing its fd, since a new fd may get the same number.
// A second Close does nothing.
func (w *IO) Close() { w.close() }
