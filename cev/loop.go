package cev

// #include "cev.h"
// #cgo noescape cev_run
// #cgo nocallback cev_run
// #cgo noescape cev_now
// #cgo nocallback cev_now
import "C"

import (
	"errors"
	"math"
	"time"
	"unsafe"
)

// ErrLoop is returned when libev cannot create a loop (no epoll, out of fds
// or memory).
var ErrLoop = errors.New("cev: cannot create event loop")

// RunMode chooses how long [Loop.Run] may wait.
type RunMode int

const (
	// Once waits for events (ev_run with EVRUN_ONCE), unless the loop has
	// no active watchers. It may also return with no event at all, when a
	// signal (SIGCHLD, the Go runtime's SIGURG, ...) interrupts epoll_wait:
	// callers loop.
	Once RunMode = C.EVRUN_ONCE
	// NoWait polls without waiting (ev_run with EVRUN_NOWAIT).
	NoWait RunMode = C.EVRUN_NOWAIT
)

// Events is a set of libev event bits (revents, or an io watcher's mask).
type Events uint32

const (
	Read      Events = C.EV_READ  // fd readable (EV_READ)
	Write     Events = C.EV_WRITE // fd writable (EV_WRITE)
	Timeout   Events = C.EV_TIMER // a timer expired (EV_TIMER)
	AsyncSent Events = C.EV_ASYNC // an async watcher was sent (EV_ASYNC)
	// Error means libev stopped the watcher because of an error, such as an
	// fd that was closed while watched (EV_ERROR).
	Error Events = 0x80000000
)

// Handler receives the events of one watcher. Handlers run on the goroutine
// that called [Loop.Run], after ev_run has returned; they may start, stop,
// create and close watchers of the loop, but not run or close the loop.
type Handler func(revents Events)

// Loop is a libev event loop (struct ev_loop, made by ev_loop_new with the
// epoll backend).
//
// A Loop and its watchers belong to one goroutine at a time: libev is not
// thread-safe. The only exception is [Async.Send].
type Loop struct {
	c     *C.cev_loop
	slots []*watcher // the watchers of the loop, by slot; nil when free
	free  []uint32   // free slots
	gen   uint32     // the last generation handed out

	running   bool
	delivered uint64
}

// NewLoop creates a loop (ev_loop_new). It never touches signal
// dispositions or the signal mask, and ignores the LIBEV_FLAGS variable.
func NewLoop() (*Loop, error) {
	flags := C.uint(C.EVBACKEND_EPOLL | C.EVFLAG_NOENV | C.EVFLAG_NOSIGMASK)
	c := C.cev_loop_new(flags)
	if c == nil {
		return nil, ErrLoop
	}
	return &Loop{c: c}, nil
}

func (l *Loop) check() {
	if l.c == nil {
		panic("cev: use of closed Loop")
	}
}

// Close stops and frees every watcher of the loop, then destroys it
// (ev_loop_destroy), which closes its epoll fd and eventfd. The watchers
// are closed as if by their Close. A second Close returns nil. Close must
// not be called from a Handler.
func (l *Loop) Close() error {
	if l.c == nil {
		return nil
	}
	if l.running {
		panic("cev: Loop.Close called from a Handler")
	}
	// Destroy the loop first, then free the watchers: ev_loop_destroy
	// never looks inside them, and stopping each one first would hand
	// libev fds that the caller may have closed already (a verify build
	// asserts on that).
	live := make([]*watcher, 0, len(l.slots))
	for _, w := range l.slots {
		if w != nil {
			if w.detach != nil {
				w.detach()
			}
			live = append(live, w)
		}
	}
	C.cev_loop_destroy(l.c)
	l.c = nil
	for _, w := range live {
		w.free()
	}
	l.slots, l.free = nil, nil
	return nil
}

// Closed reports whether Close was called.
func (l *Loop) Closed() bool { return l.c == nil }

