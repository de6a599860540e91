package gipc

import (
	"context"
	"slices"

	"gipc.dev/coro"
)

// Group commit. While one Put writes (and waits for room in the pipe),
// other coroutines that Put on the same writer do not wait for the lock one
// by one: each encodes its message and queues the frame, and the writing
// Put (the leader), once its own message is in the kernel, writes every
// queued frame with one write, then the frames queued meanwhile, and so
// on. Each Put still returns only once its own message is in the kernel.
//
// A queued Put whose wait ends (ctx, Kill) before the leader took its frame
// takes it back out of the queue: nothing of it is sent. Once the leader
// has taken it, the message is committed: the Put waits for the outcome
// regardless of its ctx (a killed coroutine returns ErrKilled at once, and
// its message still goes out). If the leader's own wait ends before any
// byte of a batch went out, the batch goes back to the queue and the first
// queued Put leads; if it ends in the middle, the writer is broken, and
// every queued Put fails with it.

// queuedPut is one message waiting for the leader.
type queuedPut struct {
	frame []byte
	taken bool // in the leader's current write
	done  bool
	err   error
	lead  bool // the leader left: this Put leads now
	ev    coro.Event
}

// putQueued queues v behind the current leader and waits.
func (w *Writer[T]) putQueued(ctx context.Context, v T) error {
	frame, err := w.encode(v)
	if err != nil {
		return err
	}
	w.users++
	defer func() { w.users-- }()
	q := &queuedPut{frame: frame}
	w.queue = append(w.queue, q)
	for {
		err := q.ev.Wait(ctx)
		switch {
		case q.done:
			return q.err
		case q.lead:
			q.lead = false
			q.ev.Clear()
			if err := w.lock.Acquire(ctx); err != nil {
				w.dequeue(q)
				return err
			}
			w.leading = true
			w.drain(ctx)
			w.leading = false
			w.lock.Release()
			if q.done {
				return q.err
			}
			// Our own frame went back to the queue (the wait ended
			// before a byte of it went out): it is no longer queued.
			w.dequeue(q)
			return ctx.Err()
		case err != nil && !q.taken:
			w.dequeue(q)
			return err
		case err != nil:
			// Committed: wait for the leader's outcome.
			ctx = context.WithoutCancel(ctx)
			if err == coro.ErrKilled {
				return err
			}
		}
	}
}

// encode makes one frame in a buffer of its own.
func (w *Writer[T]) encode(v T) ([]byte, error) {
	if w.direct != nil {
		p := w.direct.payload(v)
		if len(p) > w.max {
			return nil, tooLarge(len(p), w.max)
		}
		return append(appendHeader(make([]byte, 0, frameHeaderSize+len(p)), len(p)), p...), nil
	}
	return appendMessage(nil, w.codec, v, w.max)
}

// dequeue takes q out of the queue; leadership it held passes on.
func (w *Writer[T]) dequeue(q *queuedPut) {
	i := slices.Index(w.queue, q)
	if i < 0 {
		return
	}
	w.queue = slices.Delete(w.queue, i, i+1)
	if q.lead && len(w.queue) > 0 {
		w.handOver()
	}
}

// handOver makes the first queued Put the leader.
func (w *Writer[T]) handOver() {
	next := w.queue[0]
	next.lead = true
	next.ev.Set()
}

// drain writes the queued frames, batch after batch, as the leader.
func (w *Writer[T]) drain(ctx context.Context) {
	for len(w.queue) > 0 {
		if w.broken != nil {
			w.failQueue(brokenError(w.broken))
			return
		}
		batch := w.queue
		w.queue = nil
		buf := w.buf[:0]
		for _, q := range batch {
			q.taken = true
			buf = append(buf, q.frame...)
		}
		err := w.write(ctx, buf, false)
		w.keep(buf)
		switch {
		case err == nil:
			for _, q := range batch {
				q.done, q.frame = true, nil
				q.ev.Set()
			}
			w.stats.Messages += uint64(len(batch))
		case w.broken != nil:
			w.queue = append(batch, w.queue...)
			w.failQueue(brokenError(w.broken))
			return
		default:
			// Nothing of the batch went out: back to the queue, and the
			// first of it leads, since our wait is over.
			for _, q := range batch {
				q.taken = false
			}
			w.queue = append(batch, w.queue...)
			w.handOver()
			return
		}
	}
}

func (w *Writer[T]) failQueue(err error) {
	for _, q := range w.queue {
		q.done, q.err, q.frame = true, err, nil
		q.ev.Set()
	}
	w.queue = nil
}
