package coro

// waiter is one coroutine's place in a wait queue. Every coroutine embeds
// two (one for the thing it waits on, one for its deadline context), since
// a coroutine waits on one thing at a time; so queuing allocates nothing.
type waiter struct {
	c          *Coroutine
	prev, next *waiter
	q          *waitq
	ok         bool // granted by a hand-off (a permit, an item, ...)
	box        any  // what a hand-off delivers, or the identity of the wait
}

// waitq is a FIFO of waiters (intrusive doubly linked list).
type waitq struct {
	head, tail *waiter
	n          int
}

func (q *waitq) push(w *waiter) {
	if w.q != nil {
		panic("coro: internal error: waiter queued twice")
	}
	w.q = q
	w.ok = false
	w.prev, w.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.n++
}

// remove takes w out of q; it does nothing if w is not queued in q.
func (q *waitq) remove(w *waiter) {
	if w.q != q {
		return
	}
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next, w.q = nil, nil, nil
	q.n--
}

func (q *waitq) pop() *waiter {
	w := q.head
	if w != nil {
		q.remove(w)
	}
	return w
}

func (q *waitq) empty() bool { return q.head == nil }
