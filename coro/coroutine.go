package coro

import (
	"context"
	"fmt"
	"sync/atomic"
)

type coState uint8

const (
	stReady   coState = iota // in the run queue (or new, about to be)
	stRunning                // the hub is running it
	stParked                 // waiting at a wait point
	stDone                   // fn returned, or killed before it started
)

// Coroutine is a function running on a hub, like a gevent greenlet. Only one
// coroutine of a hub runs at a time; it runs until it reaches a wait point.
// Coroutines are switched with the runtime's coroutine switch (iter.Pull).
//
// Join waits from another coroutine of the same hub. Kill and Done take no
// ctx and may be called from the hub's coroutines only.
type Coroutine struct {
	hub *Hub
	fn  func(ctx context.Context) error
	id  uint64

	v         view
	cc        coCtx           // the ctx fn receives is &cc
	ctx       context.Context // &cc
	cancel    context.CancelCauseFunc
	cancelled bool // ctx was cancelled by the hub (hub goroutine)
	kid       kidLink
	kids      kidList
	stopAfter func() bool // watches a parent ctx that is not ours

	w     *worker // the runtime coroutine running it
	yield func(struct{}) bool

	state   coState
	started bool
	killed  bool
	err     error // fn's result
	wakeErr error
	waitCtx context.Context
	what    string // what it waits on, for ErrDeadlock and reports
	wt      waiter // its place in the queue it waits in
	dl      waiter // its place among a deadline ctx's waiters

	qnext              *Coroutine // run queue
	livePrev, liveNext *Coroutine // the hub's live coroutines, in spawn order
	joiners            waitq
	onDone             func(err error)
	doneFns            []func(err error)
	gid                atomic.Uint64 // goroutine id, with a blocking report only
}

func (c *Coroutine) coroutine() *Coroutine    { return c }
func (c *Coroutine) context() context.Context { return c.ctx }
func (c *Coroutine) links() *kidLink          { return &c.kid }

// String names the coroutine for reports: "coroutine 7".
func (c *Coroutine) String() string { return fmt.Sprintf("coroutine %d", c.id) }

// PanicError is the value a panic in a coroutine propagates with out of
// Hub.Run: the original value and the stack of the coroutine where it
// happened (iter.Pull re-raises the panic in the hub's goroutine, whose own
// stack says little).
type PanicError struct {
	Value     any
	Coroutine string
	Stack     []byte
}

// Error reports the panic value and the coroutine's stack.
func (p *PanicError) Error() string {
	return fmt.Sprintf("%v\n\npanic in %s:\n%s", p.Value, p.Coroutine, p.Stack)
}

// Unwrap returns the original value when it is an error.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// Spawn starts fn as a new coroutine of ctx's hub and returns it. It does
// not switch: the new coroutine runs when the current one reaches a wait
// point (ready coroutines run in FIFO order). fn's ctx inherits ctx's
// values, deadline and cancellation; use context.WithoutCancel(ctx) to
// detach it. ctx must carry the running coroutine; misuse panics with a
// "coro:" message, and so does Spawn on an ended hub ("coro: hub closed").
func Spawn(ctx context.Context, fn func(ctx context.Context) error) *Coroutine {
	if fn == nil {
		panic("coro: Spawn of a nil func")
	}
	c, err := resolve(ctx)
	switch {
	case err == ErrHubClosed:
		panic("coro: hub closed")
	case err != nil:
		panic("coro: Spawn needs the ctx of the running coroutine")
	}
	return c.hub.spawn(ctx, fn)
}

// Join waits until the coroutine has finished and returns fn's error, or
// ErrKilled if it was killed before it started. It returns ctx's error (or
// ErrKilled) if the caller's wait ends first.
func (c *Coroutine) Join(ctx context.Context) error {
	me, err := enter(ctx)
	if err != nil {
		return err
	}
	if c.state == stDone {
		return c.err
	}
	if me == c {
		return fmt.Errorf("coro: %v joins itself: %w", c, ErrDeadlock)
	}
	if c.hub != me.hub {
		return fmt.Errorf("coro: Join of %v of another hub is not supported", c)
	}
	c.joiners.push(&me.wt)
	err = me.park(ctx, "Join")
	c.joiners.remove(&me.wt)
	if err != nil {
		return err
	}
	return c.err
}

