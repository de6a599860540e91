package coro

import "context"

// Queue is a FIFO of values between coroutines, like gevent.queue.Queue:
// bounded (Put waits for room) or unbounded. Getters and putters are served
// in the order they came. TryGet, Len and Close take no ctx and may be
// called from the hub's coroutines only.
type Queue[T any] struct {
	items    ring[T]
	capacity int // 0: unbounded
	reserved int // room promised to woken putters
	getters  waitq
	putters  waitq
	closed   bool
	onClose  func()
}

// NewQueue returns a queue that holds up to capacity values; 0 means
// unbounded.
func NewQueue[T any](capacity int) *Queue[T] {
	if capacity < 0 {
		panic("coro: NewQueue with a negative capacity")
	}
	return &Queue[T]{capacity: capacity}
}

func (q *Queue[T]) full() bool {
	return q.capacity > 0 && q.items.len()+q.reserved >= q.capacity
}

// Put adds v, waiting for room in a bounded queue. It returns
// ErrQueueClosed if the queue is closed (or closes while Put waits), or
// ErrKilled or ctx's error (having added nothing) if the wait ended first.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	c, err := enter(ctx)
	if err != nil {
		return err
	}
	for {
		if q.closed {
			return ErrQueueClosed
		}
		if q.putters.empty() || c.wt.ok {
			if c.wt.ok {
				c.wt.ok = false
				q.reserved--
			}
			if !q.full() {
				q.put(v)
				// A hand-off to a getter leaves the room free: pass
				// it on to the next putter.
				q.wakePutter()
				return nil
			}
		}
		q.putters.push(&c.wt)
		err = c.park(ctx, "Queue.Put")
		q.putters.remove(&c.wt)
		if err != nil {
			if c.wt.ok {
				c.wt.ok = false
				q.reserved--
				q.wakePutter()
			}
			return err
		}
	}
}

// put stores v, handing it straight to the first getter if one waits.
func (q *Queue[T]) put(v T) {
	if w := q.getters.pop(); w != nil {
		*(w.box.(*T)) = v
		w.ok = true
		w.c.hub.wake(w.c, nil)
		return
	}
	q.items.push(v)
}

// wakePutter promises the room that just freed up to the first putter.
func (q *Queue[T]) wakePutter() {
	if q.capacity == 0 || q.full() {
		return
	}
	if w := q.putters.pop(); w != nil {
		w.ok = true
		q.reserved++
		w.c.hub.wake(w.c, nil)
	}
}

// Get removes and returns the first value, waiting for one. A closed queue
// still hands out what it holds, then returns ErrQueueClosed. It returns
// ErrKilled or ctx's error (taking nothing) if the wait ended first.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	var v T
	c, err := enter(ctx)
	if err != nil {
		return v, err
	}
	if q.items.len() > 0 {
		v = q.items.pop()
		q.wakePutter()
		return v, nil
	}
	if q.closed {
		return v, ErrQueueClosed
	}
	q.wakePutter()
	c.wt.box = &v
	q.getters.push(&c.wt)
	err = c.park(ctx, "Queue.Get")
	q.getters.remove(&c.wt)
	c.wt.box = nil
	if c.wt.ok {
		c.wt.ok = false
		if err == nil {
			return v, nil
		}
		// Handed a value, then killed before it ran: give it back first
		// in line.
		if w := q.getters.pop(); w != nil {
			*(w.box.(*T)) = v
			w.ok = true
			w.c.hub.wake(w.c, nil)
		} else {
			q.items.pushFront(v)
		}
		var zero T
		return zero, err
	}
	return v, err
}

// TryGet removes and returns the first value if there is one.
func (q *Queue[T]) TryGet() (T, bool) {
	if q.items.len() == 0 {
		var zero T
		return zero, false
	}
	v := q.items.pop()
	q.wakePutter()
	return v, true
}

// Len returns the number of values in the queue.
func (q *Queue[T]) Len() int { return q.items.len() }

// Close closes the queue: waiting putters and getters wake with
// ErrQueueClosed, later Puts fail, and Gets drain what is left, then fail.
// Closing twice does nothing.
func (q *Queue[T]) Close() {
	if q.closed {
		return
	}
	q.closed = true
	for w := q.getters.pop(); w != nil; w = q.getters.pop() {
		w.c.hub.wake(w.c, ErrQueueClosed)
	}
	for w := q.putters.pop(); w != nil; w = q.putters.pop() {
		w.c.hub.wake(w.c, ErrQueueClosed)
	}
	if q.onClose != nil {
		q.onClose()
		q.onClose = nil
	}
}

// ring is a growable FIFO ring buffer.
type ring[T any] struct {
	buf        []T
	head, size int
}

func (r *ring[T]) len() int { return r.size }

func (r *ring[T]) grow() {
	n := 2 * len(r.buf)
	if n == 0 {
		n = 8
	}
	buf := make([]T, n)
	for i := 0; i < r.size; i++ {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

func (r *ring[T]) push(v T) {
	if r.size == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.size)%len(r.buf)] = v
	r.size++
}

func (r *ring[T]) pushFront(v T) {
	if r.size == len(r.buf) {
		r.grow()
	}
	r.head = (r.head - 1 + len(r.buf)) % len(r.buf)
	r.buf[r.head] = v
	r.size++
}

func (r *ring[T]) pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return v
}
