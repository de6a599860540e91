package coro

import "errors"

var (
	// ErrNotCoroutine is returned by a wait point whose ctx carries no
	// coroutine (context.Background(), say), or the coroutine of another
	// one: a ctx may only be used by the coroutine it belongs to.
	ErrNotCoroutine = errors.New("coro: ctx carries no running coroutine")
	// ErrKilled is returned by the wait points of a killed coroutine, by
	// Join of a coroutine killed before it started, and is the
	// context.Cause of a killed coroutine's ctx.
	ErrKilled = errors.New("coro: coroutine killed")
	// ErrHubClosed is returned when the hub has ended or was closed.
	ErrHubClosed = errors.New("coro: hub closed")
	// ErrQueueClosed is returned by Put on a closed Queue and by Get on a
	// closed and drained one.
	ErrQueueClosed = errors.New("coro: queue closed")
	// ErrDeadlock is returned to the main coroutine when it waits on
	// something that nothing can ever wake (gevent's LoopExit): no active
	// watcher, no ready coroutine, no goroutine that will post to the hub.
	ErrDeadlock = errors.New("coro: would block forever")
)
