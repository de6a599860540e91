package coro

import "context"

// Semaphore hands out a fixed number of permits, in FIFO order of the
// coroutines that wait for them. TryAcquire and Release take no ctx and may
// be called from the hub's coroutines only.
type Semaphore struct {
	size    int
	free    int
	waiters waitq
}

// NewSemaphore returns a semaphore with n permits, all free.
func NewSemaphore(n int) *Semaphore {
	if n < 0 {
		panic("coro: NewSemaphore with a negative count")
	}
	return &Semaphore{size: n, free: n}
}

// Acquire takes a permit, waiting for one if none is free or others wait
// already. It returns nil, or ErrKilled or ctx's error (holding nothing) if
// the wait ended first.
func (s *Semaphore) Acquire(ctx context.Context) error {
	c, err := enter(ctx)
	if err != nil {
		return err
	}
	if s.free > 0 && s.waiters.empty() {
		s.free--
		return nil
	}
	s.waiters.push(&c.wt)
	err = c.park(ctx, "Semaphore.Acquire")
	s.waiters.remove(&c.wt)
	if err != nil && c.wt.ok {
		// Handed a permit, then killed before it ran: pass it on.
		c.wt.ok = false
		s.Release()
	}
	return err
}

// TryAcquire takes a permit if one is free and nobody waits, and reports
// whether it did.
func (s *Semaphore) TryAcquire() bool {
	if s.free > 0 && s.waiters.empty() {
		s.free--
		return true
	}
	return false
}

// Release gives a permit back, handing it to the first waiter if any. It
// panics when more permits are released than the semaphore has.
func (s *Semaphore) Release() {
	if w := s.waiters.pop(); w != nil {
		w.ok = true
		w.c.hub.wake(w.c, nil)
		return
	}
	if s.free == s.size {
		panic("coro: semaphore released more than held")
	}
	s.free++
}
