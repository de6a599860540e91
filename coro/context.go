package coro

import (
	"context"
	"sync/atomic"
	"time"
)

// How a coroutine's ctx works.
//
// A coroutine's ctx is a context.WithCancelCause whose parent is the
// coroutine's view: a Context that answers Value (the coroutine, then the
// parent ctx's values) and Deadline (the parent's), but has no Done channel.
// So the standard context package never links the coroutine's ctx into its
// parent (no goroutine, no entry left in a parent's children map after the
// coroutine ends), and context.Cause works. Cancellation is propagated by
// the hub instead, through a tree of nodes: a coroutine spawned from
// another coroutine's ctx, or a deadline ctx made by WithTimeout, is linked
// under that node, and a cancellation (Kill, an expired deadline) cascades
// down the tree on the hub's goroutine, waking every coroutine whose wait
// ctx is now done. A parent ctx that is not one of ours (a standard
// context.WithCancel, a Hub.Call caller's ctx) is watched with
// context.AfterFunc, which posts the cascade to the hub.

// nodeKey finds the nearest node of ours in a ctx chain.
type nodeKey struct{}

// node is a cancellation point of ours: a coroutine or a deadline ctx.
type node interface {
	// coroutine returns the coroutine the ctx belongs to.
	coroutine() *Coroutine
	// context returns the node's own ctx.
	context() context.Context
	// cascade cancels the node because its parent was cancelled with
	// cause, wakes its waiters and cascades to its kids. Hub goroutine only.
	cascade(cause error)
	links() *kidLink
}

// kidLink links a node into its parent's list of kids.
type kidLink struct {
	owner      node
	prev, next *kidLink
	list       *kidList
}

type kidList struct{ head *kidLink }

func (l *kidList) add(k *kidLink) {
	k.list = l
	k.prev = nil
	k.next = l.head
	if l.head != nil {
		l.head.prev = k
	}
	l.head = k
}

func (k *kidLink) unlink() {
	l := k.list
	if l == nil {
		return
	}
	if k.prev != nil {
		k.prev.next = k.next
	} else {
		l.head = k.next
	}
	if k.next != nil {
		k.next.prev = k.prev
	}
	k.prev, k.next, k.list = nil, nil, nil
}

// cascade calls cascade on every kid; kids may unlink themselves meanwhile.
func (l *kidList) cascade(cause error) {
	for k := l.head; k != nil; {
		next := k.next
		k.owner.cascade(cause)
		k = next
	}
}

// detach empties the list, leaving the kids without a parent.
func (l *kidList) detach() {
	for l.head != nil {
		l.head.unlink()
	}
}

// view is the Done-less parent of a node's cancelCtx: values and deadline
// of the real parent, plus the node.
type view struct {
	parent   context.Context
	n        node
	deadline time.Time
	hasDL    bool
}

func (v *view) Deadline() (time.Time, bool) { return v.deadline, v.hasDL }
func (v *view) Done() <-chan struct{}       { return nil }
func (v *view) Err() error                  { return nil }
func (v *view) Value(key any) any {
	if key == (nodeKey{}) {
		return v.n
	}
	return v.parent.Value(key)
}
func (v *view) String() string { return "coro.view" }

// link makes n a kid of the ctx it was derived from, so that a
// cancellation of parent reaches it. It returns the stop function of a
// context.AfterFunc when parent is not one of ours, or nil.
func link(h *Hub, n node, parent context.Context) (stop func() bool) {
	if pn, ok := parent.Value(nodeKey{}).(node); ok && pn.coroutine().hub == h &&
		(parent == pn.context() || parent.Done() == pn.context().Done()) {
		if parent.Err() == nil {
			pkids(pn).add(n.links())
		}
		return nil
	}
	if parent.Done() == nil {
		return nil
	}
	return context.AfterFunc(parent, func() {
		h.post(task{run: func(h *Hub) { n.cascade(context.Cause(parent)) }})
	})
}

func pkids(n node) *kidList {
	switch x := n.(type) {
	case *Coroutine:
		return &x.kids
	case *deadlineCtx:
		return &x.kids
	}
	panic("coro: internal error: unknown node")
}

// resolve finds the coroutine of ctx and checks that it may wait now.
func resolve(ctx context.Context) (*Coroutine, error) {
	if ctx == nil {
		return nil, ErrNotCoroutine
	}
	n, ok := ctx.Value(nodeKey{}).(node)
	if !ok {
		return nil, ErrNotCoroutine
	}
	c := n.coroutine()
	h := c.hub
	if h.state.Load() != hubRunning {
		return nil, ErrHubClosed
	}
	if h.current != c {
		return nil, ErrNotCoroutine
	}
	return c, nil
}

