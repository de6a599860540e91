package coro

import "context"

// Group runs coroutines and waits for them all, like errgroup.Group
// without WithContext: Wait returns the first error, and the other
// coroutines keep running. The zero value is ready to use. Its methods may
// be called from the hub's coroutines only.
type Group struct {
	n       int
	err     error
	waiters waitq
}

// Go spawns fn as a coroutine of ctx's hub (see Spawn) and counts it in
// the group.
func (g *Group) Go(ctx context.Context, fn func(ctx context.Context) error) {
	g.n++
	Spawn(ctx, func(ctx context.Context) error {
		defer g.finish()
		err := fn(ctx)
		if err != nil && g.err == nil {
			g.err = err
		}
		return err
	})
}

func (g *Group) finish() {
	g.n--
	if g.n == 0 {
		for w := g.waiters.pop(); w != nil; w = g.waiters.pop() {
			w.c.hub.wake(w.c, nil)
		}
	}
}

// Wait waits until every coroutine of the group has returned, and returns
// the first non-nil error any of them returned. It returns ErrKilled or
// ctx's error if the wait ended first.
func (g *Group) Wait(ctx context.Context) error {
	c, err := enter(ctx)
	if err != nil {
		return err
	}
	if g.n > 0 {
		g.waiters.push(&c.wt)
		err = c.park(ctx, "Group.Wait")
		g.waiters.remove(&c.wt)
		if err != nil {
			return err
		}
	}
	return g.err
}
