// Package coro runs coroutines on a libev event loop: the Go counterpart of
// gevent's hub, greenlets, events, queues, locks and cooperative sockets.
//
// A [Hub] owns one event loop. Exactly one coroutine of a hub runs at a
// time, and it runs until it reaches a wait point ([Sleep], [Yield],
// [Event.Wait], [Queue.Get], [Conn.Read], ...): there it parks on a libev
// watcher, and the hub resumes the next ready coroutine, or blocks in the
// loop when none is ready. Coroutines are goroutines switched with the
// runtime's coroutine switch (iter.Pull), not by channel hand-offs. Other
// goroutines keep running in parallel: the hub only serialises its own
// coroutines, so code that only coroutines of one hub touch needs no locks.
//
// # Context
//
// The calling coroutine travels in a [context.Context]: every wait point
// takes ctx first, and a ctx that carries no coroutine of a running hub
// gets [ErrNotCoroutine] (context.Background(), or another coroutine's
// ctx), or [ErrHubClosed] once the hub has ended. Wait points honour ctx:
// when it is done, the wait returns ctx.Err(). Deadlines made with
// [WithTimeout] and [WithDeadline] are enforced by libev timers on the hub;
// standard contexts derived from a coroutine's ctx (context.WithTimeout,
// context.WithCancel) work too, through context.AfterFunc. A killed
// coroutine gets [ErrKilled] from its current and every later wait point,
// and its ctx is cancelled with cause ErrKilled; coroutines spawned from
// its ctx inherit the cancellation, as contexts do.
//
// # Which goroutine may call what
//
// [Run], [Hub.Run], [Hub.Call], [Hub.Close] and [Hub.Stats] may be called
// from any goroutine. Everything else belongs to the hub's coroutines:
// Spawn and the wait points through their ctx, and the calls that take no
// ctx ([Event.Set], [Semaphore.Release], [Semaphore.TryAcquire],
// [Queue.TryGet], [Queue.Close], [Coroutine.Kill], [FD.Close],
// [Conn.Close], ...) only from a coroutine of the hub that owns them. The
// bridges to other goroutines are [Hub.Call] (run a function as a
// coroutine and wait for it), [Offload] (run blocking code on a goroutine
// while only the calling coroutine waits) and [NotifySignal].
//
// # Lifecycle
//
// [Hub.Run] runs main as the first coroutine. When main returns, the
// coroutines still alive are killed in the order they were spawned and
// awaited, the loop is closed, and Run returns main's error. When main
// waits on something that nothing can ever wake (no active watcher, no
// ready coroutine, no goroutine that promised a wake-up), the wait returns
// [ErrDeadlock], like gevent's LoopExit, instead of hanging. A coroutine
// that never reaches a wait point starves its hub, as in gevent; see
// [Hub.SetBlockingReport] to catch it.
//
// # Latency
//
// An idle hub polls for [DefaultSpin] (20 µs; see [Hub.SetSpin]) before it
// blocks in epoll_wait: a peer that answers within the spin is seen in
// about a microsecond rather than after a sleeping thread's wake-up, which
// costs tens of microseconds on virtual machines. The spin burns at most
// that much CPU each time the hub runs out of work; set it to 0 for hubs
// that mostly sleep.
//
// A panic in a coroutine crashes the program like a panic in a goroutine:
// it propagates out of Hub.Run, as a [*PanicError] that keeps the
// coroutine's stack. runtime.Goexit in a coroutine (t.FailNow,
// and so testify's require) ends the goroutine that called Run; tests
// assert inside coroutines with assert, or return errors.
package coro