// Run runs one iteration of the loop (ev_run with mode) and then calls the
// Handler of each watcher that fired, in the order libev invoked them. A
// watcher stopped or closed by an earlier handler of the same iteration
// does not get its event. Run reports whether the loop still has active
// (referenced) watchers: false with mode Once means that nothing could ever
// wake it.
func (l *Loop) Run(mode RunMode) (active bool) {
	l.check()
	if l.running {
		panic("cev: Loop.Run called from a Handler")
	}
	active = C.cev_run(l.c, C.int(mode)) != 0
	if n := int(l.c.n); n > 0 {
		l.deliver(unsafe.Slice(l.c.events, n))
	}
	return active
}

func (l *Loop) deliver(events []C.cev_event) {
	l.running = true
	defer func() { l.running = false }()
	for i := range events {
		e := &events[i]
		slot := uint32(e.slot)
		if slot >= uint32(len(l.slots)) {
			continue // the loop grew no slot this high: cannot happen
		}
		w := l.slots[slot]
		if w == nil || w.gen != uint32(e.gen) {
			continue // closed or stopped since libev fired it
		}
		if verify {
			w.verifyToken()
		}
		l.delivered++
		w.handler(Events(uint32(e.revents)))
	}
}

// Delivered returns the number of events delivered to handlers so far.
func (l *Loop) Delivered() uint64 { return l.delivered }

// Now returns the loop's cached time (ev_now): the time at which the last
// iteration started polling.
func (l *Loop) Now() time.Time {
	l.check()
	return stamp(float64(C.cev_now(l.c)))
}

// UpdateNow refreshes the cached time (ev_now_update) and returns it.
func (l *Loop) UpdateNow() time.Time {
	l.check()
	return stamp(float64(C.cev_now_update(l.c)))
}

// Backend names the backend in use (ev_backend): "epoll".
func (l *Loop) Backend() string {
	l.check()
	switch C.cev_backend(l.c) {
	case C.EVBACKEND_EPOLL:
		return "epoll"
	default:
		return "unknown"
	}
}

// Iteration returns how many times the loop has polled (ev_iteration).
func (l *Loop) Iteration() uint {
	l.check()
	return uint(C.cev_iteration(l.c))
}

// PendingCount returns the number of events libev has queued but not yet
// invoked (ev_pending_count). Between calls of Run it is 0: Run invokes all.
func (l *Loop) PendingCount() int {
	l.check()
	return int(C.cev_pending_count(l.c))
}

// Ref adds a reference to the loop (ev_ref), as an active watcher does:
// while references remain, Run(Once) blocks instead of returning. Use it for
// a wake-up that will come through an [Async] whose Unref took it out of the
// count.
func (l *Loop) Ref() {
	l.check()
	C.cev_ref(l.c)
}

// Unref removes a reference (ev_unref). The usual idiom: start a watcher
// that should not keep the loop alive, then Unref.
func (l *Loop) Unref() {
	l.check()
	C.cev_unref(l.c)
}

// Watchers returns the number of open (not closed) watchers of the loop.
func (l *Loop) Watchers() int { return len(l.slots) - len(l.free) }

// nextGen hands out a generation no recorded event of this loop carries.
func (l *Loop) nextGen() uint32 {
	l.gen++
	return l.gen
}

// add gives w a slot in the table and a first generation.
func (l *Loop) add(w *watcher) {
	l.check()
	w.loop = l
	w.gen = l.nextGen()
	if n := len(l.free); n > 0 {
		w.slot = l.free[n-1]
		l.free = l.free[:n-1]
		l.slots[w.slot] = w
		return
	}
	if len(l.slots) >= math.MaxUint32 {
		panic("cev: too many watchers")
	}
	w.slot = uint32(len(l.slots))
	l.slots = append(l.slots, w)
}

func (l *Loop) remove(w *watcher) {
	l.slots[w.slot] = nil
	l.free = append(l.free, w.slot)
}

// stamp converts an ev_tstamp (seconds since the epoch) to a time.Time.
func stamp(t float64) time.Time {
	sec, frac := math.Modf(t)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// seconds converts a duration to an ev_tstamp interval.
func seconds(d time.Duration) C.double {
	return C.double(d.Seconds())
}
