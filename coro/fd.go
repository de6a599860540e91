package coro

import (
	"context"
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"

	"gipc.dev/cev"
)

// FD is a non-blocking file descriptor that coroutines wait on. It keeps
// its io watchers armed between waits, so a coroutine that reads or writes
// the fd in a loop pays no watcher start or stop per wait (that halved a
// pipe round trip in measurements); a watcher that fires while nobody
// waits is stopped, so an idle fd costs nothing.
//
// An FD is bound to the hub of its first wait; once that hub has ended it
// may be used on another. Its methods may be called from the coroutines of
// that hub only.
type FD struct {
	fd     int
	hub    *Hub
	r, w   fdDir
	closed bool
}

type fdDir struct {
	io      *cev.IO
	waiters waitq
}

// NewFD wraps fd, which the FD then owns (Close closes it). fd should be in
// non-blocking mode.
func NewFD(fd int) *FD { return &FD{fd: fd} }

// Sysfd returns the file descriptor, or -1 once closed.
func (f *FD) Sysfd() int {
	if f.closed {
		return -1
	}
	return f.fd
}

// WaitReadable parks the calling coroutine until the fd is readable (or
// at end of file, or in error). It returns net.ErrClosed if the FD is
// closed, before or during the wait.
func (f *FD) WaitReadable(ctx context.Context) error {
	return f.wait(ctx, &f.r, cev.Read, "read")
}

// WaitWritable parks the calling coroutine until the fd is writable.
func (f *FD) WaitWritable(ctx context.Context) error {
	return f.wait(ctx, &f.w, cev.Write, "write")
}

func (f *FD) wait(ctx context.Context, d *fdDir, ev cev.Events, what string) error {
	c, err := enter(ctx)
	if err != nil {
		return err
	}
	if f.closed {
		return net.ErrClosed
	}
	h := c.hub
	if f.hub != h {
		if f.hub != nil && !f.hub.ended() {
			return fmt.Errorf("coro: fd %d is in use by another hub", f.fd)
		}
		f.hub = h
		f.r.io, f.w.io = nil, nil // the old hub's loop freed them
	}
	if d.io == nil {
		d.io = h.loop.NewIO(func(cev.Events) { f.fire(d) })
	}
	d.io.Start(f.fd, ev)
	d.waiters.push(&c.wt)
	err = c.park(ctx, what)
	d.waiters.remove(&c.wt)
	return err
}

// fire wakes the waiters of one direction, or disarms it when none waits.
func (f *FD) fire(d *fdDir) {
	if d.waiters.empty() {
		d.io.Stop()
		return
	}
	for w := d.waiters.pop(); w != nil; w = d.waiters.pop() {
		w.ok = true
		w.c.hub.wake(w.c, nil)
	}
}

// Close wakes the coroutines waiting on the FD with net.ErrClosed, stops
// and frees its watchers, then closes the fd, in that order: closing first
// could let a new fd with the same number appear under a live watcher. A
// second Close returns net.ErrClosed.
func (f *FD) Close() error {
	if f.closed {
		return net.ErrClosed
	}
	f.closed = true
	for _, d := range []*fdDir{&f.r, &f.w} {
		for w := d.waiters.pop(); w != nil; w = d.waiters.pop() {
			w.c.hub.wake(w.c, net.ErrClosed)
		}
		if d.io != nil && f.hub != nil && !f.hub.ended() {
			d.io.Close()
		}
		d.io = nil
	}
	return closeFd(f.fd)
}

func closeFd(fd int) error {
	if err := unix.Close(fd); err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("coro: close fd %d: %w", fd, err)
	}
	return nil
}

// WaitReadable parks the calling coroutine until fd is readable. It starts
// a watcher for this wait only; a coroutine that waits on the same fd again
// and again should use an FD, which keeps its watcher armed.
func WaitReadable(ctx context.Context, fd int) error { return waitRaw(ctx, fd, cev.Read, "read") }

// WaitWritable parks the calling coroutine until fd is writable; see
// WaitReadable.
func WaitWritable(ctx context.Context, fd int) error { return waitRaw(ctx, fd, cev.Write, "write") }

func waitRaw(ctx context.Context, fd int, ev cev.Events, what string) error {
	c, err := enter(ctx)
	if err != nil {
		return err
	}
	if fd < 0 {
		return fmt.Errorf("coro: wait on fd %d: %w", fd, unix.EBADF)
	}
	h := c.hub
	io := h.loop.NewIO(func(cev.Events) { h.wake(c, nil) })
	io.Start(fd, ev)
	err = c.park(ctx, what)
	io.Close()
	return err
}