// enter is resolve plus the checks every wait point makes before parking:
// a killed coroutine or a done ctx returns at once.
func enter(ctx context.Context) (*Coroutine, error) {
	c, err := resolve(ctx)
	if err != nil {
		return nil, err
	}
	if c.killed {
		return nil, ErrKilled
	}
	if ctx != c.ctx {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	} else if c.cancelled {
		return nil, ctx.Err()
	}
	return c, nil
}

// deadlineCtx is the ctx of WithTimeout and WithDeadline: a cancelCtx whose
// deadline is enforced by a libev timer on the hub.
type deadlineCtx struct {
	context.Context // the cancelCtx
	cancel          context.CancelCauseFunc
	v               view
	c               *Coroutine
	kid             kidLink
	kids            kidList
	waiters         waitq
	timer           *hubTimer
	stopAfter       func() bool
	expired         atomic.Bool
	cleaned         atomic.Bool
	done            bool // hub side: cancelled and cleaned up
}

func (d *deadlineCtx) coroutine() *Coroutine       { return d.c }
func (d *deadlineCtx) context() context.Context    { return d }
func (d *deadlineCtx) links() *kidLink             { return &d.kid }
func (d *deadlineCtx) Deadline() (time.Time, bool) { return d.v.deadline, true }
func (d *deadlineCtx) String() string              { return "coro.WithDeadline(" + d.v.deadline.String() + ")" }

// Err reports context.DeadlineExceeded once the timer fired: the inner
// cancelCtx, cancelled with that cause, would say context.Canceled.
func (d *deadlineCtx) Err() error {
	if d.expired.Load() {
		return context.DeadlineExceeded
	}
	return d.Context.Err()
}

// cascade: the parent was cancelled.
func (d *deadlineCtx) cascade(cause error) {
	d.cancel(cause)
	d.finish(cause)
}

// fire: the libev timer expired (hub goroutine).
func (d *deadlineCtx) fire() {
	d.expired.Store(true)
	d.cancel(context.DeadlineExceeded)
	d.finish(context.DeadlineExceeded)
}

// finish releases the timer and the links, wakes the waiters and cascades.
func (d *deadlineCtx) finish(cause error) {
	if d.done {
		return
	}
	d.done = true
	h := d.c.hub
	if d.timer != nil {
		h.putTimer(d.timer)
		d.timer = nil
	}
	if d.stopAfter != nil {
		d.stopAfter()
		d.stopAfter = nil
	}
	d.kid.unlink()
	for w := d.waiters.head; w != nil; {
		next := w.next
		h.wakeIfCtxDone(w.c)
		w = next
	}
	d.kids.cascade(cause)
}

// WithDeadline returns a copy of ctx that is done at t, or sooner if ctx is
// done sooner (the shorter of nested deadlines wins). The deadline is
// enforced by a libev timer on ctx's hub: a coroutine waiting with it is
// woken by the hub at the deadline, and its wait returns an error for which
// errors.Is(err, context.DeadlineExceeded) holds. The cancel function may
// be called from any goroutine, and should be, as with context.WithDeadline.
// A ctx that carries no coroutine gets context.WithDeadline's result.
func WithDeadline(ctx context.Context, t time.Time) (context.Context, context.CancelFunc) {
	c, err := resolve(ctx)
	if err != nil {
		return context.WithDeadline(ctx, t)
	}
	h := c.hub
	if pd, ok := ctx.Deadline(); ok && pd.Before(t) {
		t = pd
	}
	d := &deadlineCtx{c: c}
	d.v = view{parent: ctx, n: d, deadline: t, hasDL: true}
	d.kid.owner = d
	d.Context, d.cancel = context.WithCancelCause(&d.v)
	d.stopAfter = link(h, d, ctx)
	switch {
	case ctx.Err() != nil:
		d.cancel(context.Cause(ctx))
		d.done = true
	case !time.Now().Before(t):
		d.expired.Store(true)
		d.cancel(context.DeadlineExceeded)
		d.done = true
	default:
		d.timer = h.getTimer(d.fire)
		d.timer.t.Start(time.Until(t), 0)
	}
	return d, d.cancelFunc
}

// WithTimeout is WithDeadline(ctx, time.Now().Add(d)).
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return WithDeadline(ctx, time.Now().Add(d))
}

// cancelFunc cancels d at once (any goroutine) and leaves the cleanup of
// the timer and the wake-ups to the hub.
func (d *deadlineCtx) cancelFunc() {
	d.cancel(context.Canceled)
	if d.cleaned.Swap(true) {
		return
	}
	d.c.hub.post(task{run: func(*Hub) { d.finish(context.Canceled) }})
}

// Check reports whether ctx may wait now: nil when it carries the running
// coroutine of a running hub, which is neither killed nor done; otherwise
// the error its next wait point would return (ErrNotCoroutine,
// ErrHubClosed, ErrKilled or ctx's error). Packages built on coro call it
// where a wait point may return without waiting, so that misuse shows the
// same way whether or not the call happens to wait.
func Check(ctx context.Context) error {
	_, err := enter(ctx)
	return err
}
