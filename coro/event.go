package coro

import "context"

// Event is a flag that coroutines wait for, like gevent.event.Event: Set
// wakes every waiter, and Wait returns at once while it is set. The zero
// value is a clear Event. Set, Clear and IsSet take no ctx and may be
// called from the hub's coroutines only.
type Event struct {
	set     bool
	waiters waitq
}

// Set sets the event and wakes every coroutine waiting for it.
func (e *Event) Set() {
	e.set = true
	for w := e.waiters.pop(); w != nil; w = e.waiters.pop() {
		w.ok = true
		w.c.hub.wake(w.c, nil)
	}
}

// Clear clears the event.
func (e *Event) Clear() { e.set = false }

// IsSet reports whether the event is set.
func (e *Event) IsSet() bool { return e.set }

// Wait waits until the event is set. It returns nil, or ErrKilled or ctx's
// error if the wait ended first.
func (e *Event) Wait(ctx context.Context) error {
	c, err := enter(ctx)
	if err != nil {
		return err
	}
	if e.set {
		return nil
	}
	e.waiters.push(&c.wt)
	err = c.park(ctx, "Event.Wait")
	e.waiters.remove(&c.wt)
	return err
}
