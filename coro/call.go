package coro

import (
	"context"
	"errors"
	"fmt"
)

// Call runs fn as a new coroutine of h and waits for it, from any goroutine
// that is not a coroutine of h (an http.Handler, say). It returns fn's
// error. Before Run starts, Call waits for it; once the hub has ended or
// was closed, it returns ErrHubClosed (also for a coroutine killed because
// the hub was closing). fn's ctx carries the values of ctx but not its
// cancellation: when ctx is done, the coroutine is killed, Call waits for
// it to finish and returns ctx.Err().
func (h *Hub) Call(ctx context.Context, fn func(ctx context.Context) error) error {
	if fn == nil {
		panic("coro: Call of a nil func")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if n, ok := ctx.Value(nodeKey{}).(node); ok && n.coroutine().hub == h {
		return fmt.Errorf("coro: Hub.Call from a coroutine of the same hub would block it: %w", ErrDeadlock)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	var co *Coroutine
	start := task{
		run: func(h *Hub) {
			co = h.spawn(context.WithoutCancel(ctx), fn)
			co.onDone = func(err error) {
				if h.shutdown && errors.Is(err, ErrKilled) {
					err = ErrHubClosed
				}
				done <- err
			}
		},
		abort: func() { done <- ErrHubClosed },
	}
	if !h.post(start) {
		return ErrHubClosed
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	h.post(task{run: func(h *Hub) {
		if co != nil {
			h.kill(co)
		}
	}})
	<-done
	return ctx.Err()
}

// Offload runs fn on a new goroutine, so that blocking Go code (a syscall,
// a cgo call, a CPU-heavy function) does not stall the hub: only the
// calling coroutine waits. If the wait ends early (ErrKilled, ctx done),
// Offload returns at once with that error, and fn keeps running on its
// goroutine until it returns; its result is dropped.
func Offload[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	var zero T
	c, err := enter(ctx)
	if err != nil {
		return zero, err
	}
	h := c.hub
	type result struct {
		v    T
		err  error
		done bool
	}
	r := &result{}
	h.addInflight(1)
	go func() {
		v, err := fn()
		h.post(task{run: func(h *Hub) {
			r.v, r.err, r.done = v, err, true
			h.addInflight(-1)
			if c.state == stParked && c.wt.box == any(r) {
				h.wake(c, nil)
			}
		}})
	}()
	c.wt.box = r
	err = c.park(ctx, "Offload")
	c.wt.box = nil
	if err != nil {
		return zero, err
	}
	if !r.done {
		panic("coro: internal error: Offload woken before its result")
	}
	return r.v, r.err
}
