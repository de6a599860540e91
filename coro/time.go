package coro

import (
	"context"
	"time"

	"gipc.dev/cev"
)

// hubTimer is a pooled libev timer: creating a cev.Timer costs C
// allocations, so the hub keeps stopped ones for reuse.
type hubTimer struct {
	t    *cev.Timer
	fire func()
}

func (h *Hub) getTimer(fire func()) *hubTimer {
	if n := len(h.timers); n > 0 {
		ht := h.timers[n-1]
		h.timers = h.timers[:n-1]
		ht.fire = fire
		return ht
	}
	ht := &hubTimer{fire: fire}
	ht.t = h.loop.NewTimer(func(cev.Events) {
		if f := ht.fire; f != nil {
			f()
		}
	})
	return ht
}

func (h *Hub) putTimer(ht *hubTimer) {
	if h.loop.Closed() {
		return
	}
	ht.t.Stop()
	ht.fire = nil
	h.timers = append(h.timers, ht)
}

// Sleep parks the calling coroutine for d (on a libev timer). d <= 0 yields
// once, as Yield does. It returns nil, or ErrKilled or ctx's error if the
// wait ended early.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return Yield(ctx)
	}
	c, err := enter(ctx)
	if err != nil {
		return err
	}
	h := c.hub
	ht := h.getTimer(func() { h.wake(c, nil) })
	ht.t.Start(d, 0)
	err = c.park(ctx, "Sleep")
	h.putTimer(ht)
	return err
}

// Yield lets every other ready coroutine run once, then continues (gevent's
// sleep(0)). It returns ErrKilled or ctx's error if the coroutine was killed
// or ctx was done meanwhile.
func Yield(ctx context.Context) error {
	c, err := enter(ctx)
	if err != nil {
		return err
	}
	c.wakeErr = nil
	c.what = "Yield"
	c.hub.pushReady(c)
	c.yield(struct{}{})
	if c.killed {
		return ErrKilled
	}
	return c.wakeErr
}
