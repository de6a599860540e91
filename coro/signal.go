package coro

import (
	"context"
	"os"
	"os/signal"
	"sync"
)

// NotifySignal delivers the given signals (all of them if none is given)
// into a new unbounded queue, through os/signal: the Go runtime keeps every
// signal handler, and a goroutine posts each signal to the hub. Closing the
// queue stops the delivery (signal.Stop); so does the end of the hub. An
// open signal queue keeps the hub alive: a main waiting on it is not
// deadlocked. ctx must carry the running coroutine (misuse panics with a
// "coro:" message).
func NotifySignal(ctx context.Context, sigs ...os.Signal) *Queue[os.Signal] {
	c, err := resolve(ctx)
	if err != nil {
		panic("coro: NotifySignal needs the ctx of the running coroutine")
	}
	h := c.hub
	q := NewQueue[os.Signal](0)
	ch := make(chan os.Signal, 16)
	stop := make(chan struct{})
	signal.Notify(ch, sigs...)
	h.addInflight(1)
	go func() {
		for {
			select {
			case s := <-ch:
				h.post(task{run: func(*Hub) {
					if !q.closed {
						q.put(s)
					}
				}})
			case <-stop:
				return
			}
		}
	}()
	var once sync.Once
	release := func() {
		once.Do(func() {
			signal.Stop(ch)
			close(stop)
		})
	}
	q.onClose = func() {
		release()
		h.addInflight(-1)
	}
	h.atEnd = append(h.atEnd, release)
	return q
}
