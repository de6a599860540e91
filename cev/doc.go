// Package cev is a thin cgo binding of libev (vendored in ../libev): an event
// loop with io, timer and async watchers, and nothing that package coro does
// not use. It is the only package of the module that uses cgo or unsafe.
//
// # Ownership and threading
//
// libev is not thread-safe. A [Loop] and all its watchers belong to one
// goroutine at a time (a hub, in coro): create, start, stop, close and run
// them there. The one call allowed from any goroutine is [Async.Send], which
// wakes the loop even while it blocks in epoll_wait.
//
// # Event delivery
//
// Every watcher has the same C callback, and it only records the watcher's
// (slot, generation, revents) in an array of the loop. [Loop.Run] calls
// ev_run once (one cgo crossing), then walks the array in Go and calls each
// watcher's [Handler]. No Go code runs inside ev_run, so no coroutine is
// ever switched from a C frame (resuming an iter.Pull coroutine from an
// //export callback is a fatal runtime error), no panic unwinds through
// libev, and an event costs a few nanoseconds of Go instead of a C→Go
// callback (about 46 ns each when measured on the development machines;
// see BenchmarkDeliver for the cost of this design).
//
// # Lifecycle
//
// NewIO, NewTimer and NewAsync allocate the C watcher with calloc: libev
// keeps pointers to watchers between calls, and C must not keep Go memory.
// The watcher's data field holds a token from github.com/mattn/go-pointer
// that maps back to the Go watcher; delivery itself uses the watcher's slot
// in the loop's table (a slice index), which is the cached form of that
// lookup. Stop stops the C watcher and changes its generation, so an event
// already recorded in this iteration is dropped: a watcher stopped, restarted
// or closed by an earlier handler of the same iteration never sees a stale
// event. Close stops the watcher, frees its C memory and releases its token
// and slot, on the owning goroutine (never from a finalizer, which would race
// the loop). [Loop.Close] closes every watcher still open and destroys the
// loop, closing its epoll fd and eventfd. Use after Close panics with a
// "cev:" message instead of touching freed memory; Async.Send after Close
// returns false.
//
// # Configuration
//
// config.h is the one libev configuration, seen by libev.c (which includes
// ev.c) and by every cgo preamble (which include ev.h): epoll only, no
// signal, child, signalfd, io_uring or linuxaio support, loops from
// ev_loop_new only. The Go runtime keeps every signal handler to itself.
// Build with -tags cev_verify to turn on libev's internal checks.
package cev
