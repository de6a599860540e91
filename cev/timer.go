package cev

// #include "cev.h"
// #cgo noescape cev_timer_start
// #cgo nocallback cev_timer_start
// #cgo noescape cev_timer_stop
// #cgo nocallback cev_timer_stop
// #cgo noescape cev_timer_again
// #cgo nocallback cev_timer_again
import "C"

import (
	"time"
	"unsafe"
)

// Timer fires once after a delay, then optionally every repeat interval
// (ev_timer). Timers due in the same iteration fire in deadline order. The
// delay counts from the loop's cached time ([Loop.Now]). It belongs to its
// loop's goroutine.
type Timer struct {
	watcher
}

// NewTimer creates a stopped timer whose events go to h (ev_init).
func (l *Loop) NewTimer(h Handler) *Timer {
	w := &Timer{}
	w.init(l, "Timer", h, w.stopC, func(token unsafe.Pointer, slot, gen C.uint32_t) unsafe.Pointer {
		return unsafe.Pointer(C.cev_timer_new(token, slot, gen))
	})
	return w
}

func (w *Timer) cw() *C.ev_timer { return (*C.ev_timer)(w.c) }

// Start (re)starts the timer to fire after d, then every repeat if repeat
// is positive (ev_timer_set and ev_timer_start). d <= 0 fires in the next
// iteration. A pending event of an earlier start is dropped.
func (w *Timer) Start(d, repeat time.Duration) {
	w.check()
	if repeat < 0 {
		repeat = 0
	}
	C.cev_timer_start(w.loop.c, w.cw(), seconds(d), seconds(repeat), w.restart())
}

// Again restarts the timer to fire after repeat, and every repeat after
// that (ev_timer_again): the cheap way to push back a timeout. repeat <= 0
// stops it.
func (w *Timer) Again(repeat time.Duration) {
	w.check()
	if repeat < 0 {
		repeat = 0
	}
	C.cev_timer_again(w.loop.c, w.cw(), seconds(repeat), w.restart())
}

// Stop stops the timer (ev_timer_stop); a pending event is dropped.
// Stopping a stopped timer does nothing.
func (w *Timer) Stop() {
	w.check()
	if w.cw().active == 0 {
		return
	}
	w.stopC()
}

func (w *Timer) stopC() { C.cev_timer_stop(w.loop.c, w.cw(), w.restart()) }

// Active reports whether the timer is started. A timer without repeat stops
// by itself when it fires.
func (w *Timer) Active() bool { return w.active() }

// Remaining returns the time until the timer fires (ev_timer_remaining),
// relative to the loop's cached time.
func (w *Timer) Remaining() time.Duration {
	w.check()
	return time.Duration(float64(C.cev_timer_remaining(w.loop.c, w.cw())) * 1e9)
}

// Close stops the timer and frees it. A second Close does nothing.
func (w *Timer) Close() { w.close() }