// Kill kills the coroutine: its current or next wait point returns
// ErrKilled (its defers run as it returns), and its ctx is cancelled with
// cause ErrKilled. A coroutine killed before it started never runs. Killing
// a finished coroutine does nothing. Kill does not wait: Join does.
func (c *Coroutine) Kill() {
	c.hub.kill(c)
}

// OnDone arranges for fn to run on the hub when the coroutine has
// finished, with its result: when fn returned, or when it was killed
// before it started (gevent's Greenlet.link). If it has finished already,
// fn runs at once. fn must not wait.
func (c *Coroutine) OnDone(fn func(err error)) {
	if c.state == stDone {
		fn(c.err)
		return
	}
	c.doneFns = append(c.doneFns, fn)
}

// Done reports whether the coroutine has finished.
func (c *Coroutine) Done() bool { return c.state == stDone }

// coCtx is a coroutine's ctx: its cancelCtx, but Err reports
// context.DeadlineExceeded when a deadline of a parent ended it (the
// cancelCtx itself would say context.Canceled).
type coCtx struct {
	context.Context
	c       *Coroutine
	expired atomic.Bool
}

// Value answers the lookup of every wait point (the coroutine of ctx)
// without walking down the chain of contexts.
func (x *coCtx) Value(key any) any {
	if key == (nodeKey{}) {
		return x.c
	}
	return x.Context.Value(key)
}

func (x *coCtx) Err() error {
	if x.expired.Load() {
		return context.DeadlineExceeded
	}
	return x.Context.Err()
}

func (x *coCtx) String() string { return "coro.ctx" }

// cascade: the ctx c was spawned from was cancelled.
func (c *Coroutine) cascade(cause error) {
	if c.state == stDone {
		return
	}
	if cause == context.DeadlineExceeded && c.cc.Context.Err() == nil {
		c.cc.expired.Store(true)
	}
	c.cancel(cause)
	c.cancelled = true
	c.hub.wakeIfCtxDone(c)
	c.kids.cascade(cause)
}

// park suspends the running coroutine c until the hub wakes it, and
// returns why: nil for the awaited event, ErrKilled, the error of ctx (the
// wait's context) when it is done, or the error the waker gave.
func (c *Coroutine) park(ctx context.Context, what string) error {
	h := c.hub
	var d *deadlineCtx
	var stop func() bool
	foreignDeadline := false
	if ctx != c.ctx {
		done := ctx.Done()
		n, _ := ctx.Value(nodeKey{}).(node)
		switch {
		case done == nil:
		case n == c && done == c.ctx.Done():
		case isDeadline(n, done):
			d = n.(*deadlineCtx)
			d.waiters.push(&c.dl)
		default:
			stop = context.AfterFunc(ctx, func() {
				h.post(task{run: func(h *Hub) { h.wakeIfCtxDone(c) }})
			})
			if _, ok := ctx.Deadline(); ok {
				foreignDeadline = true
				h.addInflight(1)
			}
		}
	}
	c.state = stParked
	c.waitCtx = ctx
	c.what = what
	c.wakeErr = nil
	c.yield(struct{}{})
	c.waitCtx = nil
	if d != nil {
		d.waiters.remove(&c.dl)
	}
	if stop != nil {
		stop()
	}
	if foreignDeadline {
		h.addInflight(-1)
	}
	if c.killed {
		return ErrKilled
	}
	return c.wakeErr
}

func isDeadline(n node, done <-chan struct{}) bool {
	d, ok := n.(*deadlineCtx)
	return ok && d.Done() == done
}
